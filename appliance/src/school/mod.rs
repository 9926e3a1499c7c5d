//! The school itself: its directory and the permission predicates over it, accounts and
//! logins, structures, setup, the director's pages, the home pages, the hub's front door
//! (`portal`) and families' linked accounts (`family`), ONDE imports, the demo school, and
//! the rule machinery every service's documents go through.

pub mod accounts;
pub mod admin;
pub mod demo;
pub mod directory;
pub mod edit;
pub mod family;
pub mod home;
pub mod onde;
pub mod permissions;
pub mod portal;
pub mod rule;
pub mod setup;
pub mod structures;

use preau_sync::{Scope, ScopeRule, Uai};

/// The partitions a school appliance holds: its school's, and the academy's.
pub fn scope(uai: &Uai) -> Scope {
    Scope::new(vec![ScopeRule::School(uai.clone()), ScopeRule::Exact(preau_sync::Partition::Academy)])
}

/// A school's partitions and its communes' (their portal, menus and conventions), as the
/// hub grants them in the school's certificate once the académie placed it in a commune.
pub fn scope_with_communes(uai: &Uai, communes: impl IntoIterator<Item = preau_sync::Insee>) -> Scope {
    let mut rules = scope(uai).rules().to_vec();
    rules.extend(communes.into_iter().map(|c| ScopeRule::Exact(preau_sync::Partition::Commune(c))));
    Scope::new(rules)
}

/// The communes a certificate's scope grants.
pub fn granted_communes(granted: &Scope) -> Vec<preau_sync::Insee> {
    granted
        .rules()
        .iter()
        .filter_map(|r| match r {
            ScopeRule::Exact(preau_sync::Partition::Commune(c)) => Some(c.clone()),
            _ => None,
        })
        .collect()
}
