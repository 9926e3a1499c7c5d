//! `preau sync now`: asks the running server to sync and draws its progress; without a
//! running server, syncs directly.

use preau_appliance::out;
use std::net::SocketAddr;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use preau_appliance::platform::config::Config;
use preau_appliance::platform::i18n::Locale;
use preau_appliance::replication::schedule::RunnerState;
use preau_appliance::replication::{PREFIX, client, schedule, status};

/// Runs one sync, telling how it goes in `l`; returns whether it succeeded.
pub async fn now(l: Locale, config: Config, addr: Option<SocketAddr>) -> anyhow::Result<bool> {
    let mut addr = addr.unwrap_or(config.listen);
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let http = client::http_client(None).map_err(anyhow::Error::msg)?;
    let base = format!("http://{addr}{PREFIX}/local/sync");
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes}").expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(120));
    let outcome = match http.post(&base).send().await {
        Ok(response) if response.status().is_success() => {
            let wanted = response.json::<serde_json::Value>().await?["wanted"].as_u64().unwrap_or(1);
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let s: RunnerState = http.get(&base).send().await?.error_for_status()?.json().await?;
                bar.set_message(status::phase_label(l, s.phase.as_deref()));
                bar.set_length(s.total);
                bar.set_position(s.done);
                if s.finished >= wanted {
                    break (s.last_ok.unwrap_or(false), s.last_error, s.last_counts);
                }
            }
        }
        Ok(response) => {
            bar.finish_and_clear();
            let detail = response.text().await.unwrap_or_default();
            anyhow::bail!(l.ta("cli-sync-refused", &[("detail", detail.trim())]));
        }
        Err(_) => {
            // No server running: sync from this process.
            let state = preau_appliance::app::open(config, false)?;
            let run = schedule::run_now(&state).await;
            (run.ok, run.error, [run.docs_up, run.docs_down, run.files_up, run.files_down])
        }
    };
    bar.finish_and_clear();
    let (ok, error, [up, down, files_up, files_down]) = outcome;
    if ok {
        let n = |v: i64| v.to_string();
        out!(
            "{}",
            l.ta(
                "cli-sync-done",
                &[("up", &n(up)), ("down", &n(down)), ("files_up", &n(files_up)), ("files_down", &n(files_down))]
            )
        );
    }
    if let Some(e) = error {
        out!("{}", status::advice(l, &e));
        out!("{}", l.ta("cli-sync-detail", &[("detail", &e)]));
    }
    Ok(ok)
}
