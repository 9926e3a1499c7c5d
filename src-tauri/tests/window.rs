//! The desktop app end to end, in a real window: the `preau-desktop` binary under Xvfb,
//! driven over WebDriver (tauri-driver + WebKitWebDriver + fantoccini), as a teacher uses
//! it; and the class's tablet, a real Chromium (chromedriver), as pupils use it. There is no
//! keyring in the app's session, so it asks to keep its keys in files; she agrees.
//!
//! - **Teacher mode**: she joins her school (a real appliance, reached through a link the
//!   test can cut, by its typed address), her classes arrive, the link is cut, she writes tomorrow's work and
//!   corrects an entry while the school edits the same entry, the link returns,
//!   « Synchroniser maintenant », both sides hold everything, and a pupil of her class
//!   sees it on a tablet of the school.
//! - **By mDNS**: her school's appliance runs in a network namespace of its own, as on the
//!   school's LAN; the app's join page lists it as it announces itself, she picks it and
//!   joins (where namespaces are not permitted the test says so: the typed address above
//!   is the way in then).
//! - **Class-server mode**: the laptop serves its class (the demo school) on the network;
//!   a tablet (on loopback: the app's WebDriver must reach it too) logs a pupil in with
//!   pictures and ticks the work; the director links the laptop to a real hub process,
//!   whose replica then holds the tick.
//!
//! The app's window is kept as `desktop-first-start.png`, `desktop-home.png` and
//! `desktop-class-server.png`, the tablet as `class-server-tablet.png` (and, on a failure,
//! `desktop-<test>-failure.png`) in the artifacts directory.
//!
//! Without tauri-driver, WebKitWebDriver, Xvfb, Chromium or the `preau` binary the tests
//! print `SKIPPED: ...` and pass, unless `PREAU_REQUIRE_DESKTOP=1` (as in `scripts/test`),
//! which makes them fail.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};
use preau_appliance::school::directory::{Class, Directory, Member};
use preau_sync::kinds::HomeworkBook;
use preau_sync::kinds::homework::DoneMark;
use serde_json::json;

use preau_tests::e2e::chromium::{ChromeDriver, Chromium};
use preau_tests::e2e::{TestServer, artifacts_dir, free_port, in_days, on_path, say, wait_listening};

/// The class tablet's screen (a 10" tablet, landscape).
const TABLET: (u32, u32) = (1280, 800);

/// The tools, or `None` when the test is skipped (said so).
fn tools_or_skip() -> Option<Tools> {
    match Tools::find() {
        Ok(tools) => Some(tools),
        Err(reason) => {
            if std::env::var("PREAU_REQUIRE_DESKTOP").is_ok_and(|v| v == "1") {
                panic!("PREAU_REQUIRE_DESKTOP=1 but the desktop app's end-to-end tests cannot run: {reason}");
            }
            say(&format!("SKIPPED: desktop app end-to-end test: {reason}"));
            None
        }
    }
}

/// The app in its virtual screen, driven over WebDriver; and a Chromium tablet.
struct Rig {
    app: Client,
    tablet: Client,
    _chromium: ChromeDriver,
    driver: TauriDriver,
    _display: Xvfb,
    name: &'static str,
}

impl Rig {
    /// Starts the app on `data`, its logs named after the test (`name`).
    async fn start(tools: &Tools, name: &'static str, data: &Path, env: &[(&str, &str)]) -> Self {
        let artifacts = artifacts_dir().join(name);
        std::fs::create_dir_all(&artifacts).unwrap();
        say(&format!("desktop app test artifacts (screenshots, drivers' logs): {}", artifacts.display()));
        let display = Xvfb::start(tools).expect("starting Xvfb");
        let driver = TauriDriver::start(tools, &display, data, &artifacts, env).expect("starting tauri-driver");
        let app = driver.connect(tools).await.expect("starting the app under tauri-driver");
        let chromium = ChromeDriver::start(&tools.chromium, &artifacts).expect("starting chromedriver");
        let tablet = chromium.connect(TABLET).await.expect("opening a Chromium session");
        Self { app, tablet, _chromium: chromium, driver, _display: display, name }
    }

    /// Ends the sessions; keeps a screenshot of the window if the story failed.
    async fn finish(self, outcome: &anyhow::Result<()>) {
        if outcome.is_err()
            && let Ok(png) = self.app.screenshot().await
        {
            let _ = std::fs::write(artifacts_dir().join(format!("desktop-{}-failure.png", self.name)), png);
        }
        let _ = self.tablet.close().await;
        let _ = self.app.close().await;
        drop(self.driver);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_joins_works_offline_and_syncs_back_in_the_desktop_app() {
    let Some(tools) = tools_or_skip() else { return };
    let school = TestServer::start(true).await;
    let link = Link::start(&school.base).await;
    let data = tempfile::tempdir().unwrap();
    // WebKit's mock camera: the join page's camera card at work (its frames hold no code).
    let rig = Rig::start(&tools, "teacher", data.path(), &[(preau_desktop::camera::MOCK_VARIABLE, "1")]).await;
    let outcome = story(&rig.app, &rig.tablet, &school, &link).await;
    rig.finish(&outcome).await;
    school.stop().await;
    outcome.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_serves_its_class_to_a_tablet_and_syncs_with_the_hub() {
    let Some(tools) = tools_or_skip() else { return };
    let hub = Hub::start(&tools).expect("starting the hub");
    let data = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    // Loopback, so that the test's tablet reaches it (and the LAN does not); no mDNS
    // announcement from a test (discovery has its own tests, in network namespaces).
    std::fs::write(data.path().join("preau.toml"), format!("listen = \"127.0.0.1:{port}\"\ndiscovery = false\n"))
        .unwrap();
    // The laptop's power management: a stand-in for systemd-logind on a bus of the test's own.
    let logind = Logind::start(&tools).await.expect("starting a stand-in for systemd-logind");
    let env = [("PREAU_DESKTOP_DEMO", "1"), ("DBUS_SYSTEM_BUS_ADDRESS", logind.address.as_str())];
    let rig = Rig::start(&tools, "class-server", data.path(), &env).await;
    let outcome = class_server_story(&rig.app, &rig.tablet, &hub, data.path(), port).await;
    // While it served the class, the laptop was kept from sleeping, idle or asked...
    let locks = logind.locks();
    rig.finish(&outcome).await;
    let held = hub.stop_and_read();
    outcome.unwrap();
    let asked: Vec<(&str, &str, &str, bool)> =
        locks.iter().map(|(what, who, mode, held)| (what.as_str(), who.as_str(), mode.as_str(), *held)).collect();
    assert_eq!(asked, [("idle", "Préau", "block", true), ("sleep", "Préau", "block", true)], "{locks:?}");
    // ...and the locks went with the app.
    let deadline = Instant::now() + Duration::from_secs(20);
    while logind.locks().iter().any(|l| l.3) {
        assert!(Instant::now() < deadline, "the app's inhibitor locks outlived it: {:?}", logind.locks());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (dir, book) = held.unwrap();
    let cp = class(&dir, "CP");
    let child = dir.pupils_of(&cp.id)[0];
    let (id, _) = book.entries.iter().find(|(_, e)| e.title == CLASS_WORK).expect("the tablet's work at the hub");
    let mark = &book.done[&DoneMark::key(id, child.id.as_str())];
    assert!(mark.done && mark.by == child.id.as_str(), "the pupil's tick reached the hub: {mark:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn her_computer_finds_the_school_on_the_lan_by_mdns() {
    let Some(tools) = tools_or_skip() else { return };
    let lan = match SchoolLan::start(&tools) {
        Ok(lan) => lan,
        Err(reason) => {
            if std::env::var("PREAU_REQUIRE_NETNS").is_ok_and(|v| v == "1") {
                panic!("PREAU_REQUIRE_NETNS=1 but the school's LAN cannot be made: {reason}");
            }
            say(&format!(
                "SKIPPED: the desktop app's mDNS test needs network namespaces (root and iproute2): {reason}; \
                 joining by a typed address is tested in the teacher's story"
            ));
            return;
        }
    };
    let data = tempfile::tempdir().unwrap();
    let rig = Rig::start(&tools, "mdns", data.path(), &[]).await;
    let outcome = mdns_story(&rig.app, &lan, data.path()).await;
    rig.finish(&outcome).await;
    drop(lan);
    outcome.unwrap();
}

/// The join page lists the school it heard on the LAN; she picks it and joins. Later the
/// school's server gets another address: her computer hears it again and syncs there.
async fn mdns_story(app: &Client, lan: &SchoolLan, data: &Path) -> anyhow::Result<()> {
    wait_text(app, "#start h2", "Comment cet ordinateur va-t-il servir Préau ?").await?;
    app.find(Locator::XPath("//button[.='Me connecter à mon école']")).await?.click().await?;
    wait_text(app, "#start p", "trousseau").await?;
    app.find(Locator::Css("button.primary")).await?.click().await?;
    wait_text(app, "h1", "Me connecter à mon école").await?;
    // mDNS is best effort: the page listens 1.5 s a visit, and a person would look again.
    let found = format!("//form[@action='/join/server']//button[contains(., '({SCHOOL_LAN_URL})')]");
    let deadline = Instant::now() + Duration::from_secs(30);
    let school = loop {
        if let Ok(button) = app.find(Locator::XPath(&found)).await {
            break button;
        }
        anyhow::ensure!(Instant::now() < deadline, "the join page never listed the school heard on the LAN");
        app.refresh().await?;
    };
    assert!(school.text().await?.contains("Les Tilleuls"), "the school's name, as it announces itself");
    follow(school).await?;
    wait_text(app, "h2", "Connexion à").await?;
    type_in(app, "#login", "sophie.lebihan").await?;
    type_in(app, "#password", DEMO_PASSWORD).await?;
    follow(app.find(Locator::Css("form[action='/join/login'] button[type=submit]")).await?).await?;
    wait_footer(app, "Synchronisé").await?;
    let home = app.find(Locator::Css("main")).await?.text().await?;
    assert!(home.contains("CE1-CE2"), "her class came over the LAN: {home}");

    // A new lease from the school's router: the last known address answers no more, the
    // school's announcement gives the new one, and her computer keeps it.
    lan.readdress(SCHOOL_LAN_MOVED).map_err(anyhow::Error::msg)?;
    let moved = SCHOOL_LAN_MOVED.split('/').next().context("an address")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        sync_now(app).await?;
        let links = preau_appliance::replication::Links::open(&data.join("links.db"))?;
        let known = links.hub().context("enrolled")?.url;
        if known == format!("http://{moved}:8080") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "her computer never found the school at {moved}: still {known}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    wait_footer(app, "Synchronisé").await?;
    Ok(())
}

/// What the CP's teacher writes on the class server, and its pupil ticks.
const CLASS_WORK: &str = "Apprendre la comptine";

async fn class_server_story(app: &Client, tablet: &Client, hub: &Hub, data: &Path, port: u16) -> anyhow::Result<()> {
    // The first start: how this computer runs Préau. She serves her class.
    wait_text(app, "#start h2", "Comment cet ordinateur va-t-il servir Préau ?").await?;
    let serve = "//button[.='Servir ma classe sur ce réseau']";
    let said = app.find(Locator::XPath(&format!("{serve}/following-sibling::p"))).await?.text().await?;
    assert!(said.contains("ne pas se mettre en veille") && said.contains(&format!("le port {port}")), "{said}");
    // WebKit paints a moment after the page's script built the choices.
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::write(artifacts_dir().join("desktop-first-start.png"), app.screenshot().await?)?;
    app.find(Locator::XPath(serve)).await?.click().await?;
    wait_text(app, "#start p", "trousseau").await?;
    app.find(Locator::Css("button.primary")).await?.click().await?;
    // Her laptop serves the school's public page (the demo school, here).
    wait_page(app, "Les Tilleuls").await?;
    let base = format!("http://127.0.0.1:{port}");

    // The class's tablet: her pupils' pictures are those of the school the laptop made.
    let dir = Directory::load(&preau_sync::Reader::open(&data.join("replica.db"))?)?;
    let cp = class(&dir, "CP");
    let child = dir.pupils_of(&cp.id)[0];
    let pictures = dir.credentials[&child.id].picture_secret.clone();
    let work = json!({"subject": "Poésie", "title": CLASS_WORK});
    teacher_writes(tablet, &base, "julien.roche", &cp, &work).await?;
    make_tablet(tablet, &base, &cp).await?;
    pupil_logs_in(tablet, &base, &cp, child, &pictures).await?;
    let tick = format!("//li[contains(., '{CLASS_WORK}')]//button[contains(@class, 'tick')]");
    follow(tablet.find(Locator::XPath(&tick)).await.context("the tick button")?).await?;
    wait_page(tablet, "Fini !").await?;
    std::fs::write(artifacts_dir().join("class-server-tablet.png"), tablet.screenshot().await?)?;

    // The director links the laptop to the académie's hub, in the app's window.
    log_in(app, &base, "claire.martin").await?;
    app.goto(&format!("{base}/admin/sync")).await?;
    type_in(app, "#hub", &hub.base).await?;
    type_in(app, "#code", &hub.code(DEMO_UAI)?).await?;
    follow(app.find(Locator::Css("form[action='/admin/sync/enroll'] button[type=submit]")).await?).await?;
    wait_page(app, "Le serveur est relié au hub").await?;
    // Its first sync carries the day's work; the page says when it is done.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        app.goto(&format!("{base}/admin/sync")).await?;
        if app.source().await?.contains("class=\"status-ok\">réussie") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the first sync with the hub never succeeded");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    std::fs::write(artifacts_dir().join("desktop-class-server.png"), app.screenshot().await?)?;
    Ok(())
}

fn class(dir: &Directory, name: &str) -> Class {
    dir.current_classes().into_iter().find(|c| c.class.name == name).unwrap_or_else(|| panic!("a {name} class")).clone()
}

// ---- the class's tablet (or any page, in either browser) ----

/// Logs `login` in with the demo's password.
async fn log_in(b: &Client, base: &str, login: &str) -> anyhow::Result<()> {
    b.goto(&format!("{base}/login")).await?;
    type_in(b, "#login", login).await?;
    type_in(b, "#password", DEMO_PASSWORD).await?;
    follow(b.find(Locator::Css("form[action='/login'] button[type=submit]")).await?).await?;
    anyhow::ensure!(!b.current_url().await?.path().ends_with("/login"), "{login} could not log in");
    Ok(())
}

/// The teacher `login` writes `work` (subject, title) due tomorrow in `class`'s cahier de textes.
async fn teacher_writes(
    b: &Client,
    base: &str,
    login: &str,
    class: &Class,
    work: &serde_json::Value,
) -> anyhow::Result<()> {
    log_in(b, base, login).await?;
    b.goto(&format!("{base}/classes/{}/homework", class.id)).await?;
    type_in(b, "#subject", work["subject"].as_str().unwrap_or_default()).await?;
    type_in(b, "#title", work["title"].as_str().unwrap_or_default()).await?;
    set_date(b, "#due_on", &in_days(1)).await?;
    follow(b.find(Locator::Css("form[action$='/homework'] button[type=submit]")).await?).await?;
    wait_page(b, work["title"].as_str().unwrap_or_default()).await
}

/// The signed-in teacher makes this browser a tablet of `class` (which signs her out).
async fn make_tablet(b: &Client, base: &str, class: &Class) -> anyhow::Result<()> {
    b.goto(&format!("{base}/classes/{}", class.id)).await?;
    let button = format!("form[action='/classes/{}/tablet'] button[type=submit]", class.id);
    follow(b.find(Locator::Css(&button)).await?).await?;
    anyhow::ensure!(b.current_url().await?.path() == format!("/classes/{}/login", class.id), "a class tablet");
    Ok(())
}

/// `pupil` taps their name and their three `pictures` on the class tablet.
async fn pupil_logs_in(b: &Client, base: &str, class: &Class, pupil: &Member, pictures: &str) -> anyhow::Result<()> {
    b.goto(&format!("{base}/classes/{}/login/{}", class.id, pupil.id)).await?;
    for picture in pictures.split(',') {
        follow(b.find(Locator::Css(&format!("button[name=add][value='{picture}']"))).await?).await?;
    }
    wait_page(b, &format!("Bonjour {} !", pupil.person.first_name)).await
}

/// Clicks `element` (a link or a submit button) and waits until the page it was on is gone.
async fn follow(element: fantoccini::elements::Element) -> anyhow::Result<()> {
    element.click().await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while element.text().await.is_ok() {
        anyhow::ensure!(Instant::now() < deadline, "the page did not change after a click");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

async fn story(app: &Client, tablet: &Client, school: &TestServer, link: &Link) -> anyhow::Result<()> {
    // The first start: her school has a server, so her laptop is a teacher's computer.
    wait_text(app, "#start h2", "Comment cet ordinateur va-t-il servir Préau ?").await?;
    app.find(Locator::XPath("//button[.='Me connecter à mon école']")).await?.click().await?;
    // No keyring in this session: the app asks, and keeps its keys in files once she agrees.
    wait_text(app, "#start p", "trousseau").await?;
    app.find(Locator::Css("button.primary")).await?.click().await?;

    // « Me connecter à mon école ». The laptop's camera first: the card its script shows,
    // the camera the window allows, frames the server reads (the mock camera's hold no code).
    wait_text(app, "h1", "Me connecter à mon école").await?;
    wait_for(app, "#camera-start").await?.click().await?;
    wait_text(app, "#camera-status", "Pas encore de code QR lisible").await?;
    // Then the school's address, typed, and her school login.
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

    // At school, a pupil of her class finds what she wrote offline on a class tablet.
    let pupil = dir.pupils_of(&ce.id)[0];
    let pictures = dir.credentials[&pupil.id].picture_secret.clone();
    log_in(tablet, &school.base, "sophie.lebihan").await?;
    make_tablet(tablet, &school.base, &ce).await?;
    pupil_logs_in(tablet, &school.base, &ce, pupil, &pictures).await?;
    for text in ["Lire la page 30", "Exercice 4 et 5"] {
        wait_page(tablet, text).await?;
    }
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
    chromium: Chromium,
    preau: PathBuf,
    dbus_daemon: PathBuf,
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
        let chromium = Chromium::find()?;
        // The hub is `preau`, which `cargo test --workspace` builds beside this test.
        let preau = std::env::current_exe()
            .ok()
            .and_then(|test| Some(test.parent()?.parent()?.join("preau")))
            .filter(|p| p.is_file())
            .ok_or("no `preau` binary beside the test (build it: cargo build -p preau-appliance)")?;
        let dbus_daemon = on_path("dbus-daemon").ok_or("no dbus-daemon on PATH (install it: apt-get install dbus)")?;
        Ok(Self { app, tauri_driver, webkit_driver, xvfb, chromium, preau, dbus_daemon })
    }
}

/// A bus of the test's own with a stand-in for systemd-logind that hands out inhibitor locks
/// (`org.freedesktop.login1.Manager.Inhibit`) and remembers them; stopped when dropped.
struct Logind {
    bus: Child,
    address: String,
    locks: Locks,
    _conn: zbus::Connection,
    _dir: tempfile::TempDir,
}

/// The locks handed out: what, who, mode, and our end of the lock's descriptor.
type Locks = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String, std::os::unix::net::UnixStream)>>>;

/// The stand-in's one method.
struct Manager {
    locks: Locks,
}

#[zbus::interface(name = "org.freedesktop.login1.Manager")]
impl Manager {
    /// A lock is a file descriptor: held while the caller keeps it open.
    fn inhibit(
        &self,
        what: String,
        who: String,
        _why: String,
        mode: String,
    ) -> zbus::fdo::Result<zbus::zvariant::OwnedFd> {
        let (ours, theirs) =
            std::os::unix::net::UnixStream::pair().map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        ours.set_nonblocking(true).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))?;
        self.locks.lock().unwrap().push((what, who, mode, ours));
        Ok(std::os::fd::OwnedFd::from(theirs).into())
    }
}

impl Logind {
    async fn start(tools: &Tools) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("bus");
        let address = format!("unix:path={}", socket.display());
        let bus = Command::new(&tools.dbus_daemon)
            .args(["--session", "--nofork", "--nopidfile", &format!("--address={address}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            anyhow::ensure!(Instant::now() < deadline, "dbus-daemon did not listen on {address}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let locks = std::sync::Arc::default();
        let manager = Manager { locks: std::sync::Arc::clone(&locks) };
        let conn = zbus::connection::Builder::address(address.as_str())?
            .name("org.freedesktop.login1")?
            .serve_at("/org/freedesktop/login1", manager)?
            .build()
            .await?;
        Ok(Self { bus, address, locks, _conn: conn, _dir: dir })
    }

    /// The locks asked for, sorted: what, who, mode, and whether the app still holds it.
    fn locks(&self) -> Vec<(String, String, String, bool)> {
        use std::io::Read;
        let mut locks: Vec<_> = self
            .locks
            .lock()
            .unwrap()
            .iter_mut()
            .map(|(what, who, mode, ours)| {
                // Closed by the app: end of file; held: nothing to read yet.
                let held = matches!(ours.read(&mut [0; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
                (what.clone(), who.clone(), mode.clone(), held)
            })
            .collect();
        locks.sort();
        locks
    }
}

impl Drop for Logind {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// A virtual screen, `:N`, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
    // Xvfb's standard output, kept open: it said its display there.
    _said: std::io::BufReader<std::process::ChildStdout>,
}

impl Xvfb {
    fn start(tools: &Tools) -> anyhow::Result<Self> {
        use std::io::BufRead;
        // Xvfb picks a free display itself (tests start side by side; a killed server's
        // stale lock is its to judge) and writes its number once it accepts connections.
        let mut child = Command::new(&tools.xvfb)
            .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut said = std::io::BufReader::new(child.stdout.take().context("Xvfb's standard output")?);
        let mut line = String::new();
        said.read_line(&mut line)?;
        let Ok(n) = line.trim().parse::<u32>() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("Xvfb did not say its display (it said {line:?})");
        };
        Ok(Self { child, display: format!(":{n}"), _said: said })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM: Xvfb removes its lock and socket on the way out.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
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
    fn start(
        tools: &Tools,
        screen: &Xvfb,
        data: &Path,
        artifacts: &Path,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let (port, native) = (free_port()?, free_port()?);
        let log = std::fs::File::create(artifacts.join("tauri-driver.log"))?;
        let _ = std::fs::remove_file(artifacts.join("desktop-app.log"));
        let child = Command::new(&tools.tauri_driver)
            .envs(env.iter().copied())
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

/// The académie's hub: a real `preau serve --role hub` process on loopback, its log in
/// the artifacts. Killed when dropped.
struct Hub {
    child: Child,
    base: String,
    preau: PathBuf,
    data: tempfile::TempDir,
}

impl Hub {
    fn start(tools: &Tools) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let port = free_port()?;
        let artifacts = artifacts_dir().join("class-server");
        std::fs::create_dir_all(&artifacts)?;
        let log = std::fs::File::create(artifacts.join("hub.log"))?;
        let child = Command::new(&tools.preau)
            .arg("--data-dir")
            .arg(data.path())
            .args(["serve", "--role", "hub", "--listen", &format!("127.0.0.1:{port}")])
            .env("PREAU_DISCOVERY", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("running {}", tools.preau.display()))?;
        let mut hub = Self { child, base: format!("http://127.0.0.1:{port}"), preau: tools.preau.clone(), data };
        wait_listening(&mut hub.child, port, "hub")?;
        Ok(hub)
    }

    /// A one-time enrolment code for the school `uai` (`preau hub code`, as the académie).
    fn code(&self, uai: &str) -> anyhow::Result<String> {
        let out = Command::new(&self.preau)
            .arg("--data-dir")
            .arg(self.data.path())
            .args(["hub", "code", "--uai", uai, "--name", "Portable de la classe"])
            .output()?;
        anyhow::ensure!(out.status.success(), "preau hub code: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout)?;
        Ok(text.lines().last().context("no code printed")?.trim().to_owned())
    }

    /// Stops the hub and reads the demo school's directory and CP's cahier de textes there.
    fn stop_and_read(mut self) -> anyhow::Result<(Directory, HomeworkBook)> {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        let reader = preau_sync::Reader::open(&self.data.path().join("replica.db"))?;
        let uai = preau_sync::Uai::parse(DEMO_UAI)?;
        let dir = Directory::load_school(&reader, &uai)?;
        let address = preau_appliance::services::homework::book_address(&uai, &class(&dir, "CP"))?;
        let book = reader.get::<HomeworkBook>(address.id())?.context("no CP book at the hub")?;
        Ok((dir, book))
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the school's appliance answers on [`SchoolLan`].
const SCHOOL_LAN_URL: &str = "http://10.78.0.1:8080";
/// Where the school's server moves to in the mDNS story.
const SCHOOL_LAN_MOVED: &str = "10.78.0.3/24";

/// A school's LAN: its appliance (`preau serve --demo`) in a network namespace of its own,
/// joined to this host by a veth pair (10.78.0.1 there, 10.78.0.2 here), so that the app,
/// on this host, hears its mDNS announcement as a laptop on the school's Wi-Fi would.
/// Needs root; everything is removed on drop.
struct SchoolLan {
    ns: String,
    /// The namespace's end of the veth pair.
    dev: String,
    child: Option<Child>,
    _data: tempfile::TempDir,
}

impl SchoolLan {
    fn start(tools: &Tools) -> Result<Self, String> {
        let id = std::process::id();
        let ns = format!("preau-desk-{id}");
        let (there, here) = (format!("pd{id}a"), format!("pd{id}b"));
        ip(&["netns", "add", &ns])?;
        let mut lan =
            Self { ns, dev: there.clone(), child: None, _data: tempfile::tempdir().map_err(|e| e.to_string())? };
        let ns = lan.ns.clone();
        ip(&["link", "add", &there, "type", "veth", "peer", "name", &here])?;
        ip(&["link", "set", &there, "netns", &ns])?;
        ip(&["-n", &ns, "addr", "add", "10.78.0.1/24", "dev", &there])?;
        ip(&["-n", &ns, "link", "set", &there, "multicast", "on", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&["addr", "add", "10.78.0.2/24", "dev", &here])?;
        ip(&["link", "set", &here, "multicast", "on", "up"])?;
        let artifacts = artifacts_dir().join("mdns");
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(artifacts.join("school.log")).map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &ns])
            .arg(&tools.preau)
            .arg("--data-dir")
            .arg(lan._data.path())
            .args(["serve", "--demo", "--listen", "0.0.0.0:8080"])
            .env("PREAU_DISCOVERY", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?;
        let child = lan.child.insert(child);
        let addr: std::net::SocketAddr = "10.78.0.1:8080".parse().map_err(|e| format!("{e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if child.try_wait().map_err(|e| e.to_string())?.is_some() || Instant::now() > deadline {
                return Err("the school's appliance did not start in its namespace (see mdns/school.log)".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(lan)
    }
}

impl SchoolLan {
    /// Gives the school's server another address in place of 10.78.0.1 (in this order:
    /// deleting a primary address deletes the secondary ones with it).
    fn readdress(&self, to: &str) -> Result<(), String> {
        ip(&["-n", &self.ns, "addr", "del", "10.78.0.1/24", "dev", &self.dev])?;
        ip(&["-n", &self.ns, "addr", "add", to, "dev", &self.dev])
    }
}

impl Drop for SchoolLan {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting the namespace deletes the veth pair, this host's end with it.
        let _ = ip(&["netns", "del", &self.ns]);
    }
}

/// `ip …`, or what it said.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}
