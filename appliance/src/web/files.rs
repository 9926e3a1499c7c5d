//! Attached files over HTTP: as pages list them, as downloads, and as images in pages.

use preau_sync::kinds::Attachment;
use serde::Serialize;
use utoipa::ToSchema;

use super::Uncompressed;

/// An attached file as pages list it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Content hash (its address).
    pub hash: String,
    /// Name.
    pub name: String,
    /// Size in kilobytes, rounded up.
    pub kb: i64,
}

impl FileView {
    /// How a page lists an attached file.
    pub fn of(a: &Attachment) -> Self {
        Self { hash: a.hash.clone(), name: a.name.clone(), kb: (a.size + 1023) / 1024 }
    }
}

/// The response that hands a file to the browser: always as a download, never rendered.
pub fn download(attachment: &Attachment, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let encoded: String = attachment
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    let mut response = (
        [
            (header::CONTENT_TYPE, attachment.mime.clone()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{encoded}")),
        ],
        bytes,
    )
        .into_response();
    // Photos, PDFs and office files compress themselves; leave the appliance's CPU alone.
    response.extensions_mut().insert(Uncompressed);
    response
}

/// The response that shows an image in a page (only images; anything else downloads).
pub fn image(attachment: &Attachment, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    if !attachment.mime.starts_with("image/") {
        return download(attachment, bytes);
    }
    let mut response = (
        [(header::CONTENT_TYPE, attachment.mime.clone()), (header::CACHE_CONTROL, "private, max-age=86400".to_owned())],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(Uncompressed);
    response
}
