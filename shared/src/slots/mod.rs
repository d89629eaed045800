//! Slot generation: plain Rust over dates, no storage. A bookable resource
//! (a service window, or a parking lot) has weekly opening periods, a slot
//! length, a capacity per slot, a booking window and a minimum notice; the
//! city's calendar of public holidays and make-up working days (法定节假日与
//! 调休) overrides the weekly rules. All times are Beijing time.

//!
//! [`hall`] reads resources and counts what bookings leave of each slot
//! (the hall's slot listing served by guide-detail, and booking itself).

pub mod hall;

use crate::calendar::{Calendar, DayKind};
use crate::types::{BeijingTime, beijing_offset};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

/// One opening period of a day, `[start, end)`, e.g. 08:30-12:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// The booking rules of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// Opening periods per weekday, Monday first (7 entries).
    pub weekly: Vec<Vec<Period>>,
    pub slot_minutes: u32,
    pub capacity: u32,
    /// First bookable day, in days from today (default 1: tomorrow).
    pub first_day: u32,
    /// Last bookable day, in days from today (default 14).
    pub last_day: u32,
    /// A slot must start at least this many minutes from now.
    pub min_notice_minutes: u32,
}

/// Why a date has no slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    BeforeWindow,
    AfterWindow,
    Holiday,
    NotOpen,
}

impl Closed {
    /// The citizen's explanation.
    pub fn message(self) -> &'static str {
        match self {
            Self::BeforeWindow => "该日期尚未开放预约（最早可预约明天）",
            Self::AfterWindow => "该日期超出可预约范围",
            Self::Holiday => "该日期为法定节假日，大厅不办公",
            Self::NotOpen => "大厅该日不办公",
        }
    }
}

/// One generated slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: BeijingTime,
    pub end: BeijingTime,
}

/// The opening periods of `date`: holidays close, make-up working days open
/// with Monday's hours, other days follow the weekly rules.
pub fn periods_on<'a>(rules: &'a Rules, cal: &Calendar, date: NaiveDate) -> Result<&'a [Period], Closed> {
    let weekday = match cal.get(&date) {
        Some(DayKind::Holiday) => return Err(Closed::Holiday),
        Some(DayKind::Workday) => 0,
        None => date.weekday().num_days_from_monday() as usize,
    };
    match rules.weekly.get(weekday).map(Vec::as_slice) {
        Some(p) if !p.is_empty() => Ok(p),
        _ => Err(Closed::NotOpen),
    }
}

fn at(date: NaiveDate, t: NaiveTime) -> Option<BeijingTime> {
    let local = date.and_time(t);
    beijing_offset().from_local_datetime(&local).single().map(|dt| BeijingTime::from_utc(dt.to_utc()))
}

/// The slots of `date` that can still be booked at `now`.
pub fn slots_on(rules: &Rules, cal: &Calendar, date: NaiveDate, now: BeijingTime) -> Result<Vec<Slot>, Closed> {
    let today = now.date();
    // Checked: rules come from staff input, and date arithmetic that
    // overflowed would panic (and abort the isolate).
    let first = today.checked_add_signed(Duration::days(i64::from(rules.first_day)));
    let last = today.checked_add_signed(Duration::days(i64::from(rules.last_day)));
    if first.is_none_or(|f| date < f) {
        return Err(Closed::BeforeWindow);
    }
    if last.is_some_and(|l| date > l) {
        return Err(Closed::AfterWindow);
    }
    let step = Duration::minutes(i64::from(rules.slot_minutes.max(5)));
    let earliest = now.to_utc() + Duration::minutes(i64::from(rules.min_notice_minutes));
    let mut out = Vec::new();
    for p in periods_on(rules, cal, date)? {
        let (Some(mut start), Some(close)) = (at(date, p.start), at(date, p.end)) else { continue };
        loop {
            let end = BeijingTime::from_utc(start.to_utc() + step);
            if end > close {
                break;
            }
            if start.to_utc() >= earliest {
                out.push(Slot { start, end });
            }
            start = end;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn rules() -> Rules {
        let day = vec![Period { start: t(8, 30), end: t(12, 0) }, Period { start: t(13, 30), end: t(17, 0) }];
        let mut weekly = vec![day; 5];
        weekly.push(vec![Period { start: t(9, 0), end: t(10, 0) }]); // Saturday morning
        weekly.push(vec![]); // Sunday closed
        Rules { weekly, slot_minutes: 30, capacity: 10, first_day: 1, last_day: 14, min_notice_minutes: 0 }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    use crate::testing::at as now;

    #[test]
    fn a_weekday_has_both_periods_in_whole_slots() {
        // Monday 2026-11-23 10:00; Tuesday has 7 + 7 half-hour slots.
        let s = slots_on(&rules(), &Calendar::new(), d("2026-11-24"), now("2026-11-23T10:00:00+08:00")).unwrap();
        assert_eq!(s.len(), 14);
        assert_eq!(s[0].start.to_rfc3339(), "2026-11-24T08:30:00+08:00");
        assert_eq!(s[6].end.to_rfc3339(), "2026-11-24T12:00:00+08:00");
        assert_eq!(s[7].start.to_rfc3339(), "2026-11-24T13:30:00+08:00");
        assert_eq!(s[13].end.to_rfc3339(), "2026-11-24T17:00:00+08:00");
    }

    #[test]
    fn the_window_runs_from_tomorrow_to_fourteen_days_ahead() {
        let n = now("2026-11-23T10:00:00+08:00");
        let cal = Calendar::new();
        assert_eq!(slots_on(&rules(), &cal, d("2026-11-23"), n), Err(Closed::BeforeWindow));
        assert!(slots_on(&rules(), &cal, d("2026-12-07"), n).is_ok(), "today + 14 (a Monday)");
        assert_eq!(slots_on(&rules(), &cal, d("2026-12-08"), n), Err(Closed::AfterWindow));
    }

    #[test]
    fn today_is_the_beijing_date_even_when_utc_is_still_yesterday() {
        // 00:30 in Beijing is 16:30 UTC the day before: "tomorrow" is the
        // Beijing tomorrow, so the 24th is already out of the window's start.
        let n = now("2026-11-23T16:30:00Z"); // 2026-11-24 00:30 Beijing
        let cal = Calendar::new();
        assert_eq!(slots_on(&rules(), &cal, d("2026-11-24"), n), Err(Closed::BeforeWindow));
        assert!(slots_on(&rules(), &cal, d("2026-11-25"), n).is_ok());
    }

    #[test]
    fn holidays_close_and_make_up_days_open_with_monday_hours() {
        let n = now("2026-09-28T10:00:00+08:00");
        let mut cal = Calendar::new();
        cal.insert(d("2026-10-01"), DayKind::Holiday); // Thursday, 国庆
        cal.insert(d("2026-10-11"), DayKind::Workday); // Sunday, 调休上班
        assert_eq!(slots_on(&rules(), &cal, d("2026-10-01"), n), Err(Closed::Holiday));
        assert_eq!(slots_on(&rules(), &Calendar::new(), d("2026-10-11"), n), Err(Closed::NotOpen));
        assert_eq!(slots_on(&rules(), &cal, d("2026-10-11"), n).unwrap().len(), 14);
        assert_eq!(slots_on(&rules(), &cal, d("2026-10-10"), n).unwrap().len(), 2, "Saturday morning");
    }

    #[test]
    fn minimum_notice_drops_slots_that_start_too_soon() {
        let mut r = rules();
        r.first_day = 0;
        r.min_notice_minutes = 120;
        let s = slots_on(&r, &Calendar::new(), d("2026-11-23"), now("2026-11-23T14:10:00+08:00")).unwrap();
        assert_eq!(s[0].start.to_rfc3339(), "2026-11-23T16:30:00+08:00");
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_period_not_divisible_by_the_slot_length_drops_the_remainder() {
        let mut r = rules();
        r.slot_minutes = 40; // 08:30-12:00 is 210 minutes: 5 slots, 10 minutes left over
        let s = slots_on(&r, &Calendar::new(), d("2026-11-24"), now("2026-11-23T10:00:00+08:00")).unwrap();
        assert_eq!(s.iter().filter(|x| x.start.to_rfc3339() < "2026-11-24T12".into()).count(), 5);
    }
}
