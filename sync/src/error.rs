//! The one error type of `preau-sync`: each variant carries what a caller needs to react.

use crate::ids::{DocId, Partition, ReplicaId};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the store or in replication.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQLite layer failed (I/O, lock timeout, constraint).
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The PostgreSQL server failed or refused (connection, constraint, type).
    #[error("storage (PostgreSQL): {0}")]
    Postgres(String),
    /// A local edit refused itself (`Store::try_change`); nothing was written.
    #[error("the edit was refused")]
    EditRefused,
    /// The database was written by a newer Préau than this binary.
    #[error("database schema version {found} is newer than this binary supports ({supported}); upgrade Préau")]
    SchemaTooNew {
        /// Version found in the file.
        found: u32,
        /// Highest version this binary knows.
        supported: u32,
    },
    /// A value that should be an identifier, partition or key is malformed.
    #[error("invalid {what}: {value:?}")]
    InvalidId {
        /// What was being parsed.
        what: &'static str,
        /// The offending input (truncated).
        value: String,
    },
    /// A local write to a partition this replica does not hold.
    #[error("partition {partition} is outside this replica's scope")]
    OutOfScope {
        /// The partition.
        partition: Partition,
    },
    /// The replica's private key is kept outside its database, and the key given to open it
    /// is missing or another replica's.
    #[error("the replica's private key is kept outside its database: {0}")]
    KeyOutside(&'static str),
    /// Replica metadata in the database is unreadable (hand-edited or damaged file).
    #[error("corrupt replica metadata: {0}")]
    CorruptMetadata(String),
    /// A document's address names another kind than the one requested.
    #[error("document {id} is a {actual}, not a {expected}")]
    WrongKind {
        /// The document.
        id: DocId,
        /// Kind the caller asked for.
        expected: &'static str,
        /// Kind stored in the catalog.
        actual: String,
    },
    /// A stored document failed to load or does not match its kind's schema.
    #[error("document {id} is corrupt: {reason}")]
    CorruptDocument {
        /// The document.
        id: DocId,
        /// What failed.
        reason: String,
    },
    /// Bytes from a peer were refused before anything changed.
    #[error("bundle refused: {0}")]
    Refused(#[from] Refusal),
}

/// Why a frame or bundle from a peer was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Shorter than its header or its declared length.
    #[error("truncated frame ({len} bytes)")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
    /// Not a Préau frame, or an unknown format version.
    #[error("bad magic or unsupported version")]
    BadMagic,
    /// Larger than the configured limit (before or after decompression).
    #[error("frame too large: {size} bytes, limit {limit}")]
    Oversized {
        /// Declared or actual size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The checksum does not match the content.
    #[error("checksum mismatch")]
    Checksum,
    /// Checksum fine but content undecodable (a sender bug, or a hostile peer).
    #[error("malformed content: {0}")]
    Malformed(String),
    /// The message was meant for another replica or came from an unexpected one.
    #[error("wrong peer: expected {expected}, got {got}")]
    WrongPeer {
        /// Who we expected.
        expected: ReplicaId,
        /// Who it claims to be.
        got: ReplicaId,
    },
    /// A message arrived that the session was not waiting for.
    #[error("unexpected message: {0}")]
    Unexpected(&'static str),
    /// A document outside the partitions this replica may hold, or whose id does not
    /// bind the partition it claims.
    #[error("document {doc} is outside the shared partitions ({partition})")]
    OutOfPartition {
        /// The document.
        doc: DocId,
        /// The partition it claims.
        partition: String,
    },
    /// A change failed to decode or verify.
    #[error("document {doc}: invalid change: {reason}")]
    BadChange {
        /// The document.
        doc: DocId,
        /// What failed.
        reason: String,
    },
    /// After merge, the document no longer matches its kind's schema.
    #[error("document {doc}: schema violation: {reason}")]
    Schema {
        /// The document.
        doc: DocId,
        /// What failed.
        reason: String,
    },
    /// The validation hook (per-role rules) rejected the changes.
    #[error("document {doc} in {partition}: rejected by policy: {reason}")]
    Rejected {
        /// The document.
        doc: DocId,
        /// Its partition.
        partition: Partition,
        /// The rule that refused it.
        reason: String,
    },
}

impl Refusal {
    /// Whether the refusal concerns one document of a bundle (its partition, bytes, schema or
    /// rules), so that the rest of the bundle can still be applied.
    pub fn is_per_document(&self) -> bool {
        matches!(
            self,
            Refusal::OutOfPartition { .. }
                | Refusal::BadChange { .. }
                | Refusal::Schema { .. }
                | Refusal::Rejected { .. }
        )
    }
}

/// Runs `f`, returning the message of a panic inside it instead of unwinding further.
///
/// Automerge trusts its input and panics on some malformed bytes; every place that hands it
/// bytes we did not produce in this process goes through here.
pub(crate) fn without_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned())
    })
}
