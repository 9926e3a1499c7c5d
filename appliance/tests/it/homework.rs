//! The cahier de textes against a real server: a teacher writes, pupils and parents see and
//! tick, the teacher sees who did; bad input changes nothing; another replica's changes obey
//! the same rules.

use crate::common::{self, Browser, TestServer, api, pupil_browser, read_models, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::{Class, Member, Profile};
use preau_appliance::services::homework::book_address;
use preau_sync::Store;
use preau_sync::kinds::HomeworkBook;
use preau_sync::kinds::homework::{DoneMark, HomeworkEntry};
use reqwest::StatusCode;
use serde_json::json;

fn class(server: &TestServer, name: &str) -> Class {
    server.directory().current_classes().into_iter().find(|c| c.class.name == name).unwrap().clone()
}

fn pupils(server: &TestServer, class: &Class, level: &str) -> Vec<Member> {
    server.directory().pupils_of(&class.id).into_iter().filter(|p| p.person.level == level).cloned().collect()
}

/// A day `n` days from today, `YYYY-MM-DD`.
fn day(n: i64) -> String {
    preau_appliance::platform::clock::date_of_ms(preau_appliance::platform::clock::now_ms() + n * 86_400_000)
}

/// A legal guardian whose children are all in `class`, and one of those children.
fn parent_in(server: &TestServer, class: &Class) -> (Member, Member) {
    let dir = server.directory();
    let parent = dir
        .people
        .values()
        .find(|m| {
            m.profile == Profile::Parent
                && !dir.children_of(&m.id).is_empty()
                && dir.children_of(&m.id).iter().all(|c| c.person.class_id == class.id.as_str())
        })
        .expect("a parent in the class")
        .clone();
    let child = dir.children_of(&parent.id)[0].clone();
    (parent, child)
}

async fn teacher() -> (TestServer, Browser, Class) {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    b.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let ce = class(&server, "CE1-CE2");
    (server, b, ce)
}

fn entry_id(server: &TestServer, class: &Class, title: &str) -> String {
    let address = book_address(server.directory().uai().unwrap(), class).unwrap();
    let items =
        server.state.db.run_blocking(|s| Ok(s.homework(&address.partition, "0000-01-01", "9999-12-31")?)).unwrap();
    items.into_iter().find(|i| i.title == title).unwrap_or_else(|| panic!("no entry {title:?}")).entry_id
}

#[tokio::test]
async fn a_teacher_writes_the_cahier_pupils_and_parents_tick_and_the_teacher_sees_who_did() {
    let (server, mut teacher, ce) = teacher().await;
    let home = teacher.get("/").await;
    assert!(home.contains(&format!("/classes/{}/homework", ce.id)), "a tile leads to the cahier");

    // 1. The teacher writes today's lesson and work for the day after tomorrow.
    let week = teacher.get(&format!("/classes/{}/homework", ce.id)).await;
    week.assert_ok();
    assert!(week.contains("Cahier de textes — CE1-CE2"));
    let fields = [
        ("assigned_on", day(0)),
        ("subject", "Mathématiques".into()),
        ("lesson", "Les tables de 7.\r\nJeu du furet.".into()),
        ("title", "Exercices 3 et 4 p. 42".into()),
        ("details", "Sur le cahier du jour.".into()),
        ("due_on", day(2)),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    teacher.post(&format!("/classes/{}/homework", ce.id), &fields).await.assert_redirect(&format!(
        "/classes/{}/homework?week={}",
        ce.id,
        day(0)
    ));
    let week = teacher.get(&format!("/classes/{}/homework?week={}", ce.id, day(0))).await;
    assert!(
        week.contains("Exercices 3 et 4 p. 42") && week.contains("Les tables de 7.\nJeu du furet."),
        "{}",
        week.body
    );
    let ce1 = pupils(&server, &ce, "CE1");
    let ce2 = pupils(&server, &ce, "CE2");
    assert!(week.contains(&format!("0 sur {} fait", ce1.len() + ce2.len())), "{}", week.body);
    let entry = entry_id(&server, &ce, "Exercices 3 et 4 p. 42");

    // 2. A pupil sees it on their home page and ticks it.
    let pupil = &ce1[0];
    let mut p = pupil_browser(&server, pupil).await;
    let home = p.get("/").await;
    assert!(home.contains("Exercices 3 et 4 p. 42") && home.contains("ai fini"), "{}", home.body);
    let tick = format!("/pupils/{}/homework/{entry}/done", pupil.id);
    // Back only to a path of this site: another host, or a header smuggled in, is a 400
    // and ticks nothing.
    let before = read_models(&server);
    for back in
        ["//evil.example", "/\\evil.example", "\t//evil.example", "/a\r\nSet-Cookie: x=y", "https://evil.example"]
    {
        assert_eq!(p.post(&tick, &[("done", "1"), ("back", back)]).await.status, StatusCode::BAD_REQUEST, "{back:?}");
    }
    assert_eq!(read_models(&server), before);
    p.post(&tick, &[("done", "1"), ("back", "/")]).await.assert_redirect("/");
    assert!(p.get("/").await.contains("Fini !"));
    assert!(p.get("/homework").await.contains("Fini !"));

    // 3. A parent ticks for their young child, from the child's page.
    let (parent, child) = parent_in(&server, &ce);
    assert_ne!(child.id, pupil.id);
    let mut g = common::activated_browser(&server, &parent, "cahier-2026").await;
    let page = g.get(&format!("/child/{}", child.id)).await;
    assert!(page.contains("Exercices 3 et 4 p. 42") && page.contains("Marquer comme fait"), "{}", page.body);
    let back = format!("/child/{}", child.id);
    g.post(&format!("/pupils/{}/homework/{entry}/done", child.id), &[("done", "1"), ("back", &back)])
        .await
        .assert_redirect(&back);

    // 4. The teacher sees who did it, and who ticked for whom.
    let detail = teacher.get(&format!("/classes/{}/homework/{entry}", ce.id)).await;
    detail.assert_ok();
    assert!(detail.contains(&pupil.full_name()) && detail.contains("coché par un parent"), "{}", detail.body);
    assert!(teacher.get(&format!("/classes/{}/homework?week={}", ce.id, day(0))).await.contains("2 sur"));
    let (_, ticks) = api(
        &server,
        "GET",
        &format!("/api/v1/classes/{}/homework/{entry}/done", ce.id),
        Some(&token(&server, "sophie.lebihan", DEMO_PASSWORD).await),
        None,
    )
    .await;
    let done: Vec<&str> =
        ticks.as_array().unwrap().iter().filter(|t| t["done"] == true).map(|t| t["pupil"].as_str().unwrap()).collect();
    assert_eq!(done.len(), 2);
    assert!(done.contains(&pupil.id.as_str()) && done.contains(&child.id.as_str()));

    // 5. Unticking is kept as a tick set back, never a deletion.
    p.post(&tick, &[("done", "0"), ("back", "/")]).await.assert_redirect("/");
    assert!(p.get("/").await.contains("ai fini"));

    // 6. The teacher edits, then withdraws it: the pupil no longer sees it.
    let mut edited = fields.clone();
    edited.retain(|(k, _)| *k != "title");
    edited.push(("title", "Exercices 3, 4 et 5 p. 42"));
    teacher.post(&format!("/classes/{}/homework/{entry}", ce.id), &edited).await;
    assert!(p.get("/").await.contains("Exercices 3, 4 et 5 p. 42"));
    teacher.post(&format!("/classes/{}/homework/{entry}/remove", ce.id), &[]).await;
    assert!(!p.get("/").await.contains("Exercices 3, 4 et 5"));
    assert_eq!(teacher.get(&format!("/classes/{}/homework/{entry}", ce.id)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn work_for_one_level_of_a_multi_level_class_reaches_only_that_level() {
    let (server, _, ce) = teacher().await;
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let body = json!({"audience": "CE2", "subject": "Français", "assigned_on": day(0), "title": "Conjuguer être au futur", "due_on": day(1)});
    let (status, created) =
        api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for (level, sees) in [("CE1", false), ("CE2", true)] {
        let pupil = &pupils(&server, &ce, level)[0];
        let home = pupil_browser(&server, pupil).await.get("/").await;
        assert_eq!(home.contains("Conjuguer être au futur"), sees, "{level}");
        let (_, todo) = api(&server, "GET", &format!("/api/v1/pupils/{}/homework", pupil.id), Some(&t), None).await;
        let titles: Vec<&str> = todo.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
        assert_eq!(titles.contains(&"Conjuguer être au futur"), sees, "{level}: {todo}");
    }
    // A CE1 pupil cannot tick CE2 work (it does not exist for them).
    let ce1 = &pupils(&server, &ce, "CE1")[0];
    let id = created["id"].as_str().unwrap();
    let mut b = pupil_browser(&server, ce1).await;
    let before = read_models(&server);
    let page = b.post(&format!("/pupils/{}/homework/{id}/done", ce1.id), &[("done", "1")]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(read_models(&server), before);
}

#[tokio::test]
async fn bad_entries_are_refused_in_french_and_change_nothing() {
    let (server, mut teacher, ce) = teacher().await;
    teacher.get(&format!("/classes/{}/homework", ce.id)).await;
    let good = |k: &str| -> String {
        match k {
            "assigned_on" => day(0),
            "subject" => "Sciences".into(),
            "title" => "Observer une graine".into(),
            "due_on" => day(3),
            _ => String::new(),
        }
    };
    let long_title = "a".repeat(201);
    let long_text = "é".repeat(5001);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("subject", "", "Indiquez la matière"),
        ("subject", "Sciences\u{7}", "Indiquez la matière"),
        ("assigned_on", "2026-02-30", "Cette date n"),
        ("assigned_on", "demain", "Cette date n"),
        ("due_on", "", "Indiquez pour quel jour"),
        ("due_on", "1999-01-01", "avant le jour où il est donné"),
        ("title", &long_title, "Le texte est trop long"),
        ("details", &long_text, "Le texte est trop long"),
        ("audience", "CM2", "des niveaux de la classe"),
    ];
    let before = read_models(&server);
    for (field, value, message) in cases {
        let mut fields: Vec<(String, String)> = ["assigned_on", "subject", "title", "due_on", "details", "audience"]
            .iter()
            .map(|k| (k.to_string(), good(k)))
            .collect();
        fields.iter_mut().find(|(k, _)| k == field).unwrap().1 = value.to_owned();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let page = teacher.post(&format!("/classes/{}/homework", ce.id), &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{field}={value:?}");
        assert!(page.contains(message), "{field}={value:?}: {}", page.body);
        assert!(page.contains("Observer une graine") || field == "title", "the form keeps what was typed");
    }
    // Neither a lesson nor work.
    let page =
        teacher.post(&format!("/classes/{}/homework", ce.id), &[("assigned_on", &day(0)), ("subject", "EPS")]).await;
    assert!(page.contains("Écrivez ce qui a été fait en classe"));
    // The same through the API: 400 with a French message, never a 5xx.
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    for body in [
        json!({"subject": "EPS", "assigned_on": "2026-13-01", "lesson": "x"}),
        json!({"subject": "EPS"}),
        json!({"subject": 3, "assigned_on": day(0)}),
        json!("not an object"),
    ] {
        let (status, answer) =
            api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Someone else's ids: another class, an unknown entry, an unknown pupil.
    let cp = class(&server, "CP");
    let lesson = json!({"subject": "EPS", "assigned_on": day(0), "lesson": "Course"});
    for path in [
        format!("/api/v1/classes/{}/homework", cp.id),
        "/api/v1/classes/0000000000000000/homework".to_owned(),
        "/api/v1/classes/not-an-id/homework".to_owned(),
    ] {
        let (status, _) = api(&server, "POST", &path, Some(&t), Some(lesson.clone())).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) =
        api(&server, "PUT", &format!("/api/v1/classes/{}/homework/0000000000000000", ce.id), Some(&t), Some(lesson))
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(read_models(&server), before, "nothing was written");
}

#[tokio::test]
async fn what_teachers_type_is_shown_as_text_never_as_markup() {
    let (server, mut teacher, ce) = teacher().await;
    let xss = [
        "<script>alert('cahier')</script>",
        "\"><img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">clic</a>",
        "{{ c.csrf }}",
    ];
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    for (i, x) in xss.iter().enumerate() {
        let body = json!({"subject": format!("Sujet {i} {x}"), "assigned_on": day(0), "lesson": x, "title": x, "details": x, "due_on": day(1)});
        let (status, _) =
            api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{x}");
    }
    let pupil = &pupils(&server, &ce, "CE1")[0];
    let pages = [
        teacher.get(&format!("/classes/{}/homework", ce.id)).await,
        teacher.get(&format!("/classes/{}/homework/print?from={}&to={}", ce.id, day(0), day(0))).await,
        pupil_browser(&server, pupil).await.get("/").await,
    ];
    for page in pages {
        page.assert_ok();
        for marker in ["<script>alert", "<img src=x", "<a href=\"javascript:"] {
            assert!(!page.contains(marker), "{marker} unescaped in {}", page.body);
        }
        assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"), "{}", page.body);
    }
}

#[tokio::test]
async fn the_cahier_of_a_period_prints_day_by_day() {
    let (server, mut teacher, ce) = teacher().await;
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    for (d, lesson) in [(-7, "La semaine dernière"), (0, "Ce jour"), (30, "Le mois prochain")] {
        let body = json!({"subject": "Histoire", "assigned_on": day(d), "lesson": lesson});
        let (status, _) =
            api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let page = teacher.get(&format!("/classes/{}/homework/print?from={}&to={}", ce.id, day(-7), day(0))).await;
    page.assert_ok();
    assert!(page.contains("La semaine dernière") && page.contains("Ce jour") && !page.contains("Le mois prochain"));
    assert!(
        page.contains(&preau_appliance::web::asset("letters.css"))
            && !page.contains("http://")
            && !page.contains("https://")
    );
    for bad in ["from=2026-01-01&to=2025-01-01", "from=2020-01-01&to=2026-01-01", "from=x&to=y"] {
        let page = teacher.get(&format!("/classes/{}/homework/print?{bad}", ce.id)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn changes_from_another_replica_obey_the_same_rules_as_the_pages() {
    let (server, _, ce) = teacher().await;
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let body = json!({"subject": "Français", "assigned_on": day(0), "lesson": "Lecture", "title": "Relire le texte", "due_on": day(1)});
    let (_, created) = api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
    let entry = created["id"].as_str().unwrap().to_owned();
    let dir = server.directory();
    let uai = dir.uai().unwrap().clone();
    let book = book_address(&uai, &ce).unwrap();
    let teacher_id = server.member("sophie.lebihan").id.to_string();
    let atsem = server.member("martine.guillemot").id.to_string();
    let ce1 = pupils(&server, &ce, "CE1");
    let (me, other) = (ce1[0].id.to_string(), ce1[1].id.to_string());

    // A replica of the school (a teacher's laptop) that was given the book.
    let tmp = tempfile::tempdir().unwrap();
    let laptop_at = |name: &str| {
        let mut laptop = Store::open(&tmp.path().join(name), preau_appliance::school::scope(&uai)).unwrap();
        common::sync_with(&server, &mut laptop).unwrap();
        laptop
    };

    // 1. The class's teacher editing offline, and the pupil ticking: accepted.
    let mut laptop = laptop_at("ok.db");
    laptop
        .change::<HomeworkBook, _>(&book, |b| {
            let e = b.entries.get_mut(&entry).unwrap();
            e.lesson.update("Lecture à voix haute");
            e.edited_by = teacher_id.clone();
            b.done.insert(DoneMark::key(&entry, &me), DoneMark { done: true, by: me.clone(), at: 1 });
        })
        .unwrap();
    common::sync_with(&server, &mut laptop).unwrap();
    let items = server.state.db.run_blocking(|s| Ok(s.homework(&book.partition, &day(0), &day(0))?)).unwrap();
    assert!(items.iter().any(|i| i.entry_id == entry && i.lesson == "Lecture à voix haute"), "{items:?}");

    // 2. Forgeries: each refused with its reason, and the school's replica unchanged.
    let (t2, a2, m2, o2, e2) = (teacher_id.clone(), atsem.clone(), me.clone(), other.clone(), entry.clone());
    let forgeries: Vec<common::Forgery<HomeworkBook>> = vec![
        ("the ATSEM writes an entry", {
            let (a, e) = (a2.clone(), e2.clone());
            Box::new(move |b| {
                let x = b.entries.get_mut(&e).unwrap();
                x.title = "Rien".into();
                x.edited_by = a.clone();
            })
        }),
        ("a pupil's change to the teacher's entry", {
            let (m, e) = (m2.clone(), e2.clone());
            Box::new(move |b| {
                let x = b.entries.get_mut(&e).unwrap();
                x.due_on = "2099-01-01".into();
                x.edited_by = m.clone();
            })
        }),
        ("a pupil ticking for a classmate", {
            let (m, o, e) = (m2.clone(), o2.clone(), e2.clone());
            Box::new(move |b| {
                b.done.insert(DoneMark::key(&e, &o), DoneMark { done: true, by: m.clone(), at: 2 });
            })
        }),
        ("an entry deleted", {
            let e = e2.clone();
            Box::new(move |b| {
                b.entries.remove(&e);
            })
        }),
        ("an entry created on the teacher's behalf by the ATSEM", {
            let (a, t) = (a2.clone(), t2.clone());
            Box::new(move |b| {
                let x = HomeworkEntry {
                    author: t.clone(),
                    edited_by: a.clone(),
                    subject: "x".into(),
                    ..Default::default()
                };
                b.entries.insert("forged".into(), x);
            })
        }),
    ];
    common::assert_forgeries_refused::<HomeworkBook>(&server, &book, forgeries);
}

#[tokio::test]
async fn files_attached_to_work_reach_the_class_only() {
    let (server, mut teacher, ce) = teacher().await;
    teacher.get(&format!("/classes/{}/homework", ce.id)).await;
    let pdf = b"%PDF-1.4 fiche de lecture".to_vec();
    let fields = [
        ("assigned_on", day(0)),
        ("subject", "Français".to_owned()),
        ("title", "Lire la fiche".to_owned()),
        ("due_on", day(2)),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = teacher
        .post_files(
            &format!("/classes/{}/homework", ce.id),
            &fields,
            &[("C:\\Mes documents\\fiche|lecture.pdf", pdf.clone())],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let entry = entry_id(&server, &ce, "Lire la fiche");
    let hash = blake3::hash(&pdf).to_hex().to_string();
    let link = format!("/classes/{}/homework/{entry}/files/{hash}", ce.id);

    // The class's pupil sees and downloads it, as a download.
    let pupil = &pupils(&server, &ce, "CE1")[0];
    let mut p = pupil_browser(&server, pupil).await;
    let home = p.get("/").await;
    assert!(home.contains(&link) && home.contains(">fichelecture.pdf<"), "the name without its path: {}", home.body);
    let download = p.get(&link).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body.as_bytes(), pdf.as_slice());

    // Another class, a stranger's guess, a made-up file: nothing.
    let cp = class(&server, "CP");
    let cp_pupil = &pupils(&server, &cp, "CP")[0];
    let mut other = pupil_browser(&server, cp_pupil).await;
    assert_eq!(other.get(&link).await.status, StatusCode::NOT_FOUND);
    assert_eq!(server.browser().get(&link).await.status, StatusCode::SEE_OTHER, "anonymous: to the login page");
    for bad in ["../../replica.db", &"0".repeat(64), "zz"] {
        let page = p.get(&format!("/classes/{}/homework/{entry}/files/{bad}", ce.id)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // The teacher takes it off: gone for the pupil.
    let mut edited = fields.clone();
    edited.push(("remove", hash.as_str()));
    teacher.get(&format!("/classes/{}/homework/{entry}", ce.id)).await;
    let page = teacher.post(&format!("/classes/{}/homework/{entry}", ce.id), &edited).await;
    assert!(page.status.is_redirection(), "{}", page.body);
    assert_eq!(p.get(&link).await.status, StatusCode::NOT_FOUND);

    // The API attaches it again, and takes it off.
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let files = format!("{}/api/v1/classes/{}/homework/{entry}/files", server.base, ce.id);
    let form = reqwest::multipart::Form::new()
        .part("files", reqwest::multipart::Part::bytes(pdf.clone()).file_name("fiche.pdf"));
    let status = reqwest::Client::new().post(&files).bearer_auth(&t).multipart(form).send().await.unwrap().status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(p.get(&link).await.body.as_bytes(), pdf.as_slice());
    let status =
        reqwest::Client::new().delete(format!("{files}/{hash}")).bearer_auth(&t).send().await.unwrap().status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(p.get(&link).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn work_for_a_group_reaches_only_its_members() {
    let (server, _, ce) = teacher().await;
    let director = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let (_, group) =
        api(&server, "POST", "/api/v1/groups", Some(&director), Some(json!({"name": "Soutien lecture"}))).await;
    let group = group["id"].as_str().unwrap().to_owned();
    let (member, other) = (pupils(&server, &ce, "CE1")[0].clone(), pupils(&server, &ce, "CE1")[1].clone());
    let (status, _) = api(
        &server,
        "PUT",
        &format!("/api/v1/groups/{group}/members"),
        Some(&director),
        Some(json!({"ids": [member.id.to_string()]})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let body = json!({"audience": format!("group:{group}"), "subject": "Français", "assigned_on": day(0), "title": "Lire la page 3 à voix haute", "due_on": day(1)});
    let (status, answer) =
        api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(pupil_browser(&server, &member).await.get("/").await.contains("Lire la page 3"));
    assert!(!pupil_browser(&server, &other).await.get("/").await.contains("Lire la page 3"));
    // The week page names the group; an unknown group is refused.
    let mut b = server.browser();
    b.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert!(b.get(&format!("/classes/{}/homework", ce.id)).await.contains("Soutien lecture"));
    let body = json!({"audience": "group:0000000000000000", "subject": "x", "assigned_on": day(0), "lesson": "x"});
    let (status, _) = api(&server, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t), Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The form suggests subjects in the reader's language (from the locales); an entry keeps
/// its subject as it was chosen or typed, and every reader sees it so.
#[tokio::test]
async fn subjects_are_suggested_in_the_readers_language_and_shown_as_stored() {
    let (_server, mut b, ce) = teacher().await;
    let path = format!("/classes/{}/homework?week={}", ce.id, day(0));
    let french = b.get(&path).await;
    french.assert_ok();
    for subject in ["Mathématiques", "Questionner le monde", "Éducation musicale", "EPS"] {
        assert!(french.contains(&format!("<option value=\"{subject}\">")), "{subject}: {}", french.body);
    }
    let english = b.get_in("en-GB,en;q=0.9", &path).await;
    english.assert_ok();
    for subject in ["Mathematics", "Understanding the world", "Music", "PE"] {
        assert!(english.contains(&format!("<option value=\"{subject}\">")), "{subject}: {}", english.body);
    }
    assert!(!english.contains("<option value=\"Mathématiques\">"));
    let today = day(0);
    let fields = [("assigned_on", today.as_str()), ("subject", "Mathématiques"), ("lesson", "La table de 9.")];
    b.post(&format!("/classes/{}/homework", ce.id), &fields).await;
    let english = b.get_in("en-GB,en;q=0.9", &path).await;
    assert!(english.contains("<h4>Mathématiques"), "written in French, shown as written: {}", english.body);
}
