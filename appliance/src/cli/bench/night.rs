//! `preau bench night`: an académie's night. N schools' servers (600 by default, 100 pupils
//! and their families each) hold a school day's work — a homework entry and a liaison note
//! per class, the director's post — and sync it with the académie's hub, a few at a time as
//! the nightly window spreads them. Each school was set up, enrolled and synced once in the
//! evening (its directory is on the hub already); the night is their second sync.
//!
//! The hub runs as its own process(es), `preau serve --role hub`: its replica in SQLite, or
//! in PostgreSQL with one or two processes sharing the database (each school syncs with one
//! of them, as a load balancer routing by school sends it). Measured: the night's length,
//! schools and bytes per second, each sync's time (p50, p99), the hub processes' CPU time
//! and peak memory, the database's size; and checked: every document of every school is
//! on the hub afterwards, at the school's heads (the bench fails otherwise).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::StreamExt;
use preau_appliance::out;
use preau_appliance::platform::config::{Config, Role};
use preau_appliance::replication::enrollment::{self, Subject};
use preau_appliance::replication::{Links, schedule};
use preau_appliance::school::directory::SchoolDocs;
use preau_appliance::services::{homework, liaison, news};
use preau_appliance::web::{AppState, SignedIn};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use super::hub::uai;
use super::memory::{self, Server};

/// What to measure.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    shape: super::hub::Schools,
    /// Schools syncing at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// A PostgreSQL server (`host=… port=… user=…`, no `dbname`): the night runs on it too,
    /// with one hub process and with two. Without it, on SQLite only.
    #[arg(long)]
    postgres: Option<String>,
}

/// One night's numbers.
struct Night {
    seconds: f64,
    syncs: Vec<Duration>,
    bytes_up: u64,
    docs_up: u64,
    /// The hub processes' CPU time during the night, in seconds.
    hub_cpu: f64,
    /// Each hub process's peak resident memory, in KiB.
    hub_peak: Vec<u64>,
    /// The hub's database, in bytes (replica and records).
    database: u64,
}

pub async fn run(args: Args) -> Result<()> {
    preau_appliance::replication::client::install_tls();
    let mut setups: Vec<(&str, Option<&str>, usize)> = vec![("SQLite, one hub process", None, 1)];
    if let Some(server) = args.postgres.as_deref() {
        setups.push(("PostgreSQL, one hub process", Some(server), 1));
        setups.push(("PostgreSQL, two hub processes", Some(server), 2));
    }
    out!(
        "\n## An académie's night: {} schools ({} pupils, {} classes each), {} syncing at once",
        args.shape.schools,
        args.shape.pupils,
        args.shape.classes,
        args.concurrency
    );
    out!(
        "{:<32} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9} {:>10} {:>9}",
        "",
        "night s",
        "schools/s",
        "KiB/s up",
        "p50 ms",
        "p99 ms",
        "hub CPU s",
        "peak MiB",
        "db MiB"
    );
    for (label, postgres, processes) in setups {
        let night = night(&args, postgres, processes).await.with_context(|| label.to_owned())?;
        let mut syncs = night.syncs.clone();
        syncs.sort();
        let at = |q: f64| syncs[((syncs.len() as f64 * q) as usize).min(syncs.len() - 1)].as_secs_f64() * 1000.0;
        let peaks: Vec<String> = night.hub_peak.iter().map(|kib| format!("{:.0}", memory::mib(*kib))).collect();
        out!(
            "{label:<32} {:>8.1} {:>9.1} {:>9.0} {:>8.0} {:>8.0} {:>9.1} {:>10} {:>9.0}",
            night.seconds,
            syncs.len() as f64 / night.seconds,
            night.bytes_up as f64 / 1024.0 / night.seconds,
            at(0.5),
            at(0.99),
            night.hub_cpu,
            peaks.join(" + "),
            night.database as f64 / (1 << 20) as f64
        );
        out!(
            "{:<32} {} documents, {:.1} MiB up: {:.1} KiB and {:.1} documents a school",
            "",
            night.docs_up,
            night.bytes_up as f64 / (1 << 20) as f64,
            night.bytes_up as f64 / 1024.0 / syncs.len() as f64,
            night.docs_up as f64 / syncs.len() as f64
        );
    }
    Ok(())
}

async fn night(args: &Args, postgres: Option<&str>, processes: usize) -> Result<Night> {
    let scratch = tempfile::tempdir()?;
    let hub_dir = scratch.path().join("hub");
    std::fs::create_dir_all(&hub_dir)?;
    let database = match postgres {
        Some(server) => {
            let name =
                format!("night_{}_{}", std::process::id(), hex::encode(preau_appliance::platform::random_bytes::<4>()));
            Some(preau_sync::create_postgres_database(server, &name)?)
        }
        None => None,
    };
    let env: Vec<(&str, &str)> = database.as_deref().map(|url| ("PREAU_DATABASE_URL", url)).into_iter().collect();
    let exe = std::env::current_exe()?;
    let mut hubs = Vec::new();
    for _ in 0..processes {
        hubs.push(Server::start_with(&exe, &hub_dir, &["--role", "hub"], &env).await?);
    }
    let mut config = Config::load(Some(hub_dir.clone()), |_| None)?;
    config.database_url = database.clone();
    let codes = Links::of(&config).map_err(|e| anyhow::anyhow!("{e}"))?;

    // The evening: every school set up, enrolled and synced once, then its day written.
    let started = Instant::now();
    let evening: Vec<Result<()>> = futures_util::stream::iter(0..args.shape.schools)
        .map(|n| {
            let (codes, hub, dir) =
                (&codes, hubs[n % processes].base.clone(), scratch.path().join(format!("school{n}")));
            async move { evening(args, n, &dir, codes, &hub).await.with_context(|| format!("school {n}")) }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    evening.into_iter().collect::<Result<Vec<()>>>()?;
    out!(
        "  (the evening: {} schools set up, enrolled and synced in {:.0} s)",
        args.shape.schools,
        started.elapsed().as_secs_f64()
    );

    // The night: every school syncs its day.
    let cpu_before: f64 = hubs.iter().map(cpu_seconds).sum::<Result<f64>>()?;
    let started = Instant::now();
    let runs: Vec<Result<(Duration, u64, u64)>> = futures_util::stream::iter(0..args.shape.schools)
        .map(|n| {
            let dir = scratch.path().join(format!("school{n}"));
            async move {
                let state = open_school(&dir)?;
                let t = Instant::now();
                let run = schedule::run_now(&state).await;
                let took = t.elapsed();
                anyhow::ensure!(run.ok, "school {n}'s night sync: {:?}", run.error);
                Ok((took, run.bytes_up as u64, run.docs_up as u64))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let hub_cpu = hubs.iter().map(cpu_seconds).sum::<Result<f64>>()? - cpu_before;
    let (mut syncs, mut bytes_up, mut docs_up) = (Vec::new(), 0, 0);
    for run in runs {
        let (took, bytes, docs) = run?;
        syncs.push(took);
        bytes_up += bytes;
        docs_up += docs;
    }
    let hub_peak = hubs.iter().map(|h| h.memory().map(|(_, hwm)| hwm)).collect::<Result<_>>()?;
    drop(hubs);
    // Nothing lost: every document of every school is on the hub, at the school's heads.
    let hub = match &database {
        Some(url) => preau_sync::Reader::open_postgres(url)?,
        None => preau_sync::Reader::open(&config.replica_path())?,
    };
    let on_hub: std::collections::HashMap<_, _> = hub.catalog()?.into_iter().map(|e| (e.id, e.heads)).collect();
    for n in 0..args.shape.schools {
        let school = preau_sync::Reader::open(&scratch.path().join(format!("school{n}")).join("replica.db"))?;
        let prefix = format!("school/{}", uai(n)?);
        for entry in school.catalog()? {
            if entry.address.partition.to_string().starts_with(&prefix) {
                anyhow::ensure!(
                    on_hub.get(&entry.id) == Some(&entry.heads),
                    "school {n}: {:?} not on the hub",
                    entry.address
                );
            }
        }
    }
    let database = match &database {
        Some(url) => {
            let conn = preau_sync::sql::Conn::open_postgres(url, "preau_links")?;
            conn.query_one("SELECT pg_database_size(current_database())", preau_sync::sql::args![], |r| {
                r.get::<i64>(0)
            })? as u64
        }
        None => std::fs::read_dir(&hub_dir)?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".db"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum(),
    };
    Ok(Night { seconds, syncs, bytes_up, docs_up, hub_cpu, hub_peak, database })
}

/// A school's server in `dir`, as `preau serve` opens it.
fn open_school(dir: &Path) -> Result<AppState> {
    let mut config = Config::load(Some(dir.into()), |_| None)?;
    config.discovery = false;
    config.role = Role::School;
    preau_appliance::app::open(config, false)
}

/// School `n` in `dir`: its directory, its enrolment with `hub` and a first sync, then a
/// school day's work written through the functions the pages use.
async fn evening(args: &Args, n: usize, dir: &Path, codes: &Links, hub: &str) -> Result<()> {
    let e = |e: preau_appliance::platform::error::AppError| anyhow::anyhow!("{e}");
    let uai = uai(n)?;
    let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
    let (docs, school) = memory::accounts_in(&mut rng, args.shape.pupils, args.shape.classes, &format!("École {n}"));
    let state = open_school(dir)?;
    let (at, scope) = (uai.clone(), preau_appliance::school::scope(&uai));
    state
        .db
        .run(move |store| {
            store.set_scope(scope);
            docs.save(store, &at, &SchoolDocs::default())
        })
        .await
        .map_err(e)?;
    state.reload_directory().await.map_err(e)?;
    let code = enrollment::create_code(codes, &format!("École {n}"), &Subject::School(uai.clone())).map_err(e)?;
    enrollment::enrol(&state, hub, &code).await.map_err(|e| anyhow::anyhow!("enrolling: {e}"))?;
    let run = schedule::run_now(&state).await;
    anyhow::ensure!(run.ok, "the evening's sync: {:?}", run.error);

    let dir = state.directory();
    let signed_in = |id| SignedIn::of(&dir, dir.member(id).expect("generated"), false);
    let today = preau_appliance::platform::clock::today();
    for class in &school.classes {
        let teacher = signed_in(&class.teacher);
        let entry = homework::EntryInput {
            subject: "Français".into(),
            assigned_on: today.clone(),
            lesson: "Le passé composé".into(),
            title: "Apprendre la leçon et faire l'exercice 4 page 32".into(),
            due_on: today.clone(),
            ..Default::default()
        };
        homework::save_entry(&state, &teacher, class.id.as_str(), None, entry, Default::default()).await.map_err(e)?;
        let note = liaison::NoteInput {
            title: "Sortie à la médiathèque".into(),
            body: "Chers parents, la classe ira à la médiathèque jeudi matin. Merci de signer ce mot.".into(),
            ask: "signature".into(),
            recipients: Vec::new(),
        };
        liaison::post_note(&state, &teacher, class.id.as_str(), note).await.map_err(e)?;
    }
    let post = news::PostInput {
        place: "school".into(),
        title: "Conseil d'école".into(),
        body: "Le conseil d'école se réunira mardi à 18 h.".into(),
        public: false,
    };
    news::publish(&state, &signed_in(&school.director), post, Default::default()).await.map_err(e)?;
    Ok(())
}

/// A hub process's CPU time so far (user and system), in seconds.
fn cpu_seconds(server: &Server) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.pid()))?;
    // The fields after the command's closing parenthesis: utime and stime are the 12th
    // and 13th (fields 14 and 15 of the whole line), in clock ticks of 1/100 s.
    let after = stat.rsplit_once(')').context("a /proc stat line")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}
