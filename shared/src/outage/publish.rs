//! `POST /v1/admin/outages` (outage_publisher): checks the notice rules,
//! renders the message (shown to the publisher with its length and parts,
//! `preview` to see it without publishing), plans the first send, stores the
//! outage, and makes the public notice visible at once (003's disclosure).

use super::rules::{self, MAX_MESSAGE_CHARS, Notice, QuietHours, Utility};
use crate::admin::{Act, Role, audit_stmt};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::runtime::IdSource;
use crate::store::{Db, Stmt, Value};
use crate::types::BeijingTime;
use serde::{Deserialize, Serialize};

/// The publisher's request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageBody {
    pub utility: String,
    /// planned or emergency.
    pub kind: String,
    pub areas: Vec<String>,
    pub start: BeijingTime,
    pub end: BeijingTime,
    pub reason: String,
    /// 发布单位.
    pub issuer: String,
    pub contact_phone: String,
    #[serde(default)]
    pub temporary_supply: Option<String>,
    /// Render and plan only; store nothing.
    #[serde(default)]
    pub preview: bool,
}

/// An outage as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outage {
    pub id: String,
    pub utility: String,
    pub kind: String,
    pub areas: Vec<String>,
    pub start: String,
    pub end: String,
    pub reason: String,
    pub issuer: String,
    pub contact_phone: String,
    pub temporary_supply: Option<String>,
    pub message: String,
    pub chars: usize,
    pub parts: usize,
    pub send_at: String,
    pub send_reason: String,
    pub status: String,
    pub created_at: String,
}

fn len_ok(field: &str, s: &str, min: usize, max: usize, errs: &mut Vec<FieldError>) {
    if !(min..=max).contains(&s.trim().chars().count()) {
        errs.push(FieldError::new(field, format!("{field} 应为{min}-{max}个字")));
    }
}

fn check(b: &OutageBody, now: BeijingTime) -> Result<Utility, Vec<FieldError>> {
    let mut errs = Vec::new();
    let utility = Utility::parse(&b.utility);
    if utility.is_none() {
        errs.push(FieldError::new("utility", "utility 应为 water（停水）或 gas（停气）"));
    }
    if !matches!(b.kind.as_str(), "planned" | "emergency") {
        errs.push(FieldError::new("kind", "kind 应为 planned（计划）或 emergency（紧急）"));
    }
    if b.areas.is_empty() || b.areas.len() > 50 {
        errs.push(FieldError::new("areas", "请列出1-50个受影响区域"));
    }
    for (i, a) in b.areas.iter().enumerate() {
        len_ok(&format!("areas[{i}]"), a, 1, 50, &mut errs);
    }
    if b.end <= b.start {
        errs.push(FieldError::new("end", "结束时间应晚于开始时间"));
    }
    if b.kind == "planned" && b.start <= now {
        errs.push(FieldError::new("start", "计划停供的开始时间应在将来"));
    }
    len_ok("reason", &b.reason, 1, 100, &mut errs);
    len_ok("issuer", &b.issuer, 1, 50, &mut errs);
    len_ok("contact_phone", &b.contact_phone, 5, 30, &mut errs);
    if let Some(t) = &b.temporary_supply {
        len_ok("temporary_supply", t, 1, 100, &mut errs);
    }
    if let Some(u) = utility
        && let Err(msg) = rules::check_lead_time(u, b.kind == "emergency", b.start, now)
    {
        errs.push(FieldError::new("start", msg));
    }
    match (utility, errs.is_empty()) {
        (Some(u), true) => Ok(u),
        _ => Err(errs),
    }
}

/// Publishes (or previews) an outage. With an `Idempotency-Key`, a retry
/// returns the first outage (`true` second).
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    db: &impl Db,
    ids: &impl IdSource,
    act: &Act<'_>,
    b: &OutageBody,
    idem_key: Option<&str>,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<(Outage, bool)> {
    act.who.require(Role::OutagePublisher)?;
    if let Some(k) = idem_key
        && let Some(first) = find(db, "idem_key = ?1", vec![k.into()]).await?.into_iter().next()
    {
        return Ok((first, true));
    }
    let now = act.now;
    let utility = check(b, now).map_err(ApiError::validation)?;
    let emergency = b.kind == "emergency";
    let area = b.areas.iter().map(|a| a.trim()).collect::<Vec<_>>().join("、");
    let notice = Notice {
        sign,
        utility,
        emergency,
        issuer: b.issuer.trim(),
        area: &area,
        start: b.start,
        end: b.end,
        reason: b.reason.trim(),
        temporary_supply: b.temporary_supply.as_deref().map(str::trim),
        contact: b.contact_phone.trim(),
        issued: now,
    };
    let message = rules::render(&notice);
    let chars = message.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::validation(vec![FieldError::new(
            "areas",
            format!("短信共{chars}字，超过{MAX_MESSAGE_CHARS}字上限，请精简区域或原因"),
        )]));
    }
    let plan = rules::plan_send(utility, emergency, b.start, now, quiet);
    let id = format!("OUT{}{}", now.date().format("%Y%m%d"), ids.hex(4)?.to_uppercase());
    let o = Outage {
        id,
        utility: b.utility.clone(),
        kind: b.kind.clone(),
        areas: b.areas.iter().map(|a| a.trim().to_owned()).collect(),
        start: b.start.to_rfc3339(),
        end: b.end.to_rfc3339(),
        reason: b.reason.trim().to_owned(),
        issuer: b.issuer.trim().to_owned(),
        contact_phone: b.contact_phone.trim().to_owned(),
        temporary_supply: b.temporary_supply.as_deref().map(|t| t.trim().to_owned()),
        parts: rules::parts(&message),
        chars,
        message,
        send_at: plan.at.to_rfc3339(),
        send_reason: plan.reason.to_owned(),
        status: if b.preview { "preview".into() } else { "published".into() },
        created_at: now.to_rfc3339(),
    };
    if b.preview {
        return Ok((o, false));
    }
    let mut stmts = vec![Stmt::new(
        "INSERT INTO outages (id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone,
           temporary_supply, message, chars, parts, send_at, send_reason, status, idem_key, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'published', ?16, ?17, ?18)",
        vec![
            o.id.as_str().into(),
            o.utility.as_str().into(),
            o.kind.as_str().into(),
            serde_json::to_string(&o.areas).unwrap_or_else(|_| "[]".into()).into(),
            o.start.as_str().into(),
            o.end.as_str().into(),
            o.reason.as_str().into(),
            o.issuer.as_str().into(),
            o.contact_phone.as_str().into(),
            o.temporary_supply.clone().into(),
            o.message.as_str().into(),
            (o.chars as i64).into(),
            (o.parts as i64).into(),
            o.send_at.as_str().into(),
            o.send_reason.as_str().into(),
            idem_key.map(str::to_owned).into(),
            act.who.token_id.as_str().into(),
            o.created_at.as_str().into(),
        ],
    )];
    for a in &o.areas {
        stmts.push(Stmt::new(
            "INSERT OR IGNORE INTO outage_areas (outage_id, area) VALUES (?1, ?2)",
            vec![o.id.as_str().into(), a.as_str().into()],
        ));
    }
    let action = if emergency { "outage.publish.emergency" } else { "outage.publish" };
    let detail = serde_json::json!({ "utility": o.utility, "areas": o.areas.len(), "send_reason": o.send_reason });
    stmts.push(audit_stmt(act.who, action, &o.id, act.request_id, now, &detail));
    db.batch(&stmts).await?;
    Ok((o, false))
}

#[derive(Deserialize)]
struct Row {
    id: String,
    utility: String,
    kind: String,
    areas: String,
    start_at: String,
    end_at: String,
    reason: String,
    issuer: String,
    contact_phone: String,
    temporary_supply: Option<String>,
    message: String,
    chars: i64,
    parts: i64,
    send_at: String,
    send_reason: String,
    status: String,
    created_at: String,
}

async fn find(db: &impl Db, cond: &str, args: Vec<Value>) -> ApiResult<Vec<Outage>> {
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "SELECT id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone, temporary_supply,
                        message, chars, parts, send_at, send_reason, status, created_at
                 FROM outages WHERE {cond} ORDER BY start_at LIMIT 200"
            ),
            &args,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Outage {
            areas: serde_json::from_str(&r.areas).unwrap_or_default(),
            id: r.id,
            utility: r.utility,
            kind: r.kind,
            start: r.start_at,
            end: r.end_at,
            reason: r.reason,
            issuer: r.issuer,
            contact_phone: r.contact_phone,
            temporary_supply: r.temporary_supply,
            message: r.message,
            chars: r.chars as usize,
            parts: r.parts as usize,
            send_at: r.send_at,
            send_reason: r.send_reason,
            status: r.status,
            created_at: r.created_at,
        })
        .collect())
}

/// Current and coming outages (not yet ended), optionally in one area and of one utility.
pub async fn public_list(
    db: &impl Db,
    area: Option<&str>,
    utility: Option<&str>,
    now: BeijingTime,
) -> ApiResult<Vec<Outage>> {
    let mut cond = String::from("status = 'published' AND end_at > ?1");
    let mut args: Vec<Value> = vec![now.to_rfc3339().into()];
    if let Some(a) = area {
        args.push(a.into());
        cond.push_str(&format!(" AND id IN (SELECT outage_id FROM outage_areas WHERE area = ?{})", args.len()));
    }
    if let Some(u) = utility {
        args.push(u.into());
        cond.push_str(&format!(" AND utility = ?{}", args.len()));
    }
    find(db, &cond, args).await
}

/// One published outage.
pub async fn get(db: &impl Db, id: &str) -> ApiResult<Outage> {
    find(db, "id = ?1 AND status = 'published'", vec![id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该停水停气公告"))
}
