//! What a part of the server brings to it, declared once as a [`Service`] and listed once in
//! the composition root (`crate::app::SERVICES`): its pages, its JSON API and that API's
//! OpenAPI tags, the rules of the document kinds it owns, what it keeps in memory, and its
//! tiles and panel on the home page. Nothing else needs to know the service exists.

use std::pin::Pin;

use utoipa_axum::router::OpenApiRouter;

use super::{AppState, Chrome, Parts, Routes, SignedIn};
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::school::directory::{Class, Directory, Member, UserId};
use crate::school::rule::KindRule;

/// What a hook of the composition root returns (`web::BeforeSync`).
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A boxed future borrowing from the home page being built.
pub type HomeFuture<'a> = Pin<Box<dyn Future<Output = Result<HomePart, AppError>> + Send + 'a>>;

/// One service.
pub struct Service {
    /// Its name (logs, tests).
    pub name: &'static str,
    /// Its pages and other non-API endpoints.
    pub pages: fn() -> Routes,
    /// Its JSON API routes (their OpenAPI operations come with them).
    pub api: fn() -> OpenApiRouter<AppState>,
    /// The OpenAPI tags its operations use: name and description.
    pub tags: &'static [(&'static str, &'static str)],
    /// The rule of each document kind it owns: the one check of every local edit and of
    /// every change a peer sends.
    pub rules: &'static [KindRule],
    /// Puts what it keeps in memory (between requests) into the server's state.
    pub parts: fn(&mut Parts),
    /// Its tiles, and perhaps a panel, on a signed-in person's home page.
    pub home: for<'a> fn(&'a Home<'a>) -> HomeFuture<'a>,
    /// Which servers serve it.
    pub served_by: ServedBy,
    /// What its documents tell people by e-mail (the hub's notifications, `crate::notify`).
    pub notices: &'static [NoticeSource],
}

/// Which servers serve a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServedBy {
    /// Every one: a school's appliance, a teacher's computer, and the académie's hub for
    /// people away from school.
    All,
    /// A school's own servers only: what runs the school itself (its setup, structures,
    /// rosters and letters, ONDE import, sync page). Its director does it at school, and
    /// the hub's pages never see a school's server-side state (`links.db`).
    School,
    /// The hub only: what spans schools (a family's accounts in several).
    Hub,
}

impl ServedBy {
    /// Whether a server of this role serves it.
    pub fn by(self, role: crate::platform::config::Role) -> bool {
        use crate::platform::config::Role;
        match self {
            ServedBy::All => true,
            ServedBy::School => role != Role::Hub,
            ServedBy::Hub => role == Role::Hub,
        }
    }
}

impl Service {
    /// A service that brings nothing yet: the base of every declaration
    /// (`Service { name, pages, ..Service::NOTHING }`).
    pub const NOTHING: Service = Service {
        name: "",
        pages: Routes::new,
        api: OpenApiRouter::new,
        tags: &[],
        rules: &[],
        parts: |_| {},
        home: |_| Box::pin(async { Ok(HomePart::default()) }),
        served_by: ServedBy::All,
        notices: &[],
    };
}

/// Every service, for the pages that gather from them all (the home page).
pub struct Services(pub Vec<&'static Service>);

/// What a home page is being built for.
pub struct Home<'a> {
    /// The server.
    pub state: &'a AppState,
    /// The page's chrome (panels render with it).
    pub chrome: &'a Chrome,
    /// The directory snapshot.
    pub dir: &'a Directory,
    /// Who is signed in.
    pub user: &'a SignedIn,
    /// Their directory entry.
    pub member: &'a Member,
    /// The classes they teach (directors and teachers), in the page's order.
    pub classes: &'a [&'a Class],
    /// The pupil the page is about: the pupil herself, or a parent's chosen child.
    pub pupil: Option<&'a UserId>,
    /// Where forms on the page return to.
    pub back: &'a str,
}

impl Home<'_> {
    /// Messages.
    pub fn l(&self) -> &Locale {
        &self.chrome.l
    }
}

/// What a service puts on a home page.
#[derive(Default)]
pub struct HomePart {
    /// Its tiles.
    pub tiles: Vec<Tile>,
    /// A panel above the tiles (HTML rendered by the service's own template).
    pub panel: Option<String>,
}

/// Where a tile goes: the page shows places in this order, and within a place the tiles in
/// the order of [`crate::app::SERVICES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// The director's administration.
    Admin,
    /// One of [`Home::classes`], by index.
    Class(usize),
    /// The person's own things (a pupil's homework, a parent's liaison notes).
    Own,
    /// The school's (the team, news, agenda, messages).
    School,
    /// Staff only.
    Staff,
}

/// A tile.
pub struct Tile {
    /// Where it goes on the page.
    pub place: Place,
    /// Where it leads.
    pub href: String,
    /// Icon file under `/static/icons/`.
    pub icon: &'static str,
    /// Label.
    pub label: String,
}

impl Tile {
    /// A tile.
    pub fn new(place: Place, href: impl Into<String>, icon: &'static str, label: String) -> Self {
        Self { place, href: href.into(), icon, label }
    }
}

/// A subject people may be told about by e-mail, which each person sets to immediately, a
/// daily digest, or never (`crate::notify`).
#[derive(Debug, PartialEq, Eq)]
pub struct Topic {
    /// Its name in settings and storage (`liaison`, `message`...).
    pub id: &'static str,
    /// The message id of its label on the settings page.
    pub label: &'static str,
    /// Its mode until a person chooses one.
    pub default: Mode,
    /// Only in the evening digest, the day before it matters (homework for tomorrow).
    pub eve: bool,
}

/// When a person hears of a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// As soon as sending is allowed (outside quiet hours and the school's holidays).
    Immediate,
    /// In one e-mail a day, at the person's chosen hour.
    Digest,
    /// Never.
    Never,
}

impl Mode {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Immediate => "immediate",
            Mode::Digest => "digest",
            Mode::Never => "never",
        }
    }

    /// Reads [`Mode::as_str`]'s text.
    pub fn parse(s: &str) -> Option<Self> {
        [Mode::Immediate, Mode::Digest, Mode::Never].into_iter().find(|m| m.as_str() == s)
    }
}

/// One thing one person may be told: derived from a changed document by the service that
/// owns its kind, which alone knows who may read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Its topic.
    pub topic: &'static Topic,
    /// What it is about, unique within its school for one recipient (a note's document id,
    /// a message's document and message ids): a person hears of it once.
    pub item: String,
    /// Who is told: an adult who may read it (never a pupil: `crate::notify` checks again).
    pub to: UserId,
    /// The child it concerns, for a parent.
    pub child: Option<UserId>,
    /// What the e-mail says of it: one line, nothing the recipient could not read on the page.
    pub line: String,
    /// The page it is on, within its school (`/liaison/...`).
    pub href: String,
    /// When it happened (Unix milliseconds).
    pub at: i64,
    /// For a topic told on the eve: the day it matters (`YYYY-MM-DD`).
    pub due_on: Option<String>,
}

/// What a service tells of one kind of its documents.
pub struct NoticeSource {
    /// The kind.
    pub kind: preau_sync::Kind,
    /// Its topics (the settings page lists them).
    pub topics: &'static [&'static Topic],
    /// The notices one changed document of that kind gives now, for everyone it concerns
    /// (those already told are skipped by `crate::notify`).
    pub derive: fn(&NoticeInput<'_>) -> Result<Vec<Notice>, AppError>,
}

/// What a service reads to derive notices from one changed document.
pub struct NoticeInput<'a> {
    /// The replica.
    pub reader: &'a preau_sync::Reader,
    /// The school's directory (the document's school).
    pub dir: &'a Directory,
    /// The document.
    pub doc: &'a preau_sync::DocAddress,
    /// Its id.
    pub id: preau_sync::DocId,
    /// Nothing that happened before this (Unix milliseconds) is news any more.
    pub since: i64,
    /// Today in the académie (`YYYY-MM-DD`): what is due today or before is past.
    pub today: &'a str,
    /// Messages (the school's language).
    pub l: &'a Locale,
}
