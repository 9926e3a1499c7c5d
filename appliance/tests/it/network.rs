//! Replication between real processes on impaired links: a hub and school appliances, each
//! `preau serve` in its own network namespace (as root; elsewhere on loopback, and the test
//! says so), every school's way to the hub through a shaped, cuttable link
//! (`common/netlab.rs`). Syncs are started as a director would from a terminal:
//! `preau sync now`, inside the school's namespace. Edits reach the hub while the schools
//! are cut off from a teacher's laptop at home (a plain replica, as in `replication.rs`),
//! until the families' portal writes on the hub itself.

use std::time::Duration;

use std::sync::Arc;

use crate::common;
use crate::common::netlab::{BAD_RURAL, LAN, Lab, Link, Node, RURAL_ADSL, documents, token};
use preau_appliance::replication::Links;
use preau_appliance::replication::client::{self, Replica};
use preau_appliance::replication::enrollment;
use preau_appliance::replication::links::HubLink;
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};
use preau_appliance::school::directory::Directory;
use preau_sync::Kind;
use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};

const OTHER_UAI: &str = "0290002B";

/// POSTs JSON with a bearer token; returns the answer.
async fn post(base: &str, token: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let response =
        reqwest::Client::new().post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    let answer: serde_json::Value = response.json().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// A homework entry by the teacher holding `token`; returns its id.
async fn entry(base: &str, token: &str, class: &str, title: &str) -> String {
    let today = preau_appliance::platform::clock::today();
    let body = serde_json::json!({"subject": "Français", "assigned_on": today, "title": title, "due_on": today});
    post(base, token, &format!("/api/v1/classes/{class}/homework"), body).await["id"].as_str().unwrap().to_owned()
}

/// Rewrites the details of the entry `id` (titled "Lire le chapitre 3").
async fn set_details(base: &str, token: &str, class: &str, id: &str, details: &str) {
    let today = preau_appliance::platform::clock::today();
    let body = serde_json::json!({"subject": "Français", "assigned_on": today, "title": "Lire le chapitre 3",
        "due_on": today, "details": details});
    let response = reqwest::Client::new()
        .put(format!("{base}/api/v1/classes/{class}/homework/{id}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
}

fn class_id(node: &Node, name: &str) -> String {
    node.query(&format!("SELECT class_id FROM school_class WHERE name = '{name}'")).pop().expect("class")
}

/// Both sides hold the same documents of `school`, at the same heads.
fn assert_same(lab: &Lab, i: usize, uai: &str) {
    let prefix = format!("school/{uai}");
    let (school, hub) = (lab.schools[i].documents(&prefix), lab.hub.documents(&prefix));
    assert!(!school.is_empty());
    assert_eq!(school, hub, "school {i} and the hub hold the same documents of {uai}");
}

/// Starts the hub and two schools — the demo school and a new one set up through the API —
/// enrolled through their links.
async fn two_schools(profile: common::netlab::Profile) -> (Lab, String) {
    let mut lab = Lab::new(2, profile).await;
    eprintln!("network lab: {} ({})", if lab.netns { "namespaces" } else { "loopback" }, profile.name);
    lab.start_hub();
    lab.enrol(0, DEMO_UAI);
    lab.enrol(1, OTHER_UAI);
    lab.schools[0].start(&["--demo"], &[]);
    lab.schools[1].start(&[], &[]);
    let setup = serde_json::json!({
        "uai": OTHER_UAI, "name": "École du Port", "commune": "Douarnenez",
        "first_name": "Yann", "last_name": "Le Gall", "password": "phare-vent-2026", "confirm": "phare-vent-2026"
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/setup", lab.schools[1].base()))
        .json(&setup)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.text().await.unwrap());
    let director = token(&lab.schools[1].base(), "yann.legall", "phare-vent-2026").await;
    (lab, director)
}

/// A teacher's laptop (a plain replica standing in for the desktop app), enrolled through
/// the director's page on the school's LAN, that has synced with the school once; the
/// director lets it sync with the hub away from school, and the hub has heard so.
async fn laptop_of(school: &Node, login: &str, dir: &std::path::Path) -> Replica {
    let mut director = common::Browser::new(&school.base());
    director.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    let teacher = school.query(&format!("SELECT user_id FROM credential WHERE login = '{login}'")).pop().unwrap();
    let page = director.post("/admin/sync/devices", &[("teacher", &teacher)]).await;
    let code = page.body.split("class=\"code-display\">").nth(1).expect("a code").split('<').next().unwrap().to_owned();
    let laptop = common::laptop(dir, Arc::new(Directory::default()));
    let link = enrollment::enroll_with(&laptop.links, &laptop.identity, &school.base(), None, &code).await.unwrap();
    let scope = link.chain.leaf().expect("a certificate").scope.clone();
    laptop
        .db
        .run_blocking(move |s| {
            s.set_scope(scope);
            Ok(())
        })
        .unwrap();
    let run = client::sync_once(&laptop, &|_| {}).await;
    assert!(run.ok, "{run:?}");
    director.post("/admin/sync/away", &[("away", "on")]).await.assert_redirect("/admin/sync");
    let (ok, out) = school.sync_now();
    assert!(ok, "{out}");
    laptop
}

/// Edits an entry of the cahier de textes held by `replica`, as `teacher` would from the
/// desktop app; with no `entry`, writes a new one titled `text`, else appends `text` to
/// the entry's details.
fn edit_on(replica: &Replica, class: &str, teacher: &str, entry: Option<&str>, text: &str) {
    replica
        .db
        .run_blocking(|store| {
            let dir = Directory::load(store)?;
            let class = dir.classes.values().find(|c| c.id.as_str() == class).expect("the class");
            let book = preau_appliance::services::homework::book_address(dir.uai().unwrap(), class)?;
            store.change::<HomeworkBook, _>(&book, |book| {
                let e = match entry {
                    Some(id) => book.entries.get_mut(id).expect("the entry"),
                    None => {
                        let today = preau_appliance::platform::clock::today();
                        let new = HomeworkEntry {
                            subject: "Français".into(),
                            title: text.to_owned(),
                            assigned_on: today.clone(),
                            due_on: today,
                            author: teacher.to_owned(),
                            ..Default::default()
                        };
                        book.entries.entry(format!("{:032x}", rand::random::<u128>())).or_insert(new)
                    }
                };
                let end = e.details.as_str().len();
                e.details.splice(end, 0, text);
                e.edited_by = teacher.to_owned();
                e.edited_at = preau_appliance::platform::clock::now_ms();
            })?;
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn schools_and_the_hub_edited_cut_off_converge_over_a_bad_rural_link_and_a_revoked_one_is_refused() {
    let (lab, port_director) = two_schools(BAD_RURAL).await;
    let (demo, port) = (&lab.schools[0], &lab.schools[1]);
    let teacher = token(&demo.base(), "sophie.lebihan", DEMO_PASSWORD).await;
    let ce = class_id(demo, "CE1-CE2");
    let shared = entry(&demo.base(), &teacher, &ce, "Lire le chapitre 3").await;
    set_details(&demo.base(), &teacher, &ce, &shared, "Questions 1 à 4.").await;
    let (ok, out) = demo.sync_now();
    assert!(ok, "{out}\n{}", demo.log());

    // Sophie's laptop, enrolled at school, then taken home: from there it reaches only the
    // hub, over its own ADSL line. The chain device ← school ← hub is what the hub checks.
    let home = Link::start("127.0.0.1:0".parse().unwrap(), lab.hub.addr, RURAL_ADSL).await;
    let dir = tempfile::tempdir().unwrap();
    let laptop = laptop_of(demo, "sophie.lebihan", dir.path()).await;
    let sophie = demo.query("SELECT user_id FROM credential WHERE login = 'sophie.lebihan'").pop().unwrap();
    let via_school = laptop.links.hub().unwrap();
    let hub = Links::open(&demo.data.path().join("links.db")).unwrap().hub().unwrap();
    laptop
        .links
        .set_hub(&HubLink {
            url: format!("http://{}", home.addr),
            hub_id: hub.hub_id,
            hub_key: hub.hub_key,
            ..via_school
        })
        .unwrap();

    // Both schools work while their links are down; Sophie works at home, through the hub.
    for link in &lab.links {
        link.set_up(false);
    }
    for n in 0..5 {
        entry(&demo.base(), &teacher, &ce, &format!("Lire la page {n}")).await;
    }
    // The school puts a word before the details of an entry whose end Sophie edits at home.
    set_details(&demo.base(), &teacher, &ce, &shared, "Avec le cahier rouge. Questions 1 à 4.").await;
    let class =
        post(&port.base(), &port_director, "/api/v1/classes", serde_json::json!({"name": "CP", "levels": ["CP"]}))
            .await;
    let cp = class["id"].as_str().unwrap().to_owned();
    entry(&port.base(), &port_director, &cp, "Apprendre la comptine").await;
    edit_on(&laptop, &ce, &sophie, None, "Préparer l'exposé sur la rivière");
    edit_on(&laptop, &ce, &sophie, Some(&shared), " Et relire la fiche.");
    let run = client::sync_once(&laptop, &|_| {}).await;
    assert!(run.ok && run.docs_up >= 1, "from home, through the hub: {run:?}");
    let (ok, out) = demo.sync_now();
    assert!(!ok && out.contains("injoignable"), "a cut link is reported in plain French: {out}");
    assert!(demo.runs()[0].error.as_deref().unwrap().starts_with("unreachable"));

    // The links come back: everything converges, nothing is lost, nothing crosses schools.
    for link in &lab.links {
        link.set_up(true);
    }
    let started = std::time::Instant::now();
    let (ok, out) = demo.sync_now();
    assert!(ok, "{out}\n{}", demo.log());
    let (ok, out) = port.sync_now();
    assert!(ok, "{out}\n{}", port.log());
    let run = &demo.runs()[0];
    eprintln!(
        "bad rural: demo school's sync after the cut {:?}, {} B up, {} B down, {} documents",
        started.elapsed(),
        run.bytes_up,
        run.bytes_down,
        run.docs_up
    );
    let run = client::sync_once(&laptop, &|_| {}).await;
    assert!(run.ok, "{run:?}");
    assert_same(&lab, 0, DEMO_UAI);
    assert_same(&lab, 1, OTHER_UAI);
    let on_laptop = documents(&dir.path().join("replica.db"), "school/");
    let on_hub = lab.hub.documents("school/");
    assert!(on_laptop.len() > 3);
    for doc in &on_laptop {
        assert!(on_hub.contains(doc), "the laptop and the hub hold {} at the same heads", doc.0);
    }
    assert!(
        demo.documents(&format!("school/{OTHER_UAI}")).is_empty(),
        "the demo school never receives the other school"
    );
    assert!(port.documents(&format!("school/{DEMO_UAI}")).is_empty());
    for node in [&lab.hub, demo] {
        let titles = node.query("SELECT title FROM homework_entry");
        for title in ["Lire la page 4", "Préparer l'exposé sur la rivière"] {
            assert!(titles.iter().any(|t| t == title), "{title} is everywhere");
        }
        let details = node.query(&format!("SELECT details FROM homework_entry WHERE entry_id = '{shared}'"));
        assert_eq!(
            details,
            ["Avec le cahier rouge. Questions 1 à 4. Et relire la fiche."],
            "both edits of one entry survive"
        );
    }
    assert!(lab.hub.query("SELECT title FROM homework_entry").iter().any(|t| t == "Apprendre la comptine"));

    // The académie revokes the second school's appliance: refused from its next sync on.
    let (_, list) = lab.hub.preau(&["hub", "list"]);
    let replica = list.lines().find(|l| l.contains(OTHER_UAI)).unwrap().split('\t').next().unwrap().to_owned();
    let (ok, out) = lab.hub.preau(&["hub", "revoke", &replica]);
    assert!(ok, "{out}");
    let (ok, out) = port.sync_now();
    assert!(!ok && out.contains("révoqué"), "{out}");
    // The other school goes on.
    let (ok, out) = demo.sync_now();
    assert!(ok, "{out}");
}

/// The video's size: 32 chunks, about a minute of rural ADSL's upload, so that the link is
/// cut a dozen times or more during the transfer. (It was 20 MB: nearly three minutes of
/// the cold suite on two cores, spent proving nothing a smaller file does not.)
const VIDEO_BYTES: u32 = 8 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn a_video_and_a_day_of_changes_cross_a_link_cut_again_and_again() {
    let mut lab = Lab::new(1, RURAL_ADSL).await;
    eprintln!(
        "network lab: {} ({}, cut up to 20 times)",
        if lab.netns { "namespaces" } else { "loopback" },
        RURAL_ADSL.name
    );
    lab.start_hub();
    lab.enrol(0, DEMO_UAI);
    lab.schools[0].start(&["--demo"], &[("PREAU_MAX_UPLOAD_BYTES", "33554432")]);
    let school = &lab.schools[0];
    let teacher = token(&school.base(), "sophie.lebihan", DEMO_PASSWORD).await;
    let ce = class_id(school, "CE1-CE2");
    for n in 0..40 {
        entry(&school.base(), &teacher, &ce, &format!("Exercice {n} du fichier de mathématiques")).await;
    }
    let video: Vec<u8> = (0..VIDEO_BYTES).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let id = entry(&school.base(), &teacher, &ce, "Regarder la vidéo de la sortie").await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(video.clone()).file_name("sortie.mp4").mime_str("video/mp4").unwrap(),
    );
    let status = reqwest::Client::new()
        .post(format!("{}/api/v1/classes/{ce}/homework/{id}/files", school.base()))
        .bearer_auth(&teacher)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");

    // The sync runs while the link is cut 20 times at random moments.
    let mut command = school.sync_now_command();
    let sync = std::thread::spawn(move || {
        let out = command.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    });
    let mut cuts = 0;
    while cuts < 20 && !sync.is_finished() {
        tokio::time::sleep(Duration::from_millis(rand::random_range(1500..4000))).await;
        lab.links[0].set_up(false);
        tokio::time::sleep(Duration::from_millis(rand::random_range(300..1500))).await;
        lab.links[0].set_up(true);
        cuts += 1;
    }
    let (ok, out) = tokio::task::spawn_blocking(move || sync.join().unwrap()).await.unwrap();
    assert!(ok, "{out}\n{}", lab.schools[0].log());
    let run = &lab.schools[0].runs()[0];
    eprintln!(
        "{} MiB video + 41 entries over {} with {cuts} cuts: {} B up, {} B re-sent ({:.1} chunks), {} connections",
        VIDEO_BYTES >> 20,
        RURAL_ADSL.name,
        run.bytes_up,
        run.bytes_resent,
        run.bytes_resent as f64 / preau_appliance::replication::CHUNK as f64,
        lab.links[0].connections.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(cuts >= 10, "the transfer was cut at least 10 times ({cuts})");
    assert_eq!(run.files_up, 1, "{run:?}");
    // At most one chunk (and the small requests around it) again per cut.
    let bound = cuts as i64 * (preau_appliance::replication::CHUNK as i64 + 8 * 1024);
    assert!(run.bytes_resent <= bound, "re-sent {} bytes for {cuts} cuts (bound {bound})", run.bytes_resent);
    assert_same(&lab, 0, DEMO_UAI);
    let hash = blake3::hash(&video).to_hex().to_string();
    let on_hub = std::fs::read(lab.hub.data.path().join("files").join(&hash[..2]).join(&hash)).unwrap();
    assert!(on_hub == video, "the video arrived whole");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hub_killed_during_a_sync_restarts_and_nothing_is_lost() {
    let mut lab = Lab::new(1, LAN).await;
    lab.start_hub();
    lab.enrol(0, DEMO_UAI);
    lab.schools[0].start(&["--demo"], &[]);
    let base = lab.schools[0].base();
    let teacher = token(&base, "sophie.lebihan", DEMO_PASSWORD).await;
    let ce = class_id(&lab.schools[0], "CE1-CE2");
    for n in 0..300 {
        entry(&base, &teacher, &ce, &format!("Leçon {n}")).await;
    }
    let mut command = lab.schools[0].sync_now_command();
    let sync = std::thread::spawn(move || command.output().unwrap());
    // SIGKILL at a random moment of the first sync, then start again on the same data.
    std::thread::sleep(Duration::from_millis(rand::random_range(20..400)));
    lab.hub.kill();
    std::thread::sleep(Duration::from_millis(500));
    lab.start_hub();
    let first = tokio::task::spawn_blocking(move || sync.join().unwrap()).await.unwrap();
    eprintln!("sync across the hub's SIGKILL: success {}", first.status.success());
    // Whatever the first one managed, the next one converges.
    let (ok, out) = lab.schools[0].sync_now();
    assert!(ok, "{out}\n{}", lab.hub.log());
    assert_same(&lab, 0, DEMO_UAI);
    assert_eq!(lab.hub.query("PRAGMA integrity_check"), vec!["ok".to_owned()]);
    let titles = lab.hub.query("SELECT title FROM homework_entry WHERE title LIKE 'Leçon %'");
    assert_eq!(titles.len(), 300, "every entry reached the hub once");
}

/// Changes the replica of a stopped appliance behind its back, as a tampered machine would.
fn tamper(node: &Node, edit: impl FnOnce(&mut preau_sync::Store, &Directory)) {
    let mut store = preau_sync::Store::open(&node.data.path().join("replica.db"), preau_sync::Scope::all()).unwrap();
    let dir = Directory::load(&store).unwrap();
    edit(&mut store, &dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_documents_from_tampered_appliances_are_quarantined_and_hold_back_nothing_else() {
    let (mut lab, port_director) = two_schools(LAN).await;
    let teacher = token(&lab.schools[0].base(), "sophie.lebihan", DEMO_PASSWORD).await;
    let ce = class_id(&lab.schools[0], "CE1-CE2");
    let entry_id = entry(&lab.schools[0].base(), &teacher, &ce, "Réciter la poésie").await;
    let port = lab.schools[1].base();
    let class =
        post(&port, &port_director, "/api/v1/classes", serde_json::json!({"name": "CP", "levels": ["CP"]})).await;
    let cp = class["id"].as_str().unwrap().to_owned();
    for school in &lab.schools {
        let (ok, out) = school.sync_now();
        assert!(ok, "{out}");
    }
    let demo_prefix = format!("school/{DEMO_UAI}");
    let before = lab.hub.documents(&demo_prefix);
    // The second school's own work of the day, which travels with the forgery below.
    entry(&port, &port_director, &cp, "Chanter la comptine").await;

    // The second school's machine writes into the demo school's class.
    lab.schools[1].kill();
    tamper(&lab.schools[1], |store, _| {
        let uai = preau_sync::Uai::parse(DEMO_UAI).unwrap();
        let partition = preau_sync::Partition::Class(uai, preau_sync::LocalId::parse(&ce).unwrap());
        let book =
            preau_sync::DocAddress::new(partition, Kind::HomeworkBook, preau_sync::DocKey::parse("2099-2100").unwrap());
        store
            .change::<HomeworkBook, _>(&book, |b| {
                b.entries.insert("forged".into(), Default::default());
            })
            .unwrap();
    });
    lab.schools[1].start(&[], &[]);
    let (ok, out) = lab.schools[1].sync_now();
    assert!(ok && out.contains("refusé"), "the rest went through; the director is told: {out}");
    assert!(lab.schools[1].runs()[0].error.as_deref().unwrap().starts_with("refused-outgoing:"));
    let titles = lab.hub.query("SELECT title FROM homework_entry");
    assert!(titles.iter().any(|t| t == "Chanter la comptine"), "one forged document holds back nothing else");

    // The demo school's machine passes a pupil off as the author of a teacher's entry.
    lab.schools[0].kill();
    tamper(&lab.schools[0], |store, dir| {
        let class = dir.classes.values().find(|c| c.id.as_str() == ce).unwrap();
        let pupil = dir.pupils_of(&class.id)[0].id.as_str().to_owned();
        let book = preau_appliance::services::homework::book_address(dir.uai().unwrap(), class).unwrap();
        store
            .change::<HomeworkBook, _>(&book, |b| {
                let e = b.entries.get_mut(&entry_id).unwrap();
                e.title = "Pas de devoirs".into();
                e.edited_by = pupil;
            })
            .unwrap();
    });
    lab.schools[0].start(&["--demo"], &[]);
    let (ok, out) = lab.schools[0].sync_now();
    assert!(ok && out.contains("refusé"), "{out}");

    // Nothing of either forgery reached the hub; both bundles are kept there for inspection.
    assert_eq!(lab.hub.documents(&demo_prefix), before, "the demo school's documents are unchanged on the hub");
    assert!(lab.hub.query("SELECT title FROM homework_entry").iter().all(|t| t != "Pas de devoirs"));
    let kept = std::fs::read_dir(lab.hub.data.path().join("quarantine")).unwrap().count();
    assert_eq!(kept, 2, "both forged bundles are kept");
}
