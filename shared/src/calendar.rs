//! The city's calendar: 法定节假日 and 调休 make-up working days, and
//! working-day arithmetic over it (booking cut-offs, handling deadlines).
//! Staff keep it in `appt_calendar` (appointment's admin routes); the
//! appointment and complaint workers both read it.

use crate::error::ApiResult;
use crate::store::Db;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::collections::HashMap;

crate::text_enum! {
    /// What the calendar says of a date, overriding the weekly rules
    /// (`appt_calendar.kind`, CHECK-constrained).
    pub enum DayKind {
        /// 法定节假日: closed whatever the weekday.
        Holiday => "holiday",
        /// 调休上班: a make-up working day (usually a weekend) with Monday's hours.
        Workday => "workday",
    }
}

/// The city's holiday calendar.
pub type Calendar = HashMap<NaiveDate, DayKind>;

/// Whether `d` is a working day: 调休 make-up days are, holidays and
/// weekends are not.
pub fn is_working_day(d: NaiveDate, cal: &Calendar) -> bool {
    match cal.get(&d) {
        Some(DayKind::Holiday) => false,
        Some(DayKind::Workday) => true,
        None => d.weekday().num_days_from_monday() < 5,
    }
}

/// The date `n` working days after `day` (`day` itself not counted), e.g. a
/// handling deadline. Gives up (returns the last date reached) after twice
/// `n` days and a year (more holidays than that are not a calendar).
pub fn working_days_after(day: NaiveDate, n: u32, cal: &Calendar) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    for _ in 0..(u64::from(n) * 2 + 366) {
        if left == 0 {
            break;
        }
        let Some(next) = d.succ_opt() else { break };
        d = next;
        if is_working_day(d, cal) {
            left -= 1;
        }
    }
    d
}

/// The last working day `n` working days before `day` (weekends and
/// holidays skipped, make-up working days counted).
pub fn working_days_before(day: NaiveDate, n: u32, cal: &Calendar) -> NaiveDate {
    let mut d = day;
    let mut left = n.max(1);
    for _ in 0..60 {
        let Some(prev) = d.pred_opt() else { break };
        d = prev;
        if is_working_day(d, cal) {
            left -= 1;
            if left == 0 {
                return d;
            }
        }
    }
    d
}

/// The last working day before `day`.
pub fn previous_working_day(day: NaiveDate, cal: &Calendar) -> NaiveDate {
    working_days_before(day, 1, cal)
}

/// The calendar entries between two dates, in one query.
pub async fn load(db: &impl Db, from: NaiveDate, to: NaiveDate) -> ApiResult<Calendar> {
    #[derive(Deserialize)]
    struct Row {
        day: String,
        kind: DayKind,
    }
    let rows: Vec<Row> = db
        .query_as(
            "SELECT day, kind FROM appt_calendar WHERE day BETWEEN ?1 AND ?2",
            &[from.to_string().into(), to.to_string().into()],
        )
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?, r.kind))).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// 国庆节 2026 as 国务院办公厅 arranged it (2025-11-04): 1-7 October off,
    /// Sunday 20 September and Saturday 10 October worked; 中秋节 25-27 September off.
    fn national_day_2026() -> Calendar {
        let mut cal = Calendar::new();
        for day in 1..=7 {
            cal.insert(d(&format!("2026-10-0{day}")), DayKind::Holiday);
        }
        for day in 25..=27 {
            cal.insert(d(&format!("2026-09-{day}")), DayKind::Holiday);
        }
        cal.insert(d("2026-09-20"), DayKind::Workday);
        cal.insert(d("2026-10-10"), DayKind::Workday);
        cal
    }

    /// The whole official 2026 arrangement, from the file scripts/load-holidays.mjs loads.
    fn official_2026() -> Calendar {
        #[derive(Deserialize)]
        struct Day {
            date: String,
            kind: DayKind,
        }
        #[derive(Deserialize)]
        struct File {
            days: Vec<Day>,
        }
        let file: File = serde_json::from_str(include_str!("../../schemas/holidays/2026.json")).unwrap();
        file.days.into_iter().map(|x| (d(&x.date), x.kind)).collect()
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_make_up_days() {
        let cal = national_day_2026();
        // Friday 2026-09-18 + 3 working days: Sunday 20 (make-up), Monday 21, Tuesday 22.
        assert_eq!(working_days_after(d("2026-09-18"), 1, &cal), d("2026-09-20"));
        assert_eq!(working_days_after(d("2026-09-18"), 3, &cal), d("2026-09-22"));
        // Thursday 24 September + 1: 中秋 Friday 25 to Sunday 27 off, so Monday 28.
        assert_eq!(working_days_after(d("2026-09-24"), 1, &cal), d("2026-09-28"));
        // Wednesday 30 September + 3: 1-7 October off, then Thursday 8, Friday 9, Saturday 10 (make-up).
        assert_eq!(working_days_after(d("2026-09-30"), 1, &cal), d("2026-10-08"));
        assert_eq!(working_days_after(d("2026-09-30"), 3, &cal), d("2026-10-10"));
        // + 10: 8, 9, 10, 12, 13, 14, 15, 16, 19, 20 October.
        assert_eq!(working_days_after(d("2026-09-30"), 10, &cal), d("2026-10-20"));
        assert_eq!(working_days_after(d("2026-09-30"), 0, &cal), d("2026-09-30"));
        assert!(!is_working_day(d("2026-10-05"), &cal) && !is_working_day(d("2026-10-11"), &cal));
        assert!(is_working_day(d("2026-09-20"), &cal) && is_working_day(d("2026-10-10"), &cal));
    }

    #[test]
    fn working_days_before_skip_the_holidays_back_to_the_last_working_day() {
        let cal = national_day_2026();
        assert_eq!(previous_working_day(d("2026-10-08"), &cal), d("2026-09-30"));
        assert_eq!(working_days_before(d("2026-10-08"), 2, &cal), d("2026-09-29"));
        assert_eq!(previous_working_day(d("2026-09-28"), &cal), d("2026-09-24"));
        // Monday 21 September: the make-up Sunday before it counts.
        assert_eq!(previous_working_day(d("2026-09-21"), &cal), d("2026-09-20"));
    }

    #[test]
    fn the_official_2026_file_gives_the_arranged_working_days() {
        let cal = official_2026();
        assert_eq!(cal.values().filter(|k| **k == DayKind::Holiday).count(), 33);
        assert_eq!(cal.values().filter(|k| **k == DayKind::Workday).count(), 6);
        // 元旦: 1-3 January off, Sunday 4 January worked.
        assert_eq!(working_days_after(d("2025-12-31"), 1, &cal), d("2026-01-04"));
        // 春节: Saturday 14 February worked, 15-23 off, Saturday 28 worked.
        assert_eq!(working_days_after(d("2026-02-13"), 1, &cal), d("2026-02-14"));
        assert_eq!(working_days_after(d("2026-02-13"), 2, &cal), d("2026-02-24"));
        assert_eq!(working_days_after(d("2026-02-26"), 2, &cal), d("2026-02-28"));
        // 清明 4-6 April, 劳动节 1-5 May (Saturday 9 worked), 端午 19-21 June.
        assert_eq!(working_days_after(d("2026-04-03"), 1, &cal), d("2026-04-07"));
        assert_eq!(working_days_after(d("2026-04-30"), 1, &cal), d("2026-05-06"));
        assert_eq!(working_days_after(d("2026-05-08"), 1, &cal), d("2026-05-09"));
        assert_eq!(working_days_after(d("2026-06-18"), 1, &cal), d("2026-06-22"));
        // 中秋 and 国庆 as in the arrangement above.
        assert_eq!(working_days_after(d("2026-09-30"), 3, &cal), d("2026-10-10"));
        assert_eq!(working_days_after(d("2026-09-18"), 1, &cal), d("2026-09-20"));
        for (day, kind) in national_day_2026() {
            assert_eq!(cal.get(&day), Some(&kind), "{day}");
        }
    }
}
