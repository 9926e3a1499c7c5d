//! The front door of the académie's hub: a family finds its school there (its public page at
//! a stable address, `/ecoles/{uai}`, which the school's login letters print) and logs in to
//! it. Choosing a school only sets which school's public page and login page this browser
//! sees (`web::session::SCHOOL_COOKIE`); it grants nothing. A school's own server answers the
//! same addresses for its school, so a letter's address works at school too.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::Uai;
use serde::Deserialize;

use crate::platform::config::Role;
use crate::platform::error::AppError;
use crate::platform::text::fold;
use crate::school::directory::{Directory, School};
use crate::web::schools::choose_cookie;
use crate::web::service::Service;
use crate::web::{AppState, Chrome, Ctx, Routes, render};

/// Schools listed at most under one search: past it, the page asks for more letters.
const LISTED: usize = 50;

pub(crate) fn routes() -> Routes {
    Routes::new().get("/ecoles", choose).get("/ecoles/{uai}", chosen)
}

/// The school's stable address on the hub, as its letters print it.
pub fn school_url(hub: &str, uai: &Uai) -> String {
    format!("{}{}/{uai}", hub.trim_end_matches('/'), crate::web::schools::PREFIX)
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "school/schools.html")]
struct SchoolsPage {
    c: Chrome,
    q: String,
    schools: Vec<School>,
    more: bool,
}

/// The hub's list of its schools, searched by name, commune, postcode or UAI (accents and
/// case aside). A school's own server has one school: its home.
async fn choose(state: AppState, ctx: Ctx, Query(search): Query<Search>) -> Result<Response, AppError> {
    if state.config.role != Role::Hub {
        return Ok(Redirect::to("/").into_response());
    }
    let words: Vec<String> = fold(&search.q).split_whitespace().take(8).map(str::to_owned).collect();
    let all = state.db.read(Directory::schools)?;
    let mut schools: Vec<School> = all
        .into_iter()
        .filter(|s| {
            let text = fold(&format!("{} {} {} {}", s.info.name, s.info.commune, s.info.postcode, s.uai));
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect();
    let more = schools.len() > LISTED;
    schools.truncate(LISTED);
    let q: String = search.q.chars().take(100).collect();
    render(&SchoolsPage { c: Chrome::new(&ctx), q, schools, more })
}

/// A school's address: on the hub, this browser's school from now on, then its public page
/// (or, signed in, the home page); at a school's server, its own home. (What is under it,
/// `/ecoles/{uai}/…`, is the school's on the hub: `web::schools::by_address`.)
async fn chosen(state: AppState, Path(uai): Path<String>) -> Result<Response, AppError> {
    let uai = Uai::parse(&uai.to_uppercase()).map_err(|_| AppError::NotFound)?;
    state.within(&uai)?;
    let mut response = Redirect::to("/").into_response();
    if state.config.role == Role::Hub
        && let Some(cookie) = choose_cookie(&state, &uai)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The hub's front door and school chooser.
pub const SERVICE: Service = Service { name: "portal", pages: routes, ..Service::NOTHING };
