//! 水费: water accounts, their binding to citizens, bills, the bulk import
//! by billing operators; with the `payments` feature, payment orders and
//! the exactly-once ledger (`crate::payment` verifies the providers).

pub mod bills;
pub mod import;
pub mod invoices;
#[cfg(feature = "payments")]
pub mod ledger;
#[cfg(feature = "payments")]
pub mod notify;
#[cfg(feature = "payments")]
pub mod orders;
#[cfg(feature = "payments")]
pub mod reconcile;

use crate::error::{ApiError, ApiResult};

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
