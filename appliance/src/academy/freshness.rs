//! Every school's sync, as the hub sees it: its server's last completed sync, what the hub
//! holds that it has not received yet, and when its certificate expires; a school not heard
//! from in three days stands out, since families at home then read stale pages.

use preau_sync::Uai;

use super::{Console, Role};
use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::enrollment::Subject;
use crate::replication::links::Enrolled;
use crate::web::AppState;

/// A school is late when its server has not completed a sync for this long.
pub const LATE_AFTER_MS: i64 = 3 * 24 * 3600 * 1000;

/// Follows the schools' sync: the hub's administrator and the académie's staff.
pub fn follows_sync(by: &Console) -> bool {
    matches!(by.role, Role::HubAdmin | Role::Rectorat | Role::Dane | Role::Ien)
}

/// One school's server, as the page lists it.
#[derive(Clone, Debug)]
pub struct Freshness {
    /// The school.
    pub uai: Uai,
    /// Its name, as the hub holds it (else its server's label).
    pub name: String,
    /// Its last completed sync (Unix ms).
    pub synced_at: Option<i64>,
    /// Documents the hub holds that it has not received, and their bytes.
    pub pending: (u64, u64),
    /// When its certificate expires (Unix ms).
    pub certified_until: Option<i64>,
    /// Not heard from in [`LATE_AFTER_MS`] (or never).
    pub late: bool,
}

/// Every school server enrolled with the hub and not revoked, by their last sync, oldest
/// first: those to look at come first. What each has yet to receive is counted over its
/// partitions, the whole replica in all: on the writer's thread, off the async workers.
pub async fn schools(state: &AppState) -> Result<Vec<Freshness>, AppError> {
    let now = crate::platform::clock::now_ms();
    let enrolled: Vec<(Uai, Enrolled)> = state
        .part::<Replication>()
        .links
        .all_enrolled()?
        .into_iter()
        .filter(|e| e.revoked_at.is_none())
        .filter_map(|e| match Subject::parse(&e.subject) {
            Some(Subject::School(uai)) => Some((uai, e)),
            _ => None,
        })
        .collect();
    let mut out = state
        .db
        .run(move |store| {
            let held = crate::school::directory::Directory::schools(store)?;
            let mut out = Vec::new();
            for (uai, e) in enrolled {
                let communes = store.communes_of(&uai)?;
                let scope = crate::school::scope_with_communes(
                    &uai,
                    communes.iter().filter_map(|c| preau_sync::Insee::parse(c).ok()),
                );
                let pending = store.pending_for(e.replica, &scope)?;
                let name = held.iter().find(|s| s.uai == uai).map_or(e.label, |s| s.info.name.clone());
                out.push(Freshness {
                    late: e.synced_at.is_none_or(|at| now - at > LATE_AFTER_MS),
                    uai,
                    name,
                    synced_at: e.synced_at,
                    pending,
                    certified_until: e.certified_until,
                });
            }
            Ok(out)
        })
        .await?;
    out.sort_by_key(|f| (f.synced_at.unwrap_or(0), f.uai.clone()));
    Ok(out)
}
