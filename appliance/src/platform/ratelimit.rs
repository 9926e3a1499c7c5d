//! Throttling, in memory: guesses (logins, codes) wait longer after each failure instead of
//! locking anyone out, and a few rates are capped. The policy and its numbers are in
//! ARCHITECTURE.md ("Logins and throttling"); the constants below are that policy.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The counters.
#[derive(Default)]
pub struct RateLimits {
    backoffs: Mutex<HashMap<String, Failures>>,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Pupils who must wait for their teacher, with their failures in a row.
    pupils: Mutex<HashMap<String, u32>>,
}

/// Bounded memory: past this many keys, the quiet ones are forgotten.
const MAX_KEYS: usize = 100_000;

impl RateLimits {
    /// Counts one try against every key, unless one of them must still wait: then nothing
    /// is counted and the longest wait is returned. Counted before the (slow) check, so
    /// that parallel guesses cannot slip under the limits; [`RateLimits::succeeded`] takes
    /// it back.
    pub fn attempt(&self, keys: &[(&str, Backoff)]) -> Result<(), Duration> {
        let mut map = self.backoffs.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > MAX_KEYS {
            map.retain(|_, f| now.duration_since(f.last) < DAY);
        }
        let mut wait = Duration::ZERO;
        for (key, backoff) in keys {
            if let Some(f) = map.get(*key) {
                let since = now.duration_since(f.last);
                if since < backoff.forget {
                    wait = wait.max(backoff.delay(f.count).saturating_sub(since));
                }
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, backoff) in keys {
            let f = map.entry((*key).to_owned()).or_insert(Failures { count: 0, last: now });
            if now.duration_since(f.last) >= backoff.forget {
                f.count = 0;
            }
            f.count += 1;
            f.last = now;
        }
        Ok(())
    }

    /// The try counted by [`RateLimits::attempt`] succeeded: `cleared` keys start afresh,
    /// `forgiven` keys lose that one failure (an attacker's count on the same account is
    /// not wiped by its owner's success).
    pub fn succeeded(&self, cleared: &[&str], forgiven: &[&str]) {
        let mut map = self.backoffs.lock().unwrap_or_else(|p| p.into_inner());
        for key in cleared {
            map.remove(*key);
        }
        for key in forgiven {
            if let Some(f) = map.get_mut(*key) {
                f.count = f.count.saturating_sub(1);
            }
        }
    }

    /// Whether `key` may have one more event within `limit`; if so, counts it.
    pub fn take(&self, key: &str, limit: Limit) -> bool {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > MAX_KEYS {
            map.retain(|_, t| t.back().is_some_and(|t| t.elapsed() < limit.window));
        }
        let times = map.entry(key.to_owned()).or_default();
        while times.front().is_some_and(|t| t.elapsed() > limit.window) {
            times.pop_front();
        }
        if times.len() >= limit.failures {
            return false;
        }
        times.push_back(Instant::now());
        true
    }

    /// Whether the pupil must wait for their teacher.
    pub fn pupil_locked(&self, pupil: &str) -> bool {
        self.pupils.lock().unwrap_or_else(|p| p.into_inner()).get(pupil).is_some_and(|n| *n >= PUPIL_LOCK_AFTER)
    }

    /// Counts one picture try, unless the pupil is locked (then false): counted before the
    /// check and under one lock, so parallel tries cannot slip past the fifth.
    pub fn pupil_try(&self, pupil: &str) -> bool {
        let mut map = self.pupils.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(pupil.to_owned()).or_default();
        if *n >= PUPIL_LOCK_AFTER {
            return false;
        }
        *n += 1;
        true
    }

    /// The pupil got in, or their teacher lifted the lock.
    pub fn pupil_unlock(&self, pupil: &str) {
        self.pupils.lock().unwrap_or_else(|p| p.into_inner()).remove(pupil);
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
        let limits = RateLimits::default();
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
        let limits = RateLimits::default();
        assert!(limits.attempt(&[("acct", QUICK)]).is_ok() && limits.attempt(&[("acct", QUICK)]).is_ok());
        limits.succeeded(&[], &["acct"]);
        assert!(limits.attempt(&[("acct", QUICK)]).is_ok(), "one failure taken back: one more free try");
        assert!(limits.attempt(&[("acct", QUICK)]).is_err(), "the other one still counts");
    }

    #[test]
    fn a_capped_rate_refuses_past_its_limit() {
        let limits = RateLimits::default();
        let limit = Limit { failures: 2, window: Duration::from_millis(30) };
        assert!(limits.take("s", limit) && limits.take("s", limit));
        assert!(!limits.take("s", limit));
        std::thread::sleep(Duration::from_millis(40));
        assert!(limits.take("s", limit), "old events leave the window");
    }

    #[test]
    fn a_pupil_is_locked_after_five_tries_until_unlocked() {
        let limits = RateLimits::default();
        for i in 1..=PUPIL_LOCK_AFTER {
            assert!(!limits.pupil_locked("p") && limits.pupil_try("p"), "{i}");
        }
        assert!(limits.pupil_locked("p") && !limits.pupil_try("p"));
        limits.pupil_unlock("p");
        assert!(!limits.pupil_locked("p") && limits.pupil_try("p"));
    }
}
