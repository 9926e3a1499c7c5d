//! Writes the fuzz seeds kept under `tests/fuzz_regressions/` in the current wire format:
//! `cargo run -p preau-sync --example fuzz_seeds`. Run it after any change to the format
//! (`tests/fuzz_regressions.rs` fails while a seed no longer decodes).

use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::replication::{OpenPolicy, PeerView, Session};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let tmp = tempfile::tempdir()?;
    let mut school = Store::open(&tmp.path().join("school.db"), Scope::all())?;
    let hub = Store::open(&tmp.path().join("hub.db"), Scope::all())?;
    // The book the fuzz replica holds (`harness::replica`), with entries typed as teachers
    // do: strings, a text with accents, dates.
    let book =
        DocAddress::new(Partition::parse("school/0341234A/class/cp")?, Kind::HomeworkBook, DocKey::parse("2026-2027")?);
    for i in 0..3 {
        school.change::<HomeworkBook, _>(&book, |b| {
            let mut entry = HomeworkEntry {
                subject: "Français".into(),
                title: format!("Lire la page {i}"),
                assigned_on: "2026-12-01".into(),
                due_on: "2026-12-03".into(),
                ..Default::default()
            };
            entry.details.update(format!("Relire la leçon sur les accents : é, è, ê ({i})."));
            b.entries.insert(format!("n{i}"), entry);
        })?;
    }
    let (_session, hello) = Session::initiate(&mut school, hub.id())?;
    let scope = Scope::all();
    let bundle = school.build_bundle(&PeerView::new_peer(hub.id(), &scope), &OpenPolicy)?.bundle;
    std::fs::write(dir.join("bundle_apply/seed-new-doc"), postcard::to_allocvec(&bundle)?)?;
    std::fs::write(dir.join("frame_decode/seed-bundle"), bundle.encode())?;
    std::fs::write(dir.join("frame_decode/seed-hello"), &hello)?;
    println!("seeds written under {}", dir.display());
    Ok(())
}
