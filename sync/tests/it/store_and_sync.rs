//! The store and a two-replica sync, end to end on real SQLite files.

use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::replication::{OpenPolicy, sync_pair};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, ScopeRule, Store, Uai};

fn class() -> Partition {
    Partition::parse("school/0341234A/class/cm1").unwrap()
}

fn book() -> DocAddress {
    DocAddress::new(class(), Kind::HomeworkBook, DocKey::parse("2026-2027").unwrap())
}

fn add_entry(store: &mut Store, id: &str, title: &str) {
    store
        .change::<HomeworkBook, _>(&book(), |b| {
            b.entries.insert(
                id.into(),
                HomeworkEntry {
                    title: title.into(),
                    due_on: "2026-11-24".into(),
                    subject: "Maths".into(),
                    ..Default::default()
                },
            );
        })
        .unwrap();
}

#[test]
fn two_replicas_converge_in_four_messages_and_then_exchange_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let school = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A").unwrap())]);
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let mut school_a = Store::open(&dir.path().join("a.db"), school).unwrap();

    add_entry(&mut school_a, "e1", "Tables de 7");
    add_entry(&mut hub, "e2", "Poésie");
    let (a, h) = sync_pair(&mut school_a, &mut hub, &OpenPolicy).unwrap();
    assert_eq!(a.messages_sent + h.messages_sent, 4);
    assert!(a.converged && h.converged, "{a:?} {h:?}");
    assert_eq!(school_a.read_models().unwrap(), hub.read_models().unwrap());
    let rows = hub.homework(&class(), "2026-11-01", "2026-11-30").unwrap();
    assert_eq!(rows.len(), 2);

    // Nothing changed: no document crosses the wire.
    let (a, h) = sync_pair(&mut school_a, &mut hub, &OpenPolicy).unwrap();
    assert_eq!((a.docs_sent, h.docs_sent), (0, 0));
    assert!(a.converged && h.converged);

    // One edit travels alone, and is not echoed back.
    add_entry(&mut school_a, "e3", "Dictée");
    let (a, h) = sync_pair(&mut school_a, &mut hub, &OpenPolicy).unwrap();
    assert_eq!((a.docs_sent, h.docs_sent), (1, 0));
    let (a, h) = sync_pair(&mut hub, &mut school_a, &OpenPolicy).unwrap();
    assert_eq!((a.docs_sent, h.docs_sent), (0, 0));
    assert_eq!(school_a.read_models().unwrap(), hub.read_models().unwrap());
}

#[test]
fn a_session_put_aside_between_its_messages_converges_as_one_held_in_memory() {
    use preau_sync::replication::Session;
    let dir = tempfile::tempdir().unwrap();
    let school = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A").unwrap())]);
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let mut school_a = Store::open(&dir.path().join("a.db"), school).unwrap();
    add_entry(&mut school_a, "e1", "Tables de 7");
    add_entry(&mut hub, "e2", "Poésie");
    // The hub's side is suspended after each message and resumed from its bytes alone, as
    // a hub process answering the next request of a session another one opened.
    let (mut left, hello) = Session::initiate(&mut school_a, hub.id()).unwrap();
    let (right, mut msg) = Session::accept(&mut hub, &OpenPolicy, &hello).unwrap();
    let mut suspended = right.suspend();
    assert!(suspended.len() < 1_000, "ids and heads, not the bundle: {} bytes", suspended.len());
    while let Some(reply) = left.receive(&mut school_a, &OpenPolicy, &msg).unwrap() {
        let mut right = Session::resume(&suspended).unwrap();
        let answer = right.receive(&mut hub, &OpenPolicy, &reply).unwrap();
        suspended = right.suspend();
        match answer {
            Some(answer) => msg = answer,
            None => break,
        }
    }
    let right = Session::resume(&suspended).unwrap();
    assert!(left.stats().converged && right.stats().converged, "{:?} {:?}", left.stats(), right.stats());
    assert_eq!(school_a.read_models().unwrap(), hub.read_models().unwrap());
    assert!(Session::resume(&suspended[..suspended.len() / 2]).is_err(), "a cut state is refused");
}

#[test]
fn compaction_writes_one_snapshot_and_keeps_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path, Scope::all()).unwrap();
    for i in 0..40 {
        add_entry(&mut store, &format!("e{i}"), "Lecture");
    }
    let chunks = |path: &std::path::Path| -> (i64, i64) {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("SELECT count(*), coalesce(sum(snapshot), 0) FROM doc_chunk", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    let entry = store.catalog_entry(book().id()).unwrap().unwrap();
    // Compacted automatically at 32 chunks: one snapshot, then the 8 later changes.
    assert_eq!(chunks(&path), (9, 1));
    assert_eq!((entry.chunk_count, entry.change_count), (8, 41));
    store.compact(book().id()).unwrap();
    assert_eq!(chunks(&path), (1, 1));
    let models = store.read_models().unwrap();
    drop(store);
    let mut store = Store::open(&path, Scope::all()).unwrap();
    assert_eq!(store.get::<HomeworkBook>(book().id()).unwrap().unwrap().entries.len(), 40);
    store.rebuild_read_models().unwrap();
    assert_eq!(store.read_models().unwrap(), models);
    assert_eq!(store.catalog_entry(book().id()).unwrap().unwrap().change_count, 41);
}

#[test]
fn local_writes_outside_the_scope_or_of_the_wrong_kind_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let school = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A").unwrap())]);
    let mut store = Store::open(&dir.path().join("a.db"), school).unwrap();
    let elsewhere = DocAddress::new(
        Partition::parse("school/0349999Z/class/cp").unwrap(),
        Kind::HomeworkBook,
        DocKey::parse("2026-2027").unwrap(),
    );
    assert!(store.change::<HomeworkBook, _>(&elsewhere, |_| ()).is_err());
    let news = DocAddress::new(class(), Kind::NewsPost, DocKey::parse("n1").unwrap());
    assert!(store.change::<HomeworkBook, _>(&news, |_| ()).is_err());
    // An edit that changes nothing stores nothing.
    store.change::<HomeworkBook, _>(&book(), |_| ()).unwrap();
    assert!(store.catalog().unwrap().is_empty());
}

mod projections {
    use preau_sync::DocKind;
    use preau_sync::kinds::agenda::AgendaEvent;
    use preau_sync::kinds::conversation::{Conversation, Message};
    use preau_sync::kinds::credentials::{CREDENTIALS_KEY, Credential, Credentials};
    use preau_sync::kinds::directory::{DIRECTORY_KEY, Group, Guardianship, Person, SchoolClass, SchoolDirectory};
    use preau_sync::kinds::homework::DoneMark;
    use preau_sync::kinds::liaison::{ASKS, LiaisonNote, Signature};
    use preau_sync::kinds::news::NewsPost;
    use preau_sync::kinds::{AcademySettings, AcademyStaff, CanteenMenu, Commune, Convention, UsageMonth};
    use preau_sync::{Cell, Table};
    use proptest::prelude::*;

    use super::*;

    /// One step of a history. `on` is the replica that makes the edit (0: the hub, 1: the
    /// school's appliance). People are `u0`..`u5`: see [`profile`].
    #[derive(Debug, Clone)]
    enum Op {
        // Homework books, one per class.
        AddEntry { on: usize, class: usize, id: u8 },
        Retitle { on: usize, class: usize, id: u8, title: u8 },
        DeleteEntry { on: usize, class: usize, id: u8 },
        Tick { on: usize, class: usize, id: u8, pupil: u8, done: bool },
        // Conversations and news.
        AddMessage { on: usize, conversation: u8, id: u8 },
        MarkRead { on: usize, conversation: u8, reader: u8, at: u8 },
        Publish { on: usize, post: u8, title: u8 },
        // The school's directory (`school/{uai}`, key `directory`).
        NameSchool { on: usize, name: u8 },
        SetClass { on: usize, class: u8, name: u8, teacher: u8 },
        ArchiveClass { on: usize, class: u8 },
        ToggleMember { on: usize, group: u8, member: u8 },
        RemoveGroup { on: usize, group: u8 },
        AddPerson { on: usize, user: u8, class: u8 },
        ArchivePerson { on: usize, user: u8 },
        RemovePerson { on: usize, user: u8 },
        SetGuardian { on: usize, parent: u8, child: u8, legal: bool },
        RemoveGuardian { on: usize, parent: u8, child: u8 },
        // The school's credentials (`school/{uai}/accounts`, key `credentials`).
        SetLogin { on: usize, user: u8, login: u8 },
        SetPassword { on: usize, user: u8, hash: u8 },
        ResetAccount { on: usize, user: u8, at: u8 },
        RevokeQr { on: usize, user: u8, reissue: bool },
        RemoveAccount { on: usize, user: u8 },
        // Liaison notes, in class partitions.
        PostNote { on: usize, class: usize, note: u8, pupils: u8, ask: usize, text: u8 },
        Sign { on: usize, class: usize, note: u8, child: u8, guardian: u8, reply: u8 },
        Unsign { on: usize, class: usize, note: u8, child: u8, guardian: u8 },
        WithdrawNote { on: usize, class: usize, note: u8 },
        // Agenda events: the school's, a class's, or a personal one (staff room).
        SetEvent { on: usize, place: usize, event: u8, day: u8, hour: u8 },
        WithdrawEvent { on: usize, place: usize, event: u8 },
        // The académie's documents: console accounts and rates (`academy/admin`), a commune
        // and its schools, a convention covering classes (`commune/34172`).
        SetStaff { on: usize, user: u8, role: u8 },
        RemoveStaff { on: usize, user: u8 },
        SetRate { on: usize, year: u8, cents: u8 },
        SetCommune { on: usize, school: u8, name: u8 },
        RemoveCommuneSchool { on: usize, school: u8 },
        Cover { on: usize, convention: u8, school: u8, class: u8, day: u8 },
        Uncover { on: usize, convention: u8, school: u8, class: u8 },
        // Each replica's count of the school's use this month (one document each).
        Count { on: usize, day: u8, profile: u8, by: u8 },
        Active { on: usize, user: u8 },
        Forget { on: usize },
        // The commune's portal news and its canteen menu of one week.
        PostCommuneNews { on: usize, id: u8, withdrawn: bool },
        SetDishes { on: usize, day: u8, dishes: u8 },
        Sync,
    }

    /// Every kind of document gets its share of the edits; about one step in seven syncs.
    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => homework(),
            1 => messaging(),
            3 => directory_edit(),
            2 => credentials_edit(),
            2 => liaison(),
            2 => agenda(),
            2 => academy(),
            1 => usage(),
            1 => portal(),
            2 => Just(Op::Sync),
        ]
    }

    fn homework() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3usize, 0..6u8).prop_map(|(on, class, id)| Op::AddEntry { on, class, id }),
            (0..2usize, 0..3usize, 0..6u8, any::<u8>()).prop_map(|(on, class, id, title)| Op::Retitle {
                on,
                class,
                id,
                title
            }),
            (0..2usize, 0..3usize, 0..6u8).prop_map(|(on, class, id)| Op::DeleteEntry { on, class, id }),
            (0..2usize, 0..3usize, 0..6u8, 0..6u8, any::<bool>()).prop_map(|(on, class, id, pupil, done)| Op::Tick {
                on,
                class,
                id,
                pupil,
                done
            }),
        ]
    }

    fn messaging() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3u8, any::<u8>()).prop_map(|(on, conversation, id)| Op::AddMessage { on, conversation, id }),
            (0..2usize, 0..3u8, 0..6u8, any::<u8>()).prop_map(|(on, conversation, reader, at)| Op::MarkRead {
                on,
                conversation,
                reader,
                at
            }),
            (0..2usize, 0..4u8, any::<u8>()).prop_map(|(on, post, title)| Op::Publish { on, post, title }),
        ]
    }

    fn directory_edit() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, any::<u8>()).prop_map(|(on, name)| Op::NameSchool { on, name }),
            (0..2usize, 0..3u8, any::<u8>(), 0..6u8).prop_map(|(on, class, name, teacher)| Op::SetClass {
                on,
                class,
                name,
                teacher
            }),
            (0..2usize, 0..3u8).prop_map(|(on, class)| Op::ArchiveClass { on, class }),
            (0..2usize, 0..2u8, 0..6u8).prop_map(|(on, group, member)| Op::ToggleMember { on, group, member }),
            (0..2usize, 0..2u8).prop_map(|(on, group)| Op::RemoveGroup { on, group }),
            (0..2usize, 0..6u8, 0..3u8).prop_map(|(on, user, class)| Op::AddPerson { on, user, class }),
            (0..2usize, 0..6u8).prop_map(|(on, user)| Op::ArchivePerson { on, user }),
            (0..2usize, 0..6u8).prop_map(|(on, user)| Op::RemovePerson { on, user }),
            (0..2usize, 0..6u8, 0..6u8, any::<bool>()).prop_map(|(on, parent, child, legal)| Op::SetGuardian {
                on,
                parent,
                child,
                legal
            }),
            (0..2usize, 0..6u8, 0..6u8).prop_map(|(on, parent, child)| Op::RemoveGuardian { on, parent, child }),
        ]
    }

    fn credentials_edit() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..6u8, any::<u8>()).prop_map(|(on, user, login)| Op::SetLogin { on, user, login }),
            (0..2usize, 0..6u8, any::<u8>()).prop_map(|(on, user, hash)| Op::SetPassword { on, user, hash }),
            (0..2usize, 0..6u8, any::<u8>()).prop_map(|(on, user, at)| Op::ResetAccount { on, user, at }),
            (0..2usize, 0..6u8, any::<bool>()).prop_map(|(on, user, reissue)| Op::RevokeQr { on, user, reissue }),
            (0..2usize, 0..6u8).prop_map(|(on, user)| Op::RemoveAccount { on, user }),
        ]
    }

    fn liaison() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..2usize, 0..3u8, 1..4u8, 0..ASKS.len(), any::<u8>())
                .prop_map(|(on, class, note, pupils, ask, text)| Op::PostNote { on, class, note, pupils, ask, text }),
            (0..2usize, 0..2usize, 0..3u8, 0..2u8, 0..2u8, any::<u8>()).prop_map(
                |(on, class, note, child, guardian, reply)| Op::Sign { on, class, note, child, guardian, reply }
            ),
            (0..2usize, 0..2usize, 0..3u8, 0..2u8, 0..2u8).prop_map(|(on, class, note, child, guardian)| Op::Unsign {
                on,
                class,
                note,
                child,
                guardian
            }),
            (0..2usize, 0..2usize, 0..3u8).prop_map(|(on, class, note)| Op::WithdrawNote { on, class, note }),
        ]
    }

    fn agenda() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..2usize, 0..3usize, 0..3u8, 0..28u8, 0..10u8)
                .prop_map(|(on, place, event, day, hour)| Op::SetEvent { on, place, event, day, hour }),
            1 => (0..2usize, 0..3usize, 0..3u8).prop_map(|(on, place, event)| Op::WithdrawEvent { on, place, event }),
        ]
    }

    fn academy() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3u8, 0..5u8).prop_map(|(on, user, role)| Op::SetStaff { on, user, role }),
            (0..2usize, 0..3u8).prop_map(|(on, user)| Op::RemoveStaff { on, user }),
            (0..2usize, 0..3u8, any::<u8>()).prop_map(|(on, year, cents)| Op::SetRate { on, year, cents }),
            (0..2usize, 0..3u8, any::<u8>()).prop_map(|(on, school, name)| Op::SetCommune { on, school, name }),
            (0..2usize, 0..3u8).prop_map(|(on, school)| Op::RemoveCommuneSchool { on, school }),
            (0..2usize, 0..2u8, 0..3u8, 0..3u8, 0..28u8).prop_map(|(on, convention, school, class, day)| Op::Cover {
                on,
                convention,
                school,
                class,
                day
            }),
            (0..2usize, 0..2u8, 0..3u8, 0..3u8).prop_map(|(on, convention, school, class)| Op::Uncover {
                on,
                convention,
                school,
                class
            }),
        ]
    }

    fn usage() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..2usize, 1..29u8, 0..3u8, 1..5u8).prop_map(|(on, day, profile, by)| Op::Count { on, day, profile, by }),
            1 => (0..2usize, 0..6u8).prop_map(|(on, user)| Op::Active { on, user }),
            1 => (0..2usize).prop_map(|on| Op::Forget { on }),
        ]
    }

    fn portal() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3u8, any::<bool>()).prop_map(|(on, id, withdrawn)| Op::PostCommuneNews {
                on,
                id,
                withdrawn
            }),
            (0..2usize, 0..5u8, 0..4u8).prop_map(|(on, day, dishes)| Op::SetDishes { on, day, dishes }),
        ]
    }

    /// Replica `on`'s count of this month.
    fn usage_month(on: usize) -> DocAddress {
        at("school/0341234A/accounts", Kind::UsageMonth, &format!("2026-12.r{on}"))
    }

    fn staff() -> DocAddress {
        at("academy/admin", Kind::AcademyStaff, preau_sync::kinds::academy::STAFF_KEY)
    }

    fn settings() -> DocAddress {
        at("academy/admin", Kind::AcademySettings, preau_sync::kinds::academy::SETTINGS_KEY)
    }

    fn commune() -> DocAddress {
        at("commune/34172", Kind::Commune, preau_sync::kinds::commune::COMMUNE_KEY)
    }

    fn convention(n: u8) -> DocAddress {
        at("commune/34172", Kind::Convention, &format!("conv{n}"))
    }

    fn school_uai(n: u8) -> String {
        format!("034123{n}A")
    }

    fn at(partition: &str, kind: Kind, key: &str) -> DocAddress {
        DocAddress::new(Partition::parse(partition).unwrap(), kind, DocKey::parse(key).unwrap())
    }

    fn address(class: usize, kind: Kind, key: &str) -> DocAddress {
        at(&format!("school/0341234A/class/c{class}"), kind, key)
    }

    fn directory() -> DocAddress {
        at("school/0341234A", Kind::SchoolDirectory, DIRECTORY_KEY)
    }

    fn credentials() -> DocAddress {
        at("school/0341234A/accounts", Kind::Credentials, CREDENTIALS_KEY)
    }

    /// An event of the school (0), of class `c0` (1) or of the staff room (2, personal).
    fn event(place: usize, event: u8) -> DocAddress {
        let partition = ["school/0341234A", "school/0341234A/class/c0", "school/0341234A/staff"][place];
        at(partition, Kind::AgendaEvent, &format!("ev{event}"))
    }

    fn user(n: u8) -> String {
        format!("u{n}")
    }

    /// `u0` and `u3` are pupils, `u1` and `u4` their parents, `u2` and `u5` teachers.
    fn profile(n: u8) -> &'static str {
        ["pupil", "parent", "teacher"][usize::from(n % 3)]
    }

    fn person(n: u8, class: u8) -> Person {
        let pupil = profile(n) == "pupil";
        let adult = |s: &str| if pupil { String::new() } else { s.to_owned() };
        let child = |s: String| if pupil { s } else { String::new() };
        Person {
            profile: profile(n).into(),
            civility: adult(["Mme", "M."][usize::from(n % 2)]),
            first_name: format!("Prénom{n}"),
            last_name: format!("Nom{n}"),
            birth_date: child(format!("2018-0{}-14", class + 1)),
            sex: child(["F", "M"][usize::from(n % 2)].into()),
            level: child("CE1".into()),
            class_id: child(format!("k{class}")),
            photo_consent: pupil.then_some(class != 1),
            email: adult(&format!("u{n}@exemple.fr")),
            phone: adult("04 67 00 00 00"),
            address: format!("{class} rue des Tilleuls"),
            ..Default::default()
        }
    }

    fn edit<K: DocKind>(store: &mut Store, address: &DocAddress, f: impl FnOnce(&mut K::State)) {
        store.change::<K, _>(address, f).unwrap();
    }

    fn apply(replicas: &mut [Store; 2], op: Op) {
        let book = |class| address(class, Kind::HomeworkBook, "2026-2027");
        let note = |class, note| address(class, Kind::LiaisonNote, &format!("n{note}"));
        match op {
            Op::AddEntry { on, class, id } => edit::<HomeworkBook>(&mut replicas[on], &book(class), |b| {
                let due_on = format!("2026-12-{:02}", id + 1);
                b.entries
                    .insert(format!("e{id}"), HomeworkEntry { title: "Nouveau".into(), due_on, ..Default::default() });
            }),
            Op::Retitle { on, class, id, title } => edit::<HomeworkBook>(&mut replicas[on], &book(class), |b| {
                if let Some(e) = b.entries.get_mut(&format!("e{id}")) {
                    e.title = format!("Titre {title}");
                    let d = format!("{} {title}", e.details.as_str());
                    e.details.update(d);
                }
            }),
            Op::DeleteEntry { on, class, id } => edit::<HomeworkBook>(&mut replicas[on], &book(class), |b| {
                b.entries.remove(&format!("e{id}"));
            }),
            Op::Tick { on, class, id, pupil, done } => edit::<HomeworkBook>(&mut replicas[on], &book(class), |b| {
                let mark = DoneMark { done, by: user(pupil), at: i64::from(id) * 1000 };
                b.done.insert(DoneMark::key(&format!("e{id}"), &user(pupil)), mark);
            }),
            Op::AddMessage { on, conversation, id } => {
                let address = address(0, Kind::Conversation, &format!("c{conversation}"));
                edit::<Conversation>(&mut replicas[on], &address, |c| {
                    let body = "Bonjour".into();
                    let author = format!("r{on}");
                    // Both replicas may add the same author at once: the merged list names
                    // them twice, which the participants' table must take.
                    if !c.participants.contains(&author) {
                        c.participants.push(author.clone());
                    }
                    let message = Message { author, sent_at: i64::from(id), body, ..Default::default() };
                    c.messages.insert(format!("m{id}"), message);
                });
            }
            Op::MarkRead { on, conversation, reader, at } => {
                let address = address(0, Kind::Conversation, &format!("c{conversation}"));
                edit::<Conversation>(&mut replicas[on], &address, |c| {
                    let mark = c.read.entry(user(reader)).or_default();
                    *mark = (*mark).max(i64::from(at));
                });
            }
            Op::Publish { on, post, title } => {
                edit::<NewsPost>(&mut replicas[on], &address(1, Kind::NewsPost, &format!("p{post}")), |p| {
                    p.title = format!("Actualité {title}");
                });
            }
            Op::NameSchool { on, name } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                d.school.name = format!("École élémentaire {name}");
                d.school.commune = ["Montpellier", "Sète", "Lodève"][usize::from(name % 3)].into();
                d.school.academy = "Montpellier".into();
            }),
            Op::SetClass { on, class, name, teacher } => {
                edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                    let c = d.classes.entry(format!("k{class}")).or_insert_with(|| SchoolClass {
                        levels: vec!["CE1".into(), "CE2".into()],
                        school_year: "2026-2027".into(),
                        ..Default::default()
                    });
                    c.name = format!("CE1-CE2 {name}");
                    c.unmoderated = name % 2 == 0;
                    c.classmates = name % 3 == 0;
                    let teacher = user(teacher);
                    if !c.teachers.contains(&teacher) {
                        c.teachers.push(teacher);
                    }
                })
            }
            Op::ArchiveClass { on, class } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                if let Some(c) = d.classes.get_mut(&format!("k{class}")) {
                    c.archived = !c.archived;
                }
            }),
            Op::ToggleMember { on, group, member } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                let name = format!("Chorale {group}");
                let g = d.groups.entry(format!("g{group}")).or_insert_with(|| Group { name, members: Vec::new() });
                let member = user(member);
                match g.members.iter().position(|m| *m == member) {
                    Some(i) => drop(g.members.remove(i)),
                    None => g.members.push(member),
                }
            }),
            Op::RemoveGroup { on, group } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                d.groups.remove(&format!("g{group}"));
            }),
            Op::AddPerson { on, user: n, class } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                d.people.insert(user(n), person(n, class));
            }),
            Op::ArchivePerson { on, user: n } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                if let Some(p) = d.people.get_mut(&user(n)) {
                    p.archived = !p.archived;
                }
            }),
            // The legal deletion: the person and their guardianships go.
            Op::RemovePerson { on, user: n } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                let id = user(n);
                d.people.remove(&id);
                d.guardianships.retain(|_, g| g.parent != id && g.child != id);
            }),
            Op::SetGuardian { on, parent, child, legal } => {
                edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                    let (parent, child) = (user(parent), user(child));
                    d.guardianships.insert(Guardianship::key(&parent, &child), Guardianship { parent, child, legal });
                });
            }
            Op::RemoveGuardian { on, parent, child } => edit::<SchoolDirectory>(&mut replicas[on], &directory(), |d| {
                d.guardianships.remove(&Guardianship::key(&user(parent), &user(child)));
            }),
            Op::SetLogin { on, user: n, login } => edit::<Credentials>(&mut replicas[on], &credentials(), |c| {
                let pictures = if profile(n) == "pupil" { "chat,lune,arbre" } else { "" };
                let account = c.accounts.entry(user(n)).or_insert_with(|| Credential {
                    activation_code: format!("ACT-{n}"),
                    must_change_password: true,
                    picture_secret: pictures.into(),
                    qr_secret: format!("qr-{n}"),
                    calendar_secret: format!("cal-{n}"),
                    ..Default::default()
                });
                account.login = format!("prenom{login}.nom{n}");
            }),
            Op::SetPassword { on, user: n, hash } => edit::<Credentials>(&mut replicas[on], &credentials(), |c| {
                if let Some(account) = c.accounts.get_mut(&user(n)) {
                    account.password_hash = format!("$argon2id$v=19$m=19456,t=2,p=1$c2Fs{hash}$aGFzaA{hash}");
                    account.activation_code.clear();
                    account.must_change_password = false;
                    account.reset_by.clear();
                    account.reset_at = 0;
                    account.reset_reason.clear();
                }
            }),
            Op::ResetAccount { on, user: n, at } => edit::<Credentials>(&mut replicas[on], &credentials(), |c| {
                if let Some(account) = c.accounts.get_mut(&user(n)) {
                    account.password_hash.clear();
                    account.activation_code = format!("ACT-{n}-{at}");
                    account.must_change_password = true;
                    account.reset_by = "u2".into();
                    account.reset_at = i64::from(at) * 1000;
                    account.reset_reason = "Mot de passe oublié".into();
                }
            }),
            Op::RevokeQr { on, user: n, reissue } => edit::<Credentials>(&mut replicas[on], &credentials(), |c| {
                if let Some(account) = c.accounts.get_mut(&user(n)) {
                    account.qr_secret = if reissue { format!("qr-{n}-bis") } else { String::new() };
                    account.disabled = !reissue;
                }
            }),
            Op::RemoveAccount { on, user: n } => edit::<Credentials>(&mut replicas[on], &credentials(), |c| {
                c.accounts.remove(&user(n));
            }),
            // Posts the note (its recipients are among the pupils `u0` and `u3`), or edits it.
            // Both replicas may post the same note: their recipient lists then merge with
            // duplicates, which the projection must take in (a hostile peer can send them).
            Op::PostNote { on, class, note: key, pupils, ask, text } => {
                edit::<LiaisonNote>(&mut replicas[on], &note(class, key), |n| {
                    let at = i64::from(text) * 1000;
                    if n.author.is_empty() {
                        n.title = format!("Sortie {text}");
                        n.body.update(format!("Prévoir un pique-nique ({text})."));
                        n.ask = ASKS[ask].into();
                        n.recipients = [0, 3].into_iter().filter(|p| pupils & (1 << (p / 3)) != 0).map(user).collect();
                        n.author = "u2".into();
                        (n.posted_at, n.edited_by, n.edited_at) = (at, "u2".into(), at);
                    } else {
                        n.title = format!("Sortie {text} (modifiée)");
                        let body = format!("{} Retour à {text} h.", n.body.as_str());
                        n.body.update(body);
                        (n.edited_by, n.edited_at, n.reminded_at) = ("u5".into(), at, at + 1);
                    }
                });
            }
            // A parent (`u1` or `u4`) signs for a pupil (`u0` or `u3`) a note that exists.
            Op::Sign { on, class, note: key, child, guardian, reply } => {
                edit::<LiaisonNote>(&mut replicas[on], &note(class, key), |n| {
                    if n.author.is_empty() {
                        return;
                    }
                    let reply = if n.ask == "reply" { format!("Réponse {reply}") } else { String::new() };
                    let key = Signature::key(&user(3 * child), &user(3 * guardian + 1));
                    n.signatures.entry(key).or_insert(Signature { at: 5000, reply });
                });
            }
            // The appliance's policy refuses this, but the store must still project it.
            Op::Unsign { on, class, note: key, child, guardian } => {
                edit::<LiaisonNote>(&mut replicas[on], &note(class, key), |n| {
                    n.signatures.remove(&Signature::key(&user(3 * child), &user(3 * guardian + 1)));
                });
            }
            Op::WithdrawNote { on, class, note: key } => {
                edit::<LiaisonNote>(&mut replicas[on], &note(class, key), |n| {
                    if !n.author.is_empty() {
                        n.withdrawn = true;
                    }
                });
            }
            // Adds or rewrites an event (its author and owner never change), as the agenda does.
            Op::SetEvent { on, place, event: key, day, hour } => {
                edit::<AgendaEvent>(&mut replicas[on], &event(place, key), |e| {
                    let timed = hour % 2 == 0;
                    let time = |h: u8| if timed { format!("{h:02}:30") } else { String::new() };
                    let author = if e.author.is_empty() { "u2".into() } else { e.author.clone() };
                    let owner = if place == 2 { author.clone() } else { String::new() };
                    *e = AgendaEvent {
                        title: format!("Réunion {day}"),
                        description: format!("Ordre du jour {hour}"),
                        location: ["Préau", "Salle 2", ""][usize::from(hour % 3)].into(),
                        starts_on: format!("2026-11-{:02}", day + 1),
                        ends_on: format!("2026-11-{:02}", day + 1 + hour % 3),
                        start_time: time(8 + hour),
                        end_time: time(9 + hour),
                        category: if place == 0 && hour == 1 { "holiday" } else { "" }.into(),
                        edited_by: if place == 2 { author.clone() } else { "u5".into() },
                        edited_at: i64::from(day) * 1000 + i64::from(hour),
                        owner,
                        author,
                        withdrawn: false,
                    };
                });
            }
            Op::WithdrawEvent { on, place, event: key } => {
                edit::<AgendaEvent>(&mut replicas[on], &event(place, key), |e| {
                    if !e.author.is_empty() {
                        e.withdrawn = true;
                    }
                });
            }
            Op::SetStaff { on, user: n, role } => edit::<AcademyStaff>(&mut replicas[on], &staff(), |s| {
                let account = s.accounts.entry(user(n)).or_default();
                account.login = format!("agent{n}");
                account.name = format!("Agent {n}");
                account.role = ["rectorat", "dane", "ien", "commune_admin", "commune_agent"][usize::from(role)].into();
                account.commune = if role >= 3 { "34172".into() } else { String::new() };
                account.password_hash = format!("$argon2id$v=19$m=19456,t=2,p=1$c2Fs{role}$aGFzaA");
                account.disabled = role == 2;
                account.created_at = i64::from(n);
            }),
            Op::RemoveStaff { on, user: n } => edit::<AcademyStaff>(&mut replicas[on], &staff(), |s| {
                s.accounts.remove(&user(n));
            }),
            Op::SetRate { on, year, cents } => edit::<AcademySettings>(&mut replicas[on], &settings(), |s| {
                s.rates.insert(format!("202{year}-202{}", year + 1), i64::from(cents));
            }),
            Op::SetCommune { on, school, name } => edit::<Commune>(&mut replicas[on], &commune(), |c| {
                c.name = format!("Commune {name}");
                c.contacts = format!("Mairie, poste {name}");
                c.portal.public = name % 2 == 0;
                c.schools.entry(school_uai(school)).or_default().name = format!("École {school}");
            }),
            Op::RemoveCommuneSchool { on, school } => edit::<Commune>(&mut replicas[on], &commune(), |c| {
                c.schools.remove(&school_uai(school));
            }),
            Op::Cover { on, convention: n, school, class, day } => {
                edit::<Convention>(&mut replicas[on], &convention(n), |c| {
                    c.title = format!("Convention {n}");
                    c.status = if day % 3 == 0 { "ended" } else { "signed" }.into();
                    (c.starts_on, c.ends_on) = ("2026-09-01".into(), "2029-08-31".into());
                    let s = c.schools.entry(school_uai(school)).or_default();
                    s.activated_on = format!("2026-10-{:02}", day + 1);
                    let covered = s.classes.entry(format!("c{class}")).or_default();
                    (covered.name, covered.since) = (format!("CE{class}"), format!("2026-11-{:02}", day + 1));
                });
            }
            Op::Uncover { on, convention: n, school, class } => {
                edit::<Convention>(&mut replicas[on], &convention(n), |c| {
                    if let Some(s) = c.schools.get_mut(&school_uai(school)) {
                        s.classes.remove(&format!("c{class}"));
                    }
                });
            }
            Op::Count { on, day, profile: p, by } => edit::<UsageMonth>(&mut replicas[on], &usage_month(on), |u| {
                let service = if by % 2 == 0 { "connexion" } else { "homework" };
                *u.days
                    .entry(format!("{day:02}"))
                    .or_default()
                    .entry(format!("{}/{service}", profile(p)))
                    .or_default() += i64::from(by);
            }),
            Op::Active { on, user: n } => edit::<UsageMonth>(&mut replicas[on], &usage_month(on), |u| {
                u.active.insert(user(n), profile(n).into());
            }),
            Op::Forget { on } => edit::<UsageMonth>(&mut replicas[on], &usage_month(on), |u| u.active.clear()),
            Op::PostCommuneNews { on, id, withdrawn } => edit::<Commune>(&mut replicas[on], &commune(), |c| {
                let n = c.news.entry(format!("n{id}")).or_insert_with(|| preau_sync::kinds::commune::CommuneNews {
                    title: format!("Fête {id}"),
                    body: "Samedi".into(),
                    published_on: format!("2026-12-0{}", id + 1),
                    by: "a1".into(),
                    withdrawn,
                });
                n.withdrawn = withdrawn;
            }),
            Op::SetDishes { on, day, dishes } => {
                let week = at("commune/34172", Kind::CanteenMenu, "2026-W50");
                edit::<CanteenMenu>(&mut replicas[on], &week, |m| {
                    let allergens = |n: u8| preau_sync::kinds::canteen::ALLERGENS[usize::from(n) % 14..][..1].to_vec();
                    m.days.entry(format!("2026-12-{:02}", 7 + day)).or_default().dishes = (0..dishes)
                        .map(|n| preau_sync::kinds::canteen::Dish {
                            course: preau_sync::kinds::canteen::COURSES[usize::from(n)].into(),
                            name: format!("Plat {n}"),
                            allergens: allergens(n + day).into_iter().map(Into::into).collect(),
                        })
                        .collect();
                });
            }
            Op::Sync => {
                let [a, b] = replicas;
                sync_pair(a, b, &OpenPolicy).unwrap();
            }
        }
    }

    /// The hub and the school's appliance: each holds every partition the edits write to
    /// (the académie's own too, which no appliance holds in service: the store does not care).
    fn replicas(dir: &std::path::Path) -> [Store; 2] {
        let school = Scope::new(vec![
            ScopeRule::School(Uai::parse("0341234A").unwrap()),
            ScopeRule::Exact(Partition::parse("commune/34172").unwrap()),
            ScopeRule::Exact(Partition::AcademyAdmin),
        ]);
        [crate::backend::hub(dir, "hub.db", Scope::all()), Store::open(&dir.join("school.db"), school).unwrap()]
    }

    /// The edits above reach every read-model table, and can empty the ones fed by maps.
    #[test]
    fn a_note_posted_on_both_replicas_merges_its_recipients_and_syncs() {
        // Both lists hold `u0`: merged, the note names it twice. Storing that must not fail
        // the bundle (a hostile peer can send it), and rebuilding gives the same rows.
        let dir = tempfile::tempdir().unwrap();
        let mut replicas = replicas(dir.path());
        for on in [0, 1] {
            apply(&mut replicas, Op::PostNote { on, class: 0, note: 2, pupils: 2, ask: 0, text: 0 });
        }
        apply(&mut replicas, Op::Sync);
        let models = replicas[0].read_models().unwrap();
        assert_eq!(models, replicas[1].read_models().unwrap());
        replicas[0].rebuild_read_models().unwrap();
        assert_eq!(replicas[0].read_models().unwrap(), models);
    }

    #[test]
    fn the_generated_edits_reach_every_read_model_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut replicas = replicas(dir.path());
        let history = [
            Op::AddEntry { on: 0, class: 0, id: 1 },
            Op::Tick { on: 1, class: 0, id: 1, pupil: 0, done: true },
            Op::AddMessage { on: 0, conversation: 0, id: 1 },
            Op::MarkRead { on: 1, conversation: 0, reader: 1, at: 7 },
            Op::Publish { on: 1, post: 0, title: 2 },
            Op::NameSchool { on: 1, name: 3 },
            Op::SetClass { on: 0, class: 0, name: 1, teacher: 2 },
            Op::ToggleMember { on: 1, group: 0, member: 4 },
            Op::AddPerson { on: 0, user: 0, class: 0 },
            Op::AddPerson { on: 1, user: 1, class: 0 },
            Op::SetGuardian { on: 0, parent: 1, child: 0, legal: true },
            Op::SetLogin { on: 1, user: 0, login: 9 },
            Op::PostNote { on: 0, class: 0, note: 0, pupils: 3, ask: 2, text: 4 },
            Op::Sign { on: 0, class: 0, note: 0, child: 0, guardian: 0, reply: 1 },
            Op::SetEvent { on: 1, place: 2, event: 0, day: 3, hour: 2 },
            Op::SetStaff { on: 0, user: 0, role: 3 },
            Op::SetRate { on: 1, year: 6, cents: 150 },
            Op::SetCommune { on: 0, school: 1, name: 4 },
            Op::Cover { on: 1, convention: 0, school: 1, class: 2, day: 4 },
            Op::Count { on: 0, day: 5, profile: 1, by: 2 },
            Op::Active { on: 1, user: 4 },
            Op::PostCommuneNews { on: 0, id: 1, withdrawn: false },
            Op::SetDishes { on: 1, day: 2, dishes: 3 },
            Op::Sync,
        ];
        for op in history {
            apply(&mut replicas, op);
        }
        let models = replicas[0].read_models().unwrap();
        assert_eq!(models, replicas[1].read_models().unwrap());
        for table in Table::ALL {
            assert!(!models[table.name()].is_empty(), "no {} rows", table.name());
        }
        let pupils = |store: &mut Store| -> Vec<Cell> {
            store.rows(Table::LiaisonRecipient).unwrap().into_iter().map(|row| row[1].clone()).collect()
        };
        assert_eq!(pupils(&mut replicas[1]), [Cell::from("u0"), Cell::from("u3")]);
        let emptied = [
            (Op::RemoveGroup { on: 1, group: 0 }, Table::SchoolGroup),
            (Op::RemovePerson { on: 0, user: 1 }, Table::Guardianship),
            (Op::RemoveAccount { on: 1, user: 0 }, Table::Credential),
            (Op::Unsign { on: 0, class: 0, note: 0, child: 0, guardian: 0 }, Table::LiaisonSignature),
            (Op::RemoveStaff { on: 1, user: 0 }, Table::AcademyStaff),
            (Op::RemoveCommuneSchool { on: 0, school: 1 }, Table::CommuneSchool),
            (Op::Uncover { on: 0, convention: 0, school: 1, class: 2 }, Table::ConventionClass),
            (Op::Forget { on: 1 }, Table::UsageActive),
            (Op::SetDishes { on: 0, day: 2, dishes: 0 }, Table::CanteenDish),
        ];
        for (op, table) in emptied {
            apply(&mut replicas, op);
            apply(&mut replicas, Op::Sync);
            for store in &mut replicas {
                assert!(store.rows(table).unwrap().is_empty(), "{} rows left", table.name());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever happened (local edits, deletions, merges of concurrent edits), the read
        /// models maintained change by change equal a rebuild from the documents.
        #[test]
        fn rebuild_equals_incremental_read_models(ops in proptest::collection::vec(op(), 1..64)) {
            let dir = tempfile::tempdir().unwrap();
            let mut replicas = replicas(dir.path());
            for op in ops {
                apply(&mut replicas, op);
            }
            for store in &mut replicas {
                let incremental = store.read_models().unwrap();
                store.rebuild_read_models().unwrap();
                prop_assert_eq!(store.read_models().unwrap(), incremental);
            }
        }
    }
}

#[test]
fn a_school_restored_from_an_old_backup_gets_back_what_the_hub_holds() {
    let dir = tempfile::tempdir().unwrap();
    let school_scope = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A").unwrap())]);
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let mut school = Store::open(&dir.path().join("school.db"), school_scope.clone()).unwrap();

    // 1. Monday: the school syncs, then backs up.
    add_entry(&mut school, "lundi", "Tables de 2");
    sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
    let backup = dir.path().join("school-backup.db");
    school.backup_to(&backup).unwrap();

    // 2. Tuesday's homework reaches the hub; then the school's disk dies.
    add_entry(&mut school, "mardi", "Tables de 3");
    sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
    drop(school);
    let mut school = Store::open(&backup, school_scope).unwrap();
    let has_tuesday =
        |s: &mut Store| s.get::<HomeworkBook>(book().id()).unwrap().unwrap().entries.contains_key("mardi");
    assert!(!has_tuesday(&mut school));

    // 3. The hub believes the school holds Tuesday: the next sync sees the digests differ...
    let (first, _) = sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
    assert!(!first.converged);
    // 4. ...and the one after compares full catalogs and repairs it.
    let (second, _) = sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
    assert!(second.full_reconciliation && second.converged, "{second:?}");
    assert!(has_tuesday(&mut school));
    assert_eq!(school.read_models().unwrap(), hub.read_models().unwrap());
    let (third, _) = sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
    assert!(!third.full_reconciliation && third.converged && third.docs_received == 0);
}

#[test]
fn a_replica_keeps_its_identity_and_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = Store::open(&path, Scope::all()).unwrap();
    let (id, key) = (store.id(), store.identity().public_key());
    drop(store);
    let store = Store::open(&path, Scope::all()).unwrap();
    assert_eq!((store.id(), store.identity().public_key()), (id, key));
    let other = Store::open(&dir.path().join("b.db"), Scope::all()).unwrap();
    assert_ne!(other.id(), id);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// A laptop keeps its private key in the operating system's keyring: the database holds
/// only the public half, opens only with the right key, and never with none.
#[test]
fn a_replica_whose_key_is_kept_outside_opens_only_with_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("laptop.db");
    let key = [7u8; 32];
    let store = Store::open_with_key(&path, Scope::all(), Some(key)).unwrap();
    let (id, public) = (store.id(), store.identity().public_key());
    assert_eq!(store.identity().secret_bytes(), key);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: Vec<u8> = conn.query_row("SELECT secret_key FROM replica", [], |r| r.get(0)).unwrap();
    assert!(!stored.windows(32).any(|w| w == key), "the private key is not in the database");
    drop(conn);
    let again = Store::open_with_key(&path, Scope::all(), Some(key)).unwrap();
    assert_eq!((again.id(), again.identity().public_key()), (id, public));
    drop(again);
    for wrong in [Store::open(&path, Scope::all()), Store::open_with_key(&path, Scope::all(), Some([8; 32]))] {
        assert!(matches!(wrong, Err(preau_sync::Error::KeyOutside(_))), "{:?}", wrong.err());
    }
    // And an appliance's replica, whose key is in its database, takes no key from outside.
    let appliance = dir.path().join("appliance.db");
    drop(Store::open(&appliance, Scope::all()).unwrap());
    let given = Store::open_with_key(&appliance, Scope::all(), Some(key));
    assert!(matches!(given, Err(preau_sync::Error::KeyOutside(_))));
}

#[test]
fn a_laptop_given_a_new_class_receives_its_older_documents_at_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let cm1 = ScopeRule::Exact(class());
    let cp = Partition::parse("school/0341234A/class/cp").unwrap();
    let cp_book = DocAddress::new(cp.clone(), Kind::HomeworkBook, DocKey::parse("2026-2027").unwrap());
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let laptop_path = dir.path().join("laptop.db");
    let mut laptop = Store::open(&laptop_path, Scope::new(vec![cm1.clone()])).unwrap();

    // 1. The hub has CP's homework from September; the laptop only follows CM1.
    hub.change::<HomeworkBook, _>(&cp_book, |b| b.entries.insert("sept".into(), HomeworkEntry::default())).unwrap();
    add_entry(&mut hub, "cm1-1", "Lecture");
    sync_pair(&mut laptop, &mut hub, &OpenPolicy).unwrap();
    assert!(laptop.catalog_entry(cp_book.id()).unwrap().is_none());
    add_entry(&mut hub, "cm1-2", "Calcul");
    sync_pair(&mut laptop, &mut hub, &OpenPolicy).unwrap();

    // 2. In November the teacher takes CP too: the old CP book must come, although its
    //    changes are older than everything the laptop has received.
    drop(laptop);
    let mut laptop = Store::open(&laptop_path, Scope::new(vec![cm1, ScopeRule::Exact(cp)])).unwrap();
    let (stats, _) = sync_pair(&mut laptop, &mut hub, &OpenPolicy).unwrap();
    assert!(stats.converged && !stats.full_reconciliation, "{stats:?}");
    assert!(laptop.get::<HomeworkBook>(cp_book.id()).unwrap().unwrap().entries.contains_key("sept"));
}

#[test]
fn a_small_bundle_budget_spreads_a_large_sync_over_several_complete_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let mut school = Store::open(&dir.path().join("school.db"), Scope::all()).unwrap();
    for i in 0..40 {
        let post = DocAddress::new(class(), Kind::NewsPost, DocKey::parse(&format!("n{i}")).unwrap());
        school.change::<preau_sync::kinds::news::NewsPost, _>(&post, |p| p.title = format!("Nouvelle {i}")).unwrap();
    }
    school.set_bundle_budget(500);
    let mut sessions = 0;
    loop {
        sessions += 1;
        let (stats, _) = sync_pair(&mut school, &mut hub, &OpenPolicy).unwrap();
        assert!(stats.docs_sent > 0 || stats.converged, "a session that sends nothing must end the sync");
        if stats.converged {
            break;
        }
        assert!(sessions < 40, "the sync must make progress");
    }
    assert!(sessions > 3, "500 bytes cannot carry 40 posts at once ({sessions} sessions)");
    assert_eq!(hub.catalog().unwrap().len(), 40);
    assert_eq!(school.read_models().unwrap(), hub.read_models().unwrap());
}

#[test]
fn two_teachers_editing_the_same_entry_offline_keep_both_texts() {
    let dir = tempfile::tempdir().unwrap();
    let mut school = Store::open(&dir.path().join("school.db"), Scope::all()).unwrap();
    let mut laptop = Store::open(&dir.path().join("laptop.db"), Scope::all()).unwrap();
    // 1. Monday's entry exists on both replicas.
    school
        .change::<HomeworkBook, _>(&book(), |b| {
            let entry = HomeworkEntry {
                subject: "Français".into(),
                lesson: "Lecture : « Le Petit Prince », chapitre 1.".into(),
                assigned_on: "2026-11-30".into(),
                ..Default::default()
            };
            b.entries.insert("lundi".into(), entry);
        })
        .unwrap();
    sync_pair(&mut laptop, &mut school, &OpenPolicy).unwrap();
    // 2. Apart, each teacher adds a line to the same lesson text (accents included).
    let append = |store: &mut Store, line: &str| {
        store
            .change::<HomeworkBook, _>(&book(), |b| {
                let lesson = &mut b.entries.get_mut("lundi").unwrap().lesson;
                let text = format!("{}\n{line}", lesson.as_str());
                lesson.update(text);
            })
            .unwrap();
    };
    append(&mut school, "Dictée préparée : les accents é, è, à.");
    append(&mut laptop, "Poésie : « Le cancre », strophe 2.");
    // 3. Together again: both lines are there, on both replicas.
    sync_pair(&mut laptop, &mut school, &OpenPolicy).unwrap();
    for store in [&mut school, &mut laptop] {
        let lesson =
            store.get::<HomeworkBook>(book().id()).unwrap().unwrap().entries["lundi"].lesson.as_str().to_owned();
        assert!(lesson.starts_with("Lecture : « Le Petit Prince », chapitre 1."), "{lesson}");
        assert!(lesson.contains("\nDictée préparée : les accents é, è, à."), "{lesson}");
        assert!(lesson.contains("\nPoésie : « Le cancre », strophe 2."), "{lesson}");
    }
    assert_eq!(school.read_models().unwrap(), laptop.read_models().unwrap());
    // 4. A later edit on a replica that has merged others' changes still works.
    append(&mut laptop, "Fin de séance.");
    assert!(laptop.homework(&class(), "2026-11-30", "2026-11-30").unwrap()[0].lesson.ends_with("Fin de séance."));
}

#[test]
fn a_laptop_counts_as_waiting_only_what_neither_its_school_nor_the_hub_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = crate::backend::hub(dir.path(), "hub.db", Scope::all());
    let mut school = Store::open(&dir.path().join("school.db"), Scope::all()).unwrap();
    let mut laptop = Store::open(&dir.path().join("laptop.db"), Scope::all()).unwrap();
    let peers = [school.id(), hub.id()];
    assert_eq!(laptop.unsent_documents(&peers).unwrap(), 0);
    add_entry(&mut laptop, "e1", "Tables de 7");
    assert_eq!(laptop.unsent_documents(&peers).unwrap(), 1);
    assert_eq!(laptop.unsent_documents(&[]).unwrap(), 1, "no peer holds anything");
    // At home, with the hub: nothing waits any more, though the school has not got it yet.
    sync_pair(&mut laptop, &mut hub, &OpenPolicy).unwrap();
    assert_eq!(laptop.unsent_documents(&peers).unwrap(), 0);
    assert_eq!(laptop.unsent_documents(&[school.id()]).unwrap(), 1);
    // A new edit waits again until one of them has it.
    add_entry(&mut laptop, "e2", "Poésie");
    assert_eq!(laptop.unsent_documents(&peers).unwrap(), 1);
    sync_pair(&mut laptop, &mut school, &OpenPolicy).unwrap();
    assert_eq!(laptop.unsent_documents(&peers).unwrap(), 0);
    assert_eq!(laptop.unsent_documents(&[hub.id()]).unwrap(), 1);
}

/// Two hub processes on one PostgreSQL database: each a `Store` of the same replica, writing
/// at once to one document and to their own. Every change lands, once (the writers take
/// turns: the database's advisory lock), each has its own sequence number, and either
/// process reads the other's. Only with `PREAU_TEST_STORE=postgres` (a SQLite replica is
/// one process's).
#[test]
fn two_processes_sharing_a_postgresql_replica_lose_nothing_and_see_each_other() {
    let Some(server) = crate::backend::postgres() else {
        eprintln!("SKIPPED here: a replica shared by processes is PostgreSQL's (PREAU_TEST_STORE=postgres)");
        return;
    };
    let url = crate::backend::fresh_database(&server);
    let open = || Store::open_postgres(&url, Scope::all()).unwrap();
    let (mut one, mut two) = (open(), open());
    assert_eq!(one.id(), two.id(), "one replica");
    let write = |store: &mut Store, who: &str| {
        for n in 0..40 {
            add_entry(store, &format!("{who}-{n}"), &format!("{who} {n}"));
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| write(&mut one, "un"));
        s.spawn(|| write(&mut two, "deux"));
    });
    for store in [&one, &two] {
        let book = store.get::<HomeworkBook>(book().id()).unwrap().unwrap();
        assert_eq!(book.entries.len(), 80, "every entry, from both processes");
    }
    assert_eq!(one.read_models().unwrap(), two.read_models().unwrap());
    let catalog = one.catalog().unwrap();
    assert_eq!(catalog.len(), 1);
    assert_eq!(one.last_seq().unwrap(), 80, "one sequence number per change, none shared");
    // What the read models say is what the document says, rebuilt.
    let models = one.read_models().unwrap();
    two.rebuild_read_models().unwrap();
    assert_eq!(two.read_models().unwrap(), models);
}
