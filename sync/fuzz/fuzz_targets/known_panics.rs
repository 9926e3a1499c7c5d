//! Panic handling for the targets whose code under test catches panics itself.
//!
//! libFuzzer's panic hook aborts at the panic, before unwinding, so a panic that the code
//! under test deliberately catches (`apply_doc` turns an Automerge panic on a peer's
//! changes into a refusal) would still count as a crash. [`run`] replaces that hook: a
//! panic unwinds as it does in production, and only one that escapes the code under test
//! aborts the process (printing its message and backtrace), which libFuzzer records as a
//! crash. Panics caught inside are counted and their locations logged (at powers of two).
//!
//! `PREAU_FUZZ_KNOWN_PANICS` (optional) is a comma-separated list of substrings of panic
//! locations (`file:line`, e.g. `hexane-1.0.0-alpha.5/src/lib.rs:354`): an escaping panic
//! at a listed location is counted instead of aborting, so that a run can look for other
//! bugs past a known crasher (which must still be kept under
//! `tests/fuzz_regressions/<target>/`). Unset, every escaping panic is a crash.

use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, Once, OnceLock};

struct Panicked {
    at: String,
    message: String,
    backtrace: Backtrace,
}

thread_local! {
    static LAST: RefCell<Option<Panicked>> = const { RefCell::new(None) };
}

fn known() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        std::env::var("PREAU_FUZZ_KNOWN_PANICS")
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    })
}

/// Counts a panic by location and logs the location at powers of two.
fn count(kind: &str, at: &str) {
    static COUNTS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let mut counts = COUNTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let n = counts.entry(format!("{kind} {at}")).or_insert(0);
    *n += 1;
    if n.is_power_of_two() {
        eprintln!("[panics] {kind} at {at}: {n}");
    }
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Drop libFuzzer's aborting hook; record the panic for `run` instead.
        let _ = panic::take_hook();
        panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let backtrace = Backtrace::force_capture();
            LAST.with(|last| *last.borrow_mut() = Some(Panicked { at, message, backtrace }));
        }));
    });
}

/// Runs one input. `None` if a known panic escaped it; any other escaping panic aborts.
pub fn run<R>(f: impl FnOnce() -> R) -> Option<R> {
    install();
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let last = LAST.with(|last| last.borrow_mut().take());
    match result {
        Ok(r) => {
            if let Some(p) = last {
                count("caught inside", &p.at);
            }
            Some(r)
        }
        Err(_) => {
            let p = last.unwrap_or(Panicked {
                at: "?".into(),
                message: "?".into(),
                backtrace: Backtrace::disabled(),
            });
            if known().iter().any(|k| p.at.contains(k.as_str())) {
                count("known, escaped", &p.at);
                return None;
            }
            eprintln!("panicked at {}:\n{}\nstack backtrace:\n{}", p.at, p.message, p.backtrace);
            std::process::abort();
        }
    }
}
