//! Writing what this server counted (`web::usage`) into its schools' usage documents: one
//! per school, month and replica (`school/{uai}/accounts`, key `{YYYY-MM}.{replica}`), so
//! an appliance offline for weeks keeps its counts and its next sync brings them to the
//! hub, where every replica's add up. Written every five minutes, before each sync and when
//! the server stops. Which accounts were active in a month is kept thirteen months (the
//! CNIL's guidance for audience measurement), then cleared: those months' active accounts
//! then read as unknown, their connections and visits stay.

use std::time::Duration;

use preau_sync::kinds::UsageMonth;
use preau_sync::{DocAddress, DocKey, Kind, Partition, Uai};

use crate::platform::error::AppError;
use crate::school::directory::{Directory, Profile};
use crate::web::AppState;

/// How often what was counted is written.
pub const EVERY: Duration = Duration::from_secs(5 * 60);

/// Months the accounts active in a month are kept.
pub const ACTIVE_KEPT_MONTHS: i32 = 13;

/// The usage document of `school` for `month` (`YYYY-MM`) by `replica`.
pub fn address(school: &Uai, month: &str, replica: &str) -> Result<DocAddress, AppError> {
    Ok(DocAddress::new(
        Partition::Accounts(school.clone()),
        Kind::UsageMonth,
        DocKey::parse(&format!("{month}.{replica}"))?,
    ))
}

/// The rule of a usage document: in its school's accounts partition, keyed by a month and a
/// replica, days of the month, known profiles, and counts that only grow.
pub(super) fn rule(
    _: &Directory,
    partition: &Partition,
    before: &UsageMonth,
    after: &UsageMonth,
) -> Result<(), String> {
    let Partition::Accounts(_) = partition else { return Err(format!("usage in {partition}")) };
    for (day, counts) in &after.days {
        if !day.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d)) || day.len() != 2 {
            return Err(format!("day {day:?}"));
        }
        for (what, n) in counts {
            let (profile, service) = what.split_once('/').ok_or_else(|| format!("count {what:?}"))?;
            let was = before.days.get(day).and_then(|c| c.get(what)).copied().unwrap_or(0);
            if Profile::parse(profile).is_none() || service.is_empty() || *n < was {
                return Err(format!("count {what} {was} → {n}"));
            }
        }
    }
    match after.active.values().find(|p| Profile::parse(p).is_none()) {
        Some(p) => Err(format!("profile {p:?}")),
        None => Ok(()),
    }
}

/// Writes what was counted; what cannot be written is counted again at the next write
/// (what this replica does not hold, a teacher's computer's, is dropped).
pub async fn flush(state: &AppState) -> Result<(), AppError> {
    let counted = state.usage.take();
    if counted.is_empty() {
        return Ok(());
    }
    let (replica, scope) = match state.db.run(|store| Ok((store.id().to_string(), store.scope().clone()))).await {
        Ok(found) => found,
        Err(e) => {
            state.usage.put_back(counted);
            return Err(e);
        }
    };
    let mut unwritten = std::collections::BTreeMap::new();
    for ((school, month), c) in counted {
        let Ok(address) = address(&school, &month, &replica) else { continue };
        if !scope.contains(&address.partition) {
            continue;
        }
        let add = c.clone();
        let written = crate::school::edit::under_rule::<UsageMonth, ()>(state, address, rule, move |u| {
            crate::web::usage::add_days(&mut u.days, add.days);
            u.active.extend(add.active);
            Ok(())
        })
        .await;
        if let Err(e) = written {
            tracing::warn!(%school, %month, error = %e, "writing the usage counts");
            unwritten.insert((school, month), c);
        }
    }
    state.usage.put_back(unwritten);
    Ok(())
}

/// The first month whose active accounts are still kept, as of today (`YYYY-MM`).
fn kept_from() -> String {
    let today = crate::platform::clock::today();
    let (y, m): (i32, i32) = (today[..4].parse().unwrap_or(2026), today[5..7].parse().unwrap_or(1));
    let months = y * 12 + (m - 1) - ACTIVE_KEPT_MONTHS;
    format!("{:04}-{:02}", months / 12, months % 12 + 1)
}

/// Clears the accounts active in usage documents older than what is kept: this replica's
/// own, and on the hub every replica's (an appliance replaced long ago writes no more, and
/// nobody writes a month more than a year old).
async fn forget_old(state: &AppState) -> Result<(), AppError> {
    let (replica, entries) = state.db.run(|store| Ok((store.id().to_string(), store.catalog()?))).await?;
    let hub = state.config.role == crate::platform::config::Role::Hub;
    let before = kept_from();
    for entry in entries.into_iter().filter(|e| e.address.kind == Kind::UsageMonth) {
        let Some((month, of)) = entry.address.key.as_str().split_once('.') else { continue };
        if (of != replica && !hub) || month >= before.as_str() {
            continue;
        }
        let has_active = state.db.read(|r| Ok(r.get::<UsageMonth>(entry.id)?.is_some_and(|u| !u.active.is_empty())))?;
        if has_active {
            crate::school::edit::under_rule::<UsageMonth, ()>(state, entry.address, rule, |u| {
                u.active.clear();
                Ok(())
            })
            .await?;
        }
    }
    Ok(())
}

/// Writes the counts every [`EVERY`], and forgets old months' active accounts once a day.
pub async fn run(state: AppState) {
    let mut day = String::new();
    loop {
        tokio::time::sleep(EVERY).await;
        if let Err(e) = flush(&state).await {
            tracing::error!(error = %e, "writing the usage counts");
        }
        let today = crate::platform::clock::today();
        if today != day {
            day = today;
            if let Err(e) = forget_old(&state).await {
                tracing::error!(error = %e, "forgetting old months' active accounts");
            }
        }
    }
}

/// [`flush`] as the sync's hook (`web::BeforeSync`): the counts go with the sync.
pub fn before_sync(state: &AppState) -> crate::web::service::HookFuture<'_> {
    Box::pin(async move {
        if let Err(e) = flush(state).await {
            tracing::error!(error = %e, "writing the usage counts before a sync");
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn thirteen_months_back() {
        let from = super::kept_from();
        assert_eq!(from.len(), 7);
        assert!(*from < crate::platform::clock::today()[..7]);
    }
}
