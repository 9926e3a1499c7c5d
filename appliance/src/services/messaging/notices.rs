//! What messaging tells people by e-mail: a new message in a conversation they take part
//! in, once delivered (a pupil's held message waits for its teacher), never to its writer,
//! never to a pupil, and to a parent only while the child's class is open to families.

use preau_sync::Kind;
use preau_sync::kinds::Conversation;

use super::{family_reaches, member};
use crate::platform::error::AppError;
use crate::school::directory::{Profile, UserId};
use crate::web::service::{Mode, Notice, NoticeInput, NoticeSource, Topic};

/// A new message.
pub static TOPIC: Topic = Topic { id: "message", label: "notify-topic-message", default: Mode::Digest, eve: false };

/// The service's notices.
pub const SOURCE: NoticeSource = NoticeSource { kind: Kind::Conversation, topics: &[&TOPIC], derive };

fn derive(i: &NoticeInput<'_>) -> Result<Vec<Notice>, AppError> {
    let Some(conversation) = i.reader.get::<Conversation>(i.id)? else { return Ok(Vec::new()) };
    let about = UserId::parse(&conversation.about).ok();
    let mut out = Vec::new();
    for (id, message) in &conversation.messages {
        let delivered = !message.held || conversation.moderation.get(id).is_some_and(|m| m.approved);
        if !delivered || message.sent_at < i.since {
            continue;
        }
        let author = member(i.dir, &message.author).map(|a| match a.profile {
            Profile::Pupil => a.full_name(),
            _ => a.formal_name(),
        });
        let line =
            i.l.ta("notify-message", &[("author", &author.unwrap_or_default()), ("subject", &conversation.subject)]);
        for to in conversation.participants.iter().filter(|p| **p != message.author) {
            let Ok(to) = UserId::parse(to) else { continue };
            let Some(reader) = i.dir.member(&to) else { continue };
            if reader.profile == Profile::Pupil || !family_reaches(i.dir, &conversation.about, &to) {
                continue;
            }
            // The child a parent's conversation is about, else her only child at the school.
            let child = match (&about, reader.profile) {
                (Some(c), _) => Some(c.clone()),
                (None, Profile::Parent) => match i.dir.children_of(&to).as_slice() {
                    [only] => Some(only.id.clone()),
                    _ => None,
                },
                _ => None,
            };
            out.push(Notice {
                topic: &TOPIC,
                item: format!("message:{}:{id}", i.id),
                to,
                child,
                line: line.clone(),
                href: format!("/messages/{}", i.doc.key),
                at: message.sent_at,
                due_on: None,
            });
        }
    }
    Ok(out)
}
