//! The name as written, stored as an edit of the compact name (format 5).
//!
//! The compact name (normalised, spaces dropped) is what scoring reads, so it
//! lies in the text part; the name as written is read only for the hits of a
//! page and for suggestions, and differs from it by a few characters (the
//! brackets of "出生医学证明（首次签发）", full-width or upper-case letters,
//! traditional characters). It is stored as edits: `[n ops]`, the name's
//! length in characters (suggestions rank by it), then per op `[copy bytes]
//! [skip bytes][insert length][insert bytes]` (varints): copy bytes of the
//! compact name, skip some, insert others. No ops (and no length): the name
//! is the compact name itself.

use super::codec::{Reader, put_varint};
use crate::text::fold_char;
use std::borrow::Cow;

#[derive(Debug, Default, PartialEq)]
struct Op {
    copy: usize,
    skip: usize,
    insert: String,
}

impl Op {
    fn is_empty(&self) -> bool {
        self.copy == 0 && self.skip == 0 && self.insert.is_empty()
    }
}

/// The edits that make `name` from `compact` (characters `name` shares with
/// it copied, characters it writes otherwise replaced, the rest inserted).
pub(crate) fn write(out: &mut Vec<u8>, name: &str, compact: &str) {
    let ops = diff(name, compact);
    let whole = [Op { copy: compact.len(), skip: 0, insert: String::new() }];
    let ops: &[Op] = if ops == whole { &[] } else { &ops };
    put_varint(out, ops.len() as u64);
    if !ops.is_empty() {
        put_varint(out, name.chars().count() as u64);
    }
    for op in ops {
        put_varint(out, op.copy as u64);
        put_varint(out, op.skip as u64);
        put_varint(out, op.insert.len() as u64);
        out.extend_from_slice(op.insert.as_bytes());
    }
}

fn diff(name: &str, compact: &str) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut cur = Op::default();
    let mut rest = compact;
    for c in name.chars() {
        let next = rest.chars().next();
        if next == Some(c) {
            if cur.skip > 0 || !cur.insert.is_empty() {
                ops.push(std::mem::take(&mut cur));
            }
            cur.copy += c.len_utf8();
        } else if let Some(n) = next.filter(|n| fold_char(c) == *n) {
            if !cur.insert.is_empty() {
                ops.push(std::mem::take(&mut cur));
            }
            cur.skip += n.len_utf8();
            cur.insert.push(c);
        } else {
            cur.insert.push(c);
            continue;
        }
        rest = rest.get(next.map_or(0, char::len_utf8)..).unwrap_or_default();
    }
    if !rest.is_empty() {
        if !cur.insert.is_empty() {
            ops.push(std::mem::take(&mut cur));
        }
        cur.skip += rest.len();
    }
    if !cur.is_empty() {
        ops.push(cur);
    }
    ops
}

/// The name the edits a reader stands at make from `compact` (`None` when
/// they do not fit it).
pub(crate) fn apply<'a>(compact: &'a str, r: &mut Reader<'_>) -> Option<Cow<'a, str>> {
    let n = r.usize()?;
    if n == 0 {
        return Some(Cow::Borrowed(compact));
    }
    r.usize()?;
    let mut out = String::with_capacity(compact.len() + 8);
    let mut at = 0usize;
    for _ in 0..n {
        let copy = r.usize()?;
        let skip = r.usize()?;
        let len = r.usize()?;
        let end = at.checked_add(copy)?;
        out.push_str(compact.get(at..end)?);
        at = end.checked_add(skip)?;
        compact.get(at..)?;
        out.push_str(std::str::from_utf8(r.bytes(len)?).ok()?);
    }
    out.push_str(compact.get(at..)?);
    Some(Cow::Owned(out))
}

/// The number of characters of the name the edits make, without making it.
pub(crate) fn chars(compact: &str, r: &mut Reader<'_>) -> Option<usize> {
    match r.usize()? {
        0 => Some(compact.chars().count()),
        _ => r.usize(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn round_trip(name: &str) -> usize {
        let compact: String = normalize(name).chars().filter(|c| !c.is_whitespace()).collect();
        let mut bytes = Vec::new();
        write(&mut bytes, name, &compact);
        let mut r = Reader::new(&bytes);
        assert_eq!(apply(&compact, &mut r).as_deref(), Some(name), "{name}");
        assert!(r.bytes(1).is_none(), "{name}: bytes left after the edits");
        assert_eq!(chars(&compact, &mut Reader::new(&bytes)), Some(name.chars().count()), "{name}");
        bytes.len()
    }

    #[test]
    fn every_name_comes_back_from_its_compact_form() {
        for name in [
            "居住证换领",
            "出生医学证明（首次签发）",
            "道路运输证年检（000000）",
            "ＡＢＣ证 换领",
            "不動產登記 (Ｉ) ",
            " 前后空格 ",
            "《食品经营许可证》核发、延续、变更",
            "医师执业注册-首次",
            "——",
            "",
            "A",
        ] {
            round_trip(name);
        }
    }

    #[test]
    fn a_name_that_is_its_compact_form_costs_one_byte_and_brackets_a_few() {
        assert_eq!(round_trip("居住证换领"), 1);
        // Two ops of copy, skip and a three-byte bracket, and the length:
        // 14 bytes, not 33.
        assert_eq!(round_trip("道路运输证年检（000000）"), 14);
    }

    #[test]
    fn edits_that_do_not_fit_the_compact_name_are_refused() {
        for bytes in [
            vec![1, 9, 0, 0],             // copies past the end
            vec![1, 1, 0, 0],             // splits a character
            vec![1, 0, 9, 0],             // skips past the end
            vec![1, 0, 0, 2, 0xff, 0xfe], // inserts bytes that are not UTF-8
            vec![2, 0, 0, 0],             // an op missing
        ] {
            assert_eq!(apply("证明", &mut Reader::new(&bytes)), None, "{bytes:?}");
        }
    }
}
