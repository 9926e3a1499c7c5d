//! Fuzz target: document loading and projection (see `harness::doc_load`).
//!
//! `document::load_document` refuses chunk types Préau never writes before Automerge parses
//! them, so no input needs skipping. See `known_panics.rs` for `PREAU_FUZZ_KNOWN_PANICS`.

#![no_main]

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;
mod known_panics;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = known_panics::run(|| harness::doc_load(data));
});
