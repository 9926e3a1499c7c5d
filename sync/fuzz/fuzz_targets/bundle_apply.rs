//! Fuzz target: applying arbitrary bundles to a real replica (see `harness::bundle_apply`).
//!
//! The replica lives across inputs, and a bundle whose `(from, id)` it has already
//! recorded is skipped whole (`apply_bundle` is idempotent). Mutants of one input share
//! its id, so after the first recorded one every later mutant would be a no-op. The
//! target therefore overwrites the bundle id (the first 16 bytes of the postcard input)
//! with a hash of the rest of the input: distinct inputs are distinct bundles, and an
//! input still reproduces on a fresh replica (`cargo fuzz run bundle_apply <file>`).
//! A panic that the code under test catches (Automerge on hostile changes, see
//! `apply_doc`) is not a crash, as in production; see `known_panics.rs`.

#![no_main]

use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;
mod known_panics;

type Replica = (tempfile::TempDir, preau_sync::Store);

fn replica() -> &'static Mutex<Option<Replica>> {
    static REPLICA: OnceLock<Mutex<Option<Replica>>> = OnceLock::new();
    REPLICA.get_or_init(|| Mutex::new(None))
}

/// A deterministic bundle id for this input (the id is the first 16 postcard bytes).
fn with_own_id(data: &[u8]) -> Vec<u8> {
    let mut data = data.to_vec();
    if data.len() >= 16 {
        let mut id = [0u8; 16];
        for (i, half) in id.chunks_mut(8).enumerate() {
            let mut h = std::hash::DefaultHasher::new();
            (i, &data[16..]).hash(&mut h);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        data[..16].copy_from_slice(&id);
    }
    data
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let data = with_own_id(data);
    let mut guard = replica().lock().unwrap_or_else(|e| e.into_inner());
    let replica = guard.get_or_insert_with(harness::replica);
    if known_panics::run(|| harness::bundle_apply(&mut replica.1, &data)).is_none() {
        // A known panic interrupted the apply: go on from a clean replica.
        *guard = None;
    }
});
