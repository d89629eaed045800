//! Answering from a packed index: [`SearchIndex`] over the bytes.

use super::blob::{Packed, Sec};
use super::columns::{HEAD, brief_at, head_starts_with, pinyin_may_match};
use super::dict;
use super::docs::PackedDoc;
use super::postings::{TermIter, decode_docs};
use crate::index::{Brief, Briefs, CHUNK, DocView, Hall, NameMatch, SearchIndex, TermMatch, WordLists};
use crate::query::{self, Answer, Params, Suggestion};
use crate::text::{syllables, window};
use shared::ApiResult;
use std::borrow::Cow;

impl Packed<'_> {
    /// Runs a search (the same answer as the in-memory index gives).
    pub fn search(&self, p: &Params) -> ApiResult<Answer> {
        query::search_in(self, p)
    }

    /// Completions (the same as the in-memory index gives).
    pub fn suggest(&self, q: &str) -> ApiResult<Vec<Suggestion>> {
        query::suggest_in(self, q)
    }

    /// A term's postings as `(doc, class)`.
    fn term_iter(&self, term: &str) -> TermIter<'_> {
        dict::lookup(self.sec(Sec::TermDict), term)
            .and_then(|e| {
                let bytes = self.sec(Sec::TermPostings).get(e.start..e.start.checked_add(e.len)?)?;
                Some(TermIter::new(bytes, e.dense, Packed::doc_count(self), self.class_bits))
            })
            .unwrap_or_else(TermIter::empty)
    }

    fn key_docs(&self, key: &str) -> Option<Vec<u32>> {
        let e = dict::lookup(self.sec(Sec::KeyDict), key)?;
        let bytes = self.sec(Sec::KeyPostings).get(e.start..e.start.checked_add(e.len)?)?;
        Some(decode_docs(bytes, e.dense, e.count))
    }

    fn key_count(&self, key: &str) -> Option<usize> {
        dict::lookup(self.sec(Sec::KeyDict), key).map(|e| e.count)
    }

    /// Docs whose name may read `want`: those holding the rarest pinyin key
    /// spelled by 1-3 consecutive syllables of it (every such name holds all
    /// of them), or every doc when no part of `want` makes a key.
    fn homophone_candidates(&self, want: &[String]) -> Option<Vec<u32>> {
        let valid = |s: &String| s.len() >= 2 && s.chars().all(|c| c.is_ascii_lowercase());
        let mut best: Option<(usize, String)> = None;
        for m in 1..=3.min(want.len()) {
            for w in want.windows(m).filter(|w| w.iter().all(valid)) {
                let key = w.concat();
                let n = self.key_count(&key).unwrap_or(0);
                if best.as_ref().is_none_or(|(b, _)| n < *b) {
                    best = Some((n, key));
                }
            }
        }
        match best {
            None => None,
            Some((0, _)) => Some(vec![]),
            Some((_, key)) => self.key_docs(&key),
        }
    }
}

impl SearchIndex for Packed<'_> {
    type Doc<'a>
        = PackedDoc<'a>
    where
        Self: 'a;

    fn version(&self) -> i64 {
        self.version
    }

    fn doc_count(&self) -> usize {
        Packed::doc_count(self)
    }

    fn doc(&self, id: u32) -> Option<PackedDoc<'_>> {
        PackedDoc::decode(self, id)
    }

    fn doc_id(&self, code: &str) -> Option<u32> {
        self.find_code(code)
    }

    fn regions(&self) -> &crate::region::Regions {
        &self.regions
    }

    #[inline(always)]
    fn region_id(&self, id: u32) -> Option<u16> {
        super::regions::region_at(self.sec(Sec::RegionCol), id)
    }

    fn postings(&self, term: &str) -> impl Iterator<Item = (u32, u32)> {
        let weights = &self.weights;
        self.term_iter(term).map_while(move |(d, c)| weights.get(c as usize).map(|w| (d, *w)))
    }

    fn term_matches(&self, term: &str) -> impl Iterator<Item = (u32, u32, Option<NameMatch>)> {
        let (table, n) = (&self.class_table, self.weights.len());
        // A class beyond the table (damaged bytes) reads as weight 0.
        self.term_iter(term).map(move |(d, c)| {
            let (w, m) =
                if usize::from(c) < n { table.get(usize::from(c & 15)).copied() } else { None }.unwrap_or_default();
            (d, w, m)
        })
    }

    /// Dense lists decoded straight into the slices, a byte at a time and
    /// without a branch per nibble (absent docs are written, then overwritten).
    fn term_chunks(&self, term: &str, each: &mut dyn FnMut(&[TermMatch])) {
        let (table, n_classes) = (&self.class_table, self.weights.len());
        let class = |c: u8| -> (u32, Option<NameMatch>) {
            if usize::from(c) < n_classes { table.get(usize::from(c & 15)).copied() } else { None }.unwrap_or_default()
        };
        let mut buf = [(0u32, 0u32, None); CHUNK];
        let mut n = 0;
        match self.term_iter(term) {
            TermIter::Dense { bytes, docs, .. } => {
                // By nibble: the class it stands for (nibble 0: none).
                let by_nibble: [(u32, Option<NameMatch>); 16] =
                    std::array::from_fn(|i| class((i as u8).wrapping_sub(1)));
                let nib = |x: u8| by_nibble.get(usize::from(x & 15)).copied().unwrap_or_default();
                for (i, byte) in bytes.iter().enumerate().take(docs.div_ceil(2)) {
                    let d = (i * 2) as u32;
                    let (lo, hi) = (byte & 15, byte >> 4);
                    let ((wl, ml), (wh, mh)) = (nib(lo), nib(hi));
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = (d, wl, ml);
                    }
                    n += usize::from(lo != 0);
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = (d + 1, wh, mh);
                    }
                    n += usize::from((hi != 0) & ((d as usize + 1) < docs));
                    if n + 2 > CHUNK {
                        each(buf.get(..n).unwrap_or_default());
                        n = 0;
                    }
                }
            }
            one @ (TermIter::SparseOne { class: c, .. } | TermIter::Bits { class: c, .. }) => {
                // One class for the whole list: its weight and match once.
                let (w, m) = class(c);
                for (doc, _) in one {
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = (doc, w, m);
                        n += 1;
                    }
                    if n == CHUNK {
                        each(&buf);
                        n = 0;
                    }
                }
            }
            TermIter::Sparse { r, bits, .. } => {
                // Varints read in place (as `TermIter` reads them).
                let bytes = r.rest();
                let (mut at, mut prev): (usize, Option<u32>) = (0, None);
                while let Some(&first) = bytes.get(at) {
                    let mut v = u64::from(first & 0x7f);
                    at += 1;
                    let mut more = first & 0x80 != 0;
                    let mut shift = 7;
                    while more {
                        let Some(&b) = bytes.get(at) else { break };
                        at += 1;
                        if shift > 63 || (shift == 63 && b > 1) {
                            v = u64::MAX;
                            break;
                        }
                        v |= u64::from(b & 0x7f) << shift;
                        more = b & 0x80 != 0;
                        shift += 7;
                    }
                    let Ok(gap) = u32::try_from(v >> bits) else { break };
                    let c = (v & ((1u64 << bits) - 1)) as u8;
                    let Some(doc) = (match prev {
                        None => Some(gap),
                        Some(p) => p.checked_add(gap).and_then(|d| d.checked_add(1)),
                    }) else {
                        break;
                    };
                    prev = Some(doc);
                    let (w, m) = class(c);
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = (doc, w, m);
                        n += 1;
                    }
                    if n == CHUNK {
                        each(&buf);
                        n = 0;
                    }
                }
            }
        }
        each(buf.get(..n).unwrap_or_default());
    }

    #[inline(always)]
    fn brief(&self, id: u32) -> Option<Brief> {
        brief_at(self.sec(Sec::Briefs), id)
    }

    fn briefs(&self) -> Option<Briefs<'_>> {
        Some(Briefs(self.sec(Sec::Briefs)))
    }

    /// A key of five letters or more spells whole syllables of the name
    /// (initials keys have at most four), so the name's pinyin holds it:
    /// 60 points at its start, otherwise 40 (before any initials or
    /// keyword points); the head column says which.
    fn pinyin_key_points(&self, id: u32, q: &str) -> Option<u32> {
        if !(5..=HEAD).contains(&q.len()) {
            return None;
        }
        let starts = head_starts_with(self.sec(Sec::Pinyin), Packed::doc_count(self), id, q.as_bytes())?;
        Some(if starts { 60 } else { 40 })
    }

    fn tag_may_equal(&self, norm: &str) -> bool {
        (0..self.n_tags as u32).any(|t| self.tag(t, 1) == Some(norm))
    }

    /// From the pinyin columns, then the keywords whose pinyin starts with
    /// `q` (read per doc only when some keyword does).
    fn pinyin_scan(&self, q: &str) -> Option<Vec<u32>> {
        if q.len() < 2 {
            return Some(vec![]);
        }
        let mut docs = pinyin_may_match(self.sec(Sec::Pinyin), Packed::doc_count(self), q.as_bytes());
        let tags: Vec<u32> = if q.len() >= 4 {
            (0..self.n_tags as u32).filter(|t| self.tag(*t, 2).is_some_and(|p| p.starts_with(q))).collect()
        } else {
            vec![]
        };
        if !tags.is_empty() {
            let n = Packed::doc_count(self) as u32;
            let has = |id: u32| self.doc(id).is_some_and(|d| d.tag_ids().any(|t| tags.contains(&t)));
            let mut merged = Vec::with_capacity(docs.len());
            let mut from = docs.into_iter().peekable();
            for id in 0..n {
                if from.next_if_eq(&id).is_some() || has(id) {
                    merged.push(id);
                }
            }
            docs = merged;
        }
        Some(docs)
    }

    fn posting_count(&self, term: &str) -> Option<usize> {
        dict::lookup(self.sec(Sec::TermDict), term).map(|e| e.count)
    }

    fn pinyin_candidates(&self, q: &str) -> Option<Cow<'_, [u32]>> {
        self.key_docs(q).filter(|v| !v.is_empty()).map(Cow::Owned)
    }

    fn words(&self) -> &WordLists {
        &self.words
    }

    fn cats(&self) -> &[String] {
        &self.cats
    }

    fn category_id(&self, name: &str) -> Option<u16> {
        self.cats.binary_search_by(|c| c.as_str().cmp(name)).ok().and_then(|i| u16::try_from(i).ok())
    }

    fn hall(&self, i: usize) -> Option<&Hall> {
        self.halls.get(i)
    }

    /// As the in-memory index answers (the first doc whose name, then
    /// tags, read `want`), without reading every name: the name candidates
    /// come from the pinyin keys, and matching tags from the tag table.
    fn homophone(&self, want: &[String]) -> Option<String> {
        if want.is_empty() {
            return None;
        }
        let tag_syl = self
            .tag_syllables
            .get_or_init(|| (0..self.n_tags as u32).map(|t| syllables(self.tag(t, 1).unwrap_or_default())).collect());
        let tag_hits: Vec<Option<String>> = tag_syl
            .iter()
            .enumerate()
            .map(|(t, syl)| window(self.tag(t as u32, 1).unwrap_or_default(), syl, want))
            .collect();
        let any_tag = tag_hits.iter().any(Option::is_some);
        let name_hit = |id: u32| -> Option<String> {
            let d = self.doc(id)?;
            window(d.name_compact(), &syllables(d.name_compact()), want)
        };
        let tag_hit = |id: u32| -> Option<String> {
            let d = self.doc(id)?;
            d.tag_ids().find_map(|t| tag_hits.get(t as usize).cloned().flatten())
        };
        let n = Packed::doc_count(self) as u32;
        let Some(candidates) = self.homophone_candidates(want) else {
            // No key to narrow by: read every doc, as the in-memory index does.
            return (0..n).find_map(|id| name_hit(id).or_else(|| any_tag.then(|| tag_hit(id)).flatten()));
        };
        let first_name = candidates.iter().find_map(|&id| name_hit(id).map(|s| (id, s)));
        let bound = first_name.as_ref().map_or(n, |(id, _)| *id);
        if any_tag && let Some(s) = (0..bound).find_map(tag_hit) {
            return Some(s);
        }
        first_name.map(|(_, s)| s)
    }
}
