//! The storage boundary: every SQL statement of Préau's replicas lives in this module.
//!
//! Callers get a [`Storage`] (one connection, the replica's single writer) and run closures
//! inside a read or an IMMEDIATE write transaction through [`Tx`], whose methods speak in
//! catalog entries, chunks, rows and peer state, never SQL. A PostgreSQL backend for the
//! hub replaces this module's internals without touching its callers.

mod academy;
mod agenda;
mod catalog;
mod commune;
mod homework;
mod liaison;
mod messaging;
mod news;
mod peers;
pub(crate) mod postgres;
mod rows;
pub mod sql;
mod usage;

use std::path::Path;

use automerge::ChangeHash;
use rusqlite::{Connection, OpenFlags};
use sql::{Begin, Conn, args};

use crate::error::{Error, Result};

pub use catalog::CatalogEntry;
pub use liaison::NoteFilter;
pub use messaging::ConversationFilter;
pub use news::NewsFilter;

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
    include_str!("migrations/0011_read_indexes.sql"),
    include_str!("migrations/0012_away_sync.sql"),
    include_str!("migrations/0013_families_open.sql"),
    include_str!("migrations/0014_holiday_pause.sql"),
    include_str!("migrations/0015_academy.sql"),
    include_str!("migrations/0016_usage.sql"),
    include_str!("migrations/0017_commune_portal.sql"),
    include_str!("migrations/0018_coverage_periods.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The replica's database connection.
pub(crate) struct Storage {
    conn: Conn,
    /// The database was upgraded from an older schema at this open: its read models must
    /// be rebuilt from the documents (they may lack new columns or tables).
    pub upgraded: bool,
}

impl Storage {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::setup(Conn::open_sqlite(path)?)
    }

    /// Opens a read-only connection to a replica that [`Storage::open`] created and migrated.
    /// In WAL mode its read transactions see one consistent snapshot and never wait for the
    /// writer, nor make it wait.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        sql::tune(&conn)?;
        conn.pragma_update(None, "query_only", true)?;
        let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found != SCHEMA_VERSION {
            // Only the writer migrates; a reader of another version would misread the rows.
            return Err(corrupt_meta(&format!("schema version {found} for a reader of version {SCHEMA_VERSION}")));
        }
        Ok(Self { conn: Conn::Lite(conn), upgraded: false })
    }

    fn setup(mut conn: Conn) -> Result<Self> {
        let found = conn.migrate(MIGRATIONS)?;
        Ok(Self { conn, upgraded: found != 0 && found < SCHEMA_VERSION })
    }

    /// Opens (migrating if needed) the replica in a PostgreSQL database (`url`), which may
    /// be empty: a hub's storage past one machine. Several processes may open the same one:
    /// its writes are serialized by the database (`Begin::Write`), its reads never wait.
    pub fn open_postgres(url: &str) -> Result<Self> {
        Self::setup(Conn::Pg(postgres::PgConn::connect(url)?))
    }

    /// A reading connection to a replica in PostgreSQL that [`Storage::open_postgres`]
    /// migrated.
    pub fn open_read_only_postgres(url: &str) -> Result<Self> {
        let conn = Conn::Pg(postgres::PgConn::connect(url)?);
        conn.batch("SET default_transaction_read_only = on")?;
        let found = conn.version()?;
        if found != SCHEMA_VERSION {
            return Err(corrupt_meta(&format!("schema version {found} for a reader of version {SCHEMA_VERSION}")));
        }
        Ok(Self { conn, upgraded: false })
    }

    /// Runs `f` in a write transaction (taken immediately, so it never upgrades mid-way).
    /// Anything `f` wrote is rolled back if it returns an error (or panics).
    pub fn write<R>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<R>) -> Result<R> {
        self.conn.transaction(Begin::Write, |c| f(&Tx(c)))
    }

    /// Runs `f` in a read transaction: one consistent snapshot. Its statements are cached
    /// like every other (pages read often; parsing `BEGIN` each time showed in profiles).
    /// A shared borrow suffices: no write transaction can be open on this connection when a
    /// read starts, since [`Storage::write`] holds the exclusive borrow for its whole length.
    pub fn read<R>(&self, f: impl FnOnce(&Tx<'_>) -> Result<R>) -> Result<R> {
        self.conn.transaction(Begin::Read, |c| f(&Tx(c)))
    }

    /// Writes a consistent copy of the database to `dest` (which must not exist).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest.to_str().ok_or_else(|| corrupt_meta("backup path is not UTF-8"))?;
        self.conn.execute("VACUUM INTO ?1", args![dest])?;
        Ok(())
    }

    /// `PRAGMA integrity_check`, for tests and `preau` diagnostics.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn.query_one("PRAGMA integrity_check", args![], |r| r.get(0))
    }

    /// Folds the write-ahead log into the database and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.checkpoint()
    }
}

/// A transaction. Its methods are the whole vocabulary of the storage layer.
pub(crate) struct Tx<'a>(&'a Conn);

impl Tx<'_> {
    /// Runs `f` inside a savepoint: whatever it wrote is undone if it fails, and the rest of
    /// the transaction goes on.
    pub fn savepoint<R>(&self, f: impl FnOnce(&Self) -> Result<R>) -> Result<R> {
        self.0.batch("SAVEPOINT part")?;
        match f(self) {
            Ok(r) => {
                self.0.batch("RELEASE part")?;
                Ok(r)
            }
            Err(e) => {
                self.0.batch("ROLLBACK TO part; RELEASE part")?;
                Err(e)
            }
        }
    }
}

/// The condition that `column` (a partition) belongs to `school`, and its two arguments:
/// the school's own partition, or any under it (`school/{uai}/...`, the strings between
/// `school/{uai}/` and `school/{uai}0`, since `0` follows `/`). A replica that holds several
/// schools (the hub) answers each school's reads with that school's rows only, whatever
/// ids another school's documents name. Its parameters are `?1` to `?3`: a statement's
/// own `?` come after it in the text (SQLite numbers them from there), or are numbered `?4`
/// and up.
fn within_school(column: &str, school: &crate::ids::Uai) -> (String, [String; 3]) {
    let own = format!("school/{school}");
    (
        format!("({column} = ?1 OR ({column} > ?2 AND {column} < ?3))"),
        [own.clone(), format!("{own}/"), format!("{own}0")],
    )
}

/// `?, ?, ...` for an `IN` list (`NULL` when empty, which matches nothing).
fn placeholders(n: usize) -> String {
    if n == 0 { "NULL".to_owned() } else { vec!["?"; n].join(", ") }
}

/// Heads as stored: sorted 32-byte hashes, concatenated.
pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_savepoint_undoes_only_its_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = Storage::open(&dir.path().join("replica.db")).unwrap();
        storage
            .write(|tx| {
                tx.0.batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")?;
                let refused = tx.savepoint(|tx| {
                    tx.0.execute("INSERT INTO t VALUES (2)", args![])?;
                    Err::<(), _>(Error::EditRefused)
                });
                assert!(matches!(refused, Err(Error::EditRefused)));
                tx.savepoint(|tx| tx.0.execute("INSERT INTO t VALUES (3)", args![]))
            })
            .unwrap();
        let kept: Vec<i64> =
            storage.read(|tx| tx.0.query("SELECT x FROM t ORDER BY x", args![], |r| r.get(0))).unwrap();
        assert_eq!(kept, [1, 3]);
    }

    /// A read-only connection neither waits for a write in progress nor sees half of it: it
    /// reads the last committed snapshot, and its next read sees the commit.
    #[test]
    fn a_reader_reads_the_last_commit_while_the_writer_is_inside_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.db");
        let mut writer = Storage::open(&path).unwrap();
        writer.write(|tx| tx.0.batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('avant');")).unwrap();
        let reader = Storage::open_read_only(&path).unwrap();
        let read = |reader: &Storage| -> String {
            reader.read(|tx| tx.0.query_one("SELECT x FROM t", args![], |r| r.get(0))).unwrap()
        };
        assert_eq!(read(&reader), "avant");

        let (inside, wait_inside) = std::sync::mpsc::channel();
        let (release, wait_release) = std::sync::mpsc::channel::<()>();
        let writing = std::thread::spawn(move || {
            writer
                .write(|tx| {
                    tx.0.execute("UPDATE t SET x = 'après'", args![])?;
                    inside.send(()).unwrap();
                    wait_release.recv().unwrap();
                    Ok(())
                })
                .unwrap();
        });
        wait_inside.recv().unwrap();
        // The writer holds its transaction open until we let it go: this read must not wait.
        assert_eq!(read(&reader), "avant");
        release.send(()).unwrap();
        writing.join().unwrap();
        assert_eq!(read(&reader), "après");
        assert!(reader.read(|tx| tx.0.execute("DELETE FROM t", args![])).is_err(), "a reader cannot write");
    }

    #[test]
    fn a_reader_refuses_a_replica_of_another_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica.db");
        let writer = Storage::open(&path).unwrap();
        let Conn::Lite(conn) = &writer.conn else { unreachable!() };
        conn.pragma_update(None, "user_version", 3).unwrap();
        assert!(Storage::open_read_only(&path).is_err());
    }
}
