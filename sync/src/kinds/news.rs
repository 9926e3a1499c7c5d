//! News: one document per post (actualités, tableau d'information, salle des profs), in the
//! partition of its audience: the school's (everyone, or parents only), the staff room's, or
//! a class's. A post marked public also shows on the school's page without login.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::attachment::{Attachment, attachments_cell};
use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// Who reads a post of the school's partition: `""` everyone at the school, `"parents"`
/// families and staff. Posts of the staff room and of a class have no audience of their own.
pub const AUDIENCES: [&str; 2] = ["", "parents"];

/// A news post.
#[derive(Clone, Debug, Default, Reconcile, Hydrate)]
pub struct NewsPost {
    /// Title.
    pub title: String,
    /// Text (merged when two writers edit it apart).
    pub body: Text,
    /// Author's user id.
    pub author: String,
    /// Unix time in milliseconds.
    pub published_at: i64,
    /// Shown on the school's public page, without login.
    pub public: bool,
    /// In the school's partition: one of [`AUDIENCES`].
    pub audience: String,
    /// Last editor's user id.
    pub edited_by: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
    /// Withdrawn: hidden everywhere, kept.
    pub withdrawn: bool,
    /// Photos, each with the pupils it shows (whose consent to publication it needs).
    pub photos: Vec<Photo>,
}

/// A photo of a post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Photo {
    /// The image file.
    pub file: Attachment,
    /// The pupils it shows.
    pub pupils: Vec<String>,
}

/// `news_post`: one row per post.
pub(crate) const NEWS_POST: TableDef = TableDef::new(
    "news_post",
    &[
        "doc_id",
        "partition",
        "title",
        "body",
        "author",
        "published_at",
        "public",
        "post_id",
        "audience",
        "edited_at",
        "withdrawn",
        "photos",
    ],
)
.with_files("photos");

impl DocKind for NewsPost {
    const KIND: Kind = Kind::NewsPost;
    type State = NewsPost;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        out.push(Row::new(
            Table::NewsPost,
            vec![
                ctx.id.to_string().into(),
                ctx.partition.to_string().into(),
                state.title.as_str().into(),
                state.body.as_str().into(),
                state.author.as_str().into(),
                state.published_at.into(),
                i64::from(state.public).into(),
                ctx.key.into(),
                state.audience.as_str().into(),
                state.edited_at.into(),
                i64::from(state.withdrawn).into(),
                attachments_cell(&state.photos.iter().map(|p| p.file.clone()).collect::<Vec<_>>()).into(),
            ],
        ));
    }
}

/// A post as pages read it (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewsRow {
    /// Its partition.
    pub partition: String,
    /// Its id (the document key).
    pub post_id: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Author.
    pub author: String,
    /// Unix time in milliseconds.
    pub published_at: i64,
    /// On the public page.
    pub public: bool,
    /// `""` or `"parents"`.
    pub audience: String,
    /// Unix milliseconds of the last edit.
    pub edited_at: i64,
    /// The photos' files.
    pub photos: Vec<Attachment>,
}
