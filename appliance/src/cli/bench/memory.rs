//! `preau bench memory`: the server's resident memory over a school morning. A 300-pupil
//! school with a year of data is written through the domain functions (as teachers, the
//! director and families would), the real server (`preau serve`) runs on it as its own
//! process, pupils and parents log in with their passwords and load their pages, and the
//! server's VmRSS and VmHWM are read from `/proc` before, after the logins and after the pages.
//! Then a teacher of two classes joins from her computer, as the desktop app does, and its
//! first sync is timed against the physical floor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures_util::StreamExt;
use preau_appliance::out;
use preau_appliance::platform::config::Config;
use preau_appliance::school::accounts;
use preau_appliance::school::demo::{SCHOOL_YEAR, SURNAMES};
use preau_appliance::school::directory::{ClassId, Directory, Profile, SchoolDocs, UserId, slug};
use preau_appliance::services::{agenda, homework, liaison, messaging, news};
use preau_appliance::web::SignedIn;
use preau_sync::kinds::Credentials;
use preau_sync::kinds::directory::{Guardianship, Person, SchoolClass, SchoolDirectory, SchoolInfo};
use preau_sync::{Scope, Uai};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use time::macros::date;

/// What to measure.
#[derive(clap::Args)]
pub struct Args {
    /// Pupils in the generated school (twelve classes).
    #[arg(long, default_value_t = 300)]
    pupils: usize,
    /// Keep the generated school in this directory and reuse it when it is already there
    /// (the server always runs on a copy).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The `preau` binary to measure (default: this one), e.g. an older build to compare.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Browsers at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Keep the teacher's computer's data directory here (for the desktop app's memory).
    #[arg(long)]
    keep_device: Option<PathBuf>,
}

/// Every generated account's password.
pub(super) const PASSWORD: &str = "cartable-vert-2026";
const UAI: &str = "0990002Y";
/// Classes: name and levels.
const CLASSES: [(&str, &[&str]); 12] = [
    ("CP A", &["CP"]),
    ("CP B", &["CP"]),
    ("CP-CE1", &["CP", "CE1"]),
    ("CE1 A", &["CE1"]),
    ("CE1 B", &["CE1"]),
    ("CE2 A", &["CE2"]),
    ("CE2 B", &["CE2"]),
    ("CE2-CM1", &["CE2", "CM1"]),
    ("CM1 A", &["CM1"]),
    ("CM1 B", &["CM1"]),
    ("CM2 A", &["CM2"]),
    ("CM2 B", &["CM2"]),
];
const FIRST_NAMES: &[&str] = &[
    "Léa", "Emma", "Jade", "Louise", "Alice", "Chloé", "Inès", "Lina", "Rose", "Anna", "Mila", "Ambre", "Julia", "Zoé",
    "Léna", "Manon", "Agathe", "Romane", "Nina", "Camille", "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules",
    "Adam", "Maël", "Lucas", "Hugo", "Noah", "Paul", "Nathan", "Sacha", "Tom", "Théo", "Malo", "Gaspard", "Émile",
    "Noé",
];
const ADULT_NAMES: &[&str] = &[
    "Aurélie",
    "Sandrine",
    "Élodie",
    "Marion",
    "Céline",
    "Fatima",
    "Laure",
    "Thomas",
    "Nicolas",
    "Mehdi",
    "Pierre",
    "Erwan",
    "David",
    "Olivier",
    "Stéphane",
    "Karim",
    "Loïc",
    "Nadia",
    "Hélène",
    "Yann",
];
pub(super) const SUBJECTS: &[&str] =
    &["Mathématiques", "Français", "Lecture", "Questionner le monde", "Histoire", "Anglais", "Poésie", "Musique"];
pub(super) const LESSONS: &[&str] = &[
    "Lecture à voix haute et questions de compréhension.",
    "Les tables de multiplication, jeu du furet puis exercices sur le cahier du jour.",
    "Les états de l'eau : expérience du glaçon et schéma légendé.",
    "Dictée préparée, puis correction ensemble au tableau.",
    "Problèmes : lire l'énoncé, chercher la question, écrire la phrase réponse.",
    "Les grandes dates de l'histoire de France : frise chronologique collée dans le cahier.",
    "Chant : reprise du refrain et du deuxième couplet.",
];
pub(super) const WORK: &[&str] = &[
    "Apprendre la poésie (deux strophes)",
    "Relire la leçon et recopier les mots difficiles",
    "Exercices 3 et 4 page 52",
    "Réviser la table de 7",
    "Lire le chapitre 4 du livre de lecture",
    "Apporter une boîte à chaussures vide",
];

/// Runs the measurement.
pub async fn run(args: Args) -> Result<()> {
    preau_appliance::replication::client::install_tls();
    let scratch = tempfile::tempdir()?;
    let template = args.data.clone().unwrap_or_else(|| scratch.path().join("template"));
    if template.join("replica.db").exists() {
        out!("\n## The school: reused from {}", template.display());
    } else {
        let started = Instant::now();
        let counts = generate(&template, args.pupils).await?;
        out!("\n## The school: generated in {:.0} s", started.elapsed().as_secs_f64());
        for (what, n) in counts {
            out!("{what:<34} {n:>7}");
        }
    }
    let data = scratch.path().join("server");
    copy_dir(&template, &data)?;
    let visits = plan(&data)?;
    let bytes = std::fs::metadata(data.join("replica.db"))?.len();
    out!("replica.db                         {:>7} KiB", bytes / 1024);

    let exe = match args.server {
        Some(path) => path,
        None => std::env::current_exe()?,
    };
    let server = Server::start(&exe, &data).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    out!("\n## Server memory over a school morning ({} at once)", args.concurrency);
    out!("server: {}", exe.display());
    out!("{:<42} {:>10} {:>10}", "", "VmRSS MiB", "VmHWM MiB");
    let show = |what: &str, (rss, hwm): (u64, u64)| out!("{what:<42} {:>10.1} {:>10.1}", mib(rss), mib(hwm));
    show("idle, after start", server.memory()?);

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = Arc::new(server.base.clone());
    let started = Instant::now();
    let logged_in: Vec<Result<(Browser, Visit)>> = futures_util::stream::iter(visits)
        .map(|visit| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let mut b = Browser::new(client, base);
                b.login(&visit.login).await.with_context(|| format!("login {}", visit.login))?;
                Ok((b, visit))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let logged_in: Vec<(Browser, Visit)> = logged_in.into_iter().collect::<Result<_>>()?;
    let secs = started.elapsed().as_secs_f64();
    let by_profile = |p: Profile| logged_in.iter().filter(|(_, v)| v.profile == p).count();
    show(
        &format!("after {} password logins ({:.0}/s)", logged_in.len(), logged_in.len() as f64 / secs),
        server.memory()?,
    );
    out!(
        "  ({} pupils, {} parents, {} teachers; none throttled)",
        by_profile(Profile::Pupil),
        by_profile(Profile::Parent),
        by_profile(Profile::Teacher)
    );

    let started = Instant::now();
    let pages: Vec<Result<usize>> = futures_util::stream::iter(logged_in)
        .map(|(mut b, visit)| async move {
            let mut n = 0;
            for path in &visit.pages {
                b.get(path).await.with_context(|| format!("{} {path}", visit.login))?;
                n += 1;
            }
            Ok(n)
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let pages: usize = pages.into_iter().sum::<Result<usize>>()?;
    let secs = started.elapsed().as_secs_f64();
    show(&format!("after {pages} page loads ({:.0}/s)", pages as f64 / secs), server.memory()?);
    tokio::time::sleep(Duration::from_secs(15)).await;
    show("15 s later (idle blocking threads gone)", server.memory()?);
    teacher_computer(&server.base, &data, args.keep_device.as_deref()).await
}

/// A teacher's computer joins the school as the desktop app's first run does (her login,
/// a code, enrolment) and brings her two classes' year: the time and bytes of that first
/// sync against the physical floor of a wired LAN and of a classroom's Wi-Fi, and the size
/// of the replica it leaves (kept for `scripts/bench-desktop-start --teacher` when asked).
async fn teacher_computer(base: &str, school: &Path, keep: Option<&Path>) -> Result<()> {
    let dir = {
        let store = preau_sync::Store::open(&school.join("replica.db"), Scope::default())?;
        Directory::load(&store).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let (login, classes) = dir
        .credentials
        .iter()
        .map(|(id, c)| (c.login.clone(), dir.classes_taught_by(id).len()))
        .find(|(_, n)| *n == 2)
        .context("no teacher of two classes: regenerate the school (an older --data)")?;
    let computer = tempfile::tempdir()?;
    let mut config = Config::load(Some(computer.path().into()), |_| None)?;
    config.role = preau_appliance::platform::config::Role::Device;
    config.window_key = Some(preau_appliance::platform::config::WindowKey::random());
    config.discovery = false;
    let state = preau_appliance::app::open(config, false)?;
    preau_appliance::replication::device::join(&state, base, &login, PASSWORD).await?;
    let started = Instant::now();
    let run = preau_appliance::replication::schedule::run_now(&state).await;
    let secs = started.elapsed().as_secs_f64();
    ensure!(run.ok, "the first sync failed: {:?}", run.error);
    let bytes = (run.bytes_up + run.bytes_down) as f64;
    let floor = |bits_per_s: f64| bytes * 8.0 / bits_per_s;
    out!("\n## A teacher's computer: the first sync of her {classes} classes' year (loopback)");
    out!("{:<34} {:>9}", "documents received", run.docs_down);
    out!("{:<34} {:>9}", "files received", run.files_down);
    out!("{:<34} {:>9.0} KiB in {} requests", "bytes on the wire (HTTP bodies)", bytes / 1024.0, run.requests);
    out!("{:<34} {:>9.2} s", "first sync, measured", secs);
    out!("{:<34} {:>9.2} s", "floor at 100 Mbit/s (wired LAN)", floor(100e6));
    out!("{:<34} {:>9.2} s", "floor at 20 Mbit/s (classroom Wi-Fi)", floor(20e6));
    drop(state);
    // The replica and its write-ahead log (not checkpointed yet after one sync).
    let mut size = 0;
    for entry in std::fs::read_dir(computer.path())? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with("replica.db") {
            size += entry.metadata()?.len();
        }
    }
    out!("{:<34} {:>9} KiB", "her replica (db and its log)", size / 1024);
    if let Some(keep) = keep {
        copy_dir(computer.path(), keep)?;
        // As the app leaves it after « Me connecter à mon école » with no keyring.
        std::fs::write(keep.join("mode"), "teacher\n")?;
        std::fs::write(keep.join("secrets-in-files"), "")?;
        out!("kept in {} (scripts/bench-desktop-start --teacher)", keep.display());
    }
    Ok(())
}

pub(super) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// One person's morning: their login and the pages they open after it.
struct Visit {
    login: String,
    profile: Profile,
    pages: Vec<String>,
}

/// Who logs in: every pupil, two parents in three, every teacher; in a shuffled order
/// (classes arrive together, not in alphabetical order).
fn plan(data: &Path) -> Result<Vec<Visit>> {
    let store = preau_sync::Store::open(&data.join("replica.db"), Scope::default())?;
    let dir = Directory::load(&store).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut accounts: Vec<_> = dir.credentials.iter().collect();
    accounts.sort_by(|a, b| a.1.login.cmp(&b.1.login));
    let mut visits = Vec::new();
    let mut parents = 0;
    for (id, cred) in accounts {
        let Some(m) = dir.member(id) else { continue };
        let pages = match m.profile {
            Profile::Pupil => vec!["/".into(), "/homework".into(), "/messages".into()],
            Profile::Parent => {
                parents += 1;
                if parents % 3 == 0 {
                    continue;
                }
                let child = dir.children_of(id).first().map(|c| c.id.to_string()).unwrap_or_default();
                vec!["/".into(), format!("/child/{child}"), "/liaison".into(), "/messages".into()]
            }
            Profile::Teacher => {
                let class = dir.classes_taught_by(id).first().map(|c| c.id.to_string()).unwrap_or_default();
                vec!["/".into(), format!("/classes/{class}/homework"), "/messages".into()]
            }
            _ => continue,
        };
        visits.push(Visit { login: cred.login.clone(), profile: m.profile, pages });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in (1..visits.len()).rev() {
        visits.swap(i, rng.random_range(0..=i));
    }
    Ok(visits)
}

// ---- the server ----

pub(super) struct Server {
    child: Child,
    pub(super) base: String,
}

impl Server {
    async fn start(exe: &Path, data: &Path) -> Result<Self> {
        Self::start_with(exe, data, &[], &[]).await
    }

    /// `preau serve` with more arguments and variables (`--role hub`).
    pub(super) async fn start_with(exe: &Path, data: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(data.join("server.log"))?;
        let child = Command::new(exe)
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .envs(env.iter().copied())
            .env("PREAU_DISCOVERY", "false")
            .env("PREAU_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not answer; see {}", data.join("server.log").display())
    }

    /// Its process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS and VmHWM, in KiB.
    pub(super) fn memory(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> Result<u64> {
            let line = status.lines().find(|l| l.starts_with(name)).with_context(|| format!("no {name}"))?;
            Ok(line.split_whitespace().nth(1).context("malformed")?.parse()?)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser: its cookies, and the CSRF token of the last page with a form.
pub(super) struct Browser {
    client: reqwest::Client,
    base: Arc<String>,
    cookies: BTreeMap<String, String>,
    csrf: String,
}

impl Browser {
    pub(super) fn new(client: reqwest::Client, base: Arc<String>) -> Self {
        Self { client, base, cookies: BTreeMap::new(), csrf: String::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, String)> {
        let response = request
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")
            .send()
            .await?;
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = value.to_str()?.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = response.status();
        let body = response.text().await?;
        const FIELD: &str = "name=\"csrf\" value=\"";
        if let Some(i) = body.find(FIELD) {
            self.csrf = body[i + FIELD.len()..].chars().take_while(|c| *c != '"').collect();
        }
        Ok((status, body))
    }

    pub(super) async fn get(&mut self, path: &str) -> Result<usize> {
        let request = self.client.get(format!("{}{path}", self.base));
        let (status, body) = self.send(request).await?;
        ensure!(status.is_success(), "{status}");
        Ok(body.len())
    }

    /// The login form, as a person fills it in; the session must open (a redirect).
    pub(super) async fn login(&mut self, login: &str) -> Result<()> {
        self.get("/login").await?;
        let form = serde_urlencoded::to_string([("login", login), ("password", PASSWORD), ("csrf", &self.csrf)])?;
        let request = self
            .client
            .post(format!("{}/login", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form);
        let (status, body) = self.send(request).await?;
        if !status.is_redirection() {
            let error = body.split("class=\"error").nth(1).and_then(|s| s.split('<').nth(0)).unwrap_or("");
            bail!("refused: {status} {error}");
        }
        Ok(())
    }
}

// ---- the school ----

/// A school year's school days (Monday, Tuesday, Thursday, Friday; the 2026-2027 holidays of
/// zone B, about).
pub(super) fn school_days() -> Vec<time::Date> {
    let holidays = [
        (date!(2026 - 10 - 17), date!(2026 - 11 - 01)),
        (date!(2026 - 12 - 19), date!(2027 - 01 - 03)),
        (date!(2027 - 02 - 13), date!(2027 - 02 - 28)),
        (date!(2027 - 04 - 10), date!(2027 - 04 - 25)),
        (date!(2027 - 05 - 06), date!(2027 - 05 - 09)),
    ];
    let mut days = Vec::new();
    let mut day = date!(2026 - 09 - 01);
    while day <= date!(2027 - 07 - 02) {
        let weekday = day.weekday().number_days_from_monday();
        if matches!(weekday, 0 | 1 | 3 | 4) && !holidays.iter().any(|(a, b)| (*a..=*b).contains(&day)) {
            days.push(day);
        }
        day += time::Duration::days(1);
    }
    days
}

pub(super) fn iso(d: time::Date) -> String {
    preau_appliance::platform::text::iso(d)
}

/// Writes the school into `data`: accounts, then a year of homework, liaison notes,
/// messages, news and agenda events through the functions the pages use. Returns what it
/// wrote.
async fn generate(data: &Path, pupils: usize) -> Result<Vec<(&'static str, usize)>> {
    let mut config = Config::load(Some(data.into()), |_| None)?;
    config.discovery = false;
    let state = preau_appliance::app::open(config, false)?;
    let uai = Uai::parse(UAI)?;
    let mut rng = ChaCha8Rng::seed_from_u64(2027);
    let (docs, school) = accounts_of(&mut rng, pupils);
    let mut counts = vec![
        ("classes", school.classes.len()),
        ("pupils", school.pupils.len()),
        ("parent accounts", school.parents),
        ("teachers", school.classes.len()),
    ];
    let scope = preau_appliance::school::scope(&uai);
    state
        .db
        .run(move |store| {
            store.set_scope(scope);
            docs.save(store, &uai, &SchoolDocs::default())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.reload_directory().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let e = |e: preau_appliance::platform::error::AppError| anyhow::anyhow!("{e}");
    let dir = state.directory();
    let signed_in = |id: &UserId| SignedIn::of(&dir, dir.member(id).expect("generated"), false);
    let director = signed_in(&school.director);
    let days = school_days();

    // The cahier de textes: each class day, what was done and, most days, work to do.
    let mut n = 0;
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        for (i, day) in days.iter().enumerate() {
            let has_work = rng.random_bool(0.7);
            let due = days.get(i + 1 + rng.random_range(0..3)).copied().unwrap_or(*day);
            let input = homework::EntryInput {
                subject: SUBJECTS[rng.random_range(0..SUBJECTS.len())].into(),
                assigned_on: iso(*day),
                lesson: LESSONS[rng.random_range(0..LESSONS.len())].into(),
                title: if has_work { WORK[rng.random_range(0..WORK.len())].into() } else { String::new() },
                due_on: if has_work { iso(due) } else { String::new() },
                ..Default::default()
            };
            homework::save_entry(&state, &teacher, class.id.as_str(), None, input, Default::default())
                .await
                .map_err(e)?;
            n += 1;
        }
    }
    counts.push(("homework entries", n));

    // The cahier de liaison: a note a week per class, every other one to sign; most
    // families sign.
    let (mut notes, mut signatures) = (0, 0);
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        for week in 0..36 {
            let ask = if week % 2 == 0 { "signature" } else { "" };
            let input = liaison::NoteInput {
                title: format!("Semaine {}", week + 1),
                body: "Chers parents, voici les nouvelles de la classe et ce qui se prépare. Merci de vérifier le \
                       cartable et de signer ce mot."
                    .into(),
                ask: ask.into(),
                recipients: Vec::new(),
            };
            let note = liaison::post_note(&state, &teacher, class.id.as_str(), input).await.map_err(e)?;
            notes += 1;
            if ask.is_empty() {
                continue;
            }
            for pupil in &class.pupils {
                if !rng.random_bool(0.7) {
                    continue;
                }
                let parent = signed_in(&school.guardians[pupil][0]);
                liaison::sign(&state, &parent, &note, pupil.as_str(), "").await.map_err(e)?;
                signatures += 1;
            }
        }
    }
    counts.push(("liaison notes", notes));
    counts.push(("liaison signatures", signatures));

    // Messages: each family writes to the teacher about their child, who answers; then a
    // word of thanks.
    let (mut conversations, mut messages) = (0, 0);
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        for pupil in &class.pupils {
            let parent = signed_in(&school.guardians[pupil][0]);
            let new = messaging::NewConversation {
                subject: "Absence".into(),
                to: vec![class.teacher.to_string()],
                about: pupil.to_string(),
                body: "Bonjour, notre enfant sera absent jeudi matin pour un rendez-vous médical. Bonne journée."
                    .into(),
            };
            let key = messaging::start(&state, &parent, new, Vec::new()).await.map_err(e)?;
            messaging::reply(&state, &teacher, &key, "Merci de nous avoir prévenus. Bonne journée.", Vec::new())
                .await
                .map_err(e)?;
            messaging::reply(&state, &parent, &key, "Merci !", Vec::new()).await.map_err(e)?;
            conversations += 1;
            messages += 3;
        }
    }
    counts.push(("conversations", conversations));
    counts.push(("messages", messages));

    // News: the director's weekly post, and each class's news twice a month.
    let mut posts = 0;
    for week in 0..36 {
        let input = news::PostInput {
            place: "school".into(),
            title: format!("La semaine à l'école ({})", week + 1),
            body: "Cette semaine : sortie à la médiathèque, conseil d'école mardi, et la cantine proposera un repas \
                   breton jeudi."
                .into(),
            public: week % 4 == 0,
        };
        news::publish(&state, &director, input, Default::default()).await.map_err(e)?;
        posts += 1;
    }
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        for n in 0..18 {
            let input = news::PostInput {
                place: format!("class:{}", class.id),
                title: format!("En classe ({})", n + 1),
                body: "Nous avons planté des graines et observons chaque jour la germination.".into(),
                public: false,
            };
            news::publish(&state, &teacher, input, Default::default()).await.map_err(e)?;
            posts += 1;
        }
    }
    counts.push(("news posts", posts));

    // The agenda: the school's year, holidays, and each class's outings.
    let mut events = 0;
    for (i, day) in days.iter().enumerate().step_by(5) {
        let input = agenda::EventInput {
            place: "school".into(),
            title: format!("Réunion {}", i / 5 + 1),
            starts_on: iso(*day),
            start_time: "17:00".into(),
            end_time: "18:00".into(),
            ..Default::default()
        };
        agenda::add(&state, &director, input).await.map_err(e)?;
        events += 1;
    }
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        for day in days.iter().step_by(10) {
            let input = agenda::EventInput {
                place: format!("class:{}", class.id),
                title: "Sortie".into(),
                location: "Médiathèque".into(),
                starts_on: iso(*day),
                ..Default::default()
            };
            agenda::add(&state, &teacher, input).await.map_err(e)?;
            events += 1;
        }
    }
    counts.push(("agenda events", events));
    drop(dir);
    drop(state);
    Ok(counts)
}

pub(super) struct GeneratedClass {
    pub(super) id: ClassId,
    pub(super) teacher: UserId,
    pub(super) pupils: Vec<UserId>,
}

pub(super) struct School {
    pub(super) director: UserId,
    pub(super) classes: Vec<GeneratedClass>,
    pub(super) pupils: Vec<UserId>,
    pub(super) parents: usize,
    /// Each pupil's legal guardians.
    pub(super) guardians: BTreeMap<UserId, Vec<UserId>>,
}

/// The school's directory and credentials: a director, twelve classes with their teacher,
/// the pupils, and their families (as in the demo school: some single parents, some
/// separated ones with two households, some siblings). Every account has [`PASSWORD`].
pub(super) fn accounts_of(rng: &mut ChaCha8Rng, pupils: usize) -> (SchoolDocs, School) {
    accounts_in(rng, pupils, CLASSES.len(), "École élémentaire Jules Verne")
}

/// As [`accounts_of`], with the first `classes` of the twelve classes and the school's name.
pub(super) fn accounts_in(rng: &mut ChaCha8Rng, pupils: usize, count: usize, name: &str) -> (SchoolDocs, School) {
    let mut directory = SchoolDirectory {
        school: SchoolInfo {
            name: name.into(),
            address: "12 rue des Écoles".into(),
            postcode: "35998".into(),
            commune: "Saint-Malo-des-Champs".into(),
            academy: "Académie de Rennes".into(),
            away_sync: false,
            holiday_pause: false,
        },
        ..SchoolDirectory::default()
    };
    let mut creds = Credentials::default();
    let hash = accounts::secrets::hash_password(PASSWORD);
    let mut add = |directory: &mut SchoolDirectory, person: Person| {
        let profile = Profile::parse(&person.profile).expect("valid profile");
        let id = UserId::random();
        let mut credential = accounts::new_credential(&creds, &person, profile);
        credential.password_hash = hash.clone();
        credential.activation_code.clear();
        credential.must_change_password = false;
        creds.accounts.insert(id.to_string(), credential);
        directory.people.insert(id.to_string(), person);
        id
    };
    let name = |rng: &mut ChaCha8Rng, names: &[&str]| names[rng.random_range(0..names.len())].to_owned();
    let adult = |profile: Profile, first: String, last: String| Person {
        profile: profile.as_str().into(),
        civility: "Mme".into(),
        email: format!("{}.{}@exemple.fr", slug(&first), slug(&last)),
        first_name: first,
        last_name: last,
        ..Person::default()
    };
    let director = {
        let p = adult(Profile::Director, "Anne".into(), "Riou".into());
        add(&mut directory, p)
    };
    let mut classes = Vec::new();
    for (class_name, levels) in CLASSES.iter().take(count).copied() {
        let p = adult(Profile::Teacher, name(rng, ADULT_NAMES), name(rng, SURNAMES));
        let teacher = add(&mut directory, p);
        let id = ClassId::random();
        directory.classes.insert(
            id.to_string(),
            SchoolClass {
                name: class_name.into(),
                levels: levels.iter().map(|l| (*l).into()).collect(),
                school_year: SCHOOL_YEAR.into(),
                teachers: vec![teacher.to_string()],
                families_open: true,
                ..SchoolClass::default()
            },
        );
        classes.push(GeneratedClass { id, teacher, pupils: Vec::new() });
    }
    let per_class = pupils.div_ceil(count);
    let mut school =
        School { director, classes: Vec::new(), pupils: Vec::new(), parents: 0, guardians: BTreeMap::new() };
    while school.pupils.len() < pupils {
        let surname = name(rng, SURNAMES);
        let separated = rng.random_bool(0.15);
        let single = !separated && rng.random_bool(0.15);
        let households = if separated { 2 } else { 1 };
        let parents_at_home = if single || separated { 1 } else { 2 };
        let mut family = Vec::new();
        for _ in 0..(households + parents_at_home - 1) {
            let p = adult(Profile::Parent, name(rng, ADULT_NAMES), surname.clone());
            family.push(add(&mut directory, p));
        }
        school.parents += family.len();
        let children = if rng.random_bool(0.2) { 2 } else { 1 };
        let mut used = Vec::new();
        for _ in 0..children {
            let open: Vec<usize> =
                (0..classes.len()).filter(|c| classes[*c].pupils.len() < per_class && !used.contains(c)).collect();
            if open.is_empty() || school.pupils.len() >= pupils {
                break;
            }
            let c = open[rng.random_range(0..open.len())];
            used.push(c);
            let levels = CLASSES[c].1;
            let level = levels[rng.random_range(0..levels.len())];
            let pupil = Person {
                profile: Profile::Pupil.as_str().into(),
                first_name: name(rng, FIRST_NAMES),
                last_name: surname.clone(),
                birth_date: "2018-05-12".into(),
                level: level.into(),
                class_id: classes[c].id.to_string(),
                photo_consent: Some(true),
                ..Person::default()
            };
            let child = add(&mut directory, pupil);
            for parent in &family {
                directory.guardianships.insert(
                    Guardianship::key(parent.as_str(), child.as_str()),
                    Guardianship { parent: parent.to_string(), child: child.to_string(), legal: true },
                );
            }
            classes[c].pupils.push(child.clone());
            school.pupils.push(child.clone());
            school.guardians.insert(child, family.clone());
        }
    }
    // CP A's teacher also takes CP B one day a week (her colleague's décharge): the teacher
    // of two classes whose computer the benchmark measures.
    let (teacher, other) = (classes[0].teacher.to_string(), classes[1].id.to_string());
    directory.classes.get_mut(&other).expect("generated").teachers.push(teacher);
    school.classes = classes;
    (SchoolDocs { directory, credentials: creds }, school)
}

pub(super) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
