//! Child process of the crash test: writes and syncs two replicas as fast as it can and
//! prints an acknowledgement line after each commit returns, until it is killed.
//!
//! Usage: `crash_writer DIR FIRST_ID`. Lines on stdout:
//! - `A <class> <entry>`: the entry is committed on replica `a`;
//! - `B <class> <entry>`: the entry is committed on replica `b`;
//! - `S`: a sync between `a` and `b` finished: everything acknowledged before is on both.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::replication::{OpenPolicy, sync_pair};
use preau_sync::{DocAddress, DocKey, Kind, Partition, Scope, ScopeRule, Store, Uai};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().context("usage: crash_writer DIR FIRST_ID")?);
    let first: u64 = args.next().context("usage: crash_writer DIR FIRST_ID")?.parse()?;
    let school = Scope::new(vec![ScopeRule::School(Uai::parse("0341234A")?)]);
    let mut a = Store::open(&dir.join("a.db"), school)?;
    let mut b = Store::open(&dir.join("b.db"), Scope::all())?;
    let books: Vec<DocAddress> = ["cp", "ce1", "cm2"]
        .iter()
        .map(|c| {
            Ok(DocAddress::new(
                Partition::parse(&format!("school/0341234A/class/{c}"))?,
                Kind::HomeworkBook,
                DocKey::parse("2026-2027")?,
            ))
        })
        .collect::<Result<_>>()?;
    let mut out = std::io::stdout().lock();
    for n in first.. {
        let class = (n % 3) as usize;
        let (store, name) = if n % 7 == 0 { (&mut b, "B") } else { (&mut a, "A") };
        let entry = format!("e{n}");
        store.change::<HomeworkBook, _>(&books[class], |book| {
            book.entries.insert(entry.clone(), HomeworkEntry { title: format!("Devoir {n}"), ..Default::default() })
        })?;
        writeln!(out, "{name} {class} {entry}")?;
        out.flush()?;
        if n % 5 == 0 {
            sync_pair(&mut a, &mut b, &OpenPolicy)?;
            writeln!(out, "S")?;
            out.flush()?;
        }
        if n % 11 == 0 {
            a.compact(books[class].id())?;
        }
    }
    Ok(())
}
