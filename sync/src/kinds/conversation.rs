//! Messaging: one document per conversation, in the partition of its context (a class, or
//! the staff room). Participants are fixed at creation; messages are never edited or
//! removed; a pupil's message may wait for a teacher's approval; each participant keeps
//! their own read mark.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::attachment::{Attachment, attachments_cell};
use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// A conversation between participants; messages are keyed by unique id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Conversation {
    /// Subject line.
    pub subject: String,
    /// Participants' user ids, set at creation.
    pub participants: Vec<String>,
    /// The child it is about (its legal guardians are participants), or empty.
    pub about: String,
    /// Who started it.
    pub created_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Messages by id.
    pub messages: BTreeMap<String, Message>,
    /// Teachers' decisions on held messages, by message id.
    pub moderation: BTreeMap<String, Moderation>,
    /// Each participant's read mark (Unix milliseconds of the newest message they have seen).
    pub read: BTreeMap<String, i64>,
}

/// One message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Message {
    /// Author's user id.
    pub author: String,
    /// Unix time in milliseconds, from the author's device.
    pub sent_at: i64,
    /// Text.
    pub body: String,
    /// A pupil's message waiting for a teacher's approval (shown to its author and the
    /// class's teachers only until approved).
    pub held: bool,
    /// Attached files.
    pub attachments: Vec<Attachment>,
}

/// A teacher's decision on a held message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Moderation {
    /// Delivered (true) or refused (false).
    pub approved: bool,
    /// The teacher.
    pub by: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// `conversation`: one row per conversation.
pub(crate) const CONVERSATION: TableDef = TableDef::new(
    "conversation",
    &[
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
);

/// `message`: one row per message.
pub(crate) const MESSAGE: TableDef =
    TableDef::new("message", &["doc_id", "message_id", "author", "sent_at", "body", "status", "attachments"])
        .with_files("attachments");

/// `read_mark`: one row per conversation and participant who read it.
pub(crate) const READ_MARK: TableDef = TableDef::new("read_mark", &["doc_id", "user_id", "read_at"]);

/// `conversation_participant`: one row per conversation and participant.
pub(crate) const CONVERSATION_PARTICIPANT: TableDef = TableDef::new("conversation_participant", &["doc_id", "user_id"]);

impl DocKind for Conversation {
    const KIND: Kind = Kind::Conversation;
    type State = Conversation;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let id = ctx.id.to_string();
        let last = state.messages.values().map(|m| m.sent_at).max().unwrap_or(0);
        out.push(Row::new(
            Table::Conversation,
            vec![
                id.as_str().into(),
                ctx.partition.to_string().into(),
                state.subject.as_str().into(),
                state.participants.join(",").into(),
                (state.messages.len() as i64).into(),
                last.into(),
                ctx.key.into(),
                state.about.as_str().into(),
                state.created_by.as_str().into(),
            ],
        ));
        for (message_id, m) in &state.messages {
            // 1 waiting, 2 delivered, 0 refused.
            let status = match (m.held, state.moderation.get(message_id)) {
                (false, _) => 2,
                (true, None) => 1,
                (true, Some(d)) if d.approved => 2,
                (true, Some(_)) => 0,
            };
            out.push(Row::new(
                Table::Message,
                vec![
                    id.as_str().into(),
                    message_id.as_str().into(),
                    m.author.as_str().into(),
                    m.sent_at.into(),
                    m.body.as_str().into(),
                    i64::from(status).into(),
                    attachments_cell(&m.attachments).into(),
                ],
            ));
        }
        // A set: the table's key is (conversation, participant).
        for user in state.participants.iter().collect::<std::collections::BTreeSet<_>>() {
            out.push(Row::new(Table::ConversationParticipant, vec![id.as_str().into(), user.as_str().into()]));
        }
        for (user, at) in &state.read {
            out.push(Row::new(Table::ReadMark, vec![id.as_str().into(), user.as_str().into(), (*at).into()]));
        }
    }
}

/// A conversation as pages read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    /// Its document.
    pub doc_id: String,
    /// Its partition.
    pub partition: String,
    /// Its id (the document key).
    pub key: String,
    /// Subject.
    pub subject: String,
    /// Participants.
    pub participants: Vec<String>,
    /// The child it is about, or empty.
    pub about: String,
    /// Who started it.
    pub created_by: String,
}

/// A message as pages read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// The conversation's document.
    pub doc_id: String,
    /// Message id.
    pub message_id: String,
    /// Author.
    pub author: String,
    /// Unix milliseconds.
    pub sent_at: i64,
    /// Text.
    pub body: String,
    /// 1 waiting for approval, 2 delivered, 0 refused.
    pub status: i64,
    /// Attached files.
    pub attachments: Vec<Attachment>,
}
