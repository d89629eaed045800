//! What to do after a send fails, by error class: transient faults back off
//! exponentially (the queue redelivers), rate limits wait out their window
//! (the cron sweep sends again; never a tight loop), and permanent errors are
//! recorded, the number flagged when the error is about the number.

use crate::rules::QuietHours;
use chrono::Duration;
use shared::types::BeijingTime;

/// Backoff of transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay, seconds; doubled per attempt.
    pub base_secs: i64,
    /// The longest delay, seconds.
    pub max_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base_secs: 30, max_secs: 1800 }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`: base, 2·base, 4·base, ... capped.
    pub fn backoff(self, attempts: i64) -> i64 {
        let shift = attempts.clamp(1, 20) - 1;
        self.base_secs.saturating_mul(1_i64 << shift).min(self.max_secs).max(0)
    }
}

/// Rate-limit windows by Aliyun code (message text for BUSINESS_LIMIT_CONTROL,
/// which covers the minute, hour and day limits alike).
pub fn rate_window(code: &str, message: &str, now: BeijingTime) -> BeijingTime {
    let secs = match code {
        "isv.DAY_LIMIT_CONTROL" => return next_midnight(now),
        "isv.HOUR_LIMIT_CONTROL" => 3600,
        "isv.MINUTE_LIMIT_CONTROL" => 60,
        "Throttling" | "Throttling.User" | "Throttling.Api" => 10,
        _ if message.contains("天级") || message.contains("日级") => return next_midnight(now),
        _ if message.contains("小时级") => 3600,
        _ => 60,
    };
    BeijingTime::from_utc(now.to_utc() + Duration::seconds(secs))
}

fn next_midnight(now: BeijingTime) -> BeijingTime {
    let day = now.date().succ_opt().unwrap_or(now.date());
    BeijingTime::parse(&format!("{day}T00:00:00+08:00")).unwrap_or(now)
}

/// When a rate-limited planned notice may go again: after its window, and
/// outside the quiet hours (emergencies ignore them).
pub fn reschedule(code: &str, message: &str, now: BeijingTime, emergency: bool, quiet: QuietHours) -> BeijingTime {
    let t = rate_window(code, message, now);
    if emergency { t } else { quiet.daytime(t) }
}

/// Errors a smaller batch may avoid: a batch refused with one of these is
/// split in halves (finding the bad number in about log2(n) calls).
pub fn split_helps(code: &str) -> bool {
    matches!(code, "isv.MOBILE_NUMBER_ILLEGAL" | "isv.MOBILE_COUNT_OVER_LIMIT")
}

/// Errors about the number itself: a single number refused so is flagged.
pub fn about_the_number(code: &str) -> bool {
    code == "isv.MOBILE_NUMBER_ILLEGAL"
}

/// Delivery receipts that mean the number should get no more notices: only
/// permanent faults of the number (blacklisted, not a valid number). A number
/// out of service, switched off or unreachable may work tomorrow, and a flag
/// would silence its citizen for good.
pub fn receipt_flags(err_code: &str) -> bool {
    matches!(err_code, "MOBILE_IN_BLACK" | "MOBILE_NUMBER_ILLEGAL")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use shared::testing::at as t;

    #[test]
    fn transient_failures_back_off_exponentially_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!((1..=8).map(|a| p.backoff(a)).collect::<Vec<_>>(), [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(RetryPolicy { base_secs: 1, max_secs: 2 }.backoff(5), 2);
        assert_eq!(p.backoff(1000), 1800);
    }

    #[test]
    fn rate_limits_wait_their_window_and_planned_notices_skip_the_night() {
        let now = t("2026-11-23T10:00:00+08:00");
        assert_eq!(
            rate_window("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", now),
            t("2026-11-23T10:01:00+08:00")
        );
        assert_eq!(
            rate_window("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5", now),
            t("2026-11-23T11:00:00+08:00")
        );
        assert_eq!(
            rate_window("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", now),
            t("2026-11-24T00:00:00+08:00")
        );
        assert_eq!(rate_window("isv.DAY_LIMIT_CONTROL", "", now), t("2026-11-24T00:00:00+08:00"));
        assert_eq!(rate_window("Throttling.User", "", now), t("2026-11-23T10:00:10+08:00"));
        let q = QuietHours::default();
        // A day limit at 15:00 clears at midnight: a planned notice waits for 07:00, an emergency does not.
        let afternoon = t("2026-11-23T15:00:00+08:00");
        assert_eq!(reschedule("isv.DAY_LIMIT_CONTROL", "", afternoon, false, q), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(reschedule("isv.DAY_LIMIT_CONTROL", "", afternoon, true, q), t("2026-11-24T00:00:00+08:00"));
        // 21:59:30 + 60 s falls in the quiet hours (crossing 22:00).
        assert_eq!(
            reschedule("isv.MINUTE_LIMIT_CONTROL", "", t("2026-11-23T21:59:30+08:00"), false, q),
            t("2026-11-24T07:00:00+08:00")
        );
    }

    #[test]
    fn number_errors_are_told_from_account_errors() {
        assert!(about_the_number("isv.MOBILE_NUMBER_ILLEGAL") && split_helps("isv.MOBILE_COUNT_OVER_LIMIT"));
        assert!(!about_the_number("isv.MOBILE_COUNT_OVER_LIMIT"));
        assert!(!about_the_number("isv.AMOUNT_NOT_ENOUGH"));
        assert!(!about_the_number("isv.SMS_TEMPLATE_ILLEGAL"));
        assert!(receipt_flags("MOBILE_IN_BLACK") && receipt_flags("MOBILE_NUMBER_ILLEGAL"));
        assert!(!receipt_flags("DELIVERED"));
    }

    #[test]
    fn an_out_of_service_or_unreachable_receipt_does_not_flag_the_number_forever() {
        for temporary in
            ["MOBILE_NOT_ON_SERVICE", "MOBILE_TERMINAL_ERROR", "MOBILE_ACCOUNT_ABNORMAL", "IS_CLOSE", "SYSTEM_ERROR"]
        {
            assert!(!receipt_flags(temporary), "{temporary}");
        }
    }
}
