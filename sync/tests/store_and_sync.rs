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
    let mut hub = Store::open(&dir.path().join("hub.db"), Scope::all()).unwrap();
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
    use preau_sync::kinds::conversation::{Conversation, Message};
    use preau_sync::kinds::news::NewsPost;
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        AddEntry { on: usize, class: usize, id: u8 },
        Retitle { on: usize, class: usize, id: u8, title: u8 },
        DeleteEntry { on: usize, class: usize, id: u8 },
        AddMessage { on: usize, conversation: u8, id: u8 },
        Publish { on: usize, post: u8, title: u8 },
        Sync,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..2usize, 0..3usize, 0..6u8).prop_map(|(on, class, id)| Op::AddEntry { on, class, id }),
            (0..2usize, 0..3usize, 0..6u8, any::<u8>()).prop_map(|(on, class, id, title)| Op::Retitle {
                on,
                class,
                id,
                title
            }),
            (0..2usize, 0..3usize, 0..6u8).prop_map(|(on, class, id)| Op::DeleteEntry { on, class, id }),
            (0..2usize, 0..3u8, any::<u8>()).prop_map(|(on, conversation, id)| Op::AddMessage { on, conversation, id }),
            (0..2usize, 0..4u8, any::<u8>()).prop_map(|(on, post, title)| Op::Publish { on, post, title }),
            Just(Op::Sync),
        ]
    }

    fn address(class: usize, kind: Kind, key: &str) -> DocAddress {
        let partition = Partition::parse(&format!("school/0341234A/class/c{class}")).unwrap();
        DocAddress::new(partition, kind, DocKey::parse(key).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever happened (local edits, deletions, merges of concurrent edits), the read
        /// models maintained change by change equal a rebuild from the documents.
        #[test]
        fn rebuild_equals_incremental_read_models(ops in proptest::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let mut replicas = [
                Store::open(&dir.path().join("a.db"), Scope::all()).unwrap(),
                Store::open(&dir.path().join("b.db"), Scope::all()).unwrap(),
            ];
            for op in ops {
                match op {
                    Op::AddEntry { on, class, id } => {
                        replicas[on].change::<HomeworkBook, _>(&address(class, Kind::HomeworkBook, "2026-2027"), |b| {
                            b.entries.insert(format!("e{id}"), HomeworkEntry { title: "Nouveau".into(), due_on: format!("2026-12-{:02}", id + 1), ..Default::default() })
                        }).unwrap();
                    }
                    Op::Retitle { on, class, id, title } => {
                        replicas[on].change::<HomeworkBook, _>(&address(class, Kind::HomeworkBook, "2026-2027"), |b| {
                            if let Some(e) = b.entries.get_mut(&format!("e{id}")) { e.title = format!("Titre {title}"); let d = format!("{} {title}", e.details.as_str()); e.details.update(d); }
                        }).unwrap();
                    }
                    Op::DeleteEntry { on, class, id } => {
                        replicas[on].change::<HomeworkBook, _>(&address(class, Kind::HomeworkBook, "2026-2027"), |b| {
                            b.entries.remove(&format!("e{id}"))
                        }).unwrap();
                    }
                    Op::AddMessage { on, conversation, id } => {
                        replicas[on].change::<Conversation, _>(&address(0, Kind::Conversation, &format!("c{conversation}")), |c| {
                            c.messages.insert(format!("m{id}"), Message { author: format!("r{on}"), sent_at: i64::from(id), body: "Bonjour".into(), held: false, attachments: Vec::new() })
                        }).unwrap();
                    }
                    Op::Publish { on, post, title } => {
                        replicas[on].change::<NewsPost, _>(&address(1, Kind::NewsPost, &format!("p{post}")), |p| {
                            p.title = format!("Actualité {title}");
                        }).unwrap();
                    }
                    Op::Sync => {
                        let [a, b] = &mut replicas;
                        sync_pair(a, b, &OpenPolicy).unwrap();
                    }
                }
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
    let mut hub = Store::open(&dir.path().join("hub.db"), Scope::all()).unwrap();
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

#[test]
fn a_laptop_given_a_new_class_receives_its_older_documents_at_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let cm1 = ScopeRule::Exact(class());
    let cp = Partition::parse("school/0341234A/class/cp").unwrap();
    let cp_book = DocAddress::new(cp.clone(), Kind::HomeworkBook, DocKey::parse("2026-2027").unwrap());
    let mut hub = Store::open(&dir.path().join("hub.db"), Scope::all()).unwrap();
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
    let mut hub = Store::open(&dir.path().join("hub.db"), Scope::all()).unwrap();
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
