//! Accounts in the JSON API: logins that return a bearer token, logout, who am I, the
//! password change, and the staff's credential operations.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pages::{PupilTile, class_login_tiles};
use crate::school::directory::Member;
use crate::web::api::{ApiError, ApiJson, ApiUser, CsrfToken, ErrorBody};
use crate::web::{AppState, Ctx, SignedIn};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(pictures))
        .routes(routes!(qr))
        .routes(routes!(logout))
        .routes(routes!(csrf))
        .routes(routes!(password))
        .routes(routes!(class_login))
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct Token {
    /// Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// Who.
    pub user_id: String,
    /// `director`, `teacher`, `pupil`, `parent`, `staff`, `academy_admin`.
    pub profile: String,
    /// The session may only change its password until it does (`PUT /api/v1/me/password`).
    pub must_change_password: bool,
}

pub(crate) fn token(state: &AppState, member: &Member, must_change_password: bool) -> Json<Token> {
    let token = state.start_session(SignedIn::of(&state.directory(), member, must_change_password));
    Json(Token { token, user_id: member.id.to_string(), profile: member.profile.as_str().into(), must_change_password })
}

/// Login and password (or the letter's activation code).
#[derive(Deserialize, ToSchema)]
pub struct PasswordLogin {
    /// Login name (`prenom.nom`).
    pub login: String,
    /// Password, or the one-time activation code.
    pub password: String,
}

/// Logs in with a password or an activation code.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = PasswordLogin,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(state: AppState, ctx: Ctx, ApiJson(body): ApiJson<PasswordLogin>) -> Result<Json<Token>, ApiError> {
    let (member, must_change) = super::password_login(&state, &ctx, &body.login, &body.password).await?;
    Ok(token(&state, &member, must_change))
}

/// A pupil's picture sequence.
#[derive(Deserialize, ToSchema)]
pub struct PictureLogin {
    /// The pupil's class.
    pub class_id: String,
    /// The pupil.
    pub pupil_id: String,
    /// Picture names in order (`cat`, `tree`, ...).
    pub pictures: Vec<String>,
}

/// Logs a pupil in with their pictures (school network only).
#[utoipa::path(post, path = "/api/v1/auth/pictures", tag = "auth", request_body = PictureLogin,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn pictures(state: AppState, ctx: Ctx, ApiJson(body): ApiJson<PictureLogin>) -> Result<Json<Token>, ApiError> {
    let member = super::picture_login(&state, &ctx, &body.class_id, &body.pupil_id, &body.pictures)?;
    Ok(token(&state, &member, false))
}

/// A QR card's secret.
#[derive(Deserialize, ToSchema)]
pub struct QrLogin {
    /// The secret printed in the card's QR code.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub secret: String,
}

/// Logs a pupil in with their QR card (school network only).
#[utoipa::path(post, path = "/api/v1/auth/qr", tag = "auth", request_body = QrLogin,
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn qr(state: AppState, ctx: Ctx, ApiJson(body): ApiJson<QrLogin>) -> Result<Json<Token>, ApiError> {
    let member = super::qr_holder(&state, ctx.client_ip, &body.secret)?;
    Ok(token(&state, &member, false))
}

/// Ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn logout(state: AppState, ctx: Ctx, _user: ApiUser) -> StatusCode {
    state.sessions.end(&ctx.sid);
    StatusCode::NO_CONTENT
}

/// The CSRF token of the cookie session (send it as `X-CSRF-Token`).
#[utoipa::path(get, path = "/api/v1/auth/csrf", tag = "auth", responses((status = 200, body = CsrfToken)))]
async fn csrf(ctx: Ctx) -> Json<CsrfToken> {
    Json(CsrfToken { csrf: ctx.csrf })
}

/// A new password.
#[derive(Deserialize, ToSchema)]
pub struct NewPassword {
    /// The current password (not needed right after an activation-code login).
    #[serde(default)]
    pub current: String,
    /// The new password (8 characters or more, not the login).
    pub new: String,
    /// The new password again.
    pub confirm: String,
}

/// Changes the caller's password.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "auth", request_body = NewPassword,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn password(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    super::change_password(&state, &ctx.sid, &user, &body.current, &body.new, &body.confirm).await?;
    state.sessions.update(&ctx.sid, |s| s.must_change_password = false);
    Ok(StatusCode::NO_CONTENT)
}

/// A class's login page: its pupils' first names and avatars.
#[derive(Serialize, ToSchema)]
pub struct ClassLogin {
    /// Class name.
    pub class_name: String,
    /// Pupils, by first name.
    pub pupils: Vec<PupilTile>,
    /// The pictures a secret is made of.
    pub pictures: Vec<String>,
}

/// The pupils of a class, for the picture login (school network only).
#[utoipa::path(get, path = "/api/v1/classes/{id}/login", tag = "auth", params(("id" = String, Path, description = "Class id")),
    responses((status = 200, body = ClassLogin), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn class_login(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Json<ClassLogin>, ApiError> {
    let (class, pupils) = class_login_tiles(&state, &ctx, &id)?;
    Ok(Json(ClassLogin {
        class_name: class.class.name,
        pupils,
        pictures: super::secrets::PICTURES.iter().map(|p| (*p).to_owned()).collect(),
    }))
}
