//! Usage statistics in the console, in the spirit of the national audience measurement of
//! the ENT: connections and visits per day and month, by commune, school, profile and
//! service, and accounts active per month; every replica's counts added up, appliances'
//! included (counted offline, brought by their syncs). Tables, a server-drawn SVG chart
//! that its table repeats, and a CSV export; counts only, never a person.

use std::collections::BTreeMap;

use preau_sync::{Insee, Uai};

use super::{Console, Role, communes};
use crate::platform::error::AppError;
use crate::platform::text::{date, iso};
use crate::web::AppState;
use crate::web::usage::CONNECTION;

/// Follows usage: the académie's staff, and a commune's for its own schools.
pub fn follows_usage(by: &Console) -> bool {
    matches!(by.role, Role::Rectorat | Role::Dane | Role::Ien) || by.role.of_commune()
}

/// The schools `by` follows, with their commune: `(uai, school, insee, commune)`.
pub fn schools_followed(state: &AppState, by: &Console) -> Result<Vec<(Uai, String, Insee, String)>, AppError> {
    let mut out = Vec::new();
    for (insee, commune) in communes(state)?.iter() {
        if by.role.of_commune() && by.commune.as_ref() != Some(insee) {
            continue;
        }
        for (uai, school) in &commune.schools {
            if let Ok(uai) = Uai::parse(uai) {
                out.push((uai, school.name.clone(), insee.clone(), commune.name.clone()));
            }
        }
    }
    Ok(out)
}

/// What a statistics page asks for.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// First and last day (`YYYY-MM-DD`).
    pub from: String,
    /// See `from`.
    pub to: String,
    /// Only this commune's schools.
    pub commune: Option<Insee>,
    /// Only this school.
    pub school: Option<Uai>,
}

impl Filter {
    /// From a form: the last 30 days by default; a period backwards or longer than two
    /// school years is refused.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        commune: Option<&str>,
        school: Option<&str>,
    ) -> Result<Self, AppError> {
        let today = date(&crate::platform::clock::today(), "console-bad-date")?;
        let day = |v: Option<&str>, default: time::Date| -> Result<time::Date, AppError> {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => date(v, "console-bad-date"),
                None => Ok(default),
            }
        };
        let to = day(to, today)?;
        let from = day(from, to - time::Duration::days(29))?;
        if from > to || (to - from).whole_days() > 731 {
            return Err(AppError::bad("console-bad-period", format!("{from} to {to}")));
        }
        let commune = commune.map(str::trim).filter(|c| !c.is_empty()).map(Insee::parse).transpose();
        let school = school.map(str::trim).filter(|s| !s.is_empty()).map(Uai::parse).transpose();
        Ok(Self {
            from: iso(from),
            to: iso(to),
            commune: commune.map_err(|_| AppError::bad("console-unknown-insee", "usage filter"))?,
            school: school.map_err(|_| AppError::bad("console-unknown-uai", "usage filter"))?,
        })
    }
}

/// The counts for a page: every row `(uai, day, profile, service, count)` of the schools
/// followed and filtered, and the accounts active per month `(uai, month, profile, n)`.
pub struct Counts {
    /// The schools, as [`schools_followed`] lists them, filtered.
    pub schools: Vec<(Uai, String, Insee, String)>,
    /// Every count.
    pub rows: Vec<(String, String, String, String, i64)>,
    /// Active accounts.
    pub active: Vec<(String, String, String, i64)>,
}

/// Reads the counts `by` may see under `filter`.
pub fn counts(state: &AppState, by: &Console, filter: &Filter) -> Result<Counts, AppError> {
    let schools: Vec<_> = schools_followed(state, by)?
        .into_iter()
        .filter(|(uai, _, insee, _)| {
            filter.commune.as_ref().is_none_or(|c| c == insee) && filter.school.as_ref().is_none_or(|s| s == uai)
        })
        .collect();
    let ids: Vec<Uai> = schools.iter().map(|s| s.0.clone()).collect();
    let (from, to) = (filter.from.clone(), filter.to.clone());
    let (rows, active) =
        state.db.read(|r| Ok((r.usage_counts(&ids, &from, &to)?, r.active_accounts(&ids, &from[..7], &to[..7])?)))?;
    Ok(Counts { schools, rows, active })
}

/// Sums of `rows` by a key.
pub fn sum_by<K: Ord>(
    rows: &[(String, String, String, String, i64)],
    key: impl Fn(&(String, String, String, String, i64)) -> Option<K>,
) -> BTreeMap<K, i64> {
    let mut out = BTreeMap::new();
    for row in rows {
        if let Some(k) = key(row) {
            *out.entry(k).or_insert(0) += row.4;
        }
    }
    out
}

/// Whether a count is of connections (else of visits).
pub fn is_connection(service: &str) -> bool {
    service == CONNECTION
}

/// A bar chart of one value per day, drawn as SVG: accessible by its title and by the
/// table the page puts beside it (the same numbers).
pub fn bar_chart(title: &str, days: &[(String, i64)]) -> String {
    let (width, height, left, bottom) = (720.0_f64, 220.0_f64, 40.0_f64, 24.0_f64);
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1) as f64;
    let slot = (width - left) / days.len().max(1) as f64;
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">{}</title>\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{width}\" y2=\"{y0}\" stroke=\"#555\"/>\
         <text x=\"{tx}\" y=\"14\" font-size=\"11\" text-anchor=\"end\">{max}</text>\
         <text x=\"{tx}\" y=\"{y0}\" font-size=\"11\" text-anchor=\"end\">0</text>",
        escape(title),
        y0 = height - bottom,
        tx = left - 4.0,
        max = max as i64,
    );
    let every = (days.len() / 8).max(1);
    for (i, (day, n)) in days.iter().enumerate() {
        let h = (height - bottom - 8.0) * (*n as f64) / max;
        let x = left + i as f64 * slot + slot * 0.1;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#1f5fa8\"><title>{}: {n}</title></rect>",
            height - bottom - h,
            slot * 0.8,
            escape(day)
        ));
        if i % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                x + slot * 0.4,
                height - 6.0,
                escape(&day[5..])
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The CSV export: one line per day, school, profile and service.
pub fn csv(counts: &Counts) -> Result<Vec<u8>, AppError> {
    let mut out = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::from(*b"\xEF\xBB\xBF"));
    let fail = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    out.write_record(["jour", "code_insee", "commune", "uai", "ecole", "profil", "service", "nombre"]).map_err(fail)?;
    for (uai, day, profile, service, n) in &counts.rows {
        let school = counts.schools.iter().find(|s| s.0.as_str() == uai);
        let (name, insee, commune) = school
            .map_or((String::new(), String::new(), String::new()), |s| (s.1.clone(), s.2.to_string(), s.3.clone()));
        out.write_record([day.as_str(), &insee, &commune, uai, &name, profile, service, &n.to_string()])
            .map_err(fail)?;
    }
    out.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_title_and_a_bar_per_day() {
        let svg = bar_chart("Connexions <par jour>", &[("2026-12-01".into(), 3), ("2026-12-02".into(), 0)]);
        assert!(svg.contains("<title id=\"chart-title\">Connexions &lt;par jour&gt;</title>"));
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn a_period_is_forwards_and_at_most_two_years() {
        assert!(Filter::parse(Some("2026-12-02"), Some("2026-12-01"), None, None).is_err());
        assert!(Filter::parse(Some("2023-01-01"), Some("2026-12-01"), None, None).is_err());
        let f = Filter::parse(Some("2026-11-01"), Some("2026-11-30"), Some("35999"), None).unwrap();
        assert_eq!((f.from.as_str(), f.commune.unwrap().as_str()), ("2026-11-01", "35999"));
    }
}
