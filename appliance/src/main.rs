//! `preau`: the school appliance and academy hub server, and its maintenance commands.

mod bench;
// The import flow wiring the parser to the store comes later.
#[allow(dead_code)]
mod onde;

use clap::{Parser, Subcommand};

/// Préau — l'ENT du premier degré qui fonctionne sans internet.
#[derive(Parser)]
#[command(name = "preau", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("PREAU_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
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
            println!("Le serveur de l'école arrive avec la prochaine version ; `preau --help` liste les commandes.");
        }
    }
    Ok(())
}
