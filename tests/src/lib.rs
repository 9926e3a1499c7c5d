//! `preau-tests`: cross-crate integration tests and the deterministic replication simulator.

pub mod e2e;
pub mod sim;
