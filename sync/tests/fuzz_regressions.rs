//! Replays every input kept under `tests/fuzz_regressions/<target>/` (crashers found by
//! fuzzing, and seeds) through the same code as the fuzz targets.

#[path = "fuzz_regressions/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use preau_sync::Scope;
use preau_sync::replication::{Bundle, Message, OpenPolicy};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs kept for {target}");
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// Seeds are valid inputs, so that fuzzing starts from structure rather than noise; a
/// change of the wire format must rewrite them.
fn stale_seed(path: &Path) -> String {
    format!("{} no longer decodes: run `cargo run -p preau-sync --example fuzz_seeds`", path.display())
}

#[test]
fn frame_decode_inputs() {
    for (path, data) in inputs("frame_decode") {
        harness::frame_decode(&data);
        match path.file_name().and_then(|n| n.to_str()) {
            Some("seed-bundle") => assert!(Bundle::decode(&data).is_ok(), "{}", stale_seed(&path)),
            Some("seed-hello") => assert!(Message::decode(&data).is_ok(), "{}", stale_seed(&path)),
            _ => {}
        }
    }
}

#[test]
fn bundle_apply_inputs() {
    let (_dir, mut store) = harness::replica();
    for (path, data) in inputs("bundle_apply") {
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-")) {
            let bundle: Bundle = postcard::from_bytes(&data).unwrap_or_else(|_| panic!("{}", stale_seed(&path)));
            let mut fresh = harness::replica();
            let applied = fresh.1.apply_bundle(&Bundle { to: fresh.1.id(), ..bundle }, &Scope::all(), &OpenPolicy);
            assert!(applied.is_ok_and(|a| a.refused.is_empty()), "{} applies with refusals", path.display());
        }
        harness::bundle_apply(&mut store, &data);
    }
}

#[test]
fn doc_load_inputs() {
    for (_path, data) in inputs("doc_load") {
        harness::doc_load(&data);
    }
}
