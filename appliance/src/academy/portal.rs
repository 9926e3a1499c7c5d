//! What a commune's staff write for families: its portal (presentation, contacts,
//! périscolaire, whether it is public), its news, and the canteen's menus with their
//! allergens. Written on the hub; the commune's schools' servers receive it with their sync
//! and show it offline (`services::commune`).

use preau_sync::kinds::canteen::{ALLERGENS, COURSES, Dish, MenuDay};
use preau_sync::kinds::commune::CommuneNews;
use preau_sync::kinds::{CanteenMenu, Commune};
use preau_sync::{DocAddress, DocKey, Insee, Kind, Partition};

use super::{Console, audit, commune_address, require};
use crate::platform::error::AppError;
use crate::platform::text::{date, iso, one_line, paragraphs, required_line};
use crate::web::AppState;

/// Dishes a day's menu holds at most.
pub const DISHES_PER_DAY: usize = 8;

/// Writes a commune's portal, news and menus: its own staff.
pub fn edits_portal(by: &Console, insee: &Insee) -> bool {
    by.role.of_commune() && by.commune.as_ref() == Some(insee)
}

/// The week (`2026-W50`) of a day.
pub fn week_of(day: time::Date) -> String {
    let (year, week, _) = day.to_iso_week_date();
    format!("{year}-W{week:02}")
}

/// The Monday of a week (`2026-W50`), or `None` for anything else.
pub fn monday_of(week: &str) -> Option<time::Date> {
    let (year, w) = week.split_once("-W")?;
    if w.len() != 2 {
        return None;
    }
    time::Date::from_iso_week_date(year.parse().ok()?, w.parse().ok()?, time::Weekday::Monday).ok()
}

/// The menus of a week.
pub fn menu_address(insee: &Insee, week: &str) -> Result<DocAddress, AppError> {
    Ok(DocAddress::new(Partition::Commune(insee.clone()), Kind::CanteenMenu, DocKey::parse(week)?))
}

/// The rule of a week's menus: days of that week, known courses and allergens, named dishes.
pub(super) fn menu_rule(
    _: &crate::school::directory::Directory,
    partition: &Partition,
    _: &CanteenMenu,
    after: &CanteenMenu,
) -> Result<(), String> {
    let Partition::Commune(_) = partition else { return Err(format!("menus in {partition}")) };
    for (day, menu) in &after.days {
        date(day, "").map_err(|_| format!("day {day:?}"))?;
        for dish in &menu.dishes {
            let known = COURSES.contains(&dish.course.as_str())
                && !dish.name.trim().is_empty()
                && dish.allergens.iter().all(|a| ALLERGENS.contains(&a.as_str()));
            if !known {
                return Err(format!("dish {:?} on {day}", dish.name));
            }
        }
    }
    Ok(())
}

async fn edit_commune<R: Send + 'static>(
    state: &AppState,
    insee: &Insee,
    change: impl FnOnce(&mut Commune) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<Commune, R>(state, commune_address(insee), super::rule::commune, change).await
}

/// The portal as its form gives it.
pub struct PortalForm {
    /// Presentation.
    pub presentation: String,
    /// Contacts.
    pub contacts: String,
    /// Périscolaire.
    pub periscolaire: String,
    /// Shown without login.
    pub public: bool,
}

/// Saves the portal page.
pub async fn save_portal(state: &AppState, by: &Console, insee: &Insee, form: PortalForm) -> Result<(), AppError> {
    require(edits_portal(by, insee), "portal")?;
    super::commune(state, insee)?;
    let presentation = paragraphs(&form.presentation, 5000, "portal-too-long")?;
    let contacts = paragraphs(&form.contacts, 2000, "console-bad-contacts")?;
    let periscolaire = paragraphs(&form.periscolaire, 5000, "portal-too-long")?;
    let public = form.public;
    edit_commune(state, insee, move |c| {
        (c.portal.presentation, c.contacts, c.portal.periscolaire, c.portal.public) =
            (presentation, contacts, periscolaire, public);
        Ok(())
    })
    .await?;
    audit::record(state, by, "portal", &format!("commune/{insee}"), if public { "public" } else { "families" })
}

/// Posts a news item.
pub async fn post_news(state: &AppState, by: &Console, insee: &Insee, title: &str, body: &str) -> Result<(), AppError> {
    require(edits_portal(by, insee), "portal")?;
    super::commune(state, insee)?;
    let title = required_line(title, 160, "portal-bad-title")?;
    let body = paragraphs(body, 5000, "portal-too-long")?;
    let id = hex::encode(crate::platform::random_bytes::<8>());
    let (by_id, logged) = (by.id.clone(), title.clone());
    edit_commune(state, insee, move |c| {
        let published_on = crate::platform::clock::today();
        c.news.insert(id, CommuneNews { title, body, published_on, by: by_id, withdrawn: false });
        Ok(())
    })
    .await?;
    audit::record(state, by, "portal-news", &format!("commune/{insee}"), &logged)
}

/// Withdraws a news item (kept, hidden).
pub async fn withdraw_news(state: &AppState, by: &Console, insee: &Insee, id: &str) -> Result<(), AppError> {
    require(edits_portal(by, insee), "portal")?;
    if !super::commune(state, insee)?.news.contains_key(id) {
        return Err(AppError::NotFound);
    }
    let key = id.to_owned();
    edit_commune(state, insee, move |c| {
        if let Some(n) = c.news.get_mut(&key) {
            n.withdrawn = true;
        }
        Ok(())
    })
    .await?;
    audit::record(state, by, "portal-news-withdraw", &format!("commune/{insee}"), id)
}

/// A dish as its form row gives it: course, name, allergens ticked.
pub struct DishForm {
    /// One of [`COURSES`].
    pub course: String,
    /// Its name (an empty row is no dish).
    pub name: String,
    /// Among [`ALLERGENS`].
    pub allergens: Vec<String>,
}

/// Saves a day's menu (its dishes replace the day's; none clears it).
pub async fn save_day(
    state: &AppState,
    by: &Console,
    insee: &Insee,
    day: &str,
    rows: Vec<DishForm>,
) -> Result<(), AppError> {
    require(edits_portal(by, insee), "menus")?;
    super::commune(state, insee)?;
    let day = date(day, "console-bad-date")?;
    let mut dishes = Vec::new();
    for row in rows {
        let name = one_line(&row.name, 120, "menu-bad-dish")?;
        if name.is_empty() {
            continue;
        }
        if !COURSES.contains(&row.course.as_str()) || row.allergens.iter().any(|a| !ALLERGENS.contains(&a.as_str())) {
            return Err(AppError::bad("menu-bad-dish", format!("{:?} {:?}", row.course, row.allergens)));
        }
        let mut allergens = row.allergens;
        allergens.sort_by_key(|a| ALLERGENS.iter().position(|x| x == a));
        allergens.dedup();
        dishes.push(Dish { course: row.course, name, allergens });
    }
    if dishes.len() > DISHES_PER_DAY {
        return Err(AppError::bad("menu-too-many", format!("{} dishes", dishes.len())));
    }
    let (key, by_id, count) = (iso(day), by.id.clone(), dishes.len());
    crate::school::edit::under_rule::<CanteenMenu, ()>(
        state,
        menu_address(insee, &week_of(day))?,
        menu_rule,
        move |m| {
            m.days.insert(key, MenuDay { dishes, by: by_id });
            Ok(())
        },
    )
    .await?;
    audit::record(state, by, "menu", &format!("commune/{insee}"), &format!("{} ({count})", iso(day)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_iso_weeks() {
        let day = date("2026-12-07", "").unwrap();
        assert_eq!(week_of(day), "2026-W50");
        assert_eq!(monday_of("2026-W50"), Some(day));
        assert_eq!(week_of(date("2027-01-01", "").unwrap()), "2026-W53");
        assert_eq!(monday_of("2026-W5"), None);
    }
}
