//! News, noticeboard and staff room: posts by the director or the teachers to the whole
//! school, to families only, to one class, or to the staff room (salle des profs). A school
//! post may be marked public: it then shows on the school's page without login. One
//! `NewsPost` document per post, in its audience's partition; pages read `news_post`.

mod api;
mod notices;
mod pages;
mod rule;

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::NewsPost;
use preau_sync::kinds::news::{AUDIENCES, NewsRow, Photo};
use preau_sync::store::NewsFilter;
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
use crate::web::upload::FormWithFiles;
use crate::web::{AppState, Chrome, Ctx, SignedIn, render, render_status};

/// Longest title.
const MAX_TITLE: usize = 120;
/// Longest post.
const MAX_BODY: usize = 10_000;
/// Photos a post may carry.
const MAX_PHOTOS: usize = 10;
/// Posts a list shows.
const PAGE: usize = 50;

use api::*;
use pages::*;
pub use rule::*;

// ---- writes ----

/// A post as its writer fills it in.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct PostInput {
    /// `school`, `parents`, `staff` or `class:{id}` (ignored when editing).
    #[serde(default)]
    #[schema(pattern = "^(|school|parents|staff|class:[a-z0-9_-]{1,64})$")]
    pub place: String,
    /// Title.
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    /// Text.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// Also on the school's public page (school posts only).
    #[serde(default)]
    pub public: bool,
}

fn checked(input: &PostInput) -> Result<(String, String), AppError> {
    let title = text::required_line(&input.title, MAX_TITLE, "news-bad-title")?;
    let body = text::paragraphs(&input.body, MAX_BODY, "news-bad-body")?;
    if body.is_empty() {
        return Err(AppError::bad("news-bad-body", "empty post"));
    }
    Ok((title, body))
}

/// Photos sent with a post, and the pupils they show.
#[derive(Default)]
pub struct NewPhotos {
    /// The image files.
    pub files: Vec<crate::web::upload::Uploaded>,
    /// The pupils they show (user ids).
    pub pupils: Vec<String>,
}

/// Publishes a post; returns its id.
pub async fn publish(state: &AppState, by: &SignedIn, input: PostInput, photos: NewPhotos) -> Result<String, AppError> {
    let dir = state.directory();
    let place = Place::parse(&input.place)?;
    if !writes(&dir, &by.user, &place) {
        return Err(AppError::Refused {
            message: "news-bad-place",
            detail: format!("{} does not publish at {place:?}", by.user),
        });
    }
    if input.public && place != Place::School {
        return Err(AppError::bad("news-public-school-only", "public outside the school's posts"));
    }
    let (title, body) = checked(&input)?;
    if photos.files.len() > MAX_PHOTOS {
        return Err(AppError::bad("news-too-many-photos", format!("{} photos", photos.files.len())));
    }
    if photos.files.iter().any(|f| !crate::platform::files::media_type_of(&f.name, &f.mime).starts_with("image/")) {
        return Err(AppError::bad("news-photo-not-image", "a photo that is not an image"));
    }
    if let Some(p) = photos.pupils.iter().find(|p| !may_publish_photo_of(&dir, p)) {
        return Err(AppError::bad("news-photo-no-consent", format!("no photo consent for {p}")));
    }
    let mut stored = Vec::new();
    for f in photos.files {
        let file = state.files.put(&f.name, &f.mime, f.bytes).await?;
        stored.push(Photo { file, pupils: photos.pupils.clone() });
    }
    let (partition, audience) = place.partition(&dir)?;
    let id = ClassId::random().to_string();
    let address = DocAddress::new(partition, Kind::NewsPost, DocKey::parse(&id).expect("hex"));
    let (user, now, public) = (by.user.to_string(), crate::platform::clock::now_ms(), input.public);
    crate::school::edit::under_rule::<NewsPost, ()>(state, address, check_change, move |p| {
        *p = NewsPost {
            title,
            body: body.into(),
            author: user.clone(),
            published_at: now,
            public,
            audience: audience.into(),
            edited_by: user,
            edited_at: now,
            withdrawn: false,
            photos: stored,
        };
        Ok(())
    })
    .await?;
    Ok(id)
}

async fn find(state: &AppState, id: &str) -> Result<NewsRow, AppError> {
    let (school, id) = (state.uai()?, id.to_owned());
    let rows = state.db.read(|store| Ok(store.news(&school, &NewsFilter::Id(&id), 1)?))?;
    rows.into_iter().next().ok_or(AppError::NotFound)
}

/// Changes a post (its text, or withdraws it): its author, or the director.
async fn change(state: &AppState, by: &SignedIn, id: &str, edit: Option<PostInput>) -> Result<(), AppError> {
    let row = find(state, id).await?;
    let dir = state.directory();
    let partition = Partition::parse(&row.partition).map_err(|_| AppError::NotFound)?;
    let place = Place::of(&dir, &partition, &row.audience).ok_or(AppError::NotFound)?;
    let may = writes(&dir, &by.user, &place) && (row.author == by.user.as_str() || by.profile == Profile::Director);
    if !may {
        return Err(AppError::NotFound);
    }
    let text = edit.as_ref().map(checked).transpose()?;
    let public = edit.as_ref().map(|e| e.public);
    if public == Some(true) && place != Place::School {
        return Err(AppError::bad("news-public-school-only", "public outside the school's posts"));
    }
    let address = DocAddress::new(partition, Kind::NewsPost, DocKey::parse(id).map_err(|_| AppError::NotFound)?);
    let (user, now) = (by.user.to_string(), crate::platform::clock::now_ms());
    crate::school::edit::under_rule::<NewsPost, ()>(state, address, check_change, move |p| {
        match (text, public) {
            (Some((title, body)), Some(public)) => {
                p.title = title;
                if p.body.as_str() != body {
                    p.body.update(body);
                }
                p.public = public;
            }
            _ => p.withdrawn = true,
        }
        p.edited_by = user;
        p.edited_at = now;
        Ok(())
    })
    .await
}

/// Rewrites a post's title, text and public flag.
pub async fn edit(state: &AppState, by: &SignedIn, id: &str, input: PostInput) -> Result<(), AppError> {
    change(state, by, id, Some(input)).await
}

/// Withdraws a post.
pub async fn withdraw(state: &AppState, by: &SignedIn, id: &str) -> Result<(), AppError> {
    change(state, by, id, None).await
}

// ---- reads ----

/// A post as its readers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PostView {
    /// Id.
    pub id: String,
    /// `school`, `parents`, `staff` or `class:{id}`.
    pub place: String,
    /// Where, in words ("Toute l'école", "CE1-CE2"...).
    pub place_label: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Who wrote it.
    pub author: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// On the public page.
    pub public: bool,
    /// The reader may edit or withdraw it.
    pub editable: bool,
    /// The photos' hashes (shown at `/news/{id}/photos/{hash}`).
    pub photos: Vec<String>,
}

fn place_label(dir: &Directory, l: &crate::platform::i18n::Locale, place: &Place) -> String {
    match place {
        Place::School => l.t("news-place-school"),
        Place::Parents => l.t("news-place-parents"),
        Place::Staff => l.t("news-place-staff"),
        Place::Class(id) => dir.classes.get(id).map(|c| c.class.name.clone()).unwrap_or_default(),
    }
}

/// The posts `by` may read, newest first; `only` keeps one place (the staff room).
pub async fn feed(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    by: &SignedIn,
    only: Option<Place>,
) -> Result<Vec<PostView>, AppError> {
    let dir = state.directory();
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?.clone();
    let mut places = vec![Place::School, Place::Staff];
    places.extend(dir.current_classes().into_iter().map(|c| Place::Class(c.id.clone())));
    places.retain(|p| reads(&dir, &me, p) && only.as_ref().is_none_or(|o| o == p));
    let partitions: Vec<String> =
        places.iter().map(|p| p.partition(&dir).map(|(p, _)| p.to_string())).collect::<Result<_, _>>()?;
    let school = dir.uai().ok_or(AppError::NotFound)?;
    let rows = state.db.read(|store| Ok(store.news(school, &NewsFilter::In(&partitions), PAGE)?))?;
    Ok(rows.into_iter().filter_map(|row| view(&dir, l, &me, &row)).collect())
}

fn view(dir: &Directory, l: &crate::platform::i18n::Locale, reader: &Member, row: &NewsRow) -> Option<PostView> {
    let place = Place::of(dir, &Partition::parse(&row.partition).ok()?, &row.audience)?;
    if !reads(dir, reader, &place) {
        return None;
    }
    let author = UserId::parse(&row.author).ok().and_then(|a| dir.member(&a));
    Some(PostView {
        id: row.post_id.clone(),
        place: place.as_string(),
        place_label: place_label(dir, l, &place),
        title: row.title.clone(),
        body: row.body.clone(),
        author: author.map(Member::formal_name).unwrap_or_default(),
        date: crate::platform::clock::date_of_ms(row.published_at),
        public: row.public,
        editable: writes(dir, &reader.id, &place)
            && (row.author == reader.id.as_str() || reader.profile == Profile::Director),
        photos: row.photos.iter().map(|p| p.hash.clone()).collect(),
    })
}

/// One post, if `by` may read it.
pub async fn one(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    by: &SignedIn,
    id: &str,
) -> Result<PostView, AppError> {
    let row = find(state, id).await?;
    let dir = state.directory();
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?;
    view(&dir, l, me, &row).ok_or(AppError::NotFound)
}

/// News, the noticeboard and the staff room.
pub const SERVICE: Service = Service {
    name: "news",
    pages: routes,
    api: api_routes,
    tags: &[("news", "News, noticeboard and staff room")],
    rules: &[crate::kind_rule!(NewsPost, check_change)],
    home: |h| Box::pin(home_tiles(h)),
    notices: &[notices::SOURCE],
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let (l, profile) = (h.l(), h.member.profile);
    let mut tiles = Vec::new();
    if profile != Profile::AcademyAdmin {
        tiles.push(Tile::new(TilePlace::School, "/news", "news", l.t("tile-news")));
        if profile.is_staff() {
            tiles.push(Tile::new(TilePlace::Staff, "/staffroom", "staffroom", l.t("tile-staffroom")));
        }
    }
    Ok(HomePart { tiles, panel: None })
}
