//! Enrolment certificates: who may replicate which partitions.
//!
//! The chain is hub → school appliance → teacher device. The academy hub's key is the root;
//! it certifies each school appliance's key for its school's partitions; an appliance
//! certifies each teacher device it enrols for the partitions of that teacher's classes.
//! A certificate never grants more than its issuer holds, so any replica that trusts the
//! hub's key can check a device it never met. Certificates expire and are renewed at each
//! sync; revocation is the issuer's list, checked on every session it serves.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::ids::{ReplicaId, Scope, ScopeRule};

/// What a certified replica is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// The academy hub (its certificate is self-issued: the root).
    Hub,
    /// A school appliance.
    School,
    /// A teacher's desktop app, enrolled with its school's appliance.
    Device,
}

/// The signed part of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Format version.
    pub version: u8,
    /// Unique number, for logs and revocation lists.
    pub serial: [u8; 16],
    /// The certified replica.
    pub subject: ReplicaId,
    /// Its public key (requests are signed with it).
    pub subject_key: [u8; 32],
    /// What it is.
    pub role: Role,
    /// The partitions it may hold and exchange.
    pub scope: Scope,
    /// The key that signed this certificate.
    pub issuer_key: [u8; 32],
    /// Validity, in Unix milliseconds.
    pub not_before: u64,
    /// Expiry, in Unix milliseconds.
    pub not_after: u64,
}

/// A grant and the issuer's signature over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// What is granted.
    pub grant: Grant,
    /// Ed25519 signature of the issuer over the grant's postcard bytes.
    pub signature: Vec<u8>,
}

/// A leaf certificate followed by its issuers' certificates, up to one issued by a root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain(pub Vec<Certificate>);

/// Why a chain is not accepted (precise, for logs; the pages say it in French).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// No certificate at all.
    #[error("empty certificate chain")]
    Empty,
    /// Bytes that do not decode.
    #[error("malformed certificate chain: {0}")]
    Malformed(String),
    /// A signature that does not verify.
    #[error("certificate {0} has a bad signature")]
    BadSignature(usize),
    /// A certificate not signed by the next one's subject.
    #[error("certificate {0} is not issued by the next one in the chain")]
    BrokenLink(usize),
    /// The chain ends at a key nobody here trusts.
    #[error("certificate chain does not end at a trusted root")]
    UntrustedRoot,
    /// Outside the validity period.
    #[error("certificate {index} is expired or not yet valid (valid {not_before}..{not_after}, now {now})")]
    Expired {
        /// Which certificate.
        index: usize,
        /// Its start.
        not_before: u64,
        /// Its end.
        not_after: u64,
        /// The verifier's clock.
        now: u64,
    },
    /// A certificate granting more than its issuer holds.
    #[error("certificate {0} grants partitions its issuer does not hold")]
    ScopeEscalation(usize),
    /// A role that may not issue the next certificate (a device issuing, say).
    #[error("certificate {0}: a {1:?} may not issue certificates")]
    RoleCannotIssue(usize, Role),
    /// The request was not signed by the certified key.
    #[error("the request is not signed by the certified replica")]
    KeyMismatch,
}

/// The longest chain accepted (hub → school → device).
pub const MAX_CHAIN: usize = 3;
/// The most scope rules one certificate may carry (a teacher's device: a few classes and
/// their pupils, so about a hundred).
pub const MAX_RULES: usize = 2_000;

impl Certificate {
    /// Issues a certificate for `grant` (whose `issuer_key` is set from `issuer`).
    pub fn issue(issuer: &SigningKey, mut grant: Grant) -> Self {
        grant.issuer_key = issuer.verifying_key().to_bytes();
        let signature = issuer.sign(&grant_bytes(&grant)).to_bytes().to_vec();
        Certificate { grant, signature }
    }

    fn signature_ok(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.grant.issuer_key) else { return false };
        let Ok(sig) = Signature::from_slice(&self.signature) else { return false };
        key.verify(&grant_bytes(&self.grant), &sig).is_ok()
    }
}

fn grant_bytes(grant: &Grant) -> Vec<u8> {
    postcard::to_allocvec(grant).expect("serialising to memory cannot fail")
}

impl Chain {
    /// The certified replica's certificate.
    pub fn leaf(&self) -> Option<&Grant> {
        self.0.first().map(|c| &c.grant)
    }

    /// Serialised form (postcard).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("serialising to memory cannot fail")
    }

    /// Parses the serialised form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CertError> {
        if bytes.len() > 16 * 1024 {
            return Err(CertError::Malformed(format!("{} bytes", bytes.len())));
        }
        postcard::from_bytes(bytes).map_err(|e| CertError::Malformed(e.to_string()))
    }

    /// Checks every signature, link, validity period and scope of the chain, and that it
    /// ends at one of `roots`. Returns the leaf's grant.
    pub fn verify(&self, roots: &[[u8; 32]], now_ms: u64) -> Result<&Grant, CertError> {
        let certs = &self.0;
        if certs.is_empty() {
            return Err(CertError::Empty);
        }
        if certs.len() > MAX_CHAIN {
            return Err(CertError::Malformed(format!("{} certificates", certs.len())));
        }
        for (i, cert) in certs.iter().enumerate() {
            let g = &cert.grant;
            if !cert.signature_ok() {
                return Err(CertError::BadSignature(i));
            }
            if now_ms < g.not_before || now_ms > g.not_after {
                return Err(CertError::Expired {
                    index: i,
                    not_before: g.not_before,
                    not_after: g.not_after,
                    now: now_ms,
                });
            }
            if let Some(issuer) = certs.get(i + 1) {
                let ig = &issuer.grant;
                if ig.subject_key != g.issuer_key {
                    return Err(CertError::BrokenLink(i));
                }
                if ig.role == Role::Device {
                    return Err(CertError::RoleCannotIssue(i + 1, ig.role.clone()));
                }
                if !g.scope.is_within(&ig.scope) {
                    return Err(CertError::ScopeEscalation(i));
                }
            }
        }
        let last = &certs[certs.len() - 1].grant;
        if !roots.contains(&last.issuer_key) {
            return Err(CertError::UntrustedRoot);
        }
        Ok(&certs[0].grant)
    }
}

impl Scope {
    /// Whether every partition of `self` is in `other`.
    pub fn is_within(&self, other: &Scope) -> bool {
        self.rules().iter().all(|rule| match rule {
            ScopeRule::All => other.rules().contains(&ScopeRule::All),
            ScopeRule::School(uai) => other.rules().iter().any(|r| match r {
                ScopeRule::All => true,
                ScopeRule::School(u) => u == uai,
                ScopeRule::Exact(_) => false,
            }),
            ScopeRule::Exact(p) => other.contains(p),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::ReplicaIdentity;
    use crate::ids::{LocalId, Partition, Uai};

    fn grant(subject: &ReplicaIdentity, role: Role, scope: Scope) -> Grant {
        Grant {
            version: 1,
            serial: [7; 16],
            subject: subject.id(),
            subject_key: subject.public_key().to_bytes(),
            role,
            scope,
            issuer_key: [0; 32],
            not_before: 1_000,
            not_after: 10_000,
        }
    }

    #[test]
    fn a_chain_from_hub_to_device_verifies_and_every_tampering_is_caught() {
        let (hub, school, device) =
            (ReplicaIdentity::generate(), ReplicaIdentity::generate(), ReplicaIdentity::generate());
        let uai = Uai::parse("0290001A").unwrap();
        let class = Partition::Class(uai.clone(), LocalId::parse("cp").unwrap());
        let school_cert = Certificate::issue(
            hub.signing_key(),
            grant(&school, Role::School, Scope::new(vec![ScopeRule::School(uai.clone())])),
        );
        let device_cert = Certificate::issue(
            school.signing_key(),
            grant(&device, Role::Device, Scope::new(vec![ScopeRule::Exact(class.clone())])),
        );
        let roots = [hub.public_key().to_bytes()];
        let chain = Chain(vec![device_cert.clone(), school_cert.clone()]);
        assert_eq!(chain.verify(&roots, 5_000).unwrap().subject, device.id());
        assert_eq!(Chain::from_bytes(&chain.to_bytes()).unwrap(), chain);

        // Untrusted root, expiry, broken links, escalations, forged signatures.
        assert_eq!(chain.verify(&[school.public_key().to_bytes()], 5_000), Err(CertError::UntrustedRoot));
        assert!(matches!(chain.verify(&roots, 20_000), Err(CertError::Expired { index: 0, .. })));
        assert_eq!(Chain(vec![device_cert.clone()]).verify(&roots, 5_000), Err(CertError::UntrustedRoot));
        let other_school = Uai::parse("0290002B").unwrap();
        let greedy = Certificate::issue(
            school.signing_key(),
            grant(&device, Role::Device, Scope::new(vec![ScopeRule::School(other_school)])),
        );
        assert_eq!(Chain(vec![greedy, school_cert.clone()]).verify(&roots, 5_000), Err(CertError::ScopeEscalation(0)));
        let mut forged = device_cert.clone();
        forged.grant.scope = Scope::all();
        assert_eq!(Chain(vec![forged, school_cert.clone()]).verify(&roots, 5_000), Err(CertError::BadSignature(0)));
        let stranger = ReplicaIdentity::generate();
        let unlinked = Certificate::issue(stranger.signing_key(), device_cert.grant.clone());
        assert_eq!(Chain(vec![unlinked, school_cert.clone()]).verify(&roots, 5_000), Err(CertError::BrokenLink(0)));
        // A device cannot issue.
        let sub = Certificate::issue(
            device.signing_key(),
            grant(&stranger, Role::Device, Scope::new(vec![ScopeRule::Exact(class)])),
        );
        assert_eq!(
            Chain(vec![sub, device_cert, school_cert]).verify(&roots, 5_000),
            Err(CertError::RoleCannotIssue(1, Role::Device))
        );
        assert_eq!(Chain(vec![]).verify(&roots, 5_000), Err(CertError::Empty));
        assert!(Chain::from_bytes(b"\xff\xff\xff").is_err());
    }

    #[test]
    fn scope_inclusion() {
        let a = Uai::parse("0290001A").unwrap();
        let b = Uai::parse("0290002B").unwrap();
        let school_a = Scope::new(vec![ScopeRule::School(a.clone())]);
        let class_a = Scope::new(vec![ScopeRule::Exact(Partition::Class(a.clone(), LocalId::parse("cp").unwrap()))]);
        assert!(school_a.is_within(&Scope::all()));
        assert!(class_a.is_within(&school_a));
        assert!(!school_a.is_within(&class_a));
        assert!(!Scope::all().is_within(&school_a));
        assert!(!Scope::new(vec![ScopeRule::School(b)]).is_within(&school_a));
        assert!(Scope::default().is_within(&class_a));
    }
}
