//! The `preau` command line, run as a real process.

use std::process::Command;

fn preau(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_preau")).args(args).output().expect("run preau");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn help_lists_the_commands_and_version_names_schema_and_protocol() {
    let (ok, help) = preau(&["--help"]);
    assert!(ok);
    assert!(help.contains("version") && help.contains("bench"), "{help}");
    let (ok, version) = preau(&["version"]);
    assert!(ok);
    assert!(version.starts_with(&format!("preau {}", env!("CARGO_PKG_VERSION"))), "{version}");
    assert!(
        version.contains(&format!("schema {}", preau_sync::store::SCHEMA_VERSION))
            && version.contains(&format!("protocol {}", preau_sync::replication::protocol::PROTOCOL_VERSION)),
        "{version}"
    );
    let (ok, _) = preau(&["no-such-command"]);
    assert!(!ok);
}

/// `preau serve` as a real process: it prints where to connect, answers `preau healthcheck`,
/// and stops cleanly on SIGTERM.
#[test]
fn serve_answers_healthchecks_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_preau"))
        .args(["--data-dir", dir, "serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("PREAU_DISCOVERY", "false")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(url) = line.trim().strip_prefix("http://") {
            break url.to_owned();
        }
    };
    assert!(printed.contains("claire.martin") && printed.contains("preau-demo"), "demo logins printed:\n{printed}");
    let (ok, out) = preau(&["--data-dir", dir, "healthcheck", "--addr", &url]);
    assert!(ok && out.contains("ok"), "{out}");
    let secrets = std::fs::metadata(data.path().join("secrets.toml")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&secrets.permissions()) & 0o777, 0o600);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    let (ok, _) = preau(&["--data-dir", dir, "healthcheck", "--addr", &url]);
    assert!(!ok, "nothing answers once stopped");
}
