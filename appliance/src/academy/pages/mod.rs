//! The console's pages, one file per subject. Every form posts, and on success goes back
//! to its page (303); a refusal shows the same page again with its French reason and the
//! refusal's status, having changed nothing.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::Insee;

use super::Role;
use super::accounts::Handover;
use crate::platform::error::AppError;
use crate::web::{Ctx, Routes};

mod accounts;
mod communes;
mod contributions;
mod home;
mod portal;
mod usage;

pub(super) fn routes() -> Routes {
    Routes::new()
        .get("/console", home::home_page)
        .post("/console/login", home::login_form)
        .get("/console/password", home::password_page)
        .post("/console/password", home::password_form)
        .post("/console/communes", communes::commune_create)
        .get("/console/communes/{insee}", communes::commune_page)
        .post("/console/communes/{insee}", communes::commune_edit)
        .post("/console/communes/{insee}/schools", communes::school_add)
        .post("/console/communes/{insee}/conventions", communes::convention_create)
        .get("/console/communes/{insee}/conventions/{id}", communes::convention_page)
        .post("/console/communes/{insee}/conventions/{id}/sign", communes::convention_sign)
        .post("/console/communes/{insee}/conventions/{id}/end", communes::convention_end)
        .post("/console/communes/{insee}/conventions/{id}/schools", communes::convention_school)
        .get("/console/communes/{insee}/statement", contributions::statement_page)
        .get("/console/accounts", accounts::accounts_page)
        .post("/console/accounts", accounts::account_create)
        .post("/console/accounts/{id}/disable", accounts::account_disable)
        .post("/console/accounts/{id}/reset", accounts::account_reset)
        .get("/console/contributions", contributions::contributions_page)
        .get("/console/contributions.csv", contributions::contributions_csv)
        .post("/console/rates", contributions::rate_form)
        .get("/console/audit", accounts::audit_page)
        .get("/console/communes/{insee}/portal", portal::portal_page)
        .post("/console/communes/{insee}/portal", portal::portal_form)
        .post("/console/communes/{insee}/news", portal::news_form)
        .post("/console/communes/{insee}/news/{id}/withdraw", portal::news_withdraw)
        .get("/console/communes/{insee}/menus", portal::menus_page)
        .post("/console/communes/{insee}/menus/{day}", portal::menu_form)
        .get("/console/sync", usage::sync_page)
        .get("/console/usage", usage::usage_page)
        .get("/console/usage.csv", usage::usage_csv)
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
pub(super) struct Outcome {
    pub error: Option<String>,
    pub status: Option<StatusCode>,
    pub handover: Option<Handover>,
    pub code: Option<String>,
}

impl Outcome {
    fn refused(ctx: &Ctx, e: &AppError) -> Self {
        Self { error: Some(ctx.locale.t(e.message_id())), status: Some(e.status()), ..Self::default() }
    }
}

/// A page's answer after a form: back to `to` on success, else `page` with the refusal. A
/// request outside the console (signed out, or a school's account) is refused as such.
pub(super) fn after<T>(
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

pub(super) fn insee_of(insee: &str) -> Result<Insee, AppError> {
    Insee::parse(insee).map_err(|_| AppError::NotFound)
}

pub(super) fn role_label(l: &crate::platform::i18n::Locale, role: Role) -> String {
    l.t(&format!("console-role-{}", role.as_str().replace('_', "-")))
}

/// The value of `name` in a form's pairs (empty if absent), and every value of a repeated one.
pub(super) fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

pub(super) fn fields(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}
