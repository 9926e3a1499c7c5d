//! Running the school's accounts: the director's overview, each class's roster for its
//! teachers, credential resets and QR cards, and the printable login letters.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::accounts::{new_credential, secrets, update_credential};
use crate::directory::{Class, ClassId, Directory, Member, Profile, UserId};
use crate::error::AppError;
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, SignedIn, render};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(accounts_page))
        .route("/admin/letters", get(letters_index))
        .route("/classes/{id}", get(class_page))
        .route("/accounts/{id}/reset", post(reset))
        .route("/accounts/{id}/qr", post(new_qr_card))
        .route("/accounts/{id}/qr/revoke", post(revoke_qr_card))
        .route("/letters/class/{id}/pupils", get(class_pupil_letters))
        .route("/letters/class/{id}/parents", get(class_parent_letters))
        .route("/letters/account/{id}", get(account_letter))
}

// ---- who may do what ----

fn director(ctx: &Ctx) -> Result<&SignedIn, AppError> {
    let user = ctx.user()?;
    if user.profile == Profile::Director { Ok(user) } else { Err(AppError::Forbidden("director only".into())) }
}

/// The director, or a teacher of this class.
pub fn manages_class(user: &SignedIn, class: &Class) -> bool {
    user.profile == Profile::Director
        || (user.profile == Profile::Teacher && class.class.teachers.iter().any(|t| t == user.user.as_str()))
}

/// Whose credentials `user` may reset and print: the director anyone's but their own
/// letter is not needed; a teacher the pupils of their classes and those pupils' parents.
pub fn manages_account(dir: &Directory, user: &SignedIn, target: &Member) -> bool {
    match user.profile {
        Profile::Director => target.profile != Profile::AcademyAdmin,
        Profile::Teacher => {
            let pupil_in_my_class = |p: &Member| dir.class_of(p).is_some_and(|c| manages_class(user, c));
            match target.profile {
                Profile::Pupil => pupil_in_my_class(target),
                Profile::Parent => dir.children_of(&target.id).into_iter().any(pupil_in_my_class),
                _ => false,
            }
        }
        _ => false,
    }
}

fn class_for(dir: &Directory, user: &SignedIn, id: &str) -> Result<Class, AppError> {
    let class = dir.classes.get(&ClassId::parse(id)?).ok_or(AppError::NotFound)?;
    if manages_class(user, class) { Ok(class.clone()) } else { Err(AppError::NotFound) }
}

fn account_for<'d>(dir: &'d Directory, user: &SignedIn, id: &str) -> Result<&'d Member, AppError> {
    let member = dir.member(&UserId::parse(id)?).ok_or(AppError::NotFound)?;
    if manages_account(dir, user, member) { Ok(member) } else { Err(AppError::NotFound) }
}

// ---- pages ----

/// One line of a roster.
pub struct AccountLine {
    /// Id.
    pub id: String,
    /// "Léa Moreau".
    pub name: String,
    /// Level, role or children.
    pub detail: String,
    /// Login name.
    pub login: String,
    /// Activated (has chosen a password) or still waiting on its letter.
    pub activated: bool,
    /// Pupils: has a QR card.
    pub has_qr: bool,
    /// May the viewer reset it.
    pub manageable: bool,
}

fn line(dir: &Directory, user: &SignedIn, m: &Member, detail: String) -> AccountLine {
    let cred = dir.credentials.get(&m.id);
    AccountLine {
        id: m.id.to_string(),
        name: m.full_name(),
        detail,
        login: cred.map(|c| c.login.clone()).unwrap_or_default(),
        activated: cred.is_some_and(|c| !c.password_hash.is_empty()),
        has_qr: cred.is_some_and(|c| !c.qr_secret.is_empty()),
        manageable: manages_account(dir, user, m),
    }
}

#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    c: Chrome,
    class_id: String,
    title: String,
    pupils: Vec<AccountLine>,
    parents: Vec<AccountLine>,
}

async fn class_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let class = class_for(&dir, user, &id)?;
    let pupils = dir.pupils_of(&class.id);
    let mut parents: Vec<&Member> = pupils.iter().flat_map(|p| dir.guardians_of(&p.id)).map(|(m, _)| m).collect();
    parents
        .sort_by(|a, b| (&a.person.last_name, &a.person.first_name).cmp(&(&b.person.last_name, &b.person.first_name)));
    parents.dedup_by(|a, b| a.id == b.id);
    let page = ClassPage {
        c: Chrome::new(&ctx),
        class_id: class.id.to_string(),
        title: ctx.locale.ta("class-title", &[("class", &class.class.name), ("year", &class.class.school_year)]),
        pupils: pupils.iter().map(|p| line(&dir, user, p, p.person.level.clone())).collect(),
        parents: parents
            .iter()
            .map(|p| {
                let kids = dir.children_of(&p.id).iter().map(|c| c.person.first_name.clone()).collect::<Vec<_>>();
                line(&dir, user, p, kids.join(", "))
            })
            .collect(),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    classes: Vec<(String, String, usize, String)>,
    staff: Vec<AccountLine>,
    parents: usize,
    pupils: usize,
}

async fn accounts_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = director(&ctx)?;
    let dir = state.directory();
    let l = &ctx.locale;
    let classes = dir
        .current_classes()
        .iter()
        .map(|c| (c.id.to_string(), c.class.name.clone(), dir.pupils_of(&c.id).len(), c.class.levels.join(", ")))
        .collect();
    let mut staff: Vec<&Member> = dir.people.values().filter(|m| m.profile.is_staff() && !m.person.archived).collect();
    staff.sort_by(|a, b| a.person.last_name.cmp(&b.person.last_name));
    let role = |m: &Member| match m.profile {
        Profile::Director => l.t("profile-director"),
        Profile::Teacher => l.t("profile-teacher"),
        _ => {
            l.t(&format!("staff-role-{}", if m.person.staff_role.is_empty() { "other" } else { &m.person.staff_role }))
        }
    };
    let count = |p: Profile| dir.people.values().filter(|m| m.profile == p && !m.person.archived).count();
    render(&AccountsPage {
        classes,
        staff: staff.iter().map(|m| line(&dir, user, m, role(m))).collect(),
        parents: count(Profile::Parent),
        pupils: count(Profile::Pupil),
        c: Chrome::new(&ctx),
    })
}

#[derive(Template)]
#[template(path = "letters_index.html")]
struct LettersIndex {
    c: Chrome,
    classes: Vec<(String, String)>,
}

async fn letters_index(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    director(&ctx)?;
    let dir = state.directory();
    let classes = dir.current_classes().iter().map(|c| (c.id.to_string(), c.class.name.clone())).collect();
    render(&LettersIndex { c: Chrome::new(&ctx), classes })
}

// ---- credential changes ----

#[derive(Deserialize)]
struct Empty {}

async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let target = account_for(&dir, user, &id)?.clone();
    let pupil = target.profile == Profile::Pupil;
    update_credential(&state, &target.id, move |c| {
        c.password_hash.clear();
        c.activation_code = secrets::new_activation_code();
        c.must_change_password = true;
        if pupil {
            c.picture_secret = secrets::new_picture_secret();
        }
    })
    .await?;
    state.sessions.end_all_of(&target.id);
    state.limits.clear(&crate::ratelimit::account_key(
        &dir.credentials.get(&target.id).map(|c| c.login.clone()).unwrap_or_default(),
    ));
    state.limits.clear(&format!("pictures:{}", target.id));
    tracing::info!(by = %user.user, user = %target.id, "credentials reset");
    Ok(Redirect::to(&format!("/letters/account/{}", target.id)).into_response())
}

async fn new_qr_card(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    qr_card(state, ctx, id, true).await
}

async fn revoke_qr_card(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    qr_card(state, ctx, id, false).await
}

async fn qr_card(state: AppState, ctx: Ctx, id: String, reissue: bool) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let target = account_for(&dir, user, &id)?.clone();
    if target.profile != Profile::Pupil {
        return Err(AppError::bad("error-bad-request", "QR cards are for pupils"));
    }
    update_credential(&state, &target.id, move |c| {
        c.qr_secret = if reissue { secrets::new_qr_secret() } else { String::new() };
    })
    .await?;
    tracing::info!(by = %user.user, user = %target.id, reissue, "QR card revoked");
    let class = dir.class_of(&target).map(|c| c.id.to_string()).unwrap_or_default();
    let to = if reissue { format!("/letters/account/{}", target.id) } else { format!("/classes/{class}") };
    Ok(Redirect::to(&to).into_response())
}

// ---- letters ----

/// One printed page.
pub struct Letter {
    /// Heading name.
    pub name: String,
    /// Pupils: their class; parents: their children.
    pub detail: String,
    /// Login name.
    pub login: String,
    /// The activation code, while the account is not activated.
    pub activation_code: String,
    /// Pupils: the picture sequence (file, label).
    pub pictures: Vec<(String, String)>,
    /// Pupils: the QR card as inline SVG (generated here, never user text).
    pub qr_svg: String,
    /// Where to log in.
    pub url: String,
    /// Pupil letter (card, pictures) or parent letter.
    pub pupil: bool,
}

#[derive(Template)]
#[template(path = "letters.html")]
struct LettersPage {
    c: Chrome,
    school: String,
    letters: Vec<Letter>,
}

fn letter(state: &AppState, ctx: &Ctx, dir: &Directory, m: &Member) -> Letter {
    let cred = dir.credentials.get(&m.id).cloned().unwrap_or_default();
    let base = crate::web::base_url(state);
    let pupil = m.profile == Profile::Pupil;
    let detail = if pupil {
        dir.class_of(m).map(|c| c.class.name.clone()).unwrap_or_default()
    } else {
        dir.children_of(&m.id).iter().map(|c| c.full_name()).collect::<Vec<_>>().join(", ")
    };
    let qr_svg = if pupil && !cred.qr_secret.is_empty() {
        crate::qr::svg(&format!("{base}/qr/{}", cred.qr_secret))
    } else {
        String::new()
    };
    Letter {
        name: m.full_name(),
        detail,
        login: cred.login,
        activation_code: cred.activation_code,
        pictures: cred
            .picture_secret
            .split(',')
            .filter(|p| secrets::PICTURES.contains(p))
            .map(|p| (p.to_owned(), ctx.locale.t(&format!("picture-{p}"))))
            .collect(),
        qr_svg,
        url: base,
        pupil,
    }
}

fn letters_page(state: &AppState, ctx: &Ctx, dir: &Directory, people: &[&Member]) -> Result<Response, AppError> {
    let school = dir.school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    render(&LettersPage {
        c: Chrome::new(ctx),
        school,
        letters: people.iter().map(|m| letter(state, ctx, dir, m)).collect(),
    })
}

async fn class_pupil_letters(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let dir = state.directory();
    let class = class_for(&dir, ctx.user()?, &id)?;
    letters_page(&state, &ctx, &dir, &dir.pupils_of(&class.id))
}

async fn class_parent_letters(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let dir = state.directory();
    let class = class_for(&dir, ctx.user()?, &id)?;
    let mut parents: Vec<&Member> =
        dir.pupils_of(&class.id).iter().flat_map(|p| dir.guardians_of(&p.id)).map(|(m, _)| m).collect();
    parents
        .sort_by(|a, b| (&a.person.last_name, &a.person.first_name).cmp(&(&b.person.last_name, &b.person.first_name)));
    parents.dedup_by(|a, b| a.id == b.id);
    letters_page(&state, &ctx, &dir, &parents)
}

async fn account_letter(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let dir = state.directory();
    let member = account_for(&dir, ctx.user()?, &id)?;
    letters_page(&state, &ctx, &dir, &[member])
}

/// Creates an account in both documents (used by imports).
#[allow(dead_code)]
pub fn add_account(
    dir: &mut preau_sync::kinds::SchoolDirectory,
    creds: &mut preau_sync::kinds::Credentials,
    person: preau_sync::kinds::directory::Person,
    profile: Profile,
) -> UserId {
    let id = UserId::random();
    creds.accounts.insert(id.to_string(), new_credential(creds, &person, profile));
    dir.people.insert(id.to_string(), person);
    id
}
