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
/// handling deadline. Gives up (returns the last date reached) after a year.
pub fn working_days_after(day: NaiveDate, n: u32, cal: &Calendar) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    for _ in 0..366 {
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

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_make_up_days() {
        let mut cal = Calendar::new();
        // Friday 2026-09-25 + 3 working days: Mon 28, Tue 29, Wed 30.
        assert_eq!(working_days_after(d("2026-09-25"), 3, &cal), d("2026-09-30"));
        // 国庆: 1-7 October off, Sunday 27 September and Saturday 10 October worked.
        for day in 1..=7 {
            cal.insert(d(&format!("2026-10-0{day}")), DayKind::Holiday);
        }
        cal.insert(d("2026-09-27"), DayKind::Workday);
        cal.insert(d("2026-10-10"), DayKind::Workday);
        // From Friday 25 September: 27 (make-up), 28, 29, 30, then 8, 9, 10 (make-up).
        assert_eq!(working_days_after(d("2026-09-25"), 7, &cal), d("2026-10-10"));
        assert_eq!(working_days_after(d("2026-09-25"), 0, &cal), d("2026-09-25"));
        assert!(!is_working_day(d("2026-10-05"), &cal) && is_working_day(d("2026-09-27"), &cal));
    }
}
