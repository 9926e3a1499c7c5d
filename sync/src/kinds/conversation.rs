//! Messaging: one document per conversation.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table};

/// A conversation between participants; messages are keyed by unique id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Conversation {
    /// Subject line.
    pub subject: String,
    /// Participants' user ids, set at creation.
    pub participants: Vec<String>,
    /// Messages by id.
    pub messages: BTreeMap<String, Message>,
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
}

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
            ],
        ));
        for (message_id, m) in &state.messages {
            out.push(Row::new(
                Table::Message,
                vec![
                    id.as_str().into(),
                    message_id.as_str().into(),
                    m.author.as_str().into(),
                    m.sent_at.into(),
                    m.body.as_str().into(),
                ],
            ));
        }
    }
}
