//! The replica's store: typed document changes, their storage as chunks and snapshots,
//! the catalog, and the read models kept in step with every change.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ChangeHash};

use crate::document::{corrupt, load};
use crate::error::{Error, Result};
use crate::identity::{ReplicaIdentity, fill_random};
use crate::ids::{DocAddress, DocId, Partition, ReplicaId, Scope};
use crate::kinds::{self, DocKind, Row};
use crate::reader::Reader;
use crate::storage::{Storage, Tx};

pub use crate::storage::{CatalogEntry, ConversationFilter, NewsFilter, NoteFilter, SCHEMA_VERSION};

/// Incremental chunks a document may accumulate before it is compacted into a snapshot.
const COMPACT_AFTER_CHUNKS: u32 = 32;

/// One replica's local store. It is the replica's single writer: every method that
/// changes data takes `&mut self` and runs in one short SQLite transaction.
pub struct Store {
    /// The writer's connection, which reads too (every read method, through `Deref`).
    pub(crate) reader: Reader,
    identity: ReplicaIdentity,
    actor: ActorId,
    scope: Scope,
    pub(crate) bundle_budget: usize,
}

impl std::ops::Deref for Store {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl Store {
    /// Opens the replica at `path`, creating it (and its identity) if the file is new.
    /// `scope` is the set of partitions this replica holds; documents outside it are refused.
    pub fn open(path: &Path, scope: Scope) -> Result<Self> {
        Self::open_with_key(path, scope, None)
    }

    /// Opens the replica at `path` as [`Store::open`] does, its private key being `outside`
    /// the database when given (a laptop's keyring keeps it): a new replica is created
    /// around it, an existing one must be its own.
    pub fn open_with_key(path: &Path, scope: Scope, outside: Option<[u8; 32]>) -> Result<Self> {
        Self::over(Storage::open(path)?, scope, outside)
    }

    /// Opens the replica in a PostgreSQL database (`url`), creating it if the database is
    /// empty: a hub's, shared by its processes (each one this replica, writing in turn).
    pub fn open_postgres(url: &str, scope: Scope) -> Result<Self> {
        Self::over(Storage::open_postgres(url)?, scope, None)
    }

    fn over(mut storage: Storage, scope: Scope, outside: Option<[u8; 32]>) -> Result<Self> {
        let upgraded = storage.upgraded;
        let (identity, open_count) = storage.write(|tx| {
            let identity = match tx.identity(outside.as_ref())? {
                Some(id) => id,
                None => {
                    let id = outside.map_or_else(ReplicaIdentity::generate, ReplicaIdentity::with_secret);
                    tx.create_identity(&id, outside.is_some(), now_ms())?;
                    id
                }
            };
            Ok((identity, tx.bump_open_count()?))
        })?;
        // Actor = replica id + open counter + random bytes: unique per process lifetime, so a
        // restored backup can never reuse an actor with different changes.
        let mut actor = identity.id().0.to_vec();
        actor.extend_from_slice(&open_count.to_be_bytes());
        let mut salt = [0u8; 4];
        fill_random(&mut salt);
        actor.extend_from_slice(&salt);
        let mut store = Self {
            reader: Reader { storage },
            identity,
            actor: ActorId::from(actor),
            scope,
            bundle_budget: crate::replication::protocol::BUNDLE_BUDGET_BYTES,
        };
        if upgraded {
            store.rebuild_read_models()?;
        }
        Ok(store)
    }

    /// Caps the change bytes put in one outgoing bundle (default 24 MiB). Beyond it a bundle
    /// is cut short and the next session carries on: smaller bundles suit slow links.
    pub fn set_bundle_budget(&mut self, bytes: usize) {
        self.bundle_budget = bytes.max(1);
    }

    /// This replica's identity.
    pub fn identity(&self) -> &ReplicaIdentity {
        &self.identity
    }

    /// This replica's id.
    pub fn id(&self) -> ReplicaId {
        self.identity.id()
    }

    /// The partitions this replica holds.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Replaces the partitions this replica holds (a school appliance learns its school at
    /// setup). Documents already held outside the new scope stay until purged.
    pub fn set_scope(&mut self, scope: Scope) {
        self.scope = scope;
    }

    /// Applies a local edit to the document at `address`, creating it if needed.
    ///
    /// `edit` gets the hydrated state; whatever it changes is committed as one Automerge
    /// change together with the catalog and the read models, in one transaction.
    pub fn change<K: DocKind, R>(&mut self, address: &DocAddress, edit: impl FnOnce(&mut K::State) -> R) -> Result<R> {
        self.try_change::<K, R, Error>(address, |state| Ok(edit(state)))
    }

    /// Like [`Store::change`], but `edit` may refuse: then nothing is written.
    pub fn try_change<K: DocKind, R, E: From<Error>>(
        &mut self,
        address: &DocAddress,
        edit: impl FnOnce(&mut K::State) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E> {
        if address.kind != K::KIND {
            return Err(Error::WrongKind {
                id: address.id(),
                expected: K::KIND.as_str(),
                actual: address.kind.as_str().to_owned(),
            }
            .into());
        }
        self.check_scope(&address.partition)?;
        let actor = self.actor.clone();
        let mut refused = None;
        let written = self.reader.storage.write(|tx| {
            let id = address.id();
            let old = tx.catalog_get(id)?;
            if let Some(old) = &old
                && old.address != *address
            {
                return Err(Error::CorruptDocument { id, reason: "catalog address does not match its id".into() });
            }
            let mut doc = load(tx, address.kind, old.as_ref())?.with_actor(actor);
            // Hydrated inside the transaction: autosurgeon's `Text` remembers the heads it was
            // read at and must see the same ones when reconciled, and a transaction's base
            // heads can differ from the document's (they include the actor's last change).
            let outcome = doc.transact_with(
                |_| CommitOptions::default().with_time(now_ms() / 1000),
                |t| {
                    let mut state: K::State = autosurgeon::hydrate(t).map_err(|e| corrupt(id, e))?;
                    let result = match edit(&mut state) {
                        Ok(result) => result,
                        Err(e) => {
                            refused = Some(e);
                            return Err(Error::EditRefused);
                        }
                    };
                    autosurgeon::reconcile(t, &state).map_err(|e| corrupt(id, e))?;
                    Ok(result)
                },
            );
            let result = outcome.map_err(|failure| failure.error)?.result;
            let rows = kinds::project(address, &doc).map_err(|e| corrupt(id, e))?;
            let chunk = doc.save_after(old.as_ref().map_or(&[][..], |e| &e.heads[..]));
            commit_doc(tx, address, old.as_ref(), &doc, &chunk, &rows)?;
            Ok(result)
        });
        match (written, refused) {
            (_, Some(e)) => Err(e),
            (written, None) => written.map_err(E::from),
        }
    }

    /// Rewrites a document as one snapshot, dropping the chunks it supersedes (one transaction).
    pub fn compact(&mut self, id: DocId) -> Result<()> {
        self.reader.storage.write(|tx| {
            let Some(mut entry) = tx.catalog_get(id)? else { return Ok(()) };
            let doc = load(tx, entry.address.kind, Some(&entry))?;
            compact(tx, &doc, &mut entry)?;
            tx.catalog_put(&entry)
        })
    }

    /// Regenerates every read model from the documents, in one transaction.
    pub fn rebuild_read_models(&mut self) -> Result<()> {
        self.reader.storage.write(|tx| {
            tx.rows_clear_all()?;
            for entry in tx.catalog_scan(&Scope::all(), 0)? {
                let doc = load(tx, entry.address.kind, Some(&entry))?;
                let rows = kinds::project(&entry.address, &doc).map_err(|e| corrupt(entry.id, e))?;
                tx.rows_replace(entry.id, entry.address.kind.tables(), &rows)?;
            }
            Ok(())
        })
    }

    /// Writes a consistent copy of the replica to `dest` (a new file), while it keeps running.
    /// A replica restored from it is the same replica, back in time: its peers notice the
    /// divergence at the next sync and send it back what it lost.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.reader.storage.backup_to(dest)
    }

    /// `PRAGMA integrity_check` ("ok" when sound).
    pub fn integrity_check(&self) -> Result<String> {
        self.reader.storage.integrity_check()
    }

    /// Folds the write-ahead log into the database (housekeeping: the log never grows
    /// without bound between two quiet moments).
    pub fn checkpoint(&self) -> Result<()> {
        self.reader.storage.checkpoint()
    }

    pub(crate) fn check_scope(&self, partition: &Partition) -> Result<()> {
        if self.scope.contains(partition) { Ok(()) } else { Err(Error::OutOfScope { partition: partition.clone() }) }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Persists a changed document: `chunk` (its changes since `old`, from `save_after`), the
/// catalog entry (with a fresh local seq) and its read-model `rows`, all in the caller's
/// transaction. Does nothing if the heads did not move.
pub(crate) fn commit_doc(
    tx: &Tx<'_>,
    address: &DocAddress,
    old: Option<&CatalogEntry>,
    doc: &Automerge,
    chunk: &[u8],
    rows: &[Row],
) -> Result<Option<CatalogEntry>> {
    let id = address.id();
    let old_heads: &[ChangeHash] = old.map_or(&[], |e| &e.heads);
    let mut heads = doc.get_heads();
    heads.sort();
    let unchanged = match old {
        Some(_) => heads == old_heads,
        // A document that is still only its genesis is not worth storing.
        None => heads == [address.kind.genesis_hash()],
    };
    if unchanged {
        return Ok(None);
    }
    let new_changes = doc.get_changes(old_heads).len() as u64;
    let mut entry = CatalogEntry {
        id,
        address: address.clone(),
        heads,
        size: old.map_or(0, |e| e.size) + chunk.len() as u64,
        change_count: old.map_or(0, |e| e.change_count) + new_changes,
        chunk_count: old.map_or(0, |e| e.chunk_count) + 1,
        seq: tx.take_seq()?,
        updated_at: now_ms(),
    };
    // The catalog row must exist before chunks reference it.
    tx.catalog_put(&entry)?;
    tx.chunk_append(id, chunk)?;
    if entry.chunk_count >= COMPACT_AFTER_CHUNKS {
        compact(tx, doc, &mut entry)?;
        tx.catalog_put(&entry)?;
    }
    tx.rows_replace(id, address.kind.tables(), rows)?;
    Ok(Some(entry))
}

fn compact(tx: &Tx<'_>, doc: &Automerge, entry: &mut CatalogEntry) -> Result<()> {
    let snapshot = doc.save();
    tx.chunks_compact(entry.id, &snapshot)?;
    entry.size = snapshot.len() as u64;
    entry.chunk_count = 0;
    Ok(())
}
