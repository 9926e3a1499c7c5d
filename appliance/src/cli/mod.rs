//! Commands of the `preau` binary that are not the server: benchmarks and a manual sync.

pub mod bench;
pub mod sync;
