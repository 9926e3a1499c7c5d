//! PostgreSQL behind the same storage boundary as SQLite, for a hub that outgrows one
//! machine: the same statements (SQLite's text, translated once per statement by
//! [`dialect`]), the same migrations (their DDL translated by [`ddl`]), the same types
//! (integers as `BIGINT`, bytes as `BYTEA`, text compared byte by byte: the database must
//! use the `C` collation, which [`PgConn::connect`] checks).
//!
//! The client is `tokio-postgres`. Its connections run on a thread of their own (one small
//! runtime for every connection of the process); a statement is sent from the caller's
//! thread and its answer awaited there with a plain executor, so the storage layer stays
//! synchronous and can be called from anywhere, an async worker of the server included, as
//! SQLite can.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::sql::{Arg, Begin, ToArg};
use crate::error::{Error, Result};

/// The key of the advisory lock every writer of the replica takes for its transaction: a
/// replica has one writer, whichever hub process it runs in. The tables of another schema
/// (the hub's link records) have their own writer, whose key is drawn from the schema's name.
const WRITER_LOCK: i64 = 0x7072_6561_7577;

fn pg_err(e: tokio_postgres::Error) -> Error {
    Error::Postgres(match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    })
}

/// The runtime that drives every connection's socket.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("preau-postgres")
            .enable_all()
            .build()
            .expect("a runtime for the PostgreSQL connections")
    })
}

/// Waits for `f` on this thread (a future of the client, whose connection the runtime
/// drives): never inside the runtime, so callable from any thread.
fn wait<T>(f: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>) -> Result<T> {
    futures_executor::block_on(f).map_err(pg_err)
}

/// One connection, and the statements it prepared.
pub(crate) struct PgConn {
    client: tokio_postgres::Client,
    prepared: RefCell<HashMap<String, tokio_postgres::Statement>>,
    /// The advisory lock of this connection's writers.
    writer_lock: i64,
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(n) if *ty == Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
            Arg::Int(n) if *ty == Type::BOOL => (n != 0).to_sql(ty, out),
            Arg::Int(n) => n.to_sql(ty, out),
            Arg::Text(t) => t.to_sql(ty, out),
            Arg::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl PgConn {
    /// Connects to `url` (`postgres://user@host:port/database` or `host=… dbname=…`), and
    /// refuses a database whose text does not compare byte by byte.
    pub fn connect(url: &str) -> Result<Self> {
        Self::connect_checked(url, WRITER_LOCK)
    }

    /// Connects to `url` for the tables of `schema` (created if needed), which have their
    /// own writer: the hub's link records beside its replica.
    pub fn connect_in(url: &str, schema: &str) -> Result<Self> {
        if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(Error::Postgres(format!("schema name {schema:?}")));
        }
        let lock = i64::from_le_bytes(blake3::hash(schema.as_bytes()).as_bytes()[..8].try_into().expect("8 bytes"));
        let conn = Self::connect_checked(url, lock)?;
        // Created if missing (asked first: `CREATE SCHEMA IF NOT EXISTS` needs the right to
        // create even when the schema is there), under the schema's lock until committed, so
        // that two processes starting together create it once.
        let exists = !conn.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])?.is_empty();
        if !exists {
            conn.batch(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({lock}); CREATE SCHEMA IF NOT EXISTS {schema}; COMMIT"
            ))?;
        }
        conn.batch(&format!("SET search_path TO {schema}"))?;
        Ok(conn)
    }

    fn connect_checked(url: &str, writer_lock: i64) -> Result<Self> {
        let mut conn = Self::connect_unchecked(url)?;
        conn.writer_lock = writer_lock;
        let collation: String = conn
            .query("SELECT datcollate FROM pg_database WHERE datname = current_database()", &[])?
            .first()
            .map(|r| r.get(0))
            .unwrap_or_default();
        if !matches!(collation.as_str(), "C" | "POSIX" | "C.UTF-8" | "C.utf8") {
            return Err(Error::Postgres(format!(
                "the database's collation is {collation:?}: create it with LC_COLLATE 'C' (TEMPLATE template0), so \
                 that text compares byte by byte as the replica's partitions and keys need"
            )));
        }
        Ok(conn)
    }

    fn connect_unchecked(url: &str) -> Result<Self> {
        let url = url.to_owned();
        let (client, connection) = futures_executor::block_on(
            runtime().spawn(async move { tokio_postgres::connect(&url, tokio_postgres::NoTls).await }),
        )
        .map_err(|e| Error::Postgres(e.to_string()))?
        .map_err(pg_err)?;
        runtime().spawn(async move {
            if let Err(e) = connection.await {
                tracing::error!(error = %e, "PostgreSQL connection");
            }
        });
        Ok(Self { client, prepared: RefCell::default(), writer_lock: WRITER_LOCK })
    }

    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(st) = self.prepared.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = wait(self.client.prepare(&dialect(sql)))?;
        self.prepared.borrow_mut().insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    fn params<'a>(args: &'a [&'a dyn ToArg]) -> Vec<Arg<'a>> {
        args.iter().map(|a| a.arg()).collect()
    }

    pub fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<usize> {
        let st = self.statement(sql)?;
        let values = Self::params(args);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        Ok(wait(self.client.execute(&st, &refs))? as usize)
    }

    pub fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<tokio_postgres::Row>> {
        let st = self.statement(sql)?;
        let values = Self::params(args);
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        wait(self.client.query(&st, &refs))
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        wait(self.client.batch_execute(sql))
    }

    pub fn begin(&self, how: Begin) -> Result<()> {
        match how {
            Begin::Read => self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
            Begin::Write => {
                self.batch("BEGIN")?;
                self.execute("SELECT pg_advisory_xact_lock(?1)", &[&self.writer_lock]).map(drop)
            }
        }
    }
}

/// Creates a database fit for a replica (UTF-8, text compared byte by byte) on the server
/// `server` names (a connection string with no `dbname`, `host=… port=… user=…`), named
/// `name`; its connection string.
pub fn create_database(server: &str, name: &str) -> Result<String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(Error::Postgres(format!("database name {name:?}")));
    }
    let admin = PgConn::connect_unchecked(&format!("{server} dbname=postgres"))?;
    admin.batch(&format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"))?;
    Ok(format!("{server} dbname={name}"))
}

/// A statement of the storage layer, as PostgreSQL reads it: `?N` and `?` parameters
/// numbered as SQLite numbers them (`?` is one more than the largest before it), and
/// SQLite's `CAST(x AS INTEGER)` as a 64-bit one.
pub(crate) fn dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut highest = 0u32;
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = digits.parse().unwrap_or(highest + 1);
                highest = highest.max(n);
                out.push_str(&format!("${n}"));
            }
            _ => out.push(c),
        }
    }
    out.replace("AS INTEGER)", "AS BIGINT)")
}

/// A migration, as PostgreSQL reads it: 64-bit integers, bytes as `BYTEA` (and SQLite's
/// empty blob `x''` as an empty one), identity columns for SQLite's rowid aliases (an
/// `INTEGER PRIMARY KEY`, `AUTOINCREMENT` or not), no `WITHOUT ROWID`.
pub(crate) fn ddl(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for line in sql.lines() {
        let code = line.split("--").next().unwrap_or_default();
        let code = code
            .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER PRIMARY KEY")
            .replace("INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
            .replace("x''", "''::bytea")
            .replace("INTEGER", "BIGINT")
            .replace("BLOB", "BYTEA")
            .replace(") WITHOUT ROWID", ")");
        out.push_str(&code);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_parameters_as_sqlite_does() {
        assert_eq!(dialect("SELECT a FROM t WHERE b = ?1 AND c = ?2"), "SELECT a FROM t WHERE b = $1 AND c = $2");
        assert_eq!(dialect("x = ?1 OR y = ?3 AND z = ? AND w = ?"), "x = $1 OR y = $3 AND z = $4 AND w = $5");
        assert_eq!(dialect("a = '?' AND b = ?"), "a = '?' AND b = $1");
        assert_eq!(dialect("CAST(sum(x) AS INTEGER)"), "CAST(sum(x) AS BIGINT)");
    }

    #[test]
    fn migrations_become_postgresql() {
        let pg = ddl(
            "CREATE TABLE t (\n  id INTEGER PRIMARY KEY AUTOINCREMENT, -- the id\n  b BLOB NOT NULL\n) WITHOUT ROWID;",
        );
        assert!(pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"), "{pg}");
        assert!(pg.contains("b BYTEA NOT NULL") && !pg.contains("ROWID") && !pg.contains("the id"), "{pg}");
        let pg = ddl("CREATE TABLE m (id INTEGER PRIMARY KEY, p BLOB NOT NULL DEFAULT x'');");
        assert!(pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"), "{pg}");
        assert!(pg.contains("DEFAULT ''::bytea"), "{pg}");
    }
}
