//! A teacher's computer. It joins her school (the desktop app's first run, « Me connecter à
//! mon école »): find the school's appliance (on the LAN by mDNS, by its address, or by a
//! picture of its QR code), log in
//! there with her school account, enrol this computer as hers with the one-time code her
//! login gets (`POST /api/v1/me/device-code`), and bring her classes with a first sync
//! whose progress the page shows.
//!
//! Her password goes from the window to the school's appliance through this server's
//! memory, once, and is never kept: the computer holds no credentials, only its own key and
//! certificate. Afterwards its window is signed in as her ([`owner`]), every page's footer
//! says where her work stands (`status::footer_note`), and she may sync at once.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Replication;
use super::status::{FirstSyncView, first_sync_view};
use crate::platform::error::AppError;
use crate::school::directory::UserId;
use crate::web::session::{CsrfForm, Empty};
use crate::web::upload::FormWithFiles;
use crate::web::{AppState, Chrome, Ctx, Routes, SignedIn, render};

/// The first run's page; nothing else answers until the first sync brought the school.
pub const PATH: &str = "/join";
/// How long the page listens for appliances on the LAN.
const BROWSE: std::time::Duration = std::time::Duration::from_millis(1500);

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get(PATH, page)
        .post("/join/server", server_form)
        .post("/join/qr", qr_form)
        .post("/join/qr/frame", camera_frame)
        .post("/join/login", login_form)
        .post("/join/retry", retry_form)
        .post(SYNC_NOW, sync_now_form)
}

/// « Synchroniser maintenant », from every page's footer.
pub const SYNC_NOW: &str = "/sync/now";

/// Who the computer's window is: the teacher it was enrolled for, once her school's
/// directory has arrived.
pub fn owner(state: &AppState) -> Option<SignedIn> {
    let owner = state.part::<Replication>().links.hub()?.owner?;
    let dir = state.directory();
    Some(SignedIn::of(&dir, dir.member(&UserId::parse(&owner).ok()?)?, false))
}

/// An appliance found on the LAN.
struct FoundView {
    name: String,
    url: String,
}

/// The school whose appliance answered at an address.
struct SchoolView {
    name: String,
    url: String,
}

#[derive(Template)]
#[template(path = "replication/join.html")]
struct JoinPage {
    c: Chrome,
    error: Option<String>,
    found: Vec<FoundView>,
    address: String,
    school: Option<SchoolView>,
    login: String,
    progress: Option<FirstSyncView>,
}

impl JoinPage {
    fn new(ctx: &Ctx) -> Self {
        Self {
            c: Chrome::new(ctx),
            error: None,
            found: Vec::new(),
            address: String::new(),
            school: None,
            login: String::new(),
            progress: None,
        }
    }
}

async fn page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let mut page = JoinPage::new(&ctx);
    page.progress = first_sync_view(&state, ctx.locale)?;
    if page.progress.is_some() {
        return show(&page);
    }
    page.found = found(&state).await;
    show(&page)
}

/// The join page, whose camera card may use the laptop's camera.
fn show(page: &JoinPage) -> Result<Response, AppError> {
    let mut response = render(page)?;
    let policy = axum::http::HeaderValue::from_static(crate::web::CAMERA_ONLY);
    response.headers_mut().insert(crate::web::PERMISSIONS_POLICY, policy);
    Ok(response)
}

/// The appliances announcing themselves on the LAN (none when discovery is off).
async fn found(state: &AppState) -> Vec<FoundView> {
    if !state.config.discovery {
        return Vec::new();
    }
    let found = crate::platform::discovery::off_thread(|| crate::platform::discovery::browse(BROWSE)).await;
    let found = found.unwrap_or_default();
    found.into_iter().filter_map(|f| Some(FoundView { url: f.url()?, name: f.name })).collect()
}

/// `preau.local:8080`, `http://192.168.1.10:8080/`: the base address of a server.
fn normal_url(typed: &str) -> Option<String> {
    let typed = typed.trim().trim_end_matches('/');
    let url = if typed.contains("://") { typed.to_owned() } else { format!("http://{typed}") };
    let parsed = reqwest::Url::parse(&url).ok()?;
    let plain = matches!(parsed.scheme(), "http" | "https") && parsed.path() == "/" && parsed.query().is_none();
    (plain && parsed.host().is_some()).then(|| url.trim_end_matches('/').to_owned())
}

#[derive(Deserialize)]
struct ServerForm {
    address: String,
}

/// The school's name, as its appliance tells anyone (`GET /api/v1/school`).
#[derive(Deserialize)]
struct School {
    name: String,
}

async fn server_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<ServerForm>) -> Result<Response, AppError> {
    let mut page = JoinPage::new(&ctx);
    page.address = form.address.clone();
    let Some(url) = normal_url(&form.address) else {
        page.error = Some(ctx.locale.t("join-bad-address"));
        return show(&page);
    };
    school_page(&state, &ctx, page, url).await
}

/// A picture of the appliance's QR code (its label, its administration page): the
/// address it holds, as if typed.
async fn qr_form(state: AppState, ctx: Ctx, FormWithFiles(form): FormWithFiles) -> Result<Response, AppError> {
    let mut page = JoinPage::new(&ctx);
    let Some(picture) = form.files.into_iter().find(|f| f.field == "picture") else {
        page.error = Some(ctx.locale.t("join-qr-missing"));
        return show(&page);
    };
    match address_in(picture.bytes).await? {
        Ok(url) => {
            page.address = url.clone();
            school_page(&state, &ctx, page, url).await
        }
        Err(refusal) => {
            page.error = Some(ctx.locale.t(refusal));
            show(&page)
        }
    }
}

/// What the join page's camera script learns of a frame.
#[derive(serde::Serialize)]
struct Frame {
    /// The server's address, when the frame holds one.
    address: Option<String>,
}

/// A frame of the laptop's camera (the join page's script sends one every moment until a
/// code is read): the address its QR code holds, if any.
async fn camera_frame(FormWithFiles(form): FormWithFiles) -> Result<Response, AppError> {
    let picture =
        form.files.into_iter().find(|f| f.field == "picture").ok_or(AppError::bad("join-qr-missing", "no frame"))?;
    let address = address_in(picture.bytes).await?.ok();
    Ok(axum::Json(Frame { address }).into_response())
}

/// The server's address in a picture's QR code, or why there is none (a localisation id).
/// A server's label holds its address; a pupil's login card, an address on it: the server
/// is the same. Whatever else a code holds is neither shown nor logged (a card's code is a
/// pupil's login).
async fn address_in(picture: Vec<u8>) -> Result<Result<String, &'static str>, AppError> {
    let read = tokio::task::spawn_blocking(move || crate::platform::qr::read(&picture))
        .await
        .map_err(|e| AppError::Internal(format!("reading a QR code: {e}")))?;
    let text = match read {
        Ok(text) => text,
        Err(e) => {
            tracing::info!(error = %e, "join: no QR code read");
            return Ok(Err("join-qr-unreadable"));
        }
    };
    let url = reqwest::Url::parse(text.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .and_then(|u| normal_url(&u.origin().ascii_serialization()));
    Ok(url.ok_or_else(|| {
        tracing::info!(chars = text.chars().count(), "join: a QR code that is not an address");
        "join-qr-not-ours"
    }))
}

/// The login form of the school at `url`, or why there is none.
async fn school_page(state: &AppState, ctx: &Ctx, mut page: JoinPage, url: String) -> Result<Response, AppError> {
    match school_at(state, &url).await {
        Ok(school) => page.school = Some(SchoolView { name: school.name, url }),
        Err(detail) => {
            tracing::info!(%url, %detail, "no Préau school there");
            page.error = Some(ctx.locale.ta("join-no-school", &[("url", &url)]));
        }
    }
    show(&page)
}

async fn school_at(state: &AppState, url: &str) -> Result<School, String> {
    let http = super::client::http_client(state.config.hub_ca.as_deref())?;
    let answer = http
        .get(format!("{url}/api/v1/school"))
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("{e:#}"))?;
    if !answer.status().is_success() {
        return Err(format!("GET /api/v1/school: {}", answer.status()));
    }
    answer.json::<School>().await.map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct LoginForm {
    url: String,
    name: String,
    login: String,
    password: String,
}

/// What the school's appliance answers to a login (`school::accounts::api::Token`).
#[derive(Deserialize)]
struct Token {
    token: String,
    must_change_password: bool,
}

#[derive(Deserialize)]
struct DeviceCode {
    code: String,
}

/// Why joining stopped: a localisation id for the teacher, and the detail for the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}: {1}")]
pub struct Refusal(pub &'static str, pub String);

async fn login_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<LoginForm>) -> Result<Response, AppError> {
    if state.part::<Replication>().links.hub().is_some() {
        return Ok(Redirect::to(PATH).into_response());
    }
    let url = normal_url(&form.url).ok_or_else(|| AppError::bad("join-bad-address", "join: bad address"))?;
    match join(&state, &url, &form.login, &form.password).await {
        Ok(()) => {
            state.part::<Replication>().runner.trigger();
            Ok(Redirect::to(PATH).into_response())
        }
        Err(Refusal(id, detail)) => {
            tracing::info!(%url, login = %form.login, %detail, "joining the school refused");
            let mut page = JoinPage::new(&ctx);
            page.error = Some(ctx.locale.t(id));
            page.school = Some(SchoolView { name: form.name, url });
            page.login = form.login;
            show(&page)
        }
    }
}

/// Logs in at the school, gets a code for this computer, enrols with it, and holds what the
/// certificate grants (the join page; `preau bench memory` joins the same way).
pub async fn join(state: &AppState, url: &str, login: &str, password: &str) -> Result<(), Refusal> {
    let unreachable = |e: String| Refusal("join-unreachable", e);
    let http = super::client::http_client(state.config.hub_ca.as_deref()).map_err(unreachable)?;
    let answer = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login.trim(), "password": password }))
        .send()
        .await
        .map_err(|e| unreachable(format!("{e:#}")))?;
    let status = answer.status();
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Refusal("join-too-many", status.to_string()));
    }
    if !status.is_success() {
        return Err(Refusal("join-bad-login", format!("login: {status}")));
    }
    let token: Token = answer.json().await.map_err(|e| unreachable(e.to_string()))?;
    if token.must_change_password {
        return Err(Refusal("join-change-password-first", "an activation code, not a password".into()));
    }
    let answer = http
        .post(format!("{url}/api/v1/me/device-code"))
        .bearer_auth(&token.token)
        .send()
        .await
        .map_err(|e| unreachable(format!("{e:#}")))?;
    let status = answer.status();
    let code = match status {
        s if s.is_success() => answer.json::<DeviceCode>().await.map_err(|e| unreachable(e.to_string()))?.code,
        reqwest::StatusCode::FORBIDDEN => return Err(Refusal("join-not-teacher", "device-code: 403".into())),
        s => return Err(Refusal("join-refused", format!("device-code: {s}"))),
    };
    // The login's session at the school is not needed any more.
    let _ = http.post(format!("{url}/api/v1/auth/logout")).bearer_auth(&token.token).send().await;
    let replication = state.part::<Replication>();
    let link = super::enrollment::enroll_with(
        &replication.links,
        &replication.identity,
        url,
        state.config.hub_ca.as_deref(),
        &code,
    )
    .await
    .map_err(|e| Refusal("join-refused", e.to_string()))?;
    super::enrollment::hold_granted(state, &link).await.map_err(|e| Refusal("join-refused", e.to_string()))
}

/// The first sync failed (the link dropped): try again.
async fn retry_form(state: AppState, CsrfForm(_): CsrfForm<Empty>) -> Response {
    state.part::<Replication>().runner.trigger();
    Redirect::to(PATH).into_response()
}

/// Syncs now, and goes back to the page she was on.
async fn sync_now_form(
    state: AppState,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    ctx.user()?;
    state.part::<Replication>().runner.trigger();
    // Same-origin pages send their address (`Referrer-Policy: same-origin`).
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| reqwest::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        })
        .unwrap_or_default();
    let back = crate::web::local_path(&back, "/".into()).unwrap_or_else(|_| "/".into());
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::normal_url;

    #[test]
    fn typed_addresses_become_base_urls() {
        assert_eq!(normal_url(" preau.local:8080/ ").as_deref(), Some("http://preau.local:8080"));
        assert_eq!(normal_url("https://ent.example.fr").as_deref(), Some("https://ent.example.fr"));
        assert_eq!(normal_url("192.168.1.10").as_deref(), Some("http://192.168.1.10"));
        assert_eq!(normal_url("ftp://x"), None);
        assert_eq!(normal_url("http://x/login"), None, "an address, not a page");
        assert_eq!(normal_url(""), None);
    }
}
