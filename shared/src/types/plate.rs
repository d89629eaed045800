use super::invalid::InvalidInput;
use serde::Serialize;

/// Province abbreviations that open a civilian plate (GA 36).
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A Chinese motor vehicle plate (号牌): province character, issuing-office
/// letter, then 5 characters (ordinary plates) or 6 (new-energy plates, with
/// D or F at the start or the end of the six). Letters I and O are never used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PlateNumber(String);

fn serial(c: char) -> bool {
    (c.is_ascii_uppercase() && c != 'I' && c != 'O') || c.is_ascii_digit()
}

impl PlateNumber {
    /// Parses a plate; spaces, a middle dot and lowercase letters are accepted.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '·' && *c != '-').collect();
        let s = s.to_uppercase();
        let mut chars = s.chars();
        let ok = chars.next().is_some_and(|p| PROVINCES.contains(p))
            && chars.next().is_some_and(|l| l.is_ascii_uppercase() && l != 'I' && l != 'O');
        let rest: Vec<char> = chars.collect();
        let new_energy =
            rest.len() == 6 && (matches!(rest.first(), Some('D' | 'F')) || matches!(rest.last(), Some('D' | 'F')));
        if ok && (rest.len() == 5 || new_energy) && rest.iter().all(|c| serial(*c)) {
            Ok(Self(s))
        } else {
            Err(InvalidInput("车牌号格式不正确，例如 浙G12345 或新能源 浙GD12345"))
        }
    }

    /// The plate as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::invalid::deserialize_via_parse!(PlateNumber);

#[cfg(test)]
mod tests {
    use super::PlateNumber;

    #[test]
    fn ordinary_and_new_energy_plates_parse_and_others_do_not() {
        for ok in ["浙G12345", "浙g·1234A", "京AD12345", "沪A12345F", " 粤B 8N123 "] {
            assert!(PlateNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "G12345", "浙12345", "浙GI2345", "浙G1234", "浙G123456", "X浙12345", "浙GA12345"] {
            assert!(PlateNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PlateNumber::parse("浙g·12345").map(|p| p.as_str().to_owned()), Ok("浙G12345".into()));
    }
}
