//! ONDE import: parse the national registry's CSV extractions, preview what they change in
//! the school directory, then apply them all at once or not at all. From the director's
//! pages and from `preau import onde`.

pub mod import;
pub mod parse;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path};

use crate::web::Routes;
use crate::web::upload::MultipartForm;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use preau_sync::{Store, Uai};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::school::directory::Profile;
use crate::school::directory::SchoolDocs;
use crate::web::api::{ApiError, ApiUser, ErrorBody};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render, render_status};
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
    let before = SchoolDocs::load(store, uai)?;
    let mut docs = before.clone();
    let summary = match import::reconcile(files, year, &mut docs.directory, &mut docs.credentials) {
        Ok(summary) => summary,
        Err(errors) => return Ok(Err(errors)),
    };
    if apply {
        docs.save(store, uai, &before)?;
    }
    Ok(Ok(summary))
}

/// Imports waiting between their preview and their application (in memory, 30 minutes).
#[derive(Default)]
pub struct Pending {
    by_token: Mutex<HashMap<String, PendingImport>>,
}

struct PendingImport {
    by: crate::school::directory::UserId,
    year: String,
    files: Vec<(String, parse::Parsed)>,
    at: Instant,
}

const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

impl Pending {
    fn put(&self, import: PendingImport) -> String {
        let token = hex::encode(crate::platform::random_bytes::<16>());
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

    fn take(&self, token: &str, by: &crate::school::directory::UserId) -> Option<PendingImport> {
        let mut map = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        let found = map.get(token).is_some_and(|p| &p.by == by && p.at.elapsed() < PENDING_TTL);
        if found { map.remove(token) } else { None }
    }
}

pub(crate) fn routes() -> Routes {
    Routes::new().get("/admin/import", form).post("/admin/import", preview).post("/admin/import/apply", apply)
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
#[template(path = "school/import.html")]
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
        let current = import::school_year_of(&crate::platform::clock::today());
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

async fn form(ctx: Ctx) -> Result<Response, AppError> {
    crate::school::permissions::director(ctx.user()?)?;
    render(&ImportPage::new(&ctx, import::school_year_of(&crate::platform::clock::today())))
}

/// An upload: the files, the school year, and the form's CSRF field (pages).
struct Upload {
    csrf: String,
    year: String,
    files: Vec<(String, Vec<u8>)>,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, AppError> {
    let form = MultipartForm::read(multipart, 10, "import-too-many-files").await?;
    let year = form.value("year");
    Ok(Upload {
        csrf: form.value("csrf"),
        year: if year.is_empty() { import::school_year_of(&crate::platform::clock::today()) } else { year },
        files: form
            .files
            .into_iter()
            .filter(|f| f.field == "files")
            .map(|f| (f.name.chars().take(100).collect(), f.bytes))
            .collect(),
    })
}

/// Why an import was refused: the problems of its files, or another error.
enum Refusal {
    Lines(Vec<ImportError>),
    Other(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Other(e)
    }
}

/// A checked import, waiting for confirmation (no token when it changes nothing).
struct Preview {
    year: String,
    summary: Summary,
    token: Option<String>,
}

async fn preview_upload(state: &AppState, user: &crate::web::SignedIn, upload: Upload) -> Result<Preview, Refusal> {
    crate::school::permissions::director(user)?;
    if !import::is_school_year(&upload.year) {
        return Err(AppError::bad("import-bad-year", format!("school year {:?}", upload.year)).into());
    }
    if upload.files.is_empty() {
        let none = ImportError { file: String::new(), line: 0, note: Note { id: "import-no-file", args: vec![] } };
        return Err(Refusal::Lines(vec![none]));
    }
    let parsed = parse_files(&upload.files).map_err(Refusal::Lines)?;
    let uai = state.uai()?;
    let (files, year) = (parsed.clone(), upload.year.clone());
    let summary = state.db.run(move |store| run(store, &uai, &files, &year, false)).await?.map_err(Refusal::Lines)?;
    let token = (!summary.is_empty()).then(|| {
        state.part::<Pending>().put(PendingImport {
            by: user.user.clone(),
            year: upload.year.clone(),
            files: parsed,
            at: Instant::now(),
        })
    });
    Ok(Preview { year: upload.year, summary, token })
}

async fn apply_pending(
    state: &AppState,
    user: &crate::web::SignedIn,
    token: &str,
) -> Result<(String, Summary), Refusal> {
    crate::school::permissions::director(user)?;
    let pending = state
        .part::<Pending>()
        .take(token, &user.user)
        .ok_or(AppError::bad("import-expired", "unknown import token"))?;
    let uai = state.uai()?;
    let year = pending.year.clone();
    let outcome = state.db.run(move |store| run(store, &uai, &pending.files, &pending.year, true)).await;
    state.reload_directory().await?;
    let summary = outcome?.map_err(Refusal::Lines)?;
    tracing::info!(by = %user.user, created = summary.created.len(), updated = summary.updated.len(), "ONDE import applied");
    Ok((year, summary))
}

fn refused(ctx: &Ctx, year: String, refusal: Refusal) -> Result<Response, AppError> {
    let errors = match refusal {
        Refusal::Lines(errors) => errors,
        Refusal::Other(e) => return Err(e),
    };
    let l = &ctx.locale;
    let mut page = ImportPage::new(ctx, year);
    page.errors = errors.iter().map(|e| Shown { place: place(l, e), text: show(l, &e.note) }).collect();
    render_status(&page, StatusCode::BAD_REQUEST)
}

fn place(l: &Locale, e: &ImportError) -> String {
    if e.line == 0 { e.file.clone() } else { l.ta("import-place", &[("file", &e.file), ("line", &e.line.to_string())]) }
}

async fn preview(
    state: AppState,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    crate::school::permissions::director(&user)?;
    let upload = read_upload(multipart).await?;
    ctx.check_csrf(&upload.csrf)?;
    let year = upload.year.clone();
    match preview_upload(&state, &user, upload).await {
        Ok(p) => {
            let mut page = ImportPage::new(&ctx, p.year).with_summary(&ctx.locale, &p.summary);
            page.token = p.token;
            render(&page)
        }
        Err(refusal) => refused(&ctx, year, refusal),
    }
}

#[derive(Deserialize)]
struct ApplyForm {
    token: String,
}

async fn apply(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<ApplyForm>) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    match apply_pending(&state, &user, &form.token).await {
        Ok((year, summary)) => {
            let mut page = ImportPage::new(&ctx, year).with_summary(&ctx.locale, &summary);
            page.done = true;
            render(&page)
        }
        Err(refusal) => refused(&ctx, import::school_year_of(&crate::platform::clock::today()), refusal),
    }
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_preview)).routes(routes!(api_apply))
}

/// What an import does or did.
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// School year.
    pub year: String,
    /// Creations, in French.
    pub created: Vec<String>,
    /// Updates, in French.
    pub updated: Vec<String>,
    /// Rows that change nothing.
    pub unchanged: usize,
    /// Confirm with `POST /api/v1/imports/onde/{token}/apply` (absent when nothing changes).
    pub token: Option<String>,
}

fn report(year: String, summary: &Summary, token: Option<String>) -> ImportReport {
    let l = Locale::default();
    ImportReport {
        year,
        created: summary.created.iter().map(|n| show(&l, n)).collect(),
        updated: summary.updated.iter().map(|n| show(&l, n)).collect(),
        unchanged: summary.unchanged,
        token,
    }
}

fn api_refusal(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Lines(errors) => {
            let l = Locale::default();
            let details = errors
                .iter()
                .map(|e| crate::web::api::ErrorDetail {
                    file: e.file.clone(),
                    line: e.line,
                    message: show(&l, &e.note),
                })
                .collect();
            crate::web::api::error_response(&AppError::bad("import-refused-api", "import refused"), details)
        }
        Refusal::Other(e) => ApiError(e).into_response(),
    }
}

/// Checks ONDE files (multipart: `files`, one or more; `year`) and previews the import.
#[utoipa::path(post, path = "/api/v1/imports/onde", tag = "import",
    request_body(content_type = "multipart/form-data", description = "`files` (CSV, repeatable) and `year` (2026-2027)"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn api_preview(
    state: AppState,
    ApiUser(user): ApiUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    // The director's, before the files are read.
    if let Err(e) = crate::school::permissions::director(&user) {
        return ApiError(e).into_response();
    }
    let upload = match read_upload(multipart).await {
        Ok(u) => u,
        Err(e) => return ApiError(e).into_response(),
    };
    match preview_upload(&state, &user, upload).await {
        Ok(p) => Json(report(p.year, &p.summary, p.token)).into_response(),
        Err(refusal) => api_refusal(refusal),
    }
}

/// Applies a previewed import.
#[utoipa::path(post, path = "/api/v1/imports/onde/{token}/apply", tag = "import", params(("token" = String, Path, description = "From the preview")),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn api_apply(state: AppState, ApiUser(user): ApiUser, Path(token): Path<String>) -> Response {
    match apply_pending(&state, &user, &token).await {
        Ok((year, summary)) => Json(report(year, &summary, None)).into_response(),
        Err(refusal) => api_refusal(refusal),
    }
}

/// ONDE imports: preview, then apply.
pub const SERVICE: Service = Service {
    name: "onde",
    pages: routes,
    api: api_routes,
    tags: &[("import", "ONDE imports")],
    parts: |parts| parts.insert(Pending::default()),
    home: |h| Box::pin(home_tiles(h)),
    served_by: ServedBy::School,
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let tiles = (h.member.profile == Profile::Director)
        .then(|| Tile::new(Place::Admin, "/admin/import", "import", h.l().t("tile-import")));
    Ok(HomePart { tiles: tiles.into_iter().collect(), panel: None })
}
