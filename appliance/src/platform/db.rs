//! The one storage boundary of the replica (`preau_sync`: SQLite, or PostgreSQL for a hub
//! past one machine; synchronous either way). Writes go
//! through [`Db::run`]: one writer, off the async runtime, one change at a time. Page and
//! API reads go through [`Db::read`]: a pooled read-only connection whose snapshot never
//! waits for the writer, even while it applies a 24 MiB bundle (SQLite WAL).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use preau_sync::{Reader, Scope, Store};

use crate::platform::error::AppError;
use crate::platform::shelf::Shelf;

/// Idle read-only connections kept for reuse; more open while more readers run at once.
/// Each keeps SQLite's default page cache (2 MB at most).
const IDLE_READERS: usize = 8;

/// Answers kept by [`Db::memo`] at most, all of the replica's newest generation: a class's
/// pupils and parents with a page's worth each, between two writes. Past it, everything
/// goes. A pupil's « à faire » of a generated school year weighs about 15 KB, so this
/// bounds the memo near 8 MiB (`preau bench memory`, BENCHMARKS.md).
const MEMO_ENTRIES: usize = 512;

/// The replica, shared by every request.
#[derive(Clone)]
pub struct Db {
    store: Arc<Mutex<Store>>,
    readers: Arc<Readers>,
    memo: Arc<Memo>,
}

/// Page data computed from the replica, kept until the replica next changes.
struct Memo {
    /// Bumped after every write (see [`Db::run`]), and when another process wrote.
    generation: AtomicU64,
    /// The shared replica's last sequence number as last seen ([`Db::refresh`]).
    seen_seq: AtomicU64,
    answers: Shelf<(&'static str, String), Arc<dyn Any + Send + Sync>>,
}

impl Default for Memo {
    fn default() -> Self {
        Self { generation: AtomicU64::default(), seen_seq: AtomicU64::default(), answers: Shelf::new(MEMO_ENTRIES) }
    }
}

struct Readers {
    at: Location,
    idle: Mutex<Vec<Reader>>,
}

/// Where the replica is: a SQLite file (every server), or a PostgreSQL database (a hub,
/// maybe shared by several of its processes).
#[derive(Clone, Debug)]
enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Db {
    /// Opens (or creates, and migrates) the replica.
    pub fn open(path: &Path, scope: Scope) -> preau_sync::Result<Self> {
        Self::open_with_key(path, scope, None)
    }

    /// Opens the replica whose private key is kept outside it, when `key` is given
    /// (`preau_sync::Store::open_with_key`).
    pub fn open_with_key(path: &Path, scope: Scope, key: Option<[u8; 32]>) -> preau_sync::Result<Self> {
        let store = Store::open_with_key(path, scope, key)?;
        Ok(Self::over(store, Location::File(path.to_owned())))
    }

    /// Opens (or creates, and migrates) the replica in a PostgreSQL database: a hub's,
    /// which its other processes may share (each sees the others' writes: [`Db::refresh`]).
    pub fn open_postgres(url: &str, scope: Scope) -> preau_sync::Result<Self> {
        let store = Store::open_postgres(url, scope)?;
        Ok(Self::over(store, Location::Postgres(url.to_owned())))
    }

    fn over(store: Store, at: Location) -> Self {
        let readers = Readers { at, idle: Mutex::default() };
        Self { store: Arc::new(Mutex::new(store)), readers: Arc::new(readers), memo: Arc::default() }
    }

    /// Sees the writes other processes made to a shared replica (PostgreSQL): when its last
    /// sequence number moved, what was computed and kept goes, as after a write here. The
    /// session layer asks at each request; a replica of this process's alone (SQLite)
    /// needs nothing.
    pub fn refresh(&self) {
        if !matches!(self.readers.at, Location::Postgres(_)) {
            return;
        }
        match self.read(|r| Ok(r.last_seq()?)) {
            Ok(seq) if self.memo.seen_seq.swap(seq, Ordering::AcqRel) != seq => {
                self.memo.generation.fetch_add(1, Ordering::Release);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the replica's last change"),
        }
    }

    /// Runs `f` with the store on a blocking thread. Calls are serialized: the store is a
    /// single writer, and its transactions are short.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let (store, memo) = (self.store.clone(), self.memo.clone());
        tokio::task::spawn_blocking(move || {
            // A panic inside a closure leaves no half-done transaction (SQLite rolls it
            // back), so a poisoned lock still guards a sound store.
            let mut store = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let result = f(&mut store);
            // After the commit, whatever `f` did: a memo made from an older snapshot is
            // never served again.
            memo.generation.fetch_add(1, Ordering::Release);
            result
        })
        .await
        .map_err(|e| AppError::Internal(format!("storage task failed: {e}")))?
    }

    /// Something pages are computed from beside the replica changed (the hub's families, in
    /// `links.db`): what was computed and kept (`Db::memo`, kept pages) goes, as after a
    /// write.
    pub fn changed_beside(&self) {
        self.memo.generation.fetch_add(1, Ordering::Release);
    }

    /// Runs `f` with the store on the current thread (start-up and command-line tools).
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, AppError>) -> Result<T, AppError> {
        let mut store = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = f(&mut store);
        self.memo.generation.fetch_add(1, Ordering::Release);
        result
    }

    /// Runs `f` on the calling thread with a read-only connection of its own. For the
    /// bounded, indexed reads of pages and the API: they take microseconds over a warm page
    /// cache, less than a hop to a blocking thread would (see ARCHITECTURE.md, "Reads never
    /// wait"). Whatever scans a whole replica goes through [`Db::run`] instead.
    pub fn read<T>(&self, f: impl FnOnce(&Reader) -> Result<T, AppError>) -> Result<T, AppError> {
        let reader = self.readers.take()?;
        let result = f(&reader);
        self.readers.give_back(reader);
        result
    }
}

impl Db {
    /// How many writes the replica has seen since the server started: what was computed
    /// from it at one generation holds until the next (see [`Db::memo`]).
    pub fn generation(&self) -> u64 {
        self.memo.generation.load(Ordering::Acquire)
    }

    /// What `compute` makes of the replica, as [`Db::read`] would, kept under `(what, key)`
    /// until the replica next changes: any write, local or a peer's, forgets it. `key` must
    /// name everything else the answer depends on (who asks, for whom, the day).
    ///
    /// Correct by order: the generation is read before the snapshot is taken, and bumped
    /// only after a write commits, so an answer kept under generation `g` saw at least
    /// every write before `g`; a write during `compute` makes a newer generation that never
    /// serves it.
    pub fn memo<T: Send + Sync + 'static>(
        &self,
        what: &'static str,
        key: String,
        compute: impl FnOnce(&Reader) -> Result<T, AppError>,
    ) -> Result<Arc<T>, AppError> {
        let generation = self.generation();
        let slot = (what, key);
        if let Some(value) = self.memo.answers.get(&slot, generation)
            && let Ok(value) = value.downcast::<T>()
        {
            return Ok(value);
        }
        let value = Arc::new(self.read(compute)?);
        self.memo.answers.put(slot, generation, value.clone(), 1);
        Ok(value)
    }
}

impl Readers {
    fn take(&self) -> Result<Reader, AppError> {
        if let Some(reader) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(reader);
        }
        Ok(match &self.at {
            Location::File(path) => Reader::open(path)?,
            Location::Postgres(url) => Reader::open_postgres(url)?,
        })
    }

    fn give_back(&self, reader: Reader) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(reader);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Db;

    /// A memo answers again without computing until the next write, local or a peer's
    /// (both go through `Db::run`), and then computes afresh.
    #[tokio::test]
    async fn a_memo_lasts_until_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("replica.db"), preau_sync::Scope::default()).unwrap();
        let computed = AtomicUsize::new(0);
        let read = |key: &str| {
            db.memo("test", key.to_owned(), |_| Ok(computed.fetch_add(1, Ordering::SeqCst))).map(|v| *v).unwrap()
        };
        assert_eq!((read("a"), read("a"), read("b")), (0, 0, 1), "kept per key");
        db.run(|_| Ok(())).await.unwrap();
        assert_eq!((read("a"), read("a")), (2, 2), "a write forgets every answer");
        db.run_blocking(|_| Ok(())).unwrap();
        assert_eq!(read("b"), 3);
        // A refused write may have written nothing, but forgetting costs one computation.
        let _ = db.run(|_| Err::<(), _>(crate::platform::error::AppError::NotFound)).await;
        assert_eq!(read("b"), 4);
    }
}
