//! The news service's pages: their handlers and their askama views. They call the domain
//! functions of `mod.rs`, as the JSON API does.

use super::*;

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
#[template(path = "news/list.html")]
pub(super) struct NewsPage {
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
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn show_news(
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

pub(super) async fn news_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    show_news(&state, &ctx, None, PostInput::default(), None).await
}

pub(super) async fn staffroom_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    show_news(&state, &ctx, Some(Place::Staff), PostInput::default(), None).await
}

#[derive(Deserialize)]
pub(super) struct PostForm {
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

pub(super) async fn publish_form(
    state: AppState,
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
#[template(path = "news/post.html")]
pub(super) struct PostPage {
    c: Chrome,
    post: PostView,
    error: Option<String>,
}

impl PostPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn post_page(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let post = one(&state, &ctx.locale, ctx.user()?, &id).await?;
    render(&PostPage { c: Chrome::new(&ctx), post, error: None })
}

pub(super) async fn edit_form(
    state: AppState,
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
pub(super) async fn photo(
    state: AppState,
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

pub(super) async fn withdraw_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    withdraw(&state, ctx.user()?, &id).await?;
    Ok(Redirect::to("/news").into_response())
}
