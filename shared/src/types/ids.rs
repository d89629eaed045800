use super::invalid::InvalidInput;
use serde::Serialize;

/// An 18-character resident identity number (GB 11643-1999) whose check digit
/// (ISO 7064 MOD 11-2) and birth date are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ResidentId(String);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

impl ResidentId {
    /// Parses an ID number; a lowercase `x` check character is accepted.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let (body, check) = match (b.get(..17), b.get(17)) {
            (Some(body), Some(check)) if b.len() == 18 => (body, *check),
            _ => return Err(InvalidInput("身份证号码应为18位")),
        };
        if !body.iter().all(u8::is_ascii_digit) {
            return Err(InvalidInput("身份证号码前17位应为数字"));
        }
        let sum: u32 = body.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
        if ID_CHECK.get((sum % 11) as usize) != Some(&check) {
            return Err(InvalidInput("身份证号码校验位不正确，请核对"));
        }
        let birth = s.get(6..14).unwrap_or_default();
        if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(InvalidInput("身份证号码中的出生日期无效"));
        }
        Ok(Self(s))
    }

    /// The full number: only for the systems that need it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `110101********0012`, safe for responses and logs.
    pub fn masked(&self) -> String {
        crate::pii::mask_id_number(&self.0)
    }
}

/// An 18-character unified social credit code (GB 32100-2015) with a valid
/// MOD 31 check character. Letters I, O, Z, S, V are never used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SocialCreditCode(String);

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl SocialCreditCode {
    /// Parses a credit code; lowercase letters are accepted.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != 18 {
            return Err(InvalidInput("统一社会信用代码应为18位"));
        }
        let check =
            Self::check_char(s.get(..17).unwrap_or_default()).ok_or(InvalidInput("统一社会信用代码含有无效字符"))?;
        if s.as_bytes().get(17) != Some(&check) {
            return Err(InvalidInput("统一社会信用代码校验位不正确，请核对"));
        }
        Ok(Self(s))
    }

    /// The GB 32100 check character for the first 17 characters, if they are valid.
    pub fn check_char(body: &str) -> Option<u8> {
        if body.len() != 17 {
            return None;
        }
        let mut sum = 0u32;
        for (c, w) in body.bytes().zip(USCC_WEIGHTS) {
            let v = USCC_ALPHABET.iter().position(|a| *a == c)?;
            sum += v as u32 * w;
        }
        USCC_ALPHABET.get(((31 - sum % 31) % 31) as usize).copied()
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::invalid::deserialize_via_parse!(SocialCreditCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_id_check_digit_follows_gb11643() {
        // The standard's own example number.
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert!(ResidentId::parse("110105194912310021").is_err());
        assert!(ResidentId::parse("440524188001010014").is_ok());
    }

    #[test]
    fn resident_id_rejects_bad_shape_and_dates() {
        for raw in ["", "11010519491231002", "1101051949123100X2", "110105194913310028", "11010519491231002XX"] {
            assert!(ResidentId::parse(raw).is_err(), "{raw}");
        }
        let id = ResidentId::parse("11010519491231002X").map(|i| i.masked());
        assert_eq!(id, Ok("110105********002X".into()));
    }

    #[test]
    fn credit_code_check_char_follows_gb32100() {
        // Published codes of two companies; then each with one character changed.
        assert!(SocialCreditCode::parse("91440300708461136T").is_ok());
        assert!(SocialCreditCode::parse("91440300708461136U").is_err());
        assert!(SocialCreditCode::parse("91440300708461137T").is_err());
        assert!(SocialCreditCode::parse("911100007109311097").is_ok());
        assert!(SocialCreditCode::parse("9144030071526726XG").is_ok());
        assert!(SocialCreditCode::parse("9144030071526726xg").is_ok());
        assert!(SocialCreditCode::parse("9144030071526726XH").is_err());
        assert!(SocialCreditCode::parse("9144030071526726I0").is_err());
    }
}
