//! The authorization matrix, complete by construction: every route the appliance serves
//! (its own route list, `app::routes`) and every operation of its OpenAPI document
//! has a row below saying which of nine profiles may use it, or the test fails. Each row
//! is tried by each profile with real ids, on a demo school with real homework, notes,
//! news, events and conversations: the profiles it names must get past authorization (a
//! success, a redirect elsewhere than the login page, or a refusal of the input); the others
//! must be refused (401, 403, 404 or the login page), and a refused write must leave every
//! read model unchanged. The same rows hold on a hub that holds the school, and there a
//! director of another school reaches none of them. `PREAU_MATRIX_RECORD=1` prints what
//! each profile got.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{self, TestServer};
use preau_appliance::platform::config::Role;
use preau_appliance::replication::enrollment::{self, Subject};
use preau_appliance::replication::links::{Account, Quarantined};
use preau_appliance::school::demo::DEMO_UAI;
use preau_appliance::school::directory::{Directory, Member, Profile};
use preau_appliance::web::SignedIn;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Who is asking, in the order of a row's flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Director,
    /// Teaches CE1-CE2, the class every row's ids belong to.
    Teacher,
    /// Teaches CP only.
    OtherTeacher,
    Atsem,
    /// Legal guardian of a CE1-CE2 pupil (the one the rows name), all of whose children are there.
    Parent,
    /// A parent with no child in CE1-CE2.
    OtherParent,
    /// The CE1-CE2 pupil the rows name.
    Pupil,
    /// A CP pupil.
    OtherPupil,
}

use Who::*;
use preau_appliance::replication::Replication;

const WHO: [Who; 9] = [Anonymous, Director, Teacher, OtherTeacher, Atsem, Parent, OtherParent, Pupil, OtherPupil];
/// One letter per profile, in the order of [`WHO`]; a row's flags are these letters for the
/// profiles that may, `.` for the others.
const LETTERS: [char; 9] = ['a', 'D', 'T', 't', 'S', 'P', 'p', 'E', 'e'];

/// A request body.
#[derive(Clone, Copy)]
enum Body {
    None,
    /// A form (the session's CSRF token is added).
    Form(&'static [(&'static str, &'static str)]),
    /// JSON, with `{placeholders}`.
    Json(&'static str),
}

/// One route, one request, and who may.
#[derive(Clone, Copy)]
struct Row {
    method: &'static str,
    /// The route as the router or the OpenAPI document names it.
    route: &'static str,
    /// The request's path and query, with `{placeholders}` for real ids.
    path: &'static str,
    body: Body,
    /// [`LETTERS`] of the profiles that get past authorization.
    allowed: &'static str,
}

const fn row(method: &'static str, route: &'static str, path: &'static str, allowed: &'static str) -> Row {
    Row { method, route, path, body: Body::None, allowed }
}

const fn form(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    allowed: &'static str,
) -> Row {
    Row { method, route, path, body: Body::Form(fields), allowed }
}

const fn json_row(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: &'static str,
    allowed: &'static str,
) -> Row {
    Row { method, route, path, body: Body::Json(body), allowed }
}

// Shorthands for common sets.
const ALL: &str = "aDTtSPpEe";
const SIGNED_IN: &str = ".DTtSPpEe";
const NOBODY: &str = ".........";
const DIRECTOR: &str = ".D.......";
const CLASS_STAFF: &str = ".DT......";
const STAFF: &str = ".DTtS....";
const ADULTS: &str = ".DTtSPp..";

/// The pages and endpoints (`app::routes(Role::School)`), in the order they are tried: reads,
/// then writes, then what ends or removes things.
const PAGES: &[Row] = &[
    row("GET", "/healthz", "/healthz", ALL),
    row("GET", "/static/{*path}", "/static/style.css", ALL),
    // After setup the setup page leads home, and setting up again is refused to everyone.
    row("GET", "/setup", "/setup", ALL),
    form("POST", "/setup", "/setup", &[], NOBODY),
    form(
        "POST",
        "/setup/restore",
        "/setup/restore",
        &[("hub", "http://127.0.0.1:9"), ("code", "AAAA-AAAA-AAAA")],
        NOBODY,
    ),
    form("POST", "/setup/retry", "/setup/retry", &[], NOBODY),
    // The hub's front door; at school, it leads to the school's home.
    row("GET", "/ecoles", "/ecoles", ALL),
    row("GET", "/ecoles/{uai}", "/ecoles/{uai}", ALL),
    row("GET", "/login", "/login", ALL),
    form("POST", "/login", "/login", &[("login", "julien.roche"), ("password", "preau-demo")], ALL),
    row("GET", "/password", "/password", SIGNED_IN),
    // The pupil logins need a class tablet, which no profile here holds.
    row("GET", "/classes/{class}/login", "/classes/{ce}/login", NOBODY),
    row("GET", "/classes/{class}/login/{pupil}", "/classes/{ce}/login/{ce_pupil}", NOBODY),
    form("POST", "/classes/{class}/login/{pupil}", "/classes/{ce}/login/{ce_pupil}", &[("add", "cat")], NOBODY),
    row("GET", "/qr/{secret}", "/qr/{qr}", ALL),
    row("GET", "/", "/", ALL),
    row("GET", "/child/{id}", "/child/{ce_pupil}", ".....P..."),
    row("GET", "/team", "/team", STAFF),
    row("GET", "/admin/accounts", "/admin/accounts", DIRECTOR),
    row("GET", "/admin/letters", "/admin/letters", DIRECTOR),
    row("GET", "/admin/audit", "/admin/audit", DIRECTOR),
    row("GET", "/classes/{id}", "/classes/{ce}", CLASS_STAFF),
    row("GET", "/letters/class/{id}/pupils", "/letters/class/{ce}/pupils", CLASS_STAFF),
    row("GET", "/letters/class/{id}/parents", "/letters/class/{ce}/parents", CLASS_STAFF),
    row("GET", "/letters/account/{id}", "/letters/account/{ce_pupil}", CLASS_STAFF),
    row("GET", "/admin/appliance", "/admin/appliance", DIRECTOR),
    row("GET", "/admin/appliance/label", "/admin/appliance/label", DIRECTOR),
    row("GET", "/admin/import", "/admin/import", DIRECTOR),
    row("GET", "/admin/structures", "/admin/structures", DIRECTOR),
    row("GET", "/classes/{id}/homework", "/classes/{ce}/homework", CLASS_STAFF),
    row(
        "GET",
        "/classes/{id}/homework/print",
        "/classes/{ce}/homework/print?from=2026-11-30&to=2026-12-06",
        CLASS_STAFF,
    ),
    row("GET", "/classes/{id}/homework/{entry}", "/classes/{ce}/homework/{entry}", CLASS_STAFF),
    row(
        "GET",
        "/classes/{id}/homework/{entry}/files/{hash}",
        "/classes/{ce}/homework/{entry}/files/{hash}",
        ".DT..P.E.",
    ),
    row("GET", "/homework", "/homework", ".......Ee"),
    row("GET", "/classes/{id}/liaison", "/classes/{ce}/liaison", CLASS_STAFF),
    row("GET", "/classes/{id}/liaison/{note}", "/classes/{ce}/liaison/{note}", CLASS_STAFF),
    row("GET", "/liaison", "/liaison", ".....Pp.."),
    row("GET", "/messages", "/messages", SIGNED_IN),
    row("GET", "/messages/new", "/messages/new", SIGNED_IN),
    row("GET", "/messages/{id}", "/messages/{conversation}", ".DT....E."),
    row("GET", "/messages/{id}/files/{hash}", "/messages/{conversation}/files/{hash}", NOBODY),
    row("GET", "/classes/{id}/messaging", "/classes/{ce}/messaging", CLASS_STAFF),
    row("GET", "/news", "/news", SIGNED_IN),
    row("GET", "/staffroom", "/staffroom", STAFF),
    row("GET", "/news/{id}", "/news/{news}", ".DT..P.E."),
    row("GET", "/news/{id}/photos/{hash}", "/news/{news}/photos/{hash}", NOBODY),
    row("GET", "/agenda", "/agenda", SIGNED_IN),
    // The commune's portal: its school's people (the demo school is in none: the page says
    // so); a commune's page for anyone only when public (this one is not).
    row("GET", "/commune", "/commune", SIGNED_IN),
    row("GET", "/communes/{insee}", "/communes/35999", NOBODY),
    row("GET", "/agenda/{id}", "/agenda/{event}", ".DT..P.E."),
    row("GET", "/calendar/{file}", "/calendar/{feed}", ALL),
    row("GET", "/admin/sync", "/admin/sync", DIRECTOR),
    row("GET", "/messages/events", "/messages/events", SIGNED_IN),
    // The loopback control of `preau sync now`: anyone on the appliance itself.
    row("GET", "/replication/v1/local/sync", "/replication/v1/local/sync", ALL),
    // Enrolment is open: its one-time code is the credential (throttled per address).
    row("POST", "/replication/v1/enroll", "/replication/v1/enroll", ALL),
    // The rest of replication answers signed requests only.
    row("POST", "/replication/v1/sessions", "/replication/v1/sessions", NOBODY),
    row("GET", "/replication/v1/upstream", "/replication/v1/upstream", NOBODY),
    row("GET", "/replication/v1/sessions/{sid}/offer", "/replication/v1/sessions/{sid}/offer", NOBODY),
    row(
        "HEAD",
        "/replication/v1/sessions/{sid}/uploads/{hash}",
        "/replication/v1/sessions/{sid}/uploads/{hash}",
        NOBODY,
    ),
    row(
        "PATCH",
        "/replication/v1/sessions/{sid}/uploads/{hash}",
        "/replication/v1/sessions/{sid}/uploads/{hash}",
        NOBODY,
    ),
    row("POST", "/replication/v1/sessions/{sid}/reply", "/replication/v1/sessions/{sid}/reply", NOBODY),
    row("POST", "/replication/v1/sessions/{sid}/files", "/replication/v1/sessions/{sid}/files", NOBODY),
    row("GET", "/replication/v1/sessions/{sid}/files/{hash}", "/replication/v1/sessions/{sid}/files/{hash}", NOBODY),
    row("HEAD", "/replication/v1/sessions/{sid}/files/{hash}", "/replication/v1/sessions/{sid}/files/{hash}", NOBODY),
    row("PATCH", "/replication/v1/sessions/{sid}/files/{hash}", "/replication/v1/sessions/{sid}/files/{hash}", NOBODY),
    // Writes (a QR-card login first: the rows after it change the card).
    form("POST", "/qr", "/qr", &[("secret", "{qr}")], ALL),
    form("POST", "/accounts/{id}/qr", "/accounts/{ce_pupil}/qr", &[], CLASS_STAFF),
    form("POST", "/accounts/{id}/qr/revoke", "/accounts/{ce_pupil}/qr/revoke", &[], CLASS_STAFF),
    form("POST", "/accounts/{id}/unlock", "/accounts/{ce_pupil}/unlock", &[], CLASS_STAFF),
    form("POST", "/accounts/{id}/reset", "/accounts/{ce_pupil}/reset", &[], CLASS_STAFF),
    form("POST", "/admin/import", "/admin/import", &[], DIRECTOR),
    form("POST", "/admin/import/apply", "/admin/import/apply", &[("token", "{import}")], DIRECTOR),
    form(
        "POST",
        "/admin/people",
        "/admin/people",
        &[("profile", "teacher"), ("first_name", "Inès"), ("last_name", "Morel")],
        DIRECTOR,
    ),
    form("POST", "/admin/classes", "/admin/classes", &[("name", "CM1 B"), ("level", "CM1")], DIRECTOR),
    form(
        "POST",
        "/admin/classes/{id}/teachers",
        "/admin/classes/{ce}/teachers",
        &[("who", "{teacher}"), ("action", "add")],
        DIRECTOR,
    ),
    form("POST", "/admin/groups", "/admin/groups", &[("name", "Chorale")], DIRECTOR),
    form(
        "POST",
        "/admin/groups/{id}/members",
        "/admin/groups/{group}/members",
        &[("who", "{ce_pupil}"), ("action", "add")],
        DIRECTOR,
    ),
    form(
        "POST",
        "/classes/{id}/homework",
        "/classes/{ce}/homework",
        &[("audience", "all"), ("subject", "Maths"), ("assigned_on", "2026-12-01"), ("lesson", "Tables")],
        CLASS_STAFF,
    ),
    form(
        "POST",
        "/classes/{id}/homework/{entry}",
        "/classes/{ce}/homework/{entry}",
        &[("audience", "all"), ("subject", "Maths"), ("assigned_on", "2026-12-01"), ("lesson", "Tables de 3")],
        CLASS_STAFF,
    ),
    form(
        "POST",
        "/pupils/{id}/homework/{entry}/done",
        "/pupils/{ce_pupil}/homework/{entry}/done",
        &[("done", "1")],
        ".....P.E.",
    ),
    form(
        "POST",
        "/classes/{id}/liaison",
        "/classes/{ce}/liaison",
        &[("title", "Piscine"), ("body", "Lundi.")],
        CLASS_STAFF,
    ),
    form(
        "POST",
        "/classes/{id}/liaison/{note}",
        "/classes/{ce}/liaison/{note}",
        &[("title", "Piscine"), ("body", "Mardi.")],
        CLASS_STAFF,
    ),
    form("POST", "/classes/{id}/liaison/{note}/remind", "/classes/{ce}/liaison/{note}/remind", &[], CLASS_STAFF),
    form("POST", "/liaison/{note}/sign", "/liaison/{note}/sign", &[("child", "{ce_pupil}")], ".....P..."),
    // To the CE1-CE2 teacher: her colleagues and her pupils; a family writes about its child.
    form(
        "POST",
        "/messages/new",
        "/messages/new",
        &[("to", "{ce_teacher}"), ("subject", "Bonjour"), ("body", "Un mot.")],
        ".D.tS..E.",
    ),
    form(
        "POST",
        "/messages/new",
        "/messages/new",
        &[("to", "{ce_teacher}"), ("about", "{ce_pupil}"), ("subject", "Absence"), ("body", "Un mot.")],
        ".DT..P...",
    ),
    form("POST", "/messages/{id}", "/messages/{conversation}", &[("body", "Merci.")], "..T....E."),
    form(
        "POST",
        "/messages/{id}/{message}/moderate",
        "/messages/{conversation}/{held}/moderate",
        &[("decision", "approve")],
        CLASS_STAFF,
    ),
    form("POST", "/classes/{id}/messaging", "/classes/{ce}/messaging", &[("moderated", "on")], CLASS_STAFF),
    form("POST", "/news", "/news", &[("place", "class:{ce}"), ("title", "Sortie"), ("body", "Au musée.")], CLASS_STAFF),
    form("POST", "/news/{id}", "/news/{news}", &[("title", "Sortie"), ("body", "Au musée, jeudi.")], CLASS_STAFF),
    form(
        "POST",
        "/agenda",
        "/agenda",
        &[("place", "personal"), ("title", "Réunion"), ("starts_on", "2026-12-10")],
        SIGNED_IN,
    ),
    form("POST", "/agenda/{id}", "/agenda/{event}", &[("title", "Piscine"), ("starts_on", "2026-12-11")], CLASS_STAFF),
    form("POST", "/agenda/feed", "/agenda/feed", &[], SIGNED_IN),
    form(
        "POST",
        "/admin/sync/enroll",
        "/admin/sync/enroll",
        &[("hub", "http://127.0.0.1:9"), ("code", "AAAA-AAAA-AAAA")],
        DIRECTOR,
    ),
    form("POST", "/admin/sync/now", "/admin/sync/now", &[], DIRECTOR),
    form("POST", "/admin/sync/devices", "/admin/sync/devices", &[("teacher", "{ce_teacher}")], DIRECTOR),
    form("POST", "/admin/sync/revoke", "/admin/sync/revoke", &[("replica", "{replica}")], DIRECTOR),
    form("POST", "/admin/sync/away", "/admin/sync/away", &[("away", "on")], DIRECTOR),
    form("POST", "/admin/sync/holidays", "/admin/sync/holidays", &[("pause", "on")], DIRECTOR),
    form(
        "POST",
        "/admin/sync/quarantine/discard",
        "/admin/sync/quarantine/discard",
        &[("id", "{quarantined}")],
        DIRECTOR,
    ),
    form("POST", "/replication/v1/local/sync", "/replication/v1/local/sync", &[], ALL),
    // What ends or removes things, last.
    form("POST", "/classes/{id}/liaison/{note}/withdraw", "/classes/{ce}/liaison/{note}/withdraw", &[], CLASS_STAFF),
    form("POST", "/classes/{id}/homework/{entry}/remove", "/classes/{ce}/homework/{entry}/remove", &[], CLASS_STAFF),
    form("POST", "/news/{id}/withdraw", "/news/{news}/withdraw", &[], CLASS_STAFF),
    form("POST", "/agenda/{id}/withdraw", "/agenda/{event}/withdraw", &[], CLASS_STAFF),
    form("POST", "/classes/{id}/tablets/remove", "/classes/{ce}/tablets/remove", &[], CLASS_STAFF),
    form("POST", "/classes/{id}/tablet", "/classes/{ce}/tablet", &[], CLASS_STAFF),
    // Opened again: it is open already.
    form("POST", "/classes/{id}/families", "/classes/{ce}/families", &[("open", "1")], CLASS_STAFF),
    form("POST", "/password", "/password", &[("current", "x"), ("new", "x"), ("confirm", "x")], SIGNED_IN),
    form("POST", "/logout", "/logout", &[], ALL),
];

/// The hub's own pages, besides the schools' (`app::routes(Role::Hub)`): its
/// administrator's, which no school's profile may use, and a family's accounts.
const HUB_PAGES: &[Row] = &[
    row("GET", "/hub", "/hub", ALL),
    form("POST", "/hub/login", "/hub/login", &[("password", "pas-le-bon")], ALL),
    form("POST", "/hub/codes", "/hub/codes", &[("uai", "0290002B"), ("name", "École du Port")], NOBODY),
    form("POST", "/hub/revoke", "/hub/revoke", &[("replica", "{school_replica}")], NOBODY),
    form("POST", "/hub/quarantine/discard", "/hub/quarantine/discard", &[("id", "1")], NOBODY),
    row("GET", "/family", "/family", ADULTS),
    // A school the hub does not hold: refused as input, past authorization.
    form("POST", "/family/link", "/family/link", &[("school", "0349999Z"), ("login", "x"), ("password", "y")], ADULTS),
    // The parent's family is herself: she alone may open it, or leave it.
    form(
        "POST",
        "/family/switch",
        "/family/switch",
        &[("school", "{uai}"), ("user", "{parent}"), ("child", "{ce_pupil}")],
        ".....P...",
    ),
    form("POST", "/family/unlink", "/family/unlink", &[("school", "{uai}"), ("user", "{parent}")], ".....P..."),
    // Notifications: adults' own settings; the director's list of failing addresses.
    row("GET", "/notifications", "/notifications", ADULTS),
    form("POST", "/notifications", "/notifications", &[("mode-news", "digest")], ADULTS),
    // No `[mail]` server on this hub: refused as input, past authorization.
    form("POST", "/notifications/address", "/notifications/address", &[("address", "a@exemple.fr")], ADULTS),
    form("POST", "/notifications/retry", "/notifications/retry", &[], ADULTS),
    row("GET", "/notifications/school", "/notifications/school", DIRECTOR),
    // Links of e-mails: their secret is the proof, whoever follows them. A wrong one
    // confirms nothing (the page says the link expired) and unsubscribes nobody.
    row("GET", "/notifications/confirm", "/notifications/confirm?s={uai}&u={parent}&t=00", ALL),
    form("POST", "/notifications/confirm", "/notifications/confirm?s={uai}&u={parent}&t=00", &[], ALL),
    row("GET", "/notifications/stop", "/notifications/stop?s={uai}&u={parent}&t=00", NOBODY),
    form("POST", "/notifications/stop", "/notifications/stop?s={uai}&u={parent}&t=00", &[], NOBODY),
    form("POST", "/hub/logout", "/hub/logout", &[], ALL),
    // The académie's console: a school's people reach its sign-in page, nothing else (its
    // own matrix, by console profile, is in `console.rs`).
    row("GET", "/console", "/console", ALL),
    form("POST", "/console/login", "/console/login", &[("login", "claire.martin"), ("password", "preau-demo")], NOBODY),
    row("GET", "/console/password", "/console/password", NOBODY),
    form("POST", "/console/password", "/console/password", &[("current", "x"), ("new", "y"), ("confirm", "y")], NOBODY),
    form("POST", "/console/communes", "/console/communes", &[("insee", "35999"), ("name", "X")], NOBODY),
    row("GET", "/console/communes/{insee}", "/console/communes/35999", NOBODY),
    form("POST", "/console/communes/{insee}", "/console/communes/35999", &[("name", "X")], NOBODY),
    form("POST", "/console/communes/{insee}/schools", "/console/communes/35999/schools", &[("uai", "{uai}")], NOBODY),
    form(
        "POST",
        "/console/communes/{insee}/conventions",
        "/console/communes/35999/conventions",
        &[("title", "T"), ("starts_on", "2026-09-01"), ("ends_on", "2027-08-31")],
        NOBODY,
    ),
    row("GET", "/console/communes/{insee}/conventions/{id}", "/console/communes/35999/conventions/c1", NOBODY),
    form(
        "POST",
        "/console/communes/{insee}/conventions/{id}/sign",
        "/console/communes/35999/conventions/c1/sign",
        &[("day", "2026-12-01")],
        NOBODY,
    ),
    form(
        "POST",
        "/console/communes/{insee}/conventions/{id}/end",
        "/console/communes/35999/conventions/c1/end",
        &[("day", "2026-12-01")],
        NOBODY,
    ),
    form(
        "POST",
        "/console/communes/{insee}/conventions/{id}/schools",
        "/console/communes/35999/conventions/c1/schools",
        &[("action", "activate"), ("uai", "{uai}"), ("class", "{ce}")],
        NOBODY,
    ),
    row("GET", "/console/communes/{insee}/statement", "/console/communes/35999/statement", NOBODY),
    row("GET", "/console/accounts", "/console/accounts", NOBODY),
    form("POST", "/console/accounts", "/console/accounts", &[("name", "A B"), ("role", "rectorat")], NOBODY),
    form("POST", "/console/accounts/{id}/disable", "/console/accounts/{parent}/disable", &[], NOBODY),
    form("POST", "/console/accounts/{id}/reset", "/console/accounts/{parent}/reset", &[], NOBODY),
    row("GET", "/console/contributions", "/console/contributions", NOBODY),
    row("GET", "/console/contributions.csv", "/console/contributions.csv", NOBODY),
    form("POST", "/console/rates", "/console/rates", &[("year", "2026-2027"), ("rate", "2")], NOBODY),
    row("GET", "/console/audit", "/console/audit", NOBODY),
    row("GET", "/console/sync", "/console/sync", NOBODY),
    row("GET", "/console/usage", "/console/usage", NOBODY),
    row("GET", "/console/usage.csv", "/console/usage.csv", NOBODY),
    row("GET", "/console/communes/{insee}/portal", "/console/communes/35999/portal", NOBODY),
    form(
        "POST",
        "/console/communes/{insee}/portal",
        "/console/communes/35999/portal",
        &[("presentation", "x")],
        NOBODY,
    ),
    form("POST", "/console/communes/{insee}/news", "/console/communes/35999/news", &[("title", "x")], NOBODY),
    form(
        "POST",
        "/console/communes/{insee}/news/{id}/withdraw",
        "/console/communes/35999/news/n1/withdraw",
        &[],
        NOBODY,
    ),
    row("GET", "/console/communes/{insee}/menus", "/console/communes/35999/menus", NOBODY),
    form(
        "POST",
        "/console/communes/{insee}/menus/{day}",
        "/console/communes/35999/menus/2026-12-07",
        &[("name-0", "x")],
        NOBODY,
    ),
];

/// The JSON API (its OpenAPI document), the same way.
const API: &[Row] = &[
    row("GET", "/api/v1/auth/csrf", "/api/v1/auth/csrf", ALL),
    json_row(
        "POST",
        "/api/v1/auth/login",
        "/api/v1/auth/login",
        r#"{"login": "julien.roche", "password": "preau-demo"}"#,
        ALL,
    ),
    json_row(
        "POST",
        "/api/v1/auth/pictures",
        "/api/v1/auth/pictures",
        r#"{"class_id": "{ce}", "pupil_id": "{ce_pupil}", "pictures": ["cat", "cat", "cat"]}"#,
        NOBODY,
    ),
    json_row("POST", "/api/v1/auth/qr", "/api/v1/auth/qr", r#"{"secret": "{qr}"}"#, ALL),
    json_row("POST", "/api/v1/setup", "/api/v1/setup", "{}", NOBODY),
    row("GET", "/api/v1/school", "/api/v1/school", ALL),
    row("GET", "/api/v1/me", "/api/v1/me", SIGNED_IN),
    row("GET", "/api/v1/team", "/api/v1/team", STAFF),
    row("GET", "/api/v1/accounts", "/api/v1/accounts", DIRECTOR),
    row("GET", "/api/v1/accounts/audit", "/api/v1/accounts/audit", DIRECTOR),
    row("GET", "/api/v1/accounts/{id}/letter", "/api/v1/accounts/{ce_pupil}/letter", CLASS_STAFF),
    row("GET", "/api/v1/classes/{id}/login", "/api/v1/classes/{ce}/login", NOBODY),
    row("GET", "/api/v1/classes/{id}/roster", "/api/v1/classes/{ce}/roster", CLASS_STAFF),
    row("GET", "/api/v1/classes/{id}/letters/{who}", "/api/v1/classes/{ce}/letters/pupils", CLASS_STAFF),
    row("GET", "/api/v1/groups", "/api/v1/groups", DIRECTOR),
    row(
        "GET",
        "/api/v1/classes/{id}/homework",
        "/api/v1/classes/{ce}/homework?from=2026-11-30&to=2026-12-06",
        CLASS_STAFF,
    ),
    row("GET", "/api/v1/classes/{id}/homework/{entry}/done", "/api/v1/classes/{ce}/homework/{entry}/done", CLASS_STAFF),
    row("GET", "/api/v1/pupils/{id}/homework", "/api/v1/pupils/{ce_pupil}/homework", ".DT..P.E."),
    row("GET", "/api/v1/classes/{id}/liaison", "/api/v1/classes/{ce}/liaison", CLASS_STAFF),
    row("GET", "/api/v1/classes/{id}/liaison/{note}", "/api/v1/classes/{ce}/liaison/{note}", CLASS_STAFF),
    row("GET", "/api/v1/liaison", "/api/v1/liaison", SIGNED_IN),
    row("GET", "/api/v1/contacts", "/api/v1/contacts", SIGNED_IN),
    row("GET", "/api/v1/conversations", "/api/v1/conversations", SIGNED_IN),
    row("GET", "/api/v1/conversations/{id}", "/api/v1/conversations/{conversation}", ".DT....E."),
    row("GET", "/api/v1/news", "/api/v1/news", SIGNED_IN),
    row("GET", "/api/v1/news/{id}", "/api/v1/news/{news}", ".DT..P.E."),
    row("GET", "/api/v1/agenda", "/api/v1/agenda?from=2026-11-30&to=2026-12-06", SIGNED_IN),
    // Writes.
    json_row("POST", "/api/v1/accounts/{id}/qr", "/api/v1/accounts/{ce_pupil}/qr", "{}", CLASS_STAFF),
    json_row("POST", "/api/v1/me/device-code", "/api/v1/me/device-code", "{}", ".DTt....."),
    json_row("DELETE", "/api/v1/accounts/{id}/qr", "/api/v1/accounts/{ce_pupil}/qr", "{}", CLASS_STAFF),
    json_row("POST", "/api/v1/accounts/{id}/unlock", "/api/v1/accounts/{ce_pupil}/unlock", "{}", CLASS_STAFF),
    json_row("POST", "/api/v1/accounts/{id}/reset", "/api/v1/accounts/{ce_pupil}/reset", "{}", CLASS_STAFF),
    json_row(
        "POST",
        "/api/v1/people",
        "/api/v1/people",
        r#"{"profile": "teacher", "first_name": "Inès", "last_name": "Morel"}"#,
        DIRECTOR,
    ),
    json_row("POST", "/api/v1/classes", "/api/v1/classes", r#"{"name": "CM1 B", "levels": ["CM1"]}"#, DIRECTOR),
    json_row(
        "PUT",
        "/api/v1/classes/{id}/teachers",
        "/api/v1/classes/{ce}/teachers",
        r#"{"ids": ["{ce_teacher}"]}"#,
        DIRECTOR,
    ),
    json_row("POST", "/api/v1/groups", "/api/v1/groups", r#"{"name": "Chorale"}"#, DIRECTOR),
    json_row(
        "PUT",
        "/api/v1/groups/{id}/members",
        "/api/v1/groups/{group}/members",
        r#"{"ids": ["{ce_pupil}"]}"#,
        DIRECTOR,
    ),
    json_row("POST", "/api/v1/imports/onde", "/api/v1/imports/onde", "{}", DIRECTOR),
    json_row("POST", "/api/v1/imports/onde/{token}/apply", "/api/v1/imports/onde/{import}/apply", "{}", DIRECTOR),
    json_row(
        "POST",
        "/api/v1/classes/{id}/homework",
        "/api/v1/classes/{ce}/homework",
        r#"{"subject": "Maths", "assigned_on": "2026-12-01", "lesson": "Tables"}"#,
        CLASS_STAFF,
    ),
    json_row(
        "PUT",
        "/api/v1/classes/{id}/homework/{entry}",
        "/api/v1/classes/{ce}/homework/{entry}",
        r#"{"subject": "Maths", "assigned_on": "2026-12-01", "lesson": "Tables de 3"}"#,
        CLASS_STAFF,
    ),
    json_row(
        "POST",
        "/api/v1/classes/{id}/homework/{entry}/files",
        "/api/v1/classes/{ce}/homework/{entry}/files",
        "{}",
        CLASS_STAFF,
    ),
    json_row(
        "PUT",
        "/api/v1/pupils/{id}/homework/{entry}/done",
        "/api/v1/pupils/{ce_pupil}/homework/{entry}/done",
        r#"{"done": true}"#,
        ".....P.E.",
    ),
    json_row(
        "POST",
        "/api/v1/classes/{id}/liaison",
        "/api/v1/classes/{ce}/liaison",
        r#"{"title": "Piscine", "body": "Lundi."}"#,
        CLASS_STAFF,
    ),
    json_row(
        "PUT",
        "/api/v1/classes/{id}/liaison/{note}",
        "/api/v1/classes/{ce}/liaison/{note}",
        r#"{"title": "Piscine", "body": "Mardi."}"#,
        CLASS_STAFF,
    ),
    json_row(
        "POST",
        "/api/v1/classes/{id}/liaison/{note}/remind",
        "/api/v1/classes/{ce}/liaison/{note}/remind",
        "{}",
        CLASS_STAFF,
    ),
    json_row(
        "POST",
        "/api/v1/liaison/{note}/sign",
        "/api/v1/liaison/{note}/sign",
        r#"{"child": "{ce_pupil}"}"#,
        ".....P...",
    ),
    json_row(
        "POST",
        "/api/v1/conversations",
        "/api/v1/conversations",
        r#"{"subject": "Bonjour", "to": ["{ce_teacher}"], "body": "Un mot."}"#,
        ".D.tS..E.",
    ),
    json_row(
        "POST",
        "/api/v1/conversations",
        "/api/v1/conversations",
        r#"{"subject": "Absence", "to": ["{ce_teacher}"], "about": "{ce_pupil}", "body": "Un mot."}"#,
        ".DT..P...",
    ),
    json_row(
        "POST",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{conversation}/messages",
        r#"{"body": "Merci."}"#,
        "..T....E.",
    ),
    json_row(
        "POST",
        "/api/v1/conversations/{id}/messages/with-files",
        "/api/v1/conversations/{conversation}/messages/with-files",
        "{}",
        "..T....E.",
    ),
    json_row(
        "POST",
        "/api/v1/conversations/{id}/messages/{message}/moderation",
        "/api/v1/conversations/{conversation}/messages/{held}/moderation",
        r#"{"approved": true}"#,
        CLASS_STAFF,
    ),
    json_row(
        "PUT",
        "/api/v1/classes/{id}/messaging",
        "/api/v1/classes/{ce}/messaging",
        r#"{"moderated": true, "classmates": false}"#,
        CLASS_STAFF,
    ),
    json_row(
        "POST",
        "/api/v1/news",
        "/api/v1/news",
        r#"{"place": "class:{ce}", "title": "Sortie", "body": "Au musée."}"#,
        CLASS_STAFF,
    ),
    json_row(
        "PUT",
        "/api/v1/news/{id}",
        "/api/v1/news/{news}",
        r#"{"title": "Sortie", "body": "Au musée, jeudi."}"#,
        CLASS_STAFF,
    ),
    json_row(
        "POST",
        "/api/v1/agenda",
        "/api/v1/agenda",
        r#"{"place": "personal", "title": "Réunion", "starts_on": "2026-12-10"}"#,
        SIGNED_IN,
    ),
    json_row(
        "PUT",
        "/api/v1/agenda/{id}",
        "/api/v1/agenda/{event}",
        r#"{"title": "Piscine", "starts_on": "2026-12-11"}"#,
        CLASS_STAFF,
    ),
    json_row("POST", "/api/v1/agenda/feed", "/api/v1/agenda/feed", "{}", SIGNED_IN),
    json_row(
        "PUT",
        "/api/v1/me/password",
        "/api/v1/me/password",
        r#"{"current": "x", "new": "x", "confirm": "x"}"#,
        SIGNED_IN,
    ),
    // What removes or ends things, last.
    json_row(
        "DELETE",
        "/api/v1/classes/{id}/homework/{entry}/files/{hash}",
        "/api/v1/classes/{ce}/homework/{entry}/files/{hash}",
        "{}",
        CLASS_STAFF,
    ),
    json_row("DELETE", "/api/v1/classes/{id}/liaison/{note}", "/api/v1/classes/{ce}/liaison/{note}", "{}", CLASS_STAFF),
    json_row(
        "DELETE",
        "/api/v1/classes/{id}/homework/{entry}",
        "/api/v1/classes/{ce}/homework/{entry}",
        "{}",
        CLASS_STAFF,
    ),
    json_row("DELETE", "/api/v1/news/{id}", "/api/v1/news/{news}", "{}", CLASS_STAFF),
    json_row("DELETE", "/api/v1/agenda/{id}", "/api/v1/agenda/{event}", "{}", CLASS_STAFF),
    json_row("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", "{}", SIGNED_IN),
];

/// The school the rows act on: real ids and a few things made by the CE1-CE2 teacher.
struct Fixture {
    ids: BTreeMap<&'static str, String>,
    members: BTreeMap<&'static str, Member>,
}

impl Fixture {
    async fn new(server: &TestServer) -> Self {
        let dir = server.directory();
        let class = |name: &str| dir.current_classes().into_iter().find(|c| c.class.name == name).unwrap().clone();
        let (ce, cp) = (class("CE1-CE2"), class("CP"));
        let all_in = |m: &Member, class: &str| {
            let children = dir.children_of(&m.id);
            !children.is_empty() && children.iter().all(|c| c.person.class_id == class)
        };
        let parent = dir
            .people
            .values()
            .find(|m| m.profile == Profile::Parent && all_in(m, ce.id.as_str()) && legal_of_some(&dir, m))
            .expect("a parent of CE1-CE2 only")
            .clone();
        let child =
            dir.children_of(&parent.id).into_iter().find(|c| dir.is_legal_guardian(&parent.id, &c.id)).unwrap().clone();
        let other_parent =
            dir.people.values().find(|m| m.profile == Profile::Parent && all_in(m, cp.id.as_str())).unwrap().clone();
        let other_pupil = dir.pupils_of(&cp.id)[0].clone();
        let members = BTreeMap::from([
            ("director", server.member("claire.martin")),
            ("teacher", server.member("sophie.lebihan")),
            ("other_teacher", server.member("julien.roche")),
            ("atsem", server.member("martine.guillemot")),
            ("parent", parent),
            ("other_parent", other_parent),
            ("pupil", child.clone()),
            ("other_pupil", other_pupil),
        ]);
        let teacher = &members["teacher"];
        let t = session(server, teacher);
        let api = |method: &'static str, path: String, body: Value| {
            let t = t.clone();
            async move {
                let (status, answer) = common::api(server, method, &path, Some(&t), Some(body)).await;
                assert!(status.is_success(), "{method} {path}: {status} {answer}");
                answer
            }
        };
        let created = |answer: Value| answer["id"].as_str().expect("the new thing's id").to_owned();
        let entry = created(api(
            "POST",
            format!("/api/v1/classes/{}/homework", ce.id),
            json!({"subject": "Français", "assigned_on": "2026-12-01", "title": "Lire la page 3", "due_on": "2026-12-02"}),
        )
        .await);
        let form = reqwest::multipart::Form::new()
            .part("files", reqwest::multipart::Part::bytes(b"%PDF-1.4 fiche".to_vec()).file_name("fiche.pdf"));
        let url = format!("{}/api/v1/classes/{}/homework/{entry}/files", server.base, ce.id);
        let status = reqwest::Client::new().post(&url).bearer_auth(&t).multipart(form).send().await.unwrap().status();
        assert!(status.is_success(), "attach: {status}");
        let hash = {
            let (_, entries) = common::api(
                server,
                "GET",
                &format!("/api/v1/classes/{}/homework?from=2026-11-30&to=2026-12-06", ce.id),
                Some(&t),
                None,
            )
            .await;
            let text = entries.to_string();
            let at = text.find("\"hash\":\"").expect("the file's hash") + 8;
            text[at..at + 64].to_owned()
        };
        let note = created(
            api(
                "POST",
                format!("/api/v1/classes/{}/liaison", ce.id),
                json!({"title": "Sortie", "body": "Signez.", "ask": "signature"}),
            )
            .await,
        );
        let news = created(
            api(
                "POST",
                "/api/v1/news".into(),
                json!({"place": format!("class:{}", ce.id), "title": "Jardin", "body": "Les semis."}),
            )
            .await,
        );
        let event = created(
            api(
                "POST",
                "/api/v1/agenda".into(),
                json!({"place": format!("class:{}", ce.id), "title": "Piscine", "starts_on": "2026-12-08"}),
            )
            .await,
        );
        let feed = api("POST", "/api/v1/agenda/feed".into(), json!({})).await["url"].as_str().unwrap().to_owned();
        let feed = feed.split_once("/calendar/").unwrap().1.to_owned();
        // The pupil writes to the teacher; the class is moderated, so the message is held.
        let p = session(server, &members["pupil"]);
        let (status, conversation) = common::api(
            server,
            "POST",
            "/api/v1/conversations",
            Some(&p),
            Some(json!({"subject": "Question", "to": [teacher.id.to_string()], "body": "Je n'ai pas compris."})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{conversation}");
        let conversation = conversation["id"].as_str().unwrap().to_owned();
        let (_, view) =
            common::api(server, "GET", &format!("/api/v1/conversations/{conversation}"), Some(&t), None).await;
        let held = view["messages"][0]["id"].as_str().expect("a held message").to_owned();
        let d = session(server, &members["director"]);
        let (_, group) =
            common::api(server, "POST", "/api/v1/groups", Some(&d), Some(json!({"name": "Atelier"}))).await;
        let csv = "Nom;Prénom;Date de naissance;Sexe\nNOUVEL;Jade;01/02/2019;F\n";
        let preview = reqwest::multipart::Form::new()
            .text("year", "2026-2027")
            .part("files", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("liste.csv"));
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/api/v1/imports/onde", server.base))
            .bearer_auth(&d)
            .multipart(preview)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let import = answer["token"].as_str().unwrap_or("0000").to_owned();
        // A teacher's device enrolled with the appliance, and a quarantined bundle.
        let code = enrollment::create_code(
            &server.state.part::<Replication>().links,
            "Portable",
            &Subject::Device(teacher.id.clone()),
        )
        .unwrap();
        let laptop_dir = tempfile::tempdir().unwrap();
        let laptop = common::laptop(laptop_dir.path(), server.directory());
        enrollment::enroll_with(&laptop.links, &laptop.identity, &server.base, None, &code).await.unwrap();
        let file = server.dir.path().join("quarantined.bin");
        std::fs::write(&file, b"bundle").unwrap();
        server
            .state
            .part::<Replication>()
            .links
            .quarantine(&Quarantined {
                id: 0,
                peer: laptop.identity.id().to_string(),
                at: 0,
                reason: "test".into(),
                file: file.display().to_string(),
            })
            .unwrap();
        let quarantined = server.state.part::<Replication>().links.quarantined(1).unwrap()[0].id.to_string();
        let dir = server.directory();
        let ids = BTreeMap::from([
            ("ce", ce.id.to_string()),
            ("cp", cp.id.to_string()),
            ("ce_pupil", child.id.to_string()),
            ("ce_teacher", teacher.id.to_string()),
            ("teacher", server.member("nadia.benhamou").id.to_string()),
            ("qr", dir.credentials[&child.id].qr_secret.clone()),
            ("entry", entry),
            ("hash", hash),
            ("note", note),
            ("news", news),
            ("event", event),
            ("feed", feed),
            ("conversation", conversation),
            ("held", held),
            ("group", group["id"].as_str().unwrap_or_default().to_owned()),
            ("import", import),
            ("sid", "00".repeat(16)),
            ("replica", laptop.identity.id().to_string()),
            ("quarantined", quarantined),
            ("uai", dir.uai().unwrap().to_string()),
            ("parent", members["parent"].id.to_string()),
            ("school_replica", server.state.db.run_blocking(|s| Ok(s.identity().id())).unwrap().to_string()),
        ]);
        Self { ids, members }
    }

    fn fill(&self, text: &str) -> String {
        self.ids.iter().fold(text.to_owned(), |t, (k, v)| t.replace(&format!("{{{k}}}"), v))
    }

    fn member(&self, who: Who) -> Option<&Member> {
        let key = match who {
            Anonymous => return None,
            Director => "director",
            Teacher => "teacher",
            OtherTeacher => "other_teacher",
            Atsem => "atsem",
            Parent => "parent",
            OtherParent => "other_parent",
            Pupil => "pupil",
            OtherPupil => "other_pupil",
        };
        Some(&self.members[key])
    }
}

fn legal_of_some(dir: &Directory, m: &Member) -> bool {
    dir.children_of(&m.id).iter().any(|c| dir.is_legal_guardian(&m.id, &c.id))
}

/// A signed-in session for `member`, straight from the session table (no argon2 per row).
fn session(server: &TestServer, member: &Member) -> String {
    server.state.sessions.start(SignedIn::of(&server.state.directory(), member, false))
}

/// A session for `member` of the school `uai` on the hub.
fn hub_session(hub: &TestServer, uai: &str, member: &Member) -> String {
    let school = hub.state.within(&preau_sync::Uai::parse(uai).unwrap()).unwrap();
    hub.state.sessions.start(SignedIn::of(&school.directory(), member, false))
}

/// Where the rows are tried: on the demo school's own server, or on a hub that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum On {
    School,
    Hub,
}

/// What a profile got: past authorization, or refused.
fn got_through(status: StatusCode, location: Option<&str>) -> bool {
    let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
        || (status.is_redirection() && matches!(location, Some("/login" | "/console")));
    !refused
}

/// Tries every row as `who` on a fresh demo school, at school or on a hub that holds it;
/// returns the flags it got and the refused writes that changed something.
async fn run(who: Who, rows: &[Row], api: bool, on: On) -> (Vec<String>, Vec<String>) {
    let school = TestServer::demo().await;
    let fixture = Fixture::new(&school).await;
    let hub = match on {
        On::Hub => Some(common::hub_holding(&school).await),
        On::School => None,
    };
    let server = hub.as_ref().unwrap_or(&school);
    let uai = fixture.fill("{uai}");
    let (mut got, mut changed) = (Vec::new(), Vec::new());
    for row in rows {
        // A fresh session for each row (a QR-card login or a logout ends the one it came
        // with); an anonymous visitor has a session id and its CSRF token too, as a browser.
        let sid = match (fixture.member(who), on) {
            (None, _) => None,
            (Some(m), On::School) => Some(session(server, m)),
            (Some(m), On::Hub) => Some(hub_session(server, &uai, m)),
        };
        // A visitor of the hub comes by the school's address, as its letters print it.
        let at = match (on, &sid) {
            (On::Hub, None) => format!("/ecoles/{uai}"),
            _ => String::new(),
        };
        let before = (row.method != "GET").then(|| common::read_models(server));
        let (status, through) = try_row(server, &fixture, row, api, sid, &at).await;
        got.push(format!("{status}{}", if through { "" } else { " refused" }));
        if !through
            && let Some(before) = before
            && common::read_models(server) != before
        {
            changed.push(format!(
                "{} {} as {who:?} was refused ({status}) but changed a read model",
                row.method, row.route
            ));
        }
    }
    (got, changed)
}

/// Sends one row's request to `server`, under the address `at`, with the session `sid`
/// (`None`: an anonymous visitor, who has a session id and its CSRF token too, as a
/// browser); its status, and whether it got past authorization.
async fn try_row(
    server: &TestServer,
    fixture: &Fixture,
    row: &Row,
    api: bool,
    sid: Option<String>,
    at: &str,
) -> (StatusCode, bool) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!("{}{at}{}", server.base, fixture.fill(row.path));
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut request = client.request(method, &url);
    let anonymous = sid.is_none();
    let sid = sid.unwrap_or_else(|| "ab".repeat(32));
    let csrf = server.state.sessions.csrf_for(&sid);
    request = if api {
        if anonymous { request } else { request.bearer_auth(&sid) }
    } else {
        request.header("cookie", format!("preau_sid={sid}"))
    };
    request = match row.body {
        Body::None => request,
        Body::Form(fields) => {
            let mut pairs: Vec<(String, String)> =
                fields.iter().map(|(k, v)| ((*k).to_owned(), fixture.fill(v))).collect();
            pairs.push(("csrf".into(), csrf));
            request.form(&pairs)
        }
        Body::Json(text) => request.header("content-type", "application/json").body(fixture.fill(text)),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, got_through(status, location.as_deref()))
}

/// Runs every row as every profile, `on` the school or the hub: a profile must get past
/// authorization exactly where its row's flag says so and the server serves the route
/// (`serves`), and a refused write must change nothing. The failures.
async fn check_profiles(pages: &[Row], on: On, serves: impl Fn(&Row, bool) -> bool) -> Vec<String> {
    let record = std::env::var_os("PREAU_MATRIX_RECORD").is_some();
    let mut failures = Vec::new();
    let mut observed: BTreeMap<(bool, usize), String> = BTreeMap::new();
    for (i, who) in WHO.into_iter().enumerate() {
        for (api, rows) in [(false, pages), (true, API)] {
            let (got, changed) = run(who, rows, api, on).await;
            failures.extend(changed);
            for (n, (row, got)) in rows.iter().zip(got).enumerate() {
                let through = !got.ends_with("refused");
                observed
                    .entry((api, n))
                    .or_insert_with(|| ".".repeat(9))
                    .replace_range(i..=i, &if through { LETTERS[i].to_string() } else { ".".into() });
                let want = row.allowed.chars().nth(i) != Some('.') && serves(row, api);
                if through != want {
                    failures.push(format!(
                        "{} {} as {who:?} on the {on:?}: {got} (want {})",
                        row.method,
                        row.route,
                        if want { "through" } else { "refused" }
                    ));
                }
            }
        }
    }
    if record {
        for ((api, n), flags) in &observed {
            let row = if *api { &API[*n] } else { &pages[*n] };
            println!("{on:?} {flags} {} {}", row.method, row.route);
        }
    }
    failures
}

/// The operations of a server's OpenAPI document.
async fn operations(server: &TestServer) -> BTreeSet<(String, String)> {
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", server.base)).await.unwrap().json().await.unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
        .collect()
}

/// The pages and endpoints a server of `role` serves.
fn served(role: Role) -> BTreeSet<(String, String)> {
    preau_appliance::app::routes(role).served().iter().map(|(m, p)| (m.to_string(), p.clone())).collect()
}

/// Every route of the server has a row, and every row a route.
fn check_complete(rows: &[Row], served: &BTreeSet<(String, String)>, what: &str) -> Vec<String> {
    let listed: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_owned(), r.route.to_owned())).collect();
    let mut problems: Vec<String> =
        served.difference(&listed).map(|(m, r)| format!("{what}: {m} {r} is served but has no row")).collect();
    problems.extend(listed.difference(served).map(|(m, r)| format!("{what}: the row {m} {r} names no route")));
    problems
}

#[tokio::test]
async fn every_route_has_an_expectation_for_every_profile_and_each_holds() {
    // 1. Complete: every route of the router and of the OpenAPI document has a row.
    let server = TestServer::demo().await;
    let mut problems = check_complete(PAGES, &served(Role::School), "page");
    problems.extend(check_complete(API, &operations(&server).await, "api"));
    for row in PAGES.iter().chain(HUB_PAGES).chain(API) {
        if row.allowed.len() != 9 || row.allowed.chars().zip(LETTERS).any(|(c, l)| c != '.' && c != l) {
            problems.push(format!(
                "{} {}: flags {:?} are not in the order {LETTERS:?}",
                row.method, row.route, row.allowed
            ));
        }
    }
    assert!(problems.is_empty(), "the matrix is incomplete:\n{}", problems.join("\n"));

    // 2. Each profile, on its own demo school, gets exactly what its rows say.
    let failures = check_profiles(PAGES, On::School, |_, _| true).await;
    assert!(failures.is_empty(), "{} authorization failures:\n{}", failures.len(), failures.join("\n"));
}

/// The same matrix on a hub that holds the demo school, its profiles signed in there: the
/// rows of what the hub serves hold as at school, and the rest is refused; the hub's own
/// rows hold too. Then a director of another school on the same hub reaches nothing that a
/// row names by the demo school's ids.
#[tokio::test]
async fn on_the_hub_each_profile_gets_what_it_gets_at_school_and_nobody_reaches_another_school() {
    // 1. Complete: every route of the hub has a row, at school's or its own.
    let hub_served = served(Role::Hub);
    let pages: Vec<Row> = PAGES.iter().chain(HUB_PAGES).copied().collect();
    let mut problems: Vec<String> = hub_served
        .iter()
        .filter(|(m, r)| !pages.iter().any(|row| row.method == m && row.route == r))
        .map(|(m, r)| format!("page: {m} {r} is served by the hub but has no row"))
        .collect();
    problems.extend(
        HUB_PAGES
            .iter()
            .filter(|row| !hub_served.contains(&(row.method.to_owned(), row.route.to_owned())))
            .map(|row| format!("hub page: the row {} {} names no route of the hub", row.method, row.route)),
    );
    let hub = TestServer::hub().await;
    let hub_operations = operations(&hub).await;
    problems.extend(
        hub_operations
            .iter()
            .filter(|(m, r)| !API.iter().any(|row| row.method == m && row.route == r))
            .map(|(m, r)| format!("api: {m} {r} is served by the hub but has no row")),
    );
    assert!(problems.is_empty(), "the hub's matrix is incomplete:\n{}", problems.join("\n"));

    // 2. Each profile of the demo school, signed in on the hub.
    let serves = |row: &Row, api: bool| {
        let key = (row.method.to_owned(), row.route.to_owned());
        if api { hub_operations.contains(&key) } else { hub_served.contains(&key) }
    };
    let failures = check_profiles(&pages, On::Hub, serves).await;
    assert!(failures.is_empty(), "{} authorization failures on the hub:\n{}", failures.len(), failures.join("\n"));

    // 3. Another school's director, on the same hub.
    let school = TestServer::demo().await;
    let fixture = Fixture::new(&school).await;
    let hub = common::hub_holding(&school).await;
    let (lilas, _) = common::set_up_school().await;
    enrollment::enrol(&lilas.state, &hub.base, &hub.school_code("0351234A")).await.unwrap();
    assert!(preau_appliance::replication::schedule::run_now(&lilas.state).await.ok);
    let director = lilas.member("anne.riou");
    // She is also a parent at the demo school (not the one the rows name), and linked her
    // two accounts on the hub ("a linked parent"): the link opens her family's page and her
    // own children's, and nothing else by any id.
    let parent = fixture.member(OtherParent).unwrap().clone();
    let mark = |school: &TestServer, m: &Member| school.directory().credential_mark(&m.id).0.to_vec();
    let account =
        |uai: &str, m: &Member| Account { school: preau_sync::Uai::parse(uai).unwrap(), user: m.id.to_string() };
    let links = &hub.state.part::<Replication>().links;
    links
        .link(
            (&account("0351234A", &director), &mark(&lilas, &director)),
            (&account(DEMO_UAI, &parent), &mark(&school, &parent)),
        )
        .unwrap()
        .unwrap();
    // A row names the demo school's things by `{placeholders}` in its path or body.
    let names_ids = |row: &Row| {
        let body = match row.body {
            Body::None => String::new(),
            Body::Form(fields) => fields.iter().map(|(_, v)| *v).collect(),
            Body::Json(text) => text.to_owned(),
        };
        let text = format!("{} {body}", row.path);
        let placeholder = text.split('{').skip(1).any(|after| {
            after
                .split_once('}')
                .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        });
        row.allowed != ALL && placeholder
    };
    let mut reached = Vec::new();
    let mut tried = 0;
    for (api, rows) in [(false, &pages[..]), (true, API)] {
        for row in rows.iter().filter(|r| names_ids(r)) {
            let before = common::read_models(&hub);
            let sid = hub_session(&hub, "0351234A", &director);
            let (status, through) = try_row(&hub, &fixture, row, api, Some(sid), "").await;
            tried += 1;
            // Refused, or its input refused (400: the other school's id is no input here),
            // and nothing changed.
            if (through && status != StatusCode::BAD_REQUEST) || common::read_models(&hub) != before {
                reached.push(format!("{} {}: {status}", row.method, row.route));
            }
        }
    }
    assert!(tried > 100, "{tried} rows name the demo school's things");
    assert!(reached.is_empty(), "another school's director, linked to a parent here, reached:\n{}", reached.join("\n"));
}

#[tokio::test]
async fn a_pupil_never_sees_another_class_and_a_parent_only_their_children() {
    let server = TestServer::demo().await;
    let fixture = Fixture::new(&server).await;
    // The pupil's own view of the school: /api/v1/me lists only their class.
    let pupil = fixture.member(OtherPupil).unwrap();
    let token = session(&server, pupil);
    let (_, me) = common::api(&server, "GET", "/api/v1/me", Some(&token), None).await;
    let classes = me["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0]["name"], "CP");
    assert!(me["children"].as_array().unwrap().is_empty());
    // A parent's: exactly their children.
    let dir = server.directory();
    let parent = dir.by_login("aurelie.kerherve").unwrap().clone();
    let token = common::token(&server, "aurelie.kerherve", preau_appliance::school::demo::DEMO_PASSWORD).await;
    let (_, me) = common::api(&server, "GET", "/api/v1/me", Some(&token), None).await;
    let mut expected: Vec<String> = dir.children_of(&parent.id).iter().map(|c| c.id.to_string()).collect();
    let mut got: Vec<String> =
        me["children"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    // The parent's page for a stranger's child is a 404, whatever the id looks like.
    let stranger = dir
        .people
        .values()
        .find(|m| m.profile == Profile::Pupil && !dir.children_of(&parent.id).iter().any(|c| c.id == m.id))
        .unwrap()
        .id
        .to_string();
    let mut b = server.browser();
    b.login("aurelie.kerherve", preau_appliance::school::demo::DEMO_PASSWORD).await;
    for bad in [stranger, "not-an-id".into(), "0000000000000000".into(), "../admin".into()] {
        let page = b.get(&format!("/child/{bad}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

/// Garbage to every operation of the API, as the director: bodies that are no JSON, the
/// wrong JSON, the wrong type; every path parameter filled with real ids and with garbage.
/// Never a server error, always the JSON error body; the director still logs in after.
#[tokio::test]
async fn garbage_never_gets_a_server_error() {
    let server = TestServer::demo().await;
    let fixture = Fixture::new(&server).await;
    let token = session(&server, fixture.member(Director).unwrap());
    let client = reqwest::Client::new();
    let ids = ["x", "0000000000000000", "%2e%2e%2fadmin", &"f".repeat(300), "' OR 1=1 --", "<script>", "%ff%fe"];
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, Vec::new()),
        (Some("application/json"), b"{".to_vec()),
        (Some("application/json"), b"[]".to_vec()),
        (
            Some("application/json"),
            br#"{"login": 1, "password": null, "pictures": "cat", "ids": 3, "done": "oui"}"#.to_vec(),
        ),
        (Some("application/json"), vec![0xff, 0xfe, 0x00]),
        (Some("text/plain"), b"hello".to_vec()),
        (Some("multipart/form-data; boundary=zzz"), b"--zzz\r\nbroken".to_vec()),
    ];
    let mut seen = 0;
    for row in API.iter().filter(|r| !r.route.contains("logout")) {
        // The row's own path with real ids, then the route with garbage in every parameter.
        let mut paths = vec![fixture.fill(row.path)];
        for id in ids {
            let mut path = String::new();
            for (i, part) in row.route.split(['{', '}']).enumerate() {
                path.push_str(if i % 2 == 1 { id } else { part });
            }
            paths.push(path);
        }
        for path in &paths {
            for (content_type, body) in &bodies {
                let url = format!("{}{path}", server.base);
                let mut request =
                    client.request(row.method.parse().unwrap(), &url).bearer_auth(&token).body(body.clone());
                if let Some(ct) = content_type {
                    request = request.header("content-type", *ct);
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                assert!(status.as_u16() < 500, "{} {url} {content_type:?}: {status}", row.method);
                if !status.is_success() {
                    let text = response.text().await.unwrap();
                    let v: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("{} {url}: not JSON: {text}", row.method));
                    assert!(v["message"].is_string(), "{} {url}: {text}", row.method);
                }
                seen += 1;
            }
        }
    }
    assert!(seen > 3000, "{seen} requests");
    let (status, _) = common::api(
        &server,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"login": "claire.martin", "password": preau_appliance::school::demo::DEMO_PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "nothing was broken");
}
