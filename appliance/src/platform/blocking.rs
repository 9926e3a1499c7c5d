//! Work that blocks a thread — a disk sync of `links.db`, hashing a 32 MiB bundle or a video —
//! run so that it never holds up the async runtime's workers.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `f`, which blocks, from async code: on the multi-threaded runtime the server runs
/// on, the calling worker first hands its other tasks to a fresh worker and becomes a
/// blocking thread for the call (`tokio::task::block_in_place`), so requests keep being
/// served. Elsewhere (command-line tools, single-threaded test runtimes) it simply runs.
///
/// Chosen over `spawn_blocking` for calls with borrowed arguments, spread over dozens of
/// call sites (every `links.db` statement): no copy of the arguments, no `'static` bound,
/// and the same guarantee for the runtime.
pub fn offload<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
