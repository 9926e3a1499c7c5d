//! What news tells people by e-mail: a new post, to every adult who reads it where it was
//! published (a class's families and teachers, the school's families and staff, the staff
//! room), but its writer.

use preau_sync::Kind;
use preau_sync::kinds::NewsPost;

use super::rule::{Place, reads};
use crate::platform::error::AppError;
use crate::school::directory::Profile;
use crate::web::service::{Mode, Notice, NoticeInput, NoticeSource, Topic};

/// A new post.
pub static TOPIC: Topic = Topic { id: "news", label: "notify-topic-news", default: Mode::Digest, eve: false };

/// The service's notices.
pub const SOURCE: NoticeSource = NoticeSource { kind: Kind::NewsPost, topics: &[&TOPIC], derive };

fn derive(i: &NoticeInput<'_>) -> Result<Vec<Notice>, AppError> {
    let Some(post) = i.reader.get::<NewsPost>(i.id)? else { return Ok(Vec::new()) };
    let Some(place) = Place::of(i.dir, &i.doc.partition, &post.audience) else { return Ok(Vec::new()) };
    if post.withdrawn || post.published_at < i.since {
        return Ok(Vec::new());
    }
    let line = i.l.ta("notify-news", &[("title", &post.title)]);
    let mut out = Vec::new();
    for reader in i.dir.people.values() {
        let adult = reader.profile != Profile::Pupil && !reader.person.archived;
        if !adult || reader.id.as_str() == post.author || !reads(i.dir, reader, &place) {
            continue;
        }
        // A class's post concerns a parent's child in that class.
        let child = match (&place, reader.profile) {
            (Place::Class(class), Profile::Parent) => i
                .dir
                .children_of(&reader.id)
                .into_iter()
                .find(|c| c.person.class_id == class.as_str())
                .map(|c| c.id.clone()),
            _ => None,
        };
        out.push(Notice {
            topic: &TOPIC,
            item: format!("news:{}", i.id),
            to: reader.id.clone(),
            child,
            line: line.clone(),
            href: "/news".into(),
            at: post.published_at,
            due_on: None,
        });
    }
    Ok(out)
}
