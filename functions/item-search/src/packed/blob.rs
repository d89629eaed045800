//! The blob: building it from an [`Index`] and loading it.
//!
//! Header (40 bytes, little-endian): magic `BMPK`, format u32, catalogue
//! version i64, binary part length u64, text part length u64, checksum u64
//! of both parts. Binary part: `[sections u32][section lengths u32...]`
//! then the sections in [`Sec`] order.

use super::codec::{HEADER, MAX_CLASSES, Reader, checksum, put_str, put_u32, put_u64, put_varint, u32_at, u64_at};
use super::columns::{write_briefs, write_pinyin};
use super::dict::{self, Entry};
use super::error::PackError;
use super::postings::{Classes, encode_docs, encode_terms};
use super::records::{APPOINTMENT, ONLINE, Record, write_codes, write_record};
use super::regions;
use crate::index::{Hall, Index, NameMatch};
use crate::region::Regions;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

const MAGIC: &[u8; 4] = b"BMPK";
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
const SECTIONS: usize = 15;

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
    pub(crate) thesaurus: Vec<(String, String)>,
    pub(crate) corrections: Vec<(String, String)>,
    pub(crate) stop_words: Vec<String>,
    pub(crate) banned: Vec<String>,
    /// Syllables of each distinct tag, made on the first homophone lookup.
    pub(crate) tag_syllables: OnceCell<Vec<Vec<String>>>,
    /// The regions (ids of the region column).
    pub(crate) regions: Regions,
}

fn unsupported(m: impl Into<String>) -> PackError {
    PackError::Unsupported(m.into())
}

fn u32_len(n: usize, what: &str) -> Result<u32, PackError> {
    u32::try_from(n).map_err(|_| unsupported(format!("{what} over 4 GiB")))
}

/// Builds the packed form of an index. Refuses (never panics on) what the
/// format cannot hold: docs out of code order, more than 7 distinct weights,
/// fields inconsistent with each other.
pub fn build(index: &Index) -> Result<Vec<u8>, PackError> {
    build_with_layout(index).map(|(blob, _)| blob)
}

/// Where a blob's bytes go (for the probe): each section, the text part,
/// and the term postings split into dense and sparse lists.
#[derive(Debug, Default)]
pub struct Layout {
    pub sections: Vec<(String, usize)>,
    pub text: usize,
    /// Term lists stored one nibble per document, and their bytes.
    pub dense: (usize, usize),
    /// Term lists stored as varint gaps, and their bytes.
    pub sparse: (usize, usize),
}

/// [`build`], with the blob's [`Layout`].
pub fn build_with_layout(index: &Index) -> Result<(Vec<u8>, Layout), PackError> {
    let mut layout = Layout::default();
    let n = index.docs.len();
    u32_len(n, "docs")?;
    if index.docs.windows(2).any(|w| w.first().map(|d| &d.code) >= w.get(1).map(|d| &d.code)) {
        return Err(unsupported("docs not in strict code order"));
    }
    let classes = Classes::of(index)?;
    let class_bits = u32::BITS - (classes.len().saturating_sub(1) as u32).leading_zeros();

    let mut text = String::new();
    // Departments and tags: each distinct string once.
    let depts: BTreeMap<&str, u32> = index.docs.iter().map(|d| (d.department.as_str(), 0)).collect();
    let depts: HashMap<&str, u32> = depts.into_keys().enumerate().map(|(i, d)| (d, i as u32)).collect();
    let mut dept_list: Vec<(&str, u32)> = depts.iter().map(|(d, i)| (*d, *i)).collect();
    dept_list.sort_by_key(|d| d.1);
    let mut dept_table = Vec::new();
    for (d, _) in &dept_list {
        put_u32(&mut dept_table, u32_len(text.len(), "text")?);
        text.push_str(d);
    }
    put_u32(&mut dept_table, u32_len(text.len(), "text")?);

    let mut tag_ids: HashMap<&str, u32> = HashMap::new();
    let mut tag_table = Vec::new();
    for d in &index.docs {
        if d.tags_norm.len() != d.tags.len() || d.tag_pinyin.len() != d.tags.len() {
            return Err(unsupported(format!("{}: tag forms differ in number", d.code)));
        }
        for ((t, norm), pinyin) in d.tags.iter().zip(&d.tags_norm).zip(&d.tag_pinyin) {
            if tag_ids.contains_key(t.as_str()) {
                continue;
            }
            tag_ids.insert(t, tag_ids.len() as u32);
            for s in [t, norm, pinyin] {
                put_u32(&mut tag_table, u32_len(text.len(), "text")?);
                text.push_str(s);
            }
        }
    }
    put_u32(&mut tag_table, u32_len(text.len(), "text")?);

    let mut offsets = Vec::with_capacity((n + 1) * 4);
    let mut records = Vec::new();
    for d in &index.docs {
        put_u32(&mut offsets, u32_len(records.len(), "records")?);
        if index.cats.get(d.cat as usize) != Some(&d.category) {
            return Err(unsupported(format!("{}: category id does not match", d.code)));
        }
        let mut spaces = Vec::new();
        let mut compact = String::with_capacity(d.name_norm.len());
        for c in d.name_norm.chars() {
            if c == ' ' {
                spaces.push(compact.len());
            } else if c.is_whitespace() {
                return Err(unsupported(format!("{}: unexpected whitespace in a name", d.code)));
            } else {
                compact.push(c);
            }
        }
        if compact != d.name_compact {
            return Err(unsupported(format!("{}: compact name differs from the normalised one", d.code)));
        }
        let tags: Vec<u32> = d.tags.iter().filter_map(|t| tag_ids.get(t.as_str()).copied()).collect();
        let halls: Vec<u32> = d.halls.iter().map(|h| *h as u32).collect();
        if d.halls.iter().any(|h| *h >= index.halls.len()) {
            return Err(unsupported(format!("{}: hall out of range", d.code)));
        }
        let flags = if d.online { ONLINE } else { 0 } | if d.appointment { APPOINTMENT } else { 0 };
        let text_start = u32_len(text.len(), "text")?;
        for s in [&d.name_compact, &d.name_pinyin, &d.name_initials] {
            text.push_str(s);
        }
        let lens = [d.name_compact.len(), d.name_pinyin.len(), d.name_initials.len()];
        let dept = depts.get(d.department.as_str()).copied().unwrap_or_default();
        let (name, compact) = (d.name.as_str(), d.name_compact.as_str());
        let rec = Record {
            text_start,
            flags,
            cat: d.cat,
            dept,
            tags: &tags,
            halls: &halls,
            name,
            compact,
            lens,
            spaces: &spaces,
        };
        write_record(&mut records, &rec);
    }
    put_u32(&mut offsets, u32_len(records.len(), "records")?);

    // Term postings.
    let mut terms: Vec<(&String, &Vec<(u32, u32)>)> = index.postings.iter().filter(|(_, v)| !v.is_empty()).collect();
    terms.sort_by(|a, b| a.0.cmp(b.0));
    let mut term_postings = Vec::new();
    let mut term_entries = Vec::with_capacity(terms.len());
    for (term, list) in &terms {
        let mut list = classes.classify(term, list);
        list.sort_by_key(|p| p.0);
        list.dedup_by_key(|p| p.0);
        if list.last().is_some_and(|p| p.0 as usize >= n) {
            return Err(unsupported(format!("posting of {term} beyond the docs")));
        }
        let (bytes, dense) = encode_terms(&list, n, class_bits);
        let tally = if dense { &mut layout.dense } else { &mut layout.sparse };
        *tally = (tally.0 + 1, tally.1 + bytes.len());
        let e = Entry { start: term_postings.len(), len: bytes.len(), count: list.len(), dense };
        term_postings.extend_from_slice(&bytes);
        term_entries.push((term.as_str(), e));
    }
    let mut keys: Vec<(&String, &Vec<u32>)> = index.pinyin_keys.iter().filter(|(_, v)| !v.is_empty()).collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut key_postings = Vec::new();
    let mut key_entries = Vec::with_capacity(keys.len());
    for (key, list) in &keys {
        let mut list = (*list).clone();
        list.sort_unstable();
        list.dedup();
        if list.last().is_some_and(|d| *d as usize >= n) {
            return Err(unsupported(format!("pinyin key {key} beyond the docs")));
        }
        let (bytes, dense) = encode_docs(&list, n);
        let e = Entry { start: key_postings.len(), len: bytes.len(), count: list.len(), dense };
        key_postings.extend_from_slice(&bytes);
        key_entries.push((key.as_str(), e));
    }

    let mut meta = Vec::new();
    for v in [n, dept_list.len(), tag_ids.len(), classes.len()] {
        put_varint(&mut meta, v as u64);
    }
    classes.write(&mut meta);
    put_varint(&mut meta, u64::from(class_bits));

    let mut lists = Vec::new();
    for list in [&index.cats, &index.categories, &index.stop_words, &index.banned] {
        put_varint(&mut lists, list.len() as u64);
        list.iter().for_each(|s| put_str(&mut lists, s));
    }
    for pairs in [&index.thesaurus, &index.corrections] {
        put_varint(&mut lists, pairs.len() as u64);
        for (a, b) in pairs {
            put_str(&mut lists, a);
            put_str(&mut lists, b);
        }
    }
    put_varint(&mut lists, index.halls.len() as u64);
    for h in &index.halls {
        put_str(&mut lists, &h.id);
        put_str(&mut lists, &h.name);
        put_u64(&mut lists, h.lat.to_bits());
        put_u64(&mut lists, h.lng.to_bits());
    }

    let codes = write_codes(index.docs.iter().map(|d| d.code.as_str()));
    let sections: [Vec<u8>; SECTIONS] = [
        meta,
        lists,
        codes,
        offsets,
        records,
        dept_table,
        tag_table,
        dict::write(&term_entries),
        term_postings,
        dict::write(&key_entries),
        key_postings,
        write_briefs(&index.docs),
        write_pinyin(&index.docs),
        regions::write_table(&index.regions),
        regions::write_column(&index.docs, &index.regions).map_err(unsupported)?,
    ];
    let mut bin = Vec::with_capacity(4 + 4 * SECTIONS + sections.iter().map(Vec::len).sum::<usize>());
    let names = format!(
        "{:?}",
        [
            Sec::Meta,
            Sec::Lists,
            Sec::Codes,
            Sec::DocOffsets,
            Sec::Records,
            Sec::Depts,
            Sec::Tags,
            Sec::TermDict,
            Sec::TermPostings,
            Sec::KeyDict,
            Sec::KeyPostings,
            Sec::Briefs,
            Sec::Pinyin,
            Sec::Regions,
            Sec::RegionCol,
        ]
    );
    let names = names.trim_matches(['[', ']']).split(", ").map(str::to_owned);
    layout.sections = names.zip(sections.iter().map(Vec::len)).collect();
    layout.text = text.len();
    put_u32(&mut bin, SECTIONS as u32);
    for s in &sections {
        put_u32(&mut bin, u32_len(s.len(), "section")?);
    }
    for s in &sections {
        bin.extend_from_slice(s);
    }
    u32_len(bin.len(), "binary part")?;
    u32_len(text.len(), "text part")?;
    let mut out = Vec::with_capacity(HEADER + bin.len() + text.len());
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, FORMAT);
    put_u64(&mut out, index.version as u64);
    put_u64(&mut out, bin.len() as u64);
    put_u64(&mut out, text.len() as u64);
    put_u64(&mut out, checksum(&[&bin, text.as_bytes()]));
    out.extend_from_slice(&bin);
    out.extend_from_slice(text.as_bytes());
    Ok((out, layout))
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
            thesaurus,
            corrections,
            stop_words,
            banned,
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
