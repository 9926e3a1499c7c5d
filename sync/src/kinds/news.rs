//! News: one document per post, so each post is authorized and archived on its own.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table};

/// A news post of a school or a class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct NewsPost {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Author's user id.
    pub author: String,
    /// Unix time in milliseconds.
    pub published_at: i64,
    /// Shown on the school's public page, without login.
    pub public: bool,
}

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
            ],
        ));
    }
}

/// A public post as the school's public page reads it (from the read model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicNews {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Unix time in milliseconds.
    pub published_at: i64,
}
