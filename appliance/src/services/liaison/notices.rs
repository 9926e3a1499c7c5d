//! What the carnet de liaison tells families by e-mail: a new note, to each legal guardian
//! of each child it is for who has not signed it yet.

use preau_sync::Kind;
use preau_sync::kinds::LiaisonNote;
use preau_sync::kinds::liaison::Signature;

use crate::platform::error::AppError;
use crate::school::directory::UserId;
use crate::web::service::{Mode, Notice, NoticeInput, NoticeSource, Topic};

/// A new note in the carnet de liaison.
pub static TOPIC: Topic = Topic { id: "liaison", label: "notify-topic-liaison", default: Mode::Digest, eve: false };

/// The service's notices.
pub const SOURCE: NoticeSource = NoticeSource { kind: Kind::LiaisonNote, topics: &[&TOPIC], derive };

fn derive(i: &NoticeInput<'_>) -> Result<Vec<Notice>, AppError> {
    let Some(note) = i.reader.get::<LiaisonNote>(i.id)? else { return Ok(Vec::new()) };
    if note.withdrawn || note.posted_at < i.since || i.dir.class_of_partition(&i.doc.partition).is_none() {
        return Ok(Vec::new());
    }
    let author = UserId::parse(&note.author).ok().and_then(|a| i.dir.member(&a)).map(|a| a.formal_name());
    let line = i.l.ta(
        match note.ask.as_str() {
            "signature" => "notify-liaison-sign",
            "reply" => "notify-liaison-reply",
            _ => "notify-liaison",
        },
        &[("title", &note.title), ("author", &author.unwrap_or_default())],
    );
    let mut out = Vec::new();
    for child in note.recipients.iter().filter_map(|c| UserId::parse(c).ok()) {
        for (guardian, legal) in i.dir.guardians_of(&child) {
            if !legal || note.signatures.contains_key(&Signature::key(child.as_str(), guardian.id.as_str())) {
                continue;
            }
            out.push(Notice {
                topic: &TOPIC,
                item: format!("liaison:{}:{child}", i.id),
                to: guardian.id.clone(),
                child: Some(child.clone()),
                line: line.clone(),
                href: "/liaison".into(),
                at: note.posted_at,
                due_on: None,
            });
        }
    }
    Ok(out)
}
