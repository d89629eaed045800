//! Per-document columns, read without decoding a record.
//!
//! Briefs: one little-endian u32 per doc, the word of its [`Brief`]
//! (chars: the compact name's characters, [`UNKNOWN_CHARS`] when 255 or
//! more). Pinyin: three arrays, each doc's signature of its name's full
//! pinyin (two u64, one bit per run of three bytes), of its initials (u64,
//! one bit per pair), then the first eight bytes of its full pinyin (u64,
//! zero-padded). A string holding `q` has every bit of `q`'s signature.

use super::codec::{u32_at, u64_at};
use crate::index::Brief;

#[inline(always)]
pub(crate) fn brief_at(col: &[u8], id: u32) -> Option<Brief> {
    u32_at(col, id as usize).map(Brief::from_word)
}

/// One bit per run of `n` adjacent bytes, in 64 bits.
pub(crate) fn signature(s: &[u8], n: usize) -> u64 {
    wide_signature(s, n, 6) as u64
}

/// One bit per run of `n` adjacent bytes, in `1 << bits` bits (at most 128).
pub(crate) fn wide_signature(s: &[u8], n: usize, bits: u32) -> u128 {
    s.windows(n).fold(0u128, |sig, w| {
        let h = w.iter().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b)));
        sig | 1u128 << (h.wrapping_mul(0x9E37_79B1) >> (32 - bits))
    })
}

/// Bytes of the full pinyin kept in the head column.
pub(crate) const HEAD: usize = 8;

/// The first [`HEAD`] bytes, zero-padded, as a little-endian u64.
pub(crate) fn head(s: &[u8]) -> u64 {
    let mut b = [0u8; HEAD];
    b.iter_mut().zip(s).for_each(|(d, s)| *d = *s);
    u64::from_le_bytes(b)
}

/// Whether doc `id`'s full pinyin starts with `q` (at most [`HEAD`] bytes).
pub(crate) fn head_starts_with(col: &[u8], docs: usize, id: u32, q: &[u8]) -> Option<bool> {
    if q.is_empty() || q.len() > HEAD {
        return None;
    }
    let h = u64_at(col, docs * 24 + id as usize * 8)?;
    let mask = u64::MAX >> (8 * (HEAD - q.len()));
    Some(h & mask == head(q))
}

/// Docs whose full pinyin may start with (`q` under 4 bytes) or hold `q`,
/// or whose initials may hold it, in doc order.
pub(crate) fn pinyin_may_match(col: &[u8], docs: usize, q: &[u8]) -> Vec<u32> {
    let (full_sig, sig) = (wide_signature(q, 3, 7), signature(q, 2));
    let (full_lo, full_hi) = (full_sig as u64, (full_sig >> 64) as u64);
    let init_at = docs * 16;
    let short = q.len() < 4;
    let (want, mask) = (head(q), u64::MAX >> (8 * (HEAD - q.len().min(HEAD))));
    let mut out = Vec::new();
    for id in 0..docs {
        let full = if short {
            u64_at(col, docs * 24 + id * 8).is_some_and(|h| h & mask == want)
        } else {
            u64_at(col, id * 16).is_some_and(|s| s & full_lo == full_lo)
                && u64_at(col, id * 16 + 8).is_some_and(|s| s & full_hi == full_hi)
        };
        if full || u64_at(col, init_at + id * 8).is_some_and(|s| s & sig == sig) {
            out.push(id as u32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_every_substring_signature() {
        let full = b"juzhuzhengshenqing000123";
        for n in [2, 3] {
            for (i, j) in [(0, 4), (2, 9), (5, 24), (10, 13)] {
                let s = signature(&full[i..j], n);
                assert_eq!(signature(full, n) & s, s);
            }
        }
        assert_eq!(signature(b"ab", 3), 0);
        assert_eq!(head(b"ab"), u64::from_le_bytes(*b"ab\0\0\0\0\0\0"));
        let mut col = vec![0u8; 24];
        col.extend_from_slice(&head(b"shuibiao12").to_le_bytes());
        assert_eq!(head_starts_with(&col, 1, 0, b"shuibiao"), Some(true));
        assert_eq!(head_starts_with(&col, 1, 0, b"shuibiap"), Some(false));
        assert_eq!(head_starts_with(&col, 1, 0, b"shuibiao1"), None);
    }
}
