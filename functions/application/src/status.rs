//! Where an application stands (`applications.status`, CHECK-constrained;
//! also the status after each step in `application_events`).

shared::text_enum! {
    /// The status of an application.
    pub enum Status {
        /// 草稿: saved, not yet submitted.
        Draft => "draft",
        /// 待预审: submitted, waiting for the department's pre-review.
        Submitted => "submitted",
        /// 待补正: a one-time notice lists what to correct.
        Correction => "correction",
        /// 已受理: accepted, the promised time runs.
        Accepted => "accepted",
        /// 容缺受理: accepted with named materials to follow by a date.
        AcceptedPending => "accepted_pending",
        /// 不予受理.
        Rejected => "rejected",
        /// 已办结.
        Completed => "completed",
    }
}

/// The three groups of 我的办件 (002 §4.2 办件查询).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// 待处理: the citizen has something to do.
    Todo,
    /// 办理中: the department has.
    InProgress,
    /// 已办结.
    Done,
}

impl Status {
    /// The standard phrase, the only words a public progress view shows.
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Submitted => "已提交，待预审",
            Self::Correction => "待补正材料",
            Self::Accepted => "已受理，办理中",
            Self::AcceptedPending => "容缺受理，待补交材料",
            Self::Rejected => "不予受理",
            Self::Completed => "已办结",
        }
    }

    /// Which group of 我的办件 it belongs to.
    pub fn group(self) -> Group {
        match self {
            Self::Draft | Self::Correction | Self::AcceptedPending => Group::Todo,
            Self::Submitted | Self::Accepted => Group::InProgress,
            Self::Rejected | Self::Completed => Group::Done,
        }
    }

    /// What comes next, in the citizen's words.
    pub fn next_step(self) -> &'static str {
        match self {
            Self::Draft => "补全信息和材料后提交申请",
            Self::Submitted => "等待部门预审（一般1个工作日内）",
            Self::Correction => "按一次性告知补正材料后重新提交",
            Self::Accepted => "部门办理中，请留意办结通知",
            Self::AcceptedPending => "请在期限内补交容缺材料",
            Self::Rejected => "查看不予受理的理由",
            Self::Completed => "查看办理结果并评价",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_text_and_has_its_own_phrase() {
        for &s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        let phrases: std::collections::HashSet<_> = Status::ALL.iter().map(|s| s.phrase()).collect();
        assert_eq!(phrases.len(), Status::ALL.len());
    }

    #[test]
    fn a_case_waits_on_the_citizen_the_department_or_nobody() {
        assert_eq!(Status::Correction.group(), Group::Todo);
        assert_eq!(Status::Submitted.group(), Group::InProgress);
        assert_eq!(Status::Completed.group(), Group::Done);
        assert_eq!(Status::Rejected.group(), Group::Done);
    }
}
