//! A real server on 127.0.0.1:0 and a cookie-keeping client that fills in CSRF tokens.

pub mod netlab;

use std::net::{IpAddr, SocketAddr};

use preau_appliance::platform::config::Config;
use preau_appliance::replication::policy::Sender;
use preau_appliance::school::directory::{Directory, Member};
use preau_appliance::web::AppState;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

/// A running server and its state (for looking up secrets the way a letter would show them).
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// A teacher's laptop: a plain replica in `dir`, checking what it receives against the
/// rules of `directory` (kept up to date by the directory documents it receives).
pub fn laptop(
    dir: &std::path::Path,
    directory: std::sync::Arc<Directory>,
) -> preau_appliance::replication::client::Replica {
    let db = preau_appliance::platform::db::Db::open(&dir.join("replica.db"), preau_sync::Scope::default()).unwrap();
    let identity = db.run_blocking(|s| Ok(s.identity().clone())).unwrap();
    preau_appliance::replication::client::Replica {
        db,
        links: preau_appliance::replication::Links::open(&dir.join("links.db")).unwrap(),
        files: preau_appliance::platform::files::FileStore::open(dir.join("files")).unwrap(),
        identity,
        policy: std::sync::Arc::new(preau_appliance::replication::policy::SchoolPolicy::new(
            directory,
            Sender::Upstream,
            std::sync::Arc::new(preau_appliance::app::rules()),
        )),
        data_dir: dir.to_owned(),
        server_ca: None,
    }
}

impl TestServer {
    /// An académie's hub with no school enrolled yet.
    pub async fn hub() -> Self {
        let database = postgres_database();
        Self::start(false, |c| {
            c.role = preau_appliance::platform::config::Role::Hub;
            c.database_url = database;
        })
        .await
    }

    /// A one-time code the hub's administrator made for the school `uai`.
    pub fn school_code(&self, uai: &str) -> String {
        use preau_appliance::replication::enrollment::{Subject, create_code};
        let uai = preau_sync::Uai::parse(uai).unwrap();
        let links = &self.state.part::<preau_appliance::replication::Replication>().links;
        create_code(links, "École", &Subject::School(uai)).unwrap()
    }

    /// The demo school.
    pub async fn demo() -> Self {
        Self::start(true, |_| {}).await
    }

    /// A server with no school yet.
    pub async fn fresh() -> Self {
        Self::start(false, |_| {}).await
    }

    pub async fn start(demo: bool, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), demo, tweak).await
    }

    /// Another replica of this server's school, synced with it, served on its own: the
    /// same school on a second machine (a teacher's laptop, the hub).
    pub async fn replica(&self) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let uai = self.directory().uai().unwrap().clone();
        {
            let mut store =
                preau_sync::Store::open(&dir.path().join("replica.db"), preau_appliance::school::scope(&uai)).unwrap();
            sync_with(self, &mut store).unwrap();
        }
        Self::start_in(dir, false, |_| {}).await
    }

    async fn start_in(dir: tempfile::TempDir, demo: bool, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::load(Some(dir.path().into()), |_| None).unwrap();
        config.discovery = false;
        tweak(&mut config);
        let state = preau_appliance::app::open(config, demo).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        state.set_bound(addr);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(preau_appliance::app::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self { base: format!("http://{addr}"), state, dir, stop: Some(stop), task: Some(task) }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub fn directory(&self) -> std::sync::Arc<Directory> {
        self.state.directory()
    }

    /// A browser that is one of `class`'s tablets (`server.rs` marks one through the
    /// class page, as a teacher does).
    pub fn tablet(&self, class: &str) -> Browser {
        Browser::with_cookie(&self.base, &format!("preau_tablet={}", self.tablet_token(class)))
    }

    /// The token of a new tablet of `class` (for API clients, sent as the tablet cookie).
    pub fn tablet_token(&self, class: &str) -> String {
        let class = preau_appliance::school::directory::ClassId::parse(class).unwrap();
        let dir = self.directory();
        let director = dir.people.values().find(|m| m.profile == preau_appliance::school::directory::Profile::Director);
        let by = director.map_or_else(preau_appliance::school::directory::UserId::random, |d| d.id.clone());
        preau_appliance::school::accounts::devices::mark_tablet(&self.state, None, &class, &by).unwrap()
    }

    /// The member with this login.
    pub fn member(&self, login: &str) -> Member {
        self.directory().by_login(login).unwrap_or_else(|| panic!("no account {login}")).clone()
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the server and waits for it; its data directory stays, for another process.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        self.dir
    }
}

/// When `PREAU_TEST_STORE=postgres`, a fresh database of the PostgreSQL server
/// `PREAU_TEST_POSTGRES` names, for a hub's replica: `scripts/test` runs the hub's tests
/// once more so, as the store's suite (`sync/tests/it/backend.rs`).
pub fn postgres_database() -> Option<String> {
    if std::env::var("PREAU_TEST_STORE").ok()? != "postgres" {
        return None;
    }
    let server = std::env::var("PREAU_TEST_POSTGRES").expect("PREAU_TEST_STORE=postgres needs PREAU_TEST_POSTGRES");
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("hub{}_{n}_{}", std::process::id(), hex::encode(preau_appliance::platform::random_bytes::<4>()));
    Some(preau_sync::create_postgres_database(&server, &name).expect("creating a test database"))
}

/// A hub that holds `school`: enrolled, synced.
pub async fn hub_holding(school: &TestServer) -> TestServer {
    let hub = TestServer::hub().await;
    let uai = school.directory().uai().unwrap().to_string();
    preau_appliance::replication::enrollment::enrol(&school.state, &hub.base, &hub.school_code(&uai)).await.unwrap();
    assert!(preau_appliance::replication::schedule::run_now(&school.state).await.ok);
    hub
}

/// One browser: its own cookies, no automatic redirects, French.
pub struct Browser {
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    pub csrf: String,
}

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self
    }
    pub fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }
    pub fn assert_redirect(&self, to: &str) -> &Self {
        assert!(self.status.is_redirection(), "expected a redirect to {to}, got {} {}", self.status, self.body);
        assert_eq!(self.location.as_deref(), Some(to));
        self
    }
}

pub fn csrf_in(body: &str) -> Option<String> {
    let i = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(body[i..].chars().take_while(|c| *c != '"').collect())
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::with_cookie(base, "")
    }

    /// A browser that already holds `cookie` (`name=value`).
    pub fn with_cookie(base: &str, cookie: &str) -> Self {
        Self::build(base, cookie, None)
    }

    /// A browser on another machine of the network: its requests come from `local`
    /// (any 127.x.y.z address reaches a server on 127.0.0.1).
    pub fn from_address(base: &str, local: IpAddr) -> Self {
        Self::build(base, "", Some(local))
    }

    /// A browser holding `cookie` (`name=value`, or nothing), its requests from `local`.
    pub fn build(base: &str, cookie: &str, local: Option<IpAddr>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9".parse().unwrap());
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        if !cookie.is_empty() {
            jar.add_cookie_str(cookie, &base.parse().unwrap());
        }
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .local_address(local)
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        Self { client, jar, base: base.to_owned(), csrf: String::new() }
    }

    /// The value of one of this browser's cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let all = self.jar.cookies(&self.base.parse().unwrap())?;
        let prefix = format!("{name}=");
        all.to_str().ok()?.split("; ").find_map(|c| c.strip_prefix(&prefix).map(str::to_owned))
    }

    async fn page(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        if let Some(token) = csrf_in(&body) {
            self.csrf = token;
        }
        Page { status, body, location, headers }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        self.page(r).await
    }

    /// Gets a page as a browser set to another language would (`Accept-Language`).
    pub async fn get_in(&mut self, accept_language: &str, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT_LANGUAGE, accept_language)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    /// Posts a form with this browser's current CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        self.post_raw(path, &[fields, &[("csrf", csrf.as_str())]].concat()).await
    }

    /// Posts exactly `fields` (to forge or omit the token).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self.client.post(format!("{}{path}", self.base)).form(fields).send().await.unwrap();
        self.page(r).await
    }

    /// Logs in with a password (or activation code) and loads the page it leads to.
    pub async fn login(&mut self, login: &str, password: &str) -> Page {
        self.get("/login").await;
        let answer = self.post("/login", &[("login", login), ("password", password)]).await;
        match answer.location.clone() {
            Some(to) if answer.status.is_redirection() => self.get(&to).await,
            _ => answer,
        }
    }
}

/// Runs one sync session between `store` and the server's replica, under the server's rules.
/// A document refused either way makes it an error, with the reasons.
pub fn sync_with(server: &TestServer, store: &mut preau_sync::Store) -> Result<(), String> {
    sync_as(server, store, Sender::School(server.directory().uai().cloned().expect("a school")))
}

/// As [`sync_with`], the store's changes coming from `sender`.
pub fn sync_as(server: &TestServer, store: &mut preau_sync::Store, sender: Sender) -> Result<(), String> {
    let policy = preau_appliance::replication::policy::SchoolPolicy::new(
        server.directory(),
        sender,
        std::sync::Arc::new(preau_appliance::app::rules()),
    );
    let (mine, theirs) = server
        .state
        .db
        .run_blocking(|school| Ok(preau_sync::replication::sync_pair(store, school, &policy)))
        .unwrap()
        .map_err(|e| e.to_string())?;
    let refused: Vec<&str> = theirs.refused_here.iter().chain(&mine.refused_here).map(|r| r.reason.as_str()).collect();
    if refused.is_empty() { Ok(()) } else { Err(refused.join(" ; ")) }
}

/// Runs one sync session between two servers' replicas, under `a`'s rules.
pub fn sync_servers(a: &TestServer, b: &TestServer) -> Result<(), String> {
    b.state.db.run_blocking(|store| Ok(sync_with(a, store))).unwrap()
}

/// An address outside any school network, for in-process requests.
pub fn internet_address() -> SocketAddr {
    SocketAddr::new(IpAddr::from([203, 0, 113, 7]), 40000)
}

impl Browser {
    /// Uploads files (multipart, field `files`) with extra text fields and the CSRF token.
    pub async fn post_files(&mut self, path: &str, fields: &[(&str, &str)], files: &[(&str, Vec<u8>)]) -> Page {
        self.post_files_as(path, "files", fields, files).await
    }

    /// Uploads files under the form field `field`.
    pub async fn post_files_as(
        &mut self,
        path: &str,
        field: &str,
        fields: &[(&str, &str)],
        files: &[(&str, Vec<u8>)],
    ) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form =
                form.part(field.to_owned(), reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()));
        }
        let r = self.client.post(format!("{}{path}", self.base)).multipart(form).send().await.unwrap();
        self.page(r).await
    }
}

/// A fresh server set up with a director (`anne.riou` / `cartable-vert-2026`), logged in.
pub async fn set_up_school() -> (TestServer, Browser) {
    let server = TestServer::fresh().await;
    let mut b = server.browser();
    b.get("/setup").await;
    let fields = [
        ("uai", "0351234A"),
        ("name", "École des Lilas"),
        ("commune", "Saint-Aubin-des-Prés"),
        ("first_name", "Anne"),
        ("last_name", "Riou"),
        ("password", "cartable-vert-2026"),
        ("confirm", "cartable-vert-2026"),
    ];
    b.post("/setup", &fields).await.assert_redirect("/");
    b.get("/").await;
    (server, b)
}

/// One JSON API call: `method path` with an optional bearer token and JSON body; the status
/// and the JSON answer (`Null` when there is none).
pub async fn api(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// A bearer token for `pupil`, logged in with their pictures on a tablet of their class.
pub async fn pupil_token(server: &TestServer, pupil: &Member) -> String {
    let pictures: Vec<String> =
        server.directory().credentials[&pupil.id].picture_secret.split(',').map(Into::into).collect();
    let tablet = server.tablet_token(&pupil.person.class_id);
    let body =
        serde_json::json!({"class_id": pupil.person.class_id, "pupil_id": pupil.id.as_str(), "pictures": pictures});
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/pictures", server.base))
        .header("cookie", format!("preau_tablet={tablet}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: serde_json::Value = response.json().await.unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

/// A browser in which `pupil` logged in with their pictures, on a tablet of their class.
pub async fn pupil_browser(server: &TestServer, pupil: &Member) -> Browser {
    let pictures: Vec<String> =
        server.directory().credentials[&pupil.id].picture_secret.split(',').map(Into::into).collect();
    let mut b = server.tablet(&pupil.person.class_id);
    let path = format!("/classes/{}/login/{}", pupil.person.class_id, pupil.id);
    b.get(&path).await.assert_ok();
    b.post(&path, &[("entered", &pictures[..2].join(",")), ("add", &pictures[2])]).await.assert_redirect("/");
    b.get("/").await;
    b
}

/// A bearer token for a password login.
pub async fn token(server: &TestServer, login: &str, password: &str) -> String {
    let body = serde_json::json!({"login": login, "password": password});
    let (status, answer) = api(server, "POST", "/api/v1/auth/login", None, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// Every read-model row of the server's replica (to prove a refusal changed nothing).
pub fn read_models(server: &TestServer) -> std::collections::BTreeMap<&'static str, Vec<Vec<preau_sync::Cell>>> {
    server.state.db.run_blocking(|store| Ok(store.read_models()?)).unwrap()
}

/// A browser in which `member` activated their account with their letter's code and chose
/// `password`.
pub async fn activated_browser(server: &TestServer, member: &Member, password: &str) -> Browser {
    let cred = server.directory().credentials[&member.id].clone();
    let mut b = server.browser();
    b.login(&cred.login, &cred.activation_code).await;
    b.post("/password", &[("new", password), ("confirm", password)]).await.assert_redirect("/");
    b.get("/").await;
    b
}

/// A change forged on another replica: what it is, and what it does to the document.
pub type Forgery<'a, K> = (&'a str, Box<dyn Fn(&mut <K as preau_sync::DocKind>::State)>);

/// Each forgery is made to `address` on a fresh replica of the school, which then syncs
/// with the server: the server's policy must refuse it, and nothing may change there.
pub fn assert_forgeries_refused<K: preau_sync::DocKind>(
    server: &TestServer,
    address: &preau_sync::DocAddress,
    forgeries: Vec<Forgery<'_, K>>,
) {
    let tmp = tempfile::tempdir().unwrap();
    let uai = server.directory().uai().unwrap().clone();
    for (i, (what, forge)) in forgeries.iter().enumerate() {
        let path = tmp.path().join(format!("forged{i}.db"));
        let mut replica = preau_sync::Store::open(&path, preau_appliance::school::scope(&uai)).unwrap();
        sync_with(server, &mut replica).unwrap();
        replica.change::<K, _>(address, |doc| forge(doc)).unwrap();
        let before = read_models(server);
        match sync_with(server, &mut replica) {
            Err(reason) => assert!(reason.contains("rejected by policy"), "{what}: {reason}"),
            Ok(()) => panic!("{what}: accepted"),
        }
        assert_eq!(read_models(server), before, "{what}: the school's replica changed");
    }
}

/// A real SMTP server on loopback (`tests/smtp/sink.py`, Python's aiosmtpd: Debian's
/// `python3-aiosmtpd`, which `scripts/test` installs), keeping what it accepts.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

/// An e-mail the sink accepted, as Python's e-mail parser reads it.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    /// It came over TLS (the sink was started with `--tls`, which requires STARTTLS).
    pub tls: bool,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
}

impl SmtpSink {
    /// Starts one; `args`: `--delay SECONDS`, `--serial`, `--refuse ADDRESS`, `--tls CERT KEY`.
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut child = std::process::Command::new(python)
            .arg(script)
            .arg(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} ({e}): install python3-aiosmtpd (scripts/test does)"));
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the SMTP sink did not start (is python3-aiosmtpd installed? scripts/test installs it): {line:?}")
        });
        Self { port, dir, child }
    }

    /// `host:port`, for `[mail] smtp`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What it accepted, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| Some(e.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
