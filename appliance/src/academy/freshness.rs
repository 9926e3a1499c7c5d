//! Every school's sync, as the hub sees it: its server's last completed sync, what the hub
//! holds that it has not received yet, and when its certificate expires; a school not heard
//! from in three days stands out, since families at home then read stale pages.

use preau_sync::{Scope, Uai};

use super::{Console, Role};
use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::enrollment::Subject;
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
/// first: those to look at come first.
pub fn schools(state: &AppState) -> Result<Vec<Freshness>, AppError> {
    let now = crate::platform::clock::now_ms();
    let held = state.db.read(crate::school::directory::Directory::schools)?;
    let mut out = Vec::new();
    for e in state.part::<Replication>().links.all_enrolled()? {
        let Some(Subject::School(uai)) = Subject::parse(&e.subject) else { continue };
        if e.revoked_at.is_some() {
            continue;
        }
        let scope = {
            let communes = state.db.read(|r| Ok(r.communes_of(&uai)?))?;
            crate::school::scope_with_communes(&uai, communes.iter().filter_map(|c| preau_sync::Insee::parse(c).ok()))
        };
        let pending = pending(state, e.replica, &scope)?;
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
    out.sort_by_key(|f| (f.synced_at.unwrap_or(0), f.uai.clone()));
    Ok(out)
}

fn pending(state: &AppState, peer: preau_sync::ReplicaId, scope: &Scope) -> Result<(u64, u64), AppError> {
    state.db.read(|r| Ok(r.pending_for(peer, scope)?))
}
