//! How an [`AppError`] answers a browser: a clear page, or the login page when the session
//! is missing (the JSON API answers with its own body, `web::api`). `into_response` knows
//! no request, so it says it in French and marks the answer [`Shown`]; the session layer,
//! which knows the reader's language, says it again in that language.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::platform::error::AppError;
use crate::platform::i18n::Locale;

/// The page shown for refusals and errors.
#[derive(Template)]
#[template(path = "web/error.html")]
pub struct ErrorPage {
    /// Messages.
    pub l: Locale,
    /// Heading.
    pub title: String,
    /// What happened, in plain words.
    pub message: String,
}

impl ErrorPage {
    /// The page of the message `id`, in `l`.
    pub fn of(l: Locale, id: &str) -> Self {
        Self { l, title: l.t("error-title"), message: l.t(id) }
    }

    /// The page's HTML (a plain fallback if the template itself fails).
    pub fn render_html(&self) -> String {
        self.render().unwrap_or_else(|_| format!("<!doctype html><title>Préau</title><p>{}</p>", self.message))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let page = ErrorPage::of(Locale::default(), self.message_id());
        let mut response = (status, Html(page.render_html())).into_response();
        response.extensions_mut().insert(Shown(self.message_id()));
        if matches!(self, AppError::Unauthenticated) {
            response.headers_mut().insert(axum::http::header::LOCATION, axum::http::HeaderValue::from_static("/login"));
            *response.status_mut() = StatusCode::SEE_OTHER;
        }
        response
    }
}

/// Marks an error page with the message it shows (its localisation id). Whatever replaces
/// the answer (the API's JSON errors) makes a new one, without the mark.
#[derive(Clone, Copy, Debug)]
pub struct Shown(pub &'static str);

impl Shown {
    /// The same answer (status and headers), its page in `l`.
    pub fn in_language(self, l: Locale, response: Response) -> Response {
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        Response::from_parts(parts, axum::body::Body::from(ErrorPage::of(l, self.0).render_html()))
    }
}
