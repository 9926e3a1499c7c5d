//! ONDE import: parse the national registry's CSV extractions, preview what they change in
//! the school directory, then apply them all at once or not at all. From the director's
//! pages and from `preau import onde`.

pub mod import;
pub mod parse;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use preau_sync::kinds::{Credentials, SchoolDirectory};
use preau_sync::{Store, Uai};
use serde::Deserialize;

use crate::directory::{Profile, credentials_address, directory_address};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render};
use import::{ImportError, Note, Summary};

/// Parses every file; all errors of all files, or nothing.
pub fn parse_files(files: &[(String, Vec<u8>)]) -> Result<Vec<(String, parse::Parsed)>, Vec<ImportError>> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (name, bytes) in files {
        match parse::parse(bytes) {
            Ok(p) => parsed.push((name.clone(), p)),
            Err(errs) => errors.extend(errs.into_iter().map(|e| ImportError {
                file: name.clone(),
                line: e.line,
                note: Note { id: e.problem.fluent_id(), args: e.problem.fluent_args() },
            })),
        }
    }
    if errors.is_empty() { Ok(parsed) } else { Err(errors) }
}

/// Previews (`apply` false) or applies an import to the school's documents. The outer error
/// is a storage failure; the inner one the file's problems (nothing is written then).
pub fn run(
    store: &mut Store,
    uai: &Uai,
    files: &[(String, parse::Parsed)],
    year: &str,
    apply: bool,
) -> Result<Result<Summary, Vec<ImportError>>, AppError> {
    let dir_address = directory_address(uai);
    let creds_address = credentials_address(uai);
    let mut dir: SchoolDirectory = store.get::<SchoolDirectory>(dir_address.id())?.unwrap_or_default();
    let mut creds: Credentials = store.get::<Credentials>(creds_address.id())?.unwrap_or_default();
    let summary = match import::reconcile(files, year, &mut dir, &mut creds) {
        Ok(summary) => summary,
        Err(errors) => return Ok(Err(errors)),
    };
    if apply && !summary.is_empty() {
        // Credentials first: an account without a directory entry cannot log in, so a failure
        // between the two writes leaves nobody half-created.
        store.change::<Credentials, _>(&creds_address, |c| *c = creds)?;
        store.change::<SchoolDirectory, _>(&dir_address, |d| *d = dir)?;
    }
    Ok(Ok(summary))
}

/// Imports waiting between their preview and their application (in memory, 30 minutes).
#[derive(Default)]
pub struct Pending {
    by_token: Mutex<HashMap<String, PendingImport>>,
}

struct PendingImport {
    by: crate::directory::UserId,
    year: String,
    files: Vec<(String, parse::Parsed)>,
    at: Instant,
}

const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

impl Pending {
    fn put(&self, import: PendingImport) -> String {
        let token = hex::encode(crate::random_bytes::<16>());
        let mut map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, p| p.at.elapsed() < PENDING_TTL);
        if map.len() >= 16
            && let Some(oldest) = map.iter().min_by_key(|(_, p)| p.at).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token.clone(), import);
        token
    }

    fn take(&self, token: &str, by: &crate::directory::UserId) -> Option<PendingImport> {
        let mut map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        let found = map.get(token).is_some_and(|p| &p.by == by && p.at.elapsed() < PENDING_TTL);
        if found { map.remove(token) } else { None }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/admin/import", get(form).post(preview)).route("/admin/import/apply", post(apply))
}

/// A line of the preview or of the error list, in the reader's language.
pub struct Shown {
    /// File and line ("eleves.csv, ligne 12"), empty for summary lines.
    pub place: String,
    /// The message.
    pub text: String,
}

fn show(l: &Locale, note: &Note) -> String {
    let args: Vec<(&str, &str)> = note.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    l.ta(note.id, &args)
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    year: String,
    years: Vec<String>,
    errors: Vec<Shown>,
    created: Vec<String>,
    updated: Vec<String>,
    unchanged: usize,
    token: Option<String>,
    done: bool,
}

impl ImportPage {
    fn new(ctx: &Ctx, year: String) -> Self {
        let current = import::school_year_of(&crate::today());
        let start: i32 = current[..4].parse().unwrap_or(2026);
        Self {
            c: Chrome::new(ctx),
            year,
            years: vec![current, format!("{}-{}", start + 1, start + 2)],
            errors: vec![],
            created: vec![],
            updated: vec![],
            unchanged: 0,
            token: None,
            done: false,
        }
    }

    fn with_summary(mut self, l: &Locale, summary: &Summary) -> Self {
        self.created = summary.created.iter().map(|n| show(l, n)).collect();
        self.updated = summary.updated.iter().map(|n| show(l, n)).collect();
        self.unchanged = summary.unchanged;
        self
    }
}

fn director(ctx: &Ctx) -> Result<&crate::web::SignedIn, AppError> {
    let user = ctx.user()?;
    if user.profile == Profile::Director { Ok(user) } else { Err(AppError::Forbidden("director only".into())) }
}

async fn form(ctx: Ctx) -> Result<Response, AppError> {
    director(&ctx)?;
    render(&ImportPage::new(&ctx, import::school_year_of(&crate::today())))
}

fn refused(ctx: &Ctx, year: String, errors: &[ImportError]) -> Result<Response, AppError> {
    let l = &ctx.locale;
    let mut page = ImportPage::new(ctx, year);
    page.errors = errors
        .iter()
        .map(|e| Shown {
            place: if e.line == 0 {
                e.file.clone()
            } else {
                l.ta("import-place", &[("file", &e.file), ("line", &e.line.to_string())])
            },
            text: show(l, &e.note),
        })
        .collect();
    let mut response = render(&page)?;
    *response.status_mut() = StatusCode::BAD_REQUEST;
    Ok(response)
}

async fn preview(State(state): State<AppState>, ctx: Ctx, mut multipart: Multipart) -> Result<Response, AppError> {
    let user = director(&ctx)?.user.clone();
    let mut csrf = String::new();
    let mut year = import::school_year_of(&crate::today());
    let mut files = Vec::new();
    let too_large = |e: axum::extract::multipart::MultipartError| AppError::bad("error-too-large", e.to_string());
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(too_large)?,
            Some("year") => year = field.text().await.map_err(too_large)?,
            Some("files") => {
                let name = field.file_name().unwrap_or("fichier.csv").chars().take(100).collect::<String>();
                let bytes = field.bytes().await.map_err(too_large)?;
                if !bytes.is_empty() || !name.is_empty() {
                    files.push((name, bytes.to_vec()));
                }
            }
            _ => {}
        }
        if files.len() > 10 {
            return Err(AppError::bad("import-too-many-files", "more than 10 files"));
        }
    }
    ctx.check_csrf(&csrf)?;
    if !import::is_school_year(&year) {
        return Err(AppError::bad("import-bad-year", format!("school year {year:?}")));
    }
    files.retain(|(_, b)| !b.is_empty());
    if files.is_empty() {
        let none = ImportError { file: String::new(), line: 0, note: Note { id: "import-no-file", args: vec![] } };
        return refused(&ctx, year, &[none]);
    }
    let parsed = match parse_files(&files) {
        Ok(p) => p,
        Err(errors) => return refused(&ctx, year, &errors),
    };
    let uai = state.directory().uai().cloned().ok_or(AppError::NotFound)?;
    let (p, y) = (parsed.clone(), year.clone());
    let summary = match state.db.run(move |store| run(store, &uai, &p, &y, false)).await? {
        Ok(s) => s,
        Err(errors) => return refused(&ctx, year, &errors),
    };
    let mut page = ImportPage::new(&ctx, year.clone()).with_summary(&ctx.locale, &summary);
    if !summary.is_empty() {
        page.token = Some(state.imports.put(PendingImport { by: user, year, files: parsed, at: Instant::now() }));
    }
    render(&page)
}

#[derive(Deserialize)]
struct ApplyForm {
    token: String,
}

async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> Result<Response, AppError> {
    let user = director(&ctx)?.user.clone();
    let pending =
        state.imports.take(&form.token, &user).ok_or(AppError::bad("import-expired", "unknown import token"))?;
    let uai = state.directory().uai().cloned().ok_or(AppError::NotFound)?;
    let year = pending.year.clone();
    let outcome = state.db.run(move |store| run(store, &uai, &pending.files, &pending.year, true)).await?;
    state.reload_directory().await?;
    match outcome {
        Ok(summary) => {
            tracing::info!(by = %user, created = summary.created.len(), updated = summary.updated.len(), "ONDE import applied");
            let mut page = ImportPage::new(&ctx, year).with_summary(&ctx.locale, &summary);
            page.done = true;
            render(&page)
        }
        Err(errors) => refused(&ctx, year, &errors),
    }
}
