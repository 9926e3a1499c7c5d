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

/// Something a browser opens pages of: an appliance in this process or a `preau` process.
pub trait Served {
    /// `http://127.0.0.1:<port>`
    fn base(&self) -> &str;
}

impl Served for TestServer {
    fn base(&self) -> &str {
        &self.base
    }
}

impl Served for Preau {
    fn base(&self) -> &str {
        &self.base
    }
}

/// A `preau serve` process of its own, over its own data directory, on a loopback port:
/// the hub or a school's appliance as a school or the académie runs it. It syncs only when
/// asked (`preau sync now`), and is killed when dropped.
pub struct Preau {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// Its data directory.
    pub data: tempfile::TempDir,
    child: Child,
}

impl Preau {
    /// The `preau` binary the workspace's tests built (beside this test's executable:
    /// `cargo test --workspace` builds it; alone, `cargo build -p preau-appliance` first).
    pub fn binary() -> anyhow::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().and_then(Path::parent).ok_or_else(|| anyhow::anyhow!("no target directory"))?;
        let bin = dir.join("preau");
        anyhow::ensure!(
            bin.is_file(),
            "no {} (run the workspace's tests, or cargo build -p preau-appliance)",
            bin.display()
        );
        Ok(bin)
    }

    fn command(&self) -> anyhow::Result<std::process::Command> {
        let mut c = std::process::Command::new(Self::binary()?);
        c.arg("--data-dir").arg(self.data.path());
        c.env("PREAU_DISCOVERY", "false").env("PREAU_SYNC_INTERVAL_MINUTES", "0").env("PREAU_SYNC_WINDOW", "");
        c.env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "fr_FR.UTF-8");
        Ok(c)
    }

    /// Starts `preau serve` with `args` (`--demo`, `--role hub`) and waits until it answers.
    pub async fn start(args: &[&str]) -> anyhow::Result<Self> {
        let port = free_port()?;
        let data = tempfile::tempdir()?;
        let mut this =
            Self { base: format!("http://127.0.0.1:{port}"), data, child: std::process::Command::new("true").spawn()? };
        let log = std::fs::File::create(this.data.path().join("serve.log"))?;
        this.child = this
            .command()?
            .arg("serve")
            .args(args)
            .env("PREAU_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        wait_listening(&mut this.child, port, "preau serve").map_err(|e| anyhow::anyhow!("{e}\n{}", this.log()))?;
        Ok(this)
    }

    /// What it printed and logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("serve.log")).unwrap_or_default()
    }

    /// Runs `preau <args>` over its data directory (against the running server where the
    /// command talks to it): its output, or why it failed.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.command()?.args(args).output()?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        anyhow::ensure!(out.status.success(), "preau {args:?}: {text}");
        Ok(text)
    }

    /// `preau sync now`, with the running server.
    pub fn sync_now(&self) -> anyhow::Result<String> {
        let addr = self.base.trim_start_matches("http://").to_owned();
        self.run(&["sync", "now", "--addr", &addr])
    }

    /// Its school's directory, read from its replica as it is now.
    pub fn directory(&self) -> anyhow::Result<preau_appliance::school::directory::Directory> {
        let reader = preau_sync::Reader::open(&self.data.path().join("replica.db"))?;
        preau_appliance::school::directory::Directory::load(&reader).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

impl Drop for Preau {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
