//! A sorted key dictionary: keys front-coded in blocks of [`BLOCK`] against
//! the block's first key, found by a binary search over block heads and a
//! short scan; each key points at its postings.

use super::codec::{Reader, put_u32, put_varint, u32_at};

/// Keys per block: a lookup decodes at most this many keys.
const BLOCK: usize = 16;

/// Where a key's postings are, how many docs they hold and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub start: usize,
    pub len: usize,
    pub count: usize,
    pub dense: bool,
}

/// Writes sorted, distinct keys: `[blocks u32][block offsets u32...][entries]`.
pub(crate) fn write(keys: &[(&str, Entry)]) -> Vec<u8> {
    let blocks = keys.len().div_ceil(BLOCK);
    let mut entries = Vec::new();
    let mut offsets = Vec::with_capacity(blocks);
    for block in keys.chunks(BLOCK) {
        offsets.push(entries.len() as u32);
        let head = block.first().map_or("", |k| k.0);
        for (i, (key, e)) in block.iter().enumerate() {
            if i == 0 {
                put_varint(&mut entries, key.len() as u64);
                entries.extend_from_slice(key.as_bytes());
            } else {
                let lcp = head.bytes().zip(key.bytes()).take_while(|(a, b)| a == b).count();
                put_varint(&mut entries, lcp as u64);
                let rest = key.as_bytes().get(lcp..).unwrap_or_default();
                put_varint(&mut entries, rest.len() as u64);
                entries.extend_from_slice(rest);
            }
            put_varint(&mut entries, e.start as u64);
            put_varint(&mut entries, e.len as u64);
            put_varint(&mut entries, ((e.count as u64) << 1) | u64::from(e.dense));
        }
    }
    let mut out = Vec::with_capacity(4 + 4 * blocks + entries.len());
    put_u32(&mut out, blocks as u32);
    for o in offsets {
        put_u32(&mut out, o);
    }
    out.extend_from_slice(&entries);
    out
}

fn entry(r: &mut Reader<'_>) -> Option<Entry> {
    let start = r.usize()?;
    let len = r.usize()?;
    let c = r.varint()?;
    Some(Entry { start, len, count: usize::try_from(c >> 1).ok()?, dense: c & 1 == 1 })
}

/// The postings entry of `key`, if the dictionary holds it.
pub(crate) fn lookup(dict: &[u8], key: &str) -> Option<Entry> {
    let blocks = u32_at(dict, 0)? as usize;
    let table = dict.get(4..4 + blocks.checked_mul(4)?)?;
    let entries = dict.get(4 + blocks * 4..)?;
    let head = |b: usize| -> Option<&[u8]> {
        let mut r = Reader::at(entries, u32_at(table, b)? as usize);
        let n = r.usize()?;
        r.bytes(n)
    };
    // The last block whose head is <= key.
    let (mut lo, mut hi) = (0usize, blocks);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if head(mid)? <= key.as_bytes() {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let b = lo.checked_sub(1)?;
    let mut r = Reader::at(entries, u32_at(table, b)? as usize);
    let n = r.usize()?;
    let first = r.bytes(n)?;
    let e = entry(&mut r)?;
    if first == key.as_bytes() {
        return Some(e);
    }
    let want = key.as_bytes();
    for _ in 1..BLOCK {
        if r.is_empty() || Some(r.pos() as u32) == u32_at(table, b + 1) {
            return None;
        }
        let lcp = r.usize()?;
        let n = r.usize()?;
        let rest = r.bytes(n)?;
        let e = entry(&mut r)?;
        if want.len() == lcp + n && want.get(..lcp) == first.get(..lcp) && want.get(lcp..) == Some(rest) {
            return Some(e);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_and_nothing_else() {
        let mut keys: Vec<String> = (0..100).map(|i| format!("k{:03}", i * 7)).collect();
        keys.extend(["证", "证明", "身份", "身份证", "水", "水费"].map(String::from));
        keys.sort();
        let entries: Vec<(&str, Entry)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), Entry { start: i * 3, len: 3, count: i, dense: i % 2 == 0 }))
            .collect();
        let dict = write(&entries);
        for (k, e) in &entries {
            assert_eq!(lookup(&dict, k), Some(*e), "{k}");
        }
        for missing in ["", "a", "k001", "k700", "证件", "身", "zzz", "水费用"] {
            assert_eq!(lookup(&dict, missing), None, "{missing}");
        }
        assert_eq!(lookup(&write(&[]), "x"), None);
        assert_eq!(lookup(&dict[..10], "k007"), None);
    }
}
