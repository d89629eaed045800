//! The blob: its layout, and loading it (written by [`super::builder`]).
//!
//! Header (40 bytes, little-endian): magic `BMPK`, format u32, catalogue
//! version i64, binary part length u64, text part length u64, checksum u64
//! of both parts. Binary part: `[sections u32][section lengths u32...]`
//! then the sections in [`Sec`] order.

use super::codec::{HEADER, MAX_CLASSES, Reader, checksum, u32_at, u64_at};
use super::error::PackError;
use super::postings::Classes;
use super::regions;
use crate::index::{Hall, NameMatch, WordLists};
use crate::region::Regions;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::ops::Range;

pub(crate) const MAGIC: &[u8; 4] = b"BMPK";
/// The format this code writes and reads (2: posting classes say how the
/// term reads in the name; brief and pinyin columns; 3: the region table
/// and column; 4: a term list of one class says it once; 5: the name as
/// edits of the compact name, codes against the one before, digits packed).
pub const FORMAT: u32 = 5;

/// The sections of the binary part, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sec {
    Meta,
    Lists,
    Codes,
    DocOffsets,
    Records,
    Depts,
    Tags,
    TermDict,
    TermPostings,
    KeyDict,
    KeyPostings,
    Briefs,
    Pinyin,
    Regions,
    RegionCol,
}
pub(crate) const SECTIONS: usize = 15;

/// A loaded packed index: the bytes (borrowed or owned) and the small
/// tables decoded from them (word lists, categories, halls).
#[derive(Debug)]
pub struct Packed<'a> {
    bin: Cow<'a, [u8]>,
    text: Cow<'a, str>,
    sections: [Range<usize>; SECTIONS],
    pub(crate) version: i64,
    docs: usize,
    /// Per posting class: its weight and what it says of the name (also
    /// in a table a nibble indexes).
    pub(crate) weights: Vec<u32>,
    pub(crate) class_table: [(u32, Option<NameMatch>); 16],
    pub(crate) class_bits: u32,
    n_depts: usize,
    pub(crate) n_tags: usize,
    /// Distinct categories of the items, sorted (ids of a doc's category).
    pub cats: Vec<String>,
    /// Category names in display order.
    pub categories: Vec<String>,
    pub halls: Vec<Hall>,
    pub(crate) words: WordLists,
    /// Syllables of each distinct tag, made on the first homophone lookup.
    pub(crate) tag_syllables: OnceCell<Vec<Vec<String>>>,
    /// The regions (ids of the region column).
    pub(crate) regions: Regions,
}

/// Rewrites a blob's checksum to match its bytes: for tests that damage
/// the tables behind a valid checksum (a buggy writer), never for loading.
#[doc(hidden)]
pub fn reseal(blob: &mut [u8]) {
    if let Ok((_, bin, _, _)) = header(blob) {
        let end = HEADER.saturating_add(bin).min(blob.len());
        let sum = checksum(&[blob.get(HEADER..end).unwrap_or_default(), blob.get(end..).unwrap_or_default()]);
        if let Some(field) = blob.get_mut(32..40) {
            field.copy_from_slice(&sum.to_le_bytes());
        }
    }
}

/// The header's fields: catalogue version, binary and text lengths, checksum.
pub(crate) fn header(bytes: &[u8]) -> Result<(i64, usize, usize, u64), PackError> {
    if bytes.len() < HEADER {
        return Err(if bytes.get(..4).is_some_and(|m| m != MAGIC) {
            PackError::BadMagic
        } else {
            PackError::Truncated
        });
    }
    if bytes.get(..4) != Some(MAGIC.as_slice()) {
        return Err(PackError::BadMagic);
    }
    let format = u32_at(bytes, 1).ok_or(PackError::Truncated)?;
    if format != FORMAT {
        return Err(PackError::Format(format));
    }
    let field = |at| u64_at(bytes, at).ok_or(PackError::Truncated);
    let version = field(8)? as i64;
    let bin = usize::try_from(field(16)?).map_err(|_| PackError::Corrupt("binary part length"))?;
    let text = usize::try_from(field(24)?).map_err(|_| PackError::Corrupt("text part length"))?;
    Ok((version, bin, text, field(32)?))
}

impl<'a> Packed<'a> {
    /// Loads a packed index borrowing its bytes: checks the header and the
    /// checksum, decodes the small tables; postings and records stay bytes.
    pub fn load(bytes: &'a [u8]) -> Result<Packed<'a>, PackError> {
        let (_, bin_len, text_len, _) = header(bytes)?;
        let bin = bytes.get(HEADER..HEADER + bin_len).ok_or(PackError::Truncated)?;
        let text = bytes.get(HEADER + bin_len..).ok_or(PackError::Truncated)?;
        if text.len() != text_len {
            return Err(if text.len() < text_len {
                PackError::Truncated
            } else {
                PackError::Corrupt("trailing bytes")
            });
        }
        Self::assemble(bytes, Cow::Borrowed(bin), Cow::Borrowed(text))
    }

    fn assemble(head: &[u8], bin: Cow<'a, [u8]>, text: Cow<'a, [u8]>) -> Result<Packed<'a>, PackError> {
        let (version, _, _, sum) = header(head)?;
        if checksum(&[&bin, &text]) != sum {
            return Err(PackError::Checksum);
        }
        let text = match text {
            Cow::Borrowed(t) => Cow::Borrowed(std::str::from_utf8(t).map_err(|_| PackError::Corrupt("text"))?),
            Cow::Owned(t) => Cow::Owned(String::from_utf8(t).map_err(|_| PackError::Corrupt("text"))?),
        };
        Self::parse(version, bin, text).ok_or(PackError::Corrupt("tables"))
    }

    fn parse(version: i64, bin: Cow<'a, [u8]>, text: Cow<'a, str>) -> Option<Packed<'a>> {
        let mut r = Reader::new(&bin);
        if r.u32()? as usize != SECTIONS {
            return None;
        }
        let mut at = 4 + 4 * SECTIONS;
        let mut sections: [Range<usize>; SECTIONS] = Default::default();
        for s in &mut sections {
            let len = r.u32()? as usize;
            *s = at..at.checked_add(len)?;
            at += len;
        }
        if at != bin.len() {
            return None;
        }
        let sec = |s: Sec| bin.get(sections.get(s as usize)?.clone());
        let mut m = Reader::new(sec(Sec::Meta)?);
        let (docs, n_depts, n_tags, n_classes) = (m.usize()?, m.usize()?, m.usize()?, m.usize()?);
        if n_classes > MAX_CLASSES {
            return None;
        }
        let (weights, matches) = Classes::read(&mut m, n_classes)?;
        let class_bits = m.u32v()?;
        if class_bits > 4 || docs > u32::MAX as usize {
            return None;
        }
        let mut l = Reader::new(sec(Sec::Lists)?);
        let list = |l: &mut Reader<'_>| -> Option<Vec<String>> {
            let n = l.usize()?;
            (0..n).map(|_| l.string()).collect()
        };
        let cats = list(&mut l)?;
        let categories = list(&mut l)?;
        let stop_words = list(&mut l)?;
        let banned = list(&mut l)?;
        let pairs = |l: &mut Reader<'_>| -> Option<Vec<(String, String)>> {
            let n = l.usize()?;
            (0..n).map(|_| Some((l.string()?, l.string()?))).collect()
        };
        let thesaurus = pairs(&mut l)?;
        let corrections = pairs(&mut l)?;
        let n_halls = l.usize()?;
        let halls = (0..n_halls)
            .map(|_| {
                let (id, name) = (l.string()?, l.string()?);
                Some(Hall { id, name, lat: f64::from_bits(l.u64()?), lng: f64::from_bits(l.u64()?) })
            })
            .collect::<Option<Vec<Hall>>>()?;
        // Fixed-size tables must have exactly their size.
        let sizes = [
            (Sec::DocOffsets, docs + 1),
            (Sec::Depts, n_depts + 1),
            (Sec::Tags, 3 * n_tags + 1),
            (Sec::Briefs, docs),
            (Sec::Pinyin, docs * 8),
        ];
        if sizes.iter().any(|(s, n)| sec(*s).map(<[u8]>::len) != Some(n * 4)) {
            return None;
        }
        if sec(Sec::Codes)?.len() < docs.div_ceil(super::records::CODE_BLOCK) * 4 {
            return None;
        }
        let regions = regions::read_table(sec(Sec::Regions)?)?;
        if !regions::column_fits(sec(Sec::RegionCol)?, docs, &regions) {
            return None;
        }
        Some(Packed {
            bin,
            text,
            sections,
            version,
            docs,
            class_table: std::array::from_fn(|i| {
                (weights.get(i).copied().unwrap_or(0), matches.get(i).copied().flatten())
            }),
            weights,
            class_bits,
            n_depts,
            n_tags,
            cats,
            categories,
            halls,
            words: WordLists { thesaurus, corrections, stop_words, banned },
            tag_syllables: OnceCell::new(),
            regions,
        })
    }

    /// The catalogue version the index was built from.
    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn doc_count(&self) -> usize {
        self.docs
    }

    /// Bytes held (binary and text parts).
    pub fn byte_len(&self) -> usize {
        self.bin.len() + self.text.len()
    }

    #[inline(always)]
    pub(crate) fn sec(&self, s: Sec) -> &[u8] {
        self.sections.get(s as usize).and_then(|r| self.bin.get(r.clone())).unwrap_or_default()
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn records(&self) -> &[u8] {
        self.sec(Sec::Records)
    }

    pub(crate) fn doc_offsets(&self) -> &[u8] {
        self.sec(Sec::DocOffsets)
    }

    pub(crate) fn codes(&self) -> &[u8] {
        self.sec(Sec::Codes)
    }

    fn table_str(&self, table: Sec, i: usize) -> Option<&str> {
        let t = self.sec(table);
        let (a, b) = (u32_at(t, i)? as usize, u32_at(t, i + 1)? as usize);
        self.text.get(a..b)
    }

    pub(crate) fn dept(&self, i: u32) -> Option<&str> {
        if i as usize >= self.n_depts {
            return None;
        }
        self.table_str(Sec::Depts, i as usize)
    }

    /// Form `k` (0 as written, 1 normalised, 2 pinyin) of tag `t`.
    pub(crate) fn tag(&self, t: u32, k: usize) -> Option<&str> {
        if t as usize >= self.n_tags {
            return None;
        }
        self.table_str(Sec::Tags, 3 * t as usize + k)
    }
}

impl Packed<'static> {
    /// Loads a packed index keeping its bytes (the text part moves into its
    /// own buffer; nothing else is copied).
    pub fn load_owned(mut bytes: Vec<u8>) -> Result<Packed<'static>, PackError> {
        let (_, bin_len, text_len, _) = header(&bytes)?;
        let end = HEADER.checked_add(bin_len).ok_or(PackError::Truncated)?;
        if bytes.len() != end.saturating_add(text_len) {
            return Err(if bytes.len() < end.saturating_add(text_len) {
                PackError::Truncated
            } else {
                PackError::Corrupt("trailing bytes")
            });
        }
        let text = bytes.split_off(end);
        let head: Vec<u8> = bytes.get(..HEADER).unwrap_or_default().to_vec();
        bytes.drain(..HEADER);
        bytes.shrink_to_fit();
        Self::assemble(&head, Cow::Owned(bytes), Cow::Owned(text))
    }
}
