//! End to end in real headless Chromium, driven over WebDriver (chromedriver + fantoccini).
//!
//! Users' stories, clicking and typing like a user: a teacher logs in and opens her class's
//! roster, a CP pupil logs in with pictures, a parent of two children switches between
//! them, the director imports an ONDE file and prints the class's login letters; on the
//! académie's console, a commune and its convention, two classes of three covered, the
//! contribution and its export, and a day of offline logins counted after the evening sync. On every
//! page type, axe-core (`tests/e2e/node_modules/axe-core`, `npm ci --prefix tests/e2e`)
//! checks WCAG 2.1 A/AA at tablet and desktop sizes and any serious or critical violation
//! fails the test; at 600×1024 (a 7" tablet) no page may scroll sideways; no page carries
//! a script. Screenshots of each role's home page (tablet and desktop), of the pictures
//! keypad and of a letters page go to `$PREAU_ARTIFACTS`, else
//! `<CARGO_TARGET_DIR or target>/preau-artifacts/e2e/`.
//!
//! Without Chromium, chromedriver or axe-core the test prints `SKIPPED: ...` and passes,
//! unless `PREAU_REQUIRE_BROWSER=1` (as in `scripts/test`), which makes it fail.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::{Directory, Member, Profile};
use preau_appliance::web::SignedIn;
use preau_tests::e2e::chromium::{ChromeDriver, Chromium};
use preau_tests::e2e::{Preau, Served, TestServer, artifacts_dir, in_days, say};
use serde_json::{Value, json};

/// A 7" tablet held upright.
const TABLET: (u32, u32) = (600, 1024);
/// A common laptop screen.
const DESKTOP: (u32, u32) = (1366, 768);
/// Les Lilas' setup page, as its director fills it in (but the confirmation).
const LILAS: [(&str, &str); 6] = [
    ("uai", "0351234A"),
    ("name", "École des Lilas"),
    ("commune", "Saint-Aubin-des-Prés"),
    ("first_name", "Anne"),
    ("last_name", "Riou"),
    ("password", "cartable-vert-2026"),
];
/// The WCAG levels checked.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_stories_in_headless_chromium_are_accessible_and_fit_a_tablet() {
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(reason) => {
            if std::env::var("PREAU_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                panic!("PREAU_REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}");
            }
            say(&format!("SKIPPED: browser end-to-end tests: {reason}"));
            return;
        }
    };
    let started = Instant::now();
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).unwrap();
    say(&format!("browser test artifacts (screenshots, chromedriver log): {}", artifacts.display()));

    let driver = ChromeDriver::start(&tools.chromium, &artifacts).expect("starting chromedriver");
    let client = driver.connect(DESKTOP).await.expect("opening a Chromium session");
    let mut b = Browser { client, axe: tools.axe_source, artifacts, problems: Vec::new(), audited: Vec::new() };
    let outcome = stories(&mut b).await;
    let _ = b.client.clone().close().await;
    drop(driver);
    if let Err(e) = outcome {
        panic!("{e:?}\n\naccessibility or layout problems found before that:\n{}", b.problems.join("\n"));
    }
    say(&format!("axe-core checked {} pages in {:.1?}", b.audited.len(), started.elapsed()));
    for page in &b.audited {
        eprintln!("  {page}");
    }
    assert!(b.problems.is_empty(), "{} accessibility or layout problems:\n{}", b.problems.len(), b.problems.join("\n"));
}

async fn stories(b: &mut Browser) -> anyhow::Result<()> {
    setup_story(b).await?;
    let server = TestServer::start(true).await;
    b.client.delete_all_cookies().await?;
    public_and_login_pages(b, &server).await?;
    teacher_story(b, &server).await?;
    pupil_story(b, &server).await?;
    qr_pages(b, &server).await?;
    parent_story(b, &server).await?;
    classroom_story(b, &server).await?;
    staff_home(b, &server).await?;
    activation_code_story(b, &server).await?;
    director_story(b, &server).await?;
    server.stop().await;
    hub_story(b).await?;
    console_story(b).await?;
    Ok(())
}

// ---- the stories ----

/// A fresh appliance: the setup page, refused once (passwords differ), then accepted.
async fn setup_story(b: &mut Browser) -> anyhow::Result<()> {
    let server = TestServer::start(false).await;
    b.goto(&server, "/").await?;
    assert!(b.path().await?.ends_with("/setup"), "a fresh appliance opens on setup");
    b.audit("setup").await?;
    let fields = LILAS.iter().copied().chain([("confirm", "lilas-2027")]);
    for (id, value) in fields {
        b.type_in(&format!("#{id}"), value).await?;
    }
    b.click("form[action='/setup'] button[type=submit]").await?;
    let error = b.text(".error[role=alert]").await?;
    assert!(error.contains("pas identiques"), "{error}");
    b.audit("setup, with errors").await?;
    b.type_in("#password", "cartable-vert-2026").await?;
    b.type_in("#confirm", "cartable-vert-2026").await?;
    b.click("form[action='/setup'] button[type=submit]").await?;
    let hello = b.text("h1").await?;
    assert_eq!(hello, "Bonjour Anne !");
    server.stop().await;
    Ok(())
}

async fn public_and_login_pages(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    b.goto(server, "/").await?;
    assert!(b.text("h1").await?.contains("École élémentaire Les Tilleuls"));
    b.audit("public page").await?;
    b.click("a[href='/login']").await?;
    b.audit("login").await?;
    b.type_in("#login", "claire.martin").await?;
    b.type_in("#password", "pas-le-bon").await?;
    b.click("form[action='/login'] button[type=submit]").await?;
    assert!(b.text(".error[role=alert]").await?.contains("Identifiant ou mot de passe incorrect"));
    b.audit("login, with an error").await?;
    b.goto(server, "/cette-page-n-existe-pas").await?;
    assert!(b.text("main").await?.contains("Cette page n'existe pas"), "the 404 page explains itself");
    b.audit("404 error page").await?;
    Ok(())
}

/// Sophie Le Bihan logs in with the form, sees her class and opens its roster.
async fn teacher_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let teacher = member(&dir, "sophie.lebihan");
    let class = dir.classes_taught_by(&teacher.id)[0];
    b.login(server, "sophie.lebihan", DEMO_PASSWORD).await?;
    assert_eq!(b.text("h1").await?, "Bonjour Sophie !");
    b.audit_home("teacher").await?;
    let tile = b.find(&format!("a.tile[href='/classes/{}']", class.id)).await?;
    assert_eq!(tile.text().await?, "CE1-CE2", "her class's tile");
    b.follow(&tile).await?;
    assert!(b.text("h1").await?.contains("CE1-CE2"));
    let roster = b.text("main table").await?;
    for pupil in dir.pupils_of(&class.id) {
        assert!(roster.contains(&pupil.full_name()), "{} is on the roster", pupil.full_name());
    }
    b.audit("class roster").await?;
    homework_story(b, server, &class.id.to_string()).await?;
    b.click("a.brand").await?;
    b.click("a.tile[href='/team']").await?;
    assert!(b.text("main table").await?.contains("Claire Martin"));
    b.audit("team page").await?;
    b.logout().await
}

/// From the class page, the teacher writes today's lesson and work in the cahier de textes,
/// opens the entry (who has done it) and prints the week.
async fn homework_story(b: &mut Browser, server: &TestServer, class: &str) -> anyhow::Result<()> {
    b.click(&format!("a.button[href='/classes/{class}/homework']")).await?;
    assert!(b.text("h1").await?.contains("Cahier de textes"));
    b.audit("cahier de textes, empty week").await?;
    b.type_in("#subject", "Mathématiques").await?;
    b.type_in("#lesson", "Les tables de 7.").await?;
    b.type_in("#title", "Exercices 3 et 4 p. 42").await?;
    // Date fields take keystrokes in the browser's locale: set the value as a picker would.
    b.client.execute("document.querySelector('#due_on').value = arguments[0]", vec![json!(in_days(2))]).await?;
    b.click("form[action$='/homework'] button[type=submit]").await?;
    assert!(b.text("main").await?.contains("Exercices 3 et 4 p. 42"), "the entry is on the week page");
    b.audit("cahier de textes, a week").await?;
    b.screenshot_at("homework-week", TABLET).await?;
    let ours = "//article[contains(., 'Exercices 3 et 4 p. 42')]//p[@class='hint']/a";
    let link = b.client.find(Locator::XPath(ours)).await.context("the entry's link")?;
    b.follow(&link).await?;
    assert!(b.text("main").await?.contains("Qui a fait ce travail"));
    b.audit("cahier de textes, an entry").await?;
    b.goto(server, &format!("/classes/{class}/homework/print?from={}&to={}", in_days(0), in_days(6))).await?;
    assert!(b.text("main").await?.contains("Les tables de 7."));
    b.audit("cahier de textes, printed").await?;
    b.goto(server, "/").await
}

/// The CP's teacher makes this browser a class tablet; a CP pupil taps the class, their
/// first name, three pictures (wrong once, then right).
async fn pupil_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let class = dir.current_classes().into_iter().find(|c| c.class.name == "CP").expect("a CP class");
    let pupil = dir.pupils_of(&class.id)[0];
    let secret: Vec<&str> = dir.credentials[&pupil.id].picture_secret.split(',').collect();
    assert_eq!(secret.len(), 3);

    b.login(server, "julien.roche", DEMO_PASSWORD).await?;
    b.goto(server, &format!("/classes/{}", class.id)).await?;
    b.audit("class roster, with its tablets").await?;
    b.click(&format!("form[action='/classes/{}/tablet'] button[type=submit]", class.id)).await?;
    assert_eq!(b.path().await?, format!("/classes/{}/login", class.id), "the tablet is ready for the pupils");
    b.goto(server, "/login").await?;
    let tile = b.find(&format!("a.tile[href='/classes/{}/login']", class.id)).await?;
    assert_eq!(tile.text().await?, "CP");
    b.follow(&tile).await?;
    b.audit("class picture-login page").await?;
    let name = b.find(&format!("a.pupil-tile[href='/classes/{}/login/{}']", class.id, pupil.id)).await?;
    assert!(name.text().await?.contains(&pupil.person.first_name));
    b.follow(&name).await?;
    b.audit("pictures keypad").await?;
    b.screenshot_at("pictures-keypad", TABLET).await?;

    let wrong = if secret[0] == "cat" { "dog" } else { "cat" };
    for picture in [wrong, secret[1], secret[2]] {
        b.click(&format!("button[name=add][value='{picture}']")).await?;
    }
    assert!(b.text(".error[role=alert]").await?.contains("Ce ne sont pas les bonnes images"));
    b.audit("pictures keypad, after a wrong sequence").await?;
    for picture in &secret {
        b.click(&format!("button[name=add][value='{picture}']")).await?;
    }
    assert_eq!(b.text("h1").await?, format!("Bonjour {} !", pupil.person.first_name));
    assert!(b.text(".subtitle").await?.contains("CP"));
    b.audit_home("pupil").await?;
    b.click("form.bye button[type=submit]").await?;
    assert!(b.text("h1").await?.contains("Les Tilleuls"), "« Au revoir » leads back to the public page");
    Ok(())
}

/// A QR card opens the confirmation page; a revoked or unknown one is refused.
async fn qr_pages(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let class = dir.current_classes()[0];
    let pupil = dir.pupils_of(&class.id)[1];
    let secret = &dir.credentials[&pupil.id].qr_secret;
    b.goto(server, &format!("/qr/{secret}")).await?;
    assert!(b.text("main").await?.contains(&pupil.person.first_name));
    b.audit("QR card confirmation").await?;
    b.goto(server, &format!("/qr/{}", "0".repeat(64))).await?;
    assert!(b.text("main").await?.contains("pas valable"));
    b.audit("QR card refused (error page)").await?;
    Ok(())
}

/// Aurélie Kerhervé sees both her children and switches to the second one.
async fn parent_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let parent = member(&dir, "aurelie.kerherve");
    let children = dir.children_of(&parent.id);
    assert_eq!(children.len(), 2);
    b.login(server, "aurelie.kerherve", DEMO_PASSWORD).await?;
    let tiles = b.client.find_all(Locator::Css("nav ul.children a.pupil-tile")).await?;
    assert_eq!(tiles.len(), 2, "both children are listed");
    for (tile, child) in tiles.iter().zip(&children) {
        assert!(tile.text().await?.contains(&child.person.first_name));
    }
    let first_class = &dir.class_of(children[0]).unwrap().class.name;
    assert!(b.text("section.card").await?.contains(first_class), "the first child is shown");
    b.follow(&tiles[1]).await?;
    let second = children[1];
    let card = b.text("section.card").await?;
    assert!(card.contains(&second.full_name()), "{card}");
    let second_class = &dir.class_of(second).unwrap().class.name;
    assert!(card.contains(second_class.as_str()), "the second child's class {second_class}: {card}");
    let current = b.find("a.pupil-tile[aria-current=page]").await?;
    assert!(current.text().await?.contains(&second.person.first_name));
    b.audit_home("parent").await?;
    b.logout().await
}

/// A school day: Julien Roche (CP) writes work in the cahier de textes and a note asking for
/// a signature; Aurélie Kerhervé, who has two children, finds the work on her CP child's
/// page and signs; the child ticks the work done; the teacher sees the signature and the tick.
async fn classroom_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let parent = member(&dir, "aurelie.kerherve");
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").expect("a CP class");
    let child = *dir.children_of(&parent.id).iter().find(|c| c.person.class_id == cp.id.as_str()).expect("a CP child");
    let work = "Écouter la chanson de la semaine";

    // 1. The teacher writes the work and the note.
    b.login(server, "julien.roche", DEMO_PASSWORD).await?;
    b.click(&format!("a.tile[href='/classes/{}/homework']", cp.id)).await?;
    b.type_in("#subject", "Éducation musicale").await?;
    b.type_in("#title", work).await?;
    b.client.execute("document.querySelector('#due_on').value = arguments[0]", vec![json!(in_days(1))]).await?;
    b.click("form[action$='/homework'] button[type=submit]").await?;
    b.goto(server, "/").await?;
    b.click("a.tile[href='/agenda']").await?;
    b.type_in("#title", "Chorale").await?;
    b.client.execute("document.querySelector('#starts_on').value = arguments[0]", vec![json!(in_days(2))]).await?;
    b.click("form[action='/agenda'] button[type=submit]").await?;
    assert!(b.text("main").await?.contains("Chorale"));
    b.audit("agenda").await?;
    b.click("form[action='/agenda/feed'] button[type=submit]").await?;
    assert!(b.text("code.url").await?.contains("/calendar/"), "the subscription address");
    b.goto(server, "/").await?;
    b.click("a.tile[href='/staffroom']").await?;
    assert!(b.text("main").await?.contains("Conseil des maîtres"), "the demo's staff-room post");
    b.audit("staff room").await?;
    b.type_in("#title", "Récréation").await?;
    b.type_in("#body", "Je surveille la cour jeudi.").await?;
    b.click("form[action='/news'] button[type=submit]").await?;
    assert_eq!(b.text("h1").await?, "Récréation");
    b.audit("news, a post").await?;
    b.goto(server, "/").await?;
    b.click(&format!("a.tile[href='/classes/{}/liaison']", cp.id)).await?;
    b.audit("carnet de liaison, a class").await?;
    b.type_in("#title", "Sortie à la médiathèque").await?;
    b.type_in("#body", "Jeudi matin, à pied. Merci de signer.").await?;
    b.find("input[name=ask][value=signature]").await?.click().await?;
    b.click("form[action$='/liaison'] button[type=submit]").await?;
    let note_path = b.path().await?;
    assert!(b.text("main").await?.contains("0 signature(s) sur"), "the teacher's note page");
    b.audit("carnet de liaison, a note").await?;
    b.logout().await?;

    // 2. The parent finds the work on her child's page and signs the note.
    b.login(server, "aurelie.kerherve", DEMO_PASSWORD).await?;
    b.click("a.tile[href='/news']").await?;
    assert!(b.text("main").await?.contains("Fête de l'école"), "the school's news");
    assert!(!b.text("main").await?.contains("Récréation"), "not the staff room's");
    b.audit("news, a parent's").await?;
    b.goto(server, "/").await?;
    assert!(b.text("a.tile[href='/liaison']").await?.contains("1 à signer"));
    b.click(&format!("a.pupil-tile[href='/child/{}']", child.id)).await?;
    assert!(b.text("section.todo").await?.contains(work), "the child's work to do");
    b.audit("parent, a child's page with work to do").await?;
    b.click("a.tile[href='/liaison']").await?;
    b.audit("carnet de liaison, a family").await?;
    b.click("form[action$='/sign'] button[type=submit]").await?;
    assert!(b.text("main").await?.contains("Vous avez signé le"));
    b.logout().await?;

    // 3. The child logs in with pictures and ticks the work done.
    let secret: Vec<&str> = dir.credentials[&child.id].picture_secret.split(',').collect();
    b.goto(server, &format!("/classes/{}/login/{}", cp.id, child.id)).await?;
    for picture in &secret {
        b.click(&format!("button[name=add][value='{picture}']")).await?;
    }
    let tick = format!("//li[contains(., '{work}')]//button[contains(@class, 'tick')]");
    let button = b.client.find(Locator::XPath(&tick)).await.context("the tick button")?;
    b.follow(&button).await?;
    assert!(b.text("section.todo").await?.contains("Fini !"));
    b.audit("pupil home, work ticked").await?;
    b.screenshot_at("pupil-todo", TABLET).await?;
    messages_story(b, server, child).await?;
    b.click("form.bye button[type=submit]").await?;

    // 4. The teacher sees the signature and the tick.
    b.login(server, "julien.roche", DEMO_PASSWORD).await?;
    b.goto(server, &note_path).await?;
    assert!(b.text("main").await?.contains("1 signature(s) sur"));
    b.goto(server, &format!("/classes/{}/homework", cp.id)).await?;
    let entry = format!("//article[contains(., '{work}')]//p[@class='hint']/a");
    let link = b.client.find(Locator::XPath(&entry)).await.context("the entry's link")?;
    assert!(link.text().await?.starts_with("1 sur"), "one pupil did it");
    b.follow(&link).await?;
    assert!(b.text("main table").await?.contains(&child.full_name()));
    b.logout().await
}

/// The signed-in pupil writes to their teacher; the message waits for approval; with the
/// page open, the teacher (in another session) delivers it and answers: the answer appears
/// without a reload.
async fn messages_story(b: &mut Browser, server: &TestServer, pupil: &Member) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let teacher = member(&dir, "julien.roche");
    assert!(b.text(".who").await?.contains(&pupil.person.first_name));
    b.click("a.tile[href='/messages']").await?;
    b.audit("messaging, a pupil's conversations").await?;
    b.click("a[href='/messages/new']").await?;
    b.audit("messaging, a new conversation").await?;
    b.find(&format!("input[name=to][value='{}']", teacher.id)).await?.click().await?;
    b.type_in("#subject", "Ma chanson").await?;
    b.type_in("#body", "Je la connais par cœur !").await?;
    b.click("form[action='/messages/new'] button[type=submit]").await?;
    assert!(b.text("#live").await?.contains("En attente de validation"), "held for the teacher");
    b.audit("messaging, a conversation").await?;
    let key = b.path().await?.rsplit('/').next().unwrap_or_default().to_owned();

    let signed_in = SignedIn::of(&server.state.directory(), teacher, false);
    let state = &server.state;
    let view = preau_appliance::services::messaging::read(state, &signed_in, &key).await?;
    preau_appliance::services::messaging::moderate(state, &signed_in, &key, &view.messages[0].id, true).await?;
    let lyrics = preau_appliance::web::upload::Uploaded {
        field: "files".into(),
        name: "paroles.txt".into(),
        mime: "text/plain".into(),
        bytes: "Au clair de la lune".into(),
    };
    preau_appliance::services::messaging::reply(state, &signed_in, &key, "Bravo, chante-la demain !", vec![lyrics])
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.text("#live").await?.contains("Bravo, chante-la demain !") {
        if Instant::now() > deadline {
            bail!("the answer did not appear on the open page");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!b.text("#live").await?.contains("En attente de validation"), "delivered");
    assert!(b.text("#live .files").await?.contains("paroles.txt"), "the attached file arrived with it");
    b.audit("messaging, a conversation after live updates").await?;
    b.goto(server, "/").await
}

async fn staff_home(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    b.login(server, "martine.guillemot", DEMO_PASSWORD).await?;
    assert_eq!(b.text("h1").await?, "Bonjour Martine !");
    assert!(b.text(".subtitle").await?.contains("ATSEM"));
    b.audit_home("atsem").await?;
    b.logout().await
}

/// A parent's first login with the activation code of their letter forces a new password.
async fn activation_code_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let dir = server.state.directory();
    let (login, code) = dir
        .people
        .values()
        .filter(|m| m.profile == Profile::Parent)
        .map(|m| &dir.credentials[&m.id])
        .find(|c| !c.activation_code.is_empty())
        .map(|c| (c.login.clone(), c.activation_code.clone()))
        .expect("a parent who has not activated their account");
    b.login(server, &login, &code).await?;
    assert!(b.path().await?.ends_with("/password"));
    assert!(b.text(".notice").await?.contains("choisissez votre mot de passe"));
    b.audit("password change (forced)").await?;
    b.type_in("#new", "un-beau-mot-de-passe").await?;
    b.type_in("#confirm", "un-beau-mot-de-passe").await?;
    b.click("form[action='/password'] button[type=submit]").await?;
    assert_eq!(b.path().await?, "/", "the new password opens the parent's home page");
    b.find("nav ul.children a.pupil-tile").await.context("the parent's children, after the new password")?;
    b.logout().await
}

/// Claire Martin imports an ONDE extraction, then prints the new class's letters.
async fn director_story(b: &mut Browser, server: &TestServer) -> anyhow::Result<()> {
    let files = tempfile::tempdir()?;
    let good = files.path().join("eleves.csv");
    std::fs::write(
        &good,
        onde_pupils(&[
            ("TANGUY", "Lucie", "14/03/2016", "F", "CM2"),
            ("LE FLOCH", "Mathis", "02/11/2017", "M", "CM1"),
            ("ABGRALL", "Maëlys", "21/06/2016", "F", "CM2"),
        ]),
    )?;
    let bad = files.path().join("eleves-erreurs.csv");
    std::fs::write(&bad, onde_pupils(&[("KERDRAON", "Yuna", "31/02/2017", "F", "CM1")]))?;

    b.login(server, "claire.martin", DEMO_PASSWORD).await?;
    assert_eq!(b.text("h1").await?, "Bonjour Claire !");
    b.audit_home("director").await?;
    b.click("a.tile[href='/admin/accounts']").await?;
    b.audit("accounts page").await?;
    b.click("a.brand").await?;

    // A file with an error: refused, with its line.
    b.click("a.tile[href='/admin/import']").await?;
    assert_eq!(b.text("h1").await?, "Importer depuis ONDE");
    b.audit("ONDE import form").await?;
    b.find("#files").await?.send_keys(bad.to_str().unwrap()).await?;
    b.click("form[action='/admin/import'] button[type=submit]").await?;
    let errors = b.text(".error[role=alert]").await?;
    assert!(errors.contains("eleves-erreurs.csv, ligne 2") && errors.contains("31/02/2017"), "{errors}");
    b.audit("ONDE import with errors").await?;

    // The right file: preview, then import.
    b.find("#files").await?.send_keys(good.to_str().unwrap()).await?;
    b.click("form[action='/admin/import'] button[type=submit]").await?;
    let preview = b.text("main").await?;
    assert!(preview.contains("Ce que l'import va faire"), "{preview}");
    assert!(preview.contains("Élève Lucie TANGUY — CM1-CM2"), "{preview}");
    b.audit("ONDE import preview").await?;
    b.click("form[action='/admin/import/apply'] button[type=submit]").await?;
    assert!(b.text(".notice[role=status]").await?.contains("Import terminé"));
    b.audit("ONDE import done").await?;
    let dir = server.state.directory();
    let class = dir.current_classes().into_iter().find(|c| c.class.name == "CM1-CM2").expect("the imported class");
    let pupils = dir.pupils_of(&class.id);
    assert_eq!(pupils.len(), 3);

    // Login letters: one per pupil, each with its QR card.
    b.click("a.brand").await?;
    b.click("a.tile[href='/admin/letters']").await?;
    b.audit("letters index").await?;
    b.click(&format!("a[href='/letters/class/{}/pupils']", class.id)).await?;
    let letters = b.client.find_all(Locator::Css("article.letter")).await?;
    assert_eq!(letters.len(), pupils.len(), "one letter per pupil");
    for (letter, pupil) in letters.iter().zip(&pupils) {
        assert!(letter.text().await?.contains(&pupil.full_name()));
        letter.find(Locator::Css(".qr svg")).await.context("each letter has its QR card as inline SVG")?;
    }
    b.audit("letters page (pupils)").await?;
    b.screenshot_at("letters-pupils", DESKTOP).await?;
    b.client.back().await?;
    b.click(&format!("a[href='/letters/class/{}/parents']", dir.current_classes()[0].id)).await?;
    assert!(!b.client.find_all(Locator::Css("article.letter")).await?.is_empty());
    b.audit("letters page (parents)").await?;

    // Classes, groups and the team; then the appliance's address and its label.
    b.goto(server, "/").await?;
    b.click("a.tile[href='/admin/structures']").await?;
    b.audit("classes, groups and team").await?;
    b.type_in("#class-name", "CP").await?;
    b.click("form[action='/admin/classes'] button[type=submit]").await?;
    assert!(b.text(".error[role=alert]").await?.contains("Cochez au moins un niveau"));
    b.audit("classes, groups and team, with an error").await?;
    b.goto(server, "/").await?;
    b.click("a.tile[href='/admin/appliance']").await?;
    assert!(b.text("main").await?.contains(&server.base), "the page shows the address");
    b.audit("the appliance's address").await?;
    b.click("a[href='/admin/appliance/label']").await?;
    b.audit("the appliance's label").await?;

    // Synchronisation: not enrolled yet; a code for a teacher's computer.
    b.goto(server, "/").await?;
    b.click("a.tile[href='/admin/sync']").await?;
    assert!(b.text("main").await?.contains("Relier ce serveur au hub académique"));
    b.audit("synchronisation, not enrolled").await?;
    b.click("form[action='/admin/sync/devices'] button[type=submit]").await?;
    assert!(b.text(".code-display").await?.len() == 14, "a code XXXX-XXXX-XXXX is shown");
    b.audit("synchronisation, a device code").await?;
    b.goto(server, "/").await?;
    b.logout().await
}

/// Families at home, across three real `preau` processes: the académie's hub and the
/// appliances of two schools, each over its own data directory. Aurélie Kerhervé has two
/// children at the demo school and a third, Jules, at Les Lilas (set up from its setup
/// page, Jules and his mother imported from ONDE, his class opened to families). Both
/// schools enrol with the hub from their directors' pages and sync; at home she finds her
/// school, links her Les Lilas account with its letter's code, sees all three children
/// from one login, signs a note and writes to a teacher; at the school's next sync the
/// teacher sees both on the school's appliance.
async fn hub_story(b: &mut Browser) -> anyhow::Result<()> {
    let hub = Preau::start(&["--role", "hub"]).await?;
    let demo = Preau::start(&["--demo"]).await?;
    let lilas = Preau::start(&[]).await?;
    let code = |uai: &str| -> anyhow::Result<String> { Ok(hub.run(&["hub", "code", "--uai", uai])?.trim().to_owned()) };

    // Les Lilas, set up from its page, Jules and his mother imported from ONDE; its
    // director opens his class to families and enrols the school with the hub.
    set_up_lilas(b, &lilas).await?;
    let files = tempfile::tempdir()?;
    let pupils = files.path().join("eleves.csv");
    std::fs::write(&pupils, onde_pupils(&[("KERHERVÉ", "Jules", "14/03/2016", "M", "CM1")]))?;
    let guardians = files.path().join("responsables.csv");
    std::fs::write(
        &guardians,
        "Civilité Responsable;Nom usage responsable;Nom responsable;Prénom responsable;Adresse responsable;CP responsable;\
         Commune responsable;Pays;Courriel;Téléphone domicile;Téléphone travail;Téléphone portable;Nom d'usage enfant;\
         Nom de famille enfant;Prénom enfant;Classes enfants\n\
         Mme;KERHERVÉ;KERHERVÉ;Aurélie;;;;;;;;;KERHERVÉ;KERHERVÉ;Jules;CM1-CM2\n",
    )?;
    for file in [&pupils, &guardians] {
        b.goto(&lilas, "/admin/import").await?;
        b.find("#files").await?.send_keys(file.to_str().unwrap()).await?;
        b.click("form[action='/admin/import'] button[type=submit]").await?;
        b.click("form[action='/admin/import/apply'] button[type=submit]").await?;
    }
    let dir = lilas.directory()?;
    let class =
        dir.current_classes().into_iter().find(|c| c.class.name == "CM1-CM2").context("the imported class")?.clone();
    b.goto(&lilas, &format!("/classes/{}", class.id)).await?;
    assert!(b.text("main").await?.contains("pas encore ouverte aux familles"), "a new class starts closed");
    b.audit("class page, closed to families").await?;
    b.click(&format!("form[action='/classes/{}/families'] button[type=submit]", class.id)).await?;
    assert!(b.text("main").await?.contains("Cette classe est ouverte aux familles"));
    b.audit("class page, open to families").await?;
    enrol(b, &lilas, &hub, &code("0351234A")?).await?;
    b.logout().await?;
    let lilas_mother = member(&lilas.directory()?, "aurelie.kerherve").clone();
    let lilas_code = lilas.directory()?.credentials[&lilas_mother.id].activation_code.clone();

    // The demo school enrols too; its CP teacher asks for a signature; both schools sync.
    b.login(&demo, "claire.martin", DEMO_PASSWORD).await?;
    enrol(b, &demo, &hub, &code(preau_appliance::school::demo::DEMO_UAI)?).await?;
    b.logout().await?;
    let dir = demo.directory()?;
    let teacher = member(&dir, "julien.roche").clone();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").context("CP")?.clone();
    b.login(&demo, "julien.roche", DEMO_PASSWORD).await?;
    b.goto(&demo, &format!("/classes/{}/liaison", cp.id)).await?;
    b.type_in("#title", "Piscine").await?;
    b.type_in("#body", "Le maillot, jeudi.").await?;
    b.find("input[name=ask][value=signature]").await?.click().await?;
    b.click(&format!("form[action='/classes/{}/liaison'] button[type=submit]", cp.id)).await?;
    let note = b.path().await?.rsplit('/').next().context("the note's page")?.to_owned();
    b.logout().await?;
    for school in [&demo, &lilas] {
        school.sync_now()?;
    }

    // At home: she finds her school on the hub and logs in as at school.
    b.client.delete_all_cookies().await?;
    b.goto(&hub, "/").await?;
    assert!(b.path().await?.ends_with("/ecoles"), "the hub opens on its schools");
    b.audit("hub: find your school").await?;
    b.type_in("#q", "tilleuls").await?;
    b.click("form[action='/ecoles'] button[type=submit]").await?;
    b.click(&format!("a[href='/ecoles/{}']", preau_appliance::school::demo::DEMO_UAI)).await?;
    assert!(b.text("h1").await?.contains("Les Tilleuls"), "the school's public page");
    b.audit("hub: a school's public page").await?;
    b.click("a[href='/login']").await?;
    assert!(b.text("main").await?.contains("École : École élémentaire Les Tilleuls"));
    b.audit("hub: login").await?;
    b.type_in("#login", "aurelie.kerherve").await?;
    b.type_in("#password", DEMO_PASSWORD).await?;
    b.click("form[action='/login'] button[type=submit]").await?;

    // She links her Les Lilas account with its letter's code.
    b.click("a.tile[href='/family']").await?;
    b.audit("hub: my family").await?;
    b.type_in("#school", "0351234A").await?;
    b.type_in("#login", "aurelie.kerherve").await?;
    b.type_in("#password", &lilas_code).await?;
    b.click("form[action='/family/link'] button[type=submit]").await?;
    assert!(b.text("main").await?.contains("École des Lilas"), "the linked account is listed");
    b.audit("hub: my family, linked").await?;

    // One login, every child: Jules' page opens within Les Lilas, once his mother's account
    // there has chosen its password.
    b.goto(&hub, "/").await?;
    let main = b.text("main").await?;
    assert!(main.contains("Jules"), "Jules, from the other school: {main}");
    b.audit_home("hub, a linked family").await?;
    b.click("form[action='/family/switch'] button[type=submit]").await?;
    assert!(b.path().await?.ends_with("/password"));
    b.type_in("#new", "trois-enfants-2026").await?;
    b.type_in("#confirm", "trois-enfants-2026").await?;
    b.click("form[action='/password'] button[type=submit]").await?;
    assert_eq!(b.text(".school-name").await?, "École des Lilas");

    // Back to the demo school, she signs the note, writes to the teacher, and looks at
    // her notifications' settings.
    b.goto(&hub, "/").await?;
    b.click("form[action='/family/switch'] button[type=submit]").await?;
    assert_eq!(b.text(".school-name").await?, "École élémentaire Les Tilleuls");
    b.goto(&hub, "/liaison").await?;
    b.click(&format!("form[action='/liaison/{note}/sign'] button[type=submit]")).await?;
    assert!(b.text("main").await?.contains("Vous avez signé le"));
    b.goto(&hub, "/messages/new").await?;
    let parent = member(&dir, "aurelie.kerherve");
    let child =
        dir.children_of(&parent.id).into_iter().find(|c| c.person.class_id == cp.id.as_str()).context("a CP child")?;
    b.client
        .execute("document.querySelector('#about').value = arguments[0]", vec![json!(child.id.to_string())])
        .await?;
    b.find(&format!("input[name=to][value='{}']", teacher.id)).await?.click().await?;
    b.type_in("#subject", "Piscine de jeudi").await?;
    b.type_in("#body", "Le maillot est dans le sac.").await?;
    b.click("form[action='/messages/new'] button[type=submit]").await?;
    b.audit("hub: a conversation").await?;
    b.goto(&hub, "/notifications").await?;
    b.audit("hub: my notifications").await?;
    b.logout().await?;

    // At the school's next sync, the teacher sees both on the school's appliance.
    demo.sync_now()?;
    b.login(&demo, "julien.roche", DEMO_PASSWORD).await?;
    b.goto(&demo, &format!("/classes/{}/liaison/{note}", cp.id)).await?;
    let page = b.text("main").await?;
    assert!(page.contains("1 signature(s)"), "her signature reached the school: {page}");
    b.goto(&demo, "/messages").await?;
    assert!(b.text("main").await?.contains("Piscine de jeudi"), "her message reached the teacher");
    b.logout().await?;
    b.client.delete_all_cookies().await?;
    Ok(())
}

/// Les Lilas set up from its first page; its director stays signed in.
async fn set_up_lilas(b: &mut Browser, lilas: &Preau) -> anyhow::Result<()> {
    b.client.delete_all_cookies().await?;
    b.goto(lilas, "/").await?;
    for (id, value) in LILAS.iter().copied().chain([("confirm", "cartable-vert-2026")]) {
        b.type_in(&format!("#{id}"), value).await?;
    }
    b.click("form[action='/setup'] button[type=submit]").await
}

/// The académie's console: its administrator makes the rectorat's account; the rectorat
/// records a commune and a convention, activates the demo school with two of its three
/// classes (the third stays closed, as the school's director reads after its sync), counts
/// the contribution and exports it; then a day of logins on two appliances with no link,
/// synced in the evening, shows in the usage statistics.
async fn console_story(b: &mut Browser) -> anyhow::Result<()> {
    let hub = Preau::start(&["--role", "hub"]).await?;
    let demo = Preau::start(&["--demo"]).await?;
    let lilas = Preau::start(&[]).await?;
    let outcome = console_steps(b, &hub, &demo, &lilas).await;
    outcome.with_context(|| {
        let tail = |p: &Preau| {
            let log = p.log();
            let notable: Vec<&str> = log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
            notable[notable.len().saturating_sub(15)..].join("\n")
        };
        format!("the hub's log:\n{}\nthe demo school's:\n{}\nLes Lilas':\n{}", tail(&hub), tail(&demo), tail(&lilas))
    })
}

async fn console_steps(b: &mut Browser, hub: &Preau, demo: &Preau, lilas: &Preau) -> anyhow::Result<()> {
    let code = |uai: &str| -> anyhow::Result<String> { Ok(hub.run(&["hub", "code", "--uai", uai])?.trim().to_owned()) };
    set_up_lilas(b, lilas).await?;
    enrol(b, lilas, hub, &code("0351234A")?).await?;
    b.logout().await?;
    b.login(demo, "claire.martin", DEMO_PASSWORD).await?;
    enrol(b, demo, hub, &code(preau_appliance::school::demo::DEMO_UAI)?).await?;
    b.logout().await?;
    for school in [demo, lilas] {
        school.sync_now()?;
    }

    // The hub's administrator signs in and makes the rectorat's account.
    let password = hub.run(&["hub", "reset-password"])?.trim().to_owned();
    b.client.delete_all_cookies().await?;
    b.goto(hub, "/hub").await?;
    b.type_in("#password", &password).await?;
    b.click("form[action='/hub/login'] button[type=submit]").await?;
    b.click("a[href='/console']").await?;
    b.click("a[href='/console/accounts']").await?;
    b.audit("console: accounts").await?;
    b.type_in("#name", "Claire Fabre").await?;
    b.click("form[action='/console/accounts'] button[type=submit]").await?;
    let handed = b.text("[aria-labelledby=handover-h]").await?;
    let first = handed.lines().find_map(|l| l.split_once(" : ")).map(|(_, v)| v.trim().to_owned()).context("login")?;
    let drawn = handed
        .lines()
        .filter_map(|l| l.split_once(" : "))
        .nth(1)
        .map(|(_, v)| v.trim().to_owned())
        .context("password")?;
    b.client.delete_all_cookies().await?;

    // The rectorat: her own password first, then a commune and its school.
    b.goto(hub, "/console").await?;
    b.audit("console: sign in").await?;
    b.type_in("#login", &first).await?;
    b.type_in("#password", &drawn).await?;
    b.click("form[action='/console/login'] button[type=submit]").await?;
    assert!(b.path().await?.ends_with("/console/password"), "her own password first");
    b.type_in("#current", &drawn).await?;
    b.type_in("#new", "rectorat-montpellier-2026").await?;
    b.type_in("#confirm", "rectorat-montpellier-2026").await?;
    b.click("form[action='/console/password'] button[type=submit]").await?;
    b.audit("console: home").await?;
    b.type_in("#insee", "35999").await?;
    b.type_in("#name", "Saint-Aubin-des-Prés").await?;
    b.click("form[action='/console/communes'] button[type=submit]").await?;
    b.type_in("#uai", preau_appliance::school::demo::DEMO_UAI).await?;
    b.click("form[action='/console/communes/35999/schools'] button[type=submit]").await?;
    b.type_in("#uai", "0351234A").await?;
    b.click("form[action='/console/communes/35999/schools'] button[type=submit]").await?;
    b.audit("console: a commune").await?;

    // A convention, drafted, signed, and the demo school activated with CP and CE1-CE2.
    b.type_in("#title", "Convention ENT 2026-2029").await?;
    for (id, day) in [("starts_on", in_days(-30)), ("ends_on", in_days(1000))] {
        b.client.execute(&format!("document.querySelector('#{id}').value = arguments[0]"), vec![json!(day)]).await?;
    }
    b.click("form[action='/console/communes/35999/conventions'] button[type=submit]").await?;
    b.click("form[action$='/sign'] button[type=submit]").await?;
    let dir = demo.directory()?;
    let class = |name: &str| dir.current_classes().into_iter().find(|c| c.class.name == name).map(|c| c.id.to_string());
    let (cp, ce) = (class("CP").context("CP")?, class("CE1-CE2").context("CE1-CE2")?);
    let form = format!("#school-{}", preau_appliance::school::demo::DEMO_UAI);
    for c in [&cp, &ce] {
        b.find(&format!("{form} input[name=class][value='{c}']")).await?.click().await?;
    }
    b.click(&format!("{form} button[name=action][value=activate]")).await?;
    let page = b.text("main").await?;
    assert!(page.contains("École activée le"), "the school is activated: {page}");
    b.audit("console: a convention").await?;

    // At school, after its syncs: CM1 is closed, and its director reads why.
    for _ in 0..2 {
        demo.sync_now()?;
    }
    let rectorat_cookies = b.client.get_all_cookies().await?;
    b.client.delete_all_cookies().await?;
    b.login(demo, "claire.martin", DEMO_PASSWORD).await?;
    let home = b.text("main").await?;
    anyhow::ensure!(home.contains("Classes que la convention ENT ne couvre pas (encore) : CM"), "{home}");
    b.audit_home("director, a class not covered").await?;
    b.logout().await?;

    // The contribution, and its export.
    b.client.delete_all_cookies().await?;
    b.goto(hub, "/console").await?;
    for cookie in rectorat_cookies {
        b.client.add_cookie(cookie).await?;
    }
    b.goto(hub, "/console/contributions").await?;
    let pupils = dir.pupils_of(&dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().id).len()
        + dir.pupils_of(&dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().id).len();
    // (WebDriver reads non-breaking spaces as spaces.)
    let amount =
        preau_appliance::academy::contributions::euros(150 * pupils as i64).replace(['\u{a0}', '\u{202f}'], " ");
    let table = b.text("main table").await?;
    assert!(table.contains(&amount), "{pupils} pupils × 1,50 € = {amount}: {table}");
    b.audit("console: contributions").await?;
    let csv_href =
        b.find("a[href^='/console/contributions.csv']").await?.attr("href").await?.context("the CSV link")?;
    // Fetched as the page's own link would be, with the session (a download never shows).
    let csv = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done)",
            vec![json!(csv_href)],
        )
        .await?;
    let csv = csv.as_str().context("the CSV's text")?;
    assert!(
        csv.contains(&format!(";{}", preau_appliance::school::demo::DEMO_UAI))
            && csv.contains(&format!(";{pupils};1.50;")),
        "{csv}"
    );

    // A day with no link: a teacher at the demo school, the director at Les Lilas; in
    // the evening both sync, and the console counts them.
    b.client.delete_all_cookies().await?;
    b.login(demo, "sophie.lebihan", DEMO_PASSWORD).await?;
    b.goto(demo, &format!("/classes/{ce}/homework")).await?;
    b.logout().await?;
    b.client.delete_all_cookies().await?;
    b.login(lilas, "anne.riou", "cartable-vert-2026").await?;
    b.logout().await?;
    for school in [demo, lilas] {
        school.sync_now()?;
    }
    b.client.delete_all_cookies().await?;
    b.goto(hub, "/console").await?;
    b.type_in("#login", &first).await?;
    b.type_in("#password", "rectorat-montpellier-2026").await?;
    b.click("form[action='/console/login'] button[type=submit]").await?;
    b.click("a[href='/console/usage']").await?;
    let schools = b.text("[aria-labelledby=schools-h] table").await?;
    for name in ["École élémentaire Les Tilleuls", "École des Lilas"] {
        let line = schools.lines().find(|l| l.contains(name)).with_context(|| format!("{name} in {schools}"))?;
        let connections: u32 = line.split_whitespace().rev().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(connections >= 1, "{name}'s connections, counted offline and synced: {line}");
    }
    b.find("svg.chart title").await?;
    b.audit("console: usage statistics").await?;
    b.goto(hub, "/console/sync").await?;
    b.audit("console: the schools' sync").await?;
    b.client.delete_all_cookies().await?;
    Ok(())
}

/// The director signed in at `school` enrols it with `hub` from her sync page.
async fn enrol(b: &mut Browser, school: &Preau, hub: &Preau, code: &str) -> anyhow::Result<()> {
    b.goto(school, "/admin/sync").await?;
    b.type_in("#hub", &hub.base).await?;
    b.type_in("#code", code).await?;
    b.click("form[action='/admin/sync/enroll'] button[type=submit]").await?;
    let page = b.text("main").await?;
    anyhow::ensure!(page.contains("Le serveur est relié au hub"), "enrolling: {page}");
    Ok(())
}

/// An ONDE pupils extraction (UTF-8) of one class, CM1-CM2.
fn onde_pupils(rows: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut text = String::from(
        "Nom Elève;Nom d'usage Elève;Prénom Elève;Date naissance;Sexe;Adresse1;Cp1;Commune1;Pays1;\
         Adresse2;Cp2;Commune2;Pays2;\" Cycle\";Niveau;Classe;Attestation fournie;\
         Autorisations associations;Autorisations photos;Décision de passage\n",
    );
    for (last, first, born, sex, level) in rows {
        text.push_str(&format!(
            "{last};;{first};{born};{sex};5 rue du Moulin;35999;Saint-Aubin-des-Prés;FRANCE;;;;;CYCLE III;\
             {level};CM1-CM2;Oui;Oui;Oui;\n"
        ));
    }
    text
}

fn member<'d>(dir: &'d Directory, login: &str) -> &'d Member {
    dir.by_login(login).unwrap_or_else(|| panic!("no account {login}"))
}

// ---- the browser ----

struct Browser {
    client: Client,
    axe: String,
    artifacts: PathBuf,
    /// Serious or critical violations and overflowing pages, reported together at the end.
    problems: Vec<String>,
    /// Pages checked.
    audited: Vec<String>,
}

impl Browser {
    async fn goto(&self, server: &impl Served, path: &str) -> anyhow::Result<()> {
        self.client.goto(&format!("{}{path}", server.base())).await.with_context(|| format!("opening {path}"))
    }

    async fn path(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        self.client.find(Locator::Css(css)).await.with_context(|| format!("no {css} on {url}"))
    }

    async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// Clicks a link or a submit button and waits for the page it leads to.
    async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        self.follow(&element).await.with_context(|| format!("clicking {css}"))
    }

    /// Clicks `element` and waits until another page has replaced this one and has loaded.
    async fn follow(&self, element: &fantoccini::elements::Element) -> anyhow::Result<()> {
        self.client.execute("window.preauLeaving = true", vec![]).await?;
        element.click().await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = self
                .client
                .execute("return window.preauLeaving === undefined && document.readyState === 'complete'", vec![])
                .await;
            if matches!(state, Ok(Value::Bool(true))) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the click led to no new page within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn type_in(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let field = self.find(css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Logs in with the form, as a person would.
    async fn login(&self, server: &impl Served, login: &str, password: &str) -> anyhow::Result<()> {
        self.goto(server, "/login").await?;
        self.type_in("#login", login).await?;
        self.type_in("#password", password).await?;
        self.click("form[action='/login'] button[type=submit]").await?;
        if self.path().await?.ends_with("/login") {
            bail!("{login} could not log in: {}", self.text("main").await?);
        }
        Ok(())
    }

    /// Logs out with the header's button.
    async fn logout(&self) -> anyhow::Result<()> {
        self.click("nav.account form[action='/logout'] button[type=submit]").await?;
        assert!(self.client.find_all(Locator::Css("nav.account")).await?.is_empty(), "logged out");
        Ok(())
    }

    /// Sets the viewport (the window's inside) to `width`×`height`.
    async fn viewport(&self, (width, height): (u32, u32)) -> anyhow::Result<()> {
        self.client.set_window_size(width, height).await?;
        let inner = self.client.execute("return [window.innerWidth, window.innerHeight]", vec![]).await?;
        let (w, h) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
        if (w, h) != (width, height) {
            self.client.set_window_size(2 * width - w, 2 * height - h).await?;
        }
        Ok(())
    }

    /// Checks the current page: French, no script, axe-core at desktop and tablet sizes,
    /// no sideways scrolling on the tablet.
    async fn audit(&mut self, page: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let facts = self
            .client
            .execute(
                "return [document.documentElement.lang,
                         Array.from(document.scripts).filter(s => !(s.defer && new URL(s.src, location).pathname.startsWith('/static/'))).length,
                         document.title, navigator.language]",
                vec![],
            )
            .await?;
        assert_eq!(facts[0], "fr", "{page}: the page is not in French ({facts})");
        assert!(
            facts[3].as_str().is_some_and(|l| l.starts_with("fr")),
            "{page}: Chromium does not ask for French ({facts})"
        );
        if facts[1] != 0 {
            // Only deferred enhancements from /static/ (live messages): pages work without them.
            self.problem(format!("{page}: carries {} inline or blocking <script> elements", facts[1]));
        }
        // The assets at their hashed URLs: every stylesheet applied, every image drawn.
        let missing = self
            .client
            .execute(
                "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)
                   .concat(Array.from(document.querySelectorAll('link[rel=stylesheet]'))
                     .filter(l => !l.sheet || l.sheet.cssRules.length === 0).map(l => l.href))",
                vec![],
            )
            .await?;
        if missing.as_array().is_some_and(|m| !m.is_empty()) {
            self.problem(format!("{page}: assets not loaded: {missing}"));
        }
        self.client.execute(&self.axe, vec![]).await.context("injecting axe-core")?;
        for (size, name) in [(DESKTOP, "desktop"), (TABLET, "tablet")] {
            self.viewport(size).await?;
            for v in self.axe_violations().await? {
                self.problem(format!("{page} ({name}): {v}"));
            }
        }
        let widths =
            self.client.execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![]).await?;
        if widths[0].as_u64() > widths[1].as_u64() {
            self.problem(format!(
                "{page}: scrolls sideways at {}×{} (content {} px wide, window {} px)",
                TABLET.0, TABLET.1, widths[0], widths[1]
            ));
        }
        self.viewport(DESKTOP).await?;
        self.audited.push(format!("{page} — « {} » ({:.1?})", facts[2].as_str().unwrap_or(""), started.elapsed()));
        Ok(())
    }

    /// Records a problem (shown at once in the captured output, and listed at the end).
    fn problem(&mut self, problem: String) {
        eprintln!("PROBLEM: {problem}");
        self.problems.push(problem);
    }

    /// A home page: audited, and photographed at both sizes.
    async fn audit_home(&mut self, role: &str) -> anyhow::Result<()> {
        self.audit(&format!("home page ({role})")).await?;
        self.screenshot_at(&format!("home-{role}"), TABLET).await?;
        self.screenshot_at(&format!("home-{role}"), DESKTOP).await
    }

    async fn screenshot_at(&self, name: &str, size: (u32, u32)) -> anyhow::Result<()> {
        self.viewport(size).await?;
        let png = self.client.screenshot().await?;
        let path = self.artifacts.join(format!("{name}-{}x{}.png", size.0, size.1));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        self.viewport(DESKTOP).await
    }

    /// axe-core's serious and critical WCAG 2.1 A/AA violations on the current page.
    async fn axe_violations(&self) -> anyhow::Result<Vec<String>> {
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })
                .then(r => done(r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                 targets: v.nodes.map(n => n.target.join(' ')) }))))
                .catch(e => done({ error: String(e) }));
        "#;
        let result = self.client.execute_async(script, vec![json!(AXE_TAGS)]).await.context("running axe-core")?;
        if let Some(error) = result.get("error") {
            bail!("axe-core failed: {error}");
        }
        let Value::Array(violations) = result else { bail!("axe-core answered {result}") };
        Ok(violations
            .iter()
            .map(|v| {
                let targets: Vec<&str> =
                    v["targets"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                format!(
                    "[{}] {} — {} — {}",
                    v["impact"].as_str().unwrap_or("?"),
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    targets.join(", ")
                )
            })
            .collect())
    }
}

// ---- tools: Chromium and chromedriver (preau_tests::e2e::chromium), axe-core ----

struct Tools {
    chromium: Chromium,
    axe_source: String,
}

impl Tools {
    /// Everything the test needs, or why it cannot run and how to fix that.
    fn find() -> Result<Self, String> {
        let chromium = Chromium::find()?;
        let axe = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/node_modules/axe-core/axe.min.js");
        let axe_source = std::fs::read_to_string(&axe).map_err(|e| {
            format!("cannot read {} ({e}): install axe-core with `npm ci --prefix tests/e2e`", axe.display())
        })?;
        Ok(Self { chromium, axe_source })
    }
}

// ---- the server ----
