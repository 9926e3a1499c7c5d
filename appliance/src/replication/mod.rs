//! Replication over real networks: enrolment and certificates, the HTTP transport of the
//! sans-IO sessions (resumable both ways), files, scheduling and the sync status.
//!
//! ```text
//! client (school appliance, device)              server (hub, or the school's appliance)
//!  POST /replication/v1/sessions  {chain, Hello} ─▶ verifies chain, revocation, scope
//!                                 ◀─ {session, Offer inline or stored, renewed chain}
//!  GET  …/sessions/{s}/offer  Range: bytes=…      (only when stored; resumes at an offset)
//!  PATCH …/sessions/{s}/uploads/{hash} Upload-Offset (only when the reply is large)
//!  POST …/sessions/{s}/reply  {AckAndBundle inline or uploaded} ─▶ applies, commits
//!                                 ◀─ Ack
//!  POST …/sessions/{s}/files {files I hold} ─▶ ◀─ {what you lack, what I lack}
//!  GET/PATCH …/sessions/{s}/files/{hash}          (small files first; resumable)
//! ```
//! Every request is signed by the client's certified key and every answer by the server's
//! (`auth`). A session is two round trips whatever the number of documents; large payloads
//! move in [`CHUNK`]-sized pieces, so a cut costs at most one chunk again.

pub mod auth;
pub mod client;
pub mod device;
pub mod endpoints;
pub mod enrollment;
pub mod links;
pub mod policy;
pub mod quarantine;
pub mod schedule;
pub mod status;
mod transfer;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use preau_sync::ReplicaId;
use preau_sync::certificate::Chain;
use serde::{Deserialize, Serialize};

pub use links::Links;

/// The unit of resumption: payloads above it are uploaded and downloaded in pieces of
/// this size, and a cut link costs at most one piece sent twice.
pub const CHUNK: usize = 256 * 1024;
/// Where the endpoints live.
pub const PREFIX: &str = "/replication/v1";
/// The largest session opening accepted (a hello with a full catalog of a big school).
pub const MAX_OPEN_BYTES: usize = 8 << 20;
/// The largest bundle accepted in a reply (the sync core cuts bundles at 24 MiB).
pub const MAX_BUNDLE_BYTES: u64 = 32 << 20;

/// `POST /sessions`: the client's certificate chain and its `Hello`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Open {
    /// The client's chain (leaf first).
    pub chain: Chain,
    /// The framed `Hello` message.
    pub hello: Vec<u8>,
    /// Replicas the client certified and has revoked (a school's teachers' devices): the
    /// server refuses them too, should they come to it directly.
    pub revoked: Vec<ReplicaId>,
}

/// The académie's server, as a school's appliance names it to its teachers' computers
/// (`GET /replication/v1/upstream`) while its director lets them sync with it away from
/// school.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// Where it answers (the address the appliance syncs with).
    pub url: String,
    /// Its replica id (sessions name it).
    pub server: ReplicaId,
    /// Its public key: its answers are checked against it.
    pub server_key: [u8; 32],
}

/// A message too large for one request is stored and fetched or sent in pieces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// The bytes themselves.
    Inline(Vec<u8>),
    /// Stored: fetch it (offers) or it was uploaded (replies), by length and BLAKE3.
    Stored {
        /// Its length.
        len: u64,
        /// BLAKE3 of the bytes.
        hash: [u8; 32],
    },
}

/// The answer to `POST /sessions`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Opened {
    /// The session, named in the following requests.
    pub session: [u8; 16],
    /// The framed `Offer` message.
    pub offer: Payload,
    /// A renewed certificate chain for the client, when the server issued its leaf.
    pub renewed: Option<Chain>,
}

/// A file a replica holds, as announced in the files exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// BLAKE3 of the bytes.
    pub hash: [u8; 32],
    /// Its length.
    pub size: u64,
}

/// The answer to the files exchange.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FilesPlan {
    /// Files the server lacks: upload them.
    pub server_lacks: Vec<FileMeta>,
    /// Files the client lacks: download them.
    pub client_lacks: Vec<FileMeta>,
}

/// A refusal on the replication endpoints: a status and a stable code the client turns
/// into advice, with the precise detail for the logs.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Refused {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`revoked`, `quota`, `quarantined`, …).
    pub code: &'static str,
    /// What happened, precisely.
    pub detail: String,
}

impl Refused {
    /// A refusal.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into() }
    }

    /// 400: bytes that do not parse.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", detail)
    }
}

impl From<crate::platform::error::AppError> for Refused {
    fn from(e: crate::platform::error::AppError) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = %self.detail, "replication request failed");
        } else {
            tracing::warn!(code = self.code, detail = %self.detail, "replication request refused");
        }
        let mut response = (self.status, format!("{}: {}\n", self.code, self.detail)).into_response();
        if self.code == "clock" {
            response.headers_mut().insert(auth::TIME_HEADER, crate::platform::clock::now_ms().into());
        }
        response
    }
}

/// Encodes a wire value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("serialising to memory cannot fail")
}

/// Decodes a wire value, refusing trailing bytes.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refused> {
    let (value, rest) = postcard::take_from_bytes(bytes).map_err(|e| Refused::malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Refused::malformed(format!("{} bytes after the content", rest.len())));
    }
    Ok(value)
}

/// What the whole server shares about replication.
#[derive(Clone)]
pub struct Replication {
    /// This replica's identity (its key signs certificates and answers).
    pub identity: preau_sync::ReplicaIdentity,
    /// The link records.
    pub links: Links,
    /// Server side: open sessions, replays, partial transfers.
    pub server: Arc<endpoints::Sessions>,
    /// Client side: the scheduler's trigger and progress.
    pub runner: Arc<schedule::Runner>,
    /// The last successful sync (Unix ms, 0 = never), for every staff page's footer.
    last_success: Arc<AtomicI64>,
}

impl Replication {
    /// Opens the link records and the transfer area of a data directory.
    pub fn open(
        config: &crate::platform::config::Config,
        records: crate::platform::records::Records,
        identity: preau_sync::ReplicaIdentity,
    ) -> Result<Self, crate::platform::error::AppError> {
        let links = Links::new(records.clone())?;
        let last = links.last_success()?.map_or(0, |r| r.ended_at);
        let transfers = config.data_dir.join("transfers");
        std::fs::create_dir_all(&transfers).map_err(|e| {
            crate::platform::error::AppError::Internal(format!("creating {}: {e}", transfers.display()))
        })?;
        Ok(Self {
            identity,
            links,
            server: Arc::new(endpoints::Sessions::new(transfers, records)),
            runner: Arc::default(),
            last_success: Arc::new(AtomicI64::new(last)),
        })
    }

    /// The last successful sync, if any.
    pub fn last_success(&self) -> Option<i64> {
        Some(self.last_success.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Records a run (and, when it succeeded, the time shown on staff pages).
    pub fn record(&self, run: &links::Run) -> Result<(), crate::platform::error::AppError> {
        if run.ok {
            self.last_success.store(run.ended_at, Ordering::Relaxed);
        }
        self.links.record_run(run)
    }
}
