//! Throttling: guesses (logins, codes) wait longer after each failure instead of
//! locking anyone out, and a few rates are capped. The policy and its numbers are in
//! ARCHITECTURE.md ("Logins and throttling"); the constants below are that policy.

use std::net::IpAddr;
use std::time::Duration;

use preau_sync::sql::args;

use super::clock::now_ms;
use super::records::Records;

/// Growing delays: `free` failures cost nothing, then each next try must wait `first`,
/// doubling per failure up to `max`, counted from the latest failure. A key quiet for
/// `forget` starts afresh.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Failures before any delay.
    pub free: u32,
    /// The first delay.
    pub first: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Quiet time after which failures are forgotten.
    pub forget: Duration,
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// One account tried from one address (or one known device): the owner mistyping.
pub const PAIR: Backoff =
    Backoff { free: 5, first: Duration::from_secs(30), max: Duration::from_secs(3600), forget: DAY };
/// One account tried from devices it does not know, whatever their address.
pub const ACCOUNT: Backoff =
    Backoff { free: 20, first: Duration::from_secs(60), max: Duration::from_secs(3600), forget: DAY };
/// One address trying accounts from devices they do not know (password spraying).
pub const ADDRESS: Backoff =
    Backoff { free: 50, first: Duration::from_secs(30), max: Duration::from_secs(15 * 60), forget: DAY };
/// One address showing unknown QR cards (256-bit secrets: this only keeps scanners slow).
pub const QR_ADDRESS: Backoff =
    Backoff { free: 20, first: Duration::from_secs(10), max: Duration::from_secs(15 * 60), forget: DAY };
/// Wrong picture sequences in a row after which a pupil waits for their teacher.
pub const PUPIL_LOCK_AFTER: u32 = 5;

impl Backoff {
    /// The delay owed after `failures` failures.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(20);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// A cap on a rate: at most `failures` events within the sliding `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Events allowed within `window`.
    pub failures: usize,
    /// The sliding window.
    pub window: Duration,
}

/// The counters, in the server's records: a restart forgets no failure, and every process
/// of a hub counts against the same ones.
pub struct RateLimits {
    records: Records,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What a refusal costs when the records cannot be read: a try is refused rather than let
/// through uncounted (the server is failing anyway, and says so in its log).
const UNREADABLE: Duration = Duration::from_secs(60);

impl RateLimits {
    /// The counters kept in `records`.
    pub fn new(records: Records) -> Self {
        Self { records }
    }

    /// Counts one try against every key, unless one of them must still wait: then nothing
    /// is counted and the longest wait is returned. Counted before the (slow) check, in one
    /// transaction, so that parallel guesses (on any hub process) cannot slip under the
    /// limits; [`RateLimits::succeeded`] takes it back.
    pub fn attempt(&self, keys: &[(&str, Backoff)]) -> Result<(), Duration> {
        let now = now_ms();
        let wait = self.records.write(|c| {
            let mut wait = 0i64;
            for (key, backoff) in keys {
                let found = c.query_opt("SELECT count, last_at FROM throttle_failure WHERE key = ?", args![key], |r| {
                    Ok((r.get::<u32>(0)?, r.get::<i64>(1)?))
                })?;
                if let Some((count, last)) = found {
                    let since = (now - last).max(0);
                    if since < ms(backoff.forget) {
                        wait = wait.max(ms(backoff.delay(count)) - since);
                    }
                }
            }
            if wait > 0 {
                return Ok(wait);
            }
            for (key, backoff) in keys {
                c.execute(
                    "INSERT INTO throttle_failure (key, count, last_at) VALUES (?1, 1, ?2) ON CONFLICT (key) DO UPDATE \
                     SET count = CASE WHEN ?2 - throttle_failure.last_at >= ?3 THEN 1 ELSE throttle_failure.count + 1 END, \
                     last_at = ?2",
                    args![key, now, ms(backoff.forget)],
                )?;
            }
            Ok(0)
        });
        match wait {
            Ok(0) => Ok(()),
            Ok(wait) => Err(Duration::from_millis(wait.unsigned_abs())),
            Err(e) => {
                tracing::error!(error = %e, "throttling: records unreadable, try refused");
                Err(UNREADABLE)
            }
        }
    }

    /// The try counted by [`RateLimits::attempt`] succeeded: `cleared` keys start afresh,
    /// `forgiven` keys lose that one failure (an attacker's count on the same account is
    /// not wiped by its owner's success).
    pub fn succeeded(&self, cleared: &[&str], forgiven: &[&str]) {
        let done = self.records.write(|c| {
            for key in cleared {
                c.execute("DELETE FROM throttle_failure WHERE key = ?", args![key])?;
            }
            for key in forgiven {
                c.execute(
                    "UPDATE throttle_failure SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END WHERE key = ?",
                    args![key],
                )?;
            }
            Ok(())
        });
        if let Err(e) = done {
            tracing::error!(error = %e, "throttling: a success not recorded");
        }
    }

    /// Whether `key` may have one more event within `limit`; if so, counts it.
    pub fn take(&self, key: &str, limit: Limit) -> bool {
        let now = now_ms();
        let taken = self.records.write(|c| {
            c.execute("DELETE FROM throttle_event WHERE key = ? AND at <= ?", args![key, now - ms(limit.window)])?;
            let n: i64 = c.query_one("SELECT count(*) FROM throttle_event WHERE key = ?", args![key], |r| r.get(0))?;
            if n >= limit.failures as i64 {
                return Ok(false);
            }
            c.execute("INSERT INTO throttle_event (key, at) VALUES (?, ?)", args![key, now])?;
            Ok(true)
        });
        taken.unwrap_or_else(|e| {
            tracing::error!(error = %e, "throttling: records unreadable, event refused");
            false
        })
    }

    /// Whether the pupil must wait for their teacher.
    pub fn pupil_locked(&self, pupil: &str) -> bool {
        let failures = self.records.with(|c| {
            c.query_opt("SELECT failures FROM pupil_tries WHERE pupil = ?", args![pupil], |r| r.get::<u32>(0))
        });
        failures.map_or(true, |n| n.unwrap_or(0) >= PUPIL_LOCK_AFTER)
    }

    /// Counts one picture try, unless the pupil is locked (then false): counted before the
    /// check and in one transaction, so parallel tries cannot slip past the fifth.
    pub fn pupil_try(&self, pupil: &str) -> bool {
        let counted = self.records.write(|c| {
            let n = c
                .query_opt("SELECT failures FROM pupil_tries WHERE pupil = ?", args![pupil], |r| r.get::<u32>(0))?
                .unwrap_or(0);
            if n >= PUPIL_LOCK_AFTER {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO pupil_tries (pupil, failures) VALUES (?1, 1) \
                 ON CONFLICT (pupil) DO UPDATE SET failures = pupil_tries.failures + 1",
                args![pupil],
            )?;
            Ok(true)
        });
        counted.unwrap_or(false)
    }

    /// The pupil got in, or their teacher lifted the lock (an error if it could not be
    /// recorded: the teacher is not told it was).
    pub fn pupil_unlock(&self, pupil: &str) -> Result<(), super::error::AppError> {
        self.records.with(|c| c.execute("DELETE FROM pupil_tries WHERE pupil = ?", args![pupil])).map(drop)
    }

    /// Forgets failures and events older than a day (housekeeping): quiet keys start
    /// afresh after [`Backoff::forget`] anyway, and no window is longer.
    pub fn sweep(&self) -> Result<(), super::error::AppError> {
        let before = now_ms() - ms(DAY);
        self.records.write(|c| {
            c.execute("DELETE FROM throttle_failure WHERE last_at < ?", args![before])?;
            c.execute("DELETE FROM throttle_event WHERE at < ?", args![before]).map(drop)
        })
    }
}

/// The key for a client address: IPv6 clients from the internet by their /64, which one
/// host usually owns; on the school's network (where every device shares one /64), by
/// their own address.
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(ip @ IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() && crate::platform::net::is_lan(ip) => {
            format!("addr:{ip}")
        }
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(v6)) => format!("addr:{}", v6.to_ipv4_mapped().expect("checked")),
        Some(ip) => format!("addr:{ip}"),
        None => "addr:unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> (RateLimits, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (RateLimits::new(Records::open_sqlite(&dir.path().join("links.db")).unwrap()), dir)
    }

    const QUICK: Backoff =
        Backoff { free: 2, first: Duration::from_millis(40), max: Duration::from_millis(100), forget: DAY };

    #[test]
    fn delays_grow_after_the_free_failures_up_to_the_maximum() {
        assert_eq!(PAIR.delay(4), Duration::ZERO);
        assert_eq!(PAIR.delay(5), Duration::from_secs(30));
        assert_eq!(PAIR.delay(6), Duration::from_secs(60));
        assert_eq!(PAIR.delay(12), Duration::from_secs(3600));
        assert_eq!(PAIR.delay(u32::MAX), Duration::from_secs(3600), "no overflow");
    }

    #[test]
    fn a_key_that_must_wait_counts_nothing_and_a_success_clears_it() {
        let (limits, _dir) = limits();
        assert!(limits.attempt(&[("k", QUICK)]).is_ok());
        assert!(limits.attempt(&[("k", QUICK)]).is_ok());
        let wait = limits.attempt(&[("k", QUICK), ("other", QUICK)]).unwrap_err();
        assert!(wait <= Duration::from_millis(40) && !wait.is_zero(), "{wait:?}");
        assert!(limits.attempt(&[("other", QUICK)]).is_ok(), "nothing was counted against the other key");
        std::thread::sleep(Duration::from_millis(45));
        assert!(limits.attempt(&[("k", QUICK)]).is_ok(), "after the delay, one more try");
        assert!(limits.attempt(&[("k", QUICK)]).unwrap_err() > Duration::from_millis(40), "and a longer delay");
        limits.succeeded(&["k"], &[]);
        assert!(limits.attempt(&[("k", QUICK)]).is_ok());
    }

    #[test]
    fn forgiving_takes_back_one_failure_only() {
        let (limits, _dir) = limits();
        assert!(limits.attempt(&[("acct", QUICK)]).is_ok() && limits.attempt(&[("acct", QUICK)]).is_ok());
        limits.succeeded(&[], &["acct"]);
        assert!(limits.attempt(&[("acct", QUICK)]).is_ok(), "one failure taken back: one more free try");
        assert!(limits.attempt(&[("acct", QUICK)]).is_err(), "the other one still counts");
    }

    #[test]
    fn a_capped_rate_refuses_past_its_limit() {
        let (limits, _dir) = limits();
        let limit = Limit { failures: 2, window: Duration::from_millis(30) };
        assert!(limits.take("s", limit) && limits.take("s", limit));
        assert!(!limits.take("s", limit));
        std::thread::sleep(Duration::from_millis(40));
        assert!(limits.take("s", limit), "old events leave the window");
    }

    #[test]
    fn a_pupil_is_locked_after_five_tries_until_unlocked() {
        let (limits, _dir) = limits();
        for i in 1..=PUPIL_LOCK_AFTER {
            assert!(!limits.pupil_locked("p") && limits.pupil_try("p"), "{i}");
        }
        assert!(limits.pupil_locked("p") && !limits.pupil_try("p"));
        limits.pupil_unlock("p").unwrap();
        assert!(!limits.pupil_locked("p") && limits.pupil_try("p"));
    }
}
