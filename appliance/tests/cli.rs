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
    assert!(version.contains("schema 2") && version.contains("protocol 1"), "{version}");
    let (ok, _) = preau(&["no-such-command"]);
    assert!(!ok);
}
