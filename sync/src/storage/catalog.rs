//! The replica's identity and counters, the catalog of documents, and their bytes (chunks).

use automerge::ChangeHash;

use super::sql::{Arg, Row, args, args_of};
use super::{Tx, corrupt_meta, decode_heads, encode_heads};
use crate::error::{Error, Result};
use crate::identity::ReplicaIdentity;
use crate::ids::{DocAddress, DocId, DocKey, Partition, ReplicaId, Scope, ScopeRule};
use crate::kinds::Kind;

/// One catalog row: what a replica knows of a document without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The document id.
    pub id: DocId,
    /// Partition, kind and key.
    pub address: DocAddress,
    /// Current heads, sorted.
    pub heads: Vec<ChangeHash>,
    /// Stored bytes (snapshot and incremental chunks).
    pub size: u64,
    /// Number of Automerge changes.
    pub change_count: u64,
    /// Incremental chunks written since the last snapshot.
    pub chunk_count: u32,
    /// Local sequence number of the last change.
    pub seq: u64,
    /// Unix milliseconds of the last change.
    pub updated_at: i64,
}

const CATALOG_SELECT: &str =
    "SELECT doc_id, partition, kind, doc_key, heads, size, change_count, chunk_count, seq, updated_at FROM document";

type RawCatalogRow = (String, String, String, String, Vec<u8>, i64, i64, u32, i64, i64);

fn raw_catalog_row(r: &Row<'_>) -> Result<RawCatalogRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn parse_catalog_row(row: RawCatalogRow) -> Result<CatalogEntry> {
    let (id, partition, kind, key, heads, size, change_count, chunk_count, seq, updated_at) = row;
    let kind = Kind::parse(&kind).ok_or_else(|| corrupt_meta("document kind"))?;
    Ok(CatalogEntry {
        id: id.parse()?,
        address: DocAddress::new(Partition::parse(&partition)?, kind, DocKey::parse(&key)?),
        heads: decode_heads(&heads)?,
        size: size as u64,
        change_count: change_count as u64,
        chunk_count,
        seq: seq as u64,
        updated_at,
    })
}

/// A SQL condition (with its text arguments) matching the partitions of `scope`.
fn scope_filter(scope: &Scope) -> (String, Vec<String>) {
    let mut terms = Vec::new();
    let mut args = Vec::new();
    for rule in scope.rules() {
        match rule {
            ScopeRule::All => terms.push("TRUE".to_owned()),
            ScopeRule::School(uai) => {
                terms.push("(partition = ? OR partition LIKE ?)".to_owned());
                // UAIs are digits and letters: no LIKE wildcard can hide in them.
                args.push(format!("school/{uai}"));
                args.push(format!("school/{uai}/%"));
            }
            ScopeRule::Exact(p) => {
                terms.push("partition = ?".to_owned());
                args.push(p.to_string());
            }
        }
    }
    if terms.is_empty() {
        terms.push("FALSE".to_owned());
    }
    (terms.join(" OR "), args)
}

/// Marks a `replica.secret_key` that holds, after this byte, only the public key: the
/// private one is kept outside the database.
const KEPT_OUTSIDE: u8 = 1;

impl Tx<'_> {
    /// The stored identity, if the replica was created. A key kept outside the database
    /// must be `outside`, and is checked against the public half stored in its place.
    pub fn identity(&self, outside: Option<&[u8; 32]>) -> Result<Option<ReplicaIdentity>> {
        let row: Option<(String, Vec<u8>)> =
            self.0.query_opt("SELECT replica_id, secret_key FROM replica", args![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        row.map(|(id, stored)| {
            let id = id.parse()?;
            match (stored.len(), stored.first(), outside) {
                (32, _, None) => {
                    let secret: [u8; 32] = stored.try_into().map_err(|_| corrupt_meta("secret key length"))?;
                    Ok(ReplicaIdentity::from_parts(id, secret))
                }
                (33, Some(&KEPT_OUTSIDE), Some(secret)) => {
                    let identity = ReplicaIdentity::from_parts(id, *secret);
                    if identity.public_key().as_bytes()[..] != stored[1..] {
                        return Err(Error::KeyOutside("the key given is not this replica's"));
                    }
                    Ok(identity)
                }
                (33, Some(&KEPT_OUTSIDE), None) => Err(Error::KeyOutside("no key given")),
                (32, _, Some(_)) => Err(Error::KeyOutside("this replica keeps its key in its database")),
                _ => Err(corrupt_meta("secret key length")),
            }
        })
        .transpose()
    }

    /// Stores a new replica's identity: its private key, or when `outside` (a laptop's
    /// keyring keeps it) only a marker and the public half, to check the key given later.
    pub fn create_identity(&self, identity: &ReplicaIdentity, outside: bool, now: i64) -> Result<()> {
        let stored = if outside {
            let mut marked = vec![KEPT_OUTSIDE];
            marked.extend_from_slice(identity.public_key().as_bytes());
            marked
        } else {
            identity.secret_bytes().to_vec()
        };
        self.0.execute(
            "INSERT INTO replica (singleton, replica_id, secret_key, next_seq, open_count, created_at)
             VALUES (1, ?1, ?2, 1, 0, ?3)",
            args![identity.id().to_string(), stored, now],
        )?;
        Ok(())
    }

    /// Counts one more opening of the database and returns the new count.
    pub fn bump_open_count(&self) -> Result<u32> {
        self.0.query_one("UPDATE replica SET open_count = open_count + 1 RETURNING open_count", args![], |r| r.get(0))
    }

    /// Takes the next local sequence number.
    pub fn take_seq(&self) -> Result<u64> {
        let next: i64 =
            self.0.query_one("UPDATE replica SET next_seq = next_seq + 1 RETURNING next_seq - 1", args![], |r| {
                r.get(0)
            })?;
        Ok(next as u64)
    }

    /// The highest sequence number taken so far.
    pub fn last_seq(&self) -> Result<u64> {
        let next: i64 = self.0.query_one("SELECT next_seq FROM replica", args![], |r| r.get(0))?;
        Ok(next as u64 - 1)
    }

    /// One catalog entry.
    pub fn catalog_get(&self, id: DocId) -> Result<Option<CatalogEntry>> {
        let row =
            self.0.query_opt(&format!("{CATALOG_SELECT} WHERE doc_id = ?1"), args![id.to_string()], raw_catalog_row)?;
        row.map(parse_catalog_row).transpose()
    }

    /// The one entry whose id starts with `prefix` (`None` if there is none, or several).
    pub fn catalog_by_prefix(&self, prefix: &[u8; 8]) -> Result<Option<CatalogEntry>> {
        // Ids are lower-case hex: every id with this prefix sorts in [prefix, prefix + "g").
        let low = hex::encode(prefix);
        let high = format!("{low}g");
        let rows: Vec<RawCatalogRow> = self.0.query(
            &format!("{CATALOG_SELECT} WHERE doc_id >= ?1 AND doc_id < ?2 LIMIT 2"),
            args![low, high],
            raw_catalog_row,
        )?;
        match <[RawCatalogRow; 1]>::try_from(rows) {
            Ok([row]) => parse_catalog_row(row).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Catalog entries in `scope` whose seq is above `after_seq`, in seq order.
    pub fn catalog_scan(&self, scope: &Scope, after_seq: u64) -> Result<Vec<CatalogEntry>> {
        self.catalog_scan_limited(scope, after_seq, usize::MAX)
    }

    /// As [`Tx::catalog_scan`], the first `limit` entries.
    pub fn catalog_scan_limited(&self, scope: &Scope, after_seq: u64, limit: usize) -> Result<Vec<CatalogEntry>> {
        let (filter, args) = scope_filter(scope);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!("{CATALOG_SELECT} WHERE seq > ? AND ({filter}) ORDER BY seq LIMIT {limit}");
        let after = Arg::Int(after_seq as i64);
        let params: Vec<Arg<'_>> = std::iter::once(after).chain(args.iter().map(|a| Arg::Text(a))).collect();
        let rows = self.0.query(&sql, &args_of(&params), raw_catalog_row)?;
        rows.into_iter().map(parse_catalog_row).collect()
    }

    /// The documents of `scope` that `peer` is not known to hold as they are here: how many,
    /// and their stored bytes (an over-estimate of what a sync would carry).
    pub fn pending_for(&self, peer: ReplicaId, scope: &Scope) -> Result<(u64, u64)> {
        let (filter, args) = scope_filter(scope);
        let sql = format!(
            "SELECT count(*), CAST(coalesce(sum(size), 0) AS INTEGER) FROM document d WHERE ({filter}) AND NOT EXISTS
               (SELECT 1 FROM peer_doc p WHERE p.peer_id = ? AND p.doc_id = d.doc_id AND p.heads = d.heads)"
        );
        let params: Vec<String> = args.into_iter().chain(std::iter::once(peer.to_string())).collect();
        let (docs, bytes): (i64, i64) = self.0.query_one(&sql, &args_of(&params), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((docs as u64, bytes as u64))
    }

    /// Inserts or replaces a catalog entry.
    pub fn catalog_put(&self, e: &CatalogEntry) -> Result<()> {
        self.0.execute(
            "INSERT INTO document (doc_id, partition, kind, doc_key, heads, size, change_count, chunk_count, seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (doc_id) DO UPDATE SET heads = ?5, size = ?6, change_count = ?7, chunk_count = ?8,
                 seq = ?9, updated_at = ?10",
            args![
            e.id.to_string(),
            e.address.partition.to_string(),
            e.address.kind.as_str(),
            e.address.key.as_str(),
            encode_heads(&e.heads),
            e.size as i64,
            e.change_count as i64,
            e.chunk_count,
            e.seq as i64,
            e.updated_at,
            ],
        )?;
        Ok(())
    }

    /// The stored chunks of a document, snapshot first.
    pub fn chunks(&self, id: DocId) -> Result<Vec<Vec<u8>>> {
        self.0.query("SELECT data FROM doc_chunk WHERE doc_id = ?1 ORDER BY chunk_id", args![id.to_string()], |r| {
            r.get(0)
        })
    }

    /// Appends an incremental chunk.
    pub fn chunk_append(&self, id: DocId, data: &[u8]) -> Result<()> {
        self.0.execute(
            "INSERT INTO doc_chunk (doc_id, snapshot, data) VALUES (?1, 0, ?2)",
            args![id.to_string(), data],
        )?;
        Ok(())
    }

    /// Writes a snapshot and deletes every chunk it supersedes, in this one transaction.
    pub fn chunks_compact(&self, id: DocId, snapshot: &[u8]) -> Result<()> {
        let doc = id.to_string();
        let snapshot_id: i64 = self.0.query_one(
            "INSERT INTO doc_chunk (doc_id, snapshot, data) VALUES (?1, 1, ?2) RETURNING chunk_id",
            args![doc, snapshot],
            |r| r.get(0),
        )?;
        self.0.execute("DELETE FROM doc_chunk WHERE doc_id = ?1 AND chunk_id < ?2", args![doc, snapshot_id])?;
        Ok(())
    }
}
