//! `preau`: the school appliance server and its maintenance commands.

mod bench;
// The import flow wiring the parser to the store comes later.

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
    /// Print the version, the storage schema and the replication protocol this build speaks.
    Version,
    /// Measure Préau (prints numbers; see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
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
