//! Attached files: content-addressed blobs under `<data dir>/files/`, named by the BLAKE3
//! hash of their bytes. Documents only hold references (hash, name, type, size); the
//! network issue moves the blobs between replicas, verified by that hash.

use std::io::Write;
use std::path::PathBuf;

use preau_sync::kinds::Attachment;

use crate::platform::error::AppError;

/// The blob store.
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
}

/// Media types served as themselves; anything else is served as bytes to download.
const KNOWN_TYPES: [&str; 7] =
    ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "audio/mpeg"];

impl FileStore {
    /// The store in `dir` (created when missing).
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        is_hash(hash).then(|| self.dir.join(&hash[..2]).join(hash))
    }

    /// Stores a file once whatever its name; returns its reference.
    pub async fn put(&self, name: &str, mime: &str, bytes: Vec<u8>) -> Result<Attachment, AppError> {
        let hash = super::blocking::offload(|| blake3::hash(&bytes).to_hex().to_string());
        let path = self.path(&hash).expect("a fresh hash is valid");
        let attachment =
            Attachment { hash, name: file_name(name), mime: media_type_of(name, mime), size: bytes.len() as i64 };
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if path.exists() {
                return Ok(());
            }
            let dir = path.parent().expect("under the store");
            std::fs::create_dir_all(dir)?;
            // Written whole, synced, then renamed: a crash never leaves half a file under its hash.
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            tmp.write_all(&bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(|e| AppError::Internal(format!("file task: {e}")))?
        .map_err(|e| AppError::Internal(format!("storing a file: {e}")))?;
        Ok(attachment)
    }

    /// Where a file is (or would be) kept.
    pub fn path_of(&self, hash: &str) -> Option<PathBuf> {
        self.path(hash)
    }

    /// Whether this replica holds a file.
    pub fn has(&self, hash: &str) -> bool {
        self.path(hash).is_some_and(|p| p.exists())
    }

    /// Moves a received file, already checked against `hash`, into the store.
    pub async fn adopt(&self, hash: &str, received: &std::path::Path) -> Result<(), AppError> {
        let path = self.path(hash).ok_or_else(|| AppError::Internal(format!("bad hash {hash:?}")))?;
        let received = received.to_owned();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(path.parent().expect("under the store"))?;
            std::fs::rename(&received, &path)
        })
        .await
        .map_err(|e| AppError::Internal(format!("file task: {e}")))?
        .map_err(|e| AppError::Internal(format!("storing a received file: {e}")))
    }

    /// A file's bytes, if this replica holds them.
    pub async fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, AppError> {
        let Some(path) = self.path(hash) else { return Ok(None) };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AppError::Internal(format!("reading {}: {e}", path.display()))),
        }
    }
}

/// Whether `s` is a BLAKE3 hash in lowercase hex.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A file name as kept: its last path part, no control characters nor `|`, 100 characters.
pub fn file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control() && *c != '|').take(100).collect();
    if clean.trim().is_empty() { "fichier".into() } else { clean.trim().to_owned() }
}

/// A media type as kept: one of the known ones, else `application/octet-stream`.
pub fn media_type(mime: &str) -> String {
    let m = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if KNOWN_TYPES.contains(&m.as_str()) { m } else { "application/octet-stream".into() }
}

/// The media type of an upload: the browser's when known, else from the name's extension
/// (some browsers send every file as `application/octet-stream`).
pub fn media_type_of(name: &str, mime: &str) -> String {
    let given = media_type(mime);
    if given != "application/octet-stream" {
        return given;
    }
    let ext = name.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    let guessed = match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    };
    guessed.to_owned()
}

/// Whether a stored reference is well formed (what a peer sends is checked too).
pub fn is_reference(a: &Attachment) -> bool {
    is_hash(&a.hash) && a.size >= 0 && a.name == file_name(&a.name) && a.mime == media_type(&a.mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_are_kept_harmless() {
        assert_eq!(file_name("C:\\Users\\moi\\fiche n°3.pdf"), "fiche n°3.pdf");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a|b\nc"), "abc");
        assert_eq!(file_name(""), "fichier");
        assert_eq!(media_type("image/PNG; charset=x"), "image/png");
        assert_eq!(media_type("text/html"), "application/octet-stream");
        assert!(is_hash(&"a".repeat(64)) && !is_hash("../x") && !is_hash(&"A".repeat(64)));
    }
}
