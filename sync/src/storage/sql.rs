//! The one door to a database: statements with `?N` parameters, values bound from
//! [`Arg`]s and read back through [`Row`]s, over SQLite (every replica) or PostgreSQL (a hub
//! past one machine, `postgres.rs`). Every file of `storage/` speaks through it, and so do
//! the appliance's link records (`links.db`, or their schema beside the hub's replica), so
//! both backends run the same statements: SQLite's text, translated once per statement for
//! PostgreSQL (`postgres::dialect`), and the same numbered migrations ([`Conn::migrate`]).

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::postgres::{self, PgConn};
use crate::error::{Error, Result};

/// A parameter's value.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// What can be bound as a parameter.
pub trait ToArg {
    /// The value bound.
    fn arg(&self) -> Arg<'_>;
}

impl ToArg for i64 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(*self)
    }
}
impl ToArg for u32 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}
impl ToArg for u8 {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}
impl ToArg for bool {
    fn arg(&self) -> Arg<'_> {
        Arg::Int(i64::from(*self))
    }
}
impl ToArg for str {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl ToArg for String {
    fn arg(&self) -> Arg<'_> {
        Arg::Text(self)
    }
}
impl ToArg for [u8] {
    fn arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}
impl ToArg for Vec<u8> {
    fn arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}
impl<const N: usize> ToArg for [u8; N] {
    fn arg(&self) -> Arg<'_> {
        Arg::Blob(self)
    }
}
impl<T: ToArg + ?Sized> ToArg for &T {
    fn arg(&self) -> Arg<'_> {
        (**self).arg()
    }
}
impl<T: ToArg> ToArg for Option<T> {
    fn arg(&self) -> Arg<'_> {
        self.as_ref().map_or(Arg::Null, ToArg::arg)
    }
}
impl ToArg for Arg<'_> {
    fn arg(&self) -> Arg<'_> {
        *self
    }
}

/// `args![a, b]`: a statement's parameters, in order.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(&$a as &dyn $crate::sql::ToArg),*] as &[&dyn $crate::sql::ToArg] };
}
pub use crate::args;

/// The parameters of a list of values.
pub fn args_of<T: ToArg>(values: &[T]) -> Vec<&dyn ToArg> {
    values.iter().map(|v| v as &dyn ToArg).collect()
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Arg::Null => ValueRef::Null,
            Arg::Int(n) => ValueRef::Integer(n),
            Arg::Text(t) => ValueRef::Text(t.as_bytes()),
            Arg::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// What a column's value can be read as. Both backends store integers as 64 bits (flags
/// as 0 or 1), text as text and bytes as bytes.
pub trait FromCell: Sized {
    /// From SQLite's value (`None`: not of this type).
    fn from_lite(v: ValueRef<'_>) -> Option<Self>;
    /// From PostgreSQL's column `i` (`Ok(None)`: SQL `NULL`).
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>>;
}

fn pg<T>(r: std::result::Result<T, tokio_postgres::Error>) -> Result<T> {
    r.map_err(|e| Error::Postgres(e.to_string()))
}

impl FromCell for i64 {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_i64().ok()
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        pg(row.try_get(i))
    }
}
impl FromCell for u32 {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_i64().ok().and_then(|n| u32::try_from(n).ok())
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        i64::from_pg(row, i)?
            .map(|n| u32::try_from(n).map_err(|_| Error::Postgres(format!("column {i}: {n}"))))
            .transpose()
    }
}
impl FromCell for u8 {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_i64().ok().and_then(|n| u8::try_from(n).ok())
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        i64::from_pg(row, i)?
            .map(|n| u8::try_from(n).map_err(|_| Error::Postgres(format!("column {i}: {n}"))))
            .transpose()
    }
}
impl FromCell for bool {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_i64().ok().map(|n| n != 0)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(i64::from_pg(row, i)?.map(|n| n != 0))
    }
}
impl FromCell for String {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_str().ok().map(str::to_owned)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        pg(row.try_get(i))
    }
}
impl FromCell for Vec<u8> {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        v.as_blob().ok().map(<[u8]>::to_vec)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        pg(row.try_get(i))
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_lite(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Null => Some(None),
            v => T::from_lite(v).map(Some),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(Some(T::from_pg(row, i)?))
    }
}

/// One row of a query's answer.
pub enum Row<'r> {
    /// SQLite's.
    #[doc(hidden)]
    Lite(&'r rusqlite::Row<'r>),
    /// PostgreSQL's.
    #[doc(hidden)]
    Pg(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `i` as a `T`.
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T> {
        match self {
            Row::Lite(r) => {
                let v = r.get_ref(i)?;
                T::from_lite(v).ok_or_else(|| {
                    Error::Storage(rusqlite::Error::InvalidColumnType(i, format!("column {i}"), v.data_type()))
                })
            }
            Row::Pg(r) => T::from_pg(r, i)?.ok_or_else(|| Error::Postgres(format!("column {i} is NULL"))),
        }
    }

    /// Column `i` as a read-model cell (an integer or text).
    pub fn cell(&self, i: usize) -> Result<crate::kinds::Cell> {
        use crate::kinds::Cell;
        match self {
            Row::Lite(r) => match r.get_ref(i)? {
                ValueRef::Integer(n) => Ok(Cell::Int(n)),
                ValueRef::Text(t) => Ok(Cell::Text(String::from_utf8_lossy(t).into_owned())),
                other => {
                    Err(Error::Storage(rusqlite::Error::InvalidColumnType(i, format!("column {i}"), other.data_type())))
                }
            },
            Row::Pg(r) if *r.columns()[i].type_() == tokio_postgres::types::Type::INT8 => Ok(Cell::Int(self.get(i)?)),
            Row::Pg(_) => Ok(Cell::Text(self.get(i)?)),
        }
    }
}

/// SQLite's binding of parameters.
fn lite<'a>(args: &'a [&'a dyn ToArg]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(args.iter().map(|a| a.arg()))
}

/// A connection to a database.
#[allow(private_interfaces)]
pub enum Conn {
    /// A SQLite file.
    #[doc(hidden)]
    Lite(Connection),
    /// A PostgreSQL database.
    #[doc(hidden)]
    Pg(PgConn),
}

/// Prepared statements kept per SQLite connection: rusqlite's default (16) is fewer than the
/// statements one page reads with, and a statement prepared anew costs more than its query.
const STATEMENT_CACHE: usize = 128;

/// What every SQLite connection, the writer's and the readers', runs with.
pub(crate) fn tune(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // The query planner's stability guarantee: a cached statement keeps its plan whatever
    // values are bound. Without it, SQLite (3.47 on) looks at bound values (`col = ?`
    // against small integers) while planning, and re-prepares the statement at every new
    // binding: a profile of a pupil's home page under load spent 17 % of its time parsing
    // SQL again. Our queries have one good plan each (the indexes are made for them).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Rolls a transaction back however its closure returns without committing (an error or a
/// panic), so that the connection can begin the next one. A read wrote nothing: ending it
/// releases the snapshot.
pub(crate) struct EndTx<'a>(pub &'a Conn);

impl Drop for EndTx<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.rollback() {
            tracing::error!(error = %e, "ending a transaction");
        }
    }
}

/// How a transaction begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// A consistent snapshot that writes nothing.
    Read,
    /// The replica's one writer (across every process that shares the database).
    Write,
}

impl Conn {
    /// Opens (creating if needed) the SQLite file at `path` for writing: write-ahead log,
    /// and `synchronous = FULL`, since what it holds (a replica, enrolments, revocations)
    /// a power cut must not take back. Readable and writable by its owner only.
    pub fn open_sqlite(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        restrict_permissions(path);
        tune(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Conn::Lite(conn))
    }

    /// Connects to the PostgreSQL database `url` (whose text must compare byte by byte),
    /// for the tables of `schema` (created if needed; the replica's own are in the default
    /// one), whose writers take their own lock.
    pub fn open_postgres(url: &str, schema: &str) -> Result<Self> {
        Ok(Conn::Pg(PgConn::connect_in(url, schema)?))
    }

    /// Applies the missing `migrations` (version N is `migrations[N - 1]`, written in
    /// SQLite's dialect), each in its transaction; refuses a database of a newer version.
    /// On PostgreSQL, under the writers' lock, so that two processes starting together
    /// migrate once. Returns the version found.
    pub fn migrate(&mut self, migrations: &[&str]) -> Result<u32> {
        let supported = migrations.len() as u32;
        match self {
            Conn::Lite(conn) => {
                let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
                if found > supported {
                    return Err(Error::SchemaTooNew { found, supported });
                }
                for (i, sql) in migrations.iter().enumerate().skip(found as usize) {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    tx.execute_batch(sql)?;
                    tx.pragma_update(None, "user_version", i as u32 + 1)?;
                    tx.commit()?;
                    tracing::info!(version = i + 1, "applied schema migration");
                }
                Ok(found)
            }
            Conn::Pg(_) => {
                self.transaction(Begin::Write, |c| {
                    c.batch(
                        "CREATE TABLE IF NOT EXISTS preau_schema \
                         (singleton BIGINT PRIMARY KEY CHECK (singleton = 1), version BIGINT NOT NULL)",
                    )
                })?;
                let found = self.version()?;
                if found > supported {
                    return Err(Error::SchemaTooNew { found, supported });
                }
                for (i, sql) in migrations.iter().enumerate().skip(found as usize) {
                    self.transaction(Begin::Write, |c| {
                        // Another process may have migrated while this one waited for the lock.
                        if c.version()? > i as u32 {
                            return Ok(());
                        }
                        c.batch(&postgres::ddl(sql))?;
                        c.execute(
                            "INSERT INTO preau_schema (singleton, version) VALUES (1, ?1) \
                             ON CONFLICT (singleton) DO UPDATE SET version = ?1",
                            args![i as i64 + 1],
                        )
                        .map(drop)
                    })?;
                    tracing::info!(version = i + 1, "applied schema migration (PostgreSQL)");
                }
                Ok(found)
            }
        }
    }

    /// The schema version of the database (0 for an empty one).
    pub fn version(&self) -> Result<u32> {
        match self {
            Conn::Lite(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
            Conn::Pg(_) => Ok(self
                .query_opt("SELECT version FROM preau_schema", args![], |r| r.get::<u32>(0))
                .or_else(|e| match &e {
                    // Not created yet: an empty database.
                    Error::Postgres(m) if m.starts_with("42P01") => Ok(None),
                    _ => Err(e),
                })?
                .unwrap_or(0)),
        }
    }

    /// Runs `f` in a transaction: a read sees one consistent snapshot and writes nothing; a
    /// write is the database's one writer (across processes) and commits if `f` succeeds.
    /// Whatever `f` wrote is rolled back if it fails (or panics).
    pub fn transaction<R>(&self, how: Begin, f: impl FnOnce(&Conn) -> Result<R>) -> Result<R> {
        self.begin(how)?;
        let end = EndTx(self);
        let r = f(self)?;
        if how == Begin::Write {
            self.commit()?;
            std::mem::forget(end);
        }
        Ok(r)
    }

    /// Folds SQLite's write-ahead log into the database and truncates it (housekeeping;
    /// PostgreSQL does its own).
    pub fn checkpoint(&self) -> Result<()> {
        match self {
            Conn::Lite(_) => self.query_one("PRAGMA wal_checkpoint(TRUNCATE)", args![], |_| Ok(())),
            Conn::Pg(_) => Ok(()),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<usize> {
        match self {
            Conn::Lite(c) => Ok(c.prepare_cached(sql)?.execute(lite(args))?),
            Conn::Pg(c) => c.execute(sql, args),
        }
    }

    /// Every row of a query, each through `f`.
    pub fn query<T>(&self, sql: &str, args: &[&dyn ToArg], mut f: impl FnMut(&Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        match self {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(lite(args))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Lite(r))?);
                }
                Ok(out)
            }
            Conn::Pg(c) => c.query(sql, args)?.iter().map(|r| f(&Row::Pg(r))).collect(),
        }
    }

    /// The first row of a query through `f`, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        args: &[&dyn ToArg],
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(lite(args))?;
                match rows.next()? {
                    Some(r) => f(&Row::Lite(r)).map(Some),
                    None => Ok(None),
                }
            }
            Conn::Pg(c) => c.query(sql, args)?.first().map(|r| f(&Row::Pg(r))).transpose(),
        }
    }

    /// The first row of a query through `f`; a query that returns none is a bug here.
    pub fn query_one<T>(&self, sql: &str, args: &[&dyn ToArg], f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.query_opt(sql, args, f)?.ok_or_else(|| Error::CorruptMetadata(format!("no row: {sql}")))
    }

    /// Whether a query returns a row.
    pub fn exists(&self, sql: &str, args: &[&dyn ToArg]) -> Result<bool> {
        Ok(self.query_opt(sql, args, |_| Ok(()))?.is_some())
    }

    /// Runs statements with no parameters and no answer (savepoints, tests).
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.batch(sql),
        }
    }

    /// Begins a transaction.
    pub fn begin(&self, how: Begin) -> Result<()> {
        match (self, how) {
            (Conn::Lite(_), Begin::Read) => self.execute("BEGIN DEFERRED", args![]).map(drop),
            (Conn::Lite(_), Begin::Write) => self.execute("BEGIN IMMEDIATE", args![]).map(drop),
            (Conn::Pg(c), how) => c.begin(how),
        }
    }

    /// Commits the transaction.
    pub fn commit(&self) -> Result<()> {
        self.execute("COMMIT", args![]).map(drop)
    }

    /// Rolls the transaction back.
    pub fn rollback(&self) -> Result<()> {
        self.execute("ROLLBACK", args![]).map(drop)
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // A replica holds its secret key and pupils' data; the link records, enrolments.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(not(unix))]
fn restrict_permissions(_: &Path) {}
