//! The client side of replication: one sync run with the upstream server (the hub for an
//! appliance, the appliance for a teacher's device), patient with poor links: every
//! request is retried while the link keeps coming back, and large payloads resume where a cut
//! left them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use preau_sync::certificate::Chain;
use preau_sync::replication::{Policy, Session};
use preau_sync::{ReplicaIdentity, Scope};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::links::{HubLink, Links, Run};
use super::{CHUNK, FileMeta, FilesPlan, Open, Opened, PREFIX, Payload, auth, decode, encode, quarantine, transfer};
use crate::platform::db::Db;
use crate::platform::files::FileStore;

/// Why a run stopped, with a stable code the status page turns into advice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct SyncError {
    /// `not-enrolled`, `unreachable`, `revoked`, `expired`, `certificate`, `quarantined`,
    /// `refused-incoming`, `quota`, `busy`, `protocol`, `internal`, …
    pub code: String,
    /// Precisely what happened.
    pub detail: String,
}

impl SyncError {
    fn new(code: &str, detail: impl Into<String>) -> Self {
        Self { code: code.to_owned(), detail: detail.into() }
    }
}

impl From<crate::platform::error::AppError> for SyncError {
    fn from(e: crate::platform::error::AppError) -> Self {
        Self::new("internal", e.to_string())
    }
}

/// What a run works on: a replica, its link records and files, and its rules.
pub struct Replica {
    /// The store.
    pub db: Db,
    /// Its link records (the upstream server, the runs).
    pub links: Links,
    /// Its files.
    pub files: FileStore,
    /// Its identity.
    pub identity: ReplicaIdentity,
    /// The rules incoming changes must pass.
    pub policy: Arc<dyn Policy + Send + Sync>,
    /// Its data directory (partial downloads, quarantine).
    pub data_dir: PathBuf,
    /// The only certificate authority trusted for the server, if not the system's.
    pub server_ca: Option<PathBuf>,
}

/// Where a run has got, for progress bars and the status page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// What it is doing: `connect`, `receive` or `send` (a stable code; people read
    /// `sync-phase-<code>` from the locales, through `status::phase_label`).
    pub phase: &'static str,
    /// Bytes moved in this phase.
    pub done: u64,
    /// Bytes to move in this phase (0 when unknown).
    pub total: u64,
}

/// Makes ring the process's TLS crypto provider (reqwest is built without one, so every
/// HTTP client of the process needs this first; calling it again does nothing).
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client for replication requests, with rustls: it trusts the system's certificate
/// authorities, or only `ca` (PEM) when given.
pub fn http_client(ca: Option<&std::path::Path>) -> Result<reqwest::Client, String> {
    http_client_connecting_within(ca, CONNECT)
}

/// How long a connection may take to open (a slow link, not an absent one).
const CONNECT: Duration = Duration::from_secs(20);

/// [`http_client`], giving up on opening a connection after `connect` (a server that is
/// not there, when another may be tried).
fn http_client_connecting_within(ca: Option<&std::path::Path>, connect: Duration) -> Result<reqwest::Client, String> {
    install_tls();
    let mut builder = reqwest::Client::builder();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.tls_certs_only([cert]);
    }
    builder
        .connect_timeout(connect)
        // Reset by every read: a slow link is fine, a dead one is noticed.
        .read_timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(50))
        .build()
        .map_err(|e| e.to_string())
}

/// One run's connection to the upstream server.
struct Conn<'a> {
    http: reqwest::Client,
    link: &'a HubLink,
    identity: &'a ReplicaIdentity,
    /// How long to wait for a server not reached yet ([`FIRST_CONTACT`] unless another
    /// server is to be tried after this one).
    first_contact: Duration,
    /// Server clock minus ours, learnt when the server refuses our time.
    skew: AtomicI64,
    /// When a request last succeeded (at first, when the run started).
    last_ok: std::sync::Mutex<Instant>,
    /// Whether any request has succeeded yet.
    reached: std::sync::atomic::AtomicBool,
    sent: AtomicU64,
    received: AtomicU64,
    /// Bytes of attempts that failed on the way (sent again, or asked for again).
    resent: AtomicU64,
    /// Requests answered (each one a round trip).
    requests: AtomicU64,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// How long a run waits for a server it has not reached yet before giving up until the
/// next schedule (the status then says the hub is unreachable)...
pub const FIRST_CONTACT: Duration = Duration::from_secs(10);
/// ...and how long a run that is under way keeps retrying a cut link, resuming where it
/// stopped, before giving up.
pub const PATIENCE: Duration = Duration::from_secs(120);

impl<'a> Conn<'a> {
    fn new(
        replica: &'a Replica,
        link: &'a HubLink,
        first_contact: Duration,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Result<Self, SyncError> {
        Ok(Conn {
            http: http_client_connecting_within(replica.server_ca.as_deref(), first_contact.min(CONNECT))
                .map_err(|e| SyncError::new("internal", e))?,
            link,
            identity: &replica.identity,
            first_contact,
            skew: AtomicI64::new(0),
            last_ok: std::sync::Mutex::new(Instant::now()),
            reached: std::sync::atomic::AtomicBool::new(false),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            progress,
        })
    }

    /// Sends a signed request, retrying transport failures with backoff while the server
    /// keeps answering now and then ([`FIRST_CONTACT`], [`PATIENCE`]).
    /// Answers other than 2xx/206 become errors (their code from the server's body).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
        signed_answer: bool,
    ) -> Result<Answer, SyncError> {
        let mut wait = Duration::from_millis(500);
        let mut clock_retry = true;
        loop {
            let ts = crate::platform::clock::now_ms() + self.skew.load(Ordering::Relaxed);
            let (authorization, nonce) =
                auth::sign_request(self.identity.signing_key(), self.identity.id(), method.as_str(), path, ts, &body);
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.link.url))
                .header(reqwest::header::AUTHORIZATION, authorization)
                .body(body.clone());
            for (k, v) in headers {
                request = request.header(*k, v);
            }
            // A failure says whether anything may have gone through: not when the connection
            // could not even be made (the link is down), else at most the whole attempt.
            let outcome = match request.send().await {
                Ok(response) => {
                    let (status, headers) = (response.status(), response.headers().clone());
                    match response.bytes().await {
                        Ok(bytes) => Ok(Answer { status, headers, body: bytes.to_vec() }),
                        Err(e) => Err((e.to_string(), true)),
                    }
                }
                Err(e) => Err((format!("{e:#}"), !e.is_connect())),
            };
            let answer = match outcome {
                Ok(answer) => answer,
                Err((detail, went_out)) => {
                    let asked = headers
                        .iter()
                        .find(|(k, _)| *k == "range")
                        .and_then(|(_, v)| transfer::parse_range(v, u64::MAX))
                        .map_or(0, |(a, b)| b - a + 1);
                    if went_out {
                        self.sent.fetch_add(body.len() as u64, Ordering::Relaxed);
                        self.resent.fetch_add(body.len() as u64 + asked, Ordering::Relaxed);
                    }
                    let patience = if self.reached.load(Ordering::Relaxed) { PATIENCE } else { self.first_contact };
                    let since = self.last_ok.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
                    if since + wait > patience {
                        return Err(SyncError::new("unreachable", detail));
                    }
                    tracing::info!(%detail, retry_in = ?wait, "link to the server failed: retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(20));
                    continue;
                }
            };
            self.sent.fetch_add(body.len() as u64, Ordering::Relaxed);
            self.received.fetch_add(answer.body.len() as u64, Ordering::Relaxed);
            *self.last_ok.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.reached.store(true, Ordering::Relaxed);
            let text = String::from_utf8_lossy(&answer.body);
            let code = text.split_once(':').map(|(c, _)| c.trim()).unwrap_or("").to_owned();
            match answer.status {
                s if s.is_success() => {}
                StatusCode::UNAUTHORIZED if code == "clock" && clock_retry => {
                    if let Some(theirs) = header_num(&answer.headers, auth::TIME_HEADER) {
                        self.skew.store(theirs as i64 - crate::platform::clock::now_ms(), Ordering::Relaxed);
                        tracing::warn!(
                            skew_ms = theirs as i64 - crate::platform::clock::now_ms(),
                            "our clock differs from the server's"
                        );
                    }
                    clock_retry = false;
                    continue;
                }
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
                    if wait < PATIENCE =>
                {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(20));
                    continue;
                }
                status => {
                    let code =
                        if code.is_empty() || code.contains(' ') { format!("http-{}", status.as_u16()) } else { code };
                    return Err(SyncError::new(&code, text.trim().to_owned()));
                }
            }
            if signed_answer {
                let sig = answer.headers.get(auth::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
                if !auth::verify_response(&self.link.hub_key, &nonce, answer.status.as_u16(), &answer.body, sig) {
                    return Err(SyncError::new("certificate", "the answer is not signed by the enrolled server"));
                }
            }
            return Ok(answer);
        }
    }

    /// Downloads `len` bytes at `path` into `sink`, a range of [`CHUNK`] at a time, from
    /// what `sink` already holds; checks the BLAKE3 at the end.
    async fn fetch(&self, path: &str, len: u64, hash: &[u8; 32], sink: &mut dyn Sink) -> Result<(), SyncError> {
        let mut have = sink.len();
        while have < len {
            let end = (have + CHUNK as u64).min(len) - 1;
            let answer = self
                .call(reqwest::Method::GET, path, Vec::new(), &[("range", format!("bytes={have}-{end}"))], false)
                .await?;
            if answer.body.is_empty() || answer.body.len() as u64 > end - have + 1 {
                return Err(SyncError::new(
                    "protocol",
                    format!("range {have}-{end} answered with {} bytes", answer.body.len()),
                ));
            }
            sink.append(&answer.body)?;
            have += answer.body.len() as u64;
            (self.progress)(Progress { phase: "receive", done: have, total: len });
        }
        if !sink.has_hash(hash)? {
            return Err(SyncError::new(
                "protocol",
                format!("{path}: the received bytes do not have the announced hash"),
            ));
        }
        Ok(())
    }

    /// Uploads `len` bytes (read by `piece`) to `path`, tus-style: asks where the server
    /// is, then sends [`CHUNK`]s from there; after a failure, asks again.
    async fn push(
        &self,
        path: &str,
        len: u64,
        piece: &(dyn Fn(u64, u64) -> std::io::Result<Vec<u8>> + Sync),
    ) -> Result<(), SyncError> {
        let mut at = self.upload_offset(path).await?;
        while at < len {
            let end = (at + CHUNK as u64).min(len);
            let bytes = piece(at, end).map_err(|e| SyncError::new("internal", e.to_string()))?;
            let answer = self
                .call(
                    reqwest::Method::PATCH,
                    &format!("{path}?length={len}"),
                    bytes,
                    &[("upload-offset", at.to_string())],
                    false,
                )
                .await;
            at = match answer {
                Ok(a) => header_num(&a.headers, "upload-offset")
                    .ok_or_else(|| SyncError::new("protocol", "no Upload-Offset"))?,
                // The server has more or less than we thought (a piece arrived but its
                // answer was lost): ask.
                Err(e) if e.code == "offset" => self.upload_offset(path).await?,
                Err(e) => return Err(e),
            };
            (self.progress)(Progress { phase: "send", done: at, total: len });
        }
        Ok(())
    }

    async fn upload_offset(&self, path: &str) -> Result<u64, SyncError> {
        let a = self.call(reqwest::Method::HEAD, path, Vec::new(), &[], false).await?;
        header_num(&a.headers, "upload-offset").ok_or_else(|| SyncError::new("protocol", "no Upload-Offset"))
    }
}

fn header_num(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

/// Where downloaded bytes go: memory (bundles) or a partial file (attached files).
trait Sink: Send {
    fn len(&self) -> u64;
    fn append(&mut self, bytes: &[u8]) -> Result<(), SyncError>;
    fn has_hash(&self, hash: &[u8; 32]) -> Result<bool, SyncError>;
}

impl Sink for Vec<u8> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn append(&mut self, bytes: &[u8]) -> Result<(), SyncError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn has_hash(&self, hash: &[u8; 32]) -> Result<bool, SyncError> {
        Ok(crate::platform::blocking::offload(|| blake3::hash(self)).as_bytes() == hash)
    }
}

struct PartFile(PathBuf);

impl Sink for PartFile {
    fn len(&self) -> u64 {
        transfer::offset(&self.0)
    }
    fn append(&mut self, bytes: &[u8]) -> Result<(), SyncError> {
        let at = self.len();
        transfer::append(&self.0, at, bytes, u64::MAX).map(drop).map_err(|e| SyncError::new("internal", e.to_string()))
    }
    fn has_hash(&self, hash: &[u8; 32]) -> Result<bool, SyncError> {
        transfer::verify(&self.0, self.len(), hash).or(Ok(false))
    }
}

/// The files documents of `scope` reference: hash and size.
pub async fn referenced_files(
    db: &Db,
    scope: Scope,
) -> Result<HashMap<[u8; 32], u64>, crate::platform::error::AppError> {
    let refs = db.run(|store| Ok(store.file_references()?)).await?;
    let mut out = HashMap::new();
    for (partition, a) in refs {
        let mut hash = [0u8; 32];
        if scope.contains(&partition) && hex::decode_to_slice(&a.hash, &mut hash).is_ok() {
            out.insert(hash, u64::try_from(a.size).unwrap_or(0));
        }
    }
    Ok(out)
}

/// Runs one sync with the upstream server; returns what happened (also when it failed).
pub async fn sync_once(replica: &Replica, progress: &(dyn Fn(Progress) + Send + Sync)) -> Run {
    match replica.links.hub() {
        Some(link) => sync_with(replica, &link, FIRST_CONTACT, progress).await,
        None => {
            let now = crate::platform::clock::now_ms();
            let error = SyncError::new("not-enrolled", "this replica is not enrolled with a server");
            Run { started_at: now, ended_at: now, error: Some(error.to_string()), ..Run::default() }
        }
    }
}

/// Runs one sync with the server of `link` (a teacher's computer has two: her school's
/// appliance, and away from school the académie's), giving up after `first_contact` if it
/// never answers.
pub async fn sync_with(
    replica: &Replica,
    link: &HubLink,
    first_contact: Duration,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Run {
    let started_at = crate::platform::clock::now_ms();
    let mut run = Run { started_at, peer: link.hub_id.to_string(), ..Run::default() };
    let conn = match Conn::new(replica, link, first_contact, progress) {
        Ok(conn) => conn,
        Err(e) => {
            run.error = Some(e.to_string());
            run.ended_at = crate::platform::clock::now_ms();
            return run;
        }
    };
    let mut attempts = 0;
    let sid = loop {
        attempts += 1;
        match exchange(replica, &conn, &mut run).await {
            Ok(sid) => {
                run.ok = true;
                break Some(sid);
            }
            // The server lost the session (it restarted): everything committed on either
            // side stays, and a new session carries on from there.
            Err(e) if e.code == "no-session" && attempts < 3 => {
                tracing::info!("the server forgot the session: starting a new one");
            }
            Err(e) => {
                tracing::warn!(code = %e.code, detail = %e.detail, "sync failed");
                run.error = Some(e.to_string());
                break None;
            }
        }
    };
    if let Some(sid) = sid {
        // Files come after the documents: a failure here leaves the documents synced.
        if let Err(e) = exchange_files(replica, &conn, &sid, &mut run).await {
            tracing::warn!(code = %e.code, detail = %e.detail, "file exchange failed");
            run.error = Some(e.to_string());
        }
    }
    run.bytes_up = conn.sent.load(Ordering::Relaxed) as i64;
    run.bytes_down = conn.received.load(Ordering::Relaxed) as i64;
    run.bytes_resent = conn.resent.load(Ordering::Relaxed) as i64;
    run.requests = conn.requests.load(Ordering::Relaxed) as i64;
    run.ended_at = crate::platform::clock::now_ms();
    run
}

/// The documents: hello/offer, then reply/ack.
async fn exchange(replica: &Replica, conn: &Conn<'_>, run: &mut Run) -> Result<String, SyncError> {
    (conn.progress)(Progress { phase: "connect", done: 0, total: 0 });
    let hub = conn.link.hub_id;
    let (mut session, hello) = replica.db.run(move |store| Ok(Session::initiate(store, hub)?)).await?;
    let open = Open { chain: conn.link.chain.clone(), hello, revoked: replica.links.revoked_here()? };
    let answer = conn.call(reqwest::Method::POST, &format!("{PREFIX}/sessions"), encode(&open), &[], true).await?;
    let opened: Opened = decode(&answer.body).map_err(|e| SyncError::new("protocol", e.to_string()))?;
    if let Some(chain) = &opened.renewed {
        renew(replica, chain).await?;
    }
    let sid = hex::encode(opened.session);
    let offer = match opened.offer {
        Payload::Inline(bytes) => bytes,
        Payload::Stored { len, hash } => {
            if len > super::MAX_BUNDLE_BYTES {
                return Err(SyncError::new("protocol", format!("an offer of {len} bytes")));
            }
            let mut bytes = Vec::new();
            conn.fetch(&format!("{PREFIX}/sessions/{sid}/offer"), len, &hash, &mut bytes).await?;
            bytes
        }
    };
    let policy = replica.policy.clone();
    let (session_back, outcome) = {
        let offer = offer.clone();
        replica
            .db
            .run(move |store| {
                let outcome = session.receive(store, &*policy, &offer);
                Ok((session, outcome))
            })
            .await?
    };
    session = session_back;
    let reply = match outcome {
        Ok(Some(reply)) => reply,
        Ok(None) => return Err(SyncError::new("protocol", "the offer ended the session")),
        Err(preau_sync::Error::Refused(refusal)) => {
            let reason = refusal.to_string();
            quarantine::keep(&replica.links, &replica.data_dir, hub, &reason, &offer).await;
            return Err(SyncError::new("refused-incoming", reason));
        }
        Err(e) => return Err(SyncError::new("internal", e.to_string())),
    };
    if let Some(reason) = quarantine::refusals(&session.stats().refused_here) {
        quarantine::keep(&replica.links, &replica.data_dir, hub, &reason, &offer).await;
        run.error = Some(SyncError::new("refused-incoming", reason).to_string());
    }
    run.docs_down = i64::from(session.stats().docs_received);
    run.docs_up = i64::from(session.stats().docs_sent);
    let payload = if reply.len() <= CHUNK {
        Payload::Inline(reply)
    } else {
        let hash = *crate::platform::blocking::offload(|| blake3::hash(&reply)).as_bytes();
        let len = reply.len() as u64;
        let reply = Arc::new(reply);
        let piece = move |from: u64, to: u64| Ok(reply[from as usize..to as usize].to_vec());
        conn.push(&format!("{PREFIX}/sessions/{sid}/uploads/{}", hex::encode(hash)), len, &piece).await?;
        Payload::Stored { len, hash }
    };
    let answer = conn
        .call(reqwest::Method::POST, &format!("{PREFIX}/sessions/{sid}/reply"), encode(&payload), &[], true)
        .await?;
    let policy = replica.policy.clone();
    let session = replica
        .db
        .run(move |store| Ok(session.receive(store, &*policy, &answer.body).map(|_| session)))
        .await?
        .map_err(|e| SyncError::new("protocol", e.to_string()))?;
    // The server refused some of our documents: they stay here, offered again next time.
    if let Some(reason) = quarantine::refusals(&session.stats().refused_there) {
        run.error = Some(SyncError::new("refused-outgoing", reason).to_string());
    }
    Ok(sid)
}

/// Asks a teacher's computer's school which académie server, if any, it may sync with away
/// from school.
pub async fn ask_upstream(replica: &Replica, link: &HubLink) -> Result<Option<super::Upstream>, SyncError> {
    let quiet = |_: Progress| {};
    let conn = Conn::new(replica, link, FIRST_CONTACT, &quiet)?;
    let answer = conn.call(reqwest::Method::GET, &format!("{PREFIX}/upstream"), Vec::new(), &[], true).await?;
    decode(&answer.body).map_err(|e| SyncError::new("protocol", e.to_string()))
}

/// Our renewed certificate, if it is really ours.
async fn renew(replica: &Replica, chain: &Chain) -> Result<(), SyncError> {
    let ours = chain.leaf().is_some_and(|l| {
        l.subject == replica.identity.id() && l.subject_key == replica.identity.public_key().to_bytes()
    });
    if ours {
        replica.links.renew_chain(chain)?;
        // An appliance's renewed certificate may grant its communes' partitions (the
        // académie placed the school in one): hold them from the next session on.
        if let Some(uai) = chain.leaf().and_then(|l| {
            l.scope.rules().iter().find_map(|r| match r {
                preau_sync::ScopeRule::School(uai) => Some(uai.clone()),
                _ => None,
            })
        }) {
            let scope = crate::school::scope_with_communes(
                &uai,
                chain.leaf().map(|l| crate::school::granted_communes(&l.scope)).unwrap_or_default(),
            );
            replica
                .db
                .run(move |store| {
                    store.set_scope(scope);
                    Ok(())
                })
                .await?;
        }
    } else {
        tracing::warn!("the server renewed a certificate that is not ours: ignored");
    }
    Ok(())
}

/// The files: one exchange of lists, then downloads and uploads, small ones first.
async fn exchange_files(replica: &Replica, conn: &Conn<'_>, sid: &str, run: &mut Run) -> Result<(), SyncError> {
    // A file is offered only when this replica holds it and a shared document references it.
    let scope = replica.db.run(|store| Ok(store.scope().clone())).await?;
    let mine: Vec<FileMeta> = referenced_files(&replica.db, scope)
        .await?
        .into_iter()
        .filter(|(h, _)| replica.files.has(&hex::encode(h)))
        .map(|(hash, size)| FileMeta { hash, size })
        .collect();
    let answer =
        conn.call(reqwest::Method::POST, &format!("{PREFIX}/sessions/{sid}/files"), encode(&mine), &[], true).await?;
    let plan: FilesPlan = decode(&answer.body).map_err(|e| SyncError::new("protocol", e.to_string()))?;
    let parts = replica.data_dir.join("transfers");
    std::fs::create_dir_all(&parts).map_err(|e| SyncError::new("internal", e.to_string()))?;
    for f in &plan.client_lacks {
        let hash = hex::encode(f.hash);
        let mut sink = PartFile(parts.join(format!("dl-{hash}")));
        conn.fetch(&format!("{PREFIX}/sessions/{sid}/files/{hash}"), f.size, &f.hash, &mut sink).await?;
        replica.files.adopt(&hash, &sink.0).await?;
        run.files_down += 1;
    }
    for f in &plan.server_lacks {
        let hash = hex::encode(f.hash);
        let path = replica.files.path_of(&hash).ok_or_else(|| SyncError::new("internal", "bad hash"))?;
        let piece = move |from: u64, to: u64| transfer::read_range(&path, from, to - 1);
        conn.push(&format!("{PREFIX}/sessions/{sid}/files/{hash}"), f.size, &piece).await?;
        run.files_up += 1;
    }
    Ok(())
}
