//! Préau on a teacher's laptop (the desktop app): a thin Tauri shell around the
//! appliance's library, which serves the same pages as the school's appliance.
//!
//! The first start asks how the computer runs Préau ([`Mode`], kept in its data directory):
//! - **teacher**: a teacher's computer (`Role::Device`), its own replica in the
//!   application-data directory, served on 127.0.0.1 to the app's window only (a key drawn
//!   at each launch, `preau_appliance::web::window`); its first run joins her school
//!   (`/join`), and afterwards it syncs by itself;
//! - **class server**: a school appliance (`Role::School`) on the laptop, for a school that
//!   has none: it listens on the LAN and announces itself there (mDNS), as `preau serve`
//!   does; refused when a school server already answers on the LAN (and, at enrolment, by
//!   the hub when the school already has one).
//!
//! The window opens on a start page bundled with the app, which asks [`start`] for the
//! server and goes there. The secrets stay in the operating system's keyring ([`secrets`]).
//! Everything a teacher reads or does is in `preau-appliance`; this crate holds the
//! window, the keyring, the mode and the start.

pub mod camera;
pub mod secrets;

use std::path::PathBuf;

use preau_appliance::platform::config::{Config, Keys, Role, WindowKey};
use preau_appliance::platform::discovery;
use preau_appliance::platform::i18n::Locale;
use preau_appliance::web::AppState;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};

use secrets::{Held, Keyring, Missing};

/// Overrides the application-data directory (tests, and a second profile on one account).
pub const DATA_DIR_VARIABLE: &str = "PREAU_DESKTOP_DATA_DIR";
/// `1`: a class server starts with the demo school (as `preau serve --demo`), to try the
/// app or to train with it.
pub const DEMO_VARIABLE: &str = "PREAU_DESKTOP_DEMO";
/// Appends the app's log to this file rather than standard error (which a desktop's
/// launcher, or WebKitWebDriver in the tests, throws away).
pub const LOG_VARIABLE: &str = "PREAU_DESKTOP_LOG";
/// Minutes between a teacher's computer's syncs while the school answers: a quiet sync
/// costs a few hundred bytes, and a laptop meets its school only in the hours it is there.
const TEACHER_SYNC_MINUTES: u64 = 5;
/// Minutes between a class server's syncs with the hub: a laptop is online at odd hours
/// (at school, at home in the evening), rarely in the appliance's nightly window.
const CLASS_SERVER_SYNC_MINUTES: u64 = 15;

/// How long the class-server switch listens for another school server on the LAN.
const LISTEN_FOR_SERVERS: std::time::Duration = std::time::Duration::from_secs(2);
/// The file, in the data directory, that keeps the [`Mode`].
const MODE_FILE: &str = "mode";

/// How this computer runs Préau, chosen once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Her classes, offline, synced with her school's server (or its hub).
    Teacher,
    /// The class's server, for a school without one.
    ClassServer,
}

impl Mode {
    /// The mode kept in `dir`; a replica from before modes existed is a teacher's.
    fn kept(dir: &std::path::Path) -> Option<Self> {
        match std::fs::read_to_string(dir.join(MODE_FILE)).unwrap_or_default().trim() {
            "teacher" => Some(Mode::Teacher),
            "class-server" => Some(Mode::ClassServer),
            _ => dir.join("replica.db").exists().then_some(Mode::Teacher),
        }
    }

    fn keep(self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let text = match self {
            Mode::Teacher => "teacher",
            Mode::ClassServer => "class-server",
        };
        std::fs::write(dir.join(MODE_FILE), format!("{text}\n"))
    }
}

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
    // A class server keeps the laptop from sleeping while it serves.
    _awake: Option<keepawake::KeepAwake>,
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
    /// Ask how this computer runs Préau (the first start).
    Choose {
        /// The question.
        question: String,
        /// Teacher mode.
        teacher: Choice,
        /// Class-server mode, and what it asks of the laptop.
        class_server: Choice,
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

/// One way of running Préau, as the start page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The button.
    pub label: String,
    /// What it means, plainly.
    pub text: String,
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
    let Some(mode) = Mode::kept(&dir) else {
        // The port a class server would listen on, which the firewall must allow.
        let port = Config::load(Some(dir.clone()), |_| None).map_err(|e| format!("{e:#}"))?.listen.port();
        return Ok(Next::Choose {
            question: l.t("desktop-choose"),
            teacher: Choice { label: l.t("desktop-teacher"), text: l.t("desktop-teacher-text") },
            class_server: Choice {
                label: l.t("desktop-class-server"),
                text: l.ta("desktop-class-server-text", &[("port", &port.to_string())]),
            },
        });
    };
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
    let started = serve(dir, keys, mode).await.map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "starting the server");
        l.ta("desktop-start-failed", &[("detail", &format!("{e:#}"))])
    })?;
    let url = started.url.clone();
    *serving = Some(started);
    Ok(Next::Open { url })
}

/// The first start's choice: keeps it, then starts. A class server is refused while
/// another school server answers on the LAN (its classes belong there).
#[tauri::command]
async fn choose<R: Runtime>(app: AppHandle<R>, desktop: State<'_, Desktop>, mode: Mode) -> Result<Next, String> {
    let l = Locale::from_env();
    let dir = data_dir(&app, &desktop)?;
    if Mode::kept(&dir).is_some() {
        return start(app, desktop).await;
    }
    if mode == Mode::ClassServer {
        // No multicast here (no network at all, say): nothing heard, nothing to refuse.
        let servers = discovery::off_thread(|| discovery::browse(LISTEN_FOR_SERVERS)).await.unwrap_or_default();
        if let Some(refusal) = class_server_refusal(l, &servers) {
            tracing::info!(servers = ?servers, "a school server already answers on this network");
            return Err(refusal);
        }
    }
    mode.keep(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tracing::info!(?mode, "this computer's mode");
    start(app, desktop).await
}

/// Why this laptop may not serve its class: the school servers heard on the LAN.
fn class_server_refusal(l: Locale, servers: &[discovery::Found]) -> Option<String> {
    let server = servers.first()?;
    let url = server.url().unwrap_or_else(|| server.host.clone());
    Some(l.ta("desktop-class-server-refused", &[("name", &server.name), ("url", &url)]))
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

/// Opens the replica and serves it, with its sync schedule and housekeeping: a teacher's
/// computer on a free loopback port for the window alone; a class server on the LAN.
async fn serve(dir: PathBuf, keys: Option<Keys>, mode: Mode) -> anyhow::Result<Serving> {
    let mut config = Config::load(Some(dir), |_| None)?;
    let key = match mode {
        Mode::Teacher => {
            config.role = Role::Device;
            config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            config.sync_interval_minutes = TEACHER_SYNC_MINUTES;
            // A laptop sleeps at night: no nightly window.
            config.sync_window = String::new();
            let key = WindowKey::random();
            config.window_key = Some(key.clone());
            Some(key)
        }
        Mode::ClassServer => {
            // The appliance's own defaults (`preau.toml` in the data directory may change
            // them), but that it syncs whenever it is online, not only at night.
            config.role = Role::School;
            config.sync_interval_minutes = CLASS_SERVER_SYNC_MINUTES;
            None
        }
    };
    let demo = mode == Mode::ClassServer && std::env::var(DEMO_VARIABLE).is_ok_and(|v| v == "1");
    let state =
        tauri::async_runtime::spawn_blocking(move || preau_appliance::app::open_with(config, demo, keys.as_ref()))
            .await??;
    let listen = state.config.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        let file = state.config.data_dir.join("preau.toml");
        anyhow::anyhow!(
            "{}",
            Locale::from_env().ta(
                "desktop-port-busy",
                &[("addr", &listen.to_string()), ("file", &file.display().to_string()), ("detail", &e.to_string())]
            )
        )
    })?;
    let addr = listener.local_addr()?;
    let server = state.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = preau_appliance::app::run_on(listener, server, || {}, std::future::pending()).await {
            tracing::error!(error = format!("{e:#}"), "the embedded server stopped");
        }
    });
    tracing::info!(%addr, ?mode, "serving");
    let url = match key {
        Some(key) => preau_appliance::web::window::launch_url(addr, &key),
        None => format!("http://127.0.0.1:{}/", addr.port()),
    };
    let awake = match mode {
        Mode::ClassServer => tauri::async_runtime::spawn_blocking(keep_awake).await?,
        Mode::Teacher => None,
    };
    Ok(Serving { url, _state: state, _awake: awake })
}

/// Keeps the laptop from sleeping, idle or asked, while it serves its class: the tablets
/// lose their server otherwise (systemd-logind's inhibitor locks on Linux, the power
/// assertions of Windows and macOS). Where the system refuses, the laptop may sleep, and
/// the log says so; the first start already asked the teacher to keep it awake.
fn keep_awake() -> Option<keepawake::KeepAwake> {
    let awake = keepawake::Builder::default()
        .idle(true)
        .sleep(true)
        .reason(Locale::from_env().t("desktop-keep-awake"))
        .app_name("Préau")
        .app_reverse_domain(secrets::SERVICE)
        .create();
    match awake {
        Ok(awake) => {
            tracing::info!("the laptop stays awake while it serves the class");
            Some(awake)
        }
        Err(e) => {
            tracing::warn!(error = %e, "the laptop cannot be kept awake: it may sleep during class");
            None
        }
    }
}

/// The app's commands and state on a builder (the real one, or Tauri's mock in tests).
pub fn app<R: Runtime>(builder: tauri::Builder<R>, desktop: Desktop) -> tauri::Builder<R> {
    builder.manage(desktop).invoke_handler(tauri::generate_handler![start, choose, keep_secrets_in_files])
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
    let app = app(tauri::Builder::default(), desktop)
        .setup(|app| {
            if let Some(window) = Manager::get_webview_window(app, "main") {
                camera::allow(&window);
            }
            Ok(())
        })
        .build(tauri::generate_context!());
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

    /// Calls commands as the start page does (a name and its arguments), on Tauri's mock
    /// runtime.
    fn invoke(desktop: Desktop, commands: &[(&str, serde_json::Value)]) -> Vec<Result<Next, String>> {
        let app = app(mock_builder(), desktop).build(mock_context(noop_assets())).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        commands
            .iter()
            .map(|(cmd, args)| {
                get_ipc_response(
                    &webview,
                    tauri::webview::InvokeRequest {
                        cmd: (*cmd).into(),
                        callback: tauri::ipc::CallbackFn(0),
                        error: tauri::ipc::CallbackFn(1),
                        url: "tauri://localhost".parse().unwrap(),
                        body: tauri::ipc::InvokeBody::Json(args.clone()),
                        headers: Default::default(),
                        invoke_key: INVOKE_KEY.to_string(),
                    },
                )
                .map(|body| body.deserialize::<Next>().unwrap())
                .map_err(|e| e.as_str().unwrap_or_default().to_owned())
            })
            .collect()
    }

    fn start() -> (&'static str, serde_json::Value) {
        ("start", serde_json::json!({}))
    }

    fn choose(mode: &str) -> (&'static str, serde_json::Value) {
        ("choose", serde_json::json!({ "mode": mode }))
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
    fn the_first_start_asks_how_the_computer_runs_preau_and_keeps_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryKeyring::default());
        let desktop = || Desktop::new(Box::new(SharedKeyring(keyring.clone())), Some(dir.path().into()));
        let answers = invoke(desktop(), &[start()]);
        let Ok(Next::Choose { question, teacher, class_server }) = &answers[0] else { panic!("{answers:?}") };
        assert_eq!(question, "Comment cet ordinateur va-t-il servir Préau ?");
        assert_eq!(teacher.label, "Me connecter à mon école");
        assert_eq!(class_server.label, "Servir ma classe sur ce réseau");
        assert!(class_server.text.contains("ne pas se mettre en veille"), "{}", class_server.text);
        assert!(class_server.text.contains("le port 8080"), "{}", class_server.text);
        assert!(!dir.path().join("replica.db").exists(), "nothing kept before she chooses");

        let bad = invoke(desktop(), &[("choose", serde_json::json!({ "mode": "hub" }))]);
        assert!(bad[0].is_err(), "{bad:?}");
        assert!(!dir.path().join("mode").exists());

        let answers = invoke(desktop(), &[choose("teacher")]);
        loopback_launch(&answers[0]);
        assert_eq!(std::fs::read_to_string(dir.path().join("mode")).unwrap(), "teacher\n");
        // Chosen once: the next launch goes straight to her pages, whatever is asked.
        let answers = invoke(desktop(), &[start(), choose("class-server")]);
        loopback_launch(&answers[0]);
        loopback_launch(&answers[1]);
        assert_eq!(std::fs::read_to_string(dir.path().join("mode")).unwrap(), "teacher\n");
    }

    #[test]
    fn a_replica_from_before_the_choice_is_a_teachers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("replica.db"), b"").unwrap();
        assert_eq!(Mode::kept(dir.path()), Some(Mode::Teacher));
    }

    #[test]
    fn a_class_server_serves_the_lan_without_the_windows_key() {
        let dir = tempfile::tempdir().unwrap();
        // The appliance's settings file applies: here a free port, and no announcement.
        std::fs::write(dir.path().join("preau.toml"), "listen = \"127.0.0.1:0\"\ndiscovery = false\n").unwrap();
        let desktop = Desktop::new(Box::new(MemoryKeyring::default()), Some(dir.path().into()));
        let answers = invoke(desktop, &[choose("class-server")]);
        let Ok(Next::Open { url }) = &answers[0] else { panic!("{answers:?}") };
        assert!(url.starts_with("http://127.0.0.1:") && !url.contains("key="), "{url}");
        // A school with no school yet: anyone on the LAN meets its setup.
        let answer = get(url);
        assert!(answer.starts_with("HTTP/1.1 303") && answer.contains("location: /setup"), "{answer}");
        assert_eq!(std::fs::read_to_string(dir.path().join("mode")).unwrap(), "class-server\n");
    }

    #[test]
    fn a_class_server_is_refused_where_a_school_server_answers() {
        let l = Locale::default();
        assert_eq!(class_server_refusal(l, &[]), None);
        let heard = discovery::Found {
            name: "Préau — École du Bourg".into(),
            uai: "0290001A".into(),
            host: "preau.local.".into(),
            addresses: vec!["fe80::1".parse().unwrap(), "192.168.1.10".parse().unwrap()],
            port: 8080,
        };
        assert_eq!(
            class_server_refusal(l, &[heard]).unwrap(),
            "Votre école a déjà un serveur Préau sur ce réseau : Préau — École du Bourg (http://192.168.1.10:8080). \
             Cet ordinateur ne peut pas en être un second ; choisissez « Me connecter à mon école »."
        );
    }

    #[test]
    fn the_first_start_serves_the_window_on_loopback_with_the_keys_in_the_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryKeyring::default());
        let shared = SharedKeyring(keyring.clone());
        let answers = invoke(Desktop::new(Box::new(shared), Some(dir.path().into())), &[choose("teacher"), start()]);
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
        let answers = invoke(Desktop::new(Box::new(NoKeyring), Some(dir.path().into())), &[choose("teacher")]);
        let Ok(Next::Ask { question, .. }) = &answers[0] else { panic!("{answers:?}") };
        assert!(question.contains("trousseau"), "{question}");
        assert!(!dir.path().join("replica.db").exists(), "nothing kept before she agrees");
        let answers = invoke(
            Desktop::new(Box::new(NoKeyring), Some(dir.path().into())),
            &[("keep_secrets_in_files", serde_json::json!({}))],
        );
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
