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
    let rows = hub.homework_due(&class(), "2026-11-01", "2026-11-30").unwrap();
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
