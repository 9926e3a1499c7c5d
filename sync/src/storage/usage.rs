//! Usage's read model: every replica's counts added up, by school, day, profile and service;
//! accounts active counted once per month whichever replicas saw them.

use super::sql::args_of;
use super::{Tx, placeholders};
use crate::error::Result;
use crate::ids::Uai;

/// Counts of some schools' use: `(uai, day, profile, service, count)`, days from `from` to
/// `to` (`YYYY-MM-DD`) included.
pub type UsageCounts = Vec<(String, String, String, String, i64)>;

/// Accounts active: `(uai, month, profile, accounts)`.
pub type ActiveAccounts = Vec<(String, String, String, i64)>;

impl Tx<'_> {
    fn usage_counts(&self, schools: &[Uai], from: &str, to: &str) -> Result<UsageCounts> {
        let sql = format!(
            "SELECT uai, day, profile, service, CAST(sum(count) AS INTEGER) FROM usage_count
             WHERE uai IN ({}) AND day >= ? AND day <= ?
             GROUP BY uai, day, profile, service ORDER BY uai, day, profile, service",
            placeholders(schools.len())
        );
        let mut args: Vec<String> = schools.iter().map(ToString::to_string).collect();
        args.extend([from.to_owned(), to.to_owned()]);
        self.0.query(&sql, &args_of(&args), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
    }

    fn active_accounts(&self, schools: &[Uai], from: &str, to: &str) -> Result<ActiveAccounts> {
        let sql = format!(
            "SELECT uai, month, profile, count(DISTINCT account) FROM usage_active
             WHERE uai IN ({}) AND month >= ? AND month <= ?
             GROUP BY uai, month, profile ORDER BY uai, month, profile",
            placeholders(schools.len())
        );
        let mut args: Vec<String> = schools.iter().map(ToString::to_string).collect();
        args.extend([from.to_owned(), to.to_owned()]);
        self.0.query(&sql, &args_of(&args), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
    }
}

impl crate::reader::Reader {
    /// Every replica's counts of `schools`' use from `from` to `to` (days), added up.
    pub fn usage_counts(&self, schools: &[Uai], from: &str, to: &str) -> Result<UsageCounts> {
        self.storage.read(|tx| tx.usage_counts(schools, from, to))
    }

    /// The accounts active in `schools` each month from `from` to `to` (`YYYY-MM`), each
    /// counted once whichever replicas saw it.
    pub fn active_accounts(&self, schools: &[Uai], from: &str, to: &str) -> Result<ActiveAccounts> {
        self.storage.read(|tx| tx.active_accounts(schools, from, to))
    }
}
