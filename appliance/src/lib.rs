//! Préau's server: the school appliance (and, later, the academy hub). Only this crate
//! knows HTTP and HTML; the replicated store is `preau-sync`.

/// Prints a line on standard output for the command line. `println!` panics when the
/// reader went away (`preau import onde … | head`); this ends the program quietly instead.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::print_line(format_args!($($arg)*)) };
}

/// The body of [`out!`].
pub fn print_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("preau: cannot write the output: {e}");
        std::process::exit(1);
    }
}

pub mod accounts;
pub mod admin;
pub mod agenda;
pub mod api;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod files;
pub mod home;
pub mod homework;
pub mod i18n;
pub mod liaison;
pub mod messaging;
pub mod news;
pub mod onde;
pub mod policy;
pub mod qr;
pub mod ratelimit;
pub mod replication;
pub mod server;
pub mod setup;
pub mod structures;
pub mod text;
pub mod web;

use preau_sync::{Scope, ScopeRule, Uai};

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

/// The partitions a school appliance holds: its school's, and the academy's.
pub fn school_scope(uai: &Uai) -> Scope {
    Scope::new(vec![ScopeRule::School(uai.clone()), ScopeRule::Exact(preau_sync::Partition::Academy)])
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub fn today() -> String {
    date_of_ms(now_ms())
}

/// `YYYY-MM-DD` of a Unix time in milliseconds (UTC; civil-from-days, no calendar crate).
pub fn date_of_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_of_unix_milliseconds() {
        assert_eq!(super::date_of_ms(0), "1970-01-01");
        assert_eq!(super::date_of_ms(1_795_100_000_000), "2026-11-19");
        assert_eq!(super::date_of_ms(951_782_400_000), "2000-02-29");
    }
}
