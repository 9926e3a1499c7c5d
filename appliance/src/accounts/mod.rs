//! Accounts: password and activation-code login, the forced password change, the picture
//! and QR-card logins of young pupils, logout, and credential changes.

pub mod secrets;

use std::net::IpAddr;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use preau_sync::kinds::Credentials;
use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::Person;
use serde::Deserialize;

use crate::config::PupilLoginFrom;
use crate::directory::{ClassId, Member, Profile, UserId, credentials_address, slug};
use crate::error::AppError;
use crate::ratelimit::{self, account_key, address_key};
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, SignedIn, render};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/password", get(password_page).post(change_password))
        .route("/classes/{class}/login", get(class_login_page))
        .route("/classes/{class}/login/{pupil}", get(pictures_page).post(pictures_login))
        .route("/qr/{secret}", get(qr_page))
        .route("/qr", axum::routing::post(qr_login))
}

// ---- password login ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    login: String,
    error: Option<String>,
    classes: Vec<(String, String)>,
}

async fn login_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if ctx.signed_in.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_form(&state, &ctx, String::new(), None, StatusCode::OK)
}

fn login_form(
    state: &AppState,
    ctx: &Ctx,
    login: String,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let dir = state.directory();
    let classes = if pupil_login_allowed(state, ctx.client_ip) {
        dir.current_classes().iter().map(|c| (c.id.to_string(), c.class.name.clone())).collect()
    } else {
        Vec::new()
    };
    let page = LoginPage { c: Chrome::new(ctx), login, error: error.map(|e| ctx.locale.t(e)), classes };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let addr = address_key(ctx.client_ip);
    let account = account_key(&form.login);
    if !state.limits.allowed(&addr, ratelimit::ADDRESS) || !state.limits.allowed(&account, ratelimit::ACCOUNT) {
        tracing::warn!(login = %form.login, client = %addr, "login refused: too many failures");
        return login_form(&state, &ctx, form.login, Some("login-too-many"), StatusCode::TOO_MANY_REQUESTS);
    }
    if form.login.len() > 200 || form.password.len() > secrets::MAX_PASSWORD_LEN * 4 {
        return login_form(&state, &ctx, String::new(), Some("login-failed"), StatusCode::UNAUTHORIZED);
    }
    let dir = state.directory();
    let found = dir.by_login(&form.login).and_then(|m| dir.credentials.get(&m.id).map(|c| (m.clone(), c.clone())));
    let password = form.password.clone();
    let outcome = tokio::task::spawn_blocking(move || match found {
        Some((member, cred)) if !cred.disabled => {
            if secrets::verify_password(&password, &cred.password_hash) {
                Some((member, cred.must_change_password))
            } else if secrets::code_matches(&password, &cred.activation_code) {
                Some((member, true))
            } else {
                None
            }
        }
        _ => {
            secrets::burn_verification();
            None
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    match outcome {
        Some((member, must_change)) => {
            state.limits.clear(&account);
            tracing::info!(user = %member.id, profile = member.profile.as_str(), "login");
            Ok(sign_in_response(&state, &ctx, &member, must_change, if must_change { "/password" } else { "/" }))
        }
        None => {
            state.limits.fail(&account);
            state.limits.fail(&addr);
            tracing::info!(login = %form.login, client = %addr, "login failed");
            login_form(&state, &ctx, form.login, Some("login-failed"), StatusCode::UNAUTHORIZED)
        }
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
    state.sessions.end(&ctx.sid);
    let sid = state.sessions.start(SignedIn::new(
        member.id.clone(),
        member.profile,
        member.full_name(),
        must_change_password,
    ));
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = state.sessions.cookie(sid).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, ctx: Ctx, CsrfForm(_): CsrfForm<Empty>) -> Response {
    state.sessions.end(&ctx.sid);
    let mut response = Redirect::to("/").into_response();
    // A new sid, so that the old CSRF token dies with the session.
    if let Ok(v) = state.sessions.cookie(hex::encode(crate::random_bytes::<32>())).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

// ---- password change ----

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    forced: bool,
    error: Option<String>,
    min_len: usize,
}

async fn password_page(ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?;
    render(&PasswordPage {
        forced: user.must_change_password,
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

async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let dir = state.directory();
    let cred = dir.credentials.get(&user.user).cloned().ok_or(AppError::NotFound)?;
    let refuse = |id: &str| -> Result<Response, AppError> {
        let page = PasswordPage {
            forced: user.must_change_password,
            c: Chrome::new(&ctx),
            error: Some(ctx.locale.t(id)),
            min_len: secrets::MIN_PASSWORD_LEN,
        };
        let mut r = render(&page)?;
        *r.status_mut() = StatusCode::BAD_REQUEST;
        Ok(r)
    };
    if !user.must_change_password {
        let (current, hash) = (form.current.clone(), cred.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&current, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if !ok {
            return refuse("password-current-wrong");
        }
    }
    if let Err(id) = secrets::check_new_password(&form.new, &form.confirm, &cred.login) {
        return refuse(id);
    }
    let new = form.new;
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&new))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    update_credential(&state, &user.user, move |c| {
        c.password_hash = hash;
        c.activation_code.clear();
        c.must_change_password = false;
    })
    .await?;
    state.sessions.update(&ctx.sid, |s| s.must_change_password = false);
    tracing::info!(user = %user.user, "password changed");
    Ok(Redirect::to("/").into_response())
}

/// A new account's credentials: a unique login and an activation code; pupils also get a
/// picture secret and a QR card.
pub fn new_credential(accounts: &Credentials, person: &Person, profile: Profile) -> Credential {
    let base = format!("{}.{}", slug(&person.first_name), slug(&person.last_name));
    let base = if base == "." { "compte".to_owned() } else { base };
    let taken = |l: &str| accounts.accounts.values().any(|c| c.login == l);
    let login = if taken(&base) {
        (2..).map(|n| format!("{base}{n}")).find(|l| !taken(l)).expect("an unbounded range finds a free login")
    } else {
        base
    };
    let pupil = profile == Profile::Pupil;
    Credential {
        login,
        activation_code: secrets::new_activation_code(),
        must_change_password: true,
        picture_secret: if pupil { secrets::new_picture_secret() } else { String::new() },
        qr_secret: if pupil { secrets::new_qr_secret() } else { String::new() },
        ..Credential::default()
    }
}

/// Changes one account's credentials in the replicated credentials document.
pub async fn update_credential(
    state: &AppState,
    user: &UserId,
    edit: impl FnOnce(&mut Credential) + Send + 'static,
) -> Result<(), AppError> {
    let uai = state.directory().uai().cloned().ok_or(AppError::NotFound)?;
    let user = user.clone();
    state
        .db
        .run(move |store| {
            store.change::<Credentials, _>(&credentials_address(&uai), |creds| {
                if let Some(c) = creds.accounts.get_mut(user.as_str()) {
                    edit(c);
                    Ok(())
                } else {
                    Err(AppError::NotFound)
                }
            })?
        })
        .await?;
    state.reload_directory().await?;
    Ok(())
}

// ---- pupils: picture and QR-card logins ----

/// Whether young pupils' logins are open to this client.
pub fn pupil_login_allowed(state: &AppState, ip: Option<IpAddr>) -> bool {
    match state.config.pupil_login_from {
        PupilLoginFrom::Anywhere => true,
        PupilLoginFrom::Lan => ip.is_some_and(is_lan),
    }
}

/// Loopback, private, link-local and unique-local addresses: the school's own network.
pub fn is_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_lan(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
        },
    }
}

fn require_lan(state: &AppState, ctx: &Ctx) -> Result<(), AppError> {
    if pupil_login_allowed(state, ctx.client_ip) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("pupil login from {:?} outside the LAN", ctx.client_ip)))
    }
}

/// A pupil as the login pages show them: first name and avatar colour.
pub struct PupilTile {
    /// Id.
    pub id: String,
    /// First name (and initial of the last name when two share a first name).
    pub name: String,
    /// The avatar's letter.
    pub initial: String,
    /// One of 8 avatar colours, stable per pupil.
    pub colour: usize,
}

impl PupilTile {
    /// `shown_name` is what the tile says (a first name, disambiguated when needed).
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

#[derive(Template)]
#[template(path = "class_login.html")]
struct ClassLoginPage {
    c: Chrome,
    class_id: String,
    class_name: String,
    pupils: Vec<PupilTile>,
}

async fn class_login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(class): Path<String>,
) -> Result<Response, AppError> {
    require_lan(&state, &ctx)?;
    let dir = state.directory();
    let class = dir.classes.get(&ClassId::parse(&class)?).filter(|c| !c.class.archived).ok_or(AppError::NotFound)?;
    let pupils = dir.pupils_of(&class.id);
    render(&ClassLoginPage {
        c: Chrome::new(&ctx),
        class_id: class.id.to_string(),
        class_name: class.class.name.clone(),
        pupils: pupil_tiles(&pupils),
    })
}

#[derive(Template)]
#[template(path = "pictures.html")]
struct PicturesPage {
    c: Chrome,
    class_id: String,
    pupil: PupilTile,
    pictures: Vec<(&'static str, String)>,
    entered: String,
    progress: Vec<bool>,
    error: Option<String>,
}

fn picture_choices(ctx: &Ctx) -> Vec<(&'static str, String)> {
    secrets::PICTURES.iter().map(|p| (*p, ctx.locale.t(&format!("picture-{p}")))).collect()
}

fn find_pupil<'d>(
    dir: &'d crate::directory::Directory,
    class: &str,
    pupil: &str,
) -> Result<(&'d Member, &'d Credential), AppError> {
    let class = ClassId::parse(class)?;
    let member = dir.member(&UserId::parse(pupil)?).ok_or(AppError::NotFound)?;
    if member.profile != Profile::Pupil || member.person.class_id != class.as_str() || member.person.archived {
        return Err(AppError::NotFound);
    }
    let cred = dir.credentials.get(&member.id).ok_or(AppError::NotFound)?;
    Ok((member, cred))
}

fn pictures_form(
    ctx: &Ctx,
    class: &str,
    member: &Member,
    entered: Vec<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = PicturesPage {
        c: Chrome::new(ctx),
        class_id: class.to_owned(),
        pupil: PupilTile::of(member),
        pictures: picture_choices(ctx),
        progress: (0..secrets::PICTURE_SECRET_LEN).map(|i| i < entered.len()).collect(),
        entered: entered.join(","),
        error: error.map(|e| ctx.locale.t(e)),
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

async fn pictures_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((class, pupil)): Path<(String, String)>,
) -> Result<Response, AppError> {
    require_lan(&state, &ctx)?;
    let dir = state.directory();
    let (member, _) = find_pupil(&dir, &class, &pupil)?;
    pictures_form(&ctx, &class, member, Vec::new(), None, StatusCode::OK)
}

#[derive(Deserialize)]
struct PictureForm {
    #[serde(default)]
    entered: String,
    #[serde(default)]
    add: String,
}

async fn pictures_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((class, pupil)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<PictureForm>,
) -> Result<Response, AppError> {
    require_lan(&state, &ctx)?;
    let dir = state.directory();
    let (member, cred) = find_pupil(&dir, &class, &pupil)?;
    let mut entered: Vec<String> =
        form.entered.split(',').filter(|p| secrets::PICTURES.contains(p)).map(Into::into).collect();
    if form.add == "erase" {
        entered.clear();
        return pictures_form(&ctx, &class, member, entered, None, StatusCode::OK);
    }
    if !secrets::PICTURES.contains(&form.add.as_str()) {
        return Err(AppError::bad("error-bad-form", format!("unknown picture {:?}", form.add)));
    }
    entered.truncate(secrets::PICTURE_SECRET_LEN - 1);
    entered.push(form.add);
    if entered.len() < secrets::PICTURE_SECRET_LEN {
        return pictures_form(&ctx, &class, member, entered, None, StatusCode::OK);
    }
    let key = format!("pictures:{}", member.id);
    let addr = address_key(ctx.client_ip);
    if !state.limits.allowed(&key, ratelimit::PICTURES) || !state.limits.allowed(&addr, ratelimit::ADDRESS) {
        tracing::warn!(user = %member.id, client = %addr, "picture login refused: too many failures");
        return pictures_form(
            &ctx,
            &class,
            member,
            Vec::new(),
            Some("pictures-too-many"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let ok = !cred.disabled
        && !cred.picture_secret.is_empty()
        && secrets::constant_eq(entered.join(",").as_bytes(), cred.picture_secret.as_bytes());
    if !ok {
        state.limits.fail(&key);
        state.limits.fail(&addr);
        tracing::info!(user = %member.id, client = %addr, "picture login failed");
        return pictures_form(&ctx, &class, member, Vec::new(), Some("pictures-wrong"), StatusCode::UNAUTHORIZED);
    }
    state.limits.clear(&key);
    tracing::info!(user = %member.id, "picture login");
    Ok(sign_in_response(&state, &ctx, member, false, "/"))
}

#[derive(Template)]
#[template(path = "qr.html")]
struct QrPage {
    c: Chrome,
    secret: String,
    pupil: PupilTile,
}

async fn qr_page(State(state): State<AppState>, ctx: Ctx, Path(secret): Path<String>) -> Result<Response, AppError> {
    require_lan(&state, &ctx)?;
    let addr = address_key(ctx.client_ip);
    if !state.limits.allowed(&addr, ratelimit::ADDRESS) {
        return Err(AppError::TooManyAttempts(addr));
    }
    let dir = state.directory();
    let Some(member) = dir.by_qr_secret(&secret).filter(|m| qr_usable(&dir, m)) else {
        state.limits.fail(&addr);
        return Err(AppError::bad("qr-unknown", "unknown or revoked QR card"));
    };
    render(&QrPage { c: Chrome::new(&ctx), secret, pupil: PupilTile::of(member) })
}

fn qr_usable(dir: &crate::directory::Directory, m: &Member) -> bool {
    !m.person.archived && dir.credentials.get(&m.id).is_some_and(|c| !c.disabled)
}

#[derive(Deserialize)]
struct QrForm {
    secret: String,
}

async fn qr_login(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<QrForm>,
) -> Result<Response, AppError> {
    require_lan(&state, &ctx)?;
    let addr = address_key(ctx.client_ip);
    if !state.limits.allowed(&addr, ratelimit::ADDRESS) {
        return Err(AppError::TooManyAttempts(addr));
    }
    let dir = state.directory();
    let Some(member) = dir.by_qr_secret(&form.secret).filter(|m| qr_usable(&dir, m)) else {
        state.limits.fail(&addr);
        return Err(AppError::bad("qr-unknown", "unknown or revoked QR card"));
    };
    tracing::info!(user = %member.id, "QR card login");
    Ok(sign_in_response(&state, &ctx, member, false, "/"))
}
