//! The agenda service's JSON API: the same domain functions as the pages, with their OpenAPI
//! annotations.

use super::*;

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_events, api_add))
        .routes(routes!(api_edit, api_withdraw))
        .routes(routes!(api_new_feed))
}

/// A span of days.
#[derive(Deserialize)]
pub struct Span {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
}

/// The calendar feed's address.
#[derive(Serialize, ToSchema)]
pub struct FeedAddress {
    /// Subscribe to it in a calendar application; keep it secret.
    pub url: String,
}

/// The caller's events that meet a span of days.
#[utoipa::path(get, path = "/api/v1/agenda", tag = "agenda",
    params(("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD"), ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD")),
    responses((status = 200, body = Vec<EventView>), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_events(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Query(q): Query<Span>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    Ok(Json(events(&state, &ctx.locale, &user, &q.from, &q.to).await?))
}

/// Adds an event (the director: school; teachers: their classes; staff: personal).
#[utoipa::path(post, path = "/api/v1/agenda", tag = "agenda", request_body = EventInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_add(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<EventInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = add(&state, &user, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Rewrites an event.
#[utoipa::path(put, path = "/api/v1/agenda/{id}", tag = "agenda", params(("id" = String, Path, description = "Event id")), request_body = EventInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_edit(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EventInput>,
) -> Result<StatusCode, ApiError> {
    change(&state, &user, &id, Some(body)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws an event.
#[utoipa::path(delete, path = "/api/v1/agenda/{id}", tag = "agenda", params(("id" = String, Path, description = "Event id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_withdraw(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    change(&state, &user, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the caller a new calendar feed address (the old one stops working).
#[utoipa::path(post, path = "/api/v1/agenda/feed", tag = "agenda",
    responses((status = 200, body = FeedAddress), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
pub(super) async fn api_new_feed(state: AppState, ApiUser(user): ApiUser) -> Result<Json<FeedAddress>, ApiError> {
    let secret = new_feed(&state, &user).await?;
    Ok(Json(FeedAddress { url: feed_url(&state, &secret) }))
}
