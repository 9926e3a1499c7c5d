//! The académie's console on a real hub holding the demo school (its server enrolled and
//! synced): accounts, a commune and a convention, a school activated with two of its three
//! classes, the third closed at school and on the hub, contributions, the end of a
//! convention, bad input refused with nothing changed, and the console's authorization
//! matrix for every console profile.

use preau_appliance::academy::accounts;
use preau_appliance::replication::schedule::run_now;
use preau_appliance::school::demo::DEMO_UAI;
use preau_appliance::school::directory::{ClassId, Profile, UserId};
use preau_appliance::web::SignedIn;
use reqwest::StatusCode;

use crate::common::{self, Browser, Page, TestServer};

/// The password every console account chooses here.
const PASSWORD: &str = "Un mot de passe bien à moi 2026";

/// The demo school's commune, as the console records it.
const INSEE: &str = "35999";

/// A day `days` from today, `YYYY-MM-DD`.
fn day(days: i64) -> String {
    let today = preau_appliance::platform::text::date(&preau_appliance::platform::clock::today(), "").unwrap();
    preau_appliance::platform::text::iso(today + time::Duration::days(days))
}

/// A browser signed in as the hub's administrator.
async fn hub_admin(hub: &TestServer) -> Browser {
    let session =
        SignedIn::new(None, UserId::parse("0000000000000000").unwrap(), Profile::AcademyAdmin, "Admin".into(), false);
    let sid = hub.state.sessions.start(session);
    let mut b = Browser::with_cookie(&hub.base, &format!("preau_sid={sid}"));
    b.get("/console").await.assert_ok();
    b
}

/// What an account's creation hands over: login and drawn password.
fn handover(page: &Page) -> (String, String) {
    let strong = |after: &str| {
        let i = page.body.find(after).unwrap_or_else(|| panic!("{after} in {}", page.body)) + after.len();
        let rest = &page.body[i..];
        let j = rest.find("<strong").unwrap() + rest[rest.find("<strong").unwrap()..].find('>').unwrap() + 1;
        rest[j..rest[j..].find('<').unwrap() + j].to_owned()
    };
    (strong("Identifiant :"), strong("Mot de passe provisoire :"))
}

/// Creates a console account from `by`'s browser and signs its holder in, with her own
/// password chosen.
async fn account(hub: &TestServer, by: &mut Browser, name: &str, role: &str, commune: &str) -> Browser {
    by.get("/console/accounts").await.assert_ok();
    let page = by.post("/console/accounts", &[("name", name), ("role", role), ("commune", commune)]).await;
    page.assert_ok();
    let (login, password) = handover(&page);
    let mut b = Browser::new(&hub.base);
    b.get("/console").await;
    b.post("/console/login", &[("login", &login), ("password", &password)]).await.assert_redirect("/console/password");
    // Nothing else before her own password.
    b.get("/console/accounts").await.assert_redirect("/console/password");
    b.get("/console/password").await.assert_ok();
    let new = PASSWORD;
    b.post("/console/password", &[("current", &password), ("new", new), ("confirm", new)])
        .await
        .assert_redirect("/console");
    b.get("/console").await.assert_ok();
    b
}

/// The demo school's classes by name.
fn class(school: &TestServer, name: &str) -> ClassId {
    school.directory().current_classes().into_iter().find(|c| c.class.name == name).unwrap().id.clone()
}

/// Posts owned pairs (a form whose fields repeat: the classes covered).
async fn post(b: &mut Browser, path: String, fields: Vec<(String, String)>) -> Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post(&path, &refs).await
}

/// A refusal in French, with nothing changed on the hub.
async fn refused(hub: &TestServer, b: &mut Browser, path: &str, fields: &[(&str, &str)], says: &str) {
    let before = common::read_models(hub);
    let page = b.post(path, fields).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path} {fields:?}: {}", page.body);
    assert!(page.contains(says), "{path}: « {says} » not in {}", page.body);
    assert_eq!(common::read_models(hub), before, "{path} {fields:?} changed something");
}

#[tokio::test]
async fn a_convention_covers_two_classes_the_third_stays_closed_and_its_end_closes_them_without_deleting() {
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;

    // A commune, and the demo school in it; bad input first, refused with nothing changed.
    refused(
        &hub,
        &mut rectorat,
        "/console/communes",
        &[("insee", "20004"), ("name", "Nulle part")],
        "Code INSEE inconnu",
    )
    .await;
    rectorat
        .post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")])
        .await
        .assert_redirect(&format!("/console/communes/{INSEE}"));
    let commune = format!("/console/communes/{INSEE}");
    rectorat.get(&commune).await.assert_ok();
    refused(
        &hub,
        &mut rectorat,
        &format!("{commune}/schools"),
        &[("uai", "0340039A"), ("name", "École fantôme")],
        "UAI inconnu",
    )
    .await;
    rectorat.post(&format!("{commune}/schools"), &[("uai", DEMO_UAI)]).await.assert_redirect(&commune);
    assert!(rectorat.get(&commune).await.contains("École élémentaire Les Tilleuls"));

    // A convention: its dates must be in order.
    let (starts, ends) = (day(-90), day(3 * 365));
    refused(
        &hub,
        &mut rectorat,
        &format!("{commune}/conventions"),
        &[("title", "Convention ENT"), ("starts_on", &ends), ("ends_on", &starts), ("school", DEMO_UAI)],
        "ne peut pas finir avant de commencer",
    )
    .await;
    let made = rectorat
        .post(
            &format!("{commune}/conventions"),
            &[("title", "Convention ENT 2026-2029"), ("starts_on", &starts), ("ends_on", &ends), ("school", DEMO_UAI)],
        )
        .await;
    let convention = made.location.clone().expect("the convention's page");
    let (cp, ce, cm) = (class(&school, "CP"), class(&school, "CE1-CE2"), class(&school, "CM1"));
    let school_form = |action: &'static str, classes: Vec<String>| {
        let mut f: Vec<(String, String)> = vec![("action".into(), action.into()), ("uai".into(), DEMO_UAI.into())];
        f.extend(classes.into_iter().map(|c| ("class".to_owned(), c)));
        f
    };
    // Not signed yet: no school can be activated under it.
    let page =
        post(&mut rectorat, format!("{convention}/schools"), school_form("activate", vec![cp.to_string()])).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Seule une convention signée"), "{}", page.body);
    rectorat.post(&format!("{convention}/sign"), &[("day", &day(-60))]).await.assert_redirect(&convention);

    // A class listed twice is refused; then CP and CE1-CE2 are covered, CM1 is not.
    let before = common::read_models(&hub);
    let page = post(
        &mut rectorat,
        format!("{convention}/schools"),
        school_form("activate", vec![cp.to_string(), cp.to_string()]),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("ne peut être couverte"), "{}", page.body);
    assert_eq!(common::read_models(&hub), before);
    post(&mut rectorat, format!("{convention}/schools"), school_form("activate", vec![cp.to_string(), ce.to_string()]))
        .await
        .assert_redirect(&convention);
    let page = rectorat.get(&convention).await;
    assert!(page.contains("École activée le"), "{}", page.body);

    // On the hub at once: CM1's pupils and families are off the ENT, the others on.
    let on_hub = hub.state.within(&preau_sync::Uai::parse(DEMO_UAI).unwrap()).unwrap().directory();
    assert!(on_hub.class_covered(&cp) && on_hub.class_covered(&ce) && !on_hub.class_covered(&cm));
    let pupil_of = |dir: &preau_appliance::school::directory::Directory, c: &ClassId| {
        dir.pupils_of(c).into_iter().next().unwrap().clone()
    };
    assert!(!on_hub.on_the_ent(&pupil_of(&on_hub, &cm)));
    assert!(on_hub.on_the_ent(&pupil_of(&on_hub, &cp)));

    // At school after its syncs (the first renews its certificate with the commune, the
    // second brings the commune's documents): the same, offline from then on.
    for _ in 0..2 {
        assert!(run_now(&school.state).await.ok);
    }
    let at_school = school.directory();
    assert!(at_school.class_covered(&ce) && !at_school.class_covered(&cm), "{:?}", at_school.coverage);
    let cm_pupil = pupil_of(&at_school, &cm);
    let refusal = preau_appliance::school::accounts::on_the_ent(&at_school, &cm_pupil).unwrap_err();
    assert_eq!(refusal.message_id(), "login-class-closed");
    let mut director = school.browser();
    director.login("claire.martin", preau_appliance::school::demo::DEMO_PASSWORD).await.assert_ok();
    let home = director.get("/").await;
    assert!(home.contains("Classes que la convention ENT ne couvre pas (encore) : CM1"), "{}", home.body);

    // Another convention cannot cover CE1-CE2 over the same days.
    let other = rectorat
        .post(
            &format!("{commune}/conventions"),
            &[("title", "Avenant"), ("starts_on", &starts), ("ends_on", &ends), ("school", DEMO_UAI)],
        )
        .await
        .location
        .unwrap();
    rectorat.post(&format!("{other}/sign"), &[("day", &day(-1))]).await.assert_redirect(&other);
    let before = common::read_models(&hub);
    let page = post(&mut rectorat, format!("{other}/schools"), school_form("activate", vec![ce.to_string()])).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("déjà couverte par une autre convention"), "{}", page.body);
    assert_eq!(common::read_models(&hub), before);

    // Contributions: CP and CE1-CE2's pupils today, at 1,50 €; a negative rate refused.
    let pupils = at_school.pupils_of(&cp).len() + at_school.pupils_of(&ce).len();
    let year = preau_appliance::academy::contributions::year_of(&day(0));
    refused(&hub, &mut rectorat, "/console/rates", &[("year", &year), ("rate", "-1,50")], "montant positif").await;
    let page = rectorat.get(&format!("/console/contributions?year={year}&day={}", day(0))).await;
    page.assert_ok();
    let amount = preau_appliance::academy::contributions::euros(150 * pupils as i64);
    assert!(
        page.contains(&format!("<td>{pupils}</td>")) && page.contains(&amount),
        "{pupils} pupils, {amount}: {}",
        page.body
    );
    let csv = rectorat.get(&format!("/console/contributions.csv?year={year}&day={}", day(0))).await;
    assert!(
        csv.body.contains(&format!(
            "{INSEE};Saint-Aubin-des-Prés;{DEMO_UAI};École élémentaire Les Tilleuls;{pupils};1.50;"
        )),
        "{}",
        csv.body
    );
    rectorat.post("/console/rates", &[("year", &year), ("rate", "2")]).await.assert_redirect("/console");
    let statement = rectorat.get(&format!("{commune}/statement?year={year}&day={}", day(0))).await;
    assert!(
        statement.contains(&preau_appliance::academy::contributions::euros(200 * pupils as i64)),
        "{}",
        statement.body
    );

    // The convention ends yesterday: at school after a sync, its classes close, and the
    // director reads why; nothing was deleted.
    let homework_before = common::read_models(&school)["homework_entry"].len();
    rectorat.post(&format!("{convention}/end"), &[("day", &day(-1))]).await.assert_redirect(&convention);
    assert!(run_now(&school.state).await.ok);
    let at_school = school.directory();
    assert!(!at_school.class_covered(&cp) && !at_school.class_covered(&ce));
    let home = director.get("/").await;
    assert!(home.contains("Convention ENT 2026-2029") && home.contains("a pris fin le"), "{}", home.body);
    assert_eq!(common::read_models(&school)["homework_entry"].len(), homework_before);

    // Every action is in the audit, with who did it.
    let audit = rectorat.get("/console/audit").await;
    for action in [
        "commune créée",
        "école ajoutée à la commune",
        "convention signée",
        "école activée",
        "fin de convention",
        "tarif fixé",
    ] {
        assert!(audit.contains(action), "{action} not in the audit: {}", audit.body);
    }
    assert!(audit.contains("Claire Fabre"));
    assert!(admin.get("/console/audit").await.contains("compte créé"));
}

/// Who asks, in the console matrix's flags: the hub's administrator, the rectorat, the
/// DANE, an inspector, the demo commune's administrator and agent, another commune's
/// administrator, and a school's director signed in on the hub (no console account).
const CONSOLE_LETTERS: [char; 8] = ['H', 'R', 'D', 'I', 'C', 'c', 'o', 'x'];

/// One console route, a request, and who gets past authorization.
struct ConsoleRow {
    method: &'static str,
    route: &'static str,
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    allowed: &'static str,
}

const fn crow(method: &'static str, route: &'static str, path: &'static str, allowed: &'static str) -> ConsoleRow {
    ConsoleRow { method, route, path, fields: &[], allowed }
}

const fn cform(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    allowed: &'static str,
) -> ConsoleRow {
    ConsoleRow { method, route, path, fields, allowed }
}

/// Every console route. `{insee}` is the demo school's commune, `{other}` another; `{id}`
/// a signed convention of `{insee}`; `{account}` an agent of `{insee}`. Writes carry input
/// the console refuses (a bad date, an unknown class) so that every profile's try changes
/// nothing whether or not it gets through; getting through means past authorization.
const CONSOLE: &[ConsoleRow] = &[
    crow("GET", "/console", "/console", "HRDICcox"),
    cform(
        "POST",
        "/console/login",
        "/console/login",
        &[("login", "{agent_login}"), ("password", PASSWORD)],
        "HRDICcox",
    ),
    crow("GET", "/console/password", "/console/password", ".RDICco."),
    cform(
        "POST",
        "/console/password",
        "/console/password",
        &[("current", "x"), ("new", "y"), ("confirm", "z")],
        ".RDICco.",
    ),
    cform("POST", "/console/communes", "/console/communes", &[("insee", "99999"), ("name", "X")], ".RD....."),
    crow("GET", "/console/communes/{insee}", "/console/communes/{insee}", ".RDICc.."),
    cform("POST", "/console/communes/{insee}", "/console/communes/{insee}", &[("name", "")], ".RD....."),
    cform(
        "POST",
        "/console/communes/{insee}/schools",
        "/console/communes/{insee}/schools",
        &[("uai", "0340039A")],
        ".RD.....",
    ),
    cform(
        "POST",
        "/console/communes/{insee}/conventions",
        "/console/communes/{insee}/conventions",
        &[("title", "T"), ("starts_on", "2026-13-01"), ("ends_on", "2027-01-01")],
        ".R......",
    ),
    crow("GET", "/console/communes/{insee}/conventions/{id}", "/console/communes/{insee}/conventions/{id}", ".RDICc.."),
    cform(
        "POST",
        "/console/communes/{insee}/conventions/{id}/sign",
        "/console/communes/{insee}/conventions/{id}/sign",
        &[("day", "x")],
        ".R......",
    ),
    cform(
        "POST",
        "/console/communes/{insee}/conventions/{id}/end",
        "/console/communes/{insee}/conventions/{id}/end",
        &[("day", "x")],
        ".R......",
    ),
    cform(
        "POST",
        "/console/communes/{insee}/conventions/{id}/schools",
        "/console/communes/{insee}/conventions/{id}/schools",
        &[("action", "cover"), ("uai", "0990001X"), ("class", "not-a-class")],
        ".RD.....",
    ),
    crow("GET", "/console/communes/{insee}/statement", "/console/communes/{insee}/statement", ".R..Cc.."),
    crow("GET", "/console/accounts", "/console/accounts", "HRD.C.o."),
    cform(
        "POST",
        "/console/accounts",
        "/console/accounts",
        &[("name", ""), ("role", "commune_agent"), ("commune", "{insee}")],
        "HRD.C...",
    ),
    cform(
        "POST",
        "/console/accounts/{id}/disable",
        "/console/accounts/{account}/disable",
        &[("enable", "on")],
        "HRD.C...",
    ),
    crow("GET", "/console/contributions", "/console/contributions", ".R......"),
    crow("GET", "/console/contributions.csv", "/console/contributions.csv?day=1999-01-01", ".R......"),
    cform("POST", "/console/rates", "/console/rates", &[("year", "2026-2027"), ("rate", "-1")], ".R......"),
    crow("GET", "/console/audit", "/console/audit", "HR......"),
    crow("GET", "/console/sync", "/console/sync", "HRDI...."),
    crow("GET", "/console/communes/{insee}/portal", "/console/communes/{insee}/portal", "....Cc.."),
    cform(
        "POST",
        "/console/communes/{insee}/portal",
        "/console/communes/{insee}/portal",
        &[("presentation", "\u{1}")],
        "....Cc..",
    ),
    cform("POST", "/console/communes/{insee}/news", "/console/communes/{insee}/news", &[("title", "")], "....Cc.."),
    cform(
        "POST",
        "/console/communes/{insee}/news/{id}/withdraw",
        "/console/communes/{insee}/news/none/withdraw",
        &[],
        "........",
    ),
    crow("GET", "/console/communes/{insee}/menus", "/console/communes/{insee}/menus", "....Cc.."),
    cform(
        "POST",
        "/console/communes/{insee}/menus/{day}",
        "/console/communes/{insee}/menus/2026-12-07",
        &[("course-0", "main"), ("name-0", "X"), ("allergen-0", "chocolat")],
        "....Cc..",
    ),
    crow("GET", "/console/usage", "/console/usage", ".RDICco."),
    crow("GET", "/console/usage.csv", "/console/usage.csv", ".RDICco."),
    // Of an account no profile signs in with: a reset makes its holder change her password first.
    cform("POST", "/console/accounts/{id}/reset", "/console/accounts/{second_agent}/reset", &[], "HRD.C..."),
];

#[tokio::test]
async fn every_console_route_has_a_row_and_each_console_profile_gets_exactly_it() {
    // 1. Complete: every console route of the hub has a row.
    let served: std::collections::BTreeSet<(String, String)> =
        preau_appliance::app::routes(preau_appliance::platform::config::Role::Hub)
            .served()
            .iter()
            .filter(|(_, p)| p.starts_with("/console"))
            .map(|(m, p)| (m.to_string(), p.clone()))
            .collect();
    let listed: std::collections::BTreeSet<(String, String)> =
        CONSOLE.iter().map(|r| (r.method.to_owned(), r.route.to_owned())).collect();
    assert_eq!(served, listed, "the console's matrix and its routes differ");
    for row in CONSOLE {
        assert!(
            row.allowed.len() == 8 && row.allowed.chars().zip(CONSOLE_LETTERS).all(|(c, l)| c == '.' || c == l),
            "{} {}: flags {:?}",
            row.method,
            row.route,
            row.allowed
        );
    }

    // 2. A hub holding the demo school in a commune under a signed convention, and a
    // console account of each role.
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;
    rectorat.post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")]).await;
    rectorat.post("/console/communes", &[("insee", "35001"), ("name", "Autre-Commune")]).await;
    rectorat.post(&format!("/console/communes/{INSEE}/schools"), &[("uai", DEMO_UAI)]).await;
    let convention = rectorat
        .post(
            &format!("/console/communes/{INSEE}/conventions"),
            &[("title", "Convention"), ("starts_on", &day(-10)), ("ends_on", &day(300)), ("school", DEMO_UAI)],
        )
        .await
        .location
        .unwrap();
    rectorat.post(&format!("{convention}/sign"), &[("day", &day(-5))]).await.assert_redirect(&convention);
    let id = convention.rsplit('/').next().unwrap().to_owned();
    let mut ids = std::collections::BTreeMap::from([
        ("insee", INSEE.to_owned()),
        ("other", "35001".to_owned()),
        ("id", id),
        ("nobody", UserId::random().to_string()),
    ]);
    let mut accounts_by_role = std::collections::BTreeMap::new();
    for (letter, name, role, commune) in [
        ('D', "Denis Dane", "dane", ""),
        ('I', "Inès Inspection", "ien", ""),
        ('C', "Carole Commune", "commune_admin", INSEE),
        ('c', "Cyril Agent", "commune_agent", INSEE),
        ('o', "Odile Ailleurs", "commune_admin", "35001"),
        ('-', "Victor Second", "commune_agent", INSEE),
    ] {
        // The hub's administrator makes the académie's staff; the rectorat, communes' first.
        let by = if commune.is_empty() { &mut admin } else { &mut rectorat };
        account(&hub, by, name, role, commune).await;
        let staff = preau_appliance::academy::staff(&hub.state).unwrap();
        let (id, _) = staff.accounts.iter().find(|(_, a)| a.name == name).unwrap();
        accounts_by_role.insert(letter, id.clone());
    }
    ids.insert("account", accounts_by_role[&'c'].clone());
    ids.insert("second_agent", accounts_by_role[&'-'].clone());
    ids.insert(
        "agent_login",
        preau_appliance::academy::staff(&hub.state).unwrap().accounts[&accounts_by_role[&'c']].login.clone(),
    );
    let staff = preau_appliance::academy::staff(&hub.state).unwrap();
    accounts_by_role.insert('R', staff.accounts.iter().find(|(_, a)| a.role == "rectorat").unwrap().0.clone());
    let fill = |text: &str| ids.iter().fold(text.to_owned(), |t, (k, v)| t.replace(&format!("{{{k}}}"), v));

    // 3. Each row, by each profile, in a fresh session: through or refused as its flags say,
    // and a refused write changes nothing.
    let director = {
        let dir = hub.state.within(&preau_sync::Uai::parse(DEMO_UAI).unwrap()).unwrap().directory();
        dir.people.values().find(|m| m.profile == Profile::Director).unwrap().clone()
    };
    let mut failures = Vec::new();
    for row in CONSOLE {
        for (i, letter) in CONSOLE_LETTERS.into_iter().enumerate() {
            let session = match letter {
                'H' => SignedIn::new(
                    None,
                    UserId::parse("0000000000000000").unwrap(),
                    Profile::AcademyAdmin,
                    "Admin".into(),
                    false,
                ),
                'x' => {
                    let school = hub.state.within(&preau_sync::Uai::parse(DEMO_UAI).unwrap()).unwrap();
                    SignedIn::of(&school.directory(), &director, false)
                }
                l => accounts::session_for(&hub.state, &accounts_by_role[&l]).unwrap(),
            };
            let sid = hub.state.sessions.start(session);
            let mut b = Browser::with_cookie(&hub.base, &format!("preau_sid={sid}"));
            b.csrf = hub.state.sessions.csrf_for(&sid);
            let before = common::read_models(&hub);
            let path = fill(row.path);
            let page = if row.method == "GET" {
                b.get(&path).await
            } else {
                let fields: Vec<(String, String)> =
                    row.fields.iter().map(|(k, v)| ((*k).to_owned(), fill(v))).collect();
                let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                b.post(&path, &refs).await
            };
            let refused =
                matches!(page.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
                    || (page.status.is_redirection()
                        && page.location.as_deref() == Some("/console")
                        && row.method == "GET"
                        && row.route != "/console");
            let want = row.allowed.chars().nth(i) != Some('.');
            if refused == want {
                failures.push(format!(
                    "{} {} as {letter}: {} (want {})",
                    row.method,
                    row.route,
                    page.status,
                    if want { "through" } else { "refused" }
                ));
            }
            if refused && common::read_models(&hub) != before {
                failures.push(format!("{} {} as {letter}: refused, yet changed something", row.method, row.route));
            }
        }
    }
    assert!(failures.is_empty(), "{} console authorization failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn a_day_of_logins_on_two_appliances_offline_reaches_the_console_with_their_evening_sync() {
    // Two schools enrolled with the hub and synced once, in two communes; a third server
    // enrolled that never synced.
    let tilleuls = TestServer::demo().await;
    let hub = common::hub_holding(&tilleuls).await;
    let (lilas, _) = common::set_up_school().await;
    preau_appliance::replication::enrollment::enrol(&lilas.state, &hub.base, &hub.school_code("0351234A"))
        .await
        .unwrap();
    assert!(run_now(&lilas.state).await.ok);
    let silent = TestServer::fresh().await;
    preau_appliance::replication::enrollment::enrol(&silent.state, &hub.base, &hub.school_code("0340039H"))
        .await
        .unwrap();
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;
    rectorat.post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")]).await;
    rectorat.post("/console/communes", &[("insee", "35001"), ("name", "Autre-Commune")]).await;
    rectorat
        .post(&format!("/console/communes/{INSEE}/schools"), &[("uai", DEMO_UAI)])
        .await
        .assert_redirect(&format!("/console/communes/{INSEE}"));
    rectorat
        .post("/console/communes/35001/schools", &[("uai", "0351234A"), ("name", "École des Lilas")])
        .await
        .assert_redirect("/console/communes/35001");
    let mut ien = account(&hub, &mut admin, "Inès Inspection", "ien", "").await;

    // The day, with no link: two logins at Les Tilleuls (each opens its home page, the
    // teacher her cahier de textes twice: one visit), one at Les Lilas; a parent at home,
    // on the hub.
    let mut director = tilleuls.browser();
    director.login("claire.martin", preau_appliance::school::demo::DEMO_PASSWORD).await.assert_ok();
    director.get("/").await.assert_ok();
    let mut teacher = tilleuls.browser();
    teacher.login("sophie.lebihan", preau_appliance::school::demo::DEMO_PASSWORD).await.assert_ok();
    let ce = class(&tilleuls, "CE1-CE2");
    for _ in 0..2 {
        teacher.get(&format!("/classes/{ce}/homework")).await.assert_ok();
    }
    let mut anne = lilas.browser();
    anne.login("anne.riou", "cartable-vert-2026").await.assert_ok();
    let (parent, _) = crate::hub::ce_parent(&tilleuls);
    crate::hub::activated_at_home(&hub, &tilleuls, &parent).await;
    preau_appliance::academy::usage::flush(&hub.state).await.unwrap();

    // Before the evening: the hub counted only its own (the parent's). The server that
    // never synced is late, the others are not.
    let sync = ien.get("/console/sync").await;
    assert!(sync.contains("1 école(s) sans synchronisation depuis plus de trois jours"), "{}", sync.body);
    assert!(sync.contains("École (0340039H) <strong>(en retard)</strong>"), "{}", sync.body);
    assert!(sync.contains("<th scope=\"row\">École des Lilas (0351234A)</th>"), "{}", sync.body);
    let today = day(0);
    let row = |name: &str, uai: &str, connections: u32| {
        format!("<th scope=\"row\">{name} ({uai})</th><td>{connections}</td>")
    };
    let page = ien.get(&format!("/console/usage?from={today}&to={today}")).await;
    assert!(page.contains(&row("École élémentaire Les Tilleuls", DEMO_UAI, 1)), "{}", page.body);

    // The evening: both sync (their counts go first), and the console adds them up.
    for school in [&tilleuls, &lilas] {
        assert!(run_now(&school.state).await.ok);
    }
    let page = ien.get(&format!("/console/usage?from={today}&to={today}")).await;
    page.assert_ok();
    assert!(page.contains(&row("École élémentaire Les Tilleuls", DEMO_UAI, 3)), "{}", page.body);
    // Les Lilas: its setup's session and Anne's login.
    assert!(page.contains(&row("École des Lilas", "0351234A", 2)), "{}", page.body);
    assert!(
        page.contains("<svg class=\"chart\"") && page.contains("<title id=\"chart-title\">"),
        "the chart and its title"
    );
    // This month: 5 connections, and four accounts active, each once whichever server saw it.
    let month = &today[..7];
    assert!(page.contains(&format!("<th scope=\"row\">{month}</th><td>5</td>")), "{}", page.body);
    assert!(page.contains("</td><td>4</td></tr></tbody>"), "{}", page.body);
    // The cahier de textes: one visit, though opened twice.
    assert!(page.contains("<th scope=\"row\">Cahier de textes</th><td>1</td>"), "{}", page.body);
    // One commune's schools only, and the export.
    let page = ien.get(&format!("/console/usage?from={today}&to={today}&commune=35001")).await;
    assert!(!page.contains(DEMO_UAI) || !page.contains(&row("École élémentaire Les Tilleuls", DEMO_UAI, 3)));
    let csv = ien.get(&format!("/console/usage.csv?from={today}&to={today}")).await;
    assert!(
        csv.body.contains(&format!(
            "{today};{INSEE};Saint-Aubin-des-Prés;{DEMO_UAI};École élémentaire Les Tilleuls;director;connexion;1"
        )),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("claire.martin") && !csv.body.contains(parent.id.as_str()), "no person in the export");

    // A commune's agent follows her commune's schools only; a bad period is refused in words.
    let mut agent = account(&hub, &mut rectorat, "Cyril Agent", "commune_agent", "35001").await;
    let page = agent.get(&format!("/console/usage?from={today}&to={today}")).await;
    assert!(page.contains("0351234A") && !page.contains(DEMO_UAI), "{}", page.body);
    let page = ien.get("/console/usage?from=2026-12-02&to=2026-12-01").await;
    assert!(page.contains("La période doit aller dans l"), "{}", page.body);
}

#[tokio::test]
async fn a_commune_publishes_its_portal_and_menus_and_its_school_shows_the_menu_offline() {
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;
    rectorat.post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")]).await;
    rectorat.post(&format!("/console/communes/{INSEE}/schools"), &[("uai", DEMO_UAI)]).await;
    let mut mairie = account(&hub, &mut rectorat, "Carole Mairie", "commune_admin", INSEE).await;
    let commune = format!("/console/communes/{INSEE}");

    // The portal, public, and a news item.
    mairie.get(&format!("{commune}/portal")).await.assert_ok();
    mairie
        .post(
            &format!("{commune}/portal"),
            &[
                ("presentation", "Bienvenue à Saint-Aubin."),
                ("periscolaire", "Garderie de 7 h 30 à 18 h 30."),
                ("public", "on"),
            ],
        )
        .await
        .assert_redirect(&format!("{commune}/portal"));
    mairie.post(&format!("{commune}/news"), &[("title", "Fête des écoles"), ("body", "Samedi 20 juin.")]).await;

    // This Monday's menu; an unknown allergen is refused and changes nothing.
    let monday = {
        let today = preau_appliance::platform::text::date(&day(0), "").unwrap();
        preau_appliance::platform::text::iso(preau_appliance::platform::text::monday_of(today))
    };
    mairie.get(&format!("{commune}/menus")).await.assert_ok();
    refused(
        &hub,
        &mut mairie,
        &format!("{commune}/menus/{monday}"),
        &[("course-0", "main"), ("name-0", "Mousse"), ("allergen-0", "chocolat")],
        "allergène inconnu",
    )
    .await;
    let menu = [
        ("course-0", "starter"),
        ("name-0", "Carottes râpées"),
        ("allergen-0", "celery"),
        ("allergen-0", "mustard"),
        ("course-1", "main"),
        ("name-1", "Poisson pané"),
        ("allergen-1", "gluten"),
        ("allergen-1", "fish"),
        ("allergen-1", "eggs"),
        ("course-2", "dessert"),
        ("name-2", ""),
    ];
    let page = mairie.post(&format!("{commune}/menus/{monday}"), &menu).await;
    assert!(page.status.is_redirection(), "{}", page.body);

    // On the hub: anyone reads the public page; a parent of the school, from her home page.
    let mut visitor = hub.browser();
    let public = visitor.get(&format!("/communes/{INSEE}")).await;
    public.assert_ok();
    assert!(public.contains("Carottes râpées") && public.contains("contient : céleri, moutarde"), "{}", public.body);
    assert!(public.contains("Fête des écoles") && public.contains("Garderie de 7 h 30"), "{}", public.body);
    let (parent, _) = crate::hub::ce_parent(&school);
    let (mut home, _) = crate::hub::activated_at_home(&hub, &school, &parent).await;
    assert!(home.get("/").await.contains("Ma commune : menus de la cantine"));
    assert!(home.get("/commune").await.contains("contient : gluten, œufs, poissons"));

    // Made private: no longer for anyone, still for the school's families.
    mairie
        .post(
            &format!("{commune}/portal"),
            &[("presentation", "Bienvenue à Saint-Aubin."), ("periscolaire", "Garderie de 7 h 30 à 18 h 30.")],
        )
        .await;
    assert_eq!(visitor.get(&format!("/communes/{INSEE}")).await.status, StatusCode::NOT_FOUND);
    assert!(home.get("/commune").await.contains("Carottes râpées"));

    // The school syncs (its certificate gains the commune, then its documents come), and
    // shows the week's menu with the hub gone.
    for _ in 0..2 {
        assert!(run_now(&school.state).await.ok);
    }
    hub.stop().await;
    let mut director = school.browser();
    director.login("claire.martin", preau_appliance::school::demo::DEMO_PASSWORD).await.assert_ok();
    assert!(director.get("/").await.contains("Ma commune : menus de la cantine"));
    let page = director.get("/commune").await;
    assert!(page.contains("Carottes râpées") && page.contains("Poisson pané"), "{}", page.body);
    assert!(page.contains("Garderie de 7 h 30"));
}

/// The console's accounts are not the hub's administrator: none of them reaches `/hub`'s
/// enrolment codes, revocations or quarantine (an internal review found they did).
#[tokio::test]
async fn no_console_account_acts_as_the_hubs_administrator() {
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;
    rectorat.post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")]).await;
    let mut accounts = vec![account(&hub, &mut admin, "Inès Inspection", "ien", "").await];
    accounts.push(account(&hub, &mut rectorat, "Cyril Agent", "commune_agent", INSEE).await);
    accounts.push(rectorat);
    let codes = || hub.state.part::<preau_appliance::replication::Replication>().links.pending_codes().unwrap().len();
    let before = codes();
    for b in &mut accounts {
        let page = b.post("/hub/codes", &[("uai", "0290002B"), ("name", "École du Port")]).await;
        assert!(
            matches!(page.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) || page.status.is_redirection(),
            "{}",
            page.status
        );
        assert!(!b.get("/hub").await.contains("/hub/codes"), "the hub's administration page");
        let page = b.post("/hub/revoke", &[("replica", "00000000000000000000000000000000")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(codes(), before, "no code was made");
}

/// A school's server writes only its own school's documents: not into the académie's
/// partition nor its commune's (which it holds, to read), not a directory or credentials
/// anywhere but at their school, not another replica's usage count (an internal review
/// showed a director account made at every school of a commune this way).
#[tokio::test]
async fn a_schools_server_writes_only_its_own_schools_documents() {
    use preau_appliance::replication::policy::Sender;
    use preau_sync::kinds::{Credentials, SchoolDirectory, UsageMonth};
    use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, ScopeRule, Store};
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let dir = tempfile::tempdir().unwrap();
    let uai = preau_sync::Uai::parse(DEMO_UAI).unwrap();
    let scope = Scope::new(vec![
        ScopeRule::School(uai.clone()),
        ScopeRule::Exact(Partition::Academy),
        ScopeRule::Exact(Partition::parse(&format!("commune/{INSEE}")).unwrap()),
    ]);
    let at = |partition: &str, kind: Kind, key: &str| {
        DocAddress::new(Partition::parse(partition).unwrap(), kind, DocKey::parse(key).unwrap())
    };
    let rogue = [
        at(&format!("commune/{INSEE}"), Kind::SchoolDirectory, "directory"),
        at("academy", Kind::Credentials, "credentials"),
        at(&format!("school/{DEMO_UAI}/accounts"), Kind::UsageMonth, "2026-12.00000000000000000000000000000001"),
    ];
    for address in &rogue {
        let mut store = Store::open(&dir.path().join(format!("{}.db", address.id())), scope.clone()).unwrap();
        match address.kind {
            Kind::SchoolDirectory => store.change::<SchoolDirectory, _>(address, |d| d.school.name = "Pirate".into()),
            Kind::Credentials => store.change::<Credentials, _>(address, |c| {
                c.accounts.entry("u1".into()).or_default().login = "pi.rate".into();
            }),
            _ => store.change::<UsageMonth, _>(address, |u| {
                u.days.entry("05".into()).or_default().insert("director/connexion".into(), 1000);
            }),
        }
        .unwrap();
        let refused = common::sync_as(&hub, &mut store, Sender::School(uai.clone()));
        assert!(refused.is_err(), "{address:?} was accepted");
        assert!(
            hub.state.db.read(|r| Ok(r.catalog_entry(address.id())?)).unwrap().is_none(),
            "{address:?} is on the hub"
        );
    }
}

/// Two activations at once covering one class under two conventions: one lands, the other
/// is refused, whichever came first (a check that spans conventions holds until its write).
#[tokio::test]
async fn two_activations_at_once_never_cover_a_class_twice() {
    let school = TestServer::demo().await;
    let hub = common::hub_holding(&school).await;
    let mut admin = hub_admin(&hub).await;
    let mut rectorat = account(&hub, &mut admin, "Claire Fabre", "rectorat", "").await;
    rectorat.post("/console/communes", &[("insee", INSEE), ("name", "Saint-Aubin-des-Prés")]).await;
    rectorat.post(&format!("/console/communes/{INSEE}/schools"), &[("uai", DEMO_UAI)]).await;
    let mut conventions = Vec::new();
    for title in ["Convention A", "Convention B"] {
        let made = rectorat
            .post(
                &format!("/console/communes/{INSEE}/conventions"),
                &[("title", title), ("starts_on", &day(-10)), ("ends_on", &day(300)), ("school", DEMO_UAI)],
            )
            .await
            .location
            .unwrap();
        rectorat.post(&format!("{made}/sign"), &[("day", &day(-5))]).await.assert_redirect(&made);
        conventions.push(made);
    }
    let cp = class(&school, "CP").to_string();
    let form = || -> Vec<(String, String)> {
        [("action", "activate"), ("uai", DEMO_UAI), ("class", cp.as_str())]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut other = Browser::with_cookie(&hub.base, &format!("preau_sid={}", rectorat.cookie("preau_sid").unwrap()));
    other.get("/console").await;
    let (a, b) = (form(), form());
    let (first, second) = tokio::join!(
        post(&mut rectorat, format!("{}/schools", conventions[0]), a),
        post(&mut other, format!("{}/schools", conventions[1]), b),
    );
    let landed = [&first, &second].iter().filter(|p| p.status.is_redirection()).count();
    let refused = [&first, &second].iter().filter(|p| p.status == StatusCode::BAD_REQUEST).count();
    assert_eq!((landed, refused), (1, 1), "{} / {}", first.status, second.status);
    let dir = hub.state.within(&preau_sync::Uai::parse(DEMO_UAI).unwrap()).unwrap().directory();
    let covering = dir.coverage.as_ref().unwrap().iter().filter(|c| c.classes.iter().any(|k| k.0 == cp)).count();
    assert_eq!(covering, 1, "CP is covered by one convention");
}
