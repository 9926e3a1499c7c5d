//! `preau bench hub`: the académie's hub holding many schools (600 by default, about
//! 60,000 pupils and their families), each with a term of homework, liaison notes and
//! news written through the functions the pages use. The hub runs as its own process
//! (`preau serve --role hub`); parents of every school log in at their school's address
//! and load their home page and their child's cahier de textes under a steady load
//! (latencies p50/p99, the hub's memory); then one evening's digests (a post for every
//! family of every school) are sent, in this process, through the notifier to a local
//! SMTP sink, and timed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use preau_appliance::out;
use preau_appliance::platform::config::{Config, Role};
use preau_appliance::school::directory::{Directory, Profile, SchoolDocs};
use preau_appliance::services::{homework, liaison, news};
use preau_appliance::web::SignedIn;
use preau_sync::Uai;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::memory::{self, Browser, Server};

/// The académie's schools the hub benchmarks generate.
#[derive(clap::Args)]
pub struct Schools {
    /// Schools on the hub.
    #[arg(long, default_value_t = 600)]
    pub(super) schools: usize,
    /// Pupils per school.
    #[arg(long, default_value_t = 100)]
    pub(super) pupils: usize,
    /// Classes per school.
    #[arg(long, default_value_t = 4)]
    pub(super) classes: usize,
}

/// What to measure.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    shape: Schools,
    /// School days of the term written (homework each day, a note a week).
    #[arg(long, default_value_t = 48)]
    days: usize,
    /// Keep the generated hub in this directory and reuse it when it is already there
    /// (the server always runs on a copy).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Parents who log in and browse during the load (spread over the schools).
    #[arg(long, default_value_t = 1200)]
    parents: usize,
    /// Requests in flight at once during the load.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Length of the load, in seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

/// The `n`th generated school's UAI (département 99, which no real school has).
pub(super) fn uai(n: usize) -> Result<Uai> {
    Ok(Uai::parse(&format!("099{n:04}H"))?)
}

pub async fn run(args: Args) -> Result<()> {
    preau_appliance::replication::client::install_tls();
    let scratch = tempfile::tempdir()?;
    let template = args.data.clone().unwrap_or_else(|| scratch.path().join("template"));
    if template.join("replica.db").exists() {
        out!("\n## The hub: reused from {}", template.display());
    } else {
        let started = Instant::now();
        let counts = generate(&template, &args).await?;
        out!("\n## The hub: generated in {:.0} s", started.elapsed().as_secs_f64());
        for (what, n) in counts {
            out!("{what:<34} {n:>9}");
        }
    }
    let data = scratch.path().join("server");
    memory::copy_dir(&template, &data)?;
    out!("replica.db                         {:>9} MiB", std::fs::metadata(data.join("replica.db"))?.len() >> 20);
    let visits = plan(&data, &args)?;

    let exe = std::env::current_exe()?;
    let server = Server::start_with(&exe, &data, &["--role", "hub"], &[]).await?;
    out!("\n## The hub under families' load ({} requests in flight)", args.concurrency);
    out!("{:<46} {:>10} {:>10}", "", "VmRSS MiB", "VmHWM MiB");
    let show = |what: &str, (rss, hwm): (u64, u64)| {
        out!("{what:<46} {:>10.1} {:>10.1}", memory::mib(rss), memory::mib(hwm));
    };
    show("idle, after start", server.memory()?);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = Arc::new(server.base.clone());
    let started = Instant::now();
    let browsers: Vec<Result<(Browser, Visit)>> = futures_util::stream::iter(visits)
        .map(|visit| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let mut b = Browser::new(client, base);
                b.get(&format!("/ecoles/{}", visit.school)).await.ok();
                b.login(&visit.login).await.with_context(|| format!("login {}", visit.login))?;
                Ok((b, visit))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let browsers: Vec<(Browser, Visit)> = browsers.into_iter().collect::<Result<_>>()?;
    let secs = started.elapsed().as_secs_f64();
    show(
        &format!("after {} parents' logins ({:.0}/s)", browsers.len(), browsers.len() as f64 / secs),
        server.memory()?,
    );

    // A steady load: each parent in turn opens her home page, then her child's cahier.
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let queue = Arc::new(tokio::sync::Mutex::new(browsers));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let (mut home, mut cahier) = (Vec::new(), Vec::new());
                while Instant::now() < deadline {
                    let next = queue.lock().await.pop();
                    let Some((mut b, visit)) = next else { break };
                    let t = Instant::now();
                    b.get("/").await?;
                    home.push(t.elapsed());
                    let t = Instant::now();
                    b.get(&visit.cahier).await?;
                    cahier.push(t.elapsed());
                    queue.lock().await.insert(0, (b, visit));
                }
                Ok::<_, anyhow::Error>((home, cahier))
            })
        })
        .collect();
    let (mut home, mut cahier) = (Vec::new(), Vec::new());
    for w in workers {
        let (h, c) = w.await??;
        home.extend(h);
        cahier.extend(c);
    }
    let seconds = args.seconds as f64;
    out!("{:<46} {:>10} {:>10} {:>10}", "", "p50 ms", "p99 ms", "pages/s");
    for (what, times) in
        [("a parent's home page (/)", &mut home), ("her child's page (its cahier de textes)", &mut cahier)]
    {
        times.sort();
        let at = |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)));
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        out!("{what:<46} {:>10.1} {:>10.1} {:>10.0}", ms(at(0.5)), ms(at(0.99)), times.len() as f64 / seconds);
    }
    show("after the load", server.memory()?);
    drop(server);

    digests(&data, args.shape.schools).await
}

/// One parent's visit: her school, her login, her child's cahier.
struct Visit {
    school: Uai,
    login: String,
    cahier: String,
}

/// `args.parents` parents, spread evenly over the schools, each with a child.
fn plan(data: &Path, args: &Args) -> Result<Vec<Visit>> {
    let reader = preau_sync::Reader::open(&data.join("replica.db"))?;
    let per_school = args.parents.div_ceil(args.shape.schools).max(1);
    let mut visits = Vec::new();
    for n in 0..args.shape.schools {
        let school = uai(n)?;
        let dir = Directory::load_school(&reader, &school).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut parents: Vec<_> = dir.people.values().filter(|m| m.profile == Profile::Parent).collect();
        parents.sort_by(|a, b| a.id.cmp(&b.id));
        for parent in parents.into_iter().take(per_school) {
            let Some(child) = dir.children_of(&parent.id).into_iter().next() else { continue };
            let login = dir.credentials.get(&parent.id).context("a credential")?.login.clone();
            // A parent reads her child's cahier de textes on the child's page (its « à faire »).
            let cahier = format!("/child/{}", child.id);
            visits.push(Visit { school: school.clone(), login, cahier });
        }
    }
    visits.truncate(args.parents);
    Ok(visits)
}

/// Writes the hub: every school's accounts, then a term of homework, notes (every other one
/// to sign, half the families signing) and the director's weekly news, through the
/// functions the pages use, within each school.
async fn generate(data: &Path, args: &Args) -> Result<Vec<(&'static str, usize)>> {
    let mut config = Config::load(Some(data.into()), |_| None)?;
    config.discovery = false;
    config.role = Role::Hub;
    let hub = preau_appliance::app::open(config, false)?;
    let e = |e: preau_appliance::platform::error::AppError| anyhow::anyhow!("{e}");
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let days: Vec<_> = memory::school_days().into_iter().take(args.days).collect();
    let (mut pupils, mut parents, mut entries, mut notes, mut signatures, mut posts) = (0, 0, 0, 0, 0, 0);
    for n in 0..args.shape.schools {
        let uai = uai(n)?;
        let (docs, school) =
            memory::accounts_in(&mut rng, args.shape.pupils, args.shape.classes, &format!("École {n}"));
        pupils += school.pupils.len();
        parents += school.parents;
        let at = uai.clone();
        hub.db.run(move |store| docs.save(store, &at, &SchoolDocs::default())).await.map_err(e)?;
        let state = hub.within(&uai).map_err(e)?;
        let dir = state.directory();
        let signed_in = |id| SignedIn::of(&dir, dir.member(id).expect("generated"), false);
        for class in &school.classes {
            let teacher = signed_in(&class.teacher);
            for (i, day) in days.iter().enumerate() {
                let due = days.get(i + 1).copied().unwrap_or(*day);
                let input = homework::EntryInput {
                    subject: memory::SUBJECTS[rng.random_range(0..memory::SUBJECTS.len())].into(),
                    assigned_on: memory::iso(*day),
                    lesson: memory::LESSONS[rng.random_range(0..memory::LESSONS.len())].into(),
                    title: memory::WORK[rng.random_range(0..memory::WORK.len())].into(),
                    due_on: memory::iso(due),
                    ..Default::default()
                };
                homework::save_entry(&state, &teacher, class.id.as_str(), None, input, Default::default())
                    .await
                    .map_err(e)?;
                entries += 1;
            }
            for week in 0..days.len() / 4 {
                let ask = if week % 2 == 0 { "signature" } else { "" };
                let input = liaison::NoteInput {
                    title: format!("Semaine {}", week + 1),
                    body: "Chers parents, voici les nouvelles de la classe. Merci de signer ce mot.".into(),
                    ask: ask.into(),
                    recipients: Vec::new(),
                };
                let note = liaison::post_note(&state, &teacher, class.id.as_str(), input).await.map_err(e)?;
                notes += 1;
                if ask.is_empty() {
                    continue;
                }
                for pupil in &class.pupils {
                    if rng.random_bool(0.5) {
                        let parent = signed_in(&school.guardians[pupil][0]);
                        liaison::sign(&state, &parent, &note, pupil.as_str(), "").await.map_err(e)?;
                        signatures += 1;
                    }
                }
            }
        }
        let director = signed_in(&school.director);
        for week in 0..days.len() / 4 {
            let input = news::PostInput {
                place: "school".into(),
                title: format!("La semaine à l'école ({})", week + 1),
                body: "Cette semaine : sortie à la médiathèque et conseil d'école mardi.".into(),
                public: week % 4 == 0,
            };
            news::publish(&state, &director, input, Default::default()).await.map_err(e)?;
            posts += 1;
        }
        if (n + 1) % 50 == 0 {
            out!("  {} schools written", n + 1);
        }
    }
    Ok(vec![
        ("schools", args.shape.schools),
        ("pupils", pupils),
        ("parent accounts", parents),
        ("homework entries", entries),
        ("liaison notes", notes),
        ("liaison signatures", signatures),
        ("news posts", posts),
    ])
}

/// One evening's digests: the director of every school posts for its families in the
/// afternoon; at 18:00 every parent's digest goes to a local SMTP sink. Timed from the
/// first pass at 18:00 until nothing is left to send.
async fn digests(data: &Path, schools: usize) -> Result<()> {
    let sink = Sink::start().await?;
    let mut config = Config::load(Some(data.into()), |_| None)?;
    config.discovery = false;
    config.role = Role::Hub;
    config.mail.smtp = format!("127.0.0.1:{}", sink.port);
    config.mail.tls = "none".into();
    config.mail.from = "ENT <ne-pas-repondre@ac-exemple.fr>".into();
    let hub = preau_appliance::app::open(config, false)?;
    let e = |e: preau_appliance::platform::error::AppError| anyhow::anyhow!("{e}");
    // The next weekday, in Paris: the afternoon's post, the evening's digests.
    let mut day = jiff::Timestamp::now().in_tz("Europe/Paris")?.date().tomorrow()?;
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow()?;
    }
    let paris = |hour: i8| -> Result<jiff::Timestamp> { Ok(day.at(hour, 0, 0, 0).in_tz("Europe/Paris")?.timestamp()) };
    preau_appliance::notify::tick(&hub, paris(10)?).await.map_err(e)?;
    let uais: Vec<Uai> = (0..schools).map(uai).collect::<Result<_>>()?;
    for uai in &uais {
        let state = hub.within(uai).map_err(e)?;
        let dir = state.directory();
        let director = dir.people.values().find(|m| m.profile == Profile::Director).context("a director")?;
        let by = SignedIn::of(&dir, director, false);
        let input = news::PostInput {
            place: "parents".into(),
            title: "Kermesse samedi".into(),
            body: "Venez nombreux !".into(),
            public: false,
        };
        news::publish(&state, &by, input, Default::default()).await.map_err(e)?;
    }
    let started = Instant::now();
    let noticed = preau_appliance::notify::tick(&hub, paris(14)?).await.map_err(e)?.noticed;
    let derived = started.elapsed();
    let started = Instant::now();
    let (mut passes, mut queued, mut sent) = (0, 0, 0);
    loop {
        let pass = preau_appliance::notify::tick(&hub, paris(18)?).await.map_err(e)?;
        passes += 1;
        queued += pass.queued;
        sent += pass.sent;
        if pass.queued == 0 && pass.sent == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    out!("\n## One evening's digests ({} schools, a post for every family)", uais.len());
    out!("notices derived                    {noticed:>9}   in {:.1} s", derived.as_secs_f64());
    out!("digests queued / sent              {queued:>9} / {sent}   in {secs:.1} s, {passes} passes");
    out!(
        "e-mails the SMTP sink took         {:>9}   ({:.0}/s)",
        sink.taken.load(Ordering::Relaxed),
        sent as f64 / secs
    );
    Ok(())
}

/// Just enough of an SMTP server to take e-mails on loopback and count them.
struct Sink {
    port: u16,
    taken: Arc<AtomicU64>,
}

impl Sink {
    async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let taken = Arc::new(AtomicU64::new(0));
        let counter = taken.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await?;
                    let mut in_data = false;
                    while let Some(line) = lines.next_line().await? {
                        let reply: &[u8] = if in_data {
                            if line != "." {
                                continue;
                            }
                            in_data = false;
                            counter.fetch_add(1, Ordering::Relaxed);
                            b"250 OK\r\n"
                        } else {
                            match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                                Some("EHLO") => b"250-sink\r\n250 8BITMIME\r\n",
                                Some("DATA") => {
                                    in_data = true;
                                    b"354 go on\r\n"
                                }
                                Some("QUIT") => {
                                    write.write_all(b"221 bye\r\n").await?;
                                    break;
                                }
                                _ => b"250 OK\r\n",
                            }
                        };
                        write.write_all(reply).await?;
                    }
                    Ok::<_, std::io::Error>(())
                });
            }
        });
        Ok(Self { port, taken })
    }
}
