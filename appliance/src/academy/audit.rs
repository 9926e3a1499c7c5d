//! The console's audit: every action, who and when, in the hub's `links.db` (never rotated:
//! an académie makes a few thousand a year), shown to the hub's administrator and the
//! rectorat. Written after the action's own change committed; a failure to write it is
//! logged, never hidden.

use super::Console;
use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::links::{Audit, AuditEntry};
use crate::web::AppState;

/// Records that `by` did `action` (its message id's suffix, `console-audit-…`) to
/// `target` (`commune/34172`, `convention/…`, `account/…`), with what changed in words.
pub fn record(state: &AppState, by: &Console, action: &str, target: &str, detail: &str) -> Result<(), AppError> {
    tracing::info!(by = %by.id, action, target, detail, "console");
    let entry = AuditEntry {
        at: crate::platform::clock::now_ms(),
        by: by.id.clone(),
        target: target.to_owned(),
        action: action.to_owned(),
        reason: detail.to_owned(),
    };
    state.part::<Replication>().links.audit(Audit::Console, &[entry])
}

/// The newest entries, newest first.
pub fn trail(state: &AppState, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    state.part::<Replication>().links.audit_trail(Audit::Console, None, limit)
}
