use super::invalid::InvalidInput;
use serde::Serialize;

/// A mainland China mobile number: 11 digits starting with 1 and a second
/// digit 3-9 (the MIIT number plan). A leading `+86` or `86` is accepted and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Parses a mobile number, tolerating spaces, dashes and a +86 prefix.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        let well_formed = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b.first() == Some(&b'1')
            && b.get(1).is_some_and(|d| (b'3'..=b'9').contains(d));
        if well_formed {
            Ok(Self(digits.to_owned()))
        } else {
            Err(InvalidInput("手机号码格式不正确，请输入11位中国大陆手机号"))
        }
    }

    /// The full number: only for sending SMS, never for logs or responses.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****5678`, safe for responses and logs.
    pub fn masked(&self) -> String {
        crate::pii::mask_phone(&self.0)
    }
}

super::invalid::deserialize_via_parse!(MobileNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_in_common_spellings() {
        for raw in ["13812345678", "+8613812345678", "8613812345678", "138 1234 5678", "199-0000-0000"] {
            assert!(MobileNumber::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(MobileNumber::parse("+86 138 1234 5678").map(|m| m.masked()), Ok("138****5678".into()));
    }

    #[test]
    fn a_dto_field_is_validated_while_it_is_parsed() {
        let ok: Result<MobileNumber, _> = serde_json::from_str("\"13812345678\"");
        assert!(ok.is_ok());
        let bad = serde_json::from_str::<MobileNumber>("\"12345\"").map_err(|e| e.to_string());
        assert!(bad.is_err_and(|e| e.contains("手机号码格式不正确")));
    }

    #[test]
    fn rejects_what_is_not_a_mainland_mobile() {
        for raw in ["", "1381234567", "138123456789", "12812345678", "23812345678", "1381234567a", "０13812345678"] {
            assert!(MobileNumber::parse(raw).is_err(), "{raw}");
        }
    }
}
