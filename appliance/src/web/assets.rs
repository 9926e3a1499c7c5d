//! Static assets (CSS, icons, pictures), embedded in the binary.

use super::Routes;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../ui/static"]
#[exclude = "*.md"]
struct Static;

pub(super) fn routes() -> Routes {
    Routes::new().get("/static/{*path}", asset)
}

/// An asset's bytes and content type (for measurements).
pub fn get_asset(path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, String)> {
    let file = Static::get(path)?;
    let mime = file.metadata.mimetype().to_owned();
    Some((file.data, mime))
}

async fn asset(Path(path): Path<String>) -> Response {
    match Static::get(&path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                // Assets change only with the binary; an hour keeps old tablets fast.
                (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
