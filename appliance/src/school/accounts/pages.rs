//! The login and password pages: HTML forms over the functions of [`super`].

use askama::Template;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{
    change_password, devices, find_pupil, picture_login, pupil_login_allowed, qr_holder, require_lan, secrets,
};
use crate::platform::error::AppError;
use crate::school::directory::{ClassId, Member};
use crate::web::Routes;
use crate::web::session::{CsrfForm, Empty};
use crate::web::{AppState, Chrome, Ctx, SignedIn, render, render_status};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/login", login_page)
        .post("/login", login)
        .post("/logout", logout)
        .get("/password", password_page)
        .post("/password", password)
        .get("/classes/{class}/login", class_login_page)
        .get("/classes/{class}/login/{pupil}", pictures_page)
        .post("/classes/{class}/login/{pupil}", pictures)
        .get("/qr/{secret}", qr_page)
        .post("/qr", qr_login)
}

// ---- password login ----

#[derive(Template)]
#[template(path = "school/login.html")]
struct LoginPage {
    c: Chrome,
    /// On the hub, the school chosen (`school::portal`), which the page names.
    school: Option<String>,
    login: String,
    error: Option<String>,
    classes: Vec<(String, String)>,
}

async fn login_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    // Signed in; or on the hub, no school chosen yet (its front door first).
    if ctx.signed_in.is_some() || state.directory().school.is_none() {
        return Ok(Redirect::to("/").into_response());
    }
    login_form(&state, &ctx, String::new(), None)
}

fn login_form(state: &AppState, ctx: &Ctx, login: String, error: Option<&AppError>) -> Result<Response, AppError> {
    let dir = state.directory();
    // Only the classes this browser is a tablet of: anyone else's device learns no pupil.
    let tablet =
        if pupil_login_allowed(state, ctx.client_ip) { devices::tablet_classes(state, ctx)? } else { Vec::new() };
    let classes = dir
        .current_classes()
        .iter()
        .filter(|c| tablet.contains(&c.id))
        .map(|c| (c.id.to_string(), c.class.name.clone()))
        .collect();
    let school = state.one_of_several().and(dir.school.as_ref()).map(|s| s.info.name.clone());
    let page =
        LoginPage { c: Chrome::new(ctx), school, login, error: error.map(|e| ctx.locale.t(e.message_id())), classes };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<LoginForm>) -> Result<Response, AppError> {
    match super::password_login(&state, &ctx, &form.login, &form.password).await {
        Ok((member, must_change)) => {
            let mut response =
                sign_in_response(&state, &ctx, &member, must_change, if must_change { "/password" } else { "/" });
            remember_device(&state, &ctx, &member.id, &mut response);
            Ok(response)
        }
        Err(e @ (AppError::LoginFailed { .. } | AppError::TooManyAttempts { .. })) => {
            tracing::info!(error = %e, "login refused");
            login_form(&state, &ctx, form.login, Some(&e))
        }
        Err(e) => Err(e),
    }
}

/// Remembers this browser as one the account knows (after a password is proven).
fn remember_device(state: &AppState, ctx: &Ctx, user: &crate::school::directory::UserId, response: &mut Response) {
    let hash = state.directory().credentials.get(user).map(|c| c.password_hash.clone()).unwrap_or_default();
    if let Some(cookie) = devices::remember(state, ctx, user, &hash) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Starts a session for `member` under a new sid (never the pre-login one) and redirects.
pub fn sign_in_response(
    state: &AppState,
    ctx: &Ctx,
    member: &Member,
    must_change_password: bool,
    to: &str,
) -> Response {
    signed_in_as(state, ctx, SignedIn::of(&state.directory(), member, must_change_password), to)
}

/// Ends this browser's session and opens `session` in its place, leading to `to`.
pub fn signed_in_as(state: &AppState, ctx: &Ctx, session: SignedIn, to: &str) -> Response {
    state.sessions.end(&ctx.sid);
    let sid = state.start_session(session);
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = state.sessions.cookie(sid).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn logout(state: AppState, ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> Response {
    state.sessions.end(&ctx.sid);
    let mut response = Redirect::to("/").into_response();
    // A new sid, so that the old CSRF token dies with the session.
    if let Ok(v) = state.sessions.cookie(hex::encode(crate::platform::random_bytes::<32>())).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

// ---- password change ----

#[derive(Template)]
#[template(path = "school/password.html")]
struct PasswordPage {
    c: Chrome,
    forced: bool,
    error: Option<String>,
    min_len: usize,
    /// « Votre compte a été réinitialisé le … par … », at the first login after a reset.
    reset_notice: Option<String>,
}

async fn password_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?;
    render(&PasswordPage {
        forced: user.must_change_password,
        reset_notice: super::reset_notice(&state, &ctx.locale, &user.user),
        c: Chrome::new(&ctx),
        error: None,
        min_len: secrets::MIN_PASSWORD_LEN,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    new: String,
    confirm: String,
}

async fn password(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<PasswordForm>) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    match change_password(&state, &ctx.sid, &user, &form.current, &form.new, &form.confirm).await {
        Ok(()) => {
            state.sessions.update(&ctx.sid, |s| s.must_change_password = false);
            let mut response = Redirect::to("/").into_response();
            remember_device(&state, &ctx, &user.user, &mut response);
            Ok(response)
        }
        Err(e @ AppError::BadRequest { .. }) => {
            let page = PasswordPage {
                forced: user.must_change_password,
                reset_notice: super::reset_notice(&state, &ctx.locale, &user.user),
                c: Chrome::new(&ctx),
                error: Some(ctx.locale.t(e.message_id())),
                min_len: secrets::MIN_PASSWORD_LEN,
            };
            render_status(&page, e.status())
        }
        Err(e) => Err(e),
    }
}

// ---- pupils: picture and QR-card logins ----

/// A pupil as the login pages show them: first name and avatar colour.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PupilTile {
    /// User id.
    pub id: String,
    /// First name (disambiguated when two pupils share it).
    pub name: String,
    /// The avatar's letter.
    pub initial: String,
    /// One of 8 avatar colours, stable per pupil.
    pub colour: usize,
}

impl PupilTile {
    fn new(m: &Member, shown_name: String) -> Self {
        Self {
            id: m.id.to_string(),
            initial: m.person.first_name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default(),
            colour: m.id.as_str().bytes().fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize)) % 8,
            name: shown_name,
        }
    }

    /// A tile with the first name only.
    pub fn of(m: &Member) -> Self {
        Self::new(m, m.person.first_name.clone())
    }
}

/// Tiles for a class's pupils: first names, with the last name's initial when two share a
/// first name, and the whole last name when the initials collide too.
pub fn pupil_tiles(pupils: &[&Member]) -> Vec<PupilTile> {
    let initial = |m: &Member| m.person.last_name.chars().next().unwrap_or(' ');
    pupils
        .iter()
        .map(|m| {
            let p = &m.person;
            let namesakes: Vec<_> = pupils.iter().filter(|o| o.person.first_name == p.first_name).collect();
            let name = if namesakes.len() == 1 {
                p.first_name.clone()
            } else if namesakes.iter().filter(|o| initial(o) == initial(m)).count() == 1 {
                format!("{} {}.", p.first_name, initial(m))
            } else {
                format!("{} {}", p.first_name, p.last_name)
            };
            PupilTile::new(m, name)
        })
        .collect()
}

/// A class's pupils for its login page (on the class's tablets only).
pub fn class_login_tiles(
    state: &AppState,
    ctx: &Ctx,
    class: &str,
) -> Result<(crate::school::directory::Class, Vec<PupilTile>), AppError> {
    require_lan(state, ctx.client_ip)?;
    let class = ClassId::parse(class)?;
    devices::require_tablet(state, ctx, &class)?;
    let dir = state.directory();
    let class = dir.classes.get(&class).filter(|c| !c.class.archived).ok_or(AppError::NotFound)?;
    Ok((class.clone(), pupil_tiles(&dir.pupils_of(&class.id))))
}

#[derive(Template)]
#[template(path = "school/class_login.html")]
struct ClassLoginPage {
    c: Chrome,
    class_id: String,
    class_name: String,
    pupils: Vec<PupilTile>,
}

async fn class_login_page(state: AppState, ctx: Ctx, Path(class): Path<String>) -> Result<Response, AppError> {
    let (class, pupils) = class_login_tiles(&state, &ctx, &class)?;
    render(&ClassLoginPage {
        c: Chrome::new(&ctx),
        class_id: class.id.to_string(),
        class_name: class.class.name,
        pupils,
    })
}

#[derive(Template)]
#[template(path = "school/pictures.html")]
struct PicturesPage {
    c: Chrome,
    class_id: String,
    pupil: PupilTile,
    pictures: Vec<(&'static str, String)>,
    entered: String,
    progress: Vec<bool>,
    error: Option<String>,
}

fn pictures_form(
    ctx: &Ctx,
    class: &str,
    member: &Member,
    entered: &[String],
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let page = PicturesPage {
        c: Chrome::new(ctx),
        class_id: class.to_owned(),
        pupil: PupilTile::of(member),
        pictures: secrets::PICTURES.iter().map(|p| (*p, ctx.locale.t(&format!("picture-{p}")))).collect(),
        progress: (0..secrets::PICTURE_SECRET_LEN).map(|i| i < entered.len()).collect(),
        entered: entered.join(","),
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn pictures_page(
    state: AppState,
    ctx: Ctx,
    Path((class, pupil)): Path<(String, String)>,
) -> Result<Response, AppError> {
    require_lan(&state, ctx.client_ip)?;
    devices::require_tablet(&state, &ctx, &ClassId::parse(&class)?)?;
    let dir = state.directory();
    let (member, _) = find_pupil(&dir, &class, &pupil)?;
    pictures_form(&ctx, &class, member, &[], None)
}

#[derive(Deserialize)]
struct PictureForm {
    #[serde(default)]
    entered: String,
    #[serde(default)]
    add: String,
}

/// One tap: pictures accumulate in the form (so the page works without JavaScript) until
/// the sequence is complete, then it is checked.
async fn pictures(
    state: AppState,
    ctx: Ctx,
    Path((class, pupil)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<PictureForm>,
) -> Result<Response, AppError> {
    require_lan(&state, ctx.client_ip)?;
    devices::require_tablet(&state, &ctx, &ClassId::parse(&class)?)?;
    let dir = state.directory();
    let (member, _) = find_pupil(&dir, &class, &pupil)?;
    let mut entered: Vec<String> =
        form.entered.split(',').filter(|p| secrets::PICTURES.contains(p)).map(Into::into).collect();
    if form.add == "erase" {
        return pictures_form(&ctx, &class, member, &[], None);
    }
    if !secrets::PICTURES.contains(&form.add.as_str()) {
        return Err(AppError::bad("error-bad-form", format!("unknown picture {:?}", form.add)));
    }
    entered.truncate(secrets::PICTURE_SECRET_LEN - 1);
    entered.push(form.add);
    if entered.len() < secrets::PICTURE_SECRET_LEN {
        return pictures_form(&ctx, &class, member, &entered, None);
    }
    match picture_login(&state, &ctx, &class, &pupil, &entered) {
        Ok(member) => Ok(sign_in_response(&state, &ctx, &member, false, "/")),
        Err(e @ (AppError::LoginFailed { .. } | AppError::TooManyAttempts { .. })) => {
            tracing::info!(error = %e, "picture login refused");
            pictures_form(&ctx, &class, member, &[], Some(&e))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "school/qr.html")]
struct QrPage {
    c: Chrome,
    secret: String,
    pupil: PupilTile,
}

/// Scanning a card opens this page; the pupil confirms it is them (a link alone never
/// opens a session).
async fn qr_page(state: AppState, ctx: Ctx, Path(secret): Path<String>) -> Result<Response, AppError> {
    let member = qr_holder(&state, ctx.client_ip, &secret)?;
    render(&QrPage { c: Chrome::new(&ctx), secret, pupil: PupilTile::of(&member) })
}

#[derive(Deserialize)]
struct QrForm {
    secret: String,
}

async fn qr_login(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<QrForm>) -> Result<Response, AppError> {
    let member = qr_holder(&state, ctx.client_ip, &form.secret)?;
    tracing::info!(user = %member.id, "QR card login");
    Ok(sign_in_response(&state, &ctx, &member, false, "/"))
}
