//! The cahier de textes: what was done in class and the work to do, per class (or one of a
//! multi-level class's levels) and per day; pupils' "done" ticks. One `HomeworkBook`
//! document per class and school year, in the class's partition; pages read the
//! `homework_entry` and `homework_done` read models.
//!
//! Who may write what is one rule, [`check_change`], applied to every local edit and, by the
//! replication policy, to every change that arrives from another replica.

mod api;
mod notices;
mod pages;
mod rule;

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::HomeworkBook;
use preau_sync::kinds::homework::{DoneMark, HomeworkEntry, HomeworkItem};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Uai};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::platform::text;
use crate::school::directory::class_partition;
use crate::school::directory::{Class, ClassId, Directory, Member, Profile, UserId};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ApiUser, Created, ErrorBody};
use crate::web::files::FileView;
use crate::web::service::{Home, HomePart, Place, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::upload::{FormWithFiles, MultipartForm};
use crate::web::{AppState, Chrome, Ctx, SignedIn, kept, render, render_status};

/// Longest subject, in characters.
const MAX_SUBJECT: usize = 60;
/// Longest one-line work.
const MAX_TITLE: usize = 200;
/// Longest lesson or work details.
const MAX_TEXT: usize = 5_000;
/// Entries a book may hold (a year of a busy class is ~1,500).
const MAX_ENTRIES: usize = 5_000;
/// Files an entry may carry.
const MAX_FILES: usize = 10;
/// Days a page or an export may span.
const MAX_SPAN_DAYS: i64 = 400;

use api::*;
use pages::*;
pub use rule::*;

// ---- writes ----

/// An entry as a teacher fills it in.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct EntryInput {
    /// Empty for the whole class, or one of its levels.
    #[serde(default)]
    pub audience: String,
    /// Discipline.
    #[schema(min_length = 1, max_length = 60)]
    pub subject: String,
    /// The class day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub assigned_on: String,
    /// What was done in class.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub lesson: String,
    /// The work to do, in one line.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: String,
    /// More about the work.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub details: String,
    /// When the work is due, `YYYY-MM-DD`; required when there is work.
    #[serde(default)]
    #[schema(format = Date)]
    pub due_on: String,
}

/// Files to attach to an entry, and attached files to take off it (by hash).
#[derive(Default)]
pub struct FileChanges {
    /// New files.
    pub add: Vec<crate::web::upload::Uploaded>,
    /// Hashes of files to take off.
    pub remove: Vec<String>,
}

impl FileChanges {
    /// Stores the new files; what remains to do to an entry.
    async fn store(self, state: &AppState) -> Result<StoredChanges, AppError> {
        let mut add = Vec::new();
        for f in self.add {
            add.push(state.files.put(&f.name, &f.mime, f.bytes).await?);
        }
        Ok(StoredChanges { add, remove: self.remove })
    }
}

/// File changes whose new files are stored.
struct StoredChanges {
    add: Vec<preau_sync::kinds::Attachment>,
    remove: Vec<String>,
}

impl StoredChanges {
    fn apply(self, e: &mut HomeworkEntry) -> Result<(), AppError> {
        e.attachments.retain(|a| !self.remove.contains(&a.hash));
        for a in self.add {
            if !e.attachments.iter().any(|b| b.hash == a.hash) {
                e.attachments.push(a);
            }
        }
        if e.attachments.len() > MAX_FILES {
            return Err(AppError::bad("homework-too-many-files", format!("{} files", e.attachments.len())));
        }
        Ok(())
    }
}

/// Attaches files to an entry, or takes some off (`remove`: their hashes).
pub async fn change_files(
    state: &AppState,
    by: &SignedIn,
    class: &str,
    entry: &str,
    files: FileChanges,
) -> Result<(), AppError> {
    let class = state.directory().taught_class(&by.user, class)?;
    let files = files.store(state).await?;
    let (user, now, entry) = (by.user.to_string(), crate::platform::clock::now_ms(), entry.to_owned());
    edit_book(state, &class, move |book| {
        let e = book.entries.get_mut(&entry).filter(|e| !e.removed).ok_or(AppError::NotFound)?;
        files.apply(e)?;
        e.edited_by = user;
        e.edited_at = now;
        Ok(())
    })
    .await
}

/// The checked form of an [`EntryInput`].
struct CheckedEntry {
    audience: String,
    subject: String,
    assigned_on: String,
    lesson: String,
    title: String,
    details: String,
    due_on: String,
}

/// Whom an entry of `class` may be for, besides the whole class: each of its levels
/// (`CE1`), and each group of the school with pupils in it (`group:{id}`).
fn audiences(dir: &Directory, class: &Class) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if class.class.levels.len() > 1 {
        out.extend(class.class.levels.iter().map(|l| (l.clone(), l.clone())));
    }
    let pupils = dir.pupils_of(&class.id);
    for (id, group) in &dir.groups {
        if pupils.iter().any(|p| group.members.iter().any(|m| m == p.id.as_str())) {
            out.push((format!("group:{id}"), group.name.clone()));
        }
    }
    out
}

/// Whether an entry for `audience` is for this pupil.
fn is_for(dir: &Directory, audience: &str, pupil: &Member) -> bool {
    match audience.strip_prefix("group:") {
        _ if audience.is_empty() => true,
        Some(group) => dir.groups.get(group).is_some_and(|g| g.members.iter().any(|m| m == pupil.id.as_str())),
        None => pupil.person.level == audience,
    }
}

fn check_input(dir: &Directory, class: &Class, input: EntryInput) -> Result<CheckedEntry, AppError> {
    let audience = text::one_line(&input.audience, 40, "homework-bad-audience")?;
    if !audience.is_empty() && !audiences(dir, class).iter().any(|(value, _)| *value == audience) {
        return Err(AppError::bad("homework-bad-audience", format!("audience {audience:?}")));
    }
    let subject = text::required_line(&input.subject, MAX_SUBJECT, "homework-bad-subject")?;
    let assigned = text::date(&input.assigned_on, "homework-bad-date")?;
    let lesson = text::paragraphs(&input.lesson, MAX_TEXT, "homework-too-long")?;
    let title = text::one_line(&input.title, MAX_TITLE, "homework-too-long")?;
    let details = text::paragraphs(&input.details, MAX_TEXT, "homework-too-long")?;
    let has_work = !title.is_empty() || !details.is_empty();
    let due_on = if input.due_on.trim().is_empty() {
        if has_work {
            return Err(AppError::bad("homework-due-required", "work without a due date"));
        }
        String::new()
    } else {
        let due = text::date(&input.due_on, "homework-bad-date")?;
        if due < assigned {
            return Err(AppError::bad("homework-due-before", format!("due {due} before {assigned}")));
        }
        if !has_work {
            return Err(AppError::bad("homework-work-required", "a due date without work"));
        }
        text::iso(due)
    };
    if lesson.is_empty() && !has_work {
        return Err(AppError::bad("homework-empty", "neither lesson nor work"));
    }
    Ok(CheckedEntry { audience, subject, assigned_on: text::iso(assigned), lesson, title, details, due_on })
}

/// Writes an entry (a new one when `entry` is `None`); returns its id.
pub async fn save_entry(
    state: &AppState,
    by: &SignedIn,
    class: &str,
    entry: Option<String>,
    input: EntryInput,
    files: FileChanges,
) -> Result<String, AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let checked = check_input(&dir, &class, input)?;
    let files = files.store(state).await?;
    let (user, now) = (by.user.to_string(), crate::platform::clock::now_ms());
    edit_book(state, &class, move |book| {
        let id = match entry {
            Some(id) => {
                book.entries.get(&id).filter(|e| !e.removed).ok_or(AppError::NotFound)?;
                id
            }
            None => {
                let id = ClassId::random().to_string();
                book.entries.insert(id.clone(), HomeworkEntry { author: user.clone(), ..Default::default() });
                id
            }
        };
        let e = book.entries.get_mut(&id).expect("present");
        e.audience = checked.audience;
        e.subject = checked.subject;
        e.assigned_on = checked.assigned_on;
        e.title = checked.title;
        e.due_on = checked.due_on;
        // Text fields are diffed, so a concurrent edit elsewhere in the text survives.
        if e.lesson.as_str() != checked.lesson {
            e.lesson.update(checked.lesson);
        }
        if e.details.as_str() != checked.details {
            e.details.update(checked.details);
        }
        files.apply(e)?;
        e.edited_by = user;
        e.edited_at = now;
        Ok(id)
    })
    .await
}

/// Withdraws an entry (kept in the document, hidden everywhere).
pub async fn remove_entry(state: &AppState, by: &SignedIn, class: &str, entry: &str) -> Result<(), AppError> {
    let class = state.directory().taught_class(&by.user, class)?;
    let (user, now, entry) = (by.user.to_string(), crate::platform::clock::now_ms(), entry.to_owned());
    edit_book(state, &class, move |book| {
        let e = book.entries.get_mut(&entry).filter(|e| !e.removed).ok_or(AppError::NotFound)?;
        e.removed = true;
        e.edited_by = user;
        e.edited_at = now;
        Ok(())
    })
    .await
}

/// Ticks (or unticks) a pupil's work on an entry of their class.
pub async fn set_done(state: &AppState, by: &SignedIn, pupil: &str, entry: &str, done: bool) -> Result<(), AppError> {
    let dir = state.directory();
    let (pupil, class) = visible_pupil(&dir, by, pupil)?;
    if !ticks_for(&dir, &by.user, &pupil) {
        return Err(AppError::Forbidden("only the pupil or a legal guardian ticks".into()));
    }
    let (user, now, entry) = (by.user.to_string(), crate::platform::clock::now_ms(), entry.to_owned());
    edit_book(state, &class, move |book| {
        let e = book.entries.get(&entry).filter(|e| !e.removed && !e.due_on.is_empty()).ok_or(AppError::NotFound)?;
        if !is_for(&dir, &e.audience, &pupil) {
            return Err(AppError::NotFound);
        }
        let key = DoneMark::key(&entry, pupil.id.as_str());
        if book.done.get(&key).is_some_and(|m| m.done == done) {
            return Ok(());
        }
        book.done.insert(key, DoneMark { done, by: user, at: now });
        Ok(())
    })
    .await
}

// ---- reads ----

/// An entry as people see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// Id within the class's book.
    pub id: String,
    /// Empty (whole class), a level, or `group:{id}`.
    pub audience: String,
    /// Who it is for, in words (empty for the whole class).
    pub audience_label: String,
    /// Discipline.
    pub subject: String,
    /// The class day.
    pub assigned_on: String,
    /// What was done in class.
    pub lesson: String,
    /// The work, in one line.
    pub title: String,
    /// More about the work.
    pub details: String,
    /// Due date, or empty.
    pub due_on: String,
    /// Who wrote it ("Mme Le Bihan").
    pub author: String,
    /// Pupils who ticked it (class writers only; 0 for others).
    pub done_count: usize,
    /// Pupils it is for (class writers only; 0 for others).
    pub pupil_count: usize,
    /// For one pupil's list: ticked by them.
    pub done: bool,
    /// Attached files.
    pub files: Vec<FileView>,
    /// The class's id (for the files' addresses).
    pub class_id: String,
}

fn adult_name(dir: &Directory, id: &str) -> String {
    UserId::parse(id)
        .ok()
        .and_then(|id| dir.member(&id))
        .map(|m| format!("{} {}", m.person.civility, m.person.last_name).trim().to_owned())
        .unwrap_or_default()
}

fn view(dir: &Directory, class: &ClassId, item: HomeworkItem) -> EntryView {
    EntryView {
        files: item.attachments.iter().map(FileView::of).collect(),
        class_id: class.to_string(),
        audience_label: match item.audience.strip_prefix("group:") {
            Some(group) => dir.groups.get(group).map(|g| g.name.clone()).unwrap_or_default(),
            None => item.audience.clone(),
        },
        author: adult_name(dir, &item.author),
        id: item.entry_id,
        audience: item.audience,
        subject: item.subject,
        assigned_on: item.assigned_on,
        lesson: item.lesson,
        title: item.title,
        details: item.details,
        due_on: item.due_on,
        done_count: 0,
        pupil_count: 0,
        done: false,
    }
}

/// A span of days, checked.
fn span(from: &str, to: &str) -> Result<(String, String), AppError> {
    let (a, b) = (text::date(from, "homework-bad-date")?, text::date(to, "homework-bad-date")?);
    if b < a || (b - a).whole_days() > MAX_SPAN_DAYS {
        return Err(AppError::bad("homework-bad-span", format!("{a}..{b}")));
    }
    Ok((text::iso(a), text::iso(b)))
}

/// A class's entries whose day or due date is in `[from, to]`, with tick counts.
pub async fn class_entries(
    state: &AppState,
    by: &SignedIn,
    class: &str,
    from: &str,
    to: &str,
) -> Result<(Class, Vec<EntryView>), AppError> {
    let (from, to) = span(from, to)?;
    // Kept until the replica changes (see `Db::memo`): everything below reads the
    // directory and the replica inside the memo, after its generation is taken.
    let key = format!("{}|{class}|{from}|{to}", by.user);
    let found = state.memo("homework.class_entries", key, |store| {
        let dir = state.directory();
        let class = dir.taught_class(&by.user, class)?;
        let address = book_address(&school(&dir)?, &class)?;
        let items = store.homework(&address.partition, &from, &to)?;
        let marks = store.homework_done(address.id(), None)?;
        let pupils = dir.pupils_of(&class.id);
        let ids: BTreeSet<&str> = pupils.iter().map(|p| p.id.as_str()).collect();
        let mut done: BTreeMap<String, usize> = BTreeMap::new();
        for m in marks.iter().filter(|m| m.done && ids.contains(m.pupil.as_str())) {
            *done.entry(m.entry_id.clone()).or_default() += 1;
        }
        let views = items
            .into_iter()
            .map(|item| {
                let mut v = view(&dir, &class.id, item);
                v.done_count = done.get(&v.id).copied().unwrap_or(0);
                v.pupil_count = pupils.iter().filter(|p| is_for(&dir, &v.audience, p)).count();
                v
            })
            .collect();
        Ok((class, views))
    })?;
    Ok(found.as_ref().clone())
}

/// A pupil's work due from today on, by due date, with their ticks.
pub async fn todo(state: &AppState, by: &SignedIn, pupil: &str) -> Result<(Member, Vec<EntryView>), AppError> {
    let today = crate::platform::clock::today();
    // Kept until the replica changes, or the day does (see `Db::memo`).
    let key = format!("{}|{pupil}|{today}", by.user);
    let found = state.memo("homework.todo", key, |store| {
        let dir = state.directory();
        let (pupil, class) = visible_pupil(&dir, by, pupil)?;
        let address = book_address(&school(&dir)?, &class)?;
        let items = store.homework(&address.partition, &today, "9999-12-31")?;
        let marks = store.homework_done(address.id(), Some(pupil.id.as_str()))?;
        let ticked: BTreeSet<String> =
            marks.into_iter().filter(|m| m.done && m.pupil == pupil.id.as_str()).map(|m| m.entry_id).collect();
        let views = items
            .into_iter()
            .filter(|i| i.due_on >= today && is_for(&dir, &i.audience, &pupil))
            .map(|item| {
                let mut v = view(&dir, &class.id, item);
                v.done = ticked.contains(&v.id);
                v
            })
            .collect();
        Ok((pupil, views))
    })?;
    Ok(found.as_ref().clone())
}

/// One pupil's tick on an entry, for its writers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PupilDone {
    /// The pupil's id.
    pub pupil: String,
    /// "Léa Moreau".
    pub name: String,
    /// Ticked.
    pub done: bool,
    /// Ticked by a guardian rather than the pupil.
    pub by_guardian: bool,
}

/// An entry and, for each pupil it is for, whether it is done.
pub async fn entry_with_ticks(
    state: &AppState,
    by: &SignedIn,
    class: &str,
    entry: &str,
) -> Result<(Class, EntryView, Vec<PupilDone>), AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let address = book_address(&school(&dir)?, &class)?;
    let (items, marks) = state.db.read(|store| {
        Ok((store.homework(&address.partition, "0000-01-01", "9999-12-31")?, store.homework_done(address.id(), None)?))
    })?;
    let item = items.into_iter().find(|i| i.entry_id == entry).ok_or(AppError::NotFound)?;
    let entry = view(&dir, &class.id, item);
    let ticks = dir
        .pupils_of(&class.id)
        .into_iter()
        .filter(|p| is_for(&dir, &entry.audience, p))
        .map(|p| {
            let mark = marks.iter().find(|m| m.entry_id == entry.id && m.pupil == p.id.as_str());
            PupilDone {
                pupil: p.id.to_string(),
                name: p.full_name(),
                done: mark.is_some_and(|m| m.done),
                by_guardian: mark.is_some_and(|m| m.done && m.by != p.id.as_str()),
            }
        })
        .collect();
    Ok((class, entry, ticks))
}

/// The cahier de textes.
pub const SERVICE: Service = Service {
    name: "homework",
    pages: routes,
    api: api_routes,
    tags: &[("homework", "The cahier de textes: lessons, work to do, pupils' ticks")],
    rules: &[crate::kind_rule!(HomeworkBook, check_change)],
    home: |h| Box::pin(home(h)),
    notices: &[notices::SOURCE],
    ..Service::NOTHING
};

/// A pupil's « à faire » list, as a home page shows it.
#[derive(Template)]
#[template(path = "homework/_todo.html")]
struct TodoPanel<'a> {
    c: &'a Chrome,
    todo: TodoList,
    back: &'a str,
}

impl TodoPanel<'_> {
    fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

async fn home(h: &Home<'_>) -> Result<HomePart, AppError> {
    let l = h.l();
    let mut tiles = Vec::new();
    for (i, class) in h.classes.iter().enumerate() {
        let label = format!("{} — {}", l.t("tile-homework"), class.class.name);
        tiles.push(Tile::new(Place::Class(i), format!("/classes/{}/homework", class.id), "homework", label));
    }
    if h.member.profile == Profile::Pupil {
        tiles.push(Tile::new(Place::Own, "/homework", "homework", l.t("tile-my-homework")));
    }
    let panel = match h.pupil {
        Some(pupil) => {
            let todo = TodoList::of(h.state, h.user, pupil).await?;
            let html = TodoPanel { c: h.chrome, todo, back: h.back }.render();
            Some(html.map_err(|e| AppError::Internal(format!("template: {e}")))?)
        }
        None => None,
    };
    Ok(HomePart { tiles, panel })
}
