//! Préau on a teacher's laptop (the desktop app): a thin Tauri shell around the
//! appliance's library, which serves the same pages as the school's appliance.
//!
//! In teacher mode the app runs a teacher's computer (`Role::Device`): its own replica in
//! the application-data directory, served on 127.0.0.1 to the app's window only (a key
//! drawn at each launch, `preau_appliance::web::window`). The window opens on a start page
//! bundled with the app, which asks [`start`] for the server and goes there; the first run
//! joins her school (`/join`), and afterwards the server syncs by itself. The secrets stay
//! in the operating system's keyring ([`secrets`]).
//!
//! Everything a teacher reads or does is in `preau-appliance`; this crate holds the
//! window, the keyring and the start.

pub mod secrets;

use std::path::PathBuf;

use preau_appliance::platform::config::{Config, Keys, Role, WindowKey};
use preau_appliance::platform::i18n::Locale;
use preau_appliance::web::AppState;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};

use secrets::{Held, Keyring, Missing};

/// Overrides the application-data directory (tests, and a second profile on one account).
pub const DATA_DIR_VARIABLE: &str = "PREAU_DESKTOP_DATA_DIR";
/// Appends the app's log to this file rather than standard error (which a desktop's
/// launcher, or WebKitWebDriver in the tests, throws away).
pub const LOG_VARIABLE: &str = "PREAU_DESKTOP_LOG";
/// Minutes between two syncs while the school answers: a quiet sync costs a few hundred
/// bytes, and a laptop meets its school only in the hours it is there.
const SYNC_MINUTES: u64 = 5;

/// The app's state (managed by Tauri).
pub struct Desktop {
    keyring: Box<dyn Keyring>,
    data_dir: Option<PathBuf>,
    serving: tokio::sync::Mutex<Option<Serving>>,
}

/// The embedded server, once started.
struct Serving {
    url: String,
    // Kept for the app's lifetime: the server, its sync schedule and housekeeping use it.
    _state: AppState,
}

impl Desktop {
    /// With the operating system's keyring, in `data_dir` (else the platform's
    /// application-data directory, or [`DATA_DIR_VARIABLE`]).
    pub fn new(keyring: Box<dyn Keyring>, data_dir: Option<PathBuf>) -> Self {
        Self { keyring, data_dir, serving: tokio::sync::Mutex::new(None) }
    }
}

/// What the start page does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "next", rename_all = "kebab-case")]
pub enum Next {
    /// Go to the app's pages (the window's launch address).
    Open {
        /// `http://127.0.0.1:<port>/launch?key=…`
        url: String,
    },
    /// Ask the teacher whether to keep the secrets in files (there is no keyring).
    Ask {
        /// The question, in her language.
        question: String,
        /// The button that agrees.
        agree: String,
        /// The button that quits.
        quit: String,
    },
}

/// Starts the server (once) and says where the window goes; or what to ask first.
#[tauri::command]
async fn start<R: Runtime>(app: AppHandle<R>, desktop: State<'_, Desktop>) -> Result<Next, String> {
    let l = Locale::from_env();
    let dir = data_dir(&app, &desktop)?;
    let mut serving = desktop.serving.lock().await;
    if let Some(s) = serving.as_ref() {
        return Ok(Next::Open { url: s.url.clone() });
    }
    let keys = match secrets::secrets(desktop.keyring.as_ref(), &dir) {
        Ok(Held::Keyring(keys)) => Some(keys),
        Ok(Held::Files) => None,
        Err(Missing::AskForFiles(detail)) => {
            tracing::warn!(%detail, "no keyring");
            return Ok(Next::Ask {
                question: l.t("desktop-no-keyring"),
                agree: l.t("desktop-no-keyring-agree"),
                quit: l.t("desktop-quit"),
            });
        }
        Err(Missing::KeyringClosed(detail)) => {
            tracing::error!(%detail, "the keyring holding this computer's secrets does not answer");
            return Err(l.t("desktop-keyring-closed"));
        }
        Err(Missing::Lost) => {
            tracing::error!(dir = %dir.display(), "the keyring no longer holds this computer's secrets");
            return Err(l.ta("desktop-keys-lost", &[("dir", &dir.display().to_string())]));
        }
    };
    let started = serve(dir, keys).await.map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "starting the server");
        l.ta("desktop-start-failed", &[("detail", &format!("{e:#}"))])
    })?;
    let url = started.url.clone();
    *serving = Some(started);
    Ok(Next::Open { url })
}

/// The teacher agreed to keep the secrets in files (no keyring): start so.
#[tauri::command]
async fn keep_secrets_in_files<R: Runtime>(app: AppHandle<R>, desktop: State<'_, Desktop>) -> Result<Next, String> {
    let dir = data_dir(&app, &desktop)?;
    secrets::agree_to_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "the teacher agreed to keep the secrets in files");
    start(app, desktop).await
}

fn data_dir<R: Runtime>(app: &AppHandle<R>, desktop: &Desktop) -> Result<PathBuf, String> {
    if let Some(dir) = &desktop.data_dir {
        return Ok(dir.clone());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_VARIABLE).filter(|v| !v.is_empty()) {
        return Ok(dir.into());
    }
    app.path().app_data_dir().map_err(|e| e.to_string())
}

/// Opens the teacher's replica and serves it on a free loopback port, with its sync
/// schedule and housekeeping.
async fn serve(dir: PathBuf, keys: Option<Keys>) -> anyhow::Result<Serving> {
    let mut config = Config::load(Some(dir), |_| None)?;
    config.role = Role::Device;
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.sync_interval_minutes = SYNC_MINUTES;
    // A laptop sleeps at night: no nightly window.
    config.sync_window = String::new();
    let key = WindowKey::random();
    config.window_key = Some(key.clone());
    let state =
        tauri::async_runtime::spawn_blocking(move || preau_appliance::app::open_with(config, false, keys.as_ref()))
            .await??;
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    let addr = listener.local_addr()?;
    state.set_bound(addr);
    let server = state.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = preau_appliance::app::serve(listener, server, std::future::pending()).await {
            tracing::error!(error = %e, "the embedded server stopped");
        }
    });
    tauri::async_runtime::spawn(preau_appliance::replication::schedule::run(state.clone()));
    tauri::async_runtime::spawn(preau_appliance::replication::schedule::housekeeping(state.clone()));
    tracing::info!(%addr, "serving the app's window");
    Ok(Serving { url: preau_appliance::web::window::launch_url(addr, &key), _state: state })
}

/// The app's commands and state on a builder (the real one, or Tauri's mock in tests).
pub fn app<R: Runtime>(builder: tauri::Builder<R>, desktop: Desktop) -> tauri::Builder<R> {
    builder.manage(desktop).invoke_handler(tauri::generate_handler![start, keep_secrets_in_files])
}

/// Runs the app until its window closes.
pub fn run() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PREAU_LOG").unwrap_or_else(|_| "info".into());
    let log = std::env::var_os(LOG_VARIABLE)
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    match log {
        Some(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init(),
        None => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }
    let desktop = Desktop::new(Box::new(secrets::OsKeyring), None);
    let app = app(tauri::Builder::default(), desktop).build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            tracing::error!(error = %e, "the app could not start");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secrets::tests::{MemoryKeyring, NoKeyring};
    use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};

    /// Calls a command as the start page does, on Tauri's mock runtime.
    fn invoke(desktop: Desktop, commands: &[&str]) -> Vec<Result<Next, String>> {
        let app = app(mock_builder(), desktop).build(mock_context(noop_assets())).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        commands
            .iter()
            .map(|cmd| {
                get_ipc_response(
                    &webview,
                    tauri::webview::InvokeRequest {
                        cmd: (*cmd).into(),
                        callback: tauri::ipc::CallbackFn(0),
                        error: tauri::ipc::CallbackFn(1),
                        url: "tauri://localhost".parse().unwrap(),
                        body: tauri::ipc::InvokeBody::default(),
                        headers: Default::default(),
                        invoke_key: INVOKE_KEY.to_string(),
                    },
                )
                .map(|body| body.deserialize::<Next>().unwrap())
                .map_err(|e| e.as_str().unwrap_or_default().to_owned())
            })
            .collect()
    }

    fn loopback_launch(next: &Result<Next, String>) -> String {
        match next {
            Ok(Next::Open { url }) => {
                assert!(url.starts_with("http://127.0.0.1:") && url.contains("/launch?key="), "{url}");
                url.clone()
            }
            other => panic!("expected the window's address, got {other:?}"),
        }
    }

    #[test]
    fn the_first_start_serves_the_window_on_loopback_with_the_keys_in_the_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryKeyring::default());
        let shared = SharedKeyring(keyring.clone());
        let answers = invoke(Desktop::new(Box::new(shared), Some(dir.path().into())), &["start", "start"]);
        let url = loopback_launch(&answers[0]);
        assert_eq!(loopback_launch(&answers[1]), url, "one server per launch");
        // The server answers there: the launch trades the key for the window's cookie.
        let answer = get(&url);
        assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("preau_window="), "{answer}");
        let stranger = get(&url.replace("key=", "key=0"));
        assert!(stranger.starts_with("HTTP/1.1 403"), "{stranger}");
        let stored = keyring.0.lock().unwrap().values().next().cloned().unwrap();
        let keys = Keys::from_hex(&stored).unwrap();
        let db = std::fs::read(dir.path().join("replica.db")).unwrap();
        assert!(!db.windows(32).any(|w| w == keys.replica), "the private key is not on disk");
        assert!(!dir.path().join("secrets.toml").exists());
    }

    #[test]
    fn without_a_keyring_the_app_asks_and_keeps_files_only_once_agreed() {
        let dir = tempfile::tempdir().unwrap();
        let answers = invoke(Desktop::new(Box::new(NoKeyring), Some(dir.path().into())), &["start"]);
        let Ok(Next::Ask { question, .. }) = &answers[0] else { panic!("{answers:?}") };
        assert!(question.contains("trousseau"), "{question}");
        assert!(!dir.path().join("replica.db").exists(), "nothing kept before she agrees");
        let answers = invoke(Desktop::new(Box::new(NoKeyring), Some(dir.path().into())), &["keep_secrets_in_files"]);
        loopback_launch(&answers[0]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secrets.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// A plain HTTP GET of `url` (`http://127.0.0.1:<port>/…`): the answer's head.
    fn get(url: &str) -> String {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.split("\r\n\r\n").next().unwrap_or_default().to_owned()
    }

    /// A keyring the test keeps a hand on.
    struct SharedKeyring(Arc<MemoryKeyring>);

    impl Keyring for SharedKeyring {
        fn get(&self, account: &str) -> Result<Option<String>, secrets::KeyringError> {
            self.0.get(account)
        }

        fn set(&self, account: &str, secret: &str) -> Result<(), secrets::KeyringError> {
            self.0.set(account, secret)
        }
    }
}
