//! The rules of the académie's kinds, checked on every edit the console makes and on every
//! change the hub sends a school (which writes none of them: `replication::policy` refuses
//! them from anyone but the hub). They say what a well-formed document is; who may make it
//! is the console's (`academy::manages_*`), and what spans documents (a class covered by
//! two conventions) its domain functions'.

use preau_sync::kinds::academy::StaffAccount;
use preau_sync::kinds::convention::STATUSES;
use preau_sync::kinds::{AcademySettings, AcademyStaff, CanteenMenu, Commune, Convention, UsageMonth};
use preau_sync::{Insee, Partition, Uai};

use super::Role;
use crate::kind_rule;
use crate::school::directory::Directory;
use crate::school::rule::KindRule;

/// The académie's kinds and their rules.
pub const RULES: &[KindRule] = &[
    kind_rule!(AcademyStaff, staff),
    kind_rule!(AcademySettings, settings),
    kind_rule!(Commune, commune),
    kind_rule!(Convention, convention),
    kind_rule!(UsageMonth, super::usage::rule),
    kind_rule!(CanteenMenu, super::portal::menu_rule),
];

fn at(partition: &Partition, expected: &Partition) -> Result<(), String> {
    if partition == expected { Ok(()) } else { Err(format!("in {partition}, not {expected}")) }
}

pub(super) fn staff(
    _: &Directory,
    partition: &Partition,
    _: &AcademyStaff,
    after: &AcademyStaff,
) -> Result<(), String> {
    at(partition, &Partition::AcademyAdmin)?;
    let mut logins = std::collections::HashSet::new();
    for (id, a) in &after.accounts {
        let StaffAccount { login, role, commune, .. } = a;
        let role = Role::parse(role).ok_or_else(|| format!("account {id}: role {role:?}"))?;
        if role.of_commune() != Insee::parse(commune).is_ok() {
            return Err(format!("account {id}: commune {commune:?} for the role {}", role.as_str()));
        }
        if login.is_empty() || !logins.insert(login.to_lowercase()) {
            return Err(format!("account {id}: login {login:?} empty or taken"));
        }
    }
    Ok(())
}

/// A school year as the académie writes it: `2026-2027`.
pub fn school_year(year: &str) -> bool {
    let Some((a, b)) = year.split_once('-') else { return false };
    let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) else { return false };
    year.len() == 9 && (2000..2200).contains(&a) && b == a + 1
}

pub(super) fn settings(
    _: &Directory,
    partition: &Partition,
    _: &AcademySettings,
    after: &AcademySettings,
) -> Result<(), String> {
    at(partition, &Partition::AcademyAdmin)?;
    for (year, cents) in &after.rates {
        if !school_year(year) || !(0..=100_000).contains(cents) {
            return Err(format!("rate {cents} for {year:?}"));
        }
    }
    Ok(())
}

pub(super) fn commune(_: &Directory, partition: &Partition, _: &Commune, after: &Commune) -> Result<(), String> {
    let Partition::Commune(_) = partition else { return Err(format!("a commune in {partition}")) };
    if after.name.trim().is_empty() {
        return Err("a commune without a name".into());
    }
    if let Some((id, _)) = after.news.iter().find(|(_, n)| n.title.trim().is_empty() || !day(&n.published_on, false)) {
        return Err(format!("news {id}"));
    }
    match after.schools.keys().find(|uai| Uai::parse(uai).is_err()) {
        Some(bad) => Err(format!("school {bad:?}")),
        None => Ok(()),
    }
}

/// A `YYYY-MM-DD` date, or empty when `optional`.
fn day(value: &str, optional: bool) -> bool {
    (optional && value.is_empty()) || crate::platform::text::date(value, "").is_ok()
}

pub(super) fn convention(
    _: &Directory,
    partition: &Partition,
    before: &Convention,
    after: &Convention,
) -> Result<(), String> {
    let Partition::Commune(_) = partition else { return Err(format!("a convention in {partition}")) };
    let c = after;
    let rank = |s: &str| STATUSES.iter().position(|x| *x == s);
    let (Some(now), was) = (rank(&c.status), rank(&before.status)) else {
        return Err(format!("status {:?}", c.status));
    };
    if was.is_some_and(|was| now < was) {
        return Err(format!("status {:?} after {:?}", c.status, before.status));
    }
    if !(day(&c.starts_on, false) && day(&c.ends_on, false) && c.starts_on <= c.ends_on) {
        return Err(format!("dates {:?} to {:?}", c.starts_on, c.ends_on));
    }
    if !day(&c.signed_on, c.status == "draft") || !day(&c.ended_on, c.status != "ended") {
        return Err(format!("signed on {:?}, ended on {:?} while {}", c.signed_on, c.ended_on, c.status));
    }
    for (uai, school) in &c.schools {
        Uai::parse(uai).map_err(|e| e.to_string())?;
        if !day(&school.activated_on, true) || (c.status == "draft" && !school.activated_on.is_empty()) {
            return Err(format!("school {uai} activated on {:?}", school.activated_on));
        }
        for (class, covered) in &school.classes {
            let mut periods = covered.periods().peekable();
            while let Some((since, until)) = periods.next() {
                // Only the latest period may be open; each ends before the next begins.
                let next = periods.peek().map(|(next, _)| *next);
                let ok = !school.activated_on.is_empty()
                    && day(since, false)
                    && day(until, next.is_none())
                    && (until.is_empty() || since <= until)
                    && next.is_none_or(|next| until < next);
                if !ok {
                    return Err(format!("class {class} of {uai} covered {since:?} to {until:?}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_years_are_two_consecutive_years() {
        assert!(school_year("2026-2027"));
        for bad in ["2026-2028", "2026", "26-27", "2026-2027 ", "1999-2000"] {
            assert!(!school_year(bad), "{bad}");
        }
    }
}
