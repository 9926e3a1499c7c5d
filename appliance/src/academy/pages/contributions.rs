//! The communes' contributions, their printable statement and CSV, and the rates.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::super::contributions::{self, Statement, euros};
use super::super::{console, manages_conventions, reads_commune, require};
use crate::platform::error::AppError;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render_status};

use super::home::home_view;
use super::{Outcome, after, insee_of};

// ---- Contributions ----

#[derive(Deserialize, Default)]
pub(super) struct PeriodQuery {
    year: Option<String>,
    day: Option<String>,
}

/// One commune's line of the contributions table.
pub(super) struct ContributionRow {
    insee: String,
    commune: String,
    schools: usize,
    pupils: u64,
    rate: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "academy/contributions.html")]
pub(super) struct ContributionsPage {
    c: Chrome,
    year: String,
    day: String,
    rows: Vec<ContributionRow>,
    pupils: u64,
    amount: String,
    rate: String,
    error: Option<String>,
}

pub(super) async fn contributions_view(
    state: &AppState,
    ctx: &Ctx,
    q: &PeriodQuery,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(manages_conventions(&by), "contributions")?;
    let (period, error) = match contributions::period(q.year.as_deref(), q.day.as_deref()) {
        Ok(p) => (p, outcome.error),
        Err(e) => (contributions::period(None, None)?, Some(ctx.locale.t(e.message_id()))),
    };
    let (year, day) = period;
    let all = contributions::all(state, &year, &day).await?;
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
        rate: euros(super::super::rate_of(super::super::settings(state)?.as_ref(), &year)),
        year,
        day,
        error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn contributions_page(
    state: AppState,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    contributions_view(&state, &ctx, &q, Outcome::default()).await
}

pub(super) async fn contributions_csv(
    state: AppState,
    ctx: Ctx,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(manages_conventions(&by), "contributions")?;
    let (year, day) = contributions::period(q.year.as_deref(), q.day.as_deref())?;
    let bytes = contributions::csv(&contributions::all(&state, &year, &day).await?)?;
    contributions::record_export(&state, &by, "contributions.csv", &year, &day)?;
    let disposition = format!("attachment; filename=\"contributions-{year}-{day}.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(super) struct RateForm {
    year: String,
    rate: String,
}

pub(super) async fn rate_form(
    state: AppState,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<RateForm>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    let result = contributions::set_rate(&state, &by, &f.year, &f.rate).await;
    after(&ctx, result, "/console", |o| home_view(&state, &ctx, o))
}

#[derive(Template)]
#[template(path = "academy/statement.html")]
pub(super) struct StatementPage {
    c: Chrome,
    s: Statement,
    rate: String,
    amount: String,
    today: String,
}

pub(super) async fn statement_page(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    require(reads_commune(&by, &insee) && (manages_conventions(&by) || by.commune.is_some()), "statement")?;
    let (year, day) = contributions::period(q.year.as_deref(), q.day.as_deref())?;
    let s = contributions::statement(&state, &insee, &year, &day).await?;
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
