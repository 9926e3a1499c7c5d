//! The hub's families: accounts that one family linked (`school::family`), kept by the hub
//! alone. A family is a set of accounts, each in at most one; linking two accounts makes
//! their families one, and an account leaves its family alone. Each account keeps the mark
//! of the credentials that proved it (`proof`), which the family's pages check.

use preau_sync::Uai;
use preau_sync::sql::{Conn, args};

use super::Links;
use crate::platform::error::AppError;

/// Accounts one family may link: a household's parents' accounts in a few schools. Past
/// it, a link is refused (a table nobody can fill).
pub const FAMILY_MAX: usize = 8;

/// One school's account: its school and its user id there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Account {
    /// The school.
    pub school: Uai,
    /// The user id, within that school.
    pub user: String,
}

/// An account of a family, with what proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The account.
    pub account: Account,
    /// The mark of its credentials when it was linked (or last renewed).
    pub proof: Vec<u8>,
}

/// Why two accounts were not linked.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefused {
    /// They already are.
    Already,
    /// The family would pass [`FAMILY_MAX`].
    TooMany,
}

impl Links {
    /// The accounts of `account`'s family, itself included, in a stable order (none if it
    /// is in no family).
    pub fn family(&self, account: &Account) -> Result<Vec<Member>, AppError> {
        let found: Vec<(String, String, Vec<u8>)> = self.with(|c| {
            c.query(
                "SELECT school, user_id, proof FROM family_member WHERE family =
                   (SELECT family FROM family_member WHERE school = ? AND user_id = ?) ORDER BY school, user_id",
                args![account.school.to_string(), account.user],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })?;
        Ok(found
            .into_iter()
            .filter_map(|(school, user, proof)| {
                Some(Member { account: Account { school: Uai::parse(&school).ok()?, user }, proof })
            })
            .collect())
    }

    /// Keeps a new proof for `account` (its holder proved its new credentials).
    pub fn renew_proof(&self, account: &Account, proof: &[u8]) -> Result<(), AppError> {
        self.with(|c| {
            c.execute(
                "UPDATE family_member SET proof = ? WHERE school = ? AND user_id = ?",
                args![proof, account.school.to_string(), account.user],
            )
            .map(drop)
        })
    }

    /// Links `a` and `b`, each with the proof of its credentials: their families become one.
    pub fn link(
        &self,
        (a, a_proof): (&Account, &[u8]),
        (b, b_proof): (&Account, &[u8]),
    ) -> Result<Result<(), LinkRefused>, AppError> {
        self.write(|tx| {
            let family_of = |x: &Account| -> preau_sync::Result<Option<String>> {
                tx.query_opt(
                    "SELECT family FROM family_member WHERE school = ? AND user_id = ?",
                    args![x.school.to_string(), x.user],
                    |r| r.get(0),
                )
            };
            let (fa, fb) = (family_of(a)?, family_of(b)?);
            if a == b || (fa.is_some() && fa == fb) {
                return Ok(Err(LinkRefused::Already));
            }
            let size = |f: &Option<String>| -> preau_sync::Result<usize> {
                match f {
                    Some(f) => tx.query_one("SELECT count(*) FROM family_member WHERE family = ?", args![f], |r| {
                        r.get::<i64>(0).map(|n| n as usize)
                    }),
                    None => Ok(1),
                }
            };
            if size(&fa)? + size(&fb)? > FAMILY_MAX {
                return Ok(Err(LinkRefused::TooMany));
            }
            let family =
                fa.clone().or_else(|| fb.clone()).unwrap_or_else(|| hex::encode(crate::platform::random_bytes::<16>()));
            let now = crate::platform::clock::now_ms();
            for (x, proof) in [(a, a_proof), (b, b_proof)] {
                tx.execute(
                    "INSERT INTO family_member (school, user_id, family, linked_at, proof) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (school, user_id) DO UPDATE SET proof = excluded.proof",
                    args![x.school.to_string(), x.user, family, now, proof],
                )?;
            }
            if let (Some(fa), Some(fb)) = (&fa, &fb) {
                tx.execute("UPDATE family_member SET family = ? WHERE family = ?", args![fa, fb])?;
            }
            Ok(Ok(()))
        })
    }

    /// Takes `account` out of its family; a family left with one account is none. Whether
    /// it was in one.
    pub fn unlink(&self, account: &Account) -> Result<bool, AppError> {
        self.write(|tx: &Conn| {
            let family: Option<String> = tx.query_opt(
                "DELETE FROM family_member WHERE school = ? AND user_id = ? RETURNING family",
                args![account.school.to_string(), account.user],
                |r| r.get(0),
            )?;
            if let Some(family) = &family {
                tx.execute(
                    "DELETE FROM family_member WHERE family = ?1 AND (SELECT count(*) FROM family_member WHERE family = ?1) = 1",
                    args![family],
                )?;
            }
            Ok(family.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(school: &str, user: &str) -> Account {
        Account { school: Uai::parse(school).unwrap(), user: user.into() }
    }

    #[test]
    fn families_merge_and_an_account_leaves_its_own_alone() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(&dir.path().join("links.db")).unwrap();
        let (a, b, c, d) = (
            account("0351234A", "a1"),
            account("0990001X", "b1"),
            account("0990001X", "c1"),
            account("0290001A", "d1"),
        );
        let accounts =
            |x: &Account| -> Vec<Account> { links.family(x).unwrap().into_iter().map(|m| m.account).collect() };
        assert!(accounts(&a).is_empty(), "in no family");
        let p = |x: &Account| x.user.as_bytes().to_vec();
        links.link((&a, &p(&a)), (&b, &p(&b))).unwrap().unwrap();
        links.link((&c, &p(&c)), (&d, &p(&d))).unwrap().unwrap();
        assert_eq!(links.link((&b, &p(&b)), (&a, &p(&a))).unwrap(), Err(LinkRefused::Already));
        assert_eq!(links.link((&a, &p(&a)), (&a, &p(&a))).unwrap(), Err(LinkRefused::Already));
        links.link((&b, &p(&b)), (&d, &p(&d))).unwrap().unwrap();
        let mut all = vec![a.clone(), b.clone(), c.clone(), d.clone()];
        all.sort();
        for x in &all {
            assert_eq!(accounts(x), all, "one family of four");
        }
        assert!(links.family(&a).unwrap().iter().all(|m| m.proof == p(&m.account)), "each with its proof");
        links.renew_proof(&a, b"new").unwrap();
        assert_eq!(links.family(&c).unwrap().iter().find(|m| m.account == a).unwrap().proof, b"new");
        assert!(links.unlink(&b).unwrap());
        assert!(accounts(&b).is_empty());
        assert_eq!(accounts(&a).len(), 3);
        assert!(links.unlink(&a).unwrap() && links.unlink(&c).unwrap());
        assert!(accounts(&d).is_empty(), "a family of one is none");
        assert!(!links.unlink(&d).unwrap());
    }

    #[test]
    fn a_family_has_at_most_eight_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::open(&dir.path().join("links.db")).unwrap();
        let first = account("0351234A", "p0");
        for i in 1..FAMILY_MAX {
            links.link((&first, b"p"), (&account("0351234A", &format!("p{i}")), b"p")).unwrap().unwrap();
        }
        let more = links.link((&first, b"p"), (&account("0351234A", "one-more"), b"p")).unwrap();
        assert_eq!(more, Err(LinkRefused::TooMany));
    }
}
