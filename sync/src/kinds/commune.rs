//! A commune (partition `commune/{insee}`, key `commune`): its name and contacts, the
//! schools it runs (by UAI), and its portal page for families. Held by the hub and by the
//! commune's schools, whose appliances show it offline too.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// The key of a commune's document.
pub const COMMUNE_KEY: &str = "commune";

/// A commune.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Commune {
    /// « Saint-Martin-de-Londres ».
    pub name: String,
    /// Who to reach at the mairie, as the académie or the commune wrote it (lines).
    pub contacts: String,
    /// Its public schools, by UAI.
    pub schools: BTreeMap<String, CommuneSchool>,
    /// The portal page for families.
    pub portal: Portal,
    /// The commune's news for families, by a random id.
    pub news: BTreeMap<String, CommuneNews>,
}

/// A news item of the commune's portal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct CommuneNews {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// When (`YYYY-MM-DD`).
    pub published_on: String,
    /// Who wrote it (a console account id).
    pub by: String,
    /// Withdrawn: hidden, kept.
    pub withdrawn: bool,
}

/// A school of the commune.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct CommuneSchool {
    /// Its name, as the académie knows it.
    pub name: String,
}

/// What the commune tells families on its portal page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Portal {
    /// A few paragraphs.
    pub presentation: String,
    /// The périscolaire: hours, registration, documents to bring.
    pub periscolaire: String,
    /// Shown without login (else to the families of its schools only).
    pub public: bool,
}

/// `commune`: one row per commune.
pub(crate) const COMMUNE: TableDef =
    TableDef::new("commune", &["doc_id", "insee", "name", "contacts", "presentation", "periscolaire", "public"]);

/// `commune_news`: one row per news item of a commune's portal.
pub(crate) const COMMUNE_NEWS: TableDef =
    TableDef::new("commune_news", &["doc_id", "insee", "news_id", "title", "body", "published_on", "withdrawn"]);

/// `commune_school`: one row per school of a commune.
pub(crate) const COMMUNE_SCHOOL: TableDef = TableDef::new("commune_school", &["doc_id", "uai", "insee", "name"]);

/// The INSEE code of a commune's partition (its documents' rows carry it).
pub(crate) fn insee_of(ctx: &ProjectionContext<'_>) -> String {
    match ctx.partition {
        crate::ids::Partition::Commune(insee) => insee.to_string(),
        _ => String::new(),
    }
}

impl DocKind for Commune {
    const KIND: Kind = Kind::Commune;
    type State = Commune;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let insee = insee_of(ctx);
        out.push(Row::new(
            Table::Commune,
            vec![
                ctx.id.to_string().into(),
                insee.as_str().into(),
                state.name.as_str().into(),
                state.contacts.as_str().into(),
                state.portal.presentation.as_str().into(),
                state.portal.periscolaire.as_str().into(),
                i64::from(state.portal.public).into(),
            ],
        ));
        for (id, n) in &state.news {
            out.push(Row::new(
                Table::CommuneNews,
                vec![
                    ctx.id.to_string().into(),
                    insee.as_str().into(),
                    id.as_str().into(),
                    n.title.as_str().into(),
                    n.body.as_str().into(),
                    n.published_on.as_str().into(),
                    i64::from(n.withdrawn).into(),
                ],
            ));
        }
        for (uai, school) in &state.schools {
            out.push(Row::new(
                Table::CommuneSchool,
                vec![
                    ctx.id.to_string().into(),
                    uai.as_str().into(),
                    insee.as_str().into(),
                    school.name.as_str().into(),
                ],
            ));
        }
    }
}

/// A commune's portal as pages read it (from the read model).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortalRow {
    /// INSEE code.
    pub insee: String,
    /// Name.
    pub name: String,
    /// Contacts.
    pub contacts: String,
    /// Presentation.
    pub presentation: String,
    /// Périscolaire.
    pub periscolaire: String,
    /// Shown without login.
    pub public: bool,
    /// News not withdrawn, newest first: id, title, text, day.
    pub news: Vec<(String, String, String, String)>,
}
