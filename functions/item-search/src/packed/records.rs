//! Per-document records and the code table, as written.
//!
//! A record (binary part) holds the document's small fields and the lengths
//! of its strings, which lie together in the text part:
//! `[text start u32][flags u8][cat][dept][n tags][tag...][n halls][hall...]`
//! `[name len][compact len][pinyin len][initials len][n spaces][space...]`
//! (varints after the first two). Strings: name, compact name, pinyin,
//! initials. A space is where the normalised name has one, as a byte offset
//! into the compact name. Codes are front-coded in blocks of [`CODE_BLOCK`]
//! against each block's first code (docs are in code order).

use super::codec::{put_u32, put_varint};

pub(crate) const CODE_BLOCK: usize = 16;
pub(crate) const ONLINE: u8 = 1;
pub(crate) const APPOINTMENT: u8 = 2;

/// The fields of one record, for writing.
pub(crate) struct Record<'a> {
    pub text_start: u32,
    pub flags: u8,
    pub cat: u16,
    pub dept: u32,
    pub tags: &'a [u32],
    pub halls: &'a [u32],
    pub lens: [usize; 4],
    pub spaces: &'a [usize],
}

pub(crate) fn write_record(out: &mut Vec<u8>, r: &Record<'_>) {
    put_u32(out, r.text_start);
    out.push(r.flags);
    put_varint(out, u64::from(r.cat));
    put_varint(out, u64::from(r.dept));
    for list in [r.tags, r.halls] {
        put_varint(out, list.len() as u64);
        for v in list {
            put_varint(out, u64::from(*v));
        }
    }
    for l in r.lens {
        put_varint(out, l as u64);
    }
    put_varint(out, r.spaces.len() as u64);
    for s in r.spaces {
        put_varint(out, *s as u64);
    }
}

/// Front-codes sorted codes: `[block offsets u32...][entries]`.
pub(crate) fn write_codes<'a>(codes: impl ExactSizeIterator<Item = &'a str>) -> Vec<u8> {
    let n = codes.len();
    let blocks = n.div_ceil(CODE_BLOCK);
    let mut entries = Vec::new();
    let mut offsets = Vec::with_capacity(blocks);
    let mut head = "";
    for (i, code) in codes.enumerate() {
        if i % CODE_BLOCK == 0 {
            offsets.push(entries.len() as u32);
            head = code;
            put_varint(&mut entries, code.len() as u64);
            entries.extend_from_slice(code.as_bytes());
        } else {
            let lcp = head.bytes().zip(code.bytes()).take_while(|(a, b)| a == b).count();
            let rest = code.as_bytes().get(lcp..).unwrap_or_default();
            put_varint(&mut entries, lcp as u64);
            put_varint(&mut entries, rest.len() as u64);
            entries.extend_from_slice(rest);
        }
    }
    let mut out = Vec::with_capacity(blocks * 4 + entries.len());
    for o in offsets {
        put_u32(&mut out, o);
    }
    out.extend_from_slice(&entries);
    out
}
