//! What people type, checked once for every service: one-line fields, paragraphs and
//! dates. Text is stored as typed (templates escape it when shown); only what no person
//! means to type is refused or dropped.

use time::Date;
use time::macros::format_description;

use crate::platform::error::AppError;

/// A one-line field: trimmed, at most `max` characters, no control characters. Empty is
/// allowed here; callers that need a value say so.
pub fn one_line(value: &str, max: usize, message: &'static str) -> Result<String, AppError> {
    let v = value.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AppError::bad(message, format!("{message}: {} characters or a control character", v.len())));
    }
    Ok(v.to_owned())
}

/// A one-line field that must not be empty.
pub fn required_line(value: &str, max: usize, message: &'static str) -> Result<String, AppError> {
    let v = one_line(value, max, message)?;
    if v.is_empty() {
        return Err(AppError::bad(message, format!("{message}: empty")));
    }
    Ok(v)
}

/// Paragraphs: line endings made `\n`, trailing spaces and outer blank lines dropped, at
/// most `max` characters, no control characters but newlines and tabs.
pub fn paragraphs(value: &str, max: usize, message: &'static str) -> Result<String, AppError> {
    let v = value.replace("\r\n", "\n").replace('\r', "\n");
    let v = v.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    let v = v.trim_matches('\n').to_owned();
    if v.chars().count() > max || v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::bad(message, format!("{message}: {} characters or a control character", v.len())));
    }
    Ok(v)
}

/// A `YYYY-MM-DD` date that exists.
pub fn date(value: &str, message: &'static str) -> Result<Date, AppError> {
    Date::parse(value.trim(), format_description!("[year]-[month]-[day]"))
        .map_err(|e| AppError::bad(message, format!("date {value:?}: {e}")))
}

/// A date as `YYYY-MM-DD`.
pub fn iso(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The Monday of a date's week.
pub fn monday_of(date: Date) -> Date {
    date - time::Duration::days(i64::from(date.weekday().number_days_from_monday()))
}

/// Lowercase without the accents of French (and a few neighbours).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'í' | 'ì' => out.push('i'),
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' | 'ý' => out.push('y'),
            'ç' => out.push('c'),
            'ñ' => out.push('n'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' | '‘' | '`' | '´' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_keep_what_people_typed_and_drop_the_rest() {
        let typed = "\r\n  Lire p. 12 <b>à voix haute</b>  \r\n\r\nPuis répondre.\t \n\n";
        assert_eq!(paragraphs(typed, 100, "x").unwrap(), "  Lire p. 12 <b>à voix haute</b>\n\nPuis répondre.");
        assert!(paragraphs("a\u{0}b", 100, "x").is_err());
        assert!(paragraphs(&"é".repeat(101), 100, "x").is_err());
        assert!(paragraphs(&"é".repeat(100), 100, "x").is_ok());
    }

    #[test]
    fn lines_and_dates() {
        assert_eq!(one_line("  Mathématiques ", 20, "x").unwrap(), "Mathématiques");
        assert!(one_line("a\nb", 20, "x").is_err());
        assert!(required_line("   ", 20, "x").is_err());
        assert_eq!(iso(date("2026-12-03", "x").unwrap()), "2026-12-03");
        assert_eq!(iso(monday_of(date("2026-12-03", "x").unwrap())), "2026-11-30");
        for bad in ["2026-02-30", "03/12/2026", "", "2026-13-01", "9999999-01-01"] {
            assert!(date(bad, "x").is_err(), "{bad}");
        }
    }
}
