//! The JSON API (`/api/v1/...`): the same operations as the pages, through the same domain
//! functions and permission checks, described by an OpenAPI document generated from the
//! handlers (`/api/v1/openapi.json`). Authentication: a bearer token from `POST
//! /api/v1/auth/login` (or the pictures and QR logins), or the browser's session cookie —
//! then every request that changes something must carry the `X-CSRF-Token` header.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::web::{AppState, Ctx, SignedIn};

/// The API's description; paths come from the handlers' `#[utoipa::path]` attributes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Préau API", description = "The school appliance's JSON API. Errors are `{error, message}` with a 4xx status."),
    modifiers(&Security),
)]
struct Doc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("preau_sid"))));
    }
}

/// Every operation may be refused, whatever its own annotations say: the error body under
/// 400 (input), 401 (no session), 403 (not allowed), 404 (no such thing, or not yours), 413
/// (too large) and 429 (too many tries). Added to the document once here, so that no
/// operation can forget one and a schema-driven client knows every answer it can get.
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let refusal = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        let statuses = [
            ("400", "The input is refused; `message` says why, in French."),
            ("401", "No session, or it ended."),
            ("403", "Not allowed to do this."),
            ("404", "No such thing, or not visible to the caller."),
            ("413", "The body is too large."),
            ("429", "Too many tries: wait before the next."),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| refusal(description).into());
                }
            }
        }
    }
}

/// The API router and its OpenAPI document, from the services' routes (`api`) and the tags
/// they use.
pub fn router(api: OpenApiRouter<AppState>, tags: &[(&'static str, &'static str)]) -> Router<AppState> {
    let (router, mut doc) = OpenApiRouter::with_openapi(Doc::openapi()).merge(api).split_for_parts();
    doc.tags = Some(
        tags.iter()
            .map(|(name, description)| TagBuilder::new().name(*name).description(Some(*description)).build())
            .collect(),
    );
    // After the merge: the operations only exist from here on.
    Refusals.modify(&mut doc);
    let doc = std::sync::Arc::new(doc);
    router
        .route("/api/v1/openapi.json", axum::routing::get(move || async move { Json(doc.as_ref().clone()) }))
        .layer(axum::middleware::from_fn(errors_as_json))
        // Hashes the answer as the handler made it, before any compression.
        .layer(axum::middleware::from_fn(etag))
}

/// The id of what a request created (every `201 Created` answer).
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// The new thing's id.
    pub id: String,
}

/// The error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code (the localisation id).
    pub error: String,
    /// What went wrong, in French.
    pub message: String,
    /// Per-line problems (imports).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One problem of a refused import.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// File name.
    pub file: String,
    /// Line (1 = header; 0 = the whole file).
    pub line: usize,
    /// What is wrong, in French.
    pub message: String,
}

/// An [`AppError`] as JSON.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<preau_sync::Error> for ApiError {
    fn from(e: preau_sync::Error) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0, Vec::new())
    }
}

/// The JSON answer for `error`, with optional per-line details.
pub fn error_response(error: &AppError, details: Vec<ErrorDetail>) -> Response {
    if error.status().is_server_error() {
        tracing::error!(%error, "API request failed");
    } else {
        tracing::info!(%error, "API request refused");
    }
    let status = match error {
        // The HTML answer redirects to the login page; an API client needs the status.
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        e => e.status(),
    };
    let l = Locale::default();
    let body = ErrorBody { error: error.message_id().to_owned(), message: l.t(error.message_id()), details };
    (status, Json(body)).into_response()
}

/// A JSON body whose rejections (wrong content type, malformed or missing fields) are
/// 4xx answers with the same error body. No body at all reads as `{}`, so an operation
/// whose fields are all optional needs none.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bad = |detail: String| ApiError(AppError::bad("error-bad-request", detail));
        let json_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.starts_with("application/json") || v.split(';').next().is_some_and(|t| t.ends_with("+json"))
        });
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| bad(e.body_text()))?;
        if bytes.is_empty() {
            return serde_json::from_slice(b"{}").map(ApiJson).map_err(|e| bad(e.to_string()));
        }
        if !json_type {
            return Err(bad("expected a body with `Content-Type: application/json`".into()));
        }
        Json::<T>::from_bytes(&bytes).map(|Json(v)| ApiJson(v)).map_err(|e| bad(e.body_text()))
    }
}

/// The signed-in caller. Cookie sessions must send `X-CSRF-Token` on every request that
/// changes something; a session that must change its password may only do that.
pub struct ApiUser(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let user = ctx.user()?.clone();
        let reads = parts.method == Method::GET || parts.method == Method::HEAD;
        if !ctx.bearer && !reads {
            let token = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
            ctx.check_csrf(token)?;
        }
        let path = parts.uri.path();
        if user.must_change_password && path != "/api/v1/me/password" && path != "/api/v1/auth/logout" {
            return Err(ApiError(AppError::Forbidden("password change required first".into())));
        }
        Ok(ApiUser(user))
    }
}

/// The session's CSRF token, for API clients using the cookie.
#[derive(Serialize, ToSchema)]
pub struct CsrfToken {
    /// Send it as `X-CSRF-Token`.
    pub csrf: String,
}

/// Middleware of the API's routes: whatever answers with an error that is not already JSON
/// (a wrong method, a path that is not UTF-8, a body over the size limit) answers with the
/// API's error body instead. (Unknown paths under `/api/` get it from `web::not_found`.)
pub async fn errors_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let id = match status.as_u16() {
        401 => "error-unauthenticated",
        403 => "error-forbidden",
        404 => "error-not-found",
        413 => "error-too-large",
        429 => "error-too-many-attempts",
        500.. => "error-internal",
        _ => "error-bad-request",
    };
    let l = Locale::default();
    (status, Json(ErrorBody { error: id.to_owned(), message: l.t(id), details: Vec::new() })).into_response()
}

/// JSON API reads carry a validator, a hash of the answer (weak: the compression layer
/// makes several encodings of it); a client that kept an answer asks again with
/// `If-None-Match` and gets 304 with no body. Pages carry none: see ARCHITECTURE.md
/// (« Over the wire »).
async fn etag(request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let if_none_match: axum::http::HeaderMap =
        request.headers().get_all(header::IF_NONE_MATCH).iter().map(|v| (header::IF_NONE_MATCH, v.clone())).collect();
    let response = next.run(request).await;
    let json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::OK || !json || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Answers made in memory are hashed; one that streams keeps streaming.
    if axum::body::HttpBody::size_hint(&body).exact().is_none() {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => return AppError::Internal(format!("reading an answer: {e}")).into_response(),
    };
    let etag = format!("W/\"{}\"", &blake3::hash(&bytes).to_hex()[..32]);
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if super::assets::etag_matches(&if_none_match, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
