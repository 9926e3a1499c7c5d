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
