//! Schemathesis (from PyPI) against the OpenAPI document of a real demo appliance, as a
//! teacher and as a parent: every request it generates from the schema must get an answer
//! the schema describes (status, content type, body), and never a server error. Bounded by
//! a number of examples per operation and a fixed seed, so a run is reproducible
//! (`PREAU_SCHEMATHESIS_SEED` changes it). Where schemathesis is not installed the test says
//! so, and fails when `PREAU_REQUIRE_SCHEMATHESIS=1` (as in `scripts/test`, which installs
//! it in `~/.cache/preau/venv`).

use std::path::PathBuf;
use std::process::Command;

use crate::common::{self, TestServer};
use preau_appliance::school::demo::DEMO_PASSWORD;

/// Examples per operation and phase.
const EXAMPLES: &str = "30";
/// The default seed.
const SEED: &str = "7";

fn schemathesis() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PREAU_SCHEMATHESIS").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/preau/venv/bin/schemathesis")),
        Some(PathBuf::from("schemathesis")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| Command::new(p).arg("--version").output().is_ok_and(|o| o.status.success()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_answers_the_schema_describes() {
    let Some(tool) = schemathesis() else {
        let reason = "schemathesis is not installed (scripts/test installs it in ~/.cache/preau/venv)";
        assert!(
            std::env::var("PREAU_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
            "PREAU_REQUIRE_SCHEMATHESIS=1: {reason}"
        );
        eprintln!("SKIPPED: schemathesis: {reason}");
        return;
    };
    let server = TestServer::demo().await;
    let seed = std::env::var("PREAU_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.into());
    for login in ["sophie.lebihan", "aurelie.kerherve"] {
        let token = common::token(&server, login, DEMO_PASSWORD).await;
        let reports = tempfile::tempdir().unwrap();
        let mut command = Command::new(&tool);
        command
            .current_dir(reports.path())
            .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--mode", "positive", "--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", EXAMPLES, "--seed", &seed, "--workers", "2", "--no-color"])
            // Ending the session or changing its password would end the run's own access.
            .args(["--exclude-path", "/api/v1/auth/logout", "--exclude-path", "/api/v1/me/password"])
            .env("SCHEMATHESIS_TELEMETRY", "false");
        // Off the runtime's threads: the server under test answers on them meanwhile.
        let out = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("run schemathesis");
        let report = String::from_utf8_lossy(&out.stdout);
        let summary: String =
            report.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        assert!(
            out.status.success(),
            "schemathesis as {login} (seed {seed}) found failures:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(report.contains("passed"), "schemathesis as {login} ran nothing:\n{summary}");
        eprintln!("schemathesis as {login}:\n{summary}");
    }
}
