//! Building a peer's bundle from the catalog, and applying a peer's bundle: validated,
//! all-or-nothing, idempotent.

use std::collections::{BTreeSet, HashMap};

use automerge::{Automerge, Change, ChangeHash, ReadDoc};

use crate::document::load;
use crate::error::{Refusal, Result, without_panic};
use crate::ids::{DocAddress, DocId, ReplicaId, Scope};
use crate::kinds::{self, Row};
use crate::replication::protocol::{Ack, Bundle, DocChanges, DocRefusal, DocTarget};
use crate::replication::thin::{Actors, HeldDeps, ResolveHeld, ThickenError, thicken, thin};
use crate::storage::{Tx, encode_heads};
use crate::store::{CatalogEntry, Store, commit_doc, now_ms};

/// Per-role rules, consulted for every document that crosses a replica boundary.
///
/// Partition binding and scope checks are not part of the policy: they always apply.
pub trait Policy {
    /// Whether `peer`, holding `peer_scope`, may receive the document at `address`.
    fn may_send(&self, _peer: ReplicaId, peer_scope: &Scope, address: &DocAddress) -> bool {
        peer_scope.contains(&address.partition)
    }

    /// Inbound check, after merging a peer's changes into a fork and before commit.
    fn validate(
        &self,
        _from: ReplicaId,
        _address: &DocAddress,
        _before: &Automerge,
        _after: &Automerge,
    ) -> Result<(), String> {
        Ok(())
    }

    /// Called after a document passed [`Policy::validate`], with its new read-model rows,
    /// before the rest of the bundle is checked: a rule that reads another document (the
    /// school directory) then sees that document as the bundle leaves it. Bundles apply
    /// the kinds that policies read first for this reason ([`kinds::DocKind::READ_BY_POLICIES`]).
    fn accepted(&self, _address: &DocAddress, _rows: &[Row]) {}
}

/// Accepts whatever the scopes allow (until enrolment and roles bring real rules).
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenPolicy;
impl Policy for OpenPolicy {}

/// What the sender knows of the peer when building its bundle (from the peer's hello).
pub struct PeerView<'a> {
    /// The peer.
    pub id: ReplicaId,
    /// The partitions it holds.
    pub scope: &'a Scope,
    /// Its watermark of our changes...
    pub received_through: u64,
    /// ...valid for this shared-scope fingerprint.
    pub scope_tag: [u8; 16],
    /// Its full shared catalog, when reconciling a divergence.
    pub catalog: Option<HashMap<DocId, Vec<ChangeHash>>>,
}

impl<'a> PeerView<'a> {
    /// A peer we know nothing about yet: it gets everything we share with it.
    pub fn new_peer(id: ReplicaId, scope: &'a Scope) -> Self {
        Self { id, scope, received_through: 0, scope_tag: [0; 16], catalog: None }
    }
}

/// A bundle and what to record once it is acknowledged.
pub struct Outgoing {
    /// The bundle.
    pub bundle: Bundle,
    /// The heads sent for each document: the peer holds at least these after its ack.
    pub sent_heads: Vec<(DocId, Vec<ChangeHash>)>,
}

/// The result of applying a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The acknowledgement to return to the sender (its digest is of this moment, and it
    /// does not claim quiet: a session that knows better recomputes both).
    pub ack: Ack,
    /// The local sequence numbers taken by the documents this apply committed.
    pub committed: Vec<u64>,
    /// The documents refused, and why (also in the ack, as text).
    pub refused: Vec<([u8; 8], Refusal)>,
}

/// Fingerprint of what a receiver holding `receiver` gets from a sender holding `sender`.
pub(crate) fn shared_tag(receiver: &Scope, sender: &Scope) -> [u8; 16] {
    let mut h = blake3::Hasher::new();
    h.update(&receiver.fingerprint());
    h.update(&sender.fingerprint());
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&h.finalize().as_bytes()[..16]);
    tag
}

/// Digest of this replica's documents that are also in `peer_scope`: equal on both sides
/// exactly when they hold the same shared documents at the same heads.
pub(crate) fn shared_digest(tx: &Tx<'_>, peer_scope: &Scope) -> Result<[u8; 32]> {
    let mut entries = tx.catalog_scan(peer_scope, 0)?;
    entries.sort_by_key(|e| e.id);
    let mut h = blake3::Hasher::new();
    for e in entries {
        h.update(&e.id.0);
        h.update(&encode_heads(&e.heads));
    }
    Ok(*h.finalize().as_bytes())
}

/// The full list of shared documents and their heads, sent when reconciling a divergence.
pub(crate) fn shared_catalog(tx: &Tx<'_>, peer_scope: &Scope) -> Result<Vec<(DocId, Vec<[u8; 32]>)>> {
    Ok(tx.catalog_scan(peer_scope, 0)?.into_iter().map(|e| (e.id, e.heads.iter().map(|h| h.0).collect())).collect())
}

fn random_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    crate::identity::fill_random(&mut id);
    id
}

impl Store {
    /// Builds the bundle of everything `peer` lacks of the shared partitions.
    pub fn build_bundle(&mut self, peer: &PeerView<'_>, policy: &dyn Policy) -> Result<Outgoing> {
        let (me, mut budget) = (self.id(), self.bundle_budget);
        let tag = shared_tag(peer.scope, self.scope());
        self.reader.storage.read(|tx| {
            let full = peer.catalog.is_some();
            // The peer's watermark only counts for the shared scope it was recorded for. A
            // peer repairing a divergence reset it when it saw the divergence, so during a
            // full reconciliation it measures how far the exact bundles have got.
            let after = if peer.scope_tag != tag { 0 } else { peer.received_through };
            let last_seq = tx.last_seq()?;
            let mut bundle = Bundle {
                id: random_id(),
                from: me,
                to: peer.id,
                scope_tag: tag,
                through: last_seq,
                complete: true,
                actors: Actors::default(),
                docs: vec![],
            };
            let mut sent_heads = Vec::new();
            for entry in tx.catalog_scan(peer.scope, after)? {
                if !policy.may_send(peer.id, peer.scope, &entry.address) {
                    continue;
                }
                let base = match &peer.catalog {
                    Some(catalog) => catalog.get(&entry.id).cloned(),
                    None => tx.belief_get(peer.id, entry.id)?,
                };
                if base.as_deref() == Some(entry.heads.as_slice()) {
                    continue;
                }
                let Some(doc) = doc_changes(tx, &entry, base.as_deref(), full, &mut bundle.actors)? else { continue };
                let bytes: usize = doc.changes.iter().map(|c| c.rest.len() + 8 * c.deps.len()).sum();
                if bytes > budget && !bundle.docs.is_empty() {
                    bundle.complete = false;
                    bundle.through = entry.seq - 1;
                    break;
                }
                budget = budget.saturating_sub(bytes);
                bundle.docs.push(doc);
                sent_heads.push((entry.id, entry.heads.clone()));
            }
            Ok(Outgoing { bundle, sent_heads })
        })
    }

    /// Applies a peer's bundle in one transaction and returns the acknowledgement.
    ///
    /// Every document is checked (partition binding, scopes, change integrity, schema,
    /// `policy`) before anything of it is written. A refused document is left untouched and
    /// reported in the acknowledgement, and the rest of the bundle applies: one bad document
    /// never holds back a school's other work. Only a malformed bundle is refused whole. A
    /// bundle already applied changes nothing.
    pub fn apply_bundle(&mut self, bundle: &Bundle, peer_scope: &Scope, policy: &dyn Policy) -> Result<Applied> {
        if bundle.to != self.id() {
            return Err(Refusal::WrongPeer { expected: self.id(), got: bundle.to }.into());
        }
        refuse_duplicates(bundle)?;
        let my_scope = self.scope().clone();
        let from = bundle.from;
        let expected_tag = shared_tag(&my_scope, peer_scope);
        self.reader.storage.write(|tx| {
            let (mut missing, mut committed, mut refused) = (Vec::new(), Vec::new(), Vec::new());
            if !tx.bundle_seen(from, &bundle.id)? {
                let mut resolved = Vec::with_capacity(bundle.docs.len());
                for doc in &bundle.docs {
                    match per_document(resolve_address(tx, doc, &my_scope, peer_scope), doc, &mut refused)? {
                        Some(Some(entry)) => resolved.push((entry, doc)),
                        Some(None) => missing.push(doc.target.prefix()),
                        None => {}
                    }
                }
                // The documents other rules read go first (see `Policy::accepted`).
                resolved.sort_by_key(|(entry, _)| !entry.address.kind.read_by_policies());
                for (entry, doc) in resolved {
                    let merged = tx.savepoint(|tx| apply_doc(tx, from, &entry, doc, &bundle.actors, policy));
                    match per_document(merged, doc, &mut refused)? {
                        Some(Merge::Committed(seq)) => committed.push(seq),
                        Some(Merge::Unchanged) | None => {}
                        Some(Merge::MissingHistory) => missing.push(doc.target.prefix()),
                    }
                }
                let current_scope = bundle.scope_tag == expected_tag;
                record_receipt(tx, bundle, current_scope, !missing.is_empty(), !refused.is_empty())?;
            }
            let ack = Ack {
                bundle: bundle.id,
                missing,
                digest: shared_digest(tx, peer_scope)?,
                quiet: false,
                refused: refused
                    .iter()
                    .map(|(doc, why): &([u8; 8], Refusal)| DocRefusal { doc: *doc, reason: truncated(why.to_string()) })
                    .collect(),
            };
            Ok(Applied { ack, committed, refused })
        })
    }
}

/// A refusal of one document becomes an entry of `refused` (the document is skipped);
/// anything else stops the whole apply.
fn per_document<T>(result: Result<T>, doc: &DocChanges, refused: &mut Vec<([u8; 8], Refusal)>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(crate::Error::Refused(why)) if why.is_per_document() => {
            tracing::warn!(reason = %why, "a document of a peer's bundle was refused; the rest applies");
            refused.push((doc.target.prefix(), why));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A refusal's text as sent back to its sender, bounded.
fn truncated(mut reason: String) -> String {
    const MAX: usize = 300;
    if reason.len() > MAX {
        let cut = (0..=MAX).rev().find(|&i| reason.is_char_boundary(i)).unwrap_or(0);
        reason.truncate(cut);
        reason.push('…');
    }
    reason
}

/// The changes of one document that a peer at `base` lacks (`None` if it lacks nothing).
/// When repairing a divergence (`exact`), the document and the changes it builds on are
/// named in full, so that no ambiguous prefix can stand in the way.
fn doc_changes(
    tx: &Tx<'_>,
    entry: &CatalogEntry,
    base: Option<&[ChangeHash]>,
    exact: bool,
    actors: &mut Actors,
) -> Result<Option<DocChanges>> {
    let doc = load(tx, entry.address.kind, Some(entry))?;
    let known: Vec<ChangeHash> =
        base.unwrap_or_default().iter().filter(|h| doc.get_change_by_hash(h).is_some()).copied().collect();
    // A peer without the document still has its genesis: every replica can compute it.
    let (since, target) = match (known.is_empty(), exact) {
        (true, _) => (vec![entry.address.kind.genesis_hash()], DocTarget::New(entry.address.clone())),
        (false, true) => (known, DocTarget::New(entry.address.clone())),
        (false, false) => (known, DocTarget::known(entry.id)),
    };
    let changes = doc.get_changes(&since);
    if changes.is_empty() {
        return Ok(None);
    }
    let held = if exact { HeldDeps::Full } else { HeldDeps::Prefix };
    let changes = thin(&changes, entry.address.kind.genesis_hash(), actors, held)
        .map_err(|reason| corrupt_doc(entry.id, reason))?;
    Ok(Some(DocChanges { target, changes }))
}

fn corrupt_doc(id: DocId, reason: String) -> crate::Error {
    crate::Error::CorruptDocument { id, reason }
}

/// A bundle naming a document twice is malformed.
fn refuse_duplicates(bundle: &Bundle) -> Result<()> {
    let mut seen = BTreeSet::new();
    for doc in &bundle.docs {
        let prefix = doc.target.prefix();
        if !seen.insert(prefix) {
            return Err(Refusal::Malformed(format!("document {} appears twice", hex::encode(prefix))).into());
        }
    }
    Ok(())
}

/// Where an incoming document lives, checked against its id and both scopes.
/// `None` when we do not have it and the sender did not say where it belongs.
fn resolve_address(tx: &Tx<'_>, doc: &DocChanges, mine: &Scope, theirs: &Scope) -> Result<Option<CatalogEntry>> {
    let entry = match &doc.target {
        DocTarget::New(claimed) => tx.catalog_get(claimed.id())?,
        DocTarget::Known(prefix) => tx.catalog_by_prefix(prefix)?,
    };
    let address = match (&entry, &doc.target) {
        (Some(e), _) => e.address.clone(),
        (None, DocTarget::New(claimed)) => claimed.clone(),
        (None, DocTarget::Known(_)) => return Ok(None),
    };
    let id = address.id();
    if !mine.contains(&address.partition) || !theirs.contains(&address.partition) {
        return Err(Refusal::OutOfPartition { doc: id, partition: address.partition.to_string() }.into());
    }
    Ok(Some(entry.unwrap_or_else(|| CatalogEntry {
        id,
        address,
        heads: vec![],
        size: 0,
        change_count: 0,
        chunk_count: 0,
        seq: 0,
        updated_at: 0,
    })))
}

/// What merging one document's changes did.
enum Merge {
    /// New changes were committed, with this local seq.
    Committed(u64),
    /// Nothing new.
    Unchanged,
    /// The changes build on history we do not have: nothing was stored.
    MissingHistory,
}

/// Merges one document's changes.
fn apply_doc(
    tx: &Tx<'_>,
    from: ReplicaId,
    entry: &CatalogEntry,
    incoming: &DocChanges,
    actors: &Actors,
    policy: &dyn Policy,
) -> Result<Merge> {
    let id = entry.id;
    let stored = (entry.seq != 0).then_some(entry);
    let before = load(tx, entry.address.kind, stored)?;
    // Automerge trusts its input and panics on some malformed changes: whatever parses or
    // merges a peer's changes runs guarded, so a hostile peer gets a refusal, not a crashed
    // replica (the forked document is dropped and the transaction rolls back).
    let genesis = entry.address.kind.genesis_hash();
    let changes = match guarded(id, || Ok(thicken(&incoming.changes, genesis, actors, &HeldIn(&before))))? {
        Ok(changes) => changes,
        Err(ThickenError::MissingHistory) => return Ok(Merge::MissingHistory),
        Err(ThickenError::Invalid(reason)) => return Err(Refusal::BadChange { doc: id, reason }.into()),
    };
    let sender_heads = heads_of(&changes);
    let address = &entry.address;
    let merged = guarded(id, || {
        let mut after = before.fork();
        after.apply_changes(changes).map_err(|e| Refusal::BadChange { doc: id, reason: e.to_string() })?;
        if !after.get_missing_deps(&[]).is_empty() {
            return Ok(None);
        }
        let rows = kinds::project(address, &after).map_err(|reason| Refusal::Schema { doc: id, reason })?;
        // Some malformed changes merge without complaint yet cannot be stored and read back
        // (Automerge 0.12 in release builds): prove the stored form reloads before commit.
        let chunk = after.save_after(stored.map_or(&[][..], |e| &e.heads[..]));
        let mut reloaded = before.fork();
        reloaded.load_incremental(&chunk).map_err(|e| Refusal::BadChange { doc: id, reason: e.to_string() })?;
        let (mut stored_heads, mut merged_heads) = (reloaded.get_heads(), after.get_heads());
        stored_heads.sort();
        merged_heads.sort();
        if stored_heads != merged_heads {
            return Err(
                Refusal::BadChange { doc: id, reason: "the merged changes do not survive storage".into() }.into()
            );
        }
        Ok(Some((after, chunk, rows)))
    })?;
    let Some((after, chunk, rows)) = merged else { return Ok(Merge::MissingHistory) };
    policy.validate(from, address, &before, &after).map_err(|reason| Refusal::Rejected {
        doc: id,
        partition: address.partition.clone(),
        reason,
    })?;
    policy.accepted(address, &rows);
    let committed = guarded(id, || commit_doc(tx, address, stored, &after, &chunk, &rows))?;
    let heads = committed.as_ref().map_or(&entry.heads, |c| &c.heads);
    // The sender holds at least the tips of what it sent.
    learn_peer_heads(tx, from, id, &sender_heads, heads)?;
    Ok(committed.map_or(Merge::Unchanged, |c| Merge::Committed(c.seq)))
}

/// Runs `f`, turning a panic inside it (Automerge on hostile input) into a refusal.
fn guarded<T>(doc: DocId, f: impl FnOnce() -> Result<T>) -> Result<T> {
    without_panic(f).unwrap_or_else(|what| {
        tracing::warn!(%doc, %what, "merging a peer's changes panicked; bundle refused");
        Err(Refusal::BadChange { doc, reason: format!("the changes could not be merged: {what}") }.into())
    })
}

/// Most hashes remembered per peer and document; dropping some only under-estimates.
const MAX_BELIEF_HASHES: usize = 16;

/// Adds to what we know `peer` holds of `doc`. Knowledge is a set of hashes the peer has
/// (with their ancestors); once it covers our own heads it collapses to them.
pub(crate) fn learn_peer_heads(
    tx: &Tx<'_>,
    peer: ReplicaId,
    doc: DocId,
    known: &[ChangeHash],
    our_heads: &[ChangeHash],
) -> Result<()> {
    let mut belief: Vec<ChangeHash> = known.to_vec();
    for h in tx.belief_get(peer, doc)?.unwrap_or_default() {
        if !belief.contains(&h) {
            belief.push(h);
        }
    }
    if our_heads.iter().all(|h| belief.contains(h)) {
        belief = our_heads.to_vec();
    }
    belief.truncate(MAX_BELIEF_HASHES);
    belief.sort();
    tx.belief_put(peer, doc, &belief)
}

/// Resolves hash prefixes in the recipient's copy of a document: current heads first (the
/// usual case), then the whole history; an ambiguous prefix resolves to nothing.
struct HeldIn<'a>(&'a Automerge);

impl ResolveHeld for HeldIn<'_> {
    fn resolve(&self, prefix: &[u8; 8]) -> Option<ChangeHash> {
        let heads = self.0.get_heads();
        let mut found = heads.iter().filter(|h| h.0.starts_with(prefix));
        if let (Some(h), None) = (found.next(), found.next()) {
            return Some(*h);
        }
        let all: Vec<ChangeHash> =
            self.0.get_changes(&[]).iter().map(Change::hash).filter(|h| h.0.starts_with(prefix)).collect();
        (all.len() == 1).then(|| all[0])
    }
}

/// The changes of a set that no other change of the set depends on.
fn heads_of(changes: &[Change]) -> Vec<ChangeHash> {
    let deps: BTreeSet<ChangeHash> = changes.iter().flat_map(|c| c.deps().iter().copied()).collect();
    changes.iter().map(Change::hash).filter(|h| !deps.contains(h)).collect()
}

/// Moves the watermark (only for a bundle built for our current shared scope with nothing
/// refused, and never backwards) and remembers the bundle. A refused document keeps the
/// watermark where it was, so the sender offers it again at each session (its rules may
/// accept it by then: a teacher newly given the class), while the documents acknowledged
/// meanwhile are not re-sent, the sender knowing their heads.
fn record_receipt(
    tx: &Tx<'_>,
    bundle: &Bundle,
    current_scope: bool,
    lacking_history: bool,
    refused: bool,
) -> Result<()> {
    let mut peer = tx.peer_get(bundle.from)?;
    if current_scope && !refused {
        let same_tag = peer.scope_tag == Some(bundle.scope_tag);
        peer.received_through = if same_tag { peer.received_through.max(bundle.through) } else { bundle.through };
        peer.scope_tag = Some(bundle.scope_tag);
    }
    if lacking_history {
        // Documents we could not apply are behind the watermark now: start a full
        // reconciliation from the beginning.
        peer.needs_full = true;
        peer.received_through = 0;
    }
    tx.peer_put(bundle.from, &peer)?;
    tx.bundle_record(bundle.from, &bundle.id, now_ms())
}
