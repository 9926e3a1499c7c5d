//! `preau-desktop`: the desktop app (see the library's documentation).

// No console window behind the app on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    preau_desktop::run();
}
