//! The appliance's integration tests, one module per subject, in a single test binary: each
//! file used to be its own binary linking the whole stack, and linking dominated a cold run
//! on two cores. `cargo test -p preau-appliance --test it agenda::` runs one module.

mod common;

mod agenda;
mod api;
mod authorization;
mod cli;
mod console;
mod desktop;
mod discovery;
mod fuzz_regressions;
mod homework;
mod hub;
mod liaison;
mod messaging;
mod network;
mod news;
mod notify;
mod onde_import;
mod replication;
mod schemathesis;
mod server;
mod stateless;
mod two_replicas;
mod wire;
