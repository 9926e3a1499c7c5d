//! Bad input from a peer is refused with a typed error and changes nothing.

use std::collections::BTreeMap;

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use preau_sync::error::Refusal;
use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::replication::frame::{MAX_BODY_BYTES, MAX_FRAME_BYTES};
use preau_sync::replication::thin::{Actors, HeldDeps, thin};
use preau_sync::replication::{Applied, Bundle, DocChanges, DocTarget, OpenPolicy, PeerView, Policy, Session};
use preau_sync::{Cell, DocAddress, DocKey, Error, Kind, Partition, ReplicaId, Scope, ScopeRule, Store, Uai};

fn uai() -> Uai {
    Uai::parse("0341234A").unwrap()
}

fn school_scope() -> Scope {
    Scope::new(vec![ScopeRule::School(uai())])
}

fn book(class: &str) -> DocAddress {
    DocAddress::new(
        Partition::parse(&format!("school/0341234A/class/{class}")).unwrap(),
        Kind::HomeworkBook,
        DocKey::parse("2026-2027").unwrap(),
    )
}

fn add_entry(store: &mut Store, class: &str, id: &str) {
    store
        .change::<HomeworkBook, _>(&book(class), |b| {
            b.entries.insert(id.into(), HomeworkEntry { title: format!("Devoir {id}"), ..Default::default() })
        })
        .unwrap();
}

/// Everything observable about a replica's data and replication state.
#[derive(Debug, PartialEq)]
struct State {
    catalog: Vec<(String, Vec<[u8; 32]>, u64)>,
    rows: BTreeMap<&'static str, Vec<Vec<Cell>>>,
}

fn state(store: &mut Store) -> State {
    State {
        catalog: store
            .catalog()
            .unwrap()
            .into_iter()
            .map(|e| (e.id.to_string(), e.heads.iter().map(|h| h.0).collect(), e.seq))
            .collect(),
        rows: store.read_models().unwrap(),
    }
}

struct Pair {
    _dir: tempfile::TempDir,
    hub: Store,
    school: Store,
}

/// A hub with two classes' homework and a school that has never synced.
fn pair() -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = Store::open(&dir.path().join("hub.db"), Scope::all()).unwrap();
    let mut school = Store::open(&dir.path().join("school.db"), school_scope()).unwrap();
    add_entry(&mut hub, "cp", "a");
    add_entry(&mut hub, "ce1", "b");
    add_entry(&mut school, "cm2", "mine");
    Pair { _dir: dir, hub, school }
}

/// The hub's real bundle for the school.
fn bundle_for_school(p: &mut Pair) -> Bundle {
    let scope = school_scope();
    p.hub.build_bundle(&PeerView::new_peer(p.school.id(), &scope), &OpenPolicy).unwrap().bundle
}

fn apply(p: &mut Pair, bundle: &Bundle) -> Result<Applied, Error> {
    p.school.apply_bundle(bundle, &Scope::all(), &OpenPolicy)
}

/// The refusal of a whole bundle, or of its first refused document.
fn refusal(result: Result<Applied, Error>) -> Refusal {
    match result {
        Err(Error::Refused(r)) => r,
        Ok(applied) if !applied.refused.is_empty() => {
            assert_eq!(applied.ack.refused.len(), applied.refused.len(), "the ack reports every refusal");
            applied.refused[0].1.clone()
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn damaged_frames_are_refused_before_anything_is_decoded() {
    let mut p = pair();
    let frame = bundle_for_school(&mut p).encode();
    let before = state(&mut p.school);

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("header only", frame[..30].to_vec()),
        ("truncated body", frame[..frame.len() - 7].to_vec()),
    ];
    let mut flipped = frame.clone();
    let mid = 49 + (frame.len() - 49) / 2;
    flipped[mid] ^= 0x20;
    cases.push(("corrupted body", flipped));
    let mut wrong_sum = frame.clone();
    wrong_sum[20] ^= 0xff;
    cases.push(("wrong checksum", wrong_sum));
    let mut magic = frame.clone();
    magic[..8].copy_from_slice(b"NOTPREAU");
    cases.push(("bad magic", magic));
    let mut huge_body = frame.clone();
    huge_body[9..13].copy_from_slice(&((MAX_BODY_BYTES + 1) as u32).to_le_bytes());
    cases.push(("declared body over the limit", huge_body));

    for (what, bytes) in cases {
        let err = Bundle::decode(&bytes).expect_err(what);
        let expected = match what {
            "empty" | "header only" | "truncated body" => matches!(err, Refusal::Truncated { .. }),
            "corrupted body" | "wrong checksum" => err == Refusal::Checksum,
            "bad magic" => err == Refusal::BadMagic,
            _ => matches!(err, Refusal::Oversized { .. }),
        };
        assert!(expected, "{what}: {err:?}");
    }
    let oversized = vec![0u8; MAX_FRAME_BYTES as usize + 1];
    assert!(matches!(Bundle::decode(&oversized), Err(Refusal::Oversized { .. })));

    // A sound frame around garbage: checksum fine, content undecodable.
    let garbage = preau_sync::replication::frame::encode(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff not postcard");
    assert!(matches!(Bundle::decode(&garbage), Err(Refusal::Malformed(_))));

    // The same damaged bytes through a live session: refused, nothing changed.
    let (mut session, _hello) = Session::initiate(&mut p.school, p.hub.id()).unwrap();
    let mut damaged = frame;
    damaged[60] ^= 1;
    let err = session.receive(&mut p.school, &OpenPolicy, &damaged).unwrap_err();
    assert!(matches!(err, Error::Refused(Refusal::Checksum)), "{err:?}");
    assert_eq!(state(&mut p.school), before);
}

#[test]
fn a_document_outside_the_shared_partitions_is_refused_and_the_rest_of_the_bundle_applies() {
    let mut p = pair();
    let mut bundle = bundle_for_school(&mut p);
    let before = state(&mut p.school);

    // A real document of another school, smuggled into an otherwise valid bundle.
    let other = DocAddress::new(
        Partition::parse("school/0349999Z/class/cp").unwrap(),
        Kind::HomeworkBook,
        DocKey::parse("2026-2027").unwrap(),
    );
    p.hub.change::<HomeworkBook, _>(&other, |b| b.entries.insert("x".into(), HomeworkEntry::default())).unwrap();
    let everything = p.hub.build_bundle(&PeerView::new_peer(p.school.id(), &Scope::all()), &OpenPolicy).unwrap();
    let smuggled =
        everything.bundle.docs.iter().find(|d| matches!(&d.target, DocTarget::New(a) if a == &other)).unwrap().clone();
    bundle.actors = everything.bundle.actors.clone();
    bundle.docs = everything.bundle.docs.clone();
    assert!(bundle.docs.contains(&smuggled));

    let applied = apply(&mut p, &bundle).unwrap();
    assert_eq!(applied.refused.len(), 1, "{:?}", applied.refused);
    let (doc, err) = &applied.refused[0];
    assert_eq!(*doc, smuggled.target.prefix());
    assert!(
        matches!(err, Refusal::OutOfPartition { partition, .. } if partition == "school/0349999Z/class/cp"),
        "{err:?}"
    );
    assert_eq!(applied.ack.refused[0].doc, *doc);
    assert!(applied.ack.refused[0].reason.contains("school/0349999Z/class/cp"));
    let after = state(&mut p.school);
    assert_ne!(after, before, "the bundle's other documents were applied");
    assert_eq!(p.school.homework(&book("cp").partition, "", "9999").unwrap().len(), 1);
    assert!(after.catalog.iter().all(|(id, ..)| *id != other.id().to_string()), "not the smuggled one");
    let before = after;

    // A peer may not send documents outside its own declared scope either.
    let sound = bundle_for_school(&mut p);
    let narrow_sender = Scope::new(vec![ScopeRule::Exact(Partition::parse("school/0341234A/class/cp").unwrap())]);
    let err = refusal(p.school.apply_bundle(&sound, &narrow_sender, &OpenPolicy));
    assert!(matches!(err, Refusal::OutOfPartition { .. }), "{err:?}");
    assert_eq!(state(&mut p.school), before);
}

#[test]
fn changes_that_break_the_schema_or_the_policy_or_do_not_decode_are_refused() {
    let mut p = pair();
    let before = state(&mut p.school);

    // A hostile change that turns a homework book's entries into text.
    let address = book("cp");
    let mut doc = Kind::HomeworkBook.genesis();
    doc.transact(|tx| tx.put(ROOT, "entries", "plus de devoirs")).unwrap();
    let changes = doc.get_changes(&[Kind::HomeworkBook.genesis_hash()]);
    let mut actors = Actors::default();
    let thin_changes = thin(&changes, Kind::HomeworkBook.genesis_hash(), &mut actors, HeldDeps::Prefix).unwrap();
    let mut hostile = bundle_for_school(&mut p);
    hostile.actors = actors;
    hostile.docs = vec![DocChanges { target: DocTarget::New(address), changes: thin_changes }];
    let err = refusal(apply(&mut p, &hostile));
    assert!(matches!(err, Refusal::Schema { .. }), "{err:?}");

    // Bytes that are not a change.
    let mut broken = bundle_for_school(&mut p);
    broken.docs.truncate(1);
    broken.docs[0].changes[0].rest.truncate(3);
    let err = refusal(apply(&mut p, &broken));
    assert!(matches!(err, Refusal::BadChange { .. }), "{err:?}");

    // A policy that refuses everything from this peer.
    struct NoHomeworkFromHub;
    impl Policy for NoHomeworkFromHub {
        fn validate(&self, _: ReplicaId, a: &DocAddress, _: &Automerge, _: &Automerge) -> Result<(), String> {
            Err(format!("{} may not be written by this peer", a.kind))
        }
    }
    let sound = bundle_for_school(&mut p);
    let err = refusal(p.school.apply_bundle(&sound, &Scope::all(), &NoHomeworkFromHub));
    assert!(matches!(err, Refusal::Rejected { .. }), "{err:?}");

    // The same document twice, and a bundle meant for someone else.
    let mut twice = bundle_for_school(&mut p);
    twice.docs.push(twice.docs[0].clone());
    assert!(matches!(refusal(apply(&mut p, &twice)), Refusal::Malformed(_)));
    let mut elsewhere = bundle_for_school(&mut p);
    elsewhere.to = ReplicaId([7; 16]);
    assert!(matches!(refusal(apply(&mut p, &elsewhere)), Refusal::WrongPeer { .. }));

    assert_eq!(state(&mut p.school), before);

    // And the sound bundle still applies afterwards.
    let sound = bundle_for_school(&mut p);
    apply(&mut p, &sound).unwrap();
    assert_eq!(p.school.homework(&book("cp").partition, "", "9999").unwrap().len(), 1);
}

#[test]
fn a_database_from_a_newer_preau_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.db");
    drop(Store::open(&path, Scope::all()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path, Scope::all()).err().expect("must refuse");
    assert!(matches!(err, Error::SchemaTooNew { found: 99, .. }), "{err:?}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 99);
}

#[test]
fn a_change_that_makes_automerge_panic_is_refused_and_the_replica_keeps_working() {
    let mut p = pair();
    let before = state(&mut p.school);

    // Two changes by one actor; the second is re-pointed at the genesis, so it arrives as
    // "seq 2 of an actor the document never saw", with its dependencies satisfied.
    let genesis = Kind::HomeworkBook.genesis_hash();
    let mut doc = Kind::HomeworkBook.genesis().with_actor(automerge::ActorId::from(&[9u8; 24][..]));
    for title in ["un", "deux"] {
        doc.transact(|tx| {
            let entries = tx.get(ROOT, "entries")?.expect("entries").1;
            let entry = tx.put_object(&entries, title, automerge::ObjType::Map)?;
            tx.put(&entry, "title", title)
        })
        .unwrap();
    }
    let mut actors = Actors::default();
    let mut changes = thin(&doc.get_changes(&[genesis]), genesis, &mut actors, HeldDeps::Prefix).unwrap();
    let mut second = changes.remove(1);
    second.deps = vec![preau_sync::replication::thin::Dep::Genesis];
    let mut hostile = bundle_for_school(&mut p);
    hostile.actors = actors;
    hostile.docs = vec![DocChanges { target: DocTarget::New(book("cp")), changes: vec![second] }];

    let err = refusal(apply(&mut p, &hostile));
    assert!(matches!(err, Refusal::BadChange { .. }), "{err:?}");
    assert_eq!(state(&mut p.school), before);
    let sound = bundle_for_school(&mut p);
    apply(&mut p, &sound).unwrap();
}

#[test]
fn a_refused_document_is_offered_again_at_each_session_until_the_rules_accept_it() {
    use preau_sync::replication::sync_pair;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Refuses the CE1 class's book while `strict` is set (say, its teacher is not yet in
    /// the directory).
    struct NotCe1Yet(AtomicBool);
    impl Policy for NotCe1Yet {
        fn validate(&self, _: ReplicaId, a: &DocAddress, _: &Automerge, _: &Automerge) -> Result<(), String> {
            match self.0.load(Ordering::SeqCst) && a.partition.to_string().ends_with("/ce1") {
                true => Err("l'enseignant de CE1 n'est pas encore connu".into()),
                false => Ok(()),
            }
        }
    }
    let mut p = pair();
    let policy = NotCe1Yet(AtomicBool::new(true));
    let (school, hub) = sync_pair(&mut p.school, &mut p.hub, &policy).unwrap();
    assert_eq!(school.refused_here.len(), 1, "{school:?}");
    assert!(school.refused_here[0].reason.contains("CE1"));
    assert_eq!(hub.refused_there, school.refused_here, "the sender is told");
    assert!(!school.converged && !hub.converged);
    assert_eq!(p.school.homework(&book("cp").partition, "", "9999").unwrap().len(), 1, "the rest arrived");
    assert!(p.school.homework(&book("ce1").partition, "", "9999").unwrap().is_empty());
    assert_eq!(p.hub.homework(&book("cm2").partition, "", "9999").unwrap().len(), 1, "and went up");

    // Offered again, alone: what was acknowledged is not re-sent.
    let (school, hub) = sync_pair(&mut p.school, &mut p.hub, &policy).unwrap();
    assert_eq!((hub.docs_sent, school.refused_here.len()), (1, 1));
    assert!(!hub.full_reconciliation, "a refusal is not a divergence");

    // Once the rules accept it, it applies and both sides agree.
    policy.0.store(false, Ordering::SeqCst);
    let (school, _) = sync_pair(&mut p.school, &mut p.hub, &policy).unwrap();
    assert!(school.refused_here.is_empty());
    assert_eq!(p.school.homework(&book("ce1").partition, "", "9999").unwrap().len(), 1);
    let (school, hub) = sync_pair(&mut p.school, &mut p.hub, &policy).unwrap();
    assert!(school.converged && hub.converged, "{school:?} {hub:?}");
}
