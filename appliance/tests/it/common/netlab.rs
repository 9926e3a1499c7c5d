//! A network lab for replication: a hub and school appliances as separate `preau`
//! processes, each in its own network namespace, every school's way to the hub going
//! through a shaped link.
//!
//! The link is a relay in the test process, on the school's side of its veth pair: it
//! limits the rate, delays each ~1.4 KB segment by the profile's one-way latency, stalls
//! one in `loss` of them for a retransmission (1.5 RTT, holding those behind it, as TCP
//! does), and can be cut: its connections are reset and new ones refused until it comes
//! back. `tc netem` would do the same in the kernel, but this machine's kernel has no
//! `sch_netem`; the relay works everywhere, and where network namespaces are not permitted
//! (not root) the same lab runs on loopback, and says so.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// A link's character.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// For the test's output.
    pub name: &'static str,
    /// Bits per second each way (`None`: unlimited).
    pub rate_bps: Option<u64>,
    /// One-way latency.
    pub one_way: Duration,
    /// Share of segments that need a retransmission.
    pub loss: f64,
}

/// The school's network itself.
pub const LAN: Profile = Profile { name: "LAN", rate_bps: None, one_way: Duration::ZERO, loss: 0.0 };
/// Rural ADSL: 1 Mbit/s, 60 ms round trip.
pub const RURAL_ADSL: Profile =
    Profile { name: "ADSL rurale", rate_bps: Some(1_000_000), one_way: Duration::from_millis(30), loss: 0.0 };
/// Bad rural: 64 kbit/s, 600 ms round trip, 3 % loss.
pub const BAD_RURAL: Profile =
    Profile { name: "rural dégradé", rate_bps: Some(64_000), one_way: Duration::from_millis(300), loss: 0.03 };

const SEGMENT: usize = 1448;

/// A shaped, cuttable TCP relay.
pub struct Link {
    /// Where the school connects.
    pub addr: SocketAddr,
    profile: Arc<Mutex<Profile>>,
    up: tokio::sync::watch::Sender<bool>,
    /// Bytes carried towards the hub, and back.
    pub to_hub: Arc<AtomicU64>,
    pub from_hub: Arc<AtomicU64>,
    /// Connections accepted.
    pub connections: Arc<AtomicU64>,
}

impl Link {
    /// Relays `listen` → `upstream` under `profile`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr, profile: Profile) -> Link {
        let listener = TcpListener::bind(listen).await.expect("bind the link relay");
        let addr = listener.local_addr().unwrap();
        let (up, _) = tokio::sync::watch::channel(true);
        let link = Link {
            addr,
            profile: Arc::new(Mutex::new(profile)),
            up,
            to_hub: Arc::default(),
            from_hub: Arc::default(),
            connections: Arc::default(),
        };
        let (profile, up_rx, to_hub, from_hub, connections) = (
            link.profile.clone(),
            link.up.subscribe(),
            link.to_hub.clone(),
            link.from_hub.clone(),
            link.connections.clone(),
        );
        tokio::spawn(async move {
            let mut listener = Some(listener);
            let mut watch = up_rx.clone();
            loop {
                // While the link is down nothing listens: connections are refused, and not a
                // byte gets through (accepting then dropping them would swallow a window).
                if !*watch.borrow_and_update() {
                    listener = None;
                    continue_when_up(&mut watch).await;
                }
                let bound = match listener.take() {
                    Some(bound) => bound,
                    None => TcpListener::bind(addr).await.expect("bind the link relay again"),
                };
                let accepted = tokio::select! {
                    accepted = bound.accept() => accepted,
                    _ = watch.changed() => Err(std::io::ErrorKind::Interrupted.into()),
                };
                listener = Some(bound);
                let Ok((client, _)) = accepted else { continue };
                connections.fetch_add(1, Ordering::Relaxed);
                let (profile, mut up_rx, to_hub, from_hub) =
                    (profile.clone(), up_rx.clone(), to_hub.clone(), from_hub.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let a = tokio::spawn(pump(cr, sw, profile.clone(), to_hub));
                    let b = tokio::spawn(pump(sr, cw, profile, from_hub));
                    // A cut resets both directions (dropping the halves closes the sockets).
                    let cut = async {
                        while up_rx.changed().await.is_ok() {
                            if !*up_rx.borrow() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = cut => {}
                        _ = async { let _ = a.await; } => {}
                    }
                    b.abort();
                });
            }
        });
        link
    }

    /// Cuts the link (`false`) or restores it (`true`): a cut resets the connections in
    /// flight, and new ones are refused until the link is back.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// Changes the link's character.
    // Only `benches/network.rs` reshapes a link; the tests keep the profile they start with.
    #[allow(dead_code)]
    pub fn shape(&self, profile: Profile) {
        *self.profile.lock().unwrap() = profile;
    }
}

async fn continue_when_up(watch: &mut tokio::sync::watch::Receiver<bool>) {
    while !*watch.borrow_and_update() {
        if watch.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Moves bytes one way, segment by segment, at the profile's rate and latency.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    profile: Arc<Mutex<Profile>>,
    carried: Arc<AtomicU64>,
) {
    // A bounded queue: the sender feels the link's rate through TCP's own flow control.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Instant, Vec<u8>)>(24);
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
            carried.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
    });
    let mut free_at = Instant::now();
    let mut last_delivery = Instant::now();
    let mut buf = vec![0u8; SEGMENT];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let p = *profile.lock().unwrap();
        let now = Instant::now();
        let serialise = p.rate_bps.map_or(Duration::ZERO, |bps| Duration::from_secs_f64(n as f64 * 8.0 / bps as f64));
        free_at = free_at.max(now) + serialise;
        let mut at = free_at + p.one_way;
        if p.loss > 0.0 && rand::random::<f64>() < p.loss {
            at += (p.one_way * 2).mul_f64(1.5).max(Duration::from_millis(200));
        }
        // Segments arrive in order: a retransmitted one holds those behind it.
        last_delivery = last_delivery.max(at);
        if tx.send((last_delivery, buf[..n].to_vec())).await.is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

/// A bearer token for `login` on the server at `base` (the JSON API's password login).
pub async fn token(base: &str, login: &str, password: &str) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap_or_else(|| panic!("login {login}: {answer}")).to_owned()
}

/// Runs `ip` with `args`.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// (document id, heads) of every document in partitions starting with `prefix` in the
/// replica file `db` (SQLite allows this beside a running server).
pub fn documents(db: &std::path::Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut st =
        conn.prepare("SELECT doc_id, heads FROM document WHERE partition LIKE ?1 || '%' ORDER BY doc_id").unwrap();
    st.query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

static LABS: AtomicU32 = AtomicU32::new(0);

/// One replica's process and where it is.
pub struct Node {
    /// Its network namespace (none on loopback).
    pub ns: Option<String>,
    /// Its data directory.
    pub data: tempfile::TempDir,
    /// The address this node's server listens on, as the test reaches it.
    pub addr: SocketAddr,
    /// The address the node's own commands use (`preau sync now`).
    pub local: SocketAddr,
    child: Option<Child>,
}

impl Node {
    fn command(&self) -> Command {
        let mut c = match &self.ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_preau")]);
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_preau")),
        };
        c.args(["--data-dir", self.data.path().to_str().unwrap()]);
        // Syncs happen when the test asks, never on their own.
        c.env("PREAU_DISCOVERY", "false").env("PREAU_SYNC_INTERVAL_MINUTES", "0").env("PREAU_SYNC_WINDOW", "");
        // The tests read its French output, whatever the locale they run in.
        c.env_remove("LC_ALL").env_remove("LC_MESSAGES").env("LANG", "fr_FR.UTF-8");
        c
    }

    /// Runs a `preau` command on this node; returns (success, stdout + stderr).
    pub fn preau(&self, args: &[&str]) -> (bool, String) {
        let out = self.command().args(args).output().expect("run preau");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// Starts `preau serve` with `args`, waits until it answers.
    pub fn start(&mut self, args: &[&str], env: &[(&str, &str)]) {
        let log = std::fs::File::create(self.data.path().join("serve.log")).unwrap();
        let mut c = self.command();
        c.args(["serve", "--listen", &format!("{}:{}", self.listen_ip(), self.addr.port())]).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_err() {
            assert!(std::time::Instant::now() < deadline, "{:?} did not start: {}", self.ns, self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn listen_ip(&self) -> &'static str {
        if self.ns.is_some() { "0.0.0.0" } else { "127.0.0.1" }
    }

    /// Kills the server at once (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `ip netns exec` execs the program: the child is preau itself.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("serve.log")).unwrap_or_default()
    }

    /// `http://…` of this node's server, as the test reaches it.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The last sync runs recorded by this node, newest first.
    pub fn runs(&self) -> Vec<preau_appliance::replication::links::Run> {
        preau_appliance::replication::Links::open(&self.data.path().join("links.db")).unwrap().runs(50).unwrap()
    }

    /// (document id, heads) of every document in partitions starting with `prefix`.
    pub fn documents(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        documents(&self.data.path().join("replica.db"), prefix)
    }

    /// Runs one SQL query returning text on the replica file.
    pub fn query(&self, sql: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open_with_flags(
            self.data.path().join("replica.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// `preau sync now` on this node; returns (success, output).
    pub fn sync_now(&self) -> (bool, String) {
        self.preau(&["sync", "now", "--addr", &self.local.to_string()])
    }

    /// `preau sync now` on this node, to run in the background.
    pub fn sync_now_command(&self) -> Command {
        let mut c = self.command();
        c.args(["sync", "now", "--addr", &self.local.to_string()]);
        c
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The hub, the schools, and a link per school.
pub struct Lab {
    /// Whether real network namespaces are used (else loopback).
    pub netns: bool,
    /// The hub.
    pub hub: Node,
    /// The schools.
    pub schools: Vec<Node>,
    /// Each school's link to the hub.
    pub links: Vec<Link>,
    namespaces: Vec<String>,
}

/// Tells whoever reads the test run what this machine could not give. Written to stderr
/// directly: the test harness captures `eprintln!` of passing tests.
fn say(note: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE: {note}");
}

/// The relay shapes every link, so that numbers compare across machines; where `tc netem`
/// (what the issue asked for) is missing, the output says so once per test binary.
fn say_if_netem_is_missing(ns: &str) {
    static PROBED: std::sync::Once = std::sync::Once::new();
    PROBED.call_once(|| {
        let probe = Command::new("ip")
            .args(["netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"])
            .output();
        match probe {
            Ok(out) if out.status.success() => {
                let _ =
                    Command::new("ip").args(["netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root"]).status();
            }
            Ok(out) => say(&format!(
                "tc netem is not available here ({}): the links are shaped by the lab's relay",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => say(&format!("tc is not available here ({e}): the links are shaped by the lab's relay")),
        }
    });
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Lab {
    /// A hub and `schools` schools, each in its own namespace when permitted. Nothing is
    /// started yet. Outside namespaces it says so — and fails if PREAU_REQUIRE_NETNS=1.
    pub async fn new(schools: usize, profile: Profile) -> Lab {
        // The test's own HTTP clients need the TLS provider too.
        preau_appliance::replication::client::install_tls();
        let n = LABS.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}{n}", std::process::id() % 100_000);
        match Self::namespaces(&tag, schools, profile).await {
            Ok(lab) => lab,
            Err(reason) => {
                if std::env::var("PREAU_REQUIRE_NETNS").as_deref() == Ok("1") {
                    panic!("network namespaces are required here but unavailable: {reason}");
                }
                say(&format!(
                    "network namespaces are not permitted here ({reason}): the replicas run on \
                     loopback, their links through the throttling relay"
                ));
                Self::loopback(schools, profile).await
            }
        }
    }

    async fn namespaces(tag: &str, schools: usize, profile: Profile) -> Result<Lab, String> {
        // Labs of one test binary start in parallel: one at a time picks its addresses.
        static SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _choosing = SETUP.lock().await;
        let mut lab =
            Lab { netns: true, hub: placeholder(), schools: Vec::new(), links: Vec::new(), namespaces: Vec::new() };
        // 10.78.<net>.0/24 per namespace, the host side .1 and the namespace's .2: a block
        // of /24s no other lab on this machine (another test, a benchmark) is using.
        let mut net_base = (std::process::id() * 7 + LABS.load(Ordering::SeqCst) * 4) % 240;
        let used = |net: u32| {
            Command::new("ip")
                .args(["-o", "addr", "show", "to", &format!("10.78.{net}.0/24")])
                .output()
                .is_ok_and(|o| !o.stdout.is_empty())
        };
        while (0..=schools as u32).any(|i| used(net_base + i)) {
            net_base = (net_base + 4) % 240;
        }
        let veth = |i: usize| -> Result<(String, SocketAddr), String> {
            let ns = format!("pl{tag}n{i}");
            let (host, inner) = (format!("pl{tag}h{i}"), format!("pl{tag}i{i}"));
            let net = net_base + i as u32;
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["addr", "add", &format!("10.78.{net}.1/24"), "dev", &host])?;
            ip(&["link", "set", &host, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("10.78.{net}.2/24"), "dev", &inner])?;
            ip(&["-n", &ns, "link", "set", &inner, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            Ok((ns, format!("10.78.{net}.2:8080").parse().unwrap()))
        };
        let (hub_ns, hub_addr) = veth(0)?;
        lab.namespaces.push(hub_ns.clone());
        say_if_netem_is_missing(&hub_ns);
        lab.hub = Node {
            ns: Some(hub_ns),
            data: tempfile::tempdir().unwrap(),
            addr: hub_addr,
            local: "127.0.0.1:8080".parse().unwrap(),
            child: None,
        };
        for i in 1..=schools {
            let (ns, addr) = veth(i)?;
            lab.namespaces.push(ns.clone());
            // The relay listens on the host side of the school's pair: the school's only way out.
            let relay: SocketAddr = format!("10.78.{}.1:9000", net_base + i as u32).parse().unwrap();
            lab.links.push(Link::start(relay, hub_addr, profile).await);
            lab.schools.push(Node {
                ns: Some(ns),
                data: tempfile::tempdir().unwrap(),
                addr,
                local: "127.0.0.1:8080".parse().unwrap(),
                child: None,
            });
        }
        Ok(lab)
    }

    async fn loopback(schools: usize, profile: Profile) -> Lab {
        let node = || {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            Node { ns: None, data: tempfile::tempdir().unwrap(), addr, local: addr, child: None }
        };
        let hub = node();
        let mut links = Vec::new();
        for _ in 0..schools {
            links.push(Link::start("127.0.0.1:0".parse().unwrap(), hub.addr, profile).await);
        }
        Lab { netns: false, schools: (0..schools).map(|_| node()).collect(), hub, links, namespaces: Vec::new() }
    }

    /// Where school `i` reaches the hub.
    pub fn hub_url(&self, i: usize) -> String {
        format!("http://{}", self.links[i].addr)
    }

    /// Starts the hub.
    pub fn start_hub(&mut self) {
        self.hub.start(&["--role", "hub"], &[]);
    }

    /// Enrols school `i` (UAI `uai`) with the hub, through its link.
    pub fn enrol(&self, i: usize, uai: &str) {
        let (ok, code) = self.hub.preau(&["hub", "code", "--uai", uai]);
        assert!(ok, "{code}");
        let (ok, out) = self.schools[i].preau(&["enroll", "--hub", &self.hub_url(i), "--code", code.trim()]);
        assert!(ok, "enrol school {i}: {out}");
    }
}

fn placeholder() -> Node {
    Node {
        ns: None,
        data: tempfile::tempdir().unwrap(),
        addr: "127.0.0.1:9".parse().unwrap(),
        local: "127.0.0.1:9".parse().unwrap(),
        child: None,
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.hub.kill();
        for s in &mut self.schools {
            s.kill();
        }
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}
