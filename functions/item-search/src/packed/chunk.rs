//! Splitting a blob into KV-sized chunks and joining them back.
//!
//! Chunk: a 40-byte header (magic `BMCK`, index u32, count u32, payload
//! length u32, blob length u64, blob id u64 = the blob's checksum, payload
//! checksum u64) then the payload. Joining refuses a missing, repeated,
//! reordered or foreign chunk; a damaged payload fails the blob's own
//! checksum when it loads (the payload checksums are not read again: one
//! pass over the bytes, not two, in a cold isolate).

use super::blob::Packed;
use super::codec::{HEADER, checksum, put_u32, put_u64, u32_at, u64_at};
use super::error::PackError;

const MAGIC: &[u8; 4] = b"BMCK";
/// Bytes of a chunk's header.
pub const CHUNK_HEADER: usize = 40;
/// Cloudflare KV's limit on one value.
pub const KV_VALUE_LIMIT: usize = 25 * 1024 * 1024;
/// The chunk size to store with: a 100,000-item index (~20 MiB) is three
/// reads, each far under the KV limit, and joining holds at most one chunk
/// beside the growing blob (a smaller size means more reads, a larger one
/// more transient memory in a 128 MB isolate and less room to grow).
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// Splits a blob into chunks of at most `max` bytes each, header included
/// (`max` is held between one payload byte and [`KV_VALUE_LIMIT`]).
pub fn chunks(blob: &[u8], max: usize) -> Vec<Vec<u8>> {
    (0..chunk_count(blob.len(), max)).map(|i| chunk(blob, i, max)).collect()
}

/// How many chunks of at most `max` bytes [`chunks`] cuts `len` bytes into.
pub fn chunk_count(len: usize, max: usize) -> usize {
    len.div_ceil(payload(max)).max(1)
}

/// The payload of a chunk of at most `max` bytes.
fn payload(max: usize) -> usize {
    max.clamp(CHUNK_HEADER + 1, KV_VALUE_LIMIT) - CHUNK_HEADER
}

/// Chunk `i` of [`chunks`] alone: the cron stores one at a time, so the
/// blob and one chunk are held at once, not the blob and all of them.
pub fn chunk(blob: &[u8], i: usize, max: usize) -> Vec<u8> {
    let (payload, count) = (payload(max), chunk_count(blob.len(), max));
    // The blob's own checksum identifies it; a blob too short to hold one
    // is identified by a checksum of its bytes.
    let id = u64_at(blob, 32).filter(|_| blob.len() >= HEADER).unwrap_or_else(|| checksum(&[blob]));
    let part = blob.get(i * payload..((i + 1) * payload).min(blob.len())).unwrap_or_default();
    let mut c = Vec::with_capacity(CHUNK_HEADER + part.len());
    c.extend_from_slice(MAGIC);
    put_u32(&mut c, i as u32);
    put_u32(&mut c, count as u32);
    put_u32(&mut c, part.len() as u32);
    put_u64(&mut c, blob.len() as u64);
    put_u64(&mut c, id);
    put_u64(&mut c, checksum(&[part]));
    c.extend_from_slice(part);
    c
}

fn bad(m: impl Into<String>) -> PackError {
    PackError::Chunks(m.into())
}

/// Joins chunks, in order, into the blob they were cut from.
pub fn join(chunks: &[impl AsRef<[u8]>]) -> Result<Vec<u8>, PackError> {
    let first = chunks.first().ok_or_else(|| bad("no chunks"))?.as_ref();
    let total = u64_at(first, 16).ok_or(PackError::Truncated)?;
    let total = usize::try_from(total).map_err(|_| bad("blob too large"))?;
    let id = u64_at(first, 24).ok_or(PackError::Truncated)?;
    let mut blob = Vec::with_capacity(total.min(chunks.len().saturating_mul(KV_VALUE_LIMIT)));
    for (i, c) in chunks.iter().enumerate() {
        let c = c.as_ref();
        if c.len() < CHUNK_HEADER {
            return Err(PackError::Truncated);
        }
        if c.get(..4) != Some(MAGIC.as_slice()) {
            return Err(PackError::BadMagic);
        }
        let field32 = |k| u32_at(c, k).ok_or(PackError::Truncated);
        let (index, count, len) = (field32(1)? as usize, field32(2)? as usize, field32(3)? as usize);
        if count != chunks.len() {
            return Err(bad(format!("{} chunks of {count}", chunks.len())));
        }
        if index != i {
            return Err(bad(format!("chunk {index} where {i} belongs")));
        }
        if u64_at(c, 16) != Some(total as u64) || u64_at(c, 24) != Some(id) {
            return Err(bad(format!("chunk {i} is from another blob")));
        }
        let payload = c.get(CHUNK_HEADER..).unwrap_or_default();
        if payload.len() != len {
            return Err(PackError::Truncated);
        }
        blob.extend_from_slice(payload);
    }
    if blob.len() != total {
        return Err(bad(format!("{} bytes of {total}", blob.len())));
    }
    Ok(blob)
}

impl Packed<'static> {
    /// Joins chunks (see [`join`]) and loads the result.
    pub fn from_chunks(chunks: &[impl AsRef<[u8]>]) -> Result<Packed<'static>, PackError> {
        Self::load_owned(join(chunks)?)
    }
}
