//! The server side of replication: every server (hub or appliance) answers sessions from
//! the replicas it trusts — the hub from schools' appliances, an appliance from its
//! teachers' devices. See the module map in `replication/mod.rs`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use preau_sync::certificate::{CertError, Grant, Role};
use preau_sync::replication::Session;
use preau_sync::replication::protocol::Message;
use preau_sync::sql::args;
use preau_sync::{ReplicaId, Scope, ScopeRule, Uai};
use serde::{Deserialize, Serialize};

use super::auth::{self, Replays, Signed};
use super::enrollment::{self, Subject};
use super::{CHUNK, FileMeta, FilesPlan, MAX_BUNDLE_BYTES, MAX_OPEN_BYTES, Open, Opened, PREFIX, Payload, Refused};
use super::{decode, encode, quarantine, transfer};
use crate::platform::clock::now_ms;
use crate::platform::config::Role as ServerRole;
use crate::platform::records::Records;
use crate::replication::Replication;
use crate::replication::policy::{self, SchoolPolicy, Sender};
use crate::school::directory::Directory;
use crate::web::AppState;
use crate::web::Routes;

/// Sessions exchanging documents at once (opened, their reply not answered yet, used
/// within [`BUSY_WINDOW`]), all peers together (on a hub, across its processes), past
/// which a replica is told to come back later: each holds an offer and, while its reply
/// is applied, its bundle. A session whose reply was answered lingers until
/// [`SESSION_IDLE`] for its files (pieces of 1 MiB at most) but counts no more: a hub's
/// night sees 600 schools within half an hour, sixteen at a time.
const MAX_SESSIONS: i64 = 64;
/// A session unused for this long (its client gone) counts no more either.
const BUSY_WINDOW: Duration = Duration::from_secs(120);
/// A session unused for this long is dropped (its client starts a new one).
const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// Sessions one replica may open in a window (each open counts, successful or not).
const SESSION_OPENS: crate::platform::ratelimit::Limit =
    crate::platform::ratelimit::Limit { failures: 60, window: Duration::from_secs(10 * 60) };
/// The largest piece of an upload accepted in one request.
const MAX_PIECE: usize = 4 * CHUNK;

/// The sessions this server is answering, and what protects them: kept in the server's
/// records between requests, so that any process of a hub answers a session's next request
/// (one killed mid-session loses nothing the client does not send again).
pub struct Sessions {
    dir: PathBuf,
    records: Records,
    replays: Replays,
}

/// A session between two of its requests.
#[derive(Serialize, Deserialize)]
struct ServerSession {
    peer: ReplicaId,
    key: [u8; 32],
    /// The peer's certificate: what it may write follows from it (`policy_for`).
    leaf: Grant,
    /// The partitions the peer declared (within its certificate's).
    scope: Scope,
    /// The school the peer belongs to (quotas, the hub's rules).
    school: Option<Uai>,
    /// The sans-IO session, suspended (`None` once it ended).
    core: Option<Vec<u8>>,
    /// Its reply was answered: only files may follow.
    replied: bool,
    /// Where the offer waits, when too large to travel inline.
    offer: Option<PathBuf>,
    /// Files the peer may upload (announced and lacking here), by hash, with their size.
    wanted: HashMap<[u8; 32], u64>,
    /// Files the peer may download: those its documents reference and it lacks (from the
    /// files exchange, so a range request does not scan every reference again).
    offered: HashSet<[u8; 32]>,
}

/// A session as read from the records, and the version it was read at: it is written back
/// only if nobody wrote it meanwhile (a request retried on another process).
struct Loaded {
    id: [u8; 16],
    version: i64,
    session: ServerSession,
}

fn no_session() -> Refused {
    Refused::new(StatusCode::NOT_FOUND, "no-session", "unknown or expired session")
}

fn encode_session(session: &ServerSession) -> Vec<u8> {
    postcard::to_allocvec(session).expect("a session serializes")
}

impl Sessions {
    /// Sessions kept in `records`, their transfers under `dir`.
    pub fn new(dir: PathBuf, records: Records) -> Self {
        Self { dir, replays: Replays::new(records.clone()), records }
    }

    /// Where partial transfers live.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn idle_before() -> i64 {
        now_ms() - SESSION_IDLE.as_millis() as i64
    }

    /// The session `sid` names ([`Sessions::touch`] marks it used, once its request is
    /// authenticated).
    fn get(&self, sid: &str) -> Result<Loaded, Refused> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(sid, &mut id).map_err(|_| Refused::malformed("session id"))?;
        let found = self.records.with(|c| {
            c.query_opt(
                "SELECT version, state FROM replication_session WHERE id = ? AND last_used >= ?",
                args![id, Self::idle_before()],
                |r| Ok((r.get::<i64>(0)?, r.get::<Vec<u8>>(1)?)),
            )
        })?;
        let (version, state) = found.ok_or_else(no_session)?;
        // One another version of Préau wrote (an upgrade in the middle of it): the client
        // starts a new session.
        let session = postcard::from_bytes(&state).map_err(|e| {
            tracing::warn!(error = %e, "a stored replication session this version does not read");
            no_session()
        })?;
        Ok(Loaded { id, version, session })
    }

    /// Marks a session used now.
    fn touch(&self, loaded: &Loaded) -> Result<(), Refused> {
        self.records.with(|c| {
            c.execute("UPDATE replication_session SET last_used = ? WHERE id = ?", args![now_ms(), loaded.id])
        })?;
        Ok(())
    }

    fn insert(&self, id: [u8; 16], session: &ServerSession) -> Result<(), Refused> {
        let busy = self.records.write(|c| {
            // A client that starts again replaces its previous session; idle ones go.
            c.execute(
                "DELETE FROM replication_session WHERE peer = ? OR last_used < ?",
                args![session.peer.to_string(), Self::idle_before()],
            )?;
            let busy_since = now_ms() - BUSY_WINDOW.as_millis() as i64;
            let open: i64 = c.query_one(
                "SELECT count(*) FROM replication_session WHERE ended = 0 AND last_used >= ?",
                args![busy_since],
                |r| r.get(0),
            )?;
            if open >= MAX_SESSIONS {
                return Ok(true);
            }
            c.execute(
                "INSERT INTO replication_session (id, peer, state, last_used, version) VALUES (?, ?, ?, ?, 0)",
                args![id, session.peer.to_string(), encode_session(session), now_ms()],
            )?;
            Ok(false)
        })?;
        if busy {
            return Err(Refused::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many sessions open"));
        }
        Ok(())
    }

    /// Writes a session back, unless another request wrote it since it was read.
    fn save(&self, loaded: &Loaded) -> Result<(), Refused> {
        let written = self.records.with(|c| {
            c.execute(
                "UPDATE replication_session SET state = ?, version = version + 1, last_used = ?, ended = ? \
                 WHERE id = ? AND version = ?",
                args![
                    encode_session(&loaded.session),
                    now_ms(),
                    loaded.session.core.is_none() || loaded.session.replied,
                    loaded.id,
                    loaded.version
                ],
            )
        })?;
        if written == 0 {
            // Another request of the session (a retry, on another process) went further:
            // the client starts a new session, which carries on from what both committed.
            return Err(Refused::new(StatusCode::NOT_FOUND, "no-session", "the session moved on: start a new one"));
        }
        Ok(())
    }

    /// Drops idle sessions, expired nonces and partial transfers abandoned for a day
    /// (housekeeping).
    pub fn sweep(&self) -> usize {
        let forgotten = self
            .records
            .with(|c| c.execute("DELETE FROM replication_session WHERE last_used < ?", args![Self::idle_before()]));
        if let Err(e) = forgotten.and_then(|_| self.replays.sweep(now_ms())) {
            tracing::warn!(error = %e, "forgetting idle replication sessions");
        }
        transfer::sweep(&self.dir, Duration::from_secs(24 * 3600))
    }

    /// Checks a request's signature with `key`, then its freshness.
    fn authenticate(
        &self,
        signed: &Signed,
        key: &[u8; 32],
        method: &Method,
        uri: &Uri,
        body: &[u8],
    ) -> Result<(), Refused> {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        signed
            .verify(key, method.as_str(), path, body)
            .map_err(|e| Refused::new(StatusCode::UNAUTHORIZED, "signature", e.to_string()))?;
        self.replays.check(signed, now_ms()).map_err(|e| match e {
            auth::AuthError::Clock { .. } => Refused::new(StatusCode::UNAUTHORIZED, "clock", e.to_string()),
            _ => Refused::new(StatusCode::UNAUTHORIZED, "replay", e.to_string()),
        })
    }
}

/// The replication endpoints.
pub fn routes() -> Routes {
    let session = format!("{PREFIX}/sessions/{{sid}}");
    let (upload_path, file_path) = (format!("{session}/uploads/{{hash}}"), format!("{session}/files/{{hash}}"));
    Routes::new()
        .post(&format!("{PREFIX}/enroll"), enrollment::enroll)
        .post(&format!("{PREFIX}/sessions"), open)
        .get(&format!("{PREFIX}/upstream"), upstream)
        .get(&format!("{session}/offer"), offer)
        .head(&upload_path, upload_offset)
        .patch(&upload_path, upload)
        .post(&format!("{session}/reply"), reply)
        .post(&format!("{session}/files"), files_plan)
        .get(&file_path, file_download)
        .head(&file_path, file_offset)
        .patch(&file_path, file_upload)
        .layer(DefaultBodyLimit::max(MAX_OPEN_BYTES))
}

fn signed_header(headers: &HeaderMap) -> Result<Signed, Refused> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::parse)
        .ok_or_else(|| Refused::new(StatusCode::UNAUTHORIZED, "unsigned", "missing or malformed Authorization"))
}

/// An answer signed by this server for the request with `nonce`.
fn signed_answer(state: &AppState, nonce: &[u8; 16], status: StatusCode, body: Vec<u8>) -> Response {
    let sig = auth::sign_response(state.part::<Replication>().identity.signing_key(), nonce, status.as_u16(), &body);
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&sig) {
        h.insert(auth::SIGNATURE_HEADER, v);
    }
    response
}

/// The keys whose certificates this server accepts: its own (replicas it enrolled) and its
/// hub's (schools the hub certified, for devices chained through them).
fn trusted_roots(state: &AppState) -> Result<Vec<[u8; 32]>, Refused> {
    let mut roots = vec![state.part::<Replication>().identity.public_key().to_bytes()];
    if let Some(hub) = state.part::<Replication>().links.hub() {
        roots.push(hub.hub_key);
    }
    Ok(roots)
}

/// The school a certified scope belongs to.
fn school_of(scope: &Scope) -> Option<Uai> {
    scope.rules().iter().find_map(|r| match r {
        ScopeRule::School(u) => Some(u.clone()),
        ScopeRule::Exact(p) => p.school().cloned(),
        ScopeRule::All => None,
    })
}

fn forbidden(code: &'static str, detail: impl Into<String>) -> Refused {
    Refused::new(StatusCode::FORBIDDEN, code, detail)
}

/// The key of a replica this server enrolled and has not revoked.
fn enrolled_key(state: &AppState, replica: ReplicaId) -> Result<[u8; 32], Refused> {
    match state.part::<Replication>().links.enrolled(replica)? {
        Some(e) if e.revoked_at.is_some() => Err(forbidden("revoked", format!("replica {replica} was revoked"))),
        Some(e) => Ok(e.public_key),
        None => Err(unknown_replica(replica)),
    }
}

fn unknown_replica(replica: ReplicaId) -> Refused {
    forbidden("unknown-replica", format!("replica {replica} is not enrolled here"))
}

/// Who may open a session here: the leaf of a valid chain, each certificate we issued in it
/// still enrolled and not revoked, of a role this server serves.
fn admit(state: &AppState, chain: &preau_sync::certificate::Chain) -> Result<Grant, Refused> {
    let leaf = chain.verify(&trusted_roots(state)?, now_ms() as u64).map_err(|e| match e {
        CertError::Expired { .. } => forbidden("expired", e.to_string()),
        _ => forbidden("certificate", e.to_string()),
    })?;
    let own = state.part::<Replication>().identity.public_key().to_bytes();
    for cert in &chain.0 {
        // A device that its school revoked and reported, coming here directly.
        if cert.grant.issuer_key != own {
            if state.part::<Replication>().links.revoked_downstream(cert.grant.subject, &cert.grant.issuer_key)? {
                return Err(forbidden("revoked", format!("replica {} was revoked by its school", cert.grant.subject)));
            }
            continue;
        }
        if enrolled_key(state, cert.grant.subject)? != cert.grant.subject_key {
            return Err(unknown_replica(cert.grant.subject));
        }
    }
    let serves = match state.config.role {
        ServerRole::Hub => matches!(leaf.role, Role::School | Role::Device),
        // An appliance serves only the devices it enrolled itself.
        ServerRole::School => leaf.role == Role::Device && leaf.issuer_key == own,
        // A teacher's computer serves nobody.
        ServerRole::Device => false,
    };
    if !serves {
        return Err(forbidden("role", format!("a {:?} does not sync with this server", leaf.role)));
    }
    Ok(leaf.clone())
}

async fn open(state: AppState, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Result<Response, Refused> {
    let signed = signed_header(&headers)?;
    let opening: Open = decode(&body)?;
    // Only the holder of the leaf's key gets as far as the chain's checks.
    let claimed = opening.chain.leaf().ok_or_else(|| forbidden("certificate", "empty certificate chain"))?;
    if claimed.subject != signed.replica {
        return Err(forbidden("certificate", "the certificate is not the signer's"));
    }
    // The chain first (reads only), then the request's signature and its nonce (the first
    // write): a forged or revoked certificate costs the server no write.
    let leaf = admit(&state, &opening.chain)?;
    state.part::<Replication>().server.authenticate(&signed, &claimed.subject_key, &method, &uri, &body)?;
    // A replica syncs hourly, or a few times more when asked or retrying: far fewer than
    // this. Counted once its certificate and signature are checked: nobody spends
    // another's opens.
    let opens = format!("{}:sessions", leaf.subject);
    if !state.limits.take(&opens, SESSION_OPENS) {
        return Err(Refused::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            format!("{} opens too many sessions", leaf.subject),
        ));
    }
    // Only a school certifies devices; what it reports binds only the certificates it issued.
    if leaf.role == Role::School && !opening.revoked.is_empty() {
        state.part::<Replication>().links.note_revoked_downstream(&leaf.subject_key, &opening.revoked)?;
    }
    let hello = match Message::decode(&opening.hello) {
        Ok(Message::Hello(h)) => h,
        Ok(other) => return Err(Refused::malformed(format!("{} instead of Hello", other.name()))),
        Err(e) => return Err(Refused::malformed(e.to_string())),
    };
    if hello.from != leaf.subject {
        return Err(forbidden(
            "certificate",
            format!("hello from {} under {}'s certificate", hello.from, leaf.subject),
        ));
    }
    if !hello.scope.is_within(&leaf.scope) {
        return Err(forbidden("scope", "the declared partitions exceed the certificate"));
    }
    let school = school_of(&leaf.scope);
    let dir = school_directory(&state, school.as_ref())?;
    // A teacher's computer away from school, on the hub: only where her school allows it.
    if leaf.role == Role::Device && state.config.role == ServerRole::Hub && !policy::away_sync(&dir) {
        return Err(forbidden("away-closed", "the school does not let its teachers' computers sync with the hub"));
    }
    let policy = policy_for(&state, dir.clone(), &leaf);
    let (core, offer) = {
        let (policy, hello) = (policy.clone(), opening.hello);
        state
            .db
            .run(move |store| Ok(Session::accept(store, &*policy, &hello)))
            .await?
            .map_err(|e| Refused::malformed(e.to_string()))?
    };
    let renewed = renew(&state, &leaf, &opening.chain, &dir)?;
    let sid = crate::platform::random_bytes::<16>();
    let (payload, stored) = if offer.len() <= CHUNK {
        (Payload::Inline(offer), None)
    } else {
        let path = state.part::<Replication>().server.dir().join(format!("offer-{}", hex::encode(sid)));
        let hash = *crate::platform::blocking::offload(|| blake3::hash(&offer)).as_bytes();
        let len = offer.len() as u64;
        tokio::fs::write(&path, offer).await.map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
        (Payload::Stored { len, hash }, Some(path))
    };
    state.part::<Replication>().server.insert(
        sid,
        &ServerSession {
            peer: leaf.subject,
            key: leaf.subject_key,
            scope: hello.scope,
            school,
            core: Some(core.suspend()),
            replied: false,
            offer: stored,
            wanted: HashMap::new(),
            offered: HashSet::new(),
            leaf: leaf.clone(),
        },
    )?;
    state.part::<Replication>().links.seen(leaf.subject)?;
    tracing::info!(peer = %leaf.subject, session = %hex::encode(sid), "replication session opened");
    let answer = Opened { session: sid, offer: payload, renewed };
    Ok(signed_answer(&state, &signed.nonce, StatusCode::OK, encode(&answer)))
}

/// `GET /upstream`: the académie's server, to a teacher's computer this appliance enrolled,
/// while the school lets its teachers' computers sync with it away from school (`None`
/// otherwise, and from a hub).
async fn upstream(state: AppState, method: Method, uri: Uri, headers: HeaderMap) -> Result<Response, Refused> {
    let signed = signed_header(&headers)?;
    let key = enrolled_key(&state, signed.replica)?;
    state.part::<Replication>().server.authenticate(&signed, &key, &method, &uri, &[])?;
    let links = &state.part::<Replication>().links;
    let allowed = state.config.role == ServerRole::School && policy::away_sync(&state.directory());
    let server = links.hub().filter(|_| allowed).map(|h| super::Upstream {
        url: h.url,
        server: h.hub_id,
        server_key: h.hub_key,
    });
    Ok(signed_answer(&state, &signed.nonce, StatusCode::OK, encode(&server)))
}

/// The directory of the school a peer belongs to: on a hub, that school's, read now; on a
/// school's server, its own.
fn school_directory(state: &AppState, school: Option<&Uai>) -> Result<Arc<Directory>, Refused> {
    Ok(match (state.config.role, school) {
        (ServerRole::Hub, Some(uai)) => Arc::new(state.db.read(|store| Directory::load_school(store, uai))?),
        _ => state.directory(),
    })
}

/// The rules a peer's writes are held to, from its certificate and its school's directory.
fn policy_for(state: &AppState, dir: Arc<Directory>, leaf: &Grant) -> Arc<SchoolPolicy> {
    Arc::new(SchoolPolicy::new(dir, Sender::of(leaf), state.part_arc::<crate::school::rule::Rules>()))
}

/// A fresh certificate for a replica we enrolled (its scope follows the directory: a
/// teacher's device gains and loses classes with the teacher).
fn renew(
    state: &AppState,
    leaf: &Grant,
    chain: &preau_sync::certificate::Chain,
    dir: &Directory,
) -> Result<Option<preau_sync::certificate::Chain>, Refused> {
    let identity = &state.part::<Replication>().identity;
    if leaf.issuer_key != identity.public_key().to_bytes() {
        return Ok(None);
    }
    let Some(enrolled) = state.part::<Replication>().links.enrolled(leaf.subject)? else { return Ok(None) };
    let Some(subject) = Subject::parse(&enrolled.subject) else { return Ok(None) };
    let cert =
        enrollment::certify(identity, leaf.subject, leaf.subject_key, &subject, enrollment::scope_of(&subject, dir));
    state.part::<Replication>().links.certified(leaf.subject, cert.grant.not_after as i64)?;
    let mut renewed = chain.clone();
    renewed.0[0] = cert;
    // Our own certificate may have been renewed since: present the current one.
    if let Some(hub) = state.part::<Replication>().links.hub() {
        renewed.0.truncate(1);
        renewed.0.extend(hub.chain.0);
    }
    Ok(Some(renewed))
}

/// Finds the session and checks that the request is signed by its peer.
fn session_for(
    state: &AppState,
    sid: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Signed, Loaded), Refused> {
    let signed = signed_header(headers)?;
    let server = &state.part::<Replication>().server;
    let loaded = server.get(sid)?;
    if loaded.session.peer != signed.replica {
        return Err(forbidden("signature", "another replica's session"));
    }
    server.authenticate(&signed, &loaded.session.key, method, uri, body)?;
    server.touch(&loaded)?;
    Ok((signed, loaded))
}

/// A byte range of a file, as `Range` asks (the whole file without it).
async fn ranged(path: PathBuf, headers: &HeaderMap) -> Result<Response, Refused> {
    let len = transfer::offset(&path);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (start, end, partial) = match range {
        None if len == 0 => return Ok(StatusCode::OK.into_response()),
        None => (0, len - 1, false),
        Some(r) => match transfer::parse_range(r, len) {
            Some((s, e)) => (s, e, true),
            None => {
                return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))])
                    .into_response());
            }
        },
    };
    let bytes = tokio::task::spawn_blocking(move || transfer::read_range(&path, start, end))
        .await
        .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?
        .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
    let status = if partial { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")),
            (header::ACCEPT_RANGES, "bytes".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

async fn offer(
    state: AppState,
    Path(sid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let (_, loaded) = session_for(&state, &sid, &method, &uri, &headers, &[])?;
    let path = loaded
        .session
        .offer
        .ok_or_else(|| Refused::new(StatusCode::NOT_FOUND, "no-offer", "the offer was sent inline"))?;
    ranged(path, &headers).await
}

fn parse_hash(hash: &str) -> Result<[u8; 32], Refused> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(hash, &mut h).map_err(|_| Refused::malformed("hash must be 64 hex digits"))?;
    Ok(h)
}

fn offset_answer(offset: u64) -> Response {
    (StatusCode::NO_CONTENT, [("upload-offset", offset.to_string())]).into_response()
}

/// What a partial upload will be: a session's large reply, or an attached file.
#[derive(Clone, Copy)]
enum Part {
    Reply,
    File,
}

/// Where a peer's partial upload grows (per peer and content, so it outlives sessions).
fn part_path(state: &AppState, part: Part, peer: ReplicaId, hash: &[u8; 32]) -> PathBuf {
    let prefix = match part {
        Part::Reply => "up",
        Part::File => "file",
    };
    state.part::<Replication>().server.dir().join(format!("{prefix}-{peer}-{}", hex::encode(hash)))
}

/// `HEAD` of an upload: how far it has got (tus-style).
async fn part_offset(
    state: &AppState,
    part: Part,
    sid: &str,
    hash: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, Refused> {
    let (_, loaded) = session_for(state, sid, method, uri, headers, &[])?;
    let peer = loaded.session.peer;
    Ok(offset_answer(transfer::offset(&part_path(state, part, peer, &parse_hash(hash)?))))
}

fn upload_at(headers: &HeaderMap) -> Result<u64, Refused> {
    headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Refused::malformed("Upload-Offset header"))
}

#[derive(Deserialize)]
struct Length {
    length: u64,
}

async fn upload_offset(
    state: AppState,
    Path((sid, hash)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    part_offset(&state, Part::Reply, &sid, &hash, &method, &uri, &headers).await
}

async fn upload(
    state: AppState,
    Path((sid, hash)): Path<(String, String)>,
    length: Result<Query<Length>, axum::extract::rejection::QueryRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let (_, loaded) = session_for(&state, &sid, &method, &uri, &headers, &body)?;
    // Read once the request is known to come from the session's peer.
    let Query(Length { length }) = length.map_err(|e| Refused::malformed(e.body_text()))?;
    if length > MAX_BUNDLE_BYTES || body.len() > MAX_PIECE {
        return Err(Refused::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("{length} bytes announced")));
    }
    let peer = loaded.session.peer;
    let path = part_path(&state, Part::Reply, peer, &parse_hash(&hash)?);
    let at = upload_at(&headers)?;
    let offset = tokio::task::spawn_blocking(move || transfer::append(&path, at, &body, length))
        .await
        .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))??;
    Ok(offset_answer(offset))
}

async fn reply(
    state: AppState,
    Path(sid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let (signed, mut loaded) = session_for(&state, &sid, &method, &uri, &headers, &body)?;
    let s = &mut loaded.session;
    let bytes = match decode::<Payload>(&body)? {
        Payload::Inline(bytes) => bytes,
        Payload::Stored { len, hash } => {
            let path = part_path(&state, Part::Reply, s.peer, &hash);
            if len > MAX_BUNDLE_BYTES || !transfer::verify(&path, len, &hash)? {
                return Err(Refused::new(StatusCode::CONFLICT, "incomplete", "the reply's upload is not complete"));
            }
            let bytes =
                tokio::fs::read(&path).await.map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
            let _ = tokio::fs::remove_file(&path).await;
            bytes
        }
    };
    let core = s.core.take().ok_or_else(|| Refused::new(StatusCode::CONFLICT, "done", "the session is over"))?;
    let core = Session::resume(&core).map_err(crate::platform::error::AppError::from)?;
    if core.ended() {
        // A reply sent again after its answer was lost (or its process killed once it was
        // recorded): everything it carried is committed; a new session carries on.
        return Err(Refused::new(StatusCode::NOT_FOUND, "no-session", "the session already ended: start a new one"));
    }
    let policy = policy_for(&state, school_directory(&state, s.school.as_ref())?, &s.leaf);
    let peer = s.peer;
    let (core, outcome) = {
        let bytes = bytes.clone();
        state
            .db
            .run(move |store| {
                let mut core = core;
                let outcome = core.receive(store, &*policy, &bytes);
                Ok((core, outcome))
            })
            .await?
    };
    let links = &state.part::<Replication>().links;
    let server = &state.part::<Replication>().server;
    let ack = match outcome {
        Ok(Some(ack)) => ack,
        Ok(None) => return Err(Refused::malformed("the reply ended the session without an acknowledgement")),
        Err(preau_sync::Error::Refused(refusal)) => {
            // The session ends here (its core stays out).
            server.save(&loaded)?;
            let reason = refusal.to_string();
            quarantine::keep(links, &state.config.data_dir, peer, &reason, &bytes).await;
            return Err(Refused::new(StatusCode::UNPROCESSABLE_ENTITY, "quarantined", reason));
        }
        Err(e) => return Err(crate::platform::error::AppError::from(e).into()),
    };
    if let Some(reason) = quarantine::refusals(&core.stats().refused_here) {
        quarantine::keep(links, &state.config.data_dir, peer, &reason, &bytes).await;
    }
    let s = &mut loaded.session;
    s.core = Some(core.suspend());
    s.replied = true;
    if let Some(path) = s.offer.take() {
        let _ = tokio::fs::remove_file(path).await;
    }
    server.save(&loaded)?;
    links.synced(peer)?;
    after_merge(&state).await;
    Ok(signed_answer(&state, &signed.nonce, StatusCode::OK, ack))
}

/// After a peer's changes were committed: a server of one school re-reads its directory.
pub async fn after_merge(state: &AppState) {
    if state.config.role.holds_one_school()
        && let Err(e) = state.reload_directory().await
    {
        tracing::error!(error = %e, "reloading the directory after a sync");
    }
}

/// What a school's files take on this server (the documents of its partitions reference them).
async fn usage(state: &AppState, school: &Uai) -> Result<u64, Refused> {
    let scope = Scope::new(vec![ScopeRule::School(school.clone())]);
    let files = super::client::referenced_files(&state.db, scope).await?;
    Ok(files.iter().filter(|(h, _)| state.files.has(&hex::encode(h))).map(|(_, size)| size).sum())
}

fn sorted(mut files: Vec<FileMeta>) -> Vec<FileMeta> {
    // Small files first: a cut link leaves many whole small files rather than half a video.
    files.sort_by_key(|f| (f.size, f.hash));
    files
}

async fn files_plan(
    state: AppState,
    Path(sid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let (signed, mut loaded) = session_for(&state, &sid, &method, &uri, &headers, &body)?;
    let theirs: Vec<FileMeta> = decode(&body)?;
    let scope = loaded.session.scope.clone();
    let referenced = super::client::referenced_files(&state.db, scope).await?;
    let theirs_set: HashMap<[u8; 32], u64> = theirs.iter().map(|f| (f.hash, f.size)).collect();
    let mut plan = FilesPlan::default();
    for (hash, size) in &referenced {
        let here = state.files.has(&hex::encode(hash));
        match (here, theirs_set.contains_key(hash)) {
            (true, false) => plan.client_lacks.push(FileMeta { hash: *hash, size: *size }),
            (false, true) => plan.server_lacks.push(FileMeta { hash: *hash, size: *size }),
            _ => {}
        }
    }
    plan.client_lacks = sorted(plan.client_lacks);
    plan.server_lacks = sorted(plan.server_lacks);
    loaded.session.wanted = plan.server_lacks.iter().map(|f| (f.hash, f.size)).collect();
    loaded.session.offered = plan.client_lacks.iter().map(|f| f.hash).collect();
    state.part::<Replication>().server.save(&loaded)?;
    Ok(signed_answer(&state, &signed.nonce, StatusCode::OK, encode(&plan)))
}

async fn file_download(
    state: AppState,
    Path((sid, hash)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let (_, loaded) = session_for(&state, &sid, &method, &uri, &headers, &[])?;
    let wanted = parse_hash(&hash)?;
    // Only files the files exchange offered (the peer's own documents reference them):
    // never a file by its hash alone.
    if !loaded.session.offered.contains(&wanted) {
        return Err(Refused::new(StatusCode::NOT_FOUND, "no-file", "no such file offered in this session"));
    }
    let path = state.files.path_of(&hash).ok_or_else(|| Refused::malformed("hash"))?;
    ranged(path, &headers).await
}

async fn file_offset(
    state: AppState,
    Path((sid, hash)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    part_offset(&state, Part::File, &sid, &hash, &method, &uri, &headers).await
}

async fn file_upload(
    state: AppState,
    Path((sid, hash)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let (_, loaded) = session_for(&state, &sid, &method, &uri, &headers, &body)?;
    let hash = parse_hash(&hash)?;
    let s = loaded.session;
    let size = s.wanted.get(&hash).copied().ok_or_else(|| {
        Refused::new(StatusCode::CONFLICT, "not-wanted", "upload a file only after the files exchange lists it")
    })?;
    let (peer, school) = (s.peer, s.school);
    if body.len() > MAX_PIECE {
        return Err(Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("{} bytes in one piece", body.len()),
        ));
    }
    let at = upload_at(&headers)?;
    if at == 0
        && let (ServerRole::Hub, Some(uai)) = (state.config.role, &school)
    {
        let used = usage(&state, uai).await?;
        let quota = state.config.school_quota_bytes;
        if used + size > quota {
            return Err(Refused::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "quota",
                format!("school {uai} uses {used} of {quota} bytes; a {size}-byte file does not fit"),
            ));
        }
    }
    let path = part_path(&state, Part::File, peer, &hash);
    let offset = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || transfer::append(&path, at, &body, size))
            .await
            .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))??
    };
    if offset == size && transfer::verify(&path, size, &hash)? {
        state.files.adopt(&hex::encode(hash), &path).await?;
    }
    Ok(offset_answer(offset))
}
