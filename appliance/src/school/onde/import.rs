//! From parsed ONDE files to the school directory: who is created, updated or left alone.
//! Pure: it edits a copy of the directory and credentials states, so that the preview and
//! the import run the same code, and a file with any error changes nothing.

use std::collections::{BTreeMap, HashSet};

use preau_sync::kinds::directory::{Guardianship, Person, SchoolClass};
use preau_sync::kinds::{Credentials, SchoolDirectory};

use super::parse::{Extraction, GuardianRow, Parsed, PupilRow, TeacherRow};
use crate::school::accounts::new_credential;
use crate::school::directory::{ClassId, Profile, UserId, slug};

/// Levels in school order (maternelle, then élémentaire).
pub const LEVELS: [&str; 8] = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"];

/// A localised message with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Fluent id.
    pub id: &'static str,
    /// Named arguments.
    pub args: Vec<(&'static str, String)>,
}

impl Note {
    fn new(id: &'static str, args: &[(&'static str, &str)]) -> Self {
        Self { id, args: args.iter().map(|(k, v)| (*k, (*v).to_owned())).collect() }
    }
}

/// A problem in one file, at one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The file's name as uploaded.
    pub file: String,
    /// Physical line (1 = header; 0 = the whole file).
    pub line: usize,
    /// What is wrong.
    pub note: Note,
}

/// What an import does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// People and classes created.
    pub created: Vec<Note>,
    /// People and classes updated, with what changes.
    pub updated: Vec<Note>,
    /// Rows that change nothing.
    pub unchanged: usize,
}

impl Summary {
    /// Whether applying changes anything.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty()
    }
}

/// Applies `files` (in dependency order: pupils, then teachers, then guardians) to the
/// states, for school year `year`. On any error the states must be thrown away.
pub fn reconcile(
    files: &[(String, Parsed)],
    year: &str,
    dir: &mut SchoolDirectory,
    creds: &mut Credentials,
) -> Result<Summary, Vec<ImportError>> {
    let mut run = Run { year, dir, creds, summary: Summary::default(), errors: Vec::new(), seen: HashSet::new() };
    let rank = |p: &Parsed| match p.extraction {
        Extraction::Pupils(_) => 0,
        Extraction::Teachers(_) => 1,
        Extraction::Guardians(_) => 2,
    };
    let mut ordered: Vec<&(String, Parsed)> = files.iter().collect();
    ordered.sort_by_key(|(_, p)| rank(p));
    for (file, parsed) in ordered {
        match &parsed.extraction {
            Extraction::Pupils(rows) => run.pupils(rows, parsed.simple_format),
            Extraction::Teachers(rows) => run.teachers(file, rows),
            Extraction::Guardians(rows) => run.guardians(file, rows),
        }
    }
    if run.errors.is_empty() { Ok(run.summary) } else { Err(run.errors) }
}

struct Run<'a> {
    year: &'a str,
    dir: &'a mut SchoolDirectory,
    creds: &'a mut Credentials,
    summary: Summary,
    errors: Vec<ImportError>,
    /// People this import already matched or created: one row never merges into another's.
    seen: HashSet<String>,
}

/// The name a person goes by: the usage name (nom d'usage) when ONDE has one.
fn used_name<'a>(usage: &'a str, birth: &'a str) -> &'a str {
    if usage.is_empty() { birth } else { usage }
}

fn same_name(a: &str, b: &str) -> bool {
    slug(a) == slug(b)
}

impl Run<'_> {
    fn error(&mut self, file: &str, line: usize, note: Note) {
        self.errors.push(ImportError { file: file.to_owned(), line, note });
    }

    /// The current-year class with this name, if any.
    fn class_named(&self, name: &str) -> Option<String> {
        self.dir
            .classes
            .iter()
            .find(|(_, c)| c.school_year == self.year && same_name(&c.name, name))
            .map(|(id, _)| id.clone())
    }

    fn add_person(&mut self, person: Person, profile: Profile) -> String {
        let id = UserId::random().to_string();
        let credential = new_credential(self.creds, &person, profile);
        self.creds.accounts.insert(id.clone(), credential);
        self.dir.people.insert(id.clone(), person);
        id
    }

    /// Creates `adult`, or refreshes the known contact details of the `existing` person
    /// (a file never erases what it leaves empty). Notes: (created, updated).
    fn upsert_adult(&mut self, existing: Option<String>, adult: Person, notes: (&'static str, &'static str)) -> String {
        let name = format!("{} {}", adult.first_name, adult.last_name);
        let Some(id) = existing else {
            self.summary.created.push(Note::new(notes.0, &[("name", &name)]));
            let profile = Profile::parse(&adult.profile).expect("importers build valid profiles");
            let id = self.add_person(adult, profile);
            self.seen.insert(id.clone());
            return id;
        };
        self.seen.insert(id.clone());
        let person = self.dir.people.get_mut(&id).expect("found by the caller");
        let before = person.clone();
        for (field, value) in [
            (&mut person.civility, adult.civility),
            (&mut person.email, adult.email),
            (&mut person.phone, adult.phone),
            (&mut person.address, adult.address),
        ] {
            if !value.is_empty() {
                *field = value;
            }
        }
        person.archived = false;
        if *person == before {
            self.summary.unchanged += 1;
        } else {
            self.summary.updated.push(Note::new(notes.1, &[("name", &name)]));
        }
        id
    }

    /// An ONDE extraction lists every pupil of its classes: the pupils of those classes it no
    /// longer lists have left and are archived. A simple list only adds and updates, and
    /// never erases what it does not carry (address, photo consent, an empty class).
    fn pupils(&mut self, rows: &[PupilRow], simple: bool) {
        // Classes first: one per class name of the file, with the levels of its pupils.
        let mut levels: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows.iter().filter(|r| !r.class_name.is_empty()) {
            let entry = levels.entry(row.class_name.clone()).or_default();
            if !row.level.is_empty() && !entry.contains(&row.level) {
                entry.push(row.level.clone());
            }
        }
        for (name, mut class_levels) in levels {
            class_levels.sort_by_key(|l| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l)).unwrap_or(99));
            match self.class_named(&name) {
                Some(id) => {
                    let class = self.dir.classes.get_mut(&id).expect("found above");
                    let merged: Vec<String> =
                        class_levels.iter().filter(|l| !class.levels.contains(l)).cloned().collect();
                    if !merged.is_empty() || class.archived {
                        class.levels.extend(merged);
                        class.levels.sort_by_key(|l| LEVELS.iter().position(|x| x == l).unwrap_or(99));
                        class.archived = false;
                        self.summary.updated.push(Note::new("import-class-updated", &[("class", &name)]));
                    }
                }
                None => {
                    let id = ClassId::random().to_string();
                    self.dir.classes.insert(
                        id,
                        SchoolClass {
                            name: name.clone(),
                            levels: class_levels,
                            school_year: self.year.to_owned(),
                            teachers: Vec::new(),
                            ..SchoolClass::default()
                        },
                    );
                    self.summary
                        .created
                        .push(Note::new("import-class-created", &[("class", &name), ("year", self.year)]));
                }
            }
        }
        // Classes of other years are history now.
        for class in self.dir.classes.values_mut().filter(|c| c.school_year != self.year && !c.archived) {
            class.archived = true;
            self.summary
                .updated
                .push(Note::new("import-class-archived", &[("class", &class.name), ("year", &class.school_year)]));
        }
        for row in rows {
            let last_name = used_name(&row.usage_name, &row.last_name);
            let class_id = if row.class_name.is_empty() {
                String::new()
            } else {
                self.class_named(&row.class_name).unwrap_or_default()
            };
            let wanted = |p: &mut Person| {
                p.profile = Profile::Pupil.as_str().into();
                p.first_name = row.first_name.clone();
                p.last_name = last_name.to_owned();
                p.birth_name = row.last_name.clone();
                p.birth_date = row.birth_date.clone();
                p.sex = row.sex.clone();
                if !simple || !row.class_name.is_empty() {
                    p.level = row.level.clone();
                    p.class_id = class_id.clone();
                }
                if !simple {
                    p.photo_consent = row.photo_consent;
                    p.address = row.address.clone();
                }
                p.archived = false;
            };
            let existing = self.dir.people.iter().find(|(_, p)| {
                p.profile == Profile::Pupil.as_str()
                    && p.birth_date == row.birth_date
                    && same_name(&p.first_name, &row.first_name)
                    && (same_name(&p.last_name, last_name) || same_name(&p.birth_name, &row.last_name))
            });
            let name = format!("{} {}", row.first_name, last_name);
            let existing = existing.map(|(id, _)| id.clone());
            if let Some(id) = &existing {
                self.seen.insert(id.clone());
            }
            match existing {
                Some(id) => {
                    let person = self.dir.people.get_mut(&id).expect("found above");
                    let before = person.clone();
                    wanted(person);
                    if *person == before {
                        self.summary.unchanged += 1;
                    } else {
                        self.summary
                            .updated
                            .push(Note::new("import-pupil-updated", &[("name", &name), ("class", &row.class_name)]));
                    }
                }
                None => {
                    let mut person = Person::default();
                    wanted(&mut person);
                    let id = self.add_person(person, Profile::Pupil);
                    self.seen.insert(id);
                    self.summary
                        .created
                        .push(Note::new("import-pupil-created", &[("name", &name), ("class", &row.class_name)]));
                }
            }
        }
        if simple {
            return;
        }
        // The classes this extraction lists: their pupils it no longer lists have left (an
        // extraction of one class says nothing about the others).
        let current: HashSet<String> = rows.iter().filter_map(|r| self.class_named(&r.class_name)).collect();
        for (id, p) in self.dir.people.iter_mut() {
            let pupil_here = p.profile == Profile::Pupil.as_str() && !p.archived && current.contains(&p.class_id);
            if pupil_here && !self.seen.contains(id) {
                p.archived = true;
                let name = format!("{} {}", p.first_name, p.last_name);
                self.summary.updated.push(Note::new("import-pupil-archived", &[("name", &name)]));
            }
        }
    }

    fn teachers(&mut self, file: &str, rows: &[TeacherRow]) {
        for row in rows {
            let last_name = used_name(&row.usage_name, &row.last_name);
            let mut classes = Vec::new();
            for name in &row.class_names {
                match self.class_named(name) {
                    Some(id) => classes.push(id),
                    None => self.error(
                        file,
                        row.line,
                        Note::new("import-unknown-class", &[("class", name), ("year", self.year)]),
                    ),
                }
            }
            let existing = self
                .dir
                .people
                .iter()
                .find(|(_, p)| {
                    (p.profile == Profile::Teacher.as_str() || p.profile == Profile::Director.as_str())
                        && same_name(&p.first_name, &row.first_name)
                        && (same_name(&p.last_name, last_name) || same_name(&p.birth_name, &row.last_name))
                })
                .map(|(id, _)| id.clone());
            let profile = if row.director && !self.dir.people.values().any(|p| p.profile == Profile::Director.as_str())
            {
                Profile::Director
            } else {
                Profile::Teacher
            };
            let adult = Person {
                profile: profile.as_str().into(),
                civility: row.civility.clone(),
                first_name: row.first_name.clone(),
                last_name: last_name.to_owned(),
                birth_name: row.last_name.clone(),
                email: row.email.clone(),
                phone: row.phone.clone(),
                ..Person::default()
            };
            let name = format!("{} {}", row.first_name, last_name);
            let id = self.upsert_adult(existing, adult, ("import-teacher-created", "import-teacher-updated"));
            for class_id in classes {
                let class = self.dir.classes.get_mut(&class_id).expect("found above");
                if !class.teachers.contains(&id) {
                    class.teachers.push(id.clone());
                    self.summary
                        .updated
                        .push(Note::new("import-teacher-assigned", &[("name", &name), ("class", &class.name)]));
                }
            }
        }
    }

    fn guardians(&mut self, file: &str, rows: &[GuardianRow]) {
        for row in rows {
            let last_name = used_name(&row.usage_name, &row.last_name);
            let mut children = Vec::new();
            for child in &row.children {
                let child_last = used_name(&child.usage_name, &child.last_name);
                let class = self.class_named(&child.class_name);
                let found: Vec<String> = self
                    .dir
                    .people
                    .iter()
                    .filter(|(_, p)| {
                        p.profile == Profile::Pupil.as_str()
                            && !p.archived
                            && same_name(&p.first_name, &child.first_name)
                            && (same_name(&p.last_name, child_last) || same_name(&p.birth_name, &child.last_name))
                            && class.as_deref().is_none_or(|c| p.class_id == c)
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                let name = format!("{} {child_last}", child.first_name);
                match (class, found.as_slice()) {
                    (None, _) if !child.class_name.is_empty() => self.error(
                        file,
                        row.line,
                        Note::new("import-unknown-class", &[("class", &child.class_name), ("year", self.year)]),
                    ),
                    (_, [id]) => children.push(id.clone()),
                    // Never guess whose child it is: a wrong link shows a family another's child.
                    // With no class to go by, the file can say which; within one class, homonyms
                    // cannot be told apart by the file, and the line has to wait.
                    (_, [_, _, ..]) if child.class_name.is_empty() => {
                        self.error(file, row.line, Note::new("import-ambiguous-child", &[("name", &name)]))
                    }
                    (_, [_, _, ..]) => self.error(
                        file,
                        row.line,
                        Note::new("import-homonyms", &[("name", &name), ("class", &child.class_name)]),
                    ),
                    (_, []) => self.error(
                        file,
                        row.line,
                        Note::new("import-unknown-child", &[("name", &name), ("class", &child.class_name)]),
                    ),
                }
            }
            // The same parent as one already known: same names, and already the guardian of
            // one of these children or the same e-mail. Homonyms otherwise stay two people,
            // and two rows of one import are never merged.
            let existing = self
                .dir
                .people
                .iter()
                .find(|(id, p)| {
                    let linked =
                        children.iter().any(|c| self.dir.guardianships.contains_key(&Guardianship::key(id, c)));
                    let same_email = !p.email.is_empty() && p.email.eq_ignore_ascii_case(&row.email);
                    p.profile == Profile::Parent.as_str()
                        && !self.seen.contains(*id)
                        && same_name(&p.first_name, &row.first_name)
                        && same_name(&p.last_name, last_name)
                        && (linked || same_email)
                })
                .map(|(id, _)| id.clone());
            let adult = Person {
                profile: Profile::Parent.as_str().into(),
                civility: row.civility.clone(),
                first_name: row.first_name.clone(),
                last_name: last_name.to_owned(),
                birth_name: row.last_name.clone(),
                email: row.email.clone(),
                phone: row.phone.clone(),
                address: row.address.clone(),
                ..Person::default()
            };
            let name = format!("{} {}", row.first_name, last_name);
            let id = self.upsert_adult(existing, adult, ("import-parent-created", "import-parent-updated"));
            for child in children {
                let key = Guardianship::key(&id, &child);
                if !self.dir.guardianships.contains_key(&key) {
                    let child_name = self.dir.people.get(&child).map(|p| p.first_name.clone()).unwrap_or_default();
                    self.dir.guardianships.insert(key, Guardianship { parent: id.clone(), child, legal: true });
                    self.summary
                        .updated
                        .push(Note::new("import-guardian-linked", &[("name", &name), ("child", &child_name)]));
                }
            }
        }
    }
}

/// The school year a date falls in (`2026-09-01` → `2026-2027`; the year turns on 1 August).
pub fn school_year_of(iso_date: &str) -> String {
    let year: i32 = iso_date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    let month: u32 = iso_date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(9);
    let start = if month >= 8 { year } else { year - 1 };
    format!("{start}-{}", start + 1)
}

/// Whether `s` is a school year such as `2026-2027`.
pub fn is_school_year(s: &str) -> bool {
    let Some((a, b)) = s.split_once('-') else { return false };
    a.len() == 4
        && b.len() == 4
        && matches!((a.parse::<i32>(), b.parse::<i32>()), (Ok(a), Ok(b)) if b == a + 1 && (2000..2200).contains(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_years() {
        assert_eq!(school_year_of("2026-09-01"), "2026-2027");
        assert_eq!(school_year_of("2027-06-30"), "2026-2027");
        assert_eq!(school_year_of("2027-08-01"), "2027-2028");
        assert!(is_school_year("2026-2027"));
        for bad in ["2026-2028", "26-27", "2026", "abcd-efgh", "2026-2027-2028"] {
            assert!(!is_school_year(bad), "{bad}");
        }
    }
}
