//! Document kinds: the typed schema of each replicated document and its read model.
//!
//! A kind is one unit of collaboration and of authorization (see ARCHITECTURE.md,
//! "Document granularity"). Its state is an `autosurgeon` struct; its projection turns
//! that state into rows of plain SQL tables, which the storage layer writes in the same
//! transaction as the change. Nothing here runs SQL: tables are declared by name and
//! columns only.
//!
//! A kind's module holds its state, its projection and the tables that projection writes;
//! the registry below names each kind once, and generates [`Kind`] and [`Table`] from it.

pub mod academy;
pub mod agenda;
pub mod attachment;
pub mod canteen;
pub mod commune;
pub mod convention;
pub mod conversation;
pub mod credentials;
pub mod directory;
pub mod homework;
pub mod liaison;
pub mod news;
pub mod usage;

use std::fmt;

use automerge::Automerge;
use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::{DocAddress, DocId, Partition};

pub use academy::{AcademySettings, AcademyStaff};
pub use agenda::AgendaEvent;
pub use attachment::Attachment;
pub use canteen::CanteenMenu;
pub use commune::Commune;
pub use convention::Convention;
pub use conversation::Conversation;
pub use credentials::Credentials;
pub use directory::SchoolDirectory;
pub use homework::HomeworkBook;
pub use liaison::LiaisonNote;
pub use news::NewsPost;
pub use usage::UsageMonth;

/// How text positions are counted in memory: UTF-8 bytes, as Rust strings and autosurgeon's
/// `Text` edits count them (Automerge's default, code points, misplaces every edit after an
/// accented letter). Only the in-memory API depends on it, never the stored bytes.
pub const TEXT_ENCODING: automerge::TextEncoding = automerge::TextEncoding::Utf8CodeUnit;

/// The actor of every document's genesis change.
const GENESIS_ACTOR: &[u8; 16] = b"preau genesis v1";

/// Generates [`Kind`] and [`Table`] from the registry, and the one match from each to what
/// it stands for (a [`KindEntry`], a [`TableDef`]); everything else reads those.
macro_rules! registry {
    ($(
        $(#[$doc:meta])*
        $kind:ident = $name:literal => $ty:ty { $($table:ident = $def:path),+ $(,)? }
    )+) => {
        /// The kinds of replicated documents.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Kind {
            $($(#[$doc])* $kind,)+
        }

        impl Kind {
            /// Every kind, for rebuilds.
            pub const ALL: [Kind; [$(Kind::$kind),+].len()] = [$(Kind::$kind),+];

            /// What the registry says of this kind.
            fn entry(self) -> &'static KindEntry {
                match self {
                    $(Kind::$kind => const { &KindEntry::of::<$ty>($name, &[$(Table::$table),+]) },)+
                }
            }
        }

        // Each type's `DocKind::KIND` is the variant it is registered as.
        $(const _: () = assert!(matches!(<$ty as DocKind>::KIND, Kind::$kind));)+

        /// A read-model table: its name and columns (the first is always `doc_id`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Table {
            $($(#[doc = concat!("Declared by `kinds::", stringify!($def), "`.")] $table,)+)+
        }

        impl Table {
            /// Every table.
            pub const ALL: [Table; [$($(Table::$table),+),+].len()] = [$($(Table::$table),+),+];

            /// This table's declaration.
            fn def(self) -> &'static TableDef {
                match self {
                    $($(Table::$table => &$def,)+)+
                }
            }
        }
    };
}

// The registry: every kind once, with its stable name, its state type and the tables its
// projection writes (each declared beside that projection, in the kind's module). Append
// only: a kind's name is stored in catalogs and hashed into its documents' ids, and its
// position numbers it on the wire (postcard) and in the genesis hash cache.
registry! {
    /// One class's cahier de textes for one school year.
    HomeworkBook = "homework_book" => HomeworkBook {
        HomeworkEntry = homework::HOMEWORK_ENTRY,
        HomeworkDone = homework::HOMEWORK_DONE,
    }
    /// One conversation (its participants and messages).
    Conversation = "conversation" => Conversation {
        Conversation = conversation::CONVERSATION,
        Message = conversation::MESSAGE,
        ReadMark = conversation::READ_MARK,
        ConversationParticipant = conversation::CONVERSATION_PARTICIPANT,
    }
    /// One news post (tableau d'information / actualités).
    NewsPost = "news_post" => NewsPost {
        NewsPost = news::NEWS_POST,
    }
    /// A school's structures and people (one per school).
    SchoolDirectory = "school_directory" => SchoolDirectory {
        School = directory::SCHOOL,
        SchoolClass = directory::SCHOOL_CLASS,
        SchoolGroup = directory::SCHOOL_GROUP,
        Person = directory::PERSON,
        Guardianship = directory::GUARDIANSHIP,
    }
    /// A school's credentials (one per school, in its accounts partition).
    Credentials = "credentials" => Credentials {
        Credential = credentials::CREDENTIAL,
    }
    /// One note of the carnet de liaison, with its signatures.
    LiaisonNote = "liaison_note" => LiaisonNote {
        LiaisonNote = liaison::LIAISON_NOTE,
        LiaisonRecipient = liaison::LIAISON_RECIPIENT,
        LiaisonSignature = liaison::LIAISON_SIGNATURE,
    }
    /// One agenda event.
    AgendaEvent = "agenda_event" => AgendaEvent {
        AgendaEvent = agenda::AGENDA_EVENT,
    }
    /// The console's accounts (one, in `academy/admin`).
    AcademyStaff = "academy_staff" => AcademyStaff {
        AcademyStaff = academy::ACADEMY_STAFF,
    }
    /// The académie's settings (one, in `academy/admin`).
    AcademySettings = "academy_settings" => AcademySettings {
        AcademyRate = academy::ACADEMY_RATE,
    }
    /// A commune, its schools and its portal (one per commune).
    Commune = "commune" => Commune {
        Commune = commune::COMMUNE,
        CommuneSchool = commune::COMMUNE_SCHOOL,
        CommuneNews = commune::COMMUNE_NEWS,
    }
    /// A convention between a commune and the rectorat.
    Convention = "convention" => Convention {
        Convention = convention::CONVENTION,
        ConventionSchool = convention::CONVENTION_SCHOOL,
        ConventionClass = convention::CONVENTION_CLASS,
    }
    /// One replica's count of a school's use in a month.
    UsageMonth = "usage_month" => UsageMonth {
        UsageCount = usage::USAGE_COUNT,
        UsageActive = usage::USAGE_ACTIVE,
    }
    /// A commune's canteen menus for one week.
    CanteenMenu = "canteen_menu" => CanteenMenu {
        CanteenDish = canteen::CANTEEN_DISH,
    }
}

/// What the registry knows of a kind: its facts, and its type's functions.
struct KindEntry {
    name: &'static str,
    tables: &'static [Table],
    project: fn(&ProjectionContext<'_>, &Automerge) -> Result<Vec<Row>, String>,
    genesis: fn() -> Automerge,
    read_by_policies: bool,
}

impl KindEntry {
    const fn of<K: DocKind>(name: &'static str, tables: &'static [Table]) -> Self {
        let read_by_policies = K::READ_BY_POLICIES;
        KindEntry { name, tables, project: project_as::<K>, genesis: genesis_of::<K>, read_by_policies }
    }
}

impl Kind {
    /// Stable text form, stored in the catalog and hashed into document ids.
    pub fn as_str(self) -> &'static str {
        self.entry().name
    }

    /// Parses [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The read-model tables this kind writes.
    pub fn tables(self) -> &'static [Table] {
        self.entry().tables
    }

    /// [`DocKind::READ_BY_POLICIES`].
    pub fn read_by_policies(self) -> bool {
        self.entry().read_by_policies
    }
}

/// Checks a document against its kind's schema and projects it into read-model rows.
pub fn project(address: &DocAddress, doc: &Automerge) -> Result<Vec<Row>, String> {
    let ctx = ProjectionContext { id: address.id(), partition: &address.partition, key: address.key.as_str() };
    (address.kind.entry().project)(&ctx, doc)
}

fn project_as<K: DocKind>(ctx: &ProjectionContext<'_>, doc: &Automerge) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    K::project(ctx, &hydrate(doc)?, &mut rows);
    Ok(rows)
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hydrate<S: Hydrate>(doc: &Automerge) -> Result<S, String> {
    autosurgeon::hydrate(doc).map_err(|e| e.to_string())
}

/// The typed state of a document of kind `K` (for replication policies, which see documents
/// before and after a peer's changes).
pub fn state_of<K: DocKind>(doc: &Automerge) -> Result<K::State, String> {
    hydrate(doc)
}

/// What a projection knows about the document besides its state.
pub struct ProjectionContext<'a> {
    /// The document.
    pub id: DocId,
    /// Its partition.
    pub partition: &'a Partition,
    /// Its key (e.g. the school year of a homework book).
    pub key: &'a str,
}

/// A typed replicated document.
pub trait DocKind {
    /// The kind tag.
    const KIND: Kind;
    /// The document's state, hydrated from and reconciled into Automerge.
    type State: Hydrate + Reconcile + Default;
    /// Replication policies read documents of this kind to judge others (the school
    /// directory, the credentials): a bundle applies them first, so that a rule sees them as
    /// the bundle leaves them (see `Policy::accepted`).
    const READ_BY_POLICIES: bool = false;
    /// Appends the read-model rows of `state`. The first cell of each row is the doc id.
    fn project(ctx: &ProjectionContext<'_>, state: &Self::State, out: &mut Vec<Row>);
}

/// A read-model table's declaration, in the module of the kind whose projection writes it:
/// the storage layer builds its statements from it, and a test checks it against the
/// migrated schema.
pub(crate) struct TableDef {
    name: &'static str,
    columns: &'static [&'static str],
    files: Option<&'static str>,
}

impl TableDef {
    /// A table named `name` with `columns`, in row order; the first is always `doc_id`.
    pub(crate) const fn new(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self { name, columns, files: None }
    }

    /// Its rows refer to files: `column` holds [`attachment::attachments_cell`] text.
    pub(crate) const fn with_files(self, column: &'static str) -> Self {
        Self { files: Some(column), ..self }
    }
}

impl Table {
    /// SQL table name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Column names, in row order.
    pub fn columns(self) -> &'static [&'static str] {
        self.def().columns
    }

    /// The column whose cells list the files a row refers to ([`attachment::attachments_cell`]
    /// text), if any: those files replicate with the row's document.
    pub fn file_column(self) -> Option<&'static str> {
        self.def().files
    }
}

/// One value of a read-model row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}

/// One row of a read-model table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The table.
    pub table: Table,
    /// Values, in [`Table::columns`] order.
    pub cells: Vec<Cell>,
}

impl Row {
    /// A row; the cell count must match the table's columns.
    pub fn new(table: Table, cells: Vec<Cell>) -> Self {
        debug_assert_eq!(cells.len(), table.columns().len(), "{}", table.name());
        Self { table, cells }
    }
}

impl Kind {
    /// The hash of [`Kind::genesis`] (computed once per kind).
    pub fn genesis_hash(self) -> automerge::ChangeHash {
        static HASHES: std::sync::OnceLock<Vec<automerge::ChangeHash>> = std::sync::OnceLock::new();
        let hashes = HASHES.get_or_init(|| Kind::ALL.iter().map(|k| k.genesis().get_heads()[0]).collect());
        hashes[self as usize]
    }

    /// The first change of every document of this kind, identical on every replica: a fixed
    /// actor, time 0, the kind's empty state. Two replicas that create the same document
    /// offline therefore share its root objects instead of shadowing each other's. Every
    /// later change refers to this actor, so it is one constant that compresses away; it is
    /// 16 bytes long and replica actors 24, so they never collide.
    pub fn genesis(self) -> Automerge {
        (self.entry().genesis)()
    }
}

fn genesis_of<K: DocKind>() -> Automerge {
    let mut doc =
        Automerge::new_with_encoding(TEXT_ENCODING).with_actor(automerge::ActorId::from(GENESIS_ACTOR.as_slice()));
    let result = doc.transact_with(
        |_| automerge::transaction::CommitOptions::default().with_time(0),
        |tx| autosurgeon::reconcile(tx, K::State::default()),
    );
    debug_assert!(result.is_ok(), "reconciling a default state cannot fail");
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kinds' names are stored in catalogs and hashed into document ids, and their order
    /// numbers them on the wire (postcard) and in the genesis hash cache: neither may change.
    #[test]
    fn kinds_keep_their_stored_forms() {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let stored = [
            "homework_book",
            "conversation",
            "news_post",
            "school_directory",
            "credentials",
            "liaison_note",
            "agenda_event",
            "academy_staff",
            "academy_settings",
            "commune",
            "convention",
            "usage_month",
            "canteen_menu",
        ];
        assert_eq!(names, stored);
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind as usize, i);
            assert_eq!(postcard::to_allocvec(&kind).unwrap(), [i as u8]);
        }
    }

    /// What the storage layer assumes of every declaration.
    #[test]
    fn tables_are_declared_consistently() {
        let mut names = std::collections::BTreeSet::new();
        for table in Table::ALL {
            assert!(names.insert(table.name()), "{} declared twice", table.name());
            assert_eq!(table.columns().first(), Some(&"doc_id"), "{}", table.name());
            if let Some(files) = table.file_column() {
                assert!(table.columns().contains(&files), "{}.{files}", table.name());
            }
        }
        let written: Vec<Table> = Kind::ALL.iter().flat_map(|k| k.tables()).copied().collect();
        assert_eq!(written, Table::ALL, "every table is written by exactly one kind");
    }
}
