//! Writing a blob one document at a time: what the cron uses to build the
//! index of a province's catalogue page by page (issue 19), without ever
//! holding the in-memory [`Index`] (which at 100,000 items is far past an
//! isolate's 128 MB). [`build`] feeds the same builder from
//! an [`Index`], so both paths write the same bytes.
//!
//! A [`Builder`] takes the catalogue-wide [`Tables`] first, then documents
//! in code order ([`Builder::add_doc`]), each followed or preceded by its
//! postings ([`Builder::add_term`], [`Builder::add_key`]; a term's docs in
//! ascending order). Per-document columns are appended as they come; each
//! term's postings wait as varint gaps and a pair byte until
//! [`Builder::finish`] knows the document count and the posting classes.

use super::blob::{FORMAT, MAGIC, SECTIONS, Sec};
use super::codec::{HEADER, Reader, checksum, put_str, put_u32, put_u64, put_varint};
use super::columns::{head, signature, wide_signature};
use super::dict::{self, Entry};
use super::error::PackError;
use super::postings::{Classes, encode_docs, encode_terms, kind};
use super::records::{APPOINTMENT, CodeWriter, ONLINE, Record, write_record};
use super::regions;
use crate::index::{Brief, Doc, Hall, Index, NameMatch, WordLists};
use crate::region::{NO_REGION, Regions};
use std::collections::HashMap;

/// What the whole catalogue shares: word lists, categories, halls, regions.
#[derive(Debug, Default, Clone)]
pub struct Tables {
    pub version: i64,
    /// The distinct categories of the items, sorted ([`Doc::cat`] ids).
    pub cats: Vec<String>,
    pub categories: Vec<String>,
    pub words: WordLists,
    pub halls: Vec<Hall>,
    pub regions: Regions,
    /// The distinct departments of the items, sorted.
    pub departments: Vec<String>,
}

impl Tables {
    /// The tables of a built index.
    pub fn of(index: &Index) -> Tables {
        let mut departments: Vec<String> = index.docs.iter().map(|d| d.department.clone()).collect();
        departments.sort();
        departments.dedup();
        Tables {
            version: index.version,
            cats: index.cats.clone(),
            categories: index.categories.clone(),
            words: index.words.clone(),
            halls: index.halls.clone(),
            regions: index.regions.clone(),
            departments,
        }
    }
}

/// Builds the packed form of an index (through a [`Builder`], as the cron's
/// page-by-page build does). Refuses (never panics on) what the format
/// cannot hold: docs out of code order, more than 15 distinct weights,
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
    let mut b = Builder::new(Tables::of(index));
    for d in &index.docs {
        b.add_doc(d)?;
    }
    let doc =
        |id: u32| index.docs.get(id as usize).ok_or_else(|| PackError::Unsupported("posting beyond the docs".into()));
    for (term, list) in &index.postings {
        for (d, w) in list {
            b.add_term(term, *d, *w, posting_kind(doc(*d)?, term))?;
        }
    }
    for (key, list) in &index.pinyin_keys {
        for d in list {
            b.add_key(key, *d)?;
        }
    }
    b.finish()
}

/// One term's or key's postings so far: varint gaps (and a pair byte each).
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    last: Option<u32>,
}

impl Pending {
    /// Appends `doc` (a repeat of the last is dropped); `false` when it
    /// comes before the last.
    fn push(&mut self, doc: u32, pair: Option<u8>) -> bool {
        match self.last {
            Some(l) if doc == l => return true,
            Some(l) if doc < l => return false,
            _ => {}
        }
        put_varint(&mut self.bytes, u64::from(self.last.map_or(doc, |l| doc - l - 1)));
        if let Some(p) = pair {
            self.bytes.push(p);
        }
        self.last = Some(doc);
        true
    }

    /// `(doc, pair)` back, in order (pair 0 when none was written).
    fn read(&self, pairs: bool) -> Option<Vec<(u32, u8)>> {
        let mut r = Reader::new(&self.bytes);
        let mut out = Vec::new();
        let mut prev: Option<u32> = None;
        while !r.is_empty() {
            let gap = r.u32v()?;
            let doc = prev.map_or(Some(gap), |p| p.checked_add(gap)?.checked_add(1))?;
            out.push((doc, if pairs { r.u8()? } else { 0 }));
            prev = Some(doc);
        }
        Some(out)
    }
}

/// A blob being written (see the module's documentation).
#[derive(Debug)]
pub struct Builder {
    tables: Tables,
    dept_ids: HashMap<String, u32>,
    tag_ids: HashMap<String, u32>,
    /// Tag forms (as written, normalised, pinyin), and where each starts.
    tag_text: String,
    tag_starts: Vec<u32>,
    /// Per document its compact name, pinyin and initials.
    text: String,
    offsets: Vec<u8>,
    records: Vec<u8>,
    briefs: Vec<u8>,
    pinyin: [Vec<u8>; 3],
    region_col: Vec<u8>,
    codes: CodeWriter,
    last_code: Option<String>,
    docs: u32,
    terms: HashMap<String, Pending>,
    keys: HashMap<String, Pending>,
    /// Each distinct (weight, name match) of the postings, and its count.
    pairs: Vec<((u32, u8), usize)>,
}

fn unsupported(m: impl Into<String>) -> PackError {
    PackError::Unsupported(m.into())
}

fn u32_len(n: usize, what: &str) -> Result<u32, PackError> {
    u32::try_from(n).map_err(|_| unsupported(format!("{what} over 4 GiB")))
}

/// How `term` reads in a document's name and keywords, as a posting's kind.
pub(crate) fn posting_kind(d: &Doc, term: &str) -> u8 {
    kind(NameMatch::of(&d.name_compact, d.tags_norm.iter().map(String::as_str), term))
}

impl Builder {
    pub fn new(tables: Tables) -> Builder {
        let dept_ids = tables.departments.iter().enumerate().map(|(i, d)| (d.clone(), i as u32)).collect();
        Builder {
            tables,
            dept_ids,
            tag_ids: HashMap::new(),
            tag_text: String::new(),
            tag_starts: Vec::new(),
            text: String::new(),
            offsets: Vec::new(),
            records: Vec::new(),
            briefs: Vec::new(),
            pinyin: Default::default(),
            region_col: Vec::new(),
            codes: CodeWriter::default(),
            last_code: None,
            docs: 0,
            terms: HashMap::new(),
            keys: HashMap::new(),
            pairs: Vec::new(),
        }
    }

    /// Documents added so far.
    pub fn doc_count(&self) -> usize {
        self.docs as usize
    }

    /// Adds the next document (codes strictly ascending); returns its id.
    /// Refuses (never panics on) fields inconsistent with each other or
    /// with the tables.
    pub fn add_doc(&mut self, d: &Doc) -> Result<u32, PackError> {
        if self.last_code.as_deref().is_some_and(|c| c >= d.code.as_str()) {
            return Err(unsupported("docs not in strict code order"));
        }
        if self.tables.cats.get(d.cat as usize) != Some(&d.category) {
            return Err(unsupported(format!("{}: category id does not match", d.code)));
        }
        if d.tags_norm.len() != d.tags.len() || d.tag_pinyin.len() != d.tags.len() {
            return Err(unsupported(format!("{}: tag forms differ in number", d.code)));
        }
        if d.halls.iter().any(|h| *h >= self.tables.halls.len()) {
            return Err(unsupported(format!("{}: hall out of range", d.code)));
        }
        if d.region != NO_REGION && usize::from(d.region) >= self.tables.regions.entries().len() {
            return Err(unsupported(format!("{}: region out of range", d.code)));
        }
        let dept = *self
            .dept_ids
            .get(&d.department)
            .ok_or_else(|| unsupported(format!("{}: department not in the tables", d.code)))?;
        let spaces = spaces(d)?;
        let mut tags = Vec::with_capacity(d.tags.len());
        for ((t, norm), pinyin) in d.tags.iter().zip(&d.tags_norm).zip(&d.tag_pinyin) {
            tags.push(self.tag_id(t, norm, pinyin)?);
        }
        let id = self.docs;
        put_u32(&mut self.offsets, u32_len(self.records.len(), "records")?);
        let text_start = u32_len(self.text.len(), "text")?;
        for s in [&d.name_compact, &d.name_pinyin, &d.name_initials] {
            self.text.push_str(s);
        }
        let halls: Vec<u32> = d.halls.iter().map(|h| *h as u32).collect();
        let rec = Record {
            text_start,
            flags: if d.online { ONLINE } else { 0 } | if d.appointment { APPOINTMENT } else { 0 },
            cat: d.cat,
            dept,
            tags: &tags,
            halls: &halls,
            name: &d.name,
            compact: &d.name_compact,
            lens: [d.name_compact.len(), d.name_pinyin.len(), d.name_initials.len()],
            spaces: &spaces,
        };
        write_record(&mut self.records, &rec);
        let letters = d.name_compact.bytes().any(|b| b.is_ascii_alphabetic());
        let chars = Some(d.name_compact.chars().count());
        put_u32(&mut self.briefs, Brief::new(d.cat, d.online, d.appointment, chars, letters).word());
        let sig = wide_signature(d.name_pinyin.as_bytes(), 3, 7);
        let [full, initials, heads] = &mut self.pinyin;
        put_u64(full, sig as u64);
        put_u64(full, (sig >> 64) as u64);
        put_u64(initials, signature(d.name_initials.as_bytes(), 2));
        put_u64(heads, head(d.name_pinyin.as_bytes()));
        self.region_col.extend_from_slice(&d.region.to_le_bytes());
        self.codes.push(&d.code);
        self.last_code = Some(d.code.clone());
        self.docs = id.checked_add(1).ok_or_else(|| unsupported("too many docs"))?;
        Ok(id)
    }

    fn tag_id(&mut self, t: &str, norm: &str, pinyin: &str) -> Result<u32, PackError> {
        if let Some(id) = self.tag_ids.get(t) {
            return Ok(*id);
        }
        let id = self.tag_ids.len() as u32;
        for s in [t, norm, pinyin] {
            self.tag_starts.push(u32_len(self.tag_text.len(), "tags")?);
            self.tag_text.push_str(s);
        }
        self.tag_ids.insert(t.to_owned(), id);
        Ok(id)
    }

    /// A posting of `term` in an added doc, with its summed field weight and
    /// `posting_kind`.
    pub fn add_term(&mut self, term: &str, doc: u32, weight: u32, kind: u8) -> Result<(), PackError> {
        if doc >= self.docs {
            return Err(unsupported(format!("posting of {term} beyond the docs")));
        }
        let pair = match self.pairs.iter().position(|p| p.0 == (weight, kind)) {
            Some(i) => i,
            None => {
                self.pairs.push(((weight, kind), 0));
                self.pairs.len() - 1
            }
        };
        let byte = u8::try_from(pair).map_err(|_| unsupported("over 256 (weight, match) pairs"))?;
        let pending = match self.terms.get_mut(term) {
            Some(p) => p,
            None => self.terms.entry(term.to_owned()).or_default(),
        };
        let before = pending.last;
        if !pending.push(doc, Some(byte)) {
            return Err(unsupported(format!("postings of {term} out of doc order")));
        }
        if pending.last != before
            && let Some(p) = self.pairs.get_mut(pair)
        {
            p.1 += 1;
        }
        Ok(())
    }

    /// A doc of a pinyin key (keys' docs ascending).
    pub fn add_key(&mut self, key: &str, doc: u32) -> Result<(), PackError> {
        if doc >= self.docs {
            return Err(unsupported(format!("pinyin key {key} beyond the docs")));
        }
        let pending = match self.keys.get_mut(key) {
            Some(p) => p,
            None => self.keys.entry(key.to_owned()).or_default(),
        };
        if !pending.push(doc, None) {
            return Err(unsupported(format!("pinyin key {key} out of doc order")));
        }
        Ok(())
    }

    /// The blob, and where its bytes went.
    pub fn finish(self) -> Result<(Vec<u8>, Layout), PackError> {
        let mut layout = Layout::default();
        let n = self.docs as usize;
        let classes = Classes::choose(&self.pairs)?;
        let class_bits = u32::BITS - (classes.len().saturating_sub(1) as u32).leading_zeros();
        // Each pair's class: its own, or its weight's class that says nothing of the name.
        let class_of: Vec<u8> = self.pairs.iter().map(|(p, _)| classes.id(*p)).collect();

        // Each list is encoded and its pending bytes freed in turn.
        let mut terms: Vec<(String, Pending)> = self.terms.into_iter().collect();
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut term_postings = Vec::new();
        let mut term_entries = Vec::with_capacity(terms.len());
        for (term, pending) in terms {
            let list: Vec<(u32, u8)> = pending
                .read(true)
                .ok_or_else(|| unsupported(format!("postings of {term} unreadable")))?
                .into_iter()
                .map(|(d, p)| (d, class_of.get(p as usize).copied().unwrap_or_default()))
                .collect();
            drop(pending);
            let (bytes, dense) = encode_terms(&list, n, class_bits);
            let tally = if dense { &mut layout.dense } else { &mut layout.sparse };
            *tally = (tally.0 + 1, tally.1 + bytes.len());
            term_entries.push((term, Entry { start: term_postings.len(), len: bytes.len(), count: list.len(), dense }));
            term_postings.extend_from_slice(&bytes);
        }
        let mut keys: Vec<(String, Pending)> = self.keys.into_iter().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut key_postings = Vec::new();
        let mut key_entries = Vec::with_capacity(keys.len());
        for (key, pending) in keys {
            let list: Vec<u32> = pending
                .read(false)
                .ok_or_else(|| unsupported(format!("pinyin key {key} unreadable")))?
                .into_iter()
                .map(|(d, _)| d)
                .collect();
            drop(pending);
            let (bytes, dense) = encode_docs(&list, n);
            key_entries.push((key, Entry { start: key_postings.len(), len: bytes.len(), count: list.len(), dense }));
            key_postings.extend_from_slice(&bytes);
        }
        let term_dict = dict::write(&term_entries.iter().map(|(k, e)| (k.as_str(), *e)).collect::<Vec<_>>());
        drop(term_entries);
        let key_dict = dict::write(&key_entries.iter().map(|(k, e)| (k.as_str(), *e)).collect::<Vec<_>>());
        drop(key_entries);

        let t = &self.tables;
        let mut meta = Vec::new();
        for v in [n, t.departments.len(), self.tag_ids.len(), classes.len()] {
            put_varint(&mut meta, v as u64);
        }
        classes.write(&mut meta);
        put_varint(&mut meta, u64::from(class_bits));
        let mut lists = Vec::new();
        for list in [&t.cats, &t.categories, &t.words.stop_words, &t.words.banned] {
            put_varint(&mut lists, list.len() as u64);
            list.iter().for_each(|s| put_str(&mut lists, s));
        }
        for pairs in [&t.words.thesaurus, &t.words.corrections] {
            put_varint(&mut lists, pairs.len() as u64);
            for (a, b) in pairs {
                put_str(&mut lists, a);
                put_str(&mut lists, b);
            }
        }
        put_varint(&mut lists, t.halls.len() as u64);
        for h in &t.halls {
            put_str(&mut lists, &h.id);
            put_str(&mut lists, &h.name);
            put_u64(&mut lists, h.lat.to_bits());
            put_u64(&mut lists, h.lng.to_bits());
        }

        // The text part: the docs' strings, then departments, then tags.
        let mut text = self.text;
        let mut dept_table = Vec::with_capacity((t.departments.len() + 1) * 4);
        for d in &t.departments {
            put_u32(&mut dept_table, u32_len(text.len(), "text")?);
            text.push_str(d);
        }
        put_u32(&mut dept_table, u32_len(text.len(), "text")?);
        let base = u32_len(text.len(), "text")?;
        let mut tag_table = Vec::with_capacity((self.tag_starts.len() + 1) * 4);
        for s in self.tag_starts.iter().chain([&u32_len(self.tag_text.len(), "tags")?]) {
            put_u32(&mut tag_table, base.checked_add(*s).ok_or_else(|| unsupported("text over 4 GiB"))?);
        }
        text.push_str(&self.tag_text);
        let mut offsets = self.offsets;
        put_u32(&mut offsets, u32_len(self.records.len(), "records")?);
        let [full, initials, heads] = self.pinyin;
        let mut pinyin = full;
        pinyin.extend_from_slice(&initials);
        pinyin.extend_from_slice(&heads);

        let sections: [(Sec, Vec<u8>); SECTIONS] = [
            (Sec::Meta, meta),
            (Sec::Lists, lists),
            (Sec::Codes, self.codes.finish()),
            (Sec::DocOffsets, offsets),
            (Sec::Records, self.records),
            (Sec::Depts, dept_table),
            (Sec::Tags, tag_table),
            (Sec::TermDict, term_dict),
            (Sec::TermPostings, term_postings),
            (Sec::KeyDict, key_dict),
            (Sec::KeyPostings, key_postings),
            (Sec::Briefs, self.briefs),
            (Sec::Pinyin, pinyin),
            (Sec::Regions, regions::write_table(&t.regions)),
            (Sec::RegionCol, self.region_col),
        ];
        layout.sections = sections.iter().map(|(s, b)| (format!("{s:?}"), b.len())).collect();
        layout.text = text.len();
        // Written in place (no second copy of the binary part), the header
        // completed last.
        let bin_len = 4 + 4 * SECTIONS + sections.iter().map(|s| s.1.len()).sum::<usize>();
        u32_len(bin_len, "binary part")?;
        u32_len(text.len(), "text part")?;
        let mut out = Vec::with_capacity(HEADER + bin_len + text.len());
        out.resize(HEADER, 0);
        put_u32(&mut out, SECTIONS as u32);
        for (_, s) in &sections {
            put_u32(&mut out, u32_len(s.len(), "section")?);
        }
        for (_, s) in sections {
            out.extend_from_slice(&s);
        }
        out.extend_from_slice(text.as_bytes());
        drop(text);
        let broken = || unsupported("blob parts out of place");
        let (head, parts) = out.split_at_mut_checked(HEADER).ok_or_else(broken)?;
        let (bin, text) = parts.split_at_checked(bin_len).ok_or_else(broken)?;
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(MAGIC);
        put_u32(&mut h, FORMAT);
        put_u64(&mut h, t.version as u64);
        put_u64(&mut h, bin_len as u64);
        put_u64(&mut h, text.len() as u64);
        put_u64(&mut h, checksum(&[bin, text]));
        if h.len() != head.len() {
            return Err(broken());
        }
        head.copy_from_slice(&h);
        Ok((out, layout))
    }
}

/// Where the normalised name has spaces, as byte offsets into the compact
/// name (which must be it without them).
fn spaces(d: &Doc) -> Result<Vec<usize>, PackError> {
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
    Ok(spaces)
}
