//! Fuzz target: certificate chains sent by a peer (`Chain::from_bytes`, `Chain::verify`).
//!
//! Every input is first decoded and verified as it is, against a fixed root: random
//! signatures never verify, so this covers decoding and the refusals up to the first
//! signature check. To reach the link, role, validity and scope checks too, inputs of at
//! least 9 bytes are also read as `flags: u8, now_ms: u64 LE, chain bytes`: the chain is
//! re-signed with fixed keys (each certificate by the next one's subject, the last by the
//! root when `flags & 1`, else by a stranger), then verified at `now_ms`. An accepted
//! chain must satisfy what `verify` promises; anything that panics is a crash.

#![no_main]

use std::sync::OnceLock;

use preau_sync::ReplicaIdentity;
use preau_sync::ReplicaId;
use preau_sync::certificate::{Certificate, Chain, MAX_CHAIN};

/// A fixed "now" for the raw pass (2026-09-01).
const NOW_MS: u64 = 1_788_220_800_000;

struct Keys {
    root: ReplicaIdentity,
    stranger: ReplicaIdentity,
    /// The subjects of certificates 1.. (certificate `i` is signed by `issuers[i + 1]`).
    issuers: Vec<ReplicaIdentity>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let id = |n: u8| ReplicaIdentity::from_parts(ReplicaId([n; 16]), [n; 32]);
        Keys { root: id(1), stranger: id(2), issuers: (0..=MAX_CHAIN as u8).map(|n| id(10 + n)).collect() }
    })
}

fn roots() -> [[u8; 32]; 1] {
    [keys().root.public_key().to_bytes()]
}

/// Checks what an accepted chain promises.
fn check_accepted(chain: &Chain, roots: &[[u8; 32]], now: u64) {
    let Ok(leaf) = chain.verify(roots, now) else { return };
    let certs = &chain.0;
    assert!(!certs.is_empty() && certs.len() <= MAX_CHAIN, "accepted a chain of {} certificates", certs.len());
    assert_eq!(leaf, &certs[0].grant, "verify returned another grant than the leaf");
    assert!(roots.contains(&certs[certs.len() - 1].grant.issuer_key), "accepted an untrusted root");
    for (i, c) in certs.iter().enumerate() {
        let g = &c.grant;
        assert!(g.not_before <= now && now <= g.not_after, "accepted certificate {i} outside its validity");
        assert!(leaf.scope.is_within(&g.scope), "the leaf's scope exceeds certificate {i}'s");
        if let Some(next) = certs.get(i + 1) {
            assert_eq!(next.grant.subject_key, g.issuer_key, "accepted a broken link at {i}");
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // As received.
    if let Ok(chain) = Chain::from_bytes(data) {
        let again = Chain::from_bytes(&chain.to_bytes()).expect("a decoded chain re-encodes to a decodable one");
        assert_eq!(again, chain, "re-encoding changed a chain");
        let _ = chain.verify(&roots(), NOW_MS);
        check_accepted(&chain, &roots(), NOW_MS);
    }

    // Re-signed, so that the checks past the signatures are reached.
    let Some((&flags, rest)) = data.split_first() else { return };
    let Some((now, rest)) = rest.split_first_chunk::<8>() else { return };
    let now = u64::from_le_bytes(*now);
    let Ok(Chain(mut certs)) = Chain::from_bytes(rest) else { return };
    if certs.len() > MAX_CHAIN + 1 {
        let _ = Chain(certs).verify(&roots(), now);
        return;
    }
    let k = keys();
    for i in 1..certs.len() {
        certs[i].grant.subject_key = k.issuers[i].public_key().to_bytes();
    }
    let n = certs.len();
    for i in (0..n).rev() {
        let issuer = if i + 1 < n {
            &k.issuers[i + 1]
        } else if flags & 1 == 1 {
            &k.root
        } else {
            &k.stranger
        };
        let grant = certs[i].grant.clone();
        certs[i] = Certificate::issue(issuer.signing_key(), grant);
    }
    check_accepted(&Chain(certs), &roots(), now);
});
