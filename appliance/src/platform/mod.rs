//! What every part of the server stands on and that knows nothing of schools: settings, the
//! replica handle, errors, messages, text checks, files, QR codes, rate limits, discovery,
//! the clock and the server's socket.

pub mod blocking;
pub mod clock;
pub mod config;
pub mod db;
pub mod discovery;
pub mod error;
pub mod files;
pub mod i18n;
pub mod net;
pub mod qr;
pub mod ratelimit;
pub mod records;
pub mod server;
pub mod shelf;
pub mod text;

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}
