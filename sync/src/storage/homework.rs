//! The cahier de textes' read model: entries and ticks.

use super::Tx;
use super::sql::args;
use crate::error::Result;
use crate::ids::{DocId, Partition};
use crate::kinds::attachment::parse_attachments_cell;
use crate::kinds::homework::{DoneRow, HomeworkItem};

impl Tx<'_> {
    /// The live (not removed) entries of one class partition whose class day or due date
    /// falls in `[from, to]` (dates `YYYY-MM-DD`), by due date then class day.
    pub fn homework(&self, partition: &Partition, from: &str, to: &str) -> Result<Vec<HomeworkItem>> {
        self.0.query(
            "SELECT doc_id, entry_id, audience, subject, title, details, lesson, assigned_on, due_on,
                    attachments, author, edited_by, edited_at
             FROM homework_entry
             WHERE partition = ?1 AND removed = 0
               AND (due_on BETWEEN ?2 AND ?3 OR assigned_on BETWEEN ?2 AND ?3)
             ORDER BY due_on, assigned_on, entry_id",
            args![partition.to_string(), from, to],
            |r| {
                Ok(HomeworkItem {
                    doc_id: r.get(0)?,
                    entry_id: r.get(1)?,
                    audience: r.get(2)?,
                    subject: r.get(3)?,
                    title: r.get(4)?,
                    details: r.get(5)?,
                    lesson: r.get(6)?,
                    assigned_on: r.get(7)?,
                    due_on: r.get(8)?,
                    attachments: parse_attachments_cell(&r.get::<String>(9)?),
                    author: r.get(10)?,
                    edited_by: r.get(11)?,
                    edited_at: r.get(12)?,
                })
            },
        )
    }

    /// The ticks in one homework book: every pupil's, or one pupil's.
    pub fn homework_done(&self, book: DocId, pupil: Option<&str>) -> Result<Vec<DoneRow>> {
        const SELECT: &str = "SELECT entry_id, pupil, done, done_by, done_at FROM homework_done WHERE doc_id = ?1";
        // Two statements: an `?2 IS NULL OR` condition would keep SQLite off the pupil index.
        let sql = match pupil {
            Some(_) => format!("{SELECT} AND pupil = ?2 ORDER BY entry_id"),
            None => format!("{SELECT} AND CAST(?2 AS TEXT) IS NULL ORDER BY entry_id, pupil"),
        };
        self.0.query(&sql, args![book.to_string(), pupil], |r| {
            Ok(DoneRow { entry_id: r.get(0)?, pupil: r.get(1)?, done: r.get(2)?, by: r.get(3)?, at: r.get(4)? })
        })
    }
}

impl crate::reader::Reader {
    /// A class's live homework entries whose class day or due date is in `[from, to]`
    /// (inclusive, `YYYY-MM-DD`): plain indexed SQL.
    pub fn homework(&self, class: &Partition, from: &str, to: &str) -> Result<Vec<HomeworkItem>> {
        self.storage.read(|tx| tx.homework(class, from, to))
    }

    /// The ticks in one homework book: every pupil's, or one pupil's.
    pub fn homework_done(&self, book: DocId, pupil: Option<&str>) -> Result<Vec<DoneRow>> {
        self.storage.read(|tx| tx.homework_done(book, pupil))
    }
}
