//! Replication over HTTP between real servers on loopback: a hub, school appliances and a
//! teacher's device (a plain replica), with enrolment, certificates, revocation, files and
//! quarantine. The same flows over impaired links, as separate processes in network
//! namespaces, are in `network.rs`.

use crate::common::{self, Browser, TestServer, set_up_school};
use preau_appliance::platform::config::Role;
use preau_appliance::replication::Replication;
use preau_appliance::replication::client;
use preau_appliance::replication::enrollment;
use preau_appliance::replication::links::{HubLink, Run};
use preau_appliance::replication::{Links, Upstream, schedule};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::Directory;
use preau_sync::kinds::HomeworkBook;
use preau_sync::{Partition, ReplicaIdentity, Scope, ScopeRule};

async fn director(server: &TestServer) -> Browser {
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    b
}

/// Enrols the demo appliance with the hub through the director's page.
async fn enrol_demo(hub: &TestServer, school: &TestServer) -> Browser {
    let mut d = director(school).await;
    assert!(!d.get("/").await.contains("synchronis"), "no sync line before enrolment");
    let page = d.get("/admin/sync").await;
    assert!(page.contains("Relier ce serveur au hub académique"), "{}", page.body);
    let code = hub.school_code(preau_appliance::school::demo::DEMO_UAI);
    let page = d.post("/admin/sync/enroll", &[("hub", &hub.base), ("code", &code.to_lowercase())]).await;
    assert!(page.contains("Le serveur est relié au hub"), "{}", page.body);
    // The code works once.
    let again = enrollment::enroll_with(
        &Links::open(&hub.dir.path().join("x.db")).unwrap(),
        &ReplicaIdentity::generate(),
        &hub.base,
        None,
        &code,
    )
    .await;
    assert!(matches!(again, Err(enrollment::EnrollError::BadCode)), "{again:?}");
    // One server per school: a second one (a teacher's laptop serving her class, say) is
    // refused with the reason, while the first is not revoked.
    let second = hub.school_code(preau_appliance::school::demo::DEMO_UAI);
    let laptop = ReplicaIdentity::generate();
    let refused =
        enrollment::enroll_with(&Links::open(&hub.dir.path().join("y.db")).unwrap(), &laptop, &hub.base, None, &second)
            .await;
    let Err(e @ enrollment::EnrollError::SchoolHasServer(_)) = &refused else { panic!("{refused:?}") };
    let said = e.message(preau_appliance::platform::i18n::Locale::default());
    assert!(said.starts_with("Cette école a déjà un serveur Préau inscrit auprès de l'académie (École)"), "{said}");
    assert!(hub.state.part::<Replication>().links.enrolled(laptop.id()).unwrap().is_none());
    d
}

/// The demo school enrolled with a hub and synced once: the hub, the school, and its
/// director's browser.
pub(crate) async fn enrolled_demo() -> (TestServer, TestServer, Browser) {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    let director = enrol_demo(&hub, &school).await;
    let run = sync(&school).await;
    assert!(run.ok, "{:?}", run.error);
    (hub, school, director)
}

/// A code for `teacher`'s computer, from the director's page.
async fn device_code(director: &mut Browser, teacher: &preau_appliance::school::directory::Member) -> String {
    let page = director.post("/admin/sync/devices", &[("teacher", teacher.id.as_str())]).await;
    assert!(page.contains("Ordinateur de"), "{}", page.body);
    page.body.split("class=\"code-display\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
}

async fn sync(server: &TestServer) -> Run {
    schedule::run_now(&server.state).await
}

fn partitions(server: &TestServer) -> Vec<Partition> {
    let mut p: Vec<Partition> =
        server.state.db.run_blocking(|s| Ok(s.catalog()?)).unwrap().into_iter().map(|e| e.address.partition).collect();
    p.sort();
    p.dedup();
    p
}

#[tokio::test]
async fn a_school_enrols_syncs_with_the_hub_and_shows_its_status() {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    let uai = school.directory().uai().unwrap().clone();
    let mut d = enrol_demo(&hub, &school).await;

    let run = sync(&school).await;
    assert!(run.ok, "{run:?}");
    assert!(run.docs_up > 5, "the school's documents went up: {run:?}");
    // The hub holds the school's documents, and reads its directory like the school does.
    let on_hub = hub.state.db.run_blocking(|s| Directory::load_school(s, &uai)).unwrap();
    assert_eq!(on_hub.people.len(), school.directory().people.len());
    assert!(partitions(&hub).contains(&Partition::Accounts(uai.clone())));

    // A second sync has nothing to move.
    let quiet = sync(&school).await;
    assert!(quiet.ok && quiet.docs_up == 0 && quiet.docs_down == 0, "{quiet:?}");
    assert!(quiet.bytes_up + quiet.bytes_down < 4_000, "a quiet sync is small: {quiet:?}");

    // The director sees it in plain French; every staff page says when.
    let page = d.get("/admin/sync").await;
    assert!(page.contains("Dernière synchronisation réussie"), "{}", page.body);
    assert!(page.contains("à l&#39;instant") || page.contains("il y a"), "{}", page.body);
    assert!(d.get("/").await.contains("Dernière synchronisation :"));
    // Pupils do not see it.
    let pupil = school
        .directory()
        .people
        .values()
        .find(|m| m.profile == preau_appliance::school::directory::Profile::Pupil)
        .unwrap()
        .clone();
    let mut p = common::pupil_browser(&school, &pupil).await;
    assert!(!p.get("/").await.contains("Dernière synchronisation"));

    // The hub's administrator page lists the school.
    let mut admin = hub.browser();
    let password =
        preau_appliance::replication::status::new_admin_password(&hub.state.part::<Replication>().links).unwrap();
    admin.get("/hub").await;
    admin.post("/hub/login", &[("password", "wrong")]).await;
    admin.post("/hub/login", &[("password", &password)]).await;
    let page = admin.get("/hub").await;
    assert!(page.contains("Serveurs d&#39;école enrôlés") && page.contains("École"), "{}", page.body);
    let page = admin.post("/hub/codes", &[("uai", "0290002B"), ("name", "École du Port")]).await;
    assert!(page.contains("École du Port (0290002B)"), "{}", page.body);
    let bad = admin.post("/hub/codes", &[("uai", "29"), ("name", "")]).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn changes_on_both_sides_converge_and_files_follow_their_documents() {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    enrol_demo(&hub, &school).await;
    assert!(sync(&school).await.ok);

    // A teacher attaches a file at school.
    let mut teacher = school.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let ce = school.directory().classes.values().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    teacher.get(&format!("/classes/{}/homework", ce.id)).await;
    let pdf: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let today = preau_appliance::platform::clock::today();
    let page = teacher
        .post_files(
            &format!("/classes/{}/homework", ce.id),
            &[("assigned_on", &today), ("subject", "Sciences"), ("title", "Observer la graine"), ("due_on", &today)],
            &[("graine.pdf", pdf.clone())],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let run = sync(&school).await;
    assert!(run.ok && run.files_up == 1, "{run:?}");
    let hash = blake3::hash(&pdf).to_hex().to_string();
    assert_eq!(hub.state.files.get(&hash).await.unwrap().as_deref(), Some(&pdf[..]));

    // A replacement appliance (the first one broke): the académie revokes the old one, the
    // new one enrols and gets everything back, file included.
    let links = &hub.state.part::<Replication>().links;
    assert!(links.revoke(school.state.part::<Replication>().identity.id()).unwrap());
    // Its setup page offers it: the hub's address and the code the académie gave.
    let spare = TestServer::fresh().await;
    let code = hub.school_code(preau_appliance::school::demo::DEMO_UAI);
    let mut b = spare.browser();
    assert!(b.get("/setup").await.contains("Cette école a déjà un serveur Préau"));
    let page = b.post("/setup/restore", &[("hub", &hub.base), ("code", "AAAA-BBBB-CCCC")]).await;
    assert!(page.status == 400 && page.contains("est inconnu"), "{}", page.body);
    let page = b.post("/setup/restore", &[("hub", "preau.ac-exemple.fr"), ("code", &code)]).await;
    assert!(page.contains("L&#39;adresse du hub doit commencer par https://"), "{}", page.body);
    assert!(spare.state.part::<Replication>().links.hub().is_none(), "nothing enrolled");
    b.post("/setup/restore", &[("hub", &hub.base), ("code", &code)]).await.assert_redirect("/setup");
    let page = b.get("/setup").await;
    assert!(page.contains("Récupération de l&#39;école") && page.contains(&hub.base), "{}", page.body);
    assert!(!page.contains("action=\"/setup\""), "no second school offered beside the one on its way");
    let run = sync(&spare).await;
    assert!(run.ok && run.files_down == 1, "{run:?}");
    b.get("/setup").await.assert_redirect("/");
    b.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    assert_eq!(spare.directory().people.len(), school.directory().people.len(), "the school is back");
    assert_eq!(spare.state.files.get(&hash).await.unwrap().as_deref(), Some(&pdf[..]));
    assert_eq!(common::read_models(&spare), common::read_models(&school));
}

/// The desktop app's first run: the teacher's own login gets a code for her computer,
/// with no director at hand, and it enrols that computer for her classes only, once. The
/// director then sees the computer on her sync page. (Who may ask: the authorization
/// matrix.)
#[tokio::test]
async fn a_teacher_enrols_her_own_computer_with_her_login() {
    let (_hub, school, mut d) = enrolled_demo().await;
    let uai = school.directory().uai().unwrap().clone();
    let teacher = school.member("sophie.lebihan");

    let token = common::token(&school, "sophie.lebihan", DEMO_PASSWORD).await;
    let (status, answer) = common::api(&school, "POST", "/api/v1/me/device-code", Some(&token), None).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{answer}");
    let code = answer["code"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let device = common::laptop(dir.path(), school.directory());
    let link = enrollment::enroll_with(&device.links, &device.identity, &school.base, None, &code).await.unwrap();
    let scope = link.chain.leaf().unwrap().scope.clone();
    for class in school.directory().classes_taught_by(&teacher.id) {
        assert!(scope.contains(&preau_appliance::school::directory::class_partition(&uai, &class.id)));
    }
    let other = school
        .directory()
        .current_classes()
        .into_iter()
        .find(|c| !c.class.teachers.contains(&teacher.id.to_string()))
        .unwrap()
        .clone();
    assert!(
        !scope.contains(&preau_appliance::school::directory::class_partition(&uai, &other.id)),
        "not another class"
    );
    assert!(!scope.contains(&Partition::Accounts(uai.clone())), "never the credentials");

    let again = enrollment::enroll_with(&device.links, &device.identity, &school.base, None, &code).await;
    assert!(matches!(again, Err(enrollment::EnrollError::BadCode)), "{again:?}");
    let page = d.get("/admin/sync").await;
    assert!(page.contains(&format!("Ordinateur de {}", teacher.full_name())), "{}", page.body);
}

#[tokio::test]
async fn a_teacher_device_gets_only_its_classes_through_a_certificate_chained_to_the_hub() {
    let (hub, school, mut d) = enrolled_demo().await;
    let uai = school.directory().uai().unwrap().clone();

    let teacher = school.member("sophie.lebihan");
    let code = device_code(&mut d, &teacher).await;

    let dir = tempfile::tempdir().unwrap();
    let device = common::laptop(dir.path(), school.directory());
    let link = enrollment::enroll_with(&device.links, &device.identity, &school.base, None, &code).await.unwrap();
    // Device ← school ← hub: anyone who trusts the hub can check it.
    let hub_key = hub.state.part::<Replication>().identity.public_key().to_bytes();
    let grant = link.chain.verify(&[hub_key], preau_appliance::platform::clock::now_ms() as u64).unwrap();
    assert_eq!(link.chain.0.len(), 2);
    let taught: Vec<Partition> = school
        .directory()
        .classes_taught_by(&teacher.id)
        .iter()
        .map(|c| preau_appliance::school::directory::class_partition(&uai, &c.id))
        .collect();
    assert!(taught.iter().all(|p| grant.scope.contains(p)));
    assert!(!grant.scope.contains(&Partition::Accounts(uai.clone())), "never the credentials");

    // The device declares the scope it was granted and syncs.
    let scope = grant.scope.clone();
    device
        .db
        .run_blocking(|s| {
            s.set_scope(scope);
            Ok(())
        })
        .unwrap();
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.ok, "{run:?}");
    let held = {
        let mut p: Vec<Partition> =
            device.db.run_blocking(|s| Ok(s.catalog()?)).unwrap().into_iter().map(|e| e.address.partition).collect();
        p.sort();
        p.dedup();
        p
    };
    assert!(held.iter().any(|p| taught.contains(p)), "{held:?}");
    for p in &held {
        assert!(grant.scope.contains(p), "the device got {p}, outside its certificate");
    }
    assert!(!held.contains(&Partition::Accounts(uai.clone())));

    // Away from school it syncs with the hub directly, once the school allows it: until
    // then the school names no hub to it, and the hub refuses it.
    let at_school = device.links.hub().unwrap();
    assert_eq!(client::ask_upstream(&device, &at_school).await.unwrap(), None);
    let upstream = school.state.part::<Replication>().links.hub().unwrap();
    let hub_server = Upstream { url: hub.base.clone(), server: upstream.hub_id, server_key: upstream.hub_key };
    let at_home = at_school.via(&hub_server);
    let away_closed = |run: &Run| run.error.as_deref().is_some_and(|e| e.starts_with("away-closed:"));
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(away_closed(&run), "{run:?}");
    assert!(d.get("/admin/sync").await.contains("Non autorisée : les ordinateurs des enseignants"));
    d.post("/admin/sync/away", &[("away", "on")]).await.assert_redirect("/admin/sync");
    assert!(d.get("/admin/sync").await.contains("Autorisée : hors de l&#39;école"));
    assert_eq!(client::ask_upstream(&device, &at_school).await.unwrap(), Some(hub_server.clone()));
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(away_closed(&run), "the hub hears of it at the school's next sync: {run:?}");
    assert!(sync(&school).await.ok);
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(run.ok, "{run:?}");
    // Withdrawn: the school names no hub any more, and the hub refuses from its next sync.
    d.post("/admin/sync/away", &[]).await.assert_redirect("/admin/sync");
    assert_eq!(client::ask_upstream(&device, &at_school).await.unwrap(), None);
    assert!(sync(&school).await.ok);
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(away_closed(&run), "{run:?}");
    d.post("/admin/sync/away", &[("away", "on")]).await.assert_redirect("/admin/sync");
    assert!(sync(&school).await.ok);

    // A device that claims more than its certificate is refused.
    device
        .db
        .run_blocking(|s| {
            s.set_scope(Scope::new(vec![ScopeRule::School(uai.clone())]));
            Ok(())
        })
        .unwrap();
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.error.as_deref().is_some_and(|e| e.starts_with("scope:")), "{run:?}");

    // Revoked: refused from the next sync on, and the director's page says what to do.
    let page = d.get("/admin/sync").await;
    assert!(page.contains("Ordinateur de"));
    let replica = device.identity.id().to_string();
    d.post("/admin/sync/revoke", &[("replica", &replica)]).await;
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.error.as_deref().is_some_and(|e| e.starts_with("revoked:")), "{run:?}");

    // It is refused each time, before anything is counted or written for it: a revoked or
    // forged certificate spends nobody's opens (anyone could claim a school's id).
    for _ in 0..3 {
        let run = client::sync_once(&device, &|_| {}).await;
        assert!(run.error.as_deref().is_some_and(|e| e.starts_with("revoked:")), "{run:?}");
    }

    // Taken home, it syncs with the hub directly: admitted until the school reports the
    // revocation at its next sync, refused from then on.
    let granted = grant.scope.clone();
    device
        .db
        .run_blocking(|s| {
            s.set_scope(granted);
            Ok(())
        })
        .unwrap();
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(run.ok, "the hub has not heard of the revocation yet: {run:?}");
    assert!(sync(&school).await.ok);
    let run = client::sync_with(&device, &at_home, client::FIRST_CONTACT, &|_| {}).await;
    assert!(run.error.as_deref().is_some_and(|e| e.starts_with("revoked:")), "{run:?}");
    assert_eq!(client::ask_upstream(&device, &at_school).await.unwrap_err().code, "revoked");

    // A certified replica that keeps opening sessions is told to wait (60 in 10 minutes).
    let mut errors = Vec::new();
    for _ in 0..61 {
        errors.push(sync(&school).await.error.unwrap_or_default());
    }
    let first_busy = errors.iter().position(|e| e.starts_with("busy:")).expect("the replica is slowed down");
    assert!(first_busy >= 55 && errors[..first_busy].iter().all(String::is_empty), "{errors:?}");
}

/// A tampered laptop makes its teacher director and puts her in every class: the school's
/// appliance and the hub both refuse the directory change (a device never writes it), keep
/// it in quarantine, and the device's renewed certificate grants nothing more.
#[tokio::test]
async fn a_tampered_teacher_device_cannot_make_its_teacher_director() {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    let mut d = enrol_demo(&hub, &school).await;
    assert!(sync(&school).await.ok);
    let uai = school.directory().uai().unwrap().clone();
    let teacher = school.member("sophie.lebihan");
    let code = device_code(&mut d, &teacher).await;
    let dir = tempfile::tempdir().unwrap();
    let device = common::laptop(dir.path(), school.directory());
    let link = enrollment::enroll_with(&device.links, &device.identity, &school.base, None, &code).await.unwrap();
    let granted = link.chain.leaf().unwrap().scope.clone();
    let scope = granted.clone();
    device
        .db
        .run_blocking(move |s| {
            s.set_scope(scope);
            Ok(())
        })
        .unwrap();
    assert!(client::sync_once(&device, &|_| {}).await.ok);

    // What her device may change in the directory: her own class's messaging switches.
    let address = preau_appliance::school::directory::directory_address(&uai);
    let own = school.directory().classes_taught_by(&teacher.id)[0].id.to_string();
    let (a, own_class) = (address.clone(), own.clone());
    device
        .db
        .run_blocking(move |s| {
            s.change::<preau_sync::kinds::SchoolDirectory, _>(&a, |dir| {
                dir.classes.get_mut(&own_class).unwrap().classmates = true;
            })?;
            Ok(())
        })
        .unwrap();
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.ok && run.error.is_none(), "{run:?}");
    let id = preau_appliance::school::directory::ClassId::parse(&own).unwrap();
    assert!(school.directory().classes[&id].class.classmates, "the switch reached the school");
    let school_before = common::read_models(&school);

    // The tampering: straight into the device's own replica, as a modified app would.
    let me = teacher.id.to_string();
    device
        .db
        .run_blocking(move |s| {
            s.change::<preau_sync::kinds::SchoolDirectory, _>(&address, |dir| {
                dir.people.get_mut(&me).unwrap().profile = "director".into();
                for class in dir.classes.values_mut() {
                    if !class.teachers.contains(&me) {
                        class.teachers.push(me.clone());
                    }
                }
            })?;
            Ok(())
        })
        .unwrap();

    // 1. With the school's appliance: the session goes on, the directory change is refused.
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.ok && run.error.as_deref().is_some_and(|e| e.starts_with("refused-outgoing:")), "{run:?}");
    assert_eq!(common::read_models(&school), school_before, "the school's replica is unchanged");
    assert_eq!(school.member("sophie.lebihan").profile, preau_appliance::school::directory::Profile::Teacher);
    let quarantined = school.state.part::<Replication>().links.quarantined(10).unwrap();
    assert!(quarantined.iter().any(|q| q.reason.contains("device may not change")), "{quarantined:?}");
    // Renewal follows the school's directory, not the device's: no class was added.
    let renewed = device.links.hub().unwrap().chain.leaf().unwrap().scope.clone();
    assert_eq!(renewed, granted, "the renewed certificate grants exactly what the school granted");
    // Her login as a director does not open the director's pages.
    let mut b = school.browser();
    b.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    assert_eq!(b.get("/admin/accounts").await.status, 403);

    // 2. Taken home to the hub directly (the school allows it): refused there too, and
    // nothing reaches the school.
    d.post("/admin/sync/away", &[("away", "on")]).await.assert_redirect("/admin/sync");
    assert!(sync(&school).await.ok);
    let upstream = school.state.part::<Replication>().links.hub().unwrap();
    let home = HubLink {
        url: hub.base.clone(),
        hub_id: upstream.hub_id,
        hub_key: upstream.hub_key,
        ..device.links.hub().unwrap()
    };
    device.links.set_hub(&home).unwrap();
    let hub_before = common::read_models(&hub);
    let run = client::sync_once(&device, &|_| {}).await;
    assert!(run.ok && run.error.as_deref().is_some_and(|e| e.starts_with("refused-outgoing:")), "{run:?}");
    assert_eq!(common::read_models(&hub), hub_before, "the hub's replica is unchanged");
    assert!(
        hub.state
            .part::<Replication>()
            .links
            .quarantined(10)
            .unwrap()
            .iter()
            .any(|q| q.reason.contains("device may not change"))
    );
    assert!(sync(&school).await.ok);
    assert_eq!(school.member("sophie.lebihan").profile, preau_appliance::school::directory::Profile::Teacher);
}

#[tokio::test]
async fn a_revoked_appliance_is_refused_and_told_what_to_do() {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    let mut d = enrol_demo(&hub, &school).await;
    assert!(sync(&school).await.ok);
    let enrolled = hub.state.part::<Replication>().links.all_enrolled().unwrap();
    assert!(hub.state.part::<Replication>().links.revoke(enrolled[0].replica).unwrap());
    let run = sync(&school).await;
    assert!(!run.ok && run.error.as_deref().unwrap().starts_with("revoked:"), "{run:?}");
    let page = d.get("/admin/sync").await;
    assert!(page.contains("L&#39;académie a révoqué ce serveur"), "{}", page.body);
}

#[tokio::test]
async fn forged_changes_are_quarantined_change_nothing_on_the_hub_and_can_be_discarded() {
    let hub = TestServer::hub().await;
    let school = TestServer::demo().await;
    enrol_demo(&hub, &school).await;
    assert!(sync(&school).await.ok);
    let (lilas, _) = set_up_school().await;
    let other = lilas.directory().uai().unwrap().clone();
    let code = hub.school_code(other.as_str());
    enrollment::enroll_with(
        &lilas.state.part::<Replication>().links,
        &lilas.state.part::<Replication>().identity,
        &hub.base,
        None,
        &code,
    )
    .await
    .unwrap();
    assert!(sync(&lilas).await.ok);
    let before = common::read_models(&hub);

    // A rogue replica enrolled as the Lilas school (the académie revoked the old server,
    // and its new code was stolen) writes into the demo school's class.
    let links = &hub.state.part::<Replication>().links;
    assert!(links.revoke(lilas.state.part::<Replication>().identity.id()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let rogue = common::laptop(dir.path(), lilas.directory());
    let code = hub.school_code(other.as_str());
    enrollment::enroll_with(&rogue.links, &rogue.identity, &hub.base, None, &code).await.unwrap();
    let demo_uai = school.directory().uai().unwrap().clone();
    let ce = school.directory().classes.values().next().unwrap().clone();
    let address = preau_appliance::services::homework::book_address(&demo_uai, &ce).unwrap();
    rogue
        .db
        .run_blocking(|s| {
            s.set_scope(Scope::all());
            s.change::<HomeworkBook, _>(&address, |b| {
                b.entries.insert("forged".into(), Default::default());
            })?;
            // It declares only its own school, but carries the other one's partition.
            s.set_scope(preau_appliance::school::scope(&other));
            Ok(())
        })
        .unwrap();
    let run = client::sync_once(&rogue, &|_| {}).await;
    // The session goes through; the forged document is refused and the rogue is told.
    assert!(run.ok && run.error.as_deref().is_some_and(|e| e.starts_with("refused-outgoing:")), "{run:?}");
    assert_eq!(common::read_models(&hub), before, "nothing of it applied");
    let quarantined = hub.state.part::<Replication>().links.quarantined(10).unwrap();
    assert_eq!(quarantined.len(), 1);
    assert!(std::path::Path::new(&quarantined[0].file).exists(), "the bundle is kept for inspection");
    // Offered again at the next session, refused again, kept once.
    let run = client::sync_once(&rogue, &|_| {}).await;
    assert!(run.error.as_deref().is_some_and(|e| e.starts_with("refused-outgoing:")), "{run:?}");
    let again = hub.state.part::<Replication>().links.quarantined(10).unwrap();
    assert_eq!(again.len(), 1, "the same refusal replaces the one kept");
    assert!(!std::path::Path::new(&quarantined[0].file).exists());

    // The académie's administrator deletes it from the hub's page.
    let mut admin = hub.browser();
    let password =
        preau_appliance::replication::status::new_admin_password(&hub.state.part::<Replication>().links).unwrap();
    admin.get("/hub").await;
    admin.post("/hub/login", &[("password", &password)]).await;
    let page = admin.get("/hub").await;
    assert!(page.contains("Modifications refusées") && page.contains("outside the shared partitions"), "{}", page.body);
    assert!(page.body.contains("École — <code>"), "the sender is named as enrolled: {}", page.body);
    let id = again[0].id.to_string();
    admin.post("/hub/quarantine/discard", &[("id", &id)]).await;
    assert!(hub.state.part::<Replication>().links.quarantined(10).unwrap().is_empty());
    assert!(!std::path::Path::new(&again[0].file).exists(), "its bytes are gone");
    assert!(!admin.get("/hub").await.contains("Modifications refusées"));
    assert_eq!(admin.post("/hub/quarantine/discard", &[("id", &id)]).await.status, 404);
}

#[tokio::test]
async fn malformed_and_unsigned_requests_get_4xx() {
    let hub = TestServer::hub().await;
    let http = reqwest::Client::new();
    for (path, body) in [
        ("/replication/v1/sessions", b"garbage".to_vec()),
        ("/replication/v1/sessions", Vec::new()),
        ("/replication/v1/sessions/zz/reply", b"x".to_vec()),
        ("/replication/v1/enroll", b"{".to_vec()),
    ] {
        let r = http.post(format!("{}{path}", hub.base)).body(body).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    let r = http
        .post(format!("{}/replication/v1/sessions", hub.base))
        .header("authorization", "Preau id=00,ts=1,nonce=00,sig=00")
        .body(vec![0u8; 100])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    // Refused before its body is read: the client reads the 413, or, when the server's
    // close wins the race with the rest of the upload, fails writing the body.
    match http.post(format!("{}/replication/v1/sessions", hub.base)).body(vec![0u8; 9 << 20]).send().await {
        Ok(big) => {
            assert_eq!(big.status(), 413);
            // Its body was left unread: the client is told not to send another request on it.
            assert_eq!(big.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
        }
        Err(e) => assert!(format!("{e:?}").contains("BodyWrite"), "{e:?}"),
    }
    // The local control endpoint answers only on loopback (this test is on loopback).
    let r = http.get(format!("{}/replication/v1/local/sync", hub.base)).send().await.unwrap();
    assert!(r.status().is_success());
}

#[tokio::test]
async fn a_hub_serving_https_is_trusted_only_through_its_authority() {
    let tls = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (tls.path().join("hub.pem"), tls.path().join("hub.key"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let hub = TestServer::start(false, |c| {
        c.role = Role::Hub;
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    })
    .await;
    let https = hub.base.replace("http://", "https://");

    // A school that does not know the hub's authority cannot even enrol.
    let stranger = TestServer::demo().await;
    let code = hub.school_code(preau_appliance::school::demo::DEMO_UAI);
    let refused = enrollment::enroll_with(
        &stranger.state.part::<Replication>().links,
        &stranger.state.part::<Replication>().identity,
        &https,
        None,
        &code,
    )
    .await;
    assert!(matches!(refused, Err(enrollment::EnrollError::Unreachable(..))), "{refused:?}");

    // One configured with it enrols and syncs over TLS.
    let school = TestServer::start(true, |c| c.hub_ca = Some(cert.clone())).await;
    let mut d = director(&school).await;
    d.get("/admin/sync").await;
    let page = d.post("/admin/sync/enroll", &[("hub", &https), ("code", &code)]).await;
    assert!(page.contains("Le serveur est relié au hub"), "{}", page.body);
    let run = sync(&school).await;
    assert!(run.ok && run.docs_up > 5, "{run:?}");
    // Plain HTTP to the TLS port gets nothing.
    assert!(reqwest::get(format!("{}/healthz", hub.base)).await.is_err());
    // Over HTTPS, answers carry HSTS and cookies are Secure.
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(generated.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let page = client.get(format!("{https}/")).send().await.unwrap();
    assert!(page.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    let cookie = page.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn a_school_over_its_quota_gets_its_documents_through_and_a_clear_refusal_for_files() {
    let hub = TestServer::start(false, |c| {
        c.role = Role::Hub;
        c.school_quota_bytes = 100_000;
    })
    .await;
    let school = TestServer::demo().await;
    let mut d = enrol_demo(&hub, &school).await;
    assert!(sync(&school).await.ok);
    let mut teacher = school.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let ce = school.directory().classes.values().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    teacher.get(&format!("/classes/{}/homework", ce.id)).await;
    let today = preau_appliance::platform::clock::today();
    let small = vec![7u8; 30_000];
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let page = teacher
        .post_files(
            &format!("/classes/{}/homework", ce.id),
            &[("assigned_on", &today), ("subject", "Arts"), ("title", "Regarder les photos"), ("due_on", &today)],
            &[("petite.png", small.clone()), ("grande.png", big.clone())],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let run = sync(&school).await;
    assert!(run.ok && run.docs_up >= 1, "the documents went up: {run:?}");
    assert_eq!(run.files_up, 1, "the small file first, then the refusal: {run:?}");
    assert!(run.error.as_deref().is_some_and(|e| e.starts_with("quota:")), "{run:?}");
    assert!(hub.state.files.has(&blake3::hash(&small).to_hex()));
    assert!(!hub.state.files.has(&blake3::hash(&big).to_hex()));
    let page = d.get("/admin/sync").await;
    assert!(page.contains("L&#39;espace de l&#39;école sur le hub est plein"), "{}", page.body);
}

/// A hub's night sees hundreds of schools within the half hour a finished session lingers
/// (its client may still fetch files): those, and those their client left minutes ago,
/// count no more against the sessions at work at once. (They did: past 64 schools in half
/// an hour, the next ones were told « busy » and waited — found by `preau bench night`.)
#[tokio::test]
async fn sessions_that_have_finished_keep_no_school_waiting() {
    use preau_sync::sql::args;
    let (hub, school, _) = enrolled_demo().await;
    let now = preau_appliance::platform::clock::now_ms();
    hub.state
        .records
        .with(|c| {
            // 64 that replied a moment ago, 64 left five minutes ago: either kind alone
            // would fill the limit, were it counted.
            for i in 0..128u8 {
                let (last_used, ended) = if i % 2 == 0 { (now, true) } else { (now - 300_000, false) };
                c.execute(
                    "INSERT INTO replication_session (id, peer, state, last_used, version, ended) \
                     VALUES (?, ?, ?, ?, 0, ?)",
                    args![[i; 16], format!("peer{i}"), Vec::<u8>::new(), last_used, ended],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let run = tokio::time::timeout(std::time::Duration::from_secs(20), sync(&school))
        .await
        .expect("told to come back later (busy), again and again");
    assert!(run.ok, "{:?}", run.error);
}
