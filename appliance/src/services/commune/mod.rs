//! The commune's portal for families, at school and on the hub: what the commune tells them
//! (presentation, contacts, périscolaire, news) and the canteen's menus of this week and the
//! next, each dish with its allergens. A school's server holds its commune's documents
//! (its certificate grants them once the académie placed the school in a commune), so the
//! week's menu shows at school without the internet. A commune may make its page public.
//! Its staff write it in the académie's console (`academy::portal`).

mod pages;

use preau_sync::kinds::canteen::DishRow;
use preau_sync::kinds::commune::PortalRow;

use crate::platform::error::AppError;
use crate::web::AppState;
use crate::web::service::{Home, HomePart, Place, Service, Tile};

/// News items the portal shows.
const NEWS_SHOWN: usize = 5;

/// The portal of `insee` and its dishes over two weeks from this Monday, as the replica
/// holds them (`None`: no such commune here).
fn read(state: &AppState, insee: &str) -> Result<Option<(PortalRow, Vec<DishRow>)>, AppError> {
    let today = crate::platform::text::date(&crate::platform::clock::today(), "")?;
    let monday = crate::platform::text::monday_of(today);
    let (from, to) =
        (crate::platform::text::iso(monday), crate::platform::text::iso(monday + time::Duration::days(13)));
    state.db.read(|r| {
        let Some(portal) = r.commune_portal(insee, NEWS_SHOWN)? else { return Ok(None) };
        Ok(Some((portal, r.canteen_dishes(insee, &from, &to)?)))
    })
}

/// The commune of the request's school, if the académie placed it in one.
fn commune_of(state: &AppState) -> Option<String> {
    state.directory().communes.first().map(ToString::to_string)
}

async fn home_part(h: &Home<'_>) -> Result<HomePart, AppError> {
    if commune_of(h.state).is_none() {
        return Ok(HomePart::default());
    }
    Ok(HomePart { tiles: vec![Tile::new(Place::School, "/commune", "canteen", h.l().t("tile-commune"))], panel: None })
}

/// The commune's portal and canteen menus.
pub const SERVICE: Service =
    Service { name: "commune", pages: pages::routes, home: |h| Box::pin(home_part(h)), ..Service::NOTHING };
