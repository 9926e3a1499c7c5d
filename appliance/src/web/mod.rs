//! The HTTP edge: the router, the shared state, sessions and CSRF, static assets and the
//! page chrome every template shares. Domain modules add their own routes.

pub mod api;
pub mod assets;
pub mod error_page;
pub mod files;
pub mod kept;
pub mod routes;
pub mod schools;
pub mod service;
pub mod session;
pub mod upload;
pub mod usage;
pub mod window;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::platform::config::Config;
use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::platform::ratelimit::RateLimits;
use crate::school::directory::Directory;
pub use assets::url as asset;
pub use kept::kept;
pub use routes::Routes;
pub use session::{Ctx, Sessions, SignedIn};

/// What every request can reach: the server's shared state, and the school the request acts
/// within (two reference counts to hand to a request). Handlers take it as an extractor
/// (`state: AppState`): on the hub, the session layer puts there the state within the
/// request's school; elsewhere it is the server's own.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
    school: Arc<schools::School>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl FromRequestParts<AppState> for AppState {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<AppState>().cloned().unwrap_or_else(|| state.clone()))
    }
}

/// The server's state, behind [`AppState`].
pub struct Shared {
    /// Settings.
    pub config: Arc<Config>,
    /// The replica.
    pub db: Db,
    /// The hub's schools (empty elsewhere).
    schools: schools::Schools,
    /// The server's records: what is not replicated but outlives a request and a process
    /// (`platform::records`).
    pub records: crate::platform::records::Records,
    /// Logged-in sessions.
    pub sessions: Sessions,
    /// Pages kept as rendered, per person.
    pub kept: kept::KeptPages,
    /// Failed-login counters.
    pub limits: RateLimits,
    /// Audience measurement: what was counted and not yet written.
    pub usage: usage::Usage,
    /// The address the server listens on, once bound.
    bound: std::sync::OnceLock<SocketAddr>,
    /// The mDNS advertisement, when discovery is on.
    discovery: std::sync::Mutex<Option<crate::platform::discovery::Advertisement>>,
    /// Attached files.
    pub files: crate::platform::files::FileStore,
    /// What the school's parts and the services keep in memory, by type.
    parts: Parts,
}

/// What the parts of the server keep in memory, one value per type, put there by the
/// composition root ([`crate::app`]) so that the edge never names them.
#[derive(Default)]
pub struct Parts(axum::http::Extensions);

impl Parts {
    /// Keeps `value` (replacing one of the same type).
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(Arc::new(value));
    }

    /// The value of type `T`.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get::<Arc<T>>().map(Arc::as_ref)
    }
}

/// A note for the footer of staff pages (« Dernière synchronisation : il y a 3 h »), by
/// whichever part knows it.
pub struct PageNote(pub fn(&AppState, Locale) -> Option<String>);

/// What runs before each sync, so that it carries it (the usage counts).
pub struct BeforeSync(pub for<'a> fn(&'a AppState) -> service::HookFuture<'a>);

/// Whether a session of no school still holds, on the hub: the console's accounts, which
/// the part that keeps them checks (a missing check holds none).
pub struct SchoollessSession(pub fn(&AppState, &SignedIn) -> bool);

impl AppState {
    /// State over an opened replica, its directory snapshot and the parts' state.
    pub fn new(
        config: Config,
        db: Db,
        records: crate::platform::records::Records,
        session_key: [u8; 32],
        directory: Directory,
        parts: Parts,
    ) -> Result<Self, AppError> {
        let sessions = Sessions::new(session_key, &config, records.clone())?;
        let files = crate::platform::files::FileStore::open(config.data_dir.join("files"))
            .map_err(|e| AppError::Internal(format!("opening the file store: {e}")))?;
        let shared = Arc::new(Shared {
            config: Arc::new(config),
            db,
            schools: schools::Schools::default(),
            sessions,
            kept: kept::KeptPages::default(),
            limits: RateLimits::new(records.clone()),
            records,
            usage: usage::Usage::default(),
            bound: std::sync::OnceLock::new(),
            discovery: std::sync::Mutex::default(),
            files,
            parts,
        });
        Ok(Self { shared, school: Arc::new(schools::School::own(directory)) })
    }

    /// Opens a session for someone who proved who they are (or whom the desktop app's
    /// window is), counting it as a connection to their school; returns its sid.
    pub fn start_session(&self, session: SignedIn) -> String {
        self.usage.connection(&session);
        self.sessions.start(session)
    }

    /// The state within school `uai`, on the hub (`NotFound` when it holds no such school);
    /// elsewhere, the server's own when it is that school.
    pub fn within(&self, uai: &preau_sync::Uai) -> Result<AppState, AppError> {
        if self.config.role == crate::platform::config::Role::Hub {
            let school = self.schools.get(&self.db, uai)?;
            return Ok(Self { shared: self.shared.clone(), school });
        }
        match self.directory().uai() {
            Some(own) if own == uai => Ok(self.clone()),
            _ => Err(AppError::NotFound),
        }
    }

    /// Whether this state acts within one school of several (on the hub, once
    /// [`AppState::within`] chose it).
    pub fn one_of_several(&self) -> Option<&preau_sync::Uai> {
        self.school.uai()
    }

    /// What a part keeps in memory. Every part's state is put there when the server is
    /// composed, so a missing one is a bug of the composition root.
    pub fn part<T: Send + Sync + 'static>(&self) -> &T {
        self.parts.get::<T>().unwrap_or_else(|| panic!("no {} in the server's parts", std::any::type_name::<T>()))
    }

    /// What a part keeps in memory, if the server has that part (the hub's notifier,
    /// present only when its `[mail]` names a server).
    pub fn try_part<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.parts.get::<T>()
    }

    /// [`AppState::part`], shared.
    pub fn part_arc<T: Send + Sync + 'static>(&self) -> Arc<T> {
        self.parts
            .0
            .get::<Arc<T>>()
            .cloned()
            .unwrap_or_else(|| panic!("no {} in the server's parts", std::any::type_name::<T>()))
    }

    /// Records the bound address (for printed URLs when no `public_url` is set).
    pub fn set_bound(&self, addr: SocketAddr) {
        let _ = self.bound.set(addr);
    }

    /// (Re)advertises the appliance on the LAN with the school's current name, if discovery
    /// is on and the server is bound. A failure is logged: discovery is a convenience.
    pub fn refresh_discovery(&self) {
        // Only a school's server announces itself: a teacher's computer serves its window
        // alone, and a hub is on the internet, not on a classroom's LAN.
        let announces = self.config.discovery && self.config.role == crate::platform::config::Role::School;
        let (Some(bound), true) = (self.bound.get(), announces) else { return };
        let dir = self.directory();
        let name = dir.school.as_ref().map_or_else(|| "Préau".to_owned(), |s| format!("Préau — {}", s.info.name));
        let uai = dir.uai().map(ToString::to_string).unwrap_or_default();
        let mut slot = self.discovery.lock().unwrap_or_else(|p| p.into_inner());
        // Withdraw the old announcement before the new one takes the same host name.
        *slot = None;
        let announce = crate::platform::discovery::Announce {
            name: &name,
            uai: &uai,
            hostname: &self.config.hostname,
            port: bound.port(),
            interfaces: &self.config.discovery_interfaces,
        };
        match crate::platform::discovery::advertise(&announce) {
            Ok(ad) => *slot = Some(ad),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "mDNS discovery unavailable"),
        }
    }

    /// The address the server listens on, once bound.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.bound.get().copied()
    }

    /// Withdraws the advertisement (at shutdown).
    pub fn stop_discovery(&self) {
        self.discovery.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The directory snapshot of the school this state acts within (on the hub, before a
    /// school is chosen, an empty one: nobody, no class, no permission).
    pub fn directory(&self) -> Arc<Directory> {
        self.school.directory()
    }

    /// The UAI of the school this state acts within (`NotFound` before there is one).
    pub fn uai(&self) -> Result<preau_sync::Uai, AppError> {
        self.directory().uai().cloned().ok_or(AppError::NotFound)
    }

    /// Re-reads the directory after a change to it. The hub's state within no school stays
    /// empty: reading "the" directory of a replica of every school would merge them all.
    pub async fn reload_directory(&self) -> Result<Arc<Directory>, AppError> {
        if self.config.role == crate::platform::config::Role::Hub && self.school.uai().is_none() {
            return Ok(self.directory());
        }
        self.school.reload(&self.db).await
    }

    /// [`Db::memo`] within this state's school: the same question about the same ids has
    /// another answer at another school of the hub.
    pub fn memo<T: Send + Sync + 'static>(
        &self,
        what: &'static str,
        key: String,
        compute: impl FnOnce(&preau_sync::Reader) -> Result<T, AppError>,
    ) -> Result<Arc<T>, AppError> {
        match self.school.uai() {
            Some(uai) => self.db.memo(what, format!("{uai}|{key}"), compute),
            None => self.db.memo(what, key, compute),
        }
    }
}

/// Where a form asks to go back to: a path of this site, parsed, or `default` when the form
/// names none. Anything else is refused (400) before the form changes anything: browsers
/// read `//host`, `/\\host` and control characters as another site, and an invalid header
/// value must never reach the redirect.
pub fn local_path(back: &str, default: String) -> Result<String, AppError> {
    if back.is_empty() {
        return Ok(default);
    }
    let refused = || AppError::bad("error-bad-form", format!("back {back:?} is not a path of this site"));
    if !back.starts_with('/')
        || back.starts_with("//")
        || back.contains('\\')
        || back.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(refused());
    }
    let parsed: axum::http::uri::PathAndQuery = back.parse().map_err(|_| refused())?;
    Ok(parsed.as_str().to_owned())
}

/// The address printed on letters, QR cards and calendar feeds: `public_url`, else the
/// first LAN address; on the hub, the address of the school the state acts within
/// (`…/ecoles/{uai}`), so that what holds it names its school.
pub fn base_url(state: &AppState) -> String {
    let server = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let bound = state.bound.get().copied().unwrap_or(state.config.listen);
            crate::platform::net::lan_urls(bound).into_iter().next().unwrap_or_else(|| format!("http://{bound}"))
        }
    };
    match state.one_of_several() {
        Some(uai) => format!("{server}{}/{uai}", schools::PREFIX),
        None => server,
    }
}

/// Marks an answer that the compression layer passes as it is: attached files (their formats
/// mostly compress themselves, and the appliance's two cores have better to do) and static
/// assets (compressed once, at start-up).
#[derive(Clone, Copy, Debug)]
pub struct Uncompressed;

/// Answers under this size go as they are: they fit in one TCP segment either way.
const COMPRESS_FROM_BYTES: u64 = 1024;

/// gzip or brotli (tower-http), as the client's `Accept-Encoding` asks, for pages, the JSON
/// API and the like. Never for server-sent events (each event must leave at once, not wait
/// in an encoder's buffer), images, [`Uncompressed`] answers or small ones; replication is
/// not even offered to it ([`edge`]). Built once: a layer made per request cost more than
/// the page it wrapped (BENCHMARKS.md).
pub fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate as _, SizeAbove};
    let unmarked = |_: StatusCode, _: axum::http::Version, _: &axum::http::HeaderMap, e: &axum::http::Extensions| {
        e.get::<Uncompressed>().is_none()
    };
    let when =
        SizeAbove::new(COMPRESS_FROM_BYTES).and(NotForContentType::SSE).and(NotForContentType::IMAGES).and(unmarked);
    tower_http::compression::CompressionLayer::new().compress_when(when)
}

/// Healthy when the storage answers a query (cheap enough to poll; `integrity_check` is
/// for the maintenance commands).
pub async fn healthz(state: AppState) -> Response {
    match state.db.read(|store| Ok(store.rows(preau_sync::Table::School)?)) {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("storage: {e}\n")).into_response(),
    }
}

/// Nothing here (404): the API's error body under `/api/`, else the error page.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api::error_response(&AppError::NotFound, Vec::new())
    } else {
        AppError::NotFound.into_response()
    }
}

/// The browser features pages may use: none of the device's.
pub const PERMISSIONS_POLICY: header::HeaderName = header::HeaderName::from_static("permissions-policy");
const NO_DEVICES: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()";
/// The same, but the camera for the page itself (the join page reads a QR code with it).
pub const CAMERA_ONLY: &str =
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()";

/// The outermost middleware of ours, around the compression layer. On the way in, it hides
/// `Accept-Encoding` from the requests under `passed` (replication's): their bundles are
/// zstd frames with their own protocol, and tower-http answers 406 to an `Accept-Encoding`
/// that refuses every coding (after the handler ran), which a replication peer must never
/// meet. On the way out, the headers of every answer: what a page may load and do, no
/// sniffing, no caching of anything personal (static assets set their own), HSTS over
/// HTTPS, and `Connection: close` on a refusal of a body too large.
pub async fn edge(
    State((state, passed)): State<(AppState, &'static str)>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(passed) {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    let mut response = next.run(request).await;
    let too_large = response.status() == StatusCode::PAYLOAD_TOO_LARGE;
    let h = response.headers_mut();
    if too_large {
        // The body was left unread: the connection closes after this answer, and a client
        // that sent its next request on it would see that one fail.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // A page may widen it (the join page of a teacher's computer: its camera).
    if !h.contains_key(PERMISSIONS_POLICY) {
        h.insert(PERMISSIONS_POLICY, HeaderValue::from_static(NO_DEVICES));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// What every page's layout needs: the language, who is signed in, the CSRF token.
#[derive(Clone)]
pub struct Chrome {
    /// Messages.
    pub l: Locale,
    /// Signed-in person's display name, if any.
    pub user_name: Option<String>,
    /// On the hub, the school the page is about.
    pub school_name: Option<String>,
    /// Whether the header should offer the big pupil-friendly layout.
    pub pupil: bool,
    /// CSRF token for this session's forms.
    pub csrf: String,
    /// « Dernière synchronisation : il y a 3 h », for staff of an enrolled appliance.
    pub sync_note: Option<String>,
    /// The teacher's own computer (the desktop app): the footer offers « Synchroniser
    /// maintenant », and the header no logout (its window is always her).
    pub own_computer: bool,
}

impl Chrome {
    /// Chrome for a request.
    pub fn new(ctx: &Ctx) -> Self {
        Self {
            l: ctx.locale,
            user_name: ctx.signed_in.as_ref().map(|s| s.display_name.clone()),
            school_name: ctx.school_name.clone(),
            pupil: ctx.signed_in.as_ref().is_some_and(|s| s.profile == crate::school::directory::Profile::Pupil),
            csrf: ctx.csrf.clone(),
            sync_note: ctx.sync_note.clone(),
            own_computer: ctx.own_computer,
        }
    }

    /// A message.
    pub fn t(&self, id: &str) -> String {
        self.l.t(id)
    }

    /// A message with named arguments (templates write `c.ta("id", [("name", value)])`).
    pub fn ta(&self, id: &str, args: &[(&str, &str)]) -> String {
        self.l.ta(id, args)
    }
}

/// Renders a template as an HTML response (a rendering failure is a bug: 500).
pub fn render(t: &impl Template) -> Result<Response, AppError> {
    render_status(t, StatusCode::OK)
}

/// Renders a page with a status: a form shown again with its refusal keeps the refusal's
/// status (400, 401, 429...).
pub fn render_status(t: &impl Template, status: StatusCode) -> Result<Response, AppError> {
    let html = t.render().map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn back_is_a_path_of_this_site_or_refused() {
        for ok in ["/", "/homework", "/classes/abc/homework?from=2026-11-30&to=2026-12-06", "/child/x#todo"] {
            assert_eq!(local_path(ok, "/d".into()).unwrap(), ok.split('#').next().unwrap(), "{ok}");
        }
        assert_eq!(local_path("", "/d".into()).unwrap(), "/d");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\t//evil.example",
            "/\t/evil.example",
            "https://evil.example",
            "evil",
            "/a\r\nSet-Cookie: x=y",
            "/a\nb",
            " /a",
            "/a b",
        ] {
            let e = local_path(bad, "/d".into()).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }
}
