//! Byte-level encoding: LEB128 varints, little-endian integers, a checksum.

/// Bytes of a blob's header (magic, format, catalogue version, part lengths, checksum).
pub(crate) const HEADER: usize = 40;
/// Most posting classes: a dense posting holds `class + 1` in a nibble.
pub(crate) const MAX_CLASSES: usize = 15;

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A length-prefixed UTF-8 string.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Element `i` of an array of little-endian u32.
#[inline(always)]
pub(crate) fn u32_at(buf: &[u8], i: usize) -> Option<u32> {
    let b = buf.get(i.checked_mul(4)?..i.checked_mul(4)?.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

#[inline(always)]
pub(crate) fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// A forward reader that answers `None` past the end or on a bad varint.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    #[inline]
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }

    pub(crate) fn u32v(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    pub(crate) fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let v = u32_at(self.buf.get(self.pos..)?, 0)?;
        self.pos += 4;
        Some(v)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let v = u64_at(self.buf, self.pos)?;
        self.pos += 8;
        Some(v)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    /// A length-prefixed string (validated: only for small tables).
    pub(crate) fn string(&mut self) -> Option<String> {
        let n = self.usize()?;
        std::str::from_utf8(self.bytes(n)?).ok().map(str::to_owned)
    }
}

/// A fast 64-bit checksum of the bytes (catches truncation and bit rot,
/// not tampering: the blob comes from our own KV namespace).
pub(crate) fn checksum(parts: &[&[u8]]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x5142_4D50_4B49_4458;
    let mut len: u64 = 0;
    for part in parts {
        len += part.len() as u64;
        let words = part.chunks_exact(8);
        let tail = words.remainder();
        for w in words {
            let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
            h = (h.rotate_left(23) ^ w).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        for (d, s) in last.iter_mut().zip(tail) {
            *d = *s;
        }
        h = (h.rotate_left(23) ^ u64::from_le_bytes(last) ^ (tail.len() as u64) << 56).wrapping_mul(K);
    }
    h ^= len;
    h ^= h >> 31;
    h = h.wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_refuse_overlong_input() {
        let mut out = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            put_varint(&mut out, v);
        }
        let mut r = Reader::new(&out);
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(r.varint(), Some(v));
        }
        assert!(r.is_empty() && r.varint().is_none());
        assert_eq!(Reader::new(&[0xff; 11]).varint(), None);
        assert_eq!(Reader::new(&[0x80]).varint(), None);
    }

    #[test]
    fn checksum_sees_a_flipped_bit_and_a_moved_boundary() {
        let a = b"0123456789abcdefghij".to_vec();
        let mut b = a.clone();
        b[13] ^= 4;
        assert_ne!(checksum(&[&a]), checksum(&[&b]));
        assert_ne!(checksum(&[&a]), checksum(&[&a[..19]]));
        assert_eq!(checksum(&[&a]), checksum(&[&a]));
    }
}
