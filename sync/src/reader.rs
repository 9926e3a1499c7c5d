//! Reading a replica: documents, the catalog and the read models. The store reads through
//! its own connection; pages read through [`Reader`]s of their own, read-only connections
//! whose snapshots never wait for the store's writes (SQLite WAL).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::ids::{DocId, Partition, ReplicaId, Scope};
use crate::kinds::agenda::EventRow;
use crate::kinds::conversation::{ConversationRow, MessageRow};
use crate::kinds::homework::{DoneRow, HomeworkItem};
use crate::kinds::liaison::{NoteRow, SignatureRow};
use crate::kinds::news::NewsRow;
use crate::kinds::{self, Cell, DocKind, Table};
use crate::storage::{CatalogEntry, ConversationFilter, NewsFilter, NoteFilter, Storage};
use crate::store::{corrupt, load};

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

    /// The current state of a document (loads it: for writers and tests, not for pages).
    pub fn get<K: DocKind>(&self, id: DocId) -> Result<Option<K::State>> {
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
    pub fn catalog_entry(&self, id: DocId) -> Result<Option<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_get(id))
    }

    /// The whole catalog, in change order.
    pub fn catalog(&self) -> Result<Vec<CatalogEntry>> {
        self.storage.read(|tx| tx.catalog_scan(&Scope::all(), 0))
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

    /// A class's live homework entries whose class day or due date is in `[from, to]`
    /// (inclusive, `YYYY-MM-DD`): plain indexed SQL.
    pub fn homework(&self, class: &Partition, from: &str, to: &str) -> Result<Vec<HomeworkItem>> {
        self.storage.read(|tx| tx.homework(class, from, to))
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

    /// Documents that have changed since `peer` last acknowledged them (the sync status).
    pub fn unsent_documents(&self, peer: ReplicaId) -> Result<u64> {
        self.storage.read(|tx| tx.unsent_documents(peer))
    }

    /// The ticks in one homework book: every pupil's, or one pupil's.
    pub fn homework_done(&self, book: DocId, pupil: Option<&str>) -> Result<Vec<DoneRow>> {
        self.storage.read(|tx| tx.homework_done(book, pupil))
    }

    /// Liaison notes (not withdrawn), newest first.
    pub fn liaison_notes(&self, filter: &NoteFilter<'_>) -> Result<Vec<NoteRow>> {
        self.storage.read(|tx| tx.liaison_notes(filter))
    }

    /// The signatures of some notes (by document id).
    pub fn liaison_signatures(&self, docs: &[String]) -> Result<Vec<SignatureRow>> {
        self.storage.read(|tx| tx.liaison_signatures(docs))
    }

    /// Conversations, the most recently active first.
    pub fn conversations(&self, filter: &ConversationFilter<'_>) -> Result<Vec<ConversationRow>> {
        self.storage.read(|tx| tx.conversations(filter))
    }

    /// The messages of some conversations, oldest first.
    pub fn messages(&self, docs: &[String]) -> Result<Vec<MessageRow>> {
        self.storage.read(|tx| tx.messages(docs))
    }

    /// Delivered messages from others that `user` has not read (the home page's counter).
    pub fn unread_messages(&self, user: &str) -> Result<u64> {
        self.storage.read(|tx| tx.unread_messages(user))
    }

    /// One person's read marks in some conversations: (document id, read up to).
    pub fn read_marks(&self, user: &str, docs: &[String]) -> Result<Vec<(String, i64)>> {
        self.storage.read(|tx| tx.read_marks(user, docs))
    }

    /// Events (not withdrawn) of some partitions that meet `[from, to]`, by start; or one by
    /// id.
    pub fn events(&self, partitions: &[String], from: &str, to: &str, id: Option<&str>) -> Result<Vec<EventRow>> {
        self.storage.read(|tx| tx.events(partitions, from, to, id))
    }

    /// News posts (not withdrawn), newest first, at most `limit`.
    pub fn news(&self, filter: &NewsFilter<'_>, limit: usize) -> Result<Vec<NewsRow>> {
        self.storage.read(|tx| tx.news(filter, limit))
    }
}
