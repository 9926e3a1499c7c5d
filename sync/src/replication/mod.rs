//! Replication between replicas: catalog comparison, bundles of changes, acknowledgements.
//!
//! Everything here is sans-IO: a [`Session`] consumes and produces byte buffers and reads
//! and writes the [`Store`](crate::Store); moving the bytes (HTTP, files, a simulated
//! network) is the caller's business.

pub mod bundle;
mod columns;
pub mod frame;
pub mod pack;
pub mod protocol;
pub mod session;
pub mod thin;
mod varint;

pub use bundle::{Applied, OpenPolicy, Outgoing, PeerView, Policy};
pub use protocol::{Ack, Bundle, DocChanges, DocRefusal, DocTarget, Hello, Message};
pub use session::{Session, SessionStats, sync_pair};
