//! The appliance as its users meet it: a real server on 127.0.0.1:0, driven over HTTP by
//! the director, a teacher, parents and pupils.

use crate::common::{self, TestServer, csrf_in};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::Profile;
use reqwest::StatusCode;

#[tokio::test]
async fn a_fresh_appliance_shows_only_setup_until_the_school_exists() {
    let server = TestServer::fresh().await;
    let mut b = server.browser();
    for path in ["/", "/login", "/admin/accounts", "/team"] {
        b.get(path).await.assert_redirect("/setup");
    }
    assert_eq!(b.get("/healthz").await.status, StatusCode::OK);
    let page = b.get("/setup").await;
    page.assert_ok();
    assert!(page.contains("Installer Préau"), "{}", page.body);

    // 1. A wrong UAI and mismatched passwords: refused, with every reason, nothing created.
    let bad = b
        .post(
            "/setup",
            &[
                ("uai", "12345"),
                ("name", "École des Lilas"),
                ("commune", "Plouër"),
                ("first_name", "Anne"),
                ("last_name", "Riou"),
                ("password", "cartable-vert-2026"),
                ("confirm", "lilas-2027"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("sept chiffres") && bad.contains("pas identiques"), "{}", bad.body);
    assert!(bad.contains("École des Lilas"), "the form keeps what was typed");
    assert!(server.directory().school.is_none());

    // 2. The right form creates the school and signs the director in.
    let ok = b
        .post(
            "/setup",
            &[
                ("uai", "0351234a"),
                ("name", "École des Lilas"),
                ("address", "1 place de l'Église"),
                ("postcode", "22490"),
                ("commune", "Plouër"),
                ("academy", "Académie de Rennes"),
                ("civility", "Mme"),
                ("first_name", "Anne"),
                ("last_name", "Riou"),
                ("email", "anne.riou@example.org"),
                ("password", "cartable-vert-2026"),
                ("confirm", "cartable-vert-2026"),
            ],
        )
        .await;
    ok.assert_redirect("/");
    let home = b.get("/").await;
    assert!(home.contains("Bonjour Anne"), "{}", home.body);
    assert_eq!(server.directory().uai().unwrap().as_str(), "0351234A");

    // 3. Setup is closed now; the public page is open; the director can log in again.
    b.get("/setup").await.assert_redirect("/");
    let mut visitor = server.browser();
    assert!(visitor.get("/").await.contains("École des Lilas"));
    let again = visitor.login("anne.riou", "cartable-vert-2026").await;
    assert!(again.contains("Comptes et classes"), "{}", again.body);
    server.stop().await;
}

#[tokio::test]
async fn the_public_page_shows_public_news_only() {
    let server = TestServer::demo().await;
    let page = server.browser().get("/").await;
    page.assert_ok();
    assert!(page.contains("École élémentaire Les Tilleuls") && page.contains("Saint-Aubin-des-Prés"));
    assert!(page.contains("Fête de l&#39;école") || page.contains("Fête de l'école"), "{}", page.body);
    assert!(!page.contains("Conseil des maîtres"), "staff-only news never reaches the public page");
    assert!(page.body.contains("lang=\"fr\""));
}

#[tokio::test]
async fn each_demo_profile_lands_on_its_own_home_page() {
    let server = TestServer::demo().await;
    let cases = [
        ("claire.martin", &["Comptes et classes", "Fiches de connexion", "CM2"][..]),
        ("sophie.lebihan", &["CE1-CE2", "L&#39;équipe de l&#39;école"][..]),
        ("martine.guillemot", &["ATSEM"][..]),
        ("aurelie.kerherve", &["Mes enfants"][..]),
    ];
    for (login, expected) in cases {
        let mut b = server.browser();
        let home = b.login(login, DEMO_PASSWORD).await;
        home.assert_ok();
        for text in expected {
            assert!(home.contains(text), "{login}'s home lacks {text:?}:\n{}", home.body);
        }
    }
}

/// A page kept as rendered (`web::kept`) is served again only to its reader, with that
/// session's CSRF token masked afresh, and never after the replica changed.
#[tokio::test]
async fn a_kept_page_is_its_readers_own_and_never_outlives_a_change() {
    let server = TestServer::demo().await;
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let class = server.directory().current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let pupils = server.directory().pupils_of(&class.id).into_iter().cloned().collect::<Vec<_>>();
    let (lea, other) = (&pupils[0], &pupils[1]);
    let (mut tablet, mut pc) = (common::pupil_browser(&server, lea).await, common::pupil_browser(&server, lea).await);

    // The same page twice, and from her second session: the same words, a token each time.
    let first = tablet.get("/").await;
    let again = tablet.get("/").await;
    let elsewhere = pc.get("/").await;
    let tokens = [&first, &again, &elsewhere].map(|page| csrf_in(&page.body).expect("a form on the home page"));
    assert!(tokens[0] != tokens[1] && tokens[1] != tokens[2] && tokens[0] != tokens[2], "{tokens:?}");
    let words = |page: &common::Page, token: &str| page.body.replace(token, "TOKEN");
    assert_eq!(words(&first, &tokens[0]), words(&again, &tokens[1]));
    assert_eq!(words(&first, &tokens[0]), words(&elsewhere, &tokens[2]));
    // Each token is its session's: the kept page's form works from the second session...
    let mut stranger = server.browser();
    stranger.get("/login").await;
    stranger.csrf = tokens[2].clone();
    assert_eq!(stranger.post("/logout", &[]).await.status, StatusCode::FORBIDDEN, "not another session's");
    pc.post("/logout", &[]).await.assert_redirect("/");

    // ...and another pupil gets her own page, never Léa's.
    let theirs = common::pupil_browser(&server, other).await.get("/").await;
    assert!(theirs.contains(&other.person.first_name) && !theirs.contains(&format!(">{}", lea.person.first_name)));

    // A change reaches the kept page at once.
    let title = "Réciter la poésie « Le Corbeau et le Renard »";
    let today = preau_appliance::platform::clock::today();
    let fields = [("assigned_on", today.as_str()), ("subject", "Français"), ("title", title), ("due_on", "2099-01-01")];
    let week = format!("/classes/{}/homework", class.id);
    assert!(!teacher.get(&week).await.contains(title));
    teacher.post(&week, &fields).await.assert_redirect(&format!("{week}?week={today}"));
    assert!(tablet.get("/").await.contains(title), "the pupil's home");
    assert!(teacher.get(&week).await.contains(title), "the teacher's week");
}

/// Error pages speak the reader's language, as the pages do; French by default.
#[tokio::test]
async fn error_pages_speak_the_readers_language() {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    let english = b.get_in("en-GB,en;q=0.9", "/no-such-page").await;
    assert_eq!(english.status, StatusCode::NOT_FOUND);
    assert!(english.contains("This page does not exist") && english.contains("lang=\"en\""), "{}", english.body);
    let french = b.get("/no-such-page").await;
    assert_eq!(french.status, StatusCode::NOT_FOUND);
    assert!(french.contains("Cette page n&#39;existe pas"), "{}", french.body);
    // A refusal after login too.
    b.login("aurelie.kerherve", DEMO_PASSWORD).await.assert_ok();
    let refused = b.get_in("en", "/team").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(refused.contains("Back to the home page"), "{}", refused.body);
}

/// The desktop app's teacher mode (`web::window`): on its loopback server only the window
/// that launched with the app's key gets anything. No key, a wrong one, or another host
/// name (DNS rebinding) gets a French refusal, and no session.
#[tokio::test]
async fn only_the_desktop_apps_window_uses_its_loopback_server() {
    use preau_appliance::platform::config::WindowKey;
    let key = WindowKey::random();
    let server = TestServer::start(true, |c| c.window_key = Some(key.clone())).await;
    let mut stranger = server.browser();
    let wrong = format!("/launch?key={}", "0".repeat(64));
    for path in ["/", "/login", "/healthz", "/api/v1/school", "/launch", wrong.as_str()] {
        let page = stranger.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("réservée à la fenêtre de l"), "{path}: {}", page.body);
    }
    assert_eq!(stranger.post_raw("/login", &[("login", "sophie.lebihan")]).await.status, StatusCode::FORBIDDEN);
    assert!(stranger.cookie("preau_sid").is_none(), "no session for a refused request");

    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let bound = server.state.bound().unwrap();
    let launch = preau_appliance::web::window::launch_url(bound, &key);
    let port = bound.port();
    let rebound = raw.get(&launch).header("host", format!("preau.evil.example:{port}")).send().await.unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN, "another host name, even with the key");
    let launched = raw.get(&launch).send().await.unwrap();
    // Home from a page of the site, not a redirect: a navigation the app's start page (another
    // site) began would not carry the Strict cookie past a redirect.
    assert_eq!(launched.status(), StatusCode::OK);
    let cookie = launched.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");

    // The window: launched once, then the appliance's pages as anywhere else.
    let mut window = server.browser();
    assert!(window.get(&format!("/launch?key={}", key.0)).await.contains("url=/"));
    let home = window.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert!(home.contains("CE1-CE2"), "{}", home.body);
    assert!(window.get("/localhost-only").await.status == StatusCode::NOT_FOUND, "past the gate, the router");
}

#[tokio::test]
async fn a_parent_with_two_children_switches_between_them_and_sees_no_one_else() {
    let server = TestServer::demo().await;
    let parent = server.member("aurelie.kerherve");
    let dir = server.directory();
    let children = dir.children_of(&parent.id);
    assert_eq!(children.len(), 2, "the demo parent has two children");
    let (a, b) = (children[0].clone(), children[1].clone());
    assert_ne!(a.person.class_id, b.person.class_id, "in two classes");

    let mut browser = server.browser();
    let home = browser.login("aurelie.kerherve", DEMO_PASSWORD).await;
    assert!(home.contains(&a.person.first_name) && home.contains(&b.person.first_name));
    for child in [&a, &b] {
        let page = browser.get(&format!("/child/{}", child.id)).await;
        page.assert_ok();
        let class = dir.class_of(child).unwrap();
        assert!(page.contains(&format!("{} {}", child.person.first_name, child.person.last_name)));
        assert!(page.contains(&class.class.name), "{}", page.body);
        assert!(page.contains("aria-current=\"page\""));
    }
    let stranger = dir.people.values().find(|m| m.profile == Profile::Pupil && m.id != a.id && m.id != b.id).unwrap();
    assert_eq!(browser.get(&format!("/child/{}", stranger.id)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get(&format!("/classes/{}", a.person.class_id)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_a_burst_from_one_device_waits() {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    let page = b.login("claire.martin", "pas-le-bon").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Identifiant ou mot de passe incorrect"));
    let unknown = b.login("personne.inconnue", "pas-le-bon").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "unknown logins answer the same way");
    assert!(unknown.contains("Identifiant ou mot de passe incorrect"));
    for _ in 0..4 {
        b.login("claire.martin", "pas-le-bon").await;
    }
    let locked = b.login("claire.martin", DEMO_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(locked.contains("Trop d"));
    // Another account from another device is not affected.
    let other = server.browser().login("sophie.lebihan", DEMO_PASSWORD).await;
    other.assert_ok();
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_change_nothing() {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await;
    let pupil = server.directory().people.values().find(|m| m.profile == Profile::Pupil).unwrap().clone();
    let before = server.directory().credentials[&pupil.id].clone();
    let path = format!("/accounts/{}/reset", pupil.id);
    for token in ["", "0000000000000000000000000000000", "forged"] {
        let page = b.post_raw(&path, &[("csrf", token)]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(page.contains("Le formulaire a expiré"));
    }
    // A token from another session is refused too.
    let mut other = server.browser();
    other.get("/login").await;
    let foreign = other.csrf.clone();
    assert_eq!(b.post_raw(&path, &[("csrf", foreign.as_str())]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(server.directory().credentials[&pupil.id], before, "nothing changed");
    // And logging out needs the token as well.
    assert_eq!(b.post_raw("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    b.get("/").await.assert_ok();
    b.post("/logout", &[]).await.assert_redirect("/");
    assert!(!b.get("/").await.contains("Comptes et classes"), "logged out");
}

#[tokio::test]
async fn a_teacher_makes_a_class_tablet_and_pupils_log_in_there_with_pictures() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let class = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let pupil = dir.pupils_of(&class.id)[0].clone();
    let secret: Vec<String> = dir.credentials[&pupil.id].picture_secret.split(',').map(Into::into).collect();
    assert_eq!(secret.len(), 3);

    // Before: the login page lists no class and the class's page is closed.
    let mut b = server.browser();
    let login = b.get("/login").await;
    assert!(!login.contains(&format!("/classes/{}/login", class.id)) && login.contains("tablette de la classe"));
    let closed = b.get(&format!("/classes/{}/login", class.id)).await;
    assert_eq!(closed.status, StatusCode::FORBIDDEN);
    assert!(closed.contains("n&#39;est pas une tablette de la classe"), "{}", closed.body);

    // The CP's teacher makes this device a tablet from the class page: it ends her session
    // here and opens the class's login page.
    b.login("julien.roche", DEMO_PASSWORD).await.assert_ok();
    let page = b.get(&format!("/classes/{}", class.id)).await;
    assert!(
        page.contains("Faire de cet appareil une tablette de la classe") && page.contains("Tablettes de la classe : 0")
    );
    assert!(b.cookie("preau_known").is_some(), "her login made this browser one she knows");
    b.post(&format!("/classes/{}/tablet", class.id), &[])
        .await
        .assert_redirect(&format!("/classes/{}/login", class.id));
    assert!(b.cookie("preau_known").is_none(), "a class tablet forgets the accounts it knew");
    let class_page = b.get(&format!("/classes/{}/login", class.id)).await;
    class_page.assert_ok();
    assert!(class_page.contains(&pupil.person.first_name));
    assert!(!b.get("/").await.contains("Julien"), "the teacher is no longer signed in on the tablet");
    assert!(
        b.get("/login").await.contains(&format!("/classes/{}/login", class.id)),
        "the login page leads to the class"
    );
    // Only that class: another class's pupils stay closed here.
    let other = dir.current_classes().into_iter().find(|c| c.class.name != "CP").unwrap().clone();
    assert_eq!(b.get(&format!("/classes/{}/login", other.id)).await.status, StatusCode::FORBIDDEN);

    let path = format!("/classes/{}/login/{}", class.id, pupil.id);
    b.get(&path).await.assert_ok();
    // A wrong sequence: back to the start, with a kind message.
    let wrong = if secret[0] == "cat" { "dog" } else { "cat" };
    let mut entered = String::new();
    for (i, picture) in [wrong, &secret[1], &secret[2]].into_iter().enumerate() {
        let page = b.post(&path, &[("entered", &entered), ("add", picture)]).await;
        if i < 2 {
            page.assert_ok();
            entered =
                page.body.split("name=\"entered\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        } else {
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
            assert!(page.contains("Ce ne sont pas les bonnes images"));
        }
    }
    // The right one opens the session.
    let mut entered = String::new();
    for (i, picture) in secret.iter().enumerate() {
        let page = b.post(&path, &[("entered", &entered), ("add", picture)]).await;
        if i < 2 {
            entered =
                page.body.split("name=\"entered\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        } else {
            page.assert_redirect("/");
        }
    }
    let home = b.get("/").await;
    assert!(home.contains(&format!("Bonjour {}", pupil.person.first_name)), "{}", home.body);
    assert!(home.contains("class=\"pupil\""), "the pupil layout");
    assert!(home.contains("Au revoir"));

    // The teacher withdraws the class's tablets (one was lost): pictures stop working there.
    let mut t = server.browser();
    t.login("julien.roche", DEMO_PASSWORD).await;
    assert!(t.get(&format!("/classes/{}", class.id)).await.contains("Tablettes de la classe : 1"));
    t.post(&format!("/classes/{}/tablets/remove", class.id), &[])
        .await
        .assert_redirect(&format!("/classes/{}", class.id));
    b.post("/logout", &[]).await;
    assert_eq!(b.get(&path).await.status, StatusCode::FORBIDDEN);
}

/// The attacker of ARCHITECTURE.md's calculation: someone on the school network with their
/// own device, a script, and the pupils' ids. Their device is no class tablet, so no guess is
/// ever checked; and even on a class tablet, five wrong sequences lock the pupil until the
/// teacher's one tap.
#[tokio::test]
async fn a_scripted_picture_guesser_never_gets_in() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let class = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let pupils = dir.pupils_of(&class.id);
    let (pupil, classmate) = (pupils[0].clone(), pupils[1].clone());
    let secret: Vec<String> = dir.credentials[&pupil.id].picture_secret.split(',').map(Into::into).collect();
    let api = |cookie: Option<String>, pictures: Vec<String>| {
        let server = &server;
        let pupil = pupil.clone();
        async move {
            let body = serde_json::json!({"class_id": pupil.person.class_id, "pupil_id": pupil.id.as_str(), "pictures": pictures});
            let mut request = reqwest::Client::new().post(format!("{}/api/v1/auth/pictures", server.base)).json(&body);
            if let Some(c) = cookie {
                request = request.header("cookie", c);
            }
            request.send().await.unwrap().status()
        }
    };
    let pictures = preau_appliance::school::accounts::secrets::PICTURES;
    let guesses =
        pictures.iter().flat_map(|a| pictures.iter().map(move |b| vec![a.to_string(), b.to_string(), "key".into()]));

    // 1. Its own device: 300 guesses, a forged tablet cookie, and the right answer itself.
    let forged = Some(format!("preau_tablet={}", "ab".repeat(32)));
    for (n, guess) in guesses.clone().take(300).enumerate() {
        let cookie = if n % 2 == 0 { None } else { forged.clone() };
        assert_eq!(api(cookie, guess).await, StatusCode::FORBIDDEN);
    }
    assert_eq!(api(None, secret.clone()).await, StatusCode::FORBIDDEN, "never checked: no answer to learn from");
    let (status, _) = common::api(&server, "GET", &format!("/api/v1/classes/{}/login", class.id), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "and no list of the class's pupils");
    assert!(!server.state.limits.pupil_locked(pupil.id.as_str()), "nor can it lock the pupil out");

    // 2. On a class tablet: five wrong sequences, then the pupil waits for the teacher.
    let tablet = Some(format!("preau_tablet={}", server.tablet_token(class.id.as_str())));
    let wrong: Vec<Vec<String>> = guesses.filter(|g| *g != secret).take(5).collect();
    for guess in &wrong[..4] {
        assert_eq!(api(tablet.clone(), guess.clone()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(api(tablet.clone(), wrong[4].clone()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        api(tablet.clone(), secret.clone()).await,
        StatusCode::TOO_MANY_REQUESTS,
        "locked even for the right pictures"
    );
    let mut kid = server.tablet(class.id.as_str());
    let path = format!("/classes/{}/login/{}", class.id, pupil.id);
    kid.get(&path).await.assert_ok();
    let locked = kid.post(&path, &[("entered", &secret[..2].join(",")), ("add", &secret[2])]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.contains("Demande à ton enseignant de te débloquer"));
    // A classmate on the same tablet is not held up.
    common::pupil_browser(&server, &classmate).await;
    // Hours pass: still locked. The teacher sees it on the class page and unlocks in one tap.
    let mut t = server.browser();
    t.login("julien.roche", DEMO_PASSWORD).await;
    let page = t.get(&format!("/classes/{}", class.id)).await;
    assert!(page.contains("Bloqué après 5 essais") && page.contains(&format!("/accounts/{}/unlock", pupil.id)));
    t.post(&format!("/accounts/{}/unlock", pupil.id), &[]).await.assert_redirect(&format!("/classes/{}", class.id));
    kid.post(&path, &[("entered", &secret[..2].join(",")), ("add", &secret[2])]).await.assert_redirect("/");
    // Another class's teacher cannot unlock (or learn about) this pupil.
    let mut other = server.browser();
    other.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert_eq!(other.post(&format!("/accounts/{}/unlock", pupil.id), &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_qr_card_opens_a_session_until_the_teacher_revokes_it() {
    let server = TestServer::demo().await;
    let teacher = server.member("sophie.lebihan");
    let dir = server.directory();
    let class = dir.classes_taught_by(&teacher.id)[0].clone();
    let pupil = dir.pupils_of(&class.id)[0].clone();
    let secret = dir.credentials[&pupil.id].qr_secret.clone();
    assert_eq!(secret.len(), 64);

    let mut tablet = server.browser();
    let confirm = tablet.get(&format!("/qr/{secret}")).await;
    confirm.assert_ok();
    assert!(
        confirm.contains(&pupil.person.first_name) && confirm.contains("C&#39;est moi")
            || confirm.contains("C'est moi")
    );
    tablet.post("/qr", &[("secret", &secret)]).await.assert_redirect("/");
    assert!(tablet.get("/").await.contains(&format!("Bonjour {}", pupil.person.first_name)));

    // The teacher prints a new card: the old one stops working.
    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    t.get(&format!("/classes/{}", class.id)).await.assert_ok();
    let letter = t.post(&format!("/accounts/{}/qr", pupil.id), &[]).await;
    letter.assert_redirect(&format!("/letters/account/{}", pupil.id));
    let new_secret = server.directory().credentials[&pupil.id].qr_secret.clone();
    assert_ne!(new_secret, secret);
    let printed = t.get(&format!("/letters/account/{}", pupil.id)).await;
    assert!(printed.contains("<svg"), "the letter carries the new QR card");
    assert!(
        !tablet.get("/").await.contains(&format!("Bonjour {}", pupil.person.first_name)),
        "the old card's session ended"
    );
    let mut other_tablet = server.browser();
    let refused = other_tablet.get(&format!("/qr/{secret}")).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.contains("carte de connexion n&#39;est pas valable")
            || refused.contains("carte de connexion n'est pas valable")
    );
    assert!(other_tablet.get(&format!("/qr/{new_secret}")).await.status.is_success());
}

#[tokio::test]
async fn an_activation_code_forces_a_new_password_and_works_once() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let parent = dir
        .people
        .values()
        .find(|m| m.profile == Profile::Parent && !dir.credentials[&m.id].activation_code.is_empty())
        .unwrap()
        .clone();
    let cred = dir.credentials[&parent.id].clone();
    let mut old_code_session = server.browser();
    old_code_session.login(&cred.login, &cred.activation_code).await;
    let mut b = server.browser();
    let typed = cred.activation_code.to_lowercase().replace('-', " ");
    let page = b.login(&cred.login, &typed).await;
    assert!(page.contains("choisissez votre mot de passe"), "{}", page.body);
    b.get("/").await.assert_redirect("/password");
    let short = b.post("/password", &[("new", "court"), ("confirm", "court")]).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.contains("au moins 8 caractères"));
    b.post("/password", &[("new", "mon-nouveau-mdp"), ("confirm", "mon-nouveau-mdp")]).await.assert_redirect("/");
    assert!(b.get("/").await.contains("Mes enfants"));

    let mut again = server.browser();
    assert_eq!(again.login(&cred.login, &cred.activation_code).await.status, StatusCode::UNAUTHORIZED, "used once");
    // A second session opened with the same code before activation cannot take the account
    // over afterwards: it was ended by the password change.
    assert!(!old_code_session.get("/password").await.contains("choisissez votre mot de passe"));
    let takeover = old_code_session.post("/password", &[("new", "pirate-pirate"), ("confirm", "pirate-pirate")]).await;
    assert_ne!(takeover.location.as_deref(), Some("/"), "refused");
    assert!(again.login(&cred.login, "mon-nouveau-mdp").await.contains("Mes enfants"));
}

#[tokio::test]
async fn a_teacher_resets_a_pupils_pictures_and_prints_the_class_letters() {
    let server = TestServer::demo().await;
    let teacher = server.member("sophie.lebihan");
    let dir = server.directory();
    let class = dir.classes_taught_by(&teacher.id)[0].clone();
    let pupils = dir.pupils_of(&class.id);
    let pupil = pupils[0].clone();
    let old = dir.credentials[&pupil.id].clone();

    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    t.get(&format!("/classes/{}", class.id)).await.assert_ok();
    t.post(&format!("/accounts/{}/reset", pupil.id), &[])
        .await
        .assert_redirect(&format!("/letters/account/{}", pupil.id));
    let new = server.directory().credentials[&pupil.id].clone();
    assert_ne!(new.activation_code, old.activation_code);
    assert!(new.must_change_password);

    let letters = t.get(&format!("/letters/class/{}/pupils", class.id)).await;
    letters.assert_ok();
    assert_eq!(letters.body.matches("class=\"letter\"").count(), pupils.len(), "one letter per pupil");
    assert_eq!(letters.body.matches("<svg").count(), pupils.len(), "each with its QR card");
    assert!(
        letters.contains(&preau_appliance::web::asset("letters.css")) && !letters.contains("https://"),
        "prints with no internet"
    );
    let parents = t.get(&format!("/letters/class/{}/parents", class.id)).await;
    parents.assert_ok();
    // One per parent whose children are all in the class (the others are the director's).
    let guardians: std::collections::BTreeSet<_> = pupils
        .iter()
        .flat_map(|p| dir.guardians_of(&p.id))
        .map(|(m, _)| m)
        .filter(|m| dir.children_of(&m.id).iter().all(|c| c.person.class_id == class.id.as_str()))
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(parents.body.matches("class=\"letter\"").count(), guardians.len(), "one letter per parent");
    assert!(parents.contains("Code d&#39;activation") || parents.contains("Code d'activation"));
}

#[tokio::test]
async fn pupil_logins_are_closed_outside_the_school_network() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let class = dir.current_classes()[0].clone();
    let pupil = dir.pupils_of(&class.id)[0].clone();
    let secret = dir.credentials[&pupil.id].qr_secret.clone();
    // The whole router in-process, as if the request came from the internet.
    use tower::ServiceExt;
    let app = preau_appliance::app::router(server.state.clone())
        .layer(axum::extract::connect_info::MockConnectInfo(common::internet_address()));
    // Even a class tablet taken home.
    let tablet = format!("preau_tablet={}", server.tablet_token(class.id.as_str()));
    let get =
        |path: &str| axum::http::Request::get(path).header("cookie", &tablet).body(axum::body::Body::empty()).unwrap();
    for path in [format!("/classes/{}/login", class.id), format!("/qr/{secret}")] {
        let response = app.clone().oneshot(get(&path));
        assert_eq!(response.await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
    let login = app.clone().oneshot(get("/login"));
    let body = axum::body::to_bytes(login.await.unwrap().into_body(), 1 << 20).await.unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("/login\">"), "no class picture-login links from outside");
    // The same in-process router from a school address answers: the refusal above is the
    // address, not a missing connection.
    let lan = preau_appliance::app::router(server.state.clone())
        .layer(axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from(([192, 168, 1, 20], 50000))));
    let response = lan.oneshot(get(&format!("/classes/{}/login", class.id)));
    assert_eq!(response.await.unwrap().status(), StatusCode::OK);
    // From the LAN (the test client is on loopback) they are open.
    server.tablet(class.id.as_str()).get(&format!("/classes/{}/login", class.id)).await.assert_ok();
}

/// Every answer carries the security headers, the JSON API's fallbacks (404, 405) and
/// refusals included; nothing personal is cached; no HSTS over plain HTTP.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = TestServer::demo().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let requests = [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/nowhere"),
        ("GET", "/api/v1/nowhere"),
        ("DELETE", "/api/v1/me"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/auth/login"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/static/style.css"),
        ("POST", "/logout"),
        ("GET", "/healthz"),
    ];
    for (method, path) in requests {
        let r = client.request(method.parse().unwrap(), format!("{}{path}", server.base)).send().await.unwrap();
        let h = r.headers();
        let status = r.status();
        for name in [
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
            "permissions-policy",
            "cache-control",
        ] {
            assert!(h.contains_key(name), "{method} {path} ({status}) lacks {name}");
        }
        assert!(h["permissions-policy"].to_str().unwrap().contains("camera=()"));
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain HTTP");
        if !path.starts_with("/static/") {
            assert_eq!(h["cache-control"], "no-store", "{method} {path}");
        }
        if path.starts_with("/api/") && !status.is_success() {
            assert!(h["content-type"].to_str().unwrap().starts_with("application/json"), "{method} {path}: {status}");
        }
    }
}

#[tokio::test]
async fn sessions_are_cookies_that_scripts_cannot_read() {
    let server = TestServer::demo().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(format!("{}/login", server.base)).send().await.unwrap();
    let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let csp = login.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let body = login.text().await.unwrap();
    let sid = cookie.split(';').next().unwrap().to_owned();
    let token = csrf_in(&body).unwrap();
    let answer = client
        .post(format!("{}/login", server.base))
        .header("cookie", &sid)
        .form(&[("login", "claire.martin"), ("password", DEMO_PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let new_sid = answer.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_ne!(new_sid, sid, "login never keeps the pre-login session id");
    let home = client.get(format!("{}/", server.base)).header("cookie", &new_sid).send().await.unwrap();
    assert!(home.text().await.unwrap().contains("Comptes et classes"));
    let old = client.get(format!("{}/", server.base)).header("cookie", &sid).send().await.unwrap();
    assert!(!old.text().await.unwrap().contains("Comptes et classes"), "the old id is not a session");
}

#[tokio::test]
async fn the_director_sees_the_appliance_address_as_text_and_qr_code_and_prints_a_label() {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await;
    let page = b.get("/admin/appliance").await;
    page.assert_ok();
    let address = server.base.clone();
    assert!(page.contains(&format!("<code>{address}</code>")), "the bound address: {}", page.body);
    assert!(page.contains("<svg"), "and its QR code");
    let label = b.get("/admin/appliance/label").await;
    label.assert_ok();
    assert!(
        label.contains(&address)
            && label.contains("<svg")
            && label.contains(&preau_appliance::web::asset("letters.css"))
    );
}

/// Guessing a password is slowed without locking anyone out: the attacker's tries wait
/// longer and longer, from one address or from many; the owner still gets in from a device
/// she used before, even from the attacker's own address, and with a new letter from
/// anywhere; a tablet showing unknown QR cards holds up no one's password.
#[tokio::test]
async fn guessing_passwords_is_slowed_while_the_owner_still_gets_in() {
    let server = TestServer::demo().await;
    let at = |n: u8| std::net::IpAddr::from([127, 0, 0, n]);
    // The director logs in on her own computer once: it becomes a device her account knows.
    let mut own = common::Browser::from_address(&server.base, at(200));
    own.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    own.post("/logout", &[]).await;

    // 1. One address: five free mistakes, then every try waits, the right password too.
    let mut attacker = common::Browser::from_address(&server.base, at(2));
    for _ in 0..5 {
        assert_eq!(attacker.login("claire.martin", "devine-1234").await.status, StatusCode::UNAUTHORIZED);
    }
    let slowed = attacker.login("claire.martin", DEMO_PASSWORD).await;
    assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS, "a guess is not even checked while it must wait");
    assert!(slowed.contains("allonge l&#39;attente"), "{}", slowed.body);
    // Someone else at the school, on another machine, is not held up.
    common::Browser::from_address(&server.base, at(3)).login("claire.martin", DEMO_PASSWORD).await.assert_ok();

    // 2. Many addresses against the account: after 20 failures in all, devices the account
    // does not know wait too...
    for n in 10..14 {
        let mut b = common::Browser::from_address(&server.base, at(n));
        for _ in 0..5 {
            b.login("claire.martin", "devine-5678").await;
        }
    }
    let stranger = common::Browser::from_address(&server.base, at(99)).login("claire.martin", DEMO_PASSWORD).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
    // Logins typed to look like her own device's counters land elsewhere.
    let mut forger = common::Browser::from_address(&server.base, at(7));
    for login in ["claire.martin:known", "claire.martin/known", "CLAIRE.MARTIN ", "claire.martin:addr:127.0.0.200"] {
        for _ in 0..6 {
            forger.login(login, "devine-0000").await;
        }
    }
    // ...but her own computer gets in at once, and so does she from the attacker's address
    // on it (the school's single address, seen from the hub).
    own.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    own.post("/logout", &[]).await;
    let known = own.cookie("preau_known").expect("her computer is remembered");
    let mut own_at_attacker = common::Browser::build(&server.base, &format!("preau_known={known}"), Some(at(2)));
    own_at_attacker.login("claire.martin", DEMO_PASSWORD).await.assert_ok();

    // 3. A parent whose account is under attack gets a new letter from the director, and
    // its activation code works from any device.
    let parent = server.member("aurelie.kerherve");
    for n in 20..25 {
        let mut b = common::Browser::from_address(&server.base, at(n));
        for _ in 0..5 {
            b.login("aurelie.kerherve", "devine-9999").await;
        }
    }
    // (The director resets it from her own computer: her account is under attack too.)
    own.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    own.post(&format!("/accounts/{}/reset", parent.id), &[("reason", "compte attaqué")]).await;
    let code = server.directory().credentials[&parent.id].activation_code.clone();
    common::Browser::from_address(&server.base, at(98)).login("aurelie.kerherve", &code).await.assert_ok();

    // 4. One address trying many accounts (spraying) waits after 50...
    let mut sprayer = common::Browser::from_address(&server.base, at(5));
    for n in 0..50 {
        assert_eq!(sprayer.login(&format!("inconnu{n}"), "devine").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sprayer.login("julien.roche", DEMO_PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);

    // 5. A class tablet that shows unknown QR cards slows only its QR cards.
    let mut tablet = common::Browser::from_address(&server.base, at(6));
    for n in 0..30 {
        tablet.get(&format!("/qr/{:064x}", n)).await;
    }
    assert_eq!(tablet.get(&format!("/qr/{:064x}", 99)).await.status, StatusCode::TOO_MANY_REQUESTS);
    tablet.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
}

#[tokio::test]
async fn the_director_keeps_classes_groups_and_the_team() {
    let server = TestServer::demo().await;
    let mut d = server.browser();
    d.login("claire.martin", DEMO_PASSWORD).await;
    d.get("/admin/structures").await.assert_ok();
    let people = server.directory().people.len();

    // A new AESH gets an account and a letter with an activation code.
    let form = [
        ("profile", "staff"),
        ("staff_role", "aesh"),
        ("civility", "Mme"),
        ("first_name", "Inès"),
        ("last_name", "Tanguy"),
        ("email", ""),
    ];
    let created = d.post("/admin/people", &form).await;
    let letter_path = created.location.clone().expect("redirect to the letter");
    let letter = d.get(&letter_path).await;
    letter.assert_ok();
    let aesh = server.member("ines.tanguy");
    assert_eq!(aesh.person.staff_role, "aesh");
    let code = server.directory().credentials[&aesh.id].activation_code.clone();
    assert!(letter.contains(&code));

    // A multi-level class, then a teacher for it.
    let body = [("name", "CM1-CM2 B"), ("levels", "CM2"), ("levels", "CM1")];
    d.post("/admin/classes", &body).await.assert_redirect("/admin/structures");
    let dir = server.directory();
    let class = dir.current_classes().into_iter().find(|c| c.class.name == "CM1-CM2 B").unwrap().clone();
    assert_eq!(class.class.levels, ["CM1", "CM2"], "levels in school order");
    let teacher = server.member("sophie.lebihan");
    let path = format!("/admin/classes/{}/teachers", class.id);
    d.post(&path, &[("who", teacher.id.as_str()), ("action", "add")]).await.assert_redirect("/admin/structures");
    assert!(server.directory().classes_taught_by(&teacher.id).iter().any(|c| c.id == class.id));

    // A group with two members, then one removed.
    d.post("/admin/groups", &[("name", "Chorale")]).await.assert_redirect("/admin/structures");
    let (gid, _) = server
        .directory()
        .groups
        .iter()
        .find(|(_, g)| g.name == "Chorale")
        .map(|(k, g)| (k.clone(), g.clone()))
        .unwrap();
    for who in [&teacher.id, &aesh.id] {
        d.post(&format!("/admin/groups/{gid}/members"), &[("who", who.as_str()), ("action", "add")]).await;
    }
    assert_eq!(server.directory().groups[&gid].members.len(), 2);
    d.post(&format!("/admin/groups/{gid}/members"), &[("who", aesh.id.as_str()), ("action", "remove")]).await;
    assert_eq!(server.directory().groups[&gid].members, [teacher.id.to_string()]);
    let page = d.get("/admin/structures").await;
    assert!(page.contains("Chorale") && page.contains("CM1-CM2 B"));

    // Bad input: refused with a French message, nothing changed.
    let before = (server.directory().people.len(), server.directory().classes.len(), server.directory().groups.len());
    for (path, form, message) in [
        (
            "/admin/people",
            vec![("profile", "staff"), ("staff_role", "pirate"), ("first_name", "A"), ("last_name", "B")],
            "Choisissez la fonction",
        ),
        ("/admin/people", vec![("profile", "director"), ("first_name", "A"), ("last_name", "B")], "Choisissez"),
        ("/admin/people", vec![("profile", "teacher"), ("first_name", "  "), ("last_name", "B")], "obligatoires"),
        ("/admin/classes", vec![("name", "CP")], "Cochez au moins un niveau"),
        ("/admin/classes", vec![("name", "CP"), ("levels", "CP")], "déjà ce nom"),
        ("/admin/classes", vec![("name", "X"), ("levels", "6e")], "Cochez au moins un niveau"),
        ("/admin/groups", vec![("name", "chorale")], "déjà ce nom"),
        (path.as_str(), vec![("who", aesh.id.as_str()), ("action", "add")], "Seuls les enseignants"),
    ] {
        let page = d.post(path, &form).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path} {form:?}");
        assert!(page.contains(message), "{path} {form:?}: {}", page.body);
    }
    let after = (server.directory().people.len(), server.directory().classes.len(), server.directory().groups.len());
    assert_eq!(before, after);
    assert_eq!(after.0, people + 1);
    // Only the director: a teacher is refused.
    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert_eq!(t.post("/admin/groups", &[("name", "Club")]).await.status, StatusCode::FORBIDDEN);
}

/// Who may reset what, and the trail it leaves: a teacher resets pupils and never-activated
/// family accounts, never an activated parent's; the director does, with a written reason;
/// the parent is told at her next login, her calendar address dies with her password; the
/// director reads every reset, letter and card in the account log.
#[tokio::test]
async fn an_activated_account_is_reset_only_by_the_director_with_a_reason_and_its_owner_is_told() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    // A parent whose children are all in CE1-CE2 (the teacher manages her account), who
    // activated it with her letter.
    let parent = dir
        .people
        .values()
        .find(|m| {
            m.profile == Profile::Parent
                && dir.children_of(&m.id).iter().all(|c| c.person.class_id == ce.id.as_str())
                && !dir.children_of(&m.id).is_empty()
        })
        .expect("a CE1-CE2 parent")
        .clone();
    let login = dir.credentials[&parent.id].login.clone();
    let mut p = common::activated_browser(&server, &parent, "maman-2026").await;
    let (_, feed) = common::api(
        &server,
        "POST",
        "/api/v1/agenda/feed",
        Some(&common::token(&server, &login, "maman-2026").await),
        None,
    )
    .await;
    let calendar = feed["url"].as_str().unwrap().split_once("/calendar/").unwrap().1.to_owned();
    assert_eq!(server.browser().get(&format!("/calendar/{calendar}")).await.status, StatusCode::OK);

    // 1. The class's teacher: not hers to reset (the page says whose it is); nothing changes.
    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    let roster = t.get(&format!("/classes/{}", ce.id)).await;
    assert!(roster.contains("Compte activé : la direction peut le réinitialiser"));
    let before = common::read_models(&server);
    let refused = t.post(&format!("/accounts/{}/reset", parent.id), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.contains("seule la direction"), "{}", refused.body);
    let tt = common::token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (status, _) =
        common::api(&server, "POST", &format!("/api/v1/accounts/{}/reset", parent.id), Some(&tt), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(common::read_models(&server), before);
    // She still resets a pupil of her class.
    let pupil = dir.pupils_of(&ce.id)[0].clone();
    t.post(&format!("/accounts/{}/reset", pupil.id), &[])
        .await
        .assert_redirect(&format!("/letters/account/{}", pupil.id));

    // 2. The director: a reason is required, then the reset goes through.
    let mut d = server.browser();
    d.login("claire.martin", DEMO_PASSWORD).await;
    assert_eq!(
        d.post(&format!("/accounts/{}/reset", parent.id), &[("reason", "  ")]).await.status,
        StatusCode::BAD_REQUEST
    );
    assert!(!server.directory().credentials[&parent.id].password_hash.is_empty(), "nothing changed");
    d.post(&format!("/accounts/{}/reset", parent.id), &[("reason", "Mot de passe oublié, demande au guichet")])
        .await
        .assert_redirect(&format!("/letters/account/{}", parent.id));
    assert!(!p.get("/").await.contains("Déconnexion"), "her sessions ended");
    assert_eq!(
        server.browser().get(&format!("/calendar/{calendar}")).await.status,
        StatusCode::NOT_FOUND,
        "and her calendar address"
    );

    // Between the director's reset and her return, the account is still not the teacher's:
    // no code on the teacher's letter, no reset.
    let letter = t.get(&format!("/letters/account/{}", parent.id)).await;
    assert!(!letter.contains(&server.directory().credentials[&parent.id].activation_code), "{}", letter.body);
    assert_eq!(t.post(&format!("/accounts/{}/reset", parent.id), &[]).await.status, StatusCode::FORBIDDEN);

    // 3. At her next login, she is told by whom, when and why.
    let code = server.directory().credentials[&parent.id].activation_code.clone();
    let page = p.login(&login, &code).await;
    assert!(
        page.contains("Votre compte a été réinitialisé le")
            && page.contains("par Claire Martin")
            && page.contains("Mot de passe oublié, demande au guichet"),
        "{}",
        page.body
    );
    p.post("/password", &[("new", "nouveau-depart-2026"), ("confirm", "nouveau-depart-2026")])
        .await
        .assert_redirect("/");
    assert!(!p.get("/password").await.contains("réinitialisé"), "told once");
    // A new password also retires a calendar address.
    let pt = common::token(&server, &login, "nouveau-depart-2026").await;
    let (_, feed) = common::api(&server, "POST", "/api/v1/agenda/feed", Some(&pt), None).await;
    let calendar = feed["url"].as_str().unwrap().split_once("/calendar/").unwrap().1.to_owned();
    assert_eq!(server.browser().get(&format!("/calendar/{calendar}")).await.status, StatusCode::OK);
    p.get("/password").await;
    p.post(
        "/password",
        &[("current", "nouveau-depart-2026"), ("new", "autre-depart-2027"), ("confirm", "autre-depart-2027")],
    )
    .await
    .assert_redirect("/");
    assert_eq!(server.browser().get(&format!("/calendar/{calendar}")).await.status, StatusCode::NOT_FOUND);

    // 4. The log: both resets, the letters printed, who did them.
    t.get(&format!("/letters/class/{}/pupils", ce.id)).await.assert_ok();
    let log = d.get("/admin/audit").await;
    log.assert_ok();
    assert!(log.contains("Mot de passe oublié, demande au guichet") && log.contains("Sophie Le Bihan"), "{}", log.body);
    let dt = common::token(&server, "claire.martin", DEMO_PASSWORD).await;
    let (_, lines) = common::api(&server, "GET", "/api/v1/accounts/audit", Some(&dt), None).await;
    let actions: Vec<&str> = lines.as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "Réinitialisation").count(), 2, "{actions:?}");
    assert!(actions.iter().filter(|a| **a == "Fiche de connexion").count() >= dir.pupils_of(&ce.id).len());
    assert_eq!(t.get("/admin/audit").await.status, StatusCode::FORBIDDEN, "the director's only");

    // A class's parents' letters leave out those with a child in another class (the
    // director's), as their single letters and resets do.
    let multi = server.member("aurelie.kerherve");
    let cp = dir.classes_taught_by(&server.member("julien.roche").id)[0].clone();
    let mut j = server.browser();
    j.login("julien.roche", DEMO_PASSWORD).await;
    let letters = j.get(&format!("/letters/class/{}/parents", cp.id)).await;
    letters.assert_ok();
    assert!(!letters.contains(&multi.full_name()), "{}", letters.body);
}
