//! Resumable transfers: partial files that grow at a byte offset (uploads, tus-style) and
//! byte ranges of whole files (downloads, HTTP `Range`).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;

use super::Refused;

/// How far a partial file has got (0 when it does not exist).
pub fn offset(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Appends `chunk` to the partial file at `path`, which must be exactly `at` bytes long,
/// without growing it past `total`. The bytes are synced before the new offset is
/// answered, so an acknowledged offset survives a crash.
pub fn append(path: &Path, at: u64, chunk: &[u8], total: u64) -> Result<u64, Refused> {
    let have = offset(path);
    if at != have {
        return Err(Refused::new(StatusCode::CONFLICT, "offset", format!("upload is at {have}, not {at}")));
    }
    if at + chunk.len() as u64 > total {
        return Err(Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("{} bytes at {at} go past the announced length {total}", chunk.len()),
        ));
    }
    let io = |e: std::io::Error| {
        Refused::from(crate::platform::error::AppError::Internal(format!("{}: {e}", path.display())))
    };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
    file.write_all(chunk).map_err(io)?;
    file.sync_data().map_err(io)?;
    Ok(at + chunk.len() as u64)
}

/// Whether the partial file at `path` is complete and has the announced hash; a complete
/// file with another hash is deleted (its sender starts over).
pub fn verify(path: &Path, len: u64, hash: &[u8; 32]) -> Result<bool, Refused> {
    if offset(path) != len {
        return Ok(false);
    }
    // Up to a 32 MiB bundle or a video read and hashed: never on an async worker.
    let hasher = crate::platform::blocking::offload(|| -> Result<blake3::Hasher, crate::platform::error::AppError> {
        let file = std::fs::File::open(path).map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(file).map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
        Ok(hasher)
    })?;
    if hasher.finalize().as_bytes() != hash {
        let _ = std::fs::remove_file(path);
        return Err(Refused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hash",
            "the received bytes do not have the announced hash",
        ));
    }
    Ok(true)
}

/// Parses a single `Range: bytes=a-b` or `bytes=a-` for a body of `len` bytes; returns the
/// inclusive range, clamped to the body (`None`: not satisfiable or not understood).
pub fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => len.checked_sub(1)?,
        e => e.parse::<u64>().ok()?.min(len.checked_sub(1)?),
    };
    (start <= end).then_some((start, end))
}

/// Reads bytes `start..=end` of a file.
pub fn read_range(path: &Path, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((end - start + 1) as usize);
    file.take(end - start + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Deletes the files of `dir` not modified for `max_age` (abandoned partial transfers);
/// returns how many.
pub fn sweep(dir: &Path, max_age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let now = SystemTime::now();
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.metadata().and_then(|m| m.modified()).is_ok_and(|t| now.duration_since(t).unwrap_or_default() > max_age)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_grow_only_at_their_end_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.part");
        let data = b"hello, world";
        let hash = *blake3::hash(data).as_bytes();
        assert_eq!(append(&path, 0, &data[..5], 12).unwrap(), 5);
        assert_eq!(append(&path, 0, &data[..5], 12).unwrap_err().code, "offset");
        assert_eq!(append(&path, 5, &data[5..], 9).unwrap_err().code, "too-large");
        assert!(!verify(&path, 12, &hash).unwrap());
        assert_eq!(append(&path, 5, &data[5..], 12).unwrap(), 12);
        assert!(verify(&path, 12, &hash).unwrap());
        assert_eq!(read_range(&path, 7, 11).unwrap(), b"world");
        assert_eq!(verify(&path, 12, &[0; 32]).unwrap_err().code, "hash");
        assert!(!path.exists(), "a corrupt upload is dropped");

        assert_eq!(parse_range("bytes=0-", 12), Some((0, 11)));
        assert_eq!(parse_range("bytes=4-7", 12), Some((4, 7)));
        assert_eq!(parse_range("bytes=4-700", 12), Some((4, 11)));
        assert_eq!(parse_range("bytes=12-", 12), None);
        assert_eq!(parse_range("bytes=-5", 12), None);
        assert_eq!(parse_range("items=0-1", 12), None);
        assert_eq!(parse_range("bytes=0-", 0), None);

        std::fs::write(dir.path().join("old"), b"x").unwrap();
        assert_eq!(sweep(dir.path(), Duration::from_secs(3600)), 0);
        assert_eq!(sweep(dir.path(), Duration::ZERO), 1);
    }
}
