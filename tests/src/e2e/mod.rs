//! What the end-to-end tests share (the browser tests here, the desktop app's in
//! `src-tauri/tests/`): a real appliance in the test's process, where screenshots go, and
//! how a skipped test makes itself heard.

pub mod chromium;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use preau_appliance::platform::config::{Config, Role};
use preau_appliance::web::AppState;

/// A real appliance on 127.0.0.1:0, in this process.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The server's state (its directory, its replica).
    pub state: AppState,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// The demo school (`demo`), or an appliance waiting for its setup.
    pub async fn start(demo: bool) -> Self {
        Self::start_as(demo, Role::School).await
    }

    /// An académie's hub, holding no school yet.
    pub async fn hub() -> Self {
        Self::start_as(false, Role::Hub).await
    }

    async fn start_as(demo: bool, role: Role) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::load(Some(dir.path().into()), |_| None).unwrap();
        config.discovery = false;
        config.role = role;
        let state = preau_appliance::app::open(config, demo).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        state.set_bound(addr);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(preau_appliance::app::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self { base: format!("http://{addr}"), state, _dir: dir, stop, task }
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Writes a line to stderr even while the test harness captures output (a skip must show).
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `YYYY-MM-DD`, `n` days from today.
pub fn in_days(n: i64) -> String {
    preau_appliance::platform::clock::date_of_ms(preau_appliance::platform::clock::now_ms() + n * 86_400_000)
}

/// A program on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Where screenshots and drivers' logs go: `$PREAU_ARTIFACTS`, else
/// `<CARGO_TARGET_DIR or target>/preau-artifacts/e2e/`.
pub fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PREAU_ARTIFACTS").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"), PathBuf::from);
    target.join("preau-artifacts/e2e")
}

/// A port free on loopback now (for a driver to listen on).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until the driver `child` (`name`, logging to `<name>.log` in the artifacts)
/// listens on `port`, for 20 s at most.
pub fn wait_listening(child: &mut Child, port: u16, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{name} exited with {status} (see {name}.log in the artifacts)");
        }
        if Instant::now() > deadline {
            anyhow::bail!("{name} did not listen on port {port} within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
