//! Fuzz target: the signature headers of replication requests and answers.
//!
//! The input, read as text (lossily, as a header value), goes to `auth::parse` (the
//! server's `Authorization`), and what parses is verified against a fixed key. Random
//! signatures never verify, so to reach the server's next step too, the parsed `id` and
//! `ts` are signed for real (`sign_request`): that header must parse back to them and
//! verify, and then goes through `Replays::check` (the time window and the nonce cache)
//! at a fixed "now", as `Sessions::authenticate` does. The same text is also checked as
//! a `Preau-Signature` answer header (`verify_response`, the client's side).

#![no_main]

use std::sync::OnceLock;

use preau_appliance::replication::auth::{self, AuthError, Replays, WINDOW_MS};
use preau_sync::{ReplicaId, ReplicaIdentity};

#[path = "../../../sync/fuzz/fuzz_targets/known_panics.rs"]
mod known_panics;

/// 2026-09-01, Unix ms.
const NOW_MS: i64 = 1_788_220_800_000;
const PATH: &str = "/replication/v1/sessions";
const BODY: &[u8] = b"body";

/// The nonces' records, in a folder of the fuzzing run (each request carries a fresh nonce).
fn replays() -> &'static Replays {
    static REPLAYS: OnceLock<(Replays, std::path::PathBuf)> = OnceLock::new();
    &REPLAYS
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("preau-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let records = preau_appliance::platform::records::Records::open_sqlite(&dir.join("links.db")).unwrap();
            (Replays::new(records), dir)
        })
        .0
}

fn key() -> &'static ReplicaIdentity {
    static KEY: OnceLock<ReplicaIdentity> = OnceLock::new();
    KEY.get_or_init(|| ReplicaIdentity::from_parts(ReplicaId([3; 16]), [3; 32]))
}

fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let me = key();
    let public = me.public_key().to_bytes();

    let _ = auth::verify_response(&public, &[0; 16], 200, BODY, Some(&text));

    let Some(signed) = auth::parse(&text) else { return };
    let _ = signed.verify(&public, "POST", PATH, BODY);

    let (header, _) = auth::sign_request(me.signing_key(), signed.replica, "POST", PATH, signed.ts, BODY);
    let ours = auth::parse(&header).unwrap_or_else(|| panic!("our own header does not parse: {header}"));
    assert_eq!((ours.replica, ours.ts), (signed.replica, signed.ts));
    assert_eq!(ours.verify(&public, "POST", PATH, BODY), Ok(()));
    assert_eq!(ours.verify(&public, "GET", PATH, BODY), Err(AuthError::BadSignature));

    let replays = replays();
    let in_window = (i128::from(ours.ts) - i128::from(NOW_MS)).abs() <= i128::from(WINDOW_MS);
    match replays.check(&ours, NOW_MS) {
        Ok(()) => {
            assert!(in_window, "ts {} accepted at {NOW_MS}", ours.ts);
            assert_eq!(replays.check(&ours, NOW_MS), Err(AuthError::Replay));
        }
        Err(AuthError::Clock { .. }) => assert!(!in_window, "ts {} refused at {NOW_MS}", ours.ts),
        Err(e) => panic!("unexpected refusal of a fresh nonce: {e}"),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = known_panics::run(|| run(data));
});
