//! Fuzz target: the postcard bodies of the replication endpoints
//! (`preau_appliance::replication::decode`, which refuses trailing bytes).
//!
//! The first byte picks the type, as the server (`Open`, `Payload`, `Vec<FileMeta>`) or the
//! client (`Opened`, `FilesPlan`) decodes it; the rest is the body. Whatever decodes must
//! re-encode (`encode`) to bytes that decode again to the same value. The chains inside
//! (`Open::chain`, `Opened::renewed`) are decoded by serde here, not by
//! `Chain::from_bytes` (no 16 KiB cap), and are verified as the server's `admit` does.

#![no_main]

use preau_appliance::replication::{FileMeta, FilesPlan, Open, Opened, Payload, decode, encode};
use preau_sync::certificate::Chain;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[path = "../../../sync/fuzz/fuzz_targets/known_panics.rs"]
mod known_panics;

/// 2026-09-01, Unix ms.
const NOW_MS: u64 = 1_788_220_800_000;
const ROOT: [u8; 32] = [7; 32];

/// Decodes `T`; a success must round-trip through `encode`. Returns the value.
fn round_trip<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let value: T = decode(bytes).ok()?;
    let encoded = encode(&value);
    let again: T = decode(&encoded).unwrap_or_else(|e| panic!("re-encoded value does not decode: {e}"));
    assert_eq!(encode(&again), encoded, "decode(encode(v)) differs from v");
    assert!(encoded.len() <= bytes.len(), "re-encoding grew {} bytes to {}", bytes.len(), encoded.len());
    Some(value)
}

fn verify(chain: &Chain) {
    let _ = chain.verify(&[ROOT], NOW_MS);
}

fn run(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 5 {
        0 => {
            if let Some(open) = round_trip::<Open>(body) {
                verify(&open.chain);
                let _ = preau_sync::replication::Message::decode(&open.hello);
            }
        }
        1 => {
            if let Some(p) = round_trip::<Payload>(body) {
                assert_eq!(decode::<Payload>(&encode(&p)).ok(), Some(p));
            }
        }
        2 => {
            if let Some(files) = round_trip::<Vec<FileMeta>>(body) {
                assert_eq!(decode::<Vec<FileMeta>>(&encode(&files)).ok(), Some(files));
            }
        }
        3 => {
            if let Some(opened) = round_trip::<Opened>(body) {
                if let Some(chain) = &opened.renewed {
                    verify(chain);
                }
            }
        }
        _ => {
            let _ = round_trip::<FilesPlan>(body);
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = known_panics::run(|| run(data));
});
