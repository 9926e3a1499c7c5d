//! Replays the inputs kept by the appliance's fuzz targets (`appliance/fuzz/regressions/`)
//! through the same functions, so a fixed crash or slowdown stays fixed in CI.

use preau_appliance::replication::auth::{self, Replays};
use preau_appliance::replication::{Open, decode};
use preau_sync::certificate::CertError;
use preau_sync::{ReplicaId, ReplicaIdentity};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no kept inputs in {}", dir.display());
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn kept_authorization_headers_are_refused_without_a_panic() {
    let me = ReplicaIdentity::from_parts(ReplicaId([3; 16]), [3; 32]);
    let now = 1_788_220_800_000;
    let dir = tempfile::tempdir().unwrap();
    let replays =
        Replays::new(preau_appliance::platform::records::Records::open_sqlite(&dir.path().join("links.db")).unwrap());
    for (name, bytes) in inputs("auth_header") {
        let text = String::from_utf8_lossy(&bytes);
        let Some(signed) = auth::parse(&text) else { continue };
        // As the fuzz target does: the parsed time, signed for real, reaches the window check.
        let (header, _) = auth::sign_request(me.signing_key(), signed.replica, "POST", "/x", signed.ts, b"");
        let resigned = auth::parse(&header).unwrap();
        resigned.verify(&me.public_key().to_bytes(), "POST", "/x", b"").unwrap();
        let outcome = replays.check(&resigned, now);
        assert!(outcome.is_err() || signed.ts.abs_diff(now) <= auth::WINDOW_MS as u64, "{name}: {outcome:?}");
    }
}

/// The kept opening made the server compare two huge scopes, quadratically, before any
/// signature was checked: it must now be refused by the cheap checks.
#[test]
fn kept_session_openings_are_refused_before_any_scope_comparison() {
    for (name, bytes) in inputs("wire") {
        let Some((_, body)) = bytes.split_first() else { continue };
        if let Ok(open) = decode::<Open>(body) {
            let refusal = open.chain.verify(&[[7; 32]], 1_788_220_800_000);
            assert!(matches!(refusal, Err(CertError::Malformed(_) | CertError::UntrustedRoot)), "{name}: {refusal:?}");
        }
    }
}
