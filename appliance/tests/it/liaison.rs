//! The carnet de liaison against a real server: a teacher posts a note asking for a
//! signature, each guardian signs separately, the teacher sees who has and reminds the
//! others; edits keep signatures; bad input and other replicas' forgeries change nothing.

use crate::common::{self, Browser, TestServer, activated_browser, api, read_models, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::{Class, Member};
use preau_sync::kinds::LiaisonNote;
use preau_sync::kinds::liaison::Signature;
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn class(server: &TestServer, name: &str) -> Class {
    server.directory().current_classes().into_iter().find(|c| c.class.name == name).unwrap().clone()
}

/// A pupil of `class` with two legal guardians, and those guardians.
fn child_with_two_guardians(server: &TestServer, class: &Class) -> (Member, Member, Member) {
    let dir = server.directory();
    for pupil in dir.pupils_of(&class.id) {
        let guardians: Vec<Member> =
            dir.guardians_of(&pupil.id).into_iter().filter(|(_, legal)| *legal).map(|(m, _)| m.clone()).collect();
        // Guardians whose children are all in this class (their pages show only this note).
        if guardians.len() == 2 && guardians.iter().all(|g| dir.children_of(&g.id).len() == 1) {
            return (pupil.clone(), guardians[0].clone(), guardians[1].clone());
        }
    }
    panic!("the demo has a child with two guardians in {}", class.class.name);
}

async fn post(server: &TestServer, t: &str, class: &Class, body: Value) -> (StatusCode, Value) {
    api(server, "POST", &format!("/api/v1/classes/{}/liaison", class.id), Some(t), Some(body)).await
}

#[tokio::test]
async fn each_guardian_signs_separately_and_the_teacher_sees_who_has_and_reminds_the_others() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let (child, mother, father) = child_with_two_guardians(&server, &ce);
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();

    // 1. The teacher posts a note to the whole class, asking for a signature.
    let page = teacher.get(&format!("/classes/{}/liaison", ce.id)).await;
    page.assert_ok();
    let answer = teacher
        .post(
            &format!("/classes/{}/liaison", ce.id),
            &[
                ("title", "Sortie au musée"),
                ("body", "Sortie jeudi.\r\nPrévoir un goûter."),
                ("ask", "signature"),
                ("to", "all"),
            ],
        )
        .await;
    let note_page = answer.location.clone().expect("redirect to the note");
    let note_id = note_page.rsplit('/').next().unwrap().to_owned();
    let detail = teacher.get(&note_page).await;
    assert!(
        detail.contains("Sortie jeudi.\nPrévoir un goûter.") && detail.contains("0 signature(s) sur"),
        "{}",
        detail.body
    );

    // 2. Each guardian sees it and signs, separately.
    let mut m = activated_browser(&server, &mother, "maman-2026").await;
    assert!(m.get("/").await.contains("Carnet de liaison (1 à signer)"));
    let family = m.get("/liaison").await;
    assert!(family.contains("Sortie au musée") && family.contains(&format!("Signer pour {}", child.person.first_name)));
    m.post(&format!("/liaison/{note_id}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    assert!(m.get("/liaison").await.contains("Vous avez signé le"));
    // Signing twice keeps the first signature and adds nothing.
    let before = read_models(&server);
    m.post(&format!("/liaison/{note_id}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    assert_eq!(read_models(&server), before);

    let mut f = activated_browser(&server, &father, "papa-2026").await;
    let family = f.get("/liaison").await;
    assert!(family.contains("Signé aussi par") && family.contains(&format!("Signer pour {}", child.person.first_name)));

    // 3. The teacher sees one signature, edits the note (the signature stays) and reminds.
    let detail = teacher.get(&note_page).await;
    assert!(detail.contains("1 signature(s) sur") && detail.contains("Pas encore signé"), "{}", detail.body);
    teacher
        .post(&note_page, &[("title", "Sortie au musée (horaires)"), ("body", "Départ 9 h.")])
        .await
        .assert_redirect(&note_page);
    teacher.post(&format!("{note_page}/remind"), &[]).await.assert_redirect(&note_page);
    let detail = teacher.get(&note_page).await;
    assert!(detail.contains("1 signature(s) sur") && detail.contains("Relance envoyée le"), "{}", detail.body);
    let family = f.get("/liaison").await;
    assert!(family.contains("Sortie au musée (horaires)") && family.contains("Rappel"), "{}", family.body);
    assert!(family.contains("modifié après"));
    f.post(&format!("/liaison/{note_id}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    assert!(teacher.get(&note_page).await.contains("2 signature(s) sur"));

    // 4. Withdrawn, it leaves the families' notebooks; its signatures stay in the document.
    teacher.post(&format!("{note_page}/withdraw"), &[]).await;
    assert!(!m.get("/liaison").await.contains("Sortie au musée"));
    assert_eq!(teacher.get(&note_page).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_note_for_some_children_asking_an_answer_reaches_only_their_families() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let (child, mother, _) = child_with_two_guardians(&server, &ce);
    let dir = server.directory();
    let other = dir.pupils_of(&ce.id).into_iter().find(|p| p.id != child.id).unwrap().clone();
    let other_parent = dir.guardians_of(&other.id)[0].0.clone();
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let body = json!({"title": "Rendez-vous", "body": "Quel jour vous convient ?", "ask": "reply", "recipients": [child.id.to_string()]});
    let (status, created) = post(&server, &t, &ce, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let note = created["id"].as_str().unwrap().to_owned();

    let mut m = activated_browser(&server, &mother, "maman-2026").await;
    assert!(m.get("/liaison").await.contains("Rendez-vous"));
    let mut o = activated_browser(&server, &other_parent, "autre-2026").await;
    assert!(!o.get("/liaison").await.contains("Rendez-vous"), "not for this family");
    // Not theirs to sign, whatever they try.
    let page = o.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str())]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = o.post(&format!("/liaison/{note}/sign"), &[("child", other.id.as_str())]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // An answer is required; then it reaches the teacher.
    let page = m.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str()), ("reply", "  ")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Écrivez votre réponse"));
    m.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str()), ("reply", "Mardi <b>16 h</b>")])
        .await
        .assert_redirect("/liaison");
    let (_, detail) = api(&server, "GET", &format!("/api/v1/classes/{}/liaison/{note}", ce.id), Some(&t), None).await;
    let replies: Vec<&str> =
        detail["signatures"].as_array().unwrap().iter().map(|s| s["reply"].as_str().unwrap()).collect();
    assert!(replies.contains(&"Mardi <b>16 h</b>"), "{detail}");
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await;
    let page = teacher.get(&format!("/classes/{}/liaison/{note}", ce.id)).await;
    assert!(page.contains("Mardi &lt;b&gt;16 h&lt;/b&gt;") || page.contains("Mardi &#60;b&#62;16 h"), "{}", page.body);
}

#[tokio::test]
async fn bad_notes_and_strangers_change_nothing() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let cp = class(&server, "CP");
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let cp_pupil = server.directory().pupils_of(&cp.id)[0].id.to_string();
    let before = read_models(&server);
    for (body, message) in [
        (json!({"title": "", "body": "x"}), "Donnez un titre"),
        (json!({"title": "x".repeat(121), "body": "x"}), "Donnez un titre"),
        (json!({"title": "Titre", "body": "  \n "}), "crivez le message"),
        (json!({"title": "Titre", "body": "x", "ask": "money"}), "Choisissez ce que le mot demande"),
        (json!({"title": "Titre", "body": "x", "recipients": [cp_pupil]}), "au moins un élève de la classe"),
        (json!({"title": "Titre", "body": "x", "recipients": ["../../etc"]}), "au moins un élève de la classe"),
    ] {
        let (status, answer) = post(&server, &t, &ce, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    // Another class's teacher, the ATSEM, a parent, a pupil's parent: not theirs.
    for login in ["julien.roche", "martine.guillemot", "aurelie.kerherve"] {
        let other = token(&server, login, DEMO_PASSWORD).await;
        let (status, _) = post(&server, &other, &ce, json!({"title": "Titre", "body": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{login}");
    }
    assert_eq!(read_models(&server), before);
    // A note to read only cannot be signed.
    let (_, created) = post(&server, &t, &ce, json!({"title": "Info", "body": "Piscine lundi."})).await;
    let (child, mother, _) = child_with_two_guardians(&server, &ce);
    let mut m: Browser = activated_browser(&server, &mother, "maman-2026").await;
    let page =
        m.post(&format!("/liaison/{}/sign", created["id"].as_str().unwrap()), &[("child", child.id.as_str())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("ne demande pas de signature"));
    // Forged CSRF on a signature: refused.
    let page = m
        .post_raw(
            &format!("/liaison/{}/sign", created["id"].as_str().unwrap()),
            &[("child", child.id.as_str()), ("csrf", "forged")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn what_is_typed_in_notes_is_shown_as_text() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let x = "<script>alert('mot')</script><img src=x onerror=alert(1)>";
    let (status, _) = post(&server, &t, &ce, json!({"title": x, "body": x, "ask": "signature"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, mother, _) = child_with_two_guardians(&server, &ce);
    let mut m = activated_browser(&server, &mother, "maman-2026").await;
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await;
    for page in [m.get("/liaison").await, teacher.get(&format!("/classes/{}/liaison", ce.id)).await] {
        page.assert_ok();
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{}", page.body);
    }
}

#[tokio::test]
async fn signatures_and_notes_from_another_replica_obey_the_same_rules() {
    let server = TestServer::demo().await;
    let ce = class(&server, "CE1-CE2");
    let t = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (_, created) =
        post(&server, &t, &ce, json!({"title": "Sortie", "body": "Signez svp.", "ask": "signature"})).await;
    let note = created["id"].as_str().unwrap().to_owned();
    let (child, mother, father) = child_with_two_guardians(&server, &ce);
    let mut m = activated_browser(&server, &mother, "maman-2026").await;
    m.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    let dir = server.directory();
    let uai = dir.uai().unwrap().clone();
    let address = DocAddress::new(
        Partition::Class(uai.clone(), LocalId::parse(ce.id.as_str()).unwrap()),
        Kind::LiaisonNote,
        DocKey::parse(&note).unwrap(),
    );
    let atsem = server.member("martine.guillemot").id.to_string();
    let stranger = dir.people.values().find(|p| !dir.is_legal_guardian(&p.id, &child.id)).unwrap().id.to_string();
    let (c, mo, fa) = (child.id.to_string(), mother.id.to_string(), father.id.to_string());

    let tmp = tempfile::tempdir().unwrap();
    let laptop_at = |name: &str| {
        let mut laptop = Store::open(&tmp.path().join(name), preau_appliance::school::scope(&uai)).unwrap();
        common::sync_with(&server, &mut laptop).unwrap();
        laptop
    };
    // The other guardian signing on another replica: accepted, both signatures kept.
    let mut ok = laptop_at("ok.db");
    ok.change::<LiaisonNote, _>(&address, |n| {
        n.signatures.insert(Signature::key(&c, &fa), Signature { at: 5, reply: String::new() });
    })
    .unwrap();
    common::sync_with(&server, &mut ok).unwrap();
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await;
    assert!(teacher.get(&format!("/classes/{}/liaison/{note}", ce.id)).await.contains("2 signature(s) sur"));

    let forgeries: Vec<common::Forgery<LiaisonNote>> = vec![
        ("a stranger signs", {
            let (c, s) = (c.clone(), stranger.clone());
            Box::new(move |n| {
                n.signatures.insert(Signature::key(&c, &s), Signature::default());
            })
        }),
        ("a signature is removed", {
            let (c, mo) = (c.clone(), mo.clone());
            Box::new(move |n| {
                n.signatures.remove(&Signature::key(&c, &mo));
            })
        }),
        ("a signature is rewritten", {
            let (c, mo) = (c.clone(), mo.clone());
            Box::new(move |n| {
                n.signatures.get_mut(&Signature::key(&c, &mo)).unwrap().reply = "non".into();
            })
        }),
        ("the ATSEM rewrites the note", {
            let a = atsem.clone();
            Box::new(move |n| {
                n.title = "Annulé".into();
                n.edited_by = a.clone();
            })
        }),
    ];
    common::assert_forgeries_refused::<LiaisonNote>(&server, &address, forgeries);
}
