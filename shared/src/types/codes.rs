use super::ids::SocialCreditCode;
use super::invalid::InvalidInput;
use serde::Serialize;

/// A basic item code (基本编码) in the style of GB/T 39554.1: 12 digits naming
/// the item in the national basic directory, independent of who implements it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BasicCode(String);

impl BasicCode {
    /// Parses a 12-digit basic code.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim();
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidInput("事项基本编码应为12位数字"))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An implementation code (实施编码) in the style of GB/T 39554.1: the
/// implementing body's unified social credit code (18, with its GB 32100 check
/// character), one digit for the level that exercises it (1 national to
/// 6 village), and the 12-digit basic code. 31 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ItemCode(String);

/// Length of an implementation code.
pub const ITEM_CODE_LEN: usize = 31;

impl ItemCode {
    /// Parses an implementation code; lowercase letters are accepted.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != ITEM_CODE_LEN || !s.is_ascii() {
            return Err(InvalidInput("事项编码应为31位实施编码"));
        }
        let (org, rest) = s.split_at(18);
        SocialCreditCode::parse(org).map_err(|_| InvalidInput("事项编码中的实施主体代码无效"))?;
        let level_ok = rest.as_bytes().first().is_some_and(|l| (b'1'..=b'6').contains(l));
        let basic_ok = rest.get(1..).is_some_and(|b| BasicCode::parse(b).is_ok());
        if level_ok && basic_ok {
            Ok(Self(s))
        } else {
            Err(InvalidInput("事项编码中的层级或基本编码无效"))
        }
    }

    /// The basic code this implementation code carries.
    pub fn basic_code(&self) -> &str {
        self.0.get(19..).unwrap_or_default()
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::invalid::deserialize_via_parse!(ItemCode);

#[cfg(test)]
mod tests {
    use super::*;

    const WATER: &str = "91440300708461136T4000172009000";

    #[test]
    fn implementation_code_has_org_level_and_basic_code() {
        let code = ItemCode::parse(WATER).map(|c| c.basic_code().to_owned());
        assert_eq!(code, Ok("000172009000".into()));
        assert!(ItemCode::parse(&WATER.to_lowercase()).is_ok());
    }

    #[test]
    fn implementation_code_rejects_each_broken_part() {
        let bad_check = WATER.replacen('T', "U", 1);
        let bad_level = WATER.replacen("T4", "T7", 1);
        let bad_basic = WATER.replacen("9000", "900A", 1);
        for raw in ["", "abc", &WATER[..30], &bad_check, &bad_level, &bad_basic, "９１440300708461136T4000172009000"]
        {
            assert!(ItemCode::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn basic_code_is_twelve_digits() {
        assert!(BasicCode::parse("000172009000").is_ok());
        assert!(BasicCode::parse("00017200900").is_err());
        assert!(BasicCode::parse("00017200900x").is_err());
    }
}
