//! The carnet de liaison: a teacher or the director posts a note to a class's families (or
//! to some children's), optionally asking each legal guardian to sign it or to answer;
//! every guardian signs separately, for each child; the writers see who has signed and
//! remind the others. One `LiaisonNote` document per note, in the class's partition; pages
//! read the `liaison_*` read models.

mod api;
mod notices;
mod pages;
mod rule;

use std::collections::BTreeSet;

use askama::Template;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use preau_sync::kinds::LiaisonNote;
use preau_sync::kinds::liaison::{ASKS, NoteRow, Signature, SignatureRow};
use preau_sync::store::NoteFilter;
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
use crate::web::{AppState, Chrome, Ctx, SignedIn, render, render_status};

/// Longest title.
const MAX_TITLE: usize = 120;
/// Longest note.
const MAX_BODY: usize = 5_000;
/// Longest answer.
const MAX_REPLY: usize = 2_000;

use api::*;
use pages::*;
pub use rule::*;

// ---- writes ----

/// A note as its writer fills it in.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct NoteInput {
    /// Title.
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    /// Text.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// `""` (to read), `"signature"` or `"reply"`.
    #[serde(default)]
    #[schema(pattern = "^(|signature|reply)$")]
    pub ask: String,
    /// The pupils whose families it is for; empty for the whole class.
    #[serde(default)]
    pub recipients: Vec<String>,
}

fn checked_text(input: &NoteInput) -> Result<(String, String), AppError> {
    let title = text::required_line(&input.title, MAX_TITLE, "liaison-bad-title")?;
    let body = text::paragraphs(&input.body, MAX_BODY, "liaison-bad-body")?;
    if body.is_empty() {
        return Err(AppError::bad("liaison-bad-body", "empty note"));
    }
    Ok((title, body))
}

/// Posts a note to a class's families; returns its id.
pub async fn post_note(state: &AppState, by: &SignedIn, class: &str, input: NoteInput) -> Result<String, AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let (title, body) = checked_text(&input)?;
    if !ASKS.contains(&input.ask.as_str()) {
        return Err(AppError::bad("liaison-bad-ask", format!("ask {:?}", input.ask)));
    }
    let pupils: Vec<String> = dir.pupils_of(&class.id).iter().map(|p| p.id.to_string()).collect();
    let recipients = if input.recipients.is_empty() {
        pupils
    } else {
        let chosen: BTreeSet<&String> = input.recipients.iter().collect();
        if chosen.iter().any(|p| !pupils.contains(p)) {
            return Err(AppError::bad("liaison-bad-recipients", format!("recipients {:?}", input.recipients)));
        }
        pupils.into_iter().filter(|p| chosen.contains(p)).collect()
    };
    if recipients.is_empty() {
        return Err(AppError::bad("liaison-bad-recipients", "a class without pupils"));
    }
    let id = ClassId::random().to_string();
    let address = note_address(&dir, &class, &id)?;
    let (user, now, ask) = (by.user.to_string(), crate::platform::clock::now_ms(), input.ask);
    edit_note(state, address, move |note| {
        *note = LiaisonNote {
            title,
            body: body.into(),
            ask,
            recipients,
            author: user.clone(),
            posted_at: now,
            edited_by: user,
            edited_at: now,
            ..LiaisonNote::default()
        };
        Ok(())
    })
    .await?;
    Ok(id)
}

/// A note's writers' changes after posting.
enum Change {
    Text { title: String, body: String },
    Remind,
    Withdraw,
}

async fn change_note(state: &AppState, by: &SignedIn, class: &str, note: &str, change: Change) -> Result<(), AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let address = note_address(&dir, &class, note)?;
    let (user, now) = (by.user.to_string(), crate::platform::clock::now_ms());
    edit_note(state, address, move |n| {
        if n.author.is_empty() || n.withdrawn {
            return Err(AppError::NotFound);
        }
        match change {
            Change::Text { title, body } => {
                n.title = title;
                if n.body.as_str() != body {
                    n.body.update(body);
                }
            }
            Change::Remind => n.reminded_at = now,
            Change::Withdraw => n.withdrawn = true,
        }
        n.edited_by = user;
        n.edited_at = now;
        Ok(())
    })
    .await
}

/// Rewrites a note's title and text (its signatures stay).
pub async fn edit(state: &AppState, by: &SignedIn, class: &str, note: &str, input: NoteInput) -> Result<(), AppError> {
    let (title, body) = checked_text(&input)?;
    change_note(state, by, class, note, Change::Text { title, body }).await
}

/// Reminds the families who have not signed (the note shows the reminder to them).
pub async fn remind(state: &AppState, by: &SignedIn, class: &str, note: &str) -> Result<(), AppError> {
    change_note(state, by, class, note, Change::Remind).await
}

/// Withdraws a note (hidden from families; kept with its signatures).
pub async fn withdraw(state: &AppState, by: &SignedIn, class: &str, note: &str) -> Result<(), AppError> {
    change_note(state, by, class, note, Change::Withdraw).await
}

/// Signs a note for one child (with an answer when it asks for one).
pub async fn sign(state: &AppState, by: &SignedIn, note: &str, child: &str, reply: &str) -> Result<(), AppError> {
    let dir = state.directory();
    let child = UserId::parse(child)?;
    if !dir.is_legal_guardian(&by.user, &child) {
        return Err(AppError::NotFound);
    }
    let row = find_note(state, note).await?;
    if !row.recipients.iter().any(|r| r == child.as_str()) {
        return Err(AppError::NotFound);
    }
    let class = class_of_partition(&dir, &row.partition).ok_or(AppError::NotFound)?.clone();
    let reply = text::paragraphs(reply, MAX_REPLY, "liaison-bad-reply")?;
    match row.ask.as_str() {
        "" => return Err(AppError::bad("liaison-nothing-to-sign", "a note to read")),
        "reply" if reply.is_empty() => return Err(AppError::bad("liaison-reply-required", "empty answer")),
        _ => {}
    }
    let address = note_address(&dir, &class, note)?;
    let key = Signature::key(child.as_str(), by.user.as_str());
    edit_note(state, address, move |n| {
        // Signing twice changes nothing: the first signature is the one kept.
        n.signatures.entry(key).or_insert(Signature { at: crate::platform::clock::now_ms(), reply });
        Ok(())
    })
    .await
}

// ---- reads ----

async fn find_note(state: &AppState, note: &str) -> Result<NoteRow, AppError> {
    let (school, id) = (state.uai()?, note.to_owned());
    let rows = state.db.read(|store| Ok(store.liaison_notes(&school, &NoteFilter::Id(&id))?))?;
    rows.into_iter().next().ok_or(AppError::NotFound)
}

/// One family's expected signature: a legal guardian and a child.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SignatureLine {
    /// The child's id.
    pub child: String,
    /// "Léa Moreau".
    pub child_name: String,
    /// The guardian's id.
    pub guardian: String,
    /// "Mme Aurélie Moreau".
    pub guardian_name: String,
    /// `YYYY-MM-DD` of the signature, empty when not signed.
    pub signed_on: String,
    /// The answer.
    pub reply: String,
}

/// A note as its class's writers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoteView {
    /// Id.
    pub id: String,
    /// The class's id.
    pub class_id: String,
    /// The class's name.
    pub class_name: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// `""`, `"signature"` or `"reply"`.
    pub ask: String,
    /// Who wrote it ("Mme Le Bihan").
    pub author: String,
    /// `YYYY-MM-DD`.
    pub posted_on: String,
    /// Edited since it was posted.
    pub edited: bool,
    /// `YYYY-MM-DD` of the last reminder, or empty.
    pub reminded_on: String,
    /// Expected signatures (legal guardians × children).
    pub expected: usize,
    /// Signatures given.
    pub signed: usize,
}

fn guardian_name(m: &Member) -> String {
    format!("{} {} {}", m.person.civility, m.person.first_name, m.person.last_name).trim().to_owned()
}

/// Every expected signature of a note, signed or not.
fn signature_lines(dir: &Directory, note: &NoteRow, signatures: &[SignatureRow]) -> Vec<SignatureLine> {
    let mut lines = Vec::new();
    for child in note.recipients.iter().filter_map(|p| UserId::parse(p).ok()).filter_map(|p| dir.member(&p)) {
        for (guardian, legal) in dir.guardians_of(&child.id) {
            if !legal {
                continue;
            }
            let s = signatures.iter().find(|s| {
                s.doc_id == note.doc_id && s.child == child.id.as_str() && s.guardian == guardian.id.as_str()
            });
            lines.push(SignatureLine {
                child: child.id.to_string(),
                child_name: child.full_name(),
                guardian: guardian.id.to_string(),
                guardian_name: guardian_name(guardian),
                signed_on: s.map(|s| crate::platform::clock::date_of_ms(s.at)).unwrap_or_default(),
                reply: s.map(|s| s.reply.clone()).unwrap_or_default(),
            });
        }
    }
    lines.sort_by(|a, b| (&a.child_name, &a.guardian_name).cmp(&(&b.child_name, &b.guardian_name)));
    lines
}

fn note_view(dir: &Directory, class: &Class, note: &NoteRow, lines: &[SignatureLine]) -> NoteView {
    let author = UserId::parse(&note.author).ok().and_then(|a| dir.member(&a));
    NoteView {
        id: note.note_id.clone(),
        class_id: class.id.to_string(),
        class_name: class.class.name.clone(),
        title: note.title.clone(),
        body: note.body.clone(),
        ask: note.ask.clone(),
        author: author.map(Member::formal_name).unwrap_or_default(),
        posted_on: crate::platform::clock::date_of_ms(note.posted_at),
        edited: note.edited_at > note.posted_at,
        reminded_on: if note.reminded_at > 0 {
            crate::platform::clock::date_of_ms(note.reminded_at)
        } else {
            String::new()
        },
        expected: if note.ask.is_empty() { 0 } else { lines.len() },
        signed: lines.iter().filter(|l| !l.signed_on.is_empty()).count(),
    }
}

async fn signatures_of(state: &AppState, notes: &[NoteRow]) -> Result<Vec<SignatureRow>, AppError> {
    let docs: Vec<String> = notes.iter().map(|n| n.doc_id.clone()).collect();
    state.db.read(|store| Ok(store.liaison_signatures(&docs)?))
}

/// A class's notes, newest first, with their signature counts (the class's writers).
pub async fn class_notes(state: &AppState, by: &SignedIn, class: &str) -> Result<(Class, Vec<NoteView>), AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let school = dir.uai().ok_or(AppError::NotFound)?;
    let partition = class_partition(school, &class.id);
    let notes = state.db.read(|store| Ok(store.liaison_notes(school, &NoteFilter::Class(&partition))?))?;
    let signatures = signatures_of(state, &notes).await?;
    let views = notes.iter().map(|n| note_view(&dir, &class, n, &signature_lines(&dir, n, &signatures))).collect();
    Ok((class, views))
}

/// One note with every expected signature (the class's writers).
pub async fn note_detail(
    state: &AppState,
    by: &SignedIn,
    class: &str,
    note: &str,
) -> Result<(NoteView, Vec<SignatureLine>), AppError> {
    let dir = state.directory();
    let class = dir.taught_class(&by.user, class)?;
    let row = find_note(state, note).await?;
    if class_of_partition(&dir, &row.partition).is_none_or(|c| c.id != class.id) {
        return Err(AppError::NotFound);
    }
    let signatures = signatures_of(state, std::slice::from_ref(&row)).await?;
    let lines = signature_lines(&dir, &row, &signatures);
    Ok((note_view(&dir, &class, &row, &lines), lines))
}

/// A note as a family sees it: for one child.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FamilyNote {
    /// The note.
    pub note: NoteView,
    /// The child it is about.
    pub child: String,
    /// The child's first name.
    pub child_first_name: String,
    /// `YYYY-MM-DD` of this guardian's signature, or empty.
    pub signed_on: String,
    /// This guardian's answer.
    pub reply: String,
    /// Other guardians who signed ("M. Thomas Moreau").
    pub signed_by_others: Vec<String>,
    /// This person may sign (a legal guardian, and the note asks for it).
    pub can_sign: bool,
}

/// The notes for a parent's children (or one child), newest first: one line per note and
/// child.
pub async fn family_notes(state: &AppState, by: &SignedIn, only: Option<&UserId>) -> Result<Vec<FamilyNote>, AppError> {
    let dir = state.directory();
    let children: Vec<&Member> =
        dir.children_of(&by.user).into_iter().filter(|c| only.is_none_or(|o| *o == c.id)).collect();
    if only.is_some() && children.is_empty() {
        return Err(AppError::NotFound);
    }
    let ids: Vec<String> = children.iter().map(|c| c.id.to_string()).collect();
    let school = dir.uai().ok_or(AppError::NotFound)?;
    let notes = state.db.read(|store| Ok(store.liaison_notes(school, &NoteFilter::Pupils(&ids))?))?;
    let signatures = signatures_of(state, &notes).await?;
    let mut out = Vec::new();
    for note in &notes {
        let Some(class) = class_of_partition(&dir, &note.partition) else { continue };
        let lines = signature_lines(&dir, note, &signatures);
        let view = note_view(&dir, class, note, &lines);
        for child in children.iter().filter(|c| note.recipients.iter().any(|r| r == c.id.as_str())) {
            let mine = lines.iter().find(|l| l.child == child.id.as_str() && l.guardian == by.user.as_str());
            out.push(FamilyNote {
                note: view.clone(),
                child: child.id.to_string(),
                child_first_name: child.person.first_name.clone(),
                signed_on: mine.map(|l| l.signed_on.clone()).unwrap_or_default(),
                reply: mine.map(|l| l.reply.clone()).unwrap_or_default(),
                signed_by_others: lines
                    .iter()
                    .filter(|l| {
                        l.child == child.id.as_str() && l.guardian != by.user.as_str() && !l.signed_on.is_empty()
                    })
                    .map(|l| l.guardian_name.clone())
                    .collect(),
                can_sign: !note.ask.is_empty() && dir.is_legal_guardian(&by.user, &child.id),
            });
        }
    }
    Ok(out)
}

/// How many notes still wait for this parent's signature.
pub async fn unsigned_count(state: &AppState, by: &SignedIn) -> Result<usize, AppError> {
    Ok(family_notes(state, by, None).await?.iter().filter(|n| n.can_sign && n.signed_on.is_empty()).count())
}

/// The carnet de liaison.
pub const SERVICE: Service = Service {
    name: "liaison",
    pages: routes,
    api: api_routes,
    tags: &[("liaison", "The carnet de liaison: notes to families, signatures, answers")],
    rules: &[crate::kind_rule!(LiaisonNote, check_change)],
    home: |h| Box::pin(home_tiles(h)),
    notices: &[notices::SOURCE],
    ..Service::NOTHING
};

async fn home_tiles(h: &Home<'_>) -> Result<HomePart, AppError> {
    let l = h.l();
    let mut tiles = Vec::new();
    for (i, class) in h.classes.iter().enumerate() {
        let label = format!("{} — {}", l.t("tile-liaison"), class.class.name);
        tiles.push(Tile::new(Place::Class(i), format!("/classes/{}/liaison", class.id), "liaison", label));
    }
    if h.member.profile == Profile::Parent {
        let label = match unsigned_count(h.state, h.user).await? {
            0 => l.t("tile-liaison"),
            n => l.ta("tile-liaison-waiting", &[("count", &n.to_string())]),
        };
        tiles.push(Tile::new(Place::Own, "/liaison", "liaison", label));
    }
    Ok(HomePart { tiles, panel: None })
}
