//! A document as stored: loaded from its chunks, refusing anything a store does not write.
//! The store, the readers and bundles all load documents this one way.

use automerge::Automerge;

use crate::error::{Error, Result, without_panic};
use crate::ids::DocId;
use crate::kinds::{self, Kind};
use crate::replication::thin::only_document_and_change_chunks;
use crate::storage::{CatalogEntry, Tx};

/// The refusal of a stored document that cannot be read.
pub(crate) fn corrupt(id: DocId, e: impl ToString) -> Error {
    Error::CorruptDocument { id, reason: e.to_string() }
}

/// Loads a stored document from its chunks, or a document of `kind` not stored yet (its
/// genesis).
pub(crate) fn load(tx: &Tx<'_>, kind: Kind, stored: Option<&CatalogEntry>) -> Result<Automerge> {
    let Some(entry) = stored else { return Ok(kind.genesis()) };
    load_document(&tx.chunks(entry.id)?.concat()).map_err(|e| corrupt(entry.id, e))
}

/// Parses stored document bytes, refusing (never panicking on) anything a store does not
/// write: the database or a backup may have been damaged or tampered with.
pub fn load_document(bytes: &[u8]) -> std::result::Result<Automerge, String> {
    only_document_and_change_chunks(bytes)?;
    let options = automerge::LoadOptions::default().text_encoding(kinds::TEXT_ENCODING);
    without_panic(|| Automerge::load_with_options(bytes, options))?.map_err(|e| e.to_string())
}
