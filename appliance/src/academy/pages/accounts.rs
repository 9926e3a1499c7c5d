//! Console accounts (made, disabled, given a new password), and the audit of every
//! console action.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use preau_sync::Insee;
use serde::Deserialize;

use super::super::accounts::{self, Handover, NewAccount};
use super::super::{Role, console, manages_account, reads_audit, require};
use crate::platform::error::AppError;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render_status};

use super::{Outcome, after, role_label};

// ---- Accounts ----

/// An account as its list shows it.
pub(super) struct AccountRow {
    id: String,
    login: String,
    name: String,
    role: String,
    commune: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "academy/accounts.html")]
pub(super) struct AccountsPage {
    c: Chrome,
    rows: Vec<AccountRow>,
    roles: Vec<(&'static str, String)>,
    communes: Vec<(String, String)>,
    handover: Option<Handover>,
    error: Option<String>,
}

pub(super) fn accounts_view(state: &AppState, ctx: &Ctx, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    let roles: Vec<Role> = Role::ACCOUNTS
        .into_iter()
        .filter(|r| manages_account(&by, *r, if r.of_commune() { by.commune.as_ref() } else { None }))
        .collect();
    require(!roles.is_empty() || by.role == Role::Rectorat || by.role == Role::Dane, "accounts")?;
    let communes = super::super::communes(state)?
        .iter()
        .filter(|(insee, _)| manages_account(&by, Role::CommuneAgent, Some(insee)))
        .map(|(insee, c)| (insee.to_string(), c.name.clone()))
        .collect::<Vec<_>>();
    let mut rows: Vec<AccountRow> = super::super::staff(state)?
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

pub(super) async fn accounts_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    accounts_view(&state, &ctx, Outcome::default())
}

#[derive(Deserialize)]
pub(super) struct AccountFields {
    name: String,
    #[serde(default)]
    email: String,
    role: String,
    #[serde(default)]
    commune: String,
}

pub(super) async fn account_create(
    state: AppState,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<AccountFields>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let new = NewAccount { name: f.name, email: f.email, role: f.role, commune: f.commune };
    match accounts::create(&state, &by, new).await {
        Ok(handover) => accounts_view(&state, &ctx, Outcome { handover: Some(handover), ..Outcome::default() }),
        Err(e) => after(&ctx, Err::<(), _>(e), "", |o| accounts_view(&state, &ctx, o)),
    }
}

#[derive(Deserialize)]
pub(super) struct DisableForm {
    #[serde(default)]
    enable: Option<String>,
}

pub(super) async fn account_disable(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DisableForm>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let result = accounts::set_disabled(&state, &by, &id, f.enable.is_none()).await;
    after(&ctx, result, "/console/accounts", |o| accounts_view(&state, &ctx, o))
}

pub(super) async fn account_reset(
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
pub(super) struct AuditRow {
    at: String,
    by: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "academy/audit.html")]
pub(super) struct AuditPage {
    c: Chrome,
    rows: Vec<AuditRow>,
}

pub(super) async fn audit_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(reads_audit(&by), "audit")?;
    let staff = super::super::staff(&state)?;
    let l = &ctx.locale;
    let rows = super::super::audit::trail(&state, 1000)?
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
