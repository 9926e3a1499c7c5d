//! The desktop app end to end, in a real window: the `preau-desktop` binary under Xvfb,
//! driven over WebDriver (tauri-driver + WebKitWebDriver + fantoccini), as a teacher uses
//! it. There is no keyring in its session, so it first asks to keep its keys in files; she
//! agrees, joins her school (a real appliance, reached through a link the test can cut, by
//! its typed address: mDNS discovery has its own tests in network namespaces), her classes
//! arrive, the link is cut, she writes tomorrow's work and corrects an entry while the
//! school edits the same entry, the link returns, « Synchroniser maintenant », and both
//! sides hold everything. The app's window is kept as `desktop-home.png` (and, on a
//! failure, `desktop-failure.png`) in the artifacts directory.
//!
//! Without tauri-driver, WebKitWebDriver or Xvfb the test prints
//! `SKIPPED: ...` and passes, unless `PREAU_REQUIRE_DESKTOP=1` (as in `scripts/test`),
//! which makes it fail.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use preau_appliance::school::demo::DEMO_PASSWORD;
use serde_json::json;

use preau_tests::e2e::{TestServer, artifacts_dir, free_port, in_days, on_path, say, wait_listening};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_joins_works_offline_and_syncs_back_in_the_desktop_app() {
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(reason) => {
            if std::env::var("PREAU_REQUIRE_DESKTOP").is_ok_and(|v| v == "1") {
                panic!("PREAU_REQUIRE_DESKTOP=1 but the desktop app's end-to-end test cannot run: {reason}");
            }
            say(&format!("SKIPPED: desktop app end-to-end test: {reason}"));
            return;
        }
    };
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).unwrap();
    say(&format!("desktop app test artifacts (screenshots, driver log): {}", artifacts.display()));
    let school = TestServer::start(true).await;
    let link = Link::start(&school.base).await;
    let data = tempfile::tempdir().unwrap();
    let display = Xvfb::start(&tools).expect("starting Xvfb");
    let driver = TauriDriver::start(&tools, &display, data.path(), &artifacts).expect("starting tauri-driver");
    let app = driver.connect(&tools).await.expect("starting the app under tauri-driver");
    let outcome = story(&app, &school, &link).await;
    if outcome.is_err()
        && let Ok(png) = app.screenshot().await
    {
        let _ = std::fs::write(artifacts.join("desktop-failure.png"), png);
    }
    let _ = app.close().await;
    drop(driver);
    school.stop().await;
    outcome.unwrap();
}

async fn story(app: &Client, school: &TestServer, link: &Link) -> anyhow::Result<()> {
    // No keyring in this session: the app asks first, and keeps its keys in files once
    // she agrees.
    let agree = wait_for(app, "button.primary").await?;
    let question = app.find(Locator::Css("#start p")).await?.text().await?;
    assert!(question.contains("trousseau"), "{question}");
    agree.click().await?;

    // « Me connecter à mon école »: the school's address, then her school login.
    wait_text(app, "h1", "Me connecter à mon école").await?;
    let window = app.current_url().await?;
    let base = format!("{}://{}", window.scheme(), window.authority());
    type_in(app, "#address", link.address()).await?;
    app.find(Locator::Css("form[action='/join/server'] button[type=submit]")).await?.click().await?;
    wait_text(app, "h2", "Connexion à").await?;
    type_in(app, "#login", "sophie.lebihan").await?;
    type_in(app, "#password", DEMO_PASSWORD).await?;
    app.find(Locator::Css("form[action='/join/login'] button[type=submit]")).await?.click().await?;
    // The first sync's page refreshes itself until her classes are here.
    wait_footer(app, "Synchronisé").await?;
    let home = app.find(Locator::Css("main")).await?.text().await?;
    assert!(home.contains("CE1-CE2"), "her class is on her home page: {home}");
    std::fs::write(artifacts_dir().join("desktop-home.png"), app.screenshot().await?)?;

    // An entry the school wrote before, in her class's cahier de textes.
    let dir = school.state.directory();
    let ce = dir.classes.values().find(|c| c.class.name == "CE1-CE2").context("CE1-CE2")?.clone();
    let api = Api::login(school, "sophie.lebihan").await?;
    let entry = |lesson: &str, title: &str| json!({"subject": "Mathématiques", "assigned_on": in_days(0), "lesson": lesson, "title": title, "due_on": in_days(1)});
    let book = format!("/api/v1/classes/{}/homework", ce.id);
    let created = api.call("POST", &book, Some(entry("Tables de 7.", "Exercice 4"))).await?;
    let e = created["id"].as_str().context("entry id")?.to_owned();
    sync_now(app).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        app.goto(&format!("{base}/classes/{}/homework/{e}", ce.id)).await?;
        if app.source().await?.contains("Exercice 4") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the school's entry never reached the app");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    wait_footer(app, "Synchronisé (").await?;

    // The link is cut. She writes tomorrow's work and corrects the entry's title; at
    // school, the same entry's lesson gets a line.
    link.set_up(false);
    app.goto(&format!("{base}/classes/{}/homework", ce.id)).await?;
    type_in(app, "#subject", "Français").await?;
    type_in(app, "#title", "Lire la page 30").await?;
    set_date(app, "#due_on", &in_days(1)).await?;
    app.find(Locator::Css("form[action$='/homework'] button[type=submit]")).await?.click().await?;
    wait_page(app, "Lire la page 30").await?;
    app.goto(&format!("{base}/classes/{}/homework/{e}", ce.id)).await?;
    type_in(app, "#title", "Exercice 4 et 5").await?;
    app.find(Locator::Css(&format!("form[action$='/homework/{e}'] button[type=submit]"))).await?.click().await?;
    wait_page(app, "Exercice 4 et 5").await?;
    api.call("PUT", &format!("{book}/{e}"), Some(entry("Tables de 7.\nJeu du furet.", "Exercice 4"))).await?;
    sync_now(app).await?;
    wait_footer(app, "Hors ligne").await?;

    // The link returns: « Synchroniser maintenant », and both sides hold everything.
    link.set_up(true);
    sync_now(app).await?;
    wait_footer(app, "Synchronisé").await?;
    let week = api.call("GET", &format!("{book}?from={}&to={}", in_days(0), in_days(0)), None).await?.to_string();
    for text in ["Lire la page 30", "Exercice 4 et 5", "Jeu du furet"] {
        assert!(week.contains(text), "{text:?} at school: {week}");
    }
    app.goto(&format!("{base}/classes/{}/homework/{e}", ce.id)).await?;
    wait_page(app, "Jeu du furet").await?;
    Ok(())
}

// ---- the window ----

/// Waits for an element (WebKit may still show the previous page just after a click).
async fn wait_for(app: &Client, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
    app.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// Waits until the page's HTML contains `text` (WebKitWebDriver may answer an element's
/// text before the new page is laid out).
async fn wait_page(app: &Client, text: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if app.source().await.is_ok_and(|html| html.contains(text)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the page never said {text:?} (at {})", app.current_url().await.map(|u| u.to_string()).unwrap_or_default())
}

/// « Synchroniser maintenant », from the page's footer; returns once the page it comes
/// back to is there (a navigation started before would cancel the form's request).
async fn sync_now(app: &Client) -> anyhow::Result<()> {
    let button = wait_for(app, "footer.sync-note button").await?;
    button.click().await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    // The old page's button goes stale once the answer replaced the page.
    while button.text().await.is_ok() {
        anyhow::ensure!(Instant::now() < deadline, "« Synchroniser maintenant » did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for(app, "footer.sync-note").await?;
    Ok(())
}

/// Reloads the page until its footer (where the app says how its sync stands) says `text`.
async fn wait_footer(app: &Client, text: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(footer) = app.find(Locator::Css("footer.sync-note")).await
            && let Ok(now) = footer.text().await
        {
            if now.contains(text) {
                return Ok(());
            }
            seen = now;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.refresh().await?;
    }
    bail!("the footer never said {text:?} (last: {seen:?})")
}

/// Waits until the element's text contains `text`.
async fn wait_text(app: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = app.find(Locator::Css(css)).await
            && let Ok(now) = element.text().await
        {
            if now.contains(text) {
                return Ok(());
            }
            seen = now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("{css} never said {text:?} (last: {seen:?})")
}

async fn type_in(app: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let field = wait_for(app, css).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// Date fields take keystrokes in the window's locale: set the value as a picker would.
async fn set_date(app: &Client, css: &str, date: &str) -> anyhow::Result<()> {
    app.execute("document.querySelector(arguments[0]).value = arguments[1]", vec![json!(css), json!(date)]).await?;
    Ok(())
}

// ---- the school's side ----

/// The school's JSON API, as a signed-in teacher.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(school: &TestServer, login: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        let answer: serde_json::Value = http
            .post(format!("{}/api/v1/auth/login", school.base))
            .json(&json!({"login": login, "password": DEMO_PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["token"].as_str().context("token")?.to_owned();
        Ok(Self { http, base: school.base.clone(), token })
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut request = self.http.request(method.parse()?, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }
}

/// The laptop's link to the school: a relay on loopback the test can cut (new connections
/// refused, open ones closed) and restore.
struct Link {
    address: String,
    up: tokio::sync::watch::Sender<bool>,
}

impl Link {
    async fn start(school: &str) -> Self {
        let upstream = school.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { address, up }
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

// ---- the tools ----

struct Tools {
    app: PathBuf,
    tauri_driver: PathBuf,
    webkit_driver: PathBuf,
    xvfb: PathBuf,
}

impl Tools {
    /// Everything the test needs, or why it cannot run and how to fix that.
    fn find() -> Result<Self, String> {
        // Cargo builds the app for this test, with the same features.
        let app = PathBuf::from(env!("CARGO_BIN_EXE_preau-desktop"));
        let cargo_bin = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tauri-driver"));
        let tauri_driver = on_path("tauri-driver")
            .or(cargo_bin.filter(|p| p.is_file()))
            .ok_or("no tauri-driver (install it: cargo install tauri-driver --version ^2 --locked)")?;
        let webkit_driver = on_path("WebKitWebDriver")
            .ok_or("no WebKitWebDriver on PATH (install it: apt-get install webkit2gtk-driver)")?;
        let xvfb = on_path("Xvfb").ok_or("no Xvfb on PATH (install it: apt-get install xvfb xauth)")?;
        Ok(Self { app, tauri_driver, webkit_driver, xvfb })
    }
}

/// A virtual screen, `:N`, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start(tools: &Tools) -> anyhow::Result<Self> {
        for n in 90..130 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let child = Command::new(&tools.xvfb)
                .args([format!(":{n}").as_str(), "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let mut screen = Self { child, display: format!(":{n}") };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !socket.exists() {
                if screen.child.try_wait()?.is_some() || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if socket.exists() {
                return Ok(screen);
            }
            let _ = screen.child.kill();
        }
        bail!("no free X display between :90 and :129")
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tauri-driver on a free port, which starts WebKitWebDriver, which starts the app; all
/// of them killed when dropped (they share a process group).
struct TauriDriver {
    child: Child,
    port: u16,
}

impl TauriDriver {
    fn start(tools: &Tools, screen: &Xvfb, data: &Path, artifacts: &Path) -> anyhow::Result<Self> {
        let (port, native) = (free_port()?, free_port()?);
        let log = std::fs::File::create(artifacts.join("tauri-driver.log"))?;
        let _ = std::fs::remove_file(artifacts.join("desktop-app.log"));
        let child = Command::new(&tools.tauri_driver)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .arg("--native-driver")
            .arg(&tools.webkit_driver)
            .env("DISPLAY", &screen.display)
            .env("PREAU_DESKTOP_DATA_DIR", data)
            .env("PREAU_DESKTOP_LOG", artifacts.join("desktop-app.log"))
            // French pages (WebKit asks for the session's languages), and no keyring.
            .env("LANG", "C.UTF-8")
            .env("LANGUAGE", "fr")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("running {}", tools.tauri_driver.display()))?;
        let mut driver = Self { child, port };
        wait_listening(&mut driver.child, port, "tauri-driver")?;
        Ok(driver)
    }

    async fn connect(&self, tools: &Tools) -> anyhow::Result<Client> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": tools.app }));
        // tauri-driver listens before WebKitWebDriver, behind it, does: try for a while.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await;
            match client {
                Ok(client) => return Ok(client),
                Err(e) if Instant::now() > deadline => bail!("no WebDriver session within 20 s: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
