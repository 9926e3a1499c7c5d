//! The agenda against a real server: who sees which events, the iCalendar feed read by an
//! independent parser (Python's `icalendar`), revocation of its address, bad input, and
//! forgeries from another replica.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{self, TestServer, api, pupil_browser, read_models, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_sync::kinds::AgendaEvent;
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn day(n: i64) -> String {
    preau_appliance::platform::clock::date_of_ms(preau_appliance::platform::clock::now_ms() + n * 86_400_000)
}

async fn add(server: &TestServer, t: &str, body: Value) -> (StatusCode, Value) {
    api(server, "POST", "/api/v1/agenda", Some(t), Some(body)).await
}

/// The events of an iCalendar text as Python's `icalendar` package reads them:
/// `[summary, dtstart, dtend]`, sorted. Debian's `python3-icalendar` (installed by
/// `scripts/test`) is an independent implementation of RFC 5545.
fn parse_with_python(ics: &str) -> Vec<(String, String, String)> {
    let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let script = r#"
import json, sys
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
assert cal.name == "VCALENDAR", cal.name
assert str(cal.get("VERSION")) == "2.0" and cal.get("PRODID"), "VERSION and PRODID are required"
out = []
for e in cal.walk("VEVENT"):
    for required in ("UID", "DTSTAMP", "DTSTART"):
        assert e.get(required) is not None, required + " missing"
    out.append([str(e.get("SUMMARY")), e.decoded("DTSTART").isoformat(), e.decoded("DTEND").isoformat()])
print(json.dumps(sorted(out)))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} ({e}): install python3 and python3-icalendar (scripts/test does)")
        });
    child.stdin.take().unwrap().write_all(ics.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Python's icalendar refused the feed (is python3-icalendar installed? scripts/test installs it):\n{}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<(String, String, String)>>(&out.stdout).unwrap()
}

#[tokio::test]
async fn everyone_sees_their_school_and_classes_and_subscribes_with_a_secret_address() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let director = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    for (t, body) in [
        (
            &director,
            json!({"place": "school", "title": "Vacances de Noël", "starts_on": day(20), "ends_on": day(34), "holiday": true}),
        ),
        (
            &director,
            json!({"place": "school", "title": "Photo de classe", "starts_on": day(3), "start_time": "09:00", "end_time": "11:30", "location": "Préau"}),
        ),
        (
            &teacher,
            json!({"place": format!("class:{}", ce.id), "title": "Piscine", "starts_on": day(5), "start_time": "14:00", "end_time": "15:00"}),
        ),
        (&teacher, json!({"place": "personal", "title": "Formation REP", "starts_on": day(6)})),
    ] {
        let (status, answer) = add(&server, t, body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    // Each reader's agenda.
    let ce_pupil = dir.pupils_of(&ce.id)[0].clone();
    let cp_pupil = dir.pupils_of(&cp.id)[0].clone();
    for (who, mut b, sees, misses) in [
        (
            "CE pupil",
            pupil_browser(&server, &ce_pupil).await,
            vec!["Photo de classe", "Piscine"],
            vec!["Formation REP"],
        ),
        (
            "CP pupil",
            pupil_browser(&server, &cp_pupil).await,
            vec!["Photo de classe"],
            vec!["Piscine", "Formation REP"],
        ),
    ] {
        let page = b.get("/agenda").await;
        page.assert_ok();
        for s in sees {
            assert!(page.contains(s), "{who} should see {s}");
        }
        for m in misses {
            assert!(!page.contains(m), "{who} should not see {m}");
        }
    }
    let (_, directors) =
        api(&server, "GET", &format!("/api/v1/agenda?from={}&to={}", day(0), day(60)), Some(&director), None).await;
    let titles: Vec<&str> = directors.as_array().unwrap().iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert!(!titles.contains(&"Formation REP"), "personal events are their owner's: {titles:?}");

    // The teacher subscribes: the feed needs no session and is valid iCalendar.
    let (status, feed) = api(&server, "POST", "/api/v1/agenda/feed", Some(&teacher), None).await;
    assert_eq!(status, StatusCode::OK);
    let url = feed["url"].as_str().unwrap().to_owned();
    let path = url.split_once("/calendar/").map(|(_, rest)| format!("/calendar/{rest}")).unwrap();
    let response = reqwest::get(format!("{}{path}", server.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = response.text().await.unwrap();
    let events = parse_with_python(&ics);
    let summary = |s: &str| events.iter().find(|e| e.0 == s).unwrap_or_else(|| panic!("{s} in {events:?}")).clone();
    assert_eq!(summary("Vacances de Noël").1, day(20), "a whole-day event starts on its date");
    assert_eq!(summary("Vacances de Noël").2, day(35), "and ends the day after its last day (exclusive)");
    assert_eq!(summary("Piscine").1, format!("{}T14:00:00", day(5)));
    assert_eq!(summary("Piscine").2, format!("{}T15:00:00", day(5)));
    assert!(events.iter().any(|e| e.0 == "Formation REP"), "the owner's feed has their personal events");
    assert!(events.iter().any(|e| e.0 == "Photo de classe"));

    // A new address: the old one stops working.
    let (_, renewed) = api(&server, "POST", "/api/v1/agenda/feed", Some(&teacher), None).await;
    assert_ne!(renewed["url"], feed["url"]);
    assert_eq!(reqwest::get(format!("{}{path}", server.base)).await.unwrap().status(), StatusCode::NOT_FOUND);
    for guess in [
        "/calendar/x.ics",
        "/calendar/0000000000000000000000000000000000000000000000000000000000000000.ics",
        "/calendar/secret",
    ] {
        assert_eq!(
            reqwest::get(format!("{}{guess}", server.base)).await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{guess}"
        );
    }
}

#[tokio::test]
async fn bad_events_and_wrong_calendars_change_nothing() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let parent = token(&server, "aurelie.kerherve", DEMO_PASSWORD).await;
    let before = read_models(&server);
    for (t, body, message) in [
        (&teacher, json!({"place": "school", "title": "x", "starts_on": day(1)}), "pas ajouter"),
        (&teacher, json!({"place": format!("class:{}", cp.id), "title": "x", "starts_on": day(1)}), "pas ajouter"),
        (&teacher, json!({"place": "personal", "title": "x", "starts_on": day(1), "holiday": true}), "pas ajouter"),
        (&parent, json!({"place": "personal", "title": "x", "starts_on": day(1)}), "pas ajouter"),
        (&teacher, json!({"place": "personal", "title": "", "starts_on": day(1)}), "Donnez un titre"),
        (&teacher, json!({"place": "personal", "title": "x", "starts_on": "2026-02-30"}), "date n"),
        (
            &teacher,
            json!({"place": "personal", "title": "x", "starts_on": day(2), "ends_on": day(1)}),
            "la fin doit suivre",
        ),
        (&teacher, json!({"place": "personal", "title": "x", "starts_on": day(1), "ends_on": day(400)}), "120 jours"),
        (&teacher, json!({"place": "personal", "title": "x", "starts_on": day(1), "start_time": "25:00"}), "heure n"),
        (
            &teacher,
            json!({"place": "personal", "title": "x", "starts_on": day(1), "start_time": "10:00", "end_time": "09:00"}),
            "heure n",
        ),
    ] {
        let (status, answer) = add(&server, t, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(message), "{body}: {answer}");
    }
    assert_eq!(read_models(&server), before);
    let (status, _) = api(&server, "GET", "/api/v1/agenda?from=2026-01-01&to=2020-01-01", Some(&teacher), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // What is typed shows as text.
    let x = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let body = json!({"place": "personal", "title": x, "description": x, "location": "<b>x</b>", "starts_on": day(1)});
    assert_eq!(add(&server, &teacher, body).await.0, StatusCode::CREATED);
    let mut b = server.browser();
    b.login("sophie.lebihan", DEMO_PASSWORD).await;
    let page = b.get("/agenda").await;
    assert!(
        page.contains("&#60;script&#62;")
            && !page.contains("<script>alert")
            && !page.contains("<img src=x")
            && !page.contains("<b>x</b>")
    );
}

#[tokio::test]
async fn events_from_another_replica_obey_the_same_rules() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let teacher = token(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    let (_, class_event) =
        add(&server, &teacher, json!({"place": format!("class:{}", ce.id), "title": "Piscine", "starts_on": day(5)}))
            .await;
    let (_, personal) =
        add(&server, &teacher, json!({"place": "personal", "title": "Formation", "starts_on": day(6)})).await;
    let uai = dir.uai().unwrap().clone();
    let class_address = DocAddress::new(
        Partition::Class(uai.clone(), LocalId::parse(ce.id.as_str()).unwrap()),
        Kind::AgendaEvent,
        DocKey::parse(class_event["id"].as_str().unwrap()).unwrap(),
    );
    let personal_address = DocAddress::new(
        Partition::Staff(uai.clone()),
        Kind::AgendaEvent,
        DocKey::parse(personal["id"].as_str().unwrap()).unwrap(),
    );
    let atsem = server.member("martine.guillemot").id.to_string();
    let director = server.member("claire.martin").id.to_string();
    let personal_forgeries: Vec<common::Forgery<AgendaEvent>> =
        vec![("the director edits a teacher's personal event", {
            let d = director.clone();
            Box::new(move |e| {
                e.title = "Lu".into();
                e.edited_by = d.clone();
            })
        })];
    common::assert_forgeries_refused::<AgendaEvent>(&server, &personal_address, personal_forgeries);
    let class_forgeries: Vec<common::Forgery<AgendaEvent>> = vec![
        ("the ATSEM moves the class's event", {
            let a = atsem.clone();
            Box::new(move |e| {
                e.starts_on = "2030-01-01".into();
                e.edited_by = a.clone();
            })
        }),
        ("a class event made a holiday", Box::new(|e| e.category = "holiday".into())),
        ("an event ending before it starts", Box::new(|e| e.ends_on = "2000-01-01".into())),
    ];
    common::assert_forgeries_refused::<AgendaEvent>(&server, &class_address, class_forgeries);
}
