//! `preau serve --demo`: a realistic fictional school, seeded on first start, so that a
//! newcomer sees a working ENT at once. Names come from a fixed seed (the same school every
//! time); secrets do not (activation codes, pictures and QR cards are random).

use preau_sync::kinds::credentials::Credential;
use preau_sync::kinds::directory::{Guardianship, Person, SchoolClass, SchoolInfo};
use preau_sync::kinds::homework::HomeworkEntry;
use preau_sync::kinds::{Credentials, HomeworkBook, NewsPost, SchoolDirectory};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Store, Uai};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use crate::platform::error::AppError;
use crate::school::accounts::{new_credential, secrets};
use crate::school::directory::{ClassId, Directory, Profile, SchoolDocs, UserId, slug};

/// The demo school's UAI (département 099 does not exist: no real school has it).
pub const DEMO_UAI: &str = "0990001X";
/// The password of every demo login printed at start.
pub const DEMO_PASSWORD: &str = "preau-demo";
/// The demo school year.
pub const SCHOOL_YEAR: &str = "2026-2027";

/// The logins printed at start.
#[derive(Debug, Default)]
pub struct DemoLogins {
    /// The school's name.
    pub school: String,
    /// (message id of the account's label, login) for password logins.
    pub accounts: Vec<(&'static str, String)>,
    /// A CP pupil: first name, class name, class id, picture sequence.
    pub pupil: (String, String, String, String),
}

const GIRLS: &[&str] = &[
    "Léa",
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Inès",
    "Lina",
    "Rose",
    "Anna",
    "Mila",
    "Ambre",
    "Julia",
    "Zoé",
    "Léna",
    "Manon",
    "Agathe",
    "Capucine",
    "Margaux",
    "Romane",
    "Nina",
    "Éloïse",
    "Camille",
    "Lou",
    "Clémence",
];
const BOYS: &[&str] = &[
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Maël", "Lucas", "Hugo", "Noah", "Paul", "Nathan",
    "Sacha", "Tom", "Théo", "Aaron", "Eden", "Malo", "Timéo", "Gaspard", "Baptiste", "Émile", "Axel", "Noé",
];
/// Family names of the demo school (and of the memory benchmark's generated one).
pub const SURNAMES: &[&str] = &[
    "Le Gall",
    "Moreau",
    "Kerhervé",
    "Fournier",
    "Lemoine",
    "Garnier",
    "Rolland",
    "Perrin",
    "Guillou",
    "Lebreton",
    "Caradec",
    "Marchand",
    "Barbier",
    "Tanguy",
    "Hamon",
    "Jégou",
    "Collin",
    "Renaud",
    "Prigent",
    "Morvan",
    "Bouvier",
    "Le Roux",
    "Daniel",
    "Guégan",
    "Riou",
    "Cadiou",
    "Menez",
    "Picard",
    "Vasseur",
    "Chevalier",
    "Lucas",
    "Benoît",
    "Diallo",
    "Nguyen",
    "Da Silva",
    "Haddad",
    "Martins",
    "Kowalski",
    "Benali",
    "Ferreira",
];

struct Family {
    surname: &'static str,
    /// Parent accounts (one or two).
    parents: Vec<UserId>,
    /// A second household (separated parents): its parent account.
    second_household: Option<UserId>,
}

/// Seeds the demo school if the replica holds no school yet. Returns what to print.
pub fn seed(store: &mut Store) -> Result<Option<DemoLogins>, AppError> {
    if Directory::load(store)?.school.is_some() {
        return Ok(None);
    }
    let uai = Uai::parse(DEMO_UAI)?;
    store.set_scope(crate::school::scope(&uai));
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut directory = SchoolDirectory {
        school: SchoolInfo {
            name: "École élémentaire Les Tilleuls".into(),
            address: "3 rue des Écoles".into(),
            postcode: "35999".into(),
            commune: "Saint-Aubin-des-Prés".into(),
            academy: "Académie de Rennes".into(),
            away_sync: false,
            holiday_pause: false,
        },
        ..SchoolDirectory::default()
    };
    let mut creds = Credentials::default();
    let mut logins = DemoLogins { school: directory.school.name.clone(), ..DemoLogins::default() };
    let password_hash = secrets::hash_password(DEMO_PASSWORD);

    let mut add = |dir: &mut SchoolDirectory, creds: &mut Credentials, person: Person, demo: Option<&'static str>| {
        let profile = Profile::parse(&person.profile).expect("demo profiles are valid");
        let id = UserId::random();
        let mut credential: Credential = new_credential(creds, &person, profile);
        if let Some(label) = demo {
            credential.password_hash = password_hash.clone();
            credential.activation_code.clear();
            credential.must_change_password = false;
            logins.accounts.push((label, credential.login.clone()));
        }
        creds.accounts.insert(id.to_string(), credential);
        dir.people.insert(id.to_string(), person);
        id
    };
    // Staff have school addresses, families their own.
    let adult = |profile: Profile, civility: &str, first: &str, last: &str| Person {
        profile: profile.as_str().into(),
        civility: civility.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: match profile {
            Profile::Parent => format!("{}.{}@exemple.fr", slug(first), slug(last)),
            _ => format!("{}.{}@ecole-tilleuls.example", slug(first), slug(last)),
        },
        ..Person::default()
    };

    let director = add(
        &mut directory,
        &mut creds,
        adult(Profile::Director, "Mme", "Claire", "Martin"),
        Some("demo-account-director"),
    );
    let teachers: Vec<UserId> = [
        ("Mme", "Sophie", "Le Bihan", Some("demo-account-teacher-ce")),
        ("M.", "Julien", "Roche", Some("demo-account-teacher-cp")),
        ("Mme", "Nadia", "Benhamou", None),
        ("M.", "Yann", "Kerouac", None),
        ("Mme", "Hélène", "Dubois", None),
    ]
    .into_iter()
    .map(|(civ, first, last, demo)| add(&mut directory, &mut creds, adult(Profile::Teacher, civ, first, last), demo))
    .collect();
    let mut staff = |role: &str, civ: &str, first: &str, last: &str, demo| {
        let mut p = adult(Profile::Staff, civ, first, last);
        p.staff_role = role.into();
        add(&mut directory, &mut creds, p, demo)
    };
    staff("atsem", "Mme", "Martine", "Guillemot", Some("demo-account-atsem"));
    staff("periscolaire", "M.", "Karim", "Saïdi", None);

    // Four classes, CP to CM2, one of them spanning two levels; Hélène Dubois teaches in CM2
    // (the director's release time) and in CE1-CE2 part-time, so two classes have two teachers.
    let classes: Vec<(ClassId, &str, Vec<&str>, Vec<&UserId>)> = vec![
        (ClassId::random(), "CP", vec!["CP"], vec![&teachers[1]]),
        (ClassId::random(), "CE1-CE2", vec!["CE1", "CE2"], vec![&teachers[0], &teachers[4]]),
        (ClassId::random(), "CM1", vec!["CM1"], vec![&teachers[2]]),
        (ClassId::random(), "CM2", vec!["CM2"], vec![&teachers[3], &teachers[4], &director]),
    ];
    for (id, name, levels, teachers) in &classes {
        directory.classes.insert(
            id.to_string(),
            SchoolClass {
                name: (*name).into(),
                levels: levels.iter().map(|l| (*l).into()).collect(),
                school_year: SCHOOL_YEAR.into(),
                teachers: teachers.iter().map(|t| t.to_string()).collect(),
                // The demo's families use Préau: its classes are open to them.
                families_open: true,
                ..SchoolClass::default()
            },
        );
    }

    // Families: most have one child, some two in different classes; some parents are
    // separated (two households, two accounts, both legal guardians).
    let mut families: Vec<Family> = Vec::new();
    let mut pupils_per_class = [0usize; 4];
    let targets = [24usize, 26, 25, 25];
    let birth_year = |level: &str| match level {
        "CP" => 2020,
        "CE1" => 2019,
        "CE2" => 2018,
        "CM1" => 2017,
        _ => 2016,
    };
    let mut demo_pupil: Option<(String, String, String, String)> = None;
    while pupils_per_class.iter().zip(&targets).any(|(n, t)| n < t) {
        let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
        let separated = rng.random_bool(0.15);
        let single = !separated && rng.random_bool(0.15);
        const MOTHERS: [&str; 7] = ["Aurélie", "Sandrine", "Élodie", "Marion", "Céline", "Fatima", "Laure"];
        const FATHERS: [&str; 6] = ["Thomas", "Nicolas", "Mehdi", "Pierre", "Erwan", "David"];
        let mut mother = adult(Profile::Parent, "Mme", MOTHERS[rng.random_range(0..MOTHERS.len())], surname);
        mother.address = format!("{} rue du Moulin, 35999 Saint-Aubin-des-Prés", rng.random_range(1..80));
        // The first parent created is the demo parent (their family gets two children below).
        let demo = families.is_empty().then_some("demo-account-parent");
        let mut parents = vec![add(&mut directory, &mut creds, mother, demo)];
        if !single && !separated {
            let mut p = adult(Profile::Parent, "M.", FATHERS[rng.random_range(0..FATHERS.len())], surname);
            p.address = directory.people[parents[0].as_str()].address.clone();
            parents.push(add(&mut directory, &mut creds, p, None));
        }
        let second_household = separated.then(|| {
            let mut p =
                adult(Profile::Parent, "M.", ["Olivier", "Stéphane", "Karim", "Loïc"][rng.random_range(0..4)], surname);
            p.address = format!("{} avenue de la Gare, 35000 Rennes", rng.random_range(1..120));
            add(&mut directory, &mut creds, p, None)
        });
        let family = Family { surname, parents, second_household };
        // The first family (the demo parent) and about one in five have two children.
        let children = if families.is_empty() || rng.random_bool(0.2) { 2 } else { 1 };
        let mut used = Vec::new();
        let mut siblings: Vec<&str> = Vec::new();
        for _ in 0..children {
            let open: Vec<usize> = (0..4).filter(|c| pupils_per_class[*c] < targets[*c] && !used.contains(c)).collect();
            if open.is_empty() {
                break;
            }
            let class = open[rng.random_range(0..open.len())];
            used.push(class);
            pupils_per_class[class] += 1;
            let (class_id, class_name, levels, _) = &classes[class];
            let level = levels[rng.random_range(0..levels.len())];
            let girl = rng.random_bool(0.5);
            let names = if girl { GIRLS } else { BOYS };
            // Siblings never share a first name.
            let first = loop {
                let name = names[rng.random_range(0..names.len())];
                if !siblings.contains(&name) {
                    break name;
                }
            };
            siblings.push(first);
            let pupil = Person {
                profile: Profile::Pupil.as_str().into(),
                first_name: first.into(),
                last_name: family.surname.into(),
                birth_date: format!(
                    "{}-{:02}-{:02}",
                    birth_year(level),
                    rng.random_range(1..=12),
                    rng.random_range(1..=28)
                ),
                sex: if girl { "F" } else { "M" }.into(),
                level: level.into(),
                class_id: class_id.to_string(),
                photo_consent: Some(rng.random_bool(0.85)),
                address: directory.people[family.parents[0].as_str()].address.clone(),
                ..Person::default()
            };
            let child = add(&mut directory, &mut creds, pupil, None);
            if demo_pupil.is_none() && *class_name == "CP" {
                let secret = creds.accounts[child.as_str()].picture_secret.clone();
                demo_pupil = Some((first.into(), (*class_name).into(), class_id.to_string(), secret));
            }
            for parent in family.parents.iter().chain(&family.second_household) {
                directory.guardianships.insert(
                    Guardianship::key(parent.as_str(), child.as_str()),
                    Guardianship { parent: parent.to_string(), child: child.to_string(), legal: true },
                );
            }
        }
        families.push(family);
    }
    // A demo pupil in CP is needed for the printed picture login; the loop guarantees one.
    logins.pupil = demo_pupil.expect("the CP class has pupils");
    SchoolDocs { directory, credentials: creds }.save(store, &uai, &SchoolDocs::default())?;
    let posts = [
        ("Fête de l'école", "La fête de l'école aura lieu le samedi 27 juin dans la cour. Venez nombreux !", true),
        ("Inscriptions en CP", "Les inscriptions pour la rentrée prochaine se font en mairie jusqu'au 15 mars.", true),
        ("Conseil des maîtres", "Conseil des maîtres lundi à 16 h 45 en salle des maîtres.", false),
    ];
    for (n, (title, body, public)) in posts.into_iter().enumerate() {
        // The last one is for the staff room.
        let partition = if n == 2 { Partition::Staff(uai.clone()) } else { Partition::School(uai.clone()) };
        let address = DocAddress::new(partition, Kind::NewsPost, DocKey::parse(&format!("demo-news-{n}"))?);
        let at = crate::platform::clock::now_ms() - (3 - n as i64) * 86_400_000;
        store.change::<NewsPost, _>(&address, |p| {
            *p = NewsPost {
                title: title.into(),
                body: body.into(),
                author: director.to_string(),
                published_at: at,
                public,
                edited_by: director.to_string(),
                edited_at: at,
                ..NewsPost::default()
            }
        })?;
    }
    seed_homework(store, &uai, &classes)?;
    Ok(Some(logins))
}

/// A few days of each class's cahier de textes around today, so that pupils and parents
/// have something to do and teachers something to read.
fn seed_homework(
    store: &mut Store,
    uai: &Uai,
    classes: &[(ClassId, &str, Vec<&str>, Vec<&UserId>)],
) -> Result<(), AppError> {
    // Days from today, moved off the weekend (work is not due on a Sunday).
    let day = |n: i64| {
        let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(n);
        let weekend = i64::from(date.weekday().number_days_from_monday()).saturating_sub(4);
        crate::platform::text::iso(date + time::Duration::days(if weekend > 0 { 3 - weekend } else { 0 }))
    };
    let entries = [
        (-1, "Français", "Lecture à voix haute : « Le loup et l'agneau ».", "", "", 0),
        (0, "Mathématiques", "Les tables de multiplication, jeu du furet.", "Apprendre la table de 4", "", 2),
        (0, "Questionner le monde", "Les états de l'eau : expérience du glaçon.", "", "", 0),
        (
            1,
            "Français",
            "Dictée préparée.",
            "Relire la dictée et recopier les mots difficiles",
            "Sur le cahier du jour.",
            4,
        ),
    ];
    for (n, (class, _, _, teachers)) in classes.iter().enumerate() {
        let author = teachers[0].to_string();
        let class = crate::school::directory::Class {
            id: class.clone(),
            class: SchoolClass { school_year: SCHOOL_YEAR.into(), ..SchoolClass::default() },
        };
        let address = crate::services::homework::book_address(uai, &class)?;
        store.change::<HomeworkBook, _>(&address, |book| {
            for (i, (on, subject, lesson, title, details, due_in)) in entries.iter().enumerate() {
                let entry = HomeworkEntry {
                    subject: (*subject).into(),
                    lesson: (*lesson).into(),
                    title: (*title).into(),
                    details: (*details).into(),
                    assigned_on: day(*on),
                    due_on: if title.is_empty() { String::new() } else { day(on + due_in) },
                    author: author.clone(),
                    edited_by: author.clone(),
                    edited_at: crate::platform::clock::now_ms(),
                    ..HomeworkEntry::default()
                };
                book.entries.insert(format!("demo{n}{i}"), entry);
            }
        })?;
    }
    Ok(())
}

/// Seeds the demo school if the replica has none, and prints its logins in `l`.
pub fn seed_and_print(db: &crate::platform::db::Db, l: crate::platform::i18n::Locale) -> anyhow::Result<()> {
    let Some(logins) = db.run_blocking(seed).map_err(|e| anyhow::anyhow!("{e}"))? else {
        return Ok(());
    };
    out!("{}", l.ta("cli-demo-created", &[("school", &logins.school)]));
    out!("{}", l.ta("cli-demo-accounts", &[("password", DEMO_PASSWORD)]));
    for (label, login) in &logins.accounts {
        out!("  {:<28} {login}", l.t(label));
    }
    let (first, class, _, pictures) = &logins.pupil;
    let pictures: Vec<String> = pictures.split(',').map(|p| l.t(&format!("picture-{p}"))).collect();
    out!("  {}", l.ta("cli-demo-pupil", &[("first", first), ("class", class), ("pictures", &pictures.join(", "))]));
    Ok(())
}
