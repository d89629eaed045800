use super::codes::ItemCode;
use super::invalid::InvalidInput;
use serde::Serialize;

/// A 行政区划代码 (GB/T 2260): six digits, `XX0000` a province, `XXXX00` a
/// city (地级), anything else a county (县级: county, district, county-level
/// city). An item's region is its implementing body's: characters 3-8 of
/// the unified social credit code its 实施编码 starts with (GB 32100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region([u8; 6]);

/// The level of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    City,
    County,
}

impl RegionLevel {
    /// The stored and answered text.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
        }
    }
}

/// The first two digits of every province-level region of GB/T 2260
/// (provinces, autonomous regions, municipalities, Taiwan, Hong Kong, Macao).
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

impl Region {
    /// Parses six ASCII digits whose first two name a province.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let digits: [u8; 6] = raw
            .trim()
            .as_bytes()
            .try_into()
            .ok()
            .filter(|d: &[u8; 6]| d.iter().all(u8::is_ascii_digit))
            .ok_or(InvalidInput("行政区划代码应为6位数字"))?;
        let [a, b, ..] = digits;
        if PROVINCES.contains(&((a - b'0') * 10 + (b - b'0'))) {
            Ok(Self(digits))
        } else {
            Err(InvalidInput("行政区划代码的前两位不是有效的省级代码"))
        }
    }

    /// The region of an implementation code's implementing body, when
    /// characters 3-8 of its credit code are a region code.
    pub fn of_item(code: &ItemCode) -> Option<Self> {
        Self::of_code(code.as_str())
    }

    /// The same from a code as stored text (not checked otherwise).
    pub fn of_code(code: &str) -> Option<Self> {
        code.get(2..8).and_then(|r| Self::parse(r).ok())
    }

    pub fn level(&self) -> RegionLevel {
        match self.0 {
            [_, _, b'0', b'0', b'0', b'0'] => RegionLevel::Province,
            [_, _, _, _, b'0', b'0'] => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The province this region is in (itself for a province).
    pub fn province(&self) -> Region {
        let [a, b, ..] = self.0;
        Region([a, b, b'0', b'0', b'0', b'0'])
    }

    /// The city this region is in (itself for a city), `None` for a province.
    pub fn city(&self) -> Option<Region> {
        let [a, b, c, d, ..] = self.0;
        (self.level() != RegionLevel::Province).then_some(Region([a, b, c, d, b'0', b'0']))
    }

    /// Whether `other` is this region or lies inside it.
    pub fn contains(&self, other: &Region) -> bool {
        match self.level() {
            RegionLevel::Province => self.province() == other.province(),
            RegionLevel::City => other.city() == Some(*self),
            RegionLevel::County => other == self,
        }
    }

    /// Whether an item of region `item` serves someone in this region: the
    /// region's own items, those of the regions it lies in, and those of the
    /// regions inside it (never a sibling's).
    pub fn sees(&self, item: &Region) -> bool {
        self.contains(item) || item.contains(self)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

super::invalid::deserialize_via_parse!(Region);

impl ItemCode {
    /// The region of the implementing body (characters 3-8 of its credit code).
    pub fn region(&self) -> Option<Region> {
        Region::of_item(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Region {
        Region::parse(s).unwrap()
    }

    #[test]
    fn a_region_is_six_digits_of_a_known_province() {
        assert_eq!(r("330782").as_str(), "330782");
        assert_eq!(r(" 330000 ").as_str(), "330000");
        for bad in ["", "33078", "3307820", "33078a", "００００００", "000000", "003301", "990100", "330７82"] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn level_province_and_city_follow_the_zero_pairs() {
        assert_eq!(r("330000").level(), RegionLevel::Province);
        assert_eq!(r("330700").level(), RegionLevel::City);
        assert_eq!(r("330782").level(), RegionLevel::County);
        assert_eq!(r("330782").province(), r("330000"));
        assert_eq!(r("330782").city(), Some(r("330700")));
        assert_eq!(r("330700").city(), Some(r("330700")));
        assert_eq!(r("330000").city(), None);
    }

    #[test]
    fn a_county_sees_itself_its_city_and_province_never_a_sibling() {
        let yiwu = r("330782");
        for seen in ["330782", "330700", "330000"] {
            assert!(yiwu.sees(&r(seen)), "{seen}");
        }
        for unseen in ["330783", "330100", "330106", "320000", "320582"] {
            assert!(!yiwu.sees(&r(unseen)), "{unseen}");
        }
    }

    #[test]
    fn a_city_sees_its_counties_and_province_a_province_all_of_it() {
        let jinhua = r("330700");
        for seen in ["330782", "330783", "330700", "330000"] {
            assert!(jinhua.sees(&r(seen)), "{seen}");
        }
        assert!(!jinhua.sees(&r("330106")));
        assert!(!jinhua.sees(&r("330100")));
        let zj = r("330000");
        assert!(["330106", "330100", "330782", "330000"].iter().all(|s| zj.sees(&r(s))));
        assert!(!zj.sees(&r("320582")));
    }

    #[test]
    fn an_item_code_names_its_region() {
        let code = ItemCode::parse("91440300708461136T4000172009000").unwrap();
        assert_eq!(code.region(), Some(r("440300")));
        assert_eq!(Region::of_code("11330782005000000"), Some(r("330782")));
        assert_eq!(Region::of_code("1133"), None);
    }
}
