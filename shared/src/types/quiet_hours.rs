//! Quiet hours: the night in which planned notices wait (Beijing wall
//! clock, a window that may wrap past midnight). Outage notices
//! (`OUTAGE_QUIET_HOURS`) and bill reminders (`BILL_QUIET_HOURS`) each
//! configure their own; both default to 22:00-07:00.

use super::time::{BeijingTime, beijing_offset};
use chrono::{NaiveDate, NaiveTime, TimeZone};

/// A quiet window `start..end` (Beijing wall clock; `start > end` wraps past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    /// 22:00-07:00.
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
        }
    }
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`; an empty window (start = end) is refused.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.trim().split_once('-')?;
        let t = |x: &str| {
            let x = x.trim();
            // chrono would take a sign or a one-digit field; a config value is written HH:MM.
            (x.len() == 5 && x.as_bytes().get(2) == Some(&b':') && x.bytes().filter(u8::is_ascii_digit).count() == 4)
                .then(|| NaiveTime::parse_from_str(x, "%H:%M").ok())
                .flatten()
        };
        Some(Self { start: t(a)?, end: t(b)? }).filter(|q| q.start != q.end)
    }

    /// Whether a Beijing wall-clock time falls in the quiet hours.
    pub fn contains(self, t: NaiveTime) -> bool {
        if self.start <= self.end { t >= self.start && t < self.end } else { t >= self.start || t < self.end }
    }

    /// Whether the instant `now` falls in the quiet hours.
    pub fn covers(self, now: BeijingTime) -> bool {
        self.contains(now.time())
    }

    /// The next end of the quiet hours after `t`: today's if still ahead, else tomorrow's.
    pub fn next_end(self, t: BeijingTime) -> BeijingTime {
        let day = if t.time() >= self.end { t.date().succ_opt().unwrap_or(t.date()) } else { t.date() };
        at(day, self.end).unwrap_or(t)
    }

    /// `t`, or the end of the quiet hours when `t` falls inside them.
    pub fn daytime(self, t: BeijingTime) -> BeijingTime {
        if self.contains(t.time()) { self.next_end(t) } else { t }
    }
}

/// The instant of a Beijing wall-clock time on a day.
pub fn at(day: NaiveDate, time: NaiveTime) -> Option<BeijingTime> {
    beijing_offset().from_local_datetime(&day.and_time(time)).single().map(|t| BeijingTime::from_utc(t.to_utc()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(s: &str) -> BeijingTime {
        BeijingTime::parse(s).unwrap()
    }

    #[test]
    fn quiet_hours_wrap_past_midnight_and_end_at_their_end() {
        let q = QuietHours::default();
        assert!(q.covers(t("2026-11-23T22:00:00+08:00")));
        assert!(q.covers(t("2026-11-24T06:59:00+08:00")));
        assert!(!q.covers(t("2026-11-24T07:00:00+08:00")));
        assert!(!q.covers(t("2026-11-23T21:59:00+08:00")));
        let day = QuietHours::parse("12:00-13:30").unwrap();
        assert!(day.covers(t("2026-11-23T13:29:00+08:00")) && !day.covers(t("2026-11-23T13:30:00+08:00")));
        assert_eq!(q.next_end(t("2026-11-23T23:00:00+08:00")), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(q.daytime(t("2026-11-24T03:00:00+08:00")), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(q.daytime(t("2026-11-24T09:00:00+08:00")), t("2026-11-24T09:00:00+08:00"));
    }

    #[test]
    fn malformed_or_empty_quiet_hours_are_refused() {
        for bad in ["", "22:00", "22:00-22:00", "24:00-07:00", "22:60-07:00", "+1:00-07:00", "7:00-22:00", "abc-def"] {
            assert_eq!(QuietHours::parse(bad), None, "{bad}");
        }
        assert_eq!(QuietHours::parse(" 23:30 - 06:00 ").map(|q| q.start.to_string()), Some("23:30:00".into()));
    }
}
