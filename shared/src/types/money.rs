use super::invalid::InvalidInput;
use serde::{Deserialize, Serialize};

/// An amount of money in fen (分), the unit WeChat Pay uses. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    /// Builds a non-negative amount.
    pub fn new(fen: i64) -> Result<Self, InvalidInput> {
        if fen >= 0 { Ok(Self(fen)) } else { Err(InvalidInput("金额不能为负数")) }
    }

    /// Parses a yuan amount with at most two decimals, as Alipay sends it ("12.30").
    pub fn parse_yuan(raw: &str) -> Result<Self, InvalidInput> {
        const BAD: InvalidInput = InvalidInput("金额格式不正确，应为最多两位小数的元");
        let (whole, frac) = raw.split_once('.').map_or((raw, None), |(w, f)| (w, Some(f)));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let frac_ok = frac.is_none_or(|f| digits(f) && f.len() <= 2);
        if !digits(whole) || !frac_ok || whole.len() > 12 {
            return Err(BAD);
        }
        let yuan: i64 = whole.parse().map_err(|_| BAD)?;
        let cents: i64 = format!("{:0<2}", frac.unwrap_or("")).parse().map_err(|_| BAD)?;
        Ok(Self(yuan * 100 + cents))
    }

    /// The amount in fen.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The amount as yuan text with two decimals ("12.30").
    pub fn to_yuan(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_round_trips_through_fen_without_floats() {
        for (yuan, fen) in [("0.01", 1), ("12.3", 1230), ("12.30", 1230), ("100", 10000), ("0.10", 10)] {
            let parsed = Fen::parse_yuan(yuan);
            assert_eq!(parsed.map(Fen::get), Ok(fen), "{yuan}");
        }
        assert_eq!(Fen::new(1230).map(Fen::to_yuan), Ok("12.30".into()));
    }

    #[test]
    fn rejects_negative_and_malformed_amounts() {
        assert!(Fen::new(-1).is_err());
        for raw in ["", ".5", "1.234", "-1", "1e3", "1,00", "abc", "1.", "9999999999999"] {
            assert!(Fen::parse_yuan(raw).is_err(), "{raw}");
        }
    }
}
