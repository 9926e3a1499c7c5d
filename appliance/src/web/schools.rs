//! Which school a request acts within. A school's appliance (and a teacher's computer) holds
//! one: its directory snapshot, replaced after each change. The academy hub holds every
//! enrolled school in one replica and answers each request within one school's directory:
//! the signed-in person's, or the school a visitor chose (`school::portal`). Its directories
//! are loaded when first asked for, kept for the most recently used schools, and read again
//! when that school's directory or credentials document changed (a sync, or an edit on the
//! hub), never another school's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use preau_sync::Uai;

use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::school::directory::{Directory, credentials_address, directory_address};

/// Schools whose directories the hub keeps in memory at most: a directory with its
/// credentials weighs about 150 KB for a school of 100 pupils, so 256 of them take about
/// 40 MB, while the hub's busiest hour reaches far fewer schools than its 600.
const KEPT_SCHOOLS: usize = 1024;

/// One school's directory as the server knows it.
pub struct School {
    /// Whose directory: `None` for a server of one school (whatever its directory says,
    /// including no school yet), the UAI on the hub.
    uai: Option<Uai>,
    dir: RwLock<Arc<Directory>>,
    /// On the hub: the replica's generation it was last checked at, and the catalog
    /// sequence numbers of its two documents and of the conventions naming it then (what
    /// changes when they do).
    checked: Mutex<Checked>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
struct Checked {
    generation: u64,
    seqs: [u64; 3],
    used: u64,
}

impl School {
    /// The one school of an appliance or a teacher's computer.
    pub fn own(dir: Directory) -> Self {
        Self { uai: None, dir: RwLock::new(Arc::new(dir)), checked: Mutex::default() }
    }

    /// The directory snapshot.
    pub fn directory(&self) -> Arc<Directory> {
        self.dir.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Which school of several this is (`None` on a server of one).
    pub fn uai(&self) -> Option<&Uai> {
        self.uai.as_ref()
    }

    /// Reads the directory again, after a change to it; published while the store is held,
    /// so that two concurrent edits can never publish their snapshots in the wrong order.
    pub async fn reload(self: &Arc<Self>, db: &Db) -> Result<Arc<Directory>, AppError> {
        let school = self.clone();
        db.run(move |store| {
            let fresh = Arc::new(match &school.uai {
                Some(uai) => Directory::load_school(store, uai)?,
                None => Directory::load(store)?,
            });
            *school.dir.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
            Ok(fresh)
        })
        .await
    }
}

/// The hub's schools, by UAI.
#[derive(Default)]
pub struct Schools {
    kept: Mutex<HashMap<Uai, Arc<School>>>,
    uses: std::sync::atomic::AtomicU64,
}

impl Schools {
    /// The school `uai` as the replica holds it now, or `NotFound` when the hub holds no
    /// such school (a UAI nobody enrolled is never kept).
    pub fn get(&self, db: &Db, uai: &Uai) -> Result<Arc<School>, AppError> {
        // Read before the catalog, as `Db::memo` does: a write after this makes a newer
        // generation, so a check never vouches for a state older than it saw.
        let generation = db.generation();
        let used = self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(uai).cloned();
        if let Some(school) = &kept {
            let mut checked = school.checked.lock().unwrap_or_else(|p| p.into_inner());
            checked.used = used;
            if checked.generation == generation {
                return Ok(school.clone());
            }
        }
        let seqs = db.read(|store| {
            let seq = |address: preau_sync::DocAddress| -> Result<u64, AppError> {
                Ok(store.catalog_entry(address.id())?.map_or(0, |e| e.seq))
            };
            Ok([seq(directory_address(uai))?, seq(credentials_address(uai))?, store.coverage_seq(uai)?])
        })?;
        if let Some(school) = kept {
            let mut checked = school.checked.lock().unwrap_or_else(|p| p.into_inner());
            if checked.seqs == seqs {
                checked.generation = generation;
                drop(checked);
                return Ok(school);
            }
        }
        let dir = db.read(|store| Directory::load_school(store, uai))?;
        if dir.school.is_none() {
            return Err(AppError::NotFound);
        }
        let school = Arc::new(School {
            uai: Some(uai.clone()),
            dir: RwLock::new(Arc::new(dir)),
            checked: Mutex::new(Checked { generation, seqs, used }),
        });
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= KEPT_SCHOOLS && !kept.contains_key(uai) {
            let least = kept
                .iter()
                .min_by_key(|(_, s)| s.checked.lock().unwrap_or_else(|p| p.into_inner()).used)
                .map(|(u, _)| u.clone());
            if let Some(least) = least {
                kept.remove(&least);
            }
        }
        kept.insert(uai.clone(), school.clone());
        Ok(school)
    }
}

/// A school's address on the hub: `/ecoles/{uai}` (its public page), and under it
/// everything of the school's (`/ecoles/{uai}/calendar/…`, `/ecoles/{uai}/api/v1/…`), so
/// that what a calendar app, an API client or a letter's QR code holds names its school.
pub const PREFIX: &str = "/ecoles";

/// The school a request under a school's address names, and the path under it.
fn under_school(path: &str) -> Option<(Uai, String)> {
    let (uai, rest) = path.strip_prefix(PREFIX)?.strip_prefix('/')?.split_once('/')?;
    Some((Uai::parse(&uai.to_uppercase()).ok()?, format!("/{rest}")))
}

/// The school a request came for by its address (see [`under_school`]).
#[derive(Clone, Debug)]
pub struct Addressed(pub Uai);

/// The `Set-Cookie` that makes `uai` this browser's school on the hub
/// ([`crate::web::session::SCHOOL_COOKIE`]; it grants nothing).
pub fn choose_cookie(state: &crate::web::AppState, uai: &Uai) -> Option<axum::http::HeaderValue> {
    let cookie = axum_extra::extract::cookie::Cookie::build((crate::web::session::SCHOOL_COOKIE, uai.to_string()))
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .max_age(time::Duration::days(400))
        .build();
    cookie.to_string().parse().ok()
}

/// Middleware, outside the router (it changes the path routes are chosen by): on the hub,
/// a request under `/ecoles/{uai}/` is served as the path under it, within school `uai`
/// (`Addressed`, which the session layer reads after a signed-in person's own school), and
/// the browser that came there has chosen that school.
pub async fn by_address(
    axum::extract::State(state): axum::extract::State<crate::web::AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let found =
        (state.config.role == crate::platform::config::Role::Hub).then(|| under_school(request.uri().path())).flatten();
    let Some((uai, path)) = found else { return next.run(request).await };
    let path_and_query = match request.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request.extensions_mut().insert(Addressed(uai.clone()));
    let mut response = next.run(request).await;
    if let Some(cookie) = choose_cookie(&state, &uai) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_schools_address_names_it_and_the_path_under_it() {
        let split = |p: &str| super::under_school(p).map(|(u, rest)| (u.to_string(), rest));
        assert_eq!(split("/ecoles/0351234A/calendar/x.ics"), Some(("0351234A".into(), "/calendar/x.ics".into())));
        assert_eq!(split("/ecoles/0351234a/api/v1/school"), Some(("0351234A".into(), "/api/v1/school".into())));
        assert_eq!(split("/ecoles/0351234A"), None, "the school's page itself");
        assert_eq!(split("/ecoles/0351234A/"), Some(("0351234A".into(), "/".into())));
        assert_eq!(split("/ecoles/pas-une-ecole/login"), None);
        assert_eq!(split("/ecolesX/0351234A/login"), None);
        assert_eq!(split("/login"), None);
    }
}
