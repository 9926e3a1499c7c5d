//! A replica's identity: a stable random id and the Ed25519 key pair created with it.

use std::fmt;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::ids::ReplicaId;

/// Who this replica is. Created once with the database and never changed.
#[derive(Clone)]
pub struct ReplicaIdentity {
    id: ReplicaId,
    signing_key: SigningKey,
}

impl ReplicaIdentity {
    /// A fresh identity from the operating system's random source.
    pub fn generate() -> Self {
        let mut id = [0u8; 16];
        let mut secret = [0u8; 32];
        fill_random(&mut id);
        fill_random(&mut secret);
        Self::from_parts(ReplicaId(id), secret)
    }

    /// A fresh identity around a private key kept elsewhere (a laptop's keyring).
    pub fn with_secret(secret: [u8; 32]) -> Self {
        let mut id = [0u8; 16];
        fill_random(&mut id);
        Self::from_parts(ReplicaId(id), secret)
    }

    /// Rebuilds an identity from stored parts.
    pub fn from_parts(id: ReplicaId, secret: [u8; 32]) -> Self {
        Self { id, signing_key: SigningKey::from_bytes(&secret) }
    }

    /// The replica id.
    pub fn id(&self) -> ReplicaId {
        self.id
    }

    /// The public key peers and the hub use to recognise this replica.
    pub fn public_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The signing key (kept in the replica's database, never sent).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The private key's bytes (for a keeper outside the database).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing_key.to_bytes()
    }
}

impl fmt::Debug for ReplicaIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplicaIdentity")
            .field("id", &self.id)
            .field("public_key", &hex::encode(self.public_key().as_bytes()))
            .field("signing_key", &"<redacted>")
            .finish()
    }
}

/// Fills `buf` from the OS. Failing to get randomness is unrecoverable for a key store.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random source is unavailable");
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, Verifier};

    use super::*;

    #[test]
    fn identities_are_distinct_sign_and_redact() {
        let a = ReplicaIdentity::generate();
        let b = ReplicaIdentity::generate();
        assert_ne!(a.id(), b.id());
        let sig = a.signing_key().sign(b"hello");
        assert!(a.public_key().verify(b"hello", &sig).is_ok());
        assert!(b.public_key().verify(b"hello", &sig).is_err());
        let restored = ReplicaIdentity::from_parts(a.id(), a.secret_bytes());
        assert_eq!(restored.public_key(), a.public_key());
        assert!(format!("{a:?}").contains("<redacted>"));
    }
}
