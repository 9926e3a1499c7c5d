//! The one storage boundary of the replica (`preau_sync`, synchronous SQLite). Writes go
//! through [`Db::run`]: one writer, off the async runtime, one change at a time. Page and
//! API reads go through [`Db::read`]: a pooled read-only connection whose snapshot never
//! waits for the writer, even while it applies a 24 MiB bundle (SQLite WAL).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use preau_sync::{Reader, Scope, Store};

use crate::platform::error::AppError;

/// Idle read-only connections kept for reuse; more open while more readers run at once.
/// Each keeps SQLite's default page cache (2 MB at most).
const IDLE_READERS: usize = 8;

/// The replica, shared by every request.
#[derive(Clone)]
pub struct Db {
    store: Arc<Mutex<Store>>,
    readers: Arc<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
}

impl Db {
    /// Opens (or creates, and migrates) the replica.
    pub fn open(path: &Path, scope: Scope) -> preau_sync::Result<Self> {
        let store = Store::open(path, scope)?;
        let readers = Readers { path: path.to_owned(), idle: Mutex::default() };
        Ok(Self { store: Arc::new(Mutex::new(store)), readers: Arc::new(readers) })
    }

    /// Runs `f` with the store on a blocking thread. Calls are serialized: the store is a
    /// single writer, and its transactions are short.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside a closure leaves no half-done transaction (SQLite rolls it
            // back), so a poisoned lock still guards a sound store.
            let mut store = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut store)
        })
        .await
        .map_err(|e| AppError::Internal(format!("storage task failed: {e}")))?
    }

    /// Runs `f` with the store on the current thread (start-up and command-line tools).
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, AppError>) -> Result<T, AppError> {
        let mut store = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut store)
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

impl Readers {
    fn take(&self) -> Result<Reader, AppError> {
        if let Some(reader) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(reader);
        }
        Ok(Reader::open(&self.path)?)
    }

    fn give_back(&self, reader: Reader) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(reader);
        }
    }
}
