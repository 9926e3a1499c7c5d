//! The replica's store: typed document changes, their storage as chunks and snapshots,
//! the catalog, and the read models kept in step with every change.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ChangeHash};

use crate::error::{Error, Result, without_panic};
use crate::identity::{ReplicaIdentity, fill_random};
use crate::ids::{DocAddress, DocId, Partition, ReplicaId, Scope};
use crate::kinds::agenda::EventRow;
use crate::kinds::conversation::{ConversationRow, MessageRow};
use crate::kinds::homework::{DoneRow, HomeworkItem};
use crate::kinds::liaison::{NoteRow, SignatureRow};
use crate::kinds::news::NewsRow;
use crate::kinds::{self, Cell, DocKind, Kind, Row, Table};
use crate::replication::thin::only_document_and_change_chunks;
use crate::storage::{Storage, Tx};

pub use crate::storage::{CatalogEntry, ConversationFilter, NewsFilter, NoteFilter, SCHEMA_VERSION};

/// Incremental chunks a document may accumulate before it is compacted into a snapshot.
const COMPACT_AFTER_CHUNKS: u32 = 32;

/// One replica's local store. It is the replica's single writer: every method that
/// changes data takes `&mut self` and runs in one short SQLite transaction.
pub struct Store {
    pub(crate) storage: Storage,
    identity: ReplicaIdentity,
    actor: ActorId,
    scope: Scope,
    pub(crate) bundle_budget: usize,
}

impl Store {
    /// Opens the replica at `path`, creating it (and its identity) if the file is new.
    /// `scope` is the set of partitions this replica holds; documents outside it are refused.
    pub fn open(path: &Path, scope: Scope) -> Result<Self> {
        let mut storage = Storage::open(path)?;
        let upgraded = storage.upgraded;
        let (identity, open_count) = storage.write(|tx| {
            let identity = match tx.identity()? {
                Some(id) => id,
                None => {
                    let id = ReplicaIdentity::generate();
                    tx.create_identity(&id, now_ms())?;
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
            storage,
            identity,
            actor: ActorId::from(actor),
            scope,
            bundle_budget: crate::replication::bundle::BUNDLE_BUDGET_BYTES,
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
        let written = self.storage.write(|tx| {
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

    /// The current state of a document (loads it: for writers and tests, not for pages).
    pub fn get<K: DocKind>(&mut self, id: DocId) -> Result<Option<K::State>> {
        self.storage.read(|tx| {
            let Some(entry) = tx.catalog_get(id)? else { return Ok(None) };
            if entry.address.kind != K::KIND {
                return Err(Error::WrongKind {
                    id,
                    expected: K::KIND.as_str(),
                    actual: entry.address.kind.as_str().to_owned(),
                });
            }
            let doc = load(tx, entry.address.kind, Some(&entry))?;
            autosurgeon::hydrate(&doc).map(Some).map_err(|e| corrupt(id, e))
        })
    }

    /// One catalog entry.
    pub fn catalog_entry(&mut self, id: DocId) -> Result<Option<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_get(id))
    }

    /// The whole catalog, in change order.
    pub fn catalog(&mut self) -> Result<Vec<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_scan(&Scope::all(), 0))
    }

    /// Rewrites a document as one snapshot, dropping the chunks it supersedes (one transaction).
    pub fn compact(&mut self, id: DocId) -> Result<()> {
        self.storage.write(|tx| {
            let Some(mut entry) = tx.catalog_get(id)? else { return Ok(()) };
            let doc = load(tx, entry.address.kind, Some(&entry))?;
            compact(tx, &doc, &mut entry)?;
            tx.catalog_put(&entry)
        })
    }

    /// Regenerates every read model from the documents, in one transaction.
    pub fn rebuild_read_models(&mut self) -> Result<()> {
        self.storage.write(|tx| {
            tx.rows_clear_all()?;
            for entry in tx.catalog_scan(&Scope::all(), 0)? {
                let doc = load(tx, entry.address.kind, Some(&entry))?;
                let rows = kinds::project(&entry.address, &doc).map_err(|e| corrupt(entry.id, e))?;
                tx.rows_replace(entry.id, entry.address.kind.tables(), &rows)?;
            }
            Ok(())
        })
    }

    /// Every read-model row, table by table, sorted (for comparing replicas and rebuilds).
    pub fn read_models(&mut self) -> Result<BTreeMap<&'static str, Vec<Vec<Cell>>>> {
        self.storage.read(|tx| tx.rows_dump())
    }

    /// Every row of one read-model table, fully ordered (small tables such as the directory).
    pub fn rows(&mut self, table: Table) -> Result<Vec<Vec<Cell>>> {
        self.storage.read(|tx| tx.rows(table))
    }

    /// A class's live homework entries whose class day or due date is in `[from, to]`
    /// (inclusive, `YYYY-MM-DD`): plain indexed SQL.
    pub fn homework(&mut self, class: &Partition, from: &str, to: &str) -> Result<Vec<HomeworkItem>> {
        self.storage.read(|tx| tx.homework(class, from, to))
    }

    /// The files that documents reference, with each one's partition.
    pub fn file_references(&mut self) -> Result<Vec<(Partition, kinds::homework::Attachment)>> {
        let cells = self.storage.read(|tx| tx.file_references())?;
        Ok(cells
            .into_iter()
            .filter_map(|(partition, cell)| Some((Partition::parse(&partition).ok()?, cell)))
            .flat_map(|(partition, cell)| {
                kinds::homework::parse_attachments_cell(&cell).into_iter().map(move |a| (partition.clone(), a))
            })
            .collect())
    }

    /// Documents that have changed since `peer` last acknowledged them (the sync status).
    pub fn unsent_documents(&mut self, peer: ReplicaId) -> Result<u64> {
        self.storage.read(|tx| tx.unsent_documents(peer))
    }

    /// Every pupil's ticks in one homework book.
    pub fn homework_done(&mut self, book: DocId) -> Result<Vec<DoneRow>> {
        self.storage.read(|tx| tx.homework_done(book))
    }

    /// Liaison notes (not withdrawn), newest first.
    pub fn liaison_notes(&mut self, filter: &NoteFilter<'_>) -> Result<Vec<NoteRow>> {
        self.storage.read(|tx| tx.liaison_notes(filter))
    }

    /// The signatures of some notes (by document id).
    pub fn liaison_signatures(&mut self, docs: &[String]) -> Result<Vec<SignatureRow>> {
        self.storage.read(|tx| tx.liaison_signatures(docs))
    }

    /// Conversations, the most recently active first.
    pub fn conversations(&mut self, filter: &ConversationFilter<'_>) -> Result<Vec<ConversationRow>> {
        self.storage.read(|tx| tx.conversations(filter))
    }

    /// The messages of some conversations, oldest first.
    pub fn messages(&mut self, docs: &[String]) -> Result<Vec<MessageRow>> {
        self.storage.read(|tx| tx.messages(docs))
    }

    /// Delivered messages from others that `user` has not read (the home page's counter).
    pub fn unread_messages(&mut self, user: &str) -> Result<u64> {
        self.storage.read(|tx| tx.unread_messages(user))
    }

    /// One person's read marks in some conversations: (document id, read up to).
    pub fn read_marks(&mut self, user: &str, docs: &[String]) -> Result<Vec<(String, i64)>> {
        self.storage.read(|tx| tx.read_marks(user, docs))
    }

    /// Events (not withdrawn) of some partitions that meet `[from, to]`, by start; or one by
    /// id.
    pub fn events(&mut self, partitions: &[String], from: &str, to: &str, id: Option<&str>) -> Result<Vec<EventRow>> {
        self.storage.read(|tx| tx.events(partitions, from, to, id))
    }

    /// News posts (not withdrawn), newest first, at most `limit`.
    pub fn news(&mut self, filter: &NewsFilter<'_>, limit: usize) -> Result<Vec<NewsRow>> {
        self.storage.read(|tx| tx.news(filter, limit))
    }

    /// Writes a consistent copy of the replica to `dest` (a new file), while it keeps running.
    /// A replica restored from it is the same replica, back in time: its peers notice the
    /// divergence at the next sync and send it back what it lost.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.storage.backup_to(dest)
    }

    /// `PRAGMA integrity_check` ("ok" when sound).
    pub fn integrity_check(&self) -> Result<String> {
        self.storage.integrity_check()
    }

    /// Folds the write-ahead log into the database (housekeeping: the log never grows
    /// without bound between two quiet moments).
    pub fn checkpoint(&self) -> Result<()> {
        self.storage.checkpoint()
    }

    pub(crate) fn check_scope(&self, partition: &Partition) -> Result<()> {
        if self.scope.contains(partition) { Ok(()) } else { Err(Error::OutOfScope { partition: partition.clone() }) }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn corrupt(id: DocId, e: impl ToString) -> Error {
    Error::CorruptDocument { id, reason: e.to_string() }
}

/// Loads a stored document from its chunks, or a document of `kind` not stored yet (its
/// genesis).
pub(crate) fn load(tx: &Tx<'_>, kind: Kind, stored: Option<&CatalogEntry>) -> Result<Automerge> {
    let Some(entry) = stored else { return Ok(kind.genesis()) };
    load_document(&tx.chunks(entry.id)?.concat()).map_err(|e| corrupt(entry.id, e))
}

/// Parses stored document bytes, refusing (never panicking on) anything a store does not
/// write: the database or a backup may have been damaged or tampered with.
pub fn load_document(bytes: &[u8]) -> std::result::Result<Automerge, String> {
    only_document_and_change_chunks(bytes)?;
    let options = automerge::LoadOptions::default().text_encoding(kinds::TEXT_ENCODING);
    without_panic(|| Automerge::load_with_options(bytes, options))?.map_err(|e| e.to_string())
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
