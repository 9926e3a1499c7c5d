//! `preau`: the school appliance server and its maintenance commands.

mod cli;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use preau_appliance::out;
use preau_appliance::platform::config::Config;
use preau_appliance::platform::i18n::Locale;

/// Préau — the primary school ENT that works without internet.
#[derive(Parser)]
#[command(
    name = "preau",
    version,
    about,
    long_about = None,
    after_help = "What the commands print speaks the language of LC_ALL, LC_MESSAGES or LANG: English when it \
                  starts with \"en\", else French. This help is in English."
)]
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
        /// What to run: a school's appliance (default) or the academy hub (overrides `role`).
        #[arg(long, value_enum)]
        role: Option<preau_appliance::platform::config::Role>,
    },
    /// Link this appliance to the academy hub (or a teacher's device to its school's appliance).
    Enroll {
        /// The server's address, e.g. https://preau.ac-rennes.fr
        #[arg(long)]
        hub: String,
        /// The one-time enrolment code it gave.
        #[arg(long)]
        code: String,
    },
    /// Synchronise with the hub.
    Sync {
        #[command(subcommand)]
        what: SyncCommand,
    },
    /// The academy hub's administration.
    Hub {
        #[command(subcommand)]
        what: HubCommand,
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
        what: cli::bench::Bench,
    },
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Run one synchronisation now, with a progress bar (through the running server if
    /// there is one, else directly).
    Now {
        /// Address of the running server (default: the configured `listen`, on loopback).
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Print the last synchronisations.
    Status,
}

#[derive(Subcommand)]
enum HubCommand {
    /// Create a one-time enrolment code for a school.
    Code {
        /// The school's UAI.
        #[arg(long)]
        uai: String,
        /// The school's name, to recognise it in the list.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke an enrolled replica: refused from its next sync on.
    Revoke {
        /// The replica id (see `preau hub list`).
        replica: String,
    },
    /// List the enrolled replicas.
    List,
    /// Replace the administrator's password (prints the new one).
    ResetPassword,
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

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PREAU_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let l = Locale::from_env();
    match run(cli, l) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Our words first, then the causes below them (the system's, in its language).
            eprintln!("{}", l.ta("cli-error", &[("error", &e.to_string())]));
            for cause in e.chain().skip(1) {
                eprintln!("  {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the command; what it prints speaks `l`.
fn run(cli: Cli, l: Locale) -> anyhow::Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    match cli.command {
        Some(Command::Serve { demo, listen, role }) => {
            let mut config = Config::load(cli.data_dir, env)?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            if let Some(role) = role {
                config.role = role;
            }
            tracing::info!(?config, "starting");
            let state = preau_appliance::app::open(config, demo)?;
            tokio::runtime::Runtime::new()?.block_on(preau_appliance::app::run(state))?;
        }
        Some(Command::Healthcheck { addr }) => {
            let config = Config::load(cli.data_dir, env)?;
            let mut addr = addr.unwrap_or(config.listen);
            if addr.ip().is_unspecified() {
                addr.set_ip([127, 0, 0, 1].into());
            }
            healthcheck(l, addr)?;
            out!("{}", l.t("cli-healthy"));
        }
        Some(Command::Import { what: Import::Onde { files, year, apply } }) => {
            let config = Config::load(cli.data_dir, env)?;
            let ok = import_onde(l, config, &files, year, apply)?;
            if !ok {
                std::process::exit(1);
            }
        }
        Some(Command::Discover { wait }) => {
            let found = preau_appliance::platform::discovery::browse(Duration::from_secs(wait))?;
            if found.is_empty() {
                out!("{}", l.t("cli-discover-none"));
            }
            for f in found {
                let addrs: Vec<String> =
                    f.addresses.iter().map(|a| format!("http://{}", SocketAddr::new(*a, f.port))).collect();
                out!("{}\tUAI {}\t{}\t{}", f.name, f.uai, f.host, addrs.join(" "));
            }
        }
        Some(Command::Version) => {
            out!(
                "preau {}\nschema {}\nprotocol {}",
                env!("CARGO_PKG_VERSION"),
                preau_sync::store::SCHEMA_VERSION,
                preau_sync::replication::protocol::PROTOCOL_VERSION
            );
        }
        Some(Command::Bench { what }) => cli::bench::run(what)?,
        Some(Command::Enroll { hub, code }) => {
            let config = Config::load(cli.data_dir, env)?;
            let state = preau_appliance::app::open(config, false)?;
            let link = tokio::runtime::Runtime::new()?
                .block_on(preau_appliance::replication::enrollment::enrol(&state, &hub, &code))
                .map_err(|e| {
                    tracing::info!(error = %e, "enrolment failed");
                    anyhow::anyhow!(e.message(l))
                })?;
            let until = link
                .chain
                .leaf()
                .map(|g| preau_appliance::platform::clock::date_of_ms(g.not_after as i64))
                .unwrap_or_default();
            out!("{}", l.ta("cli-enrolled", &[("url", &link.url), ("date", &l.date(&until))]));
        }
        Some(Command::Sync { what: SyncCommand::Now { addr } }) => {
            let config = Config::load(cli.data_dir, env)?;
            let ok = tokio::runtime::Runtime::new()?.block_on(cli::sync::now(l, config, addr))?;
            if !ok {
                std::process::exit(1);
            }
        }
        Some(Command::Sync { what: SyncCommand::Status }) => {
            let config = Config::load(cli.data_dir, env)?;
            let links = preau_appliance::replication::Links::of(&config)?;
            for run in links.runs(20)? {
                let columns = [
                    preau_appliance::replication::status::ago(l, run.ended_at),
                    l.t(if run.ok { "sync-run-ok" } else { "sync-run-failed" }),
                    l.ta("cli-sync-docs", &[("up", &run.docs_up.to_string()), ("down", &run.docs_down.to_string())]),
                    l.ta("cli-sync-files", &[("up", &run.files_up.to_string()), ("down", &run.files_down.to_string())]),
                    l.ta("cli-sync-bytes", &[("n", &(run.bytes_up + run.bytes_down).to_string())]),
                    run.error.unwrap_or_default(),
                ];
                out!("{}", columns.join("\t"));
            }
        }
        Some(Command::Hub { what }) => {
            let config = Config::load(cli.data_dir, env)?;
            std::fs::create_dir_all(&config.data_dir)?;
            let links = preau_appliance::replication::Links::of(&config)?;
            hub_command(l, &links, what)?;
        }
        None => {
            out!("{}", l.ta("cli-tagline", &[("version", env!("CARGO_PKG_VERSION"))]));
            out!("{}", l.t("cli-hint"));
        }
    }
    Ok(())
}

fn hub_command(l: Locale, links: &preau_appliance::replication::Links, what: HubCommand) -> anyhow::Result<()> {
    use preau_appliance::replication::enrollment::{Subject, create_code};
    match what {
        HubCommand::Code { uai, name } => {
            let uai = preau_sync::Uai::parse(uai.trim())
                .map_err(|_| anyhow::anyhow!(l.ta("cli-hub-bad-uai", &[("uai", &uai)])))?;
            let label = if name.trim().is_empty() { uai.to_string() } else { format!("{} ({uai})", name.trim()) };
            let code = create_code(links, &label, &Subject::School(uai))?;
            out!("{code}");
        }
        HubCommand::Revoke { replica } => {
            let id =
                replica.parse().map_err(|_| anyhow::anyhow!(l.ta("cli-hub-bad-replica", &[("replica", &replica)])))?;
            if !links.revoke(id)? {
                bail!(l.ta("cli-hub-no-replica", &[("replica", &replica)]));
            }
            out!("{}", l.ta("cli-hub-revoked", &[("replica", &replica)]));
        }
        HubCommand::List => {
            for e in links.all_enrolled()? {
                let state = l.t(if e.revoked_at.is_some() { "cli-hub-revoked-state" } else { "cli-hub-active" });
                out!("{}\t{}\t{}\t{state}", e.replica, e.subject, e.label);
            }
        }
        HubCommand::ResetPassword => {
            let password = preau_appliance::replication::status::new_admin_password(links)?;
            out!("{password}");
        }
    }
    Ok(())
}

/// `preau import onde`: the same preview and import as the director's page.
fn import_onde(
    l: Locale,
    config: Config,
    paths: &[PathBuf],
    year: Option<String>,
    apply: bool,
) -> anyhow::Result<bool> {
    use preau_appliance::school::onde::{self, import};
    let show = |note: &import::Note| {
        let args: Vec<(&str, &str)> = note.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        l.ta(note.id, &args)
    };
    let year = year.unwrap_or_else(|| import::school_year_of(&preau_appliance::platform::clock::today()));
    if !import::is_school_year(&year) {
        bail!("{}", l.t("import-bad-year"));
    }
    let bar = indicatif::ProgressBar::new(paths.len() as u64 + 1)
        .with_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut files = Vec::new();
    for path in paths {
        bar.set_message(path.display().to_string());
        let bytes =
            std::fs::read(path).with_context(|| l.ta("cli-reading", &[("file", &path.display().to_string())]))?;
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
            eprintln!("  {}", l.ta("cli-import-line", &[("place", &place), ("note", &show(&e.note))]));
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
    let state = preau_appliance::app::open(config, false)?;
    let Some(uai) = state.directory().uai().cloned() else {
        bar.finish_and_clear();
        bail!(l.t("cli-no-school"));
    };
    bar.set_message(l.t(if apply { "cli-import-step-apply" } else { "cli-import-step-preview" }));
    let outcome = state
        .db
        .run_blocking(|store| onde::run(store, &uai, &parsed, &year, apply))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    match outcome {
        Ok(summary) => {
            out!("{}", l.t(if apply { "import-result" } else { "import-preview" }));
            for (title, notes) in [("import-created", &summary.created), ("import-updated", &summary.updated)] {
                out!("{} {}", l.t(title), notes.len());
                for note in notes {
                    out!("  {}", show(note));
                }
            }
            out!("{} {}", l.t("import-unchanged"), summary.unchanged);
            if !apply && !summary.is_empty() {
                out!("{}", l.t("cli-import-apply-hint"));
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
fn healthcheck(l: Locale, addr: SocketAddr) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| l.ta("cli-no-answer", &[("addr", &addr.to_string())]))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.take(64 * 1024).read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        let detail = response.split("\r\n\r\n").nth(1).unwrap_or("").trim();
        bail!(l.ta("cli-unhealthy", &[("status", status), ("detail", detail)]));
    }
    Ok(())
}
