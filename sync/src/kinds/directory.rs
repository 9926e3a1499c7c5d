//! The school directory: the school, its classes and groups, its people and who is whose
//! guardian. One document per school (a few hundred people): the director edits it, every
//! replica of the school reads it.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The document key of a school's directory (partition `school/{uai}`).
pub const DIRECTORY_KEY: &str = "directory";

/// A school's structures and people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SchoolDirectory {
    /// The school itself.
    pub school: SchoolInfo,
    /// Classes by class id (ids are random, so concurrent creations never collide).
    pub classes: BTreeMap<String, SchoolClass>,
    /// Groups inside the school, by group id.
    pub groups: BTreeMap<String, Group>,
    /// Everyone with an account at this school, by user id.
    pub people: BTreeMap<String, Person>,
    /// Guardianships by `{parent}:{child}`: one entry per parent and child.
    pub guardianships: BTreeMap<String, Guardianship>,
}

/// The school's public identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SchoolInfo {
    /// "École élémentaire Les Tilleuls".
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postcode.
    pub postcode: String,
    /// The commune (municipality) the school belongs to.
    pub commune: String,
    /// The académie.
    pub academy: String,
    /// Teachers' computers may sync with the académie's server when away from school (the
    /// director's choice; off until she makes it). Absent from directories written before it.
    #[autosurgeon(missing = "Default::default")]
    pub away_sync: bool,
    /// No e-mail notification leaves the hub for this school's people during the school
    /// holidays its agenda lists (the director's choice; off until she makes it): what
    /// happened is sent, merged, when they end. Absent from directories written before it.
    #[autosurgeon(missing = "Default::default")]
    pub holiday_pause: bool,
}

/// A class of one school year; it may span several levels (classe multi-niveaux).
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SchoolClass {
    /// Name as the school writes it ("CE1-CE2 B").
    pub name: String,
    /// Levels taught ("CP", "CE1", ...), in order.
    pub levels: Vec<String>,
    /// School year, `2026-2027`.
    pub school_year: String,
    /// User ids of the class's teachers.
    pub teachers: Vec<String>,
    /// Classes of past years are kept (history) but archived.
    pub archived: bool,
    /// Pupils' messages are delivered without a teacher's approval (off: held for it).
    pub unmoderated: bool,
    /// Pupils may write to their classmates (off: only to their teachers).
    pub classmates: bool,
    /// Open to the pupils' families: until the director or a teacher of the class opens
    /// it, its pupils' parents are not on the ENT for that child (the académie's
    /// convention leaves it to the school). Classes written before it were open.
    #[autosurgeon(missing = "open_before_it_was_asked")]
    pub families_open: bool,
}

/// Classes of directories written before [`SchoolClass::families_open`] existed were open
/// to families: they keep what they had.
fn open_before_it_was_asked() -> bool {
    true
}

/// A group of people inside a school (a workshop, a choir, the parents' council).
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Group {
    /// Name.
    pub name: String,
    /// Member user ids.
    pub members: Vec<String>,
}

/// One person known to the school.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Person {
    /// `director`, `teacher`, `pupil`, `parent`, `staff` or `academy_admin`.
    pub profile: String,
    /// For staff: `atsem`, `aesh`, `periscolaire` or `commune`.
    pub staff_role: String,
    /// Civility of adults ("M.", "Mme").
    pub civility: String,
    /// First name.
    pub first_name: String,
    /// Last name (nom d'usage).
    pub last_name: String,
    /// Birth name when it differs (nom de famille).
    pub birth_name: String,
    /// Pupils: `YYYY-MM-DD`.
    pub birth_date: String,
    /// Pupils: `F` or `M`.
    pub sex: String,
    /// Pupils: their level this year ("CE1").
    pub level: String,
    /// Pupils: their current class id.
    pub class_id: String,
    /// Pupils: may photos showing them be published (ONDE "Autorisations photos")? None: unknown.
    pub photo_consent: Option<bool>,
    /// Adults: e-mail address.
    pub email: String,
    /// Adults: phone number.
    pub phone: String,
    /// Postal address, one line.
    pub address: String,
    /// No longer at the school (kept until the legal deletion delay).
    pub archived: bool,
}

/// A parent's guardianship of one child: per child, so that separated and foster families
/// are described exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Guardianship {
    /// The parent's user id.
    pub parent: String,
    /// The child's user id.
    pub child: String,
    /// Legal guardian (responsable légal): receives everything about the child.
    pub legal: bool,
}

impl Guardianship {
    /// The map key of a guardianship.
    pub fn key(parent: &str, child: &str) -> String {
        format!("{parent}:{child}")
    }
}

/// `school`: one row per school directory.
pub(crate) const SCHOOL: TableDef = TableDef::new(
    "school",
    &["doc_id", "uai", "name", "address", "postcode", "commune", "academy", "away_sync", "holiday_pause"],
);

/// `school_class`: one row per class.
pub(crate) const SCHOOL_CLASS: TableDef = TableDef::new(
    "school_class",
    &[
        "doc_id",
        "class_id",
        "uai",
        "name",
        "levels",
        "school_year",
        "teachers",
        "archived",
        "unmoderated",
        "classmates",
        "families_open",
    ],
);

/// `school_group`: one row per group.
pub(crate) const SCHOOL_GROUP: TableDef =
    TableDef::new("school_group", &["doc_id", "group_id", "uai", "name", "members"]);

/// `person`: one row per person of a school.
pub(crate) const PERSON: TableDef = TableDef::new(
    "person",
    &[
        "doc_id",
        "user_id",
        "uai",
        "profile",
        "staff_role",
        "civility",
        "first_name",
        "last_name",
        "birth_name",
        "birth_date",
        "sex",
        "level",
        "class_id",
        "photo_consent",
        "email",
        "phone",
        "address",
        "archived",
    ],
);

/// `guardianship`: one row per parent and child.
pub(crate) const GUARDIANSHIP: TableDef = TableDef::new("guardianship", &["doc_id", "parent", "child", "legal"]);

impl DocKind for SchoolDirectory {
    const KIND: Kind = Kind::SchoolDirectory;
    type State = SchoolDirectory;
    const READ_BY_POLICIES: bool = true;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let doc = || ctx.id.to_string().into();
        let school = ctx.partition.school().map(ToString::to_string).unwrap_or_default();
        let s = &state.school;
        out.push(Row::new(
            Table::School,
            vec![
                doc(),
                school.as_str().into(),
                s.name.as_str().into(),
                s.address.as_str().into(),
                s.postcode.as_str().into(),
                s.commune.as_str().into(),
                s.academy.as_str().into(),
                i64::from(s.away_sync).into(),
                i64::from(s.holiday_pause).into(),
            ],
        ));
        for (id, c) in &state.classes {
            out.push(Row::new(
                Table::SchoolClass,
                vec![
                    doc(),
                    id.as_str().into(),
                    school.as_str().into(),
                    c.name.as_str().into(),
                    c.levels.join(",").into(),
                    c.school_year.as_str().into(),
                    c.teachers.join(",").into(),
                    i64::from(c.archived).into(),
                    i64::from(c.unmoderated).into(),
                    i64::from(c.classmates).into(),
                    i64::from(c.families_open).into(),
                ],
            ));
        }
        for (id, g) in &state.groups {
            out.push(Row::new(
                Table::SchoolGroup,
                vec![
                    doc(),
                    id.as_str().into(),
                    school.as_str().into(),
                    g.name.as_str().into(),
                    g.members.join(",").into(),
                ],
            ));
        }
        for (id, p) in &state.people {
            out.push(Row::new(
                Table::Person,
                vec![
                    doc(),
                    id.as_str().into(),
                    school.as_str().into(),
                    p.profile.as_str().into(),
                    p.staff_role.as_str().into(),
                    p.civility.as_str().into(),
                    p.first_name.as_str().into(),
                    p.last_name.as_str().into(),
                    p.birth_name.as_str().into(),
                    p.birth_date.as_str().into(),
                    p.sex.as_str().into(),
                    p.level.as_str().into(),
                    p.class_id.as_str().into(),
                    p.photo_consent.map_or(-1, i64::from).into(),
                    p.email.as_str().into(),
                    p.phone.as_str().into(),
                    p.address.as_str().into(),
                    i64::from(p.archived).into(),
                ],
            ));
        }
        for g in state.guardianships.values() {
            out.push(Row::new(
                Table::Guardianship,
                vec![doc(), g.parent.as_str().into(), g.child.as_str().into(), i64::from(g.legal).into()],
            ));
        }
    }
}
