//! The one door of the storage layer to its database: statements with `?N` parameters,
//! values bound from [`Arg`]s and read back through [`Row`]s, over SQLite (every replica) or
//! PostgreSQL (a hub past one machine, `postgres.rs`). Every other file of `storage/` speaks
//! through it, so the two backends run the same statements: SQLite's text, translated
//! once per statement for PostgreSQL (`postgres::dialect`).

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::postgres::PgConn;
use crate::error::{Error, Result};

/// A parameter's value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
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
pub(crate) trait ToArg {
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
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(&$a as &dyn $crate::storage::sql::ToArg),*] as &[&dyn $crate::storage::sql::ToArg] };
}
pub(crate) use args;

/// The parameters of a list of values.
pub(crate) fn args_of<T: ToArg>(values: &[T]) -> Vec<&dyn ToArg> {
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
pub(crate) trait FromCell: Sized {
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
pub(crate) enum Row<'r> {
    /// SQLite's.
    Lite(&'r rusqlite::Row<'r>),
    /// PostgreSQL's.
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

/// A connection to a replica's database.
pub(crate) enum Conn {
    /// A SQLite file.
    Lite(rusqlite::Connection),
    /// A PostgreSQL database.
    Pg(PgConn),
}

/// How a transaction begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// A consistent snapshot that writes nothing.
    Read,
    /// The replica's one writer (across every process that shares the database).
    Write,
}

impl Conn {
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
