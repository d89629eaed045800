//! 网上申报 statistics for the departments in scope: on-time rate, how often
//! a one-time notice was needed, average working days from acceptance to
//! 办结, by item and by department, over applications submitted in a range.

use crate::handling::Scope;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::calendar::{Calendar, is_working_day};
use shared::error::ApiResult;
use shared::store::Db;
use std::collections::BTreeMap;

/// One application as the statistics read it.
#[derive(Debug, Clone, Deserialize)]
pub struct Fact {
    pub item_name: String,
    pub department: String,
    pub status: String,
    pub notices: i64,
    pub accepted_on: Option<String>,
    pub deadline: Option<String>,
    pub completed_at: Option<String>,
}

/// Figures of one group (an item, a department, or everything).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub submitted: u64,
    pub noticed: u64,
    /// Share of submitted applications that needed a one-time notice.
    pub notice_rate: Option<f64>,
    pub completed: u64,
    pub on_time: u64,
    /// Share of completed applications completed by their deadline.
    pub on_time_rate: Option<f64>,
    /// Average working days from acceptance to 办结 (0 = the same day).
    pub avg_working_days: Option<f64>,
    #[serde(skip)]
    days_sum: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: Figures,
    pub by_department: BTreeMap<String, Figures>,
    pub by_item: BTreeMap<String, Figures>,
}

/// Working days after `from` up to and including `to` (0 when the same day).
pub fn working_days_between(from: NaiveDate, to: NaiveDate, cal: &Calendar) -> u64 {
    from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| is_working_day(*d, cal)).count() as u64
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(|t| t.get(..10)).and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

impl Figures {
    fn add(&mut self, f: &Fact, cal: &Calendar) {
        self.submitted += 1;
        self.noticed += u64::from(f.notices > 0);
        if f.status == "completed"
            && let (Some(a), Some(done)) = (date(&f.accepted_on), date(&f.completed_at))
        {
            self.completed += 1;
            self.on_time += u64::from(date(&f.deadline).is_none_or(|d| done <= d));
            self.days_sum += working_days_between(a, done, cal);
        }
    }

    fn finish(mut self) -> Self {
        let ratio = |a: u64, b: u64| (b > 0).then(|| (a as f64 / b as f64 * 1000.0).round() / 1000.0);
        self.notice_rate = ratio(self.noticed, self.submitted);
        self.on_time_rate = ratio(self.on_time, self.completed);
        self.avg_working_days =
            (self.completed > 0).then(|| (self.days_sum as f64 / self.completed as f64 * 10.0).round() / 10.0);
        self
    }
}

/// The report over `facts` (pure).
pub fn report(facts: &[Fact], from: NaiveDate, to: NaiveDate, cal: &Calendar) -> Report {
    let mut total = Figures::default();
    let mut by_department: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_item: BTreeMap<String, Figures> = BTreeMap::new();
    for f in facts {
        total.add(f, cal);
        by_department.entry(f.department.clone()).or_default().add(f, cal);
        by_item.entry(f.item_name.clone()).or_default().add(f, cal);
    }
    let finish = |m: BTreeMap<String, Figures>| m.into_iter().map(|(k, v)| (k, v.finish())).collect();
    Report { from, to, total: total.finish(), by_department: finish(by_department), by_item: finish(by_item) }
}

/// Reads the applications submitted in `[from, to]` within `scope` and reports.
pub async fn load(db: &impl Db, scope: &Scope, from: NaiveDate, to: NaiveDate, cal: &Calendar) -> ApiResult<Report> {
    let facts: Vec<Fact> = db
        .query_as(
            "SELECT item_name, department, status, notices, accepted_on, deadline, completed_at FROM applications
             WHERE submitted_at IS NOT NULL AND substr(submitted_at, 1, 10) BETWEEN ?1 AND ?2",
            &[from.to_string().into(), to.to_string().into()],
        )
        .await?;
    let mine: Vec<Fact> = facts.into_iter().filter(|f| scope.allows(&f.department)).collect();
    Ok(report(&mine, from, to, cal))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::calendar::DayKind;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn fact(item: &str, notices: i64, accepted: &str, deadline: &str, done: Option<&str>) -> Fact {
        Fact {
            item_name: item.into(),
            department: "供水".into(),
            status: if done.is_some() { "completed" } else { "accepted" }.into(),
            notices,
            accepted_on: Some(accepted.into()),
            deadline: Some(deadline.into()),
            completed_at: done.map(|t| format!("{t}T15:00:00+08:00")),
        }
    }

    #[test]
    fn working_days_skip_the_holiday_and_count_the_make_up_day() {
        let mut cal = Calendar::new();
        for day in 1..=7 {
            cal.insert(d(10, day), DayKind::Holiday);
        }
        cal.insert(d(10, 10), DayKind::Workday);
        assert_eq!(working_days_between(d(9, 30), d(10, 10), &cal), 3);
        assert_eq!(working_days_between(d(9, 30), d(9, 30), &cal), 0);
    }

    #[test]
    fn rates_and_averages_are_per_item_department_and_total() {
        let facts = [
            fact("过户", 1, "2026-11-02", "2026-11-05", Some("2026-11-04")),
            fact("过户", 0, "2026-11-02", "2026-11-05", Some("2026-11-09")),
            fact("接水", 0, "2026-11-02", "2026-11-11", None),
        ];
        let r = report(&facts, d(11, 1), d(11, 30), &Calendar::new());
        assert_eq!((r.total.submitted, r.total.completed, r.total.on_time), (3, 2, 1));
        assert_eq!(r.total.on_time_rate, Some(0.5));
        assert_eq!(r.total.notice_rate, Some(0.333));
        assert_eq!(r.by_item["过户"].avg_working_days, Some(3.5), "2 and 5 working days");
        assert_eq!(r.by_item["接水"].on_time_rate, None);
        assert_eq!(r.by_department["供水"].submitted, 3);
    }
}
