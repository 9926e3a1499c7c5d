//! The one storage boundary: the replica (`preau_sync::Store`, synchronous SQLite) is owned
//! here and every read or write runs off the async runtime, one at a time, through [`Db::run`].

use std::sync::{Arc, Mutex};

use preau_sync::{Scope, Store};

use crate::error::AppError;

/// The replica, shared by every request.
#[derive(Clone)]
pub struct Db {
    store: Arc<Mutex<Store>>,
}

impl Db {
    /// Opens (or creates) the replica.
    pub fn open(path: &std::path::Path, scope: Scope) -> preau_sync::Result<Self> {
        Ok(Self { store: Arc::new(Mutex::new(Store::open(path, scope)?)) })
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
}
