//! `POST /v1/admin/outages` (outage_publisher): checks the notice rules,
//! renders the message (shown to the publisher with its length and parts,
//! `preview` to see it without publishing), plans the first send, stores the
//! outage, and makes the public notice visible at once (003's disclosure).

use crate::areas::{self, Resolved};
use crate::notices::{Outage, find};
use crate::rules::{
    self, Effect, MAX_MESSAGE_CHARS, MessageKind, Notice, QuietHours, Rendered, SendPlan, Service, Utility,
};
use crate::states::{OutageKind, OutageStatus, VersionState};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// The publisher's request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageBody {
    pub utility: String,
    /// `stop` (停水/停气, the default) or `reduced_pressure` (降压供水, water only).
    #[serde(default)]
    pub effect: Option<String>,
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

pub(crate) fn len_ok(field: &str, s: &str, min: usize, max: usize, errs: &mut Vec<FieldError>) {
    if !(min..=max).contains(&s.trim().chars().count()) {
        errs.push(FieldError::new(field, format!("{field} 应为{min}-{max}个字")));
    }
}

/// What a valid request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) utility: Utility,
    pub(crate) effect: Effect,
    pub(crate) kind: OutageKind,
}

impl Checked {
    pub(crate) fn service(self) -> Service {
        Service { utility: self.utility, effect: self.effect }
    }
}

/// The effect asked for: stop by default; 降压供水 only of water.
fn effect_of(b: &OutageBody, utility: Option<Utility>, errs: &mut Vec<FieldError>) -> Option<Effect> {
    let effect = match b.effect.as_deref() {
        None => Some(Effect::Stop),
        Some(e) => Effect::parse(e),
    };
    match (effect, utility) {
        (None, _) => errs.push(FieldError::new("effect", "effect 应为 stop（停供）或 reduced_pressure（降压供水）")),
        (Some(Effect::ReducedPressure), Some(Utility::Gas)) => {
            errs.push(FieldError::new("effect", "降压供水只适用于供水（utility 为 water）"));
        }
        _ => {}
    }
    effect
}

pub(crate) fn check(b: &OutageBody, now: BeijingTime, timing: bool) -> Result<Checked, Vec<FieldError>> {
    let mut errs = Vec::new();
    let utility = Utility::parse(&b.utility);
    if utility.is_none() {
        errs.push(FieldError::new("utility", "utility 应为 water（停水）或 gas（停气）"));
    }
    let effect = effect_of(b, utility, &mut errs);
    let kind = OutageKind::parse(&b.kind);
    if kind.is_none() {
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
    if timing && kind == Some(OutageKind::Planned) && b.start <= now {
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
    if let (Some(utility), Some(effect)) = (utility, effect)
        && timing
        && let Err(msg) =
            rules::check_lead_time(Service { utility, effect }, kind == Some(OutageKind::Emergency), b.start, now)
    {
        errs.push(FieldError::new("start", msg));
    }
    match (utility, effect, kind, errs.is_empty()) {
        (Some(utility), Some(effect), Some(kind), true) => Ok(Checked { utility, effect, kind }),
        _ => Err(errs),
    }
}

/// The message of one kind for an outage as it now stands, issued `now`
/// (refused over [`MAX_MESSAGE_CHARS`]).
pub(crate) fn render(o: &Outage, sign: &str, kind: MessageKind, now: BeijingTime) -> ApiResult<Rendered> {
    let r = compose(o, sign, kind, now)?;
    let chars = r.text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(ApiError::validation(vec![too_long(chars)]));
    }
    Ok(r)
}

fn too_long(chars: usize) -> FieldError {
    FieldError::new("areas", format!("短信共{chars}字，超过{MAX_MESSAGE_CHARS}字上限，请精简区域或原因"))
}

/// The message of one kind, whatever its length.
fn compose(o: &Outage, sign: &str, kind: MessageKind, now: BeijingTime) -> ApiResult<Rendered> {
    let (start, end) = (BeijingTime::parse(&o.start), BeijingTime::parse(&o.end));
    let (Ok(start), Ok(end)) = (start, end) else { return Err(ApiError::internal("stored outage times")) };
    let area = o.areas.join("、");
    let notice = Notice {
        sign,
        service: Service { utility: o.utility, effect: o.effect },
        emergency: o.kind == OutageKind::Emergency,
        issuer: &o.issuer,
        area: &area,
        start,
        end,
        reason: &o.reason,
        temporary_supply: o.temporary_supply.as_deref(),
        contact: &o.contact_phone,
        issued: now,
    };
    Ok(rules::render_kind(&notice, kind))
}

pub(crate) fn version_stmt(
    id: &str,
    version: i64,
    kind: MessageKind,
    r: &Rendered,
    plan: &SendPlan,
    now: BeijingTime,
) -> Stmt {
    let params: serde_json::Map<String, serde_json::Value> =
        r.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    Stmt::new(
        "INSERT INTO outage_versions (outage_id, version, kind, message, params, send_at, send_reason, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?8)",
        vec![
            id.into(),
            version.into(),
            kind.as_str().into(),
            r.text.as_str().into(),
            serde_json::Value::Object(params).to_string().into(),
            plan.at.to_rfc3339().into(),
            plan.reason.into(),
            now.to_rfc3339().into(),
            VersionState::Planned.as_str().into(),
        ],
    )
}

/// The optional reminder after version `after` (sent at `after_at`): only
/// when it falls after that send and is still ahead.
pub(crate) fn reminder_stmt(
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

pub(crate) fn area_stmts(id: &str, areas: &[Resolved]) -> Vec<Stmt> {
    let mut out = vec![Stmt::new("DELETE FROM outage_areas WHERE outage_id = ?1", vec![id.into()])];
    out.extend(areas.iter().map(|a| {
        Stmt::new(
            "INSERT OR IGNORE INTO outage_areas (outage_id, area, code) VALUES (?1, ?2, ?3)",
            vec![id.into(), a.label.as_str().into(), a.code.as_str().into()],
        )
    }));
    out
}

pub(crate) async fn resolve_areas(db: &impl Db, names: &[String]) -> ApiResult<Vec<Resolved>> {
    areas::resolve(db, "areas", names).await?.map_err(ApiError::validation)
}

/// An outage drafted from a valid request: as shown, with its first message
/// and when that goes out.
#[derive(Debug, Clone)]
struct Draft {
    outage: Outage,
    first: Rendered,
    plan: SendPlan,
}

/// Drafts an outage (a preview or one to publish): trimmed fields, the
/// resolved area labels, the first send planned and the notice rendered.
fn draft(
    b: &OutageBody,
    c: Checked,
    resolved: &[Resolved],
    id: String,
    now: BeijingTime,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<Draft> {
    let plan = rules::plan_send(c.service(), c.kind == OutageKind::Emergency, b.start, now, quiet);
    let mut o = outline(b, c, resolved, id, now, &plan);
    let first = render(&o, sign, MessageKind::Notice, now)?;
    o.chars = first.text.chars().count();
    o.parts = rules::parts(&first.text);
    o.message = first.text.clone();
    Ok(Draft { outage: o, first, plan })
}

/// The outage a valid request describes, before its message is rendered.
fn outline(b: &OutageBody, c: Checked, resolved: &[Resolved], id: String, now: BeijingTime, plan: &SendPlan) -> Outage {
    Outage {
        id,
        utility: c.utility,
        effect: c.effect,
        kind: c.kind,
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
        status: if b.preview { OutageStatus::Preview } else { OutageStatus::Published },
        created_at: now.to_rfc3339(),
        version: 1,
        remind_before_hours: b.remind_before_hours,
    }
}

/// `POST /v1/admin/outages:preview`: the notice exactly as publishing would
/// send it now, its length and SMS parts, when it would go out (and the
/// reminder), and what would stop it being published (lead time, length).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Preview {
    pub message: String,
    pub chars: usize,
    pub parts: usize,
    pub max_chars: usize,
    /// The areas as the message names them.
    pub areas: Vec<String>,
    pub send_at: String,
    pub send_reason: String,
    pub reminder_at: Option<String>,
    /// Whether publishing now would be accepted (no `problems`).
    pub publishable: bool,
    pub problems: Vec<FieldError>,
}

/// The preview of a valid request (its areas resolved), issued `now`.
fn preview_of(
    b: &OutageBody,
    c: Checked,
    resolved: &[Resolved],
    now: BeijingTime,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<Preview> {
    let plan = rules::plan_send(c.service(), c.kind == OutageKind::Emergency, b.start, now, quiet);
    let o = outline(b, c, resolved, "preview".into(), now, &plan);
    let first = compose(&o, sign, MessageKind::Notice, now)?;
    let chars = first.text.chars().count();
    let mut problems: Vec<FieldError> = match check(b, now, true) {
        Ok(_) => Vec::new(),
        Err(errs) => errs.into_iter().filter(|f| f.field == "start").collect(),
    };
    if chars > MAX_MESSAGE_CHARS {
        problems.push(too_long(chars));
    }
    let reminder_at = o
        .remind_before_hours
        .map(|h| rules::reminder_at(b.start, h, quiet))
        .filter(|at| *at > plan.at && *at > now)
        .map(|at| at.to_rfc3339());
    Ok(Preview {
        parts: rules::parts(&first.text),
        message: first.text,
        chars,
        max_chars: MAX_MESSAGE_CHARS,
        areas: o.areas,
        send_at: plan.at.to_rfc3339(),
        send_reason: plan.reason.to_owned(),
        reminder_at,
        publishable: problems.is_empty(),
        problems,
    })
}

/// Previews a notice without storing anything: a request that is not
/// well-formed (or names unknown areas) is a 422 as when publishing; lead
/// time and length are reported as `problems`.
pub async fn preview(db: &impl Db, act: &Act<'_>, b: &OutageBody, sign: &str, quiet: QuietHours) -> ApiResult<Preview> {
    act.who.require(Role::OutagePublisher)?;
    let c = check(b, act.now, false).map_err(ApiError::validation)?;
    let resolved = resolve_areas(db, &b.areas).await?;
    preview_of(b, c, &resolved, act.now, sign, quiet)
}

/// The writes that publish a draft, for one batch: the outage, its notice
/// as version 1, the reminder as version 2 when it is still ahead and after
/// the notice, the areas, and the audit row. Returns the outage with its
/// latest version.
fn publication(
    d: Draft,
    resolved: &[Resolved],
    act: &Act<'_>,
    idem_key: Option<&str>,
    sign: &str,
    quiet: QuietHours,
) -> ApiResult<(Outage, Vec<Stmt>)> {
    let Draft { outage: mut o, first, plan } = d;
    let now = act.now;
    let reminder = reminder_stmt(&o, sign, 1, plan.at, quiet, now)?;
    if reminder.is_some() {
        o.version = 2;
    }
    let mut stmts = vec![
        outage_stmt(&o, idem_key, &act.who.token_id),
        version_stmt(&o.id, 1, MessageKind::Notice, &first, &plan, now),
    ];
    stmts.extend(reminder);
    stmts.extend(area_stmts(&o.id, resolved));
    let action = if o.kind == OutageKind::Emergency { "outage.publish.emergency" } else { "outage.publish" };
    let detail = serde_json::json!({ "utility": o.utility, "effect": o.effect, "areas": o.areas.len(), "send_reason": o.send_reason });
    stmts.push(audit_stmt(act.who, action, &o.id, act.request_id, now, &detail));
    Ok((o, stmts))
}

fn outage_stmt(o: &Outage, idem_key: Option<&str>, created_by: &str) -> Stmt {
    Stmt::new(
        "INSERT INTO outages (id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone,
           temporary_supply, message, chars, parts, send_at, send_reason, status, idem_key, created_by, created_at,
           version, remind_before_hours, effect)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?21, ?16, ?17, ?18, ?19, ?20, ?22)",
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
            created_by.into(),
            o.created_at.as_str().into(),
            o.version.into(),
            o.remind_before_hours.into(),
            OutageStatus::Published.as_str().into(),
            o.effect.as_str().into(),
        ],
    )
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
    let checked = check(b, now, true).map_err(ApiError::validation)?;
    let resolved = resolve_areas(db, &b.areas).await?;
    let id = format!("OUT{}{}", now.date().format("%Y%m%d"), ids.hex(4)?.to_uppercase());
    let d = draft(b, checked, &resolved, id, now, sign, quiet)?;
    if b.preview {
        return Ok((d.outage, false));
    }
    let (o, stmts) = publication(d, &resolved, act, idem_key, sign, quiet)?;
    db.batch(&stmts).await?;
    Ok((o, false))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::admin::Principal;
    use shared::store::Value;

    use shared::testing::at as t;

    fn body(extra: serde_json::Value) -> OutageBody {
        let mut b = serde_json::json!({"utility": "water", "kind": "planned", "areas": ["宾王小区"],
            "start": "2026-11-25T08:00:00+08:00", "end": "2026-11-25T18:00:00+08:00", "reason": " 管网改造 ",
            "issuer": "义乌市供水有限公司", "contact_phone": "0579-85510011"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        serde_json::from_value(b).unwrap()
    }

    fn resolved() -> Vec<Resolved> {
        vec![Resolved { code: "bw".into(), label: "宾王小区".into() }]
    }

    fn drafted(b: &OutageBody, now: &str) -> Draft {
        let c = check(b, t(now), true).unwrap();
        draft(b, c, &resolved(), "OUT1".into(), t(now), "义乌便民", QuietHours::default()).unwrap()
    }

    fn published(b: &OutageBody, now: &str) -> (Outage, Vec<Stmt>) {
        let who = Principal { token_id: "p".into(), name: "调度".into(), roles: vec![Role::OutagePublisher] };
        let act = Act { who: &who, now: t(now), request_id: "r" };
        publication(drafted(b, now), &resolved(), &act, Some("k"), "义乌便民", QuietHours::default()).unwrap()
    }

    #[test]
    fn the_kind_must_be_planned_or_emergency_and_a_planned_stop_must_start_ahead() {
        let errs =
            check(&body(serde_json::json!({"kind": "drill"})), t("2026-11-23T10:00:00+08:00"), true).unwrap_err();
        assert_eq!(errs.first().map(|f| f.field.as_str()), Some("kind"));
        let late = check(&body(serde_json::json!({})), t("2026-11-25T09:00:00+08:00"), true).unwrap_err();
        assert!(late.iter().any(|f| f.field == "start" && f.message == "计划停供的开始时间应在将来"), "{late:?}");
        let ok = check(&body(serde_json::json!({"kind": "emergency"})), t("2026-11-25T07:00:00+08:00"), true);
        assert_eq!(ok, Ok(Checked { utility: Utility::Water, effect: Effect::Stop, kind: OutageKind::Emergency }));
    }

    #[test]
    fn a_preview_shows_the_trimmed_notice_its_length_and_the_planned_send() {
        let d = drafted(&body(serde_json::json!({"preview": true})), "2026-11-23T23:30:00+08:00");
        let o = d.outage;
        assert_eq!((o.status, o.version, o.reason.as_str()), (OutageStatus::Preview, 1, "管网改造"));
        assert_eq!(
            (o.send_at.as_str(), o.send_reason.as_str()),
            ("2026-11-24T07:00:00+08:00", "避开夜间，次日早晨发送")
        );
        assert_eq!((o.chars, o.parts), (o.message.chars().count(), rules::parts(&o.message)));
        assert_eq!(o.message, d.first.text);
    }

    #[test]
    fn a_publication_stores_the_outage_its_notice_a_reminder_still_ahead_its_areas_and_the_audit_row() {
        let (o, stmts) = published(&body(serde_json::json!({"remind_before_hours": 2})), "2026-11-23T10:00:00+08:00");
        assert_eq!((o.status, o.version), (OutageStatus::Published, 2));
        let table = |sql: &str| {
            let words: Vec<&str> = sql.split_whitespace().collect();
            words
                .iter()
                .position(|w| *w == "INTO" || *w == "FROM")
                .and_then(|i| words.get(i + 1))
                .map(|w| w.to_string())
        };
        let tables: Vec<String> = stmts.iter().filter_map(|s| table(&s.sql)).collect();
        assert_eq!(
            tables,
            ["outages", "outage_versions", "outage_versions", "outage_areas", "outage_areas", "audit_log"]
        );
        let outage = stmts.first().unwrap();
        assert!(outage.params.contains(&Value::from("published")) && outage.params.contains(&Value::from("k")));
        let reminder = stmts.get(2).unwrap();
        assert!(
            reminder.params.contains(&Value::from("reminder")) && reminder.params.contains(&Value::from("planned"))
        );
        assert!(stmts.last().unwrap().params.contains(&Value::from("outage.publish")));
    }

    #[test]
    fn a_preview_renders_the_message_publishing_would_send_and_reports_what_stops_it() {
        let now = "2026-11-23T10:00:00+08:00";
        let b = body(serde_json::json!({"remind_before_hours": 2}));
        let c = check(&b, t(now), true).unwrap();
        let p = preview_of(&b, c, &resolved(), t(now), "义乌便民", QuietHours::default()).unwrap();
        let d = drafted(&b, now);
        assert_eq!((p.message.as_str(), p.chars, p.parts), (d.outage.message.as_str(), d.outage.chars, d.outage.parts));
        assert_eq!((p.send_at.as_str(), p.publishable, p.max_chars), (d.outage.send_at.as_str(), true, 500));
        // Two hours before an 08:00 start falls in the quiet hours: the evening before.
        assert_eq!(p.reminder_at.as_deref(), Some("2026-11-24T21:30:00+08:00"));
        assert_eq!(p.areas, ["宾王小区"]);
        // Too short a notice for a planned stop: shown all the same, with the reason it would be refused.
        let late = "2026-11-24T20:00:00+08:00";
        let c = check(&b, t(late), false).unwrap();
        let p = preview_of(&b, c, &resolved(), t(late), "义乌便民", QuietHours::default()).unwrap();
        assert!(!p.publishable && p.chars > 0);
        assert_eq!(p.problems.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["start"]);
        assert!(p.problems.first().unwrap().message.contains("24小时"), "{:?}", p.problems);
        // Over the length limit: the count says by how much.
        let long = body(serde_json::json!({"reason": "管".repeat(100)}));
        let many: Vec<Resolved> = (0..50)
            .map(|i| Resolved { code: format!("a{i}"), label: format!("稠城街道很长的小区名称第{i}号") })
            .collect();
        let c = check(&long, t(now), true).unwrap();
        let p = preview_of(&long, c, &many, t(now), "义乌便民", QuietHours::default()).unwrap();
        assert!(p.chars > 500 && !p.publishable && p.parts == p.chars.div_ceil(67));
        assert_eq!(p.problems.first().map(|f| f.field.as_str()), Some("areas"));
    }

    #[test]
    fn a_reminder_due_before_now_is_left_out_and_an_emergency_is_audited_as_one() {
        let b = body(serde_json::json!({"kind": "emergency", "remind_before_hours": 72}));
        let (o, stmts) = published(&b, "2026-11-23T10:00:00+08:00");
        assert_eq!((o.version, stmts.len()), (1, 5));
        assert_eq!(o.send_at, "2026-11-23T10:00:00+08:00");
        assert!(stmts.last().unwrap().params.contains(&Value::from("outage.publish.emergency")));
    }
}
