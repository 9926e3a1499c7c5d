//! The messaging service's JSON API: the same domain functions as the pages, with their OpenAPI
//! annotations.

use super::*;

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_inbox, api_start))
        .routes(routes!(api_read))
        .routes(routes!(api_reply))
        .routes(routes!(api_reply_with_files))
        .routes(routes!(api_moderate))
        .routes(routes!(api_contacts))
        .routes(routes!(api_class_rules))
}

/// A message's text.
#[derive(Deserialize, ToSchema)]
pub struct Reply {
    /// Text.
    pub body: String,
}

/// A moderation decision.
#[derive(Deserialize, ToSchema)]
pub struct Decision {
    /// Deliver (true) or refuse (false).
    pub approved: bool,
}

/// The caller's conversations, with unread counts.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "messaging",
    responses((status = 200, body = Vec<ConversationSummary>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_inbox(
    state: AppState,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<ConversationSummary>>, ApiError> {
    Ok(Json(inbox(&state, &user).await?))
}

/// Starts a conversation with allowed people.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "messaging", request_body = NewConversation,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_start(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewConversation>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = start(&state, &user, body, Vec::new()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A conversation's messages (marks it read).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_read(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(read(&state, &user, &id).await?))
}

/// Adds a message.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messaging", params(("id" = String, Path, description = "Conversation id")), request_body = Reply,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_reply(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<StatusCode, ApiError> {
    reply(&state, &user, &id, &body.body, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a message with files (multipart: `body`, and `files`, repeatable, 5 at most).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/with-files", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    request_body(content_type = "multipart/form-data", description = "`body` and `files` (repeatable)"),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_reply_with_files(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<StatusCode, ApiError> {
    // Allowed before the files are read.
    writable(&state, &user, &id).await?;
    let form = crate::web::upload::MultipartForm::read(multipart, MAX_FILES, "error-too-many-files").await?;
    let body = form.value("body");
    let files = form.files.into_iter().filter(|f| f.field == "files").collect();
    reply(&state, &user, &id, &body, files).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delivers or refuses a pupil's held message (the class's teachers).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/moderation", tag = "messaging",
    params(("id" = String, Path, description = "Conversation id"), ("message" = String, Path, description = "Message id")), request_body = Decision,
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_moderate(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, message)): Path<(String, String)>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<StatusCode, ApiError> {
    moderate(&state, &user, &id, &message, body.approved).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whom the caller may write to.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "messaging",
    responses((status = 200, body = Vec<Contact>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_contacts(state: AppState, ApiUser(user): ApiUser) -> Result<Json<Vec<Contact>>, ApiError> {
    Ok(Json(contacts(&state.directory(), &user)))
}

/// Sets a class's messaging switches (its teachers and the director).
#[utoipa::path(put, path = "/api/v1/classes/{id}/messaging", tag = "messaging", params(("id" = String, Path, description = "Class id")), request_body = ClassRules,
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_class_rules(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClassRules>,
) -> Result<StatusCode, ApiError> {
    set_class_rules(&state, &user, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
