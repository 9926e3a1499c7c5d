//! The sans-IO sync session: bytes in, bytes out, state in the store.
//!
//! ```text
//! initiator                         responder
//!   Hello  ───────────────────────▶  records scope, builds the initiator's bundle
//!          ◀───────────────────────  Offer (hello + bundle)
//!   applies, acks, builds bundle
//!   AckAndBundle ─────────────────▶  applies, records the ack, compares digests
//!          ◀───────────────────────  Ack
//!   records the ack, compares digests
//! ```
//! Four messages whatever the number of documents. Any lost message simply ends the
//! session: everything committed so far is durable and the next session resumes from the
//! acknowledged state.

use std::collections::{BTreeSet, HashMap};

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

use crate::error::{Refusal, Result};
use crate::ids::{DocId, ReplicaId, Scope};
use crate::replication::bundle::{PeerView, Policy, learn_peer_heads, shared_catalog, shared_digest};
use crate::replication::protocol::{Ack, Bundle, DocRefusal, DocTarget, Hello, Message, PROTOCOL_VERSION};
use crate::store::{Store, now_ms};

/// Counters of one session, for logs, the sync status page and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Messages this side sent.
    pub messages_sent: u32,
    /// Messages this side received.
    pub messages_received: u32,
    /// Bytes this side sent.
    pub bytes_sent: u64,
    /// Bytes this side received.
    pub bytes_received: u64,
    /// Documents in the bundle this side sent.
    pub docs_sent: u32,
    /// Documents in the bundle this side received.
    pub docs_received: u32,
    /// True when both bundles were complete and both sides ended with the same digest.
    pub converged: bool,
    /// True when a hello carried a full catalog (a divergence was being repaired).
    pub full_reconciliation: bool,
    /// Documents of the peer's bundle that this side refused (nothing of them applied).
    pub refused_here: Vec<DocRefusal>,
    /// Documents of this side's bundle that the peer refused.
    pub refused_there: Vec<DocRefusal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Awaiting {
    Offer,
    AckAndBundle,
    Ack,
    Nothing,
}

/// What a session keeps of the bundle it sent, to record the peer's acknowledgement.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Sent {
    /// The bundle's id.
    bundle: [u8; 16],
    /// Whether it was complete.
    complete: bool,
    /// The heads sent for each document: the peer holds at least these after its ack.
    heads: Vec<(DocId, Vec<[u8; 32]>)>,
}

/// One side of a sync session. Between two messages it can be put aside as bytes
/// ([`Session::suspend`]) and taken up again ([`Session::resume`]), by another process of
/// the same replica: a hub's processes answer a session's requests in turn.
#[derive(Serialize, Deserialize)]
pub struct Session {
    id: [u8; 16],
    /// Our last seq when the session began, and the seqs its applies took: together they
    /// tell whether anything else changed our shared documents meanwhile.
    seq_at_start: u64,
    own_seqs: BTreeSet<u64>,
    peer: ReplicaId,
    peer_scope: Option<Scope>,
    awaiting: Awaiting,
    sent: Option<Sent>,
    received_complete: bool,
    stats: SessionStats,
}

impl Session {
    /// Starts a session with `peer`; returns the session and the `Hello` to send.
    pub fn initiate(store: &mut Store, peer: ReplicaId) -> Result<(Self, Vec<u8>)> {
        let mut id = [0u8; 16];
        crate::identity::fill_random(&mut id);
        let mut session = Session::new(store, id, peer, Awaiting::Offer)?;
        let hello = session.hello(store)?;
        session.stats.full_reconciliation = hello.catalog.is_some();
        let bytes = session.send(&Message::Hello(hello));
        Ok((session, bytes))
    }

    /// Answers a peer's `Hello`; returns the session and the `Offer` to send back.
    pub fn accept(store: &mut Store, policy: &dyn Policy, hello: &[u8]) -> Result<(Self, Vec<u8>)> {
        let msg = Message::decode(hello)?;
        let Message::Hello(theirs) = msg else { return Err(Refusal::Unexpected(msg.name()).into()) };
        let mut session = Session::new(store, theirs.session, theirs.from, Awaiting::AckAndBundle)?;
        session.stats.messages_received += 1;
        session.stats.bytes_received += hello.len() as u64;
        session.meet(store, &theirs)?;
        let mine = session.hello(store)?;
        session.stats.full_reconciliation |= mine.catalog.is_some();
        let bundle = session.bundle_for(store, policy, &theirs)?;
        let bytes = session.send(&Message::Offer { hello: mine, bundle });
        Ok((session, bytes))
    }

    /// Handles the peer's next message; returns the reply to send, if any.
    pub fn receive(&mut self, store: &mut Store, policy: &dyn Policy, bytes: &[u8]) -> Result<Option<Vec<u8>>> {
        let msg = Message::decode(bytes)?;
        self.stats.messages_received += 1;
        self.stats.bytes_received += bytes.len() as u64;
        match (self.awaiting, msg) {
            (Awaiting::Offer, Message::Offer { hello, bundle }) => {
                if hello.session != self.id || hello.from != self.peer {
                    return Err(Refusal::WrongPeer { expected: self.peer, got: hello.from }.into());
                }
                self.meet(store, &hello)?;
                let mut ack = self.apply(store, policy, &bundle)?;
                let mine = self.bundle_for(store, policy, &hello)?;
                // The digest the responder will compare once it has our bundle: our state now.
                (ack.digest, ack.quiet) = self.shared_state(store)?;
                self.awaiting = Awaiting::Ack;
                Ok(Some(self.send(&Message::AckAndBundle { ack, bundle: mine })))
            }
            (Awaiting::AckAndBundle, Message::AckAndBundle { ack, bundle }) => {
                let mut reply = self.apply(store, policy, &bundle)?;
                (reply.digest, reply.quiet) = self.shared_state(store)?;
                self.record_ack(store, &ack)?;
                self.awaiting = Awaiting::Nothing;
                Ok(Some(self.send(&Message::Ack(reply))))
            }
            (Awaiting::Ack, Message::Ack(ack)) => {
                self.record_ack(store, &ack)?;
                self.awaiting = Awaiting::Nothing;
                Ok(None)
            }
            (_, msg) => Err(Refusal::Unexpected(msg.name()).into()),
        }
    }

    /// Whether the session has finished (both bundles applied and acknowledged).
    pub fn is_done(&self) -> bool {
        self.awaiting == Awaiting::Nothing
    }

    /// The peer.
    pub fn peer(&self) -> ReplicaId {
        self.peer
    }

    /// Counters so far.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Whether the session is over: it expects no more messages.
    pub fn ended(&self) -> bool {
        self.awaiting == Awaiting::Nothing
    }

    /// The session as bytes, between two messages: its state, what it keeps of the bundle
    /// it sent (ids and heads, not the changes), its counters.
    pub fn suspend(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a session serializes")
    }

    /// A session [`Session::suspend`] put aside (by this process or another of the same
    /// replica: the store holds the rest of its state).
    pub fn resume(bytes: &[u8]) -> Result<Self> {
        postcard::from_bytes(bytes).map_err(|e| Refusal::Malformed(format!("a suspended session: {e}")).into())
    }

    fn new(store: &mut Store, id: [u8; 16], peer: ReplicaId, awaiting: Awaiting) -> Result<Self> {
        Ok(Session {
            id,
            seq_at_start: store.reader.storage.read(|tx| tx.last_seq())?,
            own_seqs: BTreeSet::new(),
            peer,
            peer_scope: None,
            awaiting,
            sent: None,
            received_complete: false,
            stats: SessionStats::default(),
        })
    }

    /// Digest of our shared documents, and whether only this session changed them.
    fn shared_state(&self, store: &mut Store) -> Result<([u8; 32], bool)> {
        let scope = self.peer_scope.clone().unwrap_or_default();
        store.reader.storage.read(|tx| {
            let quiet = tx.catalog_scan(&scope, self.seq_at_start)?.iter().all(|e| self.own_seqs.contains(&e.seq));
            Ok((shared_digest(tx, &scope)?, quiet))
        })
    }

    fn send(&mut self, msg: &Message) -> Vec<u8> {
        let bytes = msg.encode();
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += bytes.len() as u64;
        bytes
    }

    /// Our hello: our scope, our watermark of the peer's changes and, after a divergence,
    /// our full shared catalog.
    fn hello(&self, store: &mut Store) -> Result<Hello> {
        let (from, scope) = (store.id(), store.scope().clone());
        let peer_scope = self.peer_scope.clone();
        let peer = self.peer;
        store.reader.storage.read(|tx| {
            let state = tx.peer_get(peer)?;
            let catalog = match (state.needs_full, peer_scope.or(state.scope)) {
                (true, Some(their_scope)) => Some(shared_catalog(tx, &their_scope)?),
                _ => None,
            };
            Ok(Hello {
                protocol: PROTOCOL_VERSION,
                session: self.id,
                from,
                scope,
                received_through: state.received_through,
                scope_tag: state.scope_tag.unwrap_or_default(),
                catalog,
            })
        })
    }

    /// Takes note of the peer's hello: its protocol and its scope.
    fn meet(&mut self, store: &mut Store, theirs: &Hello) -> Result<()> {
        self.stats.full_reconciliation |= theirs.catalog.is_some();
        if theirs.protocol != PROTOCOL_VERSION {
            return Err(Refusal::Malformed(format!(
                "protocol version {} (we speak {PROTOCOL_VERSION})",
                theirs.protocol
            ))
            .into());
        }
        if theirs.from == store.id() {
            return Err(Refusal::WrongPeer { expected: self.peer, got: theirs.from }.into());
        }
        self.peer_scope = Some(theirs.scope.clone());
        let peer = self.peer;
        store.reader.storage.write(|tx| {
            let mut state = tx.peer_get(peer)?;
            state.scope = Some(theirs.scope.clone());
            tx.peer_put(peer, &state)?;
            if let Some(catalog) = &theirs.catalog {
                // An exact picture of what the peer holds replaces our records of it.
                tx.beliefs_clear(peer)?;
                for (doc, heads) in catalog {
                    let heads: Vec<ChangeHash> = heads.iter().map(|h| ChangeHash(*h)).collect();
                    tx.belief_put(peer, *doc, &heads)?;
                }
            }
            Ok(())
        })
    }

    fn bundle_for(&mut self, store: &mut Store, policy: &dyn Policy, theirs: &Hello) -> Result<Bundle> {
        let catalog = theirs.catalog.as_ref().map(|c| {
            c.iter().map(|(id, heads)| (*id, heads.iter().map(|h| ChangeHash(*h)).collect())).collect::<HashMap<_, _>>()
        });
        let view = PeerView {
            id: self.peer,
            scope: &theirs.scope,
            received_through: theirs.received_through,
            scope_tag: theirs.scope_tag,
            catalog,
        };
        let outgoing = store.build_bundle(&view, policy)?;
        self.stats.docs_sent = outgoing.bundle.docs.len() as u32;
        self.sent = Some(Sent {
            bundle: outgoing.bundle.id,
            complete: outgoing.bundle.complete,
            heads: outgoing
                .sent_heads
                .into_iter()
                .map(|(doc, heads)| (doc, heads.iter().map(|h| h.0).collect()))
                .collect(),
        });
        Ok(outgoing.bundle)
    }

    fn apply(&mut self, store: &mut Store, policy: &dyn Policy, bundle: &Bundle) -> Result<Ack> {
        if bundle.from != self.peer {
            return Err(Refusal::WrongPeer { expected: self.peer, got: bundle.from }.into());
        }
        let scope = self.peer_scope.clone().unwrap_or_default();
        let applied = store.apply_bundle(bundle, &scope, policy)?;
        self.own_seqs.extend(applied.committed);
        self.stats.refused_here.extend(applied.ack.refused.iter().cloned());
        self.stats.docs_received = bundle.docs.len() as u32;
        self.received_complete = bundle.complete;
        Ok(applied.ack)
    }

    /// Records what the peer acknowledged, and compares digests: a mismatch after two
    /// complete bundles means the replicas diverged, and the next session reconciles fully.
    fn record_ack(&mut self, store: &mut Store, ack: &Ack) -> Result<()> {
        let sent = self.sent.take().ok_or(Refusal::Unexpected("Ack without a bundle"))?;
        if ack.bundle != sent.bundle {
            return Err(Refusal::Unexpected("Ack for another bundle").into());
        }
        self.stats.refused_there = ack.refused.clone();
        let both_complete = sent.complete && self.received_complete;
        let (digest, quiet) = self.shared_state(store)?;
        let peer = self.peer;
        self.stats.converged = store.reader.storage.write(|tx| {
            for (doc, heads) in &sent.heads {
                let prefix = DocTarget::known(*doc).prefix();
                if !ack.missing.contains(&prefix) && !ack.refused.iter().any(|r| r.doc == prefix) {
                    let ours = tx.catalog_get(*doc)?.map(|e| e.heads).unwrap_or_default();
                    let heads: Vec<ChangeHash> = heads.iter().map(|h| ChangeHash(*h)).collect();
                    learn_peer_heads(tx, peer, *doc, &heads, &ours)?;
                }
            }
            let mut state = tx.peer_get(peer)?;
            // A refused document differs on purpose: neither converged nor a divergence.
            let refused = !ack.refused.is_empty() || !self.stats.refused_here.is_empty();
            let converged = both_complete && ack.missing.is_empty() && !refused && digest == ack.digest;
            if converged {
                if state.needs_full {
                    tracing::info!(%peer, "replicas agree again after a full reconciliation");
                }
                state.needs_full = false;
            } else if both_complete && quiet && ack.quiet && !refused {
                // Nothing else touched either side: the difference is a real divergence, and
                // our watermark of the peer's changes cannot be trusted either. The full
                // reconciliation starts from the beginning and advances it with exact bundles.
                tracing::warn!(%peer, "shared catalogs differ after sync: next sync compares full catalogs");
                state.needs_full = true;
                state.received_through = 0;
            }
            state.last_sync_at = Some(now_ms());
            tx.peer_put(peer, &state)?;
            Ok(converged)
        })?;
        Ok(())
    }
}

/// Runs a whole session between two stores in memory (tests, benchmarks, local tools).
/// Returns both sides' counters.
pub fn sync_pair(
    initiator: &mut Store,
    responder: &mut Store,
    policy: &dyn Policy,
) -> Result<(SessionStats, SessionStats)> {
    let (mut left, hello) = Session::initiate(initiator, responder.id())?;
    let (mut right, mut msg) = Session::accept(responder, policy, &hello)?;
    loop {
        match left.receive(initiator, policy, &msg)? {
            Some(reply) => msg = reply,
            None => break,
        }
        match right.receive(responder, policy, &msg)? {
            Some(reply) => msg = reply,
            None => break,
        }
    }
    Ok((left.stats, right.stats))
}
