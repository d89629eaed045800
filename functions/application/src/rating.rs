//! 好差评 after 办结: five grades, reasons required for the two lowest; a
//! low grade opens a 整改 task for the department with a deadline in
//! working days, and the citizen hears the outcome.

use crate::record::{event_stmt, notice_stmt, own_row};
use crate::status::Status;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt};
use shared::calendar::{Calendar, working_days_after};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// Working days a department has to rectify, unless configured
/// (`RECTIFY_DAYS`).
pub const DEFAULT_RECTIFY_DAYS: u32 = 15;
/// Longest reason or outcome text.
pub const MAX_REASON_CHARS: usize = 500;

/// The five grades of 好差评 (5 best).
pub fn grade_label(grade: i64) -> Option<&'static str> {
    match grade {
        5 => Some("非常满意"),
        4 => Some("满意"),
        3 => Some("基本满意"),
        2 => Some("不满意"),
        1 => Some("非常不满意"),
        _ => None,
    }
}

/// Whether a grade opens a 整改 task (不满意 and 非常不满意): it needs reasons,
/// and the applicant is told the task is open.
pub fn opens_rectification(grade: i64) -> bool {
    grade <= 2
}

/// A citizen's rating.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub grade: i64,
    #[serde(default)]
    pub reasons: String,
}

/// Checks a rating: a known grade; reasons for 不满意 and 非常不满意.
pub fn check(r: &Rating) -> ApiResult<(&'static str, String)> {
    let label =
        grade_label(r.grade).ok_or_else(|| crate::decide::bad("grade", "评价等级应为1到5（非常不满意到非常满意）"))?;
    let reasons = r.reasons.trim().to_owned();
    if reasons.chars().count() > MAX_REASON_CHARS {
        return Err(crate::decide::bad("reasons", format!("评价理由不超过{MAX_REASON_CHARS}字")));
    }
    if opens_rectification(r.grade) && reasons.is_empty() {
        return Err(crate::decide::bad("reasons", "选择“不满意”或“非常不满意”时请写明理由，以便部门整改"));
    }
    Ok((label, reasons))
}

/// Rates a completed application, once; a low grade opens a rectification.
#[allow(clippy::too_many_arguments)]
pub async fn rate(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    raw: &str,
    rating: &Rating,
    rectify_days: u32,
    cal: &Calendar,
    now: BeijingTime,
) -> ApiResult<()> {
    let r = own_row(db, citizen, raw).await?;
    if r.status()? != Status::Completed {
        return Err(ApiError::with_message(ErrorCode::Conflict, "办结后才能评价"));
    }
    let (label, reasons) = check(rating)?;
    let at = now.to_rfc3339();
    let n = r.number.as_str();
    let mut stmts = vec![
        Stmt::precondition("EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND rating IS NULL)", vec![n.into()]),
        Stmt::new(
            "UPDATE applications SET rating = ?2, version = version + 1, updated_at = ?3 WHERE number = ?1",
            vec![n.into(), rating.grade.into(), at.as_str().into()],
        ),
        event_stmt(n, "rate", Status::Completed, "citizen", &format!("评价：{label}"), &at),
    ];
    if opens_rectification(rating.grade) {
        let deadline = working_days_after(now.date(), rectify_days.max(1), cal);
        stmts.push(Stmt::new(
            "INSERT INTO application_rectifications (number, department, grade, reasons, deadline, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6)",
            vec![
                n.into(),
                r.department.as_str().into(),
                rating.grade.into(),
                reasons.into(),
                deadline.to_string().into(),
                at.as_str().into(),
            ],
        ));
        stmts.push(notice_stmt(
            ids,
            citizen,
            n,
            "您的评价已转部门整改",
            &format!("部门将在{deadline}前整改并告知您结果"),
            now,
        )?);
    }
    db.batch(&stmts).await.map_err(|e| {
        if e.code == ErrorCode::Conflict {
            ApiError::with_message(ErrorCode::Conflict, "该办件已评价过")
        } else {
            e
        }
    })?;
    Ok(())
}

/// A rectification task as the department sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rectification {
    pub number: String,
    pub department: String,
    pub grade: i64,
    pub reasons: String,
    pub deadline: String,
    pub status: String,
    pub outcome: Option<String>,
    pub created_at: String,
}

/// The open (or all) rectifications of the departments in scope.
pub async fn list(db: &impl Db, scope: &crate::handling::Scope) -> ApiResult<Vec<Rectification>> {
    // The scope is in the query, so another department's tasks never crowd a department's out.
    let (all, departments) = match scope {
        crate::handling::Scope::City => (1_i64, "[]".to_owned()),
        crate::handling::Scope::Departments(ds) => (0, serde_json::to_string(ds).unwrap_or_else(|_| "[]".into())),
    };
    db.query_as(
        "SELECT number, department, grade, reasons, deadline, status, outcome, created_at
         FROM application_rectifications
         WHERE ?1 = 1 OR department IN (SELECT value FROM json_each(?2))
         ORDER BY status = 'done', deadline LIMIT 500",
        &[all.into(), departments.into()],
    )
    .await
}

/// Closes a rectification with its outcome; the citizen hears it.
pub async fn close(
    db: &impl Db,
    ids: &impl IdSource,
    act: &Act<'_>,
    scope: &crate::handling::Scope,
    raw: &str,
    outcome: &str,
) -> ApiResult<()> {
    let number = crate::record::parse_number(raw)?;
    let r = crate::record::row(db, &number).await?;
    scope.check(&r.department)?;
    let outcome = outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > MAX_REASON_CHARS {
        return Err(crate::decide::bad("outcome", format!("请写明整改结果（不超过{MAX_REASON_CHARS}字）")));
    }
    let at = act.now.to_rfc3339();
    db.batch(&[
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM application_rectifications WHERE number = ?1 AND status = 'open')",
            vec![number.as_str().into()],
        ),
        Stmt::new(
            "UPDATE application_rectifications SET status = 'done', outcome = ?2, done_at = ?3 WHERE number = ?1",
            vec![number.as_str().into(), outcome.into(), at.as_str().into()],
        ),
        event_stmt(&number, "rectified", Status::Completed, &act.who.name, outcome, &at),
        notice_stmt(ids, &r.citizen_id, &number, "整改结果", outcome, act.now)?,
        audit_stmt(act.who, "application.rectify", &number, act.request_id, act.now, &serde_json::json!({})),
    ])
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_two_lowest_grades_need_reasons_and_only_five_grades_exist() {
        assert!(check(&Rating { grade: 2, reasons: " ".into() }).is_err());
        assert_eq!(check(&Rating { grade: 2, reasons: "等太久".into() }).unwrap().0, "不满意");
        assert_eq!(check(&Rating { grade: 5, reasons: String::new() }).unwrap().0, "非常满意");
        for g in [0, 6, -1] {
            assert!(check(&Rating { grade: g, reasons: "x".into() }).is_err());
        }
    }
}
