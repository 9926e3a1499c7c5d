//! The rule of each document kind: one function per kind, `(directory, partition, before,
//! after) -> Ok or why not`, written by the service that owns the kind and checked on every
//! local edit ([`edit`]) and on every change a peer sends (`replication::policy`).

use preau_sync::kinds::{DocKind, state_of};
use preau_sync::{Automerge, DocAddress, Kind, Partition};

use crate::school::directory::Directory;

/// A kind's rule: may `after` follow `before` in the document at `partition`?
pub type Rule<K> = fn(&Directory, &Partition, &<K as DocKind>::State, &<K as DocKind>::State) -> Result<(), String>;

/// Checks a peer's change to a document of kind `K` by `rule`: the typed states before and
/// after it.
pub fn check<K: DocKind>(
    rule: Rule<K>,
    dir: &Directory,
    address: &DocAddress,
    before: &Automerge,
    after: &Automerge,
) -> Result<(), String> {
    rule(dir, &address.partition, &state_of::<K>(before)?, &state_of::<K>(after)?)
}

/// A kind's rule, type-erased so that a service can list it: see [`kind_rule!`].
pub struct KindRule {
    /// The kind.
    pub kind: Kind,
    /// Its rule over whole documents before and after a change.
    pub check: fn(&Directory, &DocAddress, &Automerge, &Automerge) -> Result<(), String>,
}

/// `kind_rule!(HomeworkBook, check_change)`: the [`KindRule`] of a kind and its rule.
#[macro_export]
macro_rules! kind_rule {
    ($kind:ty, $rule:path) => {
        $crate::school::rule::KindRule {
            kind: <$kind as preau_sync::kinds::DocKind>::KIND,
            check: |dir, address, before, after| {
                $crate::school::rule::check::<$kind>($rule, dir, address, before, after)
            },
        }
    };
}

/// Every kind's rule, from every service (the composition root gathers them).
pub struct Rules(Vec<&'static KindRule>);

impl Rules {
    /// The rules; a kind listed twice is a bug of the composition.
    pub fn new(rules: impl IntoIterator<Item = &'static KindRule>) -> Self {
        let rules: Vec<&'static KindRule> = rules.into_iter().collect();
        for (i, rule) in rules.iter().enumerate() {
            assert!(rules[..i].iter().all(|r| r.kind != rule.kind), "two rules for {}", rule.kind);
        }
        Self(rules)
    }

    /// The rule of `kind`, if a service owns it.
    pub fn of(&self, kind: Kind) -> Option<&KindRule> {
        self.0.iter().copied().find(|r| r.kind == kind)
    }
}
