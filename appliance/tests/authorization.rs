//! The authorization matrix: every profile × every route × read/write, through the pages and
//! through the API. A pupil never sees another class, a parent only their own children, a
//! teacher only their classes unless director; a refused write changes nothing.

mod common;

use std::collections::BTreeMap;

use common::{Browser, TestServer};
use preau_appliance::demo::DEMO_PASSWORD;
use preau_appliance::directory::{Directory, Profile};

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Director,
    /// Teaches CE1-CE2.
    Teacher,
    /// Teaches CP only.
    OtherTeacher,
    Atsem,
    /// Two children (one in CE1-CE2 or elsewhere).
    Parent,
    /// A CP pupil.
    Pupil,
}

const EVERYONE: [Who; 7] = [Anonymous, Director, Teacher, OtherTeacher, Atsem, Parent, Pupil];

/// The ids routes are filled with.
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn of(dir: &Directory) -> Self {
        let class =
            |name: &str| dir.current_classes().into_iter().find(|c| c.class.name == name).unwrap().id.to_string();
        // A teacher who is not one of the actors below: resetting them must not log anyone out.
        let teacher = dir.by_login("nadia.benhamou").unwrap();
        let ce = class("CE1-CE2");
        let cp = class("CP");
        let ce_id = preau_appliance::directory::ClassId::parse(&ce).unwrap();
        let ce_pupil = dir.pupils_of(&ce_id)[0].clone();
        // A parent whose children are all in CE1-CE2.
        let ce_parent = dir
            .people
            .values()
            .find(|m| {
                m.profile == Profile::Parent
                    && !dir.children_of(&m.id).is_empty()
                    && dir.children_of(&m.id).iter().all(|c| c.person.class_id == ce)
            })
            .unwrap();
        let parent = dir.by_login("aurelie.kerherve").unwrap();
        // Her children are in two classes, one of them CP: its teacher (OtherTeacher) must not
        // reach her account, which opens her other child's class too.
        assert!(dir.children_of(&parent.id).iter().any(|c| c.person.class_id == cp));
        assert!(dir.children_of(&parent.id).iter().any(|c| c.person.class_id != cp));
        let own_child = dir.children_of(&parent.id)[0].id.to_string();
        let stranger = dir
            .people
            .values()
            .find(|m| m.profile == Profile::Pupil && !dir.children_of(&parent.id).iter().any(|c| c.id == m.id))
            .unwrap();
        Self(BTreeMap::from([
            ("ce", ce),
            ("cp", cp),
            ("ce_pupil", ce_pupil.id.to_string()),
            ("ce_parent", ce_parent.id.to_string()),
            ("own_child", own_child),
            ("stranger_child", stranger.id.to_string()),
            ("teacher", teacher.id.to_string()),
            ("multi_parent", parent.id.to_string()),
        ]))
    }

    fn fill(&self, route: &str) -> String {
        self.0.iter().fold(route.to_owned(), |r, (k, v)| r.replace(&format!("{{{k}}}"), v))
    }
}

/// One row: a route and who may use it.
struct Rule {
    method: &'static str,
    route: &'static str,
    allowed: &'static [Who],
}

use Who::*;

const STAFF: &[Who] = &[Director, Teacher, OtherTeacher, Atsem];
const SIGNED_IN: &[Who] = &[Director, Teacher, OtherTeacher, Atsem, Parent, Pupil];

/// The pages.
const PAGES: &[Rule] = &[
    Rule { method: "GET", route: "/team", allowed: STAFF },
    Rule { method: "GET", route: "/admin/accounts", allowed: &[Director] },
    Rule { method: "GET", route: "/admin/letters", allowed: &[Director] },
    Rule { method: "GET", route: "/admin/import", allowed: &[Director] },
    Rule { method: "GET", route: "/admin/appliance", allowed: &[Director] },
    Rule { method: "GET", route: "/admin/structures", allowed: &[Director] },
    Rule { method: "GET", route: "/admin/appliance/label", allowed: &[Director] },
    Rule { method: "GET", route: "/classes/{ce}", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/classes/{cp}", allowed: &[Director, OtherTeacher] },
    Rule { method: "GET", route: "/letters/class/{ce}/pupils", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/letters/class/{ce}/parents", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/letters/class/{cp}/pupils", allowed: &[Director, OtherTeacher] },
    Rule { method: "GET", route: "/letters/account/{ce_pupil}", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/letters/account/{ce_parent}", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/letters/account/{teacher}", allowed: &[Director] },
    Rule { method: "GET", route: "/letters/account/{multi_parent}", allowed: &[Director] },
    Rule { method: "GET", route: "/child/{own_child}", allowed: &[Parent] },
    Rule { method: "GET", route: "/child/{stranger_child}", allowed: &[] },
    Rule { method: "GET", route: "/password", allowed: SIGNED_IN },
    Rule { method: "POST", route: "/accounts/{ce_pupil}/reset", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/accounts/{ce_pupil}/qr", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/accounts/{ce_pupil}/qr/revoke", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/accounts/{ce_parent}/reset", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/accounts/{teacher}/reset", allowed: &[Director] },
    Rule { method: "GET", route: "/classes/{ce}/homework", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/classes/{cp}/homework", allowed: &[Director, OtherTeacher] },
    Rule {
        method: "GET",
        route: "/classes/{ce}/homework/print?from=2026-11-30&to=2026-12-06",
        allowed: &[Director, Teacher],
    },
    Rule { method: "GET", route: "/homework", allowed: &[Pupil] },
    Rule { method: "GET", route: "/classes/{ce}/liaison", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/classes/{cp}/liaison", allowed: &[Director, OtherTeacher] },
    Rule { method: "GET", route: "/liaison", allowed: &[Parent] },
    Rule { method: "GET", route: "/messages", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/news", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/agenda", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/staffroom", allowed: STAFF },
    Rule { method: "GET", route: "/messages/new", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/classes/{ce}/messaging", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/classes/{cp}/messaging", allowed: &[Director, OtherTeacher] },
];

/// The same operations in the API.
const API: &[Rule] = &[
    Rule { method: "GET", route: "/api/v1/me", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/api/v1/team", allowed: STAFF },
    Rule { method: "GET", route: "/api/v1/accounts", allowed: &[Director] },
    Rule { method: "GET", route: "/api/v1/classes/{ce}/roster", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/classes/{cp}/roster", allowed: &[Director, OtherTeacher] },
    Rule { method: "GET", route: "/api/v1/classes/{ce}/letters/pupils", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/classes/{ce}/letters/parents", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/accounts/{ce_pupil}/letter", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/accounts/{teacher}/letter", allowed: &[Director] },
    Rule { method: "GET", route: "/api/v1/accounts/{multi_parent}/letter", allowed: &[Director] },
    Rule { method: "POST", route: "/api/v1/accounts/{ce_pupil}/reset", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/api/v1/accounts/{ce_pupil}/qr", allowed: &[Director, Teacher] },
    Rule { method: "DELETE", route: "/api/v1/accounts/{ce_pupil}/qr", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/api/v1/accounts/{ce_parent}/reset", allowed: &[Director, Teacher] },
    Rule { method: "POST", route: "/api/v1/accounts/{teacher}/reset", allowed: &[Director] },
    Rule { method: "GET", route: "/api/v1/groups", allowed: &[Director] },
    Rule {
        method: "GET",
        route: "/api/v1/classes/{ce}/homework?from=2026-11-30&to=2026-12-06",
        allowed: &[Director, Teacher],
    },
    Rule {
        method: "GET",
        route: "/api/v1/classes/{cp}/homework?from=2026-11-30&to=2026-12-06",
        allowed: &[Director, OtherTeacher],
    },
    Rule { method: "GET", route: "/api/v1/pupils/{ce_pupil}/homework", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/classes/{ce}/liaison", allowed: &[Director, Teacher] },
    Rule { method: "GET", route: "/api/v1/classes/{cp}/liaison", allowed: &[Director, OtherTeacher] },
    Rule { method: "GET", route: "/api/v1/liaison", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/api/v1/conversations", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/api/v1/news", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/api/v1/agenda?from=2026-11-30&to=2026-12-06", allowed: SIGNED_IN },
    Rule { method: "GET", route: "/api/v1/contacts", allowed: SIGNED_IN },
];

impl Who {
    /// The demo login of a password user.
    fn login(self) -> Option<&'static str> {
        match self {
            Director => Some("claire.martin"),
            Teacher => Some("sophie.lebihan"),
            OtherTeacher => Some("julien.roche"),
            Atsem => Some("martine.guillemot"),
            Parent => Some("aurelie.kerherve"),
            Anonymous | Pupil => None,
        }
    }
}

/// The CP pupil who plays `Pupil`: their class, id and picture sequence.
fn the_pupil(server: &TestServer) -> (String, String, Vec<String>) {
    let dir = server.directory();
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let pupil = dir.pupils_of(&cp.id)[0].clone();
    let pictures = dir.credentials[&pupil.id].picture_secret.split(',').map(Into::into).collect();
    (cp.id.to_string(), pupil.id.to_string(), pictures)
}

async fn browser_for(server: &TestServer, who: Who) -> Browser {
    let mut b = server.browser();
    if let Some(login) = who.login() {
        b.login(login, DEMO_PASSWORD).await.assert_ok();
    } else if who == Pupil {
        let (class, pupil, _) = the_pupil(server);
        let member =
            server.directory().member(&preau_appliance::directory::UserId::parse(&pupil).unwrap()).unwrap().clone();
        b = common::pupil_browser(server, &member).await;
        assert_eq!(class, member.person.class_id);
    }
    b.get("/").await;
    b
}

/// A bearer token for `who` (None for anonymous).
async fn token_for(server: &TestServer, who: Who) -> Option<String> {
    let body = match who {
        Anonymous => return None,
        Pupil => {
            let (_, pupil, _) = the_pupil(server);
            let member =
                server.directory().member(&preau_appliance::directory::UserId::parse(&pupil).unwrap()).unwrap().clone();
            return Some(common::pupil_token(server, &member).await);
        }
        _ => serde_json::json!({"login": who.login(), "password": DEMO_PASSWORD}),
    };
    let (status, answer) = common::api(server, "POST", "/api/v1/auth/login", None, Some(body)).await;
    assert_eq!(status, 200, "{who:?}");
    Some(answer["token"].as_str().unwrap().to_owned())
}

fn allowed_status(status: reqwest::StatusCode, location: Option<&str>) -> bool {
    status.is_success() || (status.is_redirection() && location != Some("/login"))
}

#[tokio::test]
async fn every_profile_reaches_exactly_what_it_may_through_pages_and_api() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ids = Ids::of(&dir);
    let mut failures = Vec::new();
    for who in EVERYONE {
        let mut b = browser_for(&server, who).await;
        for rule in PAGES {
            let path = ids.fill(rule.route);
            let before = server.directory().credentials.clone();
            let page = if rule.method == "GET" { b.get(&path).await } else { b.post(&path, &[]).await };
            let got = allowed_status(page.status, page.location.as_deref());
            let want = rule.allowed.contains(&who);
            if got != want {
                failures.push(format!(
                    "page {} {} as {who:?}: {} (want {})",
                    rule.method,
                    rule.route,
                    page.status,
                    if want { "allowed" } else { "refused" }
                ));
            }
            if !want && rule.method != "GET" && server.directory().credentials != before {
                failures.push(format!(
                    "page {} {} as {who:?} was refused but changed credentials",
                    rule.method, rule.route
                ));
            }
            // Re-read the CSRF token (resets end no session of the caller, but pages change).
            b.get("/").await;
        }

        let token = token_for(&server, who).await;
        let client = reqwest::Client::new();
        for rule in API {
            let url = format!("{}{}", server.base, ids.fill(rule.route));
            let before = server.directory().credentials.clone();
            let method = reqwest::Method::from_bytes(rule.method.as_bytes()).unwrap();
            let mut request = client.request(method, &url);
            if let Some(t) = &token {
                request = request.bearer_auth(t);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            let want = rule.allowed.contains(&who);
            if status.is_success() != want {
                let excerpt: String = body.chars().take(160).collect();
                failures.push(format!("api {} {} as {who:?}: {status} {excerpt}", rule.method, rule.route));
            }
            if !status.is_success() {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if v["error"].as_str().is_none() || v["message"].as_str().is_none() {
                    failures.push(format!(
                        "api {} {} as {who:?}: refusal without an error body: {body}",
                        rule.method, rule.route
                    ));
                }
                if rule.method != "GET" && server.directory().credentials != before {
                    failures.push(format!(
                        "api {} {} as {who:?} was refused but changed credentials",
                        rule.method, rule.route
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} authorization failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn a_pupil_never_sees_another_class_and_a_parent_only_their_children() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ids = Ids::of(&dir);
    // The pupil's own view of the school: /api/v1/me lists only their class.
    let token = token_for(&server, Pupil).await.unwrap();
    let (_, me) = common::api(&server, "GET", "/api/v1/me", Some(&token), None).await;
    let classes = me["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0]["name"], "CP");
    assert!(me["children"].as_array().unwrap().is_empty());
    // The parent's: exactly their two children.
    let token = token_for(&server, Parent).await.unwrap();
    let (_, me) = common::api(&server, "GET", "/api/v1/me", Some(&token), None).await;
    let parent = dir.by_login("aurelie.kerherve").unwrap();
    let mut expected: Vec<String> = dir.children_of(&parent.id).iter().map(|c| c.id.to_string()).collect();
    let mut got: Vec<String> =
        me["children"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    // The parent's page for a stranger's child is a 404, whatever the id looks like.
    let mut b = browser_for(&server, Parent).await;
    for bad in [ids.fill("{stranger_child}"), "not-an-id".into(), "0000000000000000".into(), "../admin".into()] {
        let page = b.get(&format!("/child/{bad}")).await;
        assert_eq!(page.status, reqwest::StatusCode::NOT_FOUND, "{bad}");
    }
}
