//! The carnet de liaison's pages: their handlers and their askama views. They call the domain
//! functions of `mod.rs`, as the JSON API does.

use super::*;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/classes/{id}/liaison", class_page)
        .post("/classes/{id}/liaison", post_form)
        .get("/classes/{id}/liaison/{note}", note_page)
        .post("/classes/{id}/liaison/{note}", edit_form)
        .post("/classes/{id}/liaison/{note}/remind", remind_form)
        .post("/classes/{id}/liaison/{note}/withdraw", withdraw_form)
        .get("/liaison", family_page)
        .post("/liaison/{note}/sign", sign_form)
}

#[derive(Template)]
#[template(path = "liaison/class.html")]
pub(super) struct ClassPage {
    c: Chrome,
    class: Class,
    notes: Vec<NoteView>,
    pupils: Vec<(String, String)>,
    form: NoteForm,
    error: Option<String>,
}

impl ClassPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

/// The note form's fields.
#[derive(Clone, Default)]
pub(super) struct NoteForm {
    title: String,
    body: String,
    ask: String,
    recipients: Vec<String>,
}

pub(super) async fn class_page(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    show_class(&state, &ctx, &id, NoteForm::default(), None).await
}

pub(super) async fn show_class(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: NoteForm,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (class, notes) = class_notes(state, ctx.user()?, id).await?;
    let pupils = state.directory().pupils_of(&class.id).iter().map(|p| (p.id.to_string(), p.full_name())).collect();
    let page = ClassPage {
        c: Chrome::new(ctx),
        class,
        notes,
        pupils,
        form,
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

pub(super) async fn post_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let everyone = one("to") != "some";
    let form = NoteForm {
        title: one("title"),
        body: one("body"),
        ask: one("ask"),
        recipients: pairs.iter().filter(|(k, _)| k == "recipients").map(|(_, v)| v.clone()).collect(),
    };
    if !everyone && form.recipients.is_empty() {
        let e = AppError::bad("liaison-bad-recipients", "no child chosen");
        return show_class(&state, &ctx, &id, form, Some(&e)).await;
    }
    let input = NoteInput {
        title: form.title.clone(),
        body: form.body.clone(),
        ask: form.ask.clone(),
        recipients: if everyone { Vec::new() } else { form.recipients.clone() },
    };
    match post_note(&state, ctx.user()?, &id, input).await {
        Ok(note) => Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_class(&state, &ctx, &id, form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "liaison/note.html")]
pub(super) struct NotePage {
    c: Chrome,
    note: NoteView,
    lines: Vec<SignatureLine>,
    error: Option<String>,
}

impl NotePage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn note_page(
    state: AppState,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (note, lines) = note_detail(&state, ctx.user()?, &id, &note).await?;
    render(&NotePage { c: Chrome::new(&ctx), note, lines, error: None })
}

#[derive(Deserialize)]
pub(super) struct EditForm {
    title: String,
    body: String,
}

pub(super) async fn edit_form(
    state: AppState,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let input = NoteInput { title: form.title.clone(), body: form.body.clone(), ..NoteInput::default() };
    match edit(&state, user, &id, &note, input).await {
        Ok(()) => Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => {
            let (mut view, lines) = note_detail(&state, user, &id, &note).await?;
            (view.title, view.body) = (form.title, form.body);
            let page = NotePage { c: Chrome::new(&ctx), note: view, lines, error: Some(ctx.locale.t(e.message_id())) };
            render_status(&page, e.status())
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn remind_form(
    state: AppState,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    remind(&state, ctx.user()?, &id, &note).await?;
    Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response())
}

pub(super) async fn withdraw_form(
    state: AppState,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    withdraw(&state, ctx.user()?, &id, &note).await?;
    Ok(Redirect::to(&format!("/classes/{id}/liaison")).into_response())
}

#[derive(Template)]
#[template(path = "liaison/family.html")]
pub(super) struct FamilyPage {
    c: Chrome,
    notes: Vec<FamilyNote>,
    error: Option<String>,
}

impl FamilyPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn family_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    show_family(&state, &ctx, None).await
}

pub(super) async fn show_family(state: &AppState, ctx: &Ctx, error: Option<&AppError>) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if user.profile != Profile::Parent {
        return Err(AppError::NotFound);
    }
    let notes = family_notes(state, user, None).await?;
    let page = FamilyPage { c: Chrome::new(ctx), notes, error: error.map(|e| ctx.locale.t(e.message_id())) };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

#[derive(Deserialize)]
pub(super) struct SignForm {
    child: String,
    #[serde(default)]
    reply: String,
}

pub(super) async fn sign_form(
    state: AppState,
    ctx: Ctx,
    Path(note): Path<String>,
    CsrfForm(form): CsrfForm<SignForm>,
) -> Result<Response, AppError> {
    match sign(&state, ctx.user()?, &note, &form.child, &form.reply).await {
        Ok(()) => Ok(Redirect::to("/liaison").into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_family(&state, &ctx, Some(&e)).await,
        Err(e) => Err(e),
    }
}
