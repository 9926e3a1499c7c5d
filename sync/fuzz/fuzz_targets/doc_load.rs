//! Fuzz target: document loading and projection (see `harness::doc_load`).
//!
//! With `PREAU_FUZZ_SKIP_BUNDLE_CHUNKS=1`, inputs holding an Automerge "bundle" chunk
//! (chunk type 3, which Préau never writes) are skipped: automerge 0.12 panics, runs out
//! of memory or takes seconds on malformed ones (kept under
//! `tests/fuzz_regressions/doc_load/`), which otherwise stops every run within seconds.
//! See `known_panics.rs` for `PREAU_FUZZ_KNOWN_PANICS`.

#![no_main]

use std::sync::OnceLock;

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;
mod known_panics;

fn skip_bundle_chunks() -> bool {
    static SKIP: OnceLock<bool> = OnceLock::new();
    *SKIP.get_or_init(|| std::env::var("PREAU_FUZZ_SKIP_BUNDLE_CHUNKS").is_ok_and(|v| v == "1"))
}

/// Whether the chunk headers (magic, checksum, type, LEB128 length) name a bundle chunk.
fn has_bundle_chunk(mut data: &[u8]) -> bool {
    while data.len() >= 9 {
        if data[8] == 3 {
            return true;
        }
        let (mut len, mut shift, mut at) = (0u64, 0u32, 9usize);
        loop {
            let Some(&b) = data.get(at) else { return false };
            at += 1;
            len |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            shift += 7;
            if b & 0x80 == 0 || shift > 63 {
                break;
            }
        }
        let Some(next) = usize::try_from(len).ok().and_then(|l| at.checked_add(l)) else { return false };
        data = data.get(next..).unwrap_or_default();
    }
    false
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if skip_bundle_chunks() && has_bundle_chunk(data) {
        return;
    }
    let _ = known_panics::run(|| harness::doc_load(data));
});
