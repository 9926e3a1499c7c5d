//! The académie's read models: which conventions activated a school and what they cover,
//! and which communes a school belongs to.

use std::collections::BTreeMap;

use super::Tx;
use super::sql::args;
use crate::error::Result;
use crate::ids::Uai;
use crate::kinds::convention::SchoolConvention;

impl Tx<'_> {
    fn school_conventions(&self, school: &Uai) -> Result<Vec<SchoolConvention>> {
        let mut found: BTreeMap<String, SchoolConvention> = BTreeMap::new();
        let conventions = self.0.query(
            "SELECT c.doc_id, c.convention_id, c.insee, coalesce(m.name, ''), c.title, c.status, c.starts_on,
                    c.ends_on, c.ended_on, s.activated_on
             FROM convention_school s JOIN convention c ON c.doc_id = s.doc_id
             LEFT JOIN commune m ON m.insee = c.insee
             WHERE s.uai = ?1 AND s.activated_on <> '' AND c.status <> 'draft'",
            args![school.as_str()],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    SchoolConvention {
                        id: r.get(1)?,
                        insee: r.get(2)?,
                        commune: r.get(3)?,
                        title: r.get(4)?,
                        status: r.get(5)?,
                        starts_on: r.get(6)?,
                        ends_on: r.get(7)?,
                        ended_on: r.get(8)?,
                        activated_on: r.get(9)?,
                        classes: Vec::new(),
                    },
                ))
            },
        )?;
        found.extend(conventions);
        let classes = self.0.query(
            "SELECT doc_id, class_id, name, since, until FROM convention_class WHERE uai = ?1 ORDER BY doc_id, name, period",
            args![school.as_str()],
            |r| Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))),
        )?;
        for (doc, class) in classes {
            if let Some(c) = found.get_mut(&doc) {
                c.classes.push(class);
            }
        }
        let mut all: Vec<SchoolConvention> = found.into_values().collect();
        all.sort_by(|a, b| (&a.starts_on, &a.id).cmp(&(&b.starts_on, &b.id)));
        Ok(all)
    }

    fn coverage_seq(&self, school: &Uai) -> Result<u64> {
        let seq: Option<i64> = self.0.query_one(
            "SELECT max(d.seq) FROM document d WHERE d.doc_id IN
                 (SELECT doc_id FROM convention_school WHERE uai = ?1
                  UNION SELECT doc_id FROM commune_school WHERE uai = ?1)",
            args![school.as_str()],
            |r| r.get(0),
        )?;
        Ok(seq.unwrap_or(0) as u64)
    }

    fn communes_of(&self, school: &Uai) -> Result<Vec<String>> {
        self.0.query("SELECT insee FROM commune_school WHERE uai = ?1 ORDER BY insee", args![school.as_str()], |r| {
            r.get(0)
        })
    }
}

impl crate::reader::Reader {
    /// The conventions that activated `school` (signed or ended, never drafts), by start.
    pub fn school_conventions(&self, school: &Uai) -> Result<Vec<SchoolConvention>> {
        self.storage.read(|tx| tx.school_conventions(school))
    }

    /// The catalog sequence number of the last change to a convention or a commune naming
    /// `school` (what a kept directory snapshot checks).
    pub fn coverage_seq(&self, school: &Uai) -> Result<u64> {
        self.storage.read(|tx| tx.coverage_seq(school))
    }

    /// The INSEE codes of the communes that list `school`.
    pub fn communes_of(&self, school: &Uai) -> Result<Vec<String>> {
        self.storage.read(|tx| tx.communes_of(school))
    }
}
