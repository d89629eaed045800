//! The two identifiers every billing record uses: the 表卡编号 (water
//! account number) and the billing period.

use shared::error::{ApiError, ApiResult};

/// A 表卡编号: 6-20 digits.
pub fn account_no(raw: &str) -> ApiResult<String> {
    let s = raw.trim();
    if (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(ApiError::bad_field("account", "表卡编号应为6-20位数字"))
    }
}

/// A billing period `YYYY-MM`.
pub fn period(raw: &str) -> Option<String> {
    let s = raw.trim();
    let (y, m) = s.split_once('-')?;
    let ok = y.len() == 4
        && y.bytes().all(|b| b.is_ascii_digit())
        && m.len() == 2
        && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
    ok.then(|| s.to_owned())
}
