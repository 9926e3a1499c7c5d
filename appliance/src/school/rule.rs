//! The replication policy: a change that arrives from another replica is checked, after the
//! merge and before the commit, by the same rule as a local edit of its kind, against this
//! replica's directory, and by who the sending replica is (its certificate's role). A
//! refusal skips that document (see ARCHITECTURE.md).

use std::sync::Arc;

use preau_sync::kinds::{
    AgendaEvent, Conversation, DocKind, HomeworkBook, LiaisonNote, NewsPost, SchoolDirectory, state_of,
};
use preau_sync::replication::Policy;
use preau_sync::{Automerge, DocAddress, Kind, Partition, ReplicaId, Scope};

use crate::platform::error::AppError;
use crate::school::directory::Directory;
use crate::web::AppState;

/// A kind's rule: may `after` follow `before` in the document at `partition`?
pub type Rule<K> = fn(&Directory, &Partition, &<K as DocKind>::State, &<K as DocKind>::State) -> Result<(), String>;

/// Edits a document under its kind's rule: `edit` changes the state, then `rule` must
/// accept the result, or nothing is written (a refusal is a 403: the pages and the API
/// check permissions first, so reaching it means a bug or a forged request).
pub async fn edit<K: DocKind, R: Send + 'static>(
    state: &AppState,
    address: DocAddress,
    rule: Rule<K>,
    edit: impl FnOnce(&mut K::State) -> Result<R, AppError> + Send + 'static,
) -> Result<R, AppError>
where
    K::State: Clone + 'static,
{
    let dir = state.directory();
    state
        .db
        .run(move |store| {
            store.try_change::<K, R, AppError>(&address, |doc| {
                let before = doc.clone();
                let result = edit(doc)?;
                rule(&dir, &address.partition, &before, doc)
                    .map_err(|detail| AppError::Forbidden(format!("{}: {detail}", address.kind)))?;
                Ok(result)
            })
        })
        .await
}

fn check<K: DocKind>(
    rule: Rule<K>,
    dir: &Directory,
    address: &DocAddress,
    before: &Automerge,
    after: &Automerge,
) -> Result<(), String> {
    rule(dir, &address.partition, &state_of::<K>(before)?, &state_of::<K>(after)?)
}

/// Who sends the changes, as the session's certificate says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The school's appliance, or the server this replica enrolled with (the hub, or for a
    /// teacher's device its school's appliance), which relays what the appliance made.
    School,
    /// A teacher's device, with the partitions its certificate grants: it carries its
    /// teacher's work, never the credentials, and of the school's directory only the
    /// messaging switches of the classes it holds (what its teacher may turn herself).
    Device(Scope),
}

impl Sender {
    /// The sender of a session opened under this certificate.
    pub fn of(grant: &preau_sync::certificate::Grant) -> Self {
        match grant.role {
            preau_sync::certificate::Role::Device => Sender::Device(grant.scope.clone()),
            preau_sync::certificate::Role::Hub | preau_sync::certificate::Role::School => Sender::School,
        }
    }
}

/// Whether `sender` may make this change at all, before its kind's rule: the directory (who
/// is director, who teaches which class) and the credentials decide every other permission
/// and a device's renewed certificate, so a device writes neither, but for the switches of
/// its own classes.
fn sender_may_write(
    sender: &Sender,
    address: &DocAddress,
    before: &Automerge,
    after: &Automerge,
) -> Result<(), String> {
    let Sender::Device(scope) = sender else { return Ok(()) };
    let refused = || format!("a teacher's device may not change the school's {}", address.kind);
    match (address.kind, &address.partition) {
        (Kind::SchoolDirectory, Partition::School(uai)) => {
            let (mut was, now) = (state_of::<SchoolDirectory>(before)?, state_of::<SchoolDirectory>(after)?);
            for (id, class) in &mut was.classes {
                let held =
                    preau_sync::LocalId::parse(id).is_ok_and(|c| scope.contains(&Partition::Class(uai.clone(), c)));
                if let (true, Some(new)) = (held, now.classes.get(id)) {
                    (class.unmoderated, class.classmates) = (new.unmoderated, new.classmates);
                }
            }
            if was == now { Ok(()) } else { Err(refused()) }
        }
        (Kind::SchoolDirectory | Kind::Credentials, _) => Err(refused()),
        _ => Ok(()),
    }
}

/// The rules of every document kind, against the school's directory: the snapshot it
/// starts from, then as the bundle being applied changes it.
pub struct SchoolPolicy {
    dir: std::sync::RwLock<Arc<Directory>>,
    sender: Sender,
}

impl SchoolPolicy {
    /// The policy for changes from `sender`, as of this directory.
    pub fn new(dir: Arc<Directory>, sender: Sender) -> Self {
        Self { dir: std::sync::RwLock::new(dir), sender }
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
        let dir = &*self.dir.read().unwrap_or_else(|p| p.into_inner()).clone();
        let changed = before.get_heads() != after.get_heads();
        let outcome = match address.kind {
            _ if changed && let Err(refused) = sender_may_write(&self.sender, address, before, after) => Err(refused),
            Kind::HomeworkBook => {
                check::<HomeworkBook>(crate::services::homework::check_change, dir, address, before, after)
            }
            Kind::LiaisonNote => {
                check::<LiaisonNote>(crate::services::liaison::check_change, dir, address, before, after)
            }
            Kind::Conversation => {
                check::<Conversation>(crate::services::messaging::check_change, dir, address, before, after)
            }
            Kind::NewsPost => check::<NewsPost>(crate::services::news::check_change, dir, address, before, after),
            Kind::AgendaEvent => {
                check::<AgendaEvent>(crate::services::agenda::check_change, dir, address, before, after)
            }
            // The director's, made on the school's appliance (checked above by sender).
            Kind::SchoolDirectory | Kind::Credentials => Ok(()),
        };
        if let Err(reason) = &outcome {
            tracing::warn!(%from, doc = %address.id(), kind = %address.kind, %reason, "change from a peer refused");
        }
        outcome
    }

    fn accepted(&self, address: &DocAddress, rows: &[preau_sync::Row]) {
        if matches!(address.kind, Kind::SchoolDirectory | Kind::Credentials) {
            let mut dir = self.dir.write().unwrap_or_else(|p| p.into_inner());
            *dir = Arc::new(dir.with_rows(address.kind, rows));
        }
    }
}
