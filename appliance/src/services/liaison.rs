//! The carnet de liaison: a teacher or the director posts a note to a class's families (or
//! to some children's), optionally asking each legal guardian to sign it or to answer;
//! every guardian signs separately, for each child; the writers see who has signed and
//! remind the others. One `LiaisonNote` document per note, in the class's partition; pages
//! read the `liaison_*` read models.

use std::collections::BTreeSet;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
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

// ---- where it lives ----

fn note_address(dir: &Directory, class: &Class, note: &str) -> Result<DocAddress, AppError> {
    let uai = dir.uai().ok_or(AppError::NotFound)?;
    let key = DocKey::parse(note).map_err(|_| AppError::NotFound)?;
    Ok(DocAddress::new(class_partition(uai, &class.id), Kind::LiaisonNote, key))
}

/// The class a note's stored partition names.
fn class_of_partition<'d>(dir: &'d Directory, partition: &str) -> Option<&'d Class> {
    dir.class_of_partition(&Partition::parse(partition).ok()?)
}

// ---- who may do what ----

fn same_note(a: &LiaisonNote, b: &LiaisonNote) -> bool {
    a.title == b.title
        && a.body.as_str() == b.body.as_str()
        && a.ask == b.ask
        && a.recipients == b.recipients
        && a.author == b.author
        && a.posted_at == b.posted_at
        && a.edited_by == b.edited_by
        && a.edited_at == b.edited_at
        && a.reminded_at == b.reminded_at
        && a.withdrawn == b.withdrawn
}

/// Whether `after` may follow `before` in a note of the class at `partition`: the note is
/// written by the class's teachers and the director, for pupils of the class; each
/// signature is written once, by a legal guardian of a child the note is for, and never
/// changed or removed. Checked on every local edit and every change from a peer.
pub fn check_change(
    dir: &Directory,
    partition: &Partition,
    before: &LiaisonNote,
    after: &LiaisonNote,
) -> Result<(), String> {
    let class = dir.class_of_partition(partition).ok_or_else(|| format!("{partition}: not a class of this school"))?;
    if !same_note(before, after) {
        let editor = UserId::parse(&after.edited_by).map_err(|_| "note without an editor".to_owned())?;
        if !dir.teaches(&editor, class) {
            return Err(format!("{editor} does not write for this class"));
        }
        let new = before.author.is_empty();
        if (new && after.author != after.edited_by) || (!new && after.author != before.author) {
            return Err("the note's author cannot be changed or borrowed".into());
        }
        if !ASKS.contains(&after.ask.as_str()) {
            return Err(format!("unknown request {:?}", after.ask));
        }
        let unique: BTreeSet<&String> = after.recipients.iter().collect();
        if unique.len() != after.recipients.len() {
            return Err("a recipient named twice".into());
        }
        let added = after.recipients.iter().filter(|p| !before.recipients.contains(p));
        for pupil in added {
            let ok = UserId::parse(pupil)
                .ok()
                .and_then(|p| dir.member(&p))
                .is_some_and(|p| p.profile == Profile::Pupil && p.person.class_id == class.id.as_str());
            if !ok {
                return Err(format!("recipient {pupil} is not a pupil of this class"));
            }
        }
    }
    for (key, old) in &before.signatures {
        if after.signatures.get(key) != Some(old) {
            return Err(format!("signature {key} changed or removed"));
        }
    }
    for (key, s) in after.signatures.iter().filter(|(k, _)| !before.signatures.contains_key(*k)) {
        let (child, guardian) = Signature::split_key(key).ok_or_else(|| format!("signature {key}: malformed key"))?;
        if after.ask.is_empty() {
            return Err("this note asks for no signature".into());
        }
        if !after.recipients.iter().any(|r| r == child) {
            return Err(format!("signature {key}: the note is not for this child"));
        }
        let (Ok(child), Ok(guardian)) = (UserId::parse(child), UserId::parse(guardian)) else {
            return Err(format!("signature {key}: malformed ids"));
        };
        if !dir.is_legal_guardian(&guardian, &child) {
            return Err(format!("signature {key}: not a legal guardian of the child"));
        }
        if s.reply.chars().count() > MAX_REPLY {
            return Err(format!("signature {key}: answer too long"));
        }
    }
    Ok(())
}

async fn edit_note<R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    edit: impl FnOnce(&mut LiaisonNote) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError> {
    crate::school::edit::under_rule::<LiaisonNote, R>(state, address, check_change, edit).await
}

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
    let id = note.to_owned();
    let rows = state.db.read(|store| Ok(store.liaison_notes(&NoteFilter::Id(&id))?))?;
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
        author: author
            .map(|a| format!("{} {}", a.person.civility, a.person.last_name).trim().to_owned())
            .unwrap_or_default(),
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
    let partition = class_partition(dir.uai().ok_or(AppError::NotFound)?, &class.id);
    let notes = state.db.read(|store| Ok(store.liaison_notes(&NoteFilter::Class(&partition))?))?;
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
    let notes = state.db.read(|store| Ok(store.liaison_notes(&NoteFilter::Pupils(&ids))?))?;
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

// ---- pages ----

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/classes/{id}/liaison", class_page)
        .post("/classes/{id}/liaison", post_form)
        .get("/classes/{id}/liaison/{note}", note_page)
        .post("/classes/{id}/liaison/{note}", edit_form)
        .post("/classes/{id}/liaison/{note}/remind", remind_form)
        .post("/classes/{id}/liaison/{note}/withdraw", withdraw_form)
        .get("/liaison", family_page)
        .post("/liaison/{note}/sign", sign_form)
}

#[derive(Template)]
#[template(path = "liaison_class.html")]
struct ClassPage {
    c: Chrome,
    class: Class,
    notes: Vec<NoteView>,
    pupils: Vec<(String, String)>,
    form: NoteForm,
    error: Option<String>,
}

impl ClassPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

/// The note form's fields.
#[derive(Clone, Default)]
struct NoteForm {
    title: String,
    body: String,
    ask: String,
    recipients: Vec<String>,
}

async fn class_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    show_class(&state, &ctx, &id, NoteForm::default(), None).await
}

async fn show_class(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: NoteForm,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (class, notes) = class_notes(state, ctx.user()?, id).await?;
    let pupils = state.directory().pupils_of(&class.id).iter().map(|p| (p.id.to_string(), p.full_name())).collect();
    let page = ClassPage {
        c: Chrome::new(ctx),
        class,
        notes,
        pupils,
        form,
        error: error.map(|e| ctx.locale.t(e.message_id())),
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

async fn post_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let pairs = ctx.form_pairs(&body)?;
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let everyone = one("to") != "some";
    let form = NoteForm {
        title: one("title"),
        body: one("body"),
        ask: one("ask"),
        recipients: pairs.iter().filter(|(k, _)| k == "recipients").map(|(_, v)| v.clone()).collect(),
    };
    if !everyone && form.recipients.is_empty() {
        let e = AppError::bad("liaison-bad-recipients", "no child chosen");
        return show_class(&state, &ctx, &id, form, Some(&e)).await;
    }
    let input = NoteInput {
        title: form.title.clone(),
        body: form.body.clone(),
        ask: form.ask.clone(),
        recipients: if everyone { Vec::new() } else { form.recipients.clone() },
    };
    match post_note(&state, ctx.user()?, &id, input).await {
        Ok(note) => Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_class(&state, &ctx, &id, form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "liaison_note.html")]
struct NotePage {
    c: Chrome,
    note: NoteView,
    lines: Vec<SignatureLine>,
    error: Option<String>,
}

impl NotePage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn note_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (note, lines) = note_detail(&state, ctx.user()?, &id, &note).await?;
    render(&NotePage { c: Chrome::new(&ctx), note, lines, error: None })
}

#[derive(Deserialize)]
struct EditForm {
    title: String,
    body: String,
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let input = NoteInput { title: form.title.clone(), body: form.body.clone(), ..NoteInput::default() };
    match edit(&state, user, &id, &note, input).await {
        Ok(()) => Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response()),
        Err(e @ AppError::BadRequest { .. }) => {
            let (mut view, lines) = note_detail(&state, user, &id, &note).await?;
            (view.title, view.body) = (form.title, form.body);
            let page = NotePage { c: Chrome::new(&ctx), note: view, lines, error: Some(ctx.locale.t(e.message_id())) };
            render_status(&page, e.status())
        }
        Err(e) => Err(e),
    }
}

async fn remind_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    remind(&state, ctx.user()?, &id, &note).await?;
    Ok(Redirect::to(&format!("/classes/{id}/liaison/{note}")).into_response())
}

async fn withdraw_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, note)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    withdraw(&state, ctx.user()?, &id, &note).await?;
    Ok(Redirect::to(&format!("/classes/{id}/liaison")).into_response())
}

#[derive(Template)]
#[template(path = "liaison_family.html")]
struct FamilyPage {
    c: Chrome,
    notes: Vec<FamilyNote>,
    error: Option<String>,
}

impl FamilyPage {
    fn date(&self, iso: &str) -> String {
        self.c.l.date(iso)
    }
}

async fn family_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    show_family(&state, &ctx, None).await
}

async fn show_family(state: &AppState, ctx: &Ctx, error: Option<&AppError>) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if user.profile != Profile::Parent {
        return Err(AppError::NotFound);
    }
    let notes = family_notes(state, user, None).await?;
    let page = FamilyPage { c: Chrome::new(ctx), notes, error: error.map(|e| ctx.locale.t(e.message_id())) };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

#[derive(Deserialize)]
struct SignForm {
    child: String,
    #[serde(default)]
    reply: String,
}

async fn sign_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(note): Path<String>,
    CsrfForm(form): CsrfForm<SignForm>,
) -> Result<Response, AppError> {
    match sign(&state, ctx.user()?, &note, &form.child, &form.reply).await {
        Ok(()) => Ok(Redirect::to("/liaison").into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_family(&state, &ctx, Some(&e)).await,
        Err(e) => Err(e),
    }
}

// ---- API ----

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_class_notes, api_post))
        .routes(routes!(api_note, api_edit, api_withdraw))
        .routes(routes!(api_remind))
        .routes(routes!(api_family))
        .routes(routes!(api_sign))
}

/// A note and every expected signature.
#[derive(Serialize, ToSchema)]
pub struct NoteDetail {
    /// The note.
    pub note: NoteView,
    /// One line per child and legal guardian.
    pub signatures: Vec<SignatureLine>,
}

/// A signature.
#[derive(Deserialize, ToSchema)]
pub struct SignInput {
    /// The child signed for.
    pub child: String,
    /// The answer, when the note asks for one.
    #[serde(default)]
    pub reply: String,
}

/// A class's notes with their signature counts (its teachers and the director).
#[utoipa::path(get, path = "/api/v1/classes/{id}/liaison", tag = "liaison", params(("id" = String, Path, description = "Class id")),
    responses((status = 200, body = Vec<NoteView>), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_class_notes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<NoteView>>, ApiError> {
    Ok(Json(class_notes(&state, &user, &id).await?.1))
}

/// Posts a note to a class's families (or some of them).
#[utoipa::path(post, path = "/api/v1/classes/{id}/liaison", tag = "liaison", params(("id" = String, Path, description = "Class id")), request_body = NoteInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_post(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = post_note(&state, &user, &id, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A note and who has signed it.
#[utoipa::path(get, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 200, body = NoteDetail), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_note(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<Json<NoteDetail>, ApiError> {
    let (note, signatures) = note_detail(&state, &user, &id, &note).await?;
    Ok(Json(NoteDetail { note, signatures }))
}

/// Rewrites a note's title and text (`ask` and `recipients` are ignored; signatures stay).
#[utoipa::path(put, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")), request_body = NoteInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_edit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
    ApiJson(body): ApiJson<NoteInput>,
) -> Result<StatusCode, ApiError> {
    edit(&state, &user, &id, &note, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws a note.
#[utoipa::path(delete, path = "/api/v1/classes/{id}/liaison/{note}", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_withdraw(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    withdraw(&state, &user, &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reminds the families who have not signed.
#[utoipa::path(post, path = "/api/v1/classes/{id}/liaison/{note}/remind", tag = "liaison",
    params(("id" = String, Path, description = "Class id"), ("note" = String, Path, description = "Note id")),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_remind(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, note)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remind(&state, &user, &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notes for the caller's children, one line per note and child.
#[utoipa::path(get, path = "/api/v1/liaison", tag = "liaison",
    responses((status = 200, body = Vec<FamilyNote>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_family(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Vec<FamilyNote>>, ApiError> {
    Ok(Json(family_notes(&state, &user, None).await?))
}

/// Signs a note for a child (a legal guardian).
#[utoipa::path(post, path = "/api/v1/liaison/{note}/sign", tag = "liaison", params(("note" = String, Path, description = "Note id")), request_body = SignInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("cookie" = [])))]
async fn api_sign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(note): Path<String>,
    ApiJson(body): ApiJson<SignInput>,
) -> Result<StatusCode, ApiError> {
    sign(&state, &user, &note, &body.child, &body.reply).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The carnet de liaison.
pub const SERVICE: Service = Service {
    name: "liaison",
    pages: routes,
    api: api_routes,
    tags: &[("liaison", "The carnet de liaison: notes to families, signatures, answers")],
    rules: &[crate::kind_rule!(LiaisonNote, check_change)],
    home: |h| Box::pin(home_tiles(h)),
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
