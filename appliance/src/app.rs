//! The composition root: the one place that lists the school's parts and the services,
//! merges their pages and APIs, gathers the rules of their document kinds and what they keep
//! in memory, and builds and runs the server. Adding a service adds one line to
//! [`SERVICES`] (see ARCHITECTURE.md, « Adding a service »).

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use tokio::net::TcpListener;

use crate::platform::config::{Config, Keys, Role, Secrets};
use crate::platform::db::Db;
use crate::platform::error::AppError;
use crate::platform::i18n::Locale;
use crate::replication::Replication;
use crate::school::directory::Directory;
use crate::school::rule::Rules;
use crate::web::service::{Service, Services};
use crate::web::{self, AppState, PageNote, Parts, Routes};
use crate::{academy, notify, replication, school, services};

/// Every part of a school appliance, in the order of their tiles on a home page.
pub const SERVICES: &[&Service] = &[
    &school::setup::SERVICE,
    &school::portal::SERVICE,
    &school::accounts::SERVICE,
    &school::family::SERVICE,
    &notify::SERVICE,
    &school::admin::SERVICE,
    &school::structures::SERVICE,
    &school::onde::SERVICE,
    &replication::status::SERVICE,
    &academy::SERVICE,
    &academy::COVERAGE,
    &school::home::SERVICE,
    &services::homework::SERVICE,
    &services::liaison::SERVICE,
    &services::news::SERVICE,
    &services::agenda::SERVICE,
    &services::messaging::SERVICE,
    &services::commune::SERVICE,
];

/// The services a server of this role serves (`Service::served_by`).
pub fn served(role: Role) -> Vec<&'static Service> {
    SERVICES.iter().copied().filter(|s| s.served_by.by(role)).collect()
}

/// Every page and endpoint of a server of this role but the JSON API (whose routes its
/// OpenAPI document lists). The hub adds its administrator's pages.
pub fn routes(role: Role) -> Routes {
    let base = Routes::new().get("/healthz", web::healthz).merge(web::assets::routes());
    let base = match role {
        Role::Hub => base.merge(replication::status::hub_routes()),
        Role::Device => base.merge(replication::device::routes()),
        Role::School => base,
    };
    // Each service's pages count their visits (`web::usage`), under the service's name.
    served(role)
        .iter()
        .fold(base, |routes, s| {
            let name = s.name;
            let counted =
                middleware::from_fn(move |request: Request, next: Next| web::usage::visits(name, request, next));
            routes.merge((s.pages)().layer(counted))
        })
        .merge(replication::endpoints::routes())
}

/// The JSON API of the services a server of this role serves, and its OpenAPI document.
pub fn api(role: Role) -> Router<AppState> {
    let services = served(role);
    let routes = services.iter().fold(utoipa_axum::router::OpenApiRouter::new(), |api, s| api.merge((s.api)()));
    let tags: Vec<_> = services.iter().flat_map(|s| s.tags.iter().copied()).collect();
    web::api::router(routes, &tags)
}

/// Every kind's rule, from the services that own them.
pub fn rules() -> Rules {
    Rules::new(SERVICES.iter().flat_map(|s| s.rules))
}

/// The whole application, without a socket (tests call it with `oneshot`).
pub fn router(state: AppState) -> Router {
    web::assets::prepare();
    let role = state.config.role;
    let routes = routes(role).into_router().merge(api(role)).fallback(web::not_found);
    // The hub has no first run: it holds the schools its appliances bring.
    let routes = match role {
        Role::Hub => routes,
        Role::School | Role::Device => routes.layer(middleware::from_fn_with_state(state.clone(), first_run)),
    };
    let routes = routes
        .layer(middleware::from_fn_with_state(state.clone(), web::session::layer))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_upload_bytes));
    // The desktop app's teacher mode: nobody but its window, signed in as the computer's
    // teacher (inside `edge`, so that a refusal carries the security headers too).
    let routes = match state.config.window_key.clone() {
        Some(key) => {
            let window = web::window::Window { key, owner: replication::device::owner };
            routes.layer(middleware::from_fn_with_state((state.clone(), window), web::window::only_the_window))
        }
        None => routes,
    };
    let routes = routes
        .layer(web::compression())
        // Outside everything that may replace an answer, so that every answer has its headers.
        .layer(middleware::from_fn_with_state((state.clone(), replication::PREFIX), web::edge))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state.clone());
    // Outside the router: it changes the path the routes are chosen by.
    Router::new().fallback_service(routes).layer(middleware::from_fn_with_state(state, web::schools::by_address))
}

/// The server's state over an opened replica: the directory snapshot, the replica's scope,
/// replication, and what each service keeps in memory.
pub fn state(config: Config, db: Db, session_key: [u8; 32]) -> Result<AppState, AppError> {
    // The hub holds every school: no one directory is its own.
    let directory = match config.role {
        Role::Hub => Directory::default(),
        Role::School | Role::Device => db.read(Directory::load)?,
    };
    let identity = db.run_blocking(|store| Ok(store.identity().clone()))?;
    let records = crate::platform::records::Records::open(&config)?;
    // Every process of a hub signs its forms and links with one key: the first one's.
    let session_key = if records.shared() { records.secret("session", session_key)? } else { session_key };
    let replication = Replication::open(&config, records.clone(), identity)?;
    let granted = replication.links.hub().and_then(|h| h.chain.leaf().map(|g| g.scope.clone()));
    // A teacher's computer holds what its certificate grants, whatever it holds now; so does
    // an appliance enrolled before its school arrived here. An appliance holds its school's
    // partitions and those of the communes its certificate grants.
    let scope = match (config.role, directory.uai()) {
        (Role::Hub, _) => Some(preau_sync::Scope::all()),
        (Role::School, Some(uai)) => {
            Some(school::scope_with_communes(uai, granted.as_ref().map(school::granted_communes).unwrap_or_default()))
        }
        (Role::School | Role::Device, _) => granted,
    };
    if let Some(scope) = scope {
        db.run_blocking(|store| {
            store.set_scope(scope);
            Ok(())
        })?;
    }
    let mut parts = Parts::default();
    parts.insert(replication);
    parts.insert(rules());
    parts.insert(Services(served(config.role)));
    parts.insert(PageNote(replication::status::footer_note));
    parts.insert(web::SchoollessSession(academy::accounts::session_alive));
    parts.insert(web::BeforeSync(academy::usage::before_sync));
    for service in SERVICES {
        (service.parts)(&mut parts);
    }
    // The hub tells people by e-mail, when its `[mail]` names a server.
    if config.role == Role::Hub
        && let Some(notifier) = notify::Notifier::from_config(&config.mail).map_err(AppError::Internal)?
    {
        parts.insert(notifier);
    }
    AppState::new(config, db, records, session_key, directory, parts)
}

/// Opens everything under the data directory (creating it, private, on first start); with
/// `demo`, first seeds the demo school if the replica has none and prints its logins. What
/// it prints, and its errors, speak the command line's language ([`Locale::from_env`]).
pub fn open(config: Config, demo: bool) -> anyhow::Result<AppState> {
    open_with(config, demo, None)
}

/// As [`open`], the server's secrets being `keys` when given (the desktop app keeps them in
/// the operating system's keyring) rather than in the data directory.
pub fn open_with(config: Config, demo: bool, keys: Option<&Keys>) -> anyhow::Result<AppState> {
    replication::client::install_tls();
    let l = Locale::from_env();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| l.ta("cli-creating-data-dir", &[("dir", &config.data_dir.display().to_string())]))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    // A hub does not start on `[mail]` settings it half understands: said before anything opens.
    if config.role == Role::Hub
        && let Err(error) = notify::Notifier::from_config(&config.mail)
    {
        anyhow::bail!(l.ta("cli-bad-mail", &[("error", &error)]));
    }
    if config.role == Role::Device && config.window_key.is_none() {
        anyhow::bail!("a teacher's computer serves only the desktop app's window: no window key");
    }
    let session_key = match keys {
        Some(keys) => keys.session,
        None => Secrets::load_or_create(&config.data_dir)?.session_key()?,
    };
    let db = match &config.database_url {
        // A school's replica stays beside it, in SQLite: its own, offline.
        Some(_) if config.role != Role::Hub => anyhow::bail!(l.t("cli-database-hub-only")),
        Some(url) => Db::open_postgres(url, preau_sync::Scope::default())
            .with_context(|| l.ta("cli-opening", &[("file", &l.t("cli-postgres-database"))]))?,
        None => Db::open_with_key(&config.replica_path(), preau_sync::Scope::default(), keys.map(|k| k.replica))
            .with_context(|| l.ta("cli-opening", &[("file", &config.replica_path().display().to_string())]))?,
    };
    if demo && config.role == Role::School {
        school::demo::seed_and_print(&db, l)?;
    }
    let state = state(config, db, session_key).map_err(|e| anyhow::anyhow!("{e}"))?;
    let links = &state.part::<Replication>().links;
    if state.config.role == Role::Hub
        && let Some(password) = replication::status::first_admin_password(links)?
    {
        out!("{}", l.ta("cli-hub-password", &[("password", &password)]));
    }
    Ok(state)
}

/// Binds, prints where to connect (in the command line's language), and serves until a
/// shutdown signal.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let l = Locale::from_env();
    let listener = TcpListener::bind(state.config.listen)
        .await
        .with_context(|| l.ta("cli-listening", &[("addr", &state.config.listen.to_string())]))?;
    let local = listener.local_addr()?;
    run_on(
        listener,
        state.clone(),
        || {
            crate::platform::server::print_addresses(l, local, state.config.public_url.as_deref());
        },
        crate::platform::server::shutdown_signal(),
    )
    .await
}

/// Serves on `listener` until `shutdown` resolves, with everything a running server does
/// beside its pages: the mDNS announcement (before `ready`, so that "ready" means found),
/// the sync schedule and the housekeeping. `preau serve` and the desktop app both run so.
pub async fn run_on(
    listener: TcpListener,
    state: AppState,
    ready: impl FnOnce(),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    state.set_bound(local);
    state.refresh_discovery();
    ready();
    tracing::info!(%local, role = ?state.config.role, "serving");
    tokio::spawn(replication::schedule::run(state.clone()));
    tokio::spawn(replication::schedule::housekeeping(state.clone()));
    if state.try_part::<notify::Notifier>().is_some() {
        tokio::spawn(notify::run(state.clone()));
    }
    tokio::spawn(academy::usage::run(state.clone()));
    let served = serve(listener, state.clone(), shutdown).await;
    state.stop_discovery();
    if let Err(e) = academy::usage::flush(&state).await {
        tracing::error!(error = %e, "writing the usage counts at stop");
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Serves the application on an already bound listener until `shutdown` resolves: HTTPS
/// when the configuration names a certificate and key, else HTTP.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = match (&state.config.tls_cert, &state.config.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => None,
    };
    crate::platform::server::serve(listener, router(state), tls, shutdown).await
}

/// Before the first run is over, only its page (and what it needs) is reachable: an
/// appliance's setup, which creates the school; a teacher's computer's join, which enrols
/// it and brings her classes (`replication::join`).
async fn first_run(state: AppState, request: Request, next: Next) -> Response {
    let (door, api) = match state.config.role {
        Role::Device => (replication::device::PATH, None),
        _ => ("/setup", Some("/api/v1/setup")),
    };
    let path = request.uri().path();
    let open = path.starts_with(door)
        || path == "/healthz"
        || path.starts_with(replication::PREFIX)
        || path.starts_with("/static/")
        || Some(path) == api
        || path == "/api/v1/openapi.json";
    if state.directory().school.is_none() && !open {
        if path.starts_with("/api/") {
            return web::api::error_response(&AppError::bad("setup-required", "no school yet"), Vec::new());
        }
        return Redirect::to(door).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use preau_sync::Kind;

    /// Every kind of document has its rule from exactly one service, but the school's
    /// directory and credentials, which the school's own pages guard (see ARCHITECTURE.md).
    /// A kind without a service would have every peer's change to it refused.
    #[test]
    fn every_kind_has_one_rule() {
        let rules = super::rules();
        for kind in Kind::ALL {
            assert_eq!(rules.of(kind).is_some(), !kind.read_by_policies(), "{kind}");
        }
    }

    /// Service names are unique: they name the services in logs and tests.
    #[test]
    fn services_are_listed_once() {
        let mut names: Vec<_> = super::SERVICES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), super::SERVICES.len());
    }
}
