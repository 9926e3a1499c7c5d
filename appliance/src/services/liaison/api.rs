//! The carnet de liaison's JSON API: the same domain functions as the pages, with their OpenAPI
//! annotations.

use super::*;

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_class_notes, api_post))
        .routes(routes!(api_note, api_edit, api_withdraw))
        .routes(routes!(api_remind))
        .routes(routes!(api_family))
        .routes(routes!(api_sign))
}

/// A note and every expected signature.
#[derive(Serialize, ToSchema)]
pub struct NoteDetail {
    /// The note.
    pub note: NoteView,
    /// One line per child and legal guardian.
    pub signatures: Vec<SignatureLine>,
}

/// A signature.
#[derive(Deserialize, ToSchema)]
pub struct SignInput {
    /// The child signed for.
    pub child: String,
    /// The answer, when the note asks for one.
    #[serde(default)]
    pub reply: String,
}

/// A class's notes with their signature counts (its teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/liaison", tag = "liaison", params(("id" = String, Path, description = "Class id")),
    responses((status = 200, body = Vec<NoteView>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_class_notes(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<NoteView>>, ApiError> {
    Ok(Json(class_notes(&state, &user, &id).await?.1))
}

/// Posts a note to a class's families (or some of them).
#[utoipa::path(post, path = "/api/v1/classes/{id}/liaison", tag = "liaison", params(("id" = String, Path, description = "Class id")), request_body = NoteInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_post(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = post_note(&state, &user, &id, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A note and who has signed it.
#[utoipa::path(get, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 200, body = NoteDetail), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_note(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<Json<NoteDetail>, ApiError> {
    let (note, signatures) = note_detail(&state, &user, &id, &note).await?;
    Ok(Json(NoteDetail { note, signatures }))
}

/// Rewrites a note's title and text (`ask` and `recipients` are ignored; signatures stay).
#[utoipa::path(put, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")), request_body = NoteInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_edit(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
    ApiJson(body): ApiJson<NoteInput>,
) -> Result<StatusCode, ApiError> {
    edit(&state, &user, &id, &note, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a note.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_withdraw(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    withdraw(&state, &user, &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reminds the families who have not signed.
#[utoipa::path(post, path = "/api/v1/classes/{id}/liaison/{note}/remind", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_remind(
    state: AppState,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remind(&state, &user, &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notes for the caller's children, one line per note and child.
#[utoipa::path(get, path = "/api/v1/liaison", tag = "liaison",
    responses((status = 200, body = Vec<FamilyNote>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_family(state: AppState, ApiUser(user): ApiUser) -> Result<Json<Vec<FamilyNote>>, ApiError> {
    Ok(Json(family_notes(&state, &user, None).await?))
}

/// Signs a note for a child (a legal guardian).
#[utoipa::path(post, path = "/api/v1/liaison/{note}/sign", tag = "liaison", params(("note" = String, Path, description = "Note id")), request_body = SignInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_sign(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(note): Path<String>,
    ApiJson(body): ApiJson<SignInput>,
) -> Result<StatusCode, ApiError> {
    sign(&state, &user, &note, &body.child, &body.reply).await?;
    Ok(StatusCode::NO_CONTENT)
}
