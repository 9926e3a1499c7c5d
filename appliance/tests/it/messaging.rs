//! Messaging against a real server: who may write to whom, pupils' messages held until a
//! teacher approves them, both guardians in what concerns their child, unread counters,
//! live arrival, and forgeries from another replica refused.

use std::time::Duration;

use crate::common::{self, TestServer, activated_browser, api, pupil_browser, pupil_token, read_models, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::{Class, Member};
use preau_sync::kinds::Conversation;
use preau_sync::kinds::conversation::{Message, Moderation};
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn class(server: &TestServer, name: &str) -> Class {
    server.directory().current_classes().into_iter().find(|c| c.class.name == name).unwrap().clone()
}

fn pupils(server: &TestServer, class: &Class) -> Vec<Member> {
    server.directory().pupils_of(&class.id).into_iter().cloned().collect()
}

async fn start(server: &TestServer, t: &str, body: Value) -> (StatusCode, Value) {
    api(server, "POST", "/api/v1/conversations", Some(t), Some(body)).await
}

#[tokio::test]
async fn a_pupils_message_waits_for_the_teacher_then_arrives_and_is_answered() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let pupil = pupils(&server, &ce)[0].clone();
    let teacher = server.member("sophie.lebihan");
    let mut p = pupil_browser(&server, &pupil).await;

    // 1. The pupil writes to the teacher: held, shown to them as waiting.
    p.get("/messages/new").await.assert_ok();
    let sent = p
        .post("/messages/new", &[("to", teacher.id.as_str()), ("subject", "Ma poésie"), ("body", "Je l'ai apprise !")])
        .await;
    let path = sent.location.clone().expect("redirect to the conversation");
    let page = p.get(&path).await;
    assert!(page.contains("Je l") && page.contains("En attente de validation"), "{}", page.body);

    // 2. The teacher sees it waiting (nothing unread yet) and delivers it.
    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    let home = t.get("/").await;
    assert!(!home.contains("non lu"), "a held message is not delivered");
    let queue = t.get(&format!("/classes/{}/messaging", ce.id)).await;
    assert!(queue.contains("Ma poésie") && queue.contains("Transmettre"), "{}", queue.body);
    let key = path.rsplit('/').next().unwrap();
    let tt = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (_, view) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&tt), None).await;
    let message = view["messages"][0]["id"].as_str().unwrap().to_owned();
    t.post(&format!("/messages/{key}/{message}/moderate"), &[("decision", "approve"), ("back", "/")])
        .await
        .assert_redirect("/");
    assert!(t.get(&format!("/classes/{}/messaging", ce.id)).await.contains("Aucun message en attente"));

    // 3. Delivered: the pupil's page says so, the teacher answers, the pupil has 1 unread.
    assert!(!p.get(&path).await.contains("En attente de validation"));
    t.post(&path, &[("body", "Bravo, tu la réciteras demain.")]).await.assert_redirect(&path);
    assert!(p.get("/").await.contains("Messagerie (1 non lu(s))"));
    assert!(p.get(&path).await.contains("Bravo, tu la réciteras demain."));
    assert!(!p.get("/").await.contains("non lu"), "reading clears the counter");

    // 4. A refused message is never delivered.
    p.post(&path, &[("body", "Un gros mot")]).await.assert_redirect(&path);
    let (_, view) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&tt), None).await;
    let held = view["messages"].as_array().unwrap().iter().find(|m| m["status"] == "waiting").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = api(
        &server,
        "POST",
        &format!("/api/v1/conversations/{key}/messages/{held}/moderation"),
        Some(&tt),
        Some(json!({"approved": false})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let page = p.get(&path).await;
    assert!(
        page.contains("n'a pas été transmis") || page.contains("n&#39;a pas été transmis"),
        "its author sees it refused"
    );
    let (_, view) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&tt), None).await;
    assert!(view["messages"].as_array().unwrap().iter().any(|m| m["status"] == "refused"));
}

#[tokio::test]
async fn pupils_write_to_classmates_only_where_the_class_allows_it() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let (a, b) = (pupils(&server, &ce)[0].clone(), pupils(&server, &ce)[1].clone());
    let pt = pupil_token(&server, &a).await;
    let (_, contacts) = api(&server, "GET", "/api/v1/contacts", Some(&pt), None).await;
    assert!(contacts.as_array().unwrap().iter().all(|c| c["kind"] == "teacher"), "{contacts}");
    let before = read_models(&server);
    let (status, answer) =
        start(&server, &pt, json!({"subject": "Salut", "to": [b.id.to_string()], "body": "Coucou"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("Vous ne pouvez pas écrire"));
    assert_eq!(read_models(&server), before);
    // Another class's pupil or teacher: never.
    let cp = class(&server, "CP");
    for other in [pupils(&server, &cp)[0].id.to_string(), server.member("julien.roche").id.to_string()] {
        let (status, _) = start(&server, &pt, json!({"subject": "Salut", "to": [other], "body": "Coucou"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // The teacher allows classmates: now it works (and is still moderated).
    let tt = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (status, _) = api(
        &server,
        "PUT",
        &format!("/api/v1/classes/{}/messaging", ce.id),
        Some(&tt),
        Some(json!({"moderated": true, "classmates": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, created) =
        start(&server, &pt, json!({"subject": "Salut", "to": [b.id.to_string()], "body": "Coucou"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bt = pupil_token(&server, &b).await;
    let (_, view) =
        api(&server, "GET", &format!("/api/v1/conversations/{}", created["id"].as_str().unwrap()), Some(&bt), None)
            .await;
    assert_eq!(view["messages"].as_array().unwrap().len(), 0, "held until the teacher delivers it: {view}");
    // Another class's teacher cannot change CE1-CE2's switches.
    let other = token(&server, "julien.roche", DEMO_PASSWORD).await;
    let (status, _) = api(
        &server,
        "PUT",
        &format!("/api/v1/classes/{}/messaging", ce.id),
        Some(&other),
        Some(json!({"moderated": false, "classmates": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn families_write_to_the_childs_teachers_and_both_guardians_receive_it() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let dir = server.directory();
    let (child, mother, father) = dir
        .pupils_of(&ce.id)
        .into_iter()
        .find_map(|p| {
            let g: Vec<Member> =
                dir.guardians_of(&p.id).into_iter().filter(|(_, l)| *l).map(|(m, _)| m.clone()).collect();
            (g.len() == 2).then(|| (p.clone(), g[0].clone(), g[1].clone()))
        })
        .unwrap();
    let mut m = activated_browser(&server, &mother, "maman-2026").await;
    let form = m.get("/messages/new").await;
    assert!(
        form.contains("Mme Sophie Le Bihan")
            && !form.contains(&format!("{} {}", father.person.first_name, father.person.last_name)),
        "no parent is offered"
    );
    let teacher = server.member("sophie.lebihan");
    let sent = m
        .post(
            "/messages/new",
            &[
                ("about", child.id.as_str()),
                ("to", teacher.id.as_str()),
                ("subject", "Absence vendredi"),
                ("body", "Rendez-vous chez le dentiste."),
            ],
        )
        .await;
    let path = sent.location.clone().expect("created");
    // The other guardian takes part, though nobody chose them; the teacher too.
    let mut f = activated_browser(&server, &father, "papa-2026").await;
    assert!(f.get("/").await.contains("Messagerie (1 non lu(s))"));
    assert!(f.get(&path).await.contains("Rendez-vous chez le dentiste."));
    let mut t = server.browser();
    t.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert!(t.get("/messages").await.contains("Absence vendredi"));
    // A parent cannot bring in another family, nor write about someone else's child.
    let mt = {
        let body = json!({"login": server.directory().credentials[&mother.id].login, "password": "maman-2026"});
        api(&server, "POST", "/api/v1/auth/login", None, Some(body)).await.1["token"].as_str().unwrap().to_owned()
    };
    let stranger = dir.pupils_of(&ce.id).into_iter().find(|p| p.id != child.id).unwrap();
    let stranger_parent = dir.guardians_of(&stranger.id)[0].0.id.to_string();
    let before = read_models(&server);
    for body in [
        json!({"subject": "x", "about": child.id.to_string(), "to": [teacher.id.to_string(), stranger_parent.clone()], "body": "x"}),
        json!({"subject": "x", "about": stranger.id.to_string(), "to": [teacher.id.to_string()], "body": "x"}),
        json!({"subject": "x", "to": [teacher.id.to_string()], "body": "x"}),
        json!({"subject": "x", "about": child.id.to_string(), "to": [server.member("julien.roche").id.to_string()], "body": "x"}),
    ] {
        let (status, answer) = start(&server, &mt, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {answer}");
    }
    assert_eq!(read_models(&server), before);
    // Someone outside the conversation cannot read it.
    let other = token(&server, "julien.roche", DEMO_PASSWORD).await;
    let key = path.rsplit('/').next().unwrap();
    let (status, _) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&other), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor can the director open a family's conversation she is not part of, by its id: a
    // family writes to whom it chooses (she moderates only pupils' conversations).
    let dt = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let (status, _) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&dt), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut d = server.browser();
    d.login("claire.martin", DEMO_PASSWORD).await;
    assert_eq!(d.get(&path).await.status, StatusCode::NOT_FOUND);
}

/// The contacts a pupil is offered and the recipients accepted are one rule: the director,
/// who does not teach the class, is neither, through the API or the form.
#[tokio::test]
async fn a_pupil_writes_only_to_whom_they_are_offered() {
    let server = TestServer::demo().await;
    let cp = class(&server, "CP");
    let pupil = pupils(&server, &cp)[0].clone();
    let director = server.member("claire.martin");
    assert!(!cp.class.teachers.contains(&director.id.to_string()));
    let pt = pupil_token(&server, &pupil).await;
    let (_, contacts) = api(&server, "GET", "/api/v1/contacts", Some(&pt), None).await;
    let offered: Vec<&str> = contacts.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!offered.contains(&director.id.as_str()) && !offered.is_empty(), "{contacts}");
    let before = read_models(&server);
    let (status, answer) =
        start(&server, &pt, json!({"subject": "Bonjour", "to": [director.id.to_string()], "body": "Coucou"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let mut b = pupil_browser(&server, &pupil).await;
    let form = b.get("/messages/new").await;
    assert!(!form.contains(director.id.as_str()));
    let page =
        b.post("/messages/new", &[("to", director.id.as_str()), ("subject", "Bonjour"), ("body", "Coucou")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(read_models(&server), before, "nothing written");
    // Every contact offered is accepted.
    for id in offered {
        let (status, answer) = start(&server, &pt, json!({"subject": "Bonjour", "to": [id], "body": "Coucou"})).await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {answer}");
    }
}

/// Turning classmates' messages off closes the conversations already started between
/// pupils too: still readable, no longer writable (page, API and another replica).
#[tokio::test]
async fn closing_classmates_messages_closes_existing_conversations() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let (a, b) = (pupils(&server, &ce)[0].clone(), pupils(&server, &ce)[1].clone());
    let tt = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let rules = |classmates: bool| json!({"moderated": false, "classmates": classmates});
    let path = format!("/api/v1/classes/{}/messaging", ce.id);
    assert_eq!(api(&server, "PUT", &path, Some(&tt), Some(rules(true))).await.0, StatusCode::NO_CONTENT);
    let pt = pupil_token(&server, &a).await;
    let (status, created) =
        start(&server, &pt, json!({"subject": "Salut", "to": [b.id.to_string()], "body": "Coucou"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["id"].as_str().unwrap().to_owned();
    assert_eq!(api(&server, "PUT", &path, Some(&tt), Some(rules(false))).await.0, StatusCode::NO_CONTENT);

    let before = read_models(&server);
    let reply = json!({"body": "Encore moi"});
    let (status, answer) =
        api(&server, "POST", &format!("/api/v1/conversations/{key}/messages"), Some(&pt), Some(reply)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(read_models(&server), before);
    let mut page = pupil_browser(&server, &b).await;
    let view = page.get(&format!("/messages/{key}")).await;
    assert!(view.contains("Coucou") && view.contains("on ne peut plus y écrire") && !view.contains("name=\"body\""));
    // The teacher still reads it, as its moderator.
    let (status, _) = api(&server, "GET", &format!("/api/v1/conversations/{key}"), Some(&tt), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn staff_talk_among_themselves_and_the_atsem_does_not_write_to_families() {
    let server = TestServer::demo().await;
    let at = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let director = server.member("claire.martin").id.to_string();
    let (status, created) =
        start(&server, &at, json!({"subject": "Sieste", "to": [director], "body": "Les lits sont installés."})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let parent = server.member("aurelie.kerherve").id.to_string();
    let ce = class(&server, "CE1-CE2");
    let pupil = pupils(&server, &ce)[0].id.to_string();
    for to in [parent, pupil.clone()] {
        let (status, _) = start(&server, &at, json!({"subject": "x", "to": [to], "body": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = start(&server, &at, json!({"subject": "x", "about": pupil, "to": [], "body": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_open_page_hears_of_a_new_message_at_once() {
    let server = TestServer::demo().await;
    let at = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let director = server.member("claire.martin").id.to_string();
    let (_, created) = start(&server, &at, json!({"subject": "Sortie", "to": [director], "body": "Bonjour"})).await;
    let key = created["id"].as_str().unwrap().to_owned();
    // The director's open page listens.
    let dt = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let mut events =
        reqwest::Client::new().get(format!("{}/messages/events", server.base)).bearer_auth(&dt).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (status, _) = api(
        &server,
        "POST",
        &format!("/api/v1/conversations/{key}/messages"),
        Some(&at),
        Some(json!({"body": "Le car est là."})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut heard = String::new();
    // A bound so that a broken stream fails the test instead of hanging it.
    let wait = tokio::time::timeout(Duration::from_secs(30), async {
        while !heard.contains(&key) {
            match events.chunk().await.unwrap() {
                Some(bytes) => heard.push_str(&String::from_utf8_lossy(&bytes)),
                None => break,
            }
        }
    });
    wait.await.expect("an update event");
    assert!(heard.contains("event: update") && heard.contains(&format!("data: {key}")), "{heard}");
    // The page itself carries the live script, which the CSP allows.
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await;
    let page = b.get(&format!("/messages/{key}")).await;
    let live = preau_appliance::web::asset("live.js");
    assert!(page.contains(&format!("<script src=\"{live}\" defer></script>")) && page.contains("Le car est là."));
    let js = b.get(&live).await;
    assert!(js.contains("EventSource"));
}

#[tokio::test]
async fn messages_show_as_text() {
    let server = TestServer::demo().await;
    let at = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let director = server.member("claire.martin").id.to_string();
    let x = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let (_, created) = start(&server, &at, json!({"subject": x, "to": [director], "body": x})).await;
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await;
    for page in [b.get("/messages").await, b.get(&format!("/messages/{}", created["id"].as_str().unwrap())).await] {
        page.assert_ok();
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{}", page.body);
    }
}

#[tokio::test]
async fn conversations_from_another_replica_obey_the_same_rules() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let (a, b) = (pupils(&server, &ce)[0].clone(), pupils(&server, &ce)[1].clone());
    let pt = pupil_token(&server, &a).await;
    let teacher = server.member("sophie.lebihan").id.to_string();
    let (_, created) =
        start(&server, &pt, json!({"subject": "Question", "to": [teacher.clone()], "body": "Bonjour maîtresse"})).await;
    let key = created["id"].as_str().unwrap().to_owned();
    let uai = server.directory().uai().unwrap().clone();
    let address = DocAddress::new(
        Partition::Class(uai.clone(), LocalId::parse(ce.id.as_str()).unwrap()),
        Kind::Conversation,
        DocKey::parse(&key).unwrap(),
    );
    let (pa, pb, atsem) = (a.id.to_string(), b.id.to_string(), server.member("martine.guillemot").id.to_string());
    let held_id = {
        let doc = server.state.db.run_blocking(|s| Ok(s.get::<Conversation>(address.id())?)).unwrap().unwrap();
        doc.messages.keys().next().unwrap().clone()
    };
    let tmp = tempfile::tempdir().unwrap();
    let laptop_at = |name: &str| {
        let mut laptop = Store::open(&tmp.path().join(name), preau_appliance::school::scope(&uai)).unwrap();
        common::sync_with(&server, &mut laptop).unwrap();
        laptop
    };
    // The teacher delivering the message on their laptop: accepted.
    let mut ok = laptop_at("ok.db");
    ok.change::<Conversation, _>(&address, |c| {
        c.moderation.insert(held_id.clone(), Moderation { approved: true, by: teacher.clone(), at: 1 });
    })
    .unwrap();
    common::sync_with(&server, &mut ok).unwrap();

    let msg = |author: &str, held: bool| Message {
        author: author.into(),
        sent_at: 9,
        body: "x".into(),
        held,
        attachments: Vec::new(),
    };
    let forgeries: Vec<common::Forgery<Conversation>> = vec![
        ("a pupil's message skipping moderation", {
            let m = msg(&pa, false);
            Box::new(move |c| {
                c.messages.insert("m2".into(), m.clone());
            })
        }),
        ("a message from someone outside", {
            let m = msg(&pb, true);
            Box::new(move |c| {
                c.messages.insert("m3".into(), m.clone());
            })
        }),
        ("a classmate added to the participants", {
            let pb = pb.clone();
            Box::new(move |c| c.participants.push(pb.clone()))
        }),
        ("the ATSEM moderating", {
            let (pa, atsem) = (pa.clone(), atsem.clone());
            Box::new(move |c| {
                c.messages.insert(
                    "m4".into(),
                    Message { author: pa.clone(), sent_at: 9, body: "y".into(), held: true, attachments: Vec::new() },
                );
                c.moderation.insert("m4".into(), Moderation { approved: true, by: atsem.clone(), at: 9 });
            })
        }),
        ("a message erased", {
            let id = held_id.clone();
            Box::new(move |c| {
                c.messages.remove(&id);
            })
        }),
    ];
    common::assert_forgeries_refused::<Conversation>(&server, &address, forgeries);
}

#[tokio::test]
async fn files_sent_in_a_conversation_reach_its_participants_only() {
    let server = TestServer::demo().await;
    let director = server.member("claire.martin").id.to_string();
    let mut atsem = server.browser();
    atsem.login("martine.guillemot", DEMO_PASSWORD).await;
    atsem.get("/messages/new").await;
    let menu = b"Lundi : carottes".to_vec();
    let sent = atsem
        .post_files(
            "/messages/new",
            &[("to", director.as_str()), ("subject", "Menus"), ("body", "Ci-joint les menus.")],
            &[("menus.txt", menu.clone())],
        )
        .await;
    let path = sent.location.clone().expect("sent");
    let hash = blake3::hash(&menu).to_hex().to_string();
    let link = format!("{path}/files/{hash}");
    let mut d = server.browser();
    d.login("claire.martin", DEMO_PASSWORD).await;
    assert!(d.get(&path).await.contains(&link));
    let file = d.get(&link).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.as_bytes(), menu.as_slice());
    let mut outsider = server.browser();
    outsider.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert_eq!(outsider.get(&link).await.status, StatusCode::NOT_FOUND);
    // The director answers with a file through the API.
    let t = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let key = path.rsplit('/').next().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("body", "Merci, voici la version corrigée.")
        .part("files", reqwest::multipart::Part::bytes(b"Lundi : haricots".to_vec()).file_name("menus-v2.txt"));
    let url = format!("{}/api/v1/conversations/{key}/messages/with-files", server.base);
    let status = reqwest::Client::new().post(url).bearer_auth(&t).multipart(form).send().await.unwrap().status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(atsem.get(&path).await.contains("menus-v2.txt"));
}
