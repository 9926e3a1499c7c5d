//! Read-model rows in general: replacing a document's rows, dumps for comparing replicas, and
//! the files rows refer to.

use std::collections::BTreeMap;

use super::sql::{Arg, ToArg, args, args_of};
use super::{Tx, placeholders};
use crate::error::Result;
use crate::ids::DocId;
use crate::kinds::{Cell, Row, Table};

impl ToArg for Cell {
    fn arg(&self) -> Arg<'_> {
        match self {
            Cell::Int(n) => Arg::Int(*n),
            Cell::Text(t) => Arg::Text(t),
        }
    }
}

impl Tx<'_> {
    /// Replaces a document's rows in `tables` with `rows`.
    pub fn rows_replace(&self, id: DocId, tables: &[Table], rows: &[Row]) -> Result<()> {
        let doc = id.to_string();
        for table in tables {
            self.0.execute(&format!("DELETE FROM {} WHERE doc_id = ?1", table.name()), args![&doc])?;
        }
        for row in rows {
            let cols = row.table.columns();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                row.table.name(),
                cols.join(", "),
                (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
            );
            self.0.execute(&sql, &args_of(&row.cells))?;
        }
        Ok(())
    }

    /// Empties every read-model table (before a rebuild).
    pub fn rows_clear_all(&self) -> Result<()> {
        for table in Table::ALL {
            self.0.execute(&format!("DELETE FROM {}", table.name()), args![])?;
        }
        Ok(())
    }

    /// Every read-model row, table by table, fully ordered: for comparing replicas.
    pub fn rows_dump(&self) -> Result<BTreeMap<&'static str, Vec<Vec<Cell>>>> {
        Table::ALL.into_iter().map(|table| Ok((table.name(), self.rows(table)?))).collect()
    }

    /// Every row of one read-model table, fully ordered.
    pub fn rows(&self, table: Table) -> Result<Vec<Vec<Cell>>> {
        self.rows_where(table, &[], None)
    }

    /// The rows of one table that some documents wrote (one school's directory on a hub
    /// that holds every school's), fully ordered: through the `doc_id` that starts every
    /// read-model table's key.
    pub fn rows_of(&self, table: Table, docs: &[String]) -> Result<Vec<Vec<Cell>>> {
        self.rows_where(table, docs, Some(format!("WHERE doc_id IN ({})", placeholders(docs.len()))))
    }

    fn rows_where(&self, table: Table, args: &[String], condition: Option<String>) -> Result<Vec<Vec<Cell>>> {
        let cols = table.columns();
        let sql = format!(
            "SELECT {0} FROM {1} {2} ORDER BY {0}",
            cols.join(", "),
            table.name(),
            condition.unwrap_or_default()
        );
        self.0.query(&sql, &args_of(args), |r| (0..cols.len()).map(|i| r.cell(i)).collect::<Result<Vec<Cell>>>())
    }

    /// Every attached-file cell with the partition of the document that holds it:
    /// (partition, `attachments_cell` text), from every table that declares a file column.
    /// Removed entries still count: their files may come back with an undo, and files are
    /// never the larger part of a replica.
    pub fn file_references(&self) -> Result<Vec<(String, String)>> {
        // The partition comes from the catalog: every table has a `doc_id`, not every one a
        // `partition` column.
        let selects: Vec<String> = Table::ALL
            .into_iter()
            .filter_map(|table| {
                let files = table.file_column()?;
                Some(format!(
                    "SELECT d.partition, t.{files} FROM {} t JOIN document d ON d.doc_id = t.doc_id WHERE t.{files} <> ''",
                    table.name()
                ))
            })
            .collect();
        if selects.is_empty() {
            return Ok(Vec::new());
        }
        self.0.query(&selects.join(" UNION ALL "), args![], |r| Ok((r.get(0)?, r.get(1)?)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::ids::{DocAddress, DocKey, Partition, Scope};
    use crate::kinds::Attachment;
    use crate::kinds::conversation::{Conversation, Message};
    use crate::kinds::homework::{HomeworkBook, HomeworkEntry};
    use crate::kinds::news::{NewsPost, Photo};
    use crate::kinds::{Kind, Table};
    use crate::storage::Storage;
    use crate::store::Store;

    /// Every read-model table's declared columns are exactly those its migrations create:
    /// a column added to one and not the other fails here, not in a school.
    #[test]
    fn declared_columns_equal_the_migrated_schema() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(&dir.path().join("replica.db")).unwrap();
        for table in Table::ALL {
            let migrated: BTreeSet<String> = storage
                .read(|tx| {
                    let names: Vec<String> = tx.0.query(
                        &format!("SELECT name FROM pragma_table_info('{}')", table.name()),
                        crate::storage::sql::args![],
                        |r| r.get(0),
                    )?;
                    Ok(names.into_iter().collect())
                })
                .unwrap();
            let declared: BTreeSet<String> = table.columns().iter().map(|c| (*c).to_owned()).collect();
            assert_eq!(declared, migrated, "table {}", table.name());
        }
    }

    fn file(hash: &str) -> Attachment {
        Attachment { hash: hash.repeat(64), name: format!("{hash}.pdf"), mime: "application/pdf".into(), size: 3 }
    }

    /// Every kind's attached files replicate with their document's partition: one document
    /// of each kind that has files, each in its own partition.
    #[test]
    fn file_references_cover_every_table_with_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("replica.db"), Scope::all()).unwrap();
        let at = |partition: &str, kind, key: &str| {
            DocAddress::new(Partition::parse(partition).unwrap(), kind, DocKey::parse(key).unwrap())
        };
        let book = at("school/0341234A/class/cp", Kind::HomeworkBook, "2026-2027");
        store
            .change::<HomeworkBook, _>(&book, |b| {
                let entry = HomeworkEntry { attachments: vec![file("a"), file("b")], ..Default::default() };
                b.entries.insert("e1".into(), entry);
                // An entry without files has no reference.
                b.entries.insert("e2".into(), HomeworkEntry::default());
            })
            .unwrap();
        let talk = at("school/0341234A/class/ce1", Kind::Conversation, "c1");
        store
            .change::<Conversation, _>(&talk, |c| {
                c.messages.insert("m1".into(), Message { attachments: vec![file("c")], ..Default::default() });
            })
            .unwrap();
        let post = at("school/0341234A", Kind::NewsPost, "n1");
        store.change::<NewsPost, _>(&post, |p| p.photos.push(Photo { file: file("d"), pupils: vec![] })).unwrap();

        // A table that declares files gets a document here, or this test fails.
        let with_files: Vec<Table> = Table::ALL.into_iter().filter(|t| t.file_column().is_some()).collect();
        assert_eq!(with_files, [Table::HomeworkEntry, Table::Message, Table::NewsPost]);

        let mut found: Vec<(String, String)> =
            store.file_references().unwrap().into_iter().map(|(p, a)| (p.to_string(), a.name)).collect();
        found.sort();
        let expected = [
            ("school/0341234A", "d.pdf"),
            ("school/0341234A/class/ce1", "c.pdf"),
            ("school/0341234A/class/cp", "a.pdf"),
            ("school/0341234A/class/cp", "b.pdf"),
        ];
        assert_eq!(found, expected.map(|(p, n)| (p.to_owned(), n.to_owned())));
    }
}
