//! What a replica knows of its peers: their scope, what they hold, the bundles applied.

use automerge::ChangeHash;

use super::sql::{args, args_of};
use super::{Tx, corrupt_meta, decode_heads, encode_heads};
use crate::error::Result;
use crate::ids::{DocId, ReplicaId, Scope};

/// How many applied-bundle ids to remember per peer (replays older than that are still
/// harmless: Automerge ignores changes it already has).
const APPLIED_BUNDLES_KEPT: i64 = 256;

/// Per-peer replication state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PeerState {
    pub scope: Option<Scope>,
    pub scope_tag: Option<[u8; 16]>,
    pub received_through: u64,
    pub needs_full: bool,
    pub last_sync_at: Option<i64>,
}

impl Tx<'_> {
    /// A peer's state (default if never seen).
    pub fn peer_get(&self, peer: ReplicaId) -> Result<PeerState> {
        let row = self.0.query_opt(
            "SELECT peer_scope, scope_tag, received_through, needs_full, last_sync_at FROM peer WHERE peer_id = ?1",
            args![peer.to_string()],
            |r| {
                Ok((
                    r.get::<Option<Vec<u8>>>(0)?,
                    r.get::<Option<Vec<u8>>>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<bool>(3)?,
                    r.get::<Option<i64>>(4)?,
                ))
            },
        )?;
        let Some((scope, tag, through, needs_full, last_sync_at)) = row else {
            return Ok(PeerState::default());
        };
        Ok(PeerState {
            scope: scope.map(|s| postcard::from_bytes(&s)).transpose().map_err(|_| corrupt_meta("peer scope"))?,
            scope_tag: tag.map(|t| t.try_into()).transpose().map_err(|_| corrupt_meta("peer scope tag"))?,
            received_through: through as u64,
            needs_full,
            last_sync_at,
        })
    }

    /// Stores a peer's state.
    pub fn peer_put(&self, peer: ReplicaId, s: &PeerState) -> Result<()> {
        let scope = s.scope.as_ref().map(postcard::to_allocvec).transpose().map_err(|_| corrupt_meta("peer scope"))?;
        self.0.execute(
            "INSERT INTO peer (peer_id, peer_scope, scope_tag, received_through, needs_full, last_sync_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (peer_id) DO UPDATE SET peer_scope = ?2, scope_tag = ?3, received_through = ?4,
                 needs_full = ?5, last_sync_at = ?6",
            args![
                peer.to_string(),
                scope,
                s.scope_tag.map(|t| t.to_vec()),
                s.received_through as i64,
                s.needs_full,
                s.last_sync_at
            ],
        )?;
        Ok(())
    }

    /// What we believe `peer` holds of `doc`.
    pub fn belief_get(&self, peer: ReplicaId, doc: DocId) -> Result<Option<Vec<ChangeHash>>> {
        let heads: Option<Vec<u8>> = self.0.query_opt(
            "SELECT heads FROM peer_doc WHERE peer_id = ?1 AND doc_id = ?2",
            args![peer.to_string(), doc.to_string()],
            |r| r.get(0),
        )?;
        heads.map(|h| decode_heads(&h)).transpose()
    }

    /// Records what `peer` holds of `doc`.
    pub fn belief_put(&self, peer: ReplicaId, doc: DocId, heads: &[ChangeHash]) -> Result<()> {
        self.0.execute(
            "INSERT INTO peer_doc (peer_id, doc_id, heads) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer_id, doc_id) DO UPDATE SET heads = ?3",
            args![peer.to_string(), doc.to_string(), encode_heads(heads)],
        )?;
        Ok(())
    }

    /// Documents whose heads differ from what we believe each of `peers` holds: what waits
    /// to go to one of them (an over-estimate when a peer holds changes we have not seen yet).
    pub fn unsent_documents(&self, peers: &[ReplicaId]) -> Result<u64> {
        let sql = format!(
            "SELECT count(*) FROM document d WHERE NOT EXISTS (SELECT 1 FROM peer_doc p
               WHERE p.peer_id IN ({}) AND p.doc_id = d.doc_id AND p.heads = d.heads)",
            super::placeholders(peers.len())
        );
        let peers: Vec<String> = peers.iter().map(ToString::to_string).collect();
        Ok(self.0.query_one(&sql, &args_of(&peers), |r| r.get::<i64>(0))? as u64)
    }

    /// Forgets everything we believed about `peer`'s documents.
    pub fn beliefs_clear(&self, peer: ReplicaId) -> Result<()> {
        self.0.execute("DELETE FROM peer_doc WHERE peer_id = ?1", args![peer.to_string()])?;
        Ok(())
    }

    /// Whether a bundle from `peer` was already applied.
    pub fn bundle_seen(&self, peer: ReplicaId, bundle: &[u8; 16]) -> Result<bool> {
        self.0.exists(
            "SELECT 1 FROM applied_bundle WHERE peer_id = ?1 AND bundle_id = ?2",
            args![peer.to_string(), bundle.as_slice()],
        )
    }

    /// Remembers an applied bundle (and forgets the oldest beyond a bound).
    pub fn bundle_record(&self, peer: ReplicaId, bundle: &[u8; 16], now: i64) -> Result<()> {
        let p = peer.to_string();
        self.0.execute(
            "INSERT INTO applied_bundle (peer_id, bundle_id, applied_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![p, bundle.as_slice(), now],
        )?;
        self.0.execute(
            "DELETE FROM applied_bundle WHERE peer_id = ?1 AND bundle_id NOT IN
               (SELECT bundle_id FROM applied_bundle WHERE peer_id = ?1 ORDER BY applied_at DESC LIMIT ?2)",
            args![p, APPLIED_BUNDLES_KEPT],
        )?;
        Ok(())
    }
}
