//! Messaging: conversations between people allowed to talk — pupils with their teachers
//! (and, if the class allows it, their classmates), families with their child's teachers
//! and the director (always both legal guardians of the child), staff among themselves.
//! A pupil's message waits for a teacher's approval unless the class turned moderation off.
//! Read marks give unread counters; an open page receives new messages live (server-sent
//! events). No notification ever goes to a pupil.
//!
//! One `Conversation` document per conversation, in its class's partition (or the staff
//! room's); pages read the `conversation`, `message` and `read_mark` read models.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::Conversation;
use preau_sync::kinds::conversation::{ConversationRow, Message, MessageRow, Moderation};
use preau_sync::kinds::homework::Attachment;
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
use crate::web::service::{Home, HomePart, Place, Service, Tile};
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

// ---- who may talk with whom ----

fn member<'d>(dir: &'d Directory, id: &str) -> Option<&'d Member> {
    UserId::parse(id).ok().and_then(|id| dir.member(&id)).filter(|m| !m.person.archived)
}

/// Whether these participants may gather in a conversation at `partition`, started by
/// `creator`, about `about` (a child, or empty). The one place the contact rules live.
fn may_gather(
    dir: &Directory,
    partition: &Partition,
    creator: &str,
    participants: &[String],
    about: &str,
) -> Result<(), String> {
    let unique: BTreeSet<&String> = participants.iter().collect();
    if unique.len() != participants.len() || participants.len() < 2 || participants.len() > MAX_PARTICIPANTS {
        return Err(format!("{} participants, or twice the same", participants.len()));
    }
    if !participants.iter().any(|p| p == creator) {
        return Err("the creator is not a participant".into());
    }
    let people: Vec<&Member> = participants
        .iter()
        .map(|p| member(dir, p).ok_or_else(|| format!("unknown participant {p}")))
        .collect::<Result<_, _>>()?;
    // The creator writes only to people offered to them (`contacts`, the same rule), and a
    // conversation about a child also reaches that child's legal guardians.
    let author = member(dir, creator).ok_or("unknown creator")?;
    let guardian_of_about =
        |m: &Member| !about.is_empty() && UserId::parse(about).is_ok_and(|child| dir.is_legal_guardian(&m.id, &child));
    if let Some(m) = people.iter().find(|m| m.id != author.id && !may_write_to(dir, author, m) && !guardian_of_about(m))
    {
        return Err(format!("{creator} may not write to {}", m.id));
    }
    if let Partition::Staff(uai) = partition {
        if dir.uai() != Some(uai) || !about.is_empty() || people.iter().any(|m| !m.profile.is_staff()) {
            return Err("the staff room is for the school's staff only".into());
        }
        return Ok(());
    }
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: no conversation lives there"))?;
    let teaches = |m: &Member| dir.teaches(&m.id, class);
    let pupil_of_class = |m: &Member| m.profile == Profile::Pupil && m.person.class_id == class.id.as_str();
    if people.iter().any(|m| m.profile.is_staff() && !teaches(m)) {
        return Err("only the class's teachers and the director speak for the school here".into());
    }
    if about.is_empty() {
        // Pupils with their teachers; with classmates only where the class allows it.
        if people.iter().any(|m| !teaches(m) && !pupil_of_class(m)) {
            return Err("only the class's pupils and teachers take part".into());
        }
        let pupils = people.iter().filter(|m| pupil_of_class(m)).count();
        if pupils == 0 {
            return Err("teachers talk among themselves in the staff room".into());
        }
        if pupils > 1 && !class.class.classmates {
            return Err("this class's pupils do not write to each other".into());
        }
        return Ok(());
    }
    // About a child: the child's legal guardians (all of them) and the class's teachers.
    if !people.iter().any(|m| teaches(m)) {
        return Err("a family's conversation includes one of the class's teachers or the director".into());
    }
    let child = member(dir, about).filter(|m| pupil_of_class(m)).ok_or("not a pupil of this class")?;
    let guardians: Vec<String> =
        dir.guardians_of(&child.id).into_iter().filter(|(_, legal)| *legal).map(|(g, _)| g.id.to_string()).collect();
    if guardians.iter().any(|g| !participants.contains(g)) {
        return Err("every legal guardian of the child receives what is sent about them".into());
    }
    if people.iter().any(|m| !teaches(m) && !guardians.contains(&m.id.to_string())) {
        return Err("only the child's legal guardians and the class's teachers take part".into());
    }
    Ok(())
}

/// Whether `after` may follow `before` in a conversation at `partition`: its participants
/// may gather (see [`may_gather`]) and never change; messages come from participants and
/// are never edited or removed; a pupil's message in a moderated class waits for approval;
/// decisions come from the class's teachers, once; each read mark is a participant's.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &Conversation,
    after: &Conversation,
) -> Result<(), String> {
    if before.created_by.is_empty() {
        may_gather(dir, partition, &after.created_by, &after.participants, &after.about)?;
        text::required_line(&after.subject, MAX_SUBJECT, "messaging-bad-subject").map_err(|e| e.to_string())?;
    } else if (&before.subject, &before.participants, &before.about, &before.created_by, before.created_at)
        != (&after.subject, &after.participants, &after.about, &after.created_by, after.created_at)
    {
        return Err("a conversation's subject and participants never change".into());
    }
    let class = dir.class_of_partition(partition);
    for (id, old) in &before.messages {
        if after.messages.get(id) != Some(old) {
            return Err(format!("message {id} changed or removed"));
        }
    }
    for (id, m) in after.messages.iter().filter(|(id, _)| !before.messages.contains_key(*id)) {
        if !after.participants.contains(&m.author) {
            return Err(format!("message {id}: its author does not take part"));
        }
        if m.body.trim().is_empty() || m.body.chars().count() > MAX_BODY {
            return Err(format!("message {id}: empty or too long"));
        }
        if m.attachments.len() > MAX_FILES || !m.attachments.iter().all(crate::platform::files::is_reference) {
            return Err(format!("message {id}: malformed or too many files"));
        }
        let pupil = member(dir, &m.author).is_some_and(|a| a.profile == Profile::Pupil);
        if pupil && class.is_some_and(|c| !c.class.unmoderated) && !m.held {
            return Err(format!("message {id}: a pupil's message skipped moderation"));
        }
        if pupil && !pupils_may_write(dir, class, &after.participants) {
            return Err(format!("message {id}: this class's pupils no longer write to each other"));
        }
    }
    for (id, old) in &before.moderation {
        if after.moderation.get(id) != Some(old) {
            return Err(format!("decision on {id} changed or removed"));
        }
    }
    for (id, d) in after.moderation.iter().filter(|(id, _)| !before.moderation.contains_key(*id)) {
        if !after.messages.get(id).is_some_and(|m| m.held) {
            return Err(format!("decision on {id}: no such held message"));
        }
        let moderator = UserId::parse(&d.by).map_err(|_| format!("decision on {id}: no moderator"))?;
        if !class.is_some_and(|c| dir.teaches(&moderator, c)) {
            return Err(format!("decision on {id}: {moderator} does not moderate this class"));
        }
    }
    if after.read.keys().any(|u| !after.participants.contains(u)) {
        return Err("a read mark of someone who does not take part".into());
    }
    Ok(())
}

/// Whether pupils may still write in a conversation with these participants: one among
/// several pupils only while their class allows classmates to write to each other (the
/// switch applies to conversations already started, too).
pub fn pupils_may_write(dir: &Directory, class: Option<&Class>, participants: &[String]) -> bool {
    let pupils = participants.iter().filter(|p| member(dir, p).is_some_and(|m| m.profile == Profile::Pupil)).count();
    pupils <= 1 || class.is_some_and(|c| c.class.classmates)
}

fn conversation_address(partition: Partition, key: &str) -> Result<DocAddress, AppError> {
    let key = DocKey::parse(key).map_err(|_| AppError::NotFound)?;
    Ok(DocAddress::new(partition, Kind::Conversation, key))
}

async fn edit_conversation<R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    participants: Vec<String>,
    edit: impl FnOnce(&mut Conversation) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    let key = address.key.as_str().to_owned();
    let result = crate::school::edit::under_rule::<Conversation, R>(state, address, check_change, edit).await?;
    // Nobody listening is fine.
    let _ = state.part::<Updates>().0.send(Arc::new(Update { key, participants }));
    Ok(result)
}

/// What an open page hears about: a conversation changed, for these participants.
#[derive(Debug)]
pub struct Update {
    /// The conversation's id.
    pub key: String,
    /// Who takes part.
    pub participants: Vec<String>,
}

/// Changed conversations, for open pages (server-sent events).
pub struct Updates(tokio::sync::broadcast::Sender<Arc<Update>>);

impl Default for Updates {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(256).0)
    }
}

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
    let k = key.to_owned();
    let rows = state.db.read(|store| Ok(store.conversations(&ConversationFilter::Key(&k))?))?;
    let row = rows.into_iter().next().ok_or(AppError::NotFound)?;
    let dir = state.directory();
    // Teachers (and the director) moderate their classes' pupils' conversations; a family's
    // conversation is read by its participants only, never opened by id by anyone else.
    let moderates = row.about.is_empty()
        && Partition::parse(&row.partition)
            .ok()
            .and_then(|p| dir.class_of_partition(&p).cloned())
            .is_some_and(|c| dir.teaches(&by.user, &c));
    if row.participants.iter().any(|p| p == by.user.as_str()) || moderates {
        Ok((row, moderates))
    } else {
        Err(AppError::NotFound)
    }
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
    let user = by.user.to_string();
    let (rows, messages, marks) = state.db.read(|store| {
        let rows = store.conversations(&ConversationFilter::Participant(&user))?;
        let docs: Vec<String> = rows.iter().map(|r| r.doc_id.clone()).collect();
        Ok((rows, store.messages(&docs)?, store.read_marks(&user, &docs)?))
    })?;
    let dir = state.directory();
    let marks: BTreeMap<String, i64> = marks.into_iter().collect();
    let me = by.user.as_str();
    Ok(rows
        .into_iter()
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
/// indexed count, not the inbox, since every home page asks.
pub async fn unread_count(state: &AppState, by: &SignedIn) -> Result<usize, AppError> {
    let user = by.user.to_string();
    Ok(state.db.read(|store| Ok(store.unread_messages(&user)?))? as usize)
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
    let partition = class_partition(dir.uai().ok_or(AppError::NotFound)?, &class.id);
    let (rows, messages) = state.db.read(|store| {
        let rows = store.conversations(&ConversationFilter::Partition(&partition))?;
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

// ---- pages ----

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/messages", inbox_page)
        .get("/messages/new", new_page)
        .post("/messages/new", new_form)
        .get("/messages/events", events)
        .get("/messages/{id}", conversation_page)
        .post("/messages/{id}", reply_form)
        .post("/messages/{id}/{message}/moderate", moderate_form)
        .get("/messages/{id}/files/{hash}", file_download)
        .get("/classes/{id}/messaging", class_messaging_page)
        .post("/classes/{id}/messaging", class_rules_form)
}

#[derive(Template)]
#[template(path = "messages_inbox.html")]
struct InboxPage {
    c: Chrome,
    conversations: Vec<ConversationSummary>,
}

impl InboxPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn inbox_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let conversations = inbox(&state, ctx.user()?).await?;
    render(&InboxPage { c: Chrome::new(&ctx), conversations })
}

#[derive(Template)]
#[template(path = "messages_new.html")]
struct NewPage {
    c: Chrome,
    people: Vec<Contact>,
    families: Vec<Contact>,
    subject: String,
    body: String,
    error: Option<String>,
}

async fn show_new(
    state: &AppState,
    ctx: &Ctx,
    subject: String,
    body: String,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (families, people): (Vec<Contact>, Vec<Contact>) =
        contacts(&state.directory(), ctx.user()?).into_iter().partition(|c| c.kind == "family");
    let page = NewPage {
        c: Chrome::new(ctx),
        people,
        families,
        subject,
        body,
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn new_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    show_new(&state, &ctx, String::new(), String::new(), None).await
}

async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let new = NewConversation {
        subject: form.value("subject"),
        to: form.values("to"),
        about: form.value("about"),
        body: form.value("body"),
    };
    let (subject, text) = (new.subject.clone(), new.body.clone());
    match start(&state, ctx.user()?, new, form.files).await {
        Ok(key) => Ok(Redirect::to(&format!("/messages/{key}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_new(&state, &ctx, subject, text, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "messages_conversation.html")]
struct ConversationPage {
    c: Chrome,
    conversation: ConversationView,
    error: Option<String>,
}

impl ConversationPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn show_conversation(
    state: &AppState,
    ctx: &Ctx,
    key: &str,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let conversation = read(state, ctx.user()?, key).await?;
    let page =
        ConversationPage { c: Chrome::new(ctx), conversation, error: error.map(|e| ctx.locale.t(e.message_id())) };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn conversation_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    show_conversation(&state, &ctx, &id, None).await
}

async fn reply_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    match reply(&state, ctx.user()?, &id, &form.value("body"), form.files).await {
        Ok(()) => Ok(Redirect::to(&format!("/messages/{id}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_conversation(&state, &ctx, &id, Some(&e)).await,
        Err(e) => Err(e),
    }
}

/// A file of a message the reader may see.
async fn file_download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (row, moderates) = find(&state, user, &id).await?;
    let doc = vec![row.doc_id.clone()];
    let messages = state.db.read(|store| Ok(store.messages(&doc)?))?;
    let file = messages
        .into_iter()
        .filter(|m| visible(m, user.user.as_str(), moderates))
        .flat_map(|m| m.attachments)
        .find(|a| a.hash == hash)
        .ok_or(AppError::NotFound)?;
    let bytes = state.files.get(&file.hash).await?.ok_or(AppError::NotFound)?;
    Ok(crate::web::files::download(&file, bytes))
}

#[derive(Deserialize)]
struct ModerateForm {
    decision: String,
    #[serde(default)]
    back: String,
}

async fn moderate_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, message)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ModerateForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let approved = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        other => return Err(AppError::bad("error-bad-form", format!("decision {other:?}"))),
    };
    let back = crate::web::local_path(&form.back, format!("/messages/{id}"))?;
    moderate(&state, user, &id, &message, approved).await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "messages_class.html")]
struct ClassMessagingPage {
    c: Chrome,
    class: Class,
    held: Vec<(String, String, MessageView)>,
}

async fn class_messaging_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let dir = state.directory();
    let class = dir.classes.get(&ClassId::parse(&id)?).cloned().ok_or(AppError::NotFound)?;
    let held = held(&state, ctx.user()?, &class).await?;
    render(&ClassMessagingPage { c: Chrome::new(&ctx), class, held })
}

/// A class's messaging switches.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
pub struct ClassRules {
    /// Pupils' messages wait for a teacher's approval.
    pub moderated: bool,
    /// Pupils may write to their classmates.
    pub classmates: bool,
}

async fn class_rules_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let on = |k: &str| pairs.iter().any(|(n, v)| n == k && v == "on");
    set_class_rules(&state, ctx.user()?, &id, ClassRules { moderated: on("moderated"), classmates: on("classmates") })
        .await?;
    Ok(Redirect::to(&format!("/classes/{id}/messaging")).into_response())
}

/// Server-sent events: `update` with a conversation's id whenever one of the reader's
/// conversations changes, so an open page shows new messages without reloading.
async fn events(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?.user.to_string();
    let receiver = state.part::<Updates>().0.subscribe();
    let stream = futures_util::stream::unfold((receiver, user), |(mut receiver, user)| async move {
        loop {
            match receiver.recv().await {
                Ok(update) if update.participants.contains(&user) => {
                    let event = Event::default().event("update").data(update.key.clone());
                    return Some((Ok::<_, Infallible>(event), (receiver, user)));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_inbox, api_start))
        .routes(routes!(api_read))
        .routes(routes!(api_reply))
        .routes(routes!(api_reply_with_files))
        .routes(routes!(api_moderate))
        .routes(routes!(api_contacts))
        .routes(routes!(api_class_rules))
}

/// A message's text.
#[derive(Deserialize, ToSchema)]
pub struct Reply {
    /// Text.
    pub body: String,
}

/// A moderation decision.
#[derive(Deserialize, ToSchema)]
pub struct Decision {
    /// Deliver (true) or refuse (false).
    pub approved: bool,
}

/// The caller's conversations, with unread counts.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "messaging",
    responses((status = 200, body = Vec<ConversationSummary>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_inbox(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<ConversationSummary>>, ApiError> {
    Ok(Json(inbox(&state, &user).await?))
}

/// Starts a conversation with allowed people.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "messaging", request_body = NewConversation,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_start(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewConversation>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = start(&state, &user, body, Vec::new()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A conversation's messages (marks it read).
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_read(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ConversationView>, ApiError> {
    Ok(Json(read(&state, &user, &id).await?))
}

/// Adds a message.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messaging", params(("id" = String, Path, description = "Conversation id")), request_body = Reply,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_reply(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<StatusCode, ApiError> {
    reply(&state, &user, &id, &body.body, Vec::new()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a message with files (multipart: `body`, and `files`, repeatable, 5 at most).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/with-files", tag = "messaging", params(("id" = String, Path, description = "Conversation id")),
    request_body(content_type = "multipart/form-data", description = "`body` and `files` (repeatable)"),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_reply_with_files(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<StatusCode, ApiError> {
    // Allowed before the files are read.
    writable(&state, &user, &id).await?;
    let form = crate::web::upload::MultipartForm::read(multipart, MAX_FILES, "error-too-many-files").await?;
    let body = form.value("body");
    let files = form.files.into_iter().filter(|f| f.field == "files").collect();
    reply(&state, &user, &id, &body, files).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delivers or refuses a pupil's held message (the class's teachers).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/moderation", tag = "messaging",
    params(("id" = String, Path, description = "Conversation id"), ("message" = String, Path, description = "Message id")), request_body = Decision,
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_moderate(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, message)): Path<(String, String)>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<StatusCode, ApiError> {
    moderate(&state, &user, &id, &message, body.approved).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whom the caller may write to.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "messaging",
    responses((status = 200, body = Vec<Contact>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_contacts(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Vec<Contact>>, ApiError> {
    Ok(Json(contacts(&state.directory(), &user)))
}

/// Sets a class's messaging switches (its teachers and the director).
#[utoipa::path(put, path = "/api/v1/classes/{id}/messaging", tag = "messaging", params(("id" = String, Path, description = "Class id")), request_body = ClassRules,
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_class_rules(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClassRules>,
) -> Result<StatusCode, ApiError> {
    set_class_rules(&state, &user, &id, body).await?;
    Ok(StatusCode::NO_CONTENT)
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
