//! The console's front page: signing in, the communes and tools of one's role, and one's
//! password.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::accounts::{self};
use super::super::contributions::{self, euros};
use super::super::statistics::follows_usage;
use super::super::{
    Role, console, manages_account, manages_communes, manages_conventions, reads_audit, reads_commune, require,
};
use crate::platform::error::AppError;
use crate::school::accounts::pages::signed_in_as;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render_status};

use super::{Outcome, after, role_label};

// ---- Home: sign in, or the communes and the tools of one's role ----

#[derive(Template)]
#[template(path = "academy/console.html")]
pub(super) struct HomePage {
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

pub(super) fn home_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
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
    let communes = super::super::communes(state)?
        .iter()
        .filter(|(insee, _)| reads_commune(&by, insee))
        .map(|(insee, c)| (insee.to_string(), c.name.clone(), c.schools.len()))
        .collect();
    let settings = super::super::settings(state)?;
    let page = HomePage {
        who: Some((by.name.clone(), role_label(&ctx.locale, by.role))),
        communes,
        create_commune: manages_communes(&by),
        accounts: Role::ACCOUNTS.iter().any(|r| manages_account(&by, *r, by.commune.as_ref())),
        contributions: manages_conventions(&by),
        audit: reads_audit(&by),
        usage: follows_usage(&by),
        sync: super::super::freshness::follows_sync(&by),
        rates: settings.rates.iter().map(|(y, c)| (y.clone(), euros(*c))).collect(),
        year: contributions::year_of(&crate::platform::clock::today()),
        error: outcome.error,
        c,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn home_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    home_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    login: String,
    password: String,
}

pub(super) async fn login_form(
    state: AppState,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
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
pub(super) struct PasswordPage {
    c: Chrome,
    must_change: bool,
    min_len: usize,
    error: Option<String>,
}

pub(super) fn password_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
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

pub(super) async fn password_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    password_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub(super) async fn password_form(
    state: AppState,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    require(console(&state, &ctx)?.role != Role::HubAdmin, "password")?;
    let result = accounts::change_password(&state, &ctx, &f.current, &f.new, &f.confirm).await;
    after(&ctx, result, "/console", |o| password_view(&state, &ctx, o))
}
