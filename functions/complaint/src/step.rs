//! A handling step (转交、答复、转办、延期、办结) decided without storage:
//! the statuses it may start from, the texts it needs, the status it leaves,
//! the public note it writes and the column it sets. `handling::act_on`
//! reads the case, asks here, and writes the answer in one batch.

use crate::status::Status;
use chrono::NaiveDate;
use serde::Deserialize;
use shared::calendar::{Calendar, working_days_after};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::pii::redact_text;
use shared::store::Value;

/// A handling step.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// 转交: hand to a department.
    Assign { department: String },
    /// 答复: the public answer (personal data in it is masked automatically).
    Reply { text: String },
    /// 转办: refer to another unit, with the reason.
    Refer { unit: String, reason: String },
    /// 延期: once, by up to 15 working days, with the reason.
    Extend { days: u32, reason: String },
    /// 办结.
    Close { result: String },
}

impl Step {
    /// Whether the step may be taken from `status`: nothing once closed, and
    /// no new department once answered.
    pub fn may_start_from(&self, status: Status) -> bool {
        match self {
            Self::Assign { .. } => matches!(status, Status::Received | Status::Assigned | Status::Referred),
            Self::Reply { .. } | Self::Refer { .. } | Self::Extend { .. } | Self::Close { .. } => {
                status != Status::Closed
            }
        }
    }

    /// The step in a few words that name no one (no department, unit or
    /// handler's text): what a channel that carries no personal data, the
    /// 订阅消息, says of it. At most 20 characters (a `thing` value).
    pub fn summary(&self) -> &'static str {
        match self {
            Self::Assign { .. } => "已转交承办部门办理",
            Self::Reply { .. } => "已答复，请在小程序查看答复",
            Self::Refer { .. } => "已转其他单位办理",
            Self::Extend { .. } => "答复期限已延长",
            Self::Close { .. } => "已办结，欢迎评价",
        }
    }
}

/// The case as a step finds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Current {
    pub status: Status,
    pub deadline: NaiveDate,
    pub extended: bool,
}

/// What a step writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The status it leaves the case in.
    pub status: Status,
    /// The public timeline note, also the citizen's notice.
    pub note: String,
    /// What else it sets.
    pub set: Set,
}

/// The column a step sets besides the status and the time.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    /// The department or unit now handling it.
    Department(String),
    /// Nothing more.
    Nothing,
    /// The extended deadline (once).
    Deadline(NaiveDate),
    /// The closing time (the step's time).
    ClosedAt,
}

impl Set {
    /// The SQL assignment and its parameters, numbered after `?1` the
    /// number, `?2` the status and `?3` the time.
    pub fn sql(&self) -> (&'static str, Vec<Value>) {
        match self {
            Self::Department(d) => ("department = ?4", vec![d.as_str().into()]),
            Self::Nothing => ("status = ?2", vec![]),
            Self::Deadline(d) => ("deadline = ?4, extended = 1", vec![d.to_string().into()]),
            Self::ClosedAt => ("closed_at = ?3", vec![]),
        }
    }
}

impl Change {
    /// The title of the citizen's notice.
    pub fn title(&self) -> &'static str {
        match self.status {
            Status::Closed => "已办结",
            Status::Replied => "已答复",
            Status::Received | Status::Assigned | Status::Referred => "办理进度",
        }
    }
}

/// A step found acceptable.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// Ready to write.
    Change(Change),
    /// An extension: the new deadline needs the city calendar.
    Extension(Extension),
}

/// A checked extension of the deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    from: NaiveDate,
    days: u32,
    reason: String,
    status: Status,
}

impl Extension {
    /// The deadline extended from (the calendar is needed from here).
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The change, given the calendar from [`Extension::from`] on: the same
    /// status, the deadline moved by the working days.
    pub fn over(self, cal: &Calendar) -> Change {
        let new = working_days_after(self.from, self.days, cal);
        Change {
            status: self.status, note: format!("答复期限延长至 {new}：{}", self.reason), set: Set::Deadline(new)
        }
    }
}

/// Checks a step against the case: a conflict when the status does not
/// allow it (or the deadline was already extended), else every problem with
/// its texts, else what it writes. Texts are trimmed, stripped of control
/// characters and have personal data masked.
pub fn check(step: &Step, cur: &Current) -> ApiResult<Checked> {
    if !step.may_start_from(cur.status) {
        return Err(ApiError::with_message(
            ErrorCode::Conflict,
            format!("该件当前状态为“{}”，不能执行此操作", cur.status.phrase()),
        ));
    }
    let mut errs = Vec::new();
    let change = |status, note, set| Checked::Change(Change { status, note, set });
    let checked = match step {
        Step::Assign { department } => {
            let d = text("department", department, 50, &mut errs);
            change(Status::Assigned, format!("已转交{d}办理"), Set::Department(d))
        }
        Step::Reply { text: t } => {
            change(Status::Replied, format!("答复：{}", text("text", t, 2_000, &mut errs)), Set::Nothing)
        }
        Step::Refer { unit, reason } => {
            let (u, r) = (text("unit", unit, 50, &mut errs), text("reason", reason, 500, &mut errs));
            change(Status::Referred, format!("已转{u}处理：{r}"), Set::Department(u))
        }
        Step::Extend { days, reason } => {
            if cur.extended {
                return Err(ApiError::with_message(ErrorCode::Conflict, "答复期限只能延长一次"));
            }
            if !(1..=15).contains(days) {
                errs.push(FieldError::new("days", "延长1-15个工作日"));
            }
            let reason = text("reason", reason, 500, &mut errs);
            Checked::Extension(Extension { from: cur.deadline, days: *days, reason, status: cur.status })
        }
        Step::Close { result } => {
            change(Status::Closed, format!("已办结：{}", text("result", result, 2_000, &mut errs)), Set::ClosedAt)
        }
    };
    if errs.is_empty() { Ok(checked) } else { Err(ApiError::validation(errs)) }
}

/// What a step's text field is called in its error message.
fn field_name(field: &str) -> &str {
    match field {
        "department" => "承办部门",
        "text" => "答复内容",
        "unit" => "转办单位",
        "reason" => "理由",
        "result" => "办结结果",
        other => other,
    }
}

/// A required text of at most `max` characters, cleaned and masked.
fn text(field: &str, s: &str, max: usize, errs: &mut Vec<FieldError>) -> String {
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect();
    if t.is_empty() || t.chars().count() > max {
        errs.push(FieldError::new(field, format!("请填写{}（1-{max}字）", field_name(field))));
    }
    redact_text(&t)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(status: Status) -> Current {
        Current { status, deadline: date("2026-10-14"), extended: false }
    }

    fn change(step: &Step, cur: &Current) -> Change {
        match check(step, cur).unwrap() {
            Checked::Change(c) => c,
            Checked::Extension(e) => panic!("not a plain change: {e:?}"),
        }
    }

    fn fields(step: &Step) -> Vec<String> {
        check(step, &at(Status::Received)).unwrap_err().fields.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn nothing_may_be_done_to_a_closed_case() {
        let steps = [
            Step::Assign { department: "客服部".into() },
            Step::Reply { text: "已处理".into() },
            Step::Refer { unit: "城管".into(), reason: "职责".into() },
            Step::Extend { days: 1, reason: "核实".into() },
            Step::Close { result: "已处理".into() },
        ];
        for s in &steps {
            let err = check(s, &at(Status::Closed)).unwrap_err();
            assert_eq!(err.code, ErrorCode::Conflict, "{s:?}");
            assert_eq!(err.message.as_deref(), Some("该件当前状态为“已办结”，不能执行此操作"));
            for open in [Status::Received, Status::Assigned, Status::Referred] {
                assert!(s.may_start_from(open), "{s:?} from {open:?}");
            }
        }
    }

    #[test]
    fn an_answered_case_may_not_be_assigned_again_but_may_be_referred_or_closed() {
        let assign = Step::Assign { department: "客服部".into() };
        assert_eq!(check(&assign, &at(Status::Replied)).unwrap_err().code, ErrorCode::Conflict);
        assert!(Step::Refer { unit: "u".into(), reason: "r".into() }.may_start_from(Status::Replied));
        assert!(Step::Close { result: "r".into() }.may_start_from(Status::Replied));
    }

    #[test]
    fn assigning_names_the_department_in_the_note_and_sets_it() {
        let c = change(&Step::Assign { department: " 供水公司客服部 ".into() }, &at(Status::Received));
        assert_eq!(c.status, Status::Assigned);
        assert_eq!(c.note, "已转交供水公司客服部办理");
        assert_eq!(c.set, Set::Department("供水公司客服部".into()));
        assert_eq!(c.title(), "办理进度");
        assert_eq!(c.set.sql().0, "department = ?4");
    }

    #[test]
    fn a_reply_masks_phone_numbers_and_is_titled_as_an_answer() {
        let c = change(&Step::Reply { text: "请致电13800001111。".into() }, &at(Status::Assigned));
        assert_eq!((c.status, c.set.clone(), c.title()), (Status::Replied, Set::Nothing, "已答复"));
        assert!(c.note.starts_with("答复：") && !c.note.contains("13800001111"), "{}", c.note);
    }

    #[test]
    fn referring_hands_the_case_to_the_unit_with_the_reason() {
        let c = change(&Step::Refer { unit: "城管局".into(), reason: "属其职责".into() }, &at(Status::Replied));
        assert_eq!((c.status, c.note.as_str()), (Status::Referred, "已转城管局处理：属其职责"));
        assert_eq!(c.set, Set::Department("城管局".into()));
    }

    #[test]
    fn closing_records_the_result_and_the_closing_time() {
        let c = change(&Step::Close { result: "已整改".into() }, &at(Status::Referred));
        assert_eq!((c.status, c.note.as_str(), c.title()), (Status::Closed, "已办结：已整改", "已办结"));
        assert_eq!(c.set.sql().0, "closed_at = ?3");
    }

    #[test]
    fn an_extension_keeps_the_status_and_moves_the_deadline_by_working_days() {
        let Checked::Extension(e) =
            check(&Step::Extend { days: 5, reason: "需现场核实".into() }, &at(Status::Assigned)).unwrap()
        else {
            panic!("an extension needs the calendar");
        };
        assert_eq!(e.from(), date("2026-10-14"));
        let c = e.over(&Calendar::new());
        // Wednesday 14 October + 5 working days, no holidays: Wednesday 21 October.
        assert_eq!(
            c,
            Change {
                status: Status::Assigned,
                note: "答复期限延长至 2026-10-21：需现场核实".into(),
                set: Set::Deadline(date("2026-10-21")),
            }
        );
        assert_eq!(c.set.sql(), ("deadline = ?4, extended = 1", vec!["2026-10-21".into()]));
    }

    #[test]
    fn a_deadline_is_extended_only_once_whatever_the_texts() {
        let cur = Current { extended: true, ..at(Status::Assigned) };
        let err = check(&Step::Extend { days: 99, reason: String::new() }, &cur).unwrap_err();
        assert_eq!((err.code, err.message.as_deref()), (ErrorCode::Conflict, Some("答复期限只能延长一次")));
    }

    #[test]
    fn a_step_s_summary_names_no_one_and_fits_a_wechat_thing() {
        let steps = [
            Step::Assign { department: "供水公司客服部".into() },
            Step::Reply { text: "张三已整改".into() },
            Step::Refer { unit: "城管局".into(), reason: "李四负责".into() },
            Step::Extend { days: 5, reason: "需现场核实".into() },
            Step::Close { result: "已整改".into() },
        ];
        let summaries: std::collections::HashSet<_> = steps.iter().map(Step::summary).collect();
        assert_eq!(summaries.len(), steps.len(), "each step says what it did");
        for s in &summaries {
            assert!(s.chars().count() <= 20, "{s}");
            assert!(!["供水", "张三", "城管", "李四", "核实"].iter().any(|w| s.contains(w)), "{s}");
        }
    }

    #[test]
    fn every_missing_or_overlong_text_is_reported() {
        assert_eq!(fields(&Step::Assign { department: "部".repeat(51) }), ["department"]);
        assert_eq!(fields(&Step::Reply { text: " \u{0007} ".into() }), ["text"]);
        assert_eq!(fields(&Step::Refer { unit: String::new(), reason: String::new() }), ["unit", "reason"]);
        assert_eq!(fields(&Step::Extend { days: 16, reason: String::new() }), ["days", "reason"]);
        assert_eq!(fields(&Step::Close { result: String::new() }), ["result"]);
        let err = check(&Step::Extend { days: 0, reason: "r".into() }, &at(Status::Received)).unwrap_err();
        assert_eq!((err.code, err.fields[0].message.as_str()), (ErrorCode::ValidationFailed, "延长1-15个工作日"));
    }
}
