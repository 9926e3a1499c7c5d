//! The classroom services, one folder each: its domain functions, its rule, its pages, its
//! JSON API and its views. They stand on `platform`, `web` and `school`, never on each other.

pub mod agenda;
pub mod commune;
pub mod homework;
pub mod liaison;
pub mod messaging;
pub mod news;
