//! What people see of replication: the director's sync page (enrolment with the hub, the
//! status in plain words, teachers' devices), the hub administrator's page (schools,
//! enrolment codes, revocation), the « dernière synchronisation » line of staff pages, and
//! the loopback-only control endpoint `preau sync now` uses.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::Uai;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::enrollment::{self, Subject};
use super::links::Run;
use super::schedule::RunnerState;
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::replication::Replication;
use crate::school::accounts::secrets;
use crate::school::directory::{Profile, UserId};
use crate::school::permissions::{director, keeps_classes_offline};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiUser, ErrorBody};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::{CsrfForm, Empty};
use crate::web::{AppState, Chrome, Ctx, SignedIn, render};

/// « il y a 3 h »: how long ago a Unix-ms time was.
pub fn ago(l: Locale, at_ms: i64) -> String {
    elapsed(l, "ago", at_ms)
}

/// « 3 h », « 2 jours »: how long it has been since a Unix-ms time (`{prefix}-now`,
/// `-minutes`, `-hours`, `-days` say it).
fn elapsed(l: Locale, prefix: &str, at_ms: i64) -> String {
    let m = (crate::platform::clock::now_ms() - at_ms).max(0) / 60_000;
    let (unit, n) = match m {
        0 => ("now", 0),
        1..=59 => ("minutes", m),
        60..=2879 => ("hours", m / 60),
        _ => ("days", m / 1440),
    };
    l.ta(&format!("{prefix}-{unit}"), &[("n", &n.to_string())])
}

/// The line every staff page shows once the server is enrolled.
pub fn footer_note(state: &AppState, l: Locale) -> Option<String> {
    let replication = state.part::<Replication>();
    // On the hub, how fresh the school's data is: when its server last synced here.
    if let Some(uai) = state.one_of_several() {
        return Some(match replication.links.school_last_seen(uai).ok().flatten() {
            Some(at) => l.ta("hub-school-synced", &[("ago", &ago(l, at))]),
            None => l.t("hub-school-never"),
        });
    }
    let link = replication.links.hub()?;
    if state.config.role == crate::platform::config::Role::Device {
        return Some(device_note(state, l, link.hub_id));
    }
    Some(match replication.last_success() {
        Some(at) => l.ta("sync-last", &[("ago", &ago(l, at))]),
        None => l.t("sync-never"),
    })
}

/// A teacher's computer says where her work stands: « Synchronisé (il y a 5 min) »,
/// « En attente : 3 changements », « Hors ligne depuis 2 jours ».
fn device_note(state: &AppState, l: Locale, school: preau_sync::ReplicaId) -> String {
    let replication = state.part::<Replication>();
    if replication.runner.running() {
        return l.t("device-syncing");
    }
    // Counted once per change of the replica (a sync's acknowledgements are changes too):
    // what neither her school nor, away from it, the académie's server holds yet.
    let peers: Vec<_> = std::iter::once(school).chain(replication.links.away().map(|a| a.server)).collect();
    let key = peers.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let pending = state.memo("unsent", key, move |reader| Ok(reader.unsent_documents(&peers)?)).map_or(0, |n| *n);
    let pending = (pending > 0).then(|| l.ta("device-pending", &[("n", &pending.to_string())]));
    let last = replication.last_success();
    let state = match (replication.runner.failing(), last) {
        (false, Some(at)) if pending.is_none() => l.ta("device-synced", &[("ago", &ago(l, at))]),
        (false, _) => return pending.unwrap_or_else(|| l.t("sync-never")),
        (true, Some(at)) => l.ta("device-offline", &[("since", &elapsed(l, "since", at))]),
        (true, None) => l.t("device-offline-never"),
    };
    match pending {
        Some(pending) => format!("{state} · {pending}"),
        None => state,
    }
}

/// The first sync of a server that has no school yet (a teacher's computer that joined, a
/// replacement appliance that enrolled), under way or failed, for its waiting page
/// (`replication/_first_sync.html`).
pub struct FirstSyncView {
    /// Where the school comes from.
    pub from: String,
    /// What the run is doing, in words.
    pub phase: String,
    /// Bytes moved in the phase.
    pub done: u64,
    /// Bytes to move (0 when unknown).
    pub total: u64,
    /// The last run's failure: advice, and the detail.
    pub error: Option<(String, String)>,
}

/// The first sync's view, once enrolled and until it succeeded or the school arrived (a
/// school the hub does not hold yet, enrolled before its setup, is set up as any other).
pub fn first_sync_view(state: &AppState, l: Locale) -> Result<Option<FirstSyncView>, AppError> {
    let replication = state.part::<Replication>();
    let Some(link) = replication.links.hub() else { return Ok(None) };
    if state.directory().school.is_some() || replication.last_success().is_some() {
        return Ok(None);
    }
    let now = runner_state(state)?;
    let failed = now.phase.is_none() && now.last_ok == Some(false);
    Ok(Some(FirstSyncView {
        from: link.url,
        phase: phase_label(l, now.phase.as_deref()),
        done: now.done,
        total: now.total,
        error: now.last_error.filter(|_| failed).map(|e| (advice(l, &e), e)),
    }))
}

/// What a run under way is doing (`RunnerState::phase`), in words; `None` is a run waiting
/// to start. A phase this build has no words for (a server of another version) shows as it is.
pub fn phase_label(l: Locale, phase: Option<&str>) -> String {
    let id = format!("sync-phase-{}", phase.unwrap_or("waiting"));
    if l.has(&id) { l.t(&id) } else { phase.unwrap_or_default().to_owned() }
}

/// Plain-language advice for a run's error (`code: detail`).
pub fn advice(l: Locale, error: &str) -> String {
    let code = error.split_once(':').map_or(error, |(c, _)| c).trim();
    let id = format!("sync-advice-{code}");
    let text = l.t(&id);
    if text == id { l.t("sync-advice-other") } else { text }
}

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/admin/sync", sync_page)
        .post("/admin/sync/enroll", enroll_form)
        .post("/admin/sync/now", sync_now_form)
        .post("/admin/sync/devices", device_code)
        .post("/admin/sync/revoke", revoke_form)
        .post("/admin/sync/away", away_form)
        .post("/admin/sync/holidays", holidays_form)
        .post("/admin/sync/quarantine/discard", discard_form)
        .merge(local_routes())
}

/// `preau sync now` talks to the running server here, from the same machine only.
fn local_routes() -> Routes {
    Routes::new()
        .get(&format!("{}/local/sync", super::PREFIX), local_state)
        .post(&format!("{}/local/sync", super::PREFIX), local_trigger)
}

fn loopback(ctx: &Ctx) -> Result<(), AppError> {
    match ctx.client_ip {
        Some(ip) if ip.is_loopback() => Ok(()),
        _ => Err(AppError::Forbidden("local control from another machine".into())),
    }
}

pub(crate) fn runner_state(state: &AppState) -> Result<RunnerState, AppError> {
    let last = state.part::<Replication>().links.runs(1)?.pop();
    Ok(state.part::<Replication>().runner.state(last.as_ref()))
}

async fn local_state(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    loopback(&ctx)?;
    Ok(Json(runner_state(&state)?).into_response())
}

async fn local_trigger(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    loopback(&ctx)?;
    if state.part::<Replication>().links.hub().is_none() {
        return Err(AppError::bad("sync-advice-not-enrolled", "not enrolled"));
    }
    let wanted = state.part::<Replication>().runner.trigger();
    Ok(Json(serde_json::json!({ "wanted": wanted })).into_response())
}

/// A run as the page lists it.
struct RunView {
    when: String,
    ok: bool,
    summary: String,
    error: Option<String>,
}

fn run_view(l: Locale, r: &Run) -> RunView {
    RunView {
        when: ago(l, r.ended_at),
        ok: r.ok,
        summary: l.ta(
            "sync-run-summary",
            &[
                ("up", &r.docs_up.to_string()),
                ("down", &r.docs_down.to_string()),
                ("files_up", &r.files_up.to_string()),
                ("files_down", &r.files_down.to_string()),
                ("kb", &((r.bytes_up + r.bytes_down) / 1024).to_string()),
            ],
        ),
        error: r.error.clone(),
    }
}

/// A replica this one enrolled (a school on the hub, a teacher's device on an appliance).
struct DeviceView {
    replica: String,
    label: String,
    seen: String,
    revoked: bool,
}

fn enrolled_views(l: Locale, links: &super::Links) -> Result<Vec<DeviceView>, AppError> {
    Ok(links
        .all_enrolled()?
        .into_iter()
        .map(|e| DeviceView {
            replica: e.replica.to_string(),
            label: e.label,
            seen: e.last_seen_at.map_or_else(|| l.t("sync-never-seen"), |t| ago(l, t)),
            revoked: e.revoked_at.is_some(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "replication/sync.html")]
struct SyncPage {
    c: Chrome,
    hub: Option<String>,
    valid_until: String,
    last_ok: Option<String>,
    error: Option<(String, String)>,
    unsent: u64,
    running: Option<String>,
    runs: Vec<RunView>,
    quarantined: Vec<QuarantineView>,
    teachers: Vec<(String, String)>,
    devices: Vec<DeviceView>,
    away_sync: bool,
    holiday_pause: bool,
    new_code: Option<(String, String)>,
    message: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    new_code: Option<(String, String)>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let l = ctx.locale;
    let links = &state.part::<Replication>().links;
    let hub = links.hub();
    let unsent = match &hub {
        Some(h) => {
            let peer = h.hub_id;
            state.db.run(move |store| Ok(store.unsent_documents(&[peer])?)).await?
        }
        None => 0,
    };
    let runs = links.runs(10)?;
    let last = runs.first();
    let error = last.and_then(|r| r.error.as_ref()).map(|e| (advice(l, e), e.clone()));
    let dir = state.directory();
    let devices = enrolled_views(l, links)?;
    let mut teachers: Vec<(String, String)> = dir
        .people
        .values()
        .filter(|m| matches!(m.profile, Profile::Teacher | Profile::Director) && !m.person.archived)
        .map(|m| (m.id.as_str().to_owned(), m.full_name()))
        .collect();
    teachers.sort_by(|a, b| a.1.cmp(&b.1));
    let running = state.part::<Replication>().runner.state(None).phase.map(|p| phase_label(l, Some(&p)));
    render(&SyncPage {
        c: Chrome::new(ctx),
        valid_until: hub
            .as_ref()
            .and_then(|h| h.chain.leaf().map(|g| crate::platform::clock::date_of_ms(g.not_after as i64)))
            .unwrap_or_default(),
        hub: hub.map(|h| h.url),
        last_ok: state.part::<Replication>().last_success().map(|t| ago(l, t)),
        error,
        unsent,
        running,
        runs: runs.iter().map(|r| run_view(l, r)).collect(),
        quarantined: quarantine_views(l, links, 10)?,
        teachers,
        devices,
        away_sync: super::policy::away_sync(&dir),
        holiday_pause: dir.school.as_ref().is_some_and(|s| s.info.holiday_pause),
        new_code,
        message,
    })
}

async fn sync_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    page(&state, &ctx, None, None).await
}

#[derive(Deserialize)]
struct EnrollForm {
    hub: String,
    code: String,
}

async fn enroll_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<EnrollForm>) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    let message = match enrollment::enrol(&state, &form.hub, &form.code).await {
        Ok(_) => ctx.locale.t("sync-enrolled"),
        Err(e) => {
            tracing::info!(error = %e, "enrolment failed");
            e.message(ctx.locale)
        }
    };
    page(&state, &ctx, None, Some(message)).await
}

async fn sync_now_form(state: AppState, ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    state.part::<Replication>().runner.trigger();
    Ok(Redirect::to("/admin/sync").into_response())
}

#[derive(Deserialize)]
struct DeviceForm {
    teacher: String,
}

async fn device_code(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<DeviceForm>) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    let dir = state.directory();
    let member = UserId::parse(&form.teacher)
        .ok()
        .and_then(|id| dir.member(&id).cloned())
        .filter(|m| matches!(m.profile, Profile::Teacher | Profile::Director))
        .ok_or(AppError::NotFound)?;
    let label = ctx.locale.ta("sync-device-label", &[("name", &member.full_name())]);
    let code =
        enrollment::create_code(&state.part::<Replication>().links, &label, &Subject::Device(member.id.clone()))?;
    page(&state, &ctx, Some((label, code)), None).await
}

/// A one-time code that enrols a computer as a replica.
#[derive(Serialize, ToSchema)]
pub struct DeviceCode {
    /// For `POST /replication/v1/enroll` (`preau_appliance::replication::enrollment`): it
    /// works once, as a code the director makes.
    pub code: String,
}

/// Enrols a computer of the signed-in teacher (or director) as a replica of her classes:
/// the desktop app's first run, right after her login. The computer then appears on the
/// director's sync page, who may revoke it.
#[utoipa::path(post, path = "/api/v1/me/device-code", tag = "sync",
    responses((status = 201, body = DeviceCode), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn api_device_code(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
) -> Result<(StatusCode, Json<DeviceCode>), ApiError> {
    keeps_classes_offline(&user)?;
    let member = state.directory().member(&user.user).cloned().ok_or(AppError::Unauthenticated)?;
    let label = ctx.locale.ta("sync-device-label", &[("name", &member.full_name())]);
    let code = enrollment::create_code(&state.part::<Replication>().links, &label, &Subject::Device(member.id))?;
    Ok((StatusCode::CREATED, Json(DeviceCode { code })))
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_device_code))
}

/// A quarantined bundle on a status page.
struct QuarantineView {
    id: i64,
    when: String,
    peer: String,
    reason: String,
}

fn quarantine_views(l: Locale, links: &super::Links, limit: i64) -> Result<Vec<QuarantineView>, AppError> {
    let mut views = Vec::new();
    for q in links.quarantined(limit)? {
        // The school or device that sent it, by name when we enrolled it.
        let known = q.peer.parse().ok().map(|id| links.enrolled(id)).transpose()?.flatten();
        let peer = known.map_or(q.peer, |e| e.label);
        views.push(QuarantineView { id: q.id, when: ago(l, q.at), peer, reason: q.reason });
    }
    Ok(views)
}

#[derive(Deserialize)]
struct DiscardForm {
    id: i64,
}

/// The director (or the hub's administrator) deletes refused changes kept aside.
async fn discard_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<DiscardForm>) -> Result<Response, AppError> {
    let user = replication_admin(&state, &ctx, "quarantine")?;
    if !super::quarantine::discard(&state.part::<Replication>().links, form.id)? {
        return Err(AppError::NotFound);
    }
    tracing::info!(id = form.id, by = %user.user.as_str(), "quarantined changes discarded");
    Ok(back_to_status(user))
}

/// Who may act on this server's replication: at a school, its director; on the hub, its
/// administrator alone (a school's director signed in on the hub acts within her school,
/// never on the hub's enrolments).
fn replication_admin<'a>(state: &AppState, ctx: &'a Ctx, what: &str) -> Result<&'a SignedIn, AppError> {
    let user = ctx.user()?;
    let allowed = match state.config.role {
        crate::platform::config::Role::Hub => hub_admin(user),
        _ => user.profile == Profile::Director,
    };
    if !allowed {
        return Err(AppError::Forbidden(what.into()));
    }
    Ok(user)
}

/// Back to the status page the action came from.
fn back_to_status(user: &SignedIn) -> Response {
    Redirect::to(if user.profile == Profile::AcademyAdmin { "/hub" } else { "/admin/sync" }).into_response()
}

#[derive(Deserialize)]
struct RevokeForm {
    replica: String,
}

async fn revoke_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<RevokeForm>) -> Result<Response, AppError> {
    let user = replication_admin(&state, &ctx, "revocation")?;
    let replica = form.replica.parse().map_err(|_| AppError::bad("error-bad-form", "replica id"))?;
    if !state.part::<Replication>().links.revoke(replica)? {
        return Err(AppError::NotFound);
    }
    tracing::warn!(%replica, by = %user.user.as_str(), "replica revoked");
    // The hub refuses a revoked computer once the school reports it: report it now (a
    // server not enrolled with a hub has nothing to run).
    state.part::<Replication>().runner.trigger();
    Ok(back_to_status(user))
}

/// A switch of the sync page: `on` when its box is ticked (absent otherwise).
#[derive(Deserialize)]
struct SwitchForm {
    away: Option<String>,
    pause: Option<String>,
}

/// Sets one of the director's switches of her school (kept in its directory, so the hub
/// hears it) and tells the hub now rather than at the next scheduled sync.
async fn set_switch(
    state: &AppState,
    ctx: &Ctx,
    set: impl FnOnce(&mut preau_sync::kinds::directory::SchoolInfo) + Send + 'static,
) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    crate::school::structures::edit_directory(state, move |d, _| {
        set(&mut d.school);
        Ok(())
    })
    .await?;
    state.part::<Replication>().runner.trigger();
    Ok(Redirect::to("/admin/sync").into_response())
}

/// The director lets her teachers' computers sync with the académie's server away from
/// school, or stops them (the hub enforces it).
async fn away_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<SwitchForm>) -> Result<Response, AppError> {
    let allowed = form.away.as_deref() == Some("on");
    let answer = set_switch(&state, &ctx, move |school| school.away_sync = allowed).await?;
    tracing::warn!(allowed, by = %ctx.user()?.user.as_str(), "teachers' computers syncing away from school");
    Ok(answer)
}

/// The director holds the hub's e-mails to the school's families and staff during the
/// holidays of the school's agenda, or lets them go.
async fn holidays_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<SwitchForm>) -> Result<Response, AppError> {
    let pause = form.pause.as_deref() == Some("on");
    let answer = set_switch(&state, &ctx, move |school| school.holiday_pause = pause).await?;
    tracing::info!(pause, by = %ctx.user()?.user.as_str(), "notifications held during the school holidays");
    Ok(answer)
}

// ---- the hub ----

/// The hub's pages: its administrator's login and dashboard.
pub(crate) fn hub_routes() -> Routes {
    Routes::new()
        .get("/hub", hub_page)
        .post("/hub/login", hub_login)
        .post("/hub/logout", hub_logout)
        .post("/hub/codes", hub_code)
        .post("/hub/revoke", revoke_form)
        .post("/hub/quarantine/discard", discard_form)
        .merge(local_routes())
}

#[derive(Template)]
#[template(path = "replication/hub.html")]
struct HubPage {
    c: Chrome,
    signed_in: bool,
    schools: Vec<DeviceView>,
    codes: Vec<(String, String, String)>,
    quarantined: Vec<QuarantineView>,
    new_code: Option<(String, String)>,
    message: Option<String>,
}

/// The hub's administrator (`SignedIn::is_hub_admin`): neither a school's people, whatever
/// profile their directory gives them, nor the académie's console accounts.
fn hub_admin(user: &SignedIn) -> bool {
    user.is_hub_admin()
}

fn admin(ctx: &Ctx) -> bool {
    ctx.signed_in.as_ref().is_some_and(hub_admin)
}

fn hub_view(
    state: &AppState,
    ctx: &Ctx,
    new_code: Option<(String, String)>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let l = ctx.locale;
    let links = &state.part::<Replication>().links;
    let signed_in = admin(ctx);
    let (schools, codes, quarantined) = if signed_in {
        (
            enrolled_views(l, links)?,
            links
                .pending_codes()?
                .into_iter()
                .map(|(label, subject, exp)| (label, subject, crate::platform::clock::date_of_ms(exp)))
                .collect(),
            quarantine_views(l, links, 20)?,
        )
    } else {
        Default::default()
    };
    render(&HubPage { c: Chrome::new(ctx), signed_in, schools, codes, quarantined, new_code, message })
}

async fn hub_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    hub_view(&state, &ctx, None, None)
}

#[derive(Deserialize)]
struct LoginForm {
    password: String,
}

async fn hub_login(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<LoginForm>) -> Result<Response, AppError> {
    let key = format!("{}:hub-admin", crate::platform::ratelimit::address_key(ctx.client_ip));
    if state.limits.attempt(&[(&key, crate::platform::ratelimit::PAIR)]).is_err() {
        return Err(AppError::TooManyAttempts { message: "login-too-many", detail: key });
    }
    let hash = state.part::<Replication>().links.admin_hash()?.unwrap_or_default();
    let password = form.password;
    let ok = crate::school::accounts::argon2(&state, move |memory| memory.verify(&password, &hash)).await?;
    if !ok {
        return hub_view(&state, &ctx, None, Some(ctx.locale.t("login-failed")));
    }
    state.limits.succeeded(&[&key], &[]);
    // The hub has one administrator account; its id only names its sessions.
    let admin_id = UserId::parse("0000000000000000")?;
    let sid = state.start_session(SignedIn::new(
        None,
        admin_id,
        Profile::AcademyAdmin,
        ctx.locale.t("hub-admin-name"),
        false,
    ));
    let mut response = Redirect::to("/hub").into_response();
    if let Ok(v) = state.sessions.cookie(sid).parse() {
        response.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    Ok(response)
}

async fn hub_logout(state: AppState, ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> Result<Response, AppError> {
    state.sessions.end(&ctx.sid);
    Ok(Redirect::to("/hub").into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    uai: String,
    name: String,
}

async fn hub_code(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<CodeForm>) -> Result<Response, AppError> {
    if !admin(&ctx) {
        return Err(AppError::Unauthenticated);
    }
    let Ok(uai) = Uai::parse(form.uai.trim()) else {
        return Ok(
            (StatusCode::BAD_REQUEST, hub_view(&state, &ctx, None, Some(ctx.locale.t("hub-bad-uai")))?).into_response()
        );
    };
    let name = crate::platform::text::one_line(&form.name, 120, "hub-bad-name")?;
    let label = if name.is_empty() { uai.to_string() } else { format!("{name} ({uai})") };
    let code = enrollment::create_code(&state.part::<Replication>().links, &label, &Subject::School(uai))?;
    hub_view(&state, &ctx, Some((label, code)), None)
}

/// The hub administrator's password: created at the hub's first start (printed once) or
/// replaced by `preau hub reset-password`.
pub fn new_admin_password(links: &super::Links) -> Result<String, AppError> {
    let password = hex::encode(crate::platform::random_bytes::<10>());
    links.set_admin_hash(&secrets::hash_password(&password))?;
    Ok(password)
}

/// The hub administrator's first password, drawn if she has none yet; `None` if she has
/// one (or another hub process on the same database drew it first, and printed it).
pub fn first_admin_password(links: &super::Links) -> Result<Option<String>, AppError> {
    if links.admin_hash()?.is_some() {
        return Ok(None);
    }
    let password = hex::encode(crate::platform::random_bytes::<10>());
    Ok(links.first_admin_hash(&secrets::hash_password(&password))?.then_some(password))
}

/// The sync page of a school's director, and the footer note of staff pages.
pub const SERVICE: Service = Service {
    name: "sync",
    pages: routes,
    api: api_routes,
    tags: &[("sync", "Replication: enrolling a computer")],
    home: |h| Box::pin(home_tiles(h)),
    served_by: ServedBy::School,
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let tiles = (h.member.profile == Profile::Director)
        .then(|| Tile::new(Place::Admin, "/admin/sync", "sync", h.l().t("tile-sync")));
    Ok(HomePart { tiles: tiles.into_iter().collect(), panel: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phase_of_a_run_has_words_in_every_language() {
        for l in [Locale::default(), Locale::negotiate(Some("en"))] {
            for phase in [None, Some("connect"), Some("receive"), Some("send")] {
                let label = phase_label(l, phase);
                assert!(!label.is_empty() && !label.starts_with("sync-phase-"), "{l:?} {phase:?}: {label}");
            }
        }
        assert_eq!(phase_label(Locale::default(), Some("receive")), "réception");
        assert_eq!(phase_label(Locale::negotiate(Some("en")), Some("receive")), "receiving");
        // A phase from a server of another version shows as it came.
        assert_eq!(phase_label(Locale::default(), Some("réception")), "réception");
    }
}
