//! Fuzz target: document loading and projection (see `harness::doc_load`).
#![no_main]

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::doc_load(data));
