//! Fuzz target: applying arbitrary bundles to a real replica (see `harness::bundle_apply`).
#![no_main]

use std::sync::{Mutex, OnceLock};

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;

type Replica = (tempfile::TempDir, preau_sync::Store);

fn replica() -> &'static Mutex<Replica> {
    static REPLICA: OnceLock<Mutex<Replica>> = OnceLock::new();
    REPLICA.get_or_init(|| Mutex::new(harness::replica()))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut replica = replica().lock().unwrap();
    harness::bundle_apply(&mut replica.1, data);
});
