//! Replays every input kept under `tests/fuzz_regressions/<target>/` (crashers found by
//! fuzzing, and seeds) through the same code as the fuzz targets.

#[path = "fuzz_regressions/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

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

#[test]
fn frame_decode_inputs() {
    for (_path, data) in inputs("frame_decode") {
        harness::frame_decode(&data);
    }
}

#[test]
fn bundle_apply_inputs() {
    let (_dir, mut store) = harness::replica();
    for (_path, data) in inputs("bundle_apply") {
        harness::bundle_apply(&mut store, &data);
    }
}

#[test]
fn doc_load_inputs() {
    for (_path, data) in inputs("doc_load") {
        harness::doc_load(&data);
    }
}
