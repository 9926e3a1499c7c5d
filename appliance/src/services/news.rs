//! News, noticeboard and staff room: posts by the director or the teachers to the whole
//! school, to families only, to one class, or to the staff room (salle des profs). A school
//! post may be marked public: it then shows on the school's page without login. One
//! `NewsPost` document per post, in its audience's partition; pages read `news_post`.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
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

// ---- where posts go, and who reads and writes them ----

/// Where a post is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Everyone at the school (and, if public, anyone).
    School,
    /// Families and staff.
    Parents,
    /// The staff room.
    Staff,
    /// One class: its pupils, their families, its teachers.
    Class(ClassId),
}

impl Place {
    /// Parses `school`, `parents`, `staff` or `class:{id}`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "school" => Ok(Place::School),
            "parents" => Ok(Place::Parents),
            "staff" => Ok(Place::Staff),
            other => match other.strip_prefix("class:") {
                Some(id) => Ok(Place::Class(ClassId::parse(id).map_err(|_| bad_place(s))?)),
                None => Err(bad_place(s)),
            },
        }
    }

    /// The text form.
    pub fn as_string(&self) -> String {
        match self {
            Place::School => "school".into(),
            Place::Parents => "parents".into(),
            Place::Staff => "staff".into(),
            Place::Class(id) => format!("class:{id}"),
        }
    }

    fn of(dir: &Directory, partition: &Partition, audience: &str) -> Option<Self> {
        match partition {
            Partition::School(u) if dir.uai() == Some(u) => {
                Some(if audience == "parents" { Place::Parents } else { Place::School })
            }
            Partition::Staff(u) if dir.uai() == Some(u) => Some(Place::Staff),
            Partition::Class(..) => dir.class_of_partition(partition).map(|c| Place::Class(c.id.clone())),
            _ => None,
        }
    }

    fn partition(&self, dir: &Directory) -> Result<(Partition, &'static str), AppError> {
        let uai = dir.uai().ok_or(AppError::NotFound)?.clone();
        Ok(match self {
            Place::School => (Partition::School(uai), ""),
            Place::Parents => (Partition::School(uai), "parents"),
            Place::Staff => (Partition::Staff(uai), ""),
            Place::Class(id) => (class_partition(&uai, id), ""),
        })
    }
}

fn bad_place(s: &str) -> AppError {
    AppError::bad("news-bad-place", format!("place {s:?}"))
}

/// Whether `user` publishes at `place`: the director anywhere; a teacher in the staff room
/// and in their classes.
pub fn writes(dir: &Directory, user: &UserId, place: &Place) -> bool {
    let Some(m) = dir.member(user).filter(|m| !m.person.archived) else { return false };
    match (m.profile, place) {
        (Profile::Director, _) => true,
        (Profile::Teacher, Place::Staff) => true,
        (Profile::Teacher, Place::Class(id)) => dir.classes.get(id).is_some_and(|c| dir.teaches(user, c)),
        _ => false,
    }
}

/// Whether `reader` reads posts at `place`.
fn reads(dir: &Directory, reader: &Member, place: &Place) -> bool {
    match place {
        Place::School => true,
        Place::Parents => reader.profile == Profile::Parent || reader.profile.is_staff(),
        Place::Staff => reader.profile.is_staff(),
        Place::Class(id) => match reader.profile {
            Profile::Pupil => reader.person.class_id == id.as_str(),
            Profile::Parent => dir.children_of(&reader.id).iter().any(|c| c.person.class_id == id.as_str()),
            Profile::Director | Profile::Teacher => dir.classes.get(id).is_some_and(|c| dir.teaches(&reader.id, c)),
            Profile::Staff | Profile::AcademyAdmin => false,
        },
    }
}

/// Every place `user` writes to, for the form.
fn writable_places(dir: &Directory, user: &UserId) -> Vec<Place> {
    let mut places = vec![Place::School, Place::Parents, Place::Staff];
    places.extend(dir.current_classes().into_iter().map(|c| Place::Class(c.id.clone())));
    places.retain(|p| writes(dir, user, p));
    places
}

fn same_post(a: &NewsPost, b: &NewsPost) -> bool {
    a.photos == b.photos && same_text(a, b)
}

fn same_text(a: &NewsPost, b: &NewsPost) -> bool {
    (
        &a.title,
        a.body.as_str(),
        &a.author,
        a.published_at,
        a.public,
        &a.audience,
        &a.edited_by,
        a.edited_at,
        a.withdrawn,
    ) == (
        &b.title,
        b.body.as_str(),
        &b.author,
        b.published_at,
        b.public,
        &b.audience,
        &b.edited_by,
        b.edited_at,
        b.withdrawn,
    )
}

/// Whether `after` may follow `before` in a post at `partition`: its editor publishes there
/// (see [`writes`]); its author never changes; only a post to the whole school is public.
pub fn check_change(dir: &Directory, partition: &Partition, before: &NewsPost, after: &NewsPost) -> Result<(), String> {
    if same_post(before, after) {
        return Ok(());
    }
    if !AUDIENCES.contains(&after.audience.as_str()) {
        return Err(format!("unknown audience {:?}", after.audience));
    }
    let place =
        Place::of(dir, partition, &after.audience).ok_or_else(|| format!("{partition}: no post lives there"))?;
    if !after.audience.is_empty() && !matches!(place, Place::Parents) {
        return Err("only school posts have an audience".into());
    }
    let editor = UserId::parse(&after.edited_by).map_err(|_| "post without an editor".to_owned())?;
    if !writes(dir, &editor, &place) {
        return Err(format!("{editor} does not publish here"));
    }
    let new = before.author.is_empty();
    if (new && after.author != after.edited_by) || (!new && after.author != before.author) {
        return Err("the post's author cannot be changed or borrowed".into());
    }
    if after.public && place != Place::School {
        return Err("only a post to the whole school can be public".into());
    }
    if after.photos.len() > MAX_PHOTOS {
        return Err(format!("{} photos", after.photos.len()));
    }
    for photo in &after.photos {
        if !crate::platform::files::is_reference(&photo.file) || !photo.file.mime.starts_with("image/") {
            return Err(format!("photo {}: not an image reference", photo.file.hash));
        }
        if let Some(p) = photo.pupils.iter().find(|p| !may_publish_photo_of(dir, p)) {
            return Err(format!("photo {}: no consent to publish photos of {p}", photo.file.hash));
        }
    }
    Ok(())
}

/// The pupils `user` may tag on photos: those of the classes they write for.
fn photo_subjects(dir: &Directory, user: &UserId) -> Vec<(String, String, bool)> {
    dir.current_classes()
        .into_iter()
        .filter(|c| writes(dir, user, &Place::Class(c.id.clone())))
        .flat_map(|c| dir.pupils_of(&c.id))
        .map(|p| {
            (p.id.to_string(), format!("{} ({})", p.full_name(), p.person.level), p.person.photo_consent == Some(true))
        })
        .collect()
}

/// Whether a photo showing this pupil may be published: their family said yes (ONDE's
/// « Autorisations photos »); unknown is no.
fn may_publish_photo_of(dir: &Directory, pupil: &str) -> bool {
    UserId::parse(pupil)
        .ok()
        .and_then(|p| dir.member(&p))
        .is_some_and(|m| m.profile == Profile::Pupil && m.person.photo_consent == Some(true))
}

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
    let id = id.to_owned();
    let rows = state.db.read(|store| Ok(store.news(&NewsFilter::Id(&id), 1)?))?;
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
    let rows = state.db.read(|store| Ok(store.news(&NewsFilter::In(&partitions), PAGE)?))?;
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
        author: author
            .map(|a| format!("{} {}", a.person.civility, a.person.last_name).trim().to_owned())
            .unwrap_or_default(),
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

// ---- pages ----

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/news", news_page)
        .post("/news", publish_form)
        .get("/staffroom", staffroom_page)
        .get("/news/{id}", post_page)
        .post("/news/{id}", edit_form)
        .post("/news/{id}/withdraw", withdraw_form)
        .get("/news/{id}/photos/{hash}", photo)
}

#[derive(Template)]
#[template(path = "news.html")]
struct NewsPage {
    c: Chrome,
    title: String,
    posts: Vec<PostView>,
    places: Vec<(String, String)>,
    chosen: String,
    form_title: String,
    form_body: String,
    error: Option<String>,
    /// Pupils who may appear on photos (id, name, consent to publication).
    pupils: Vec<(String, String, bool)>,
}

impl NewsPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn show_news(
    state: &AppState,
    ctx: &Ctx,
    only: Option<Place>,
    input: PostInput,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let l = &ctx.locale;
    let dir = state.directory();
    let staffroom = only == Some(Place::Staff);
    if staffroom && !user.profile.is_staff() {
        return Err(AppError::NotFound);
    }
    let posts = feed(state, l, user, only).await?;
    let places = writable_places(&dir, &user.user).iter().map(|p| (p.as_string(), place_label(&dir, l, p))).collect();
    let chosen = if input.place.is_empty() && staffroom { "staff".into() } else { input.place };
    let page = NewsPage {
        c: Chrome::new(ctx),
        title: l.t(if staffroom { "tile-staffroom" } else { "tile-news" }),
        posts,
        places,
        chosen,
        form_title: input.title,
        form_body: input.body,
        error: error.map(|e| l.t(e.message_id())),
        pupils: photo_subjects(&dir, &user.user),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn news_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    show_news(&state, &ctx, None, PostInput::default(), None).await
}

async fn staffroom_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    show_news(&state, &ctx, Some(Place::Staff), PostInput::default(), None).await
}

#[derive(Deserialize)]
struct PostForm {
    #[serde(default)]
    place: String,
    title: String,
    body: String,
    #[serde(default)]
    public: String,
}

impl From<PostForm> for PostInput {
    fn from(f: PostForm) -> Self {
        PostInput { place: f.place, title: f.title, body: f.body, public: f.public == "on" }
    }
}

async fn publish_form(
    State(state): State<AppState>,
    ctx: Ctx,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let input = PostInput {
        place: form.value("place"),
        title: form.value("title"),
        body: form.value("body"),
        public: form.value("public") == "on",
    };
    let photos = NewPhotos {
        pupils: form.values("pictured"),
        files: form.files.into_iter().filter(|f| f.field == "photos").collect(),
    };
    match publish(&state, ctx.user()?, input.clone(), photos).await {
        Ok(id) => Ok(Redirect::to(&format!("/news/{id}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_news(&state, &ctx, None, input, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "news_post.html")]
struct PostPage {
    c: Chrome,
    post: PostView,
    error: Option<String>,
}

impl PostPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn post_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let post = one(&state, &ctx.locale, ctx.user()?, &id).await?;
    render(&PostPage { c: Chrome::new(&ctx), post, error: None })
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PostForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let input: PostInput = form.into();
    match edit(&state, user, &id, input.clone()).await {
        Ok(()) => Ok(Redirect::to(&format!("/news/{id}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => {
            let mut post = one(&state, &ctx.locale, user, &id).await?;
            (post.title, post.body) = (input.title, input.body);
            render_status(
                &PostPage { c: Chrome::new(&ctx), post, error: Some(ctx.locale.t(e.message_id())) },
                e.status(),
            )
        }
        Err(e) => Err(e),
    }
}

/// A post's photo, for its readers (and anyone, for a public post).
async fn photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let row = find(&state, &id).await?;
    if !row.public {
        one(&state, &ctx.locale, ctx.user()?, &id).await?;
    }
    let file = row.photos.into_iter().find(|p| p.hash == hash).ok_or(AppError::NotFound)?;
    let bytes = state.files.get(&file.hash).await?.ok_or(AppError::NotFound)?;
    Ok(crate::web::files::image(&file, bytes))
}

async fn withdraw_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    withdraw(&state, ctx.user()?, &id).await?;
    Ok(Redirect::to("/news").into_response())
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_feed, api_publish)).routes(routes!(api_one, api_edit, api_withdraw))
}

/// The posts the caller may read, newest first (50 at most).
#[utoipa::path(get, path = "/api/v1/news", tag = "news",
    responses((status = 200, body = Vec<PostView>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_feed(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<PostView>>, ApiError> {
    Ok(Json(feed(&state, &ctx.locale, &user, None).await?))
}

/// Publishes a post (the director anywhere; teachers in their classes and the staff room).
#[utoipa::path(post, path = "/api/v1/news", tag = "news", request_body = PostInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_publish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<PostInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = publish(&state, &user, body, NewPhotos::default()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One post.
#[utoipa::path(get, path = "/api/v1/news/{id}", tag = "news", params(("id" = String, Path, description = "Post id")),
    responses((status = 200, body = PostView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_one(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PostView>, ApiError> {
    Ok(Json(one(&state, &ctx.locale, &user, &id).await?))
}

/// Rewrites a post (its author or the director; `place` is ignored).
#[utoipa::path(put, path = "/api/v1/news/{id}", tag = "news", params(("id" = String, Path, description = "Post id")), request_body = PostInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_edit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PostInput>,
) -> Result<StatusCode, ApiError> {
    edit(&state, &user, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a post.
#[utoipa::path(delete, path = "/api/v1/news/{id}", tag = "news", params(("id" = String, Path, description = "Post id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    withdraw(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// News, the noticeboard and the staff room.
pub const SERVICE: Service = Service {
    name: "news",
    pages: routes,
    api: api_routes,
    tags: &[("news", "News, noticeboard and staff room")],
    rules: &[crate::kind_rule!(NewsPost, check_change)],
    home: |h| Box::pin(home_tiles(h)),
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
