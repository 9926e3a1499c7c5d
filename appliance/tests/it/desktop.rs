//! The teacher's computer (the desktop app's teacher mode) as the app's window sees it: its
//! embedded server, run here as a real server on loopback, joins the school's appliance
//! with the teacher's login, brings her classes, works on its own and meets the school again.
//! (The app itself, in a real window, is `src-tauri`'s end-to-end test.)

use std::time::{Duration, Instant};

use preau_appliance::platform::config::{Role, WindowKey};
use preau_appliance::replication::Replication;
use preau_appliance::replication::schedule;
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::Profile;
use preau_sync::Partition;
use serde_json::json;

use crate::common::{self, Browser, Page, TestServer};

/// A teacher's computer that has not joined a school, and its window (launched).
async fn computer() -> (TestServer, Browser) {
    let key = WindowKey::random();
    let device = TestServer::start(false, |c| {
        c.role = Role::Device;
        c.window_key = Some(key.clone());
        // Only when asked: the test says when.
        c.sync_interval_minutes = 0;
        c.sync_window = String::new();
    })
    .await;
    tokio::spawn(schedule::run(device.state.clone()));
    let mut window = device.browser();
    assert!(window.get(&format!("/launch?key={}", key.0)).await.contains("content=\"0;url=/\""));
    (device, window)
}

/// Waits for the first sync the join started, as the page does.
async fn first_sync_done(window: &mut Browser) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = window.get("/join").await;
        if page.status.is_redirection() {
            page.assert_redirect("/");
            return;
        }
        assert!(page.contains("Récupération de vos classes"), "{}", page.body);
        assert!(Instant::now() < deadline, "the first sync did not end: {}", page.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The join page's login form, for the school at `school`.
async fn join_login(w: &mut Browser, school: &TestServer, login: &str, password: &str) -> Page {
    let name = school.directory().school.clone().unwrap().info.name;
    w.post("/join/login", &[("url", &school.base), ("name", &name), ("login", login), ("password", password)]).await
}

fn day(n: i64) -> String {
    preau_appliance::platform::clock::date_of_ms(preau_appliance::platform::clock::now_ms() + n * 86_400_000)
}

#[tokio::test]
async fn a_teacher_joins_her_school_from_her_computer_and_works_there_apart() {
    let school = TestServer::demo().await;
    let ce = school.directory().classes.values().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let t = common::token(&school, "sophie.lebihan", DEMO_PASSWORD).await;
    let entry = |lesson: &str, title: &str| json!({"subject": "Mathématiques", "assigned_on": day(0), "lesson": lesson, "title": title, "due_on": day(1)});
    let book = format!("/api/v1/classes/{}/homework", ce.id);
    let (_, created) = common::api(&school, "POST", &book, Some(&t), Some(entry("Tables de 7.", "Exercice 4"))).await;
    let e = created["id"].as_str().unwrap().to_owned();

    // First run: nothing but the join page, which finds no server (discovery is off here)
    // and takes a typed address.
    let (device, mut w) = computer().await;
    w.get("/").await.assert_redirect("/join");
    w.get("/homework").await.assert_redirect("/join");
    let page = w.get("/join").await;
    assert!(page.contains("Me connecter à mon école") && page.contains("Aucun serveur Préau"), "{}", page.body);
    let page = w.post("/join/server", &[("address", "http://127.0.0.1:9/")]).await;
    assert!(page.contains("Aucun serveur Préau ne répond à l&#39;adresse http://127.0.0.1:9"), "{}", page.body);
    let page = w.post("/join/server", &[("address", "pas une adresse/x")]).await;
    assert!(page.contains("Cette adresse n&#39;est pas valide"), "{}", page.body);
    let address = school.base.trim_start_matches("http://");
    let page = w.post("/join/server", &[("address", address)]).await;
    let name = school.directory().school.clone().unwrap().info.name;
    assert!(page.contains(&format!("Connexion à {name}")), "{}", page.body);

    // Her login: a wrong password, then hers.
    let page = join_login(&mut w, &school, "sophie.lebihan", "pas-le-bon").await;
    assert!(page.contains("Identifiant ou mot de passe incorrect"), "{}", page.body);
    assert!(device.state.part::<Replication>().links.hub().is_none(), "nothing enrolled");
    join_login(&mut w, &school, "sophie.lebihan", DEMO_PASSWORD).await.assert_redirect("/join");
    first_sync_done(&mut w).await;

    // Her computer is hers: her window is signed in as her, and holds her classes only,
    // never anyone's credentials.
    let home = w.get("/").await;
    assert!(home.contains("Sophie") && home.contains("CE1-CE2"), "{}", home.body);
    // Every page says where her work stands (the first run may still be ending: its files).
    footer_says(&mut w, "Synchronisé (à l&#39;instant)").await;
    assert!(!home.contains("action=\"/logout\""), "her window is always her: no logout");
    let uai = school.directory().uai().unwrap().clone();
    let held: Vec<Partition> =
        device.state.db.run_blocking(|s| Ok(s.catalog()?)).unwrap().into_iter().map(|e| e.address.partition).collect();
    assert!(held.contains(&preau_appliance::school::directory::class_partition(&uai, &ce.id)));
    assert!(!held.iter().any(|p| matches!(p, Partition::Accounts(_))), "never the credentials: {held:?}");
    let sophie = school.member("sophie.lebihan").id.to_string();
    let other =
        school.directory().current_classes().into_iter().find(|c| !c.class.teachers.contains(&sophie)).unwrap().clone();
    assert!(!held.contains(&preau_appliance::school::directory::class_partition(&uai, &other.id)));
    let page = w.get(&format!("/classes/{}/homework?week={}", ce.id, day(0))).await;
    assert!(page.contains("Exercice 4"), "{}", page.body);
    // The window is the only way in: the same pages without its key are refused.
    let stranger = device.browser().get("/").await;
    assert_eq!(stranger.status, 403, "{}", stranger.body);

    // Apart: on her computer she adds tomorrow's work and corrects the entry's title; at
    // school, the same entry's lesson gets a line.
    let page = w
        .post_files(
            &format!("/classes/{}/homework", ce.id),
            &[("assigned_on", &day(0)), ("subject", "Français"), ("title", "Lire la page 30"), ("due_on", &day(1))],
            &[],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let page = w
        .post_files(
            &format!("/classes/{}/homework/{e}", ce.id),
            &[
                ("assigned_on", &day(0)),
                ("subject", "Mathématiques"),
                ("lesson", "Tables de 7."),
                ("title", "Exercice 4 et 5"),
                ("due_on", &day(1)),
            ],
            &[],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let (status, _) = common::api(
        &school,
        "PUT",
        &format!("{book}/{e}"),
        Some(&t),
        Some(entry("Tables de 7.\nJeu du furet.", "Exercice 4")),
    )
    .await;
    assert!(status.is_success(), "{status}");

    let page = w.get("/").await;
    assert!(page.contains("En attente : 1 changement") && page.contains("Synchroniser maintenant"), "{}", page.body);

    // Together again (« Synchroniser maintenant »): both sides hold both days' work, and
    // the entry keeps both edits.
    w.post("/sync/now", &[]).await.assert_redirect("/");
    footer_says(&mut w, "Synchronisé (").await;
    let (_, week) = common::api(&school, "GET", &format!("{book}?from={}&to={}", day(0), day(0)), Some(&t), None).await;
    let text = week.to_string();
    assert!(text.contains("Lire la page 30") && text.contains("Exercice 4 et 5"), "{text}");
    assert!(text.contains("Jeu du furet"), "{text}");
    let page = w.get(&format!("/classes/{}/homework/{e}", ce.id)).await;
    assert!(page.contains("Exercice 4 et 5") && page.contains("Jeu du furet"), "{}", page.body);

    // The school's appliance is gone (the laptop went home): she still works, and sees it.
    school.stop().await;
    w.post("/sync/now", &[]).await.assert_redirect("/");
    footer_says(&mut w, "Hors ligne depuis moins d&#39;une minute").await;
    let page = w.get(&format!("/classes/{}/homework/{e}", ce.id)).await;
    assert!(page.contains("Jeu du furet"), "{}", page.body);
}

/// Waits until the footer of the home page says `text` (a sync runs in the background).
async fn footer_says(window: &mut Browser, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = window.get("/").await;
        if page.contains(text) {
            return;
        }
        assert!(Instant::now() < deadline, "the footer never said {text:?}: {}", page.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn only_teachers_keep_classes_and_a_first_login_chooses_its_password_first() {
    let school = TestServer::demo().await;
    let (device, mut w) = computer().await;
    w.get("/join").await;
    let dir = school.directory();
    let parent = dir.people.values().find(|m| m.profile == Profile::Parent).unwrap().clone();
    let cred = dir.credentials[&parent.id].clone();
    // An activation code logs in, but must first become a password (at school).
    let page = join_login(&mut w, &school, &cred.login, &cred.activation_code).await;
    assert!(page.contains("choisissez d&#39;abord votre mot de passe"), "{}", page.body);
    // A parent's account keeps no class on a computer.
    common::activated_browser(&school, &parent, "maman-2026-ok").await;
    let page = join_login(&mut w, &school, &cred.login, "maman-2026-ok").await;
    assert!(page.contains("Seuls les enseignants"), "{}", page.body);
    assert!(device.state.part::<Replication>().links.hub().is_none(), "nothing enrolled");
}

/// A QR code of `text`, 4 pixels a module with its quiet zone: its side and grey pixels.
fn qr_pixels(text: &str) -> (usize, Vec<u8>) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let (modules, colors) = (code.width(), code.to_colors());
    let side = (modules + 8) * 4;
    let pixels = (0..side * side)
        .map(|i| {
            let (mx, my) = ((i % side / 4).wrapping_sub(4), (i / side / 4).wrapping_sub(4));
            let dark = mx < modules && my < modules && colors[my * modules + mx] == qrcode::Color::Dark;
            if dark { 0 } else { 255 }
        })
        .collect();
    (side, pixels)
}

/// Sends a picture as the join page's QR form does.
async fn send(w: &mut Browser, file: &str, bytes: Vec<u8>) -> Page {
    w.post_files_as("/join/qr", "picture", &[], &[(file, bytes)]).await
}

fn png(side: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.write_header().unwrap().write_image_data(pixels).unwrap();
    out
}

#[tokio::test]
async fn the_school_is_found_by_a_picture_of_its_qr_code_and_other_pictures_are_refused() {
    let school = TestServer::demo().await;
    let name = school.directory().school.clone().unwrap().info.name;
    let (device, mut w) = computer().await;
    let page = w.get("/join").await;
    assert!(page.contains("Lire le code QR du serveur") && page.contains("action=\"/join/qr\""), "{}", page.body);
    // The camera card (shown by its script) may use the camera: this page alone.
    assert!(page.contains("id=\"camera\" hidden") && page.contains("join-camera."), "{}", page.body);
    let policy = |page: &Page| page.headers["permissions-policy"].to_str().unwrap().to_owned();
    assert!(policy(&page).starts_with("camera=(self), microphone=()"), "{}", policy(&page));
    assert!(policy(&school.browser().get("/").await).starts_with("camera=(), microphone=()"));

    // Pictures with no address of a server: refused, with what to do, and nothing kept.
    let page = send(&mut w, "photo.gif", b"GIF89a not a picture we read".to_vec()).await;
    assert!(page.contains("Aucun code QR lisible sur cette image"), "{}", page.body);
    let (side, _) = qr_pixels("x");
    let page = send(&mut w, "blanc.png", png(side, &vec![255; side * side])).await;
    assert!(page.contains("Aucun code QR lisible sur cette image"), "{}", page.body);
    let (side, pixels) = qr_pixels("WIFI:S:ecole;T:WPA;P:secret;;");
    let page = send(&mut w, "wifi.png", png(side, &pixels)).await;
    assert!(page.contains("Ce code QR ne donne pas l&#39;adresse d&#39;un serveur Préau"), "{}", page.body);
    assert!(!page.contains("secret"), "what a foreign code holds is not shown");
    let page = w.post_files_as("/join/qr", "picture", &[], &[]).await;
    assert!(page.contains("Choisissez d&#39;abord l&#39;image du code QR"), "{}", page.body);

    // The appliance's label, photographed (JPEG), and a pupil's login card (PNG): the
    // school's login form, as if its address had been typed.
    let (side, pixels) = qr_pixels(&format!("{}/", school.base));
    let mut photo = Vec::new();
    jpeg_encoder::Encoder::new(&mut photo, 80)
        .encode(&pixels, side as u16, side as u16, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let page = send(&mut w, "etiquette.jpg", photo).await;
    assert!(page.contains(&format!("Connexion à {name}")), "{}", page.body);
    assert!(page.contains(&format!("value=\"{}\"", school.base)), "{}", page.body);
    let (side, pixels) = qr_pixels(&format!("{}/qr/AbCdEf0123456789", school.base));
    let page = send(&mut w, "carte.png", png(side, &pixels)).await;
    assert!(page.contains(&format!("Connexion à {name}")), "{}", page.body);
    assert!(!page.contains("AbCdEf0123456789"), "a card's login is not shown");
    assert!(device.state.part::<Replication>().links.hub().is_none(), "nothing enrolled by a picture");

    // The camera's frames: the address a frame's code holds, else nothing (the script looks
    // again); nor is what a foreign code holds said.
    let (side, pixels) = qr_pixels(&format!("{}/", school.base));
    assert_eq!(frame(&mut w, png(side, &pixels)).await, json!({"address": school.base}));
    let (side, pixels) = qr_pixels("WIFI:S:ecole;T:WPA;P:secret;;");
    assert_eq!(frame(&mut w, png(side, &pixels)).await, json!({"address": null}));
    assert_eq!(frame(&mut w, png(side, &vec![255; side * side])).await, json!({"address": null}));
}

/// Sends a frame as the join page's camera script does; what the server read in it.
async fn frame(w: &mut Browser, bytes: Vec<u8>) -> serde_json::Value {
    let page = w.post_files_as("/join/qr/frame", "picture", &[], &[("camera.jpg", bytes)]).await;
    serde_json::from_str(&page.body).unwrap_or_else(|e| panic!("{e}: {}", page.body))
}

#[tokio::test]
async fn away_from_school_her_computer_syncs_with_the_hub_where_the_school_allows_it() {
    let (hub, school, mut director) = crate::replication::enrolled_demo().await;
    let ce = school.directory().classes.values().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let (device, mut w) = computer().await;
    w.get("/join").await;
    join_login(&mut w, &school, "sophie.lebihan", DEMO_PASSWORD).await.assert_redirect("/join");
    first_sync_done(&mut w).await;
    let links = device.state.part::<Replication>().links.clone();
    assert_eq!(links.away(), None, "the school has not allowed it");

    // The director allows it; the hub hears it at the school's next sync, her computer at its own.
    director.post("/admin/sync/away", &[("away", "on")]).await.assert_redirect("/admin/sync");
    assert!(schedule::run_now(&school.state).await.ok);
    assert!(schedule::run_now(&device.state).await.ok);
    let hub_id = hub.state.part::<Replication>().identity.id();
    assert_eq!(links.away().map(|a| (a.url, a.server)), Some((hub.base.clone(), hub_id)));

    // The laptop goes home: the school's appliance no longer answers, the hub does. Her
    // evening's work reaches the hub, and from there the school at its next sync.
    school.stop().await;
    w.get(&format!("/classes/{}/homework", ce.id)).await.assert_ok();
    let page = w
        .post_files(
            &format!("/classes/{}/homework", ce.id),
            &[("assigned_on", &day(0)), ("subject", "Poésie"), ("title", "Réciter la poésie"), ("due_on", &day(1))],
            &[],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    footer_says(&mut w, "En attente : 1 changement").await;
    w.post("/sync/now", &[]).await.assert_redirect("/");
    footer_says(&mut w, "Synchronisé (").await;
    let last = links.last_success().unwrap().unwrap();
    assert_eq!(last.peer, hub_id.to_string(), "{last:?}");
    let entries = &common::read_models(&hub)["homework_entry"];
    assert!(entries.iter().any(|row| format!("{row:?}").contains("Réciter la poésie")), "{entries:?}");
    // Nothing waits: the footer counts what neither her school nor the hub holds.
    assert!(!w.get("/").await.contains("En attente"));
}
