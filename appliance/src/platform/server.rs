//! `preau serve`: opens the data directory, seeds the demo school when asked, binds, prints
//! the addresses, serves until SIGINT/SIGTERM.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::platform::config::{Config, Secrets};
use crate::platform::db::Db;
use crate::web::AppState;

/// Opens everything under the data directory (creating it, private, on first start); with
/// `demo`, first seeds the demo school if the replica has none and prints its logins.
pub fn open(config: Config, demo: bool) -> anyhow::Result<AppState> {
    crate::replication::client::install_tls();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let secrets = Secrets::load_or_create(&config.data_dir)?;
    let db = Db::open(&config.replica_path(), preau_sync::Scope::default())
        .with_context(|| format!("opening {}", config.replica_path().display()))?;
    if demo && config.role == crate::platform::config::Role::School {
        seed_demo(&db)?;
    }
    let state = AppState::new(config, db, secrets.session_key()?).map_err(|e| anyhow::anyhow!("{e}"))?;
    if state.config.role == crate::platform::config::Role::Hub && state.replication.links.admin_hash()?.is_none() {
        let password = crate::replication::status::new_admin_password(&state.replication.links)?;
        out!("Hub académique : mot de passe de l'administrateur (affiché une seule fois) : {password}");
    }
    Ok(state)
}

fn seed_demo(db: &Db) -> anyhow::Result<()> {
    let Some(logins) = db.run_blocking(crate::school::demo::seed).map_err(|e| anyhow::anyhow!("{e}"))? else {
        return Ok(());
    };
    let l = crate::platform::i18n::Locale::default();
    out!("École de démonstration créée : {}", logins.school);
    out!("Comptes de démonstration (mot de passe : {}) :", crate::school::demo::DEMO_PASSWORD);
    for (label, login) in &logins.accounts {
        out!("  {label:<28} {login}");
    }
    let (first, class, _, pictures) = &logins.pupil;
    let pictures: Vec<String> = pictures.split(',').map(|p| l.t(&format!("picture-{p}"))).collect();
    out!(
        "  Élève : {first} ({class}) — sur une tablette de la classe (son enseignant la prépare depuis la page \
         de la classe), son prénom, puis : {}",
        pictures.join(", ")
    );
    Ok(())
}

/// Binds, prints where to connect, and serves until a shutdown signal.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let listener = TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("listening on {}", state.config.listen))?;
    let local = listener.local_addr()?;
    state.set_bound(local);
    // Advertise before printing: the printed addresses mean "ready".
    state.refresh_discovery();
    print_addresses(&state, local);
    tracing::info!(%local, role = ?state.config.role, "serving");
    tokio::spawn(crate::replication::schedule::run(state.clone()));
    tokio::spawn(crate::replication::schedule::housekeeping(state.clone()));
    crate::web::serve(listener, state.clone(), shutdown_signal()).await?;
    state.stop_discovery();
    tracing::info!("stopped");
    Ok(())
}

/// Prints where to connect. Write errors are ignored: a closed stdout (a service manager,
/// a parent that stopped reading) must not stop the server.
fn print_addresses(state: &AppState, local: SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Préau est prêt. Ouvrez dans un navigateur :");
    let urls = lan_urls(local);
    for url in urls.iter().chain(&state.config.public_url) {
        let _ = writeln!(out, "  {url}");
    }
    if let Some(first) = urls.iter().find(|u| !u.contains("127.0.0.1")) {
        let _ = writeln!(out, "{}", crate::platform::qr::terminal(first));
    }
    let _ = out.flush();
}

/// The addresses the server is reachable at: each LAN address when listening on all of
/// them, else the one it listens on.
pub fn lan_urls(local: SocketAddr) -> Vec<String> {
    let port = local.port();
    let ips: Vec<IpAddr> = if local.ip().is_unspecified() {
        let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.ip())
            .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
            .collect();
        ips.sort();
        ips.push(IpAddr::from([127, 0, 0, 1]));
        ips
    } else {
        vec![local.ip()]
    };
    ips.into_iter().map(|ip| format!("http://{}", SocketAddr::new(ip, port))).collect()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received: finishing requests in flight");
}
