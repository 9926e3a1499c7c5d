//! A commune's page (its schools, its conventions), and a convention's (signing, ending,
//! activating schools, covering classes).

use askama::Template;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::Convention;
use preau_sync::{Insee, Uai};
use serde::Deserialize;

use super::super::communes::{self, CommuneForm};
use super::super::contributions::{self};
use super::super::conventions::{self, ConventionForm};
use super::super::{activates_schools, console, manages_communes, manages_conventions, reads_commune, require};
use crate::platform::error::AppError;
use crate::school::directory::Directory;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, render_status};

use super::home::home_view;
use super::{Outcome, after, field, fields, insee_of};

// ---- Communes ----

#[derive(Deserialize)]
pub(super) struct CommuneFields {
    #[serde(default)]
    insee: String,
    name: String,
    #[serde(default)]
    contacts: String,
}

impl From<CommuneFields> for CommuneForm {
    fn from(f: CommuneFields) -> Self {
        CommuneForm { insee: f.insee, name: f.name, contacts: f.contacts }
    }
}

pub(super) async fn commune_create(
    state: AppState,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<CommuneFields>,
) -> Result<Response, AppError> {
    let by = console(&state, &ctx)?;
    match communes::create(&state, &by, f.into()).await {
        Ok(insee) => Ok(Redirect::to(&format!("/console/communes/{insee}")).into_response()),
        Err(e) => after(&ctx, Err::<(), _>(e), "/console", |o| home_view(&state, &ctx, o)),
    }
}

/// A school of the commune, as its page lists it.
pub(super) struct SchoolRow {
    uai: String,
    name: String,
    synced: bool,
}

/// A convention, as lists show it.
pub(super) struct ConventionRow {
    id: String,
    title: String,
    status: String,
    starts_on: String,
    ends_on: String,
}

pub(super) fn convention_row(l: &crate::platform::i18n::Locale, id: &str, c: &Convention) -> ConventionRow {
    ConventionRow {
        id: id.to_owned(),
        title: c.title.clone(),
        status: l.t(&format!("console-status-{}", c.status)),
        starts_on: c.starts_on.clone(),
        ends_on: c.last_day().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "academy/commune.html")]
pub(super) struct CommunePage {
    c: Chrome,
    insee: String,
    name: String,
    contacts: String,
    schools: Vec<SchoolRow>,
    conventions: Vec<ConventionRow>,
    edit: bool,
    draft: bool,
    portal: bool,
    year: String,
    error: Option<String>,
}

pub(super) fn commune_view(state: &AppState, ctx: &Ctx, insee: &Insee, outcome: Outcome) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(reads_commune(&by, insee), "commune")?;
    let commune = super::super::commune(state, insee)?;
    let held: Vec<Uai> = state.db.read(|r| Ok(Directory::schools(r)?.into_iter().map(|s| s.uai).collect()))?;
    let schools = commune
        .schools
        .iter()
        .map(|(uai, s)| SchoolRow {
            uai: uai.clone(),
            name: s.name.clone(),
            synced: held.iter().any(|h| h.as_str() == uai),
        })
        .collect();
    let conventions = super::super::conventions_of(state, insee)?
        .iter()
        .map(|(id, c)| convention_row(&ctx.locale, id.as_str(), c))
        .collect();
    let page = CommunePage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        name: commune.name,
        contacts: commune.contacts,
        schools,
        conventions,
        edit: manages_communes(&by),
        draft: manages_conventions(&by),
        portal: super::super::portal::edits_portal(&by, insee),
        year: contributions::year_of(&crate::platform::clock::today()),
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn commune_page(state: AppState, ctx: Ctx, Path(insee): Path<String>) -> Result<Response, AppError> {
    commune_view(&state, &ctx, &insee_of(&insee)?, Outcome::default())
}

pub(super) async fn commune_edit(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<CommuneFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = communes::update(&state, &by, &insee, f.into()).await;
    after(&ctx, result, &format!("/console/communes/{insee}"), |o| commune_view(&state, &ctx, &insee, o))
}

#[derive(Deserialize)]
pub(super) struct SchoolFields {
    uai: String,
    #[serde(default)]
    name: String,
}

pub(super) async fn school_add(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    CsrfForm(f): CsrfForm<SchoolFields>,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = communes::add_school(&state, &by, &insee, &f.uai, &f.name).await;
    after(&ctx, result, &format!("/console/communes/{insee}"), |o| commune_view(&state, &ctx, &insee, o))
}

pub(super) async fn convention_create(
    state: AppState,
    ctx: Ctx,
    Path(insee): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let form = ConventionForm {
        title: field(&pairs, "title"),
        starts_on: field(&pairs, "starts_on"),
        ends_on: field(&pairs, "ends_on"),
        schools: fields(&pairs, "school"),
    };
    match conventions::create(&state, &by, &insee, form).await {
        Ok(id) => Ok(Redirect::to(&format!("/console/communes/{insee}/conventions/{id}")).into_response()),
        Err(e) => after(&ctx, Err::<(), _>(e), "", |o| commune_view(&state, &ctx, &insee, o)),
    }
}

// ---- A convention ----

/// A school a convention names, with its classes as the hub holds them.
pub(super) struct NamedSchool {
    uai: String,
    name: String,
    activated_on: String,
    synced: bool,
    /// (class id, name, covered now, covered until a past day)
    classes: Vec<(String, String, bool, String)>,
}

#[derive(Template)]
#[template(path = "academy/convention.html")]
pub(super) struct ConventionPage {
    c: Chrome,
    insee: String,
    commune: String,
    id: String,
    row: ConventionRow,
    signed_on: String,
    draft: bool,
    signed: bool,
    manage: bool,
    activate: bool,
    schools: Vec<NamedSchool>,
    today: String,
    code: Option<String>,
    error: Option<String>,
}

pub(super) fn convention_view(
    state: &AppState,
    ctx: &Ctx,
    insee: &Insee,
    id: &str,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let by = console(state, ctx)?;
    require(reads_commune(&by, insee), "convention")?;
    let commune = super::super::commune(state, insee)?;
    let (id, convention) = conventions::find(state, insee, id)?;
    let today = crate::platform::clock::today();
    let mut schools = Vec::new();
    for (uai, named) in &convention.schools {
        let Ok(uai_id) = Uai::parse(uai) else { continue };
        let dir = state.db.read(|r| Directory::load_school(r, &uai_id))?;
        let covered_now = |class: &str| convention.covers(uai, class, &today);
        let mut classes: Vec<(String, String, bool, String)> = dir
            .current_classes()
            .into_iter()
            .map(|c| {
                let id = c.id.to_string();
                let until = named.classes.get(&id).map(|k| k.until.clone()).unwrap_or_default();
                (id.clone(), c.class.name.clone(), covered_now(&id), until)
            })
            .collect();
        classes.sort_by(|a, b| a.1.cmp(&b.1));
        schools.push(NamedSchool {
            uai: uai.clone(),
            name: commune.schools.get(uai).map(|s| s.name.clone()).unwrap_or_default(),
            activated_on: named.activated_on.clone(),
            synced: dir.school.is_some(),
            classes,
        });
    }
    let page = ConventionPage {
        c: Chrome::new(ctx),
        insee: insee.to_string(),
        commune: commune.name,
        id: id.to_string(),
        row: convention_row(&ctx.locale, id.as_str(), &convention),
        signed_on: convention.signed_on.clone(),
        draft: convention.status == "draft",
        signed: convention.status == "signed",
        manage: manages_conventions(&by),
        activate: activates_schools(&by) && convention.status == "signed",
        schools,
        today,
        code: outcome.code,
        error: outcome.error,
    };
    render_status(&page, outcome.status.unwrap_or(StatusCode::OK))
}

pub(super) async fn convention_page(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    convention_view(&state, &ctx, &insee_of(&insee)?, &id, Outcome::default())
}

#[derive(Deserialize)]
pub(super) struct DayForm {
    day: String,
}

pub(super) async fn convention_sign(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DayForm>,
) -> Result<Response, AppError> {
    convention_step(state, ctx, insee, id, f, true).await
}

pub(super) async fn convention_end(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DayForm>,
) -> Result<Response, AppError> {
    convention_step(state, ctx, insee, id, f, false).await
}

/// Signs a convention, or ends it, on the form's day.
pub(super) async fn convention_step(
    state: AppState,
    ctx: Ctx,
    insee: String,
    id: String,
    f: DayForm,
    sign: bool,
) -> Result<Response, AppError> {
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let result = match sign {
        true => conventions::sign(&state, &by, &insee, &id, &f.day).await,
        false => conventions::end(&state, &by, &insee, &id, &f.day).await,
    };
    let to = format!("/console/communes/{insee}/conventions/{id}");
    after(&ctx, result, &to, |o| convention_view(&state, &ctx, &insee, &id, o))
}

/// Activates a school (and shows its enrolment code once), or changes its covered classes.
pub(super) async fn convention_school(
    state: AppState,
    ctx: Ctx,
    Path((insee, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let (by, insee) = (console(&state, &ctx)?, insee_of(&insee)?);
    let (uai, classes) = (field(&pairs, "uai"), fields(&pairs, "class"));
    let to = format!("/console/communes/{insee}/conventions/{id}");
    if field(&pairs, "action") == "activate" {
        return match conventions::activate(&state, &by, &insee, &id, &uai, &classes).await {
            Ok(Some(code)) => {
                convention_view(&state, &ctx, &insee, &id, Outcome { code: Some(code), ..Outcome::default() })
            }
            Ok(None) => Ok(Redirect::to(&to).into_response()),
            Err(e) => after(&ctx, Err::<(), _>(e), &to, |o| convention_view(&state, &ctx, &insee, &id, o)),
        };
    }
    let result = conventions::cover(&state, &by, &insee, &id, &uai, &classes).await;
    after(&ctx, result, &to, |o| convention_view(&state, &ctx, &insee, &id, o))
}
