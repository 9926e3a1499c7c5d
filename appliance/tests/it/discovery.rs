//! mDNS discovery between two hosts: the appliance in one network namespace, a browser
//! (`preau discover`) in another, joined by a veth pair. Needs root (CI runs as root);
//! elsewhere the test says it was skipped and why, unless PREAU_REQUIRE_NETNS=1 makes that
//! a failure.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::netlab::ip;

/// Two namespaces joined by a veth pair; removed on drop.
struct Lan {
    server: String,
    tablet: String,
}

impl Lan {
    fn new(tag: &str) -> Result<Self, String> {
        let id = std::process::id();
        let lan = Lan { server: format!("preau-{tag}-s{id}"), tablet: format!("preau-{tag}-t{id}") };
        ip(&["netns", "add", &lan.server])?;
        ip(&["netns", "add", &lan.tablet])?;
        let (a, b) = (format!("pv{id}a"), format!("pv{id}b"));
        ip(&["link", "add", &a, "type", "veth", "peer", "name", &b])?;
        ip(&["link", "set", &a, "netns", &lan.server])?;
        ip(&["link", "set", &b, "netns", &lan.tablet])?;
        for (ns, dev, addr) in [(&lan.server, &a, "10.77.0.1/24"), (&lan.tablet, &b, "10.77.0.2/24")] {
            ip(&["-n", ns, "addr", "add", addr, "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "multicast", "on"])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok(lan)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.server]);
        let _ = ip(&["netns", "del", &self.tablet]);
    }
}

fn skip_or_fail(reason: &str) {
    if std::env::var("PREAU_REQUIRE_NETNS").as_deref() == Ok("1") {
        panic!("network namespaces are required here but unavailable: {reason}");
    }
    eprintln!("SKIPPED: mDNS test needs network namespaces (root and iproute2): {reason}");
}

/// Starts `preau serve --demo` in `ns`; returns the child once it printed its address.
fn serve_in(ns: &str, data: &std::path::Path, discovery: bool) -> std::process::Child {
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_preau"), "--data-dir", data.to_str().unwrap()])
        .args(["serve", "--demo", "--listen", "0.0.0.0:0"])
        .env("PREAU_DISCOVERY", discovery.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().trim().starts_with("http://") {
            break;
        }
    }
    // Keep reading what it prints next (the QR code), as a terminal would.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn discover_from(ns: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_preau"), "discover", "--wait", "4"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_tablet_on_the_lan_discovers_the_appliance_unless_discovery_is_off() {
    let lan = match Lan::new("mdns") {
        Ok(lan) => lan,
        Err(reason) => return skip_or_fail(&reason),
    };
    let data = tempfile::tempdir().unwrap();
    let mut server = serve_in(&lan.server, data.path(), true);
    // mDNS is best effort on a busy machine: a tablet would simply look again.
    let mut heard = String::new();
    for _ in 0..3 {
        heard = discover_from(&lan.tablet);
        if heard.contains("0990001X") {
            break;
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(heard.contains("UAI 0990001X"), "the tablet hears the school: {heard}");
    assert!(heard.contains("Les Tilleuls") && heard.contains("preau.local."), "{heard}");
    assert!(heard.contains("http://10.77.0.1:"), "with the address on the shared network: {heard}");

    let quiet = tempfile::tempdir().unwrap();
    let mut server = serve_in(&lan.server, quiet.path(), false);
    let heard = discover_from(&lan.tablet);
    let _ = server.kill();
    let _ = server.wait();
    assert!(!heard.contains("0990001X"), "discovery off: nothing advertised: {heard}");
}
