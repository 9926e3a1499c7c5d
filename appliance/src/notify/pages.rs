//! The notification pages, on the hub: « Mes notifications » (an adult's address, her mode
//! per topic, her digest's hour, her own quiet hours), the confirmation of an address she
//! entered, the one-click unsubscribe of every e-mail, and the director's list of the
//! school's addresses that keep failing. Pupils have none of them.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use preau_sync::Uai;
use serde::Deserialize;

use super::{
    CONFIRM_FOR_MS, Calendar, FAILING_AFTER, Notifier, Own, Quiet, address_of, message_id, mode_of, topics,
    unsubscribe_token,
};
use crate::platform::clock::now_ms;
use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::links::{AddressState, NewMail, NotifySettings};
use crate::school::accounts::secrets::constant_eq;
use crate::school::directory::{Member, Profile, UserId};
use crate::web::service::{Home, HomePart, Mode, Place, ServedBy, Service, Tile};
use crate::web::session::{CsrfForm, Empty};
use crate::web::{AppState, Chrome, Ctx, Routes, render, render_status};

/// A second address may be asked for this long after the last (a form cannot make the
/// hub write to someone's mailbox more than six times an hour).
const CONFIRM_EVERY_MS: i64 = 10 * 60_000;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/notifications", settings_page)
        .post("/notifications", settings_form)
        .post("/notifications/address", address_form)
        .post("/notifications/retry", retry_form)
        .get("/notifications/confirm", confirm_page)
        .post("/notifications/confirm", confirm_form)
        .get("/notifications/stop", stop_page)
        .post("/notifications/stop", stop_form)
        .get("/notifications/school", school_page)
}

/// The signed-in adult (a pupil has no notifications).
fn adult(state: &AppState, ctx: &Ctx) -> Result<Member, AppError> {
    let by = ctx.user()?;
    state.directory().member(&by.user).filter(|m| m.profile != Profile::Pupil).cloned().ok_or(AppError::NotFound)
}

fn school_of(state: &AppState) -> Result<String, AppError> {
    Ok(state.uai()?.to_string())
}

// ---- « Mes notifications » ----

/// One topic's line of the form.
struct TopicView {
    id: &'static str,
    label: String,
    mode: &'static str,
    eve: bool,
}

#[derive(Template)]
#[template(path = "notify/settings.html")]
struct SettingsPage {
    c: Chrome,
    on: bool,
    address: String,
    from_school: bool,
    pending: String,
    failing: Option<AddressState>,
    topics: Vec<TopicView>,
    digest_hour: u8,
    hours: Vec<u8>,
    quiet_hours: String,
    saturday: bool,
    academy_quiet: String,
    stopped: bool,
    note: Option<String>,
    error: Option<String>,
}

fn settings_view(
    state: &AppState,
    ctx: &Ctx,
    note: Option<String>,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let member = adult(state, ctx)?;
    let links = &state.part::<Replication>().links;
    let settings = links.notify_settings(&school_of(state)?, member.id.as_str())?;
    let address = address_of(&settings, &member).unwrap_or_default();
    let failing = links.address_states(std::slice::from_ref(&address))?.into_iter().find(|s| s.failing);
    let l = &ctx.locale;
    let page = SettingsPage {
        c: Chrome::new(ctx),
        on: state.try_part::<Notifier>().is_some(),
        from_school: settings.address.is_empty() && !address.is_empty(),
        address,
        pending: if settings.pending_until > now_ms() { settings.pending_address.clone() } else { String::new() },
        failing,
        topics: topics(state)
            .into_iter()
            .map(|t| TopicView { id: t.id, label: l.t(t.label), mode: mode_of(&settings, t).as_str(), eve: t.eve })
            .collect(),
        digest_hour: settings.digest_hour,
        hours: calendar(state).map(|c| c.digest_hours(Own::default())).unwrap_or_default(),
        quiet_hours: settings.quiet_hours.clone(),
        saturday: settings.saturday,
        academy_quiet: academy_quiet(state, l),
        stopped: settings.stopped,
        note,
        error: error.map(|e| l.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

/// The académie's calendar (from `[mail]`, whether or not it names a server).
fn calendar(state: &AppState) -> Option<Calendar> {
    Calendar::new(&state.config.mail).ok()
}

/// « de 20 h à 7 h, et le dimanche », as the settings page says it.
fn academy_quiet(state: &AppState, l: &crate::platform::i18n::Locale) -> String {
    let Some((hours, days)) = calendar(state).map(|c| c.quiet()) else { return String::new() };
    let days: Vec<String> = days.iter().map(|d| l.t(&format!("weekday-{d}"))).collect();
    match (hours, days.is_empty()) {
        (None, true) => l.t("notify-academy-quiet-none"),
        (Some((from, until)), true) => l.ta("notify-academy-quiet-hours", &[("from", &from), ("until", &until)]),
        (None, false) => l.ta("notify-academy-quiet-days", &[("days", &days.join(", "))]),
        (Some((from, until)), false) => {
            l.ta("notify-academy-quiet", &[("from", &from), ("until", &until), ("days", &days.join(", "))])
        }
    }
}

async fn settings_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    settings_view(&state, &ctx, None, None)
}

/// Saves `by`'s choices from the form's fields: a mode per topic, the digest's hour, her
/// own quiet hours and Saturdays. Anything else is refused and nothing changes.
pub fn save_settings(state: &AppState, member: &Member, fields: &[(String, String)]) -> Result<(), AppError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    let links = &state.part::<Replication>().links;
    let school = school_of(state)?;
    let mut settings = links.notify_settings(&school, member.id.as_str())?;
    for topic in topics(state) {
        let Some(text) = field(&format!("mode-{}", topic.id)) else { continue };
        let mode = Mode::parse(text).filter(|m| !(topic.eve && *m == Mode::Immediate));
        let mode = mode.ok_or_else(|| AppError::bad("notify-bad-mode", format!("{}: {text:?}", topic.id)))?;
        settings.modes.insert(topic.id.to_owned(), mode.as_str().to_owned());
    }
    let calendar = calendar(state).ok_or_else(|| AppError::Internal("[mail] settings".into()))?;
    if let Some(hour) = field("digest_hour") {
        let allowed = calendar.digest_hours(Own::default());
        settings.digest_hour =
            hour.parse().ok().filter(|h| allowed.contains(h)).ok_or_else(|| AppError::bad("notify-bad-hour", hour))?;
    }
    let quiet = field("quiet_hours").unwrap_or_default();
    let own = Own { quiet: Quiet::parse(quiet).map_err(|e| AppError::bad("notify-bad-quiet", e))?, saturday: false };
    // Her own quiet hours may narrow the day, not close it, nor hide her digest's hour.
    if !calendar.digest_hours(own).contains(&settings.digest_hour) {
        return Err(AppError::bad("notify-quiet-digest", format!("{quiet:?} hides {}h", settings.digest_hour)));
    }
    settings.quiet_hours = quiet.to_owned();
    settings.saturday = field("saturday") == Some("on");
    settings.stopped = false;
    links.save_notify_settings(&school, member.id.as_str(), &settings)
}

async fn settings_form(state: AppState, ctx: Ctx, body: axum::body::Bytes) -> Result<Response, AppError> {
    let member = adult(&state, &ctx)?;
    let fields = ctx.form_pairs(&body)?;
    match save_settings(&state, &member, &fields) {
        Ok(()) => settings_view(&state, &ctx, Some(ctx.locale.t("notify-saved")), None),
        Err(e @ AppError::BadRequest { .. }) => settings_view(&state, &ctx, None, Some(&e)),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct AddressForm {
    address: String,
}

/// Asks for `address` to become `member`'s: a confirmation link goes to it (at once,
/// whatever the hour: she is waiting for it), and nothing else until it is followed.
/// Clearing the field goes back to the school's address.
pub fn ask_address(state: &AppState, member: &Member, address: &str) -> Result<Option<String>, AppError> {
    let notifier = state.try_part::<Notifier>().ok_or_else(|| AppError::bad("notify-off", "no [mail] server"))?;
    let links = &state.part::<Replication>().links;
    let school = school_of(state)?;
    let mut settings = links.notify_settings(&school, member.id.as_str())?;
    let now = now_ms();
    let address = address.trim();
    if address.is_empty() {
        settings.address.clear();
        settings.pending_address.clear();
        links.save_notify_settings(&school, member.id.as_str(), &settings)?;
        return Ok(None);
    }
    let parsed: lettre::Address =
        address.parse().map_err(|e| AppError::bad("notify-bad-address", format!("{address:?}: {e}")))?;
    if settings.pending_until - CONFIRM_FOR_MS + CONFIRM_EVERY_MS > now {
        return Err(AppError::bad("notify-address-wait", "a confirmation was sent less than 10 minutes ago"));
    }
    let secret = hex::encode(crate::platform::random_bytes::<16>());
    settings.pending_address = parsed.to_string();
    settings.pending_token = blake3::hash(secret.as_bytes()).to_hex().to_string();
    settings.pending_until = now + CONFIRM_FOR_MS;
    links.save_notify_settings(&school, member.id.as_str(), &settings)?;
    let l = crate::platform::i18n::Locale::default();
    let url = format!("{}/notifications/confirm?s={school}&u={}&t={secret}", crate::web::base_url(state), member.id);
    let mail = NewMail {
        school,
        user: member.id.to_string(),
        address: settings.pending_address.clone(),
        message_id: message_id(notifier),
        subject: l.t("notify-confirm-subject"),
        body: l.ta("notify-confirm-body", &[("name", &member.formal_name()), ("url", &url)]),
        unsubscribe: String::new(),
    };
    links.queue_single(&mail, now)?;
    tracing::info!(user = %member.id, "notifications: address confirmation queued");
    Ok(Some(settings.pending_address))
}

/// Her address failed: she asks to try it again (the server may have been wrong, or her
/// mailbox was full).
async fn retry_form(state: AppState, ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> Result<Response, AppError> {
    let member = adult(&state, &ctx)?;
    let links = &state.part::<Replication>().links;
    let settings = links.notify_settings(&school_of(&state)?, member.id.as_str())?;
    if let Some(address) = address_of(&settings, &member) {
        links.address_retry(&address)?;
    }
    settings_view(&state, &ctx, Some(ctx.locale.t("notify-retried")), None)
}

async fn address_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<AddressForm>) -> Result<Response, AppError> {
    let member = adult(&state, &ctx)?;
    match ask_address(&state, &member, &form.address) {
        Ok(Some(address)) => {
            let note = ctx.locale.ta("notify-confirm-sent", &[("address", &address)]);
            settings_view(&state, &ctx, Some(note), None)
        }
        Ok(None) => settings_view(&state, &ctx, Some(ctx.locale.t("notify-address-school")), None),
        Err(e @ AppError::BadRequest { .. }) => settings_view(&state, &ctx, None, Some(&e)),
        Err(e) => Err(e),
    }
}

// ---- links from e-mails: confirm an address, unsubscribe ----

/// A link of an e-mail: the school, the person, and its secret.
#[derive(Deserialize)]
struct LinkQuery {
    s: String,
    u: String,
    t: String,
}

impl LinkQuery {
    /// The school the link is of, and the person there.
    fn resolve(&self, state: &AppState) -> Result<(AppState, Member), AppError> {
        let school = state.within(&Uai::parse(&self.s).map_err(|_| AppError::NotFound)?)?;
        let user = UserId::parse(&self.u).map_err(|_| AppError::NotFound)?;
        let member = school.directory().member(&user).filter(|m| m.profile != Profile::Pupil).cloned();
        Ok((school, member.ok_or(AppError::NotFound)?))
    }

    fn action(&self, school: &AppState, path: &str) -> String {
        format!("{}{path}?s={}&u={}&t={}", crate::web::base_url(school), self.s, self.u, self.t)
    }
}

#[derive(Template)]
#[template(path = "notify/link.html")]
struct LinkPage {
    c: Chrome,
    title: String,
    text: String,
    action: Option<String>,
    button: String,
}

fn link_page(ctx: &Ctx, title: &str, text: String, action: Option<String>, button: &str) -> Result<Response, AppError> {
    let l = &ctx.locale;
    render(&LinkPage { c: Chrome::new(ctx), title: l.t(title), text, action, button: l.t(button) })
}

/// Whether `q` confirms `member`'s pending address now: the secret matches and holds.
fn pending_confirmed(settings: &NotifySettings, q: &LinkQuery) -> bool {
    let hash = blake3::hash(q.t.as_bytes()).to_hex().to_string();
    !settings.pending_address.is_empty()
        && settings.pending_until > now_ms()
        && constant_eq(hash.as_bytes(), settings.pending_token.as_bytes())
}

async fn confirm_page(state: AppState, ctx: Ctx, Query(q): Query<LinkQuery>) -> Result<Response, AppError> {
    let (school, member) = q.resolve(&state)?;
    let settings = school.part::<Replication>().links.notify_settings(&q.s, member.id.as_str())?;
    if !pending_confirmed(&settings, &q) {
        return link_page(&ctx, "notify-confirm-title", ctx.locale.t("notify-confirm-stale"), None, "notify-confirm");
    }
    // A button, not the link itself: mail scanners follow links, and must not confirm.
    let text = ctx.locale.ta("notify-confirm-ask", &[("address", &settings.pending_address)]);
    link_page(&ctx, "notify-confirm-title", text, Some(q.action(&school, "/notifications/confirm")), "notify-confirm")
}

async fn confirm_form(state: AppState, ctx: Ctx, Query(q): Query<LinkQuery>) -> Result<Response, AppError> {
    let (school, member) = q.resolve(&state)?;
    let links = &school.part::<Replication>().links;
    let mut settings = links.notify_settings(&q.s, member.id.as_str())?;
    if !pending_confirmed(&settings, &q) {
        return link_page(&ctx, "notify-confirm-title", ctx.locale.t("notify-confirm-stale"), None, "notify-confirm");
    }
    settings.address = std::mem::take(&mut settings.pending_address);
    settings.pending_token.clear();
    settings.pending_until = 0;
    links.save_notify_settings(&q.s, member.id.as_str(), &settings)?;
    tracing::info!(school = %q.s, user = %member.id, "notifications: address confirmed");
    let text = ctx.locale.ta("notify-confirm-done", &[("address", &settings.address)]);
    link_page(&ctx, "notify-confirm-title", text, None, "notify-confirm")
}

fn unsubscribing(state: &AppState, q: &LinkQuery) -> Result<(AppState, Member), AppError> {
    let (school, member) = q.resolve(state)?;
    if !constant_eq(q.t.as_bytes(), unsubscribe_token(&school, &member.id).as_bytes()) {
        return Err(AppError::NotFound);
    }
    Ok((school, member))
}

async fn stop_page(state: AppState, ctx: Ctx, Query(q): Query<LinkQuery>) -> Result<Response, AppError> {
    let (school, _) = unsubscribing(&state, &q)?;
    let text = ctx.locale.t("notify-stop-ask");
    link_page(&ctx, "notify-stop-title", text, Some(q.action(&school, "/notifications/stop")), "notify-stop")
}

/// Unsubscribes: every topic « never ». The button of the page, and mail programs' own
/// (RFC 8058's one-click POST, with no cookie and no page): the link's secret is the proof.
async fn stop_form(state: AppState, ctx: Ctx, Query(q): Query<LinkQuery>) -> Result<Response, AppError> {
    let (school, member) = unsubscribing(&state, &q)?;
    let links = &school.part::<Replication>().links;
    let mut settings = links.notify_settings(&q.s, member.id.as_str())?;
    for topic in topics(&school) {
        settings.modes.insert(topic.id.to_owned(), Mode::Never.as_str().to_owned());
    }
    settings.stopped = true;
    links.save_notify_settings(&q.s, member.id.as_str(), &settings)?;
    links.cancel_mails(&q.s, member.id.as_str(), now_ms())?;
    tracing::info!(school = %q.s, user = %member.id, "notifications: unsubscribed");
    link_page(&ctx, "notify-stop-title", ctx.locale.t("notify-stop-done"), None, "notify-stop")
}

// ---- the director's list ----

/// One person whose address keeps failing.
struct FailingView {
    name: String,
    role: String,
    state: AddressState,
    when: String,
}

#[derive(Template)]
#[template(path = "notify/school.html")]
struct SchoolPage {
    c: Chrome,
    failing: Vec<FailingView>,
    failing_after: i64,
}

/// The school's people whose address the SMTP server keeps refusing.
fn failing_people(state: &AppState, ctx: &Ctx) -> Result<Vec<FailingView>, AppError> {
    let dir = state.directory();
    let links = &state.part::<Replication>().links;
    let school = school_of(state)?;
    let calendar = calendar(state);
    let mut out = Vec::new();
    for m in dir.people.values().filter(|m| m.profile != Profile::Pupil && !m.person.archived) {
        let settings = links.notify_settings(&school, m.id.as_str())?;
        let Some(address) = address_of(&settings, m) else { continue };
        if let Some(failed) = links.address_states(&[address])?.into_iter().find(|s| s.failing) {
            let when = match &calendar {
                Some(c) => {
                    let at = jiff::Timestamp::from_millisecond(failed.failed_at).unwrap_or_default();
                    c.local(at).strftime("%d/%m/%Y %H:%M").to_string()
                }
                None => ctx.locale.date_time(failed.failed_at),
            };
            let role = crate::school::directory::role_label(&ctx.locale, m);
            out.push(FailingView { name: m.full_name(), role, state: failed, when });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn school_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let member = adult(&state, &ctx)?;
    if member.profile != Profile::Director {
        return Err(AppError::NotFound);
    }
    let failing = failing_people(&state, &ctx)?;
    render(&SchoolPage { c: Chrome::new(&ctx), failing, failing_after: FAILING_AFTER })
}

// ---- home ----

#[derive(Template)]
#[template(path = "notify/_panel.html")]
struct Panel<'a> {
    c: &'a Chrome,
    address: String,
    error: String,
}

/// The tile « Mes notifications » for adults; a panel when their address keeps failing.
async fn home_part(h: &Home<'_>) -> Result<HomePart, AppError> {
    if h.member.profile == Profile::Pupil || h.state.try_part::<Notifier>().is_none() {
        return Ok(HomePart::default());
    }
    let mut tiles = vec![Tile::new(Place::Own, "/notifications", "news", h.l().t("tile-notify"))];
    if h.member.profile == Profile::Director {
        tiles.push(Tile::new(Place::Admin, "/notifications/school", "news", h.l().t("tile-notify-school")));
    }
    let links = &h.state.part::<Replication>().links;
    let settings = links.notify_settings(&school_of(h.state)?, h.member.id.as_str())?;
    let failing = match address_of(&settings, h.member) {
        Some(address) => links.address_states(&[address])?.into_iter().find(|s| s.failing),
        None => None,
    };
    let panel = match failing {
        Some(s) => Some(
            Panel { c: h.chrome, address: s.address, error: s.last_error }
                .render()
                .map_err(|e| AppError::Internal(format!("template: {e}")))?,
        ),
        None => None,
    };
    Ok(HomePart { tiles, panel })
}

/// E-mail notifications, on the hub.
pub const SERVICE: Service = Service {
    name: "notify",
    pages: routes,
    home: |h| Box::pin(home_part(h)),
    served_by: ServedBy::Hub,
    ..Service::NOTHING
};
