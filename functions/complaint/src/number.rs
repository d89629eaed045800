//! 受理编号: `TS` + the Beijing date + 10 random characters + 1 check
//! character (the scheme is `shared::case_number`, which applications share).

use chrono::NaiveDate;
use shared::error::ApiResult;
use shared::runtime::IdSource;

/// The prefix of a complaint's number (投诉).
pub const PREFIX: &str = "TS";

/// A new number for a submission made on `date`.
pub fn generate(ids: &impl IdSource, date: NaiveDate) -> ApiResult<String> {
    shared::case_number::generate(ids, PREFIX, date)
}

/// Whether `s` is a well-formed complaint number (the canonical form is returned).
pub fn parse(s: &str) -> Option<String> {
    shared::case_number::parse(s, PREFIX)
}
