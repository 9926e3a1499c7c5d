//! The carnet de liaison's read model: notes, their recipients and signatures.

use super::sql::args_of;
use super::{Tx, placeholders, within_school};
use crate::error::Result;
use crate::ids::{Partition, Uai};
use crate::kinds::liaison::{NoteRow, SignatureRow};

/// Which liaison notes to read.
pub enum NoteFilter<'a> {
    /// A class's notes.
    Class(&'a Partition),
    /// The notes for any of these pupils.
    Pupils(&'a [String]),
    /// One note, by its id.
    Id(&'a str),
}

impl Tx<'_> {
    /// A school's liaison notes (not withdrawn), newest first: those of a class partition,
    /// or those for some pupils, or one note by id.
    pub fn liaison_notes(&self, school: &Uai, filter: &NoteFilter<'_>) -> Result<Vec<NoteRow>> {
        const COLUMNS: &str = "n.doc_id, n.partition, n.note_id, n.title, n.body, n.ask, n.author, n.posted_at,
                               n.edited_at, n.reminded_at, n.recipients";
        let (within, args) = within_school("n.partition", school);
        let mut args = args.to_vec();
        let (sql, more): (String, Vec<String>) = match filter {
            NoteFilter::Class(p) => (
                format!("SELECT {COLUMNS} FROM liaison_note n WHERE {within} AND n.partition = ? AND n.withdrawn = 0"),
                vec![p.to_string()],
            ),
            NoteFilter::Pupils(pupils) => (
                format!(
                    "SELECT DISTINCT {COLUMNS} FROM liaison_note n JOIN liaison_recipient r ON r.doc_id = n.doc_id
                     WHERE {within} AND n.withdrawn = 0 AND r.pupil IN ({})",
                    placeholders(pupils.len())
                ),
                pupils.to_vec(),
            ),
            NoteFilter::Id(id) => (
                format!("SELECT {COLUMNS} FROM liaison_note n WHERE {within} AND n.note_id = ? AND n.withdrawn = 0"),
                vec![id.to_string()],
            ),
        };
        args.extend(more);
        self.0.query(&format!("{sql} ORDER BY n.posted_at DESC, n.note_id"), &args_of(&args), |r| {
            Ok(NoteRow {
                doc_id: r.get(0)?,
                partition: r.get(1)?,
                note_id: r.get(2)?,
                title: r.get(3)?,
                body: r.get(4)?,
                ask: r.get(5)?,
                author: r.get(6)?,
                posted_at: r.get(7)?,
                edited_at: r.get(8)?,
                reminded_at: r.get(9)?,
                recipients: r.get::<String>(10)?.split(',').filter(|s| !s.is_empty()).map(Into::into).collect(),
            })
        })
    }

    /// The signatures of some notes (by document id).
    pub fn liaison_signatures(&self, docs: &[String]) -> Result<Vec<SignatureRow>> {
        let sql = format!(
            "SELECT doc_id, child, guardian, signed_at, reply FROM liaison_signature WHERE doc_id IN ({})
             ORDER BY doc_id, child, guardian",
            placeholders(docs.len())
        );
        self.0.query(&sql, &args_of(docs), |r| {
            Ok(SignatureRow {
                doc_id: r.get(0)?,
                child: r.get(1)?,
                guardian: r.get(2)?,
                at: r.get(3)?,
                reply: r.get(4)?,
            })
        })
    }
}

impl crate::reader::Reader {
    /// A school's liaison notes (not withdrawn), newest first.
    pub fn liaison_notes(&self, school: &Uai, filter: &NoteFilter<'_>) -> Result<Vec<NoteRow>> {
        self.storage.read(|tx| tx.liaison_notes(school, filter))
    }

    /// The signatures of some notes (by document id).
    pub fn liaison_signatures(&self, docs: &[String]) -> Result<Vec<SignatureRow>> {
        self.storage.read(|tx| tx.liaison_signatures(docs))
    }
}
