//! Regions (行政区划) in search: the table of regions an index knows (named
//! by the `regions` table, or carried by an item), which of them a search
//! in one region sees, and how a hit names its region.
//!
//! Each document keeps its region as an id into this table (a column in the
//! packed index), so the region filter is one table lookup per candidate.

use serde::{Deserialize, Serialize};
use shared::ApiResult;
use shared::store::Db;
use shared::types::{Region, RegionLevel};

/// A document without a region (its code's characters 3-8 are no region code).
pub const NO_REGION: u16 = u16::MAX;

/// The regions an index knows, sorted by code, each with its name if the
/// `regions` table has one. At most [`NO_REGION`] of them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Regions {
    list: Vec<(Region, Option<String>)>,
}

#[derive(Deserialize)]
struct NameRow {
    code: String,
    name: String,
}

/// The named regions (`regions` table) as `(code, name)`.
pub async fn load_names(db: &impl Db) -> ApiResult<Vec<(String, String)>> {
    let rows: Vec<NameRow> = db.query_as("SELECT code, name FROM regions ORDER BY code", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}

impl Regions {
    /// The named regions and those the items carry (unnamed unless listed).
    /// Regions past the [`NO_REGION`]th are left out (their items read as
    /// having none).
    pub fn build(named: &[(String, String)], carried: impl IntoIterator<Item = Region>) -> Self {
        let mut list: Vec<(Region, Option<String>)> = named
            .iter()
            .filter_map(|(c, n)| Region::parse(c).ok().map(|r| (r, Some(n.clone()))))
            .chain(carried.into_iter().map(|r| (r, None)))
            .collect();
        // Named first among equal codes, so dedup keeps the name.
        list.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.is_some().cmp(&a.1.is_some())));
        list.dedup_by(|a, b| a.0 == b.0);
        list.truncate(usize::from(NO_REGION));
        Regions { list }
    }

    /// The table as it is stored (sorted, distinct codes).
    pub fn from_sorted(list: Vec<(Region, Option<String>)>) -> Option<Self> {
        let sorted = list.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0));
        (sorted && list.len() <= usize::from(NO_REGION)).then_some(Regions { list })
    }

    pub fn entries(&self) -> &[(Region, Option<String>)] {
        &self.list
    }

    /// The id of a region, `None` when the index does not know it.
    pub fn id(&self, r: &Region) -> Option<u16> {
        self.list.binary_search_by(|(x, _)| x.cmp(r)).ok().and_then(|i| u16::try_from(i).ok())
    }

    /// The id of the region an item code carries, [`NO_REGION`] if none.
    pub fn id_of_code(&self, code: &str) -> u16 {
        Region::of_code(code).and_then(|r| self.id(&r)).unwrap_or(NO_REGION)
    }

    /// Per region id: whether a search in `from` sees its items.
    pub fn seen_from(&self, from: &Region) -> Vec<bool> {
        self.list.iter().map(|(r, _)| from.sees(r)).collect()
    }

    /// How a hit names the region of this id.
    pub fn view(&self, id: u16) -> Option<RegionView> {
        self.list.get(usize::from(id)).map(|(r, name)| RegionView { code: *r, name: name.clone(), level: r.level() })
    }
}

/// The region of a hit: its code, its name when known, its level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionView {
    pub code: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub level: RegionLevel,
}

/// The region filter of a query resolved against an index: per region id,
/// whether its items are seen.
#[derive(Debug, Clone)]
pub struct RegionFilter(Vec<bool>);

impl RegionFilter {
    pub fn new(regions: &Regions, from: &Region) -> Self {
        RegionFilter(regions.seen_from(from))
    }

    /// Whether a document of this region id passes (one without a region never does).
    #[inline(always)]
    pub fn passes(&self, id: Option<u16>) -> bool {
        id.and_then(|i| self.0.get(usize::from(i))).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_table_merges_names_and_carried_codes_sorted_and_distinct() {
        let named = vec![("330782".to_owned(), "义乌市".to_owned()), ("330000".to_owned(), "浙江省".to_owned())];
        let t = Regions::build(&named, [r("440300"), r("330782"), r("330782")]);
        let codes: Vec<&str> = t.entries().iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes, ["330000", "330782", "440300"]);
        assert_eq!(t.view(1).and_then(|v| v.name), Some("义乌市".to_owned()));
        assert_eq!(t.view(2).map(|v| (v.name, v.level)), Some((None, RegionLevel::City)));
        assert_eq!(t.id_of_code("11330782005000000X4000000000001"), 1);
        assert_eq!(t.id_of_code("11000000005000000X4000000000001"), NO_REGION);
        assert_eq!(Regions::from_sorted(t.entries().to_vec()), Some(t.clone()));
        assert_eq!(Regions::from_sorted(t.entries().iter().rev().cloned().collect()), None);
    }

    #[test]
    fn a_filter_passes_the_regions_a_county_sees() {
        let t = Regions::build(&[], [r("330000"), r("330700"), r("330782"), r("330783")]);
        let f = RegionFilter::new(&t, &r("330782"));
        let seen: Vec<bool> = (0..4).map(|i| f.passes(Some(i))).collect();
        assert_eq!(seen, [true, true, true, false]);
        assert!(!f.passes(None));
        assert!(!f.passes(Some(NO_REGION)));
    }
}
