//! Messaging: conversations between people allowed to talk — pupils with their teachers
//! (and, if the class allows it, their classmates), families with their child's teachers
//! and the director (always both legal guardians of the child), staff among themselves.
//! A pupil's message waits for a teacher's approval unless the class turned moderation off.
//! Read marks give unread counters; an open page receives new messages live (server-sent
//! events). No notification ever goes to a pupil.
//!
//! One `Conversation` document per conversation, in its class's partition (or the staff
//! room's); pages read the `conversation`, `message` and `read_mark` read models.

mod api;
mod notices;
mod pages;
mod rule;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::Attachment;
use preau_sync::kinds::Conversation;
use preau_sync::kinds::conversation::{ConversationRow, Message, MessageRow, Moderation};
use preau_sync::store::ConversationFilter;
use preau_sync::{DocAddress, DocKey, Kind, Partition};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::platform::error::AppError;
use crate::platform::text;
use crate::school::directory::class_partition;
use crate::school::directory::{Class, ClassId, Directory, Member, Profile, UserId};
use crate::web::Routes;
use crate::web::api::{ApiError, ApiJson, ApiUser, Created, ErrorBody};
use crate::web::service::{Home, HomePart, Place, ServedBy, Service, Tile};
use crate::web::session::CsrfForm;
use crate::web::upload::{FormWithFiles, Uploaded};
use crate::web::{AppState, Chrome, Ctx, SignedIn, render, render_status};

/// Longest subject.
const MAX_SUBJECT: usize = 120;
/// Longest message.
const MAX_BODY: usize = 5_000;
/// Files one message may carry.
const MAX_FILES: usize = 5;
/// Most participants in one conversation (a class and its teachers).
const MAX_PARTICIPANTS: usize = 60;

use api::*;
use pages::*;
pub use rule::*;

// ---- writes ----

/// A new conversation.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NewConversation {
    /// Subject.
    #[schema(min_length = 1, max_length = 120)]
    pub subject: String,
    /// The people written to (user ids; see `/api/v1/contacts`).
    #[serde(default)]
    #[schema(max_items = 60)]
    pub to: Vec<String>,
    /// A child: the conversation is with their family (every legal guardian is added).
    #[serde(default)]
    pub about: String,
    /// The first message.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

/// Where a new conversation by `by` lives.
fn context_of(dir: &Directory, by: &Member, to: &[&Member], about: Option<&Member>) -> Result<Partition, AppError> {
    let uai = dir.uai().ok_or(AppError::NotFound)?;
    let class = |pupil: &Member| dir.class_of(pupil).map(|c| class_partition(uai, &c.id));
    let partition = match (by.profile, about) {
        (_, Some(child)) => class(child),
        (Profile::Pupil, None) => class(by),
        (Profile::Teacher | Profile::Director, None) => match to.iter().find(|m| m.profile == Profile::Pupil) {
            Some(pupil) => class(pupil),
            None => Some(Partition::Staff(uai.clone())),
        },
        (Profile::Staff, None) => Some(Partition::Staff(uai.clone())),
        (Profile::Parent | Profile::AcademyAdmin, None) => None,
    };
    partition.ok_or_else(|| AppError::Refused {
        message: "messaging-not-allowed",
        detail: "no context for this conversation".into(),
    })
}

fn body_of(body: &str) -> Result<String, AppError> {
    let body = text::paragraphs(body, MAX_BODY, "messaging-bad-body")?;
    if body.is_empty() {
        return Err(AppError::bad("messaging-bad-body", "empty message"));
    }
    Ok(body)
}

/// A message by `author` in a conversation at `partition`: held when a pupil writes in a
/// moderated class.
fn new_message(
    dir: &Directory,
    partition: &Partition,
    author: &Member,
    body: String,
    attachments: Vec<Attachment>,
) -> Message {
    let moderated = dir.class_of_partition(partition).is_some_and(|c| !c.class.unmoderated);
    Message {
        author: author.id.to_string(),
        sent_at: crate::platform::clock::now_ms(),
        body,
        held: author.profile == Profile::Pupil && moderated,
        attachments,
    }
}

/// Stores the files sent with a message.
async fn store_files(state: &AppState, files: Vec<Uploaded>) -> Result<Vec<Attachment>, AppError> {
    if files.len() > MAX_FILES {
        return Err(AppError::bad("error-too-many-files", format!("{} files", files.len())));
    }
    let mut stored = Vec::new();
    for f in files {
        stored.push(state.files.put(&f.name, &f.mime, f.bytes).await?);
    }
    Ok(stored)
}

/// Starts a conversation; returns its id.
pub async fn start(
    state: &AppState,
    by: &SignedIn,
    new: NewConversation,
    files: Vec<Uploaded>,
) -> Result<String, AppError> {
    let dir = state.directory();
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?;
    let to: Vec<&Member> = new
        .to
        .iter()
        .map(|id| member(&dir, id).ok_or_else(|| AppError::bad("messaging-not-allowed", format!("unknown {id}"))))
        .collect::<Result<_, _>>()?;
    let about = match new.about.trim() {
        "" => None,
        id => Some(
            member(&dir, id).ok_or_else(|| AppError::bad("messaging-not-allowed", format!("unknown child {id}")))?,
        ),
    };
    let partition = context_of(&dir, me, &to, about)?;
    let mut participants: Vec<String> =
        std::iter::once(me.id.to_string()).chain(to.iter().map(|m| m.id.to_string())).collect();
    if let Some(child) = about {
        participants.extend(dir.guardians_of(&child.id).into_iter().filter(|(_, l)| *l).map(|(g, _)| g.id.to_string()));
    }
    let mut seen = BTreeSet::new();
    participants.retain(|p| seen.insert(p.clone()));
    let about = about.map(|c| c.id.to_string()).unwrap_or_default();
    // Who may write to whom is decided before anything typed is looked at.
    may_gather(&dir, &partition, me.id.as_str(), &participants, &about)
        .map_err(|detail| AppError::Refused { message: "messaging-not-allowed", detail })?;
    let subject = text::required_line(&new.subject, MAX_SUBJECT, "messaging-bad-subject")?;
    let body = body_of(&new.body)?;
    let key = ClassId::random().to_string();
    let first = new_message(&dir, &partition, me, body, store_files(state, files).await?);
    let address = conversation_address(partition, &key)?;
    let creator = me.id.to_string();
    let everyone = participants.clone();
    edit_conversation(state, address, everyone, move |c| {
        let message_id = ClassId::random().to_string();
        let read_at = first.sent_at;
        *c = Conversation {
            subject,
            participants,
            about,
            created_by: creator.clone(),
            created_at: first.sent_at,
            ..Conversation::default()
        };
        c.messages.insert(message_id, first);
        c.read.insert(creator, read_at);
        Ok(())
    })
    .await?;
    Ok(key)
}

/// A conversation `by` takes part in (or moderates).
async fn find(state: &AppState, by: &SignedIn, key: &str) -> Result<(ConversationRow, bool), AppError> {
    let (school, k) = (state.uai()?, key.to_owned());
    let rows = state.db.read(|store| Ok(store.conversations(&school, &ConversationFilter::Key(&k))?))?;
    let row = rows.into_iter().next().ok_or(AppError::NotFound)?;
    let dir = state.directory();
    // Teachers (and the director) moderate their classes' pupils' conversations; a family's
    // conversation is read by its participants only, never opened by id by anyone else.
    let moderates = row.about.is_empty()
        && Partition::parse(&row.partition)
            .ok()
            .and_then(|p| dir.class_of_partition(&p).cloned())
            .is_some_and(|c| dir.teaches(&by.user, &c));
    let takes_part =
        row.participants.iter().any(|p| p == by.user.as_str()) && family_reaches(&dir, &row.about, &by.user);
    if takes_part || moderates { Ok((row, moderates)) } else { Err(AppError::NotFound) }
}

/// Whether a conversation about a child still reaches `user` if she is a parent: while the
/// child's class is closed to families, its parents are not on the ENT for that child
/// (`Directory::family_open`), in conversations begun before it closed too.
fn family_reaches(dir: &Directory, about: &str, user: &UserId) -> bool {
    let parent = dir.member(user).is_some_and(|m| m.profile == Profile::Parent);
    !parent || about.is_empty() || UserId::parse(about).is_ok_and(|child| dir.is_legal_guardian(user, &child))
}

/// The conversation `by` may add a message to: one they take part in, still open to them
/// ([`may_reply`]).
async fn writable(state: &AppState, by: &SignedIn, key: &str) -> Result<ConversationRow, AppError> {
    let (row, _) = find(state, by, key).await?;
    if !row.participants.iter().any(|p| p == by.user.as_str()) {
        return Err(AppError::NotFound);
    }
    if !may_reply(&state.directory(), &row, &by.user) {
        return Err(AppError::Refused {
            message: "messaging-classmates-closed",
            detail: "classmates may no longer write to each other".into(),
        });
    }
    Ok(row)
}

/// Whether `user` may add a message to the conversation of `row` ([`pupils_may_write`]).
fn may_reply(dir: &Directory, row: &ConversationRow, user: &UserId) -> bool {
    let pupil = dir.member(user).is_some_and(|m| m.profile == Profile::Pupil);
    let class = Partition::parse(&row.partition).ok().and_then(|p| dir.class_of_partition(&p));
    !pupil || pupils_may_write(dir, class, &row.participants)
}

fn address_of(row: &ConversationRow) -> Result<DocAddress, AppError> {
    conversation_address(Partition::parse(&row.partition).map_err(|_| AppError::NotFound)?, &row.key)
}

/// Adds a message to a conversation `by` takes part in.
pub async fn reply(
    state: &AppState,
    by: &SignedIn,
    key: &str,
    body: &str,
    files: Vec<Uploaded>,
) -> Result<(), AppError> {
    let row = writable(state, by, key).await?;
    let body = body_of(body)?;
    let dir = state.directory();
    let me = dir.member(&by.user).ok_or(AppError::Unauthenticated)?;
    let address = address_of(&row)?;
    let message = new_message(&dir, &address.partition, me, body, store_files(state, files).await?);
    let user = me.id.to_string();
    edit_conversation(state, address, row.participants.clone(), move |c| {
        let at = message.sent_at;
        c.messages.insert(ClassId::random().to_string(), message);
        c.read.insert(user, at);
        Ok(())
    })
    .await
}

/// Approves (delivers) or refuses a pupil's held message (the class's teachers).
pub async fn moderate(
    state: &AppState,
    by: &SignedIn,
    key: &str,
    message: &str,
    approved: bool,
) -> Result<(), AppError> {
    let (row, moderates) = find(state, by, key).await?;
    if !moderates {
        return Err(AppError::NotFound);
    }
    let (user, message) = (by.user.to_string(), message.to_owned());
    edit_conversation(state, address_of(&row)?, row.participants.clone(), move |c| {
        if !c.messages.get(&message).is_some_and(|m| m.held) {
            return Err(AppError::NotFound);
        }
        // The first decision stands (two teachers deciding at once agree on the first).
        c.moderation.entry(message).or_insert(Moderation { approved, by: user, at: crate::platform::clock::now_ms() });
        Ok(())
    })
    .await
}

/// Records that `by` has seen a conversation up to `seen` (Unix milliseconds).
async fn mark_read(state: &AppState, by: &SignedIn, row: &ConversationRow, seen: i64) -> Result<(), AppError> {
    let user = by.user.to_string();
    let address = address_of(row)?;
    crate::school::edit::under_rule::<Conversation, ()>(state, address, check_change, move |c| {
        if c.read.get(&user).is_none_or(|at| *at < seen) {
            c.read.insert(user, seen);
        }
        Ok(())
    })
    .await
}

/// Turns a class's moderation and classmates switches (its teachers and the director).
pub async fn set_class_rules(state: &AppState, by: &SignedIn, class: &str, rules: ClassRules) -> Result<(), AppError> {
    let dir = state.directory();
    let id = ClassId::parse(class)?;
    let class = dir.classes.get(&id).filter(|c| dir.teaches(&by.user, c)).ok_or(AppError::NotFound)?;
    let key = class.id.to_string();
    crate::school::structures::edit_directory(state, move |d, _| {
        let c = d.classes.get_mut(&key).ok_or(AppError::NotFound)?;
        c.unmoderated = !rules.moderated;
        c.classmates = rules.classmates;
        Ok(())
    })
    .await
}

// ---- reads ----

/// One message as its reader sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// The author's name.
    pub author: String,
    /// Written by the reader.
    pub mine: bool,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM` (UTC).
    pub time: String,
    /// Text.
    pub body: String,
    /// `waiting`, `delivered` or `refused`.
    pub status: String,
    /// Attached files.
    pub files: Vec<crate::web::files::FileView>,
}

/// A conversation in a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConversationSummary {
    /// Id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// The other participants' names.
    pub with: Vec<String>,
    /// Messages the reader has not seen.
    pub unread: usize,
    /// `YYYY-MM-DD` of the last message the reader may see.
    pub last: String,
}

fn display_name(dir: &Directory, id: &str) -> String {
    match member(dir, id) {
        Some(m) if m.profile == Profile::Pupil => m.full_name(),
        Some(m) => format!("{} {} {}", m.person.civility, m.person.first_name, m.person.last_name).trim().to_owned(),
        None => String::new(),
    }
}

/// Whether the reader sees a message: delivered ones, and their own or (moderators) held ones.
fn visible(m: &MessageRow, reader: &str, moderates: bool) -> bool {
    m.status == 2 || m.author == reader || moderates
}

fn message_view(dir: &Directory, m: &MessageRow, reader: &str) -> MessageView {
    let (date, time) = (
        crate::platform::clock::date_of_ms(m.sent_at),
        format!("{:02}:{:02}", m.sent_at / 3_600_000 % 24, m.sent_at / 60_000 % 60),
    );
    MessageView {
        id: m.message_id.clone(),
        author: display_name(dir, &m.author),
        mine: m.author == reader,
        date,
        time,
        body: m.body.clone(),
        files: m.attachments.iter().map(crate::web::files::FileView::of).collect(),
        status: match m.status {
            1 => "waiting",
            0 => "refused",
            _ => "delivered",
        }
        .into(),
    }
}

/// The reader's conversations, the most recent first, with unread counts.
pub async fn inbox(state: &AppState, by: &SignedIn) -> Result<Vec<ConversationSummary>, AppError> {
    let (school, user) = (state.uai()?, by.user.to_string());
    let (rows, messages, marks) = state.db.read(|store| {
        let rows = store.conversations(&school, &ConversationFilter::Participant(&user))?;
        let docs: Vec<String> = rows.iter().map(|r| r.doc_id.clone()).collect();
        Ok((rows, store.messages(&docs)?, store.read_marks(&user, &docs)?))
    })?;
    let dir = state.directory();
    let marks: BTreeMap<String, i64> = marks.into_iter().collect();
    let me = by.user.as_str();
    Ok(rows
        .into_iter()
        .filter(|row| family_reaches(&dir, &row.about, &by.user))
        .map(|row| {
            let mine: Vec<&MessageRow> =
                messages.iter().filter(|m| m.doc_id == row.doc_id && visible(m, me, false)).collect();
            let read = marks.get(&row.doc_id).copied().unwrap_or(0);
            ConversationSummary {
                unread: mine.iter().filter(|m| m.sent_at > read && m.author != me).count(),
                last: mine.last().map(|m| crate::platform::clock::date_of_ms(m.sent_at)).unwrap_or_default(),
                with: row.participants.iter().filter(|p| *p != me).map(|p| display_name(&dir, p)).collect(),
                id: row.key,
                subject: row.subject,
            }
        })
        .collect())
}

/// Unread messages in all the reader's conversations (the home page's counter): one
/// indexed count, not the inbox, since every home page asks; but for a parent with a child
/// in a class closed to families, what her inbox shows ([`family_reaches`]).
pub async fn unread_count(state: &AppState, by: &SignedIn) -> Result<usize, AppError> {
    let dir = state.directory();
    if dir.children_of_any(&by.user).len() != dir.children_of(&by.user).len() {
        return Ok(inbox(state, by).await?.iter().map(|c| c.unread).sum());
    }
    let (school, user) = (state.uai()?, by.user.to_string());
    let count = state.memo("messaging.unread", user.clone(), |store| Ok(store.unread_messages(&school, &user)?))?;
    Ok(*count as usize)
}

/// A conversation and its messages as the reader may see them; marks them read.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConversationView {
    /// Id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Every participant's name.
    pub participants: Vec<String>,
    /// The reader takes part (else they only moderate it).
    pub takes_part: bool,
    /// The reader may approve or refuse held messages.
    pub moderates: bool,
    /// The reader may write in it (a participant, and for a pupil among classmates, only
    /// while the class allows it).
    pub writable: bool,
    /// Messages, oldest first.
    pub messages: Vec<MessageView>,
}

/// One conversation, read by `by` (which marks it read).
pub async fn read(state: &AppState, by: &SignedIn, key: &str) -> Result<ConversationView, AppError> {
    let (row, moderates) = find(state, by, key).await?;
    let doc = vec![row.doc_id.clone()];
    let messages = state.db.read(|store| Ok(store.messages(&doc)?))?;
    let me = by.user.as_str();
    let takes_part = row.participants.iter().any(|p| p == me);
    let seen: Vec<&MessageRow> = messages.iter().filter(|m| visible(m, me, moderates)).collect();
    if let (true, Some(last)) = (takes_part, seen.iter().map(|m| m.sent_at).max()) {
        mark_read(state, by, &row, last).await?;
    }
    let dir = state.directory();
    Ok(ConversationView {
        id: row.key.clone(),
        subject: row.subject.clone(),
        participants: row.participants.iter().map(|p| display_name(&dir, p)).collect(),
        writable: takes_part && may_reply(&dir, &row, &by.user),
        takes_part,
        moderates,
        messages: seen.into_iter().map(|m| message_view(&dir, m, me)).collect(),
    })
}

/// Someone the reader may write to.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Contact {
    /// User id (for `to`), or the child's id (for `about`).
    pub id: String,
    /// Name.
    pub name: String,
    /// `teacher`, `pupil`, `staff`, or `family` (a child: writing to their guardians).
    pub kind: String,
}

/// Whether `me` may write to `other`: the one rule behind the contacts a page or the API
/// offers and the participants a new conversation may have ([`may_gather`]). Pupils write
/// to their class's teachers (and classmates where the class allows it), never to the
/// director unless she teaches the class; families to the staff who teach their children;
/// teachers and the director to the pupils of the classes they teach and to the staff;
/// other staff to the staff.
pub fn may_write_to(dir: &Directory, me: &Member, other: &Member) -> bool {
    if me.id == other.id || other.person.archived || me.person.archived {
        return false;
    }
    match me.profile {
        Profile::Pupil => dir.class_of(me).is_some_and(|class| {
            (other.profile.is_staff() && class.class.teachers.iter().any(|t| t == other.id.as_str()))
                || (class.class.classmates
                    && other.profile == Profile::Pupil
                    && other.person.class_id == me.person.class_id)
        }),
        Profile::Parent => {
            other.profile.is_staff()
                && dir.children_of(&me.id).iter().any(|c| dir.class_of(c).is_some_and(|k| dir.teaches(&other.id, k)))
        }
        Profile::Teacher | Profile::Director => {
            other.profile.is_staff()
                || (other.profile == Profile::Pupil && dir.class_of(other).is_some_and(|k| dir.teaches(&me.id, k)))
        }
        Profile::Staff => other.profile.is_staff(),
        Profile::AcademyAdmin => false,
    }
}

/// Whom `by` may write to ([`may_write_to`]), and, for families and teachers, the children
/// whose families they may write about. Parents never see other parents: they pick their
/// child's teachers or the director, and the child's other guardian is added by itself.
pub fn contacts(dir: &Directory, by: &SignedIn) -> Vec<Contact> {
    let Some(me) = dir.member(&by.user) else { return Vec::new() };
    let kind = |m: &Member| match (m.profile, me.profile.is_staff()) {
        (Profile::Pupil, _) => "pupil",
        (_, true) => "staff",
        (_, false) => "teacher",
    };
    let mut out: Vec<Contact> = dir
        .people
        .values()
        .filter(|m| may_write_to(dir, me, m))
        .map(|m| Contact { id: m.id.to_string(), name: display_name(dir, m.id.as_str()), kind: kind(m).into() })
        .collect();
    let families: Vec<&Member> = match me.profile {
        Profile::Parent => {
            dir.children_of(&me.id).into_iter().filter(|c| dir.is_legal_guardian(&me.id, &c.id)).collect()
        }
        Profile::Teacher | Profile::Director => dir
            .current_classes()
            .into_iter()
            .filter(|c| dir.teaches(&me.id, c))
            .flat_map(|c| dir.pupils_of(&c.id))
            .collect(),
        _ => Vec::new(),
    };
    out.extend(families.into_iter().map(|c| Contact {
        id: c.id.to_string(),
        name: c.full_name(),
        kind: "family".into(),
    }));
    let order = |k: &str| ["teacher", "pupil", "family", "staff"].iter().position(|o| *o == k);
    out.sort_by(|a, b| (order(&a.kind), &a.name).cmp(&(order(&b.kind), &b.name)));
    out
}

/// The held messages of the classes `by` moderates: (conversation id, subject, message).
pub async fn held(
    state: &AppState,
    by: &SignedIn,
    class: &Class,
) -> Result<Vec<(String, String, MessageView)>, AppError> {
    let dir = state.directory();
    if !dir.teaches(&by.user, class) {
        return Err(AppError::NotFound);
    }
    let school = dir.uai().ok_or(AppError::NotFound)?;
    let partition = class_partition(school, &class.id);
    let (rows, messages) = state.db.read(|store| {
        let rows = store.conversations(school, &ConversationFilter::Partition(&partition))?;
        let docs: Vec<String> = rows.iter().map(|r| r.doc_id.clone()).collect();
        Ok((rows, store.messages(&docs)?))
    })?;
    Ok(messages
        .iter()
        .filter(|m| m.status == 1)
        .filter_map(|m| {
            let row = rows.iter().find(|r| r.doc_id == m.doc_id)?;
            Some((row.key.clone(), row.subject.clone(), message_view(&dir, m, by.user.as_str())))
        })
        .collect())
}

/// Conversations, and the moderation of pupils' messages.
pub const SERVICE: Service = Service {
    name: "messaging",
    pages: routes,
    api: api_routes,
    tags: &[("messaging", "Conversations between allowed people, moderation of pupils' messages")],
    rules: &[crate::kind_rule!(Conversation, check_change)],
    parts: |parts| parts.insert(Updates::default()),
    home: |h| Box::pin(home_tiles(h)),
    served_by: ServedBy::All,
    notices: &[notices::SOURCE],
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    if h.member.profile == Profile::AcademyAdmin {
        return Ok(HomePart::default());
    }
    let l = h.l();
    let label = match unread_count(h.state, h.user).await? {
        0 => l.t("tile-messages"),
        n => l.ta("tile-messages-unread", &[("count", &n.to_string())]),
    };
    Ok(HomePart { tiles: vec![Tile::new(Place::School, "/messages", "messages", label)], panel: None })
}
