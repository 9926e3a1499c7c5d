//! The store's integration tests in a single test binary (one link instead of one per file).
//! The fuzz replay (`tests/fuzz_regressions.rs`) stays a binary of its own: `scripts/test`
//! also builds it in release, where these modules would cost more to optimise than the
//! extra debug link costs.

// proptest keeps these modules' regressions in `../proptest-regressions/` (beside the
// directory holding `main.rs`), not beside each file.
mod backend;
mod bad_input;
mod store_and_sync;
