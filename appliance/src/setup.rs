//! First start: the setup page creates the school and the director's account. Until then
//! nothing else is reachable (see `web::require_setup`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::{Person, SchoolInfo};
use preau_sync::kinds::{Credentials, SchoolDirectory};
use preau_sync::{Store, Uai};
use serde::Deserialize;

use crate::accounts::secrets;
use crate::directory::{Directory, Profile, UserId, credentials_address, directory_address};
use crate::error::AppError;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/setup", get(setup_page).post(setup))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
    form: SetupForm,
    errors: Vec<String>,
    min_len: usize,
}

/// The setup form.
#[derive(Clone, Default, Deserialize)]
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

async fn setup_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    render(&SetupPage {
        c: Chrome::new(&ctx),
        form: SetupForm::default(),
        errors: vec![],
        min_len: secrets::MIN_PASSWORD_LEN,
    })
}

async fn setup(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(mut form): CsrfForm<SetupForm>,
) -> Result<Response, AppError> {
    if state.directory().school.is_some() {
        return Err(AppError::Forbidden("setup is already done".into()));
    }
    let mut errors = Vec::new();
    let uai = Uai::parse(form.uai.trim());
    if uai.is_err() {
        errors.push("setup-bad-uai");
    }
    let required = [&form.name, &form.commune, &form.first_name, &form.last_name];
    if required.iter().any(|v| v.trim().is_empty()) {
        errors.push("setup-missing");
    }
    if [&form.name, &form.address, &form.commune, &form.academy, &form.first_name, &form.last_name, &form.email]
        .iter()
        .any(|v| v.len() > 200)
    {
        errors.push("error-too-long");
    }
    let login_preview =
        format!("{}.{}", crate::directory::slug(&form.first_name), crate::directory::slug(&form.last_name));
    if let Err(id) = secrets::check_new_password(&form.password, &form.confirm, &login_preview) {
        errors.push(id);
    }
    let Ok(uai) = uai else { return refuse(&ctx, form, &errors) };
    if !errors.is_empty() {
        return refuse(&ctx, form, &errors);
    }
    let password = std::mem::take(&mut form.password);
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let info = SchoolInfo {
        name: form.name.trim().into(),
        address: form.address.trim().into(),
        postcode: form.postcode.trim().into(),
        commune: form.commune.trim().into(),
        academy: form.academy.trim().into(),
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
                return Err(AppError::Forbidden("setup is already done".into()));
            }
            create_school(store, &uai, info, director, Credential { password_hash: hash, ..Credential::default() })
        })
        .await?;
    let dir = state.reload_directory().await?;
    let member = dir.member(&id).ok_or_else(|| AppError::Internal("director missing after setup".into()))?;
    tracing::info!(school = ?dir.uai(), "school set up");
    Ok(crate::accounts::sign_in_response(&state, &ctx, member, false, "/"))
}

fn refuse(ctx: &Ctx, mut form: SetupForm, errors: &[&str]) -> Result<Response, AppError> {
    form.password.clear();
    form.confirm.clear();
    let page = SetupPage {
        c: Chrome::new(ctx),
        form,
        errors: errors.iter().map(|e| ctx.locale.t(e)).collect(),
        min_len: secrets::MIN_PASSWORD_LEN,
    };
    let mut r = render(&page)?;
    *r.status_mut() = StatusCode::BAD_REQUEST;
    Ok(r)
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
    store.set_scope(crate::school_scope(uai));
    let id = UserId::random();
    store.change::<SchoolDirectory, _>(&directory_address(uai), |d| {
        d.school = info;
        d.people.insert(id.to_string(), director.clone());
    })?;
    store.change::<Credentials, _>(&credentials_address(uai), |c| {
        credential.login = crate::accounts::new_credential(c, &director, Profile::Director).login;
        c.accounts.insert(id.to_string(), credential);
    })?;
    Ok(id)
}
