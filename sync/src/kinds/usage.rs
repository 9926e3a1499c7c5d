//! What one replica counted of a school's use in one month (partition
//! `school/{uai}/accounts`, key `{YYYY-MM}.{replica id}`): connections and visits per day,
//! profile and service, and which accounts were active. One writer per document, its
//! replica, so nothing concurrent ever merges; the hub adds up every replica's. The
//! accounts active sit beside the credentials (the appliance and the hub, never a teacher's
//! computer) and never leave them: what pages and exports show are counts.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, Kind, ProjectionContext, Row, Table, TableDef};

/// A month's counts by one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct UsageMonth {
    /// Day of the month (`05`) → `profile/service` → count. The service `connexion` counts
    /// sessions opened; any other, a session's first page of that service that day.
    pub days: BTreeMap<String, BTreeMap<String, i64>>,
    /// Account id → profile, for the accounts active this month here.
    pub active: BTreeMap<String, String>,
}

/// `usage_count`: one row per day, profile and service.
pub(crate) const USAGE_COUNT: TableDef =
    TableDef::new("usage_count", &["doc_id", "uai", "day", "profile", "service", "count"]);

/// `usage_active`: one row per account active in the month (read only to count them).
pub(crate) const USAGE_ACTIVE: TableDef =
    TableDef::new("usage_active", &["doc_id", "uai", "month", "account", "profile"]);

impl DocKind for UsageMonth {
    const KIND: Kind = Kind::UsageMonth;
    type State = UsageMonth;

    fn project(ctx: &ProjectionContext<'_>, state: &Self, out: &mut Vec<Row>) {
        let uai = ctx.partition.school().map(ToString::to_string).unwrap_or_default();
        let month = ctx.key.split('.').next().unwrap_or_default();
        for (day, counts) in &state.days {
            for (what, count) in counts {
                let (profile, service) = what.split_once('/').unwrap_or((what, ""));
                out.push(Row::new(
                    Table::UsageCount,
                    vec![
                        ctx.id.to_string().into(),
                        uai.as_str().into(),
                        format!("{month}-{day}").into(),
                        profile.into(),
                        service.into(),
                        (*count).into(),
                    ],
                ));
            }
        }
        for (account, profile) in &state.active {
            out.push(Row::new(
                Table::UsageActive,
                vec![
                    ctx.id.to_string().into(),
                    uai.as_str().into(),
                    month.into(),
                    account.as_str().into(),
                    profile.as_str().into(),
                ],
            ));
        }
    }
}
