//! Signed requests and responses between replicas.
//!
//! Every replication request carries `Authorization: Preau id=…,ts=…,nonce=…,sig=…`: an
//! Ed25519 signature, by the replica's certified key, over the method, the path, the time,
//! a random nonce and the BLAKE3 of the body. The server answers with `Preau-Signature`
//! over the request's nonce, the status and the BLAKE3 of its body, so the client knows
//! the answer came from the hub it enrolled with, unaltered — end to end, whatever TLS
//! terminator or proxy stands between. TLS (rustls) still gives confidentiality.

use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use preau_sync::ReplicaId;
use preau_sync::sql::args;

use crate::platform::error::AppError;
use crate::platform::records::Records;

/// Request signatures older or newer than this are refused (the server says its time, so
/// a replica with a wrong clock corrects itself and retries).
pub const WINDOW_MS: i64 = 10 * 60 * 1000;
/// The header giving the server's clock on a refused signature.
pub const TIME_HEADER: &str = "preau-time";
/// The response signature header.
pub const SIGNATURE_HEADER: &str = "preau-signature";

/// A request's signed parameters, as parsed from its `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// Who claims to send it.
    pub replica: ReplicaId,
    /// Its clock, Unix ms.
    pub ts: i64,
    /// Random, once per request.
    pub nonce: [u8; 16],
    signature: [u8; 64],
}

fn request_message(method: &str, path: &str, ts: i64, nonce: &[u8; 16], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(b"preau-request-v1\n");
    m.extend_from_slice(method.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(path.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(&ts.to_be_bytes());
    m.extend_from_slice(nonce);
    m.extend_from_slice(blake3::hash(body).as_bytes());
    m
}

fn response_message(nonce: &[u8; 16], status: u16, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(96);
    m.extend_from_slice(b"preau-response-v1\n");
    m.extend_from_slice(nonce);
    m.extend_from_slice(&status.to_be_bytes());
    m.extend_from_slice(blake3::hash(body).as_bytes());
    m
}

/// The `Authorization` header value for a request, and its nonce (to check the answer).
pub fn sign_request(
    key: &SigningKey,
    replica: ReplicaId,
    method: &str,
    path: &str,
    ts: i64,
    body: &[u8],
) -> (String, [u8; 16]) {
    let nonce = crate::platform::random_bytes::<16>();
    let sig = key.sign(&request_message(method, path, ts, &nonce, body));
    (format!("Preau id={replica},ts={ts},nonce={},sig={}", hex::encode(nonce), hex::encode(sig.to_bytes())), nonce)
}

/// Parses an `Authorization` header (`None` if it is not a Préau signature).
pub fn parse(header: &str) -> Option<Signed> {
    let rest = header.strip_prefix("Preau ")?;
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        fields.insert(k, v);
    }
    let mut nonce = [0u8; 16];
    hex::decode_to_slice(fields.get("nonce")?, &mut nonce).ok()?;
    let mut signature = [0u8; 64];
    hex::decode_to_slice(fields.get("sig")?, &mut signature).ok()?;
    Some(Signed { replica: fields.get("id")?.parse().ok()?, ts: fields.get("ts")?.parse().ok()?, nonce, signature })
}

/// Why a request's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No or unparsable `Authorization`.
    #[error("missing or malformed Authorization header")]
    Missing,
    /// The signature does not verify with the expected key.
    #[error("bad request signature")]
    BadSignature,
    /// Outside the time window.
    #[error("request time {ts} is more than {WINDOW_MS} ms from the server's {now}")]
    Clock {
        /// The request's time.
        ts: i64,
        /// The server's.
        now: i64,
    },
    /// A nonce seen before: a replay.
    #[error("request replayed")]
    Replay,
}

impl Signed {
    /// Checks the signature with `key` over this request.
    pub fn verify(&self, key: &[u8; 32], method: &str, path: &str, body: &[u8]) -> Result<(), AuthError> {
        let key = VerifyingKey::from_bytes(key).map_err(|_| AuthError::BadSignature)?;
        key.verify(&request_message(method, path, self.ts, &self.nonce, body), &Signature::from_bytes(&self.signature))
            .map_err(|_| AuthError::BadSignature)
    }
}

/// Nonces seen within the time window, so a captured request cannot be played again: in
/// the server's records, so that neither a restart nor another process of a hub lets it
/// through.
pub struct Replays {
    records: Records,
}

impl Replays {
    /// The nonces kept in `records`.
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// Checks the time window and records the nonce.
    pub fn check(&self, signed: &Signed, now: i64) -> Result<(), AuthError> {
        // abs_diff: a hostile time (i64::MIN) must not overflow.
        if signed.ts.abs_diff(now) > WINDOW_MS.unsigned_abs() {
            return Err(AuthError::Clock { ts: signed.ts, now });
        }
        let recorded = self.records.with(|c| {
            c.execute(
                "INSERT INTO request_nonce (nonce, ts) VALUES (?, ?) ON CONFLICT DO NOTHING",
                args![signed.nonce, signed.ts],
            )
        });
        match recorded {
            Ok(1) => Ok(()),
            Ok(_) => Err(AuthError::Replay),
            Err(e) => {
                // Refused rather than let through unrecorded.
                tracing::error!(error = %e, "recording a request's nonce");
                Err(AuthError::Replay)
            }
        }
    }

    /// Forgets the nonces whose time window has passed (housekeeping): a request that old
    /// is refused by its time already, here and on a hub process whose clock is up to a
    /// window behind this one's.
    pub fn sweep(&self, now: i64) -> Result<usize, AppError> {
        self.records.with(|c| c.execute("DELETE FROM request_nonce WHERE ts < ?", args![now - 2 * WINDOW_MS]))
    }
}

/// Signs a response body for the request with `nonce`.
pub fn sign_response(key: &SigningKey, nonce: &[u8; 16], status: u16, body: &[u8]) -> String {
    hex::encode(key.sign(&response_message(nonce, status, body)).to_bytes())
}

/// Checks a response's signature.
pub fn verify_response(key: &[u8; 32], nonce: &[u8; 16], status: u16, body: &[u8], header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let mut sig = [0u8; 64];
    if hex::decode_to_slice(header, &mut sig).is_err() {
        return false;
    }
    VerifyingKey::from_bytes(key)
        .is_ok_and(|k| k.verify(&response_message(nonce, status, body), &Signature::from_bytes(&sig)).is_ok())
}

#[cfg(test)]
mod tests {
    use preau_sync::ReplicaIdentity;

    use super::*;

    #[test]
    fn requests_verify_only_unaltered_and_once() {
        let me = ReplicaIdentity::generate();
        let key = me.public_key().to_bytes();
        let now = 1_000_000_000;
        let (header, nonce) =
            sign_request(me.signing_key(), me.id(), "POST", "/replication/v1/sessions", now, b"hello");
        let signed = parse(&header).unwrap();
        assert_eq!((signed.replica, signed.nonce), (me.id(), nonce));
        signed.verify(&key, "POST", "/replication/v1/sessions", b"hello").unwrap();
        for (method, path, body) in [
            ("GET", "/replication/v1/sessions", &b"hello"[..]),
            ("POST", "/replication/v1/sessions/x", b"hello"),
            ("POST", "/replication/v1/sessions", b"hellO"),
        ] {
            assert_eq!(signed.verify(&key, method, path, body), Err(AuthError::BadSignature));
        }
        let other = ReplicaIdentity::generate().public_key().to_bytes();
        assert_eq!(signed.verify(&other, "POST", "/replication/v1/sessions", b"hello"), Err(AuthError::BadSignature));

        let dir = tempfile::tempdir().unwrap();
        let records = || Records::open_sqlite(&dir.path().join("links.db")).unwrap();
        let replays = Replays::new(records());
        replays.check(&signed, now + 1000).unwrap();
        assert_eq!(replays.check(&signed, now + 1000), Err(AuthError::Replay));
        assert_eq!(Replays::new(records()).check(&signed, now + 1000), Err(AuthError::Replay), "after a restart too");
        assert!(matches!(replays.check(&signed, now + WINDOW_MS + 1), Err(AuthError::Clock { .. })));
        // Found by fuzzing: an extreme time is refused, not an overflow.
        let extreme = Signed { ts: i64::MIN, ..signed.clone() };
        assert!(matches!(replays.check(&extreme, now), Err(AuthError::Clock { .. })));
        assert_eq!(parse("Bearer x"), None);
        assert_eq!(parse("Preau id=zz,ts=1,nonce=00,sig=00"), None);

        let sig = sign_response(me.signing_key(), &nonce, 200, b"offer");
        assert!(verify_response(&key, &nonce, 200, b"offer", Some(&sig)));
        assert!(!verify_response(&key, &nonce, 200, b"offeR", Some(&sig)));
        assert!(!verify_response(&key, &[0; 16], 200, b"offer", Some(&sig)));
        assert!(!verify_response(&key, &nonce, 500, b"offer", Some(&sig)));
        assert!(!verify_response(&key, &nonce, 200, b"offer", None));
    }
}
