//! Home pages: the school's public page (vitrine) for visitors, and a home page per profile
//! with its services as large tiles.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use preau_sync::Table;

use crate::accounts::{PupilTile, pupil_tiles};
use crate::directory::{Class, Directory, Member, Profile, UserId};
use crate::error::AppError;
use crate::web::{AppState, Chrome, Ctx, render};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(home)).route("/child/{id}", get(child_home)).route("/team", get(team))
}

/// A service tile.
pub struct Tile {
    /// Where it leads.
    pub href: String,
    /// Icon file under `/static/icons/`.
    pub icon: &'static str,
    /// Label.
    pub label: String,
}

impl Tile {
    fn new(href: impl Into<String>, icon: &'static str, label: String) -> Self {
        Self { href: href.into(), icon, label }
    }
}

/// A public news post.
pub struct PublicPost {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The date as readers write it.
    pub shown_date: String,
}

#[derive(Template)]
#[template(path = "public.html")]
struct PublicPage {
    c: Chrome,
    school_name: String,
    address: String,
    academy: String,
    posts: Vec<PublicPost>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    greeting: String,
    subtitle: String,
    tiles: Vec<Tile>,
    avatar: Option<PupilTile>,
    children: Vec<(PupilTile, bool)>,
    child_card: Option<ChildCard>,
}

/// What a parent sees about one child.
pub struct ChildCard {
    /// "Léa Moreau".
    pub name: String,
    /// "CP — Année 2026-2027".
    pub class: String,
    /// Teachers' names.
    pub teachers: String,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let dir = state.directory();
    let Some(user) = ctx.signed_in.clone() else { return public_page(&state, &ctx, &dir).await };
    let me = dir.member(&user.user).ok_or(AppError::Unauthenticated)?;
    if me.profile == Profile::Parent {
        let first = dir.children_of(&me.id).first().map(|c| c.id.clone());
        return parent_home(&ctx, &dir, me, first);
    }
    render(&home_page(&ctx, &dir, me))
}

async fn child_home(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let me = dir.member(&user.user).ok_or(AppError::Unauthenticated)?;
    let child = UserId::parse(&id)?;
    if me.profile != Profile::Parent || !dir.children_of(&me.id).iter().any(|c| c.id == child) {
        return Err(AppError::NotFound);
    }
    parent_home(&ctx, &dir, me, Some(child))
}

fn teacher_names(dir: &Directory, class: &Class) -> String {
    class
        .class
        .teachers
        .iter()
        .filter_map(|t| UserId::parse(t).ok())
        .filter_map(|t| dir.member(&t))
        .map(|t| format!("{} {}", t.person.civility, t.person.last_name).trim().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parent_home(ctx: &Ctx, dir: &Directory, me: &Member, selected: Option<UserId>) -> Result<Response, AppError> {
    let children = dir.children_of(&me.id);
    let tiles_children: Vec<(PupilTile, bool)> = pupil_tiles(&children)
        .into_iter()
        .map(|t| {
            let sel = selected.as_ref().is_some_and(|s| s.as_str() == t.id);
            (t, sel)
        })
        .collect();
    let card = selected.and_then(|id| dir.member(&id)).map(|child| {
        let class = dir.class_of(child);
        ChildCard {
            name: format!("{} {}", child.person.first_name, child.person.last_name),
            class: class.map_or_else(String::new, |c| {
                ctx.locale.ta("child-class", &[("class", &c.class.name), ("year", &c.class.school_year)])
            }),
            teachers: class.map(|c| teacher_names(dir, c)).unwrap_or_default(),
        }
    });
    let mut page = home_page(ctx, dir, me);
    page.children = tiles_children;
    page.child_card = card;
    render(&page)
}

fn home_page(ctx: &Ctx, dir: &Directory, me: &Member) -> HomePage {
    let l = &ctx.locale;
    let mut tiles = Vec::new();
    let mut subtitle = String::new();
    let mut avatar = None;
    match me.profile {
        Profile::Director => {
            tiles.push(Tile::new("/admin/accounts", "directory", l.t("tile-accounts")));
            tiles.push(Tile::new("/admin/import", "import", l.t("tile-import")));
            tiles.push(Tile::new("/admin/letters", "letters", l.t("tile-letters")));
            for class in dir.classes_taught_by(&me.id) {
                tiles.push(Tile::new(format!("/classes/{}", class.id), "classes", class.class.name.clone()));
            }
            tiles.push(Tile::new("/team", "staffroom", l.t("tile-team")));
            subtitle = l.t("profile-director");
        }
        Profile::Teacher => {
            for class in dir.classes_taught_by(&me.id) {
                tiles.push(Tile::new(format!("/classes/{}", class.id), "classes", class.class.name.clone()));
            }
            tiles.push(Tile::new("/team", "staffroom", l.t("tile-team")));
            subtitle = l.t("profile-teacher");
        }
        Profile::Staff => {
            tiles.push(Tile::new("/team", "staffroom", l.t("tile-team")));
            subtitle = l.t(&format!(
                "staff-role-{}",
                if me.person.staff_role.is_empty() { "other" } else { &me.person.staff_role }
            ));
        }
        Profile::Pupil => {
            if let Some(class) = dir.class_of(me) {
                subtitle = ctx
                    .locale
                    .ta("pupil-class", &[("class", &class.class.name), ("teachers", &teacher_names(dir, class))]);
            }
            avatar = pupil_tiles(&[me]).pop();
        }
        Profile::Parent => subtitle = l.t("profile-parent"),
        Profile::AcademyAdmin => subtitle = l.t("profile-academy-admin"),
    }
    let greeting = l.ta("home-hello", &[("name", &me.person.first_name)]);
    HomePage { c: Chrome::new(ctx), greeting, subtitle, tiles, avatar, children: Vec::new(), child_card: None }
}

async fn public_page(state: &AppState, ctx: &Ctx, dir: &Directory) -> Result<Response, AppError> {
    let school = dir.school.clone().ok_or(AppError::NotFound)?;
    let rows = state.db.run(|store| Ok(store.rows(Table::NewsPost)?)).await?;
    let columns = Table::NewsPost.columns();
    let col = |name: &str| columns.iter().position(|c| *c == name).expect("known column");
    let text = |cell: &preau_sync::Cell| match cell {
        preau_sync::Cell::Text(t) => t.clone(),
        preau_sync::Cell::Int(i) => i.to_string(),
    };
    let school_partition = preau_sync::Partition::School(school.uai.clone()).to_string();
    let mut posts: Vec<(i64, PublicPost)> = rows
        .iter()
        .filter(|r| r[col("public")] == preau_sync::Cell::Int(1) && text(&r[col("partition")]) == school_partition)
        .map(|r| {
            let at = match r[col("published_at")] {
                preau_sync::Cell::Int(ms) => ms,
                _ => 0,
            };
            (
                at,
                PublicPost {
                    title: text(&r[col("title")]),
                    body: text(&r[col("body")]),
                    date: crate::date_of_ms(at),
                    shown_date: ctx.locale.date(&crate::date_of_ms(at)),
                },
            )
        })
        .collect();
    posts.sort_by_key(|p| std::cmp::Reverse(p.0));
    render(&PublicPage {
        c: Chrome::new(ctx),
        school_name: school.info.name,
        address: format!("{}, {} {}", school.info.address, school.info.postcode, school.info.commune),
        academy: school.info.academy,
        posts: posts.into_iter().map(|(_, p)| p).take(20).collect(),
    })
}

/// A staff member as the team page lists them.
pub struct TeamMember {
    /// "Mme Claire Martin".
    pub name: String,
    /// Role label.
    pub role: String,
    /// Classes.
    pub classes: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    c: Chrome,
    members: Vec<TeamMember>,
}

async fn team(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if !user.profile.is_staff() {
        return Err(AppError::NotFound);
    }
    let dir = state.directory();
    let l = &ctx.locale;
    let mut members: Vec<TeamMember> = dir
        .people
        .values()
        .filter(|m| m.profile.is_staff() && !m.person.archived)
        .map(|m| TeamMember {
            name: format!("{} {} {}", m.person.civility, m.person.first_name, m.person.last_name).trim().to_owned(),
            role: match m.profile {
                Profile::Director => l.t("profile-director"),
                Profile::Teacher => l.t("profile-teacher"),
                _ => l.t(&format!(
                    "staff-role-{}",
                    if m.person.staff_role.is_empty() { "other" } else { &m.person.staff_role }
                )),
            },
            classes: dir.classes_taught_by(&m.id).iter().map(|c| c.class.name.clone()).collect::<Vec<_>>().join(", "),
        })
        .collect();
    members.sort_by(|a, b| a.role.cmp(&b.role).then_with(|| a.name.cmp(&b.name)));
    render(&TeamPage { c: Chrome::new(&ctx), members })
}
