//! Fuzz target: message and bundle decoding (see `harness::frame_decode`).
#![no_main]

#[path = "../../tests/fuzz_regressions/harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::frame_decode(data));
