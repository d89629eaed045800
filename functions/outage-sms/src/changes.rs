//! Changes to a published outage (outage_publisher): an amendment is a new
//! version (a correction to those already notified and the newly affected,
//! a fresh notice when nobody was told yet); a cancellation shows on the
//! public notice at once and goes to those already notified.

use crate::notices::{Outage, find};
use crate::publish::{OutageBody, area_stmts, check, len_ok, reminder_stmt, render, resolve_areas, version_stmt};
use crate::rules::{self, MessageKind, QuietHours};
use crate::states::{OutageKind, OutageStatus, VersionState};
use serde::Deserialize;
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// `POST /v1/admin/outages/{id}:amend`: any of the time, areas, reason and
/// temporary supply. Fields left out keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendBody {
    #[serde(default)]
    pub start: Option<BeijingTime>,
    #[serde(default)]
    pub end: Option<BeijingTime>,
    #[serde(default)]
    pub areas: Option<Vec<String>>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub temporary_supply: Option<String>,
}

/// `POST /v1/admin/outages/{id}:cancel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Said in the message (e.g. 施工计划调整).
    pub reason: String,
}

async fn live(db: &impl Db, id: &str, now: BeijingTime) -> ApiResult<Outage> {
    let o = find(db, "id = ?1", vec![id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该停水停气公告"))?;
    if o.status != OutageStatus::Published || o.end <= now.to_rfc3339() {
        return Err(ApiError::with_message(ErrorCode::OutageStateInvalid, "该公告已取消或已结束，不能再更改"));
    }
    Ok(o)
}

async fn anyone_notified(db: &impl Db, id: &str) -> ApiResult<bool> {
    let hit: Option<serde_json::Value> = db
        .first_as(
            "SELECT 1 AS x FROM outage_outbox WHERE outage_id = ?1 AND status IN ('sending', 'sent', 'delivered') LIMIT 1",
            &[id.into()],
        )
        .await?;
    Ok(hit.is_some())
}

fn supersede_planned(id: &str) -> Stmt {
    Stmt::new(
        "UPDATE outage_versions SET state = ?2 WHERE outage_id = ?1 AND state = 'planned'",
        vec![id.into(), VersionState::Superseded.as_str().into()],
    )
}

/// Amends an outage: a new version (a correction to those already notified
/// and the newly affected; a fresh notice when nobody was notified yet).
/// What was still planned is superseded; the reminder is planned again.
pub async fn amend(
    db: &impl Db,
    act: &Act<'_>,
    id: &str,
    b: &AmendBody,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<Outage> {
    act.who.require(Role::OutagePublisher)?;
    let now = act.now;
    let mut o = live(db, id, now).await?;
    let old_start = BeijingTime::parse(&o.start).map_err(|_| ApiError::internal("stored start"))?;
    let merged = OutageBody {
        utility: o.utility.as_str().to_owned(),
        effect: Some(o.effect.as_str().to_owned()),
        kind: o.kind.as_str().to_owned(),
        areas: b.areas.clone().unwrap_or_else(|| o.areas.clone()),
        start: b.start.unwrap_or(old_start),
        end: b.end.unwrap_or(BeijingTime::parse(&o.end).map_err(|_| ApiError::internal("stored end"))?),
        reason: b.reason.clone().unwrap_or_else(|| o.reason.clone()),
        issuer: o.issuer.clone(),
        contact_phone: o.contact_phone.clone(),
        temporary_supply: b.temporary_supply.clone().or_else(|| o.temporary_supply.clone()),
        remind_before_hours: o.remind_before_hours,
        preview: false,
    };
    // The notice rules bind a start moved earlier; other changes keep the original notice.
    let checked = check(&merged, now, merged.start < old_start).map_err(ApiError::validation)?;
    let resolved = resolve_areas(db, &merged.areas).await?;
    o.areas = resolved.iter().map(|a| a.label.clone()).collect();
    o.start = merged.start.to_rfc3339();
    o.end = merged.end.to_rfc3339();
    o.reason = merged.reason.trim().to_owned();
    o.temporary_supply = merged.temporary_supply.map(|t| t.trim().to_owned());
    let notified = anyone_notified(db, id).await?;
    let emergency = o.kind == OutageKind::Emergency;
    let (kind, plan) = if notified {
        (MessageKind::Correction, rules::plan_followup(emergency, merged.start, now, quiet))
    } else {
        (MessageKind::Notice, rules::plan_send(checked.service(), emergency, merged.start, now, quiet))
    };
    let r = render(&o, sign, kind, now)?;
    let version = o.version + 1;
    let mut stmts = vec![
        Stmt::precondition("(SELECT version FROM outages WHERE id = ?1) = ?2", vec![id.into(), o.version.into()]),
        supersede_planned(id),
        version_stmt(id, version, kind, &r, &plan, now),
    ];
    o.version = version;
    if let Some(rem) = reminder_stmt(&o, sign, version, plan.at, quiet, now)? {
        stmts.push(rem);
        o.version += 1;
    }
    o.message = r.text.clone();
    o.chars = r.text.chars().count();
    o.parts = rules::parts(&r.text);
    stmts.push(Stmt::new(
        "UPDATE outages SET areas = ?2, start_at = ?3, end_at = ?4, reason = ?5, temporary_supply = ?6, message = ?7,
                chars = ?8, parts = ?9, version = ?10 WHERE id = ?1",
        vec![
            id.into(),
            serde_json::to_string(&o.areas).unwrap_or_else(|_| "[]".into()).into(),
            o.start.as_str().into(),
            o.end.as_str().into(),
            o.reason.as_str().into(),
            o.temporary_supply.clone().into(),
            o.message.as_str().into(),
            (o.chars as i64).into(),
            (o.parts as i64).into(),
            o.version.into(),
        ],
    ));
    stmts.extend(area_stmts(id, &resolved));
    let detail = serde_json::json!({ "version": version, "kind": kind.as_str(), "send_reason": plan.reason });
    stmts.push(audit_stmt(act.who, "outage.amend", id, act.request_id, now, &detail));
    db.batch(&stmts).await?;
    Ok(o)
}

/// Cancels an outage: the public notice says so at once, what was planned
/// is superseded, and those already notified get a cancellation.
pub async fn cancel(
    db: &impl Db,
    act: &Act<'_>,
    id: &str,
    b: &CancelBody,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<Outage> {
    act.who.require(Role::OutagePublisher)?;
    let now = act.now;
    let mut o = live(db, id, now).await?;
    let mut errs = Vec::new();
    len_ok("reason", &b.reason, 1, 50, &mut errs);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let start = BeijingTime::parse(&o.start).map_err(|_| ApiError::internal("stored start"))?;
    let plan = rules::plan_followup(o.kind == OutageKind::Emergency, start, now, quiet);
    let mut shown = o.clone();
    shown.reason = b.reason.trim().to_owned();
    let r = render(&shown, sign, MessageKind::Cancellation, now)?;
    let version = o.version + 1;
    let stmts = vec![
        Stmt::precondition("(SELECT version FROM outages WHERE id = ?1) = ?2", vec![id.into(), o.version.into()]),
        supersede_planned(id),
        version_stmt(id, version, MessageKind::Cancellation, &r, &plan, now),
        Stmt::new(
            "UPDATE outages SET status = ?3, version = ?2 WHERE id = ?1",
            vec![id.into(), version.into(), OutageStatus::Cancelled.as_str().into()],
        ),
        audit_stmt(
            act.who,
            "outage.cancel",
            id,
            act.request_id,
            now,
            &serde_json::json!({ "reason": b.reason.trim() }),
        ),
    ];
    db.batch(&stmts).await?;
    o.status = OutageStatus::Cancelled;
    o.version = version;
    Ok(o)
}
