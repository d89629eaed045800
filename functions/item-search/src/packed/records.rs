//! Per-document records and the code table, as written.
//!
//! A record (binary part) holds the document's small fields and the lengths
//! of its strings, which lie together in the text part:
//! `[text start u32][flags u8][cat][dept][n tags][tag...][n halls][hall...]`
//! `[compact len][pinyin len][initials len][n spaces][space...][name edits]`
//! (varints after the first two). Strings: compact name, pinyin, initials;
//! the name as written is [`super::patch`]'s edits of the compact name. A
//! space is where the normalised name has one, as a byte offset into the
//! compact name. Codes are front-coded in blocks of [`CODE_BLOCK`], each
//! against the code before it (docs are in code order), digits two to a byte.

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
    pub name: &'a str,
    pub compact: &'a str,
    pub lens: [usize; 3],
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
    super::patch::write(out, r.name, r.compact);
}

/// Front-codes sorted codes: `[block offsets u32...][entries]`. A block's
/// first entry is `[rest]`, the others `[shared prefix length][rest]` against
/// the code before; a rest is `[len * 2 + 1][digits, two to a byte]` when it
/// is all ASCII digits, else `[len * 2][bytes]`.
#[derive(Debug, Default)]
pub(crate) struct CodeWriter {
    offsets: Vec<u32>,
    entries: Vec<u8>,
    prev: String,
    n: usize,
}

impl CodeWriter {
    pub(crate) fn push(&mut self, code: &str) {
        let lcp = if self.n.is_multiple_of(CODE_BLOCK) {
            self.offsets.push(self.entries.len() as u32);
            0
        } else {
            let lcp = self.prev.bytes().zip(code.bytes()).take_while(|(a, b)| a == b).count();
            put_varint(&mut self.entries, lcp as u64);
            lcp
        };
        put_rest(&mut self.entries, code.as_bytes().get(lcp..).unwrap_or_default());
        self.prev.clear();
        self.prev.push_str(code);
        self.n += 1;
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.offsets.len() * 4 + self.entries.len());
        for o in self.offsets {
            put_u32(&mut out, o);
        }
        out.extend_from_slice(&self.entries);
        out
    }
}

fn put_rest(out: &mut Vec<u8>, rest: &[u8]) {
    if rest.iter().all(u8::is_ascii_digit) {
        put_varint(out, rest.len() as u64 * 2 + 1);
        for pair in rest.chunks(2) {
            let hi = pair.first().map_or(0, |d| d - b'0');
            let lo = pair.get(1).map_or(0x0f, |d| d - b'0');
            out.push(hi << 4 | lo);
        }
    } else {
        put_varint(out, rest.len() as u64 * 2);
        out.extend_from_slice(rest);
    }
}

/// Appends a rest written by [`put_rest`] to `code`.
pub(crate) fn read_rest(r: &mut super::codec::Reader<'_>, code: &mut Vec<u8>) -> Option<()> {
    let tag = r.usize()?;
    let len = tag / 2;
    if tag % 2 == 0 {
        code.extend_from_slice(r.bytes(len)?);
        return Some(());
    }
    let packed = r.bytes(len.div_ceil(2))?;
    for nibble in packed.iter().flat_map(|b| [b >> 4, b & 0x0f]).take(len) {
        if nibble > 9 {
            return None;
        }
        code.push(b'0' + nibble);
    }
    Some(())
}
