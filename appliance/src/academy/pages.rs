//! The console's pages. Every form posts, and on success goes back to its page (303); a
//! refusal shows the same page again with its French reason and the refusal's status,
//! having changed nothing.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::Convention;
use preau_sync::{Insee, Uai};
use serde::Deserialize;

use super::accounts::{self, Handover, NewAccount};
use super::communes::{self, CommuneForm};
use super::contributions::{self, Statement, euros};
use super::conventions::{self, ConventionForm};
use super::statistics::{self, Filter, follows_usage, is_connection, sum_by};
use super::{
    Role, activates_schools, console, manages_account, manages_communes, manages_conventions, reads_audit,
    reads_commune, require,
};
use crate::platform::error::AppError;
use crate::school::accounts::pages::signed_in_as;
use crate::school::directory::Directory;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, Routes, render_status};

pub(super) fn routes() -> Routes {
    Routes::new()
        .get("/console", home_page)
        .post("/console/login", login_form)
        .get("/console/password", password_page)
        .post("/console/password", password_form)
        .post("/console/communes", commune_create)
        .get("/console/communes/{insee}", commune_page)
        .post("/console/communes/{insee}", commune_edit)
        .post("/console/communes/{insee}/schools", school_add)
        .post("/console/communes/{insee}/conventions", convention_create)
        .get("/console/communes/{insee}/conventions/{id}", convention_page)
        .post("/console/communes/{insee}/conventions/{id}/sign", convention_sign)
        .post("/console/communes/{insee}/conventions/{id}/end", convention_end)
        .post("/console/communes/{insee}/conventions/{id}/schools", convention_school)
        .get("/console/communes/{insee}/statement", statement_page)
        .get("/console/accounts", accounts_page)
        .post("/console/accounts", account_create)
        .post("/console/accounts/{id}/disable", account_disable)
        .post("/console/accounts/{id}/reset", account_reset)
        .get("/console/contributions", contributions_page)
        .get("/console/contributions.csv", contributions_csv)
        .post("/console/rates", rate_form)
        .get("/console/audit", audit_page)
        .get("/console/communes/{insee}/portal", portal_page)
        .post("/console/communes/{insee}/portal", portal_form)
        .post("/console/communes/{insee}/news", news_form)
        .post("/console/communes/{insee}/news/{id}/withdraw", news_withdraw)
        .get("/console/communes/{insee}/menus", menus_page)
        .post("/console/communes/{insee}/menus/{day}", menu_form)
        .get("/console/sync", sync_page)
        .get("/console/usage", usage_page)
        .get("/console/usage.csv", usage_csv)
        .layer(axum::middleware::from_fn(sign_in_here))
}

/// A console page asked for signed out (or after the session ended) goes to the console's
/// sign-in, not to a school's login page.
async fn sign_in_here(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SEE_OTHER
        && response.headers().get(header::LOCATION).is_some_and(|to| to == "/login")
    {
        response.headers_mut().insert(header::LOCATION, header::HeaderValue::from_static("/console"));
    }
    response
}

/// What a page shows after a form: the refusal, or what to hand over once.
#[derive(Default)]
struct Outcome {
    error: Option<String>,
    status: Option<StatusCode>,
    handover: Option<Handover>,
    code: Option<String>,
}

impl Outcome {
    fn refused(ctx: &Ctx, e: &AppError) -> Self {
        Self { error: Some(ctx.locale.t(e.message_id())), status: Some(e.status()), ..Self::default() }
    }
}

/// A page's answer after a form: back to `to` on success, else `page` with the refusal. A
/// request outside the console (signed out, or a school's account) is refused as such.
fn after<T>(
    ctx: &Ctx,
    result: Result<T, AppError>,
    to: &str,
    page: impl FnOnce(Outcome) -> Result<Response, AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(to).into_response()),
        Err(e @ (AppError::Unauthenticated | AppError::Forbidden(_) | AppError::NotFound | AppError::Csrf)) => Err(e),
        Err(e) => {
            e.log();
            page(Outcome::refused(ctx, &e))
        }
    }
}

fn insee_of(insee: &str) -> Result<Insee, AppError> {
    Insee::parse(insee).map_err(|_| AppError::NotFound)
}

fn role_label(l: &crate::platform::i18n::Locale, role: Role) -> String {
    l.t(&format!("console-role-{}", role.as_str().replace('_', "-")))
}

// ---- Home: sign in, or the communes and the tools of one's role ----

#[derive(Template)]
#[template(path = "academy/console.html")]
struct HomePage {
    c: Chrome,
    who: Option<(String, String)>,
    communes: Vec<(String, String, usize)>,
    create_commune: bool,
    accounts: bool,
    contributions: bool,
    audit: bool,
    usage: bool,
    sync: bool,
    rates: Vec<(String, String)>,
    year: String,
    error: Option<String>,
}

fn home_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
    let c = Chrome::new(ctx);
    let Ok(by) = console(state, ctx) else {
        let page = HomePage {
            c,
            who: None,
            communes: Vec::new(),
            create_commune: false,
            accounts: false,
            contributions: false,
            audit: false,
            usage: false,
            sync: false,
            rates: Vec::new(),
            year: String::new(),
            error: outcome.error,
        };
        return render_status(&page, outcome.status.unwrap_or(StatusCode::OK));
    };
    let communes = super::communes(state)?
        .iter()
        .filter(|(insee, _)| reads_commune(&by, insee))
        .map(|(insee, c)| (insee.to_string(), c.name.clone(), c.schools.len()))
        .collect();
    let settings = super::settings(state)?;
    let page = HomePage {
        who: Some((by.name.clone(), role_label(&ctx.locale, by.role))),
        communes,
        create_commune: manages_communes(&by),
        accounts: Role::ACCOUNTS.iter().any(|r| manages_account(&by, *r, by.commune.as_ref())),
        contributions: manages_conventions(&by),
        audit: reads_audit(&by),
        usage: follows_usage(&by),
        sync: super::freshness::follows_sync(&by),
        rates: settings.rates.iter().map(|(y, c)| (y.clone(), euros(*c))).collect(),
        year: contributions::year_of(&crate::platform::clock::today()),
        error: outcome.error,
        c,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn home_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    home_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<LoginForm>) -> Result<Response, AppError> {
    match accounts::login(&state, &ctx, &form.login, &form.password).await {
        Ok(session) => {
            let to = if session.must_change_password { "/console/password" } else { "/console" };
            Ok(signed_in_as(&state, &ctx, session, to))
        }
        Err(e) => {
            e.log();
            home_view(&state, &ctx, Outcome::refused(&ctx, &e))
        }
    }
}

#[derive(Template)]
#[template(path = "academy/password.html")]
struct PasswordPage {
    c: Chrome,
    must_change: bool,
    min_len: usize,
    error: Option<String>,
}

fn password_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(by.role != Role::HubAdmin, "password")?;
    let page = PasswordPage {
        c: Chrome::new(ctx),
        must_change: ctx.user()?.must_change_password,
        min_len: crate::school::accounts::secrets::MIN_PASSWORD_LEN,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn password_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    password_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn password_form(state: AppState, ctx: Ctx, CsrfForm(f): CsrfForm<PasswordForm>) -> Result<Response, AppError> {
    require(console(&state, &ctx)?.role != Role::HubAdmin, "password")?;
    let result = accounts::change_password(&state, &ctx, &f.current, &f.new, &f.confirm).await;
    after(&ctx, result, "/console", |o| password_view(&state, &ctx, o))
}

// ---- Communes ----

#[derive(Deserialize)]
struct CommuneFields {
    #[serde(default)]
    insee: String,
    name: String,
    #[serde(default)]
    contacts: String,
}

impl From<CommuneFields> for CommuneForm {
    fn from(f: CommuneFields) -> Self {
        CommuneForm { insee: f.insee, name: f.name, contacts: f.contacts }
    }
}

async fn commune_create(state: AppState, ctx: Ctx, CsrfForm(f): CsrfForm<CommuneFields>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    match communes::create(&state, &by, f.into()).await {
        Ok(insee) => Ok(Redirect::to(&format!("/console/communes/{insee}")).into_response()),
        Err(e) => after(&ctx, Err::<(), _>(e), "/console", |o| home_view(&state, &ctx, o)),
    }
}

/// A school of the commune, as its page lists it.
struct SchoolRow {
    uai: String,
    name: String,
    synced: bool,
}

/// A convention, as lists show it.
struct ConventionRow {
    id: String,
    title: String,
    status: String,
    starts_on: String,
    ends_on: String,
}

fn convention_row(l: &crate::platform::i18n::Locale, id: &str, c: &Convention) -> ConventionRow {
    ConventionRow {
        id: id.to_owned(),
        title: c.title.clone(),
        status: l.t(&format!("console-status-{}", c.status)),
        starts_on: c.starts_on.clone(),
        ends_on: c.last_day().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "academy/commune.html")]
struct CommunePage {
    c: Chrome,
    insee: String,
    name: String,
    contacts: String,
    schools: Vec<SchoolRow>,
    conventions: Vec<ConventionRow>,
    edit: bool,
    draft: bool,
    portal: bool,
    year: String,
    error: Option<String>,
}

fn commune_view(state: &AppState, ctx: &Ctx, insee: &Insee, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(reads_commune(&by, insee), "commune")?;
    let commune = super::commune(state, insee)?;
    let held: Vec<Uai> = state.db.read(|r| Ok(Directory::schools(r)?.into_iter().map(|s| s.uai).collect()))?;
    let schools = commune
        .schools
        .iter()
        .map(|(uai, s)| SchoolRow {
            uai: uai.clone(),
            name: s.name.clone(),
            synced: held.iter().any(|h| h.as_str() == uai),
        })
        .collect();
    let conventions = super::conventions_of(state, insee)?
        .iter()
        .map(|(id, c)| convention_row(&ctx.locale, id.as_str(), c))
        .collect();
    let page = CommunePage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        name: commune.name,
        contacts: commune.contacts,
        schools,
        conventions,
        edit: manages_communes(&by),
        draft: manages_conventions(&by),
        portal: super::portal::edits_portal(&by, insee),
        year: contributions::year_of(&crate::platform::clock::today()),
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn commune_page(state: AppState, ctx: Ctx, Path(insee): Path<String>) -> Result<Response, AppError> {
    commune_view(&state, &ctx, &insee_of(&insee)?, Outcome::default())
}

async fn commune_edit(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<CommuneFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = communes::update(&state, &by, &insee, f.into()).await;
    after(&ctx, result, &format!("/console/communes/{insee}"), |o| commune_view(&state, &ctx, &insee, o))
}

#[derive(Deserialize)]
struct SchoolFields {
    uai: String,
    #[serde(default)]
    name: String,
}

async fn school_add(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<SchoolFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = communes::add_school(&state, &by, &insee, &f.uai, &f.name).await;
    after(&ctx, result, &format!("/console/communes/{insee}"), |o| commune_view(&state, &ctx, &insee, o))
}

/// The value of `name` in a form's pairs (empty if absent), and every value of a repeated one.
fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

fn fields(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

async fn convention_create(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let form = ConventionForm {
        title: field(&pairs, "title"),
        starts_on: field(&pairs, "starts_on"),
        ends_on: field(&pairs, "ends_on"),
        schools: fields(&pairs, "school"),
    };
    match conventions::create(&state, &by, &insee, form).await {
        Ok(id) => Ok(Redirect::to(&format!("/console/communes/{insee}/conventions/{id}")).into_response()),
        Err(e) => after(&ctx, Err::<(), _>(e), "", |o| commune_view(&state, &ctx, &insee, o)),
    }
}

// ---- A convention ----

/// A school a convention names, with its classes as the hub holds them.
struct NamedSchool {
    uai: String,
    name: String,
    activated_on: String,
    synced: bool,
    /// (class id, name, covered now, covered until a past day)
    classes: Vec<(String, String, bool, String)>,
}

#[derive(Template)]
#[template(path = "academy/convention.html")]
struct ConventionPage {
    c: Chrome,
    insee: String,
    commune: String,
    id: String,
    row: ConventionRow,
    signed_on: String,
    draft: bool,
    signed: bool,
    manage: bool,
    activate: bool,
    schools: Vec<NamedSchool>,
    today: String,
    code: Option<String>,
    error: Option<String>,
}

fn convention_view(
    state: &AppState,
    ctx: &Ctx,
    insee: &Insee,
    id: &str,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(reads_commune(&by, insee), "convention")?;
    let commune = super::commune(state, insee)?;
    let (id, convention) = conventions::find(state, insee, id)?;
    let today = crate::platform::clock::today();
    let mut schools = Vec::new();
    for (uai, named) in &convention.schools {
        let Ok(uai_id) = Uai::parse(uai) else { continue };
        let dir = state.db.read(|r| Directory::load_school(r, &uai_id))?;
        let covered_now = |class: &str| convention.covers(uai, class, &today);
        let mut classes: Vec<(String, String, bool, String)> = dir
            .current_classes()
            .into_iter()
            .map(|c| {
                let id = c.id.to_string();
                let until = named.classes.get(&id).map(|k| k.until.clone()).unwrap_or_default();
                (id.clone(), c.class.name.clone(), covered_now(&id), until)
            })
            .collect();
        classes.sort_by(|a, b| a.1.cmp(&b.1));
        schools.push(NamedSchool {
            uai: uai.clone(),
            name: commune.schools.get(uai).map(|s| s.name.clone()).unwrap_or_default(),
            activated_on: named.activated_on.clone(),
            synced: dir.school.is_some(),
            classes,
        });
    }
    let page = ConventionPage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        commune: commune.name,
        id: id.to_string(),
        row: convention_row(&ctx.locale, id.as_str(), &convention),
        signed_on: convention.signed_on.clone(),
        draft: convention.status == "draft",
        signed: convention.status == "signed",
        manage: manages_conventions(&by),
        activate: activates_schools(&by) && convention.status == "signed",
        schools,
        today,
        code: outcome.code,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn convention_page(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    convention_view(&state, &ctx, &insee_of(&insee)?, &id, Outcome::default())
}

#[derive(Deserialize)]
struct DayForm {
    day: String,
}

async fn convention_sign(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DayForm>,
) -> Result<Response, AppError> {
    convention_step(state, ctx, insee, id, f, true).await
}

async fn convention_end(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DayForm>,
) -> Result<Response, AppError> {
    convention_step(state, ctx, insee, id, f, false).await
}

/// Signs a convention, or ends it, on the form's day.
async fn convention_step(
    state: AppState,
    ctx: Ctx,
    insee: String,
    id: String,
    f: DayForm,
    sign: bool,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = match sign {
        true => conventions::sign(&state, &by, &insee, &id, &f.day).await,
        false => conventions::end(&state, &by, &insee, &id, &f.day).await,
    };
    let to = format!("/console/communes/{insee}/conventions/{id}");
    after(&ctx, result, &to, |o| convention_view(&state, &ctx, &insee, &id, o))
}

/// Activates a school (and shows its enrolment code once), or changes its covered classes.
async fn convention_school(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let (uai, classes) = (field(&pairs, "uai"), fields(&pairs, "class"));
    let to = format!("/console/communes/{insee}/conventions/{id}");
    if field(&pairs, "action") == "activate" {
        return match conventions::activate(&state, &by, &insee, &id, &uai, &classes).await {
            Ok(Some(code)) => {
                convention_view(&state, &ctx, &insee, &id, Outcome { code: Some(code), ..Outcome::default() })
            }
            Ok(None) => Ok(Redirect::to(&to).into_response()),
            Err(e) => after(&ctx, Err::<(), _>(e), &to, |o| convention_view(&state, &ctx, &insee, &id, o)),
        };
    }
    let result = conventions::cover(&state, &by, &insee, &id, &uai, &classes).await;
    after(&ctx, result, &to, |o| convention_view(&state, &ctx, &insee, &id, o))
}

// ---- Contributions ----

#[derive(Deserialize, Default)]
struct PeriodQuery {
    year: Option<String>,
    day: Option<String>,
}

/// One commune's line of the contributions table.
struct ContributionRow {
    insee: String,
    commune: String,
    schools: usize,
    pupils: u64,
    rate: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "academy/contributions.html")]
struct ContributionsPage {
    c: Chrome,
    year: String,
    day: String,
    rows: Vec<ContributionRow>,
    pupils: u64,
    amount: String,
    rate: String,
    error: Option<String>,
}

fn contributions_view(state: &AppState, ctx: &Ctx, q: &PeriodQuery, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(manages_conventions(&by), "contributions")?;
    let (period, error) = match contributions::period(q.year.as_deref(), q.day.as_deref()) {
        Ok(p) => (p, outcome.error),
        Err(e) => (contributions::period(None, None)?, Some(ctx.locale.t(e.message_id()))),
    };
    let (year, day) = period;
    let all = contributions::all(state, &year, &day)?;
    let page = ContributionsPage {
        c: Chrome::new(ctx),
        rows: all
            .iter()
            .map(|s| ContributionRow {
                insee: s.insee.to_string(),
                commune: s.commune.clone(),
                schools: s.schools.len(),
                pupils: s.pupils,
                rate: euros(s.rate),
                amount: euros(s.amount),
            })
            .collect(),
        pupils: all.iter().map(|s| s.pupils).sum(),
        amount: euros(all.iter().map(|s| s.amount).sum()),
        rate: euros(super::rate_of(super::settings(state)?.as_ref(), &year)),
        year,
        day,
        error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn contributions_page(state: AppState, ctx: Ctx, Query(q): Query<PeriodQuery>) -> Result<Response, AppError> {
    contributions_view(&state, &ctx, &q, Outcome::default())
}

async fn contributions_csv(state: AppState, ctx: Ctx, Query(q): Query<PeriodQuery>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(manages_conventions(&by), "contributions")?;
    let (year, day) = contributions::period(q.year.as_deref(), q.day.as_deref())?;
    let bytes = contributions::csv(&contributions::all(&state, &year, &day)?)?;
    contributions::record_export(&state, &by, "contributions.csv", &year, &day)?;
    let disposition = format!("attachment; filename=\"contributions-{year}-{day}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct RateForm {
    year: String,
    rate: String,
}

async fn rate_form(state: AppState, ctx: Ctx, CsrfForm(f): CsrfForm<RateForm>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let result = contributions::set_rate(&state, &by, &f.year, &f.rate).await;
    after(&ctx, result, "/console", |o| home_view(&state, &ctx, o))
}

#[derive(Template)]
#[template(path = "academy/statement.html")]
struct StatementPage {
    c: Chrome,
    s: Statement,
    rate: String,
    amount: String,
    today: String,
}

async fn statement_page(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    require(reads_commune(&by, &insee) && (manages_conventions(&by) || by.commune.is_some()), "statement")?;
    let (year, day) = contributions::period(q.year.as_deref(), q.day.as_deref())?;
    let s = contributions::statement(&state, &insee, &year, &day)?;
    contributions::record_export(&state, &by, &format!("statement/{insee}"), &year, &day)?;
    let page = StatementPage {
        c: Chrome::new(&ctx),
        rate: euros(s.rate),
        amount: euros(s.amount),
        s,
        today: crate::platform::clock::today(),
    };
    render_status(&page, StatusCode::OK)
}

// ---- Accounts ----

/// An account as its list shows it.
struct AccountRow {
    id: String,
    login: String,
    name: String,
    role: String,
    commune: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "academy/accounts.html")]
struct AccountsPage {
    c: Chrome,
    rows: Vec<AccountRow>,
    roles: Vec<(&'static str, String)>,
    communes: Vec<(String, String)>,
    handover: Option<Handover>,
    error: Option<String>,
}

fn accounts_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    let roles: Vec<Role> = Role::ACCOUNTS
        .into_iter()
        .filter(|r| manages_account(&by, *r, if r.of_commune() { by.commune.as_ref() } else { None }))
        .collect();
    require(!roles.is_empty() || by.role == Role::Rectorat || by.role == Role::Dane, "accounts")?;
    let communes = super::communes(state)?
        .iter()
        .filter(|(insee, _)| manages_account(&by, Role::CommuneAgent, Some(insee)))
        .map(|(insee, c)| (insee.to_string(), c.name.clone()))
        .collect::<Vec<_>>();
    let mut rows: Vec<AccountRow> = super::staff(state)?
        .accounts
        .iter()
        .filter_map(|(id, a)| {
            let role = Role::parse(&a.role)?;
            manages_account(&by, role, Insee::parse(&a.commune).ok().as_ref()).then(|| AccountRow {
                id: id.clone(),
                login: a.login.clone(),
                name: a.name.clone(),
                role: role_label(&ctx.locale, role),
                commune: a.commune.clone(),
                disabled: a.disabled,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let page = AccountsPage {
        c: Chrome::new(ctx),
        rows,
        roles: roles.into_iter().map(|r| (r.as_str(), role_label(&ctx.locale, r))).collect(),
        communes,
        handover: outcome.handover,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn accounts_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    accounts_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
struct AccountFields {
    name: String,
    #[serde(default)]
    email: String,
    role: String,
    #[serde(default)]
    commune: String,
}

async fn account_create(state: AppState, ctx: Ctx, CsrfForm(f): CsrfForm<AccountFields>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let new = NewAccount { name: f.name, email: f.email, role: f.role, commune: f.commune };
    match accounts::create(&state, &by, new).await {
        Ok(handover) => accounts_view(&state, &ctx, Outcome { handover: Some(handover), ..Outcome::default() }),
        Err(e) => after(&ctx, Err::<(), _>(e), "", |o| accounts_view(&state, &ctx, o)),
    }
}

#[derive(Deserialize)]
struct DisableForm {
    #[serde(default)]
    enable: Option<String>,
}

async fn account_disable(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DisableForm>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let result = accounts::set_disabled(&state, &by, &id, f.enable.is_none()).await;
    after(&ctx, result, "/console/accounts", |o| accounts_view(&state, &ctx, o))
}

async fn account_reset(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<crate::web::session::Empty>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    match accounts::reset(&state, &by, &id).await {
        Ok(handover) => accounts_view(&state, &ctx, Outcome { handover: Some(handover), ..Outcome::default() }),
        Err(e) => after(&ctx, Err::<(), _>(e), "", |o| accounts_view(&state, &ctx, o)),
    }
}

// ---- Audit ----

/// One line of the audit page.
struct AuditRow {
    at: String,
    by: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "academy/audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<AuditRow>,
}

async fn audit_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(reads_audit(&by), "audit")?;
    let staff = super::staff(&state)?;
    let l = &ctx.locale;
    let rows = super::audit::trail(&state, 1000)?
        .into_iter()
        .map(|e| AuditRow {
            at: l.date_time(e.at),
            by: match staff.accounts.get(&e.by) {
                Some(a) => format!("{} ({})", a.name, a.login),
                None if e.by == "hub" => l.t("hub-admin-name"),
                None => e.by.clone(),
            },
            action: l.t(&format!("console-audit-{}", e.action)),
            target: e.target,
            detail: e.reason,
        })
        .collect();
    render_status(&AuditPage { c: Chrome::new(&ctx), rows }, StatusCode::OK)
}

// ---- Usage ----

#[derive(Deserialize, Default)]
struct UsageQuery {
    from: Option<String>,
    to: Option<String>,
    commune: Option<String>,
    school: Option<String>,
}

impl UsageQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        Filter::parse(self.from.as_deref(), self.to.as_deref(), self.commune.as_deref(), self.school.as_deref())
    }
}

/// The profiles the statistics show, in their order.
const PROFILES: [&str; 5] = ["pupil", "parent", "teacher", "director", "staff"];

#[derive(Template)]
#[template(path = "academy/usage.html")]
struct UsagePage {
    c: Chrome,
    filter: Filter,
    query: String,
    /// Commune or school, name, chosen in the filter.
    communes: Vec<(String, String, bool)>,
    schools: Vec<(String, String, bool)>,
    profiles: Vec<String>,
    chart: String,
    /// Day, then connections per profile, then their total.
    days: Vec<(String, Vec<i64>, i64)>,
    /// Month, connections, visits, accounts active.
    months: Vec<(String, i64, i64, i64)>,
    /// Service, visits.
    services: Vec<(String, i64)>,
    /// Commune, school, UAI, connections, visits.
    by_school: Vec<(String, String, String, i64, i64)>,
    error: Option<String>,
}

async fn usage_page(state: AppState, ctx: Ctx, Query(q): Query<UsageQuery>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(follows_usage(&by), "usage")?;
    let l = &ctx.locale;
    let (filter, error) = match q.filter() {
        Ok(f) => (f, None),
        Err(e) => (Filter::parse(None, None, None, None)?, Some(l.t(e.message_id()))),
    };
    let counts = statistics::counts(&state, &by, &filter)?;
    let every_day: Vec<String> = {
        let (mut d, last) =
            (crate::platform::text::date(&filter.from, "")?, crate::platform::text::date(&filter.to, "")?);
        let mut out = Vec::new();
        while d <= last {
            out.push(crate::platform::text::iso(d));
            let Some(next) = d.next_day() else { break };
            d = next;
        }
        out
    };
    let per_day = sum_by(&counts.rows, |r| is_connection(&r.3).then(|| (r.1.clone(), r.2.clone())));
    let days: Vec<(String, Vec<i64>, i64)> = every_day
        .iter()
        .map(|day| {
            let n: Vec<i64> =
                PROFILES.iter().map(|p| per_day.get(&(day.clone(), (*p).to_owned())).copied().unwrap_or(0)).collect();
            let total = n.iter().sum();
            (day.clone(), n, total)
        })
        .collect();
    let chart = statistics::bar_chart(
        &l.ta("usage-chart-title", &[("from", &filter.from), ("to", &filter.to)]),
        &days.iter().map(|(d, _, t)| (d.clone(), *t)).collect::<Vec<_>>(),
    );
    let connections = sum_by(&counts.rows, |r| is_connection(&r.3).then(|| r.1[..7].to_owned()));
    let visits = sum_by(&counts.rows, |r| (!is_connection(&r.3)).then(|| r.1[..7].to_owned()));
    let mut active: BTreeMap<String, i64> = BTreeMap::new();
    for (_, month, _, n) in &counts.active {
        *active.entry(month.clone()).or_insert(0) += n;
    }
    let mut month_keys: Vec<String> = connections.keys().chain(visits.keys()).chain(active.keys()).cloned().collect();
    month_keys.sort();
    month_keys.dedup();
    let months = month_keys
        .into_iter()
        .map(|m| {
            let (c, v, a) = (connections.get(&m).copied(), visits.get(&m).copied(), active.get(&m).copied());
            (m, c.unwrap_or(0), v.unwrap_or(0), a.unwrap_or(0))
        })
        .collect();
    let services = sum_by(&counts.rows, |r| (!is_connection(&r.3)).then(|| r.3.clone()))
        .into_iter()
        .map(|(s, n)| (service_label(l, &s), n))
        .collect();
    let school_connections = sum_by(&counts.rows, |r| is_connection(&r.3).then(|| r.0.clone()));
    let school_visits = sum_by(&counts.rows, |r| (!is_connection(&r.3)).then(|| r.0.clone()));
    let by_school = counts
        .schools
        .iter()
        .map(|(uai, name, _, commune)| {
            let key = uai.to_string();
            let (c, v) = (school_connections.get(&key).copied(), school_visits.get(&key).copied());
            (commune.clone(), name.clone(), key, c.unwrap_or(0), v.unwrap_or(0))
        })
        .collect();
    let followed = statistics::schools_followed(&state, &by)?;
    let mut communes: Vec<(String, String, bool)> =
        followed.iter().map(|s| (s.2.to_string(), s.3.clone(), filter.commune.as_ref() == Some(&s.2))).collect();
    communes.dedup();
    let schools =
        followed.iter().map(|s| (s.0.to_string(), s.1.clone(), filter.school.as_ref() == Some(&s.0))).collect();
    let page = UsagePage {
        c: Chrome::new(&ctx),
        query: serde_urlencoded::to_string([
            ("from", filter.from.as_str()),
            ("to", filter.to.as_str()),
            ("commune", filter.commune.as_ref().map_or("", |c| c.as_str())),
            ("school", filter.school.as_ref().map_or("", |s| s.as_str())),
        ])
        .unwrap_or_default(),
        filter,
        communes,
        schools,
        profiles: PROFILES.iter().map(|p| l.t(&format!("usage-profile-{p}"))).collect(),
        chart,
        days,
        months,
        services,
        by_school,
        error,
    };
    render_status(&page, StatusCode::OK)
}

/// A service's name in the statistics (its own when the locales have none).
fn service_label(l: &crate::platform::i18n::Locale, service: &str) -> String {
    let id = format!("usage-service-{service}");
    if l.has(&id) { l.t(&id) } else { service.to_owned() }
}

async fn usage_csv(state: AppState, ctx: Ctx, Query(q): Query<UsageQuery>) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(follows_usage(&by), "usage")?;
    let filter = q.filter()?;
    let bytes = statistics::csv(&statistics::counts(&state, &by, &filter)?)?;
    let disposition = format!("attachment; filename=\"usage-{}-{}.csv\"", filter.from, filter.to);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

// ---- The schools' sync ----

/// One school's line.
struct SyncRow {
    label: String,
    synced: String,
    pending: String,
    certified: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "academy/sync.html")]
struct SyncPage {
    c: Chrome,
    rows: Vec<SyncRow>,
    late: usize,
}

async fn sync_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(super::freshness::follows_sync(&by), "sync")?;
    let l = &ctx.locale;
    let never = l.t("console-never");
    let rows: Vec<SyncRow> = super::freshness::schools(&state)?
        .into_iter()
        .map(|f| SyncRow {
            label: format!("{} ({})", f.name, f.uai),
            synced: f.synced_at.map_or_else(|| never.clone(), |at| l.date_time(at)),
            pending: l.ta(
                "console-pending",
                &[("docs", &f.pending.0.to_string()), ("kib", &f.pending.1.div_ceil(1024).to_string())],
            ),
            certified: f.certified_until.map_or_else(|| never.clone(), crate::platform::clock::date_of_ms),
            late: f.late,
        })
        .collect();
    let late = rows.iter().filter(|r| r.late).count();
    render_status(&SyncPage { c: Chrome::new(&ctx), rows, late }, StatusCode::OK)
}

// ---- The commune's portal and menus (its own staff) ----

#[derive(Template)]
#[template(path = "academy/portal.html")]
struct PortalEditPage {
    c: Chrome,
    insee: String,
    name: String,
    presentation: String,
    contacts: String,
    periscolaire: String,
    public: bool,
    /// Id, title, day.
    news: Vec<(String, String, String)>,
    week: String,
    error: Option<String>,
}

fn portal_view(state: &AppState, ctx: &Ctx, insee: &Insee, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(super::portal::edits_portal(&by, insee), "portal")?;
    let commune = super::commune(state, insee)?;
    let mut news: Vec<(String, String, String)> = commune
        .news
        .iter()
        .filter(|(_, n)| !n.withdrawn)
        .map(|(id, n)| (id.clone(), n.title.clone(), n.published_on.clone()))
        .collect();
    news.sort_by(|a, b| b.2.cmp(&a.2));
    let today = crate::platform::text::date(&crate::platform::clock::today(), "")?;
    let page = PortalEditPage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        name: commune.name,
        presentation: commune.portal.presentation,
        contacts: commune.contacts,
        periscolaire: commune.portal.periscolaire,
        public: commune.portal.public,
        news,
        week: super::portal::week_of(today),
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn portal_page(state: AppState, ctx: Ctx, Path(insee): Path<String>) -> Result<Response, AppError> {
    portal_view(&state, &ctx, &insee_of(&insee)?, Outcome::default())
}

#[derive(Deserialize)]
struct PortalFields {
    #[serde(default)]
    presentation: String,
    #[serde(default)]
    contacts: String,
    #[serde(default)]
    periscolaire: String,
    #[serde(default)]
    public: Option<String>,
}

async fn portal_form(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<PortalFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let form = super::portal::PortalForm {
        presentation: f.presentation,
        contacts: f.contacts,
        periscolaire: f.periscolaire,
        public: f.public.is_some(),
    };
    let result = super::portal::save_portal(&state, &by, &insee, form).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

#[derive(Deserialize)]
struct NewsFields {
    title: String,
    #[serde(default)]
    body: String,
}

async fn news_form(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<NewsFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = super::portal::post_news(&state, &by, &insee, &f.title, &f.body).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

async fn news_withdraw(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<crate::web::session::Empty>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = super::portal::withdraw_news(&state, &by, &insee, &id).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

/// One row of a day's form: course, dish, the allergens ticked.
struct DishEdit {
    course: String,
    name: String,
    allergens: Vec<(String, String, bool)>,
}

/// One day of the week's form.
struct DayEdit {
    day: String,
    label: String,
    rows: Vec<DishEdit>,
}

#[derive(Template)]
#[template(path = "academy/menus.html")]
struct MenusPage {
    c: Chrome,
    insee: String,
    name: String,
    week: String,
    previous: String,
    next: String,
    courses: Vec<(&'static str, String)>,
    days: Vec<DayEdit>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct WeekQuery {
    week: Option<String>,
}

fn menus_view(
    state: &AppState,
    ctx: &Ctx,
    insee: &Insee,
    week: Option<&str>,
    outcome: Outcome,
) -> Result<Response, AppError> {
    use preau_sync::kinds::canteen::{ALLERGENS, COURSES};
    let by = console(state, ctx)?;
    require(super::portal::edits_portal(&by, insee), "menus")?;
    let commune = super::commune(state, insee)?;
    let l = &ctx.locale;
    let today = crate::platform::text::date(&crate::platform::clock::today(), "")?;
    let monday = week.and_then(super::portal::monday_of).unwrap_or_else(|| crate::platform::text::monday_of(today));
    let iso = crate::platform::text::iso;
    let held = {
        let (from, to) = (iso(monday), iso(monday + time::Duration::days(4)));
        state.db.read(|r| Ok(r.canteen_dishes(insee.as_str(), &from, &to)?))?
    };
    let days = (0..5)
        .map(|n| {
            let day = iso(monday + time::Duration::days(n));
            let dishes: Vec<_> = held.iter().filter(|d| d.day == day).collect();
            let rows = (0..super::portal::DISHES_PER_DAY)
                .map(|i| {
                    let dish = dishes.get(i);
                    DishEdit {
                        course: dish.map_or_else(|| COURSES[i.min(COURSES.len() - 1)].to_owned(), |d| d.course.clone()),
                        name: dish.map(|d| d.name.clone()).unwrap_or_default(),
                        allergens: ALLERGENS
                            .iter()
                            .map(|a| {
                                let ticked = dish.is_some_and(|d| d.allergens.iter().any(|x| x == a));
                                ((*a).to_owned(), l.t(&format!("allergen-{a}")), ticked)
                            })
                            .collect(),
                    }
                })
                .collect();
            DayEdit { label: l.weekday_date(&day), day, rows }
        })
        .collect();
    let page = MenusPage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        name: commune.name,
        week: super::portal::week_of(monday),
        previous: super::portal::week_of(monday - time::Duration::days(7)),
        next: super::portal::week_of(monday + time::Duration::days(7)),
        courses: COURSES.iter().map(|c| (*c, l.t(&format!("course-{c}")))).collect(),
        days,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

async fn menus_page(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    menus_view(&state, &ctx, &insee_of(&insee)?, q.week.as_deref(), Outcome::default())
}

async fn menu_form(
    state: AppState,
    ctx: Ctx,
    Path((insee, day)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let rows = (0..super::portal::DISHES_PER_DAY * 2)
        .map_while(|i| {
            pairs.iter().any(|(k, _)| *k == format!("name-{i}")).then(|| super::portal::DishForm {
                course: field(&pairs, &format!("course-{i}")),
                name: field(&pairs, &format!("name-{i}")),
                allergens: fields(&pairs, &format!("allergen-{i}")),
            })
        })
        .collect();
    let week = crate::platform::text::date(&day, "").ok().map(super::portal::week_of);
    let result = super::portal::save_day(&state, &by, &insee, &day, rows).await;
    let to = format!("/console/communes/{insee}/menus?week={}", week.clone().unwrap_or_default());
    after(&ctx, result, &to, |o| menus_view(&state, &ctx, &insee, week.as_deref(), o))
}
