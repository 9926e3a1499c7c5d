//! The cahier de textes: one document per class and school year.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table};

/// One class's homework book for one school year (key: the year, e.g. `2026-2027`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct HomeworkBook {
    /// Entries by id (ids are unique, so concurrent additions never conflict).
    pub entries: BTreeMap<String, HomeworkEntry>,
}

/// One entry of the cahier de textes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct HomeworkEntry {
    /// Discipline ("Mathématiques").
    pub subject: String,
    /// Short title.
    pub title: String,
    /// The work to do.
    pub details: String,
    /// Date given, `YYYY-MM-DD`.
    pub assigned_on: String,
    /// Date due, `YYYY-MM-DD`.
    pub due_on: String,
    /// Author's user id.
    pub author: String,
}

/// One line of a class's homework list, as pages read it (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomeworkDue {
    /// Entry id within its book.
    pub entry_id: String,
    /// Discipline.
    pub subject: String,
    /// Short title.
    pub title: String,
    /// The work to do.
    pub details: String,
    /// Date due, `YYYY-MM-DD`.
    pub due_on: String,
}

impl DocKind for HomeworkBook {
    const KIND: Kind = Kind::HomeworkBook;
    type State = HomeworkBook;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        for (entry_id, e) in &state.entries {
            out.push(Row::new(
                Table::HomeworkEntry,
                vec![
                    ctx.id.to_string().into(),
                    entry_id.as_str().into(),
                    ctx.partition.to_string().into(),
                    ctx.key.into(),
                    e.subject.as_str().into(),
                    e.title.as_str().into(),
                    e.details.as_str().into(),
                    e.assigned_on.as_str().into(),
                    e.due_on.as_str().into(),
                    e.author.as_str().into(),
                ],
            ));
        }
    }
}
