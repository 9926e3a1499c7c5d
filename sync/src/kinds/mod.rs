//! Document kinds: the typed schema of each replicated document and its read model.
//!
//! A kind is one unit of collaboration and of authorization (see ARCHITECTURE.md,
//! "Document granularity"). Its state is an `autosurgeon` struct; its projection turns
//! that state into rows of plain SQL tables, which the storage layer writes in the same
//! transaction as the change. Nothing here knows SQL.

pub mod agenda;
pub mod conversation;
pub mod credentials;
pub mod directory;
pub mod homework;
pub mod liaison;
pub mod news;

use std::fmt;

use automerge::Automerge;
use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::{DocAddress, DocId, Partition};

pub use agenda::AgendaEvent;
pub use conversation::Conversation;
pub use credentials::Credentials;
pub use directory::SchoolDirectory;
pub use homework::HomeworkBook;
pub use liaison::LiaisonNote;
pub use news::NewsPost;

/// How text positions are counted in memory: UTF-8 bytes, as Rust strings and autosurgeon's
/// `Text` edits count them (Automerge's default, code points, misplaces every edit after an
/// accented letter). Only the in-memory API depends on it, never the stored bytes.
pub const TEXT_ENCODING: automerge::TextEncoding = automerge::TextEncoding::Utf8CodeUnit;

/// The actor of every document's genesis change.
const GENESIS_ACTOR: &[u8; 16] = b"preau genesis v1";

/// The kinds of replicated documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// One class's cahier de textes for one school year.
    HomeworkBook,
    /// One conversation (its participants and messages).
    Conversation,
    /// One news post (tableau d'information / actualités).
    NewsPost,
    /// A school's structures and people (one per school).
    SchoolDirectory,
    /// A school's credentials (one per school, in its accounts partition).
    Credentials,
    /// One note of the carnet de liaison, with its signatures.
    LiaisonNote,
    /// One agenda event.
    AgendaEvent,
}

impl Kind {
    /// Every kind, for rebuilds.
    pub const ALL: [Kind; 7] = [
        Kind::HomeworkBook,
        Kind::Conversation,
        Kind::NewsPost,
        Kind::SchoolDirectory,
        Kind::Credentials,
        Kind::LiaisonNote,
        Kind::AgendaEvent,
    ];

    /// Stable text form, stored in the catalog and hashed into document ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::HomeworkBook => "homework_book",
            Kind::Conversation => "conversation",
            Kind::NewsPost => "news_post",
            Kind::SchoolDirectory => "school_directory",
            Kind::Credentials => "credentials",
            Kind::LiaisonNote => "liaison_note",
            Kind::AgendaEvent => "agenda_event",
        }
    }

    /// Parses [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The read-model tables this kind writes.
    pub fn tables(self) -> &'static [Table] {
        match self {
            Kind::HomeworkBook => &[Table::HomeworkEntry, Table::HomeworkDone],
            Kind::Conversation => {
                &[Table::Conversation, Table::Message, Table::ReadMark, Table::ConversationParticipant]
            }
            Kind::NewsPost => &[Table::NewsPost],
            Kind::SchoolDirectory => {
                &[Table::School, Table::SchoolClass, Table::SchoolGroup, Table::Person, Table::Guardianship]
            }
            Kind::Credentials => &[Table::Credential],
            Kind::LiaisonNote => &[Table::LiaisonNote, Table::LiaisonRecipient, Table::LiaisonSignature],
            Kind::AgendaEvent => &[Table::AgendaEvent],
        }
    }
}

/// Checks a document against its kind's schema and projects it into read-model rows.
pub fn project(address: &DocAddress, doc: &Automerge) -> Result<Vec<Row>, String> {
    let ctx = ProjectionContext { id: address.id(), partition: &address.partition, key: address.key.as_str() };
    let mut rows = Vec::new();
    match address.kind {
        Kind::HomeworkBook => HomeworkBook::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::Conversation => Conversation::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::NewsPost => NewsPost::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::SchoolDirectory => SchoolDirectory::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::Credentials => Credentials::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::LiaisonNote => LiaisonNote::project(&ctx, &hydrate(doc)?, &mut rows),
        Kind::AgendaEvent => AgendaEvent::project(&ctx, &hydrate(doc)?, &mut rows),
    }
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
    /// Appends the read-model rows of `state`. The first cell of each row is the doc id.
    fn project(ctx: &ProjectionContext<'_>, state: &Self::State, out: &mut Vec<Row>);
}

/// A read-model table: its name and columns (the first is always `doc_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `homework_entry`: one row per cahier-de-textes entry.
    HomeworkEntry,
    /// `homework_done`: one row per pupil's tick on an entry.
    HomeworkDone,
    /// `conversation`: one row per conversation.
    Conversation,
    /// `message`: one row per message.
    Message,
    /// `read_mark`: one row per conversation and participant who read it.
    ReadMark,
    /// `conversation_participant`: one row per conversation and participant.
    ConversationParticipant,
    /// `news_post`: one row per post.
    NewsPost,
    /// `school`: one row per school directory.
    School,
    /// `school_class`: one row per class.
    SchoolClass,
    /// `school_group`: one row per group.
    SchoolGroup,
    /// `person`: one row per person of a school.
    Person,
    /// `guardianship`: one row per parent and child.
    Guardianship,
    /// `credential`: one row per account.
    Credential,
    /// `liaison_note`: one row per note.
    LiaisonNote,
    /// `liaison_recipient`: one row per note and pupil it is for.
    LiaisonRecipient,
    /// `liaison_signature`: one row per signature (child, guardian).
    LiaisonSignature,
    /// `agenda_event`: one row per event.
    AgendaEvent,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 17] = [
        Table::HomeworkEntry,
        Table::HomeworkDone,
        Table::Conversation,
        Table::Message,
        Table::ReadMark,
        Table::ConversationParticipant,
        Table::NewsPost,
        Table::School,
        Table::SchoolClass,
        Table::SchoolGroup,
        Table::Person,
        Table::Guardianship,
        Table::Credential,
        Table::LiaisonNote,
        Table::LiaisonRecipient,
        Table::LiaisonSignature,
        Table::AgendaEvent,
    ];

    /// SQL table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::HomeworkEntry => "homework_entry",
            Table::HomeworkDone => "homework_done",
            Table::Conversation => "conversation",
            Table::Message => "message",
            Table::ReadMark => "read_mark",
            Table::ConversationParticipant => "conversation_participant",
            Table::NewsPost => "news_post",
            Table::School => "school",
            Table::SchoolClass => "school_class",
            Table::SchoolGroup => "school_group",
            Table::Person => "person",
            Table::Guardianship => "guardianship",
            Table::Credential => "credential",
            Table::LiaisonNote => "liaison_note",
            Table::LiaisonRecipient => "liaison_recipient",
            Table::LiaisonSignature => "liaison_signature",
            Table::AgendaEvent => "agenda_event",
        }
    }

    /// Column names, in row order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::HomeworkEntry => &[
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
            Table::HomeworkDone => &["doc_id", "entry_id", "pupil", "done", "done_by", "done_at"],
            Table::Conversation => &[
                "doc_id",
                "partition",
                "subject",
                "participants",
                "message_count",
                "last_message_at",
                "conversation_id",
                "about",
                "created_by",
            ],
            Table::Message => &["doc_id", "message_id", "author", "sent_at", "body", "status", "attachments"],
            Table::ReadMark => &["doc_id", "user_id", "read_at"],
            Table::ConversationParticipant => &["doc_id", "user_id"],
            Table::NewsPost => &[
                "doc_id",
                "partition",
                "title",
                "body",
                "author",
                "published_at",
                "public",
                "post_id",
                "audience",
                "edited_at",
                "withdrawn",
                "photos",
            ],
            Table::School => &["doc_id", "uai", "name", "address", "postcode", "commune", "academy"],
            Table::SchoolClass => &[
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
            ],
            Table::SchoolGroup => &["doc_id", "group_id", "uai", "name", "members"],
            Table::Person => &[
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
            Table::Guardianship => &["doc_id", "parent", "child", "legal"],
            Table::Credential => &[
                "doc_id",
                "user_id",
                "login",
                "password_hash",
                "activation_code",
                "must_change_password",
                "picture_secret",
                "qr_secret",
                "disabled",
                "calendar_secret",
                "reset_by",
                "reset_at",
                "reset_reason",
            ],
            Table::LiaisonNote => &[
                "doc_id",
                "partition",
                "note_id",
                "title",
                "body",
                "ask",
                "author",
                "posted_at",
                "edited_at",
                "reminded_at",
                "withdrawn",
                "recipients",
            ],
            Table::LiaisonRecipient => &["doc_id", "pupil"],
            Table::LiaisonSignature => &["doc_id", "child", "guardian", "signed_at", "reply"],
            Table::AgendaEvent => &[
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
        }
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
        fn init<S: Reconcile + Default>() -> Automerge {
            let mut doc = Automerge::new_with_encoding(TEXT_ENCODING)
                .with_actor(automerge::ActorId::from(GENESIS_ACTOR.as_slice()));
            let result = doc.transact_with(
                |_| automerge::transaction::CommitOptions::default().with_time(0),
                |tx| autosurgeon::reconcile(tx, S::default()),
            );
            debug_assert!(result.is_ok(), "reconciling a default state cannot fail");
            doc
        }
        match self {
            Kind::HomeworkBook => init::<HomeworkBook>(),
            Kind::Conversation => init::<Conversation>(),
            Kind::NewsPost => init::<NewsPost>(),
            Kind::SchoolDirectory => init::<SchoolDirectory>(),
            Kind::Credentials => init::<Credentials>(),
            Kind::LiaisonNote => init::<LiaisonNote>(),
            Kind::AgendaEvent => init::<AgendaEvent>(),
        }
    }
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
        ];
        assert_eq!(names, stored);
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind as usize, i);
            assert_eq!(postcard::to_allocvec(&kind).unwrap(), [i as u8]);
        }
    }
}
