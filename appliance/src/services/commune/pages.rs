//! `/commune` for a school's people, `/communes/{insee}` for anyone when public.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use preau_sync::kinds::canteen::{ALLERGENS, DishRow};
use preau_sync::kinds::commune::PortalRow;

use super::{commune_of, read};
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::web::{AppState, Chrome, Ctx, Routes, render};

pub(super) fn routes() -> Routes {
    Routes::new().get("/commune", own_page).get("/communes/{insee}", public_page)
}

/// One day's menu as the page shows it.
struct DayView {
    label: String,
    /// Course, dish, allergens in words (empty: none).
    dishes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "commune/portal.html")]
struct PortalPage {
    c: Chrome,
    portal: Option<PortalRow>,
    weeks: Vec<(String, Vec<DayView>)>,
    allergens: Vec<String>,
}

fn days(l: &Locale, dishes: Vec<DishRow>) -> Vec<(String, Vec<DayView>)> {
    let mut weeks: Vec<(String, Vec<DayView>)> = Vec::new();
    for dish in dishes {
        let Ok(day) = crate::platform::text::date(&dish.day, "") else { continue };
        let monday = crate::platform::text::iso(crate::platform::text::monday_of(day));
        if weeks.last().is_none_or(|(m, _)| *m != monday) {
            weeks.push((monday.clone(), Vec::new()));
        }
        let label = l.weekday_date(&dish.day);
        let week = &mut weeks.last_mut().expect("pushed above").1;
        if week.last().is_none_or(|d| d.label != label) {
            week.push(DayView { label, dishes: Vec::new() });
        }
        let allergens = dish.allergens.iter().map(|a| l.t(&format!("allergen-{a}"))).collect::<Vec<_>>().join(", ");
        let course = l.t(&format!("course-{}", dish.course));
        week.last_mut().expect("pushed above").dishes.push((course, dish.name, allergens));
    }
    weeks.into_iter().map(|(monday, d)| (l.ta("commune-week", &[("monday", &l.weekday_date(&monday))]), d)).collect()
}

fn page(state: &AppState, ctx: &Ctx, insee: Option<String>) -> Result<Response, AppError> {
    let found = match insee {
        Some(insee) => read(state, &insee)?,
        None => None,
    };
    let (portal, weeks) = match found {
        Some((portal, dishes)) => (Some(portal), days(&ctx.locale, dishes)),
        None => (None, Vec::new()),
    };
    let allergens = ALLERGENS.iter().map(|a| ctx.locale.t(&format!("allergen-{a}"))).collect();
    render(&PortalPage { c: Chrome::new(ctx), portal, weeks, allergens })
}

/// The commune of the signed-in person's school.
async fn own_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    ctx.user()?;
    page(&state, &ctx, commune_of(&state))
}

/// A commune's page, for anyone, when the commune made it public.
async fn public_page(state: AppState, ctx: Ctx, Path(insee): Path<String>) -> Result<Response, AppError> {
    let public = preau_sync::Insee::parse(&insee).is_ok()
        && state.db.read(|r| Ok(r.commune_portal(&insee, 0)?))?.is_some_and(|p| p.public);
    if !public {
        return Err(AppError::NotFound);
    }
    page(&state, &ctx, Some(insee))
}
