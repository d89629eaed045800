//! `POST /v1/admin/outages` (outage_publisher): checks the notice rules,
//! renders the message (shown to the publisher with its length and parts,
//! `preview` to see it without publishing), plans the first send, stores the
//! outage, and makes the public notice visible at once (003's disclosure).

use crate::areas::{self, Resolved};
use crate::rules::{self, MAX_MESSAGE_CHARS, MessageKind, Notice, QuietHours, Rendered, SendPlan, Utility};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;

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
    /// Optional reminder this many hours before the start (1-72).
    #[serde(default)]
    pub remind_before_hours: Option<i64>,
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
    /// The latest message version (1 the notice; corrections, cancellation, reminder after).
    pub version: i64,
    pub remind_before_hours: Option<i64>,
}

fn len_ok(field: &str, s: &str, min: usize, max: usize, errs: &mut Vec<FieldError>) {
    if !(min..=max).contains(&s.trim().chars().count()) {
        errs.push(FieldError::new(field, format!("{field} 应为{min}-{max}个字")));
    }
}

fn check(b: &OutageBody, now: BeijingTime, timing: bool) -> Result<Utility, Vec<FieldError>> {
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
    if timing && b.kind == "planned" && b.start <= now {
        errs.push(FieldError::new("start", "计划停供的开始时间应在将来"));
    }
    len_ok("reason", &b.reason, 1, 100, &mut errs);
    len_ok("issuer", &b.issuer, 1, 50, &mut errs);
    len_ok("contact_phone", &b.contact_phone, 5, 30, &mut errs);
    if let Some(t) = &b.temporary_supply {
        len_ok("temporary_supply", t, 1, 100, &mut errs);
    }
    if b.remind_before_hours.is_some_and(|h| !(1..=72).contains(&h)) {
        errs.push(FieldError::new("remind_before_hours", "提醒时间应为开始前1-72小时"));
    }
    if let Some(u) = utility
        && timing
        && let Err(msg) = rules::check_lead_time(u, b.kind == "emergency", b.start, now)
    {
        errs.push(FieldError::new("start", msg));
    }
    match (utility, errs.is_empty()) {
        (Some(u), true) => Ok(u),
        _ => Err(errs),
    }
}

/// The message of one kind for an outage as it now stands, issued `now`.
fn render(o: &Outage, sign: &str, kind: MessageKind, now: BeijingTime) -> ApiResult<Rendered> {
    let utility = Utility::parse(&o.utility).ok_or_else(|| ApiError::internal("stored utility"))?;
    let (start, end) = (BeijingTime::parse(&o.start), BeijingTime::parse(&o.end));
    let (Ok(start), Ok(end)) = (start, end) else { return Err(ApiError::internal("stored outage times")) };
    let area = o.areas.join("、");
    let notice = Notice {
        sign,
        utility,
        emergency: o.kind == "emergency",
        issuer: &o.issuer,
        area: &area,
        start,
        end,
        reason: &o.reason,
        temporary_supply: o.temporary_supply.as_deref(),
        contact: &o.contact_phone,
        issued: now,
    };
    let r = rules::render_kind(&notice, kind);
    let chars = r.text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::validation(vec![FieldError::new(
            "areas",
            format!("短信共{chars}字，超过{MAX_MESSAGE_CHARS}字上限，请精简区域或原因"),
        )]));
    }
    Ok(r)
}

fn version_stmt(id: &str, version: i64, kind: MessageKind, r: &Rendered, plan: &SendPlan, now: BeijingTime) -> Stmt {
    let params: serde_json::Map<String, serde_json::Value> =
        r.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    Stmt::new(
        "INSERT INTO outage_versions (outage_id, version, kind, message, params, send_at, send_reason, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'planned', ?8)",
        vec![
            id.into(),
            version.into(),
            kind.as_str().into(),
            r.text.as_str().into(),
            serde_json::Value::Object(params).to_string().into(),
            plan.at.to_rfc3339().into(),
            plan.reason.into(),
            now.to_rfc3339().into(),
        ],
    )
}

/// The optional reminder after version `after` (sent at `after_at`): only
/// when it falls after that send and is still ahead.
fn reminder_stmt(
    o: &Outage,
    sign: &str,
    after: i64,
    after_at: BeijingTime,
    quiet: QuietHours,
    now: BeijingTime,
) -> ApiResult<Option<Stmt>> {
    let (Some(hours), Ok(start)) = (o.remind_before_hours, BeijingTime::parse(&o.start)) else { return Ok(None) };
    let at = rules::reminder_at(start, hours, quiet);
    if at <= after_at || at <= now {
        return Ok(None);
    }
    let r = render(o, sign, MessageKind::Reminder, at)?;
    let plan = SendPlan { at, reason: "开始前提醒" };
    Ok(Some(version_stmt(&o.id, after + 1, MessageKind::Reminder, &r, &plan, now)))
}

fn area_stmts(id: &str, areas: &[Resolved]) -> Vec<Stmt> {
    let mut out = vec![Stmt::new("DELETE FROM outage_areas WHERE outage_id = ?1", vec![id.into()])];
    out.extend(areas.iter().map(|a| {
        Stmt::new(
            "INSERT OR IGNORE INTO outage_areas (outage_id, area, code) VALUES (?1, ?2, ?3)",
            vec![id.into(), a.label.as_str().into(), a.code.as_str().into()],
        )
    }));
    out
}

async fn resolve_areas(db: &impl Db, names: &[String]) -> ApiResult<Vec<Resolved>> {
    areas::resolve(db, "areas", names).await?.map_err(ApiError::validation)
}

/// Publishes (or previews) an outage. With an `Idempotency-Key`, a retry
/// returns the first outage (`true` second). The first message is stored as
/// version 1, planned for its send time (the caller fans out what is due).
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
    let utility = check(b, now, true).map_err(ApiError::validation)?;
    let resolved = resolve_areas(db, &b.areas).await?;
    let emergency = b.kind == "emergency";
    let plan = rules::plan_send(utility, emergency, b.start, now, quiet);
    let mut o = Outage {
        id: format!("OUT{}{}", now.date().format("%Y%m%d"), ids.hex(4)?.to_uppercase()),
        utility: b.utility.clone(),
        kind: b.kind.clone(),
        areas: resolved.iter().map(|a| a.label.clone()).collect(),
        start: b.start.to_rfc3339(),
        end: b.end.to_rfc3339(),
        reason: b.reason.trim().to_owned(),
        issuer: b.issuer.trim().to_owned(),
        contact_phone: b.contact_phone.trim().to_owned(),
        temporary_supply: b.temporary_supply.as_deref().map(|t| t.trim().to_owned()),
        message: String::new(),
        chars: 0,
        parts: 0,
        send_at: plan.at.to_rfc3339(),
        send_reason: plan.reason.to_owned(),
        status: if b.preview { "preview".into() } else { "published".into() },
        created_at: now.to_rfc3339(),
        version: 1,
        remind_before_hours: b.remind_before_hours,
    };
    let r = render(&o, sign, MessageKind::Notice, now)?;
    o.chars = r.text.chars().count();
    o.parts = rules::parts(&r.text);
    o.message = r.text.clone();
    if b.preview {
        return Ok((o, false));
    }
    let mut stmts = vec![version_stmt(&o.id, 1, MessageKind::Notice, &r, &plan, now)];
    if let Some(rem) = reminder_stmt(&o, sign, 1, plan.at, quiet, now)? {
        stmts.push(rem);
        o.version = 2;
    }
    stmts.insert(
        0,
        Stmt::new(
            "INSERT INTO outages (id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone,
               temporary_supply, message, chars, parts, send_at, send_reason, status, idem_key, created_by, created_at,
               version, remind_before_hours)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'published', ?16, ?17, ?18, ?19, ?20)",
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
                o.version.into(),
                o.remind_before_hours.into(),
            ],
        ),
    );
    stmts.extend(area_stmts(&o.id, &resolved));
    let action = if emergency { "outage.publish.emergency" } else { "outage.publish" };
    let detail = serde_json::json!({ "utility": o.utility, "areas": o.areas.len(), "send_reason": o.send_reason });
    stmts.push(audit_stmt(act.who, action, &o.id, act.request_id, now, &detail));
    db.batch(&stmts).await?;
    Ok((o, false))
}

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
    if o.status != "published" || o.end <= now.to_rfc3339() {
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
        "UPDATE outage_versions SET state = 'superseded' WHERE outage_id = ?1 AND state = 'planned'",
        vec![id.into()],
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
        utility: o.utility.clone(),
        kind: o.kind.clone(),
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
    let utility = check(&merged, now, merged.start < old_start).map_err(ApiError::validation)?;
    let resolved = resolve_areas(db, &merged.areas).await?;
    o.areas = resolved.iter().map(|a| a.label.clone()).collect();
    o.start = merged.start.to_rfc3339();
    o.end = merged.end.to_rfc3339();
    o.reason = merged.reason.trim().to_owned();
    o.temporary_supply = merged.temporary_supply.map(|t| t.trim().to_owned());
    let notified = anyone_notified(db, id).await?;
    let (kind, plan) = if notified {
        (MessageKind::Correction, rules::plan_followup(o.kind == "emergency", merged.start, now, quiet))
    } else {
        (MessageKind::Notice, rules::plan_send(utility, o.kind == "emergency", merged.start, now, quiet))
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
    let plan = rules::plan_followup(o.kind == "emergency", start, now, quiet);
    let mut shown = o.clone();
    shown.reason = b.reason.trim().to_owned();
    let r = render(&shown, sign, MessageKind::Cancellation, now)?;
    let version = o.version + 1;
    let stmts = vec![
        Stmt::precondition("(SELECT version FROM outages WHERE id = ?1) = ?2", vec![id.into(), o.version.into()]),
        supersede_planned(id),
        version_stmt(id, version, MessageKind::Cancellation, &r, &plan, now),
        Stmt::new(
            "UPDATE outages SET status = 'cancelled', version = ?2 WHERE id = ?1",
            vec![id.into(), version.into()],
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
    o.status = "cancelled".into();
    o.version = version;
    Ok(o)
}

/// Versions of one outage that are due now (the caller fans them out).
pub async fn due_versions(db: &impl Db, id: &str, now: BeijingTime) -> ApiResult<Vec<i64>> {
    #[derive(Deserialize)]
    struct V {
        version: i64,
    }
    let due: Vec<V> = db
        .query_as(
            "SELECT version FROM outage_versions WHERE outage_id = ?1 AND state = 'planned' AND send_at <= ?2
              ORDER BY version",
            &[id.into(), now.to_rfc3339().into()],
        )
        .await?;
    Ok(due.into_iter().map(|v| v.version).collect())
}

/// The current version of an outage that went out, for a republish.
pub async fn republishable(db: &impl Db, id: &str) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct V {
        version: i64,
    }
    let v: Option<V> = db
        .first_as(
            "SELECT v.version FROM outage_versions v JOIN outages o ON o.id = v.outage_id
              WHERE v.outage_id = ?1 AND v.state = 'fanned_out' AND v.kind != 'reminder' AND o.status = 'published'
              ORDER BY v.version DESC LIMIT 1",
            &[id.into()],
        )
        .await?;
    v.map(|v| v.version).ok_or_else(|| {
        ApiError::with_message(ErrorCode::OutageStateInvalid, "该公告尚未到发送时间或已取消，无需重新发送")
    })
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
    version: i64,
    remind_before_hours: Option<i64>,
}

async fn find(db: &impl Db, cond: &str, args: Vec<Value>) -> ApiResult<Vec<Outage>> {
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "SELECT id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone, temporary_supply,
                        message, chars, parts, send_at, send_reason, status, created_at, version, remind_before_hours
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
            version: r.version,
            remind_before_hours: r.remind_before_hours,
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
        // The area itself, or any area inside one the outage names (a building in an affected community).
        let n = args.len();
        cond.push_str(&format!(
            " AND id IN (SELECT oa.outage_id FROM outage_areas oa LEFT JOIN supply_areas x ON x.code = oa.code
                  WHERE oa.area = ?{n} OR oa.code = ?{n}
                     OR EXISTS (SELECT 1 FROM supply_areas a WHERE (a.code = ?{n} OR a.full_name = ?{n})
                                   AND a.path >= x.path AND a.path < x.path || '~'))"
        ));
    }
    if let Some(u) = utility {
        args.push(u.into());
        cond.push_str(&format!(" AND utility = ?{}", args.len()));
    }
    find(db, &cond, args).await
}

/// One published outage.
pub async fn get(db: &impl Db, id: &str) -> ApiResult<Outage> {
    find(db, "id = ?1", vec![id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该停水停气公告"))
}
