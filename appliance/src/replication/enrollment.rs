//! Enrolment: a one-time code, handed out by the issuer's administrator, lets a replica
//! prove who it is once; the issuer then certifies its key for its partitions.
//!
//! - the hub's administrator creates a code for a school (UAI); the school's director types
//!   the hub's address and the code on the appliance (page or `preau enroll`);
//! - a director creates a code for a teacher's device; the device enrols with the
//!   appliance and gets a certificate for that teacher's classes, chained to the school's.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use preau_sync::certificate::{Certificate, Chain, Grant, Role};
use preau_sync::{Partition, ReplicaId, ReplicaIdentity, Scope, ScopeRule, Uai};
use serde::{Deserialize, Serialize};

use super::Refused;
use super::links::{HubLink, Links, Redeemed};
use crate::replication::Replication;
use crate::school::directory::{Directory, UserId};
use crate::web::AppState;

/// How long a code stays valid.
pub const CODE_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// How long a certificate stays valid without a sync renewing it (a summer, and more).
pub const CERT_TTL: Duration = Duration::from_secs(120 * 24 * 3600);
/// Letters that cannot be misread for one another (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// The refusal's code when a school already has a server.
const SCHOOL_HAS_SERVER: &str = "school-has-server";

/// What a code enrols.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A school appliance (on the hub).
    School(Uai),
    /// A teacher's device (on the school's appliance).
    Device(UserId),
}

impl Subject {
    fn as_text(&self) -> String {
        match self {
            Subject::School(uai) => format!("school:{uai}"),
            Subject::Device(user) => format!("device:{}", user.as_str()),
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':')? {
            ("school", uai) => Uai::parse(uai).ok().map(Subject::School),
            ("device", user) => UserId::parse(user).ok().map(Subject::Device),
            _ => None,
        }
    }
}

/// A fresh code, `XXXX-XXXX-XXXX` (60 bits), stored only as its hash.
pub fn create_code(links: &Links, label: &str, subject: &Subject) -> Result<String, crate::platform::error::AppError> {
    let raw = crate::platform::random_bytes::<12>();
    let code: String = raw.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    let code = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]);
    let expires = crate::platform::clock::now_ms() + CODE_TTL.as_millis() as i64;
    links.add_code(code_hash(&code), label, &subject.as_text(), expires)?;
    Ok(code)
}

/// The hash of a code as typed (case, spaces and dashes do not matter).
fn code_hash(code: &str) -> [u8; 32] {
    let normal: String = code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    *blake3::hash(normal.as_bytes()).as_bytes()
}

/// The partitions a subject may hold, as of `dir` (a device's follow its teacher's classes).
pub fn scope_of(subject: &Subject, dir: &Directory) -> Scope {
    match subject {
        Subject::School(uai) => crate::school::scope_with_communes(uai, dir.communes.iter().cloned()),
        Subject::Device(user) => {
            let Some(uai) = dir.uai() else { return Scope::default() };
            let mut rules = vec![
                ScopeRule::Exact(Partition::School(uai.clone())),
                ScopeRule::Exact(Partition::Staff(uai.clone())),
                ScopeRule::Exact(Partition::Academy),
            ];
            for class in dir.classes_taught_by(user) {
                rules.push(ScopeRule::Exact(crate::school::directory::class_partition(uai, &class.id)));
                for pupil in dir.pupils_of(&class.id) {
                    if let Ok(id) = preau_sync::LocalId::parse(pupil.id.as_str()) {
                        rules.push(ScopeRule::Exact(Partition::Pupil(uai.clone(), id)));
                    }
                }
            }
            Scope::new(rules)
        }
    }
}

/// Issues (or renews) the certificate of `replica` for `subject`.
pub fn certify(
    issuer: &ReplicaIdentity,
    replica: ReplicaId,
    key: [u8; 32],
    subject: &Subject,
    scope: Scope,
) -> Certificate {
    let now = crate::platform::clock::now_ms() as u64;
    let role = match subject {
        Subject::School(_) => Role::School,
        Subject::Device(_) => Role::Device,
    };
    Certificate::issue(
        issuer.signing_key(),
        Grant {
            version: 1,
            serial: crate::platform::random_bytes::<16>(),
            subject: replica,
            subject_key: key,
            role,
            scope,
            issuer_key: [0; 32],
            // An hour of slack for clocks that disagree a little.
            not_before: now.saturating_sub(3_600_000),
            not_after: now + CERT_TTL.as_millis() as u64,
        },
    )
}

/// The chain a replica we certify presents: its certificate, then ours (if we have one).
pub fn chain_for(leaf: Certificate, ours: Option<&HubLink>) -> Chain {
    let mut certs = vec![leaf];
    if let Some(link) = ours {
        certs.extend(link.chain.0.iter().cloned());
    }
    Chain(certs)
}

/// `POST /replication/v1/enroll`.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The code, as typed.
    pub code: String,
    /// The enrolling replica.
    pub replica: ReplicaId,
    /// Its public key, hex.
    pub public_key: String,
}

/// The answer: the replica's chain, and who certified it.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The chain, hex of its postcard bytes.
    pub chain: String,
    /// The server's replica id (sessions name it).
    pub server: ReplicaId,
    /// The server's public key, hex (answers are signed with it).
    pub server_key: String,
    /// What the server calls the enrolled replica.
    pub label: String,
    /// A teacher's computer: the user id of its teacher (absent for a school).
    #[serde(default)]
    pub owner: Option<String>,
}

/// Redeems a code: the server side of enrolment.
pub async fn enroll(
    state: AppState,
    ctx: crate::web::Ctx,
    Json(req): Json<EnrollRequest>,
) -> Result<Json<EnrollResponse>, Refused> {
    let addr = crate::platform::ratelimit::address_key(ctx.client_ip);
    let key = format!("{addr}:enroll");
    if state.limits.attempt(&[(&key, crate::platform::ratelimit::PAIR)]).is_err() {
        return Err(Refused::new(StatusCode::TOO_MANY_REQUESTS, "too-many", format!("enrolment attempts from {addr}")));
    }
    let mut public_key = [0u8; 32];
    hex::decode_to_slice(req.public_key.trim(), &mut public_key)
        .map_err(|_| Refused::malformed("public_key must be 64 hex digits"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&public_key)
        .map_err(|_| Refused::malformed("not an Ed25519 public key"))?;
    let links = &state.part::<Replication>().links;
    let (label, subject) = match links.redeem(code_hash(&req.code), req.replica, public_key)? {
        Redeemed::Enrolled { label, subject } => (label, subject),
        Redeemed::Unknown => {
            return Err(Refused::new(StatusCode::FORBIDDEN, "bad-code", "unknown, used or expired enrolment code"));
        }
        Redeemed::SchoolHasServer { label, last_seen_at } => {
            tracing::warn!(school_server = %label, ?last_seen_at, replica = %req.replica, "a second server for one school");
            return Err(Refused::new(StatusCode::CONFLICT, SCHOOL_HAS_SERVER, label));
        }
    };
    state.limits.succeeded(&[&key], &[]);
    let subject = Subject::parse(&subject).ok_or_else(|| Refused::malformed(format!("stored subject {subject:?}")))?;
    let identity = state.part::<Replication>().identity.clone();
    let scope = scope_of(&subject, &state.directory());
    let leaf = certify(&identity, req.replica, public_key, &subject, scope);
    links.certified(req.replica, leaf.grant.not_after as i64)?;
    let chain = chain_for(leaf, links.hub().as_ref());
    tracing::info!(replica = %req.replica, %label, "replica enrolled");
    Ok(Json(EnrollResponse {
        chain: hex::encode(chain.to_bytes()),
        server: identity.id(),
        server_key: hex::encode(identity.public_key().to_bytes()),
        label,
        owner: match subject {
            Subject::Device(user) => Some(user.to_string()),
            Subject::School(_) => None,
        },
    }))
}

/// Why enrolling failed. What the person who typed the code reads is [`EnrollError::message`];
/// `Display` is for logs.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The server could not be reached: its address, and why.
    #[error("{0} unreachable: {1}")]
    Unreachable(String, String),
    /// The code was refused.
    #[error("unknown, used or expired enrolment code")]
    BadCode,
    /// The school already has a server enrolled (what the hub says of it).
    #[error("the school already has a server: {0}")]
    SchoolHasServer(String),
    /// The address typed is not a web address.
    #[error("not a hub address: {0:?}")]
    BadAddress(String),
    /// Anything else the server said.
    #[error("enrolment refused: {0}")]
    Refused(String),
}

impl EnrollError {
    /// What to tell the person who typed the code, in their language.
    pub fn message(&self, l: crate::platform::i18n::Locale) -> String {
        match self {
            EnrollError::Unreachable(url, detail) => l.ta("enroll-unreachable", &[("url", url), ("detail", detail)]),
            EnrollError::BadCode => l.t("enroll-bad-code"),
            EnrollError::SchoolHasServer(server) => l.ta("enroll-school-has-server", &[("server", server)]),
            EnrollError::BadAddress(_) => l.t("sync-bad-hub-url"),
            EnrollError::Refused(detail) => l.ta("enroll-refused", &[("detail", detail)]),
        }
    }
}

/// Enrols this replica with the server at `url` (trusting only `ca` for it, when given):
/// records the server and our chain.
pub async fn enroll_with(
    links: &Links,
    identity: &ReplicaIdentity,
    url: &str,
    ca: Option<&std::path::Path>,
    code: &str,
) -> Result<HubLink, EnrollError> {
    let url = url.trim().trim_end_matches('/').to_owned();
    let client = super::client::http_client(ca).map_err(|e| EnrollError::Unreachable(url.clone(), e))?;
    let request = EnrollRequest {
        code: code.to_owned(),
        replica: identity.id(),
        public_key: hex::encode(identity.public_key().to_bytes()),
    };
    let response = client
        .post(format!("{url}{}/enroll", super::PREFIX))
        .json(&request)
        .send()
        .await
        .map_err(|e| EnrollError::Unreachable(url.clone(), format!("{e:#}")))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| EnrollError::Unreachable(url.clone(), e.to_string()))?;
    if status == StatusCode::FORBIDDEN {
        return Err(EnrollError::BadCode);
    }
    let text = String::from_utf8_lossy(&body);
    if let (StatusCode::CONFLICT, Some(server)) = (status, text.strip_prefix(&format!("{SCHOOL_HAS_SERVER}: "))) {
        return Err(EnrollError::SchoolHasServer(server.trim().to_owned()));
    }
    if !status.is_success() {
        return Err(EnrollError::Refused(format!("{status}: {}", String::from_utf8_lossy(&body).trim())));
    }
    let answer: EnrollResponse =
        serde_json::from_slice(&body).map_err(|e| EnrollError::Refused(format!("unreadable answer: {e}")))?;
    let bad = |what: &str| EnrollError::Refused(format!("unreadable {what}"));
    let chain = Chain::from_bytes(&hex::decode(&answer.chain).map_err(|_| bad("chain"))?).map_err(|_| bad("chain"))?;
    let mut hub_key = [0u8; 32];
    hex::decode_to_slice(&answer.server_key, &mut hub_key).map_err(|_| bad("key"))?;
    let leaf = chain.leaf().ok_or_else(|| bad("chain"))?;
    if leaf.subject != identity.id() || leaf.subject_key != identity.public_key().to_bytes() {
        return Err(EnrollError::Refused("the certificate is not for this replica".into()));
    }
    let link = HubLink {
        url,
        hub_id: answer.server,
        hub_key,
        chain,
        enrolled_at: crate::platform::clock::now_ms(),
        owner: answer.owner,
    };
    links.set_hub(&link).map_err(|e| EnrollError::Refused(e.to_string()))?;
    Ok(link)
}

/// Enrols this server with its hub (the director's sync page, the setup page's « this school
/// already has a server », `preau enroll`): records the link, holds what the certificate
/// grants (a replacement's first sync then brings the school back) and asks for that sync.
pub async fn enrol(state: &AppState, url: &str, code: &str) -> Result<HubLink, EnrollError> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 300 {
        return Err(EnrollError::BadAddress(url.to_owned()));
    }
    let replication = state.part::<Replication>();
    let link =
        enroll_with(&replication.links, &replication.identity, url, state.config.hub_ca.as_deref(), code).await?;
    // Enrolled (the code is spent): a failure to hold the partitions now is retried after
    // every sync, not a refusal.
    if let Err(e) = hold_granted(state, &link).await {
        tracing::error!(error = %e, "holding the certificate's partitions after enrolment");
    }
    replication.runner.trigger();
    Ok(link)
}

/// A teacher's computer holds what its certificate grants (her classes, as of its last
/// renewal); so does an appliance enrolled before its school exists here (a replacement
/// for a broken one), so that its first sync brings the school back.
pub async fn hold_granted(state: &AppState, link: &HubLink) -> Result<(), crate::platform::error::AppError> {
    let device = state.config.role == crate::platform::config::Role::Device;
    if !device && state.directory().school.is_some() {
        return Ok(());
    }
    let Some(scope) = link.chain.leaf().map(|g| g.scope.clone()) else { return Ok(()) };
    state
        .db
        .run(move |store| {
            store.set_scope(scope);
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::i18n::Locale;

    #[test]
    fn enrolment_errors_speak_the_language_of_whoever_typed_the_code() {
        let (fr, en) = (Locale::default(), Locale::negotiate(Some("en")));
        let unreachable = EnrollError::Unreachable("https://hub.example".into(), "connection refused".into());
        assert_eq!(
            unreachable.message(fr),
            "Le serveur https://hub.example est injoignable : vérifiez l'adresse et la connexion internet \
             (connection refused)."
        );
        assert!(unreachable.message(en).starts_with("The server https://hub.example cannot be reached"));
        assert!(EnrollError::BadCode.message(fr).starts_with("Ce code d'enrôlement est inconnu"));
        assert!(EnrollError::BadCode.message(en).starts_with("This enrolment code is unknown"));
        assert!(EnrollError::Refused("503".into()).message(en).contains("(503)"));
        // Logs keep the precise English.
        assert_eq!(unreachable.to_string(), "https://hub.example unreachable: connection refused");
    }

    #[test]
    fn codes_are_single_use_and_forgiving_to_type() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(&dir.path().join("links.db")).unwrap();
        let uai = Uai::parse("0290001A").unwrap();
        let code = create_code(&links, "École du Bourg", &Subject::School(uai.clone())).unwrap();
        assert_eq!(code.len(), 14);
        let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
        let me = ReplicaIdentity::generate();
        let key = me.public_key().to_bytes();
        let Redeemed::Enrolled { label, subject } = links.redeem(code_hash(&typed), me.id(), key).unwrap() else {
            panic!("the code enrols")
        };
        assert_eq!((label.as_str(), Subject::parse(&subject)), ("École du Bourg", Some(Subject::School(uai.clone()))));
        assert_eq!(links.redeem(code_hash(&code), me.id(), key).unwrap(), Redeemed::Unknown, "used once");
        assert!(links.enrolled(me.id()).unwrap().is_some());

        // One server per school: a second one waits, its code unspent, until the first is revoked.
        let second = create_code(&links, "Portable de Mme Roux", &Subject::School(uai)).unwrap();
        let laptop = ReplicaIdentity::generate();
        let laptop_key = laptop.public_key().to_bytes();
        assert_eq!(
            links.redeem(code_hash(&second), laptop.id(), laptop_key).unwrap(),
            Redeemed::SchoolHasServer { label: "École du Bourg".into(), last_seen_at: None }
        );
        assert!(links.enrolled(laptop.id()).unwrap().is_none());
        assert!(links.revoke(me.id()).unwrap());
        assert!(links.enrolled(me.id()).unwrap().unwrap().revoked_at.is_some());
        assert!(matches!(
            links.redeem(code_hash(&second), laptop.id(), laptop_key).unwrap(),
            Redeemed::Enrolled { .. }
        ));
    }
}
