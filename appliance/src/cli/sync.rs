//! `preau sync now`: asks the running server to sync and draws its progress; without a
//! running server, syncs directly.

use preau_appliance::out;
use std::net::SocketAddr;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use preau_appliance::platform::config::Config;
use preau_appliance::replication::schedule::RunnerState;
use preau_appliance::replication::{PREFIX, client, schedule, status};

/// Runs one sync; returns whether it succeeded.
pub async fn now(config: Config, addr: Option<SocketAddr>) -> anyhow::Result<bool> {
    let mut addr = addr.unwrap_or(config.listen);
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let http = client::http_client(None).map_err(anyhow::Error::msg)?;
    let base = format!("http://{addr}{PREFIX}/local/sync");
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes}").expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(120));
    let l = preau_appliance::platform::i18n::Locale::default();
    let outcome = match http.post(&base).send().await {
        Ok(response) if response.status().is_success() => {
            let wanted = response.json::<serde_json::Value>().await?["wanted"].as_u64().unwrap_or(1);
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let s: RunnerState = http.get(&base).send().await?.error_for_status()?.json().await?;
                bar.set_message(s.phase.clone().unwrap_or_else(|| "attente".into()));
                bar.set_length(s.total);
                bar.set_position(s.done);
                if s.finished >= wanted {
                    break (s.last_ok.unwrap_or(false), s.last_error, s.last_counts);
                }
            }
        }
        Ok(response) => {
            bar.finish_and_clear();
            anyhow::bail!("le serveur a refusé : {}", response.text().await.unwrap_or_default().trim());
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
        out!(
            "Synchronisation réussie : {up} document(s) envoyé(s), {down} reçu(s), {files_up} fichier(s) envoyé(s), {files_down} reçu(s)."
        );
    }
    if let Some(e) = error {
        out!("{}", status::advice(l, &e));
        out!("Détail : {e}");
    }
    Ok(ok)
}
