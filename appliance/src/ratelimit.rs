//! Failed-login counters, per account and per client address, in memory: a burst of wrong
//! guesses locks the target for a while, whatever the guessing method.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures within which window lock a key.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Failures allowed within `window`.
    pub failures: usize,
    /// The sliding window.
    pub window: Duration,
}

/// Per account: 5 wrong passwords in 15 minutes.
pub const ACCOUNT: Limit = Limit { failures: 5, window: Duration::from_secs(15 * 60) };
/// Per pupil for picture logins: small hands make mistakes, so 8 in 5 minutes.
pub const PICTURES: Limit = Limit { failures: 8, window: Duration::from_secs(5 * 60) };
/// Per client address, for password logins and QR cards: 30 failures in 15 minutes.
pub const ADDRESS: Limit = Limit { failures: 30, window: Duration::from_secs(15 * 60) };
/// Per client address for picture logins: a class's shared tablet sees many small mistakes,
/// and each pupil is limited on their own (`PICTURES`).
pub const PICTURES_ADDRESS: Limit = Limit { failures: 100, window: Duration::from_secs(15 * 60) };

/// The counters.
#[derive(Default)]
pub struct RateLimits {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimits {
    /// Whether `key` may try again now.
    pub fn allowed(&self, key: &str, limit: Limit) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(key) else { return true };
        while times.front().is_some_and(|t| t.elapsed() > limit.window) {
            times.pop_front();
        }
        times.len() < limit.failures
    }

    /// Records a failure against `key`.
    pub fn fail(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded memory: forget everything old when the table grows large.
        if map.len() > 100_000 {
            map.retain(|_, t| t.back().is_some_and(|t| t.elapsed() < Duration::from_secs(3600)));
        }
        let times = map.entry(key.to_owned()).or_default();
        times.push_back(Instant::now());
        if times.len() > 64 {
            times.pop_front();
        }
    }

    /// Takes back the most recent failure of `key` (it was counted before a check that
    /// then succeeded).
    pub fn forgive(&self, key: &str) {
        if let Some(times) = self.failures.lock().unwrap_or_else(|p| p.into_inner()).get_mut(key) {
            times.pop_back();
        }
    }

    /// Forgets `key`'s failures (after a success, or when a teacher unlocks a pupil).
    pub fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// The key for an account.
pub fn account_key(login: &str) -> String {
    format!("account:{}", login.trim().to_lowercase())
}

/// The key for a client address (IPv6 clients by their /64, which one host usually owns).
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip {
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

    #[test]
    fn a_burst_of_failures_locks_and_success_clears() {
        let limits = RateLimits::default();
        let limit = Limit { failures: 3, window: Duration::from_secs(60) };
        for _ in 0..3 {
            assert!(limits.allowed("k", limit));
            limits.fail("k");
        }
        assert!(!limits.allowed("k", limit));
        assert!(limits.allowed("other", limit), "keys are independent");
        limits.clear("k");
        assert!(limits.allowed("k", limit));
        let short = Limit { failures: 1, window: Duration::from_millis(1) };
        limits.fail("s");
        std::thread::sleep(Duration::from_millis(5));
        assert!(limits.allowed("s", short), "old failures leave the window");
    }
}
