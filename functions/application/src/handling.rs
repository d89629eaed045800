//! The department's side: the 预审 queue, reading an application and its
//! materials (each read logged), the steps (受理, 一次性告知, 容缺受理,
//! 不予受理, 办结) with optimistic concurrency, and the hourly sweep.

use crate::decide::{Current, Step, decide};
use crate::record::{self, Application, Row, event_stmt, notice_stmt};
use crate::status::Status;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Principal, Role, audit_stmt, log_access};
use shared::calendar::Calendar;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;

/// The departments a staff member works for: every department for an
/// auditor's reading, the token's departments for a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    City,
    Departments(Vec<String>),
}

impl Scope {
    /// Whether an application of `department` is in scope.
    pub fn allows(&self, department: &str) -> bool {
        match self {
            Self::City => true,
            Self::Departments(ds) => ds.iter().any(|d| d == department),
        }
    }

    /// 403 unless an application of `department` is in scope.
    pub fn check(&self, department: &str) -> ApiResult<()> {
        if self.allows(department) {
            Ok(())
        } else {
            Err(ApiError::with_message(ErrorCode::Forbidden, "此件不在您所在部门的办理范围内"))
        }
    }
}

/// The scope of `who`: handlers their departments; auditors read everything
/// when `reading`; anyone else 403.
pub async fn scope_of(db: &impl Db, who: &Principal, reading: bool) -> ApiResult<Scope> {
    if reading && who.roles.contains(&Role::Auditor) {
        return Ok(Scope::City);
    }
    who.require(Role::ApplicationHandler)?;
    Ok(Scope::Departments(shared::admin::departments(db, who).await?))
}

/// A row of the queue (no form, no materials: those are read one by one).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueueRow {
    pub number: String,
    pub item_name: String,
    pub department: String,
    pub status: Status,
    pub version: i64,
    pub notices: i64,
    pub submitted_at: Option<String>,
    pub deadline: Option<String>,
    pub overdue: i64,
    /// Warned by the sweep as due within two working days.
    pub warned_at: Option<String>,
}

/// The queue: by default everything waiting on the department (待预审 first,
/// then by deadline); `status` narrows it.
pub async fn queue(db: &impl Db, act: &Act<'_>, scope: &Scope, status: Option<Status>) -> ApiResult<Vec<QueueRow>> {
    if status == Some(Status::Draft) {
        // A draft is the citizen's alone until submitted (every other staff route answers 404).
        return Err(ApiError::bad_field("status", "草稿尚未提交，不在办理范围内"));
    }
    let (cond, params): (String, Vec<Value>) = match scope {
        Scope::City => ("1 = 1".into(), vec![]),
        Scope::Departments(ds) if ds.is_empty() => ("0 = 1".into(), vec![]),
        Scope::Departments(ds) => {
            let marks: Vec<String> = (0..ds.len()).map(|i| format!("?{}", i + 1)).collect();
            (format!("department IN ({})", marks.join(", ")), ds.iter().map(|d| d.as_str().into()).collect())
        }
    };
    let statuses = match status {
        Some(s) => format!("'{}'", s.as_str()),
        None => "'submitted', 'accepted', 'accepted_pending'".into(),
    };
    let rows = db
        .query_as(
            &format!(
                "SELECT number, item_name, department, status, version, notices, submitted_at, deadline, overdue, warned_at
                 FROM applications WHERE status IN ({statuses}) AND {cond}
                 ORDER BY status <> 'submitted', deadline IS NULL, deadline, submitted_at LIMIT 200"
            ),
            &params,
        )
        .await?;
    log_access(db, act, "application.list", status.map(|s| s.as_str()).unwrap_or("open")).await?;
    Ok(rows)
}

pub(crate) async fn in_scope(db: &impl Db, scope: &Scope, raw: &str) -> ApiResult<Row> {
    let number = record::parse_number(raw)?;
    let r = record::row(db, &number).await?;
    if r.status()? == Status::Draft {
        return Err(ApiError::with_message(ErrorCode::NotFound, "没有找到该办件，请核对办件编号"));
    }
    scope.check(&r.department)?;
    Ok(r)
}

/// The application as the department reads it; the read is logged.
pub async fn case(db: &impl Db, act: &Act<'_>, scope: &Scope, raw: &str) -> ApiResult<Application> {
    let r = in_scope(db, scope, raw).await?;
    log_access(db, act, "application.read", &r.number).await?;
    record::assemble(db, r).await
}

/// The upload id of `material` of an application in scope; the read is logged.
pub async fn open_material(db: &impl Db, act: &Act<'_>, scope: &Scope, raw: &str, material: &str) -> ApiResult<String> {
    let r = in_scope(db, scope, raw).await?;
    let mats = record::materials(db, &r.number).await?;
    let id = mats
        .into_iter()
        .find(|m| m.name == material)
        .and_then(|m| m.upload_id)
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "该材料尚未上传"))?;
    log_access(db, act, "application.material", &format!("{} {material}", r.number)).await?;
    Ok(id)
}

/// Takes `step` on an application: decided on what was read, written only
/// if nobody changed it since (else 409 and nothing changes).
pub async fn act_on(
    db: &impl Db,
    ids: &impl IdSource,
    act: &Act<'_>,
    scope: &Scope,
    raw: &str,
    step: &Step,
    cal: &Calendar,
) -> ApiResult<Application> {
    act.who.require(Role::ApplicationHandler)?;
    let r = in_scope(db, scope, raw).await?;
    if step.version() != r.version {
        return Err(ApiError::with_message(ErrorCode::Conflict, "该申请已被他人处理或已更新，请刷新后再操作"));
    }
    let names: Vec<String> = record::materials(db, &r.number).await?.into_iter().map(|m| m.name).collect();
    let cur = Current {
        status: r.status()?,
        notices: r.notices,
        promised_days: r.promised_days,
        materials: &names,
        has_result: r.result_upload.is_some(),
    };
    let out = decide(&cur, step, act.now.date(), cal)?;
    db.batch(&step_stmts(ids, act, &r, step, &out)?).await?;
    record::mine(db, &r.citizen_id, &r.number).await
}

fn step_stmts(
    ids: &impl IdSource,
    act: &Act<'_>,
    r: &Row,
    step: &Step,
    out: &crate::decide::Outcome,
) -> ApiResult<Vec<Stmt>> {
    let at = act.now.to_rfc3339();
    let n = r.number.as_str();
    let (accepted_on, deadline) = match out.accepted {
        Some((a, d)) => (Some(a.to_string()), Some(d.to_string())),
        None => (None, None),
    };
    let fields: Vec<&crate::decide::Correction> = out.corrections.iter().filter(|c| c.field.is_some()).collect();
    let delivery = match step {
        Step::Complete { delivery, .. } => serde_json::to_string(delivery).ok(),
        _ => None,
    };
    let mut stmts = vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND version = ?2)",
            vec![n.into(), r.version.into()],
        ),
        Stmt::new(
            "UPDATE applications SET status = ?2, version = version + 1, updated_at = ?3,
                notices = notices + ?4, field_fixes = ?5,
                accepted_on = COALESCE(?6, accepted_on), deadline = COALESCE(?7, deadline),
                pending_until = COALESCE(?8, pending_until), delivery = COALESCE(?9, delivery),
                completed_at = CASE WHEN ?2 = 'completed' THEN ?3 ELSE completed_at END
             WHERE number = ?1",
            vec![
                n.into(),
                out.status.as_str().into(),
                at.as_str().into(),
                i64::from(matches!(step, Step::Notify { .. })).into(),
                serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into()).into(),
                accepted_on.into(),
                deadline.clone().into(),
                out.pending_until.map(|d| d.to_string()).into(),
                delivery.into(),
            ],
        ),
    ];
    for c in out.corrections.iter().filter_map(|c| c.material.as_ref().map(|m| (m, &c.note))) {
        stmts.push(Stmt::new(
            "UPDATE application_materials SET correction = ?3, replaced = 0 WHERE number = ?1 AND name = ?2",
            vec![n.into(), c.0.as_str().into(), c.1.as_str().into()],
        ));
    }
    if let Step::AcceptPending { materials, due, .. } = step {
        for m in materials {
            stmts.push(Stmt::new(
                "UPDATE application_materials SET correction = ?3, replaced = 0 WHERE number = ?1 AND name = ?2",
                vec![n.into(), m.as_str().into(), format!("容缺，请于{due}前补交").into()],
            ));
        }
    }
    let body = match &deadline {
        Some(d) => format!("{}。承诺办结日期：{d}", out.note),
        None => out.note.clone(),
    };
    stmts.push(event_stmt(n, step.action(), out.status, &act.who.name, &out.note, &at));
    stmts.push(notice_stmt(ids, &r.citizen_id, n, title(step), &body, act.now)?);
    stmts.push(audit_stmt(
        act.who,
        "application.step",
        n,
        act.request_id,
        act.now,
        &serde_json::json!({ "action": step.action(), "status": out.status }),
    ));
    Ok(stmts)
}

fn title(step: &Step) -> &'static str {
    match step {
        Step::Accept { .. } => "申请已受理",
        Step::Notify { .. } => "请补正材料（一次性告知）",
        Step::AcceptPending { .. } => "申请已容缺受理",
        Step::Reject { .. } => "申请不予受理",
        Step::Complete { .. } => "申请已办结",
    }
}

/// What one sweep changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sweep {
    /// Applications newly marked overdue.
    pub overdue: u64,
    /// Applications newly warned (due within two working days).
    pub warned: u64,
}

/// Working days before its deadline an application is flagged due soon.
pub const DUE_SOON_DAYS: u32 = 2;

/// The hourly sweep: accepted applications past their deadline are marked
/// overdue, those due within [`DUE_SOON_DAYS`] working days warned (each
/// once; the queue shows both).
pub async fn sweep(db: &impl Db, now: BeijingTime, cal: &Calendar) -> ApiResult<Sweep> {
    let today = now.date();
    let soon = shared::calendar::working_days_after(today, DUE_SOON_DAYS, cal);
    let changed = db
        .batch(&[
            Stmt::new(
                "UPDATE applications SET overdue = 1
                 WHERE status IN ('accepted', 'accepted_pending') AND overdue = 0
                   AND (deadline < ?1 OR (status = 'accepted_pending' AND pending_until < ?1))",
                vec![today.to_string().into()],
            ),
            Stmt::new(
                "UPDATE applications SET warned_at = ?2
                 WHERE status IN ('accepted', 'accepted_pending') AND warned_at IS NULL AND deadline <= ?1",
                vec![soon.to_string().into(), now.to_rfc3339().into()],
            ),
        ])
        .await?;
    Ok(Sweep { overdue: changed.first().copied().unwrap_or(0), warned: changed.get(1).copied().unwrap_or(0) })
}
