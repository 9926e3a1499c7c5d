//! The agenda's read model: events.

use super::sql::args_of;
use super::{Tx, placeholders};
use crate::error::Result;
use crate::kinds::agenda::{AgendaEvent, EventRow};

impl Tx<'_> {
    /// Events (not withdrawn) of some partitions that meet `[from, to]`, by start; or one by
    /// id (`partitions` empty).
    pub fn events(&self, partitions: &[String], from: &str, to: &str, id: Option<&str>) -> Result<Vec<EventRow>> {
        let (condition, mut args): (String, Vec<String>) = match id {
            Some(id) => ("event_id = ?".into(), vec![id.to_owned()]),
            None => (
                format!("partition IN ({}) AND ends_on >= ? AND starts_on <= ?", placeholders(partitions.len())),
                partitions.to_vec(),
            ),
        };
        if id.is_none() {
            args.extend([from.to_owned(), to.to_owned()]);
        }
        let sql = format!(
            "SELECT partition, event_id, title, description, location, starts_on, ends_on, start_time, end_time,
                    category, owner, author, edited_by, edited_at
             FROM agenda_event WHERE withdrawn = 0 AND {condition} ORDER BY starts_on, start_time, event_id"
        );
        self.0.query(&sql, &args_of(&args), |r| {
            Ok(EventRow {
                partition: r.get(0)?,
                event_id: r.get(1)?,
                event: AgendaEvent {
                    title: r.get(2)?,
                    description: r.get(3)?,
                    location: r.get(4)?,
                    starts_on: r.get(5)?,
                    ends_on: r.get(6)?,
                    start_time: r.get(7)?,
                    end_time: r.get(8)?,
                    category: r.get(9)?,
                    owner: r.get(10)?,
                    author: r.get(11)?,
                    edited_by: r.get(12)?,
                    edited_at: r.get(13)?,
                    withdrawn: false,
                },
            })
        })
    }
}

impl crate::reader::Reader {
    /// Events (not withdrawn) of some partitions that meet `[from, to]`, by start; or one by
    /// id.
    pub fn events(&self, partitions: &[String], from: &str, to: &str, id: Option<&str>) -> Result<Vec<EventRow>> {
        self.storage.read(|tx| tx.events(partitions, from, to, id))
    }
}
