//! The cahier de textes's JSON API: the same domain functions as the pages, with their OpenAPI
//! annotations.

use super::*;

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_class_entries, api_create))
        .routes(routes!(api_update, api_remove))
        .routes(routes!(api_ticks))
        .routes(routes!(api_attach))
        .routes(routes!(api_detach))
        .routes(routes!(api_todo))
        .routes(routes!(api_set_done))
}

/// Whether a pupil's work is done.
#[derive(Deserialize, ToSchema)]
pub struct Done {
    /// Ticked (true) or not.
    pub done: bool,
}

/// A class's cahier for a span of days (its teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Class id"),
        ("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD"), ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD")),
    responses((status = 200, body = Vec<EntryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_class_entries(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    Query(q): Query<SpanQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(class_entries(&state, &user, &id, &q.from, &q.to).await?.1))
}

/// Writes a new entry in a class's cahier.
#[utoipa::path(post, path = "/api/v1/classes/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Class id")), request_body = EntryInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_create(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EntryInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = save_entry(&state, &user, &id, None, body, FileChanges::default()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Rewrites an entry.
#[utoipa::path(put, path = "/api/v1/classes/{id}/homework/{entry}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")), request_body = EntryInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_update(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    ApiJson(body): ApiJson<EntryInput>,
) -> Result<StatusCode, ApiError> {
    save_entry(&state, &user, &id, Some(entry), body, FileChanges::default()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws an entry.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/homework/{entry}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_remove(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove_entry(&state, &user, &id, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attaches files to an entry (multipart: `files`, repeatable, 10 at most).
#[utoipa::path(post, path = "/api/v1/classes/{id}/homework/{entry}/files", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    request_body(content_type = "multipart/form-data", description = "`files`, repeatable"),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_attach(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<StatusCode, ApiError> {
    // Allowed before the files are read.
    state.directory().taught_class(&user.user, &id)?;
    let form = MultipartForm::read(multipart, MAX_FILES, "homework-too-many-files").await?;
    let add = form.files.into_iter().filter(|f| f.field == "files").collect();
    change_files(&state, &user, &id, &entry, FileChanges { add, remove: Vec::new() }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a file off an entry.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/homework/{entry}/files/{hash}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id"), ("hash" = String, Path, description = "The file's hash")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_detach(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry, hash)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    change_files(&state, &user, &id, &entry, FileChanges { add: Vec::new(), remove: vec![hash] }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who has done an entry's work (its class's teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/homework/{entry}/done", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    responses((status = 200, body = Vec<PupilDone>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_ticks(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Json<Vec<PupilDone>>, ApiError> {
    Ok(Json(entry_with_ticks(&state, &user, &id, &entry).await?.2))
}

/// A pupil's work due from today on (the pupil, their guardians, their class's teachers).
#[utoipa::path(get, path = "/api/v1/pupils/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Pupil id")),
    responses((status = 200, body = Vec<EntryView>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_todo(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(todo(&state, &user, &id).await?.1))
}

/// Ticks (or unticks) a pupil's work (the pupil or a legal guardian).
#[utoipa::path(put, path = "/api/v1/pupils/{id}/homework/{entry}/done", tag = "homework",
    params(("id" = String, Path, description = "Pupil id"), ("entry" = String, Path, description = "Entry id")), request_body = Done,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_set_done(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    ApiJson(body): ApiJson<Done>,
) -> Result<StatusCode, ApiError> {
    set_done(&state, &user, &id, &entry, body.done).await?;
    Ok(StatusCode::NO_CONTENT)
}
