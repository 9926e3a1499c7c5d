//! Framing of every replication message: magic, version, lengths, checksum, zstd body.
//!
//! ```text
//! 0..8    magic "PREAUSYN"
//! 8       format version (1)
//! 9..13   body length before compression (u32 LE)
//! 13..17  compressed length (u32 LE)
//! 17..49  BLAKE3 of the compressed bytes
//! 49..    zstd-compressed body
//! ```
//! Lengths are checked against limits before anything is allocated or decompressed.

use crate::error::Refusal;

const MAGIC: &[u8; 8] = b"PREAUSYN";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 49;
const ZSTD_LEVEL: i32 = 19;

/// Largest frame accepted on the wire.
pub const MAX_FRAME_BYTES: u64 = 64 << 20;
/// Largest body accepted after decompression (bounds a compression bomb).
pub const MAX_BODY_BYTES: u64 = 256 << 20;

/// Compresses and frames `body`.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let compressed = zstd::bulk::compress(body, ZSTD_LEVEL).expect("zstd compression of an in-memory buffer");
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
    out.extend_from_slice(blake3::hash(&compressed).as_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// Checks and decompresses a frame, returning its body.
pub fn decode(frame: &[u8]) -> Result<Vec<u8>, Refusal> {
    if frame.len() as u64 > MAX_FRAME_BYTES {
        return Err(Refusal::Oversized { size: frame.len() as u64, limit: MAX_FRAME_BYTES });
    }
    if frame.len() < HEADER_LEN {
        return Err(Refusal::Truncated { len: frame.len() });
    }
    if &frame[..8] != MAGIC || frame[8] != VERSION {
        return Err(Refusal::BadMagic);
    }
    let body_len = u32_at(frame, 9) as u64;
    let compressed_len = u32_at(frame, 13) as usize;
    if body_len > MAX_BODY_BYTES {
        return Err(Refusal::Oversized { size: body_len, limit: MAX_BODY_BYTES });
    }
    let compressed = &frame[HEADER_LEN..];
    if compressed.len() < compressed_len {
        return Err(Refusal::Truncated { len: frame.len() });
    }
    if compressed.len() > compressed_len {
        return Err(Refusal::Malformed(format!("{} trailing bytes", compressed.len() - compressed_len)));
    }
    if blake3::hash(compressed).as_bytes() != &frame[17..49] {
        return Err(Refusal::Checksum);
    }
    let body =
        zstd::bulk::decompress(compressed, body_len as usize).map_err(|e| Refusal::Malformed(format!("zstd: {e}")))?;
    if body.len() as u64 != body_len {
        return Err(Refusal::Malformed(format!("body is {} bytes, header says {body_len}", body.len())));
    }
    Ok(body)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_typed_refusals() {
        let body = b"bonjour la classe".repeat(50);
        let frame = encode(&body);
        assert_eq!(decode(&frame).unwrap(), body);

        assert!(matches!(decode(&frame[..20]), Err(Refusal::Truncated { .. })));
        assert!(matches!(decode(&frame[..frame.len() - 1]), Err(Refusal::Truncated { .. })));
        let mut bad = frame.clone();
        bad[0] = b'X';
        assert_eq!(decode(&bad), Err(Refusal::BadMagic));
        let mut bad = frame.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&bad), Err(Refusal::Checksum));
        let mut bad = frame.clone();
        bad[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&bad), Err(Refusal::Oversized { .. })));
        let mut bad = frame;
        bad.push(0);
        assert!(matches!(decode(&bad), Err(Refusal::Malformed(_))));
    }
}
