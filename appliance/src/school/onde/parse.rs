//! Pure parser for ONDE CSV extractions (pupils, guardians, teachers) and the simple pupil list.
//!
//! Bytes in, typed rows or the complete list of problems out: nothing here knows about HTTP,
//! SQL or the store. Every line number is the physical line a director sees in a text editor
//! (the header is line 1); line 0 means the file as a whole.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::platform::text::fold;
use encoding_rs::WINDOWS_1252;

/// Largest accepted file. A large school's ONDE extraction weighs well under 1 MiB.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// Most data rows accepted in one file (the header is not counted).
pub const MAX_ROWS: usize = 5_000;

/// Longest excerpt of a cell quoted back in a problem, so a hostile cell cannot flood the report.
const MAX_EXCERPT_CHARS: usize = 60;

/// A successfully parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The rows, typed by the kind of file recognised from its header.
    pub extraction: Extraction,
    /// How the bytes were decoded: `"UTF-8"` or `"windows-1252"`.
    pub encoding: &'static str,
    /// True for the simple `Nom;Prénom;Date de naissance;Sexe` list (then the extraction is pupils).
    pub simple_format: bool,
}

/// The rows of one file, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extraction {
    /// An ONDE pupil extraction, or the simple list for schools without ONDE.
    Pupils(Vec<PupilRow>),
    /// An ONDE guardian extraction, each guardian with the children they are responsible for.
    Guardians(Vec<GuardianRow>),
    /// An ONDE teacher extraction.
    Teachers(Vec<TeacherRow>),
}

/// One pupil.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilRow {
    /// Physical line in the file.
    pub line: usize,
    /// Family name (`Nom Elève`, or `Nom` in the simple list).
    pub last_name: String,
    /// Usage name, empty when not given.
    pub usage_name: String,
    /// First name.
    pub first_name: String,
    /// Birth date, normalised to `YYYY-MM-DD`.
    pub birth_date: String,
    /// `"M"` or `"F"`.
    pub sex: String,
    /// `Adresse1`, `Cp1` and `Commune1` joined with `", "`, empty parts skipped.
    pub address: String,
    /// Cycle as written by ONDE, empty when not given.
    pub cycle: String,
    /// Level (CP, CE1…), empty when not given.
    pub level: String,
    /// Class name, empty when the pupil is not yet assigned to a class.
    pub class_name: String,
    /// `Autorisations photos`: `None` when the cell is empty or the column absent.
    pub photo_consent: Option<bool>,
}

/// A child named on a guardian's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRef {
    /// Usage name, empty when not given.
    pub usage_name: String,
    /// Family name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// Class name as written in `Classes enfants`, possibly empty.
    pub class_name: String,
}

/// One guardian and the children on their row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianRow {
    /// Physical line in the file.
    pub line: usize,
    /// Civility as written (`M.`, `Mme`…).
    pub civility: String,
    /// Usage name, empty when not given.
    pub usage_name: String,
    /// Family name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// Address, postcode and town joined with `", "`, empty parts skipped.
    pub address: String,
    /// E-mail address, empty when not given.
    pub email: String,
    /// Mobile phone, else home phone, else work phone; empty when none is given.
    pub phone: String,
    /// At least one child.
    pub children: Vec<ChildRef>,
}

/// One teacher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherRow {
    /// Physical line in the file.
    pub line: usize,
    /// Civility as written (`M.`, `Mme`…).
    pub civility: String,
    /// Usage name, empty when not given.
    pub usage_name: String,
    /// Family name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// E-mail address, empty when not given.
    pub email: String,
    /// Mobile phone, else home phone; empty when none is given.
    pub phone: String,
    /// `Directeur` is `Oui`.
    pub director: bool,
    /// Classes taught, from `Classe` split on `,`; empty for a teacher without a class.
    pub class_names: Vec<String>,
}

/// A problem found at one line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowError {
    /// Physical line (header = 1); 0 for a problem with the whole file.
    pub line: usize,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a file or one of its lines. Values quoted back are cut to a short excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Problem {
    /// The file holds no data row.
    Empty,
    /// The file is over [`MAX_BYTES`] or holds more than [`MAX_ROWS`] data rows.
    TooLarge {
        /// Size limit, in MiB.
        max_mib: usize,
        /// Data row limit.
        max_rows: usize,
    },
    /// The file is UTF-16 (a spreadsheet's "Unicode text"), which is not read.
    UnsupportedEncoding,
    /// The header matches none of the expected kinds of file.
    UnknownHeader,
    /// A required column is absent from the header.
    MissingColumn {
        /// The column's name as ONDE writes it.
        column: String,
    },
    /// A required cell is empty.
    MissingValue {
        /// The column's name.
        column: String,
    },
    /// A date that is not `dd/mm/yyyy` or `yyyy-mm-dd`, or does not exist.
    BadDate {
        /// The cell as written.
        value: String,
    },
    /// A sex that is not M or F.
    BadSex {
        /// The cell as written.
        value: String,
    },
    /// A yes/no cell that is neither `Oui` nor `Non`.
    BadYesNo {
        /// The column's name.
        column: String,
        /// The cell as written.
        value: String,
    },
    /// A cell with control characters or UTF-8 read as windows-1252: the file mixes encodings.
    BadEncoding {
        /// The column's name.
        column: String,
        /// The cell as decoded.
        value: String,
    },
    /// A quoted cell spans lines: an opening `"` is never closed.
    UnbalancedQuote,
    /// A row has fewer or more cells than the header (a cut line, a stray `;`): its values
    /// would land in the wrong columns.
    FieldCount {
        /// Columns in the header.
        expected: usize,
        /// Cells in the row.
        found: usize,
    },
    /// A guardian row ends in the middle of a four-column child block.
    PartialChildBlock {
        /// 1-based number of the incomplete block.
        child: usize,
    },
    /// A guardian row names no child.
    NoChild,
    /// The same pupil (name, first name and birth date) appears twice.
    DuplicatePupil {
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// The CSV reader refused the row.
    BadRow {
        /// The reader's own description.
        detail: String,
    },
}

impl Problem {
    /// Fluent message id, defined in `ui/locales/{fr,en}/onde.ftl`.
    pub fn fluent_id(&self) -> &'static str {
        match self {
            Problem::Empty => "onde-empty",
            Problem::TooLarge { .. } => "onde-too-large",
            Problem::UnsupportedEncoding => "onde-unsupported-encoding",
            Problem::UnknownHeader => "onde-unknown-header",
            Problem::MissingColumn { .. } => "onde-missing-column",
            Problem::MissingValue { .. } => "onde-missing-value",
            Problem::BadDate { .. } => "onde-bad-date",
            Problem::BadSex { .. } => "onde-bad-sex",
            Problem::BadYesNo { .. } => "onde-bad-yes-no",
            Problem::BadEncoding { .. } => "onde-bad-encoding",
            Problem::UnbalancedQuote => "onde-unbalanced-quote",
            Problem::FieldCount { expected, found } if found < expected => "onde-missing-fields",
            Problem::FieldCount { .. } => "onde-extra-fields",
            Problem::PartialChildBlock { .. } => "onde-partial-child-block",
            Problem::NoChild => "onde-no-child",
            Problem::DuplicatePupil { .. } => "onde-duplicate-pupil",
            Problem::BadRow { .. } => "onde-bad-row",
        }
    }

    /// Fluent arguments of [`Problem::fluent_id`]'s message.
    pub fn fluent_args(&self) -> Vec<(&'static str, String)> {
        match self {
            Problem::Empty
            | Problem::UnsupportedEncoding
            | Problem::UnknownHeader
            | Problem::UnbalancedQuote
            | Problem::NoChild => vec![],
            Problem::TooLarge { max_mib, max_rows } => {
                vec![("max_mib", max_mib.to_string()), ("max_rows", max_rows.to_string())]
            }
            Problem::MissingColumn { column } | Problem::MissingValue { column } => vec![("column", column.clone())],
            Problem::BadDate { value } | Problem::BadSex { value } => vec![("value", value.clone())],
            Problem::BadYesNo { column, value } | Problem::BadEncoding { column, value } => {
                vec![("column", column.clone()), ("value", value.clone())]
            }
            Problem::FieldCount { expected, found } => {
                vec![("expected", expected.to_string()), ("found", found.to_string())]
            }
            Problem::PartialChildBlock { child } => vec![("child", child.to_string())],
            Problem::DuplicatePupil { first_line } => vec![("first_line", first_line.to_string())],
            Problem::BadRow { detail } => vec![("detail", detail.clone())],
        }
    }
}

/// Parses an ONDE extraction (pupils, guardians or teachers) or a simple pupil list.
///
/// Returns every problem found, sorted by line, or the typed rows when there is none.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Vec<RowError>> {
    if bytes.len() > MAX_BYTES {
        return Err(vec![file_error(too_large())]);
    }
    // A CSV never holds NUL: these are UTF-16 bytes, which would decode as windows-1252 garbage.
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) || bytes.contains(&0) {
        return Err(vec![file_error(Problem::UnsupportedEncoding)]);
    }
    let (text, encoding) = decode(bytes);
    let (rows, mut errors) = read_table(&text)?;
    let Some((head, data)) = rows.split_first() else {
        // An unclosed quote may have swallowed the header: then that is the problem to show.
        return Err(if errors.is_empty() { vec![file_error(Problem::Empty)] } else { errors });
    };
    let header = Header::new(head);
    let Some(kind) = Kind::detect(&header) else {
        return Err(refuse(errors, RowError { line: header.line, problem: Problem::UnknownHeader }));
    };
    if data.is_empty() {
        return Err(if errors.is_empty() { vec![file_error(Problem::Empty)] } else { errors });
    }
    for row in data {
        check_encoding(row, &header, &mut errors);
    }
    let extraction = match kind {
        Kind::Pupils => Extraction::Pupils(pupils(&header, data, false, &mut errors)),
        Kind::Simple => Extraction::Pupils(pupils(&header, data, true, &mut errors)),
        Kind::Guardians => Extraction::Guardians(guardians(&header, data, &mut errors)),
        Kind::Teachers => Extraction::Teachers(teachers(&header, data, &mut errors)),
    };
    if errors.is_empty() {
        Ok(Parsed { extraction, encoding, simple_format: kind == Kind::Simple })
    } else {
        Err(in_order(errors))
    }
}

/// The problems found so far and the one that stops the parse, sorted by line.
fn refuse(mut errors: Vec<RowError>, last: RowError) -> Vec<RowError> {
    errors.push(last);
    in_order(errors)
}

/// Problems by line, each once (a row's problems stay in column order).
fn in_order(mut errors: Vec<RowError>) -> Vec<RowError> {
    errors.sort_by_key(|e| e.line);
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.clone()));
    errors
}

fn file_error(problem: Problem) -> RowError {
    RowError { line: 0, problem }
}

fn too_large() -> Problem {
    Problem::TooLarge { max_mib: MAX_BYTES / (1024 * 1024), max_rows: MAX_ROWS }
}

/// Valid UTF-8 (BOM stripped) is taken as such; anything else is what ONDE and French
/// spreadsheets write by default, windows-1252, where every byte decodes.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text)), "UTF-8"),
        Err(_) => (WINDOWS_1252.decode_without_bom_handling(bytes).0, "windows-1252"),
    }
}

/// One non-blank CSV record, cells trimmed.
struct Row {
    line: usize,
    fields: Vec<String>,
}

/// Splits the text into records, skipping blank ones (also Excel's `;;;;` rows).
fn read_table(text: &str) -> Result<(Vec<Row>, Vec<RowError>), Vec<RowError>> {
    let starts = line_starts(text);
    // csv's own line counter lags on CRLF and blank lines, and a record's byte position may
    // point at the previous record's terminator: skip terminators, then count lines ourselves.
    let line_of = |byte: u64| {
        let bytes = text.as_bytes();
        let mut at = usize::try_from(byte).unwrap_or(bytes.len()).min(bytes.len());
        while matches!(bytes.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        starts.partition_point(|&start| start <= at)
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| line_of(p.byte()));
                // Nothing in these files spans lines: the rest of the file is one cell, whose other
                // complaints would only be noise.
                if record.iter().any(|f| f.contains(['\r', '\n'])) {
                    errors.push(RowError { line, problem: Problem::UnbalancedQuote });
                    continue;
                }
                let fields: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
                if fields.iter().all(String::is_empty) {
                    continue;
                }
                // The header plus MAX_ROWS data rows are allowed.
                if rows.len() > MAX_ROWS {
                    return Err(vec![file_error(too_large())]);
                }
                rows.push(Row { line, fields });
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| line_of(p.byte()));
                let fatal = matches!(error.kind(), csv::ErrorKind::Io(_));
                errors.push(RowError { line, problem: Problem::BadRow { detail: excerpt(&error.to_string()) } });
                if fatal {
                    break;
                }
            }
        }
    }
    Ok((rows, errors))
}

/// Byte offsets where each physical line starts; `\r\n`, `\n` and a lone `\r` all end a line,
/// as they do for the csv reader.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i + 1);
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// ONDE writes `;`. A simple list saved by a spreadsheet set to English may use `,` or tabs:
/// those are used only when the first line holds no `;`.
fn delimiter(text: &str) -> u8 {
    let first_line = text.split(['\r', '\n']).find(|l| !l.trim().is_empty()).unwrap_or("");
    if first_line.contains(';') {
        b';'
    } else if first_line.contains('\t') {
        b'\t'
    } else if first_line.contains(',') {
        b','
    } else {
        b';'
    }
}

/// A column's accepted names: the first is the one ONDE writes, used in messages when absent.
type Names = &'static [&'static str];

const PUPIL_LAST: Names = &["Nom Elève"];
const PUPIL_USAGE: Names = &["Nom d'usage Elève"];
const PUPIL_FIRST: Names = &["Prénom Elève"];
const PUPIL_BIRTH: Names = &["Date naissance", "Date de naissance"];
const PUPIL_ADDRESS: Names = &["Adresse1"];
const PUPIL_POSTCODE: Names = &["Cp1"];
const PUPIL_TOWN: Names = &["Commune1"];
const PUPIL_CYCLE: Names = &["Cycle"];
const PUPIL_PHOTOS: Names = &["Autorisations photos"];
const SEX: Names = &["Sexe"];
const LEVEL: Names = &["Niveau"];
const CLASS: Names = &["Classe"];
const COUNTRY: Names = &["Pays"];
const EMAIL: Names = &["Courriel"];
const HOME_PHONE: Names = &["Téléphone domicile"];
const WORK_PHONE: Names = &["Téléphone travail"];
const MOBILE_PHONE: Names = &["Téléphone portable"];

const SIMPLE_LAST: Names = &["Nom", "Nom de famille"];
const SIMPLE_FIRST: Names = &["Prénom"];
const SIMPLE_BIRTH: Names = &["Date de naissance", "Date naissance"];

const GUARDIAN_CIVILITY: Names = &["Civilité Responsable"];
const GUARDIAN_USAGE: Names = &["Nom usage responsable", "Nom d'usage responsable"];
const GUARDIAN_LAST: Names = &["Nom responsable"];
const GUARDIAN_FIRST: Names = &["Prénom responsable"];
const GUARDIAN_ADDRESS: Names = &["Adresse responsable"];
const GUARDIAN_POSTCODE: Names = &["CP responsable"];
const GUARDIAN_TOWN: Names = &["Commune responsable"];
/// One child block, in the order ONDE writes it.
const CHILD: [Names; 4] = [
    &["Nom d'usage enfant"],
    &["Nom de famille enfant"],
    &["Prénom enfant"],
    &["Classes enfants", "Classe enfant", "Classes enfant", "Classe enfants"],
];

const TEACHER_CIVILITY: Names = &["Civilité"];
const TEACHER_USAGE: Names = &["Nom usage", "Nom d'usage"];
const TEACHER_LAST: Names = &["Nom"];
const TEACHER_FIRST: Names = &["Prénom"];
const TEACHER_DIRECTOR: Names = &["Directeur"];

/// The kinds of file, in the order ties are broken when recognising a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pupils,
    Guardians,
    Simple,
    Teachers,
}

impl Kind {
    /// Every column this kind may have: the more a header holds, the likelier the kind.
    fn known(self) -> &'static [Names] {
        match self {
            Kind::Pupils => &[
                PUPIL_LAST,
                PUPIL_USAGE,
                PUPIL_FIRST,
                PUPIL_BIRTH,
                SEX,
                PUPIL_ADDRESS,
                PUPIL_POSTCODE,
                PUPIL_TOWN,
                &["Pays1"],
                &["Adresse2"],
                &["Cp2"],
                &["Commune2"],
                &["Pays2"],
                PUPIL_CYCLE,
                LEVEL,
                CLASS,
                &["Attestation fournie"],
                &["Autorisations associations"],
                PUPIL_PHOTOS,
                &["Décision de passage"],
            ],
            Kind::Guardians => &[
                GUARDIAN_CIVILITY,
                GUARDIAN_USAGE,
                GUARDIAN_LAST,
                GUARDIAN_FIRST,
                GUARDIAN_ADDRESS,
                GUARDIAN_POSTCODE,
                GUARDIAN_TOWN,
                COUNTRY,
                EMAIL,
                HOME_PHONE,
                WORK_PHONE,
                MOBILE_PHONE,
                CHILD[0],
                CHILD[1],
                CHILD[2],
                CHILD[3],
            ],
            Kind::Simple => &[SIMPLE_LAST, SIMPLE_FIRST, SIMPLE_BIRTH, SEX, CLASS, LEVEL],
            Kind::Teachers => &[
                TEACHER_CIVILITY,
                TEACHER_USAGE,
                TEACHER_LAST,
                TEACHER_FIRST,
                &["Adresse"],
                &["CP"],
                &["Commune"],
                COUNTRY,
                EMAIL,
                HOME_PHONE,
                MOBILE_PHONE,
                TEACHER_DIRECTOR,
                CLASS,
            ],
        }
    }

    /// Columns without which the rows cannot be read.
    fn required(self) -> &'static [Names] {
        match self {
            Kind::Pupils => &[PUPIL_LAST, PUPIL_FIRST, PUPIL_BIRTH, SEX, LEVEL, CLASS],
            Kind::Guardians => &[GUARDIAN_LAST, GUARDIAN_FIRST, CHILD[0], CHILD[1], CHILD[2], CHILD[3]],
            Kind::Simple => &[SIMPLE_LAST, SIMPLE_FIRST, SIMPLE_BIRTH, SEX],
            Kind::Teachers => &[TEACHER_LAST, TEACHER_FIRST],
        }
    }

    /// The kind whose columns the header matches best, so that a file missing a required
    /// column is still recognised and the missing column named.
    fn detect(header: &Header) -> Option<Kind> {
        let mut best: Option<(Kind, usize)> = None;
        for kind in [Kind::Pupils, Kind::Guardians, Kind::Simple, Kind::Teachers] {
            let score = kind.known().iter().filter(|names| header.find(names).is_some()).count();
            let has_required = kind.required().iter().any(|names| header.find(names).is_some());
            if score >= 2 && has_required && best.is_none_or(|(_, top)| score > top) {
                best = Some((kind, score));
            }
        }
        best.map(|(kind, _)| kind)
    }
}

/// The header row, with comparison keys.
struct Header {
    line: usize,
    keys: Vec<String>,
    labels: Vec<String>,
}

/// A column resolved in the header.
struct Col {
    index: Option<usize>,
    label: String,
}

impl Header {
    fn new(row: &Row) -> Header {
        let labels: Vec<String> = row.fields.iter().map(|f| f.trim_matches(['"', ' ']).to_owned()).collect();
        Header { line: row.line, keys: labels.iter().map(|l| header_key(l)).collect(), labels }
    }

    fn find(&self, names: Names) -> Option<usize> {
        self.find_in(names, 0..self.keys.len())
    }

    fn find_in(&self, names: Names, range: Range<usize>) -> Option<usize> {
        let wanted: Vec<String> = names.iter().map(|n| header_key(n)).collect();
        let range = range.start.min(self.keys.len())..range.end.min(self.keys.len());
        range.into_iter().find(|&i| wanted.contains(&self.keys[i]))
    }

    /// An optional column.
    fn col(&self, names: Names) -> Col {
        self.resolve(self.find(names), names)
    }

    /// A required column: its absence is reported at the header's line.
    fn need(&self, names: Names, errors: &mut Vec<RowError>) -> Col {
        let col = self.col(names);
        if col.index.is_none() {
            errors.push(RowError { line: self.line, problem: Problem::MissingColumn { column: names[0].to_owned() } });
        }
        col
    }

    fn resolve(&self, index: Option<usize>, names: Names) -> Col {
        let label = index.map_or_else(|| names[0].to_owned(), |i| self.labels[i].clone());
        Col { index, label }
    }

    /// The name of the column at `index`, or its 1-based number past the header's end.
    fn label(&self, index: usize) -> String {
        self.labels.get(index).filter(|l| !l.is_empty()).cloned().unwrap_or_else(|| format!("#{}", index + 1))
    }
}

/// Header comparison key: trimmed, quotes dropped, case- and accent-insensitive, single spaces.
fn header_key(name: &str) -> String {
    fold(name.trim().trim_matches('"')).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Pupil identity key: like [`header_key`], with hyphens and apostrophes as spaces
/// (`Jean-Luc` and `JEAN LUC` are the same child).
fn name_key(name: &str) -> String {
    fold(name).replace(['-', '\''], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reports cells that cannot be right whatever the column: control characters (from bytes
/// windows-1252 leaves undefined, or a binary file) and UTF-8 read as windows-1252 (`Ã©` for
/// `é`), which is what a file half-saved in each encoding gives.
fn check_encoding(row: &Row, header: &Header, errors: &mut Vec<RowError>) {
    for (index, field) in row.fields.iter().enumerate() {
        let unreadable = field.chars().any(|c| (c.is_control() && c != '\t') || c == '\u{FFFD}');
        if unreadable || is_mojibake(field) {
            let problem = Problem::BadEncoding { column: header.label(index), value: excerpt(field) };
            errors.push(RowError { line: row.line, problem });
        }
    }
}

/// True when the cell's windows-1252 bytes are valid UTF-8 spelling Latin letters: French
/// text in windows-1252 essentially never is (it would need `Ã` or `Â` before a symbol).
fn is_mojibake(field: &str) -> bool {
    if field.is_ascii() {
        return false;
    }
    let (bytes, _, unmappable) = WINDOWS_1252.encode(field);
    if unmappable {
        return false;
    }
    std::str::from_utf8(&bytes)
        .is_ok_and(|utf8| utf8.chars().filter(|c| !c.is_ascii()).all(|c| ('\u{C0}'..='\u{17F}').contains(&c)))
}

/// A short excerpt of a cell for a message.
fn excerpt(value: &str) -> String {
    if value.chars().count() <= MAX_EXCERPT_CHARS {
        value.to_owned()
    } else {
        let mut cut: String = value.chars().take(MAX_EXCERPT_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// Reads the cells of one row, reporting problems at its line.
struct Cells<'a> {
    row: &'a Row,
    errors: &'a mut Vec<RowError>,
}

impl<'a> Cells<'a> {
    fn get(&self, col: &Col) -> &'a str {
        let row = self.row;
        col.index.and_then(|i| row.fields.get(i)).map_or("", String::as_str)
    }

    fn text(&self, col: &Col) -> String {
        self.get(col).to_owned()
    }

    fn report(&mut self, problem: Problem) {
        self.errors.push(RowError { line: self.row.line, problem });
    }

    /// A cell that must not be empty (a column absent from the header was already reported).
    fn required(&mut self, col: &Col) -> String {
        let value = self.get(col);
        if value.is_empty() && col.index.is_some() {
            self.report(Problem::MissingValue { column: col.label.clone() });
        }
        value.to_owned()
    }

    /// A required date, `None` when missing or invalid.
    fn date(&mut self, col: &Col) -> Option<String> {
        let value = self.required(col);
        if value.is_empty() {
            return None;
        }
        let date = normalize_date(&value);
        if date.is_none() {
            self.report(Problem::BadDate { value: excerpt(&value) });
        }
        date
    }

    /// A required sex, as `"M"` or `"F"`.
    fn sex(&mut self, col: &Col) -> String {
        let value = self.required(col);
        match fold(&value).as_str() {
            "" => String::new(),
            "m" | "masculin" | "g" | "garcon" => "M".to_owned(),
            "f" | "feminin" | "fille" => "F".to_owned(),
            _ => {
                self.report(Problem::BadSex { value: excerpt(&value) });
                String::new()
            }
        }
    }

    /// `Oui`/`Non`, `None` when empty.
    fn yes_no(&mut self, col: &Col) -> Option<bool> {
        let value = self.get(col);
        match fold(value).as_str() {
            "" => None,
            "oui" => Some(true),
            "non" => Some(false),
            _ => {
                self.report(Problem::BadYesNo { column: col.label.clone(), value: excerpt(value) });
                None
            }
        }
    }

    /// A row has exactly the header's cells: fewer is a cut line, more a stray `;`, and
    /// either shifts values into other columns (a pupil's class read as empty).
    fn same_width(&mut self, header: &Header) {
        let (expected, found) = (header.labels.len(), self.row.fields.len());
        if found != expected {
            self.report(Problem::FieldCount { expected, found });
        }
    }
}

/// `dd/mm/yyyy` (one-digit day and month tolerated, as spreadsheets write them) or
/// `yyyy-mm-dd`, to `YYYY-MM-DD`; `None` for anything else or a day that does not exist.
fn normalize_date(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split('/').collect();
    let (year, month, day) = match parts.as_slice() {
        [day, month, year] => (*year, *month, *day),
        _ => match value.split('-').collect::<Vec<_>>().as_slice() {
            [year, month, day] if month.len() == 2 && day.len() == 2 => (*year, *month, *day),
            _ => return None,
        },
    };
    let number = |digits: &str, lengths: Range<usize>| {
        if lengths.contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse::<u32>().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (number(year, 4..5)?, number(month, 1..3)?, number(day, 1..3)?);
    // Pupils and their guardians: a year outside this range is a typo, not a birth date.
    if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&day).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// Non-empty parts joined with `", "`.
fn join_address(parts: &[&str]) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(", ")
}

fn pupils(header: &Header, data: &[Row], simple: bool, errors: &mut Vec<RowError>) -> Vec<PupilRow> {
    let (last, first, birth) = if simple {
        (header.need(SIMPLE_LAST, errors), header.need(SIMPLE_FIRST, errors), header.need(SIMPLE_BIRTH, errors))
    } else {
        (header.need(PUPIL_LAST, errors), header.need(PUPIL_FIRST, errors), header.need(PUPIL_BIRTH, errors))
    };
    let sex = header.need(SEX, errors);
    // Level and class are required columns in ONDE; the simple list may go without them.
    let (level, class) = if simple {
        (header.col(LEVEL), header.col(CLASS))
    } else {
        (header.need(LEVEL, errors), header.need(CLASS, errors))
    };
    let usage = header.col(PUPIL_USAGE);
    let (address, postcode, town) = (header.col(PUPIL_ADDRESS), header.col(PUPIL_POSTCODE), header.col(PUPIL_TOWN));
    let (cycle, photos) = (header.col(PUPIL_CYCLE), header.col(PUPIL_PHOTOS));

    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut out = Vec::with_capacity(data.len());
    for row in data {
        let mut cells = Cells { row, errors: &mut *errors };
        cells.same_width(header);
        let pupil = PupilRow {
            line: row.line,
            last_name: cells.required(&last),
            usage_name: cells.text(&usage),
            first_name: cells.required(&first),
            birth_date: cells.date(&birth).unwrap_or_default(),
            sex: cells.sex(&sex),
            address: join_address(&[cells.get(&address), cells.get(&postcode), cells.get(&town)]),
            cycle: cells.text(&cycle),
            level: cells.text(&level),
            class_name: cells.text(&class),
            photo_consent: cells.yes_no(&photos),
        };
        if !pupil.last_name.is_empty() && !pupil.first_name.is_empty() && !pupil.birth_date.is_empty() {
            let key = (name_key(&pupil.last_name), name_key(&pupil.first_name), pupil.birth_date.clone());
            if let Some(&first_line) = seen.get(&key) {
                cells.report(Problem::DuplicatePupil { first_line });
            } else {
                seen.insert(key, row.line);
            }
        }
        out.push(pupil);
    }
    out
}

fn teachers(header: &Header, data: &[Row], errors: &mut Vec<RowError>) -> Vec<TeacherRow> {
    let last = header.need(TEACHER_LAST, errors);
    let first = header.need(TEACHER_FIRST, errors);
    let (civility, usage, email) = (header.col(TEACHER_CIVILITY), header.col(TEACHER_USAGE), header.col(EMAIL));
    let (home, mobile) = (header.col(HOME_PHONE), header.col(MOBILE_PHONE));
    let (director, class) = (header.col(TEACHER_DIRECTOR), header.col(CLASS));

    let mut out = Vec::with_capacity(data.len());
    for row in data {
        let mut cells = Cells { row, errors: &mut *errors };
        cells.same_width(header);
        out.push(TeacherRow {
            line: row.line,
            civility: cells.text(&civility),
            usage_name: cells.text(&usage),
            last_name: cells.required(&last),
            first_name: cells.required(&first),
            email: cells.text(&email),
            phone: [cells.get(&mobile), cells.get(&home)].into_iter().find(|p| !p.is_empty()).unwrap_or("").to_owned(),
            director: cells.yes_no(&director).unwrap_or(false),
            class_names: cells
                .get(&class)
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    out
}

/// Where the first child block sits in the header, and each child column's offset in a block.
struct ChildLayout {
    start: usize,
    offsets: [usize; 4],
    labels: [String; 4],
}

/// The first child block must hold the four child columns, in any order.
fn child_layout(header: &Header, errors: &mut Vec<RowError>) -> Option<ChildLayout> {
    let missing =
        |names: Names| RowError { line: header.line, problem: Problem::MissingColumn { column: names[0].to_owned() } };
    let Some(start) = CHILD.iter().filter_map(|names| header.find(names)).min() else {
        errors.extend(CHILD.iter().map(|names| missing(names)));
        return None;
    };
    let mut offsets = [0; 4];
    let mut labels: [String; 4] = Default::default();
    let mut complete = true;
    for (k, names) in CHILD.iter().enumerate() {
        match header.find_in(names, start..start + CHILD.len()) {
            Some(index) => {
                offsets[k] = index - start;
                labels[k] = header.labels[index].clone();
            }
            None => {
                errors.push(missing(names));
                complete = false;
            }
        }
    }
    complete.then_some(ChildLayout { start, offsets, labels })
}

fn guardians(header: &Header, data: &[Row], errors: &mut Vec<RowError>) -> Vec<GuardianRow> {
    let last = header.need(GUARDIAN_LAST, errors);
    let first = header.need(GUARDIAN_FIRST, errors);
    let (civility, usage) = (header.col(GUARDIAN_CIVILITY), header.col(GUARDIAN_USAGE));
    let (address, postcode, town) =
        (header.col(GUARDIAN_ADDRESS), header.col(GUARDIAN_POSTCODE), header.col(GUARDIAN_TOWN));
    let email = header.col(EMAIL);
    let (home, work, mobile) = (header.col(HOME_PHONE), header.col(WORK_PHONE), header.col(MOBILE_PHONE));
    let layout = child_layout(header, errors);

    let mut out = Vec::with_capacity(data.len());
    for row in data {
        let mut cells = Cells { row, errors: &mut *errors };
        let guardian = GuardianRow {
            line: row.line,
            civility: cells.text(&civility),
            usage_name: cells.text(&usage),
            last_name: cells.required(&last),
            first_name: cells.required(&first),
            address: join_address(&[cells.get(&address), cells.get(&postcode), cells.get(&town)]),
            email: cells.text(&email),
            phone: [cells.get(&mobile), cells.get(&home), cells.get(&work)]
                .into_iter()
                .find(|p| !p.is_empty())
                .unwrap_or("")
                .to_owned(),
            children: layout.as_ref().map(|layout| children(&mut cells, layout)).unwrap_or_default(),
        };
        out.push(guardian);
    }
    out
}

/// The child blocks of a guardian row. Rows are as wide as their own children need, or padded
/// with empty blocks: only cells up to the last non-empty one must make whole blocks.
fn children(cells: &mut Cells<'_>, layout: &ChildLayout) -> Vec<ChildRef> {
    let row = cells.row;
    let tail = row.fields.get(layout.start..).unwrap_or(&[]);
    let used = tail.iter().rposition(|f| !f.is_empty()).map_or(0, |i| i + 1);
    let width = CHILD.len();
    // A last block cut short by the row's end is partial; one merely ending in empty cells is not.
    let end = used.next_multiple_of(width).min(tail.len());
    let mut children = Vec::new();
    for (number, block) in tail[..end].chunks(width).enumerate() {
        if block.len() < width {
            cells.report(Problem::PartialChildBlock { child: number + 1 });
            return children;
        }
        if block.iter().all(String::is_empty) {
            continue;
        }
        let cell = |k: usize| block[layout.offsets[k]].clone();
        let child = ChildRef { usage_name: cell(0), last_name: cell(1), first_name: cell(2), class_name: cell(3) };
        for (k, value) in [(1, &child.last_name), (2, &child.first_name)] {
            if value.is_empty() {
                cells.report(Problem::MissingValue { column: layout.labels[k].clone() });
            }
        }
        children.push(child);
    }
    if children.is_empty() {
        cells.report(Problem::NoChild);
    }
    children
}

#[cfg(test)]
mod tests {
    use super::*;

    const FR: &str = include_str!("../../../../ui/locales/fr/onde.ftl");
    const EN: &str = include_str!("../../../../ui/locales/en/onde.ftl");

    fn ok(bytes: &[u8]) -> Parsed {
        match parse(bytes) {
            Ok(parsed) => parsed,
            Err(errors) => panic!("expected rows, got {errors:#?}"),
        }
    }

    /// Problems as (line, problem).
    type Located = Vec<(usize, Problem)>;

    fn errors(bytes: &[u8]) -> Located {
        match parse(bytes) {
            Ok(parsed) => panic!("expected errors, got {parsed:#?}"),
            Err(errors) => errors.into_iter().map(|e| (e.line, e.problem)).collect(),
        }
    }

    fn pupils(parsed: Parsed) -> Vec<PupilRow> {
        match parsed.extraction {
            Extraction::Pupils(rows) => rows,
            other => panic!("expected pupils, got {other:#?}"),
        }
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    fn bad_date(value: &str) -> Problem {
        Problem::BadDate { value: s(value) }
    }

    fn missing_value(column: &str) -> Problem {
        Problem::MissingValue { column: s(column) }
    }

    fn bad_encoding(column: &str, value: &str) -> Problem {
        Problem::BadEncoding { column: s(column), value: s(value) }
    }

    #[test]
    fn onde_pupils_in_windows_1252() {
        let parsed = ok(include_bytes!("../../../tests/data/onde/eleves_cp1252.csv"));
        assert_eq!((parsed.encoding, parsed.simple_format), ("windows-1252", false));
        let rows = pupils(parsed);
        // The trailing `;;;;` row a spreadsheet leaves behind is skipped.
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows[0],
            PupilRow {
                line: 2,
                last_name: s("MARTINEAU"),
                usage_name: s("MARTINEAU"),
                first_name: s("Léonie"),
                birth_date: s("2019-03-14"),
                sex: s("F"),
                address: s("12 rue des Tilleuls, 77990, Saint-Aubin-des-Prés"),
                cycle: s("CYCLE II"),
                level: s("CP"),
                class_name: s("CP"),
                photo_consent: Some(true),
            }
        );
        let summary: Vec<_> = rows
            .iter()
            .map(|p| {
                (
                    p.line,
                    p.last_name.as_str(),
                    p.first_name.as_str(),
                    p.birth_date.as_str(),
                    p.sex.as_str(),
                    p.photo_consent,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (2, "MARTINEAU", "Léonie", "2019-03-14", "F", Some(true)),
                (3, "FRANÇOIS", "Anaïs", "2018-11-02", "F", Some(false)),
                (4, "LEFÈVRE", "Noël", "2016-02-29", "M", None),
                (5, "BÉRANGER", "Zoé", "2017-07-30", "F", Some(true)),
                (6, "ROUSSEL", "Maël", "2019-09-05", "M", Some(false)),
                (7, "DUVAL", "Jérôme", "2018-01-17", "M", Some(true)),
            ]
        );
        // A quoted address holding the separator; the multi-level class keeps each pupil's level.
        assert_eq!(rows[2].address, "Le Moulin; chemin de la Forêt, 77990, Saint-Aubin-des-Prés");
        assert_eq!(rows[2].usage_name, "LEFÈVRE-DUCHÊNE");
        assert_eq!(rows[3].usage_name, "");
        let ce1_ce2: Vec<_> = rows
            .iter()
            .filter(|p| p.class_name == "CE1-CE2")
            .map(|p| (p.first_name.as_str(), p.level.as_str()))
            .collect();
        assert_eq!(ce1_ce2, [("Anaïs", "CE1"), ("Zoé", "CE2"), ("Jérôme", "CE1")]);
    }

    #[test]
    fn onde_pupils_in_utf8_with_bom_reordered_columns_and_iso_dates() {
        let parsed = ok(include_bytes!("../../../tests/data/onde/eleves_utf8_bom.csv"));
        assert_eq!((parsed.encoding, parsed.simple_format), ("UTF-8", false));
        let rows = pupils(parsed);
        let summary: Vec<_> = rows
            .iter()
            .map(|p| {
                (
                    p.line,
                    p.last_name.as_str(),
                    p.usage_name.as_str(),
                    p.first_name.as_str(),
                    p.birth_date.as_str(),
                    p.sex.as_str(),
                    p.address.as_str(),
                    p.cycle.as_str(),
                    p.photo_consent,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    2,
                    "PERRIN",
                    "PERRIN",
                    "Camille",
                    "2018-05-23",
                    "F",
                    "4 chemin des Prés, 77990, Saint-Aubin-des-Prés",
                    "Cycle 2",
                    Some(true)
                ),
                (
                    3,
                    "MOREAU",
                    "MOREAU-LEBLANC",
                    "Éloïse",
                    "2017-12-01",
                    "F",
                    "Saint-Aubin-des-Prés",
                    "Cycle 2",
                    Some(false)
                ),
                (4, "GAUTIER", "", "Théo", "2019-10-31", "M", "1 rue du Lavoir, 77990", "Cycle 2", None),
            ]
        );
    }

    #[test]
    fn guardians_with_one_to_three_child_blocks() {
        let parsed = ok(include_bytes!("../../../tests/data/onde/responsables.csv"));
        assert_eq!((parsed.encoding, parsed.simple_format), ("UTF-8", false));
        let Extraction::Guardians(rows) = parsed.extraction else { panic!("expected guardians") };
        let child = |usage: &str, last: &str, first: &str, class: &str| ChildRef {
            usage_name: s(usage),
            last_name: s(last),
            first_name: s(first),
            class_name: s(class),
        };
        assert_eq!(
            rows[0],
            GuardianRow {
                line: 2,
                civility: s("M."),
                usage_name: s("MARTINEAU"),
                last_name: s("MARTINEAU"),
                first_name: s("Olivier"),
                address: s("12 rue des Tilleuls, 77990, Saint-Aubin-des-Prés"),
                email: s("olivier.martineau@example.org"),
                phone: s("06 00 00 00 01"),
                children: vec![child("MARTINEAU", "MARTINEAU", "Léonie", "CP")],
            }
        );
        let summary: Vec<_> = rows
            .iter()
            .map(|g| (g.line, g.first_name.as_str(), g.phone.as_str(), g.email.as_str(), g.children.len()))
            .collect();
        assert_eq!(
            summary,
            [
                (2, "Olivier", "06 00 00 00 01", "olivier.martineau@example.org", 1),
                // Padded with two empty blocks; work phone as the only phone.
                (3, "Claire", "01 60 00 00 02", "claire.deschamps@example.org", 1),
                (4, "Hélène", "06 00 00 00 03", "helene.francois@example.org", 2),
                (5, "Marc", "01 60 00 00 04", "marc.lefevre@example.org", 3),
                (6, "Sophie", "", "", 1),
            ]
        );
        // Two households for Léonie.
        assert_eq!(rows[1].children, rows[0].children);
        assert_eq!(rows[1].last_name, "DESCHAMPS");
        // Children in two classes.
        assert_eq!(
            rows[2].children,
            [child("FRANÇOIS", "FRANÇOIS", "Anaïs", "CE1-CE2"), child("FRANÇOIS", "FRANÇOIS", "Timothée", "CP")]
        );
        assert_eq!(rows[3].address, "Le Moulin; chemin de la Forêt, 77990, Saint-Aubin-des-Prés");
        assert_eq!(
            rows[3].children.iter().map(|c| (c.first_name.as_str(), c.class_name.as_str())).collect::<Vec<_>>(),
            [("Noël", "CM1"), ("Inès", "CE1-CE2"), ("Arthur", "CP")]
        );
        assert_eq!(rows[4].children, [child("", "BÉRANGER", "Zoé", "CE1-CE2")]);
    }

    #[test]
    fn teachers_with_a_director_and_zero_one_or_two_classes() {
        let parsed = ok(include_bytes!("../../../tests/data/onde/enseignants.csv"));
        let Extraction::Teachers(rows) = parsed.extraction else { panic!("expected teachers") };
        assert_eq!(
            rows[0],
            TeacherRow {
                line: 2,
                civility: s("Mme"),
                usage_name: s("ROCHER"),
                last_name: s("ROCHER"),
                first_name: s("Sylvie"),
                email: s("sylvie.rocher@example.org"),
                phone: s("06 00 00 00 11"),
                director: true,
                class_names: vec![s("CP")],
            }
        );
        let summary: Vec<_> = rows
            .iter()
            .map(|t| {
                (
                    t.line,
                    t.usage_name.as_str(),
                    t.first_name.as_str(),
                    t.phone.as_str(),
                    t.director,
                    t.class_names.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (2, "ROCHER", "Sylvie", "06 00 00 00 11", true, vec![s("CP")]),
                (3, "AUBRY", "Thomas", "01 60 00 00 12", false, vec![s("CE1-CE2")]),
                (4, "NGUYEN-LAMBERT", "Camille", "", false, vec![s("CM1"), s("CM2")]),
                (5, "PÉRIGNON", "Agnès", "", false, vec![]),
            ]
        );
    }

    #[test]
    fn simple_list_without_level() {
        let parsed = ok(include_bytes!("../../../tests/data/onde/simple.csv"));
        assert_eq!((parsed.encoding, parsed.simple_format), ("UTF-8", true));
        let summary: Vec<_> = pupils(parsed)
            .into_iter()
            .map(|p| (p.line, p.last_name, p.first_name, p.birth_date, p.sex, p.level, p.class_name, p.photo_consent))
            .collect();
        assert_eq!(
            summary,
            [
                (2, s("DUBOIS"), s("Lucas"), s("2018-04-12"), s("M"), s(""), s("CE1-CE2"), None),
                (3, s("DUBOIS"), s("Emma"), s("2019-06-30"), s("F"), s(""), s("CP"), None),
                (4, s("N'DIAYE"), s("Aïcha"), s("2017-09-01"), s("F"), s(""), s("CE1-CE2"), None),
            ]
        );
    }

    #[test]
    fn bad_fixtures_report_every_problem_at_its_line() {
        let cases: [(&str, &[u8], Located); 4] = [
            (
                "bad_encoding_and_dates",
                include_bytes!("../../../tests/data/onde/bad_encoding_and_dates.csv"),
                vec![
                    (2, bad_date("31/02/2019")),
                    // A line pasted in UTF-8 into a windows-1252 file.
                    (3, bad_encoding("Nom Elève", "HÃ‰BERT")),
                    (3, bad_encoding("Prénom Elève", "ClÃ©mence")),
                    (4, bad_date("12/13/2018")),
                    (5, bad_date("2019-02-30")),
                    (5, Problem::BadSex { value: s("X") }),
                    (5, Problem::BadYesNo { column: s("Autorisations photos"), value: s("Peut-être") }),
                    // Byte 0x81 has no windows-1252 character.
                    (6, bad_encoding("Prénom Elève", "Lou\u{81}")),
                    (8, missing_value("Date naissance")),
                ],
            ),
            (
                "missing_column",
                include_bytes!("../../../tests/data/onde/missing_column.csv"),
                vec![
                    (1, Problem::MissingColumn { column: s("Date naissance") }),
                    (3, missing_value("Prénom Elève")),
                    (4, Problem::BadSex { value: s("Z") }),
                ],
            ),
            (
                "duplicate_pupil",
                include_bytes!("../../../tests/data/onde/duplicate_pupil.csv"),
                // Line 3 is a twin, line 5 is blank; case, hyphens and date format do not hide a duplicate.
                vec![(4, Problem::DuplicatePupil { first_line: 2 }), (6, Problem::DuplicatePupil { first_line: 2 })],
            ),
            (
                "partial_child_block",
                include_bytes!("../../../tests/data/onde/partial_child_block.csv"),
                vec![
                    (3, Problem::PartialChildBlock { child: 1 }),
                    (4, Problem::PartialChildBlock { child: 2 }),
                    (5, Problem::NoChild),
                    (6, missing_value("Nom de famille enfant")),
                ],
            ),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(errors(bytes), expected, "{name}");
        }
    }

    #[test]
    fn crlf_and_lf_mixed_with_quoted_fields_keep_physical_line_numbers() {
        let text = "Nom;Prénom;\"Date de naissance\";Sexe\r\n\
                    \"DUPONT\";\"Marie \"\"Lou\"\"\";01/02/2018;F\n\
                    \r\n\
                    \"MARTIN; dit Tintin\";Paul;2018-13-01;M\r\n\
                    \n\
                    BERNARD;\"Zoé\";03/04/2019;Q\r\n\
                    \"ROBERT\";Luc;04/05/2019;M";
        assert_eq!(errors(text.as_bytes()), [(4, bad_date("2018-13-01")), (6, Problem::BadSex { value: s("Q") })]);
        let fixed = text.replace("2018-13-01", "2018-12-01").replace(";Q", ";F");
        let rows = pupils(ok(fixed.as_bytes()));
        let summary: Vec<_> = rows.iter().map(|p| (p.line, p.last_name.as_str(), p.first_name.as_str())).collect();
        assert_eq!(
            summary,
            [
                (2, "DUPONT", "Marie \"Lou\""),
                (4, "MARTIN; dit Tintin", "Paul"),
                (6, "BERNARD", "Zoé"),
                (7, "ROBERT", "Luc")
            ]
        );
    }

    #[test]
    fn errors_are_collected_not_just_the_first() {
        let mut text = String::from("Nom;Prénom;Date de naissance;Sexe\n");
        for i in 0..50 {
            text.push_str(&format!("NOM{i};Prénom{i};32/01/2018;M\n"));
        }
        let found = errors(text.as_bytes());
        assert_eq!(found.len(), 50);
        assert!(
            found.iter().enumerate().all(|(i, (line, problem))| *line == i + 2 && *problem == bad_date("32/01/2018"))
        );
    }

    #[test]
    fn unclosed_quote_is_reported_rather_than_swallowing_rows() {
        let text = "Nom;Prénom;Date de naissance;Sexe\nDUPONT;\"Marie;01/02/2018;F\nMARTIN;Paul;01/02/2018;M\n";
        assert_eq!(errors(text.as_bytes()), [(2, Problem::UnbalancedQuote)]);
    }

    #[test]
    fn whole_file_problems() {
        let header_only = "Nom;Prénom;Date de naissance;Sexe\r\n";
        let cases: [(&str, &[u8], (usize, Problem)); 7] = [
            ("no bytes", b"", (0, Problem::Empty)),
            ("BOM and blank lines", b"\xEF\xBB\xBF\r\n \r\n", (0, Problem::Empty)),
            ("header only", header_only.as_bytes(), (0, Problem::Empty)),
            ("unknown header", b"\nfoo;bar\nbaz;qux\n", (2, Problem::UnknownHeader)),
            ("UTF-16", b"\xFF\xFEN\0o\0m\0", (0, Problem::UnsupportedEncoding)),
            ("NUL byte", b"Nom;Pr\0nom\n", (0, Problem::UnsupportedEncoding)),
            ("quote swallowing the header", b"Nom;\"Pr\xE9nom;Sexe\nA;b;F\n", (1, Problem::UnbalancedQuote)),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(errors(bytes), [expected], "{name}");
        }
    }

    #[test]
    fn size_limits() {
        let too_large = || (0, Problem::TooLarge { max_mib: 5, max_rows: 5_000 });
        let mut big = b"Nom;Pr\xE9nom;Date de naissance;Sexe\n".to_vec();
        big.resize(MAX_BYTES + 1, b' ');
        assert_eq!(errors(&big), [too_large()]);

        let rows = |count: usize| {
            let mut text = String::from("Nom;Prénom;Date de naissance;Sexe\n");
            for i in 0..count {
                text.push_str(&format!("NOM{i};Prénom;01/01/2018;F\n"));
            }
            text
        };
        assert_eq!(pupils(ok(rows(MAX_ROWS).as_bytes())).len(), MAX_ROWS);
        assert_eq!(errors(rows(MAX_ROWS + 1).as_bytes()), [too_large()]);
    }

    #[test]
    fn kind_is_recognised_from_the_header() {
        let cases: [(&str, &str); 6] = [
            ("NOM ELEVE;PRENOM ELEVE;DATE NAISSANCE;SEXE;NIVEAU;CLASSE", "pupils"),
            ("\"Nom Élève\";\"Prénom Élève\";Date naissance;Sexe;Niveau;Classe;\" Cycle\"", "pupils"),
            ("Nom;Prénom;Date de naissance;Sexe", "simple"),
            ("Nom,Prénom,Date de naissance,Sexe,Classe", "simple"),
            ("Civilité;Nom usage;Nom;Prénom;Directeur;Classe", "teachers"),
            (
                "Civilité Responsable;Nom responsable;Prénom responsable;Nom d'usage enfant;Nom de famille enfant;\
                 Prénom enfant;Classes enfants",
                "guardians",
            ),
        ];
        for (header, expected) in cases {
            let first_line = header.split(['\r', '\n']).next().unwrap_or_default();
            let rows = Row { line: 1, fields: first_line.split(delimiter(first_line) as char).map(s).collect() };
            let kind = Kind::detect(&Header::new(&rows));
            let name = match kind {
                Some(Kind::Pupils) => "pupils",
                Some(Kind::Simple) => "simple",
                Some(Kind::Teachers) => "teachers",
                Some(Kind::Guardians) => "guardians",
                None => "none",
            };
            assert_eq!(name, expected, "{header}");
        }
    }

    #[test]
    fn dates_are_normalised_and_impossible_ones_refused() {
        let cases = [
            ("14/03/2019", Some("2019-03-14")),
            ("1/9/2017", Some("2017-09-01")),
            ("2019-03-14", Some("2019-03-14")),
            ("29/02/2016", Some("2016-02-29")),
            ("29/02/2000", Some("2000-02-29")),
            ("29/02/2019", None),
            ("29/02/1900", None),
            ("31/02/2019", None),
            ("31/04/2019", None),
            ("00/01/2019", None),
            ("01/13/2019", None),
            ("01/01/19", None),
            ("2019-3-14", None),
            ("14-03-2019", None),
            ("14.03.2019", None),
            ("+1/01/2019", None),
            ("01/01/0201", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(normalize_date(value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn sexes_and_yes_no_cells() {
        let text = "Nom;Prénom;Date de naissance;Sexe\n\
                    A;a;01/01/2018;m\nB;b;01/01/2018;Féminin\nC;c;01/01/2018;G\nD;d;01/01/2018;MASCULIN\n";
        let sexes: Vec<_> = pupils(ok(text.as_bytes())).into_iter().map(|p| p.sex).collect();
        assert_eq!(sexes, ["M", "F", "M", "M"]);

        let text = "Civilité;Nom;Prénom;Directeur;Classe\nMme;A;a;OUI;CP\nM.;B;b;;CP\nM.;C;c;Peut-être;CP\n";
        assert_eq!(errors(text.as_bytes()), [(4, Problem::BadYesNo { column: s("Directeur"), value: s("Peut-être") })]);
    }

    #[test]
    fn a_cut_line_or_a_stray_separator_is_reported_once() {
        // A cut line would have updated Marie with an empty class; a stray `;` where the last
        // cell was empty shifts every value silently: both are refused, each once.
        let text = "Nom;Prénom;Date de naissance;Sexe;Classe\nDUPONT;Marie;01/02/2018;F\n\
                    MARTIN;Paul;01/02/2018;M;CP;CE1\nDURAND;Léa;;01/02/2018;F;\n";
        assert_eq!(
            errors(text.as_bytes()),
            [
                (2, Problem::FieldCount { expected: 5, found: 4 }),
                (3, Problem::FieldCount { expected: 5, found: 6 }),
                (4, Problem::FieldCount { expected: 5, found: 6 }),
                (4, missing_value("Date de naissance")),
                (4, Problem::BadSex { value: s("01/02/2018") }),
            ]
        );
    }

    #[test]
    fn windows_1252_accents_are_not_mistaken_for_a_mixed_encoding() {
        for name in ["Léonie", "FRANÇOIS", "Anaïs", "LEFÈVRE", "Œdipe", "ÉMILE", "Zoé-Ève"] {
            assert!(!is_mojibake(name), "{name}");
        }
        for name in ["LÃ©onie", "FRANÃ‡OIS", "AnaÃ¯s"] {
            assert!(is_mojibake(name), "{name}");
        }
    }

    /// Ties each variant to a sample: adding a variant fails to compile here until it has one.
    fn ordinal(problem: &Problem) -> usize {
        match problem {
            Problem::Empty => 0,
            Problem::TooLarge { .. } => 1,
            Problem::UnsupportedEncoding => 2,
            Problem::UnknownHeader => 3,
            Problem::MissingColumn { .. } => 4,
            Problem::MissingValue { .. } => 5,
            Problem::BadDate { .. } => 6,
            Problem::BadSex { .. } => 7,
            Problem::BadYesNo { .. } => 8,
            Problem::BadEncoding { .. } => 9,
            Problem::UnbalancedQuote => 10,
            Problem::FieldCount { .. } => 11,
            Problem::PartialChildBlock { .. } => 12,
            Problem::NoChild => 13,
            Problem::DuplicatePupil { .. } => 14,
            Problem::BadRow { .. } => 15,
        }
    }

    fn every_problem() -> Vec<Problem> {
        vec![
            Problem::Empty,
            too_large(),
            Problem::UnsupportedEncoding,
            Problem::UnknownHeader,
            Problem::MissingColumn { column: s("Sexe") },
            missing_value("Sexe"),
            bad_date("31/02/2019"),
            Problem::BadSex { value: s("X") },
            Problem::BadYesNo { column: s("Directeur"), value: s("Peut-être") },
            bad_encoding("Nom", "Ã©"),
            Problem::UnbalancedQuote,
            Problem::FieldCount { expected: 4, found: 5 },
            Problem::PartialChildBlock { child: 2 },
            Problem::NoChild,
            Problem::DuplicatePupil { first_line: 2 },
            Problem::BadRow { detail: s("?") },
        ]
    }

    #[test]
    fn a_cut_line_and_a_stray_separator_have_their_own_messages() {
        assert_eq!(Problem::FieldCount { expected: 5, found: 4 }.fluent_id(), "onde-missing-fields");
        assert_eq!(Problem::FieldCount { expected: 5, found: 6 }.fluent_id(), "onde-extra-fields");
    }

    /// The `$variables` of message `id` in a Fluent file, `None` when the message is missing.
    fn message_variables(ftl: &str, id: &str) -> Option<Vec<String>> {
        let mut lines = ftl.lines();
        let first = lines.find(|line| line.strip_prefix(id).is_some_and(|rest| rest.trim_start().starts_with('=')))?;
        let body = std::iter::once(first).chain(lines.take_while(|line| line.starts_with(' '))).collect::<Vec<_>>();
        let mut variables: Vec<String> = body
            .join("\n")
            .split('$')
            .skip(1)
            .map(|rest| rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect())
            .collect();
        variables.sort();
        variables.dedup();
        Some(variables)
    }

    #[test]
    fn every_problem_has_a_message_in_french_and_english() {
        let samples = every_problem();
        let mut ordinals: Vec<usize> = samples.iter().map(ordinal).collect();
        ordinals.sort();
        assert_eq!(ordinals, (0..samples.len()).collect::<Vec<_>>(), "one sample per variant");
        for problem in &samples {
            let id = problem.fluent_id();
            assert!(id.starts_with("onde-"), "{id}");
            let mut args: Vec<String> = problem.fluent_args().into_iter().map(|(name, _)| name.to_owned()).collect();
            args.sort();
            for (language, ftl) in [("fr", FR), ("en", EN)] {
                let variables = message_variables(ftl, id).unwrap_or_else(|| panic!("{id} missing from {language}"));
                assert_eq!(variables, args, "{id} in {language}: variables and arguments differ");
            }
        }
    }
}
