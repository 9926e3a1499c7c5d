//! `preau-sync`: Préau's replicated store and the sans-IO replication core.
//!
//! Every replica (academy hub, school appliance, teacher laptop) keeps its data in
//! Automerge documents stored on SQLite, each bound to one immutable [`Partition`].
//! Every document kind projects into plain SQL read models in the same transaction as
//! the change, so pages never load a document. Replicas exchange framed, compressed,
//! checksummed bundles of changes over the partitions they share; replication only turns
//! bytes into bytes and never touches a socket, HTTP or an async runtime. Its one network
//! peer is storage's: a hub past one machine keeps its replica in PostgreSQL, whose
//! connections run on a thread of their own (`storage::postgres`).

pub mod certificate;
pub mod document;
pub mod error;
pub mod identity;
pub mod ids;
pub mod kinds;
pub mod reader;
pub mod replication;
mod storage;
pub mod store;

pub use automerge::Automerge;
pub use error::{Error, Result};
pub use identity::ReplicaIdentity;
pub use ids::{DocAddress, DocId, DocKey, Insee, LocalId, Partition, ReplicaId, Scope, ScopeRule, Uai};
pub use kinds::{Cell, DocKind, Kind, Row, Table};
pub use reader::Reader;
pub use storage::postgres::create_database as create_postgres_database;
pub use storage::sql;
pub use store::{CatalogEntry, Store};
