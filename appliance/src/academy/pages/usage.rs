//! Usage statistics and the schools' sync freshness.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::super::statistics::{self, Filter, follows_usage, is_connection, sum_by};
use super::super::{console, require};
use crate::platform::error::AppError;
use crate::web::{AppState, Chrome, Ctx, render_status};

// ---- Usage ----

#[derive(Deserialize, Default)]
pub(super) struct UsageQuery {
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
pub(super) struct UsagePage {
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

pub(super) async fn usage_page(state: AppState, ctx: Ctx, Query(q): Query<UsageQuery>) -> Result<Response, AppError> {
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
pub(super) fn service_label(l: &crate::platform::i18n::Locale, service: &str) -> String {
    let id = format!("usage-service-{service}");
    if l.has(&id) { l.t(&id) } else { service.to_owned() }
}

pub(super) async fn usage_csv(state: AppState, ctx: Ctx, Query(q): Query<UsageQuery>) -> Result<Response, AppError> {
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
pub(super) struct SyncRow {
    label: String,
    synced: String,
    pending: String,
    certified: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "academy/sync.html")]
pub(super) struct SyncPage {
    c: Chrome,
    rows: Vec<SyncRow>,
    late: usize,
}

pub(super) async fn sync_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    require(super::super::freshness::follows_sync(&by), "sync")?;
    let l = &ctx.locale;
    let never = l.t("console-never");
    let rows: Vec<SyncRow> = super::super::freshness::schools(&state)
        .await?
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
