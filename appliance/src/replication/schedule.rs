//! When an appliance syncs: every `sync_interval_minutes` while the hub answers, always in
//! the nightly window, at once when asked (`preau sync now`, the director's button), and
//! after a failure with exponential backoff and jitter — so a link that comes back is used
//! within minutes, and a hub that comes back is not stormed by every school at once.
//! Housekeeping runs beside it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use rand::RngExt;

use super::Upstream;
use super::client::{self, Progress, Replica};
use super::links::{HubLink, Run};
use crate::platform::config::Role;
use crate::replication::Replication;
use crate::replication::policy::{SchoolPolicy, Sender};
use crate::web::AppState;

/// The first retry after a failure; each next one doubles, up to the interval.
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// Housekeeping period.
const HOUSEKEEPING: Duration = Duration::from_secs(3600);

/// The scheduler's shared state: the trigger, and where the current run has got.
#[derive(Default)]
pub struct Runner {
    trigger: tokio::sync::Notify,
    progress: Mutex<Option<Progress>>,
    started: AtomicU64,
    finished: AtomicU64,
    failures: AtomicU32,
}

/// What `GET /replication/v1/local/sync` answers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunnerState {
    /// Runs started since the server started.
    pub started: u64,
    /// Runs finished since the server started.
    pub finished: u64,
    /// The current run's phase (`connect`, `receive`, `send`: see `status::phase_label`).
    pub phase: Option<String>,
    /// Bytes moved in the phase.
    pub done: u64,
    /// Bytes to move in the phase.
    pub total: u64,
    /// The last run's outcome.
    pub last_ok: Option<bool>,
    /// The last run's error.
    pub last_error: Option<String>,
    /// The last run's counters: documents and files sent and received.
    pub last_counts: [i64; 4],
}

impl Runner {
    /// Asks for a run now; returns the number the run that will serve it will have
    /// (`finished` reaches it when that run is over).
    pub fn trigger(&self) -> u64 {
        // A run in progress may have read the replica before the request: the next one serves it.
        let next = self.started.load(Ordering::SeqCst) + 1;
        self.trigger.notify_one();
        next
    }

    /// Whether a run is under way.
    pub fn running(&self) -> bool {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Whether the last run failed (the server could not be reached, or refused).
    pub fn failing(&self) -> bool {
        self.failures.load(Ordering::SeqCst) > 0
    }

    /// Where things stand.
    pub fn state(&self, last: Option<&Run>) -> RunnerState {
        let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
        RunnerState {
            started: self.started.load(Ordering::SeqCst),
            finished: self.finished.load(Ordering::SeqCst),
            phase: progress.as_ref().map(|p| p.phase.to_owned()),
            done: progress.as_ref().map_or(0, |p| p.done),
            total: progress.as_ref().map_or(0, |p| p.total),
            last_ok: last.map(|r| r.ok),
            last_error: last.and_then(|r| r.error.clone()),
            last_counts: last.map_or([0; 4], |r| [r.docs_up, r.docs_down, r.files_up, r.files_down]),
        }
    }

    fn set(&self, progress: Option<Progress>) {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = progress;
    }
}

/// The replica as the client sees it, from the server's state.
pub fn replica_of(state: &AppState) -> Replica {
    Replica {
        db: state.db.clone(),
        links: state.part::<Replication>().links.clone(),
        files: state.files.clone(),
        identity: state.part::<Replication>().identity.clone(),
        // The server we enrolled with: the hub, or for a device its school's appliance.
        policy: std::sync::Arc::new(SchoolPolicy::new(
            state.directory(),
            Sender::Upstream,
            state.part_arc::<crate::school::rule::Rules>(),
        )),
        data_dir: state.config.data_dir.clone(),
        server_ca: state.config.hub_ca.clone(),
    }
}

/// Runs one sync now and records it (the scheduler, and `preau sync now` without a server).
pub async fn run_now(state: &AppState) -> Run {
    if let Some(before) = state.try_part::<crate::web::BeforeSync>() {
        (before.0)(state).await;
    }
    let runner = state.part::<Replication>().runner.clone();
    runner.started.fetch_add(1, Ordering::SeqCst);
    runner.set(Some(Progress { phase: "connect", done: 0, total: 0 }));
    let replica = replica_of(state);
    let report = {
        let runner = runner.clone();
        move |p: Progress| runner.set(Some(p))
    };
    let run = if state.config.role == Role::Device {
        device_run(state, &replica, &report).await
    } else {
        client::sync_once(&replica, &report).await
    };
    if let Err(e) = state.part::<Replication>().record(&run) {
        tracing::error!(error = %e, "recording a sync run");
    }
    if run.docs_down > 0 || run.files_down > 0 {
        super::endpoints::after_merge(state).await;
    }
    // A teacher's computer follows her classes as her school renews its certificate.
    if state.config.role == Role::Device
        && let Some(link) = state.part::<Replication>().links.hub()
        && let Err(e) = super::enrollment::hold_granted(state, &link).await
    {
        tracing::error!(error = %e, "holding the renewed certificate's partitions");
    }
    if run.ok {
        runner.failures.store(0, Ordering::SeqCst);
        tracing::info!(
            docs_up = run.docs_up,
            docs_down = run.docs_down,
            files_up = run.files_up,
            files_down = run.files_down,
            bytes_up = run.bytes_up,
            bytes_down = run.bytes_down,
            "sync done"
        );
    } else {
        runner.failures.fetch_add(1, Ordering::SeqCst);
    }
    runner.set(None);
    runner.finished.fetch_add(1, Ordering::SeqCst);
    run
}

/// Where a teacher's computer syncs.
enum Via {
    /// Its school's appliance, at the last address that answered.
    Known,
    /// Its school's appliance, where mDNS hears it now.
    Heard(String),
    /// The académie's server, away from school, where the school allows it.
    Away(Upstream),
}

/// How long a teacher's computer listens for its school's appliance on the LAN.
const FIND_SCHOOL: Duration = Duration::from_millis(1500);
/// How long it waits for a server that does not answer before trying the next one.
const NEXT_AFTER: Duration = Duration::from_secs(4);

/// A teacher's computer syncs with her school's appliance at the last address that answered;
/// else where mDNS hears her school now (asked only then: the last address is almost always
/// right, and a stranger announcing her school's UAI never gets the first try); else, away
/// from school and where the school allows it, with the académie's server. Any failure
/// gives way to the next: refusals are not signed, so a stranger at an old address (another
/// school's server, a printer) cannot stop her syncing. After a run with her school, it asks
/// whether the last one is (still) allowed, and keeps an address mDNS found.
async fn device_run(state: &AppState, replica: &Replica, report: &(dyn Fn(Progress) + Send + Sync)) -> Run {
    let links = &state.part::<Replication>().links;
    let Some(known) = links.hub().map(|l| l.url) else { return client::sync_once(replica, report).await };
    let away = links.away();
    let patience = |more: bool| if more { NEXT_AFTER } else { client::FIRST_CONTACT };
    let (mut run, link) =
        attempt(replica, links, &Via::Known, patience(away.is_some() || state.config.discovery), report).await;
    if let (true, Some(link)) = (run.ok, link) {
        keep_upstream(replica, links, &link).await;
        return run;
    }
    if let Some(url) = heard(state).await.filter(|url| *url != known) {
        let (heard_run, link) = attempt(replica, links, &Via::Heard(url), patience(away.is_some()), report).await;
        if let (true, Some(link)) = (heard_run.ok, link) {
            tracing::info!(url = %link.url, "the school's appliance answers at a new address");
            if let Err(e) = links.move_hub(&link.url) {
                tracing::error!(error = %e, "recording the school's new address");
            }
            keep_upstream(replica, links, &link).await;
            return heard_run;
        }
        run = heard_run;
    }
    if let Some(server) = away {
        tracing::info!(url = %server.url, "the school's appliance does not answer: syncing with the académie's server");
        run = attempt(replica, links, &Via::Away(server), client::FIRST_CONTACT, report).await.0;
    }
    run
}

/// One run with one server, under the enrolment as it stands (a certificate renewed by an
/// attempt that failed later is the one the next attempt presents).
async fn attempt(
    replica: &Replica,
    links: &super::Links,
    via: &Via,
    patience: Duration,
    report: &(dyn Fn(Progress) + Send + Sync),
) -> (Run, Option<HubLink>) {
    let Some(school) = links.hub() else { return (client::sync_once(replica, report).await, None) };
    let link = match via {
        Via::Known => school,
        Via::Heard(url) => HubLink { url: url.clone(), ..school },
        Via::Away(server) => school.via(server),
    };
    (client::sync_with(replica, &link, patience, report).await, Some(link))
}

/// Asks the school which académie server, if any, its computers may sync with away from it.
async fn keep_upstream(replica: &Replica, links: &super::Links, school: &HubLink) {
    match client::ask_upstream(replica, school).await {
        Ok(away) => {
            if let Err(e) = links.set_away(away.as_ref()) {
                tracing::error!(error = %e, "recording the académie's server");
            }
        }
        Err(e) => tracing::warn!(error = %e, "asking the school for the académie's server"),
    }
}

/// The address where the school's appliance announces itself on the LAN now, if it does.
async fn heard(state: &AppState) -> Option<String> {
    if !state.config.discovery {
        return None;
    }
    let uai = state.directory().uai()?.to_string();
    crate::platform::discovery::off_thread(move || crate::platform::discovery::find(&uai, FIND_SCHOOL)).await.flatten()
}

/// Parses `"HH:MM-HH:MM"` into minutes of the day.
pub fn parse_window(text: &str) -> Option<(u32, u32)> {
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let (a, b) = text.split_once('-')?;
    Some((minutes(a)?, minutes(b)?))
}

/// How long to wait before the next run.
fn next_wait(
    interval: Duration,
    window: Option<(u32, u32)>,
    failures: u32,
    now_ms: i64,
    last_ok_ms: Option<i64>,
) -> Duration {
    let jitter = |d: Duration| d.mul_f64(rand::rng().random_range(0.75..1.25));
    if failures > 0 {
        let backoff = FIRST_RETRY.saturating_mul(1 << (failures - 1).min(16));
        let cap = if interval.is_zero() { Duration::from_secs(3600) } else { interval };
        return jitter(backoff.min(cap));
    }
    let minute_of_day = ((now_ms / 60_000) % 1440) as u32;
    if let Some((start, end)) = window {
        let inside = if start <= end {
            (start..end).contains(&minute_of_day)
        } else {
            minute_of_day >= start || minute_of_day < end
        };
        let since_start = (minute_of_day + 1440 - start) % 1440;
        let synced_tonight = last_ok_ms.is_some_and(|t| now_ms - t < i64::from(since_start) * 60_000);
        if inside && !synced_tonight {
            return jitter(Duration::from_secs(60));
        }
        let until_start = Duration::from_secs(u64::from((start + 1440 - minute_of_day) % 1440) * 60);
        if interval.is_zero() || until_start < interval {
            return until_start.max(Duration::from_secs(60));
        }
    }
    if interval.is_zero() { Duration::from_secs(3600) } else { jitter(interval) }
}

/// The appliance's sync loop (does nothing until the appliance is enrolled).
pub async fn run(state: AppState) {
    if state.config.role == Role::Hub {
        return;
    }
    let interval = Duration::from_secs(state.config.sync_interval_minutes * 60);
    let window = parse_window(&state.config.sync_window);
    if window.is_none() && !state.config.sync_window.is_empty() {
        tracing::warn!(window = %state.config.sync_window, "sync_window is not HH:MM-HH:MM: no nightly window");
    }
    // No interval and no window: syncs only when asked.
    let automatic = !interval.is_zero() || window.is_some();
    let runner = state.part::<Replication>().runner.clone();
    // A first sync shortly after start: the appliance may have been off for days.
    let mut wait = automatic.then_some(Duration::from_secs(5));
    loop {
        match wait {
            Some(wait) => tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = runner.trigger.notified() => {}
            },
            None => runner.trigger.notified().await,
        }
        if state.part::<Replication>().links.hub().is_some() {
            run_now(&state).await;
        }
        let last_ok = state.part::<Replication>().last_success();
        wait = automatic.then(|| {
            next_wait(
                interval,
                window,
                runner.failures.load(Ordering::SeqCst),
                crate::platform::clock::now_ms(),
                last_ok,
            )
        });
        tracing::debug!(?wait, "next sync");
    }
}

/// Hourly housekeeping: idle sessions (signed-in and replication), old throttling counts and
/// abandoned transfers go, logs are checkpointed.
pub async fn housekeeping(state: AppState) {
    loop {
        tokio::time::sleep(HOUSEKEEPING).await;
        // Partial downloads of this replica's own runs live in the same directory.
        let swept = state.part::<Replication>().server.sweep();
        if swept > 0 {
            tracing::info!(swept, "abandoned partial transfers removed");
        }
        if let Err(e) = state.sessions.sweep().and_then(|_| state.limits.sweep()) {
            tracing::warn!(error = %e, "forgetting idle sessions and old failures");
        }
        if let Err(e) = state.part::<Replication>().links.records().checkpoint() {
            tracing::warn!(error = %e, "checkpointing links.db");
        }
        if let Err(e) = state.db.run(|store| Ok(store.checkpoint()?)).await {
            tracing::warn!(error = %e, "checkpointing the replica");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_failures_the_window_and_the_interval() {
        let hour = Duration::from_secs(3600);
        let at = |h: i64, m: i64| (20_000 * 1440 + h * 60 + m) * 60_000;
        // Backoff doubles, with jitter, and stops at the interval.
        let w1 = next_wait(hour, None, 1, at(12, 0), None);
        let w4 = next_wait(hour, None, 4, at(12, 0), None);
        assert!(w1 >= Duration::from_secs(22) && w1 <= Duration::from_secs(38), "{w1:?}");
        assert!(w4 >= Duration::from_secs(180) && w4 <= Duration::from_secs(300), "{w4:?}");
        assert!(next_wait(hour, None, 30, at(12, 0), None) <= hour.mul_f64(1.25));
        // In the window without a sync tonight: soon; after one: the interval.
        let window = parse_window("01:00-05:00");
        assert!(next_wait(Duration::ZERO, window, 0, at(2, 0), Some(at(0, 30))) <= Duration::from_secs(75));
        assert_eq!(next_wait(Duration::ZERO, window, 0, at(2, 0), Some(at(1, 30))), Duration::from_secs(23 * 3600));
        // Interval 0 (nightly only): wait for the window.
        assert_eq!(next_wait(Duration::ZERO, window, 0, at(22, 0), Some(at(2, 0))), Duration::from_secs(3 * 3600));
        assert_eq!(parse_window("22:30-04:00"), Some((1350, 240)));
        assert_eq!(parse_window("25:00-04:00"), None);
        assert_eq!(parse_window("nuit"), None);
    }
}
