//! The cross-crate tests in a single test binary (one link of the whole stack instead of one
//! per file): `cargo test -p preau-tests --test it browser::` runs one module.

mod browser;
mod crash;
mod simulation;
