//! Home pages: the school's public page (vitrine) for visitors, a home page per profile with
//! its services as large tiles, a parent's children, the school team — as pages and in the
//! JSON API.

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::Partition;
use preau_sync::store::NewsFilter;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::school::accounts::{PupilTile, pupil_tiles};
use crate::school::directory::role_label;
use crate::school::directory::{Class, Directory, Profile, UserId};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiUser, ErrorBody};
use crate::web::service::{Home, HomePart, Place, Service, Services, Tile};
use crate::web::{AppState, Chrome, Ctx, SignedIn, kept, render};

pub(crate) fn routes() -> Routes {
    Routes::new().get("/", home).get("/child/{id}", child_home).get("/team", team)
}

fn teacher_names(dir: &Directory, class: &Class) -> Vec<String> {
    class
        .class
        .teachers
        .iter()
        .filter_map(|t| UserId::parse(t).ok())
        .filter_map(|t| dir.member(&t))
        .map(|t| format!("{} {}", t.person.civility, t.person.last_name).trim().to_owned())
        .collect()
}

// ---- the public page ----

/// A news post shown without login.
#[derive(Serialize, ToSchema)]
pub struct PublicPost {
    /// Title.
    pub title: String,
    /// Addresses of its photos.
    pub photos: Vec<String>,
    /// Text.
    pub body: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// What anyone may read about the school.
#[derive(Serialize, ToSchema)]
pub struct PublicSchool {
    /// UAI.
    pub uai: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postcode.
    pub postcode: String,
    /// Commune.
    pub commune: String,
    /// Académie.
    pub academy: String,
    /// News marked public, newest first (20 at most).
    pub news: Vec<PublicPost>,
}

/// The school's public information, news from the read model.
pub async fn public_school(state: &AppState) -> Result<PublicSchool, AppError> {
    let school = state.directory().school.clone().ok_or(AppError::NotFound)?;
    let partition = Partition::School(school.uai.clone());
    let posts = state.db.read(|store| Ok(store.news(&school.uai, &NewsFilter::Public(&partition), 20)?))?;
    Ok(PublicSchool {
        uai: school.uai.to_string(),
        name: school.info.name,
        address: school.info.address,
        postcode: school.info.postcode,
        commune: school.info.commune,
        academy: school.info.academy,
        news: posts
            .into_iter()
            .map(|p| PublicPost {
                photos: p.photos.iter().map(|f| format!("/news/{}/photos/{}", p.post_id, f.hash)).collect(),
                title: p.title,
                body: p.body,
                date: crate::platform::clock::date_of_ms(p.published_at),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "school/public.html")]
struct PublicPage {
    c: Chrome,
    school: PublicSchool,
}

impl PublicPage {
    fn shown_date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

// ---- homes ----

/// A class as its members see it.
#[derive(Serialize, ToSchema)]
pub struct ClassInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Levels.
    pub levels: Vec<String>,
    /// School year.
    pub school_year: String,
    /// Teachers ("Mme Le Bihan").
    pub teachers: Vec<String>,
}

fn class_info(dir: &Directory, class: &Class) -> ClassInfo {
    ClassInfo {
        id: class.id.to_string(),
        name: class.class.name.clone(),
        levels: class.class.levels.clone(),
        school_year: class.class.school_year.clone(),
        teachers: teacher_names(dir, class),
    }
}

/// A parent's child.
#[derive(Serialize, ToSchema)]
pub struct Child {
    /// Id.
    pub id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Level this year.
    pub level: String,
    /// Class.
    pub class: Option<ClassInfo>,
}

/// Who is signed in and what they belong to.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Id.
    pub id: String,
    /// Profile.
    pub profile: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Role label.
    pub role: String,
    /// Classes taught (staff) or attended (pupils).
    pub classes: Vec<ClassInfo>,
    /// Parents: their children.
    pub children: Vec<Child>,
}

fn me(dir: &Directory, l: &Locale, user: &SignedIn) -> Result<Me, AppError> {
    let m = dir.member(&user.user).ok_or(AppError::Unauthenticated)?;
    let classes = match m.profile {
        Profile::Pupil => dir.class_of(m).map(|c| class_info(dir, c)).into_iter().collect(),
        _ => dir.classes_taught_by(&m.id).into_iter().map(|c| class_info(dir, c)).collect(),
    };
    let children = dir
        .children_of(&m.id)
        .into_iter()
        .map(|c| Child {
            id: c.id.to_string(),
            first_name: c.person.first_name.clone(),
            last_name: c.person.last_name.clone(),
            level: c.person.level.clone(),
            class: dir.class_of(c).map(|k| class_info(dir, k)),
        })
        .collect();
    Ok(Me {
        id: m.id.to_string(),
        profile: m.profile.as_str().into(),
        first_name: m.person.first_name.clone(),
        last_name: m.person.last_name.clone(),
        role: role_label(l, m),
        classes,
        children,
    })
}

#[derive(Template)]
#[template(path = "school/home.html")]
struct HomePage {
    c: Chrome,
    greeting: String,
    subtitle: String,
    tiles: Vec<Tile>,
    avatar: Option<PupilTile>,
    children: Vec<(PupilTile, bool)>,
    child: Option<Child>,
    /// The services' panels (a pupil's work to do), rendered by the services.
    panels: Vec<String>,
}

async fn home(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let Some(user) = ctx.signed_in.clone() else {
        // The hub, before this browser chose a school: its front door.
        if state.directory().school.is_none() {
            return Ok(Redirect::to("/ecoles").into_response());
        }
        return render(&PublicPage { c: Chrome::new(&ctx), school: public_school(&state).await? });
    };
    let dir = state.directory();
    let first_child = dir.children_of(&user.user).first().map(|c| c.id.clone());
    let pupil = if user.profile == Profile::Pupil { Some(user.user.clone()) } else { first_child.clone() };
    render(&home_page(&state, &ctx, &dir, &user, first_child, pupil.as_ref(), "/").await?).map(kept)
}

async fn child_home(state: AppState, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let child = UserId::parse(&id)?;
    let dir = state.directory();
    if !dir.children_of(&user.user).iter().any(|c| c.id == child) {
        return Err(AppError::NotFound);
    }
    let back = format!("/child/{child}");
    render(&home_page(&state, &ctx, &dir, user, Some(child.clone()), Some(&child), &back).await?).map(kept)
}

/// A home page: the person, a parent's children, and what every service puts on it.
async fn home_page(
    state: &AppState,
    ctx: &Ctx,
    dir: &Directory,
    user: &SignedIn,
    selected: Option<UserId>,
    pupil: Option<&UserId>,
    back: &str,
) -> Result<HomePage, AppError> {
    let l = &ctx.locale;
    let me = me(dir, l, user)?;
    let member = dir.member(&user.user).ok_or(AppError::Unauthenticated)?;
    let chrome = Chrome::new(ctx);
    let taught = match member.profile {
        Profile::Director | Profile::Teacher => dir.classes_taught_by(&member.id),
        _ => Vec::new(),
    };
    let home = Home { state, chrome: &chrome, dir, user, member, classes: &taught, pupil, back };
    let (mut tiles, mut panels) = (Vec::new(), Vec::new());
    for service in &state.part::<Services>().0 {
        let part = (service.home)(&home).await?;
        tiles.extend(part.tiles);
        panels.extend(part.panel);
    }
    // Stable: within a place, the services' order.
    tiles.sort_by_key(|t| t.place);
    let subtitle = match (member.profile, me.classes.first()) {
        (Profile::Pupil, Some(class)) => {
            l.ta("pupil-class", &[("class", &class.name), ("teachers", &class.teachers.join(", "))])
        }
        _ => me.role.clone(),
    };
    let children = pupil_tiles(&dir.children_of(&member.id))
        .into_iter()
        .map(|t| {
            let chosen = selected.as_ref().is_some_and(|s| s.as_str() == t.id);
            (t, chosen)
        })
        .collect();
    Ok(HomePage {
        c: chrome,
        greeting: l.ta("home-hello", &[("name", &member.person.first_name)]),
        subtitle,
        tiles,
        avatar: (member.profile == Profile::Pupil).then(|| PupilTile::of(member)),
        children,
        child: me.children.into_iter().find(|c| selected.as_ref().is_some_and(|s| s.as_str() == c.id)),
        panels,
    })
}

// ---- the team ----

/// A staff member.
#[derive(Serialize, ToSchema)]
pub struct TeamMember {
    /// "Mme Claire Martin".
    pub name: String,
    /// Role.
    pub role: String,
    /// Classes taught.
    pub classes: Vec<String>,
}

fn team_of(dir: &Directory, l: &Locale, user: &SignedIn) -> Result<Vec<TeamMember>, AppError> {
    if !user.profile.is_staff() {
        return Err(AppError::NotFound);
    }
    let mut members: Vec<TeamMember> = dir
        .people
        .values()
        .filter(|m| m.profile.is_staff() && !m.person.archived)
        .map(|m| TeamMember {
            name: format!("{} {} {}", m.person.civility, m.person.first_name, m.person.last_name).trim().to_owned(),
            role: role_label(l, m),
            classes: dir.classes_taught_by(&m.id).iter().map(|c| c.class.name.clone()).collect(),
        })
        .collect();
    members.sort_by(|a, b| a.role.cmp(&b.role).then_with(|| a.name.cmp(&b.name)));
    Ok(members)
}

#[derive(Template)]
#[template(path = "school/team.html")]
struct TeamPage {
    c: Chrome,
    members: Vec<TeamMember>,
}

async fn team(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let members = team_of(&state.directory(), &ctx.locale, ctx.user()?)?;
    render(&TeamPage { c: Chrome::new(&ctx), members }).map(kept)
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_school)).routes(routes!(api_me)).routes(routes!(api_team))
}

/// The school's public information and public news (no login).
#[utoipa::path(get, path = "/api/v1/school", tag = "school", responses((status = 200, body = PublicSchool)))]
async fn api_school(state: AppState) -> Result<Json<PublicSchool>, ApiError> {
    Ok(Json(public_school(&state).await?))
}

/// Who is signed in: profile, classes, children.
#[utoipa::path(get, path = "/api/v1/me", tag = "school",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_me(state: AppState, ctx: Ctx, ApiUser(user): ApiUser) -> Result<Json<Me>, ApiError> {
    Ok(Json(me(&state.directory(), &ctx.locale, &user)?))
}

/// The school team (staff only).
#[utoipa::path(get, path = "/api/v1/team", tag = "school",
    responses((status = 200, body = Vec<TeamMember>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_team(state: AppState, ctx: Ctx, ApiUser(user): ApiUser) -> Result<Json<Vec<TeamMember>>, ApiError> {
    Ok(Json(team_of(&state.directory(), &ctx.locale, &user)?))
}

/// The public page, the home pages and the team.
pub const SERVICE: Service = Service {
    name: "home",
    pages: routes,
    api: api_routes,
    tags: &[("school", "The school, its classes and people")],
    home: |h| Box::pin(home_tiles(h)),
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let team = matches!(h.member.profile, Profile::Director | Profile::Teacher | Profile::Staff)
        .then(|| Tile::new(Place::School, "/team", "staffroom", h.l().t("tile-team")));
    Ok(HomePart { tiles: team.into_iter().collect(), panel: None })
}
