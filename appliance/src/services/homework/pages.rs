//! The cahier de textes's pages: their handlers and their askama views. They call the domain
//! functions of `mod.rs`, as the JSON API does.

use super::*;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/classes/{id}/homework", week_page)
        .post("/classes/{id}/homework", create_form)
        .get("/classes/{id}/homework/print", print_page)
        .get("/classes/{id}/homework/{entry}", entry_page)
        .post("/classes/{id}/homework/{entry}", update_form)
        .post("/classes/{id}/homework/{entry}/remove", remove_form)
        .get("/classes/{id}/homework/{entry}/files/{hash}", file_download)
        .get("/homework", my_todo_page)
        .post("/pupils/{id}/homework/{entry}/done", done_form)
}

/// `?week=YYYY-MM-DD` (any day of the week shown).
#[derive(Deserialize)]
pub struct WeekQuery {
    /// A day of the week to show; this week by default.
    #[serde(default)]
    pub week: String,
}

/// `?from=&to=`.
#[derive(Deserialize)]
pub struct SpanQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

/// One day of the week page.
pub(super) struct Day {
    iso: String,
    label: String,
    entries: Vec<EntryView>,
}

#[derive(Template)]
#[template(path = "homework/week.html")]
pub(super) struct WeekPage {
    c: Chrome,
    class: Class,
    days: Vec<Day>,
    due: Vec<EntryView>,
    prev: String,
    next: String,
    from: String,
    to: String,
    form: EntryForm,
    error: Option<String>,
    subjects: &'static [&'static str],
    audiences: Vec<(String, String)>,
}

/// The entry form's values (kept when a refusal shows the form again).
#[derive(Clone, Default)]
pub struct EntryForm {
    audience: String,
    subject: String,
    assigned_on: String,
    lesson: String,
    title: String,
    details: String,
    due_on: String,
}

impl From<EntryForm> for EntryInput {
    fn from(f: EntryForm) -> Self {
        EntryInput {
            audience: f.audience,
            subject: f.subject,
            assigned_on: f.assigned_on,
            lesson: f.lesson,
            title: f.title,
            details: f.details,
            due_on: f.due_on,
        }
    }
}

/// Subjects offered, as message ids: the form suggests their text in the reader's language,
/// and any other may be typed. An entry stores its subject as written, never an id.
pub(super) const SUBJECTS: &[&str] = &[
    "subject-french",
    "subject-maths",
    "subject-world",
    "subject-science",
    "subject-history",
    "subject-geography",
    "subject-language",
    "subject-arts",
    "subject-music",
    "subject-pe",
    "subject-civics",
];

pub(super) async fn week_page(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    show_week(&state, &ctx, &id, &q.week, EntryForm::default(), None).await.map(kept)
}

pub(super) async fn show_week(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    week: &str,
    mut form: EntryForm,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let day = if week.is_empty() { crate::platform::clock::today() } else { week.to_owned() };
    let monday = text::monday_of(text::date(&day, "homework-bad-date")?);
    let sunday = monday + time::Duration::days(6);
    let (class, entries) = class_entries(state, user, id, &text::iso(monday), &text::iso(sunday)).await?;
    let l = &ctx.locale;
    let days = (0..7)
        .map(|i| monday + time::Duration::days(i))
        .map(|d| Day {
            iso: text::iso(d),
            label: l.weekday_date(&text::iso(d)),
            entries: entries.iter().filter(|e| e.assigned_on == text::iso(d)).cloned().collect(),
        })
        .filter(|d| !d.entries.is_empty() || d.iso == crate::platform::clock::today())
        .collect();
    let due = entries.iter().filter(|e| !e.due_on.is_empty() && e.due_on >= text::iso(monday)).cloned().collect();
    if form.assigned_on.is_empty() {
        form.assigned_on = crate::platform::clock::today();
    }
    let audiences = audiences(&state.directory(), &class);
    let page = WeekPage {
        c: Chrome::new(ctx),
        class,
        days,
        due,
        prev: text::iso(monday - time::Duration::days(7)),
        next: text::iso(monday + time::Duration::days(7)),
        from: text::iso(monday),
        to: text::iso(sunday),
        form,
        error: error.map(|e| l.t(e.message_id())),
        subjects: SUBJECTS,
        audiences,
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

impl WeekPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

/// The entry form's fields and files.
pub(super) fn entry_form(form: MultipartForm) -> (EntryForm, FileChanges) {
    let fields = EntryForm {
        audience: form.value("audience"),
        subject: form.value("subject"),
        assigned_on: form.value("assigned_on"),
        lesson: form.value("lesson"),
        title: form.value("title"),
        details: form.value("details"),
        due_on: form.value("due_on"),
    };
    let files = FileChanges {
        remove: form.values("remove"),
        add: form.files.into_iter().filter(|f| f.field == "files").collect(),
    };
    (fields, files)
}

pub(super) async fn create_form(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let (form, files) = entry_form(form);
    match save_entry(&state, user, &id, None, form.clone().into(), files).await {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/homework?week={}", form.assigned_on)).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_week(&state, &ctx, &id, "", form, Some(&e)).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "homework/entry.html")]
pub(super) struct EntryPage {
    c: Chrome,
    class: Class,
    entry: EntryView,
    ticks: Vec<PupilDone>,
    form: EntryForm,
    error: Option<String>,
    subjects: &'static [&'static str],
    audiences: Vec<(String, String)>,
}

impl EntryPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

pub(super) async fn show_entry(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    entry: &str,
    form: Option<EntryForm>,
    error: Option<&AppError>,
) -> Result<Response, AppError> {
    let (class, entry, ticks) = entry_with_ticks(state, ctx.user()?, id, entry).await?;
    let form = form.unwrap_or_else(|| EntryForm {
        audience: entry.audience.clone(),
        subject: entry.subject.clone(),
        assigned_on: entry.assigned_on.clone(),
        lesson: entry.lesson.clone(),
        title: entry.title.clone(),
        details: entry.details.clone(),
        due_on: entry.due_on.clone(),
    });
    let audiences = audiences(&state.directory(), &class);
    let page = EntryPage {
        c: Chrome::new(ctx),
        class,
        entry,
        ticks,
        form,
        error: error.map(|e| ctx.locale.t(e.message_id())),
        subjects: SUBJECTS,
        audiences,
    };
    render_status(&page, error.map_or(StatusCode::OK, AppError::status))
}

pub(super) async fn entry_page(
    state: AppState,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Response, AppError> {
    show_entry(&state, &ctx, &id, &entry, None, None).await
}

pub(super) async fn update_form(
    state: AppState,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
    FormWithFiles(form): FormWithFiles,
) -> Result<Response, AppError> {
    let (form, files) = entry_form(form);
    match save_entry(&state, ctx.user()?, &id, Some(entry.clone()), form.clone().into(), files).await {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/homework?week={}", form.assigned_on)).into_response()),
        Err(e @ AppError::BadRequest { .. }) => show_entry(&state, &ctx, &id, &entry, Some(form), Some(&e)).await,
        Err(e) => Err(e),
    }
}

pub(super) async fn remove_form(
    state: AppState,
    ctx: Ctx,
    Path((id, entry)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, AppError> {
    remove_entry(&state, ctx.user()?, &id, &entry).await?;
    Ok(Redirect::to(&format!("/classes/{id}/homework")).into_response())
}

#[derive(Template)]
#[template(path = "homework/print.html")]
pub(super) struct PrintPage {
    c: Chrome,
    class: Class,
    school: String,
    from: String,
    to: String,
    days: Vec<Day>,
}

impl PrintPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

pub(super) async fn print_page(
    state: AppState,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<SpanQuery>,
) -> Result<Response, AppError> {
    let (class, entries) = class_entries(&state, ctx.user()?, &id, &q.from, &q.to).await?;
    let mut by_day: BTreeMap<String, Vec<EntryView>> = BTreeMap::new();
    for e in entries.into_iter().filter(|e| e.assigned_on >= q.from && e.assigned_on <= q.to) {
        by_day.entry(e.assigned_on.clone()).or_default().push(e);
    }
    let l = &ctx.locale;
    let days = by_day.into_iter().map(|(iso, entries)| Day { label: l.weekday_date(&iso), iso, entries }).collect();
    let school = state.directory().school.as_ref().map(|s| s.info.name.clone()).unwrap_or_default();
    render(&PrintPage { c: Chrome::new(&ctx), class, school, from: q.from, to: q.to, days })
}

/// Hands an entry's attached file to someone who reads the class's cahier.
pub(super) async fn file_download(
    state: AppState,
    ctx: Ctx,
    Path((id, entry, hash)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let dir = state.directory();
    let class =
        dir.classes.get(&ClassId::parse(&id)?).filter(|c| reads_book(&dir, &user.user, c)).ok_or(AppError::NotFound)?;
    let address = book_address(&school(&dir)?, class)?;
    let items = state.db.read(|store| Ok(store.homework(&address.partition, "0000-01-01", "9999-12-31")?))?;
    let item = items.into_iter().find(|i| i.entry_id == entry).ok_or(AppError::NotFound)?;
    let attachment = item.attachments.into_iter().find(|a| a.hash == hash).ok_or(AppError::NotFound)?;
    // A file whose bytes have not reached this replica yet is missing, like an unknown one.
    let bytes = state.files.get(&attachment.hash).await?.ok_or(AppError::NotFound)?;
    Ok(crate::web::files::download(&attachment, bytes))
}

/// The "à faire" list of one pupil, as the pupil's home, `/homework` and a parent's child
/// page show it.
pub struct TodoList {
    /// The pupil's id (the tick forms post for them).
    pub pupil: String,
    /// Their first name.
    pub first_name: String,
    /// Work due from today on.
    pub entries: Vec<EntryView>,
}

impl TodoList {
    /// The list of `pupil` as `by` sees it.
    pub async fn of(state: &AppState, by: &SignedIn, pupil: &UserId) -> Result<Self, AppError> {
        let (pupil, entries) = todo(state, by, pupil.as_str()).await?;
        Ok(Self { pupil: pupil.id.to_string(), first_name: pupil.person.first_name.clone(), entries })
    }
}

#[derive(Template)]
#[template(path = "homework/todo.html")]
pub(super) struct TodoPage {
    c: Chrome,
    todo: TodoList,
}

impl TodoPage {
    pub(super) fn date(&self, iso: &str) -> String {
        self.c.l.weekday_date(iso)
    }
}

pub(super) async fn my_todo_page(state: AppState, ctx: Ctx) -> Result<Response, AppError> {
    let user = ctx.user()?;
    if user.profile != Profile::Pupil {
        return Err(AppError::NotFound);
    }
    let todo = TodoList::of(&state, user, &user.user).await?;
    render(&TodoPage { c: Chrome::new(&ctx), todo }).map(kept)
}

#[derive(Deserialize)]
pub(super) struct DoneForm {
    done: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn done_form(
    state: AppState,
    ctx: Ctx,
    Path((pupil, entry)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DoneForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let done = match form.done.as_str() {
        "1" => true,
        "0" => false,
        other => return Err(AppError::bad("error-bad-form", format!("done {other:?}"))),
    };
    // Back to the page the tick was made on.
    let back = crate::web::local_path(&form.back, "/".into())?;
    set_done(&state, user, &pupil, &entry, done).await?;
    Ok(Redirect::to(&back).into_response())
}
