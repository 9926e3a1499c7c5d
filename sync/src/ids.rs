//! Identifiers: replicas, documents, schools and the partitions that scope every document.
//!
//! A [`Partition`] can only be built through validation, and a [`DocId`] is a hash of the
//! document's partition, kind and key: a peer cannot move a document into another
//! partition without changing its identity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kinds::Kind;

fn invalid(what: &'static str, value: &str) -> Error {
    Error::InvalidId { what, value: value.chars().take(80).collect() }
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub [u8; 16]);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(s, &mut bytes).map_err(|_| invalid($what, s))?;
                Ok(Self(bytes))
            }
        }
    };
}

hex_id!(
    /// A replica's stable identity (hub, appliance or desktop app), random at creation.
    ReplicaId,
    "replica id"
);
hex_id!(
    /// A document's identity: derived from its partition, kind and key (see [`DocAddress`]).
    DocId,
    "document id"
);

/// A school's national identifier (UAI): seven digits and a check letter, e.g. `0341234A`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uai(String);

impl Uai {
    /// Validates a UAI (case-insensitive letter, stored upper-case).
    pub fn parse(s: &str) -> Result<Self> {
        let b = s.as_bytes();
        if b.len() == 8 && b[..7].iter().all(u8::is_ascii_digit) && b[7].is_ascii_alphabetic() {
            Ok(Self(s.to_ascii_uppercase()))
        } else {
            Err(invalid("UAI", s))
        }
    }

    /// The UAI as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A commune's INSEE code (code officiel géographique): the département (`01`–`95` but
/// `20`, `2A`, `2B`, or `97` followed by the overseas département's digit `1`–`6`) then
/// the commune's number (`001`–`999`, two digits overseas), e.g. `34172` (Montpellier).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Insee(String);

impl Insee {
    /// Validates an INSEE code (case-insensitive `A`/`B` of Corsica, stored upper-case).
    pub fn parse(s: &str) -> Result<Self> {
        let up = s.to_ascii_uppercase();
        let b = up.as_bytes();
        let (dept, number) = if b.starts_with(b"97") { b.split_at(3.min(b.len())) } else { b.split_at(2.min(b.len())) };
        let digits = |r: &[u8]| !r.is_empty() && r.iter().all(u8::is_ascii_digit);
        let dept_ok = match dept {
            b"2A" | b"2B" => true,
            [b'9', b'7', d] => (b'1'..=b'6').contains(d),
            _ => digits(dept) && !matches!(dept, b"00" | b"20") && dept < b"96".as_slice(),
        };
        let ok = b.len() == 5 && dept_ok && digits(number) && number.iter().any(|&c| c != b'0');
        if ok { Ok(Self(up)) } else { Err(invalid("INSEE code", s)) }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A school-local identifier for a class or a pupil: 1–64 of `[a-z0-9_-]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalId(String);

impl LocalId {
    /// Validates a local id.
    pub fn parse(s: &str) -> Result<Self> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_');
        if ok { Ok(Self(s.to_owned())) } else { Err(invalid("local id", s)) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A document key, unique within a partition and kind: `[A-Za-z0-9._-]`, 1–96 bytes
/// (a school year such as `2026-2027`, or a random id for conversations and posts).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocKey(String);

impl DocKey {
    /// Validates a key.
    pub fn parse(s: &str) -> Result<Self> {
        let ok = (1..=96).contains(&s.len())
            && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if ok { Ok(Self(s.to_owned())) } else { Err(invalid("document key", s)) }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> { Self::parse(&s) }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String { v.0 }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(&self.0) }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { write!(f, "{:?}", self.0) }
        }
    )*};
}
string_conversions!(Uai, Insee, LocalId, DocKey);

/// The unit of scoping: every document lives in exactly one partition, forever.
///
/// Text forms: `academy`, `academy/admin`, `commune/{insee}`, `school/{uai}`, `school/{uai}/staff`,
/// `school/{uai}/class/{id}`, `school/{uai}/pupil/{id}`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Partition {
    /// Academy-wide documents, held by the hub and every school.
    Academy,
    /// The académie's own administration (its staff's accounts, its rates): the hub's alone.
    AcademyAdmin,
    /// A commune's documents (its portal, canteen menus, conventions): held by the hub and
    /// the commune's schools.
    Commune(Insee),
    /// A school's shared documents (school news, structures).
    School(Uai),
    /// The school's staff-only space (salle des profs).
    Staff(Uai),
    /// The school's credentials: held by the appliance and the hub, never by teacher devices.
    Accounts(Uai),
    /// One class (cahier de textes, class news, class conversations).
    Class(Uai, LocalId),
    /// One pupil's private documents (a pupil keeps them across classes and years).
    Pupil(Uai, LocalId),
}

impl Partition {
    /// The school this partition belongs to, if any.
    pub fn school(&self) -> Option<&Uai> {
        match self {
            Partition::Academy | Partition::AcademyAdmin | Partition::Commune(_) => None,
            Partition::School(u)
            | Partition::Staff(u)
            | Partition::Accounts(u)
            | Partition::Class(u, _)
            | Partition::Pupil(u, _) => Some(u),
        }
    }

    /// Parses and validates the text form.
    pub fn parse(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let p = match parts.as_slice() {
            ["academy"] => Partition::Academy,
            ["academy", "admin"] => Partition::AcademyAdmin,
            ["commune", c] => Partition::Commune(Insee::parse(c)?),
            ["school", u] => Partition::School(Uai::parse(u)?),
            ["school", u, "staff"] => Partition::Staff(Uai::parse(u)?),
            ["school", u, "accounts"] => Partition::Accounts(Uai::parse(u)?),
            ["school", u, "class", c] => Partition::Class(Uai::parse(u)?, LocalId::parse(c)?),
            ["school", u, "pupil", p] => Partition::Pupil(Uai::parse(u)?, LocalId::parse(p)?),
            _ => return Err(invalid("partition", s)),
        };
        // Only the canonical spelling is accepted, so that one partition has one id.
        if p.to_string() == s { Ok(p) } else { Err(invalid("partition", s)) }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partition::Academy => f.write_str("academy"),
            Partition::AcademyAdmin => f.write_str("academy/admin"),
            Partition::Commune(c) => write!(f, "commune/{c}"),
            Partition::School(u) => write!(f, "school/{u}"),
            Partition::Staff(u) => write!(f, "school/{u}/staff"),
            Partition::Accounts(u) => write!(f, "school/{u}/accounts"),
            Partition::Class(u, c) => write!(f, "school/{u}/class/{c}"),
            Partition::Pupil(u, p) => write!(f, "school/{u}/pupil/{p}"),
        }
    }
}

impl fmt::Debug for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Partition({self})")
    }
}

impl FromStr for Partition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Partition {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<Partition> for String {
    fn from(p: Partition) -> String {
        p.to_string()
    }
}

/// Where a document lives and what it is; its [`DocId`] is derived from all three.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DocAddress {
    /// The immutable partition.
    pub partition: Partition,
    /// The document kind.
    pub kind: Kind,
    /// Unique within partition and kind.
    pub key: DocKey,
}

impl DocAddress {
    /// Builds an address.
    pub fn new(partition: Partition, kind: Kind, key: DocKey) -> Self {
        Self { partition, kind, key }
    }

    /// `id = H(partition, kind, key)`: the binding that keeps documents in their partition.
    pub fn id(&self) -> DocId {
        let mut h = blake3::Hasher::new_derive_key("preau 2026 document id v1");
        for part in [self.partition.to_string().as_str(), self.kind.as_str(), self.key.as_str()] {
            h.update(&(part.len() as u32).to_le_bytes());
            h.update(part.as_bytes());
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&h.finalize().as_bytes()[..16]);
        DocId(id)
    }
}

/// One rule of a replica's [`Scope`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScopeRule {
    /// Every partition (the academy hub).
    All,
    /// A school and all its sub-partitions (a school appliance).
    School(Uai),
    /// One partition exactly (a teacher laptop's classes and pupils).
    Exact(Partition),
}

/// The partitions a replica holds: a union of rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope(Vec<ScopeRule>);

impl Scope {
    /// A scope from rules (kept sorted and deduplicated, so equal scopes compare equal).
    pub fn new(mut rules: Vec<ScopeRule>) -> Self {
        rules.sort();
        rules.dedup();
        Self(rules)
    }

    /// Every partition.
    pub fn all() -> Self {
        Self(vec![ScopeRule::All])
    }

    /// The rules.
    pub fn rules(&self) -> &[ScopeRule] {
        &self.0
    }

    /// Whether a document of `partition` belongs in this scope.
    pub fn contains(&self, partition: &Partition) -> bool {
        self.0.iter().any(|rule| match rule {
            ScopeRule::All => true,
            ScopeRule::School(u) => partition.school() == Some(u),
            ScopeRule::Exact(p) => p == partition,
        })
    }

    /// A stable fingerprint of the scope, for per-peer state that is only valid for one scope.
    pub fn fingerprint(&self) -> [u8; 16] {
        let bytes = postcard::to_allocvec(self).unwrap_or_default();
        let mut out = [0u8; 16];
        out.copy_from_slice(&blake3::hash(&bytes).as_bytes()[..16]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_round_trip_and_refuse_non_canonical_forms() {
        for ok in [
            "academy",
            "academy/admin",
            "commune/34172",
            "commune/2A004",
            "commune/97411",
            "school/0341234A",
            "school/0341234A/staff",
            "school/0341234A/class/cm1-b",
            "school/0341234A/pupil/p-042",
        ] {
            assert_eq!(Partition::parse(ok).unwrap().to_string(), ok);
        }
        for bad in [
            "",
            "school",
            "school/0341234a",
            "school/341234A",
            "school/0341234A/",
            "school/0341234A/class/CM1",
            "school/0341234A/class/a/b",
            "school/0341234A/teacher/x",
            "academy/x",
            "commune/34",
            "commune/2a004",
            "commune/20004",
            "commune/96001",
            "commune/97701",
            "commune/34000",
            "commune/34172/x",
            "school/0341234A//class/x",
        ] {
            assert!(Partition::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn doc_id_binds_partition_kind_and_key() {
        let key = DocKey::parse("2026-2027").unwrap();
        let a = DocAddress::new(Partition::parse("school/0341234A/class/cp").unwrap(), Kind::HomeworkBook, key.clone());
        let b =
            DocAddress::new(Partition::parse("school/0341234A/class/ce1").unwrap(), Kind::HomeworkBook, key.clone());
        let c = DocAddress::new(a.partition.clone(), Kind::NewsPost, key);
        assert_ne!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id(), a.clone().id());
    }

    #[test]
    fn scope_rules() {
        let uai = Uai::parse("0341234A").unwrap();
        let class = Partition::Class(uai.clone(), LocalId::parse("cp").unwrap());
        let other = Partition::School(Uai::parse("0349999Z").unwrap());
        let school = Scope::new(vec![ScopeRule::School(uai)]);
        assert!(school.contains(&class));
        assert!(!school.contains(&other));
        assert!(!school.contains(&Partition::Academy));
        let laptop = Scope::new(vec![ScopeRule::Exact(class.clone())]);
        assert!(laptop.contains(&class));
        assert!(Scope::all().contains(&other));
    }
}
