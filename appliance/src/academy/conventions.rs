//! Conventions: drafted with the schools they name, signed, ended (before their term, or by
//! it); a school activated under a signed one gets its enrolment code and the classes it
//! covers. A class is covered by one convention at a time. Ending one closes what it
//! covered without deleting anything, and the school's pages say so.

use preau_sync::kinds::Convention;
use preau_sync::kinds::convention::{ConventionSchool, CoveredClass, Period, SchoolConvention};
use preau_sync::{DocKey, Insee, Uai};

use super::{Console, activates_schools, audit, convention_address, conventions_of, manages_conventions, require};
use crate::platform::error::AppError;
use crate::platform::text::{date, iso, required_line};
use crate::replication::{Replication, enrollment};
use crate::school::directory::{ClassId, Directory, Profile};
use crate::web::AppState;
use crate::web::service::{Home, HomePart};

/// A new convention as its form gives it.
pub struct ConventionForm {
    /// Its title.
    pub title: String,
    /// First and last day.
    pub starts_on: String,
    /// See `starts_on`.
    pub ends_on: String,
    /// The schools it names (UAIs of the commune).
    pub schools: Vec<String>,
}

async fn edit<R: Send + 'static>(
    state: &AppState,
    insee: &Insee,
    id: &DocKey,
    change: impl FnOnce(&mut Convention) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<Convention, R>(
        state,
        convention_address(insee, id),
        super::rule::convention,
        change,
    )
    .await
}

fn day(value: &str) -> Result<String, AppError> {
    Ok(iso(date(value, "console-bad-date")?))
}

fn today() -> String {
    crate::platform::clock::today()
}

/// The day before `day` (`YYYY-MM-DD`).
fn eve(day: &str) -> String {
    date(day, "").map(|d| iso(d.previous_day().unwrap_or(d))).unwrap_or_default()
}

/// One convention of a commune, or `NotFound`.
pub fn find(state: &AppState, insee: &Insee, id: &str) -> Result<(DocKey, Convention), AppError> {
    let id = DocKey::parse(id).map_err(|_| AppError::NotFound)?;
    conventions_of(state, insee)?.iter().find(|(k, _)| *k == id).cloned().ok_or(AppError::NotFound)
}

/// One convention of a commune, which must be `status` (a draft to sign, a signed one to
/// end or activate schools under), or the refusal that says what it is instead.
fn in_status(state: &AppState, insee: &Insee, id: &str, status: &str) -> Result<(DocKey, Convention), AppError> {
    let (id, convention) = find(state, insee, id)?;
    if convention.status == status {
        return Ok((id, convention));
    }
    let message = if status == "draft" { "console-convention-not-draft" } else { "console-convention-not-signed" };
    Err(AppError::bad(message, format!("{id} is {}, not {status}", convention.status)))
}

/// Drafts a convention naming some of the commune's schools.
pub async fn create(state: &AppState, by: &Console, insee: &Insee, form: ConventionForm) -> Result<DocKey, AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(manages_conventions(by), "conventions")?;
    let commune = super::commune(state, insee)?;
    let title = required_line(&form.title, 160, "console-bad-title")?;
    let (starts_on, ends_on) = (day(&form.starts_on)?, day(&form.ends_on)?);
    if ends_on < starts_on {
        return Err(AppError::bad("console-convention-backwards", format!("{starts_on} to {ends_on}")));
    }
    let mut schools = std::collections::BTreeMap::new();
    for uai in &form.schools {
        let uai = Uai::parse(uai.trim()).map_err(|_| AppError::bad("console-unknown-uai", format!("{uai:?}")))?;
        if !commune.schools.contains_key(uai.as_str()) {
            return Err(AppError::bad("console-not-of-commune", format!("{uai} is not a school of {insee}")));
        }
        schools.insert(uai.to_string(), ConventionSchool::default());
    }
    let id = DocKey::parse(&hex::encode(crate::platform::random_bytes::<8>()))?;
    let by_id = by.id.clone();
    let summary = format!("{title} ({starts_on} – {ends_on})");
    edit(state, insee, &id, move |c| {
        *c = Convention {
            title,
            status: "draft".into(),
            starts_on,
            ends_on,
            schools,
            edited_by: by_id,
            edited_at: crate::platform::clock::now_ms(),
            ..Convention::default()
        };
        Ok(())
    })
    .await?;
    audit::record(state, by, "convention-create", &format!("convention/{id}"), &summary)?;
    Ok(id)
}

/// Records the signature of a draft.
pub async fn sign(state: &AppState, by: &Console, insee: &Insee, id: &str, signed_on: &str) -> Result<(), AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(manages_conventions(by), "conventions")?;
    let (id, _) = in_status(state, insee, id, "draft")?;
    let signed_on = day(signed_on)?;
    step(state, by, insee, &id, "signed", signed_on).await
}

/// Ends a signed convention on `last_day` (its classes close the day after).
pub async fn end(state: &AppState, by: &Console, insee: &Insee, id: &str, last_day: &str) -> Result<(), AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(manages_conventions(by), "conventions")?;
    let (id, convention) = in_status(state, insee, id, "signed")?;
    let last_day = day(last_day)?;
    if last_day < convention.starts_on || last_day > convention.ends_on {
        return Err(AppError::bad("console-end-outside", format!("{last_day} outside {id}")));
    }
    // Not before yesterday: what was covered on days already past stays covered (counts
    // made of them, statements printed).
    if last_day < eve(&today()) {
        return Err(AppError::bad("console-end-past", format!("{last_day} is past")));
    }
    step(state, by, insee, &id, "ended", last_day).await
}

/// Moves a convention to `status` (`signed` or `ended`) on `day`, and records it.
async fn step(
    state: &AppState,
    by: &Console,
    insee: &Insee,
    id: &DocKey,
    status: &'static str,
    day: String,
) -> Result<(), AppError> {
    let (on, by_id) = (day.clone(), by.id.clone());
    edit(state, insee, id, move |c| {
        let field = if status == "signed" { &mut c.signed_on } else { &mut c.ended_on };
        *field = on;
        (c.status, c.edited_by, c.edited_at) = (status.into(), by_id, crate::platform::clock::now_ms());
        Ok(())
    })
    .await?;
    let action = if status == "signed" { "convention-sign" } else { "convention-end" };
    audit::record(state, by, action, &format!("convention/{id}"), &day)
}

/// Whether the school has a server enrolled with the hub (not revoked).
fn enrolled(state: &AppState, uai: &Uai) -> Result<bool, AppError> {
    let subject = format!("school:{uai}");
    Ok(state.part::<Replication>().links.all_enrolled()?.iter().any(|e| e.subject == subject && e.revoked_at.is_none()))
}

/// The school's directory as the hub holds it (empty before its server's first sync).
fn school_directory(state: &AppState, uai: &Uai) -> Result<Directory, AppError> {
    let uai = uai.clone();
    state.db.read(move |r| Directory::load_school(r, &uai))
}

/// Activates a school under a signed convention: records it, covers `classes` and, when
/// the school has no server yet, creates its enrolment code (returned, shown once).
pub async fn activate(
    state: &AppState,
    by: &Console,
    insee: &Insee,
    id: &str,
    uai: &str,
    classes: &[String],
) -> Result<Option<String>, AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(activates_schools(by), "activation")?;
    let (id, convention) = in_status(state, insee, id, "signed")?;
    let uai = Uai::parse(uai).map_err(|_| AppError::bad("console-unknown-uai", format!("{uai:?}")))?;
    if !convention.schools.contains_key(uai.as_str()) {
        return Err(AppError::bad("console-not-in-convention", format!("{uai} is not named by {id}")));
    }
    let covered = check_classes(state, &uai, &id, &convention, classes)?;
    let names = set_covered(state, insee, &id, &uai, covered, true, by).await?;
    // The code after the activation is written: a refused one makes none.
    let code = if enrolled(state, &uai)? {
        None
    } else {
        let name = super::commune(state, insee)?.schools.get(uai.as_str()).map(|s| s.name.clone()).unwrap_or_default();
        let label = if name.is_empty() { uai.to_string() } else { format!("{name} ({uai})") };
        Some(enrollment::create_code(
            &state.part::<Replication>().links,
            &label,
            &enrollment::Subject::School(uai.clone()),
        )?)
    };
    audit::record(state, by, "school-activate", &format!("school/{uai}"), &names)?;
    Ok(code)
}

/// Changes the classes a convention covers at an activated school: those ticked are
/// covered from today, those no longer ticked until yesterday (forgotten when they were
/// covered only today, a mistake put right).
pub async fn cover(
    state: &AppState,
    by: &Console,
    insee: &Insee,
    id: &str,
    uai: &str,
    classes: &[String],
) -> Result<(), AppError> {
    let _one = super::one_at_a_time(state).await?;
    require(activates_schools(by), "activation")?;
    let (id, convention) = find(state, insee, id)?;
    let uai = Uai::parse(uai).map_err(|_| AppError::bad("console-unknown-uai", format!("{uai:?}")))?;
    let activated = convention.schools.get(uai.as_str()).is_some_and(|s| !s.activated_on.is_empty());
    if convention.status != "signed" || !activated {
        return Err(AppError::bad("console-activate-first", format!("{uai} under {id}")));
    }
    let covered = check_classes(state, &uai, &id, &convention, classes)?;
    let names = set_covered(state, insee, &id, &uai, covered, false, by).await?;
    audit::record(state, by, "school-cover", &format!("school/{uai}"), &names)
}

/// The classes to cover, checked: classes of the school's directory, each once, and none
/// that another convention covers over the same days.
fn check_classes(
    state: &AppState,
    uai: &Uai,
    id: &DocKey,
    convention: &Convention,
    classes: &[String],
) -> Result<Vec<(String, String)>, AppError> {
    let dir = school_directory(state, uai)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for class in classes {
        let found = ClassId::parse(class).ok().and_then(|c| dir.classes.get(&c));
        let Some(found) = found else {
            return Err(AppError::bad("console-unknown-class", format!("{class:?} at {uai}")));
        };
        if out.iter().any(|(c, _)| c == class) {
            return Err(AppError::bad("console-class-twice", format!("{class} listed twice")));
        }
        out.push((class.clone(), found.class.name.clone()));
    }
    let from = today().max(convention.starts_on.clone());
    let to = convention.last_day();
    let others = state.db.read(|r| Ok(r.school_conventions(uai)?))?;
    for other in others.iter().filter(|o| o.id != id.as_str()) {
        for (class, name, since, until) in &other.classes {
            let start = other.starts_on.as_str().max(since.as_str());
            let end = if until.is_empty() { other.last_day() } else { until.as_str().min(other.last_day()) };
            if out.iter().any(|(c, _)| c == class) && start <= to && from.as_str() <= end {
                return Err(AppError::bad(
                    "console-class-covered",
                    format!("{name} ({class}) covered by {} from {start} to {end}", other.id),
                ));
            }
        }
    }
    Ok(out)
}

/// Writes the covered classes of a school under a convention; their names, for the audit.
async fn set_covered(
    state: &AppState,
    insee: &Insee,
    id: &DocKey,
    uai: &Uai,
    covered: Vec<(String, String)>,
    activate: bool,
    by: &Console,
) -> Result<String, AppError> {
    let names = covered.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", ");
    let (key, by_id) = (uai.to_string(), by.id.clone());
    edit(state, insee, id, move |c| {
        let school = c.schools.entry(key).or_default();
        let today = today();
        if activate && school.activated_on.is_empty() {
            school.activated_on = today.clone();
        }
        cover_classes(school, covered, &today);
        (c.edited_by, c.edited_at) = (by_id, crate::platform::clock::now_ms());
        Ok(())
    })
    .await?;
    Ok(names)
}

/// Sets the classes a convention covers at a school, as of `today`: those in `covered`
/// (id, name) are covered from today if they were not; the others are withdrawn from
/// yesterday. Every period stays recorded (`CoveredClass::past`), so a count at a past day
/// sees what was covered then.
fn cover_classes(school: &mut ConventionSchool, covered: Vec<(String, String)>, today: &str) {
    let yesterday = eve(today);
    let ticked = |class: &str| covered.iter().any(|(k, _)| k == class);
    // Withdrawn: its open period closes yesterday. One opened today closes as if never
    // opened (a mistake put right the same day): the class's earlier period, if any,
    // is its latest again; a class covered only today is forgotten.
    let mut forgotten = Vec::new();
    for (class, c) in school.classes.iter_mut().filter(|(k, c)| !ticked(k) && c.until.is_empty()) {
        if c.since <= yesterday {
            c.until = yesterday.clone();
        } else if let Some(last) = c.past.pop() {
            (c.since, c.until) = (last.since, last.until);
        } else {
            forgotten.push(class.clone());
        }
    }
    for class in forgotten {
        school.classes.remove(&class);
    }
    for (class, name) in covered {
        let entry = school.classes.entry(class).or_insert_with(|| CoveredClass {
            name: name.clone(),
            since: today.to_owned(),
            ..CoveredClass::default()
        });
        if !entry.until.is_empty() {
            // Covered again: its last period is kept, a new one opens today.
            let last = Period { since: std::mem::take(&mut entry.since), until: std::mem::take(&mut entry.until) };
            entry.past.push(last);
            entry.since = today.to_owned();
        }
        entry.name = name;
    }
}

// ---- What a school's staff read of it ----

/// What the school's pages say of the conventions: the classes closed today, and why.
#[derive(Clone, Debug, Default)]
pub struct CoverageNote {
    /// Classes no convention covers today (names).
    pub uncovered: Vec<String>,
    /// Conventions that ended: their title, commune, last day, and the classes they covered.
    pub ended: Vec<(String, String, String, Vec<String>)>,
}

/// The note for a school's directory, `None` when no convention activated it.
pub fn covered_summary(dir: &Directory) -> Option<CoverageNote> {
    let conventions: &Vec<SchoolConvention> = dir.coverage.as_ref()?;
    let today = today();
    let mut note = CoverageNote::default();
    for class in dir.current_classes() {
        if !dir.class_covered(&class.id) {
            note.uncovered.push(class.class.name.clone());
        }
    }
    for c in conventions.iter().filter(|c| c.last_day() < today.as_str()) {
        let classes = c.classes.iter().map(|(_, name, _, _)| name.clone()).collect();
        note.ended.push((c.title.clone(), c.commune.clone(), c.last_day().to_owned(), classes));
    }
    Some(note)
}

#[derive(askama::Template)]
#[template(path = "academy/_coverage.html")]
struct Panel<'a> {
    c: &'a crate::web::Chrome,
    note: CoverageNote,
}

/// On staff home pages, at school and on the hub: what the conventions leave closed.
pub async fn home_part(h: &Home<'_>) -> Result<HomePart, AppError> {
    if !h.member.profile.is_staff() || h.member.profile == Profile::AcademyAdmin {
        return Ok(HomePart::default());
    }
    let Some(note) = covered_summary(h.dir) else { return Ok(HomePart::default()) };
    if note.uncovered.is_empty() && note.ended.is_empty() {
        return Ok(HomePart::default());
    }
    let panel = askama::Template::render(&Panel { c: h.chrome, note })
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok(HomePart { tiles: Vec::new(), panel: Some(panel) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(classes: &[&str]) -> Vec<(String, String)> {
        classes.iter().map(|c| ((*c).to_owned(), c.to_uppercase())).collect()
    }

    fn periods(school: &ConventionSchool, class: &str) -> Vec<(String, String)> {
        school.classes[class].periods().map(|(a, b)| (a.to_owned(), b.to_owned())).collect()
    }

    #[test]
    fn coverage_keeps_every_period_and_forgets_only_a_same_day_mistake() {
        let mut school = ConventionSchool { activated_on: "2026-09-01".into(), ..Default::default() };
        cover_classes(&mut school, pairs(&["cp"]), "2026-09-01");
        cover_classes(&mut school, pairs(&[]), "2026-10-10");
        cover_classes(&mut school, pairs(&["cp"]), "2026-11-02");
        let cp = periods(&school, "cp");
        assert_eq!(cp, [("2026-09-01".into(), "2026-10-09".into()), ("2026-11-02".into(), String::new())]);
        // Withdrawn again the day it came back: its earlier period is its latest again.
        cover_classes(&mut school, pairs(&[]), "2026-11-02");
        assert_eq!(periods(&school, "cp"), [("2026-09-01".to_owned(), "2026-10-09".to_owned())]);
        // A class covered by mistake and withdrawn the same day leaves nothing.
        cover_classes(&mut school, pairs(&["ce1"]), "2026-11-03");
        cover_classes(&mut school, pairs(&[]), "2026-11-03");
        assert!(!school.classes.contains_key("ce1"));
    }
}
