//! The communes' contributions: for a school year, the pupils its conventions cover on a
//! chosen day (the constat des effectifs, often in October), counted from each school's
//! directory as it stood that day in its own replicated history, times the year's rate.
//! Printed per commune, exported for all.

use preau_sync::Insee;
use std::collections::BTreeMap;

use preau_sync::kinds::SchoolDirectory;

use super::{Console, audit, conventions_of, manages_conventions, rate_of, require, settings, settings_address};
use crate::platform::error::AppError;
use crate::platform::text::{date, iso};
use crate::school::directory::directory_address;
use crate::web::AppState;

/// One school's count.
#[derive(Clone, Debug, Default)]
pub struct SchoolCount {
    /// UAI.
    pub uai: String,
    /// Name, as the commune's record has it.
    pub name: String,
    /// Each class covered that day, with its pupils.
    pub classes: Vec<(String, u64)>,
    /// Pupils covered.
    pub pupils: u64,
}

/// A commune's statement for a school year.
#[derive(Clone, Debug)]
pub struct Statement {
    /// The commune.
    pub insee: Insee,
    /// Its name.
    pub commune: String,
    /// `2026-2027`.
    pub year: String,
    /// The day the pupils were counted.
    pub day: String,
    /// Its schools with a convention covering classes that day.
    pub schools: Vec<SchoolCount>,
    /// Pupils covered.
    pub pupils: u64,
    /// Cents per pupil.
    pub rate: i64,
    /// Cents due.
    pub amount: i64,
}

/// The school year of a day: from 1 September to 31 August.
pub fn year_of(day: &str) -> String {
    let (y, m) = (day[..4].parse::<i32>().unwrap_or(2026), day[5..7].parse::<u8>().unwrap_or(9));
    let start = if m >= 9 { y } else { y - 1 };
    format!("{start}-{}", start + 1)
}

/// The first and last day of a school year (`2026-2027`).
pub fn bounds(year: &str) -> (String, String) {
    let start: i32 = year[..4].parse().unwrap_or(2026);
    (format!("{start}-09-01"), format!("{}-08-31", start + 1))
}

/// The school year and counting day a form asks for: this year and today by default; a
/// day outside its year is refused.
pub fn period(year: Option<&str>, day: Option<&str>) -> Result<(String, String), AppError> {
    let today = crate::platform::clock::today();
    let year = match year.map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) if super::rule::school_year(y) => y.to_owned(),
        Some(y) => return Err(AppError::bad("console-bad-year", format!("{y:?}"))),
        None => year_of(&today),
    };
    let (first, last) = bounds(&year);
    let day = match day.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => iso(date(d, "console-bad-date")?),
        None if today >= first && today <= last => today,
        None => last.clone(),
    };
    if day < first || day > last {
        return Err(AppError::bad("console-day-outside-year", format!("{day} outside {year}")));
    }
    Ok((year, day))
}

/// The end of a day (UTC), in Unix seconds: what a directory's history is read up to.
fn end_of(day: &str) -> Result<i64, AppError> {
    let d = date(day, "console-bad-date")?;
    Ok(d.next_day().unwrap_or(d).midnight().assume_utc().unix_timestamp() - 1)
}

/// A commune's statement for `year`, counted on `day`.
pub async fn statement(state: &AppState, insee: &Insee, year: &str, day: &str) -> Result<Statement, AppError> {
    let commune = super::commune(state, insee)?;
    let until = end_of(day)?;
    // The classes the commune's conventions cover that day, by school.
    let mut covered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, convention) in conventions_of(state, insee)?.iter() {
        for (uai, school) in convention.schools.iter().filter(|(_, s)| !s.activated_on.is_empty()) {
            for class in school.classes.keys().filter(|class| convention.covers(uai, class, day)) {
                covered.entry(uai.clone()).or_default().push(class.clone());
            }
        }
    }
    // Each school's directory as it stood that day: whole documents and their histories,
    // loaded on the writer's thread, off the async workers.
    let uais: Vec<String> = covered.keys().cloned().collect();
    let then = state
        .db
        .run(move |store| {
            uais.iter()
                .map(|uai| {
                    let Ok(id) = preau_sync::Uai::parse(uai) else { return Ok(None) };
                    Ok(store.get_as_of::<SchoolDirectory>(directory_address(&id).id(), until)?)
                })
                .collect::<Result<Vec<_>, AppError>>()
        })
        .await?;
    let mut schools: Vec<SchoolCount> = Vec::new();
    for ((uai, classes), then) in covered.into_iter().zip(then) {
        let then = then.unwrap_or_default();
        let name = commune.schools.get(&uai).map(|s| s.name.clone()).unwrap_or_default();
        let mut count = SchoolCount { uai, name, ..SchoolCount::default() };
        for class in classes {
            let pupils =
                then.people.values().filter(|p| p.profile == "pupil" && !p.archived && p.class_id == class).count()
                    as u64;
            let name = then.classes.get(&class).map_or_else(|| class.clone(), |c| c.name.clone());
            count.classes.push((name, pupils));
            count.pupils += pupils;
        }
        schools.push(count);
    }
    schools.sort_by(|a, b| (&a.name, &a.uai).cmp(&(&b.name, &b.uai)));
    let pupils = schools.iter().map(|s| s.pupils).sum::<u64>();
    let rate = rate_of(settings(state)?.as_ref(), year);
    Ok(Statement {
        insee: insee.clone(),
        commune: commune.name,
        year: year.to_owned(),
        day: day.to_owned(),
        schools,
        pupils,
        rate,
        amount: rate * pupils as i64,
    })
}

/// Every commune's statement.
pub async fn all(state: &AppState, year: &str, day: &str) -> Result<Vec<Statement>, AppError> {
    let mut all = Vec::new();
    for (insee, _) in super::communes(state)?.iter() {
        all.push(statement(state, insee, year, day).await?);
    }
    Ok(all)
}

/// `1 234,50 €`, as a French statement writes an amount.
pub fn euros(cents: i64) -> String {
    let (sign, cents) = if cents < 0 { ("-", -cents) } else { ("", cents) };
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02}\u{a0}€", cents % 100)
}

/// The CSV export: one line per school (`;`-separated, UTF-8 with its byte-order mark, as
/// spreadsheets open French files).
pub fn csv(statements: &[Statement]) -> Result<Vec<u8>, AppError> {
    let mut out = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::from(*b"\xEF\xBB\xBF"));
    let fail = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    out.write_record([
        "annee_scolaire",
        "date_comptage",
        "code_insee",
        "commune",
        "uai",
        "ecole",
        "eleves_couverts",
        "tarif_par_eleve_euros",
        "montant_euros",
    ])
    .map_err(fail)?;
    let plain = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    for s in statements {
        for school in &s.schools {
            out.write_record([
                s.year.as_str(),
                &s.day,
                s.insee.as_str(),
                &s.commune,
                &school.uai,
                &school.name,
                &school.pupils.to_string(),
                &plain(s.rate),
                &plain(s.rate * school.pupils as i64),
            ])
            .map_err(fail)?;
        }
    }
    out.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// Sets a school year's rate from what was typed (`1,50`, `1.5`, `2`): a positive amount.
pub async fn set_rate(state: &AppState, by: &Console, year: &str, typed: &str) -> Result<(), AppError> {
    require(manages_conventions(by), "rates")?;
    let year = year.trim().to_owned();
    if !super::rule::school_year(&year) {
        return Err(AppError::bad("console-bad-year", format!("{year:?}")));
    }
    let cents = parse_euros(typed).ok_or_else(|| AppError::bad("console-bad-rate", format!("{typed:?}")))?;
    let key = year.clone();
    crate::school::edit::under_rule::<preau_sync::kinds::AcademySettings, ()>(
        state,
        settings_address(),
        super::rule::settings,
        move |s| {
            s.rates.insert(key, cents);
            Ok(())
        },
    )
    .await?;
    audit::record(state, by, "rate", &format!("rate/{year}"), &euros(cents))
}

/// Cents from a typed amount of euros, at most 1,000 €; `None` for anything else (a
/// negative amount included).
fn parse_euros(typed: &str) -> Option<i64> {
    let t = typed.trim().trim_end_matches('€').trim().replace(',', ".");
    let (units, frac) = t.split_once('.').unwrap_or((&t, ""));
    if units.is_empty() || !units.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = units.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?;
    (cents <= 100_000).then_some(cents)
}

/// The id of a statement in the audit (printing or exporting is recorded too).
pub fn record_export(state: &AppState, by: &Console, what: &str, year: &str, day: &str) -> Result<(), AppError> {
    audit::record(state, by, "contributions", what, &format!("{year}, {day}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_and_print_as_a_french_statement_writes_them() {
        assert_eq!(parse_euros("1,50"), Some(150));
        assert_eq!(parse_euros("1.5"), Some(150));
        assert_eq!(parse_euros("2 €"), Some(200));
        for bad in ["-1,50", "", "1,505", "abc", "1,5a", "2000"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
        assert_eq!(euros(150), "1,50\u{a0}€");
        assert_eq!(euros(123_456_789), "1\u{202f}234\u{202f}567,89\u{a0}€");
    }

    #[test]
    fn a_school_year_runs_from_september_to_august() {
        assert_eq!(year_of("2026-09-01"), "2026-2027");
        assert_eq!(year_of("2027-08-31"), "2026-2027");
        assert!(period(Some("2026-2027"), Some("2027-09-01")).is_err());
        assert_eq!(period(Some("2026-2027"), Some("2026-10-01")).unwrap().1, "2026-10-01");
    }
}
