//! Per-document records read back: a [`PackedDoc`] decoded on demand, and the
//! code table's lookups (layout in [`super::records`]).

use super::blob::Packed;
use super::codec::{Reader, u32_at};
use super::patch;
use super::records::{APPOINTMENT, CODE_BLOCK, ONLINE, read_rest};
use crate::index::DocView;
use std::borrow::Cow;

/// A document of a packed index, decoded from its record on demand.
#[derive(Debug, Clone)]
pub struct PackedDoc<'a> {
    p: &'a Packed<'a>,
    id: u32,
    flags: u8,
    cat: u16,
    dept: u32,
    tags: Reader<'a>,
    n_tags: usize,
    halls: Reader<'a>,
    n_halls: usize,
    compact: &'a str,
    pinyin: &'a str,
    initials: &'a str,
    /// At the spaces, then the name's edits.
    spaces: Reader<'a>,
    n_spaces: usize,
}

impl<'a> PackedDoc<'a> {
    pub(crate) fn decode(p: &'a Packed<'a>, id: u32) -> Option<Self> {
        let records = p.records();
        let at = u32_at(p.doc_offsets(), id as usize)? as usize;
        let mut r = Reader::at(records, at);
        let text_start = r.u32()? as usize;
        let flags = r.u8()?;
        let cat = u16::try_from(r.varint()?).ok()?;
        let dept = r.u32v()?;
        let n_tags = r.usize()?;
        let tags = r.clone();
        for _ in 0..n_tags {
            r.varint()?;
        }
        let n_halls = r.usize()?;
        let halls = r.clone();
        for _ in 0..n_halls {
            r.varint()?;
        }
        let text = p.text();
        let mut at = text_start;
        let mut next = |r: &mut Reader<'a>| -> Option<&'a str> {
            let len = r.usize()?;
            let s = text.get(at..at.checked_add(len)?)?;
            at += len;
            Some(s)
        };
        let compact = next(&mut r)?;
        let pinyin = next(&mut r)?;
        let initials = next(&mut r)?;
        let n_spaces = r.usize()?;
        Some(PackedDoc {
            p,
            id,
            flags,
            cat,
            dept,
            tags,
            n_tags,
            halls,
            n_halls,
            compact,
            pinyin,
            initials,
            spaces: r,
            n_spaces,
        })
    }

    /// Ids of the document's tags in the tag table, in the item's order.
    pub(crate) fn tag_ids(&self) -> impl Iterator<Item = u32> + 'a {
        let mut r = self.tags.clone();
        (0..self.n_tags).map_while(move |_| r.u32v())
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// A reader at the name's edits (past the spaces).
    fn edits(&self) -> Option<Reader<'a>> {
        let mut r = self.spaces.clone();
        for _ in 0..self.n_spaces {
            r.varint()?;
        }
        Some(r)
    }
}

impl DocView for PackedDoc<'_> {
    fn code(&self) -> Cow<'_, str> {
        Cow::Owned(self.p.code(self.id).unwrap_or_default())
    }
    fn name(&self) -> Cow<'_, str> {
        self.edits().and_then(|mut r| patch::apply(self.compact, &mut r)).unwrap_or_default()
    }
    fn name_chars(&self) -> usize {
        self.edits().and_then(|mut r| patch::chars(self.compact, &mut r)).unwrap_or_default()
    }
    fn name_norm(&self) -> Cow<'_, str> {
        if self.n_spaces == 0 {
            return Cow::Borrowed(self.compact);
        }
        let mut out = String::with_capacity(self.compact.len() + self.n_spaces);
        let mut r = self.spaces.clone();
        let mut from = 0;
        for _ in 0..self.n_spaces {
            let Some(at) = r.usize() else { break };
            out.push_str(self.compact.get(from..at).unwrap_or_default());
            out.push(' ');
            from = at.max(from);
        }
        out.push_str(self.compact.get(from..).unwrap_or_default());
        Cow::Owned(out)
    }
    fn name_compact(&self) -> &str {
        self.compact
    }
    fn name_pinyin(&self) -> &str {
        self.pinyin
    }
    fn name_initials(&self) -> &str {
        self.initials
    }
    fn category(&self) -> &str {
        self.p.cats.get(self.cat as usize).map_or("", String::as_str)
    }
    fn cat(&self) -> u16 {
        self.cat
    }
    fn department(&self) -> &str {
        self.p.dept(self.dept).unwrap_or_default()
    }
    fn online(&self) -> bool {
        self.flags & ONLINE != 0
    }
    fn appointment(&self) -> bool {
        self.flags & APPOINTMENT != 0
    }
    fn tags(&self) -> impl Iterator<Item = &str> {
        self.tag_ids().filter_map(|t| self.p.tag(t, 0))
    }
    fn tags_norm(&self) -> impl Iterator<Item = &str> {
        self.tag_ids().filter_map(|t| self.p.tag(t, 1))
    }
    fn tag_pinyin(&self) -> impl Iterator<Item = &str> {
        self.tag_ids().filter_map(|t| self.p.tag(t, 2))
    }
    fn halls(&self) -> impl Iterator<Item = usize> {
        let mut r = self.halls.clone();
        (0..self.n_halls).map_while(move |_| r.usize())
    }
}

impl Packed<'_> {
    /// The code of a document.
    pub fn code(&self, id: u32) -> Option<String> {
        let id = id as usize;
        if id >= self.doc_count() {
            return None;
        }
        let mut r = self.code_block(id / CODE_BLOCK)?;
        let mut code = Vec::with_capacity(40);
        read_rest(&mut r, &mut code)?;
        for _ in 0..id % CODE_BLOCK {
            next_code(&mut r, &mut code)?;
        }
        String::from_utf8(code).ok()
    }

    /// A reader at block `b`'s first entry.
    fn code_block(&self, b: usize) -> Option<Reader<'_>> {
        let codes = self.codes();
        let entries = codes.get(self.doc_count().div_ceil(CODE_BLOCK) * 4..)?;
        Some(Reader::at(entries, u32_at(codes, b)? as usize))
    }

    /// The document with this code: binary search over block heads, then a scan.
    pub(crate) fn find_code(&self, code: &str) -> Option<u32> {
        let blocks = self.doc_count().div_ceil(CODE_BLOCK);
        let mut buf = Vec::with_capacity(40);
        let mut head = |b: usize| -> Option<bool> {
            buf.clear();
            read_rest(&mut self.code_block(b)?, &mut buf)?;
            Some(buf.as_slice() <= code.as_bytes())
        };
        let (mut lo, mut hi) = (0usize, blocks);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if head(mid)? {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let block = lo.checked_sub(1)?;
        let first = block * CODE_BLOCK;
        let last = (first + CODE_BLOCK).min(self.doc_count());
        let mut r = self.code_block(block)?;
        let mut cur = Vec::with_capacity(40);
        read_rest(&mut r, &mut cur)?;
        for id in first..last {
            if id > first {
                next_code(&mut r, &mut cur)?;
            }
            if cur.as_slice() == code.as_bytes() {
                return u32::try_from(id).ok();
            }
        }
        None
    }
}

/// Turns `code` into the next one of its block.
fn next_code(r: &mut Reader<'_>, code: &mut Vec<u8>) -> Option<()> {
    let lcp = r.usize()?;
    if lcp > code.len() {
        return None;
    }
    code.truncate(lcp);
    read_rest(r, code)
}
