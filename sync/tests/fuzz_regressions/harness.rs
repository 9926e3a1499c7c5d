//! The bodies of the fuzz targets, shared by `sync/fuzz` (libFuzzer) and by
//! `tests/fuzz_regressions.rs` (which replays every input kept in this folder).
// Each fuzz target includes this file and uses one of its functions.
#![allow(dead_code)]

use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::replication::{Bundle, Message, OpenPolicy, frame};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, Store};

/// Every message and bundle decoder on arbitrary bytes: refuse cleanly, never panic.
pub fn frame_decode(data: &[u8]) {
    let _ = Message::decode(data);
    let _ = Bundle::decode(data);
    // Past the checksum: the body decoders on arbitrary (framed) bytes.
    let framed = frame::encode(data);
    if let Ok(msg) = Message::decode(&framed) {
        assert_eq!(Message::decode(&msg.encode()).ok(), Some(msg), "re-encoding changed a message");
    }
    let _ = Bundle::decode(&framed);
}

/// A replica that already holds a document, for `bundle_apply`.
pub fn replica() -> (tempfile::TempDir, Store) {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let mut store = Store::open(&dir.path().join("fuzz.db"), Scope::all()).expect("open replica");
    for i in 0..3 {
        store
            .change::<HomeworkBook, _>(&homework_book(), |b| {
                b.entries.insert(format!("e{i}"), HomeworkEntry::default())
            })
            .expect("seed the replica");
    }
    (dir, store)
}

fn homework_book() -> DocAddress {
    DocAddress::new(
        Partition::parse("school/0341234A/class/cp").expect("partition"),
        Kind::HomeworkBook,
        DocKey::parse("2026-2027").expect("key"),
    )
}

/// Applying an arbitrary bundle (postcard bytes, past the frame) to a real replica: a typed
/// refusal or a clean apply, never a panic, never a damaged database.
pub fn bundle_apply(store: &mut Store, data: &[u8]) {
    let Ok(mut bundle) = postcard::from_bytes::<Bundle>(data) else { return };
    bundle.to = store.id();
    let _ = store.apply_bundle(&bundle, &Scope::all(), &OpenPolicy);
    assert_eq!(store.integrity_check().expect("integrity check"), "ok");
    // Applied or refused, every document must still load and project: a bundle that is
    // accepted but leaves a document unreadable is a damaged database too.
    if let Err(e) = store.rebuild_read_models() {
        panic!("a document no longer loads after applying a bundle: {e}");
    }
}

/// Loading document bytes and projecting them as every kind: errors are fine, panics not.
pub fn doc_load(data: &[u8]) {
    let Ok(doc) = preau_sync::document::load_document(data) else { return };
    let partition = Partition::parse("school/0341234A/class/cp").expect("partition");
    for kind in Kind::ALL {
        let address = DocAddress::new(partition.clone(), kind, DocKey::parse("k").expect("key"));
        let _ = preau_sync::kinds::project(&address, &doc);
    }
}
