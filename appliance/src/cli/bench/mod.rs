//! `preau bench sync`: bundle size for a school day, exchanges per sync, apply throughput
//! and peak memory. Prints numbers; BENCHMARKS.md records them with the machine.

pub mod hub;
pub mod load;
pub mod memory;
pub mod night;
pub mod pages;

use preau_appliance::out;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Subcommand;
use preau_sync::kinds::conversation::{Conversation, Message};
use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::kinds::news::NewsPost;
use preau_sync::replication::{OpenPolicy, PeerView, sync_pair};
use preau_sync::{DocAddress, DocKey, Kind, LocalId, Partition, Scope, ScopeRule, Store, Uai};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::json;

/// What to measure.
#[derive(Subcommand)]
pub enum Bench {
    /// Replication: school-day bundle size, exchanges per sync, apply throughput and memory.
    Sync {
        /// Documents in the large replica (exchanges and apply measurements).
        #[arg(long, default_value_t = 10_000)]
        docs: usize,
    },
    /// Pages: bytes and server time per page type of the demo school, login costs, and what
    /// a pupil's first visit transfers, uncompressed, gzip and brotli.
    Pages,
    /// The server's resident memory over a school morning of logins and pages.
    Memory(memory::Args),
    /// The académie's hub holding many schools: families' pages under load, its memory,
    /// and one evening's e-mail digests.
    Hub(hub::Args),
    /// An académie's night: many schools' servers syncing a school day with one hub, its
    /// replica in SQLite or PostgreSQL, one hub process or two.
    Night(night::Args),
}

/// Runs a benchmark and prints its results.
pub fn run(what: Bench) -> Result<()> {
    match what {
        Bench::Sync { docs } => {
            let dir = tempfile::tempdir()?;
            print_machine();
            school_day(dir.path())?;
            exchanges(dir.path(), &[1, 100, docs])?;
            apply(dir.path(), docs)?;
            Ok(())
        }
        Bench::Pages => {
            print_machine();
            let runtime = tokio::runtime::Runtime::new()?;
            let demo = pages::Demo::open()?;
            runtime.block_on(pages::run(&demo))?;
            runtime.block_on(load::run(&demo))?;
            runtime.block_on(pages::first_visit(&demo))
        }
        Bench::Memory(args) => {
            print_machine();
            tokio::runtime::Runtime::new()?.block_on(memory::run(args))
        }
        Bench::Hub(args) => {
            print_machine();
            tokio::runtime::Runtime::new()?.block_on(hub::run(args))
        }
        Bench::Night(args) => {
            print_machine();
            tokio::runtime::Runtime::new()?.block_on(night::run(args))
        }
    }
}

const UAI: &str = "0341234A";
const SCHOOL_YEAR: &str = "2026-2027";

fn school() -> Uai {
    Uai::parse(UAI).unwrap()
}

fn class(i: usize) -> Result<Partition> {
    Ok(Partition::Class(school(), LocalId::parse(&format!("classe-{i:02}"))?))
}

fn address(partition: Partition, kind: Kind, key: &str) -> Result<DocAddress> {
    Ok(DocAddress::new(partition, kind, DocKey::parse(key)?))
}

fn school_scope() -> Scope {
    Scope::new(vec![ScopeRule::School(school())])
}

/// A generator of plausible French school text (fixed seed: runs are comparable).
struct Writer(ChaCha8Rng);

const SUBJECTS: &[&str] =
    &["Mathématiques", "Français", "Lecture", "Sciences", "Histoire", "Géographie", "Anglais", "Poésie", "Musique"];
const VOCABULARY: &[&str] = &[
    "le",
    "la",
    "les",
    "un",
    "une",
    "des",
    "du",
    "de",
    "et",
    "à",
    "au",
    "aux",
    "en",
    "dans",
    "sur",
    "sous",
    "avec",
    "pour",
    "par",
    "sans",
    "chez",
    "vers",
    "entre",
    "après",
    "avant",
    "pendant",
    "depuis",
    "enfant",
    "enfants",
    "élève",
    "élèves",
    "classe",
    "école",
    "maîtresse",
    "maître",
    "parent",
    "parents",
    "famille",
    "maman",
    "papa",
    "frère",
    "sœur",
    "cahier",
    "livre",
    "lecture",
    "écriture",
    "dictée",
    "calcul",
    "problème",
    "exercice",
    "leçon",
    "poésie",
    "chanson",
    "dessin",
    "peinture",
    "sport",
    "piscine",
    "gymnase",
    "cour",
    "récréation",
    "cantine",
    "repas",
    "goûter",
    "sortie",
    "musée",
    "bibliothèque",
    "forêt",
    "jardin",
    "potager",
    "ferme",
    "spectacle",
    "fête",
    "kermesse",
    "photo",
    "réunion",
    "rendez-vous",
    "absence",
    "retard",
    "maladie",
    "médecin",
    "orthophoniste",
    "vacances",
    "semaine",
    "matin",
    "soir",
    "midi",
    "demain",
    "hier",
    "aujourd'hui",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "heure",
    "heures",
    "minute",
    "minutes",
    "page",
    "pages",
    "mot",
    "mots",
    "phrase",
    "phrases",
    "texte",
    "histoire",
    "conte",
    "carte",
    "fleuve",
    "montagne",
    "mer",
    "pays",
    "ville",
    "village",
    "commune",
    "mairie",
    "bus",
    "car",
    "vélo",
    "trottinette",
    "manteau",
    "bottes",
    "gants",
    "bonnet",
    "cartable",
    "trousse",
    "stylo",
    "crayon",
    "gomme",
    "règle",
    "ciseaux",
    "colle",
    "feutres",
    "ardoise",
    "classeur",
    "pochette",
    "chemise",
    "étiquette",
    "nom",
    "prénom",
    "date",
    "signature",
    "mot",
    "est",
    "sont",
    "a",
    "ont",
    "fait",
    "font",
    "va",
    "vont",
    "peut",
    "peuvent",
    "doit",
    "doivent",
    "faut",
    "sera",
    "seront",
    "était",
    "avait",
    "aura",
    "pourra",
    "devra",
    "faudra",
    "apprendre",
    "lire",
    "écrire",
    "compter",
    "réviser",
    "relire",
    "terminer",
    "finir",
    "commencer",
    "préparer",
    "apporter",
    "rapporter",
    "signer",
    "rendre",
    "oublier",
    "penser",
    "prévoir",
    "venir",
    "partir",
    "rester",
    "jouer",
    "chanter",
    "danser",
    "courir",
    "nager",
    "dessiner",
    "colorier",
    "découper",
    "coller",
    "ranger",
    "nettoyer",
    "goûter",
    "manger",
    "boire",
    "dormir",
    "parler",
    "écouter",
    "regarder",
    "chercher",
    "trouver",
    "montrer",
    "expliquer",
    "demander",
    "répondre",
    "remercier",
    "prévenir",
    "informer",
    "rappeler",
    "vérifier",
    "merci",
    "bonjour",
    "bonsoir",
    "cordialement",
    "bonne",
    "belle",
    "grand",
    "grande",
    "petit",
    "petite",
    "nouveau",
    "nouvelle",
    "premier",
    "première",
    "dernier",
    "dernière",
    "prochain",
    "prochaine",
    "long",
    "longue",
    "court",
    "courte",
    "facile",
    "difficile",
    "important",
    "importante",
    "possible",
    "nécessaire",
    "content",
    "contente",
    "fatigué",
    "fatiguée",
    "malade",
    "absent",
    "absente",
    "très",
    "bien",
    "mieux",
    "encore",
    "déjà",
    "toujours",
    "jamais",
    "souvent",
    "parfois",
    "bientôt",
    "ensuite",
    "enfin",
    "aussi",
    "seulement",
    "vraiment",
    "beaucoup",
    "peu",
    "trop",
    "assez",
    "plus",
    "moins",
    "tout",
    "tous",
    "toute",
    "toutes",
    "chaque",
    "autre",
    "autres",
    "même",
    "quel",
    "quelle",
    "notre",
    "votre",
    "leur",
    "nos",
    "vos",
    "leurs",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "son",
    "sa",
    "ses",
    "il",
    "elle",
    "ils",
    "elles",
    "nous",
    "vous",
    "on",
    "je",
    "tu",
    "qui",
    "que",
    "quoi",
    "dont",
    "où",
    "si",
    "mais",
    "ou",
    "donc",
    "car",
    "ni",
    "comme",
    "quand",
    "lorsque",
    "parce",
    "puisque",
    "afin",
    "Léa",
    "Tom",
    "Inès",
    "Hugo",
    "Jade",
    "Louis",
    "Emma",
    "Gabriel",
    "Chloé",
    "Arthur",
    "Manon",
    "Jules",
    "Camille",
    "Nathan",
    "Sarah",
    "Lucas",
    "Zoé",
    "Adam",
    "Lina",
    "Raphaël",
    "Alice",
    "Paul",
    "Rose",
    "Noé",
    "Anna",
    "Ethan",
    "Léon",
    "Mia",
    "Sacha",
    "Lou",
];

impl Writer {
    fn pick(&mut self, from: &[&str]) -> String {
        from[self.0.random_range(0..from.len())].to_owned()
    }

    /// `n` sentences of 5–16 words drawn from a 400-word vocabulary: gzip -9 compresses
    /// it about as well as real French prose (see BENCHMARKS.md).
    fn sentences(&mut self, n: usize) -> String {
        let mut out = String::new();
        for i in 0..n {
            let words = self.0.random_range(5..17);
            for w in 0..words {
                let word = self.pick(VOCABULARY);
                if w == 0 {
                    let mut chars = word.chars();
                    out.extend(chars.next().map(|c| c.to_uppercase().to_string()));
                    out.push_str(chars.as_str());
                } else {
                    out.push(' ');
                    out.push_str(&word);
                }
            }
            out.push_str(if i % 4 == 3 { " ?" } else { "." });
            if i + 1 < n {
                out.push(' ');
            }
        }
        out
    }

    fn homework(&mut self, author: &str, day: u32) -> HomeworkEntry {
        let title_words = self.0.random_range(3..7);
        let title = self.sentences(1).split(' ').take(title_words).collect::<Vec<_>>().join(" ");
        HomeworkEntry {
            subject: self.pick(SUBJECTS),
            details: self.sentences(2).into(),
            title,
            assigned_on: format!("2026-11-{day:02}"),
            due_on: format!("2026-11-{:02}", day + 2),
            author: author.to_owned(),
            edited_by: author.to_owned(),
            ..Default::default()
        }
    }

    fn message(&mut self, author: &str, at: i64) -> Message {
        let n = self.0.random_range(1..4);
        Message {
            author: author.to_owned(),
            sent_at: at,
            body: self.sentences(n),
            held: false,
            attachments: Vec::new(),
        }
    }
}

fn gzip9(bytes: &[u8]) -> Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

/// 30 classes × 3 homework entries + 300 messages + 30 news posts, on top of an existing
/// term (30 homework books of 20 entries, 100 conversations of 4 messages) already synced.
fn school_day(dir: &Path) -> Result<()> {
    let mut w = Writer(ChaCha8Rng::seed_from_u64(2026));
    let mut replica = Store::open(&dir.join("day-school.db"), school_scope())?;
    let mut hub = Store::open(&dir.join("day-hub.db"), Scope::all())?;
    let teacher = |c: usize| format!("enseignant-{c:02}");
    let parent = |k: usize| format!("parent-{k:03}");

    // The term so far, already replicated.
    for c in 0..30 {
        let book = address(class(c)?, Kind::HomeworkBook, SCHOOL_YEAR)?;
        for e in 0..20 {
            let entry = w.homework(&teacher(c), 2 + (e % 20) as u32);
            replica.change::<HomeworkBook, _>(&book, |b| b.entries.insert(format!("h{c}-{e}"), entry))?;
        }
    }
    let mut conversations = Vec::new();
    for k in 0..100 {
        let conv = address(class(k % 30)?, Kind::Conversation, &format!("conv-{k:03}"))?;
        for m in 0..4 {
            let msg = w.message(&if m % 2 == 0 { parent(k) } else { teacher(k % 30) }, 1_795_000_000_000 + m);
            replica.change::<Conversation, _>(&conv, |c| {
                c.subject = "Organisation de la semaine".into();
                c.participants = vec![parent(k), teacher(k % 30)];
                c.messages.insert(format!("m{k}-{m}"), msg);
            })?;
        }
        conversations.push(conv);
    }
    sync_pair(&mut replica, &mut hub, &OpenPolicy)?;

    // The day, recorded both in the replica and as plain JSON for the baseline.
    let mut homework = Vec::new();
    let mut messages = Vec::new();
    let mut new_conversations = Vec::new();
    let mut news = Vec::new();
    for c in 0..30 {
        let book = address(class(c)?, Kind::HomeworkBook, SCHOOL_YEAR)?;
        for e in 0..3 {
            let entry = w.homework(&teacher(c), 23);
            let id = format!("d{c}-{e}");
            homework.push(json!({"class": class(c)?.to_string(), "id": id, "subject": entry.subject,
                "title": entry.title, "details": entry.details.as_str(), "assigned_on": entry.assigned_on,
                "due_on": entry.due_on, "author": entry.author}));
            replica.change::<HomeworkBook, _>(&book, |b| b.entries.insert(id, entry))?;
        }
    }
    for n in 0..50 {
        let k = 100 + n;
        conversations.push(address(class(k % 30)?, Kind::Conversation, &format!("conv-{k:03}"))?);
        new_conversations.push(json!({"id": format!("conv-{k:03}"), "class": class(k % 30)?.to_string(),
            "subject": "Question sur les devoirs", "participants": [parent(k), teacher(k % 30)]}));
    }
    for m in 0..300 {
        // 200 messages in the 100 existing conversations, 100 in the 50 new ones.
        let k = if m < 200 { m / 2 } else { 100 + (m - 200) / 2 };
        let msg = w.message(&if m % 2 == 0 { parent(k) } else { teacher(k % 30) }, 1_795_100_000_000 + m as i64);
        let id = format!("day-{m}");
        messages.push(json!({"conversation": format!("conv-{k:03}"), "id": id, "author": msg.author,
            "sent_at": msg.sent_at, "body": msg.body}));
        replica.change::<Conversation, _>(&conversations[k], |c| {
            if c.participants.is_empty() {
                c.subject = "Question sur les devoirs".into();
                c.participants = vec![parent(k), teacher(k % 30)];
            }
            c.messages.insert(id, msg);
        })?;
    }
    for n in 0..30 {
        let post = NewsPost {
            title: format!("Information n°{n}"),
            body: w.sentences(5).into(),
            author: "directrice".into(),
            published_at: 1_795_100_000_000 + n,
            public: n % 3 == 0,
            ..NewsPost::default()
        };
        news.push(json!({"id": format!("news-{n}"), "title": post.title, "body": post.body.as_str(),
            "author": post.author, "published_at": post.published_at, "public": post.public}));
        let partition = if n % 3 == 0 { Partition::School(school()) } else { class(n as usize % 30)? };
        replica.change::<NewsPost, _>(&address(partition, Kind::NewsPost, &format!("news-{n}"))?, |p| *p = post)?;
    }
    let (sent, received) = sync_pair(&mut replica, &mut hub, &OpenPolicy)?;
    let json = serde_json::to_vec(&json!({"homework": homework, "conversations": new_conversations,
        "messages": messages, "news": news}))?;
    let baseline = gzip9(&json)?;
    let wire = sent.bytes_sent + received.bytes_sent;
    out!("\n## School day (30 classes × 3 homework entries + 300 messages + 30 news posts)");
    out!("documents sent              {}", sent.docs_sent);
    out!("school → hub bytes          {}", sent.bytes_sent);
    out!("whole session bytes         {wire} ({} messages)", sent.messages_sent + received.messages_sent);
    out!("same content as JSON        {} bytes, gzip -9: {baseline} bytes", json.len());
    out!("ratio (session / gzip -9)   {:.2}  (target ≤ 1.20)", wire as f64 / baseline as f64);
    Ok(())
}

/// A replica with `n` documents: one news post in ten, the rest conversations of 2 messages.
fn populate(store: &mut Store, n: usize, seed: u64) -> Result<u64> {
    let mut w = Writer(ChaCha8Rng::seed_from_u64(seed));
    let mut changes = 0;
    for i in 0..n {
        let partition = class(i % 30)?;
        if i % 10 == 0 {
            let body = w.sentences(3);
            let key = format!("news-{seed}-{i}");
            store.change::<NewsPost, _>(&address(partition, Kind::NewsPost, &key)?, |p| {
                p.title = format!("Information {i}");
                p.body.update(body);
                p.author = "directrice".into();
            })?;
            changes += 1;
        } else {
            let conv = address(partition, Kind::Conversation, &format!("conv-{seed}-{i}"))?;
            for m in 0..2 {
                let msg = w.message("parent", 1_795_000_000_000 + m);
                store.change::<Conversation, _>(&conv, |c| {
                    c.subject = "Absence".into();
                    c.messages.insert(format!("m{m}"), msg);
                })?;
                changes += 1;
            }
        }
    }
    Ok(changes)
}

/// Sessions between a school and the hub with `n` new documents, then `n` documents the
/// hub already holds changed once more, then nothing changed.
fn exchanges(dir: &Path, sizes: &[usize]) -> Result<()> {
    out!("\n## Exchanges per sync (school → hub)");
    out!(
        "{:>8} {:>24} {:>10} {:>12} {:>10} {:>10}",
        "docs",
        "situation",
        "messages",
        "wire bytes",
        "bytes/doc",
        "seconds"
    );
    for &n in sizes {
        let mut school = Store::open(&dir.join(format!("ex-school-{n}.db")), school_scope())?;
        let mut hub = Store::open(&dir.join(format!("ex-hub-{n}.db")), Scope::all())?;
        let mut w = Writer(ChaCha8Rng::seed_from_u64(n as u64));
        populate(&mut school, n, n as u64)?;
        let measure = |school: &mut Store, hub: &mut Store, situation: &str| -> Result<()> {
            let started = Instant::now();
            let (a, b) = sync_pair(school, hub, &OpenPolicy)?;
            let wire = a.bytes_sent + b.bytes_sent;
            let docs = a.docs_sent.max(1) as f64;
            out!(
                "{n:>8} {situation:>24} {:>10} {wire:>12} {:>10.1} {:>10.2}",
                a.messages_sent + b.messages_sent,
                if a.docs_sent == 0 { 0.0 } else { wire as f64 / docs },
                started.elapsed().as_secs_f64()
            );
            Ok(())
        };
        measure(&mut school, &mut hub, "new documents")?;
        for entry in school.catalog()? {
            let address = entry.address;
            match address.kind {
                Kind::NewsPost => school.change::<NewsPost, _>(&address, |p| p.title.push_str(" (modifié)"))?,
                _ => {
                    let msg = w.message("enseignant", 1_795_200_000_000);
                    school.change::<Conversation, _>(&address, |c| c.messages.insert("reply".into(), msg))?;
                }
            }
        }
        measure(&mut school, &mut hub, "each changed once more")?;
        measure(&mut school, &mut hub, "nothing changed")?;
    }
    Ok(())
}

/// Applies a bundle of `n` new documents into an empty replica: changes per second and
/// the peak resident memory of the apply alone.
fn apply(dir: &Path, n: usize) -> Result<()> {
    let mut source = Store::open(&dir.join("apply-source.db"), school_scope())?;
    let changes = populate(&mut source, n, 99)?;
    let mut target = Store::open(&dir.join("apply-target.db"), Scope::all())?;
    let scope = target.scope().clone();
    let frame = source.build_bundle(&PeerView::new_peer(target.id(), &scope), &OpenPolicy)?.bundle.encode();
    drop(source);
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let bundle = preau_sync::replication::Bundle::decode(&frame)?;
    target.apply_bundle(&bundle, &school_scope(), &OpenPolicy)?;
    let secs = started.elapsed().as_secs_f64();
    out!("\n## Apply: {n} new documents ({changes} changes, bundle {} bytes) into an empty replica", frame.len());
    out!("apply time                  {secs:.2} s");
    out!("throughput                  {:.0} changes/s, {:.0} documents/s", changes as f64 / secs, n as f64 / secs);
    out!(
        "peak resident memory        {} MiB{}",
        peak_rss_kib()? / 1024,
        if reset { " (apply only)" } else { " (whole process: could not reset the peak)" }
    );
    Ok(())
}

fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM in /proc/self/status")?;
    Ok(line.split_whitespace().nth(1).context("malformed VmHWM")?.parse()?)
}

fn print_machine() {
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or("? GiB".to_owned(), |kb| format!("{} GiB", kb / (1 << 20)));
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    out!("# preau bench — preau {} on {cores} × {cpu}, {memory}", env!("CARGO_PKG_VERSION"));
}
