//! Every error a request can end with, its HTTP status and the message users see; the page
//! that shows it is `web::error_page`, the JSON body `web::api`.

use axum::http::StatusCode;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not logged in (or the session expired): go to the login page.
    #[error("not authenticated")]
    Unauthenticated,
    /// Logged in, but this is not yours to see or do.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such thing (or not visible to you: the two are indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// The request is invalid; the message id names the French explanation.
    #[error("bad request: {detail}")]
    BadRequest {
        /// Localisation id of the user-facing message.
        message: &'static str,
        /// What the log says.
        detail: String,
    },
    /// The form's CSRF token is missing or wrong.
    #[error("CSRF token missing or invalid")]
    Csrf,
    /// Too many failed attempts.
    #[error("rate limited: {detail}")]
    TooManyAttempts {
        /// Localisation id of the user-facing message.
        message: &'static str,
        /// What the log says.
        detail: String,
    },
    /// Logged in, allowed to see this, but not to do it: the message says who can.
    #[error("refused: {detail}")]
    Refused {
        /// Localisation id of the user-facing message.
        message: &'static str,
        /// What the log says.
        detail: String,
    },
    /// Picture logins are for the class's tablets only.
    #[error("not a class tablet: {0}")]
    TabletOnly(String),
    /// Wrong login, password, pictures or card.
    #[error("login failed: {detail}")]
    LoginFailed {
        /// Localisation id of the user-facing message.
        message: &'static str,
        /// What the log says.
        detail: String,
    },
    /// The store refused or failed.
    #[error("storage: {0}")]
    Store(#[from] preau_sync::Error),
    /// A bug or an unexpected failure.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// A bad request with a user-facing message id and the detail for the logs.
    pub fn bad(message: &'static str, detail: impl Into<String>) -> Self {
        AppError::BadRequest { message, detail: detail.into() }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf | AppError::TabletOnly(_) | AppError::Refused { .. } => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::LoginFailed { .. } => StatusCode::UNAUTHORIZED,
            AppError::Store(preau_sync::Error::InvalidId { .. }) => StatusCode::BAD_REQUEST,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Localisation id of the message users see.
    pub fn message_id(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "error-unauthenticated",
            AppError::Forbidden(_) => "error-forbidden",
            AppError::NotFound => "error-not-found",
            AppError::BadRequest { message, .. } => message,
            AppError::Csrf => "error-csrf",
            AppError::TabletOnly(_) => "pictures-tablet-only",
            AppError::TooManyAttempts { message, .. }
            | AppError::LoginFailed { message, .. }
            | AppError::Refused { message, .. } => message,
            AppError::Store(preau_sync::Error::InvalidId { .. }) => "error-bad-request",
            AppError::Store(_) | AppError::Internal(_) => "error-internal",
        }
    }

    /// Logs the error: server errors as errors, refusals as information.
    pub fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, "request refused");
        }
    }
}
