//! The académie's hub as everyone's ENT away from school: real servers on loopback (a hub and
//! two schools' appliances), real syncs. Each person finds her school, logs in within it
//! (two schools may both have a `claire.martin`), and what she does at home reaches the
//! school at its next sync.

use crate::common::{self, Browser, TestServer, api, set_up_school};
use preau_appliance::replication::schedule;
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};
use preau_appliance::school::directory::{Member, Profile, UserId};
use reqwest::StatusCode;
use serde_json::json;

/// The school Les Lilas (`set_up_school`), enrolled with `hub` and synced, with a teacher
/// called Claire Martin: the same login as the demo school's director.
async fn lilas_with_a_claire_martin(hub: &TestServer) -> TestServer {
    let (lilas, mut director) = set_up_school().await;
    let t = common::token(&lilas, "anne.riou", "cartable-vert-2026").await;
    let body = json!({"profile": "teacher", "first_name": "Claire", "last_name": "Martin"});
    let (status, _) = api(&lilas, "POST", "/api/v1/people", Some(&t), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(lilas.directory().by_login("claire.martin").is_some());
    let code = hub.school_code("0351234A");
    let page = director.post("/admin/sync/enroll", &[("hub", &hub.base), ("code", &code)]).await;
    assert!(page.contains("Le serveur est relié au hub"), "{}", page.body);
    assert!(schedule::run_now(&lilas.state).await.ok);
    lilas
}

/// A browser on the hub that chose school `uai` (its letter's address).
pub(crate) async fn at_home(hub: &TestServer, uai: &str) -> Browser {
    let mut b = hub.browser();
    b.get(&format!("/ecoles/{uai}")).await.assert_redirect("/");
    b
}

/// `parent` of `school` activates her account on the hub with her letter's code and
/// chooses « maison-2026 »: her browser there, and her login.
pub(crate) async fn activated_at_home(hub: &TestServer, school: &TestServer, parent: &Member) -> (Browser, String) {
    let credential = school.directory().credentials[&parent.id].clone();
    let mut home = at_home(hub, DEMO_UAI).await;
    home.login(&credential.login, &credential.activation_code).await;
    home.post("/password", &[("new", "maison-2026"), ("confirm", "maison-2026")]).await.assert_redirect("/");
    (home, credential.login)
}

/// A parent of the demo school with a child in CE1-CE2.
pub(crate) fn ce_parent(school: &TestServer) -> (Member, Member) {
    let dir = school.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let child = dir.pupils_of(&ce.id).into_iter().find(|p| !dir.guardians_of(&p.id).is_empty()).unwrap().clone();
    let (parent, _) = dir.guardians_of(&child.id).into_iter().find(|(_, legal)| *legal).unwrap();
    (parent.clone(), child)
}

/// The CE1-CE2 teacher of the demo school, signed in at school, asks the families of
/// `class` to sign a note: her browser, and the note's page.
pub(crate) async fn teacher_asks_a_signature(school: &TestServer, class: &str) -> (Browser, String) {
    let mut teacher = school.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let posted = teacher
        .post(
            &format!("/classes/{class}/liaison"),
            &[("title", "Sortie au musée"), ("body", "Jeudi."), ("ask", "signature"), ("to", "all")],
        )
        .await;
    let note = posted.location.clone().unwrap_or_else(|| panic!("the note: {}", posted.body));
    (teacher, note)
}

#[tokio::test]
async fn two_schools_logins_never_collide_and_each_person_stays_within_her_school() {
    let (hub, demo, _) = crate::replication::enrolled_demo().await;
    let lilas = lilas_with_a_claire_martin(&hub).await;

    // The front door lists both schools, and finds one by its name, accents and case aside.
    let mut visitor = hub.browser();
    visitor.get("/").await.assert_redirect("/ecoles");
    visitor.get("/login").await.assert_redirect("/");
    let all = visitor.get("/ecoles").await;
    assert!(all.contains("École des Lilas") && all.contains(&format!("/ecoles/{DEMO_UAI}")), "{}", all.body);
    let found = visitor.get("/ecoles?q=ECOLE+lilas").await;
    assert!(found.contains("École des Lilas") && !found.contains(DEMO_UAI), "{}", found.body);
    assert_eq!(visitor.get("/ecoles/0000000X").await.status, StatusCode::NOT_FOUND, "no such school");
    assert_eq!(visitor.get("/ecoles/not-a-uai").await.status, StatusCode::NOT_FOUND);

    // The demo school's Claire Martin, its director, logs in with her password...
    let mut director = at_home(&hub, DEMO_UAI).await;
    let public = director.get("/").await;
    assert!(public.contains("École élémentaire Les Tilleuls"), "its public page: {}", public.body);
    let login = director.get("/login").await;
    assert!(login.contains("École : École élémentaire Les Tilleuls"), "{}", login.body);
    let home = director.login("claire.martin", DEMO_PASSWORD).await;
    home.assert_ok();
    assert!(home.contains("Dernière synchronisation de l&#39;école"), "staff see how fresh: {}", home.body);
    // ...and finds no administration of the school on the hub: that is done at school.
    assert_eq!(director.get("/admin/accounts").await.status, StatusCode::NOT_FOUND);
    assert_eq!(director.get("/admin/sync").await.status, StatusCode::NOT_FOUND);
    assert_eq!(director.get("/setup").await.status, StatusCode::NOT_FOUND);

    // Les Lilas' Claire Martin, a teacher who never logged in, does not get in with the
    // director's password, but with her own letter's code, into her own account.
    let mut teacher = at_home(&hub, "0351234A").await;
    let refused = teacher.login("claire.martin", DEMO_PASSWORD).await;
    assert!(refused.contains("Identifiant ou mot de passe incorrect"), "{}", refused.body);
    let lilas_claire = lilas.member("claire.martin");
    let code = lilas.directory().credentials[&lilas_claire.id].activation_code.clone();
    let answer = teacher.login("claire.martin", &code).await;
    assert!(answer.contains("Pour terminer l&#39;activation de votre compte"), "{}", answer.body);
    teacher.post("/password", &[("new", "lilas-tableau-2026"), ("confirm", "lilas-tableau-2026")]).await;
    let home = teacher.get("/").await;
    assert!(home.contains("<span class=\"school-name\">École des Lilas</span>"), "{}", home.body);
    assert!(!home.contains("Les Tilleuls"), "nothing of the other school: {}", home.body);
    // Her new password reaches her school at its next sync, and works there.
    assert!(schedule::run_now(&lilas.state).await.ok);
    let mut at_school = lilas.browser();
    at_school.login("claire.martin", "lilas-tableau-2026").await.assert_ok();
    // The demo director's password did not change, at the hub or at school.
    let mut again = demo.browser();
    again.login("claire.martin", DEMO_PASSWORD).await.assert_ok();

    // Pupils' picture logins never reach the hub: it has no class tablet.
    let dir = demo.directory();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let pupil = dir.pupils_of(&cp.id)[0].clone();
    assert_eq!(pupil.profile, Profile::Pupil);
    let mut tablet = at_home(&hub, DEMO_UAI).await;
    let refused = |status: StatusCode| status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND;
    for path in [format!("/classes/{}/login", cp.id), format!("/classes/{}/login/{}", cp.id, pupil.id)] {
        let page = tablet.get(&path).await;
        assert!(refused(page.status), "{path}: {}", page.status);
    }
    let tried = tablet.post(&format!("/classes/{}/login/{}", cp.id, pupil.id), &[("add", "cat")]).await;
    assert!(refused(tried.status), "{}", tried.status);

    // Their QR card works at home, from the letter's code for home, which leads to the hub.
    let mut teacher_at_school = demo.browser();
    teacher_at_school.login("julien.roche", DEMO_PASSWORD).await.assert_ok();
    let letters = teacher_at_school.get(&format!("/letters/class/{}/pupils", cp.id)).await;
    let home_address = format!("{}/ecoles/{DEMO_UAI}", hub.base);
    assert!(letters.contains("Adresse à la maison") && letters.contains(&home_address), "{}", letters.body);
    let secret = dir.credentials[&pupil.id].qr_secret.clone();
    let mut card = hub.browser();
    assert!(card.get(&format!("/ecoles/{DEMO_UAI}/qr/{secret}")).await.contains(&pupil.person.first_name));
    card.post("/qr", &[("secret", &secret)]).await.assert_redirect("/");
    let home = card.get("/").await;
    assert!(home.contains(&format!("Bonjour {}", pupil.person.first_name)), "{}", home.body);
    // From the internet too (the test's browser is on loopback, which counts as a LAN).
    use tower::ServiceExt;
    let internet = preau_appliance::app::router(hub.state.clone())
        .layer(axum::extract::connect_info::MockConnectInfo(common::internet_address()));
    let request = axum::http::Request::get(format!("/qr/{secret}"))
        .header("cookie", format!("preau_school={DEMO_UAI}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = internet.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = axum::body::to_bytes(answer.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains(&pupil.person.first_name));
    // The card opens nothing at another school.
    let mut elsewhere = at_home(&hub, "0351234A").await;
    assert_eq!(elsewhere.get(&format!("/qr/{secret}")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_parent_signs_and_writes_at_home_and_the_school_sees_it_after_its_next_sync() {
    let (hub, school, _) = crate::replication::enrolled_demo().await;
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    // At school, the teacher asks for a signature; the school syncs.
    let (mut teacher, note_page) = teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    let note = note_page.rsplit('/').next().unwrap().to_owned();
    assert!(schedule::run_now(&school.state).await.ok);

    // At home, the parent activates her account on the hub and signs.
    let (mut home, login) = activated_at_home(&hub, &school, &parent).await;
    let page = home.get("/").await;
    assert!(page.contains("Carnet de liaison (1 à signer)"), "{}", page.body);
    assert!(!page.contains("Dernière synchronisation"), "families are not shown the sync line");
    home.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    // And writes to the teacher about her child.
    let teacher_id = school.member("sophie.lebihan").id;
    let sent = home
        .post(
            "/messages/new",
            &[
                ("about", child.id.as_str()),
                ("to", teacher_id.as_str()),
                ("subject", "Sortie de jeudi"),
                ("body", "Elle a son goûter."),
            ],
        )
        .await;
    assert!(sent.location.is_some(), "{}", sent.body);

    // Nothing reached the school yet; after its next sync, the teacher sees both.
    assert!(teacher.get(&note_page).await.contains("0 signature(s) sur"));
    assert!(schedule::run_now(&school.state).await.ok);
    assert!(teacher.get(&note_page).await.contains("1 signature(s) sur"));
    assert!(teacher.get("/messages").await.contains("Sortie de jeudi"));
    // And her password works at school too.
    let mut at_school = school.browser();
    at_school.login(&login, "maison-2026").await.assert_ok();
}

/// A school's server writes its directory as it likes: one that copies another school's
/// people's ids (a parent's, her child's) reads nothing of that school on the hub, where
/// every read acts within the signed-in person's school.
#[tokio::test]
async fn a_school_that_copies_another_schools_ids_reads_nothing_of_it_on_the_hub() {
    use preau_appliance::school::accounts::secrets::hash_password;
    use preau_appliance::school::directory::SchoolDocs;
    use preau_sync::kinds::credentials::Credential;
    use preau_sync::kinds::directory::{Guardianship, Person, SchoolClass};

    let (hub, demo, _) = crate::replication::enrolled_demo().await;
    let (parent, child) = ce_parent(&demo);
    let ce = demo.directory().class_of(&child).unwrap().clone();
    let (mut teacher, _) = teacher_asks_a_signature(&demo, &ce.id.to_string()).await;
    let sent = teacher
        .post(
            "/messages/new",
            &[("to", parent.id.as_str()), ("about", child.id.as_str()), ("subject", "Lunettes"), ("body", "Oubliées.")],
        )
        .await;
    let conversation = sent.location.clone().expect("a conversation");
    assert!(schedule::run_now(&demo.state).await.ok);

    // Les Lilas' server gives one of its parents the demo parent's id, her child's and his
    // class's.
    let (lilas, _) = set_up_school().await;
    let uai = lilas.directory().uai().unwrap().clone();
    let (parent_id, child_id) = (parent.id.to_string(), child.id.to_string());
    let (class_id, class) = (ce.id.to_string(), ce.class.clone());
    lilas
        .state
        .db
        .run(move |store| {
            SchoolDocs::edit(store, &uai, |docs| {
                let person = |profile: &str, first_name: &str| Person {
                    profile: profile.into(),
                    first_name: first_name.into(),
                    last_name: "Copie".into(),
                    ..Person::default()
                };
                docs.directory.people.insert(parent_id.clone(), person("parent", "Intruse"));
                let pupil = Person { class_id: class_id.clone(), level: "CE1".into(), ..person("pupil", "Enfant") };
                docs.directory.people.insert(child_id.clone(), pupil);
                docs.directory.classes.insert(class_id, SchoolClass { teachers: vec![], ..class });
                let g = Guardianship { parent: parent_id.clone(), child: child_id, legal: true };
                docs.directory.guardianships.insert(Guardianship::key(&g.parent, &g.child), g);
                let credential = Credential {
                    login: "intruse.copie".into(),
                    password_hash: hash_password("intruse-2026"),
                    ..Credential::default()
                };
                docs.credentials.accounts.insert(parent_id, credential);
                Ok(())
            })
        })
        .await
        .unwrap();
    lilas.state.reload_directory().await.unwrap();
    let mut director = lilas.browser();
    director.login("anne.riou", "cartable-vert-2026").await.assert_ok();
    let code = hub.school_code("0351234A");
    director.post("/admin/sync/enroll", &[("hub", &hub.base), ("code", &code)]).await;
    assert!(schedule::run_now(&lilas.state).await.ok);

    // The copy signs in at Les Lilas on the hub and finds nothing of the demo school.
    let mut copy = at_home(&hub, "0351234A").await;
    let home = copy.login("intruse.copie", "intruse-2026").await;
    home.assert_ok();
    assert!(home.contains("Intruse") && !home.contains("à signer") && !home.contains("non lu"), "{}", home.body);
    let notes = copy.get("/liaison").await;
    assert!(!notes.contains("Sortie au musée"), "{}", notes.body);
    let inbox = copy.get("/messages").await;
    assert!(!inbox.contains("Lunettes"), "{}", inbox.body);
    assert_eq!(copy.get(&conversation).await.status, StatusCode::NOT_FOUND);

    // The demo parent herself, at her school on the hub, finds both.
    let (mut own, _) = activated_at_home(&hub, &demo, &parent).await;
    let home = own.get("/").await;
    assert!(home.contains("à signer") && home.contains("non lu"), "{}", home.body);
    assert!(own.get("/liaison").await.contains("Sortie au musée"));
    assert!(own.get(&conversation).await.contains("Oubliées."));
}

/// Les Lilas with a class, a pupil and his mother's account (not activated yet), enrolled
/// with `hub` and synced: (the school, the mother, the child).
async fn lilas_with_a_family(hub: &TestServer) -> (TestServer, Member, Member) {
    use preau_appliance::school::accounts::new_credential;
    use preau_appliance::school::directory::{SchoolDocs, UserId};
    use preau_sync::kinds::directory::{Guardianship, Person, SchoolClass};

    let (lilas, mut director) = set_up_school().await;
    let uai = lilas.directory().uai().unwrap().clone();
    lilas
        .state
        .db
        .run(move |store| {
            SchoolDocs::edit(store, &uai, |docs| {
                let class = UserId::random().to_string();
                docs.directory.classes.insert(
                    class.clone(),
                    SchoolClass {
                        name: "CM1".into(),
                        levels: vec!["CM1".into()],
                        school_year: "2026-2027".into(),
                        families_open: true,
                        ..SchoolClass::default()
                    },
                );
                let (child, mother) = (UserId::random().to_string(), UserId::random().to_string());
                let person = |profile: &str, first_name: &str| Person {
                    profile: profile.into(),
                    first_name: first_name.into(),
                    last_name: "Kerhervé".into(),
                    ..Person::default()
                };
                let pupil = Person { class_id: class, level: "CM1".into(), ..person("pupil", "Jules") };
                let parent = person("parent", "Aurélie");
                let parent_credential = new_credential(&docs.credentials, &parent, Profile::Parent);
                docs.credentials.accounts.insert(mother.clone(), parent_credential);
                let pupil_credential = new_credential(&docs.credentials, &pupil, Profile::Pupil);
                docs.credentials.accounts.insert(child.clone(), pupil_credential);
                docs.directory.people.insert(child.clone(), pupil);
                docs.directory.people.insert(mother.clone(), parent);
                let g = Guardianship { parent: mother, child, legal: true };
                docs.directory.guardianships.insert(Guardianship::key(&g.parent, &g.child), g);
                Ok(())
            })
        })
        .await
        .unwrap();
    lilas.state.reload_directory().await.unwrap();
    let code = hub.school_code("0351234A");
    director.post("/admin/sync/enroll", &[("hub", &hub.base), ("code", &code)]).await;
    assert!(schedule::run_now(&lilas.state).await.ok);
    let mother = lilas.member("aurelie.kerherve");
    let child = lilas.directory().children_of(&mother.id)[0].clone();
    (lilas, mother, child)
}

#[tokio::test]
async fn a_parent_links_her_accounts_of_two_schools_and_sees_every_child_from_one_login() {
    let (hub, demo, _) = crate::replication::enrolled_demo().await;
    let (lilas, lilas_mother, jules) = lilas_with_a_family(&hub).await;
    let (parent, child) = ce_parent(&demo);

    // She logs in at the demo school, on the hub, and links her Les Lilas account with that
    // letter's address and activation code (a wrong one is refused as a login would be).
    let (mut home, _) = activated_at_home(&hub, &demo, &parent).await;
    let page = home.get("/family").await;
    assert!(page.contains("Ajouter un enfant d&#39;une autre école"), "{}", page.body);
    let lilas_address = format!("{}/ecoles/0351234A", hub.base);
    let lilas_code = lilas.directory().credentials[&lilas_mother.id].activation_code.clone();
    let wrong = home
        .post("/family/link", &[("school", &lilas_address), ("login", "aurelie.kerherve"), ("password", "non")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("Identifiant ou mot de passe incorrect"), "{}", wrong.body);
    let unknown = home
        .post("/family/link", &[("school", "0349999Z"), ("login", "aurelie.kerherve"), ("password", &lilas_code)])
        .await;
    assert!(unknown.contains("Cette école n&#39;est pas sur ce site"), "{}", unknown.body);
    home.post("/family/link", &[("school", &lilas_address), ("login", "aurelie.kerherve"), ("password", &lilas_code)])
        .await
        .assert_redirect("/family");
    let again = home
        .post("/family/link", &[("school", "0351234a"), ("login", "aurelie.kerherve"), ("password", &lilas_code)])
        .await;
    assert!(again.contains("Ce compte est déjà relié au vôtre"), "{}", again.body);

    // Her home page shows every child: her demo child as before, Jules from Les Lilas.
    let page = home.get("/").await;
    assert!(page.contains("Vos enfants dans d&#39;autres écoles") && page.contains("Jules Kerhervé"), "{}", page.body);
    assert!(page.contains(&child.person.first_name));
    // Jules' page opens within his school, as her account there, which chooses its
    // password first (it was linked with its activation code).
    let switched = home
        .post(
            "/family/switch",
            &[("school", "0351234A"), ("user", lilas_mother.id.as_str()), ("child", jules.id.as_str())],
        )
        .await;
    switched.assert_redirect("/password");
    assert!(home.get("/password").await.contains("Pour terminer l&#39;activation de votre compte"));
    home.post("/password", &[("new", "cartable-bleu-77"), ("confirm", "cartable-bleu-77")]).await.assert_redirect("/");
    let jules_page = home.get(&format!("/child/{}", jules.id)).await;
    assert!(jules_page.contains("<span class=\"school-name\">École des Lilas</span>"), "{}", jules_page.body);
    assert!(jules_page.contains("Jules"), "{}", jules_page.body);
    // And back, from there, to her other child at the demo school.
    let page = home.get("/").await;
    assert!(page.contains("Vos enfants dans d&#39;autres écoles"), "{}", page.body);
    home.post("/family/switch", &[("school", DEMO_UAI), ("user", parent.id.as_str()), ("child", child.id.as_str())])
        .await
        .assert_redirect(&format!("/child/{}", child.id));

    // Nobody else opens her accounts: another parent of the demo school, signed in.
    let (other, _) = {
        let dir = demo.directory();
        let other = dir.people.values().find(|m| m.profile == Profile::Parent && m.id != parent.id).unwrap().clone();
        (other, ())
    };
    let other_code = demo.directory().credentials[&other.id].activation_code.clone();
    let other_login = demo.directory().credentials[&other.id].login.clone();
    let mut stranger = at_home(&hub, DEMO_UAI).await;
    stranger.login(&other_login, &other_code).await;
    stranger.post("/password", &[("new", "voisin-2026"), ("confirm", "voisin-2026")]).await;
    let tried = stranger
        .post("/family/switch", &[("school", "0351234A"), ("user", lilas_mother.id.as_str()), ("child", "")])
        .await;
    assert_eq!(tried.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger.post("/family/unlink", &[("school", DEMO_UAI), ("user", parent.id.as_str())]).await.status,
        StatusCode::NOT_FOUND
    );

    // The link is the hub's alone: neither school holds it after syncing.
    assert!(schedule::run_now(&demo.state).await.ok && schedule::run_now(&lilas.state).await.ok);
    use preau_appliance::replication::{Replication, links::Account};
    let account = Account { school: preau_sync::Uai::parse(DEMO_UAI).unwrap(), user: parent.id.to_string() };
    assert_eq!(hub.state.part::<Replication>().links.family(&account).unwrap().len(), 2);
    for school in [&demo, &lilas] {
        assert!(school.state.part::<Replication>().links.family(&account).unwrap().is_empty());
    }

    // Either account unlinks: from Les Lilas', the demo account is gone from the family.
    home.get("/").await;
    home.post("/family/switch", &[("school", "0351234A"), ("user", lilas_mother.id.as_str()), ("child", "")])
        .await
        .assert_redirect("/");
    assert!(home.get("/family").await.contains("Aurélie Kerhervé (ce compte)"));
    home.post("/family/unlink", &[("school", DEMO_UAI), ("user", parent.id.as_str())]).await.assert_redirect("/family");
    assert!(!home.get("/").await.contains("Vos enfants dans d&#39;autres écoles"));
    assert_eq!(
        home.post("/family/switch", &[("school", DEMO_UAI), ("user", parent.id.as_str()), ("child", "")]).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Opening a class to its families is the school's choice: until its director or teacher
/// opens it, its parents log in nowhere (at school or on the hub), their letters are not
/// printed, and nobody can write to them about their child; closing it signs them out,
/// on the hub too once the school synced.
#[tokio::test]
async fn a_class_closed_to_families_keeps_its_parents_out_everywhere_until_the_school_opens_it() {
    let (hub, school, mut director) = crate::replication::enrolled_demo().await;
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    assert!(director.get(&format!("/classes/{}", ce.id)).await.contains("Cette classe est ouverte aux familles"));
    let garbled = director.post(&format!("/classes/{}/families", ce.id), &[("open", "peut-être")]).await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST, "neither open nor closed: refused");
    assert!(school.directory().classes[&ce.id].class.families_open, "and nothing changed");
    director
        .post(&format!("/classes/{}/families", ce.id), &[("open", "0")])
        .await
        .assert_redirect(&format!("/classes/{}", ce.id));
    let mut teacher = school.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    assert!(teacher.get(&format!("/classes/{}", ce.id)).await.contains("pas encore ouverte aux familles"));

    // Her letter does not print, and her activation code opens nothing, at school...
    let letters = teacher.get(&format!("/letters/class/{}/parents", ce.id)).await;
    assert_eq!(letters.status, StatusCode::BAD_REQUEST);
    assert!(letters.contains("les fiches des parents s&#39;imprimeront quand elle le sera"), "{}", letters.body);
    assert_eq!(director.get(&format!("/letters/account/{}", parent.id)).await.status, StatusCode::BAD_REQUEST);
    let code = school.directory().credentials[&parent.id].activation_code.clone();
    let login = school.directory().credentials[&parent.id].login.clone();
    let mut at_school = school.browser();
    let refused = at_school.login(&login, &code).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.contains("pas encore ouverte aux familles"), "{}", refused.body);
    // ...nor on the hub once the school synced.
    assert!(schedule::run_now(&school.state).await.ok);
    let mut home = at_home(&hub, DEMO_UAI).await;
    assert!(home.login(&login, &code).await.contains("pas encore ouverte aux familles"));
    // Nobody writes to her about her child meanwhile.
    let teacher_id = school.member("sophie.lebihan").id;
    let form = teacher.get("/messages/new").await;
    assert!(!form.contains(parent.id.as_str()), "she is not offered as a contact");
    let sent = teacher
        .post(
            "/messages/new",
            &[("to", parent.id.as_str()), ("about", child.id.as_str()), ("subject", "x"), ("body", "y")],
        )
        .await;
    assert!(sent.status.is_client_error(), "{}", sent.status);

    // The teacher opens her class: the parent gets in, at school and, after the sync, at home.
    teacher.post(&format!("/classes/{}/families", ce.id), &[("open", "1")]).await;
    at_school.login(&login, &code).await;
    at_school.post("/password", &[("new", "maison-2026"), ("confirm", "maison-2026")]).await.assert_redirect("/");
    assert!(schedule::run_now(&school.state).await.ok);
    home.login(&login, "maison-2026").await.assert_ok();
    assert!(home.get("/liaison").await.status.is_success());
    assert_ne!(teacher_id, parent.id);

    // Closed again: signed out at school at once, and on the hub after the next sync.
    teacher.get(&format!("/classes/{}", ce.id)).await;
    teacher.post(&format!("/classes/{}/families", ce.id), &[("open", "0")]).await;
    at_school.get("/liaison").await.assert_redirect("/login");
    assert!(home.get("/liaison").await.status.is_success(), "the hub has not heard yet");
    assert!(schedule::run_now(&school.state).await.ok);
    home.get("/liaison").await.assert_redirect("/login");
}

/// A link holds only while what proved it does: the account's holder activating it with her
/// own password drops a link made with her letter's code; and a session on the hub ends
/// when the school resets the account, once the school synced.
#[tokio::test]
async fn a_link_and_a_session_last_only_as_long_as_the_credentials_that_proved_them() {
    let (hub, demo, mut director) = crate::replication::enrolled_demo().await;
    let (lilas, lilas_mother, _) = lilas_with_a_family(&hub).await;
    let (parent, _) = ce_parent(&demo);
    let (mut home, _) = activated_at_home(&hub, &demo, &parent).await;
    // Someone who saw the Les Lilas letter links that account to hers...
    let lilas_code = lilas.directory().credentials[&lilas_mother.id].activation_code.clone();
    home.get("/family").await;
    home.post("/family/link", &[("school", "0351234A"), ("login", "aurelie.kerherve"), ("password", &lilas_code)])
        .await
        .assert_redirect("/family");
    // ...then its holder activates it at school with her own password: the link is gone.
    let mut holder = lilas.browser();
    holder.login("aurelie.kerherve", &lilas_code).await;
    holder
        .post("/password", &[("new", "cartable-bleu-77"), ("confirm", "cartable-bleu-77")])
        .await
        .assert_redirect("/");
    assert!(schedule::run_now(&lilas.state).await.ok);
    home.get("/").await;
    let tried =
        home.post("/family/switch", &[("school", "0351234A"), ("user", lilas_mother.id.as_str()), ("child", "")]).await;
    assert_eq!(tried.status, StatusCode::NOT_FOUND, "the code no longer proves anything");
    assert!(!home.get("/family").await.contains("École des Lilas"));

    // The school resets her demo account: her session on the hub ends after the sync.
    assert!(home.get("/liaison").await.status.is_success());
    director.get("/admin/accounts").await;
    director.post(&format!("/accounts/{}/reset", parent.id), &[]).await;
    assert!(schedule::run_now(&demo.state).await.ok);
    home.get("/liaison").await.assert_redirect("/login");
}

/// A parent with a child in an open class and one in a closed class stays on the ENT, but
/// reaches nothing about the second: not even a conversation begun before it closed.
#[tokio::test]
async fn a_closed_class_takes_its_conversations_from_a_parent_still_on_the_ent() {
    let school = TestServer::demo().await;
    let dir = school.directory();
    let parent = school.member("aurelie.kerherve");
    let children = dir.children_of(&parent.id);
    assert_eq!(children.len(), 2, "the demo's parent of two");
    let (closing, staying) = (children[0].clone(), children[1].clone());
    let class = dir.class_of(&closing).unwrap().clone();
    assert_ne!(Some(&class.id), dir.class_of(&staying).map(|c| &c.id), "two classes");
    let teacher_login = dir.credentials[&UserId::parse(&class.class.teachers[0]).unwrap()].login.clone();
    let mut teacher = school.browser();
    teacher.login(&teacher_login, DEMO_PASSWORD).await.assert_ok();
    let sent = teacher
        .post(
            "/messages/new",
            &[("to", parent.id.as_str()), ("about", closing.id.as_str()), ("subject", "Cahier"), ("body", "Oublié.")],
        )
        .await;
    let conversation = sent.location.clone().unwrap_or_else(|| panic!("{}", sent.body));
    let mut mother = school.browser();
    let home = mother.login("aurelie.kerherve", DEMO_PASSWORD).await;
    assert!(home.contains("Messagerie (1 non lu(s))"), "{}", home.body);

    teacher.get(&format!("/classes/{}", class.id)).await;
    teacher.post(&format!("/classes/{}/families", class.id), &[("open", "0")]).await;
    let home = mother.login("aurelie.kerherve", DEMO_PASSWORD).await;
    assert!(!home.contains("non lu"), "the closed class's message is not counted: {}", home.body);
    assert!(!mother.get("/messages").await.contains("Cahier"));
    assert_eq!(mother.get(&conversation).await.status, StatusCode::NOT_FOUND);
}
