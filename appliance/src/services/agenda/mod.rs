//! The agenda: school events and holidays (the director), class events (the class's
//! teachers), personal events (each staff member, for themselves); everyone sees those of
//! their school and classes. Each person has a secret, revocable address of an iCalendar
//! (RFC 5545) feed that calendar applications subscribe to. One `AgendaEvent` document per
//! event; pages and feeds read `agenda_event`.

mod api;
mod pages;
mod rule;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use icalendar::{Calendar, Component, EventLike};
use preau_sync::kinds::AgendaEvent;
use preau_sync::kinds::agenda::{CATEGORIES, EventRow};
use preau_sync::{DocAddress, DocKey, Kind, Partition};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::platform::text;
use crate::school::directory::class_partition;
use crate::school::directory::{ClassId, Directory, Member, Profile, UserId};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ApiUser, Created, ErrorBody};
use crate::web::service::{Home, HomePart, Place as TilePlace, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, SignedIn, base_url, render, render_status};

/// Longest title.
const MAX_TITLE: usize = 120;
/// Longest description.
const MAX_TEXT: usize = 2_000;
/// Longest event, in days.
const MAX_DAYS: i64 = 120;
/// How far the feed looks back and ahead, in days.
const FEED_DAYS: i64 = 400;

use api::*;
use pages::*;
pub use rule::*;

// ---- writes ----

/// An event as it is filled in.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct EventInput {
    /// `school`, `personal` or `class:{id}` (ignored when editing).
    #[serde(default)]
    #[schema(pattern = "^(|school|personal|class:[a-z0-9_-]{1,64})$")]
    pub place: String,
    /// Title.
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    /// More about it.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// Where.
    #[serde(default)]
    #[schema(max_length = 120)]
    pub location: String,
    /// First day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD` (the first day when empty).
    #[serde(default)]
    #[schema(format = Date)]
    pub ends_on: String,
    /// `HH:MM`, or empty for a whole-day event.
    #[serde(default)]
    #[schema(pattern = "^(|[01][0-9]:[0-5][0-9]|2[0-3]:[0-5][0-9])$")]
    pub start_time: String,
    /// `HH:MM`, or empty.
    #[serde(default)]
    #[schema(pattern = "^(|[01][0-9]:[0-5][0-9]|2[0-3]:[0-5][0-9])$")]
    pub end_time: String,
    /// School holidays (the school's calendar only).
    #[serde(default)]
    pub holiday: bool,
}

fn time_of(value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let ok = v.len() == 5
        && v.as_bytes()[2] == b':'
        && v[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && v[3..].parse::<u8>().is_ok_and(|m| m < 60);
    if ok { Ok(v.to_owned()) } else { Err(AppError::bad("agenda-bad-time", format!("time {value:?}"))) }
}

/// The checked event (without author fields).
fn checked(input: &EventInput) -> Result<AgendaEvent, AppError> {
    let title = text::required_line(&input.title, MAX_TITLE, "agenda-bad-title")?;
    let description = text::paragraphs(&input.description, MAX_TEXT, "agenda-bad-text")?;
    let location = text::one_line(&input.location, MAX_TITLE, "agenda-bad-text")?;
    let start = text::date(&input.starts_on, "agenda-bad-date")?;
    let end = if input.ends_on.trim().is_empty() { start } else { text::date(&input.ends_on, "agenda-bad-date")? };
    if end < start || (end - start).whole_days() > MAX_DAYS {
        return Err(AppError::bad("agenda-bad-span", format!("{start}..{end}")));
    }
    let (start_time, end_time) = (time_of(&input.start_time)?, time_of(&input.end_time)?);
    if start_time.is_empty() && !end_time.is_empty() || (start == end && !end_time.is_empty() && end_time < start_time)
    {
        return Err(AppError::bad("agenda-bad-time", format!("{start_time}..{end_time}")));
    }
    Ok(AgendaEvent {
        title,
        description,
        location,
        starts_on: text::iso(start),
        ends_on: text::iso(end),
        start_time,
        end_time,
        category: if input.holiday { "holiday".into() } else { String::new() },
        ..AgendaEvent::default()
    })
}

/// Adds an event; returns its id.
pub async fn add(state: &AppState, by: &SignedIn, input: EventInput) -> Result<String, AppError> {
    let dir = state.directory();
    let place = Place::parse(&input.place)?;
    if !writes(&dir, &by.user, &place) {
        return Err(AppError::bad("agenda-bad-place", format!("{} does not write {place:?}", by.user)));
    }
    if input.holiday && place != Place::School {
        return Err(AppError::bad("agenda-bad-place", "holidays are the school's"));
    }
    let mut event = checked(&input)?;
    let id = ClassId::random().to_string();
    let address = DocAddress::new(place.partition(&dir)?, Kind::AgendaEvent, DocKey::parse(&id).expect("hex"));
    let user = by.user.to_string();
    event.author = user.clone();
    event.edited_by = user.clone();
    event.edited_at = crate::platform::clock::now_ms();
    if place == Place::Personal {
        event.owner = user;
    }
    crate::school::edit::under_rule::<AgendaEvent, ()>(state, address, check_change, move |e| {
        *e = event;
        Ok(())
    })
    .await?;
    Ok(id)
}

async fn find(state: &AppState, by: &SignedIn, id: &str) -> Result<(EventRow, Place), AppError> {
    let key = id.to_owned();
    let rows = state.db.read(|store| Ok(store.events(&[], "", "", Some(&key))?))?;
    let dir = state.directory();
    // The event of this school: on the hub, another school's may carry the same id.
    let (row, place) = rows
        .into_iter()
        .find_map(|row| {
            let place = Partition::parse(&row.partition).ok().and_then(|p| Place::of(&dir, &p))?;
            Some((row, place))
        })
        .ok_or(AppError::NotFound)?;
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?;
    let sees = readable(&dir, me).contains(&place) && (place != Place::Personal || row.event.owner == by.user.as_str());
    if sees { Ok((row, place)) } else { Err(AppError::NotFound) }
}

/// Rewrites an event (`None`: withdraws it): whoever writes its calendar.
async fn change(state: &AppState, by: &SignedIn, id: &str, input: Option<EventInput>) -> Result<(), AppError> {
    let (_, place) = find(state, by, id).await?;
    let dir = state.directory();
    if !writes(&dir, &by.user, &place) {
        return Err(AppError::NotFound);
    }
    let fresh = input.as_ref().map(checked).transpose()?;
    if fresh.as_ref().is_some_and(|f| f.category == "holiday") && place != Place::School {
        return Err(AppError::bad("agenda-bad-place", "holidays are the school's"));
    }
    let address =
        DocAddress::new(place.partition(&dir)?, Kind::AgendaEvent, DocKey::parse(id).map_err(|_| AppError::NotFound)?);
    let (user, now) = (by.user.to_string(), crate::platform::clock::now_ms());
    crate::school::edit::under_rule::<AgendaEvent, ()>(state, address, check_change, move |e| {
        match fresh {
            Some(f) => *e = AgendaEvent { author: e.author.clone(), owner: e.owner.clone(), ..f },
            None => e.withdrawn = true,
        }
        e.edited_by = user;
        e.edited_at = now;
        Ok(())
    })
    .await
}

/// Gives `by` a new calendar feed address; the old one stops working.
pub async fn new_feed(state: &AppState, by: &SignedIn) -> Result<String, AppError> {
    let secret = crate::school::accounts::secrets::new_qr_secret();
    let (user, s) = (by.user.to_string(), secret.clone());
    crate::school::structures::edit_directory(state, move |_, creds| {
        creds.accounts.get_mut(&user).ok_or(AppError::NotFound)?.calendar_secret = s;
        Ok(())
    })
    .await?;
    Ok(secret)
}

// ---- reads ----

/// An event as people see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Id.
    pub id: String,
    /// `school`, `personal` or `class:{id}`.
    pub place: String,
    /// Where, in words.
    pub place_label: String,
    /// Title.
    pub title: String,
    /// More about it.
    pub description: String,
    /// Where.
    pub location: String,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: String,
    /// `HH:MM` or empty.
    pub start_time: String,
    /// `HH:MM` or empty.
    pub end_time: String,
    /// School holidays.
    pub holiday: bool,
    /// The reader may change it.
    pub editable: bool,
}

impl EventView {
    /// The event as its form's fields.
    fn as_form(&self) -> EventForm {
        EventForm {
            place: self.place.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            starts_on: self.starts_on.clone(),
            ends_on: self.ends_on.clone(),
            start_time: self.start_time.clone(),
            end_time: self.end_time.clone(),
            holiday: if self.holiday { "on".into() } else { String::new() },
        }
    }
}

fn place_label(dir: &Directory, l: &crate::platform::i18n::Locale, place: &Place) -> String {
    match place {
        Place::School => l.t("agenda-place-school"),
        Place::Personal => l.t("agenda-place-personal"),
        Place::Class(id) => dir.classes.get(id).map(|c| c.class.name.clone()).unwrap_or_default(),
    }
}

/// The events `reader` sees that meet `[from, to]`.
async fn visible(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    reader: &Member,
    from: &str,
    to: &str,
) -> Result<Vec<EventView>, AppError> {
    let dir = state.directory();
    let places = readable(&dir, reader);
    let partitions: Vec<String> =
        places.iter().map(|p| p.partition(&dir).map(|p| p.to_string())).collect::<Result<_, _>>()?;
    let (from, to) = (from.to_owned(), to.to_owned());
    let rows = state.db.read(|store| Ok(store.events(&partitions, &from, &to, None)?))?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let place = Place::of(&dir, &Partition::parse(&row.partition).ok()?)?;
            if place == Place::Personal && row.event.owner != reader.id.as_str() {
                return None;
            }
            let e = row.event;
            Some(EventView {
                id: row.event_id,
                place: place.as_string(),
                place_label: place_label(&dir, l, &place),
                editable: writes(&dir, &reader.id, &place),
                title: e.title,
                description: e.description,
                location: e.location,
                starts_on: e.starts_on,
                ends_on: e.ends_on,
                start_time: e.start_time,
                end_time: e.end_time,
                holiday: e.category == "holiday",
            })
        })
        .collect())
}

/// `by`'s events that meet `[from, to]` (checked dates, a span of at most 400 days).
pub async fn events(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    by: &SignedIn,
    from: &str,
    to: &str,
) -> Result<Vec<EventView>, AppError> {
    let (a, b) = (text::date(from, "agenda-bad-date")?, text::date(to, "agenda-bad-date")?);
    if b < a || (b - a).whole_days() > FEED_DAYS {
        return Err(AppError::bad("agenda-bad-span", format!("{a}..{b}")));
    }
    let dir = state.directory();
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?;
    visible(state, l, me, &text::iso(a), &text::iso(b)).await
}

/// The iCalendar feed of the person whose feed secret this is.
pub async fn feed(state: &AppState, secret: &str) -> Result<String, AppError> {
    let dir = state.directory();
    let me = dir.by_calendar_secret(secret).ok_or(AppError::NotFound)?.clone();
    let today = text::date(&crate::platform::clock::today(), "x")?;
    let (from, to) =
        (text::iso(today - time::Duration::days(FEED_DAYS)), text::iso(today + time::Duration::days(FEED_DAYS)));
    let l = crate::platform::i18n::Locale::default();
    let views = visible(state, &l, &me, &from, &to).await?;
    let school = dir.school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    let host = base_url(state).split("//").nth(1).unwrap_or("preau").split('/').next().unwrap_or("preau").to_owned();
    let mut calendar = Calendar::new();
    calendar.name(&format!("{school} — {}", me.full_name()));
    for v in views {
        let mut event = icalendar::Event::new();
        event.uid(&format!("{}@{host}", v.id)).summary(&v.title);
        if !v.description.is_empty() {
            event.description(&v.description);
        }
        if !v.location.is_empty() {
            event.location(&v.location);
        }
        let day = |iso: &str| {
            chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").map_err(|e| AppError::Internal(e.to_string()))
        };
        let (start, end) = (day(&v.starts_on)?, day(&v.ends_on)?);
        if v.start_time.is_empty() {
            // Whole days: the end is exclusive (RFC 5545, 3.6.1).
            event.starts(start).ends(end + chrono::Duration::days(1));
        } else {
            let at = |d: chrono::NaiveDate, hm: &str| {
                chrono::NaiveTime::parse_from_str(hm, "%H:%M")
                    .map(|t| d.and_time(t))
                    .map_err(|e| AppError::Internal(e.to_string()))
            };
            let end_time = if v.end_time.is_empty() { v.start_time.clone() } else { v.end_time.clone() };
            event.starts(at(start, &v.start_time)?).ends(at(end, &end_time)?);
        }
        if v.holiday {
            event.add_property("CATEGORIES", "HOLIDAY");
        }
        calendar.push(event.done());
    }
    Ok(calendar.done().to_string())
}

/// School, class and personal events, and their iCalendar feeds.
pub const SERVICE: Service = Service {
    name: "agenda",
    pages: routes,
    api: api_routes,
    tags: &[("agenda", "School, class and personal events; the iCalendar feed")],
    rules: &[crate::kind_rule!(AgendaEvent, check_change)],
    home: |h| Box::pin(home_tiles(h)),
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let tile = (h.member.profile != Profile::AcademyAdmin)
        .then(|| Tile::new(TilePlace::School, "/agenda", "agenda", h.l().t("tile-agenda")));
    Ok(HomePart { tiles: tile.into_iter().collect(), panel: None })
}
