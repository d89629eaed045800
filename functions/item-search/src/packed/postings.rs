//! Postings: doc ids in order, each sparse list as varint gaps, each dense
//! one as a per-document array, whichever is smaller.
//!
//! Term postings carry a weight class per doc (an index into the header's
//! weight table): sparse `varint(gap << bits | class)`, dense one nibble per
//! doc (0 = absent, else class + 1); a list whose postings are all of one
//! class says it once and keeps only gaps or bits. Pinyin-key postings carry no weight:
//! sparse `varint(gap)`, dense one bit per doc.

use super::codec::{MAX_CLASSES, Reader, put_varint};
use super::error::PackError;
use crate::index::NameMatch;

/// A class's match when it says nothing of the name (read the doc).
const UNKNOWN: u8 = u8::MAX;

pub(crate) fn kind(m: NameMatch) -> u8 {
    u8::from(m.contains) | u8::from(m.prefix) << 1 | u8::from(m.equal) << 2 | u8::from(m.tag) << 3
}

fn match_of(kind: u8) -> Option<NameMatch> {
    (kind != UNKNOWN).then_some(NameMatch {
        contains: kind & 1 != 0,
        prefix: kind & 2 != 0,
        equal: kind & 4 != 0,
        tag: kind & 8 != 0,
    })
}

/// Posting classes: a weight, and how the term alone reads in the doc's
/// name and keywords (so a one-term query ranks without reading docs).
/// The commonest pairs get a class each; every weight left with others
/// gets one class that says nothing of the name.
pub(crate) struct Classes {
    list: Vec<(u32, u8)>,
}

impl Classes {
    /// Chooses the classes from each distinct `(weight, kind)` pair of the
    /// postings and its count.
    pub(crate) fn choose(counts: &[((u32, u8), usize)]) -> Result<Self, PackError> {
        let mut weights: Vec<u32> = counts.iter().map(|((w, _), _)| *w).collect();
        weights.sort_unstable_by(|a, b| b.cmp(a));
        weights.dedup();
        if weights.len() > MAX_CLASSES {
            return Err(PackError::Unsupported(format!("{} distinct weights (at most {MAX_CLASSES})", weights.len())));
        }
        let mut exact: Vec<((u32, u8), usize)> = counts.iter().copied().filter(|((_, k), _)| *k != UNKNOWN).collect();
        exact.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut k = exact.len();
        let list = loop {
            let chosen: Vec<(u32, u8)> = exact.iter().take(k).map(|e| e.0).collect();
            let rest = weights
                .iter()
                .filter(|w| exact.iter().skip(k).any(|((x, _), _)| x == *w) || !chosen.iter().any(|(x, _)| x == *w));
            let mut list = chosen.clone();
            list.extend(rest.map(|w| (*w, UNKNOWN)));
            if list.len() <= MAX_CLASSES || k == 0 {
                break list;
            }
            k -= 1;
        };
        Ok(Classes { list })
    }

    /// The class of a posting's `(weight, kind)`: its own, else its
    /// weight's class that says nothing of the name.
    pub(crate) fn id(&self, pair: (u32, u8)) -> u8 {
        let id = |c: (u32, u8)| self.list.iter().position(|x| *x == c).map(|i| i as u8);
        id(pair).or_else(|| id((pair.0, UNKNOWN))).unwrap_or_default()
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// `[weight varint][kind u8]` per class.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        for (w, k) in &self.list {
            put_varint(out, u64::from(*w));
            out.push(*k);
        }
    }

    /// Each class's weight and match.
    pub(crate) fn read(r: &mut Reader<'_>, n: usize) -> Option<(Vec<u32>, Vec<Option<NameMatch>>)> {
        (0..n).map(|_| Some((r.u32v()?, match_of(r.u8()?)))).collect::<Option<Vec<_>>>().map(|v| v.into_iter().unzip())
    }
}

/// Encodes a term's `(doc, class)` list (docs ascending); says whether dense.
///
/// The first byte is 0 when the postings' classes differ, else one more
/// than their one class (most lists: a material's bigram is a material
/// everywhere). Then, sparse: `varint(gap << bits | class)`, or
/// `varint(gap)` for one class; dense: a nibble per doc (`class + 1`), or a
/// bit per doc for one class. Whichever is smaller.
pub(crate) fn encode_terms(list: &[(u32, u8)], docs: usize, bits: u32) -> (Vec<u8>, bool) {
    let one = list.first().map(|f| f.1).filter(|c| list.iter().all(|p| p.1 == *c));
    let mut sparse = vec![one.map_or(0, |c| c + 1)];
    let mut prev: Option<u32> = None;
    for &(doc, class) in list {
        let gap = u64::from(prev.map_or(doc, |p| doc - p - 1));
        put_varint(&mut sparse, if one.is_some() { gap } else { (gap << bits) | u64::from(class) });
        prev = Some(doc);
    }
    let dense_len = 1 + if one.is_some() { docs.div_ceil(8) } else { docs.div_ceil(2) };
    if sparse.len() <= dense_len {
        return (sparse, false);
    }
    let mut dense = vec![0u8; dense_len];
    if let Some(head) = dense.first_mut() {
        *head = one.map_or(0, |c| c + 1);
    }
    for &(doc, class) in list {
        let d = doc as usize;
        let (at, bit) =
            if one.is_some() { (1 + d / 8, 1 << (d % 8)) } else { (1 + d / 2, (class + 1) << (4 * (d % 2))) };
        if let Some(b) = dense.get_mut(at) {
            *b |= bit;
        }
    }
    (dense, true)
}

/// Decodes term postings lazily: `(doc, class)` in doc order.
pub(crate) enum TermIter<'a> {
    Sparse {
        r: Reader<'a>,
        prev: Option<u32>,
        bits: u32,
    },
    /// Sparse, every posting of one class.
    SparseOne {
        r: Reader<'a>,
        prev: Option<u32>,
        class: u8,
    },
    Dense {
        bytes: &'a [u8],
        doc: usize,
        docs: usize,
    },
    /// A bit per doc, every posting of one class.
    Bits {
        bytes: &'a [u8],
        doc: usize,
        docs: usize,
        class: u8,
    },
}

impl<'a> TermIter<'a> {
    pub(crate) fn new(bytes: &'a [u8], dense: bool, docs: usize, bits: u32) -> Self {
        let (Some(&head), Some(rest)) = (bytes.first(), bytes.get(1..)) else { return Self::empty() };
        match (dense, head.checked_sub(1)) {
            (false, None) => TermIter::Sparse { r: Reader::new(rest), prev: None, bits },
            (false, Some(class)) => TermIter::SparseOne { r: Reader::new(rest), prev: None, class },
            (true, None) => TermIter::Dense { bytes: rest, doc: 0, docs },
            (true, Some(class)) => TermIter::Bits { bytes: rest, doc: 0, docs, class },
        }
    }

    pub(crate) fn empty() -> Self {
        TermIter::Dense { bytes: &[], doc: 0, docs: 0 }
    }
}

/// The doc after `prev` at `gap`.
#[inline(always)]
fn after(prev: &mut Option<u32>, gap: u32) -> Option<u32> {
    let doc = match prev {
        None => gap,
        Some(p) => p.checked_add(gap)?.checked_add(1)?,
    };
    *prev = Some(doc);
    Some(doc)
}

impl Iterator for TermIter<'_> {
    type Item = (u32, u8);

    #[inline(always)]
    fn next(&mut self) -> Option<(u32, u8)> {
        match self {
            TermIter::Sparse { r, prev, bits } => {
                let v = r.varint()?;
                let gap = u32::try_from(v >> *bits).ok()?;
                let class = (v & ((1u64 << *bits) - 1)) as u8;
                Some((after(prev, gap)?, class))
            }
            TermIter::SparseOne { r, prev, class } => {
                let gap = u32::try_from(r.varint()?).ok()?;
                Some((after(prev, gap)?, *class))
            }
            TermIter::Dense { bytes, doc, docs } => {
                while *doc < *docs {
                    let d = *doc;
                    *doc += 1;
                    let byte = *bytes.get(d / 2)?;
                    if byte == 0 {
                        // Skip the other half of an empty byte at once.
                        *doc = (d | 1) + 1;
                        continue;
                    }
                    let nib = (byte >> (4 * (d % 2))) & 0xf;
                    if nib != 0 {
                        return Some((d as u32, nib - 1));
                    }
                }
                None
            }
            TermIter::Bits { bytes, doc, docs, class } => {
                while *doc < *docs {
                    let d = *doc;
                    let byte = *bytes.get(d / 8)? >> (d % 8);
                    if byte == 0 {
                        // Skip the rest of an empty byte at once.
                        *doc = (d | 7) + 1;
                        continue;
                    }
                    let skip = byte.trailing_zeros() as usize;
                    *doc = d + skip + 1;
                    if d + skip < *docs {
                        return Some(((d + skip) as u32, *class));
                    }
                }
                None
            }
        }
    }
}

/// Encodes a pinyin key's docs (ascending); says whether dense.
pub(crate) fn encode_docs(list: &[u32], docs: usize) -> (Vec<u8>, bool) {
    let mut sparse = Vec::new();
    let mut prev: Option<u32> = None;
    for &doc in list {
        put_varint(&mut sparse, u64::from(prev.map_or(doc, |p| doc - p - 1)));
        prev = Some(doc);
    }
    if sparse.len() <= docs.div_ceil(8) {
        return (sparse, false);
    }
    let mut bits = vec![0u8; docs.div_ceil(8)];
    for &doc in list {
        if let Some(b) = bits.get_mut(doc as usize / 8) {
            *b |= 1 << (doc % 8);
        }
    }
    (bits, true)
}

/// Decodes a pinyin key's docs.
pub(crate) fn decode_docs(bytes: &[u8], dense: bool, count: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(count.min(bytes.len().saturating_mul(8)));
    if dense {
        for (i, b) in bytes.iter().enumerate() {
            let mut b = *b;
            while b != 0 {
                out.push((i * 8) as u32 + b.trailing_zeros());
                b &= b - 1;
            }
        }
        return out;
    }
    let mut r = Reader::new(bytes);
    let mut prev: Option<u32> = None;
    while let Some(v) = r.u32v() {
        let Some(doc) = (match prev {
            None => Some(v),
            Some(p) => p.checked_add(v).and_then(|d| d.checked_add(1)),
        }) else {
            break;
        };
        out.push(doc);
        prev = Some(doc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_and_dense_term_postings_decode_to_what_was_encoded() {
        let sparse: Vec<(u32, u8)> = vec![(0, 1), (5, 0), (6, 3), (900, 2)];
        let (bytes, dense) = encode_terms(&sparse, 1000, 2);
        assert!(!dense);
        assert_eq!(TermIter::new(&bytes, dense, 1000, 2).collect::<Vec<_>>(), sparse);
        let full: Vec<(u32, u8)> = (0..1000).filter(|d| d % 3 != 0).map(|d| (d, (d % 4) as u8)).collect();
        let (bytes, dense) = encode_terms(&full, 1000, 2);
        assert!(dense && bytes.len() == 501);
        assert_eq!(TermIter::new(&bytes, dense, 1000, 2).collect::<Vec<_>>(), full);
    }

    #[test]
    fn a_list_of_one_class_keeps_only_gaps_or_bits() {
        let sparse: Vec<(u32, u8)> = vec![(0, 2), (9, 2), (300, 2), (999, 2)];
        let (bytes, dense) = encode_terms(&sparse, 1000, 4);
        assert!(!dense && bytes.len() == 1 + 1 + 1 + 2 + 2, "{bytes:?}");
        assert_eq!(TermIter::new(&bytes, dense, 1000, 4).collect::<Vec<_>>(), sparse);
        let full: Vec<(u32, u8)> = (0..1003).filter(|d| d % 3 != 0 || *d == 1002).map(|d| (d, 5)).collect();
        let (bytes, dense) = encode_terms(&full, 1003, 4);
        assert!(dense && bytes.len() == 1 + 126, "a bit per doc");
        assert_eq!(TermIter::new(&bytes, dense, 1003, 4).collect::<Vec<_>>(), full);
        let (bytes, dense) = encode_terms(&[], 1003, 4);
        assert_eq!(TermIter::new(&bytes, dense, 1003, 4).count(), 0);
        assert_eq!(TermIter::new(&[], true, 1003, 4).count(), 0, "no header: nothing");
        assert_eq!(TermIter::new(&[6, 0xff, 0xff], true, 10, 4).count(), 10, "bits past the docs are ignored");
    }

    #[test]
    fn key_postings_round_trip_both_ways() {
        for list in [vec![3u32, 4, 90, 91, 4000], (0..5000).step_by(2).collect()] {
            let (bytes, dense) = encode_docs(&list, 5000);
            assert_eq!(decode_docs(&bytes, dense, list.len()), list);
        }
        assert!(encode_docs(&(0..5000).collect::<Vec<_>>(), 5000).1);
    }
}
