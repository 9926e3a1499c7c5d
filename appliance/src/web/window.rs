//! A server that only the desktop app's own window may use (the teacher's replica, issue 15).
//! It listens on 127.0.0.1, where any local user's program, and any web page a local
//! browser shows, can reach it. So every request must carry the app's per-launch key: the
//! window opens [`launch_url`] once, which sets the key as a cookie (HttpOnly,
//! SameSite=Strict) and goes home. It goes home from a page of its own, not by a redirect:
//! the launch comes from the app's start page, another site, and a browser sends no Strict
//! cookie along a navigation another site started, redirects included. A request without the key, or naming another host
//! (DNS rebinding: a web page's own name resolved to 127.0.0.1), is refused before anything
//! else runs. The key lives in the app's memory only, 256 random bits, new at each launch.
//!
//! Behind the key, the window is the computer's teacher: a teacher's computer holds no
//! credentials, so it has no login of its own; the session layer signs the window in as
//! [`Owner`]. Whoever opens the app is whoever opened the laptop's session (ARCHITECTURE.md,
//! « The teacher's computer »).

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::Cookie;

use super::{AppState, SignedIn};
use crate::platform::config::WindowKey;
use crate::platform::error::AppError;

/// Where the window starts: it trades the key in its address for the cookie.
pub const LAUNCH_PATH: &str = "/launch";
const COOKIE: &str = "preau_window";
/// The launch's answer: home, from this site (no words: it is gone at once).
const GO_HOME: &str = "<!doctype html><meta http-equiv=\"refresh\" content=\"0;url=/\"><title>Préau</title>";

/// The address the app's window opens first, on the server bound at `addr`.
pub fn launch_url(addr: SocketAddr, key: &WindowKey) -> String {
    format!("http://{addr}{LAUNCH_PATH}?key={}", key.0)
}

/// Whether `given` is `key`, in time that does not depend on where they differ (BLAKE3
/// hashes compare in constant time).
fn same_key(given: &str, key: &str) -> bool {
    blake3::hash(given.as_bytes()) == blake3::hash(key.as_bytes())
}

/// The window this server serves: its key, and who it is signed in as.
#[derive(Clone)]
pub struct Window {
    /// The per-launch key.
    pub key: WindowKey,
    /// The computer's teacher, once known (`replication::device::owner`).
    pub owner: fn(&AppState) -> Option<SignedIn>,
}

/// On a request from the window: how the session layer finds who to sign in when nobody
/// is (asked only then: a session lasts).
#[derive(Clone, Copy)]
pub struct Owner(pub fn(&AppState) -> Option<SignedIn>);

/// Middleware: lets through only the window that launched with its key.
pub async fn only_the_window(
    State((state, window)): State<(AppState, Window)>,
    mut request: Request,
    next: Next,
) -> Response {
    let key = &window.key.0;
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let ours = state.bound().is_some_and(|bound| {
        let port = bound.port();
        host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}")
    });
    if !ours {
        return refused(format!("host {host:?} is not this app's loopback address"));
    }
    if request.uri().path() == LAUNCH_PATH {
        let given = request.uri().query().and_then(|q| q.strip_prefix("key=")).unwrap_or_default();
        if !same_key(given, key) {
            return refused("a launch with a wrong key".into());
        }
        let cookie = Cookie::build((COOKIE, key.as_str()))
            .http_only(true)
            .same_site(axum_extra::extract::cookie::SameSite::Strict)
            .path("/");
        let mut response = Html(GO_HOME).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    let carried = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .any(|c| c.name() == COOKIE && same_key(c.value(), key));
    if !carried {
        return refused(format!("{} {} without the window's key", request.method(), request.uri().path()));
    }
    request.extensions_mut().insert(Owner(window.owner));
    next.run(request).await
}

fn refused(detail: String) -> Response {
    AppError::Refused { message: "error-window-only", detail }.into_response()
}
