//! The messaging service's pages: their handlers and their askama views. They call the domain
//! functions of `mod.rs`, as the JSON API does.

use super::*;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/messages", inbox_page)
        .get("/messages/new", new_page)
        .post("/messages/new", new_form)
        .get("/messages/events", events)
        .get("/messages/{id}", conversation_page)
        .post("/messages/{id}", reply_form)
        .post("/messages/{id}/{message}/moderate", moderate_form)
        .get("/messages/{id}/files/{hash}", file_download)
        .get("/classes/{id}/messaging", class_messaging_page)
        .post("/classes/{id}/messaging", class_rules_form)
}

#[derive(Template)]
#[template(path = "messaging/inbox.html")]
pub(super) struct InboxPage {
    c: Chrome,
    conversations: Vec<ConversationSummary>,
}

impl InboxPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn inbox_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let conversations = inbox(&state, ctx.user()?).await?;
    render(&InboxPage { c: Chrome::new(&ctx), conversations })
}

#[derive(Template)]
#[template(path = "messaging/new.html")]
pub(super) struct NewPage {
    c: Chrome,
    people: Vec<Contact>,
    families: Vec<Contact>,
    subject: String,
    body: String,
    error: Option<String>,
}

pub(super) async fn show_new(
    state: &AppState,
    ctx: &Ctx,
    subject: String,
    body: String,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (families, people): (Vec<Contact>, Vec<Contact>) =
        contacts(&state.directory(), ctx.user()?).into_iter().partition(|c| c.kind == "family");
    let page = NewPage {
        c: Chrome::new(ctx),
        people,
        families,
        subject,
        body,
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

pub(super) async fn new_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    show_new(&state, &ctx, String::new(), String::new(), None).await
}

pub(super) async fn new_form(
    state: AppState,
    ctx: Ctx,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let new = NewConversation {
        subject: form.value("subject"),
        to: form.values("to"),
        about: form.value("about"),
        body: form.value("body"),
    };
    let (subject, text) = (new.subject.clone(), new.body.clone());
    match start(&state, ctx.user()?, new, form.files).await {
        Ok(key) => Ok(Redirect::to(&format!("/messages/{key}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_new(&state, &ctx, subject, text, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "messaging/conversation.html")]
pub(super) struct ConversationPage {
    c: Chrome,
    conversation: ConversationView,
    error: Option<String>,
}

impl ConversationPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

pub(super) async fn show_conversation(
    state: &AppState,
    ctx: &Ctx,
    key: &str,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let conversation = read(state, ctx.user()?, key).await?;
    let page =
        ConversationPage { c: Chrome::new(ctx), conversation, error: error.map(|e| ctx.locale.t(e.message_id())) };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

pub(super) async fn conversation_page(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    show_conversation(&state, &ctx, &id, None).await
}

pub(super) async fn reply_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    match reply(&state, ctx.user()?, &id, &form.value("body"), form.files).await {
        Ok(()) => Ok(Redirect::to(&format!("/messages/{id}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_conversation(&state, &ctx, &id, Some(&e)).await,
        Err(e) => Err(e),
    }
}

/// A file of a message the reader may see.
pub(super) async fn file_download(
    state: AppState,
    ctx: Ctx,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (row, moderates) = find(&state, user, &id).await?;
    let doc = vec![row.doc_id.clone()];
    let messages = state.db.read(|store| Ok(store.messages(&doc)?))?;
    let file = messages
        .into_iter()
        .filter(|m| visible(m, user.user.as_str(), moderates))
        .flat_map(|m| m.attachments)
        .find(|a| a.hash == hash)
        .ok_or(AppError::NotFound)?;
    let bytes = state.files.get(&file.hash).await?.ok_or(AppError::NotFound)?;
    Ok(crate::web::files::download(&file, bytes))
}

#[derive(Deserialize)]
pub(super) struct ModerateForm {
    decision: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn moderate_form(
    state: AppState,
    ctx: Ctx,
    Path((id, message)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let approved = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        other => return Err(AppError::bad("error-bad-form", format!("decision {other:?}"))),
    };
    let back = crate::web::local_path(&form.back, format!("/messages/{id}"))?;
    moderate(&state, user, &id, &message, approved).await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "messaging/class.html")]
pub(super) struct ClassMessagingPage {
    c: Chrome,
    class: Class,
    held: Vec<(String, String, MessageView)>,
}

pub(super) async fn class_messaging_page(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let dir = state.directory();
    let class = dir.classes.get(&ClassId::parse(&id)?).cloned().ok_or(AppError::NotFound)?;
    let held = held(&state, ctx.user()?, &class).await?;
    render(&ClassMessagingPage { c: Chrome::new(&ctx), class, held })
}

/// A class's messaging switches.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub struct ClassRules {
    /// Pupils' messages wait for a teacher's approval.
    pub moderated: bool,
    /// Pupils may write to their classmates.
    pub classmates: bool,
}

pub(super) async fn class_rules_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let on = |k: &str| pairs.iter().any(|(n, v)| n == k && v == "on");
    set_class_rules(&state, ctx.user()?, &id, ClassRules { moderated: on("moderated"), classmates: on("classmates") })
        .await?;
    Ok(Redirect::to(&format!("/classes/{id}/messaging")).into_response())
}

/// Server-sent events: `update` with a conversation's id whenever one of the reader's
/// conversations changes, so an open page shows new messages without reloading.
pub(super) async fn events(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let me = ctx.user()?;
    let user = (me.school.clone(), me.user.to_string());
    let receiver = state.part::<Updates>().0.subscribe();
    let stream = futures_util::stream::unfold((receiver, user), |(mut receiver, user)| async move {
        loop {
            match receiver.recv().await {
                Ok(update) if update.school == user.0 && update.participants.contains(&user.1) => {
                    let event = Event::default().event("update").data(update.key.clone());
                    return Some((Ok::<_, Infallible>(event), (receiver, user)));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
