//! News' read model: posts.

use super::sql::args_of;
use super::{Tx, placeholders, within_school};
use crate::error::Result;
use crate::ids::{Partition, Uai};
use crate::kinds::attachment::parse_attachments_cell;
use crate::kinds::news::NewsRow;

/// Which news posts to read.
pub enum NewsFilter<'a> {
    /// Those of these partitions.
    In(&'a [String]),
    /// The public ones of a partition.
    Public(&'a Partition),
    /// One, by its id.
    Id(&'a str),
}

impl Tx<'_> {
    /// A school's posts that are not withdrawn, newest first: those of some partitions, or
    /// only the public ones of a partition, or one by id; at most `limit`.
    pub fn news(&self, school: &Uai, filter: &NewsFilter<'_>, limit: usize) -> Result<Vec<NewsRow>> {
        let (within, args) = within_school("partition", school);
        let mut args = args.to_vec();
        let (condition, more): (String, Vec<String>) = match filter {
            NewsFilter::In(partitions) => {
                (format!("partition IN ({})", placeholders(partitions.len())), partitions.to_vec())
            }
            NewsFilter::Public(p) => ("partition = ? AND public = 1".into(), vec![p.to_string()]),
            NewsFilter::Id(id) => ("post_id = ?".into(), vec![id.to_string()]),
        };
        args.extend(more);
        let sql = format!(
            "SELECT partition, post_id, title, body, author, published_at, public, audience, edited_at, photos FROM news_post
             WHERE withdrawn = 0 AND {within} AND {condition} ORDER BY published_at DESC, post_id LIMIT {limit}"
        );
        self.0.query(&sql, &args_of(&args), |r| {
            Ok(NewsRow {
                partition: r.get(0)?,
                post_id: r.get(1)?,
                title: r.get(2)?,
                body: r.get(3)?,
                author: r.get(4)?,
                published_at: r.get(5)?,
                public: r.get(6)?,
                audience: r.get(7)?,
                edited_at: r.get(8)?,
                photos: parse_attachments_cell(&r.get::<String>(9)?),
            })
        })
    }
}

impl crate::reader::Reader {
    /// A school's news posts (not withdrawn), newest first, at most `limit`.
    pub fn news(&self, school: &Uai, filter: &NewsFilter<'_>, limit: usize) -> Result<Vec<NewsRow>> {
        self.storage.read(|tx| tx.news(school, filter, limit))
    }
}
