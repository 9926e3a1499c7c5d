//! The cahier de textes: what was done in class and the work to do, per class (or one of a
//! multi-level class's levels) and per day; pupils' "done" ticks. One `HomeworkBook`
//! document per class and school year, in the class's partition; pages read the
//! `homework_entry` and `homework_done` read models.
//!
//! Who may write what is one rule, [`check_change`], applied to every local edit and, by the
//! replication policy, to every change that arrives from another replica.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
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
use crate::web::{AppState, Chrome, Ctx, SignedIn, render, render_status};

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

// ---- where it lives ----

/// A class's cahier de textes for its school year.
pub fn book_address(uai: &Uai, class: &Class) -> Result<DocAddress, AppError> {
    let year = DocKey::parse(&class.class.school_year)
        .map_err(|_| AppError::Internal(format!("class {} has no valid school year", class.id)))?;
    Ok(DocAddress::new(class_partition(uai, &class.id), Kind::HomeworkBook, year))
}

fn school(dir: &Directory) -> Result<Uai, AppError> {
    dir.uai().cloned().ok_or(AppError::NotFound)
}

// ---- who may do what ----

/// Ticks a pupil's work: the pupil, or one of their legal guardians.
pub fn ticks_for(dir: &Directory, user: &UserId, pupil: &Member) -> bool {
    *user == pupil.id || dir.is_legal_guardian(user, &pupil.id)
}

/// Reads a class's cahier: its writers, its pupils, their guardians.
fn reads_book(dir: &Directory, user: &UserId, class: &Class) -> bool {
    let in_class = |p: &Member| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str();
    dir.teaches(user, class)
        || dir.member(user).is_some_and(in_class)
        || dir.children_of(user).into_iter().any(in_class)
}

/// A pupil whose work `user` may see: themselves, their guardians, their class's writers.
fn visible_pupil(dir: &Directory, user: &SignedIn, id: &str) -> Result<(Member, Class), AppError> {
    let pupil = dir.member(&UserId::parse(id)?).filter(|m| m.profile == Profile::Pupil && !m.person.archived);
    let pupil = pupil.ok_or(AppError::NotFound)?;
    let class = dir.class_of(pupil).ok_or(AppError::NotFound)?;
    let sees = user.user == pupil.id
        || dir.guardians_of(&pupil.id).iter().any(|(g, _)| g.id == user.user)
        || dir.teaches(&user.user, class);
    if sees { Ok((pupil.clone(), class.clone())) } else { Err(AppError::NotFound) }
}

// ---- the rule ----

fn same_entry(a: &HomeworkEntry, b: &HomeworkEntry) -> bool {
    a.audience == b.audience
        && a.subject == b.subject
        && a.title == b.title
        && a.details.as_str() == b.details.as_str()
        && a.lesson.as_str() == b.lesson.as_str()
        && a.assigned_on == b.assigned_on
        && a.due_on == b.due_on
        && a.attachments == b.attachments
        && a.author == b.author
        && a.edited_by == b.edited_by
        && a.edited_at == b.edited_at
        && a.removed == b.removed
}

/// Whether `after` may follow `before` in the cahier of the class at `partition`: entries
/// are written by the class's teachers and the director (and never deleted, only
/// withdrawn); a tick is written by its pupil or a legal guardian, for a pupil of the class
/// and an entry of the book. Checked on every local edit and every change from a peer.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &HomeworkBook,
    after: &HomeworkBook,
) -> Result<(), String> {
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: not a class of this school"))?;
    for (id, old) in &before.entries {
        if !after.entries.contains_key(id) {
            return Err(format!("entry {id} deleted (entries are withdrawn, never deleted)"));
        }
        let new = &after.entries[id];
        if !same_entry(old, new) && new.author != old.author {
            return Err(format!("entry {id}: its author changed"));
        }
    }
    let changed =
        after.entries.iter().filter(|(id, new)| before.entries.get(*id).is_none_or(|old| !same_entry(old, new)));
    for (id, entry) in changed {
        if entry.attachments.len() > MAX_FILES || !entry.attachments.iter().all(crate::platform::files::is_reference) {
            return Err(format!("entry {id}: malformed or too many attachments"));
        }
        let editor = UserId::parse(&entry.edited_by).map_err(|_| format!("entry {id}: no editor"))?;
        if !dir.teaches(&editor, class) {
            return Err(format!("entry {id}: {editor} does not write this class's cahier"));
        }
        if !before.entries.contains_key(id) && entry.author != entry.edited_by {
            return Err(format!("entry {id}: created on someone else's behalf"));
        }
    }
    if after.entries.len() > MAX_ENTRIES {
        return Err(format!("{} entries (at most {MAX_ENTRIES})", after.entries.len()));
    }
    for key in before.done.keys() {
        if !after.done.contains_key(key) {
            return Err(format!("tick {key} deleted"));
        }
    }
    for (key, mark) in after.done.iter().filter(|(k, m)| before.done.get(*k) != Some(m)) {
        let (entry, pupil) = DoneMark::split_key(key).ok_or_else(|| format!("tick {key}: malformed key"))?;
        if !after.entries.contains_key(entry) {
            return Err(format!("tick {key}: no such entry"));
        }
        let pupil = UserId::parse(pupil)
            .ok()
            .and_then(|p| dir.member(&p))
            .filter(|p| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str())
            .ok_or_else(|| format!("tick {key}: not a pupil of this class"))?;
        let by = UserId::parse(&mark.by).map_err(|_| format!("tick {key}: no author"))?;
        if !ticks_for(dir, &by, pupil) {
            return Err(format!("tick {key}: {by} ticks neither for themselves nor for their child"));
        }
    }
    Ok(())
}

/// Edits a class's cahier under its rule.
async fn edit_book<R: Send + 'static>(
    state: &AppState,
    class: &Class,
    edit: impl FnOnce(&mut HomeworkBook) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    let address = book_address(&school(&state.directory())?, class)?;
    crate::school::edit::under_rule::<HomeworkBook, R>(state, address, check_change, edit).await
}

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
    add: Vec<preau_sync::kinds::homework::Attachment>,
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
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let (from, to) = span(from, to)?;
    let address = book_address(&school(&dir)?, &class)?;
    let (items, marks) = state.db.read(|store| {
        Ok((store.homework(&address.partition, &from, &to)?, store.homework_done(address.id(), None)?))
    })?;
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
}

/// A pupil's work due from today on, by due date, with their ticks.
pub async fn todo(state: &AppState, by: &SignedIn, pupil: &str) -> Result<(Member, Vec<EntryView>), AppError> {
    let dir = state.directory();
    let (pupil, class) = visible_pupil(&dir, by, pupil)?;
    let address = book_address(&school(&dir)?, &class)?;
    let today = crate::platform::clock::today();
    let (items, marks) = state.db.read(|store| {
        Ok((
            store.homework(&address.partition, &today, "9999-12-31")?,
            store.homework_done(address.id(), Some(pupil.id.as_str()))?,
        ))
    })?;
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

// ---- pages ----

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/classes/{id}/homework", week_page)
        .post("/classes/{id}/homework", create_form)
        .get("/classes/{id}/homework/print", print_page)
        .get("/classes/{id}/homework/{entry}", entry_page)
        .post("/classes/{id}/homework/{entry}", update_form)
        .post("/classes/{id}/homework/{entry}/remove", remove_form)
        .get("/classes/{id}/homework/{entry}/files/{hash}", file_download)
        .get("/homework", my_todo_page)
        .post("/pupils/{id}/homework/{entry}/done", done_form)
}

/// `?week=YYYY-MM-DD` (any day of the week shown).
#[derive(Deserialize)]
pub struct WeekQuery {
    /// A day of the week to show; this week by default.
    #[serde(default)]
    pub week: String,
}

/// `?from=&to=`.
#[derive(Deserialize)]
pub struct SpanQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

/// One day of the week page.
struct Day {
    iso: String,
    label: String,
    entries: Vec<EntryView>,
}

#[derive(Template)]
#[template(path = "homework_week.html")]
struct WeekPage {
    c: Chrome,
    class: Class,
    days: Vec<Day>,
    due: Vec<EntryView>,
    prev: String,
    next: String,
    from: String,
    to: String,
    form: EntryForm,
    error: Option<String>,
    subjects: &'static [&'static str],
    audiences: Vec<(String, String)>,
}

/// The entry form's values (kept when a refusal shows the form again).
#[derive(Clone, Default)]
pub struct EntryForm {
    audience: String,
    subject: String,
    assigned_on: String,
    lesson: String,
    title: String,
    details: String,
    due_on: String,
}

impl From<EntryForm> for EntryInput {
    fn from(f: EntryForm) -> Self {
        EntryInput {
            audience: f.audience,
            subject: f.subject,
            assigned_on: f.assigned_on,
            lesson: f.lesson,
            title: f.title,
            details: f.details,
            due_on: f.due_on,
        }
    }
}

/// Subjects offered (any other may be typed).
const SUBJECTS: &[&str] = &[
    "Français",
    "Mathématiques",
    "Questionner le monde",
    "Sciences",
    "Histoire",
    "Géographie",
    "Langue vivante",
    "Arts plastiques",
    "Éducation musicale",
    "EPS",
    "EMC",
];

async fn week_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    show_week(&state, &ctx, &id, &q.week, EntryForm::default(), None).await
}

async fn show_week(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    week: &str,
    mut form: EntryForm,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let day = if week.is_empty() { crate::platform::clock::today() } else { week.to_owned() };
    let monday = text::monday_of(text::date(&day, "homework-bad-date")?);
    let sunday = monday + time::Duration::days(6);
    let (class, entries) = class_entries(state, user, id, &text::iso(monday), &text::iso(sunday)).await?;
    let l = &ctx.locale;
    let days = (0..7)
        .map(|i| monday + time::Duration::days(i))
        .map(|d| Day {
            iso: text::iso(d),
            label: l.weekday_date(&text::iso(d)),
            entries: entries.iter().filter(|e| e.assigned_on == text::iso(d)).cloned().collect(),
        })
        .filter(|d| !d.entries.is_empty() || d.iso == crate::platform::clock::today())
        .collect();
    let due = entries.iter().filter(|e| !e.due_on.is_empty() && e.due_on >= text::iso(monday)).cloned().collect();
    if form.assigned_on.is_empty() {
        form.assigned_on = crate::platform::clock::today();
    }
    let audiences = audiences(&state.directory(), &class);
    let page = WeekPage {
        c: Chrome::new(ctx),
        class,
        days,
        due,
        prev: text::iso(monday - time::Duration::days(7)),
        next: text::iso(monday + time::Duration::days(7)),
        from: text::iso(monday),
        to: text::iso(sunday),
        form,
        error: error.map(|e| l.t(e.message_id())),
        subjects: SUBJECTS,
        audiences,
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

impl WeekPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

/// The entry form's fields and files.
fn entry_form(form: MultipartForm) -> (EntryForm, FileChanges) {
    let fields = EntryForm {
        audience: form.value("audience"),
        subject: form.value("subject"),
        assigned_on: form.value("assigned_on"),
        lesson: form.value("lesson"),
        title: form.value("title"),
        details: form.value("details"),
        due_on: form.value("due_on"),
    };
    let files = FileChanges {
        remove: form.values("remove"),
        add: form.files.into_iter().filter(|f| f.field == "files").collect(),
    };
    (fields, files)
}

async fn create_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (form, files) = entry_form(form);
    match save_entry(&state, user, &id, None, form.clone().into(), files).await {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/homework?week={}", form.assigned_on)).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_week(&state, &ctx, &id, "", form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "homework_entry.html")]
struct EntryPage {
    c: Chrome,
    class: Class,
    entry: EntryView,
    ticks: Vec<PupilDone>,
    form: EntryForm,
    error: Option<String>,
    subjects: &'static [&'static str],
    audiences: Vec<(String, String)>,
}

impl EntryPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

async fn show_entry(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    entry: &str,
    form: Option<EntryForm>,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (class, entry, ticks) = entry_with_ticks(state, ctx.user()?, id, entry).await?;
    let form = form.unwrap_or_else(|| EntryForm {
        audience: entry.audience.clone(),
        subject: entry.subject.clone(),
        assigned_on: entry.assigned_on.clone(),
        lesson: entry.lesson.clone(),
        title: entry.title.clone(),
        details: entry.details.clone(),
        due_on: entry.due_on.clone(),
    });
    let audiences = audiences(&state.directory(), &class);
    let page = EntryPage {
        c: Chrome::new(ctx),
        class,
        entry,
        ticks,
        form,
        error: error.map(|e| ctx.locale.t(e.message_id())),
        subjects: SUBJECTS,
        audiences,
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn entry_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Response, AppError> {
    show_entry(&state, &ctx, &id, &entry, None, None).await
}

async fn update_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let (form, files) = entry_form(form);
    match save_entry(&state, ctx.user()?, &id, Some(entry.clone()), form.clone().into(), files).await {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/homework?week={}", form.assigned_on)).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_entry(&state, &ctx, &id, &entry, Some(form), Some(&e)).await,
        Err(e) => Err(e),
    }
}

async fn remove_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    remove_entry(&state, ctx.user()?, &id, &entry).await?;
    Ok(Redirect::to(&format!("/classes/{id}/homework")).into_response())
}

#[derive(Template)]
#[template(path = "homework_print.html")]
struct PrintPage {
    c: Chrome,
    class: Class,
    school: String,
    from: String,
    to: String,
    days: Vec<Day>,
}

impl PrintPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

async fn print_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<SpanQuery>,
) -> Result<Response, AppError> {
    let (class, entries) = class_entries(&state, ctx.user()?, &id, &q.from, &q.to).await?;
    let mut by_day: BTreeMap<String, Vec<EntryView>> = BTreeMap::new();
    for e in entries.into_iter().filter(|e| e.assigned_on >= q.from && e.assigned_on <= q.to) {
        by_day.entry(e.assigned_on.clone()).or_default().push(e);
    }
    let l = &ctx.locale;
    let days = by_day.into_iter().map(|(iso, entries)| Day { label: l.weekday_date(&iso), iso, entries }).collect();
    let school = state.directory().school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    render(&PrintPage { c: Chrome::new(&ctx), class, school, from: q.from, to: q.to, days })
}

/// Hands an entry's attached file to someone who reads the class's cahier.
async fn file_download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, entry, hash)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let class =
        dir.classes.get(&ClassId::parse(&id)?).filter(|c| reads_book(&dir, &user.user, c)).ok_or(AppError::NotFound)?;
    let address = book_address(&school(&dir)?, class)?;
    let items = state.db.read(|store| Ok(store.homework(&address.partition, "0000-01-01", "9999-12-31")?))?;
    let item = items.into_iter().find(|i| i.entry_id == entry).ok_or(AppError::NotFound)?;
    let attachment = item.attachments.into_iter().find(|a| a.hash == hash).ok_or(AppError::NotFound)?;
    // A file whose bytes have not reached this replica yet is missing, like an unknown one.
    let bytes = state.files.get(&attachment.hash).await?.ok_or(AppError::NotFound)?;
    Ok(crate::web::files::download(&attachment, bytes))
}

/// The "à faire" list of one pupil, as the pupil's home, `/homework` and a parent's child
/// page show it.
pub struct TodoList {
    /// The pupil's id (the tick forms post for them).
    pub pupil: String,
    /// Their first name.
    pub first_name: String,
    /// Work due from today on.
    pub entries: Vec<EntryView>,
}

impl TodoList {
    /// The list of `pupil` as `by` sees it.
    pub async fn of(state: &AppState, by: &SignedIn, pupil: &UserId) -> Result<Self, AppError> {
        let (pupil, entries) = todo(state, by, pupil.as_str()).await?;
        Ok(Self { pupil: pupil.id.to_string(), first_name: pupil.person.first_name.clone(), entries })
    }
}

#[derive(Template)]
#[template(path = "homework_todo.html")]
struct TodoPage {
    c: Chrome,
    todo: TodoList,
}

impl TodoPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

async fn my_todo_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if user.profile != Profile::Pupil {
        return Err(AppError::NotFound);
    }
    let todo = TodoList::of(&state, user, &user.user).await?;
    render(&TodoPage { c: Chrome::new(&ctx), todo })
}

#[derive(Deserialize)]
struct DoneForm {
    done: String,
    #[serde(default)]
    back: String,
}

async fn done_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((pupil, entry)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DoneForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let done = match form.done.as_str() {
        "1" => true,
        "0" => false,
        other => return Err(AppError::bad("error-bad-form", format!("done {other:?}"))),
    };
    // Back to the page the tick was made on.
    let back = crate::web::local_path(&form.back, "/".into())?;
    set_done(&state, user, &pupil, &entry, done).await?;
    Ok(Redirect::to(&back).into_response())
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_class_entries, api_create))
        .routes(routes!(api_update, api_remove))
        .routes(routes!(api_ticks))
        .routes(routes!(api_attach))
        .routes(routes!(api_detach))
        .routes(routes!(api_todo))
        .routes(routes!(api_set_done))
}

/// Whether a pupil's work is done.
#[derive(Deserialize, ToSchema)]
pub struct Done {
    /// Ticked (true) or not.
    pub done: bool,
}

/// A class's cahier for a span of days (its teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Class id"),
        ("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD"), ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD")),
    responses((status = 200, body = Vec<EntryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_class_entries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    Query(q): Query<SpanQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(class_entries(&state, &user, &id, &q.from, &q.to).await?.1))
}

/// Writes a new entry in a class's cahier.
#[utoipa::path(post, path = "/api/v1/classes/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Class id")), request_body = EntryInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EntryInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = save_entry(&state, &user, &id, None, body, FileChanges::default()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Rewrites an entry.
#[utoipa::path(put, path = "/api/v1/classes/{id}/homework/{entry}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")), request_body = EntryInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    ApiJson(body): ApiJson<EntryInput>,
) -> Result<StatusCode, ApiError> {
    save_entry(&state, &user, &id, Some(entry), body, FileChanges::default()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws an entry.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/homework/{entry}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove_entry(&state, &user, &id, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attaches files to an entry (multipart: `files`, repeatable, 10 at most).
#[utoipa::path(post, path = "/api/v1/classes/{id}/homework/{entry}/files", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    request_body(content_type = "multipart/form-data", description = "`files`, repeatable"),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_attach(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<StatusCode, ApiError> {
    // Allowed before the files are read.
    state.directory().taught_class(&user.user, &id)?;
    let form = MultipartForm::read(multipart, MAX_FILES, "homework-too-many-files").await?;
    let add = form.files.into_iter().filter(|f| f.field == "files").collect();
    change_files(&state, &user, &id, &entry, FileChanges { add, remove: Vec::new() }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a file off an entry.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/homework/{entry}/files/{hash}", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id"), ("hash" = String, Path, description = "The file's hash")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_detach(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry, hash)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    change_files(&state, &user, &id, &entry, FileChanges { add: Vec::new(), remove: vec![hash] }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who has done an entry's work (its class's teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/homework/{entry}/done", tag = "homework",
    params(("id" = String, Path, description = "Class id"), ("entry" = String, Path, description = "Entry id")),
    responses((status = 200, body = Vec<PupilDone>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_ticks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Json<Vec<PupilDone>>, ApiError> {
    Ok(Json(entry_with_ticks(&state, &user, &id, &entry).await?.2))
}

/// A pupil's work due from today on (the pupil, their guardians, their class's teachers).
#[utoipa::path(get, path = "/api/v1/pupils/{id}/homework", tag = "homework", params(("id" = String, Path, description = "Pupil id")),
    responses((status = 200, body = Vec<EntryView>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_todo(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    Ok(Json(todo(&state, &user, &id).await?.1))
}

/// Ticks (or unticks) a pupil's work (the pupil or a legal guardian).
#[utoipa::path(put, path = "/api/v1/pupils/{id}/homework/{entry}/done", tag = "homework",
    params(("id" = String, Path, description = "Pupil id"), ("entry" = String, Path, description = "Entry id")), request_body = Done,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_set_done(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, entry)): Path<(String, String)>,
    ApiJson(body): ApiJson<Done>,
) -> Result<StatusCode, ApiError> {
    set_done(&state, &user, &id, &entry, body.done).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The cahier de textes.
pub const SERVICE: Service = Service {
    name: "homework",
    pages: routes,
    api: api_routes,
    tags: &[("homework", "The cahier de textes: lessons, work to do, pupils' ticks")],
    rules: &[crate::kind_rule!(HomeworkBook, check_change)],
    home: |h| Box::pin(home(h)),
    ..Service::NOTHING
};

/// A pupil's « à faire » list, as a home page shows it.
#[derive(Template)]
#[template(path = "_todo.html")]
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
