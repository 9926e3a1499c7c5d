//! Fuzz target: the JSON bodies of enrolment (`POST /replication/v1/enroll`).
//!
//! Both directions, on the same input: the server reads an `EnrollRequest` (then the
//! public key, hex, as `enrollment::enroll` does), the client an `EnrollResponse` (then
//! the chain, hex of postcard, and the server key, as `enrollment::enroll_with` does).
//! What parses must serialise back to JSON that parses to the same fields.

#![no_main]

use preau_appliance::replication::enrollment::{EnrollRequest, EnrollResponse};
use preau_sync::certificate::Chain;

#[path = "../../../sync/fuzz/fuzz_targets/known_panics.rs"]
mod known_panics;

fn request(data: &[u8]) {
    let Ok(req) = serde_json::from_slice::<EnrollRequest>(data) else { return };
    let json = serde_json::to_vec(&req).expect("serialising to memory");
    let again: EnrollRequest = serde_json::from_slice(&json).expect("our own JSON parses");
    assert_eq!((&again.code, again.replica, &again.public_key), (&req.code, req.replica, &req.public_key));
    let mut public_key = [0u8; 32];
    if hex::decode_to_slice(req.public_key.trim(), &mut public_key).is_ok() {
        let _ = ed25519_dalek::VerifyingKey::from_bytes(&public_key);
    }
}

fn response(data: &[u8]) {
    let Ok(answer) = serde_json::from_slice::<EnrollResponse>(data) else { return };
    let json = serde_json::to_vec(&answer).expect("serialising to memory");
    let again: EnrollResponse = serde_json::from_slice(&json).expect("our own JSON parses");
    assert_eq!(
        (&again.chain, again.server, &again.server_key, &again.label),
        (&answer.chain, answer.server, &answer.server_key, &answer.label)
    );
    if let Ok(bytes) = hex::decode(&answer.chain) {
        if let Ok(chain) = Chain::from_bytes(&bytes) {
            let _ = chain.leaf();
        }
    }
    let mut key = [0u8; 32];
    let _ = hex::decode_to_slice(&answer.server_key, &mut key);
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = known_panics::run(|| {
        request(data);
        response(data);
    });
});
