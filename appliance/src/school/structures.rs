//! The school's structures, kept by the director: classes (possibly spanning several
//! levels) and their teachers, groups inside the school, and the team's accounts (teachers
//! and staff, who are not in ONDE) — as pages and in the JSON API.

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::directory::{Group, Person, SchoolClass};
use preau_sync::kinds::{Credentials, SchoolDirectory};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::school::accounts::new_credential;
use crate::school::directory::{ClassId, Profile, STAFF_ROLES, SchoolDocs, UserId};
use crate::school::onde::import::{LEVELS, is_school_year, school_year_of};
use crate::school::permissions::director;
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ApiUser, Created, ErrorBody};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, SignedIn, render_status};

/// A name people type: trimmed, 1–100 characters, no control characters.
fn name(value: &str, what: &'static str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(AppError::bad(what, format!("{what}: {value:?}")));
    }
    Ok(v.to_owned())
}

/// Runs `edit` on the school's directory (and credentials) as one change each.
pub async fn edit_directory<T: Send + 'static>(
    state: &AppState,
    edit: impl FnOnce(&mut SchoolDirectory, &mut Credentials) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let uai = state.uai()?;
    let result = state
        .db
        .run(move |store| SchoolDocs::edit(store, &uai, |d| edit(&mut d.directory, &mut d.credentials)))
        .await?;
    state.reload_directory().await?;
    Ok(result)
}

// ---- domain ----

/// A new teacher or staff member.
#[derive(Deserialize, ToSchema)]
pub struct NewMember {
    /// `teacher` or `staff`.
    pub profile: String,
    /// Staff: `atsem`, `aesh`, `periscolaire` or `commune`.
    #[serde(default)]
    pub staff_role: String,
    /// "Mme", "M." or empty.
    #[serde(default)]
    pub civility: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail address (optional).
    #[serde(default)]
    pub email: String,
}

/// Adds a teacher or a staff member; returns their id (their letter holds the activation code).
pub async fn add_member(state: &AppState, by: &SignedIn, new: NewMember) -> Result<UserId, AppError> {
    director(by)?;
    let profile = match new.profile.as_str() {
        "teacher" => Profile::Teacher,
        "staff" => Profile::Staff,
        _ => return Err(AppError::bad("structures-bad-profile", format!("profile {:?}", new.profile))),
    };
    if profile == Profile::Staff && !STAFF_ROLES.contains(&new.staff_role.as_str()) {
        return Err(AppError::bad("structures-bad-role", format!("staff role {:?}", new.staff_role)));
    }
    if !["", "Mme", "M."].contains(&new.civility.as_str()) {
        return Err(AppError::bad("structures-bad-civility", format!("civility {:?}", new.civility)));
    }
    let email = new.email.trim().to_owned();
    if email.len() > 200 || (!email.is_empty() && !email.contains('@')) {
        return Err(AppError::bad("structures-bad-email", format!("email {email:?}")));
    }
    let person = Person {
        profile: profile.as_str().into(),
        staff_role: if profile == Profile::Staff { new.staff_role } else { String::new() },
        civility: new.civility,
        first_name: name(&new.first_name, "structures-bad-name")?,
        last_name: name(&new.last_name, "structures-bad-name")?,
        email,
        ..Person::default()
    };
    let id = UserId::random();
    let key = id.to_string();
    edit_directory(state, move |dir, creds| {
        creds.accounts.insert(key.clone(), new_credential(creds, &person, profile));
        dir.people.insert(key, person);
        Ok(())
    })
    .await?;
    tracing::info!(by = %by.user, user = %id, profile = profile.as_str(), "team member added");
    Ok(id)
}

/// A new class.
#[derive(Deserialize, ToSchema)]
pub struct NewClass {
    /// Name ("CE1-CE2 B").
    pub name: String,
    /// Levels taught (`PS` … `CM2`).
    pub levels: Vec<String>,
    /// School year (default: the current one).
    #[serde(default)]
    pub school_year: String,
}

/// Creates a class; a name is unique within a school year.
pub async fn add_class(state: &AppState, by: &SignedIn, new: NewClass) -> Result<ClassId, AppError> {
    director(by)?;
    let class_name = name(&new.name, "structures-bad-class-name")?;
    let year =
        if new.school_year.is_empty() { school_year_of(&crate::platform::clock::today()) } else { new.school_year };
    if !is_school_year(&year) {
        return Err(AppError::bad("import-bad-year", format!("school year {year:?}")));
    }
    if new.levels.is_empty() || new.levels.iter().any(|l| !LEVELS.contains(&l.as_str())) {
        return Err(AppError::bad("structures-bad-levels", format!("levels {:?}", new.levels)));
    }
    let mut levels = new.levels;
    levels.sort_by_key(|l| LEVELS.iter().position(|x| x == l));
    levels.dedup();
    let id = ClassId::random();
    let key = id.to_string();
    edit_directory(state, move |dir, _| {
        if dir.classes.values().any(|c| c.school_year == year && c.name.eq_ignore_ascii_case(&class_name)) {
            return Err(AppError::bad("structures-class-exists", format!("class {class_name:?} exists")));
        }
        dir.classes.insert(key, SchoolClass { name: class_name, levels, school_year: year, ..SchoolClass::default() });
        Ok(())
    })
    .await?;
    Ok(id)
}

/// Sets a class's teachers (each must be a teacher or the director of the school).
pub async fn set_teachers(state: &AppState, by: &SignedIn, class: &str, teachers: Vec<String>) -> Result<(), AppError> {
    director(by)?;
    let class = ClassId::parse(class)?;
    let dir = state.directory();
    if !dir.classes.contains_key(&class) {
        return Err(AppError::NotFound);
    }
    let mut ids = Vec::new();
    for t in &teachers {
        let member = UserId::parse(t)
            .ok()
            .and_then(|id| dir.member(&id))
            .filter(|m| matches!(m.profile, Profile::Teacher | Profile::Director) && !m.person.archived);
        match member {
            Some(m) if !ids.contains(&m.id.to_string()) => ids.push(m.id.to_string()),
            Some(_) => {}
            None => return Err(AppError::bad("structures-bad-teacher", format!("teacher {t:?}"))),
        }
    }
    edit_directory(state, move |d, _| {
        let c = d.classes.get_mut(class.as_str()).ok_or(AppError::NotFound)?;
        c.teachers = ids;
        Ok(())
    })
    .await
}

/// Creates a group; returns its id.
pub async fn add_group(state: &AppState, by: &SignedIn, group_name: &str) -> Result<String, AppError> {
    director(by)?;
    let group_name = name(group_name, "structures-bad-group-name")?;
    let id = ClassId::random().to_string();
    let key = id.clone();
    edit_directory(state, move |d, _| {
        if d.groups.values().any(|g| g.name.eq_ignore_ascii_case(&group_name)) {
            return Err(AppError::bad("structures-group-exists", format!("group {group_name:?} exists")));
        }
        d.groups.insert(key, Group { name: group_name, members: vec![] });
        Ok(())
    })
    .await?;
    Ok(id)
}

/// Sets a group's members (any current person of the school).
pub async fn set_members(state: &AppState, by: &SignedIn, group: &str, members: Vec<String>) -> Result<(), AppError> {
    director(by)?;
    let group = ClassId::parse(group)?.to_string();
    let dir = state.directory();
    let mut ids: Vec<String> = Vec::new();
    for m in &members {
        match UserId::parse(m).ok().and_then(|id| dir.member(&id)).filter(|m| !m.person.archived) {
            Some(m) if !ids.contains(&m.id.to_string()) => ids.push(m.id.to_string()),
            Some(_) => {}
            None => return Err(AppError::bad("structures-bad-member", format!("member {m:?}"))),
        }
    }
    edit_directory(state, move |d, _| {
        d.groups.get_mut(&group).ok_or(AppError::NotFound)?.members = ids;
        Ok(())
    })
    .await
}

// ---- pages ----

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/admin/structures", page)
        .post("/admin/people", people_form)
        .post("/admin/classes", class_form)
        .post("/admin/classes/{id}/teachers", teacher_form)
        .post("/admin/groups", group_form)
        .post("/admin/groups/{id}/members", member_form)
}

/// A group as the page shows it.
pub struct GroupView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// (id, name) of members.
    pub members: Vec<(String, String)>,
}

/// A class with its teachers as the page shows it.
pub struct ClassView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Levels.
    pub levels: String,
    /// (id, name) of its teachers.
    pub teachers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "school/structures.html")]
struct StructuresPage {
    c: Chrome,
    error: Option<String>,
    classes: Vec<ClassView>,
    groups: Vec<GroupView>,
    teachers: Vec<(String, String)>,
    people: Vec<(String, String)>,
    levels: Vec<&'static str>,
    roles: Vec<(&'static str, String)>,
    year: String,
}

fn structures_page(state: &AppState, ctx: &Ctx, error: Option<&AppError>) -> Result<Response, AppError> {
    let dir = state.directory();
    let named =
        |id: &str| UserId::parse(id).ok().and_then(|i| dir.member(&i)).map(|m| (m.id.to_string(), m.full_name()));
    let mut teachers: Vec<(String, String)> = dir
        .people
        .values()
        .filter(|m| matches!(m.profile, Profile::Teacher | Profile::Director) && !m.person.archived)
        .map(|m| (m.id.to_string(), m.full_name()))
        .collect();
    teachers.sort_by(|a, b| a.1.cmp(&b.1));
    let mut people: Vec<(String, String)> = dir
        .people
        .values()
        .filter(|m| !m.person.archived)
        .map(|m| {
            (m.id.to_string(), format!("{} — {}", m.full_name(), crate::school::directory::role_label(&ctx.locale, m)))
        })
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let mut groups: Vec<GroupView> = Vec::new();
    for (id, group) in &dir.groups {
        groups.push(GroupView {
            id: id.clone(),
            name: group.name.clone(),
            members: group.members.iter().filter_map(|m| named(m)).collect(),
        });
    }
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let page = StructuresPage {
        c: Chrome::new(ctx),
        error: error.map(|e| ctx.locale.t(e.message_id())),
        classes: dir
            .current_classes()
            .iter()
            .map(|c| ClassView {
                id: c.id.to_string(),
                name: c.class.name.clone(),
                levels: c.class.levels.join(", "),
                teachers: c.class.teachers.iter().filter_map(|t| named(t)).collect(),
            })
            .collect(),
        groups,
        teachers,
        people,
        levels: LEVELS.to_vec(),
        roles: STAFF_ROLES.iter().map(|r| (*r, ctx.locale.t(&format!("staff-role-{r}")))).collect(),
        year: school_year_of(&crate::platform::clock::today()),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    director(ctx.user()?)?;
    structures_page(&state, &ctx, None)
}

/// Shows a refusal on the page (form errors), or passes other errors on.
fn after(state: &AppState, ctx: &Ctx, outcome: Result<String, AppError>) -> Result<Response, AppError> {
    match outcome {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e @ AppError::BadRequest { .. }) => structures_page(state, ctx, Some(&e)),
        Err(e) => Err(e),
    }
}

async fn people_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<NewMember>) -> Result<Response, AppError> {
    let outcome = add_member(&state, ctx.user()?, form).await.map(|id| format!("/letters/account/{id}"));
    after(&state, &ctx, outcome)
}

async fn class_form(state: AppState, ctx: Ctx, body: axum::body::Bytes) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let values = |k: &'static str| pairs.iter().filter(move |(n, _)| n == k).map(|(_, v)| v.clone());
    let new = NewClass {
        name: values("name").next().unwrap_or_default(),
        levels: values("levels").collect(),
        school_year: String::new(),
    };
    let outcome = add_class(&state, ctx.user()?, new).await.map(|_| "/admin/structures".to_owned());
    after(&state, &ctx, outcome)
}

#[derive(Deserialize)]
struct ChangeForm {
    /// The person to add or remove.
    who: String,
    /// `add` or `remove`.
    action: String,
}

async fn teacher_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let class = state.directory().classes.get(&ClassId::parse(&id)?).cloned().ok_or(AppError::NotFound)?;
    let teachers = changed(class.class.teachers, &form)?;
    let outcome = set_teachers(&state, user, &id, teachers).await.map(|()| "/admin/structures".to_owned());
    after(&state, &ctx, outcome)
}

#[derive(Deserialize)]
struct GroupForm {
    name: String,
}

async fn group_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<GroupForm>) -> Result<Response, AppError> {
    let outcome = add_group(&state, ctx.user()?, &form.name).await.map(|_| "/admin/structures".to_owned());
    after(&state, &ctx, outcome)
}

async fn member_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let group = state.directory().groups.get(&id).cloned().ok_or(AppError::NotFound)?;
    let members = changed(group.members, &form)?;
    let outcome = set_members(&state, user, &id, members).await.map(|()| "/admin/structures".to_owned());
    after(&state, &ctx, outcome)
}

fn changed(mut list: Vec<String>, form: &ChangeForm) -> Result<Vec<String>, AppError> {
    match form.action.as_str() {
        "add" => list.push(form.who.clone()),
        "remove" => list.retain(|m| *m != form.who),
        other => return Err(AppError::bad("error-bad-form", format!("action {other:?}"))),
    }
    Ok(list)
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_add_member))
        .routes(routes!(api_add_class))
        .routes(routes!(api_set_teachers))
        .routes(routes!(api_groups, api_add_group))
        .routes(routes!(api_set_members))
}

/// A list of user ids.
#[derive(Deserialize, ToSchema)]
pub struct UserIds {
    /// User ids.
    pub ids: Vec<String>,
}

/// A group's name.
#[derive(Deserialize, ToSchema)]
pub struct NewGroup {
    /// Name.
    pub name: String,
}

/// A group with its members.
#[derive(Serialize, ToSchema)]
pub struct GroupInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member user ids.
    pub members: Vec<String>,
}

/// Adds a teacher or staff member (director).
#[utoipa::path(post, path = "/api/v1/people", tag = "school", request_body = NewMember,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_add_member(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = add_member(&state, &user, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// Creates a class (director).
#[utoipa::path(post, path = "/api/v1/classes", tag = "school", request_body = NewClass,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_add_class(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewClass>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = add_class(&state, &user, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

/// Sets a class's teachers (director).
#[utoipa::path(put, path = "/api/v1/classes/{id}/teachers", tag = "school", params(("id" = String, Path, description = "Class id")), request_body = UserIds,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_set_teachers(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserIds>,
) -> Result<StatusCode, ApiError> {
    set_teachers(&state, &user, &id, body.ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The school's groups (director).
#[utoipa::path(get, path = "/api/v1/groups", tag = "school",
    responses((status = 200, body = Vec<GroupInfo>), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_groups(state: AppState, ApiUser(user): ApiUser) -> Result<Json<Vec<GroupInfo>>, ApiError> {
    director(&user)?;
    let dir = state.directory();
    Ok(Json(
        dir.groups
            .iter()
            .map(|(id, g)| GroupInfo { id: id.clone(), name: g.name.clone(), members: g.members.clone() })
            .collect(),
    ))
}

/// Creates a group (director).
#[utoipa::path(post, path = "/api/v1/groups", tag = "school", request_body = NewGroup,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_add_group(
    state: AppState,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = add_group(&state, &user, &body.name).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Sets a group's members (director).
#[utoipa::path(put, path = "/api/v1/groups/{id}/members", tag = "school", params(("id" = String, Path, description = "Group id")), request_body = UserIds,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_set_members(
    state: AppState,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserIds>,
) -> Result<StatusCode, ApiError> {
    set_members(&state, &user, &id, body.ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Classes, groups and people, by hand.
pub const SERVICE: Service = Service {
    name: "structures",
    pages: routes,
    api: api_routes,
    home: |h| Box::pin(home_tiles(h)),
    served_by: ServedBy::School,
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let tiles = (h.member.profile == Profile::Director)
        .then(|| Tile::new(Place::Admin, "/admin/structures", "school", h.l().t("tile-structures")));
    Ok(HomePart { tiles: tiles.into_iter().collect(), panel: None })
}
