//! Préau's server: the school appliance (and, later, the academy hub). Only this crate
//! knows HTTP and HTML; the replicated store is `preau-sync`.

/// Prints a line on standard output for the command line. `println!` panics when the
/// reader went away (`preau import onde … | head`); this ends the program quietly instead.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::print_line(format_args!($($arg)*)) };
}

/// The body of [`out!`].
pub fn print_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("preau: cannot write the output: {e}");
        std::process::exit(1);
    }
}

pub mod academy;
pub mod app;
pub mod notify;
pub mod platform;
pub mod replication;
pub mod school;
pub mod services;
pub mod web;
