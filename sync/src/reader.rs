//! Reading a replica: documents, the catalog and the read models. The store reads through
//! its own connection; pages read through [`Reader`]s of their own, read-only connections
//! whose snapshots never wait for the store's writes (SQLite WAL).

use std::collections::BTreeMap;
use std::path::Path;

use crate::document::{corrupt, load};
use crate::error::{Error, Result};
use crate::ids::{DocId, Partition, ReplicaId, Scope};
use crate::kinds::{self, Cell, DocKind, Table};
use crate::storage::{CatalogEntry, Storage};

/// A connection that reads a replica.
pub struct Reader {
    pub(crate) storage: Storage,
}

impl Reader {
    /// A read-only connection to the replica at `path`, which a [`crate::Store`] opened (and
    /// migrated) first.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self { storage: Storage::open_read_only(path)? })
    }

    /// A reading connection to a replica in PostgreSQL that [`crate::Store::open_postgres`]
    /// opened (and migrated) first.
    pub fn open_postgres(url: &str) -> Result<Self> {
        Ok(Self { storage: Storage::open_read_only_postgres(url)? })
    }

    /// The current state of a document (loads it: for writers and tests, not for pages).
    pub fn get<K: DocKind>(&self, id: DocId) -> Result<Option<K::State>> {
        self.storage.read(|tx| {
            let Some(doc) = stored::<K>(tx, id)? else { return Ok(None) };
            autosurgeon::hydrate(&doc).map(Some).map_err(|e| corrupt(id, e))
        })
    }

    /// A document as it was at a past moment (`until`, Unix seconds), from its own history:
    /// the changes its writers dated up to then, with everything they depend on (a change
    /// after a later-dated one it builds on waits for it). Writers' clocks date changes, so
    /// this is the document as the replicas' clocks said, good for counting at a date
    /// (pupils covered by a convention), not for evidence.
    pub fn get_as_of<K: DocKind>(&self, id: DocId, until: i64) -> Result<Option<K::State>> {
        self.storage.read(|tx| {
            let Some(doc) = stored::<K>(tx, id)? else { return Ok(None) };
            let mut kept = std::collections::HashSet::new();
            let mut past = Vec::new();
            // Causal order: a change's dependencies come before it.
            for change in doc.get_changes(&[]) {
                if change.timestamp() <= until && change.deps().iter().all(|d| kept.contains(d)) {
                    kept.insert(change.hash());
                    past.push(change.clone());
                }
            }
            let mut then = automerge::Automerge::new_with_encoding(kinds::TEXT_ENCODING);
            then.apply_changes(past).map_err(|e| corrupt(id, e))?;
            autosurgeon::hydrate(&then).map(Some).map_err(|e| corrupt(id, e))
        })
    }

    /// One catalog entry.
    pub fn catalog_entry(&self, id: DocId) -> Result<Option<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_get(id))
    }

    /// The whole catalog, in change order.
    pub fn catalog(&self) -> Result<Vec<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_scan(&Scope::all(), 0))
    }

    /// The last local sequence number given to a change (here or a peer's).
    pub fn last_seq(&self) -> Result<u64> {
        self.storage.read(|tx| tx.last_seq())
    }

    /// The entries changed (here or by a peer) after local sequence number `seq`, in change
    /// order, at most `limit` of them.
    pub fn catalog_after(&self, seq: u64, limit: usize) -> Result<Vec<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_scan_limited(&Scope::all(), seq, limit))
    }

    /// Every read-model row, table by table, sorted (for comparing replicas and rebuilds).
    pub fn read_models(&self) -> Result<BTreeMap<&'static str, Vec<Vec<Cell>>>> {
        self.storage.read(|tx| tx.rows_dump())
    }

    /// Every row of one read-model table, fully ordered (small tables such as the directory).
    pub fn rows(&self, table: Table) -> Result<Vec<Vec<Cell>>> {
        self.storage.read(|tx| tx.rows(table))
    }

    /// The rows of one table that some documents (by id) wrote, fully ordered: indexed.
    pub fn rows_of(&self, table: Table, docs: &[String]) -> Result<Vec<Vec<Cell>>> {
        self.storage.read(|tx| tx.rows_of(table, docs))
    }

    /// The files that documents reference, with each one's partition.
    pub fn file_references(&self) -> Result<Vec<(Partition, kinds::Attachment)>> {
        let cells = self.storage.read(|tx| tx.file_references())?;
        Ok(cells
            .into_iter()
            .filter_map(|(partition, cell)| Some((Partition::parse(&partition).ok()?, cell)))
            .flat_map(|(partition, cell)| {
                kinds::attachment::parse_attachments_cell(&cell).into_iter().map(move |a| (partition.clone(), a))
            })
            .collect())
    }

    /// The documents of `scope` that `peer` is not known to hold as they are here: how many,
    /// and their stored bytes (what a school's server has yet to receive from the hub).
    pub fn pending_for(&self, peer: ReplicaId, scope: &Scope) -> Result<(u64, u64)> {
        self.storage.read(|tx| tx.pending_for(peer, scope))
    }

    /// Documents none of `peers` is known to hold as they are here (the sync status: a
    /// teacher's computer counts what neither her school nor the hub holds yet).
    pub fn unsent_documents(&self, peers: &[ReplicaId]) -> Result<u64> {
        self.storage.read(|tx| tx.unsent_documents(peers))
    }
}

/// A stored document of kind `K`, loaded (`None`: none has this id).
fn stored<K: DocKind>(tx: &crate::storage::Tx<'_>, id: DocId) -> Result<Option<automerge::Automerge>> {
    let Some(entry) = tx.catalog_get(id)? else { return Ok(None) };
    if entry.address.kind != K::KIND {
        return Err(Error::WrongKind {
            id,
            expected: K::KIND.as_str(),
            actual: entry.address.kind.as_str().to_owned(),
        });
    }
    load(tx, entry.address.kind, Some(&entry)).map(Some)
}
