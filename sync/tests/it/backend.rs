//! Where the tests' hub replica lives: a SQLite file, or, when `PREAU_TEST_STORE=postgres`,
//! a fresh database of the PostgreSQL server `PREAU_TEST_POSTGRES` names (a connection
//! string with no `dbname`). `scripts/test` runs this binary both ways: the two backends'
//! conformance to one suite.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use preau_sync::{Scope, Store};

/// The PostgreSQL server to test on, when asked to.
pub fn postgres() -> Option<String> {
    if std::env::var("PREAU_TEST_STORE").ok()? != "postgres" {
        return None;
    }
    Some(std::env::var("PREAU_TEST_POSTGRES").expect("PREAU_TEST_STORE=postgres needs PREAU_TEST_POSTGRES"))
}

/// A fresh, empty database on the test server.
pub fn fresh_database(server: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!("t{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), rand_suffix());
    preau_sync::create_postgres_database(server, &name).expect("creating a test database")
}

fn rand_suffix() -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

/// The hub's replica for a test: `name` in `dir`, or a fresh PostgreSQL database.
pub fn hub(dir: &Path, name: &str, scope: Scope) -> Store {
    match postgres() {
        Some(server) => Store::open_postgres(&fresh_database(&server), scope).unwrap(),
        None => Store::open(&dir.join(name), scope).unwrap(),
    }
}
