//! First start: the setup page creates the school and the director's account. Until then
//! nothing else is reachable (see `app::first_run`).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::{Person, SchoolInfo};
use preau_sync::{Store, Uai};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::enrollment;
use crate::replication::status::{FirstSyncView, first_sync_view};
use crate::school::accounts::secrets;
use crate::school::directory::{Directory, Member, Profile, SchoolDocs, UserId, slug};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ErrorBody};
use crate::web::service::{ServedBy, Service};
use crate::web::session::{CsrfForm, Empty};
use crate::web::{AppState, Chrome, Ctx, render, render_status};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/setup", setup_page)
        .post("/setup", setup)
        .post("/setup/restore", restore_form)
        .post("/setup/retry", retry_form)
}

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_setup))
}

/// Creates the school and the director's account on a fresh appliance; returns the
/// director's session.
#[utoipa::path(post, path = "/api/v1/setup", tag = "school", request_body = SetupForm,
    responses((status = 200, body = crate::school::accounts::api::Token), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn api_setup(state: AppState, ApiJson(form): ApiJson<SetupForm>) -> Result<Response, ApiError> {
    match set_up(&state, &form).await {
        Ok(member) => Ok(crate::school::accounts::api::token(&state, &member, false).into_response()),
        Err(SetupRefusal::Done) => Err(AppError::Forbidden("setup is already done".into()).into()),
        Err(SetupRefusal::Invalid(errors)) => {
            let l = crate::platform::i18n::Locale::default();
            let first = errors.first().copied().unwrap_or("error-bad-request");
            let details = errors
                .iter()
                .map(|e| crate::web::api::ErrorDetail { file: String::new(), line: 0, message: l.t(e) })
                .collect();
            Ok(crate::web::api::error_response(&AppError::bad(first, "setup form refused"), details))
        }
        Err(SetupRefusal::Failed(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "school/setup.html")]
struct SetupPage {
    c: Chrome,
    form: SetupForm,
    errors: Vec<String>,
    min_len: usize,
    /// The hub's address as typed in « this school already has a server », and why that failed.
    hub: String,
    restore_error: Option<String>,
    /// Enrolled as a replacement: the school on its way from the hub.
    progress: Option<FirstSyncView>,
}

impl SetupPage {
    fn new(ctx: &Ctx) -> Self {
        Self {
            c: Chrome::new(ctx),
            form: SetupForm::default(),
            errors: Vec::new(),
            min_len: secrets::MIN_PASSWORD_LEN,
            hub: String::new(),
            restore_error: None,
            progress: None,
        }
    }
}

/// The setup form (also the API's request body).
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SetupForm {
    uai: String,
    name: String,
    address: String,
    postcode: String,
    commune: String,
    academy: String,
    civility: String,
    first_name: String,
    last_name: String,
    email: String,
    password: String,
    confirm: String,
}

async fn setup_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let mut page = SetupPage::new(&ctx);
    page.progress = first_sync_view(&state, ctx.locale)?;
    render(&page)
}

#[derive(Deserialize)]
struct RestoreForm {
    hub: String,
    code: String,
}

/// « Cette école a déjà un serveur Préau »: a replacement (for a broken appliance, or the
/// laptop that served the class) enrols with the hub, whose first sync brings the school,
/// its accounts and its work back.
async fn restore_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<RestoreForm>) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Err(AppError::Forbidden("setup is already done".into()));
    }
    if state.part::<Replication>().links.hub().is_some() {
        return Ok(Redirect::to("/setup").into_response());
    }
    match enrollment::enrol(&state, &form.hub, &form.code).await {
        Ok(_) => Ok(Redirect::to("/setup").into_response()),
        // The same form sent twice: the first one enrolled.
        Err(_) if state.part::<Replication>().links.hub().is_some() => Ok(Redirect::to("/setup").into_response()),
        Err(e) => {
            tracing::info!(error = %e, "restoring the school from the hub refused");
            let mut page = SetupPage::new(&ctx);
            page.hub = form.hub;
            page.restore_error = Some(e.message(ctx.locale));
            render_status(&page, StatusCode::BAD_REQUEST)
        }
    }
}

/// The school's first sync from the hub failed: try again.
async fn retry_form(state: AppState, CsrfForm(_): CsrfForm<Empty>) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Err(AppError::Forbidden("setup is already done".into()));
    }
    state.part::<Replication>().runner.trigger();
    Ok(Redirect::to("/setup").into_response())
}

/// Creates the school and its director from the setup form. Refusals list every problem
/// (localisation ids); nothing is created then.
pub async fn set_up(state: &AppState, form: &SetupForm) -> Result<Member, SetupRefusal> {
    if state.directory().school.is_some() {
        return Err(SetupRefusal::Done);
    }
    let mut errors = Vec::new();
    let uai = Uai::parse(form.uai.trim());
    if uai.is_err() {
        errors.push("setup-bad-uai");
    }
    if [&form.name, &form.commune, &form.first_name, &form.last_name].iter().any(|v| v.trim().is_empty()) {
        errors.push("setup-missing");
    }
    let fields = [&form.name, &form.address, &form.postcode, &form.commune, &form.academy, &form.civility];
    if fields.iter().chain([&form.first_name, &form.last_name, &form.email].iter()).any(|v| v.len() > 200) {
        errors.push("error-too-long");
    }
    let login_preview = format!("{}.{}", slug(&form.first_name), slug(&form.last_name));
    if let Err(id) = secrets::check_new_password(
        &form.password,
        &form.confirm,
        &login_preview,
        &[&form.first_name, &form.last_name, &form.name, &form.commune],
    ) {
        errors.push(id);
    }
    let uai = match uai {
        Ok(uai) if errors.is_empty() => uai,
        _ => return Err(SetupRefusal::Invalid(errors)),
    };
    let password = form.password.clone();
    let hash = crate::school::accounts::argon2(state, move |memory| memory.hash(&password)).await?;
    let info = SchoolInfo {
        name: form.name.trim().into(),
        address: form.address.trim().into(),
        postcode: form.postcode.trim().into(),
        commune: form.commune.trim().into(),
        academy: form.academy.trim().into(),
        away_sync: false,
        holiday_pause: false,
    };
    let director = Person {
        profile: Profile::Director.as_str().into(),
        civility: form.civility.trim().into(),
        first_name: form.first_name.trim().into(),
        last_name: form.last_name.trim().into(),
        email: form.email.trim().into(),
        ..Person::default()
    };
    let id = state
        .db
        .run(move |store| {
            if Directory::load(store)?.school.is_some() {
                return Ok(None);
            }
            let credential = Credential { password_hash: hash, must_change_password: false, ..Credential::default() };
            create_school(store, &uai, info, director, credential).map(Some)
        })
        .await?
        .ok_or(SetupRefusal::Done)?;
    let dir = state.reload_directory().await?;
    tracing::info!(school = ?dir.uai(), "school set up");
    state.refresh_discovery();
    dir.member(&id).cloned().ok_or_else(|| AppError::Internal("director missing after setup".into()).into())
}

/// Why setup refused.
pub enum SetupRefusal {
    /// The school exists already.
    Done,
    /// The form's problems (localisation ids).
    Invalid(Vec<&'static str>),
    /// A storage failure.
    Failed(AppError),
}

impl From<AppError> for SetupRefusal {
    fn from(e: AppError) -> Self {
        SetupRefusal::Failed(e)
    }
}

async fn setup(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<SetupForm>) -> Result<Response, AppError> {
    match set_up(&state, &form).await {
        Ok(member) => Ok(crate::school::accounts::sign_in_response(&state, &ctx, &member, false, "/")),
        Err(SetupRefusal::Done) => Err(AppError::Forbidden("setup is already done".into())),
        Err(SetupRefusal::Invalid(errors)) => refuse(&ctx, form, &errors),
        Err(SetupRefusal::Failed(e)) => Err(e),
    }
}

fn refuse(ctx: &Ctx, mut form: SetupForm, errors: &[&str]) -> Result<Response, AppError> {
    form.password.clear();
    form.confirm.clear();
    let page = SetupPage { form, errors: errors.iter().map(|e| ctx.locale.t(e)).collect(), ..SetupPage::new(ctx) };
    render_status(&page, StatusCode::BAD_REQUEST)
}

/// Creates a school's directory with its director, and the director's credentials (login
/// chosen here). Sets the store's scope to the school. Returns the director's id.
pub fn create_school(
    store: &mut Store,
    uai: &Uai,
    info: SchoolInfo,
    director: Person,
    mut credential: Credential,
) -> Result<UserId, AppError> {
    store.set_scope(crate::school::scope(uai));
    let id = UserId::random();
    SchoolDocs::edit(store, uai, |docs| {
        credential.login =
            crate::school::accounts::new_credential(&docs.credentials, &director, Profile::Director).login;
        docs.credentials.accounts.insert(id.to_string(), credential);
        docs.directory.school = info;
        docs.directory.people.insert(id.to_string(), director);
        Ok(())
    })?;
    Ok(id)
}

/// Setting the school up, on first start.
pub const SERVICE: Service =
    Service { name: "setup", pages: routes, api: api_routes, served_by: ServedBy::School, ..Service::NOTHING };
