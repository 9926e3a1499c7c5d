//! What the cahier de textes tells families by e-mail, when they ask for it: the evening
//! before, the work due the next day, child by child. Off until a parent chooses it.

use preau_sync::Kind;
use preau_sync::kinds::HomeworkBook;

use super::is_for;
use crate::platform::error::AppError;
use crate::web::service::{Mode, Notice, NoticeInput, NoticeSource, Topic};

/// Work due tomorrow.
pub static TOPIC: Topic = Topic { id: "homework", label: "notify-topic-homework", default: Mode::Never, eve: true };

/// The service's notices.
pub const SOURCE: NoticeSource = NoticeSource { kind: Kind::HomeworkBook, topics: &[&TOPIC], derive };

fn derive(i: &NoticeInput<'_>) -> Result<Vec<Notice>, AppError> {
    let Some(class) = i.dir.class_of_partition(&i.doc.partition) else { return Ok(Vec::new()) };
    let Some(book) = i.reader.get::<HomeworkBook>(i.id)? else { return Ok(Vec::new()) };
    // Work still to come: what is due today or before was the previous evenings' news.
    let mut out = Vec::new();
    for (entry_id, entry) in book.entries.iter().filter(|(_, e)| !e.removed && e.due_on.as_str() > i.today) {
        let day = i.l.weekday_date(&entry.due_on);
        let line = i.l.ta("notify-homework", &[("day", &day), ("subject", &entry.subject), ("title", &entry.title)]);
        for pupil in i.dir.pupils_of(&class.id).into_iter().filter(|p| is_for(i.dir, &entry.audience, p)) {
            for (guardian, _) in i.dir.guardians_of(&pupil.id) {
                out.push(Notice {
                    topic: &TOPIC,
                    item: format!("homework:{}:{entry_id}:{}:{}", i.id, pupil.id, entry.due_on),
                    to: guardian.id.clone(),
                    child: Some(pupil.id.clone()),
                    line: line.clone(),
                    href: format!("/child/{}", pupil.id),
                    at: entry.edited_at,
                    due_on: Some(entry.due_on.clone()),
                });
            }
        }
    }
    Ok(out)
}
