//! The server's own records: what is not replicated but must outlive a request and a
//! restart — enrolments and the rest of `replication::links`, signed-in sessions
//! (`web::session`), throttling (`platform::ratelimit`), replication's nonces and open
//! sessions. On a school's appliance or a teacher's computer, one small SQLite file beside
//! the replica (`links.db`, named when it held links only); on a hub whose replica is in
//! PostgreSQL, the schema `preau_links` of the same database, which every hub process
//! shares: no hub process keeps anything of its own that another would need to answer
//! the next request (ARCHITECTURE.md, « Stateless hub processes »).
//!
//! The same statements for both, through `preau_sync::sql`; every write of several
//! statements in one transaction ([`Records::write`]), which on PostgreSQL is the records'
//! one writer across processes meanwhile.

use std::path::Path;
use std::sync::{Arc, Mutex};

use preau_sync::sql::{Begin, Conn, args};

use super::error::AppError;

/// Numbered migrations, compiled in; version N is `MIGRATIONS[N - 1]` (as the replica's).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_device_owner.sql"),
    include_str!("migrations/0003_away_server.sql"),
    include_str!("migrations/0004_family.sql"),
    include_str!("migrations/0005_family_proof.sql"),
    include_str!("migrations/0006_notify.sql"),
    include_str!("migrations/0007_notify_checks.sql"),
    include_str!("migrations/0008_console_audit.sql"),
    include_str!("migrations/0009_sync_freshness.sql"),
    include_str!("migrations/0010_process_state.sql"),
    include_str!("migrations/0011_session_ended.sql"),
];

/// The schema of the records in a hub's PostgreSQL database.
const PG_SCHEMA: &str = "preau_links";

/// The server's records (cheap to clone: one connection, behind one mutex).
#[derive(Clone)]
pub struct Records {
    conn: Arc<Mutex<Conn>>,
    /// The PostgreSQL database other processes share, if so.
    shared: Option<Arc<str>>,
}

/// A lock [`Records::lock`] gave, held until dropped.
pub struct Lock {
    _held: Held,
}

enum Held {
    /// This process's (the records are its alone).
    Local { _guard: tokio::sync::OwnedMutexGuard<()> },
    /// A PostgreSQL session's advisory lock: its own connection, whose end (this value's
    /// drop, or the process's death) releases it.
    Shared { _conn: Box<Conn> },
}

pub(crate) fn db(e: preau_sync::Error) -> AppError {
    AppError::Internal(format!("links database: {e}"))
}

impl Records {
    /// The records of a server configured so: beside its replica.
    pub fn open(config: &super::config::Config) -> Result<Self, AppError> {
        match &config.database_url {
            Some(url) => Self::open_postgres(url),
            None => Self::open_sqlite(&config.data_dir.join("links.db")),
        }
    }

    /// Opens (or creates) a SQLite file of records.
    pub fn open_sqlite(path: &Path) -> Result<Self, AppError> {
        Self::setup(Conn::open_sqlite(path).map_err(db)?, None)
    }

    /// Opens (creating if needed) the records beside a hub's replica in the PostgreSQL
    /// database `url`.
    pub fn open_postgres(url: &str) -> Result<Self, AppError> {
        Self::setup(Conn::open_postgres(url, PG_SCHEMA).map_err(db)?, Some(url.into()))
    }

    fn setup(mut conn: Conn, shared: Option<Arc<str>>) -> Result<Self, AppError> {
        conn.migrate(MIGRATIONS).map_err(|e| match e {
            preau_sync::Error::SchemaTooNew { found, supported } => AppError::Internal(format!(
                "links database: schema version {found} is newer than this binary's ({supported}); upgrade Préau"
            )),
            e => db(e),
        })?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), shared })
    }

    /// Whether other processes share these records (a hub on PostgreSQL): what one process
    /// keeps in memory may then be out of date at the next request.
    pub fn shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Waits for the lock `name`, held until the returned value drops: a check that spans
    /// several writes (the console's), or a pass that must run once at a time (the
    /// notifications'). Across every process of a hub on PostgreSQL (an advisory lock, on a
    /// connection of its own so that waiting holds up no other statement, released when
    /// that connection ends, the process's death included); within this process otherwise.
    pub async fn lock(&self, name: &'static str) -> Result<Lock, AppError> {
        let held = match &self.shared {
            Some(url) => {
                let (url, key) = (url.clone(), lock_key(name));
                tokio::task::spawn_blocking(move || {
                    let conn = Conn::open_postgres(&url, PG_SCHEMA)?;
                    conn.query_one("SELECT pg_advisory_lock(?1)", args![key], |_| Ok(()))?;
                    Ok(Held::Shared { _conn: Box::new(conn) })
                })
                .await
                .map_err(|e| AppError::Internal(format!("waiting for the lock {name}: {e}")))?
                .map_err(db)?
            }
            None => Held::Local { _guard: local_lock(name).lock_owned().await },
        };
        Ok(Lock { _held: held })
    }

    /// Runs statements: `synchronous=FULL` makes SQLite's writes wait for the disk, and
    /// PostgreSQL's answers come over the network, so never on an async worker (`offload`).
    pub fn with<T>(&self, f: impl FnOnce(&Conn) -> preau_sync::Result<T>) -> Result<T, AppError> {
        super::blocking::offload(|| {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn).map_err(db)
        })
    }

    /// `f` in one write transaction: all of it or nothing, and on PostgreSQL the only
    /// writer of the records across the hub's processes meanwhile (a check and the write it
    /// allows cannot interleave with another process's).
    pub fn write<T>(&self, f: impl FnOnce(&Conn) -> preau_sync::Result<T>) -> Result<T, AppError> {
        self.with(|c| c.transaction(Begin::Write, f))
    }

    /// The server's secret called `name`: `proposed` if none was kept yet (the first hub
    /// process to start keeps its own), else the one kept, so that every process of a hub
    /// signs and checks with one key.
    pub fn secret(&self, name: &str, proposed: [u8; 32]) -> Result<[u8; 32], AppError> {
        let kept: Vec<u8> = self.write(|c| {
            c.execute(
                "INSERT INTO server_secret (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                args![name, proposed],
            )?;
            c.query_one("SELECT value FROM server_secret WHERE name = ?", args![name], |r| r.get(0))
        })?;
        kept.try_into().map_err(|_| AppError::Internal(format!("links database: secret {name} is not 32 bytes")))
    }

    /// Checkpoints SQLite's write-ahead log (housekeeping).
    pub fn checkpoint(&self) -> Result<(), AppError> {
        self.with(Conn::checkpoint)
    }
}

/// The advisory lock's number of a name (the first 8 bytes of its BLAKE3).
fn lock_key(name: &str) -> i64 {
    i64::from_le_bytes(blake3::hash(name.as_bytes()).as_bytes()[..8].try_into().expect("8 bytes"))
}

/// A lock within this process.
type LocalLock = Arc<tokio::sync::Mutex<()>>;

/// This process's lock of a name.
fn local_lock(name: &'static str) -> LocalLock {
    static LOCKS: Mutex<Vec<(&str, LocalLock)>> = Mutex::new(Vec::new());
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, lock)) = locks.iter().find(|(n, _)| *n == name) {
        return lock.clone();
    }
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.push((name, lock.clone()));
    lock
}

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, Records};
    use preau_sync::sql::args;

    #[test]
    fn records_are_numbered_durable_and_refuse_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("links.db");
        let records = Records::open_sqlite(&path).unwrap();
        let key = records.secret("session", [1; 32]).unwrap();
        assert_eq!(key, [1; 32]);
        drop(records);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        // Reopening applies nothing again and keeps what was written: the first key stays.
        let records = Records::open_sqlite(&path).unwrap();
        assert_eq!(records.secret("session", [2; 32]).unwrap(), [1; 32]);
        let synchronous: i64 = records.with(|c| c.query_one("PRAGMA synchronous", args![], |r| r.get(0))).unwrap();
        assert_eq!(synchronous, 2, "synchronous=FULL");
        drop(records);
        conn.pragma_update(None, "user_version", MIGRATIONS.len() as u32 + 1).unwrap();
        assert!(Records::open_sqlite(&path).is_err());
    }
}
