//! The carnet de liaison: one document per note, in its class's partition. A teacher or the
//! director writes the note; each legal guardian signs (or answers) for each child
//! separately, in a map the note's writers never touch, so that editing a note never loses
//! a signature.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// What a note asks of families.
pub const ASKS: [&str; 3] = ["", "signature", "reply"];

/// One note to some of a class's families (key: a random note id).
#[derive(Clone, Debug, Default, Reconcile, Hydrate)]
pub struct LiaisonNote {
    /// Title.
    pub title: String,
    /// Text (merged when two writers edit it apart).
    pub body: Text,
    /// `""` (to read), `"signature"` or `"reply"`: one of [`ASKS`].
    pub ask: String,
    /// The pupils whose families it is for (fixed when posted).
    pub recipients: Vec<String>,
    /// Creator's user id.
    pub author: String,
    /// Unix milliseconds.
    pub posted_at: i64,
    /// Last editor's user id.
    pub edited_by: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
    /// Unix milliseconds of the last reminder to those who have not signed (0: none).
    pub reminded_at: i64,
    /// Withdrawn by its writers: hidden from families, kept with its signatures.
    pub withdrawn: bool,
    /// Signatures by [`Signature::key`] (child, guardian): written once, by that guardian.
    pub signatures: BTreeMap<String, Signature>,
}

/// A guardian's signature for one child.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Signature {
    /// Unix milliseconds.
    pub at: i64,
    /// The answer, when the note asks for one.
    pub reply: String,
}

impl Signature {
    /// The map key of `guardian`'s signature for `child`.
    pub fn key(child: &str, guardian: &str) -> String {
        format!("{child}:{guardian}")
    }

    /// The (child, guardian) of a key.
    pub fn split_key(key: &str) -> Option<(&str, &str)> {
        key.split_once(':')
    }
}

/// A note as pages read it (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRow {
    /// The note's document.
    pub doc_id: String,
    /// Its partition (the class).
    pub partition: String,
    /// Its id (the document key).
    pub note_id: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// What it asks.
    pub ask: String,
    /// Author.
    pub author: String,
    /// Posted, Unix milliseconds.
    pub posted_at: i64,
    /// Last edit, Unix milliseconds.
    pub edited_at: i64,
    /// Last reminder, Unix milliseconds (0: none).
    pub reminded_at: i64,
    /// The pupils it is for.
    pub recipients: Vec<String>,
}

/// A signature as pages read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureRow {
    /// The note's document.
    pub doc_id: String,
    /// The child.
    pub child: String,
    /// The guardian who signed.
    pub guardian: String,
    /// Unix milliseconds.
    pub at: i64,
    /// The answer.
    pub reply: String,
}

/// `liaison_note`: one row per note.
pub(crate) const LIAISON_NOTE: TableDef = TableDef::new(
    "liaison_note",
    &[
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
);

/// `liaison_recipient`: one row per note and pupil it is for.
pub(crate) const LIAISON_RECIPIENT: TableDef = TableDef::new("liaison_recipient", &["doc_id", "pupil"]);

/// `liaison_signature`: one row per signature (child, guardian).
pub(crate) const LIAISON_SIGNATURE: TableDef =
    TableDef::new("liaison_signature", &["doc_id", "child", "guardian", "signed_at", "reply"]);

impl DocKind for LiaisonNote {
    const KIND: Kind = Kind::LiaisonNote;
    type State = LiaisonNote;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let doc = ctx.id.to_string();
        out.push(Row::new(
            Table::LiaisonNote,
            vec![
                doc.as_str().into(),
                ctx.partition.to_string().into(),
                ctx.key.into(),
                state.title.as_str().into(),
                state.body.as_str().into(),
                state.ask.as_str().into(),
                state.author.as_str().into(),
                state.posted_at.into(),
                state.edited_at.into(),
                state.reminded_at.into(),
                i64::from(state.withdrawn).into(),
                state.recipients.join(",").into(),
            ],
        ));
        // Two replicas that both wrote the same recipient leave it twice in the merged list:
        // one row each, or the table's key would refuse the whole bundle.
        let recipients: std::collections::BTreeSet<&String> = state.recipients.iter().collect();
        for pupil in recipients {
            out.push(Row::new(Table::LiaisonRecipient, vec![doc.as_str().into(), pupil.as_str().into()]));
        }
        for (key, s) in &state.signatures {
            let Some((child, guardian)) = Signature::split_key(key) else { continue };
            out.push(Row::new(
                Table::LiaisonSignature,
                vec![doc.as_str().into(), child.into(), guardian.into(), s.at.into(), s.reply.as_str().into()],
            ));
        }
    }
}
