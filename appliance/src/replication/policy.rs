//! The replication policy: a change that arrives from another replica is checked, after the
//! merge and before the commit, by the same rule as a local edit of its kind, against this
//! replica's directory, and by who the sending replica is (its certificate's role). A
//! refusal skips that document (see ARCHITECTURE.md).

use std::sync::Arc;

use preau_sync::kinds::{SchoolDirectory, state_of};
use preau_sync::replication::Policy;
use preau_sync::{Automerge, DocAddress, Kind, Partition, ReplicaId, Scope};

use crate::school::directory::Directory;
use crate::school::rule::Rules;

/// Whether the school lets its teachers' computers sync with the académie's server when away
/// from school (its director's switch, replicated with the directory): the hub admits them
/// and the appliance names the hub to them only then.
pub fn away_sync(dir: &Directory) -> bool {
    dir.school.as_ref().is_some_and(|s| s.info.away_sync)
}

/// Who sends the changes, as the session's certificate says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The server this replica enrolled with: the hub, which writes the académie's
    /// documents, or for a teacher's device its school's appliance; either relays what the
    /// others made.
    Upstream,
    /// A school's appliance, syncing with the hub: it writes its own school's documents,
    /// never another school's nor the académie's (communes, conventions), though it holds
    /// some of theirs.
    School(preau_sync::Uai),
    /// A teacher's device, with the partitions its certificate grants: it carries its
    /// teacher's work, never the credentials, and of the school's directory only the
    /// switches of the classes it holds (messaging, families: what its teacher may turn herself).
    Device(Scope),
}

impl Sender {
    /// The sender of a session opened under this certificate.
    pub fn of(grant: &preau_sync::certificate::Grant) -> Self {
        match grant.role {
            preau_sync::certificate::Role::Device => Sender::Device(grant.scope.clone()),
            preau_sync::certificate::Role::School => match grant.scope.rules().iter().find_map(|r| match r {
                preau_sync::ScopeRule::School(uai) => Some(uai.clone()),
                _ => None,
            }) {
                Some(uai) => Sender::School(uai),
                // A school's certificate names its school; one that does not writes nothing.
                None => Sender::Device(Scope::default()),
            },
            preau_sync::certificate::Role::Hub => Sender::Upstream,
        }
    }
}

/// The kinds the académie writes, on the hub: a school's server relays them, never makes them.
fn academy_kind(kind: Kind) -> bool {
    matches!(kind, Kind::AcademyStaff | Kind::AcademySettings | Kind::Commune | Kind::Convention | Kind::CanteenMenu)
}

/// Where a kind's documents may live at all: a school's directory at its school, its
/// credentials in its accounts partition, a usage count in its accounts partition too.
fn kind_at_home(address: &DocAddress) -> Result<(), String> {
    let home = match address.kind {
        Kind::SchoolDirectory => matches!(address.partition, Partition::School(_)),
        Kind::Credentials | Kind::UsageMonth => matches!(address.partition, Partition::Accounts(_)),
        _ => true,
    };
    if home { Ok(()) } else { Err(format!("a {} in {}", address.kind, address.partition)) }
}

/// Whether `sender` may make this change at all, before its kind's rule. A school's server
/// and a teacher's device write only their school's partitions (they hold the académie's
/// and their commune's, to read); a usage count only as its own. The directory (who is
/// director, who teaches which class) and the credentials decide every other permission
/// and a device's renewed certificate, so a device writes neither, but for the switches of
/// its own classes.
fn sender_may_write(
    sender: &Sender,
    from: ReplicaId,
    address: &DocAddress,
    before: &Automerge,
    after: &Automerge,
) -> Result<(), String> {
    kind_at_home(address)?;
    if academy_kind(address.kind) {
        return match sender {
            Sender::Upstream => Ok(()),
            _ => Err(format!("only the académie's server writes {}", address.kind)),
        };
    }
    let own = match sender {
        Sender::Upstream => return Ok(()),
        Sender::School(uai) => address.partition.school() == Some(uai),
        Sender::Device(scope) => address.partition.school().is_some() && scope.contains(&address.partition),
    };
    if !own {
        return Err(format!("{} may not write in {}", address.kind, address.partition));
    }
    if address.kind == Kind::UsageMonth && !address.key.as_str().ends_with(&format!(".{from}")) {
        return Err(format!("a usage count keyed {} from {from}", address.key));
    }
    let Sender::Device(scope) = sender else { return Ok(()) };
    let refused = || format!("a teacher's device may not change the school's {}", address.kind);
    match (address.kind, &address.partition) {
        (Kind::SchoolDirectory, Partition::School(uai)) => {
            let (mut was, now) = (state_of::<SchoolDirectory>(before)?, state_of::<SchoolDirectory>(after)?);
            for (id, class) in &mut was.classes {
                let held =
                    preau_sync::LocalId::parse(id).is_ok_and(|c| scope.contains(&Partition::Class(uai.clone(), c)));
                if let (true, Some(new)) = (held, now.classes.get(id)) {
                    (class.unmoderated, class.classmates, class.families_open) =
                        (new.unmoderated, new.classmates, new.families_open);
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
    rules: Arc<Rules>,
}

impl SchoolPolicy {
    /// The policy for changes from `sender`, as of this directory, under these rules.
    pub fn new(dir: Arc<Directory>, sender: Sender, rules: Arc<Rules>) -> Self {
        Self { dir: std::sync::RwLock::new(dir), sender, rules }
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
            _ if changed && let Err(refused) = sender_may_write(&self.sender, from, address, before, after) => {
                Err(refused)
            }
            // The director's, made on the school's appliance (checked above by sender).
            Kind::SchoolDirectory | Kind::Credentials => Ok(()),
            kind => match self.rules.of(kind) {
                Some(rule) => (rule.check)(dir, address, before, after),
                None => Err(format!("no service owns the kind {kind}")),
            },
        };
        if let Err(reason) = &outcome {
            tracing::warn!(%from, doc = %address.id(), kind = %address.kind, %reason, "change from a peer refused");
        }
        outcome
    }

    fn accepted(&self, address: &DocAddress, rows: &[preau_sync::Row]) {
        if address.kind.read_by_policies() {
            let mut dir = self.dir.write().unwrap_or_else(|p| p.into_inner());
            *dir = Arc::new(dir.with_rows(address.kind, rows));
        }
    }
}
