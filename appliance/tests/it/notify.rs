//! The hub's e-mail notifications, through a real SMTP server on loopback (aiosmtpd): a
//! hub and the demo school's appliance, real syncs, and passes of the notifier at chosen
//! times of an ordinary week (quiet hours, digests and holidays depend on the clock; the
//! notifier takes it as an argument, the server passes the real one).

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use preau_appliance::notify::{self, Pass};
use preau_appliance::replication::schedule;
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};
use preau_appliance::school::directory::{Member, Profile};
use reqwest::StatusCode;

use crate::common::{Browser, Received, SmtpSink, TestServer};
use crate::hub::{activated_at_home, ce_parent, teacher_asks_a_signature};

/// A hub sending through `sink`, with the demo school enrolled and synced, and the
/// notifier's first pass done (what the hub held before is not news).
async fn hub_with_mail(sink: &SmtpSink) -> (TestServer, TestServer) {
    let address = sink.address();
    hub_sending(move |mail| {
        mail.smtp = address;
        mail.tls = "none".into();
    })
    .await
}

/// As [`hub_with_mail`], the hub's `[mail]` set by `mail`.
async fn hub_sending(
    mail: impl FnOnce(&mut preau_appliance::platform::config::MailConfig),
) -> (TestServer, TestServer) {
    let database = crate::common::postgres_database();
    let hub = TestServer::start(false, |c| {
        c.role = preau_appliance::platform::config::Role::Hub;
        c.database_url = database;
        c.mail.from = "ENT de l'académie <ne-pas-repondre@ac-exemple.fr>".into();
        mail(&mut c.mail);
    })
    .await;
    let school = TestServer::demo().await;
    let mut director = school.browser();
    director.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    let code = hub.school_code(DEMO_UAI);
    let page = director.post("/admin/sync/enroll", &[("hub", &hub.base), ("code", &code)]).await;
    assert!(page.contains("Le serveur est relié au hub"), "{}", page.body);
    assert!(schedule::run_now(&school.state).await.ok);
    assert_eq!(tick(&hub, monday_or_so(), "10:00").await, Pass::default(), "nothing old is news");
    (hub, school)
}

/// A weekday in the next days (Monday to Wednesday, so that the two next days are too).
fn monday_or_so() -> Date {
    let mut day = Timestamp::now().in_tz("Europe/Paris").unwrap().date().tomorrow().unwrap();
    while !matches!(day.weekday(), Weekday::Monday | Weekday::Tuesday | Weekday::Wednesday) {
        day = day.tomorrow().unwrap();
    }
    day
}

/// A notifier's pass at `time` of `day` in Paris.
async fn tick(hub: &TestServer, day: Date, time: &str) -> Pass {
    let at = day.at(time[..2].parse().unwrap(), time[3..].parse().unwrap(), 0, 0).in_tz("Europe/Paris").unwrap();
    notify::tick(&hub.state, at.timestamp()).await.unwrap()
}

async fn sync(school: &TestServer) {
    assert!(schedule::run_now(&school.state).await.ok);
}

/// Sets `mode` for every topic on the notifications page.
async fn choose(browser: &mut Browser, modes: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = modes.iter().map(|(t, m)| (format!("mode-{t}"), (*m).to_owned())).collect();
    let mut fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.push(("digest_hour", "18"));
    let page = browser.post("/notifications", &fields).await;
    assert!(page.contains("Vos choix sont enregistrés"), "{}", page.body);
}

fn to(mails: &[Received], member: &Member) -> Vec<usize> {
    (0..mails.len()).filter(|i| mails[*i].to.iter().any(|t| t.eq_ignore_ascii_case(&member.person.email))).collect()
}

#[tokio::test]
async fn families_are_told_at_once_or_in_the_evening_digest_and_pupils_never() {
    let sink = SmtpSink::start(&[]);
    let (hub, school) = hub_with_mail(&sink).await;
    let day = monday_or_so();
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    // A pupil with an address in the directory: still never told anything.
    let pupil = school.directory().pupils_of(&ce.id)[0].id.clone();
    preau_appliance::school::structures::edit_directory(&school.state, move |d, _| {
        d.people.get_mut(pupil.as_str()).unwrap().email = "eleve@exemple.fr".into();
        Ok(())
    })
    .await
    .unwrap();

    // The parent chooses « tout de suite » for notes, at home on the hub.
    let (mut home, _) = activated_at_home(&hub, &school, &parent).await;
    assert!(home.get("/").await.contains("Mes notifications"), "a tile for adults");
    let page = home.get("/notifications").await;
    assert!(page.contains(&parent.person.email), "her school's address: {}", page.body);
    choose(&mut home, &[("liaison", "immediate")]).await;

    // The teacher asks the class's families to sign a note; the school syncs.
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    let pass = tick(&hub, day, "10:00").await;
    assert_eq!((pass.queued, pass.sent), (1, 1), "{pass:?}");
    let mails = sink.received();
    assert_eq!(to(&mails, &parent), [0], "{mails:#?}");
    let mail = &mails[0];
    assert!(mail.subject.contains(&child.person.first_name) && mail.subject.contains("Sortie au musée"), "{mail:?}");
    assert!(mail.body.contains(&format!("/ecoles/{DEMO_UAI}/liaison")), "links to the page: {}", mail.body);
    assert!(!mail.body.contains("Jeudi."), "the note's text stays on the page: {}", mail.body);
    assert_eq!(mail.headers.get("List-Unsubscribe-Post").map(String::as_str), Some("List-Unsubscribe=One-Click"));

    // In the evening, the other families of the class get it in their digest (the
    // default), the pupil nothing, and the parent who was told already nothing again.
    assert_eq!(tick(&hub, day, "17:59").await.queued, 0);
    tick(&hub, day, "18:00").await;
    let mails = sink.received();
    let dir = school.directory();
    let mut families: Vec<&str> = dir
        .pupils_of(&ce.id)
        .iter()
        .flat_map(|p| dir.guardians_of(&p.id))
        .filter(|(g, legal)| *legal && g.id != parent.id && !g.person.email.is_empty())
        .map(|(g, _)| g.person.email.as_str())
        .collect();
    families.sort_unstable();
    families.dedup();
    let mut told: Vec<&str> = mails[1..].iter().flat_map(|m| m.to.iter().map(String::as_str)).collect();
    told.sort_unstable();
    assert_eq!(told, families, "each other family of the class, once");
    assert!(mails.iter().all(|m| !m.to.iter().any(|t| t == "eleve@exemple.fr")), "never a pupil");
    assert_eq!(to(&mails, &parent), [0], "told once");
    assert_eq!(tick(&hub, day, "18:30").await, Pass::default(), "one digest a day");

    // A parent of another class hears nothing of it (one whose address no family of the
    // class shares: the demo school's addresses are made from names).
    let other = dir
        .people
        .values()
        .filter(|m| m.profile == Profile::Parent && m.person.email != parent.person.email)
        .filter(|m| !families.contains(&m.person.email.as_str()))
        .find(|m| {
            let children = dir.children_of(&m.id);
            !children.is_empty() && children.iter().all(|c| c.person.class_id != ce.id.as_str())
        })
        .unwrap();
    assert!(to(&mails, other).is_empty());

    // Once the class is closed to families, a new note is told to nobody.
    let mut teacher = school.browser();
    teacher.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    teacher.post(&format!("/classes/{}/families", ce.id), &[("open", "0")]).await;
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    let next = day.tomorrow().unwrap();
    tick(&hub, next, "10:00").await;
    tick(&hub, next, "18:00").await;
    assert_eq!(sink.received().len(), mails.len(), "nothing for a closed class");
}

#[tokio::test]
async fn quiet_hours_hold_then_one_merged_mail_and_unsubscribe_takes_one_click() {
    let sink = SmtpSink::start(&[]);
    let (hub, school) = hub_with_mail(&sink).await;
    let day = monday_or_so();
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    let (mut home, _) = activated_at_home(&hub, &school, &parent).await;
    choose(&mut home, &[("liaison", "immediate"), ("message", "immediate"), ("homework", "digest")]).await;

    // At 21:00 a note and a message: nothing leaves until 07:00, then one e-mail with both.
    let (mut teacher, _) = teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    // A note posted to the wrong class and withdrawn before the morning: never told.
    let posted = teacher
        .post(
            &format!("/classes/{}/liaison", ce.id),
            &[("title", "Mauvaise classe"), ("body", "Oups."), ("ask", ""), ("to", "all")],
        )
        .await;
    let wrong = posted.location.clone().unwrap();
    let sent = teacher
        .post(
            "/messages/new",
            &[
                ("to", parent.id.as_str()),
                ("about", child.id.as_str()),
                ("subject", "Rendez-vous"),
                ("body", "Lundi ?"),
            ],
        )
        .await;
    assert!(sent.location.is_some(), "{}", sent.body);
    // Homework for the day after next and for later: only the first is told, on its eve.
    let next = day.tomorrow().unwrap();
    let (after, later) = (next.tomorrow().unwrap(), next.tomorrow().unwrap().tomorrow().unwrap());
    for (title, due) in [("Réciter la poésie", after), ("Exposé sur les volcans", later)] {
        let (today, due) = (Timestamp::now().in_tz("Europe/Paris").unwrap().date().to_string(), due.to_string());
        let fields = [
            ("assigned_on", today.as_str()),
            ("subject", "Français"),
            ("lesson", ""),
            ("title", title),
            ("details", ""),
            ("due_on", due.as_str()),
        ];
        let page = teacher.post(&format!("/classes/{}/homework", ce.id), &fields).await;
        assert!(page.location.is_some(), "{}", page.body);
    }
    sync(&school).await;
    let pass = tick(&hub, day, "21:00").await;
    assert_eq!(pass.queued, 0, "quiet hours");
    assert!(pass.noticed >= 3, "the notes and the message wait: {pass:?}");
    // The wrong note is withdrawn overnight: what waited for it is never told.
    teacher.get(&wrong).await;
    teacher.post(&format!("{wrong}/withdraw"), &[]).await;
    sync(&school).await;
    assert_eq!(tick(&hub, next, "06:59").await.queued, 0, "still quiet");
    assert!(sink.received().is_empty());
    let pass = tick(&hub, next, "07:00").await;
    assert_eq!((pass.queued, pass.sent), (1, 1), "{pass:?}");
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    let body = &mails[0].body;
    assert!(body.contains("Sortie au musée") && body.contains("Rendez-vous"), "merged: {body}");
    assert!(!body.contains("Mauvaise classe"), "a withdrawn note is not told: {body}");
    assert!(body.contains("Mme Le Bihan") && body.contains(&format!("Pour {}", child.person.first_name)), "{body}");
    assert!(!body.contains("Lundi ?"), "the message itself stays on the page");
    assert!(!body.contains("poésie"), "homework waits for the evening digest");

    // The evening before it is due, the digest tells that homework only.
    tick(&hub, next, "18:00").await;
    let received = sink.received();
    let digest = &received[*to(&received, &parent).last().unwrap()];
    assert!(digest.body.contains("Réciter la poésie") && !digest.body.contains("volcans"), "{}", digest.body);

    // « Se désabonner » in her mail program: one POST to the List-Unsubscribe address,
    // no cookie, no page. Nothing more is sent, not even a digest.
    let header = mails[0].headers["List-Unsubscribe"].clone();
    let url = header.trim_start_matches('<').trim_end_matches('>').to_owned();
    assert!(url.contains(&format!("/ecoles/{DEMO_UAI}/notifications/stop?")), "{url}");
    let url = url.replacen(url.split("/ecoles/").next().unwrap(), &hub.base, 1);
    let forged = url.replace("&t=", "&t=0");
    let client = reqwest::Client::new();
    let one_click = |url: &str| {
        client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let refused = one_click(&forged).await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "a forged link unsubscribes nobody");
    let answer = one_click(&url).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.text().await.unwrap().contains("vous ne recevrez plus"));
    let page = home.get("/notifications").await;
    assert_eq!(page.body.matches("value=\"never\" checked").count(), 4, "every topic « jamais »: {}", page.body);
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    tick(&hub, after, "10:00").await;
    tick(&hub, after, "18:00").await;
    assert_eq!(to(&sink.received(), &parent).len(), 2, "nothing after unsubscribing");
}

#[tokio::test]
async fn a_new_address_is_confirmed_by_its_link_and_one_that_keeps_failing_is_shown() {
    let sink = SmtpSink::start(&["--refuse", "inconnu@exemple.fr"]);
    let (hub, school) = hub_with_mail(&sink).await;
    let day = monday_or_so();
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    let (mut home, _) = activated_at_home(&hub, &school, &parent).await;
    choose(&mut home, &[("liaison", "immediate")]).await;

    // Bad input changes nothing.
    for (fields, refusal) in [
        (vec![("mode-liaison", "souvent")], "Ce choix n&#39;existe pas"),
        (vec![("mode-homework", "immediate")], "Ce choix n&#39;existe pas"),
        (vec![("digest_hour", "3")], "dans la liste"),
        (vec![("digest_hour", "21")], "dans la liste"),
        (vec![("quiet_hours", "19h-8h")], "19:00-08:00"),
        (vec![("digest_hour", "18"), ("quiet_hours", "07:00-19:00")], "cachent l&#39;heure de votre résumé"),
    ] {
        let page = home.post("/notifications", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(page.contains(refusal), "{}", page.body);
    }
    assert!(home.get("/notifications").await.contains("value=\"immediate\" checked"), "unchanged");
    let page = home.post("/notifications/address", &[("address", "pas une adresse")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    // A new address: a confirmation link goes at once (whatever the hour), nothing else.
    let page = home.post("/notifications/address", &[("address", "maman.nouvelle@exemple.fr")]).await;
    assert!(page.contains("Un lien de confirmation est parti à maman.nouvelle@exemple.fr"), "{}", page.body);
    let again = home.post("/notifications/address", &[("address", "autre@exemple.fr")]).await;
    assert!(again.contains("attendez dix minutes"), "{}", again.body);
    tick(&hub, day, "23:00").await;
    let mails = sink.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["maman.nouvelle@exemple.fr"]);
    let link = mails[0].body.lines().find(|l| l.contains("/notifications/confirm?")).unwrap().trim().to_owned();
    let link = format!("{}/ecoles/{}", hub.base, link.split("/ecoles/").nth(1).unwrap());
    // Opening it shows a button (a mail scanner following links confirms nothing)...
    let mut visitor = Browser::new(&hub.base);
    let page = visitor.get(&link.replacen(&hub.base, "", 1)).await;
    assert!(page.contains("Confirmer") && page.contains("maman.nouvelle@exemple.fr"), "{}", page.body);
    assert!(!home.get("/notifications").await.contains("Les courriels partent à <strong>maman.nouvelle"));
    // ...which confirms it.
    let done = reqwest::Client::new().post(&link).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("partiront désormais à maman.nouvelle@exemple.fr"), "{done}");
    let stale = reqwest::Client::new().post(&link).send().await.unwrap().text().await.unwrap();
    assert!(stale.contains("a expiré ou a déjà servi"), "once: {stale}");
    assert!(home.get("/notifications").await.contains("Les courriels partent à <strong>maman.nouvelle@exemple.fr"));
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    tick(&hub, day, "10:00").await;
    assert_eq!(sink.received().last().unwrap().to, ["maman.nouvelle@exemple.fr"]);

    // An address the server refuses: after three refusals in a row, it is failing — shown
    // on her home page and to the director — and nothing more is tried.
    let (other, other_child) = {
        let dir = school.directory();
        let child = dir
            .pupils_of(&ce.id)
            .into_iter()
            .find(|p| dir.guardians_of(&p.id).iter().any(|(g, legal)| *legal && g.id != parent.id))
            .unwrap()
            .clone();
        let (g, _) = dir.guardians_of(&child.id).into_iter().find(|(g, l)| *l && g.id != parent.id).unwrap();
        (g.clone(), child)
    };
    let other_id = other.id.clone();
    preau_appliance::school::structures::edit_directory(&school.state, move |d, _| {
        d.people.get_mut(other_id.as_str()).unwrap().email = "inconnu@exemple.fr".into();
        Ok(())
    })
    .await
    .unwrap();
    sync(&school).await;
    let (mut other_home, _) = activated_at_home(&hub, &school, &other).await;
    choose(&mut other_home, &[("liaison", "immediate")]).await;
    for n in 1..=4 {
        teacher_asks_a_signature(&school, &ce.id.to_string()).await;
        sync(&school).await;
        let pass = tick(&hub, day, &format!("1{n}:00")).await;
        assert_eq!(pass.failed, usize::from(n <= 3), "refusal {n}: {pass:?}");
    }
    let home_page = other_home.get("/").await;
    assert!(
        home_page.contains("Vos courriels n&#39;arrivent plus") && home_page.contains("inconnu@exemple.fr"),
        "{}",
        home_page.body
    );
    assert!(home_page.contains("User unknown"), "the server's words: {}", home_page.body);
    let mut director = crate::hub::at_home(&hub, DEMO_UAI).await;
    director.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    let list = director.get("/notifications/school").await;
    assert!(list.contains("inconnu@exemple.fr") && list.contains(&other.full_name()), "{}", list.body);
    assert!(!list.contains("maman.nouvelle"), "{}", list.body);
    assert_eq!(other_home.get("/notifications/school").await.status, StatusCode::NOT_FOUND, "the director's only");
    let _ = other_child;
}

#[tokio::test]
async fn a_school_on_holiday_sends_nothing_until_they_end() {
    let sink = SmtpSink::start(&[]);
    let (hub, school) = hub_with_mail(&sink).await;
    let day = monday_or_so();
    let next = day.tomorrow().unwrap();
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    let (mut home, _) = activated_at_home(&hub, &school, &parent).await;
    choose(&mut home, &[("liaison", "immediate")]).await;

    // The director puts a day of holidays in the agenda and holds e-mails during them.
    let mut director = school.browser();
    director.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    director.get("/admin/sync").await;
    director.post("/admin/sync/holidays", &[("pause", "on")]).await.assert_redirect("/admin/sync");
    assert!(director.get("/admin/sync").await.contains("name=\"pause\" value=\"on\" checked"));
    director.get("/agenda").await;
    let (start, end) = (day.to_string(), day.to_string());
    let added = director
        .post(
            "/agenda",
            &[("place", "school"), ("title", "Pont"), ("starts_on", &start), ("ends_on", &end), ("holiday", "on")],
        )
        .await;
    assert!(added.location.is_some(), "{}", added.body);
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    assert_eq!(tick(&hub, day, "10:00").await.queued, 0, "holidays");
    assert!(sink.received().is_empty());
    // The day after: her e-mail, and the digests the holiday held, go in the morning.
    assert!(tick(&hub, next, "07:00").await.sent >= 1);
    let mails = sink.received();
    assert_eq!(to(&mails, &parent).len(), 1);
    assert!(mails[to(&mails, &parent)[0]].body.contains("Sortie au musée"));
}

/// The hub as a process (`preau serve --role hub`) over `data` (and its replica's
/// PostgreSQL database, if any), sending through `sink` at any hour.
fn hub_process(data: &std::path::Path, database: Option<&str>, sink: &SmtpSink) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_preau"))
        .args(["--data-dir", data.to_str().unwrap(), "serve", "--role", "hub"])
        .env("PREAU_DATABASE_URL", database.unwrap_or_default())
        .env("PREAU_LISTEN", "127.0.0.1:0")
        .env("PREAU_DISCOVERY", "false")
        .env("PREAU_MAIL_SMTP", sink.address())
        .env("PREAU_MAIL_TLS", "none")
        .env("PREAU_MAIL_FROM", "ENT <ne-pas-repondre@ac-exemple.fr>")
        .env("PREAU_MAIL_QUIET_HOURS", "")
        .env("PREAU_MAIL_QUIET_DAYS", "")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_hub_killed_mid_batch_sends_each_mail_once_after_its_restart() {
    // One message at a time, each answered after 300 ms (a slow relay): the kill falls
    // while the server holds some.
    let sink = SmtpSink::start(&["--delay", "0.3", "--serial"]);
    let (hub, school) = hub_with_mail(&sink).await;
    let (_, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    // Eight of the class's families want notes at once.
    let dir = school.directory();
    let mut parents: Vec<Member> = dir
        .pupils_of(&ce.id)
        .iter()
        .flat_map(|p| dir.guardians_of(&p.id))
        .filter(|(g, legal)| *legal && !g.person.email.is_empty())
        .map(|(g, _)| g.clone())
        .collect();
    parents.sort_by(|a, b| a.id.cmp(&b.id));
    parents.dedup_by(|a, b| a.id == b.id);
    parents.truncate(8);
    for parent in &parents {
        let (mut home, _) = activated_at_home(&hub, &school, parent).await;
        choose(&mut home, &[("liaison", "immediate")]).await;
    }
    teacher_asks_a_signature(&school, &ce.id.to_string()).await;
    sync(&school).await;
    let database = hub.state.config.database_url.clone();
    let data = hub.stop_keeping_data().await;

    // The hub process derives, queues and starts sending; it is killed after three.
    let mut first = hub_process(data.path(), database.as_deref(), &sink);
    until("three e-mails", || sink.received().len() >= 3).await;
    // Half-way through the relay's 300 ms on the fourth: the third's « 250 » recorded, the
    // fourth not taken yet. (SMTP gives no way to close the window between the relay's
    // « 250 » and the hub's record of it: a kill inside those milliseconds sends that one
    // e-mail twice, with the same Message-ID, which mail systems drop as a duplicate.)
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let before = sink.received().len();
    assert!(before < parents.len(), "killed mid-batch ({before} sent)");

    // Restarted, it sends the rest, and nothing twice.
    let mut second = hub_process(data.path(), database.as_deref(), &sink);
    until("every e-mail", || sink.received().len() >= parents.len()).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    second.kill().unwrap();
    second.wait().unwrap();
    let mails = sink.received();
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), mails.len(), "no e-mail twice: {mails:#?}");
    let mut told: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    told.sort();
    let mut expected: Vec<String> = parents.iter().map(|p| p.person.email.clone()).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(told, expected, "each family once");
}

/// An SMTP sink requiring STARTTLS with a certificate of its own for `localhost`: the sink,
/// and that certificate (its own authority).
fn tls_sink(dir: &std::path::Path) -> (SmtpSink, std::path::PathBuf) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.join("smtp.pem"), dir.join("smtp.key"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    (SmtpSink::start(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()]), cert)
}

/// A parent of `school` wants notes at once; the teacher posts one; the school syncs;
/// the notifier passes on a weekday morning. The parent, and the pass.
async fn a_note_told_at_once(hub: &TestServer, school: &TestServer) -> (Member, Pass) {
    let (parent, child) = ce_parent(school);
    let ce = school.directory().class_of(&child).unwrap().clone();
    let (mut home, _) = activated_at_home(hub, school, &parent).await;
    choose(&mut home, &[("liaison", "immediate")]).await;
    teacher_asks_a_signature(school, &ce.id.to_string()).await;
    sync(school).await;
    (parent, tick(hub, monday_or_so(), "10:00").await)
}

#[tokio::test]
async fn mail_goes_over_starttls_to_a_server_known_by_its_authority() {
    let tls = tempfile::tempdir().unwrap();
    let (sink, cert) = tls_sink(tls.path());
    let smtp = format!("localhost:{}", sink.port);
    let (hub, school) = hub_sending(move |mail| {
        mail.smtp = smtp;
        mail.tls = "starttls".into();
        mail.ca = Some(cert);
    })
    .await;
    let (parent, pass) = a_note_told_at_once(&hub, &school).await;
    assert_eq!(pass.sent, 1);
    let mails = sink.received();
    assert!(mails[0].tls, "over STARTTLS: {mails:?}");
    assert_eq!(mails[0].to, std::slice::from_ref(&parent.person.email));
}

#[tokio::test]
async fn a_server_whose_certificate_the_hub_does_not_trust_is_sent_nothing() {
    let tls = tempfile::tempdir().unwrap();
    let (sink, _) = tls_sink(tls.path());
    let smtp = format!("localhost:{}", sink.port);
    // No `ca`: Mozilla's roots, which do not know this server.
    let (hub, school) = hub_sending(move |mail| {
        mail.smtp = smtp;
        mail.tls = "starttls".into();
    })
    .await;
    let (_, pass) = a_note_told_at_once(&hub, &school).await;
    assert_eq!((pass.queued, pass.sent, pass.failed), (1, 0, 0), "queued, kept for a retry: {pass:?}");
    assert!(sink.received().is_empty());
}
