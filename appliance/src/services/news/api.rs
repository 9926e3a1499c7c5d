//! The news service's JSON API: the same domain functions as the pages, with their OpenAPI
//! annotations.

use super::*;

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_feed, api_publish)).routes(routes!(api_one, api_edit, api_withdraw))
}

/// The posts the caller may read, newest first (50 at most).
#[utoipa::path(get, path = "/api/v1/news", tag = "news",
    responses((status = 200, body = Vec<PostView>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_feed(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<PostView>>, ApiError> {
    Ok(Json(feed(&state, &ctx.locale, &user, None).await?))
}

/// Publishes a post (the director anywhere; teachers in their classes and the staff room).
#[utoipa::path(post, path = "/api/v1/news", tag = "news", request_body = PostInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_publish(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<PostInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = publish(&state, &user, body, NewPhotos::default()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One post.
#[utoipa::path(get, path = "/api/v1/news/{id}", tag = "news", params(("id" = String, Path, description = "Post id")),
    responses((status = 200, body = PostView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_one(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PostView>, ApiError> {
    Ok(Json(one(&state, &ctx.locale, &user, &id).await?))
}

/// Rewrites a post (its author or the director; `place` is ignored).
#[utoipa::path(put, path = "/api/v1/news/{id}", tag = "news", params(("id" = String, Path, description = "Post id")), request_body = PostInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_edit(
    state: AppState,
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
pub(super) async fn api_withdraw(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    withdraw(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
