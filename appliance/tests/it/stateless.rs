//! A hub past one machine: two `preau serve --role hub` processes on one PostgreSQL
//! database, behind a real load balancer (Debian's HAProxy) on loopback, which sends each
//! request to either. One is killed with SIGKILL in the middle of a school's sync and of a
//! parent's session: the sync completes through the other, the parent stays signed in and
//! goes on, and nothing is lost or applied twice.
//!
//! Needs a PostgreSQL server (`PREAU_TEST_POSTGRES`) and `haproxy`; without them the test
//! says so and passes, unless `PREAU_REQUIRE_HUB_CLUSTER=1` (as in `scripts/test`, which
//! installs and starts both) makes that a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{Browser, TestServer};
use crate::hub::ce_parent;
use preau_appliance::replication::schedule;
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};

/// Whether the machine gives what the test needs; if not, says why (and fails when
/// required).
fn available() -> Option<(String, PathBuf)> {
    let missing = match (std::env::var("PREAU_TEST_POSTGRES"), which("haproxy")) {
        (Ok(server), Some(haproxy)) => return Some((server, haproxy)),
        (Err(_), _) => "no PostgreSQL server (PREAU_TEST_POSTGRES)",
        (_, None) => "no haproxy",
    };
    assert!(std::env::var("PREAU_REQUIRE_HUB_CLUSTER").as_deref() != Ok("1"), "PREAU_REQUIRE_HUB_CLUSTER=1: {missing}");
    eprintln!("SKIPPED: two hub processes behind a load balancer need {missing}");
    None
}

fn which(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `preau` over the shared data directory (its files and partial transfers) and the
/// shared database.
fn preau(data: &Path, database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_preau"));
    command
        .args(["--data-dir", data.to_str().unwrap()])
        .env("PREAU_DATABASE_URL", database)
        .env("PREAU_DISCOVERY", "false")
        .env("PREAU_MAX_UPLOAD_BYTES", "33554432");
    command
}

fn hub_process(data: &Path, database: &str, port: u16) -> Running {
    Running(
        preau(data, database)
            .args(["serve", "--role", "hub"])
            .env("PREAU_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn answers(base: &str) -> bool {
    reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success())
}

/// The file a hub process appends an upload to, once it has some of it but not all.
fn partial_upload(transfers: &Path) -> bool {
    std::fs::read_dir(transfers)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("file-") && e.metadata().is_ok_and(|m| m.len() > 0))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hub_processes_behind_a_load_balancer_lose_nothing_when_one_is_killed() {
    let Some((server, haproxy)) = available() else { return };
    preau_appliance::replication::client::install_tls();
    let name = format!("cluster{}_{}", std::process::id(), hex::encode(preau_appliance::platform::random_bytes::<4>()));
    let database = preau_sync::create_postgres_database(&server, &name).unwrap();
    let data = tempfile::tempdir().unwrap();

    // Two hub processes, started together on an empty database: one migrates it, both run.
    let (a_port, b_port, lb_port) = (free_port(), free_port(), free_port());
    let mut a = hub_process(data.path(), &database, a_port);
    let _b = hub_process(data.path(), &database, b_port);
    let (a_base, b_base) = (format!("http://127.0.0.1:{a_port}"), format!("http://127.0.0.1:{b_port}"));
    until("both hub processes", async || answers(&a_base).await && answers(&b_base).await).await;

    // HAProxy in front, each request to either process in turn; a dead one is out of the
    // rotation within a health check, and a request it could not take goes to the other.
    let config = data.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  \
             retries 3\n  option redispatch\n\
             frontend hub\n  bind 127.0.0.1:{lb_port}\n  default_backend hubs\n\
             backend hubs\n  balance roundrobin\n  option httpchk GET /healthz\n  \
             server a 127.0.0.1:{a_port} check inter 200ms fall 1 rise 2\n  \
             server b 127.0.0.1:{b_port} check inter 200ms fall 1 rise 2\n"
        ),
    )
    .unwrap();
    let _lb = Running(
        Command::new(haproxy).args(["-db", "-f", config.to_str().unwrap()]).stdout(Stdio::null()).spawn().unwrap(),
    );
    let hub = format!("http://127.0.0.1:{lb_port}");
    until("the load balancer", async || answers(&hub).await).await;

    // The demo school enrols through the load balancer with a code the académie made on
    // the command line, and syncs.
    let school = TestServer::start(true, |c| c.max_upload_bytes = 32 << 20).await;
    let code = preau(data.path(), &database).args(["hub", "code", "--uai", DEMO_UAI]).output().unwrap();
    assert!(code.status.success(), "{}", String::from_utf8_lossy(&code.stderr));
    let code = String::from_utf8(code.stdout).unwrap().trim().to_owned();
    preau_appliance::replication::enrollment::enrol(&school.state, &hub, &code).await.unwrap();
    let (parent, child) = ce_parent(&school);
    let ce = school.directory().class_of(&child).unwrap().id.to_string();
    let (mut teacher, note_page) = crate::hub::teacher_asks_a_signature(&school, &ce).await;
    let note = note_page.rsplit('/').next().unwrap().to_owned();
    assert!(schedule::run_now(&school.state).await.ok);

    // A parent signs in at home and finds the note to sign: her requests went to both
    // processes in turn, as one session.
    let credential = school.directory().credentials[&parent.id].clone();
    let mut home = Browser::new(&hub);
    home.get(&format!("/ecoles/{DEMO_UAI}")).await.assert_redirect("/");
    home.login(&credential.login, &credential.activation_code).await;
    home.post("/password", &[("new", "maison-2026"), ("confirm", "maison-2026")]).await.assert_redirect("/");
    for _ in 0..4 {
        assert!(home.get("/").await.contains("Carnet de liaison (1 à signer)"), "signed in on either process");
    }

    // At school, a day's work and an 8 MiB video (32 pieces) to send.
    let token = crate::common::token(&school, "sophie.lebihan", DEMO_PASSWORD).await;
    let http = reqwest::Client::new();
    let mut entry = String::new();
    for n in 0..20 {
        let created: serde_json::Value = http
            .post(format!("{}/api/v1/classes/{ce}/homework", school.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "assigned_on": preau_appliance::platform::clock::today(),
                "due_on": preau_appliance::platform::clock::today(),
                "subject": "Maths",
                "title": format!("Exercice {n}"),
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        entry = created["id"].as_str().unwrap().to_owned();
    }
    let video: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(video.clone()).file_name("sortie.mp4").mime_str("video/mp4").unwrap(),
    );
    let attached = http
        .post(format!("{}/api/v1/classes/{ce}/homework/{entry}/files", school.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(attached.status().is_success(), "{}", attached.text().await.unwrap());

    // The school syncs; once the hub holds part of the video, one process is killed.
    let sync = tokio::spawn({
        let state = school.state.clone();
        async move { schedule::run_now(&state).await }
    });
    let transfers = data.path().join("transfers");
    until("an upload under way", async || partial_upload(&transfers)).await;
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    assert!(!sync.is_finished(), "killed in the middle of the sync");

    // The same sync completes through the other process, the video whole.
    let run = sync.await.unwrap();
    assert!(run.ok && run.files_up == 1 && run.docs_up >= 1, "{run:?}");
    let hash = blake3::hash(&video).to_hex().to_string();
    let on_hub = std::fs::read(data.path().join("files").join(&hash[..2]).join(&hash)).unwrap();
    assert!(on_hub == video, "the video arrived whole");

    // The parent is still signed in, and her signature (a form, its CSRF token checked by
    // the process that did not give it) reaches the school at its next sync.
    assert!(home.get("/").await.contains("Carnet de liaison (1 à signer)"), "still signed in");
    home.post(&format!("/liaison/{note}/sign"), &[("child", child.id.as_str())]).await.assert_redirect("/liaison");
    let run = schedule::run_now(&school.state).await;
    assert!(run.ok, "{run:?}");
    assert!(teacher.get(&note_page).await.contains("1 signature(s) sur"));

    // Nothing applied twice, nothing missing: after one more sync (which carries the
    // day's usage counts up, and nothing else), the hub's replica holds every document of
    // the school at the school's heads, each change once.
    let run = schedule::run_now(&school.state).await;
    assert!(run.ok && run.docs_up <= 1 && run.docs_down == 0 && run.files_up == 0, "{run:?}");
    let prefix = format!("school/{DEMO_UAI}");
    let documents = |reader: &preau_sync::Reader| {
        let mut docs: Vec<_> = reader
            .catalog()
            .unwrap()
            .into_iter()
            .filter(|e| e.address.partition.to_string().starts_with(&prefix))
            .map(|e| (e.id, e.heads, e.change_count))
            .collect();
        docs.sort();
        docs
    };
    let at_school = school.state.db.read(|reader| Ok(documents(reader))).unwrap();
    assert!(at_school.len() >= 5, "{} documents", at_school.len());
    let hub_replica = preau_sync::Reader::open_postgres(&database).unwrap();
    assert_eq!(documents(&hub_replica), at_school, "the same documents, heads and changes on both sides");
    let class = preau_sync::Partition::parse(&format!("{prefix}/class/{ce}")).unwrap();
    let titles = hub_replica.homework(&class, "2000-01-01", "2999-12-31").unwrap();
    assert_eq!(titles.iter().filter(|h| h.title.starts_with("Exercice ")).count(), 20, "each entry once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_of_the_records_holds_across_processes_until_its_holder_lets_go() {
    use preau_appliance::platform::records::Records;
    let Some((server, _)) = available() else { return };
    let name = format!("lock{}_{}", std::process::id(), hex::encode(preau_appliance::platform::random_bytes::<4>()));
    let database = preau_sync::create_postgres_database(&server, &name).unwrap();
    // Two processes' records of one hub (each its own connections).
    let (one, two) = (Records::open_postgres(&database).unwrap(), Records::open_postgres(&database).unwrap());
    let held = one.lock("console").await.unwrap();
    let waiting = tokio::spawn(async move {
        let _got = two.lock("console").await.unwrap();
        std::time::Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the other process waits");
    let other = one.lock("notifications").await.unwrap();
    let released = std::time::Instant::now();
    drop(held);
    assert!(waiting.await.unwrap() >= released, "and gets it once it is let go");
    drop(other);
}

/// The académie's night of BENCHMARKS.md (`preau bench night`), small: four schools sync a
/// school day with a hub on SQLite, on PostgreSQL, and on PostgreSQL with two processes;
/// the bench itself checks that every school's documents are on the hub afterwards, at the
/// school's heads, and fails otherwise.
#[test]
fn an_academies_night_in_small_on_sqlite_and_on_postgresql_with_one_and_two_processes() {
    let Some((server, _)) = available() else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_preau"))
        .args(["bench", "night", "--schools", "4", "--concurrency", "2", "--postgres", &server])
        .env("PREAU_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for setup in ["SQLite, one hub process", "PostgreSQL, one hub process", "PostgreSQL, two hub processes"] {
        let row = text.lines().position(|l| l.starts_with(setup)).unwrap_or_else(|| panic!("{setup}: {text}"));
        let detail = text.lines().nth(row + 1).unwrap_or_default();
        assert!(detail.contains("36 documents"), "four schools, nine documents each: {detail}");
    }
}
