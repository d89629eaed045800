//! The regions of a packed index (format 3): the table (varint count, then
//! each region's code and name, an empty name when the `regions` table has
//! none) and the per-document column (one little-endian u16 per doc, its
//! region's position in the table, [`NO_REGION`] when it has none).

use super::codec::{Reader, put_str, put_varint};
use crate::region::{NO_REGION, Regions};
use shared::types::Region;

pub(crate) fn write_table(regions: &Regions) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, regions.entries().len() as u64);
    for (code, name) in regions.entries() {
        put_str(&mut out, code.as_str());
        put_str(&mut out, name.as_deref().unwrap_or_default());
    }
    out
}

/// The table, or `None` when its bytes are not a sorted table of valid codes.
pub(crate) fn read_table(bytes: &[u8]) -> Option<Regions> {
    let mut r = Reader::new(bytes);
    let n = r.usize()?;
    let list = (0..n)
        .map(|_| {
            let code = Region::parse(&r.string()?).ok()?;
            let name = r.string()?;
            Some((code, (!name.is_empty()).then_some(name)))
        })
        .collect::<Option<Vec<_>>>()?;
    if !r.is_empty() {
        return None;
    }
    Regions::from_sorted(list)
}

/// Whether a column holds one id per doc, each in the table or [`NO_REGION`].
pub(crate) fn column_fits(col: &[u8], docs: usize, regions: &Regions) -> bool {
    let n = regions.entries().len();
    col.len() == docs.saturating_mul(2)
        && col.chunks_exact(2).all(|c| match c {
            &[a, b] => {
                let id = u16::from_le_bytes([a, b]);
                id == NO_REGION || usize::from(id) < n
            }
            _ => false,
        })
}

/// Doc `id`'s region id, `None` when it has none (or the column is short).
#[inline(always)]
pub(crate) fn region_at(col: &[u8], id: u32) -> Option<u16> {
    let at = (id as usize).checked_mul(2)?;
    match col.get(at..at.checked_add(2)?)? {
        &[a, b] => Some(u16::from_le_bytes([a, b])).filter(|r| *r != NO_REGION),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_back_as_written() {
        let named = vec![("330782".to_owned(), "义乌市".to_owned())];
        let t = Regions::build(&named, Region::parse("440300").ok());
        assert_eq!(read_table(&write_table(&t)), Some(t));
        assert_eq!(read_table(&[1, 0]), None);
        assert_eq!(region_at(&[1, 0, 0xff, 0xff], 0), Some(1));
        assert_eq!(region_at(&[1, 0, 0xff, 0xff], 1), None);
        assert_eq!(region_at(&[1, 0], 1), None);
    }
}
