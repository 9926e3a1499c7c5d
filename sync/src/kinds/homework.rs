//! The cahier de textes: one document per class and school year, holding what was done in
//! class, the work to do, and each pupil's "done" ticks.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::attachment::{Attachment, attachments_cell};
use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// One class's homework book for one school year (key: the year, e.g. `2026-2027`).
#[derive(Clone, Debug, Default, Reconcile, Hydrate)]
pub struct HomeworkBook {
    /// Entries by id (ids are random, so concurrent additions never conflict).
    pub entries: BTreeMap<String, HomeworkEntry>,
    /// "Done" ticks by [`DoneMark::key`]: one per entry and pupil, written by the pupil or
    /// a guardian, never by the entry's authors.
    pub done: BTreeMap<String, DoneMark>,
}

/// One entry of the cahier de textes: a class day's lesson and, optionally, work to do.
#[derive(Clone, Debug, Default, Reconcile, Hydrate)]
pub struct HomeworkEntry {
    /// Who it is for: empty for the whole class, else one of the class's levels ("CE1").
    pub audience: String,
    /// Discipline ("Mathématiques").
    pub subject: String,
    /// The work to do, in one line ("Exercices 3 et 4 p. 42"); empty for a lesson only.
    pub title: String,
    /// More about the work. Text, so that two teachers' offline edits both survive.
    pub details: Text,
    /// What was done in class that day (cahier de leçons). Text, for the same reason.
    pub lesson: Text,
    /// The class day it belongs to, `YYYY-MM-DD`.
    pub assigned_on: String,
    /// Date the work is due, `YYYY-MM-DD`; empty for a lesson only.
    pub due_on: String,
    /// Files, by content hash (the bytes live in the blob store).
    pub attachments: Vec<Attachment>,
    /// Creator's user id.
    pub author: String,
    /// Last editor's user id (the author at creation).
    pub edited_by: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
    /// Withdrawn by a teacher: hidden, but kept, so a concurrent edit is never lost.
    pub removed: bool,
}

/// A pupil's tick on an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct DoneMark {
    /// Ticked (true) or unticked again (false).
    pub done: bool,
    /// The pupil, or the guardian who ticked for a young child.
    pub by: String,
    /// Unix milliseconds.
    pub at: i64,
}

impl DoneMark {
    /// The map key of a pupil's tick on an entry.
    pub fn key(entry: &str, pupil: &str) -> String {
        format!("{entry}:{pupil}")
    }

    /// The (entry, pupil) of a key.
    pub fn split_key(key: &str) -> Option<(&str, &str)> {
        key.split_once(':')
    }
}

/// One entry as pages read it (from the read model, never from the document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomeworkItem {
    /// The book it belongs to.
    pub doc_id: String,
    /// Entry id within its book.
    pub entry_id: String,
    /// Empty (whole class) or a level.
    pub audience: String,
    /// Discipline.
    pub subject: String,
    /// The work, in one line.
    pub title: String,
    /// More about the work.
    pub details: String,
    /// What was done in class.
    pub lesson: String,
    /// The class day, `YYYY-MM-DD`.
    pub assigned_on: String,
    /// Date due, `YYYY-MM-DD`, or empty.
    pub due_on: String,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Creator.
    pub author: String,
    /// Last editor.
    pub edited_by: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
}

/// A tick as pages read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoneRow {
    /// Entry id.
    pub entry_id: String,
    /// The pupil.
    pub pupil: String,
    /// Ticked.
    pub done: bool,
    /// Who ticked.
    pub by: String,
    /// When.
    pub at: i64,
}

/// `homework_entry`: one row per cahier-de-textes entry.
pub(crate) const HOMEWORK_ENTRY: TableDef = TableDef::new(
    "homework_entry",
    &[
        "doc_id",
        "entry_id",
        "partition",
        "school_year",
        "subject",
        "title",
        "details",
        "assigned_on",
        "due_on",
        "author",
        "audience",
        "lesson",
        "attachments",
        "edited_by",
        "edited_at",
        "removed",
    ],
)
.with_files("attachments");

/// `homework_done`: one row per pupil's tick on an entry.
pub(crate) const HOMEWORK_DONE: TableDef =
    TableDef::new("homework_done", &["doc_id", "entry_id", "pupil", "done", "done_by", "done_at"]);

impl DocKind for HomeworkBook {
    const KIND: Kind = Kind::HomeworkBook;
    type State = HomeworkBook;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let doc = ctx.id.to_string();
        for (entry_id, e) in &state.entries {
            out.push(Row::new(
                Table::HomeworkEntry,
                vec![
                    doc.as_str().into(),
                    entry_id.as_str().into(),
                    ctx.partition.to_string().into(),
                    ctx.key.into(),
                    e.subject.as_str().into(),
                    e.title.as_str().into(),
                    e.details.as_str().into(),
                    e.assigned_on.as_str().into(),
                    e.due_on.as_str().into(),
                    e.author.as_str().into(),
                    e.audience.as_str().into(),
                    e.lesson.as_str().into(),
                    attachments_cell(&e.attachments).into(),
                    e.edited_by.as_str().into(),
                    e.edited_at.into(),
                    i64::from(e.removed).into(),
                ],
            ));
        }
        for (key, mark) in &state.done {
            let Some((entry, pupil)) = DoneMark::split_key(key) else { continue };
            out.push(Row::new(
                Table::HomeworkDone,
                vec![
                    doc.as_str().into(),
                    entry.into(),
                    pupil.into(),
                    i64::from(mark.done).into(),
                    mark.by.as_str().into(),
                    mark.at.into(),
                ],
            ));
        }
    }
}
