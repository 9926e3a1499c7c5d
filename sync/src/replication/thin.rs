//! Thin changes: Automerge change chunks without what the recipient can recompute.
//!
//! A change chunk is `magic | checksum | type | len | body`, where `body` starts with the
//! change's dependency hashes and the checksum is the first 4 bytes of
//! SHA-256(`type | len | body`), the change's hash. On the wire we drop the magic and the
//! checksum and replace each dependency on an earlier change of the same document in the
//! same bundle (or on the document's genesis) by a small reference, and any other
//! dependency (a change the recipient already holds) by an 8-byte prefix of its hash that
//! the recipient resolves in its own copy of the document. The recipient rebuilds the
//! exact chunk, and Automerge verifies it.

use automerge::{Change, ChangeHash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::replication::varint::{read_uleb, write_uleb};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE_CHUNK: u8 = 1;

/// A change without its header, with its dependencies as references and its actor as an
/// index into the bundle's actor table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThinChange {
    /// Dependencies, in the change's own order.
    pub deps: Vec<Dep>,
    /// Index of the change's actor in [`Actors`].
    pub actor: u32,
    /// The rest of the change body (seq, ops...).
    pub rest: Vec<u8>,
}

/// The actors of a bundle's changes, each written once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actors(pub Vec<Vec<u8>>);

impl Actors {
    fn index_of(&mut self, actor: &[u8]) -> u32 {
        match self.0.iter().position(|a| a == actor) {
            Some(i) => i as u32,
            None => {
                self.0.push(actor.to_vec());
                (self.0.len() - 1) as u32
            }
        }
    }
}

/// One dependency of a thin change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dep {
    /// The change at this index among the same document's changes in this bundle.
    Earlier(u32),
    /// The document's genesis change (every replica computes it).
    Genesis,
    /// A change the recipient should already hold, by the first 8 bytes of its hash.
    Held([u8; 8]),
    /// A change the recipient should already hold, by its whole hash (used when repairing a
    /// divergence, so that an ambiguous prefix can never block a document for good).
    Hash([u8; 32]),
}

/// How dependencies on changes outside the bundle are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldDeps {
    /// 8-byte prefixes (the normal case).
    Prefix,
    /// Whole hashes (full reconciliation).
    Full,
}

/// Finds the full hash of a change the recipient holds from its prefix.
pub trait ResolveHeld {
    /// The unique held change whose hash starts with `prefix`, if any.
    fn resolve(&self, prefix: &[u8; 8]) -> Option<ChangeHash>;
}

/// Why thin changes could not be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThickenError {
    /// A dependency is not (or not unambiguously) in the recipient's copy: history is missing.
    MissingHistory,
    /// The bytes are not a valid change.
    Invalid(String),
}

/// Thins `changes` (in causal order) of a document whose genesis is `genesis`.
pub fn thin(
    changes: &[Change],
    genesis: ChangeHash,
    actors: &mut Actors,
    held: HeldDeps,
) -> Result<Vec<ThinChange>, String> {
    let mut index = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        let body = chunk_body(change.raw_bytes())?;
        let (count, mut at) = read_uleb(body, 0)?;
        let mut deps = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let hash: [u8; 32] = body.get(at..at + 32).ok_or("truncated dependency")?.try_into().map_err(|_| "dep")?;
            at += 32;
            deps.push(match index.get(&hash) {
                Some(&j) => Dep::Earlier(j),
                None if hash == genesis.0 => Dep::Genesis,
                None if held == HeldDeps::Full => Dep::Hash(hash),
                None => Dep::Held(hash[..8].try_into().map_err(|_| "prefix")?),
            });
        }
        let (actor_len, actor_at) = read_uleb(body, at)?;
        let actor_end = actor_at.checked_add(actor_len as usize).filter(|&end| end <= body.len()).ok_or("actor")?;
        let actor = actors.index_of(&body[actor_at..actor_end]);
        index.insert(change.hash().0, i as u32);
        out.push(ThinChange { deps, actor, rest: body[actor_end..].to_vec() });
    }
    Ok(out)
}

/// Rebuilds the exact changes; Automerge then checks every one of them.
pub fn thicken(
    thin: &[ThinChange],
    genesis: ChangeHash,
    actors: &Actors,
    held: &dyn ResolveHeld,
) -> Result<Vec<Change>, ThickenError> {
    let invalid = ThickenError::Invalid;
    let mut out: Vec<Change> = Vec::with_capacity(thin.len());
    for (i, t) in thin.iter().enumerate() {
        let mut body = Vec::with_capacity(t.rest.len() + 1 + 32 * t.deps.len());
        write_uleb(&mut body, t.deps.len() as u64);
        for dep in &t.deps {
            let hash = match dep {
                Dep::Earlier(j) if (*j as usize) < i => out[*j as usize].hash().0,
                Dep::Earlier(j) => return Err(invalid(format!("change {i} refers to later change {j}"))),
                Dep::Genesis => genesis.0,
                Dep::Held(prefix) => held.resolve(prefix).ok_or(ThickenError::MissingHistory)?.0,
                Dep::Hash(hash) => *hash,
            };
            body.extend_from_slice(&hash);
        }
        let actor = actors.0.get(t.actor as usize).ok_or_else(|| invalid(format!("no actor {}", t.actor)))?;
        write_uleb(&mut body, actor.len() as u64);
        body.extend_from_slice(actor);
        body.extend_from_slice(&t.rest);
        let mut len = Vec::with_capacity(5);
        write_uleb(&mut len, body.len() as u64);
        let hash = Sha256::new().chain_update([CHANGE_CHUNK]).chain_update(&len).chain_update(&body).finalize();
        let mut chunk = Vec::with_capacity(9 + len.len() + body.len());
        chunk.extend_from_slice(&MAGIC);
        chunk.extend_from_slice(&hash[..4]);
        chunk.push(CHANGE_CHUNK);
        chunk.extend_from_slice(&len);
        chunk.extend_from_slice(&body);
        out.push(Change::from_bytes(chunk).map_err(|e| invalid(e.to_string()))?);
    }
    Ok(out)
}

/// Checks that `bytes` are only Automerge document and change chunks (types 0, 1 and 2),
/// whole: what a store writes. Automerge's parser for other chunk types panics or
/// allocates without bound on malformed input, so such bytes never reach it.
pub(crate) fn only_document_and_change_chunks(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at < 9 || bytes[at..at + 4] != MAGIC {
            return Err(format!("no Automerge chunk at byte {at}"));
        }
        let kind = bytes[at + 8];
        if kind > 2 {
            return Err(format!("chunk of type {kind} at byte {at}: Préau never writes one"));
        }
        let (len, body) = read_uleb(bytes, at + 9)?;
        at = usize::try_from(len)
            .ok()
            .and_then(|len| body.checked_add(len))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| format!("chunk at byte {body} runs past the end"))?;
    }
    Ok(())
}

/// The body of an uncompressed change chunk.
fn chunk_body(chunk: &[u8]) -> Result<&[u8], String> {
    if chunk.len() < 9 || chunk[..4] != MAGIC || chunk[8] != CHANGE_CHUNK {
        return Err("not an uncompressed change chunk".into());
    }
    let (len, at) = read_uleb(chunk, 9)?;
    chunk.get(at..).filter(|b| b.len() as u64 == len).ok_or_else(|| "chunk length mismatch".to_owned())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    use super::*;

    struct Holds(Vec<ChangeHash>);
    impl ResolveHeld for Holds {
        fn resolve(&self, prefix: &[u8; 8]) -> Option<ChangeHash> {
            self.0.iter().find(|h| h.0.starts_with(prefix)).copied()
        }
    }

    #[test]
    fn thin_changes_rebuild_the_exact_same_changes() {
        let mut doc = Automerge::new();
        let genesis = doc.transact(|tx| tx.put(ROOT, "a", 1)).unwrap().hash.unwrap();
        let mut other = doc.fork();
        doc.transact(|tx| tx.put(ROOT, "b", "deux")).unwrap();
        other.transact(|tx| tx.put(ROOT, "c", "trois")).unwrap();
        doc.merge(&mut other).unwrap();
        let merged = doc.get_heads();
        doc.transact(|tx| tx.put(ROOT, "d", 4.5)).unwrap();

        let held = Holds(vec![]);
        let mut actors = Actors::default();
        let changes = doc.get_changes(&[genesis]);
        let thinned = thin(&changes, genesis, &mut actors, HeldDeps::Prefix).unwrap();
        assert_eq!(actors.0.len(), 2, "two actors wrote these changes");
        assert!(thinned.iter().flat_map(|t| &t.deps).all(|d| !matches!(d, Dep::Held(_))));
        let rebuilt = thicken(&thinned, genesis, &actors, &held).unwrap();
        let hashes = |c: &[Change]| c.iter().map(Change::hash).collect::<Vec<_>>();
        assert_eq!(hashes(&rebuilt), hashes(&changes));

        // Sent as a delta on top of the two merged branches, which the recipient holds.
        let delta = doc.get_changes(&merged);
        let thinned_delta = thin(&delta, genesis, &mut actors, HeldDeps::Prefix).unwrap();
        assert!(thinned_delta[0].deps.iter().all(|d| matches!(d, Dep::Held(_))));
        assert_eq!(thicken(&thinned_delta, genesis, &actors, &held), Err(ThickenError::MissingHistory));
        let rebuilt = thicken(&thinned_delta, genesis, &actors, &Holds(merged)).unwrap();
        assert_eq!(hashes(&rebuilt), hashes(&delta));
        // Whole hashes need no resolving (a missing one is Automerge's to notice).
        let full = thin(&delta, genesis, &mut actors, HeldDeps::Full).unwrap();
        assert!(full[0].deps.iter().all(|d| matches!(d, Dep::Hash(_))));
        assert_eq!(hashes(&thicken(&full, genesis, &actors, &held).unwrap()), hashes(&delta));

        let mut tampered = thinned.clone();
        *tampered[0].rest.last_mut().unwrap() ^= 1;
        match thicken(&tampered, genesis, &actors, &held) {
            Ok(rebuilt) => assert_ne!(rebuilt[0].hash(), changes[0].hash()),
            Err(e) => assert!(matches!(e, ThickenError::Invalid(_))),
        }
        let mut no_actor = thinned.clone();
        no_actor[0].actor = 7;
        assert!(matches!(thicken(&no_actor, genesis, &actors, &held), Err(ThickenError::Invalid(_))));
        let mut forward = thinned;
        forward[0].deps = vec![Dep::Earlier(3)];
        assert!(matches!(thicken(&forward, genesis, &actors, &held), Err(ThickenError::Invalid(_))));
    }
}
