//! Sessions and CSRF. Every visitor carries a random `preau_sid` cookie (HttpOnly,
//! SameSite=Lax, Secure when served over HTTPS); logged-in sessions are kept in the
//! server's records against its hash (a restart signs nobody out; every process of a hub
//! sees every session) and end after an idle time that is shorter for pupils. A form's
//! CSRF token is a keyed hash of the sid, so it needs no storage and changes when the sid
//! does (at login); each answer carries it under a fresh random mask, since answers are
//! compressed (BREACH).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;

use super::{AppState, kept};
use crate::platform::clock::now_ms;
use crate::platform::config::Config;
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::platform::records::Records;
use crate::school::directory::{CredentialMark, Directory, Member, Profile, UserId};
use preau_sync::Uai;
use preau_sync::sql::{Row, args};

const COOKIE: &str = "preau_sid";
/// Logged-in sessions kept at most (a row is about 200 bytes: 40 MB); past it, expired ones
/// go, then the one unused for longest.
const MAX_SESSIONS: i64 = 200_000;
/// Sessions one person may hold at once (devices); a new one ends their oldest.
const MAX_SESSIONS_PER_USER: i64 = 10;
/// A session's last use is written to the records when it is used a minute or more after
/// the last write (a quarter of its idle time, if shorter): one write a minute per active
/// session, not one per page. A session may so end up to a minute (a quarter of its idle
/// time) before that time has passed since its very last page.
const SEEN_EVERY_MS: i64 = 60_000;

/// A logged-in session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// At which school: the hub answers each session within its person's school (see
    /// `web::schools`); `None` for the hub's administrator.
    pub school: Option<Uai>,
    /// Who.
    pub user: UserId,
    /// As what.
    pub profile: Profile,
    /// "Prénom Nom", for the header.
    pub display_name: String,
    /// The account must choose a new password before anything else.
    pub must_change_password: bool,
    /// The account's credentials when the session opened (`Directory::credential_mark`):
    /// a session ends when they change. `None`: the hub administrator's.
    pub credential: Option<CredentialMark>,
    /// Opened by a family's switch from another of its accounts (`school::family`): ends
    /// when the family is unlinked.
    pub switched: bool,
    /// Its last use as the records have it (Unix ms).
    seen_at: i64,
}

impl SignedIn {
    /// A fresh session.
    pub fn new(
        school: Option<Uai>,
        user: UserId,
        profile: Profile,
        display_name: String,
        must_change_password: bool,
    ) -> Self {
        Self {
            school,
            user,
            profile,
            display_name,
            must_change_password,
            credential: None,
            switched: false,
            seen_at: now_ms(),
        }
    }

    /// A fresh session for a member of `dir`'s school, which lasts as long as its
    /// credentials do.
    pub fn of(dir: &Directory, member: &Member, must_change_password: bool) -> Self {
        let mut session =
            Self::new(dir.uai().cloned(), member.id.clone(), member.profile, member.full_name(), must_change_password);
        session.credential = Some(dir.credential_mark(&member.id));
        session
    }

    /// Whether this is the hub administrator's session (`hub_login`'s): of no school, and
    /// opened by no account's credentials. A console account's session is of no school too,
    /// but carries its account's mark; a school's directory may call anyone `academy_admin`,
    /// but its sessions are of its school.
    pub fn is_hub_admin(&self) -> bool {
        self.profile == Profile::AcademyAdmin && self.school.is_none() && self.credential.is_none()
    }

    /// Whether this is `user` of `school` (ids are unique within a school; the hub holds
    /// several).
    pub fn is(&self, school: Option<&Uai>, user: &UserId) -> bool {
        self.school.as_ref() == school && self.user == *user
    }
}

/// All logged-in sessions.
pub struct Sessions {
    key: [u8; 32],
    secure: bool,
    pupil_idle: Duration,
    adult_idle: Duration,
    records: Records,
    /// Every session of the records, by sid hash, when this process is their only one
    /// (SQLite): loaded at start, then changed with them, so that pages read sessions from
    /// memory. `None` on a hub whose processes share PostgreSQL: each request reads its
    /// session from the records, where another process may have ended it.
    cache: Option<Mutex<HashMap<[u8; 32], SignedIn>>>,
}

/// The columns of a session, in [`Sessions::row`]'s order.
const COLUMNS: &str = "school, user_id, profile, display_name, must_change, credential, switched, seen_at";

fn sid_hash(sid: &str) -> [u8; 32] {
    *blake3::hash(sid.as_bytes()).as_bytes()
}

impl Sessions {
    /// The sessions kept in `records`.
    pub fn new(key: [u8; 32], config: &Config, records: Records) -> Result<Self, AppError> {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self::with_idle(
            key,
            config.secure_cookies(),
            minutes(config.pupil_idle_minutes),
            minutes(config.adult_idle_minutes),
            records,
        )
    }

    fn with_idle(
        key: [u8; 32],
        secure: bool,
        pupil_idle: Duration,
        adult_idle: Duration,
        records: Records,
    ) -> Result<Self, AppError> {
        let mut sessions = Self { key, secure, pupil_idle, adult_idle, records, cache: None };
        if !sessions.records.shared() {
            let all = sessions.records.with(|c| {
                c.query(&format!("SELECT sid_hash, {COLUMNS} FROM web_session"), args![], |r| {
                    Ok(r.get::<Vec<u8>>(0)?.try_into().ok().zip(Self::row(r, 1)?))
                })
            })?;
            sessions.cache = Some(Mutex::new(all.into_iter().flatten().collect()));
        }
        Ok(sessions)
    }

    /// A session from its columns ([`COLUMNS`]) from `at` on; `None` if they no longer read
    /// as one (a profile or an id this version does not know).
    fn row(r: &Row<'_>, at: usize) -> preau_sync::Result<Option<SignedIn>> {
        let school: String = r.get(at)?;
        let (user, profile): (String, String) = (r.get(at + 1)?, r.get(at + 2)?);
        let credential: Option<Vec<u8>> = r.get(at + 5)?;
        let (Ok(user), Some(profile)) = (UserId::parse(&user), Profile::parse(&profile)) else { return Ok(None) };
        // A mark that does not read is no session (never one without a mark: that is the
        // hub administrator's).
        let credential = match credential.map(<[u8; 16]>::try_from) {
            None => None,
            Some(Ok(mark)) => Some(CredentialMark(mark)),
            Some(Err(_)) => return Ok(None),
        };
        let school = if school.is_empty() { None } else { Uai::parse(&school).ok() };
        Ok(Some(SignedIn {
            school,
            user,
            profile,
            display_name: r.get(at + 3)?,
            must_change_password: r.get(at + 4)?,
            credential,
            switched: r.get(at + 6)?,
            seen_at: r.get(at + 7)?,
        }))
    }

    fn idle_limit(&self, profile: Profile) -> Duration {
        if profile == Profile::Pupil { self.pupil_idle } else { self.adult_idle }
    }

    fn idle_ms(&self, profile: Profile) -> i64 {
        i64::try_from(self.idle_limit(profile).as_millis()).unwrap_or(i64::MAX)
    }

    /// The CSRF token of a sid.
    pub fn csrf_for(&self, sid: &str) -> String {
        self.keyed_hash("csrf", &[sid])[..32].to_owned()
    }

    /// A hex MAC of `parts` under the server's secret key, for `context` (what it signs).
    pub fn keyed_hash(&self, context: &str, parts: &[&str]) -> String {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(context.as_bytes());
        for part in parts {
            hasher.update(b"\0");
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    fn cached<T>(&self, f: impl FnOnce(&mut HashMap<[u8; 32], SignedIn>) -> T) -> Option<T> {
        self.cache.as_ref().map(|c| f(&mut c.lock().unwrap_or_else(|p| p.into_inner())))
    }

    /// The session of `sid`, as the records have it (or their copy in memory).
    fn get(&self, hash: &[u8; 32]) -> Result<Option<SignedIn>, AppError> {
        if let Some(found) = self.cached(|c| c.get(hash).cloned()) {
            return Ok(found);
        }
        let found = self.records.with(|c| {
            c.query_opt(&format!("SELECT {COLUMNS} FROM web_session WHERE sid_hash = ?"), args![hash], |r| {
                Self::row(r, 0)
            })
        })?;
        Ok(found.flatten())
    }

    fn touch(&self, sid: &str) -> Option<SignedIn> {
        let hash = sid_hash(sid);
        let mut session = self.get(&hash).inspect_err(|e| tracing::error!(error = %e, "reading a session")).ok()??;
        let now = now_ms();
        let since = now - session.seen_at;
        if since > self.idle_ms(session.profile) {
            self.end_hashes(&[hash]);
            return None;
        }
        if since >= SEEN_EVERY_MS.min(self.idle_ms(session.profile) / 4) {
            session.seen_at = now;
            let written = self
                .records
                .with(|c| c.execute("UPDATE web_session SET seen_at = ? WHERE sid_hash = ?", args![now, hash]));
            match written {
                // Ended meanwhile (on another process of the hub).
                Ok(0) => {
                    self.cached(|c| c.remove(&hash));
                    return None;
                }
                Ok(_) => {
                    self.cached(|c| c.insert(hash, session.clone()));
                }
                Err(e) => tracing::error!(error = %e, "recording a session's use"),
            }
        }
        Some(session)
    }

    /// Writes a new session.
    fn put(&self, c: &preau_sync::sql::Conn, hash: &[u8; 32], s: &SignedIn) -> preau_sync::Result<()> {
        let school = s.school.as_ref().map(Uai::to_string).unwrap_or_default();
        c.execute(
            &format!("INSERT INTO web_session (sid_hash, {COLUMNS}, idle_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            args![
                hash,
                school,
                s.user.as_str(),
                s.profile.as_str(),
                s.display_name,
                s.must_change_password,
                s.credential.map(|m| m.0.to_vec()),
                s.switched,
                s.seen_at,
                self.idle_ms(s.profile)
            ],
        )
        .map(drop)
    }

    /// Starts a session; returns the new sid (the caller sets it as the cookie).
    pub fn start(&self, mut session: SignedIn) -> String {
        let sid = hex::encode(crate::platform::random_bytes::<32>());
        let hash = sid_hash(&sid);
        session.seen_at = now_ms();
        let school = session.school.as_ref().map(Uai::to_string).unwrap_or_default();
        let ended = self.records.write(|c| {
            // One person cannot crowd others out of the table: her newest stay.
            let mut ended: Vec<Vec<u8>> = c.query(
                "DELETE FROM web_session WHERE school = ?1 AND user_id = ?2 AND sid_hash NOT IN \
                 (SELECT sid_hash FROM web_session WHERE school = ?1 AND user_id = ?2 ORDER BY seen_at DESC LIMIT ?3) \
                 RETURNING sid_hash",
                args![school, session.user.as_str(), MAX_SESSIONS_PER_USER - 1],
                |r| r.get(0),
            )?;
            let n: i64 = c.query_one("SELECT count(*) FROM web_session", args![], |r| r.get(0))?;
            if n >= MAX_SESSIONS {
                let now = session.seen_at;
                ended.extend(c.query(
                    "DELETE FROM web_session WHERE seen_at + idle_ms < ? RETURNING sid_hash",
                    args![now],
                    |r| r.get(0),
                )?);
                ended.extend(c.query(
                    "DELETE FROM web_session WHERE sid_hash IN \
                     (SELECT sid_hash FROM web_session ORDER BY seen_at LIMIT ?) RETURNING sid_hash",
                    args![(n - ended.len() as i64 - MAX_SESSIONS + 1).max(0)],
                    |r| r.get(0),
                )?);
            }
            self.put(c, &hash, &session)?;
            Ok(ended)
        });
        match ended {
            Ok(ended) => {
                self.cached(|c| {
                    for h in ended.iter().filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok()) {
                        c.remove(&h);
                    }
                    c.insert(hash, session);
                });
            }
            // The visitor is told to sign in again: the session is nowhere.
            Err(e) => tracing::error!(error = %e, "recording a new session"),
        }
        sid
    }

    /// Changes a session in place.
    pub fn update(&self, sid: &str, f: impl FnOnce(&mut SignedIn)) {
        let hash = sid_hash(sid);
        let changed = self.get(&hash).and_then(|found| {
            let Some(mut session) = found else { return Ok(()) };
            f(&mut session);
            // An update, never an insert: a session ended meanwhile (a reset, a logout, on
            // another process) stays ended.
            let written = self.records.with(|c| {
                c.execute(
                    "UPDATE web_session SET display_name = ?, must_change = ?, credential = ?, switched = ? \
                     WHERE sid_hash = ?",
                    args![
                        session.display_name,
                        session.must_change_password,
                        session.credential.map(|m| m.0.to_vec()),
                        session.switched,
                        hash
                    ],
                )
            })?;
            self.cached(|c| if written > 0 { c.insert(hash, session) } else { c.remove(&hash) });
            Ok(())
        });
        if let Err(e) = changed {
            tracing::error!(error = %e, "changing a session");
        }
    }

    fn end_hashes(&self, hashes: &[[u8; 32]]) {
        let ended = self.records.write(|c| {
            for h in hashes {
                c.execute("DELETE FROM web_session WHERE sid_hash = ?", args![h])?;
            }
            Ok(())
        });
        if let Err(e) = ended {
            tracing::error!(error = %e, "ending a session");
        }
        self.cached(|c| hashes.iter().for_each(|h| drop(c.remove(h))));
    }

    /// Ends a session.
    pub fn end(&self, sid: &str) {
        self.end_hashes(&[sid_hash(sid)]);
    }

    /// Ends the sessions of `school`'s `user` but `keep`'s, only those a family's switch
    /// opened when `switched_only`.
    fn end_of(&self, school: Option<&Uai>, user: &UserId, keep: Option<&str>, switched_only: bool) {
        let school = school.map(Uai::to_string).unwrap_or_default();
        let keep = keep.map(sid_hash).unwrap_or_default();
        let ended = self.records.with(|c| {
            c.query(
                "DELETE FROM web_session WHERE school = ? AND user_id = ? AND sid_hash != ? AND (switched = 1 OR ? = 0) \
                 RETURNING sid_hash",
                args![school, user.as_str(), keep, switched_only],
                |r| r.get::<Vec<u8>>(0),
            )
        });
        match ended {
            Ok(ended) => {
                self.cached(|c| {
                    ended
                        .iter()
                        .filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
                        .for_each(|h| drop(c.remove(&h)))
                });
            }
            Err(e) => tracing::error!(error = %e, "ending a person's sessions"),
        }
    }

    /// Ends the sessions a family's switch opened into these accounts (after an unlink) but
    /// `keep`.
    pub fn end_switched_into(&self, accounts: &[(Option<Uai>, UserId)], keep: &str) {
        for (school, user) in accounts {
            self.end_of(school.as_ref(), user, Some(keep), true);
        }
    }

    /// Ends every session of a school's user (after a credential reset or a revoked card)
    /// but `keep`.
    pub fn end_all_of(&self, school: Option<&Uai>, user: &UserId, keep: Option<&str>) {
        self.end_of(school, user, keep, false);
    }

    /// Forgets the sessions past their idle time (housekeeping); how many.
    pub fn sweep(&self) -> Result<usize, AppError> {
        let ended = self.records.with(|c| {
            c.query("DELETE FROM web_session WHERE seen_at + idle_ms < ? RETURNING sid_hash", args![now_ms()], |r| {
                r.get::<Vec<u8>>(0)
            })
        })?;
        self.cached(|c| {
            ended.iter().filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok()).for_each(|h| drop(c.remove(&h)))
        });
        Ok(ended.len())
    }

    /// The `Set-Cookie` value for `sid`.
    pub fn cookie(&self, sid: String) -> String {
        Cookie::build((COOKIE, sid))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .build()
            .to_string()
    }
}

/// What handlers know about the request: language, client address, sid, CSRF token and
/// the signed-in session, if any.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Negotiated language.
    pub locale: Locale,
    /// The client's address (None in in-process tests without connection info).
    pub client_ip: Option<IpAddr>,
    /// The session id cookie.
    pub sid: String,
    /// The CSRF token forms must carry, masked afresh for this answer ([`mask_csrf`]).
    pub csrf: String,
    /// The session's unmasked token, which submitted ones are checked against.
    session_csrf: String,
    /// The signed-in session.
    pub signed_in: Option<SignedIn>,
    /// The session came as a bearer token (API clients): no cookie, so no CSRF to fear.
    pub bearer: bool,
    /// The « dernière synchronisation » line, for staff.
    pub sync_note: Option<String>,
    /// The teacher's own computer, signed in (`Chrome::own_computer`).
    pub own_computer: bool,
    /// Known-device tokens this browser carries (`accounts::devices`).
    pub known_devices: Vec<String>,
    /// The class-tablet token this browser carries, if any.
    pub tablet: Option<String>,
    /// On the hub, the name of the school the request acts within (pages name it).
    pub school_name: Option<String>,
}

impl Ctx {
    /// The signed-in session, or a redirect to the login page.
    pub fn user(&self) -> Result<&SignedIn, AppError> {
        self.signed_in.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// A urlencoded form as name–value pairs (ticked checkboxes repeat a name, which a struct
    /// cannot gather), once its CSRF token is checked.
    pub fn form_pairs(&self, body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| AppError::bad("error-bad-form", e.to_string()))?;
        let token = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
        self.check_csrf(token)?;
        Ok(pairs)
    }

    /// Checks a submitted CSRF token: masked, as pages and the API hand it out, or bare (the
    /// bare token never appears in an answer, so sizes cannot give it away).
    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        let token = unmask_csrf(token).unwrap_or_else(|| token.to_owned());
        // Both are hex of the same length; a timing difference would reveal nothing usable
        // since the token is bound to the sid, but compare in constant time anyway.
        let ok = token.len() == self.session_csrf.len()
            && token.bytes().zip(self.session_csrf.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if ok { Ok(()) } else { Err(AppError::Csrf) }
    }
}

/// The session's CSRF token under a fresh random mask: the mask, then the token XOR the mask,
/// in hex. Pages are compressed; a secret repeated byte for byte in every page, next to text
/// someone else chose (a message's subject), could be guessed a character at a time from the
/// compressed sizes (BREACH). A different mask in each answer leaves nothing to guess.
pub fn mask_csrf(token: &str) -> String {
    let Some(raw) = hex::decode(token).ok().filter(|raw| raw.len() == 16) else { return token.to_owned() };
    // Every page draws one: the thread's CSPRNG (ChaCha, seeded and reseeded by the OS)
    // spares a system call per page.
    let mask: [u8; 16] = rand::random();
    let masked: Vec<u8> = raw.iter().zip(mask).map(|(t, m)| t ^ m).collect();
    format!("{}{}", hex::encode(mask), hex::encode(masked))
}

/// The token a [`mask_csrf`] output carries, or `None` if `token` is not one.
fn unmask_csrf(token: &str) -> Option<String> {
    let bytes = hex::decode(token).ok()?;
    if bytes.len() != 32 {
        return None;
    }
    let (mask, masked) = bytes.split_at(16);
    Some(hex::encode(mask.iter().zip(masked).map(|(m, t)| m ^ t).collect::<Vec<u8>>()))
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| AppError::Internal("session layer missing".into()))
    }
}

/// A urlencoded form whose `csrf` field has been checked. Every HTML form posts through it.
pub struct CsrfForm<T>(pub T);

/// A form with nothing but its `csrf` field (a button).
#[derive(serde::Deserialize)]
pub struct Empty {}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let ctx = req.extensions().get::<Ctx>().cloned().ok_or_else(|| AppError::Internal("no session".into()))?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::bad("error-too-large", format!("form body: {e}")))?;
        let token: CsrfOnly = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfOnly { csrf: String::new() });
        ctx.check_csrf(&token.csrf)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| AppError::bad("error-bad-form", e.to_string()))?;
        Ok(CsrfForm(form))
    }
}

/// Middleware: gives every request a [`Ctx`], sets the sid cookie when it is new, and keeps
/// a session that must change its password on the password page.
pub async fn layer(state: AppState, mut request: Request, next: Next) -> Response {
    // Static assets are the same for everyone: no session to look up, and no cookie on an
    // answer that browsers keep for a year. Nor for a probe of the server's health.
    if request.uri().path().starts_with("/static/") || request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    // A replica shared with other hub processes: what they wrote since shows here.
    state.db.refresh();
    let locale = Locale::negotiate(request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    // `MockConnectInfo` stands in for the socket in in-process tests and benchmarks.
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| request.extensions().get::<MockConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
    let cookies: Vec<Cookie<'static>> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .collect();
    let existing = cookies
        .iter()
        .find(|c| c.name() == COOKIE && c.value().len() == 64 && c.value().bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|c| c.value().to_owned());
    let (known_devices, tablet) = device_cookies(&cookies);
    let bearer_token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let bearer = bearer_token.is_some();
    let mut fresh = existing.is_none() && !bearer;
    let mut sid = bearer_token.or(existing).unwrap_or_else(|| hex::encode(crate::platform::random_bytes::<32>()));
    let mut signed_in = state.sessions.touch(&sid);
    // On the hub, the request acts within one school (`web::schools`): the signed-in
    // person's, else the one its address names (`/ecoles/{uai}/…`), else the one this
    // browser chose (`school::portal`); before any, within none, where nobody is anybody.
    let state = match state.config.role {
        crate::platform::config::Role::Hub => {
            let addressed = request.extensions().get::<super::schools::Addressed>().map(|a| a.0.clone());
            let school = match &signed_in {
                Some(s) => s.school.clone(),
                None => addressed.or_else(|| chosen_school(&cookies)),
            };
            let within = school.and_then(|uai| state.within(&uai).ok());
            within.unwrap_or(state)
        }
        _ => state,
    };
    // Handlers and the services' middleware (`usage::visits`) take the state from here.
    request.extensions_mut().insert(state.clone());
    // A session lasts as long as what opened it: the account's credentials (a reset, a new
    // password, a revoked card or a disabled account ends it, here or, on the hub, once the
    // school synced), the person at the school, and for a parent a class open to families.
    if let Some(s) = &signed_in
        && let Some(mark) = s.credential
    {
        let dir = state.directory();
        let alive = match s.school {
            // A console account's (the académie's or a commune's staff), on the hub.
            None => state.try_part::<super::SchoollessSession>().is_some_and(|check| (check.0)(&state, s)),
            _ => {
                dir.member(&s.user).is_some_and(|m| !m.person.archived && dir.on_the_ent(m))
                    && dir.credential_mark(&s.user) == mark
            }
        };
        if !alive {
            state.sessions.end(&sid);
            signed_in = None;
        }
    }
    // The desktop app's window is its computer's teacher (`window`).
    if signed_in.is_none()
        && !bearer
        && let Some(owner) = request.extensions().get::<super::window::Owner>().and_then(|o| (o.0)(&state))
    {
        sid = state.start_session(owner.clone());
        signed_in = Some(owner);
        fresh = true;
    }
    if let Some(s) = &signed_in {
        let path = request.uri().path();
        // API requests get a JSON refusal from their extractor instead of a redirect.
        // A console account changes it on the console's own page.
        let page = if s.school.is_none() { "/console/password" } else { "/password" };
        let allowed = path == page || path == "/logout" || path.starts_with("/api/");
        if s.must_change_password && !allowed {
            return Redirect::to(page).into_response();
        }
    }
    let session_csrf = state.sessions.csrf_for(&sid);
    let csrf = mask_csrf(&session_csrf);
    let sync_note = signed_in
        .as_ref()
        .filter(|s| s.profile.is_staff())
        .and_then(|_| (state.part::<super::PageNote>().0)(&state, locale));
    // A page kept for this person (`kept`), or what the handler answers, kept if it may be.
    let keep = match &signed_in {
        Some(who) if request.method() == Method::GET && !bearer => {
            let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
            let key = kept::Key::new(who, locale, sync_note.as_deref(), target);
            let generation = state.db.generation();
            if let Some(page) = state.kept.answer(&key, generation, &csrf) {
                return page;
            }
            Some((key, generation, csrf.clone()))
        }
        _ => None,
    };
    request.extensions_mut().insert(Ctx {
        locale,
        client_ip,
        sid: sid.clone(),
        csrf,
        session_csrf,
        own_computer: signed_in.is_some() && state.config.role == crate::platform::config::Role::Device,
        signed_in,
        bearer,
        sync_note,
        known_devices,
        tablet,
        school_name: state.one_of_several().and(state.directory().school.as_ref()).map(|s| s.info.name.clone()),
    });
    let mut response = next.run(request).await;
    // An error page, said again in the reader's language (`error_page::Shown`).
    if let Some(shown) = response.extensions().get::<super::error_page::Shown>().copied()
        && locale.lang() != Locale::default().lang()
    {
        response = shown.in_language(locale, response);
    }
    if let Some((key, generation, csrf)) = keep {
        response = state.kept.keep(key, generation, &csrf, response).await;
    }
    if fresh
        && !response.headers().contains_key(header::SET_COOKIE)
        && let Ok(v) = state.sessions.cookie(sid).parse()
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The cookie that names the school a browser chose on the hub (`school::portal`): which
/// school's public page and login page it sees before anyone signs in. It grants nothing.
pub const SCHOOL_COOKIE: &str = "preau_school";

/// The school a browser chose on the hub, if its cookie names one.
fn chosen_school(cookies: &[Cookie<'_>]) -> Option<Uai> {
    cookies.iter().find(|c| c.name() == SCHOOL_COOKIE).and_then(|c| Uai::parse(c.value()).ok())
}

/// The cookie that lists the accounts this browser logged into.
pub const KNOWN_COOKIE: &str = "preau_known";
/// The cookie of a class tablet.
pub const TABLET_COOKIE: &str = "preau_tablet";
/// Accounts remembered per browser (a shared classroom PC); the oldest goes first.
pub const KNOWN_PER_DEVICE: usize = 8;

/// Reads the device cookies of a request: (known-device tokens, tablet token).
pub fn device_cookies(cookies: &[Cookie<'_>]) -> (Vec<String>, Option<String>) {
    let (mut known, mut tablet) = (Vec::new(), None);
    for c in cookies {
        match c.name() {
            KNOWN_COOKIE => {
                known =
                    c.value().split('~').filter(|t| t.len() <= 128).take(KNOWN_PER_DEVICE).map(str::to_owned).collect();
            }
            TABLET_COOKIE if c.value().len() == 64 && c.value().bytes().all(|b| b.is_ascii_hexdigit()) => {
                tablet = Some(c.value().to_owned());
            }
            _ => {}
        }
    }
    (known, tablet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(key: u8, secure: bool, pupil: Duration, adult: Duration) -> (Sessions, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open_sqlite(&dir.path().join("links.db")).unwrap();
        (Sessions::with_idle([key; 32], secure, pupil, adult, records).unwrap(), dir)
    }

    #[test]
    fn pupils_sessions_end_sooner_than_adults() {
        let (sessions, _dir) = sessions(7, false, Duration::from_millis(30), Duration::from_secs(3600));
        let id = || UserId::random();
        let pupil = sessions.start(SignedIn::new(None, id(), Profile::Pupil, "Léa".into(), false));
        let teacher = sessions.start(SignedIn::new(None, id(), Profile::Teacher, "Sophie".into(), false));
        assert!(sessions.touch(&pupil).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(sessions.touch(&pupil).is_none(), "idle pupil session ended");
        assert!(sessions.touch(&teacher).is_some(), "the adult's goes on");
        assert!(sessions.touch(&pupil).is_none(), "and stays ended");
    }

    #[test]
    fn a_session_outlives_a_restart_and_its_end_too() {
        let dir = tempfile::tempdir().unwrap();
        let open = || {
            let records = Records::open_sqlite(&dir.path().join("links.db")).unwrap();
            Sessions::with_idle([7; 32], false, Duration::from_secs(60), Duration::from_secs(60), records).unwrap()
        };
        let sessions = open();
        let kept = sessions.start(SignedIn::new(None, UserId::random(), Profile::Parent, "Inès".into(), false));
        let ended = sessions.start(SignedIn::new(None, UserId::random(), Profile::Teacher, "Sophie".into(), true));
        sessions.update(&kept, |s| s.display_name = "Inès D.".into());
        sessions.end(&ended);
        sessions.update(&ended, |s| s.must_change_password = false);
        drop(sessions);
        let sessions = open();
        assert_eq!(sessions.touch(&kept).map(|s| s.display_name).as_deref(), Some("Inès D."));
        assert!(sessions.touch(&ended).is_none(), "ended, and a change after its end does not bring it back");
        let stored: Vec<Vec<u8>> =
            sessions.records.with(|c| c.query("SELECT sid_hash FROM web_session", args![], |r| r.get(0))).unwrap();
        assert_eq!(stored, [sid_hash(&kept).to_vec()], "only its hash is kept, never the sid");
    }

    #[test]
    fn one_person_holds_at_most_ten_sessions() {
        let (sessions, _dir) = sessions(7, false, Duration::from_secs(60), Duration::from_secs(60));
        let pupil = UserId::random();
        let sids: Vec<String> = (0..MAX_SESSIONS_PER_USER + 1)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(2));
                sessions.start(SignedIn::new(None, pupil.clone(), Profile::Pupil, "Léa".into(), false))
            })
            .collect();
        assert!(sessions.touch(&sids[0]).is_none(), "the oldest went");
        assert!(sids[1..].iter().all(|s| sessions.touch(s).is_some()));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session_and_the_key() {
        let a = sessions(1, false, Duration::ZERO, Duration::ZERO).0;
        let b = sessions(2, false, Duration::ZERO, Duration::ZERO).0;
        assert_eq!(a.csrf_for("sid"), a.csrf_for("sid"));
        assert_ne!(a.csrf_for("sid"), a.csrf_for("other"));
        assert_ne!(a.csrf_for("sid"), b.csrf_for("sid"));
    }

    #[test]
    fn each_answer_masks_the_csrf_token_afresh() {
        let token = sessions(1, false, Duration::ZERO, Duration::ZERO).0.csrf_for("sid");
        let (one, two) = (mask_csrf(&token), mask_csrf(&token));
        assert_ne!(one, two, "a fresh mask each time");
        assert!(!one.contains(&token) && one.len() == 2 * token.len());
        assert_eq!(unmask_csrf(&one).as_deref(), Some(token.as_str()));
        assert_eq!(unmask_csrf(&two).as_deref(), Some(token.as_str()));
        assert_eq!(unmask_csrf(&token), None, "a bare token is not a masked one");
        assert_eq!(unmask_csrf("forged"), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let plain = sessions(1, false, Duration::ZERO, Duration::ZERO).0.cookie("x".into());
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax") && !plain.contains("Secure"), "{plain}");
        let secure = sessions(1, true, Duration::ZERO, Duration::ZERO).0.cookie("x".into());
        assert!(secure.contains("Secure"), "{secure}");
    }
}
