//! Running the school's accounts: the director's overview, each class's roster for its
//! teachers, credential resets and QR cards, and the printable login letters — as pages and
//! in the JSON API.

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::school::accounts::{self, audit, managed_account, manages_account, secrets};
use crate::school::directory::{Class, ClassId, Directory, Member, Profile};
use crate::school::permissions::{director, manages_class};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ApiUser, ErrorBody};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::{CsrfForm, Empty};
use crate::web::{AppState, Chrome, Ctx, SignedIn, render};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/admin/accounts", accounts_page)
        .get("/admin/letters", letters_index)
        .get("/admin/audit", audit_page)
        .get("/classes/{id}", class_page)
        .post("/accounts/{id}/reset", reset)
        .post("/accounts/{id}/qr", new_qr_card)
        .post("/accounts/{id}/qr/revoke", revoke_qr_card)
        .post("/accounts/{id}/unlock", unlock)
        .post("/classes/{id}/tablet", mark_tablet)
        .post("/classes/{id}/families", families_form)
        .post("/classes/{id}/tablets/remove", remove_tablets)
        .get("/letters/class/{id}/pupils", class_pupil_letters)
        .get("/letters/class/{id}/parents", class_parent_letters)
        .get("/letters/account/{id}", account_letter)
        .get("/admin/appliance", appliance_page)
        .get("/admin/appliance/label", appliance_label)
}

// ---- who may do what ----

fn managed_class(dir: &Directory, user: &SignedIn, id: &str) -> Result<Class, AppError> {
    let class = dir.classes.get(&ClassId::parse(id)?).ok_or(AppError::NotFound)?;
    if manages_class(user, class) { Ok(class.clone()) } else { Err(AppError::NotFound) }
}

// ---- rosters ----

/// One account in a roster.
#[derive(Clone, Serialize, ToSchema)]
pub struct AccountLine {
    /// User id.
    pub id: String,
    /// "Léa Moreau".
    pub name: String,
    /// `pupil`, `parent`, `teacher`, ...
    pub profile: String,
    /// Level, role or children.
    pub detail: String,
    /// Login name.
    pub login: String,
    /// Has chosen a password (else still waiting on its letter).
    pub activated: bool,
    /// Pupils: has a QR card.
    pub has_qr: bool,
    /// The caller may print its letter (and, for a pupil, change its QR card).
    pub manageable: bool,
    /// The caller may reset it: `yes`, `with-reason` (an activated adult account: the
    /// director, who writes why), `director-only` (activated: the teacher cannot) or `no`.
    pub reset: String,
    /// Pupils: locked after wrong pictures, until their teacher unlocks them.
    pub locked: bool,
}

fn line(dir: &Directory, user: &SignedIn, m: &Member, detail: String) -> AccountLine {
    let cred = dir.credentials.get(&m.id);
    AccountLine {
        id: m.id.to_string(),
        name: m.full_name(),
        profile: m.profile.as_str().into(),
        detail,
        login: cred.map(|c| c.login.clone()).unwrap_or_default(),
        activated: cred.is_some_and(|c| !c.password_hash.is_empty()),
        has_qr: cred.is_some_and(|c| !c.qr_secret.is_empty()),
        manageable: manages_account(dir, user, m),
        reset: match accounts::reset_rule(dir, user, m) {
            accounts::ResetRule::Allowed => "yes",
            accounts::ResetRule::WithReason => "with-reason",
            accounts::ResetRule::DirectorOnly => "director-only",
            accounts::ResetRule::Refused => "no",
        }
        .into(),
        locked: false,
    }
}

/// Marks the pupils who wait for their teacher after wrong pictures.
fn with_locks(state: &AppState, mut roster: Roster) -> Roster {
    for p in &mut roster.pupils {
        p.locked = crate::school::directory::UserId::parse(&p.id).is_ok_and(|id| accounts::pupil_locked(state, &id));
    }
    roster
}

/// A class's pupils and their parents.
#[derive(Serialize, ToSchema)]
pub struct Roster {
    /// Class id.
    pub class_id: String,
    /// Class name.
    pub name: String,
    /// School year.
    pub school_year: String,
    /// Pupils, by first name.
    pub pupils: Vec<AccountLine>,
    /// Their parents, by last name (none while the class is closed to families).
    pub parents: Vec<AccountLine>,
    /// The class is open to its families.
    pub families_open: bool,
}

fn parents_of_class<'d>(dir: &'d Directory, class: &Class) -> Vec<&'d Member> {
    let mut parents: Vec<&Member> =
        dir.pupils_of(&class.id).iter().flat_map(|p| dir.guardians_of(&p.id)).map(|(m, _)| m).collect();
    // The id in the key puts one person's entries next to each other, for dedup.
    parents.sort_by_key(|m| (m.person.last_name.clone(), m.person.first_name.clone(), m.id.clone()));
    parents.dedup_by(|a, b| a.id == b.id);
    parents
}

/// The roster of class `id`, for its teachers and the director.
pub fn roster(dir: &Directory, user: &SignedIn, id: &str) -> Result<Roster, AppError> {
    let class = managed_class(dir, user, id)?;
    let pupils = dir.pupils_of(&class.id);
    Ok(Roster {
        class_id: class.id.to_string(),
        pupils: pupils.iter().map(|p| line(dir, user, p, p.person.level.clone())).collect(),
        parents: parents_of_class(dir, &class)
            .iter()
            .map(|p| {
                let kids: Vec<String> =
                    dir.children_of_any(&p.id).iter().map(|c| c.person.first_name.clone()).collect();
                line(dir, user, p, kids.join(", "))
            })
            .collect(),
        families_open: class.class.families_open,
        name: class.class.name,
        school_year: class.class.school_year,
    })
}

/// Opens a class to its families, or closes it (the director, or a teacher of the class):
/// the académie's convention leaves it to the school. Closing ends the sessions of the
/// parents it leaves with no child on the ENT; they are refused at login until it opens.
pub async fn set_families_open(state: &AppState, by: &SignedIn, id: &str, open: bool) -> Result<(), AppError> {
    let class = managed_class(&state.directory(), by, id)?;
    let key = class.id.to_string();
    crate::school::structures::edit_directory(state, move |d, _| {
        if let Some(c) = d.classes.get_mut(&key) {
            c.families_open = open;
        }
        Ok(())
    })
    .await?;
    let dir = state.directory();
    for parent in dir.people.values().filter(|m| m.profile == Profile::Parent && !dir.on_the_ent(m)) {
        state.sessions.end_all_of(dir.uai(), &parent.id, None);
    }
    tracing::info!(class = %class.id, open, by = %by.user, "class opened to families");
    Ok(())
}

/// Every current account of the school (director only).
fn all_accounts(
    dir: &Directory,
    user: &SignedIn,
    l: &crate::platform::i18n::Locale,
) -> Result<Vec<AccountLine>, AppError> {
    director(user)?;
    let mut people: Vec<&Member> = dir.people.values().filter(|m| !m.person.archived).collect();
    people
        .sort_by(|a, b| (&a.person.last_name, &a.person.first_name).cmp(&(&b.person.last_name, &b.person.first_name)));
    Ok(people
        .iter()
        .map(|m| {
            let detail = match m.profile {
                Profile::Pupil => dir.class_of(m).map(|c| c.class.name.clone()).unwrap_or_default(),
                Profile::Parent => dir
                    .children_of_any(&m.id)
                    .iter()
                    .map(|c| c.person.first_name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => crate::school::directory::role_label(l, m),
            };
            line(dir, user, m, detail)
        })
        .collect())
}

// ---- letters ----

/// One login letter.
#[derive(Serialize, ToSchema)]
pub struct Letter {
    /// User id.
    pub id: String,
    /// Whose letter.
    pub name: String,
    /// Pupils: their class; parents: their children.
    pub detail: String,
    /// Login name.
    pub login: String,
    /// The activation code, while the account is not activated.
    pub activation_code: String,
    /// Pupils: the picture sequence.
    pub pictures: Vec<String>,
    /// Pupils: the address in the QR card (empty when revoked).
    pub qr_url: String,
    /// Where to log in at school.
    pub url: String,
    /// Where to log in away from school: the school's address on the académie's hub, once
    /// the school syncs with one (empty before).
    pub home_url: String,
    /// Pupil letter (card, pictures) or adult letter.
    pub pupil: bool,
    /// The QR card as inline SVG (pages only).
    #[serde(skip)]
    pub qr_svg: String,
    /// Pupils, once the school syncs with a hub: the card's code for home, which leads to
    /// the hub (`home_url/qr/…`), as inline SVG (pages only).
    #[serde(skip)]
    pub home_qr_svg: String,
    /// Picture labels in the reader's language (pages only).
    #[serde(skip)]
    pub picture_labels: Vec<(String, String)>,
}

/// `m`'s letter as `viewer` may print it: the activation code only if the viewer may also
/// reset the account (a teacher never reads the code of an account that is, or was, an
/// adult's own: the director's new code after a reset is the family's, not the class's).
fn letter(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    dir: &Directory,
    viewer: &SignedIn,
    m: &Member,
) -> Letter {
    let mut cred = dir.credentials.get(&m.id).cloned().unwrap_or_default();
    if accounts::reset_rule(dir, viewer, m) == accounts::ResetRule::DirectorOnly {
        cred.activation_code.clear();
    }
    let base = crate::web::base_url(state);
    let pupil = m.profile == Profile::Pupil;
    let detail = if pupil {
        dir.class_of(m).map(|c| c.class.name.clone()).unwrap_or_default()
    } else {
        dir.children_of(&m.id).iter().map(|c| c.full_name()).collect::<Vec<_>>().join(", ")
    };
    let qr_url =
        if pupil && !cred.qr_secret.is_empty() { format!("{base}/qr/{}", cred.qr_secret) } else { String::new() };
    let home_url = state
        .part::<Replication>()
        .links
        .hub()
        .zip(dir.uai())
        .map(|(hub, uai)| crate::school::portal::school_url(&hub.url, uai))
        .unwrap_or_default();
    let home_qr_svg = if qr_url.is_empty() || home_url.is_empty() {
        String::new()
    } else {
        crate::platform::qr::svg(&format!("{home_url}/qr/{}", cred.qr_secret))
    };
    let pictures: Vec<String> =
        cred.picture_secret.split(',').filter(|p| secrets::PICTURES.contains(p)).map(Into::into).collect();
    Letter {
        id: m.id.to_string(),
        name: m.full_name(),
        detail,
        login: cred.login,
        activation_code: cred.activation_code,
        picture_labels: pictures.iter().map(|p| (p.clone(), l.t(&format!("picture-{p}")))).collect(),
        pictures,
        qr_svg: if qr_url.is_empty() { String::new() } else { crate::platform::qr::svg(&qr_url) },
        qr_url,
        url: base,
        home_url,
        home_qr_svg,
        pupil,
    }
}

/// Which letters of a class.
#[derive(Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    /// One letter per pupil.
    Pupils,
    /// One letter per parent of the class's pupils.
    Parents,
}

fn class_letters(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    user: &SignedIn,
    id: &str,
    who: Who,
) -> Result<Vec<Letter>, AppError> {
    let dir = state.directory();
    let class = managed_class(&dir, user, id)?;
    if who == Who::Parents && !class.class.families_open {
        return Err(AppError::bad("letters-families-closed", format!("class {} is closed to families", class.id)));
    }
    let people = match who {
        Who::Pupils => dir.pupils_of(&class.id),
        // Only the parents whose account the caller manages: a parent with a child in
        // another class too is the director's.
        Who::Parents => parents_of_class(&dir, &class).into_iter().filter(|m| manages_account(&dir, user, m)).collect(),
    };
    audit::record(state, &user.user, people.iter().map(|m| &m.id), audit::Action::Letter, "")?;
    Ok(people.iter().map(|m| letter(state, l, &dir, user, m)).collect())
}

fn account_letter_of(
    state: &AppState,
    l: &crate::platform::i18n::Locale,
    user: &SignedIn,
    id: &str,
) -> Result<Letter, AppError> {
    let dir = state.directory();
    let member = managed_account(&dir, user, id)?;
    if !dir.on_the_ent(&member) {
        let message = if member.profile == Profile::Pupil { "letters-class-closed" } else { "letters-families-closed" };
        return Err(AppError::bad(message, format!("{} is not on the ENT yet", member.id)));
    }
    audit::record(state, &user.user, [&member.id], audit::Action::Letter, "")?;
    Ok(letter(state, l, &dir, user, &member))
}

// ---- pages ----

#[derive(Template)]
#[template(path = "school/class.html")]
struct ClassPage {
    c: Chrome,
    class_id: String,
    title: String,
    pupils: Vec<AccountLine>,
    parents: Vec<AccountLine>,
    /// This browser is one of the class's tablets.
    tablet_here: bool,
    /// How many tablets the class has.
    tablets: i64,
    /// The class is open to its families.
    families_open: bool,
}

async fn class_page(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let roster = with_locks(&state, roster(&state.directory(), ctx.user()?, &id)?);
    let class = ClassId::parse(&roster.class_id)?;
    render(&ClassPage {
        c: Chrome::new(&ctx),
        title: ctx.locale.ta("class-title", &[("class", &roster.name), ("year", &roster.school_year)]),
        tablet_here: accounts::devices::tablet_classes(&state, &ctx)?.contains(&class),
        tablets: state.part::<Replication>().links.tablet_count(class.as_str())?,
        class_id: roster.class_id,
        pupils: roster.pupils,
        parents: roster.parents,
        families_open: roster.families_open,
    })
}

#[derive(Deserialize)]
struct FamiliesForm {
    /// `1` to open, `0` to close.
    open: String,
}

async fn families_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<FamiliesForm>,
) -> Result<Response, AppError> {
    let open = match form.open.as_str() {
        "1" => true,
        "0" => false,
        other => return Err(AppError::bad("error-bad-form", format!("open={other:?}"))),
    };
    set_families_open(&state, ctx.user()?, &id, open).await?;
    Ok(Redirect::to(&format!("/classes/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "school/accounts.html")]
struct AccountsPage {
    c: Chrome,
    classes: Vec<(String, String, usize, String)>,
    staff: Vec<AccountLine>,
    parents: usize,
    pupils: usize,
}

async fn accounts_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let dir = state.directory();
    let lines = all_accounts(&dir, ctx.user()?, &ctx.locale)?;
    let classes = dir
        .current_classes()
        .iter()
        .map(|c| (c.id.to_string(), c.class.name.clone(), dir.pupils_of(&c.id).len(), c.class.levels.join(", ")))
        .collect();
    let count = |p: Profile| lines.iter().filter(|a| a.profile == p.as_str()).count();
    render(&AccountsPage {
        classes,
        parents: count(Profile::Parent),
        pupils: count(Profile::Pupil),
        staff: lines.iter().filter(|a| Profile::parse(&a.profile).is_some_and(Profile::is_staff)).cloned().collect(),
        c: Chrome::new(&ctx),
    })
}

/// One line of the account audit, as the director reads it.
#[derive(Serialize, ToSchema)]
pub struct AuditLine {
    /// When, in the reader's words.
    pub at: String,
    /// Who did it.
    pub by: String,
    /// Whose account.
    pub target: String,
    /// What, in the reader's words.
    pub action: String,
    /// The reason written for a reset, if any.
    pub reason: String,
}

/// The newest 500 lines of the account audit (the director).
pub fn audit_lines(
    state: &AppState,
    user: &SignedIn,
    l: &crate::platform::i18n::Locale,
) -> Result<Vec<AuditLine>, AppError> {
    director(user)?;
    let dir = state.directory();
    let name = |id: &str| {
        crate::school::directory::UserId::parse(id)
            .ok()
            .and_then(|u| dir.member(&u).map(Member::full_name))
            .unwrap_or_else(|| id.to_owned())
    };
    Ok(state
        .part::<Replication>()
        .links
        .audit_trail(crate::replication::links::Audit::Accounts, None, 500)?
        .into_iter()
        .map(|e| AuditLine {
            at: l.date_time(e.at),
            by: name(&e.by),
            target: name(&e.target),
            action: l.t(&format!("audit-{}", e.action)),
            reason: e.reason,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "school/audit.html")]
struct AuditPage {
    c: Chrome,
    lines: Vec<AuditLine>,
}

async fn audit_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let lines = audit_lines(&state, ctx.user()?, &ctx.locale)?;
    render(&AuditPage { c: Chrome::new(&ctx), lines })
}

#[derive(Template)]
#[template(path = "school/letters_index.html")]
struct LettersIndex {
    c: Chrome,
    classes: Vec<(String, String)>,
}

async fn letters_index(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    let dir = state.directory();
    let classes = dir.current_classes().iter().map(|c| (c.id.to_string(), c.class.name.clone())).collect();
    render(&LettersIndex { c: Chrome::new(&ctx), classes })
}

/// A reset: the reason is required for an activated adult account.
#[derive(Deserialize, Default, ToSchema)]
pub struct ResetRequest {
    /// Why (required to reset an account already activated: the director's written reason).
    #[serde(default)]
    #[schema(max_length = 300)]
    pub reason: String,
}

async fn reset(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ResetRequest>,
) -> Result<Response, AppError> {
    let target = accounts::reset(&state, ctx.user()?, &id, &form.reason).await?;
    Ok(Redirect::to(&format!("/letters/account/{}", target.id)).into_response())
}

async fn new_qr_card(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let target = accounts::qr_card(&state, ctx.user()?, &id, true).await?;
    Ok(Redirect::to(&format!("/letters/account/{}", target.id)).into_response())
}

async fn revoke_qr_card(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let target = accounts::qr_card(&state, ctx.user()?, &id, false).await?;
    let back =
        if target.person.class_id.is_empty() { "/".to_owned() } else { format!("/classes/{}", target.person.class_id) };
    Ok(Redirect::to(&back).into_response())
}

async fn unlock(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let pupil = accounts::unlock_pupil(&state, ctx.user()?, &id)?;
    Ok(Redirect::to(&format!("/classes/{}", pupil.person.class_id)).into_response())
}

/// Makes this browser a tablet of the class, ends the teacher's session on it and opens the
/// class's login page: the tablet is ready for the pupils.
async fn mark_tablet(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let class = managed_class(&state.directory(), user, &id)?;
    let token = accounts::devices::mark_tablet(&state, ctx.tablet.as_deref(), &class.id, &user.user)?;
    let cookie = accounts::devices::tablet_cookie(&state, token)?;
    state.sessions.end(&ctx.sid);
    let mut response = Redirect::to(&format!("/classes/{}/login", class.id)).into_response();
    response.headers_mut().append(axum::http::header::SET_COOKIE, cookie);
    response.headers_mut().append(axum::http::header::SET_COOKIE, accounts::devices::forget_known());
    Ok(response)
}

/// Withdraws every tablet of the class (one was lost or given away).
async fn remove_tablets(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let class = managed_class(&state.directory(), user, &id)?;
    let removed = state.part::<Replication>().links.remove_tablets(class.id.as_str())?;
    tracing::info!(class = %class.id, by = %user.user, removed, "class tablets withdrawn");
    Ok(Redirect::to(&format!("/classes/{}", class.id)).into_response())
}

#[derive(Template)]
#[template(path = "school/letters.html")]
struct LettersPage {
    c: Chrome,
    school: String,
    letters: Vec<Letter>,
}

fn letters_page(state: &AppState, ctx: &Ctx, letters: Vec<Letter>) -> Result<Response, AppError> {
    let school = state.directory().school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    render(&LettersPage { c: Chrome::new(ctx), school, letters })
}

async fn class_pupil_letters(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let letters = class_letters(&state, &ctx.locale, ctx.user()?, &id, Who::Pupils)?;
    letters_page(&state, &ctx, letters)
}

async fn class_parent_letters(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let letters = class_letters(&state, &ctx.locale, ctx.user()?, &id, Who::Parents)?;
    letters_page(&state, &ctx, letters)
}

async fn account_letter(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let letter = account_letter_of(&state, &ctx.locale, ctx.user()?, &id)?;
    letters_page(&state, &ctx, vec![letter])
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_accounts))
        .routes(routes!(api_roster))
        .routes(routes!(api_reset))
        .routes(routes!(api_new_qr, api_revoke_qr))
        .routes(routes!(api_unlock))
        .routes(routes!(api_audit))
        .routes(routes!(api_letter))
        .routes(routes!(api_class_letters))
}

/// Every current account of the school (director).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, body = Vec<AccountLine>), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_accounts(state: AppState, ctx: Ctx, ApiUser(user): ApiUser) -> Result<Json<Vec<AccountLine>>, ApiError> {
    Ok(Json(all_accounts(&state.directory(), &user, &ctx.locale)?))
}

/// A class's pupils and parents (its teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/roster", tag = "accounts", params(("id" = String, Path, description = "Class id")),
    responses((status = 200, body = Roster), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_roster(state: AppState, ApiUser(user): ApiUser, Path(id): Path<String>) -> Result<Json<Roster>, ApiError> {
    Ok(Json(with_locks(&state, roster(&state.directory(), &user, &id)?)))
}

/// The newest 500 lines of the account audit: resets, letters, QR cards, unlocks (director).
#[utoipa::path(get, path = "/api/v1/accounts/audit", tag = "accounts",
    responses((status = 200, body = Vec<AuditLine>), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_audit(state: AppState, ctx: Ctx, ApiUser(user): ApiUser) -> Result<Json<Vec<AuditLine>>, ApiError> {
    Ok(Json(audit_lines(&state, &user, &ctx.locale)?))
}

/// Lifts a pupil's lock after wrong pictures (their teachers and the director).
#[utoipa::path(post, path = "/api/v1/accounts/{id}/unlock", tag = "accounts", params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_unlock(state: AppState, ApiUser(user): ApiUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    accounts::unlock_pupil(&state, &user, &id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// New credentials for an account; returns its new letter. An account already activated
/// is the director's to reset, with a reason.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/reset", tag = "accounts", params(("id" = String, Path, description = "User id")),
    request_body(content = Option<ResetRequest>),
    responses((status = 200, body = Letter), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
async fn api_reset(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<Json<Letter>, ApiError> {
    let target = accounts::reset(&state, &user, &id, &body.reason).await?;
    Ok(Json(account_letter_of(&state, &ctx.locale, &user, target.id.as_str())?))
}

/// A new QR card for a pupil (the old one stops working); returns the new letter.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/qr", tag = "accounts", params(("id" = String, Path, description = "Pupil id")),
    responses((status = 200, body = Letter), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_new_qr(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Letter>, ApiError> {
    let target = accounts::qr_card(&state, &user, &id, true).await?;
    Ok(Json(account_letter_of(&state, &ctx.locale, &user, target.id.as_str())?))
}

/// Revokes a pupil's QR card.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}/qr", tag = "accounts", params(("id" = String, Path, description = "Pupil id")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_revoke_qr(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    accounts::qr_card(&state, &user, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's login letter.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/letter", tag = "accounts", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Letter), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_letter(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Letter>, ApiError> {
    Ok(Json(account_letter_of(&state, &ctx.locale, &user, &id)?))
}

/// A class's letters: `pupils` or `parents`.
#[utoipa::path(get, path = "/api/v1/classes/{id}/letters/{who}", tag = "accounts",
    params(("id" = String, Path, description = "Class id"), ("who" = inline(Who), Path, description = "pupils or parents")),
    responses((status = 200, body = Vec<Letter>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_class_letters(
    state: AppState,
    ctx: Ctx,
    ApiUser(user): ApiUser,
    Path((id, who)): Path<(String, String)>,
) -> Result<Json<Vec<Letter>>, ApiError> {
    let who = match who.as_str() {
        "pupils" => Who::Pupils,
        "parents" => Who::Parents,
        _ => return Err(AppError::NotFound.into()),
    };
    Ok(Json(class_letters(&state, &ctx.locale, &user, &id, who)?))
}

// ---- the appliance itself ----

/// Where the appliance can be reached, for the director's page and its printed label.
pub struct Whereabouts {
    /// The school's name.
    pub school: String,
    /// URLs on the school's network (the first is printed and encoded in the QR code).
    pub urls: Vec<String>,
    /// `preau.local`, when discovery is on.
    pub mdns_name: Option<String>,
    /// QR code of the first URL, inline SVG generated here.
    pub qr_svg: String,
}

fn whereabouts(state: &AppState) -> Whereabouts {
    let base = crate::web::base_url(state);
    let mut urls = vec![base.clone()];
    if let Some(bound) = state.bound() {
        urls.extend(crate::platform::net::lan_urls(bound).into_iter().filter(|u| *u != base));
    }
    let port = state.bound().map_or(state.config.listen.port(), |b| b.port());
    Whereabouts {
        school: state.directory().school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default(),
        mdns_name: state.config.discovery.then(|| format!("http://{}.local:{port}", state.config.hostname)),
        qr_svg: crate::platform::qr::svg(&base),
        urls,
    }
}

#[derive(Template)]
#[template(path = "school/appliance.html")]
struct AppliancePage {
    c: Chrome,
    w: Whereabouts,
}

async fn appliance_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    render(&AppliancePage { c: Chrome::new(&ctx), w: whereabouts(&state) })
}

#[derive(Template)]
#[template(path = "school/appliance_label.html")]
struct ApplianceLabel {
    c: Chrome,
    w: Whereabouts,
}

async fn appliance_label(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    render(&ApplianceLabel { c: Chrome::new(&ctx), w: whereabouts(&state) })
}

/// The director's pages (accounts, letters, the audit, the appliance) and the class pages.
pub const SERVICE: Service = Service {
    name: "admin",
    pages: routes,
    api: api_routes,
    home: |h| Box::pin(home_tiles(h)),
    served_by: ServedBy::School,
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let l = h.l();
    let mut tiles = Vec::new();
    if h.member.profile == Profile::Director {
        tiles.push(Tile::new(Place::Admin, "/admin/accounts", "directory", l.t("tile-accounts")));
        tiles.push(Tile::new(Place::Admin, "/admin/letters", "letters", l.t("tile-letters")));
        tiles.push(Tile::new(Place::Admin, "/admin/appliance", "qr", l.t("tile-appliance")));
    }
    for (i, class) in h.classes.iter().enumerate() {
        tiles.push(Tile::new(Place::Class(i), format!("/classes/{}", class.id), "classes", class.class.name.clone()));
    }
    Ok(HomePart { tiles, panel: None })
}
