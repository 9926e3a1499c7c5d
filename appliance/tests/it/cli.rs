//! The `preau` command line, run as a real process.

use std::process::Command;

/// `preau` in a French environment, whatever the one running the tests.
fn french() -> Command {
    in_locale(&[("LANG", "fr_FR.UTF-8")])
}

/// `preau` with these locale variables (the others of `LC_ALL`, `LC_MESSAGES`, `LANG` unset).
fn in_locale(vars: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_preau"));
    c.env_remove("LC_ALL").env_remove("LC_MESSAGES").env_remove("LANG").envs(vars.iter().copied());
    c
}

fn preau(args: &[&str]) -> (bool, String) {
    let out = french().args(args).output().expect("run preau");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// (success, stdout, stderr) of `preau args` with these locale variables.
fn run_in(vars: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = in_locale(vars).args(args).output().expect("run preau");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What `preau` prints speaks English when LC_ALL, LC_MESSAGES or LANG (the first one set)
/// starts with `en`, French otherwise: its greeting, its refusals, its errors.
#[test]
fn the_command_line_speaks_the_language_of_its_locale() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let english = [("LANG", "en_GB.UTF-8")];
    for french in [
        &[("LANG", "fr_FR.UTF-8")][..],
        &[],
        &[("LANG", "C.UTF-8")],
        &[("LC_ALL", "fr_FR.UTF-8"), ("LANG", "en_GB.UTF-8")],
    ] {
        let (ok, out, _) = run_in(french, &[]);
        assert!(ok && out.contains("l'ENT du premier degré qui fonctionne sans internet"), "{french:?}: {out}");
        let (ok, _, err) = run_in(french, &["--data-dir", dir, "hub", "code", "--uai", "123"]);
        assert!(!ok && err.contains("Erreur : UAI invalide : « 123 »"), "{french:?}: {err}");
    }
    for english in
        [&english[..], &[("LC_MESSAGES", "en_US.UTF-8"), ("LANG", "fr_FR.UTF-8")], &[("LC_ALL", "en_US.UTF-8")]]
    {
        let (ok, out, _) = run_in(english, &[]);
        assert!(ok && out.contains("the primary school ENT that works without internet"), "{english:?}: {out}");
        let (ok, _, err) = run_in(english, &["--data-dir", dir, "hub", "code", "--uai", "123"]);
        assert!(!ok && err.contains("Error: invalid UAI: “123”"), "{english:?}: {err}");
    }
    let missing = data.path().join("eleves.csv");
    let missing = missing.to_str().unwrap();
    let (ok, _, err) = run_in(&english, &["--data-dir", dir, "import", "onde", missing]);
    assert!(!ok && err.contains("Error: cannot read") && err.contains("eleves.csv"), "{err}");
    let (ok, _, err) = run_in(&[("LANG", "fr_FR.UTF-8")], &["--data-dir", dir, "import", "onde", missing]);
    assert!(!ok && err.contains("Erreur : impossible de lire"), "{err}");
    let (ok, _, err) = run_in(&english, &["--data-dir", dir, "hub", "revoke", "nobody"]);
    assert!(!ok && err.contains("Error: invalid replica id: “nobody”"), "{err}");
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
    let mut child = french()
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
    assert!(
        printed.contains("Comptes de démonstration")
            && printed.contains("Directrice")
            && printed.contains("Préau est prêt"),
        "in French:\n{printed}"
    );
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

/// A hub with `[mail]` settings it does not understand does not start, and says which
/// setting and why, before it opens anything.
#[test]
fn a_hub_refuses_to_start_on_mail_settings_it_does_not_understand() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    for (key, value, says) in [
        ("PREAU_MAIL_FROM", "pas une adresse", "mail.from"),
        ("PREAU_MAIL_QUIET_HOURS", "20h-7h", "mail.quiet_hours"),
        ("PREAU_MAIL_QUIET_DAYS", "dimanche", "mail.quiet_days"),
        ("PREAU_MAIL_TLS", "oui", "mail.tls"),
        ("PREAU_MAIL_TIMEZONE", "Mars/Olympus", "mail.timezone"),
    ] {
        let mut env = vec![
            ("LANG", "fr_FR.UTF-8"),
            ("PREAU_DISCOVERY", "false"),
            ("PREAU_MAIL_SMTP", "localhost:2525"),
            ("PREAU_MAIL_FROM", "ENT <ne-pas-repondre@ac-exemple.fr>"),
        ];
        env.retain(|(k, _)| *k != key);
        env.push((key, value));
        let (ok, _, err) = run_in(&env, &["--data-dir", dir, "serve", "--role", "hub", "--listen", "127.0.0.1:0"]);
        assert!(!ok, "{key}={value:?} started");
        assert!(err.contains("réglages [mail] du hub à corriger") && err.contains(says), "{key}: {err}");
    }
    assert!(!data.path().join("replica.db").exists(), "nothing opened");
}
