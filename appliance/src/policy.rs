//! The replication policy: a change that arrives from another replica is checked, after the
//! merge and before the commit, by the same rule as a local edit of its kind, against this
//! replica's directory. A refusal rolls the whole bundle back (see ARCHITECTURE.md).

use std::sync::Arc;

use preau_sync::kinds::{HomeworkBook, state_of};
use preau_sync::replication::Policy;
use preau_sync::{Automerge, DocAddress, Kind, ReplicaId};

use crate::directory::Directory;

/// The rules of every document kind, against one directory snapshot.
pub struct SchoolPolicy {
    dir: Arc<Directory>,
}

impl SchoolPolicy {
    /// The policy as of this directory.
    pub fn new(dir: Arc<Directory>) -> Self {
        Self { dir }
    }
}

impl Policy for SchoolPolicy {
    fn validate(
        &self,
        from: ReplicaId,
        address: &DocAddress,
        before: &Automerge,
        after: &Automerge,
    ) -> Result<(), String> {
        let outcome = match address.kind {
            Kind::HomeworkBook => crate::homework::check_change(
                &self.dir,
                &address.partition,
                &state_of::<HomeworkBook>(before)?,
                &state_of::<HomeworkBook>(after)?,
            ),
            // The directory and credentials are the director's; which replica may speak for
            // the director is the enrolment's business (certificates).
            Kind::SchoolDirectory | Kind::Credentials | Kind::Conversation | Kind::NewsPost => Ok(()),
        };
        if let Err(reason) = &outcome {
            tracing::warn!(%from, doc = %address.id(), kind = %address.kind, %reason, "change from a peer refused");
        }
        outcome
    }
}
