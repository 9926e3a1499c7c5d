//! The time of day, as the appliance keeps it (UTC milliseconds and ISO dates).

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
