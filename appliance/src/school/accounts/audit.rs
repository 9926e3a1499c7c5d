//! The account audit: who reset, printed or reissued whose credentials, and when. Kept by
//! the server that did it (`links.db`, the newest 50,000 lines), shown to the director; the
//! owner of a reset account is told at their next login from the credentials themselves
//! (`reset_by`, `reset_at`, `reset_reason`), which replicate.

use crate::platform::error::AppError;
use crate::replication::Replication;
use crate::replication::links::AuditEntry;
use crate::school::directory::UserId;
use crate::web::AppState;

/// What was done to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// New activation code (and pictures, for a pupil).
    Reset,
    /// Its login letter was shown for printing.
    Letter,
    /// A new QR card.
    QrCard,
    /// Its QR card revoked.
    QrRevoke,
    /// A pupil's picture lock lifted.
    Unlock,
}

impl Action {
    /// The stored name (also the localisation id's suffix: `audit-reset`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reset => "reset",
            Action::Letter => "letter",
            Action::QrCard => "qr-card",
            Action::QrRevoke => "qr-revoke",
            Action::Unlock => "unlock",
        }
    }
}

/// Records that `by` did `action` to each of `targets`.
pub fn record<'a>(
    state: &AppState,
    by: &UserId,
    targets: impl IntoIterator<Item = &'a UserId>,
    action: Action,
    reason: &str,
) -> Result<(), AppError> {
    let at = crate::platform::clock::now_ms();
    let entries: Vec<AuditEntry> = targets
        .into_iter()
        .map(|t| AuditEntry {
            at,
            by: by.to_string(),
            target: t.to_string(),
            action: action.as_str().to_owned(),
            reason: reason.to_owned(),
        })
        .collect();
    state.part::<Replication>().links.audit(crate::replication::links::Audit::Accounts, &entries)
}
