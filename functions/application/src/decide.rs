//! The staff's steps on an application and what each may do from each
//! status: a pure decision, tested here; `handling.rs` writes it.

use crate::status::Status;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::calendar::{Calendar, working_days_after};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};

/// Longest note, reason or tracking text a step carries.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest time (working days) 容缺受理 may give to supply the missing
/// materials: within a month, so they come before the promised deadline of
/// most items and never "later" without end.
pub const MAX_PENDING_DAYS: u32 = 20;
/// Most corrections one notice lists.
pub const MAX_CORRECTIONS: usize = 30;

/// One thing a one-time notice asks to correct: a material or a form field.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[serde(default)]
    pub material: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    pub note: String,
}

/// How the result reaches the citizen (003 §5.1: 邮寄, 自取, 电子).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Delivery {
    /// 邮寄 with the carrier's tracking number.
    Post { carrier: String, tracking: String },
    /// 自取 at a named hall.
    Pickup { hall: String },
    /// 电子: a download the citizen finds in the application.
    Electronic { note: String },
}

/// A step a staff member takes (`POST /v1/admin/applications/{number}/steps`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// 受理.
    Accept { version: i64 },
    /// 一次性告知: every material or field to correct, at once.
    Notify { version: i64, items: Vec<Correction> },
    /// 容缺受理: accept now, the named materials to follow by `due`.
    AcceptPending { version: i64, materials: Vec<String>, due: NaiveDate },
    /// 不予受理.
    Reject { version: i64, reason: String },
    /// 办结, with the result's delivery.
    Complete { version: i64, delivery: Delivery },
}

impl Step {
    /// The version of the application the staff member saw.
    pub fn version(&self) -> i64 {
        match self {
            Self::Accept { version }
            | Self::Notify { version, .. }
            | Self::AcceptPending { version, .. }
            | Self::Reject { version, .. }
            | Self::Complete { version, .. } => *version,
        }
    }

    /// The stored action name.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Accept { .. } => "accept",
            Self::Notify { .. } => "notify",
            Self::AcceptPending { .. } => "accept_pending",
            Self::Reject { .. } => "reject",
            Self::Complete { .. } => "complete",
        }
    }
}

/// What the decision needs to know of the application.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    pub status: Status,
    pub notices: i64,
    pub promised_days: i64,
    /// The materials of the application, by name.
    pub materials: &'a [String],
    /// Whether the handler has attached the 电子 result file.
    pub has_result: bool,
}

/// What a step changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    /// Set when the step accepts: the day and the deadline.
    pub accepted: Option<(NaiveDate, NaiveDate)>,
    pub pending_until: Option<NaiveDate>,
    /// Materials the notice marks for correction, with their notes.
    pub corrections: Vec<Correction>,
    /// The note of the timeline entry, for the citizen.
    pub note: String,
}

/// A body field that fails its rule: 422 naming the field.
pub fn bad(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, msg)])
}

fn text(field: &str, s: &str, what: &str) -> ApiResult<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_NOTE_CHARS {
        return Err(bad(field, format!("{what}不能为空，且不超过{MAX_NOTE_CHARS}字")));
    }
    Ok(t.to_owned())
}

fn conflict(msg: &str) -> ApiError {
    ApiError::with_message(ErrorCode::Conflict, msg)
}

fn pre_review(status: Status) -> ApiResult<()> {
    if status == Status::Submitted {
        Ok(())
    } else {
        Err(conflict("该申请不在待预审状态，不能进行此操作"))
    }
}

/// Decides `step` on an application in `cur`, on `today` over `cal`.
pub fn decide(cur: &Current<'_>, step: &Step, today: NaiveDate, cal: &Calendar) -> ApiResult<Outcome> {
    let accept = |status| {
        // 即办 (0 days): due the day it is accepted.
        let days = u32::try_from(cur.promised_days.max(0)).unwrap_or(0);
        (status, Some((today, working_days_after(today, days, cal))))
    };
    match step {
        Step::Accept { .. } => {
            pre_review(cur.status)?;
            let (status, accepted) = accept(Status::Accepted);
            Ok(Outcome {
                status,
                accepted,
                pending_until: None,
                corrections: vec![],
                note: "材料齐全，予以受理".into(),
            })
        }
        Step::Notify { items, .. } => {
            pre_review(cur.status)?;
            if cur.notices > 0 {
                return Err(conflict("一次性告知只能告知一次：该申请已告知过，请直接受理、容缺受理或不予受理"));
            }
            let corrections = check_corrections(items, cur.materials)?;
            let note = corrections.iter().map(describe).collect::<Vec<_>>().join("；");
            Ok(Outcome { status: Status::Correction, accepted: None, pending_until: None, corrections, note })
        }
        Step::AcceptPending { materials, due, .. } => {
            pre_review(cur.status)?;
            if materials.is_empty() || materials.iter().any(|m| !cur.materials.contains(m)) {
                return Err(bad("materials", "请从本申请的材料中选择容缺的材料"));
            }
            if *due <= today {
                return Err(bad("due", "补交期限应晚于今天"));
            }
            if *due > working_days_after(today, MAX_PENDING_DAYS, cal) {
                return Err(bad("due", format!("补交期限不能超过{MAX_PENDING_DAYS}个工作日")));
            }
            let (status, accepted) = accept(Status::AcceptedPending);
            let note = format!("容缺受理：请于{}前补交{}", due.format("%Y年%m月%d日"), materials.join("、"));
            Ok(Outcome { status, accepted, pending_until: Some(*due), corrections: vec![], note })
        }
        Step::Reject { reason, .. } => {
            pre_review(cur.status)?;
            let reason = text("reason", reason, "不予受理的理由")?;
            Ok(Outcome {
                status: Status::Rejected,
                accepted: None,
                pending_until: None,
                corrections: vec![],
                note: reason,
            })
        }
        Step::Complete { delivery, .. } => {
            if cur.status != Status::Accepted {
                return Err(conflict("只有已受理且材料齐全的申请才能办结"));
            }
            if matches!(delivery, Delivery::Electronic { .. }) && !cur.has_result {
                return Err(conflict("请先上传电子结果文件，再以电子方式办结"));
            }
            let note = delivery_note(delivery)?;
            Ok(Outcome { status: Status::Completed, accepted: None, pending_until: None, corrections: vec![], note })
        }
    }
}

/// The 电子 result file is attached while the application is being handled
/// (accepted, before 办结): never to a draft, a rejected or a finished one.
pub fn may_attach_result(status: Status) -> ApiResult<()> {
    match status {
        Status::Accepted | Status::AcceptedPending => Ok(()),
        _ => Err(conflict("只有已受理、尚未办结的申请才能上传电子结果文件")),
    }
}

fn check_corrections(items: &[Correction], materials: &[String]) -> ApiResult<Vec<Correction>> {
    if items.is_empty() || items.len() > MAX_CORRECTIONS {
        return Err(bad("items", format!("一次性告知应列出需补正的全部材料或信息（1到{MAX_CORRECTIONS}项）")));
    }
    let mut out: Vec<Correction> = Vec::with_capacity(items.len());
    for (i, c) in items.iter().enumerate() {
        let note = text(&format!("items[{i}].note"), &c.note, "补正说明")?;
        match (&c.material, &c.field) {
            (Some(m), None) if materials.contains(m) => {}
            (Some(_), None) => return Err(bad(&format!("items[{i}].material"), "本申请没有这项材料")),
            (None, Some(f)) if !f.trim().is_empty() && f.chars().count() <= 50 => {}
            _ => return Err(bad(&format!("items[{i}]"), "每一项应指明一项材料（material）或一个填报项（field）")),
        }
        if out.iter().any(|o| o.material == c.material && o.field == c.field) {
            return Err(bad(&format!("items[{i}]"), "同一项不要重复告知"));
        }
        out.push(Correction { material: c.material.clone(), field: c.field.clone(), note });
    }
    Ok(out)
}

fn describe(c: &Correction) -> String {
    let what = c.material.as_deref().or(c.field.as_deref()).unwrap_or_default();
    format!("{what}：{}", c.note)
}

fn delivery_note(d: &Delivery) -> ApiResult<String> {
    Ok(match d {
        Delivery::Post { carrier, tracking } => {
            let carrier = text("delivery.carrier", carrier, "快递公司")?;
            let tracking = tracking.trim();
            if tracking.len() < 6 || tracking.len() > 30 || !tracking.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad("delivery.tracking", "快递单号应为6到30位字母或数字"));
            }
            format!("办理结果已邮寄（{carrier}，单号{tracking}）")
        }
        Delivery::Pickup { hall } => format!("办理结果请到{}领取", text("delivery.hall", hall, "领取大厅")?),
        Delivery::Electronic { note } => format!("电子结果已发放：{}", text("delivery.note", note, "电子结果说明")?),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use shared::calendar::DayKind;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn national_day() -> Calendar {
        let mut cal = Calendar::new();
        for day in 1..=7 {
            cal.insert(d(10, day), DayKind::Holiday);
        }
        cal.insert(d(9, 20), DayKind::Workday);
        cal.insert(d(10, 10), DayKind::Workday);
        cal
    }

    fn mats() -> Vec<String> {
        vec!["居民身份证".into(), "不动产权证书或购房合同".into()]
    }

    fn cur(status: Status, notices: i64, m: &[String]) -> Current<'_> {
        Current { status, notices, promised_days: 3, materials: m, has_result: false }
    }

    #[test]
    fn acceptance_starts_the_promised_working_days_over_the_holiday() {
        let m = mats();
        // Accepted on Wednesday 30 September: 国庆 1-7 October is off, Saturday
        // 10 October is a make-up working day: 8, 9, 10 October.
        let out =
            decide(&cur(Status::Submitted, 0, &m), &Step::Accept { version: 1 }, d(9, 30), &national_day()).unwrap();
        assert_eq!(out.status, Status::Accepted);
        assert_eq!(out.accepted, Some((d(9, 30), d(10, 10))));
    }

    #[test]
    fn a_one_time_notice_lists_everything_at_once_and_only_once() {
        let m = mats();
        let step = Step::Notify {
            version: 1,
            items: vec![
                Correction { material: Some("居民身份证".into()), field: None, note: "照片不清晰".into() },
                Correction { material: None, field: Some("联系地址".into()), note: "请写到门牌号".into() },
            ],
        };
        let out = decide(&cur(Status::Submitted, 0, &m), &step, d(11, 2), &Calendar::new()).unwrap();
        assert_eq!(out.status, Status::Correction);
        assert_eq!(out.note, "居民身份证：照片不清晰；联系地址：请写到门牌号");
        let again = decide(&cur(Status::Submitted, 1, &m), &step, d(11, 2), &Calendar::new()).unwrap_err();
        assert_eq!(again.code, ErrorCode::Conflict);
    }

    #[test]
    fn a_notice_names_only_the_applications_own_materials_each_once_with_a_note() {
        let m = mats();
        let cases = [
            vec![],
            vec![Correction { material: Some("户口本".into()), field: None, note: "缺".into() }],
            vec![Correction { material: Some("居民身份证".into()), field: None, note: " ".into() }],
            vec![Correction { material: Some("居民身份证".into()), field: Some("x".into()), note: "n".into() }],
            vec![
                Correction { material: Some("居民身份证".into()), field: None, note: "a".into() },
                Correction { material: Some("居民身份证".into()), field: None, note: "b".into() },
            ],
        ];
        for items in cases {
            let r =
                decide(&cur(Status::Submitted, 0, &m), &Step::Notify { version: 1, items }, d(11, 2), &Calendar::new());
            assert_eq!(r.unwrap_err().code, ErrorCode::ValidationFailed);
        }
    }

    #[test]
    fn pending_acceptance_names_its_materials_and_a_future_date() {
        let m = mats();
        let ok = Step::AcceptPending {
            version: 1, materials: vec!["不动产权证书或购房合同".into()], due: d(11, 20)
        };
        let out = decide(&cur(Status::Submitted, 0, &m), &ok, d(11, 2), &Calendar::new()).unwrap();
        assert_eq!((out.status, out.pending_until), (Status::AcceptedPending, Some(d(11, 20))));
        assert!(out.note.contains("2026年11月20日前补交不动产权证书或购房合同"), "{}", out.note);
        let past = Step::AcceptPending { version: 1, materials: vec!["居民身份证".into()], due: d(11, 2) };
        assert!(decide(&cur(Status::Submitted, 0, &m), &past, d(11, 2), &Calendar::new()).is_err());
        let unknown = Step::AcceptPending { version: 1, materials: vec!["户口本".into()], due: d(11, 20) };
        assert!(decide(&cur(Status::Submitted, 0, &m), &unknown, d(11, 2), &Calendar::new()).is_err());
    }

    #[test]
    fn pre_review_steps_need_a_submitted_application_and_completion_an_accepted_one() {
        let m = mats();
        for s in [Status::Draft, Status::Correction, Status::Accepted, Status::Rejected, Status::Completed] {
            let r = decide(&cur(s, 0, &m), &Step::Accept { version: 1 }, d(11, 2), &Calendar::new());
            assert_eq!(r.unwrap_err().code, ErrorCode::Conflict, "{s}");
        }
        let post = Step::Complete {
            version: 1,
            delivery: Delivery::Post { carrier: "中国邮政EMS".into(), tracking: "1100123456789".into() },
        };
        for s in [Status::Submitted, Status::AcceptedPending, Status::Completed] {
            assert!(decide(&cur(s, 0, &m), &post, d(11, 2), &Calendar::new()).is_err(), "{s}");
        }
        let out = decide(&cur(Status::Accepted, 0, &m), &post, d(11, 2), &Calendar::new()).unwrap();
        assert_eq!(out.note, "办理结果已邮寄（中国邮政EMS，单号1100123456789）");
    }

    #[test]
    fn a_tracking_number_is_letters_and_digits_and_a_reason_is_required() {
        let m = mats();
        let bad_tracking = Step::Complete {
            version: 1,
            delivery: Delivery::Post { carrier: "顺丰".into(), tracking: "<script>".into() },
        };
        assert!(decide(&cur(Status::Accepted, 0, &m), &bad_tracking, d(11, 2), &Calendar::new()).is_err());
        let no_reason = Step::Reject { version: 1, reason: "  ".into() };
        assert!(decide(&cur(Status::Submitted, 0, &m), &no_reason, d(11, 2), &Calendar::new()).is_err());
    }

    #[test]
    fn steps_parse_from_their_json_with_the_version_seen() {
        let s: Step =
            serde_json::from_str(r#"{"action":"complete","version":4,"delivery":{"method":"pickup","hall":"H001"}}"#)
                .unwrap();
        assert_eq!((s.version(), s.action()), (4, "complete"));
        assert!(serde_json::from_str::<Step>(r#"{"action":"accept"}"#).is_err());
        assert!(serde_json::from_str::<Step>(r#"{"action":"approve","version":1}"#).is_err());
    }

    #[test]
    fn electronic_delivery_needs_the_result_file() {
        let m = mats();
        let step = Step::Complete {
            version: 1,
            delivery: Delivery::Electronic { note: "结果文件可在办件详情下载".into() },
        };
        let err = decide(&cur(Status::Accepted, 0, &m), &step, d(11, 2), &Calendar::new()).unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
        let with = Current { has_result: true, ..cur(Status::Accepted, 0, &m) };
        let out = decide(&with, &step, d(11, 2), &Calendar::new()).unwrap();
        assert_eq!(out.status, Status::Completed);
        assert!(out.note.contains("电子结果已发放"));
    }

    #[test]
    fn a_result_file_is_attached_only_while_handling() {
        for s in [Status::Accepted, Status::AcceptedPending] {
            assert!(may_attach_result(s).is_ok(), "{s}");
        }
        for s in [Status::Draft, Status::Submitted, Status::Correction, Status::Rejected, Status::Completed] {
            assert!(may_attach_result(s).is_err(), "{s}");
        }
    }
}
