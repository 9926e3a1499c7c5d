//! Files attached to documents: references (hash, name, type, size) to content-addressed
//! blobs, and their form in a read-model cell. Every kind that attaches files uses these.

use autosurgeon::{Hydrate, Reconcile};

/// A file attached to a document (an entry, a message, a news post): a reference to a
/// content-addressed blob.
#[derive(Clone, Debug, Default, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Attachment {
    /// BLAKE3 of the bytes, lowercase hex.
    pub hash: String,
    /// File name as uploaded.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Bytes.
    pub size: i64,
}

/// Attachments as one read-model cell: `hash|size|mime|name` lines (names cannot hold a
/// newline; the hash, size and mime cannot hold a `|`).
pub fn attachments_cell(attachments: &[Attachment]) -> String {
    attachments.iter().map(|a| format!("{}|{}|{}|{}", a.hash, a.size, a.mime, a.name)).collect::<Vec<_>>().join("\n")
}

/// Parses [`attachments_cell`].
pub fn parse_attachments_cell(cell: &str) -> Vec<Attachment> {
    cell.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(4, '|');
            Some(Attachment {
                hash: parts.next()?.to_owned(),
                size: parts.next()?.parse().ok()?,
                mime: parts.next()?.to_owned(),
                name: parts.next()?.to_owned(),
            })
        })
        .collect()
}
