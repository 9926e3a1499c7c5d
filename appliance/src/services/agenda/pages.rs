//! The agenda service's pages: their handlers and their askama views. They call the domain
//! functions of `mod.rs`, as the JSON API does.

use super::*;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/agenda", agenda_page)
        .post("/agenda", add_form)
        .post("/agenda/feed", feed_form)
        .get("/agenda/{id}", event_page)
        .post("/agenda/{id}", edit_form)
        .post("/agenda/{id}/withdraw", withdraw_form)
        .get("/calendar/{file}", feed_file)
}

/// `?from=` (a day; today by default).
#[derive(Deserialize)]
pub(super) struct FromQuery {
    #[serde(default)]
    from: String,
}

#[derive(Template)]
#[template(path = "agenda/calendar.html")]
pub(super) struct AgendaPage {
    c: Chrome,
    events: Vec<EventView>,
    from: String,
    next: String,
    places: Vec<(String, String)>,
    feed_url: Option<String>,
    form: EventForm,
    error: Option<String>,
}

impl AgendaPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

/// The event form's fields.
#[derive(Clone, Default, Deserialize)]
pub(super) struct EventForm {
    #[serde(default)]
    pub(super) place: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) location: String,
    #[serde(default)]
    pub(super) starts_on: String,
    #[serde(default)]
    pub(super) ends_on: String,
    #[serde(default)]
    pub(super) start_time: String,
    #[serde(default)]
    pub(super) end_time: String,
    #[serde(default)]
    pub(super) holiday: String,
}

impl From<EventForm> for EventInput {
    fn from(f: EventForm) -> Self {
        EventInput {
            place: f.place,
            title: f.title,
            description: f.description,
            location: f.location,
            starts_on: f.starts_on,
            ends_on: f.ends_on,
            start_time: f.start_time,
            end_time: f.end_time,
            holiday: f.holiday == "on",
        }
    }
}

pub(super) fn feed_url(state: &AppState, secret: &str) -> String {
    format!("{}/calendar/{secret}.ics", base_url(state))
}

pub(super) async fn show_agenda(
    state: &AppState,
    ctx: &Ctx,
    from: &str,
    form: EventForm,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let l = &ctx.locale;
    let start =
        if from.is_empty() { crate::platform::clock::today() } else { text::iso(text::date(from, "agenda-bad-date")?) };
    let day = text::date(&start, "agenda-bad-date")?;
    let end = text::iso(day + time::Duration::days(60));
    let events = events(state, l, user, &start, &end).await?;
    let dir = state.directory();
    let mut places = vec![Place::School, Place::Personal];
    places.extend(dir.current_classes().into_iter().map(|c| Place::Class(c.id.clone())));
    places.retain(|p| writes(&dir, &user.user, p));
    let secret = dir.credentials.get(&user.user).map(|c| c.calendar_secret.clone()).unwrap_or_default();
    let page = AgendaPage {
        c: Chrome::new(ctx),
        events,
        next: text::iso(day + time::Duration::days(61)),
        from: start,
        places: places.iter().map(|p| (p.as_string(), place_label(&dir, l, p))).collect(),
        feed_url: (!secret.is_empty()).then(|| feed_url(state, &secret)),
        form,
        error: error.map(|e| l.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

pub(super) async fn agenda_page(state: AppState, ctx: Ctx, Query(q): Query<FromQuery>) -> Result<Response, AppError> {
    show_agenda(&state, &ctx, &q.from, EventForm::default(), None).await
}

pub(super) async fn add_form(
    state: AppState,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<EventForm>,
) -> Result<Response, AppError> {
    match add(&state, ctx.user()?, form.clone().into()).await {
        Ok(_) => Ok(Redirect::to(&format!("/agenda?from={}", form.starts_on)).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_agenda(&state, &ctx, "", form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

pub(super) async fn feed_form(
    state: AppState,
    ctx: Ctx,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    new_feed(&state, ctx.user()?).await?;
    Ok(Redirect::to("/agenda#feed").into_response())
}

#[derive(Template)]
#[template(path = "agenda/event.html")]
pub(super) struct EventPage {
    c: Chrome,
    event: EventView,
    error: Option<String>,
}

pub(super) async fn event_page(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let event = one(&state, &ctx, &id).await?;
    render(&EventPage { c: Chrome::new(&ctx), event, error: None })
}

pub(super) async fn one(state: &AppState, ctx: &Ctx, id: &str) -> Result<EventView, AppError> {
    let user = ctx.user()?;
    let (row, _) = find(state, user, id).await?;
    let all = events(state, &ctx.locale, user, &row.event.starts_on, &row.event.starts_on).await?;
    all.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)
}

pub(super) async fn edit_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EventForm>,
) -> Result<Response, AppError> {
    match change(&state, ctx.user()?, &id, Some(form.into())).await {
        Ok(()) => Ok(Redirect::to(&format!("/agenda/{id}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => {
            let event = one(&state, &ctx, &id).await?;
            render_status(
                &EventPage { c: Chrome::new(&ctx), event, error: Some(ctx.locale.t(e.message_id())) },
                e.status(),
            )
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn withdraw_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    change(&state, ctx.user()?, &id, None).await?;
    Ok(Redirect::to("/agenda").into_response())
}

/// `GET /calendar/{secret}.ics`: no session; the secret is the key.
pub(super) async fn feed_file(state: AppState, Path(file): Path<String>) -> Result<Response, AppError> {
    let secret = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let body = feed(&state, secret).await?;
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response())
}
