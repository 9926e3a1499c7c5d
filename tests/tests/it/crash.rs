//! Crash safety: a real child process writing and syncing two replicas is killed with
//! SIGKILL at random moments, many times over the same files. After each kill the databases
//! pass `PRAGMA integrity_check`, and every write the child acknowledged is there, in the
//! documents and in the read models; everything acknowledged before a finished sync is on
//! both replicas. `PREAU_CRASH_ROUNDS` sets the number of kills (default 40).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use preau_sync::kinds::homework::HomeworkBook;
use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, ScopeRule, Store, Uai};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

fn book(class: usize) -> DocAddress {
    let c = ["cp", "ce1", "cm2"][class];
    DocAddress::new(
        Partition::parse(&format!("school/0341234A/class/{c}")).unwrap(),
        Kind::HomeworkBook,
        DocKey::parse("2026-2027").unwrap(),
    )
}

/// Entries (class, id) a replica must hold: in its documents and in its read model.
fn assert_holds(store: &mut Store, name: &str, expected: &BTreeSet<(usize, String)>) {
    for class in 0..3 {
        let address = book(class);
        let doc = store.get::<HomeworkBook>(address.id()).unwrap().unwrap_or_default();
        let rows: BTreeSet<String> =
            store.homework(&address.partition, "", "9999").unwrap().into_iter().map(|r| r.entry_id).collect();
        for (_, id) in expected.iter().filter(|(c, _)| *c == class) {
            assert!(doc.entries.contains_key(id), "{name} lost acknowledged entry {id} (class {class})");
            assert!(rows.contains(id), "{name}'s read model lacks acknowledged entry {id}");
        }
        assert_eq!(doc.entries.len(), rows.len(), "{name}: read model and document disagree");
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_write() {
    let rounds: u64 = std::env::var("PREAU_CRASH_ROUNDS").map_or(40, |s| s.parse().expect("a number"));
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(rounds);
    let (mut acked_a, mut acked_b, mut synced) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut lines_total = 0;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .arg(dir.path())
            .arg((round * 1_000_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start crash_writer");
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
        // Random moments: some during opening and migration, most in the middle of writes,
        // syncs and compactions.
        std::thread::sleep(Duration::from_millis(rng.random_range(0..250)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        lines_total += lines.len();
        let mut pending_sync = BTreeSet::new();
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["A", class, id] => {
                    acked_a.insert((class.parse().unwrap(), id.to_string()));
                    pending_sync.insert((class.parse::<usize>().unwrap(), id.to_string()));
                }
                ["B", class, id] => {
                    acked_b.insert((class.parse().unwrap(), id.to_string()));
                }
                ["S"] => synced.append(&mut pending_sync),
                _ => panic!("unexpected line from the child: {line:?}"),
            }
        }
        for name in ["a.db", "b.db"] {
            let path = dir.path().join(name);
            if !path.exists() {
                continue;
            }
            let conn = rusqlite::Connection::open(&path).unwrap();
            let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok", "{name} after kill {round}");
        }
    }
    let school = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A").unwrap())]);
    let mut a = Store::open(&dir.path().join("a.db"), school).unwrap();
    let mut b = Store::open(&dir.path().join("b.db"), Scope::all()).unwrap();
    assert_eq!(a.integrity_check().unwrap(), "ok");
    assert_holds(&mut a, "a", &acked_a);
    assert_holds(&mut b, "b", &acked_b);
    assert_holds(&mut b, "b (synced from a)", &synced);
    println!(
        "crash test: {rounds} kills, {lines_total} acknowledgements, {} writes on a, {} on b, {} synced",
        acked_a.len(),
        acked_b.len(),
        synced.len()
    );
    assert!(acked_a.len() > rounds as usize, "the child must have written between kills");
}
