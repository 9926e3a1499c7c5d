//! The classroom's day across two replicas that were apart: the school appliance and a
//! second replica of the same school (the hub families use from home, or a teacher's
//! laptop), each a real server, joined by the store's sync core under the school's rules.
//! What was done on each side while apart is all there, on both, once they meet again.

use crate::common::{TestServer, activated_browser, api, pupil_browser, read_models, sync_servers, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::school::directory::Member;
use reqwest::StatusCode;
use serde_json::json;

fn day(n: i64) -> String {
    preau_appliance::platform::clock::date_of_ms(preau_appliance::platform::clock::now_ms() + n * 86_400_000)
}

#[tokio::test]
async fn work_notes_ticks_signatures_and_messages_made_apart_all_meet() {
    // 1. Together: the school appliance and its second replica hold the same school.
    let school = TestServer::demo().await;
    let other = school.replica().await;
    assert_eq!(read_models(&school), read_models(&other));
    let dir = school.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let (child, mother, father): (Member, Member, Member) = dir
        .pupils_of(&ce.id)
        .into_iter()
        .find_map(|p| {
            let g: Vec<Member> =
                dir.guardians_of(&p.id).into_iter().filter(|(_, l)| *l).map(|(m, _)| m.clone()).collect();
            (g.len() == 2 && g.iter().all(|g| dir.children_of(&g.id).len() == 1))
                .then(|| (p.clone(), g[0].clone(), g[1].clone()))
        })
        .expect("a child with two guardians");
    let t_school = token(&school, "sophie.lebihan", DEMO_PASSWORD).await;
    let entry = json!({"subject": "Mathématiques", "assigned_on": day(0), "lesson": "Tables de 7.", "title": "Exercice 4 p. 12", "due_on": day(1)});
    let (_, created) =
        api(&school, "POST", &format!("/api/v1/classes/{}/homework", ce.id), Some(&t_school), Some(entry)).await;
    let e = created["id"].as_str().unwrap().to_owned();
    let note = json!({"title": "Sortie", "body": "Jeudi, au musée.", "ask": "signature"});
    let (_, created) =
        api(&school, "POST", &format!("/api/v1/classes/{}/liaison", ce.id), Some(&t_school), Some(note)).await;
    let n = created["id"].as_str().unwrap().to_owned();
    sync_servers(&school, &other).unwrap();

    // 2. Apart. At school: the child ticks the work and writes to the teacher (held), the
    // mother signs, the teacher adds a line to the lesson.
    let mut pupil = pupil_browser(&school, &child).await;
    pupil.post(&format!("/pupils/{}/homework/{e}/done", child.id), &[("done", "1")]).await;
    let teacher_id = school.member("sophie.lebihan").id.to_string();
    pupil
        .post(
            "/messages/new",
            &[("to", teacher_id.as_str()), ("subject", "Exercice"), ("body", "Je n'ai pas compris.")],
        )
        .await;
    let mut m = activated_browser(&school, &mother, "maman-2026").await;
    m.post(&format!("/liaison/{n}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    let edit = |lesson: &str, details: &str| json!({"subject": "Mathématiques", "assigned_on": day(0), "lesson": lesson, "title": "Exercice 4 p. 12", "details": details, "due_on": day(1)});
    let path = format!("/api/v1/classes/{}/homework/{e}", ce.id);
    let (status, _) = api(&school, "PUT", &path, Some(&t_school), Some(edit("Tables de 7.\nJeu du furet.", ""))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // On the other replica: the father signs; the teacher, at home, adds her own line and
    // details, and rewrites the note.
    let mut f = activated_browser(&other, &father, "papa-2026").await;
    f.post(&format!("/liaison/{n}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    let t_other = token(&other, "sophie.lebihan", DEMO_PASSWORD).await;
    let (status, _) =
        api(&other, "PUT", &path, Some(&t_other), Some(edit("Tables de 7.\nCalcul mental.", "Sur le cahier du jour.")))
            .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api(
        &other,
        "PUT",
        &format!("/api/v1/classes/{}/liaison/{n}", ce.id),
        Some(&t_other),
        Some(json!({"title": "Sortie au musée", "body": "Jeudi, au musée. Prévoir un goûter."})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_ne!(read_models(&school), read_models(&other));

    // 3. Together again: everything from both sides is on both.
    sync_servers(&school, &other).unwrap();
    assert_eq!(read_models(&school), read_models(&other), "both replicas hold the same");
    for server in [&school, &other] {
        let t = token(server, "sophie.lebihan", DEMO_PASSWORD).await;
        let (_, week) = api(
            server,
            "GET",
            &format!("/api/v1/classes/{}/homework?from={}&to={}", ce.id, day(0), day(1)),
            Some(&t),
            None,
        )
        .await;
        let ours = week.as_array().unwrap().iter().find(|x| x["id"] == e.as_str()).unwrap();
        let lesson = ours["lesson"].as_str().unwrap();
        assert!(lesson.contains("Jeu du furet.") && lesson.contains("Calcul mental."), "both lines: {lesson}");
        assert_eq!(ours["details"], "Sur le cahier du jour.");
        assert_eq!(ours["done_count"], 1, "the child's tick");
        let (_, detail) = api(server, "GET", &format!("/api/v1/classes/{}/liaison/{n}", ce.id), Some(&t), None).await;
        assert_eq!(detail["note"]["title"], "Sortie au musée");
        let signed: Vec<&str> = detail["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["child"] == child.id.as_str() && !s["signed_on"].as_str().unwrap().is_empty())
            .map(|s| s["guardian"].as_str().unwrap())
            .collect();
        assert!(
            signed.contains(&mother.id.as_str()) && signed.contains(&father.id.as_str()),
            "both signatures: {detail}"
        );
    }

    // 4. The teacher delivers the child's message from the other replica; back at school,
    // it is delivered.
    let (_, inbox) = api(&other, "GET", "/api/v1/conversations", Some(&t_other), None).await;
    let key = inbox.as_array().unwrap().iter().find(|c| c["subject"] == "Exercice").expect("the child's conversation")
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, view) = api(&other, "GET", &format!("/api/v1/conversations/{key}"), Some(&t_other), None).await;
    assert_eq!(view["messages"][0]["status"], "waiting");
    let message = view["messages"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = api(
        &other,
        "POST",
        &format!("/api/v1/conversations/{key}/messages/{message}/moderation"),
        Some(&t_other),
        Some(json!({"approved": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    sync_servers(&school, &other).unwrap();
    let page = pupil.get(&format!("/messages/{key}")).await;
    assert!(!page.contains("En attente de validation"), "delivered at school: {}", page.body);
    assert_eq!(read_models(&school), read_models(&other));
}
