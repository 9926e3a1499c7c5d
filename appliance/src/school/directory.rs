//! The school directory as the server reads it: an in-memory snapshot of the directory and
//! credentials read models (a few hundred people), rebuilt after each change to them.
//! Writes go to the replicated documents (`SchoolDirectory`, `Credentials`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use preau_sync::kinds::convention::SchoolConvention;
use preau_sync::kinds::credentials::{CREDENTIALS_KEY, Credential};
use preau_sync::kinds::directory::{DIRECTORY_KEY, Group, Person, SchoolClass, SchoolInfo};
use preau_sync::kinds::{Credentials, SchoolDirectory};
use preau_sync::{Cell, DocAddress, DocKey, Kind, Partition, Reader, Row, Store, Table, Uai};
use serde::{Deserialize, Serialize};

use crate::platform::error::AppError;
use crate::platform::i18n::Locale;

macro_rules! local_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn random() -> Self {
                Self(hex::encode(crate::platform::random_bytes::<8>()))
            }
            /// Validates an id from a URL, a form or a read model (16 lowercase hex digits).
            pub fn parse(s: &str) -> Result<Self, AppError> {
                if s.len() == 16 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(AppError::NotFound)
                }
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = AppError;
            fn try_from(s: String) -> Result<Self, AppError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

local_id!(
    /// A person's id, unique across replicas.
    UserId
);
local_id!(
    /// A class's id (also its partition's local id).
    ClassId
);

/// What someone is at a school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Directeur / directrice.
    Director,
    /// Enseignant.
    Teacher,
    /// Élève.
    Pupil,
    /// Parent / responsable.
    Parent,
    /// Personnel: ATSEM, AESH, périscolaire, commune.
    Staff,
    /// Academy administrator (used by the hub).
    AcademyAdmin,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 6] =
        [Profile::Director, Profile::Teacher, Profile::Pupil, Profile::Parent, Profile::Staff, Profile::AcademyAdmin];

    /// Stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Director => "director",
            Profile::Teacher => "teacher",
            Profile::Pupil => "pupil",
            Profile::Parent => "parent",
            Profile::Staff => "staff",
            Profile::AcademyAdmin => "academy_admin",
        }
    }

    /// Parses [`Profile::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Adults who work at the school.
    pub fn is_staff(self) -> bool {
        matches!(self, Profile::Director | Profile::Teacher | Profile::Staff)
    }
}

/// Staff roles (personnel).
pub const STAFF_ROLES: [&str; 4] = ["atsem", "aesh", "periscolaire", "commune"];

/// The school's public identity, with its UAI.
#[derive(Clone, Debug)]
pub struct School {
    /// National identifier.
    pub uai: Uai,
    /// Name, address, commune, académie.
    pub info: SchoolInfo,
}

/// A person with their id and parsed profile.
#[derive(Clone, Debug)]
pub struct Member {
    /// Id.
    pub id: UserId,
    /// Profile.
    pub profile: Profile,
    /// Everything the directory holds about them.
    pub person: Person,
}

impl Member {
    /// "Prénom Nom".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.person.first_name, self.person.last_name)
    }

    /// "Mme Nom", as families name a teacher.
    pub fn formal_name(&self) -> String {
        format!("{} {}", self.person.civility, self.person.last_name).trim().to_owned()
    }
}

/// A class with its id.
#[derive(Clone, Debug)]
pub struct Class {
    /// Id.
    pub id: ClassId,
    /// Name, levels, year, teachers.
    pub class: SchoolClass,
}

/// See [`Directory::credential_mark`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CredentialMark(pub [u8; 16]);

/// One school's directory and credentials, read from the read models.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// The school, once set up.
    pub school: Option<School>,
    /// Classes by id.
    pub classes: BTreeMap<ClassId, Class>,
    /// People by id.
    pub people: BTreeMap<UserId, Member>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// (parent, child, legal guardian).
    pub guardianships: Vec<(UserId, UserId, bool)>,
    /// Credentials by user id.
    pub credentials: HashMap<UserId, Credential>,
    logins: HashMap<String, UserId>,
    /// The académie's conventions that activated the school, and what they cover (see
    /// [`Directory::class_covered`]); `None` when none did (a school outside the académie's
    /// conventions, an appliance without a hub): then no convention closes anything.
    pub coverage: Option<Vec<SchoolConvention>>,
    /// The communes that list the school (their documents reach it: portal, menus, conventions).
    pub communes: Vec<preau_sync::Insee>,
}

/// Reads one read-model row by column name.
struct RowReader<'a> {
    table: Table,
    cells: &'a [Cell],
}

impl RowReader<'_> {
    fn text(&self, column: &str) -> String {
        match self.cell(column) {
            Cell::Text(t) => t.clone(),
            Cell::Int(i) => i.to_string(),
        }
    }
    fn int(&self, column: &str) -> i64 {
        match self.cell(column) {
            Cell::Int(i) => *i,
            Cell::Text(_) => 0,
        }
    }
    fn list(&self, column: &str) -> Vec<String> {
        self.text(column).split(',').filter(|s| !s.is_empty()).map(Into::into).collect()
    }
    fn cell(&self, column: &str) -> &Cell {
        let i = self.table.columns().iter().position(|c| *c == column).expect("known column");
        &self.cells[i]
    }
}

/// A `school` read-model row.
fn school_row(cells: &[Cell]) -> Option<School> {
    let r = RowReader { table: Table::School, cells };
    Some(School {
        uai: Uai::parse(&r.text("uai")).ok()?,
        info: SchoolInfo {
            name: r.text("name"),
            address: r.text("address"),
            postcode: r.text("postcode"),
            commune: r.text("commune"),
            academy: r.text("academy"),
            away_sync: r.int("away_sync") != 0,
            holiday_pause: r.int("holiday_pause") != 0,
        },
    })
}

impl Directory {
    /// Reads the directory from the store's read models (a school appliance holds one school).
    pub fn load(store: &Reader) -> Result<Self, AppError> {
        // Its school is the one whose directory document sits at that school's own address:
        // rows of a directory written anywhere else (replication refuses them) are not it.
        let own = store.rows(Table::School)?.into_iter().find_map(|cells| {
            let school = school_row(&cells)?;
            let at = matches!(cells.first(), Some(Cell::Text(doc)) if *doc == directory_address(&school.uai).id().to_string());
            at.then_some(school.uai)
        });
        match own {
            Some(uai) => Self::load_school(store, &uai),
            None => Ok(Self::default()),
        }
    }

    /// Reads one school's directory on a replica that holds several (the academy hub):
    /// that school's two documents' rows, by index. (Every row's UAI is its document's
    /// partition's, never what the document says.)
    pub fn load_school(store: &Reader, uai: &Uai) -> Result<Self, AppError> {
        let docs = [directory_address(uai).id().to_string(), credentials_address(uai).id().to_string()];
        Self::from_tables(|table: Table| Ok(store.rows_of(table, &docs)?))?.with_coverage(store)
    }

    /// This directory with what the conventions naming its school cover, and its communes.
    fn with_coverage(mut self, store: &Reader) -> Result<Self, AppError> {
        if let Some(uai) = self.uai().cloned() {
            let uai = &uai;
            let conventions = store.school_conventions(uai)?;
            self.coverage = (!conventions.is_empty()).then_some(conventions);
            self.communes = store.communes_of(uai)?.iter().filter_map(|c| preau_sync::Insee::parse(c).ok()).collect();
        }
        Ok(self)
    }

    /// Every school a replica holds (the hub's), by name.
    pub fn schools(store: &Reader) -> Result<Vec<School>, AppError> {
        let mut found: Vec<School> = store.rows(Table::School)?.iter().filter_map(|cells| school_row(cells)).collect();
        found.sort_by(|a, b| (&a.info.name, &a.uai).cmp(&(&b.info.name, &b.uai)));
        Ok(found)
    }

    /// This directory with one of the school's two documents replaced by its new
    /// read-model rows (a peer's change, checked before the rest of its bundle).
    pub fn with_rows(&self, kind: Kind, rows: &[Row]) -> Self {
        let mut fresh = Self::from_tables(|table: Table| -> Result<Vec<Vec<Cell>>, AppError> {
            Ok(rows.iter().filter(|r| r.table == table).map(|r| r.cells.clone()).collect())
        })
        .unwrap_or_default();
        match kind {
            Kind::Credentials => Directory { credentials: fresh.credentials, logins: fresh.logins, ..self.clone() },
            _ => {
                fresh.credentials = self.credentials.clone();
                fresh.logins = self.logins.clone();
                fresh.coverage = self.coverage.clone();
                fresh.communes = self.communes.clone();
                fresh
            }
        }
    }

    fn from_tables(mut rows: impl FnMut(Table) -> Result<Vec<Vec<Cell>>, AppError>) -> Result<Self, AppError> {
        let mut dir = Directory::default();
        for cells in rows(Table::School)? {
            if let Some(school) = school_row(&cells) {
                dir.school = Some(school);
            }
        }
        for cells in rows(Table::SchoolClass)? {
            let r = RowReader { table: Table::SchoolClass, cells: &cells };
            let Ok(id) = ClassId::parse(&r.text("class_id")) else { continue };
            let class = SchoolClass {
                name: r.text("name"),
                levels: r.list("levels"),
                school_year: r.text("school_year"),
                teachers: r.list("teachers"),
                archived: r.int("archived") != 0,
                unmoderated: r.int("unmoderated") != 0,
                classmates: r.int("classmates") != 0,
                families_open: r.int("families_open") != 0,
            };
            dir.classes.insert(id.clone(), Class { id, class });
        }
        for cells in rows(Table::SchoolGroup)? {
            let r = RowReader { table: Table::SchoolGroup, cells: &cells };
            dir.groups.insert(r.text("group_id"), Group { name: r.text("name"), members: r.list("members") });
        }
        for cells in rows(Table::Person)? {
            let r = RowReader { table: Table::Person, cells: &cells };
            let (Ok(id), Some(profile)) = (UserId::parse(&r.text("user_id")), Profile::parse(&r.text("profile")))
            else {
                continue;
            };
            let person = Person {
                profile: r.text("profile"),
                staff_role: r.text("staff_role"),
                civility: r.text("civility"),
                first_name: r.text("first_name"),
                last_name: r.text("last_name"),
                birth_name: r.text("birth_name"),
                birth_date: r.text("birth_date"),
                sex: r.text("sex"),
                level: r.text("level"),
                class_id: r.text("class_id"),
                photo_consent: match r.int("photo_consent") {
                    1 => Some(true),
                    0 => Some(false),
                    _ => None,
                },
                email: r.text("email"),
                phone: r.text("phone"),
                address: r.text("address"),
                archived: r.int("archived") != 0,
            };
            dir.people.insert(id.clone(), Member { id, profile, person });
        }
        for cells in rows(Table::Guardianship)? {
            let r = RowReader { table: Table::Guardianship, cells: &cells };
            if let (Ok(parent), Ok(child)) = (UserId::parse(&r.text("parent")), UserId::parse(&r.text("child"))) {
                dir.guardianships.push((parent, child, r.int("legal") != 0));
            }
        }
        for cells in rows(Table::Credential)? {
            let r = RowReader { table: Table::Credential, cells: &cells };
            let Ok(id) = UserId::parse(&r.text("user_id")) else { continue };
            let credential = Credential {
                login: r.text("login"),
                password_hash: r.text("password_hash"),
                activation_code: r.text("activation_code"),
                must_change_password: r.int("must_change_password") != 0,
                picture_secret: r.text("picture_secret"),
                qr_secret: r.text("qr_secret"),
                disabled: r.int("disabled") != 0,
                calendar_secret: r.text("calendar_secret"),
                reset_by: r.text("reset_by"),
                reset_at: r.int("reset_at"),
                reset_reason: r.text("reset_reason"),
            };
            if !credential.login.is_empty() {
                dir.logins.insert(credential.login.to_lowercase(), id.clone());
            }
            dir.credentials.insert(id, credential);
        }
        Ok(dir)
    }

    /// The school's UAI, once set up.
    pub fn uai(&self) -> Option<&Uai> {
        self.school.as_ref().map(|s| &s.uai)
    }

    /// Who logs in with `login` (case-insensitive).
    pub fn by_login(&self, login: &str) -> Option<&Member> {
        self.logins.get(&login.trim().to_lowercase()).and_then(|id| self.people.get(id))
    }

    /// Who holds the QR card `secret`.
    pub fn by_qr_secret(&self, secret: &str) -> Option<&Member> {
        if secret.len() < 32 {
            return None;
        }
        let (id, _) = self.credentials.iter().find(|(_, c)| {
            !c.qr_secret.is_empty()
                && crate::school::accounts::secrets::constant_eq(c.qr_secret.as_bytes(), secret.as_bytes())
        })?;
        self.people.get(id)
    }

    /// Whose calendar feed has this secret.
    pub fn by_calendar_secret(&self, secret: &str) -> Option<&Member> {
        if secret.len() < 32 {
            return None;
        }
        let (id, _) = self.credentials.iter().find(|(_, c)| {
            !c.calendar_secret.is_empty()
                && crate::school::accounts::secrets::constant_eq(c.calendar_secret.as_bytes(), secret.as_bytes())
        })?;
        self.people.get(id).filter(|m| !m.person.archived)
    }

    /// A person.
    pub fn member(&self, id: &UserId) -> Option<&Member> {
        self.people.get(id)
    }

    /// The pupils of a class, by first then last name.
    pub fn pupils_of(&self, class: &ClassId) -> Vec<&Member> {
        let mut pupils: Vec<&Member> = self
            .people
            .values()
            .filter(|m| m.profile == Profile::Pupil && !m.person.archived && m.person.class_id == class.as_str())
            .collect();
        pupils.sort_by(|a, b| {
            (&a.person.first_name, &a.person.last_name).cmp(&(&b.person.first_name, &b.person.last_name))
        });
        pupils
    }

    /// Current (non-archived) classes, by name.
    pub fn current_classes(&self) -> Vec<&Class> {
        let mut classes: Vec<&Class> = self.classes.values().filter(|c| !c.class.archived).collect();
        classes.sort_by(|a, b| a.class.name.cmp(&b.class.name));
        classes
    }

    /// The classes someone teaches.
    pub fn classes_taught_by(&self, teacher: &UserId) -> Vec<&Class> {
        self.current_classes().into_iter().filter(|c| c.class.teachers.iter().any(|t| t == teacher.as_str())).collect()
    }

    /// Whether `user` is one of `class`'s teachers or the director (and still at the school):
    /// those who write for a class (its cahier de textes, its liaison notes).
    pub fn teaches(&self, user: &UserId, class: &Class) -> bool {
        self.member(user).is_some_and(|m| {
            !m.person.archived
                && (m.profile == Profile::Director
                    || (m.profile == Profile::Teacher && class.class.teachers.iter().any(|t| t == user.as_str())))
        })
    }

    /// The class a partition names, if it is one of this school's classes.
    pub fn class_of_partition(&self, partition: &Partition) -> Option<&Class> {
        match partition {
            Partition::Class(uai, local) if self.uai() == Some(uai) => {
                self.classes.get(&ClassId::parse(local.as_str()).ok()?)
            }
            _ => None,
        }
    }

    /// The class `id` if `user` teaches it (or directs the school); otherwise not found, so
    /// that others cannot tell it exists.
    pub fn taught_class(&self, user: &UserId, id: &str) -> Result<Class, AppError> {
        let class = self.classes.get(&ClassId::parse(id)?).ok_or(AppError::NotFound)?;
        if self.teaches(user, class) { Ok(class.clone()) } else { Err(AppError::NotFound) }
    }

    /// What a session or a family link was opened with, as a mark: it changes with the
    /// account's password, activation code, QR card, reset or disabling, so whatever was
    /// proven with the old ones stops holding (here, and on the hub once the school synced).
    pub fn credential_mark(&self, user: &UserId) -> CredentialMark {
        let mut hasher = blake3::Hasher::new();
        if let Some(c) = self.credentials.get(user) {
            for part in [c.password_hash.as_str(), c.activation_code.as_str(), c.qr_secret.as_str()] {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part.as_bytes());
            }
            hasher.update(&[u8::from(c.disabled)]);
            hasher.update(&c.reset_at.to_le_bytes());
        }
        let mut mark = [0; 16];
        mark.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        CredentialMark(mark)
    }

    /// Whether a pupil's family is on the ENT for them: their class is open to families
    /// (`SchoolClass::families_open`, the school's choice). Every family-facing question
    /// below asks it, so a closed class's parents see, sign, receive and are offered
    /// nothing about that child, and need no letter.
    pub fn family_open(&self, child: &UserId) -> bool {
        self.people
            .get(child)
            .and_then(|m| ClassId::parse(&m.person.class_id).ok())
            .and_then(|c| self.classes.get(&c))
            .is_some_and(|c| c.class.families_open && self.class_covered(&c.id))
    }

    /// Whether the académie's conventions cover `class` today (always, at a school no
    /// convention activated). A class they do not cover is the school's still, but closed to
    /// its pupils and their families: until the académie covers it, or after its convention
    /// ended (nothing is deleted).
    pub fn class_covered(&self, class: &ClassId) -> bool {
        self.covered_on(class, &crate::platform::clock::today())
    }

    /// Whether the conventions cover `class` on `day` (`YYYY-MM-DD`).
    pub fn covered_on(&self, class: &ClassId, day: &str) -> bool {
        let Some(conventions) = &self.coverage else { return true };
        conventions.iter().any(|c| {
            c.starts_on.as_str() <= day
                && day <= c.last_day()
                && c.classes.iter().any(|(id, _, since, until)| {
                    id == class.as_str() && since.as_str() <= day && (until.is_empty() || day <= until.as_str())
                })
        })
    }

    /// Whether `user` is a legal guardian of `child`, for the ENT (see
    /// [`Directory::family_open`]).
    pub fn is_legal_guardian(&self, user: &UserId, child: &UserId) -> bool {
        self.guardianships.iter().any(|(p, c, legal)| p == user && c == child && *legal) && self.family_open(child)
    }

    /// A parent's children on the ENT (see [`Directory::family_open`]), by first name.
    pub fn children_of(&self, parent: &UserId) -> Vec<&Member> {
        self.children_of_any(parent).into_iter().filter(|c| self.family_open(&c.id)).collect()
    }

    /// A parent's children, whether their classes are open to families or not (the
    /// director's lists of accounts), by first name.
    pub fn children_of_any(&self, parent: &UserId) -> Vec<&Member> {
        let mut children: Vec<&Member> = self
            .guardianships
            .iter()
            .filter(|(p, _, _)| p == parent)
            .filter_map(|(_, c, _)| self.people.get(c))
            .filter(|m| !m.person.archived)
            .collect();
        children.sort_by_key(|m| (m.person.first_name.clone(), m.id.clone()));
        children.dedup_by(|a, b| a.id == b.id);
        children
    }

    /// Whether a parent is on the ENT at all: one of their children's classes is open to
    /// families; a pupil, when the conventions cover their class. Staff are, as the
    /// directory says.
    pub fn on_the_ent(&self, member: &Member) -> bool {
        match member.profile {
            Profile::Parent => !self.children_of(&member.id).is_empty(),
            Profile::Pupil => {
                self.coverage.is_none() || self.class_of(member).is_some_and(|c| self.class_covered(&c.id))
            }
            _ => true,
        }
    }

    /// A child's guardians on the ENT (legal ones first): none while the child's class is
    /// closed to families (see [`Directory::family_open`]).
    pub fn guardians_of(&self, child: &UserId) -> Vec<(&Member, bool)> {
        if !self.family_open(child) {
            return Vec::new();
        }
        let mut out: Vec<(&Member, bool)> = self
            .guardianships
            .iter()
            .filter(|(_, c, _)| c == child)
            .filter_map(|(p, _, legal)| self.people.get(p).map(|m| (m, *legal)))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.person.last_name.cmp(&b.0.person.last_name)));
        out
    }

    /// The class a pupil is in.
    pub fn class_of(&self, pupil: &Member) -> Option<&Class> {
        ClassId::parse(&pupil.person.class_id).ok().and_then(|id| self.classes.get(&id))
    }
}

/// Lower-case ASCII letters and digits of a name (accents folded), for login names.
pub fn slug(name: &str) -> String {
    name.chars().flat_map(fold_accent).filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn fold_accent(c: char) -> Vec<char> {
    let folded = match c {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' | 'À' | 'Â' | 'Ä' | 'Á' => 'a',
        'ç' | 'Ç' => 'c',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'î' | 'ï' | 'í' | 'ì' | 'Î' | 'Ï' => 'i',
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'Ô' | 'Ö' => 'o',
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ÿ' | 'Ÿ' => 'y',
        'ñ' | 'Ñ' => 'n',
        'œ' | 'Œ' => return vec!['o', 'e'],
        'æ' | 'Æ' => return vec!['a', 'e'],
        other => other,
    };
    vec![folded]
}

/// Where a school's directory document lives.
pub fn directory_address(uai: &Uai) -> DocAddress {
    DocAddress::new(Partition::School(uai.clone()), Kind::SchoolDirectory, DocKey::parse(DIRECTORY_KEY).expect("valid"))
}

/// Where a school's credentials document lives.
pub fn credentials_address(uai: &Uai) -> DocAddress {
    DocAddress::new(Partition::Accounts(uai.clone()), Kind::Credentials, DocKey::parse(CREDENTIALS_KEY).expect("valid"))
}

/// A school's two documents, as writers edit them.
#[derive(Clone, Default, PartialEq)]
pub struct SchoolDocs {
    /// Structures and people.
    pub directory: SchoolDirectory,
    /// Their credentials.
    pub credentials: Credentials,
}

impl SchoolDocs {
    /// Loads both documents (empty if the school has none yet).
    pub fn load(store: &mut Store, uai: &Uai) -> Result<Self, AppError> {
        Ok(Self {
            directory: store.get::<SchoolDirectory>(directory_address(uai).id())?.unwrap_or_default(),
            credentials: store.get::<Credentials>(credentials_address(uai).id())?.unwrap_or_default(),
        })
    }

    /// Writes what differs from `before`, credentials first: an account without a
    /// directory entry cannot log in, so a failure between the two writes leaves nobody
    /// half-created.
    pub fn save(self, store: &mut Store, uai: &Uai, before: &SchoolDocs) -> Result<(), AppError> {
        if self.credentials != before.credentials {
            store.change::<Credentials, _>(&credentials_address(uai), |c| *c = self.credentials)?;
        }
        if self.directory != before.directory {
            store.change::<SchoolDirectory, _>(&directory_address(uai), |d| *d = self.directory)?;
        }
        Ok(())
    }

    /// Loads, edits and saves in one go.
    pub fn edit<T>(
        store: &mut Store,
        uai: &Uai,
        edit: impl FnOnce(&mut SchoolDocs) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let before = Self::load(store, uai)?;
        let mut docs = before.clone();
        let out = edit(&mut docs)?;
        docs.save(store, uai, &before)?;
        Ok(out)
    }
}

/// A class's partition.
pub fn class_partition(uai: &Uai, class: &ClassId) -> Partition {
    Partition::Class(uai.clone(), preau_sync::LocalId::parse(class.as_str()).expect("class ids are lowercase hex"))
}

/// A person's role as people say it ("Directrice", "ATSEM", ...).
pub fn role_label(l: &Locale, m: &Member) -> String {
    match m.profile {
        Profile::Director => l.t("profile-director"),
        Profile::Teacher => l.t("profile-teacher"),
        Profile::Parent => l.t("profile-parent"),
        Profile::Pupil => String::new(),
        Profile::AcademyAdmin => l.t("profile-academy-admin"),
        Profile::Staff => {
            l.t(&format!("staff-role-{}", if m.person.staff_role.is_empty() { "other" } else { &m.person.staff_role }))
        }
    }
}
