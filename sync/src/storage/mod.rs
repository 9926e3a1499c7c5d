//! The storage boundary: every SQL statement of Préau's replicas lives in this module.
//!
//! Callers get a [`Storage`] (one connection, the replica's single writer) and run closures
//! inside a read or an IMMEDIATE write transaction through [`Tx`], whose methods speak in
//! catalog entries, chunks, rows and peer state, never SQL. A PostgreSQL backend for the
//! hub replaces this module's internals without touching its callers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use automerge::ChangeHash;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::identity::ReplicaIdentity;
use crate::ids::{DocAddress, DocId, DocKey, Partition, ReplicaId, Scope, ScopeRule};
use crate::kinds::agenda::{AgendaEvent, EventRow};
use crate::kinds::conversation::{ConversationRow, MessageRow};
use crate::kinds::homework::{DoneRow, HomeworkItem, parse_attachments_cell};
use crate::kinds::liaison::{NoteRow, SignatureRow};
use crate::kinds::news::NewsRow;
use crate::kinds::{Cell, Kind, Row, Table};

/// Numbered migrations, compiled in; version N is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_directory.sql"),
    include_str!("migrations/0003_homework.sql"),
    include_str!("migrations/0004_liaison.sql"),
    include_str!("migrations/0005_messaging.sql"),
    include_str!("migrations/0006_news.sql"),
    include_str!("migrations/0007_agenda.sql"),
    include_str!("migrations/0008_news_photos.sql"),
    include_str!("migrations/0009_message_files.sql"),
    include_str!("migrations/0010_credential_resets.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How many applied-bundle ids to remember per peer (replays older than that are still
/// harmless: Automerge ignores changes it already has).
const APPLIED_BUNDLES_KEPT: i64 = 256;

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

/// Per-peer replication state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PeerState {
    pub scope: Option<Scope>,
    pub scope_tag: Option<[u8; 16]>,
    pub received_through: u64,
    pub needs_full: bool,
    pub last_sync_at: Option<i64>,
}

/// The replica's database connection.
pub(crate) struct Storage {
    conn: Connection,
    /// The database was upgraded from an older schema at this open: its read models must
    /// be rebuilt from the documents (they may lack new columns or tables).
    pub upgraded: bool,
}

impl Storage {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        restrict_permissions(path);
        Self::setup(conn)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let found = migrate(&mut conn)?;
        Ok(Self { conn, upgraded: found != 0 && found < SCHEMA_VERSION })
    }

    /// Runs `f` in a write transaction (taken immediately, so it never upgrades mid-way).
    /// Anything `f` wrote is rolled back if it returns an error.
    pub fn write<R>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<R>) -> Result<R> {
        let tx = Tx(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?);
        let r = f(&tx)?;
        tx.0.commit()?;
        Ok(r)
    }

    /// Runs `f` in a read transaction: one consistent snapshot.
    pub fn read<R>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<R>) -> Result<R> {
        let tx = Tx(self.conn.transaction_with_behavior(TransactionBehavior::Deferred)?);
        f(&tx)
    }

    /// Writes a consistent copy of the database to `dest` (which must not exist).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_str().ok_or_else(|| corrupt_meta("backup path is not UTF-8"))?;
        self.conn.execute("VACUUM INTO ?1", [dest])?;
        Ok(())
    }

    /// `PRAGMA integrity_check`, for tests and `preau` diagnostics.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Folds the write-ahead log into the database and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // The database holds the replica's secret key and pupils' data.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}

/// Applies the missing migrations; returns the version found.
fn migrate(conn: &mut Connection) -> Result<u32> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew { found, supported: SCHEMA_VERSION });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    Ok(found)
}

/// A transaction. Its methods are the whole vocabulary of the storage layer.
pub(crate) struct Tx<'a>(rusqlite::Transaction<'a>);

impl Tx<'_> {
    /// Runs `f` inside a savepoint: whatever it wrote is undone if it fails, and the rest of
    /// the transaction goes on.
    pub fn savepoint<R>(&self, f: impl FnOnce(&Self) -> Result<R>) -> Result<R> {
        self.0.execute_batch("SAVEPOINT part")?;
        match f(self) {
            Ok(r) => {
                self.0.execute_batch("RELEASE part")?;
                Ok(r)
            }
            Err(e) => {
                self.0.execute_batch("ROLLBACK TO part; RELEASE part")?;
                Err(e)
            }
        }
    }

    // ---- replica identity and counters ----

    /// The stored identity, if the replica was created.
    pub fn identity(&self) -> Result<Option<ReplicaIdentity>> {
        let row: Option<(String, Vec<u8>)> = self
            .0
            .query_row("SELECT replica_id, secret_key FROM replica", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(id, secret)| {
            let secret: [u8; 32] = secret.try_into().map_err(|_| corrupt_meta("secret key length"))?;
            Ok(ReplicaIdentity::from_parts(id.parse()?, secret))
        })
        .transpose()
    }

    /// Stores a new replica's identity.
    pub fn create_identity(&self, identity: &ReplicaIdentity, now: i64) -> Result<()> {
        self.0.execute(
            "INSERT INTO replica (singleton, replica_id, secret_key, next_seq, open_count, created_at)
             VALUES (1, ?1, ?2, 1, 0, ?3)",
            params![identity.id().to_string(), identity.secret_bytes().as_slice(), now],
        )?;
        Ok(())
    }

    /// Counts one more opening of the database and returns the new count.
    pub fn bump_open_count(&self) -> Result<u32> {
        Ok(self.0.query_row("UPDATE replica SET open_count = open_count + 1 RETURNING open_count", [], |r| r.get(0))?)
    }

    /// Takes the next local sequence number.
    pub fn take_seq(&self) -> Result<u64> {
        let next: i64 =
            self.0.query_row("UPDATE replica SET next_seq = next_seq + 1 RETURNING next_seq - 1", [], |r| r.get(0))?;
        Ok(next as u64)
    }

    /// The highest sequence number taken so far.
    pub fn last_seq(&self) -> Result<u64> {
        let next: i64 = self.0.query_row("SELECT next_seq FROM replica", [], |r| r.get(0))?;
        Ok(next as u64 - 1)
    }

    // ---- catalog ----

    /// One catalog entry.
    pub fn catalog_get(&self, id: DocId) -> Result<Option<CatalogEntry>> {
        let mut st = self.0.prepare_cached(&format!("{CATALOG_SELECT} WHERE doc_id = ?1"))?;
        let row = st.query_row([id.to_string()], raw_catalog_row).optional()?;
        row.map(parse_catalog_row).transpose()
    }

    /// The one entry whose id starts with `prefix` (`None` if there is none, or several).
    pub fn catalog_by_prefix(&self, prefix: &[u8; 8]) -> Result<Option<CatalogEntry>> {
        // Ids are lower-case hex: every id with this prefix sorts in [prefix, prefix + "g").
        let low = hex::encode(prefix);
        let high = format!("{low}g");
        let mut st = self.0.prepare_cached(&format!("{CATALOG_SELECT} WHERE doc_id >= ?1 AND doc_id < ?2 LIMIT 2"))?;
        let rows: Vec<RawCatalogRow> = st.query_map([low, high], raw_catalog_row)?.collect::<rusqlite::Result<_>>()?;
        match <[RawCatalogRow; 1]>::try_from(rows) {
            Ok([row]) => parse_catalog_row(row).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Catalog entries in `scope` whose seq is above `after_seq`, in seq order.
    pub fn catalog_scan(&self, scope: &Scope, after_seq: u64) -> Result<Vec<CatalogEntry>> {
        let (filter, args) = scope_filter(scope);
        let sql = format!("{CATALOG_SELECT} WHERE seq > ? AND ({filter}) ORDER BY seq");
        let mut st = self.0.prepare_cached(&sql)?;
        let params = std::iter::once(Value::Integer(after_seq as i64)).chain(args.into_iter().map(Value::Text));
        let rows = st.query_map(rusqlite::params_from_iter(params), raw_catalog_row)?;
        rows.map(|r| r.map_err(Error::from).and_then(parse_catalog_row)).collect()
    }

    /// Inserts or replaces a catalog entry.
    pub fn catalog_put(&self, e: &CatalogEntry) -> Result<()> {
        let mut st = self.0.prepare_cached(
            "INSERT INTO document (doc_id, partition, kind, doc_key, heads, size, change_count, chunk_count, seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (doc_id) DO UPDATE SET heads = ?5, size = ?6, change_count = ?7, chunk_count = ?8,
                 seq = ?9, updated_at = ?10",
        )?;
        st.execute(params![
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
        ])?;
        Ok(())
    }

    // ---- document bytes ----

    /// The stored chunks of a document, snapshot first.
    pub fn chunks(&self, id: DocId) -> Result<Vec<Vec<u8>>> {
        let mut st = self.0.prepare_cached("SELECT data FROM doc_chunk WHERE doc_id = ?1 ORDER BY chunk_id")?;
        let rows = st.query_map([id.to_string()], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Appends an incremental chunk.
    pub fn chunk_append(&self, id: DocId, data: &[u8]) -> Result<()> {
        let mut st = self.0.prepare_cached("INSERT INTO doc_chunk (doc_id, snapshot, data) VALUES (?1, 0, ?2)")?;
        st.execute(params![id.to_string(), data])?;
        Ok(())
    }

    /// Writes a snapshot and deletes every chunk it supersedes, in this one transaction.
    pub fn chunks_compact(&self, id: DocId, snapshot: &[u8]) -> Result<()> {
        let doc = id.to_string();
        self.0.execute("INSERT INTO doc_chunk (doc_id, snapshot, data) VALUES (?1, 1, ?2)", params![doc, snapshot])?;
        let snapshot_id = self.0.last_insert_rowid();
        self.0.execute("DELETE FROM doc_chunk WHERE doc_id = ?1 AND chunk_id < ?2", params![doc, snapshot_id])?;
        Ok(())
    }

    // ---- read models ----

    /// Replaces a document's rows in `tables` with `rows`.
    pub fn rows_replace(&self, id: DocId, tables: &[Table], rows: &[Row]) -> Result<()> {
        let doc = id.to_string();
        for table in tables {
            let mut st = self.0.prepare_cached(&format!("DELETE FROM {} WHERE doc_id = ?1", table.name()))?;
            st.execute([&doc])?;
        }
        for row in rows {
            let cols = row.table.columns();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                row.table.name(),
                cols.join(", "),
                (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
            );
            let mut st = self.0.prepare_cached(&sql)?;
            st.execute(rusqlite::params_from_iter(row.cells.iter().map(SqlCell)))?;
        }
        Ok(())
    }

    /// Empties every read-model table (before a rebuild).
    pub fn rows_clear_all(&self) -> Result<()> {
        for table in Table::ALL {
            self.0.execute(&format!("DELETE FROM {}", table.name()), [])?;
        }
        Ok(())
    }

    /// Every read-model row, table by table, fully ordered: for comparing replicas.
    pub fn rows_dump(&self) -> Result<BTreeMap<&'static str, Vec<Vec<Cell>>>> {
        Table::ALL.into_iter().map(|table| Ok((table.name(), self.rows(table)?))).collect()
    }

    /// Every row of one read-model table, fully ordered.
    pub fn rows(&self, table: Table) -> Result<Vec<Vec<Cell>>> {
        let cols = table.columns();
        let sql = format!("SELECT {0} FROM {1} ORDER BY {0}", cols.join(", "), table.name());
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map([], |r| {
            (0..cols.len())
                .map(|i| match r.get_ref(i)? {
                    ValueRef::Integer(n) => Ok(Cell::Int(n)),
                    ValueRef::Text(t) => Ok(Cell::Text(String::from_utf8_lossy(t).into_owned())),
                    other => Err(rusqlite::Error::InvalidColumnType(i, cols[i].into(), other.data_type())),
                })
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The live (not removed) entries of one class partition whose class day or due date
    /// falls in `[from, to]` (dates `YYYY-MM-DD`), by due date then class day.
    pub fn homework(&self, partition: &Partition, from: &str, to: &str) -> Result<Vec<HomeworkItem>> {
        let mut st = self.0.prepare_cached(
            "SELECT doc_id, entry_id, audience, subject, title, details, lesson, assigned_on, due_on,
                    attachments, author, edited_by, edited_at
             FROM homework_entry
             WHERE partition = ?1 AND removed = 0
               AND (due_on BETWEEN ?2 AND ?3 OR assigned_on BETWEEN ?2 AND ?3)
             ORDER BY due_on, assigned_on, entry_id",
        )?;
        let rows = st.query_map(params![partition.to_string(), from, to], |r| {
            Ok(HomeworkItem {
                doc_id: r.get(0)?,
                entry_id: r.get(1)?,
                audience: r.get(2)?,
                subject: r.get(3)?,
                title: r.get(4)?,
                details: r.get(5)?,
                lesson: r.get(6)?,
                assigned_on: r.get(7)?,
                due_on: r.get(8)?,
                attachments: parse_attachments_cell(&r.get::<_, String>(9)?),
                author: r.get(10)?,
                edited_by: r.get(11)?,
                edited_at: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every tick in one homework book.
    pub fn homework_done(&self, book: DocId) -> Result<Vec<DoneRow>> {
        let mut st = self.0.prepare_cached(
            "SELECT entry_id, pupil, done, done_by, done_at FROM homework_done WHERE doc_id = ?1
             ORDER BY entry_id, pupil",
        )?;
        let rows = st.query_map([book.to_string()], |r| {
            Ok(DoneRow { entry_id: r.get(0)?, pupil: r.get(1)?, done: r.get(2)?, by: r.get(3)?, at: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Liaison notes (not withdrawn), newest first: those of a class partition, or those
    /// for some pupils, or one note by id.
    pub fn liaison_notes(&self, filter: &NoteFilter<'_>) -> Result<Vec<NoteRow>> {
        const COLUMNS: &str = "n.doc_id, n.partition, n.note_id, n.title, n.body, n.ask, n.author, n.posted_at,
                               n.edited_at, n.reminded_at, n.recipients";
        let (sql, args): (String, Vec<String>) = match filter {
            NoteFilter::Class(p) => (
                format!("SELECT {COLUMNS} FROM liaison_note n WHERE n.partition = ?1 AND n.withdrawn = 0"),
                vec![p.to_string()],
            ),
            NoteFilter::Pupils(pupils) => (
                format!(
                    "SELECT DISTINCT {COLUMNS} FROM liaison_note n JOIN liaison_recipient r ON r.doc_id = n.doc_id
                     WHERE n.withdrawn = 0 AND r.pupil IN ({})",
                    placeholders(pupils.len())
                ),
                pupils.to_vec(),
            ),
            NoteFilter::Id(id) => (
                format!("SELECT {COLUMNS} FROM liaison_note n WHERE n.note_id = ?1 AND n.withdrawn = 0"),
                vec![id.to_string()],
            ),
        };
        let mut st = self.0.prepare_cached(&format!("{sql} ORDER BY n.posted_at DESC, n.note_id"))?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(NoteRow {
                doc_id: r.get(0)?,
                partition: r.get(1)?,
                note_id: r.get(2)?,
                title: r.get(3)?,
                body: r.get(4)?,
                ask: r.get(5)?,
                author: r.get(6)?,
                posted_at: r.get(7)?,
                edited_at: r.get(8)?,
                reminded_at: r.get(9)?,
                recipients: r.get::<_, String>(10)?.split(',').filter(|s| !s.is_empty()).map(Into::into).collect(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The signatures of some notes (by document id).
    pub fn liaison_signatures(&self, docs: &[String]) -> Result<Vec<SignatureRow>> {
        let sql = format!(
            "SELECT doc_id, child, guardian, signed_at, reply FROM liaison_signature WHERE doc_id IN ({})
             ORDER BY doc_id, child, guardian",
            placeholders(docs.len())
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(docs), |r| {
            Ok(SignatureRow {
                doc_id: r.get(0)?,
                child: r.get(1)?,
                guardian: r.get(2)?,
                at: r.get(3)?,
                reply: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Conversations, the most recently active first.
    pub fn conversations(&self, filter: &ConversationFilter<'_>) -> Result<Vec<ConversationRow>> {
        let (condition, arg) = match filter {
            ConversationFilter::Participant(user) => {
                ("',' || participants || ',' LIKE '%,' || ?1 || ',%'", user.to_string())
            }
            ConversationFilter::Key(key) => ("conversation_id = ?1", key.to_string()),
            ConversationFilter::Partition(p) => ("partition = ?1", p.to_string()),
        };
        let mut st = self.0.prepare_cached(&format!(
            "SELECT doc_id, partition, conversation_id, subject, participants, about, created_by FROM conversation
             WHERE {condition} ORDER BY last_message_at DESC, doc_id"
        ))?;
        let rows = st.query_map([arg], |r| {
            Ok(ConversationRow {
                doc_id: r.get(0)?,
                partition: r.get(1)?,
                key: r.get(2)?,
                subject: r.get(3)?,
                participants: r.get::<_, String>(4)?.split(',').filter(|s| !s.is_empty()).map(Into::into).collect(),
                about: r.get(5)?,
                created_by: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The messages of some conversations (by document id), oldest first.
    pub fn messages(&self, docs: &[String]) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT doc_id, message_id, author, sent_at, body, status, attachments FROM message WHERE doc_id IN ({})
             ORDER BY sent_at, message_id",
            placeholders(docs.len())
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(docs), |r| {
            Ok(MessageRow {
                doc_id: r.get(0)?,
                message_id: r.get(1)?,
                author: r.get(2)?,
                sent_at: r.get(3)?,
                body: r.get(4)?,
                status: r.get(5)?,
                attachments: parse_attachments_cell(&r.get::<_, String>(6)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delivered messages from others that `user` has not read, in all their conversations.
    pub fn unread_messages(&self, user: &str) -> Result<u64> {
        let mut st = self.0.prepare_cached(
            "SELECT count(*) FROM conversation c
             JOIN message m ON m.doc_id = c.doc_id
             LEFT JOIN read_mark r ON r.doc_id = c.doc_id AND r.user_id = ?1
             WHERE ',' || c.participants || ',' LIKE '%,' || ?1 || ',%'
               AND m.status = 2 AND m.author <> ?1 AND m.sent_at > coalesce(r.read_at, 0)",
        )?;
        Ok(st.query_row([user], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Every attached-file cell with the partition of the document that holds it:
    /// (partition, `attachments_cell` text). Removed entries still count: their files may
    /// come back with an undo, and files are never the larger part of a replica.
    pub fn file_references(&self) -> Result<Vec<(String, String)>> {
        let mut st = self.0.prepare_cached(
            "SELECT partition, attachments FROM homework_entry WHERE attachments <> ''
             UNION ALL
             SELECT c.partition, m.attachments FROM message m JOIN conversation c ON c.doc_id = m.doc_id
               WHERE m.attachments <> ''
             UNION ALL
             SELECT partition, photos FROM news_post WHERE photos <> ''",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One person's read marks in some conversations: (document id, read up to).
    pub fn read_marks(&self, user: &str, docs: &[String]) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT doc_id, read_at FROM read_mark WHERE user_id = ? AND doc_id IN ({})",
            placeholders(docs.len())
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let args = std::iter::once(user.to_owned()).chain(docs.iter().cloned());
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Events (not withdrawn) of some partitions that meet `[from, to]`, by start; or one by
    /// id (`partitions` empty).
    pub fn events(&self, partitions: &[String], from: &str, to: &str, id: Option<&str>) -> Result<Vec<EventRow>> {
        let (condition, mut args): (String, Vec<String>) = match id {
            Some(id) => ("event_id = ?".into(), vec![id.to_owned()]),
            None => (
                format!("partition IN ({}) AND ends_on >= ? AND starts_on <= ?", placeholders(partitions.len())),
                partitions.to_vec(),
            ),
        };
        if id.is_none() {
            args.extend([from.to_owned(), to.to_owned()]);
        }
        let sql = format!(
            "SELECT partition, event_id, title, description, location, starts_on, ends_on, start_time, end_time,
                    category, owner, author, edited_by, edited_at
             FROM agenda_event WHERE withdrawn = 0 AND {condition} ORDER BY starts_on, start_time, event_id"
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(EventRow {
                partition: r.get(0)?,
                event_id: r.get(1)?,
                event: AgendaEvent {
                    title: r.get(2)?,
                    description: r.get(3)?,
                    location: r.get(4)?,
                    starts_on: r.get(5)?,
                    ends_on: r.get(6)?,
                    start_time: r.get(7)?,
                    end_time: r.get(8)?,
                    category: r.get(9)?,
                    owner: r.get(10)?,
                    author: r.get(11)?,
                    edited_by: r.get(12)?,
                    edited_at: r.get(13)?,
                    withdrawn: false,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Posts that are not withdrawn, newest first: those of some partitions, or only the
    /// public ones of a partition, or one by id; at most `limit`.
    pub fn news(&self, filter: &NewsFilter<'_>, limit: usize) -> Result<Vec<NewsRow>> {
        let (condition, args): (String, Vec<String>) = match filter {
            NewsFilter::In(partitions) => {
                (format!("partition IN ({})", placeholders(partitions.len())), partitions.to_vec())
            }
            NewsFilter::Public(p) => ("partition = ? AND public = 1".into(), vec![p.to_string()]),
            NewsFilter::Id(id) => ("post_id = ?".into(), vec![id.to_string()]),
        };
        let sql = format!(
            "SELECT partition, post_id, title, body, author, published_at, public, audience, edited_at, photos FROM news_post
             WHERE withdrawn = 0 AND {condition} ORDER BY published_at DESC, post_id LIMIT {limit}"
        );
        let mut st = self.0.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(NewsRow {
                partition: r.get(0)?,
                post_id: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
                author: r.get(4)?,
                published_at: r.get(5)?,
                public: r.get(6)?,
                audience: r.get(7)?,
                edited_at: r.get(8)?,
                photos: parse_attachments_cell(&r.get::<_, String>(9)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- peers ----

    /// A peer's state (default if never seen).
    pub fn peer_get(&self, peer: ReplicaId) -> Result<PeerState> {
        let mut st = self.0.prepare_cached(
            "SELECT peer_scope, scope_tag, received_through, needs_full, last_sync_at FROM peer WHERE peer_id = ?1",
        )?;
        let row = st
            .query_row([peer.to_string()], |r| {
                Ok((
                    r.get::<_, Option<Vec<u8>>>(0)?,
                    r.get::<_, Option<Vec<u8>>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .optional()?;
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
        let mut st = self.0.prepare_cached(
            "INSERT INTO peer (peer_id, peer_scope, scope_tag, received_through, needs_full, last_sync_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (peer_id) DO UPDATE SET peer_scope = ?2, scope_tag = ?3, received_through = ?4,
                 needs_full = ?5, last_sync_at = ?6",
        )?;
        st.execute(params![
            peer.to_string(),
            scope,
            s.scope_tag.map(|t| t.to_vec()),
            s.received_through as i64,
            s.needs_full,
            s.last_sync_at
        ])?;
        Ok(())
    }

    /// What we believe `peer` holds of `doc`.
    pub fn belief_get(&self, peer: ReplicaId, doc: DocId) -> Result<Option<Vec<ChangeHash>>> {
        let mut st = self.0.prepare_cached("SELECT heads FROM peer_doc WHERE peer_id = ?1 AND doc_id = ?2")?;
        let heads: Option<Vec<u8>> = st.query_row([peer.to_string(), doc.to_string()], |r| r.get(0)).optional()?;
        heads.map(|h| decode_heads(&h)).transpose()
    }

    /// Records what `peer` holds of `doc`.
    pub fn belief_put(&self, peer: ReplicaId, doc: DocId, heads: &[ChangeHash]) -> Result<()> {
        let mut st = self.0.prepare_cached(
            "INSERT INTO peer_doc (peer_id, doc_id, heads) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer_id, doc_id) DO UPDATE SET heads = ?3",
        )?;
        st.execute(params![peer.to_string(), doc.to_string(), encode_heads(heads)])?;
        Ok(())
    }

    /// Documents whose heads differ from what we believe `peer` holds: what waits to go
    /// to it (an over-estimate when the peer holds changes we have not seen yet).
    pub fn unsent_documents(&self, peer: ReplicaId) -> Result<u64> {
        let mut st = self.0.prepare_cached(
            "SELECT count(*) FROM document d LEFT JOIN peer_doc p ON p.doc_id = d.doc_id AND p.peer_id = ?1
             WHERE p.heads IS NULL OR p.heads <> d.heads",
        )?;
        Ok(st.query_row([peer.to_string()], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Forgets everything we believed about `peer`'s documents.
    pub fn beliefs_clear(&self, peer: ReplicaId) -> Result<()> {
        self.0.execute("DELETE FROM peer_doc WHERE peer_id = ?1", [peer.to_string()])?;
        Ok(())
    }

    /// Whether a bundle from `peer` was already applied.
    pub fn bundle_seen(&self, peer: ReplicaId, bundle: &[u8; 16]) -> Result<bool> {
        let mut st = self.0.prepare_cached("SELECT 1 FROM applied_bundle WHERE peer_id = ?1 AND bundle_id = ?2")?;
        Ok(st.exists(params![peer.to_string(), bundle.as_slice()])?)
    }

    /// Remembers an applied bundle (and forgets the oldest beyond a bound).
    pub fn bundle_record(&self, peer: ReplicaId, bundle: &[u8; 16], now: i64) -> Result<()> {
        let p = peer.to_string();
        self.0.execute(
            "INSERT OR IGNORE INTO applied_bundle (peer_id, bundle_id, applied_at) VALUES (?1, ?2, ?3)",
            params![p, bundle.as_slice(), now],
        )?;
        self.0.execute(
            "DELETE FROM applied_bundle WHERE peer_id = ?1 AND bundle_id NOT IN
               (SELECT bundle_id FROM applied_bundle WHERE peer_id = ?1 ORDER BY applied_at DESC LIMIT ?2)",
            params![p, APPLIED_BUNDLES_KEPT],
        )?;
        Ok(())
    }
}

/// Which liaison notes to read.
pub enum NoteFilter<'a> {
    /// A class's notes.
    Class(&'a Partition),
    /// The notes for any of these pupils.
    Pupils(&'a [String]),
    /// One note, by its id.
    Id(&'a str),
}

/// Which news posts to read.
pub enum NewsFilter<'a> {
    /// Those of these partitions.
    In(&'a [String]),
    /// The public ones of a partition.
    Public(&'a Partition),
    /// One, by its id.
    Id(&'a str),
}

/// Which conversations to read.
pub enum ConversationFilter<'a> {
    /// Those someone takes part in.
    Participant(&'a str),
    /// One, by its id.
    Key(&'a str),
    /// Those of a partition (a class's, for its moderators).
    Partition(&'a Partition),
}

/// `?, ?, ...` for an `IN` list (`NULL` when empty, which matches nothing).
fn placeholders(n: usize) -> String {
    if n == 0 { "NULL".to_owned() } else { vec!["?"; n].join(", ") }
}

const CATALOG_SELECT: &str =
    "SELECT doc_id, partition, kind, doc_key, heads, size, change_count, chunk_count, seq, updated_at FROM document";

type RawCatalogRow = (String, String, String, String, Vec<u8>, i64, i64, u32, i64, i64);

fn raw_catalog_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCatalogRow> {
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
            ScopeRule::All => terms.push("1".to_owned()),
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
        terms.push("0".to_owned());
    }
    (terms.join(" OR "), args)
}

/// Heads as stored: sorted 32-byte hashes, concatenated.
pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(corrupt_meta("heads length"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            ChangeHash(h)
        })
        .collect())
}

fn corrupt_meta(what: &str) -> Error {
    Error::CorruptMetadata(what.to_owned())
}

struct SqlCell<'a>(&'a Cell);

impl rusqlite::ToSql for SqlCell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Cell::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Cell::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_savepoint_undoes_only_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = Storage::open(&dir.path().join("replica.db")).unwrap();
        storage
            .write(|tx| {
                tx.0.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")?;
                let refused = tx.savepoint(|tx| {
                    tx.0.execute("INSERT INTO t VALUES (2)", [])?;
                    Err::<(), _>(Error::EditRefused)
                });
                assert!(matches!(refused, Err(Error::EditRefused)));
                tx.savepoint(|tx| Ok(tx.0.execute("INSERT INTO t VALUES (3)", [])?))
            })
            .unwrap();
        let kept: Vec<i64> = storage
            .read(|tx| {
                let mut st = tx.0.prepare("SELECT x FROM t ORDER BY x")?;
                Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(kept, [1, 3]);
    }
}
