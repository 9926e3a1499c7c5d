//! A convention between a commune and the rectorat (partition `commune/{insee}`, key a
//! random id): its dates and status, the schools it names and, for each school the académie
//! activated, the classes it covers. Held by the hub and the commune's schools: a school's
//! server knows, offline, which of its classes are open to pupils and families.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::commune::insee_of;
use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The statuses of a convention, in the order it goes through them.
pub const STATUSES: [&str; 3] = ["draft", "signed", "ended"];

/// A convention. Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Convention {
    /// What the parties call it (« Convention ENT 2026-2029 »).
    pub title: String,
    /// `draft`, `signed` or `ended` ([`STATUSES`]).
    pub status: String,
    /// When it was signed (empty while a draft).
    pub signed_on: String,
    /// First day it covers.
    pub starts_on: String,
    /// Last day it covers.
    pub ends_on: String,
    /// Ended before its term: its last day (empty otherwise).
    pub ended_on: String,
    /// The schools it names, by UAI.
    pub schools: BTreeMap<String, ConventionSchool>,
    /// Who last changed it (a console account id) and when (Unix milliseconds).
    pub edited_by: String,
    /// See `edited_by`.
    pub edited_at: i64,
}

/// A school a convention names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct ConventionSchool {
    /// When the académie activated it (empty: named, not yet activated).
    pub activated_on: String,
    /// The classes covered, by class id.
    pub classes: BTreeMap<String, CoveredClass>,
}

/// A class a convention covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct CoveredClass {
    /// Its name when covered (the school may rename it).
    pub name: String,
    /// First day of its latest period.
    pub since: String,
    /// Last day of its latest period, when the académie withdrew it (empty: to the
    /// convention's end).
    pub until: String,
    /// Its earlier periods (first and last day), kept: a count at a past day still sees them.
    pub past: Vec<Period>,
}

/// A closed period of coverage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Period {
    /// First day.
    pub since: String,
    /// Last day.
    pub until: String,
}

impl CoveredClass {
    /// Its periods, the latest last: (first day, last day or empty).
    pub fn periods(&self) -> impl Iterator<Item = (&str, &str)> {
        self.past
            .iter()
            .map(|p| (p.since.as_str(), p.until.as_str()))
            .chain([(self.since.as_str(), self.until.as_str())])
    }
}

impl Convention {
    /// The last day it covers anything: its term, or the day it ended early.
    pub fn last_day(&self) -> &str {
        if self.ended_on.is_empty() { &self.ends_on } else { &self.ended_on }
    }

    /// Whether it covers `class` of `uai` on `day` (`YYYY-MM-DD`): signed or ended (never a
    /// draft), the day within its own and one of the class's periods.
    pub fn covers(&self, uai: &str, class: &str, day: &str) -> bool {
        self.status != "draft"
            && self.starts_on.as_str() <= day
            && day <= self.last_day()
            && self
                .schools
                .get(uai)
                .and_then(|s| s.classes.get(class))
                .is_some_and(|c| c.periods().any(|(since, until)| since <= day && (until.is_empty() || day <= until)))
    }
}

/// `convention`: one row per convention.
pub(crate) const CONVENTION: TableDef = TableDef::new(
    "convention",
    &["doc_id", "convention_id", "insee", "title", "status", "signed_on", "starts_on", "ends_on", "ended_on"],
);

/// `convention_school`: one row per school a convention names.
pub(crate) const CONVENTION_SCHOOL: TableDef =
    TableDef::new("convention_school", &["doc_id", "uai", "insee", "activated_on"]);

/// `convention_class`: one row per period of a class a convention covers.
pub(crate) const CONVENTION_CLASS: TableDef =
    TableDef::new("convention_class", &["doc_id", "uai", "class_id", "period", "name", "since", "until"]);

impl DocKind for Convention {
    const KIND: Kind = Kind::Convention;
    type State = Convention;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let id = ctx.id.to_string();
        let insee = insee_of(ctx);
        out.push(Row::new(
            Table::Convention,
            vec![
                id.as_str().into(),
                ctx.key.into(),
                insee.as_str().into(),
                state.title.as_str().into(),
                state.status.as_str().into(),
                state.signed_on.as_str().into(),
                state.starts_on.as_str().into(),
                state.ends_on.as_str().into(),
                state.ended_on.as_str().into(),
            ],
        ));
        for (uai, school) in &state.schools {
            out.push(Row::new(
                Table::ConventionSchool,
                vec![
                    id.as_str().into(),
                    uai.as_str().into(),
                    insee.as_str().into(),
                    school.activated_on.as_str().into(),
                ],
            ));
            for (class, c) in &school.classes {
                for (period, (since, until)) in c.periods().enumerate() {
                    out.push(Row::new(
                        Table::ConventionClass,
                        vec![
                            id.as_str().into(),
                            uai.as_str().into(),
                            class.as_str().into(),
                            (period as i64).into(),
                            c.name.as_str().into(),
                            since.into(),
                            until.into(),
                        ],
                    ));
                }
            }
        }
    }
}

/// What a school's pages need of a convention that activated it (from the read models).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchoolConvention {
    /// The convention's id (its document key).
    pub id: String,
    /// The commune's INSEE code and name.
    pub insee: String,
    /// See `insee`.
    pub commune: String,
    /// Its title.
    pub title: String,
    /// `signed` or `ended` (drafts cover nothing).
    pub status: String,
    /// Its dates (`YYYY-MM-DD`; `ended_on` empty unless it ended early).
    pub starts_on: String,
    /// See `starts_on`.
    pub ends_on: String,
    /// See `starts_on`.
    pub ended_on: String,
    /// When the académie activated the school under it.
    pub activated_on: String,
    /// The periods of the classes it covers: id, name when covered, first and last day
    /// (empty: its end); a class covered, withdrawn and covered again has two.
    pub classes: Vec<(String, String, String, String)>,
}

impl SchoolConvention {
    /// The last day it covers anything: its end, or the day it ended early.
    pub fn last_day(&self) -> &str {
        if self.ended_on.is_empty() { &self.ends_on } else { &self.ended_on }
    }
}
