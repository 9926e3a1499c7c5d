//! ONDE import.

pub mod parse;
