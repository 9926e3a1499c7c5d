//! When e-mail may leave: the académie's quiet hours and days in its time zone, a person's
//! own quiet hours on top, her digest's hour, and the evening before a school day.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::platform::config::MailConfig;

/// A span of the day in which nothing is sent: `from` to `until`, over midnight when
/// `until` comes first (`20:00-07:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    from: Time,
    until: Time,
}

impl Quiet {
    /// Reads `HH:MM-HH:MM`; `None` for an empty text (no quiet hours), an error otherwise.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = || format!("{text:?}: expected HH:MM-HH:MM");
        let (from, until) = text.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| Time::strptime("%H:%M", t.trim()).map_err(|_| bad());
        let (from, until) = (time(from)?, time(until)?);
        if from == until {
            return Err(bad());
        }
        Ok(Some(Self { from, until }))
    }

    fn holds(&self, t: Time) -> bool {
        if self.from < self.until { self.from <= t && t < self.until } else { t >= self.from || t < self.until }
    }
}

/// The académie's calendar for e-mail.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    quiet: Option<Quiet>,
    quiet_days: Vec<Weekday>,
}

/// A person's own limits, on top of the académie's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Own {
    /// Her quiet hours.
    pub quiet: Option<Quiet>,
    /// Nothing on Saturdays.
    pub saturday: bool,
}

impl Calendar {
    /// The calendar `config` describes, or what is wrong with it.
    pub fn new(config: &MailConfig) -> Result<Self, String> {
        let tz = TimeZone::get(&config.timezone).map_err(|e| format!("mail.timezone {:?}: {e}", config.timezone))?;
        let quiet = Quiet::parse(&config.quiet_hours).map_err(|e| format!("mail.quiet_hours {e}"))?;
        let quiet_days = config.quiet_days.iter().map(|d| weekday(d)).collect::<Result<_, _>>()?;
        Ok(Self { tz, quiet, quiet_days })
    }

    /// `at` in the académie's time zone.
    pub fn local(&self, at: Timestamp) -> Zoned {
        at.to_zoned(self.tz.clone())
    }

    /// The académie's date at `at`.
    pub fn date(&self, at: Timestamp) -> Date {
        self.local(at).date()
    }

    /// Whether an e-mail may leave at `at` for someone with `own` limits.
    pub fn open(&self, at: Timestamp, own: Own) -> bool {
        let t = self.local(at);
        let day = t.weekday();
        let closed_day = self.quiet_days.contains(&day) || (own.saturday && day == Weekday::Saturday);
        !closed_day && [self.quiet, own.quiet].iter().flatten().all(|q| !q.holds(t.time()))
    }

    /// Her digest's last moment at or before `at`: today at her hour, or yesterday's. A
    /// digest is due while its moment has not been sent and sending is open, so one held by
    /// quiet hours goes when they end, once.
    pub fn digest_moment(&self, at: Timestamp, hour: u8) -> Zoned {
        let t = self.local(at);
        let time = Time::new(i8::try_from(hour.min(23)).unwrap_or(18), 0, 0, 0).unwrap_or(Time::midnight());
        let day = if t.time() >= time { t.date() } else { t.date().yesterday().unwrap_or(t.date()) };
        day.to_datetime(time).to_zoned(self.tz.clone()).unwrap_or(t)
    }

    /// The hours (from 6 to 22) at which a digest may be set, with `own` limits: those an
    /// ordinary Monday is open at, so that a digest goes at its hour, not the next morning.
    pub fn digest_hours(&self, own: Own) -> Vec<u8> {
        let monday = jiff::civil::date(2026, 1, 5);
        (6..=22u8)
            .filter(|h| {
                monday
                    .at(i8::try_from(*h).unwrap_or(0), 0, 0, 0)
                    .to_zoned(self.tz.clone())
                    .is_ok_and(|t| self.open(t.timestamp(), own))
            })
            .collect()
    }

    /// The académie's quiet hours and days, for people to read: (`20 h`, `7 h`), and the
    /// days' numbers from Monday (1) to Sunday (7).
    pub fn quiet(&self) -> (Option<(String, String)>, Vec<i8>) {
        let hm = |t: Time| match t.minute() {
            0 => format!("{} h", t.hour()),
            m => format!("{} h {m:02}", t.hour()),
        };
        let hours = self.quiet.map(|q| (hm(q.from), hm(q.until)));
        let mut days: Vec<i8> = self.quiet_days.iter().map(|d| d.to_monday_one_offset()).collect();
        days.sort_unstable();
        (hours, days)
    }

    /// The school day after `day`: the next day but Saturdays and Sundays.
    pub fn next_school_day(day: Date) -> Date {
        let mut next = day.tomorrow().unwrap_or(day);
        while matches!(next.weekday(), Weekday::Saturday | Weekday::Sunday) {
            next = next.tomorrow().unwrap_or(next);
        }
        next
    }
}

fn weekday(name: &str) -> Result<Weekday, String> {
    let days = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    let lower = name.trim().to_ascii_lowercase();
    days.iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, d)| *d)
        .ok_or_else(|| format!("mail.quiet_days: {name:?} is not a day (monday … sunday)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> Calendar {
        Calendar::new(&MailConfig::default()).unwrap()
    }

    fn at(local: &str) -> Timestamp {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get("Europe/Paris").unwrap())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn quiet_hours_evenings_and_sundays_in_paris() {
        let c = calendar();
        let own = Own::default();
        // Thursday 3 December 2026.
        assert!(c.open(at("2026-12-03T07:00"), own));
        assert!(c.open(at("2026-12-03T19:59"), own));
        assert!(!c.open(at("2026-12-03T20:00"), own));
        assert!(!c.open(at("2026-12-03T23:30"), own));
        assert!(!c.open(at("2026-12-04T06:59"), own));
        assert!(!c.open(at("2026-12-06T12:00"), own), "Sunday");
        assert!(c.open(at("2026-12-05T12:00"), own), "Saturday");
        assert!(!c.open(at("2026-12-05T12:00"), Own { saturday: true, ..own }));
        let narrower = Own { quiet: Quiet::parse("18:00-08:30").unwrap(), saturday: false };
        assert!(!c.open(at("2026-12-03T18:30"), narrower));
        assert!(!c.open(at("2026-12-03T08:00"), narrower));
        assert!(c.open(at("2026-12-03T08:30"), narrower));
        // Summer time: 07:00 in Paris is 05:00 UTC.
        assert!(c.open("2026-07-02T05:00:00Z".parse().unwrap(), own));
        assert!(!c.open("2026-07-02T04:59:00Z".parse().unwrap(), own));
    }

    #[test]
    fn a_digest_moment_is_today_at_its_hour_or_yesterdays() {
        let c = calendar();
        let moment = |now: &str, hour| c.digest_moment(at(now), hour).datetime().to_string();
        assert_eq!(moment("2026-12-03T17:59", 18), "2026-12-02T18:00:00");
        assert_eq!(moment("2026-12-03T18:00", 18), "2026-12-03T18:00:00");
        assert_eq!(moment("2026-12-04T07:00", 21), "2026-12-03T21:00:00");
    }

    #[test]
    fn digests_are_offered_at_the_hours_the_académie_sends() {
        let c = calendar();
        assert_eq!(c.digest_hours(Own::default()), (7..=19).collect::<Vec<u8>>());
        let evenings = Own { quiet: Quiet::parse("17:30-08:00").unwrap(), saturday: false };
        assert_eq!(c.digest_hours(evenings), (8..=17).collect::<Vec<u8>>());
        assert_eq!(c.quiet(), (Some(("20 h".into(), "7 h".into())), vec![7]));
    }

    #[test]
    fn bad_settings_are_refused_with_their_reason() {
        for (hours, days, tz) in
            [("20h-7h", "sunday", "Europe/Paris"), ("", "dimanche", "Europe/Paris"), ("", "", "Mars/Olympus")]
        {
            let config = MailConfig {
                quiet_hours: hours.into(),
                quiet_days: vec![days.into()].into_iter().filter(|d: &String| !d.is_empty()).collect(),
                timezone: tz.into(),
                ..MailConfig::default()
            };
            assert!(Calendar::new(&config).is_err(), "{hours} {days} {tz}");
        }
        assert_eq!(Calendar::next_school_day("2026-12-04".parse().unwrap()).to_string(), "2026-12-07");
    }
}
