//! `preau`: the school appliance server and its maintenance commands.

mod bench;
mod bench_pages;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use preau_appliance::config::Config;

/// Préau — l'ENT du premier degré qui fonctionne sans internet.
#[derive(Parser)]
#[command(name = "preau", version, about, long_about = None)]
struct Cli {
    /// Data directory (default: $XDG_DATA_HOME/preau, else ~/.local/share/preau; or PREAU_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the school appliance: the ENT on the school's network.
    Serve {
        /// Seed a fictional demo school on first start and print its logins.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (overrides `listen` and PREAU_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Ask a running server whether it is healthy (exit status 0 if so).
    Healthcheck {
        /// Address of the server (default: the configured `listen`, on loopback).
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Import data into the school.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// List the Préau appliances advertised on this network (mDNS).
    Discover {
        /// Seconds to listen.
        #[arg(long, default_value_t = 3)]
        wait: u64,
    },
    /// Print the version, the storage schema and the replication protocol this build speaks.
    Version,
    /// Measure Préau (prints numbers; see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
}

#[derive(Subcommand)]
enum Import {
    /// ONDE extractions (élèves, enseignants, responsables) or simple pupil lists: shows what
    /// would change; `--apply` applies it. Run it while the server is stopped.
    Onde {
        /// CSV files (any order: pupils are imported before teachers and guardians).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// School year, e.g. 2026-2027 (default: the current one).
        #[arg(long)]
        year: Option<String>,
        /// Apply the changes (without it, only the preview is printed).
        #[arg(long)]
        apply: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PREAU_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    match cli.command {
        Some(Command::Serve { demo, listen }) => {
            let mut config = Config::load(cli.data_dir, env)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            tracing::info!(?config, "starting");
            let state = preau_appliance::server::open(config, demo)?;
            tokio::runtime::Runtime::new()?.block_on(preau_appliance::server::run(state))?;
        }
        Some(Command::Healthcheck { addr }) => {
            let config = Config::load(cli.data_dir, env)?;
            let mut addr = addr.unwrap_or(config.listen);
            if addr.ip().is_unspecified() {
                addr.set_ip([127, 0, 0, 1].into());
            }
            healthcheck(addr)?;
            println!("ok");
        }
        Some(Command::Import { what: Import::Onde { files, year, apply } }) => {
            let config = Config::load(cli.data_dir, env)?;
            let ok = import_onde(config, &files, year, apply)?;
            if !ok {
                std::process::exit(1);
            }
        }
        Some(Command::Discover { wait }) => {
            let found = preau_appliance::discovery::browse(Duration::from_secs(wait))?;
            if found.is_empty() {
                println!("Aucun boîtier Préau entendu sur ce réseau.");
            }
            for f in found {
                let addrs: Vec<String> =
                    f.addresses.iter().map(|a| format!("http://{}", SocketAddr::new(*a, f.port))).collect();
                println!("{}\tUAI {}\t{}\t{}", f.name, f.uai, f.host, addrs.join(" "));
            }
        }
        Some(Command::Version) => {
            println!(
                "preau {}\nschema {}\nprotocol {}",
                env!("CARGO_PKG_VERSION"),
                preau_sync::store::SCHEMA_VERSION,
                preau_sync::replication::protocol::PROTOCOL_VERSION
            );
        }
        Some(Command::Bench { what }) => bench::run(what)?,
        None => {
            println!("Préau {} — l'ENT du premier degré qui fonctionne sans internet.", env!("CARGO_PKG_VERSION"));
            println!("`preau serve --demo` lance une école de démonstration ; `preau --help` liste les commandes.");
        }
    }
    Ok(())
}

/// `preau import onde`: the same preview and import as the director's page.
fn import_onde(config: Config, paths: &[PathBuf], year: Option<String>, apply: bool) -> anyhow::Result<bool> {
    use preau_appliance::onde::{self, import};
    let l = preau_appliance::i18n::Locale::default();
    let show = |note: &import::Note| {
        let args: Vec<(&str, &str)> = note.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        l.ta(note.id, &args)
    };
    let year = year.unwrap_or_else(|| import::school_year_of(&preau_appliance::today()));
    if !import::is_school_year(&year) {
        bail!("{}", l.t("import-bad-year"));
    }
    let bar = indicatif::ProgressBar::new(paths.len() as u64 + 1)
        .with_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut files = Vec::new();
    for path in paths {
        bar.set_message(path.display().to_string());
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        files.push((name, bytes));
        bar.inc(1);
    }
    let report_errors = |errors: &[import::ImportError]| {
        eprintln!("{}", l.t("import-refused"));
        for e in errors {
            let place = if e.line == 0 {
                e.file.clone()
            } else {
                l.ta("import-place", &[("file", &e.file), ("line", &e.line.to_string())])
            };
            eprintln!("  {place} : {}", show(&e.note));
        }
    };
    let parsed = match onde::parse_files(&files) {
        Ok(p) => p,
        Err(errors) => {
            bar.finish_and_clear();
            report_errors(&errors);
            return Ok(false);
        }
    };
    let state = preau_appliance::server::open(config, false)?;
    let Some(uai) = state.directory().uai().cloned() else {
        bar.finish_and_clear();
        bail!("no school yet: run `preau serve` and complete the setup page first");
    };
    bar.set_message(if apply { "import" } else { "aperçu" });
    let outcome = state
        .db
        .run_blocking(|store| onde::run(store, &uai, &parsed, &year, apply))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    match outcome {
        Ok(summary) => {
            println!("{}", l.t(if apply { "import-result" } else { "import-preview" }));
            for (title, notes) in [("import-created", &summary.created), ("import-updated", &summary.updated)] {
                println!("{} {}", l.t(title), notes.len());
                for note in notes {
                    println!("  {}", show(note));
                }
            }
            println!("{} {}", l.t("import-unchanged"), summary.unchanged);
            if !apply && !summary.is_empty() {
                println!("(--apply pour importer)");
            }
            Ok(true)
        }
        Err(errors) => {
            report_errors(&errors);
            Ok(false)
        }
    }
}

/// `GET /healthz` over plain HTTP/1.0 on loopback: a few lines, no HTTP client needed.
fn healthcheck(addr: SocketAddr) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("no server answers at {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.take(64 * 1024).read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("unhealthy: {status}: {}", response.split("\r\n\r\n").nth(1).unwrap_or("").trim());
    }
    Ok(())
}
