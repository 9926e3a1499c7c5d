//! What a commune's own staff write: its portal page, its news, its canteen menus.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use preau_sync::Insee;
use serde::Deserialize;

use super::super::{console, require};
use crate::platform::error::AppError;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render_status};

use super::{Outcome, after, field, fields, insee_of};

// ---- The commune's portal and menus (its own staff) ----

#[derive(Template)]
#[template(path = "academy/portal.html")]
pub(super) struct PortalEditPage {
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

pub(super) fn portal_view(state: &AppState, ctx: &Ctx, insee: &Insee, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(super::super::portal::edits_portal(&by, insee), "portal")?;
    let commune = super::super::commune(state, insee)?;
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
        week: super::super::portal::week_of(today),
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn portal_page(state: AppState, ctx: Ctx, Path(insee): Path<String>) -> Result<Response, AppError> {
    portal_view(&state, &ctx, &insee_of(&insee)?, Outcome::default())
}

#[derive(Deserialize)]
pub(super) struct PortalFields {
    #[serde(default)]
    presentation: String,
    #[serde(default)]
    contacts: String,
    #[serde(default)]
    periscolaire: String,
    #[serde(default)]
    public: Option<String>,
}

pub(super) async fn portal_form(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<PortalFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let form = super::super::portal::PortalForm {
        presentation: f.presentation,
        contacts: f.contacts,
        periscolaire: f.periscolaire,
        public: f.public.is_some(),
    };
    let result = super::super::portal::save_portal(&state, &by, &insee, form).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

#[derive(Deserialize)]
pub(super) struct NewsFields {
    title: String,
    #[serde(default)]
    body: String,
}

pub(super) async fn news_form(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<NewsFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = super::super::portal::post_news(&state, &by, &insee, &f.title, &f.body).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

pub(super) async fn news_withdraw(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<crate::web::session::Empty>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = super::super::portal::withdraw_news(&state, &by, &insee, &id).await;
    after(&ctx, result, &format!("/console/communes/{insee}/portal"), |o| portal_view(&state, &ctx, &insee, o))
}

/// One row of a day's form: course, dish, the allergens ticked.
pub(super) struct DishEdit {
    course: String,
    name: String,
    allergens: Vec<(String, String, bool)>,
}

/// One day of the week's form.
pub(super) struct DayEdit {
    day: String,
    label: String,
    rows: Vec<DishEdit>,
}

#[derive(Template)]
#[template(path = "academy/menus.html")]
pub(super) struct MenusPage {
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
pub(super) struct WeekQuery {
    week: Option<String>,
}

pub(super) fn menus_view(
    state: &AppState,
    ctx: &Ctx,
    insee: &Insee,
    week: Option<&str>,
    outcome: Outcome,
) -> Result<Response, AppError> {
    use preau_sync::kinds::canteen::{ALLERGENS, COURSES};
    let by = console(state, ctx)?;
    require(super::super::portal::edits_portal(&by, insee), "menus")?;
    let commune = super::super::commune(state, insee)?;
    let l = &ctx.locale;
    let today = crate::platform::text::date(&crate::platform::clock::today(), "")?;
    let monday =
        week.and_then(super::super::portal::monday_of).unwrap_or_else(|| crate::platform::text::monday_of(today));
    let iso = crate::platform::text::iso;
    let held = {
        let (from, to) = (iso(monday), iso(monday + time::Duration::days(4)));
        state.db.read(|r| Ok(r.canteen_dishes(insee.as_str(), &from, &to)?))?
    };
    let days = (0..5)
        .map(|n| {
            let day = iso(monday + time::Duration::days(n));
            let dishes: Vec<_> = held.iter().filter(|d| d.day == day).collect();
            let rows = (0..super::super::portal::DISHES_PER_DAY)
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
        week: super::super::portal::week_of(monday),
        previous: super::super::portal::week_of(monday - time::Duration::days(7)),
        next: super::super::portal::week_of(monday + time::Duration::days(7)),
        courses: COURSES.iter().map(|c| (*c, l.t(&format!("course-{c}")))).collect(),
        days,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn menus_page(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    menus_view(&state, &ctx, &insee_of(&insee)?, q.week.as_deref(), Outcome::default())
}

pub(super) async fn menu_form(
    state: AppState,
    ctx: Ctx,
    Path((insee, day)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let rows = (0..super::super::portal::DISHES_PER_DAY * 2)
        .map_while(|i| {
            pairs.iter().any(|(k, _)| *k == format!("name-{i}")).then(|| super::super::portal::DishForm {
                course: field(&pairs, &format!("course-{i}")),
                name: field(&pairs, &format!("name-{i}")),
                allergens: fields(&pairs, &format!("allergen-{i}")),
            })
        })
        .collect();
    let week = crate::platform::text::date(&day, "").ok().map(super::super::portal::week_of);
    let result = super::super::portal::save_day(&state, &by, &insee, &day, rows).await;
    let to = format!("/console/communes/{insee}/menus?week={}", week.clone().unwrap_or_default());
    after(&ctx, result, &to, |o| menus_view(&state, &ctx, &insee, week.as_deref(), o))
}
