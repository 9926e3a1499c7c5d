//! The agenda: one document per event, in its partition — the school's (school events and
//! holidays), a class's, or the staff room's for a staff member's personal events.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// Kinds of events.
pub const CATEGORIES: [&str; 2] = ["", "holiday"];

/// One event (key: a random id).
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct AgendaEvent {
    /// Title.
    pub title: String,
    /// More about it.
    pub description: String,
    /// Where.
    pub location: String,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub ends_on: String,
    /// `HH:MM` on the first day, or empty for a whole-day event.
    pub start_time: String,
    /// `HH:MM` on the last day, or empty.
    pub end_time: String,
    /// `""` or `"holiday"` (school holidays): one of [`CATEGORIES`].
    pub category: String,
    /// Personal events (staff room partition): their owner, the only one who sees them.
    pub owner: String,
    /// Creator.
    pub author: String,
    /// Last editor.
    pub edited_by: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
    /// Withdrawn: hidden, kept.
    pub withdrawn: bool,
}

/// An event as pages and feeds read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    /// Its partition.
    pub partition: String,
    /// Its id.
    pub event_id: String,
    /// The event.
    pub event: AgendaEvent,
}

/// `agenda_event`: one row per event.
pub(crate) const AGENDA_EVENT: TableDef = TableDef::new(
    "agenda_event",
    &[
        "doc_id",
        "partition",
        "event_id",
        "title",
        "description",
        "location",
        "starts_on",
        "ends_on",
        "start_time",
        "end_time",
        "category",
        "owner",
        "author",
        "edited_by",
        "edited_at",
        "withdrawn",
    ],
);

impl DocKind for AgendaEvent {
    const KIND: Kind = Kind::AgendaEvent;
    type State = AgendaEvent;

    fn project(ctx: &ProjectionContext<'_>, e: &Self, out: &mut Vec<Row>) {
        out.push(Row::new(
            Table::AgendaEvent,
            vec![
                ctx.id.to_string().into(),
                ctx.partition.to_string().into(),
                ctx.key.into(),
                e.title.as_str().into(),
                e.description.as_str().into(),
                e.location.as_str().into(),
                e.starts_on.as_str().into(),
                e.ends_on.as_str().into(),
                e.start_time.as_str().into(),
                e.end_time.as_str().into(),
                e.category.as_str().into(),
                e.owner.as_str().into(),
                e.author.as_str().into(),
                e.edited_by.as_str().into(),
                e.edited_at.into(),
                i64::from(e.withdrawn).into(),
            ],
        ));
    }
}
