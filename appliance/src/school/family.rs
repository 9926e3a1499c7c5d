//! One account for a family, on the hub: a parent whose children are in two schools (or who
//! has accounts at two schools) links them with « Ajouter un enfant d'une autre école »,
//! proving the other account with its password or its letter's activation code, as a login
//! would (and under the same throttles). Afterwards her home page shows every child, and
//! each child's pages open within that child's school, signed in as her account there.
//! Links are never guessed from names or e-mail addresses; either account can unlink; they
//! live on the hub alone (`links.db`'s `family_member`) and never reach a school.

use std::sync::Arc;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::Uai;
use serde::Deserialize;

use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::links::{Account, LinkRefused};
use crate::school::accounts::{password_login, signed_in_as};
use crate::school::directory::{Directory, Member, Profile, UserId};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::{AppState, Chrome, Ctx, Routes, SignedIn, render_status};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/family", family_page)
        .post("/family/link", link_form)
        .post("/family/unlink", unlink_form)
        .post("/family/switch", switch_form)
}

/// Who may link accounts: adults. A pupil's account is the pupil's own.
fn may_link(m: &Member) -> bool {
    matches!(m.profile, Profile::Parent | Profile::Teacher | Profile::Director | Profile::Staff)
}

fn account_of(by: &SignedIn) -> Result<Account, AppError> {
    let school = by.school.clone().ok_or(AppError::NotFound)?;
    Ok(Account { school, user: by.user.to_string() })
}

/// One account of a family, as its school's directory has it.
pub struct Linked {
    /// Its school.
    pub school: Uai,
    /// The school's name.
    pub school_name: String,
    /// The account's user id there.
    pub user: String,
    /// Its holder's name.
    pub name: String,
    /// Its children there: id, first and last name, class.
    pub children: Vec<(String, String, String)>,
    /// The signed-in account.
    pub me: bool,
}

/// A live account of a family: the account, its holder, its school's directory.
type Live = (Account, Member, Arc<Directory>);

/// The live accounts of `by`'s family (hers alone if it has none), each with its school's
/// directory. An account whose credentials changed since they proved the link (a new
/// password, a reset, a disabled account: `Directory::credential_mark`), or that its
/// school no longer has, leaves the family here: a link proven by a letter or a password
/// holds only while they do.
fn live_family(state: &AppState, by: &SignedIn) -> Result<Vec<Live>, AppError> {
    let me = account_of(by)?;
    let links = &state.part::<Replication>().links;
    let members = links.family(&me)?;
    let mut live = Vec::new();
    let mut dropped = false;
    for m in &members {
        // A school the hub no longer holds drops its accounts; a storage failure drops none.
        let dir = match state.within(&m.account.school) {
            Ok(school) => Some(school.directory()),
            Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let member = dir.as_ref().and_then(|d| {
            let id = UserId::parse(&m.account.user).ok()?;
            d.member(&id).filter(|x| !x.person.archived && may_link(x)).cloned()
        });
        match (dir, member) {
            (Some(dir), Some(member)) if dir.credential_mark(&member.id).0[..] == m.proof[..] => {
                live.push((m.account.clone(), member, dir));
            }
            _ => {
                tracing::info!(school = %m.account.school, user = %m.account.user, "family link no longer proven: unlinked");
                links.unlink(&m.account)?;
                dropped = true;
            }
        }
    }
    if dropped {
        state.db.changed_beside();
    }
    if !live.iter().any(|(a, _, _)| *a == me) {
        let dir = state.directory();
        let member = dir.member(&by.user).cloned().ok_or(AppError::Unauthenticated)?;
        return Ok(vec![(me, member, dir)]);
    }
    Ok(live)
}

/// The accounts of `by`'s family (hers first), each within its own school.
pub fn family(state: &AppState, by: &SignedIn) -> Result<Vec<Linked>, AppError> {
    let me = account_of(by)?;
    let mut out: Vec<Linked> = live_family(state, by)?
        .into_iter()
        .map(|(account, member, dir)| Linked {
            school_name: dir.school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default(),
            name: member.full_name(),
            children: dir
                .children_of(&member.id)
                .into_iter()
                .map(|c| {
                    let class = dir.class_of(c).map(|k| k.class.name.clone()).unwrap_or_default();
                    (c.id.to_string(), c.full_name(), class)
                })
                .collect(),
            me: account == me,
            school: account.school,
            user: account.user,
        })
        .collect();
    out.sort_by_key(|l| !l.me);
    Ok(out)
}

/// The UAI in what a parent typed: the UAI itself, or the school's address on the hub as
/// her letter prints it (`…/ecoles/0351234A`).
fn uai_in(text: &str) -> Option<Uai> {
    let last = text.trim().trim_end_matches('/').rsplit('/').next()?;
    Uai::parse(&last.to_uppercase()).ok()
}

/// Links `by`'s account with the account `login` of the school `school` (its UAI or its
/// address), proven by `password` (its password or its letter's activation code).
pub async fn link(
    state: &AppState,
    ctx: &Ctx,
    by: &SignedIn,
    school: &str,
    login: &str,
    password: &str,
) -> Result<(), AppError> {
    let me = account_of(by)?;
    let unknown = || AppError::bad("family-school-unknown", format!("no school {school:?} on this hub"));
    let uai = uai_in(school).ok_or_else(unknown)?;
    let other = state.within(&uai).map_err(|_| unknown())?;
    // A login: throttled as one, refused in the same words.
    let (member, _) = password_login(&other, ctx, login, password).await?;
    if !may_link(&member) {
        return Err(AppError::bad("family-adults-only", format!("{} is a {:?}", member.id, member.profile)));
    }
    let them = Account { school: uai, user: member.id.to_string() };
    // Each account with what proves it now: the link lasts while both do.
    let (my_proof, their_proof) =
        (state.directory().credential_mark(&by.user), other.directory().credential_mark(&member.id));
    let linked = state.part::<Replication>().links.link((&me, &my_proof.0), (&them, &their_proof.0))?;
    // Home pages show a family's children: those kept from before are stale.
    state.db.changed_beside();
    match linked {
        Ok(()) => {
            tracing::info!(school = %me.school, user = %me.user, with_school = %them.school, with_user = %them.user, "family accounts linked");
            Ok(())
        }
        Err(LinkRefused::Already) => Err(AppError::bad("family-already", "already linked")),
        Err(LinkRefused::TooMany) => Err(AppError::bad("family-too-many", "family full")),
    }
}

/// The account `user` of `school`, if it is a live account of `by`'s family, with its
/// member and school's directory; and the family's accounts.
fn in_family(state: &AppState, by: &SignedIn, school: &str, user: &str) -> Result<(Live, Vec<Account>), AppError> {
    let school = Uai::parse(school).map_err(|_| AppError::NotFound)?;
    let target = Account { school, user: user.to_owned() };
    let family = live_family(state, by)?;
    let accounts = family.iter().map(|(a, _, _)| a.clone()).collect();
    let found = family.into_iter().find(|(a, _, _)| *a == target).ok_or(AppError::NotFound)?;
    Ok((found, accounts))
}

/// Takes an account of `by`'s family (hers included) out of it. The sessions a switch
/// opened into the family's accounts end (but this one): whoever was let in by the link is
/// let out with it.
pub fn unlink(state: &AppState, ctx: &Ctx, by: &SignedIn, school: &str, user: &str) -> Result<(), AppError> {
    let ((target, _, _), accounts) = in_family(state, by, school, user)?;
    state.part::<Replication>().links.unlink(&target)?;
    state.db.changed_beside();
    let accounts: Vec<_> =
        accounts.into_iter().filter_map(|a| Some((Some(a.school), UserId::parse(&a.user).ok()?))).collect();
    state.sessions.end_switched_into(&accounts, &ctx.sid);
    tracing::info!(by = %by.user, school = %target.school, user = %target.user, "family account unlinked");
    Ok(())
}

/// Signs this browser in as another account of `by`'s family, within its school, and
/// leads to `child`'s page there (if that is one of its children), else its home. An
/// account that was linked with its activation code chooses its password first.
pub fn switch(
    state: &AppState,
    ctx: &Ctx,
    by: &SignedIn,
    school: &str,
    user: &str,
    child: &str,
) -> Result<Response, AppError> {
    let ((target, member, dir), _) = in_family(state, by, school, user)?;
    let other = state.within(&target.school)?;
    crate::school::accounts::on_the_ent(&dir, &member)?;
    let cred = dir.credentials.get(&member.id).filter(|c| !c.disabled).ok_or(AppError::NotFound)?;
    let must_change = cred.must_change_password || cred.password_hash.is_empty();
    let to = match dir.children_of(&member.id).iter().find(|c| c.id.as_str() == child) {
        _ if must_change => "/password".to_owned(),
        Some(c) => format!("/child/{}", c.id),
        None => "/".to_owned(),
    };
    let mut session = SignedIn::of(&dir, &member, must_change);
    session.switched = true;
    Ok(signed_in_as(&other, ctx, session, &to))
}

// ---- pages ----

#[derive(Template)]
#[template(path = "school/family.html")]
struct FamilyPage {
    c: Chrome,
    accounts: Vec<Linked>,
    school: String,
    login: String,
    error: Option<String>,
}

fn family_view(
    state: &AppState,
    ctx: &Ctx,
    form: Option<&LinkForm>,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let by = ctx.user()?;
    let accounts = family(state, by)?;
    let page = FamilyPage {
        c: Chrome::new(ctx),
        accounts,
        school: form.map(|f| f.school.clone()).unwrap_or_default(),
        login: form.map(|f| f.login.clone()).unwrap_or_default(),
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

fn adult(state: &AppState, ctx: &Ctx) -> Result<(), AppError> {
    let by = ctx.user()?;
    match state.directory().member(&by.user) {
        Some(m) if may_link(m) => Ok(()),
        _ => Err(AppError::NotFound),
    }
}

async fn family_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    adult(&state, &ctx)?;
    family_view(&state, &ctx, None, None)
}

#[derive(Deserialize)]
struct LinkForm {
    school: String,
    login: String,
    password: String,
}

async fn link_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<LinkForm>) -> Result<Response, AppError> {
    adult(&state, &ctx)?;
    match link(&state, &ctx, ctx.user()?, &form.school, &form.login, &form.password).await {
        Ok(()) => Ok(Redirect::to("/family").into_response()),
        Err(e @ (AppError::BadRequest { .. } | AppError::LoginFailed { .. } | AppError::TooManyAttempts { .. })) => {
            tracing::info!(error = %e, "family link refused");
            family_view(&state, &ctx, Some(&form), Some(&e))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct AccountForm {
    school: String,
    user: String,
    #[serde(default)]
    child: String,
}

async fn unlink_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<AccountForm>) -> Result<Response, AppError> {
    adult(&state, &ctx)?;
    unlink(&state, &ctx, ctx.user()?, &form.school, &form.user)?;
    Ok(Redirect::to("/family").into_response())
}

async fn switch_form(state: AppState, ctx: Ctx, CsrfForm(form): CsrfForm<AccountForm>) -> Result<Response, AppError> {
    adult(&state, &ctx)?;
    switch(&state, &ctx, ctx.user()?, &form.school, &form.user, &form.child)
}

// ---- home ----

#[derive(Template)]
#[template(path = "school/_family_panel.html")]
struct FamilyPanel<'a> {
    c: &'a Chrome,
    accounts: Vec<Linked>,
}

/// The tile « Ma famille », and on a linked family's home page, the children of its other
/// accounts, each a button that opens the child's page within its school.
async fn home_part(h: &Home<'_>) -> Result<HomePart, AppError> {
    if !may_link(h.member) {
        return Ok(HomePart::default());
    }
    let tile = Tile::new(Place::Own, "/family", "children", h.l().t("tile-family"));
    let others: Vec<Linked> =
        family(h.state, h.user)?.into_iter().filter(|a| !a.me && !a.children.is_empty()).collect();
    let panel = if others.is_empty() {
        None
    } else {
        let html = FamilyPanel { c: h.chrome, accounts: others }
            .render()
            .map_err(|e| AppError::Internal(format!("template: {e}")))?;
        Some(html)
    };
    Ok(HomePart { tiles: vec![tile], panel })
}

/// A family's accounts in several schools, on the hub.
pub const SERVICE: Service = Service {
    name: "family",
    pages: routes,
    home: |h| Box::pin(home_part(h)),
    served_by: ServedBy::Hub,
    ..Service::NOTHING
};

#[cfg(test)]
mod tests {
    #[test]
    fn a_school_is_named_by_its_uai_or_its_address() {
        for (typed, uai) in [
            ("0351234A", Some("0351234A")),
            (" 0351234a ", Some("0351234A")),
            ("https://ent.ac-exemple.fr/ecoles/0351234A", Some("0351234A")),
            ("https://ent.ac-exemple.fr/ecoles/0351234A/", Some("0351234A")),
            ("École des Lilas", None),
            ("", None),
        ] {
            assert_eq!(super::uai_in(typed).map(|u| u.to_string()).as_deref(), uai, "{typed:?}");
        }
    }
}
