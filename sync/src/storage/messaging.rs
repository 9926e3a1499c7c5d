//! Messaging's read model: conversations, messages and read marks.

use super::sql::{args, args_of};
use super::{Tx, placeholders, within_school};
use crate::error::Result;
use crate::ids::{Partition, Uai};
use crate::kinds::attachment::parse_attachments_cell;
use crate::kinds::conversation::{ConversationRow, MessageRow};

/// Which conversations to read.
pub enum ConversationFilter<'a> {
    /// Those someone takes part in.
    Participant(&'a str),
    /// One, by its id.
    Key(&'a str),
    /// Those of a partition (a class's, for its moderators).
    Partition(&'a Partition),
}

impl Tx<'_> {
    /// A school's conversations, the most recently active first.
    pub fn conversations(&self, school: &Uai, filter: &ConversationFilter<'_>) -> Result<Vec<ConversationRow>> {
        let (within, args) = within_school("partition", school);
        let (condition, arg) = match filter {
            ConversationFilter::Participant(user) => {
                ("doc_id IN (SELECT doc_id FROM conversation_participant WHERE user_id = ?)", user.to_string())
            }
            ConversationFilter::Key(key) => ("conversation_id = ?", key.to_string()),
            ConversationFilter::Partition(p) => ("partition = ?", p.to_string()),
        };
        let sql = format!(
            "SELECT doc_id, partition, conversation_id, subject, participants, about, created_by FROM conversation
             WHERE {within} AND {condition} ORDER BY last_message_at DESC, doc_id"
        );
        let params: Vec<&String> = args.iter().chain([&arg]).collect();
        self.0.query(&sql, &args_of(&params), |r| {
            Ok(ConversationRow {
                doc_id: r.get(0)?,
                partition: r.get(1)?,
                key: r.get(2)?,
                subject: r.get(3)?,
                participants: r.get::<String>(4)?.split(',').filter(|s| !s.is_empty()).map(Into::into).collect(),
                about: r.get(5)?,
                created_by: r.get(6)?,
            })
        })
    }

    /// The messages of some conversations (by document id), oldest first.
    pub fn messages(&self, docs: &[String]) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT doc_id, message_id, author, sent_at, body, status, attachments FROM message WHERE doc_id IN ({})
             ORDER BY sent_at, message_id",
            placeholders(docs.len())
        );
        self.0.query(&sql, &args_of(docs), |r| {
            Ok(MessageRow {
                doc_id: r.get(0)?,
                message_id: r.get(1)?,
                author: r.get(2)?,
                sent_at: r.get(3)?,
                body: r.get(4)?,
                status: r.get(5)?,
                attachments: parse_attachments_cell(&r.get::<String>(6)?),
            })
        })
    }

    /// Delivered messages from others that `user` has not read, in all their conversations
    /// at `school`.
    pub fn unread_messages(&self, school: &Uai, user: &str) -> Result<u64> {
        let (within, args) = within_school("c.partition", school);
        let sql = format!(
            "SELECT count(*) FROM conversation_participant p
             JOIN conversation c ON c.doc_id = p.doc_id
             JOIN message m ON m.doc_id = p.doc_id
             LEFT JOIN read_mark r ON r.doc_id = p.doc_id AND r.user_id = ?4
             WHERE {within} AND p.user_id = ?4 AND m.status = 2 AND m.author <> ?4
               AND m.sent_at > coalesce(r.read_at, 0)"
        );
        let [own, from, to] = args;
        Ok(self.0.query_one(&sql, args![own, from, to, user], |r| r.get::<i64>(0))? as u64)
    }

    /// One person's read marks in some conversations: (document id, read up to).
    pub fn read_marks(&self, user: &str, docs: &[String]) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT doc_id, read_at FROM read_mark WHERE user_id = ? AND doc_id IN ({})",
            placeholders(docs.len())
        );
        let params: Vec<String> = std::iter::once(user.to_owned()).chain(docs.iter().cloned()).collect();
        self.0.query(&sql, &args_of(&params), |r| Ok((r.get(0)?, r.get(1)?)))
    }
}

impl crate::reader::Reader {
    /// A school's conversations, the most recently active first.
    pub fn conversations(&self, school: &Uai, filter: &ConversationFilter<'_>) -> Result<Vec<ConversationRow>> {
        self.storage.read(|tx| tx.conversations(school, filter))
    }

    /// The messages of some conversations, oldest first.
    pub fn messages(&self, docs: &[String]) -> Result<Vec<MessageRow>> {
        self.storage.read(|tx| tx.messages(docs))
    }

    /// Delivered messages from others that `user` has not read at `school` (the home
    /// page's counter).
    pub fn unread_messages(&self, school: &Uai, user: &str) -> Result<u64> {
        self.storage.read(|tx| tx.unread_messages(school, user))
    }

    /// One person's read marks in some conversations: (document id, read up to).
    pub fn read_marks(&self, user: &str, docs: &[String]) -> Result<Vec<(String, i64)>> {
        self.storage.read(|tx| tx.read_marks(user, docs))
    }
}
