//! `preau bench pages`, under load: the demo school's pages over real HTTP, requests per
//! second with `wrk` (16 connections) beside nginx serving the same bytes as static files in
//! the same run; then the latency of a pupil's home page and of `/healthz` under a steady
//! load, idle and while the replica's writer applies a 24 MiB bundle.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use preau_appliance::out;
use preau_appliance::platform::error::AppError;
use preau_appliance::web;
use preau_sync::kinds::conversation::{Conversation, Message};
use preau_sync::replication::{Bundle, OpenPolicy, PeerView};
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition, Store};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::cli::bench::pages::Demo;

/// Connections of the load generators (as the measurements in issue 14 were taken).
const CONNECTIONS: usize = 16;
/// Seconds of each `wrk` run.
const SECONDS: u32 = 8;

pub async fn run(demo: &Demo) -> Result<()> {
    let wrk = tool(&["wrk"])?;
    let nginx = tool(&["nginx", "/usr/sbin/nginx"])?;
    let (state, cp) = (&demo.state, &demo.cp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    state.set_bound(addr);
    tokio::spawn(preau_appliance::app::serve(listener, state.clone(), std::future::pending()));
    let cookie = demo.cookie(None)?;
    // The week's page is the class's writers': its teacher's.
    let teacher = demo.cookie(Some("julien.roche"))?;
    let base = format!("http://{addr}");
    let home = get(&format!("{base}/"), Some(&cookie)).await?;
    let week = get(&format!("{base}/classes/{}/homework", cp.id), Some(&teacher)).await?;
    let stylesheet = stylesheet_path(&home).context("the home page names no stylesheet")?;

    // nginx serves the same bytes as static files, on its own port, as its own process.
    let data = tempfile::tempdir()?;
    let www = data.path().join("www");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join("home.html"), &home)?;
    std::fs::write(www.join("week.html"), &week)?;
    let nginx_addr = free_port()?;
    let _nginx = Nginx::start(&nginx, data.path(), &www, nginx_addr)?;
    let reference = format!("http://{nginx_addr}");
    // The framework's floor: the same bytes from a bare router, served as the appliance is
    // (same threads, same HTTP stack), with no session, middleware or page work.
    let floor_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let floor = format!("http://{}", floor_listener.local_addr()?);
    let bytes = axum::body::Bytes::from(home.clone());
    let bare = axum::Router::new().route("/", axum::routing::get(move || std::future::ready(bytes.clone())));
    tokio::spawn(preau_appliance::platform::server::serve(floor_listener, bare, None, std::future::pending()));

    out!("\n## Pages under load (wrk, {CONNECTIONS} connections, {SECONDS} s each; nginx in the same run)");
    out!("{:<40} {:>8} {:>10} {:>9} {:>9}", "what", "bytes", "req/s", "p50 ms", "p99 ms");
    let nginx_home = wrk_run(&wrk, &format!("{reference}/home.html"), None, None)?;
    nginx_home.print("nginx: the pupil home's bytes, static", home.len());
    let floor_home = wrk_run(&wrk, &floor, None, None)?;
    floor_home.print("bare router: the same bytes", home.len());
    // Every request of a « rendered » row asks a new address (`?n=` counts up, which the
    // page ignores), so that none is served kept: what each page costs to make.
    let fresh = data.path().join("fresh.lua");
    std::fs::write(&fresh, FRESH_ADDRESSES)?;
    let week_url = format!("{base}/classes/{}/homework", cp.id);
    let nginx_week = wrk_run(&wrk, &format!("{reference}/week.html"), None, None)?;
    nginx_week.print("nginx: the week's bytes, static", week.len());
    let (home_ref, week_ref) = (Some(nginx_home.rps), Some(nginx_week.rps));
    let rows = [
        ("pupil home", format!("{base}/"), Some(&cookie), home.len(), None, home_ref),
        ("pupil home, rendered", format!("{base}/"), Some(&cookie), home.len(), Some(fresh.as_path()), home_ref),
        ("cahier de textes week (teacher)", week_url.clone(), Some(&teacher), week.len(), None, week_ref),
        ("cahier de textes week, rendered", week_url, Some(&teacher), week.len(), Some(fresh.as_path()), week_ref),
        ("login page", format!("{base}/login"), None, 0, None, None),
        ("stylesheet", format!("{base}{stylesheet}"), None, 0, None, None),
        ("/healthz", format!("{base}/healthz"), None, 0, None, None),
    ];
    let mut ratios = Vec::new();
    for (name, url, cookie, bytes, script, reference) in &rows {
        // Refused, redirected or missing is not the page measured.
        get(url, cookie.map(String::as_str)).await?;
        let run = wrk_run(&wrk, url, cookie.map(String::as_str), *script)?;
        run.print(name, *bytes);
        if let Some(reference) = reference {
            ratios.push((name.to_string(), run.rps / reference));
        }
    }
    out!("bare router: {:.2} × nginx serving the same bytes", floor_home.rps / nginx_home.rps);
    for (name, ratio) in ratios {
        out!("{name}: {ratio:.2} × nginx serving its bytes");
    }

    // Latency while the writer applies a 24 MiB bundle, beside the same load idle.
    let bundle = large_bundle(state, data.path(), &cp.id).await?;
    out!("\n## Latency under a steady load ({CONNECTIONS} connections on a pupil's home, /healthz probed every 10 ms)");
    out!("{:<40} {:>10} {:>9} {:>9} {:>9}", "situation", "requests", "p50 ms", "p99 ms", "max ms");
    let idle = under_load(&base, &cookie, Duration::from_secs(5), async {}).await;
    idle.print("idle");
    let scope = state.db.run(|store| Ok(store.scope().clone())).await?;
    let applied = std::sync::Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let took = applied.clone();
    let writer = state.clone();
    let during = under_load(&base, &cookie, Duration::ZERO, async move {
        let started = Instant::now();
        let result = writer
            .db
            .run(move |store| {
                let bundle =
                    Bundle::decode(&bundle).map_err(|e| AppError::Internal(format!("the bench bundle: {e}")))?;
                Ok(store.apply_bundle(&bundle, &scope, &OpenPolicy)?)
            })
            .await;
        *took.lock().unwrap_or_else(|p| p.into_inner()) = started.elapsed();
        if let Err(e) = result {
            out!("the bundle was refused: {e}");
        }
    })
    .await;
    during.print("while the writer applies the bundle");
    out!("the apply took {:.1} s", applied.lock().unwrap_or_else(|p| p.into_inner()).as_secs_f64());
    Ok(())
}

/// The first of `names` that runs, or a clear refusal naming the package to install.
fn tool(names: &[&str]) -> Result<String> {
    for name in names {
        let ok = Command::new(name).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
        if ok {
            return Ok((*name).to_owned());
        }
    }
    bail!("{} is missing: apt-get install wrk nginx-light", names[0])
}

fn free_port() -> Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

async fn get(url: &str, cookie: Option<&str>) -> Result<Vec<u8>> {
    // No redirect followed: a page that sends elsewhere is not the page measured.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let mut request = client.get(url);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    let response = request.send().await?;
    ensure!(response.status().is_success(), "{url}: {} {:?}", response.status(), response.headers().get("location"));
    Ok(response.bytes().await?.to_vec())
}

fn stylesheet_path(page: &[u8]) -> Option<String> {
    let page = std::str::from_utf8(page).ok()?;
    let link = page.split("<link").find(|l| l.contains("stylesheet"))?;
    let href = link.split("href=\"").nth(1)?;
    Some(href.split('"').next()?.to_owned())
}

/// nginx as a child process with a configuration of its own; stopped when dropped.
struct Nginx(Child);

impl Nginx {
    fn start(binary: &str, dir: &Path, www: &Path, addr: SocketAddr) -> Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        // Its workers may run as another user: they must reach the files.
        for path in [dir, www] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
        }
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes {cores};\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/nginx.log;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{ access_log off; types {{ text/html html; }} \
                 client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp; \
                 uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp; \
                 server {{ listen {addr}; root {www}; }} }}\n",
                dir = dir.display(),
                www = www.display(),
            ),
        )?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            ensure!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start: see {}/nginx.log",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self(child))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one `wrk` run measured.
struct WrkRun {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl WrkRun {
    fn print(&self, name: &str, bytes: usize) {
        let bytes = if bytes == 0 { String::new() } else { bytes.to_string() };
        out!("{name:<40} {bytes:>8} {:>10.0} {:>9.2} {:>9.2}", self.rps, self.p50_ms, self.p99_ms);
    }
}

/// A wrk script that gives every request an address of its own: `?n=` and a number no
/// other request of the run has (each wrk thread counts in its own range).
const FRESH_ADDRESSES: &str = r#"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("counter", threads * 1000000000)
end
function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "?n=" .. counter)
end
"#;

fn wrk_run(wrk: &str, url: &str, cookie: Option<&str>, script: Option<&Path>) -> Result<WrkRun> {
    let mut command = Command::new(wrk);
    command.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{SECONDS}s"), "--latency"]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(!text.contains("Non-2xx"), "{url}: wrk saw error answers:\n{text}");
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()));
    let rps: f64 = field("Requests/sec:").context("wrk printed no rate")?.parse()?;
    Ok(WrkRun {
        rps,
        p50_ms: millis(&field("50%").unwrap_or_default()),
        p99_ms: millis(&field("99%").unwrap_or_default()),
    })
}

/// wrk's durations: `812.00us`, `1.20ms`, `2.01s`.
fn millis(text: &str) -> f64 {
    let number = |suffix: &str| text.strip_suffix(suffix).and_then(|n| n.parse::<f64>().ok());
    number("us")
        .map(|n| n / 1000.0)
        .or_else(|| number("ms"))
        .or_else(|| number("s").map(|n| n * 1000.0))
        .unwrap_or(f64::NAN)
}

/// A bundle of about 24 MiB (the bundle budget) of new conversations in the CP's partition,
/// built on a replica of the school's scope for the appliance's replica.
async fn large_bundle(
    state: &web::AppState,
    dir: &Path,
    class: &preau_appliance::school::directory::ClassId,
) -> Result<Vec<u8>> {
    let (target, scope) = state.db.run(|store| Ok((store.id(), store.scope().clone()))).await?;
    let uai = state.directory().uai().cloned().context("the demo school")?;
    let partition = Partition::Class(uai, LocalId::parse(class.as_str())?);
    let mut source = Store::open(&dir.join("source.db"), scope.clone())?;
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    // Random letters compress about as well as a photo's caption thread would not: the
    // bundle's 24 MiB are change bytes, whatever their kind.
    let mut written = 0usize;
    let mut i = 0;
    while written < 26 << 20 {
        let address = DocAddress::new(partition.clone(), Kind::Conversation, DocKey::parse(&format!("bench-{i}"))?);
        let body: String = (0..4096).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect();
        written += body.len();
        source.change::<Conversation, _>(&address, |c| {
            c.subject = format!("Sortie {i}");
            c.messages.insert("m0".into(), Message { author: "bench".into(), sent_at: 1, body, ..Message::default() });
        })?;
        i += 1;
    }
    let frame = source.build_bundle(&PeerView::new_peer(target, &scope), &OpenPolicy)?.bundle.encode();
    out!(
        "\nbundle for the apply: {i} new conversations, {:.1} MiB on the wire",
        frame.len() as f64 / f64::from(1 << 20)
    );
    Ok(frame)
}

/// Latencies of a closed-loop load on a pupil's home page and of `/healthz` probes, taken
/// while `during` runs (or for `idle` when `during` ends at once).
struct Latencies {
    page: Vec<Duration>,
    health: Vec<Duration>,
}

impl Latencies {
    fn print(&self, situation: &str) {
        for (what, mut times) in [("pupil home", self.page.clone()), ("/healthz", self.health.clone())] {
            times.sort();
            let at = |q: f64| times.get(((times.len() as f64 - 1.0) * q) as usize).map_or(f64::NAN, ms);
            let max = times.last().map_or(f64::NAN, ms);
            out!(
                "{:<40} {:>10} {:>9.2} {:>9.2} {:>9.2}",
                format!("{situation}: {what}"),
                times.len(),
                at(0.5),
                at(0.99),
                max
            );
        }
    }
}

fn ms(d: &Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One answered request: when it started, how long it took.
type Sample = (Instant, Duration);

async fn under_load(base: &str, cookie: &str, idle: Duration, during: impl Future<Output = ()>) -> Latencies {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = reqwest::Client::new();
    let mut pages = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, stop, url, cookie) = (client.clone(), stop.clone(), format!("{base}/"), cookie.to_owned());
        pages.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let answer = client.get(&url).header(reqwest::header::COOKIE, &cookie).send().await;
                if let Ok(answer) = answer {
                    let _ = answer.bytes().await;
                    times.push((started, started.elapsed()));
                }
            }
            times
        }));
    }
    let health = {
        let (client, stop, url) = (client.clone(), stop.clone(), format!("{base}/healthz"));
        tokio::spawn(async move {
            let mut times = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                if let Ok(answer) = client.get(&url).send().await {
                    let _ = answer.bytes().await;
                    times.push((started, started.elapsed()));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            times
        })
    };
    // Let the load settle before measuring what `during` does to it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let from = Instant::now();
    during.await;
    tokio::time::sleep(idle).await;
    let to = Instant::now();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // Only the requests that started inside the window count.
    let within = |samples: Vec<Sample>| samples.into_iter().filter(|(at, _)| (from..to).contains(at)).map(|(_, d)| d);
    let mut page = Vec::new();
    for task in pages {
        page.extend(within(task.await.unwrap_or_default()));
    }
    let health = within(health.await.unwrap_or_default()).collect();
    Latencies { page, health }
}
