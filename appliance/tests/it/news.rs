//! News, noticeboard and staff room against a real server: each audience reaches exactly
//! its readers, public posts show without login, and forgeries from another replica are
//! refused.

use crate::common::{self, TestServer, activated_browser, api, pupil_browser, read_models, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_sync::kinds::NewsPost;
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition};
use reqwest::StatusCode;
use serde_json::json;

async fn publish(
    server: &TestServer,
    t: &str,
    place: &str,
    title: &str,
    public: bool,
) -> (StatusCode, serde_json::Value) {
    let body = json!({"place": place, "title": title, "body": format!("Texte de « {title} »."), "public": public});
    api(server, "POST", "/api/v1/news", Some(t), Some(body)).await
}

#[tokio::test]
async fn each_post_reaches_exactly_its_audience_and_public_ones_show_without_login() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let director = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let posts = [
        (&director, "school".to_owned(), "Kermesse", true),
        (&director, "parents".to_owned(), "Réunion des parents", false),
        (&director, "staff".to_owned(), "Conseil de cycle", false),
        (&teacher, format!("class:{}", ce.id), "Piscine des CE", false),
    ];
    for (t, place, title, public) in &posts {
        let (status, answer) = publish(&server, t, place, title, *public).await;
        assert_eq!(status, StatusCode::CREATED, "{title}: {answer}");
    }
    // Without login: the public post only.
    let public = server.browser().get("/").await.body;
    assert!(
        public.contains("Kermesse") && !public.contains("Réunion des parents") && !public.contains("Conseil de cycle")
    );

    let ce_pupil = dir.pupils_of(&ce.id)[0].clone();
    let cp_pupil = dir.pupils_of(&cp.id)[0].clone();
    let ce_parent = dir.guardians_of(&ce_pupil.id)[0].0.clone();
    let mut readers = vec![
        (
            "CE pupil",
            pupil_browser(&server, &ce_pupil).await,
            ["Kermesse"].as_slice(),
            ["Réunion des parents", "Conseil de cycle"].as_slice(),
        ),
        ("CP pupil", pupil_browser(&server, &cp_pupil).await, &["Kermesse"], &["Piscine des CE", "Conseil de cycle"]),
        (
            "CE parent",
            activated_browser(&server, &ce_parent, "parent-2026").await,
            &["Kermesse", "Réunion des parents", "Piscine des CE"],
            &["Conseil de cycle"],
        ),
    ];
    let mut atsem = server.browser();
    atsem.login("martine.guillemot", DEMO_PASSWORD).await;
    readers.push(("ATSEM", atsem, &["Kermesse", "Réunion des parents", "Conseil de cycle"], &["Piscine des CE"]));
    for (who, b, sees, misses) in readers.iter_mut() {
        let page = b.get("/news").await;
        page.assert_ok();
        for s in sees.iter() {
            assert!(page.contains(s), "{who} should see {s}");
        }
        for m in misses.iter() {
            assert!(!page.contains(m), "{who} should not see {m}");
        }
    }
    assert!(readers[3].1.get("/staffroom").await.contains("Conseil de cycle"));
    assert_eq!(readers[0].1.get("/staffroom").await.status, StatusCode::NOT_FOUND);

    // The CE pupil's class post is also in the API; a stranger cannot open it by id.
    let (_, feed) = api(&server, "GET", "/api/v1/news", Some(&teacher), None).await;
    let piscine = feed.as_array().unwrap().iter().find(|p| p["title"] == "Piscine des CE").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(readers[1].1.get(&format!("/news/{piscine}")).await.status, StatusCode::NOT_FOUND);

    // Withdrawn, the public post leaves the public page.
    let (_, feed) = api(&server, "GET", "/api/v1/news", Some(&director), None).await;
    let kermesse =
        feed.as_array().unwrap().iter().find(|p| p["title"] == "Kermesse").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, _) = api(&server, "DELETE", &format!("/api/v1/news/{kermesse}"), Some(&director), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!server.browser().get("/").await.contains("Kermesse"));
}

#[tokio::test]
async fn teachers_publish_only_where_they_may_and_bad_posts_change_nothing() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let atsem = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let parent = token(&server, "aurelie.kerherve", DEMO_PASSWORD).await;
    let before = read_models(&server);
    // Where one may not publish is a refusal (403); what cannot be right, bad input (400).
    let (refused, bad) = (StatusCode::FORBIDDEN, StatusCode::BAD_REQUEST);
    for (t, place, public, message, want) in [
        (&teacher, "school".to_owned(), false, "pas publier à cet endroit", refused),
        (&teacher, format!("class:{}", cp.id), false, "pas publier à cet endroit", refused),
        (&teacher, format!("class:{}", ce.id), true, "Seule une actualité pour toute", bad),
        (&teacher, "nowhere".to_owned(), false, "pas publier à cet endroit", bad),
        (&atsem, "staff".to_owned(), false, "pas publier à cet endroit", refused),
        (&parent, "parents".to_owned(), false, "pas publier à cet endroit", refused),
    ] {
        let (status, answer) = publish(&server, t, &place, "Titre", public).await;
        assert_eq!(status, want, "{place}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{place}: {answer}");
    }
    for body in
        [json!({"place": "staff", "title": "", "body": "x"}), json!({"place": "staff", "title": "x", "body": ""})]
    {
        let (status, _) = api(&server, "POST", "/api/v1/news", Some(&teacher), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(read_models(&server), before);
    // What is typed shows as text.
    let x = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let (status, _) =
        api(&server, "POST", "/api/v1/news", Some(&teacher), Some(json!({"place": "staff", "title": x, "body": x})))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut b = server.browser();
    b.login("martine.guillemot", DEMO_PASSWORD).await;
    let page = b.get("/staffroom").await;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x") && page.contains("&#60;script&#62;"));
}

#[tokio::test]
async fn posts_from_another_replica_obey_the_same_rules() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (_, created) = publish(&server, &teacher, &format!("class:{}", ce.id), "Sortie", false).await;
    let uai = dir.uai().unwrap().clone();
    let address = DocAddress::new(
        Partition::Class(uai.clone(), LocalId::parse(ce.id.as_str()).unwrap()),
        Kind::NewsPost,
        DocKey::parse(created["id"].as_str().unwrap()).unwrap(),
    );
    let atsem = server.member("martine.guillemot").id.to_string();
    let director = server.member("claire.martin").id.to_string();
    let no_consent =
        dir.pupils_of(&ce.id).iter().find(|p| p.person.photo_consent != Some(true)).unwrap().id.to_string();
    let forgeries: Vec<common::Forgery<NewsPost>> = vec![
        ("a class post made public", Box::new(|p| p.public = true)),
        ("a photo of a pupil without consent", {
            let no = no_consent.clone();
            Box::new(move |p| {
                let file = preau_sync::kinds::Attachment {
                    hash: "a".repeat(64),
                    name: "x.png".into(),
                    mime: "image/png".into(),
                    size: 1,
                };
                p.photos.push(preau_sync::kinds::news::Photo { file, pupils: vec![no.clone()] });
            })
        }),
        ("the ATSEM edits it", {
            let a = atsem.clone();
            Box::new(move |p| {
                p.title = "Annulé".into();
                p.edited_by = a.clone();
            })
        }),
        ("its author replaced", {
            let d = director.clone();
            Box::new(move |p| {
                p.author = d.clone();
                p.edited_by = d.clone();
            })
        }),
    ];
    common::assert_forgeries_refused::<NewsPost>(&server, &address, forgeries);
}

#[tokio::test]
async fn photos_show_only_pupils_whose_families_allowed_it() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let pupils = dir.pupils_of(&ce.id);
    let yes = pupils.iter().find(|p| p.person.photo_consent == Some(true)).unwrap().id.to_string();
    let no =
        pupils.iter().find(|p| p.person.photo_consent != Some(true)).expect("a pupil without consent").id.to_string();
    let png = b"\x89PNG\r\n\x1a\n not really a png".to_vec();
    let mut teacher = server.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await;
    teacher.get("/news").await;
    let place = format!("class:{}", ce.id);
    let fields = |pictured: &str| {
        vec![
            ("place", place.clone()),
            ("title", "Carnaval".to_owned()),
            ("body", "Les costumes !".to_owned()),
            ("pictured", pictured.to_owned()),
        ]
    };

    // Without consent for one pupil shown: refused, nothing written.
    let before = read_models(&server);
    let f = fields(&no);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = teacher.post_files_as("/news", "photos", &f, &[("carnaval.png", png.clone())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("pas autorisé la publication"), "{}", page.body);
    assert_eq!(read_models(&server), before);
    // Not an image: refused.
    let f = fields(&yes);
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = teacher.post_files_as("/news", "photos", &f, &[("notes.txt", b"texte".to_vec())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // With consent: published; the class's families see the photo, others do not.
    let page = teacher.post_files_as("/news", "photos", &f, &[("carnaval.png", png.clone())]).await;
    let post_path = page.location.clone().expect("published");
    let hash = blake3::hash(&png).to_hex().to_string();
    let photo = format!("{post_path}/photos/{hash}");
    let shown = teacher.get(&post_path).await;
    assert!(shown.contains(&photo), "{}", shown.body);
    let ce_pupil = pupils[0].clone();
    let mut p = pupil_browser(&server, &ce_pupil).await;
    assert_eq!(p.get(&photo).await.status, StatusCode::OK);
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let mut stranger = pupil_browser(&server, dir.pupils_of(&cp.id)[0]).await;
    assert_eq!(stranger.get(&photo).await.status, StatusCode::NOT_FOUND);
    assert_eq!(server.browser().get(&photo).await.status, StatusCode::SEE_OTHER, "not public: log in first");
}
