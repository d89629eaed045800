//! Workers glue for appointments: authenticate, parse, call
//! `shared::appointment`, answer; the cron sweep; SMS notices.

use crate::book::{self, BookRequest, RescheduleRequest};
use crate::desk;
use crate::jobs::{self, MAX_STATS_DAYS};
use crate::policy::Policy;
use crate::resources::{self, ResourceBody};
use chrono::NaiveDate;
use shared::admin::{self, Act, Role};
use shared::calendar::DayKind;
use shared::edge::{self as e, Ctx, EdgeClock};
use shared::http::{Query, path_segment};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::{Clock, OsRandom};
use shared::sms::{SendContext, SmsMessage};
use shared::types::{BeijingTime, MobileNumber, PlateNumber};
use shared::wechat_notify::{Outcome, Purpose};
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

fn policy(env: &Env) -> Policy {
    Policy::from_vars(|k| e::config(env, k))
}

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "appointments"]) => create(req, env, ctx, false).await,
        (Method::Post, ["v1", "appointments", "holds"]) => create(req, env, ctx, true).await,
        (Method::Get, ["v1", "me", "appointments"]) => mine(req, env, ctx).await,
        (Method::Get, ["v1", "appointments", id]) => one(req, env, ctx, id).await,
        (Method::Post, ["v1", "appointments", id, "cancel"]) => cancel(req, env, ctx, id).await,
        (Method::Post, ["v1", "appointments", id, "reschedule"]) => reschedule(req, env, ctx, id).await,
        (Method::Get, ["v1", "me", "plates"]) => plates(req, env, ctx, None).await,
        (Method::Post, ["v1", "me", "plates"]) => plates(req, env, ctx, Some(true)).await,
        (Method::Delete, ["v1", "me", "plates", plate]) => remove_plate(req, env, ctx, plate).await,
        (Method::Get, ["v1", "admin", "appointments"]) => day_view(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "appointments", "today"]) => today(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "appointments", "check-in"]) => check_in_by_code(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "appointments", id, "check-in"]) => check_in(req, env, ctx, id).await,
        (Method::Get, ["v1", "admin", "appointments", "stats"]) => stats(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "appointments", "resources"]) => list_resources(req, env, ctx).await,
        (Method::Put, ["v1", "admin", "appointments", "resources", id]) => put_resource(req, env, ctx, id).await,
        (Method::Get, ["v1", "admin", "appointments", "calendar"]) => calendar(req, env, ctx).await,
        (Method::Put | Method::Delete, ["v1", "admin", "appointments", "calendar", day]) => {
            set_day(req, env, ctx, day).await
        }
        (
            _,
            ["v1", "appointments", ..]
            | ["v1", "me", "appointments" | "plates", ..]
            | ["v1", "admin", "appointments", ..],
        ) => Err(ErrorCode::MethodNotAllowed.into()),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx, hold: bool) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let key = e::idempotency_key(req)?;
    let body: BookRequest = e::json_body(req, MAX_BODY_BYTES).await?;
    let p = policy(env);
    if hold {
        let h = book::hold(&db, &OsRandom, &who.id, &body, &p, ctx.now()).await?;
        return e::ok_json(&h, "private, no-store").map(|r| r.with_status(201));
    }
    let (a, replayed) = book::book(&db, &OsRandom, &who.id, &body, key.as_deref(), &p, ctx.now()).await?;
    if !replayed && !confirmed_by_wechat(env, &db, &who.id, &a.id, ctx).await {
        // The booking and its inbox notice are stored; the SMS is best effort
        // and every attempt is in sms_log.
        let _ = notify_sms(env, &db, &who.id, &a, "SMS_TEMPLATE_APPOINTMENT", "appointment", &ctx.request_id).await;
    }
    let resp = e::ok_json(&a, "private, no-store")?;
    Ok(if replayed { resp } else { resp.with_status(201) })
}

/// Whether the booking's confirmation went by 订阅消息 (or was sent before);
/// otherwise (no acceptance, a refusal, WeChat or storage failing) the SMS goes.
async fn confirmed_by_wechat(env: &Env, db: &e::D1Db, citizen: &str, booking: &str, ctx: &Ctx) -> bool {
    let Ok(kv) = e::kv(env) else { return false };
    let Some((app, templates)) = e::wechat(env, &kv, Purpose::BookingConfirmed) else { return false };
    match jobs::confirm_by_wechat(db, &app, &OsRandom, &templates, citizen, booking, ctx.now()).await {
        Ok(outcome) => !outcome.needs_fallback(),
        Err(err) => {
            worker::console_log!(
                "{}",
                serde_json::json!({ "level": "warn", "event": "appointment.confirm_wechat",
                    "code": err.code.as_str(), "detail": err.internal, "request_id": ctx.request_id })
            );
            false
        }
    }
}

/// Sends the booking's SMS to the citizen's confirmed phone, if any.
async fn notify_sms(
    env: &Env,
    db: &e::D1Db,
    citizen: &str,
    a: &book::Appointment,
    template_var: &str,
    purpose: &str,
    request_id: &str,
) -> ApiResult<()> {
    let Some(phone) = shared::identity::account::phone(db, citizen).await? else { return Ok(()) };
    let msg = SmsMessage {
        phones: vec![phone],
        template_code: e::required(env, template_var)?,
        params: vec![("time".into(), sms_time(&a.slot_start)), ("number".into(), a.id.clone())],
    };
    let now = BeijingTime::from_utc(EdgeClock.now());
    let pepper = e::pepper(env)?;
    let cx = SendContext { pepper: &pepper, purpose, request_id, ip_hash: None, now };
    shared::sms::send_logged(db, &e::aliyun_sms(env)?, &OsRandom, &msg, &cx).await.map(|_| ())
}

/// A slot start as an SMS shows it: `2026-11-25 08:30`.
fn sms_time(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").chars().take(16).collect()
}

async fn mine(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let list = book::mine(&db, &who.id, ctx.now()).await?;
    e::ok_json(&serde_json::json!({ "appointments": list }), "private, no-store")
}

async fn one(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&book::get(&db, &who.id, id).await?, "private, no-store")
}

async fn cancel(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&book::cancel(&db, &who.id, id, &policy(env), ctx.now()).await?, "private, no-store")
}

async fn reschedule(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: RescheduleRequest = e::json_body(req, MAX_BODY_BYTES).await?;
    let a = book::reschedule(&db, &OsRandom, &who.id, id, &body, &policy(env), ctx.now()).await?;
    e::ok_json(&a, "private, no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlateBody {
    plate: PlateNumber,
}

async fn plates(req: &mut Request, env: &Env, ctx: &Ctx, add: Option<bool>) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let list = if add.is_some() {
        let body: PlateBody = e::json_body(req, MAX_BODY_BYTES).await?;
        book::add_plate(&db, &who.id, &body.plate, ctx.now()).await?
    } else {
        book::plates(&db, &who.id).await?
    };
    e::ok_json(&serde_json::json!({ "plates": list }), "private, no-store")
}

async fn remove_plate(req: &Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let plate = PlateNumber::parse(&path_segment(raw)?).map_err(|err| ApiError::bad_field("plate", err.0))?;
    book::remove_plate(&db, &who.id, &plate).await?;
    e::no_content()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    code: String,
}

async fn check_in(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    who.require(Role::HallStaff)?;
    let body: CheckInBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let db = e::db(env)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let a = book::check_in(&db, &act, id, &body.code).await?;
    // The desk's masked view of it (no full plate, no code).
    e::ok_json(&desk::row(&db, &a.id).await?, "private, no-store")
}

/// `GET /v1/admin/appointments?hall=&day=`: the desk's day view (hall_staff, own halls; access-logged).
async fn day_view(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let hall = q.get("hall").ok_or_else(|| ApiError::bad_field("hall", "请提供大厅编号 hall"))?;
    let day = q.date("day")?.unwrap_or_else(|| ctx.now().date());
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&desk::day_view(&db, &act, hall, day).await?, "private, no-store")
}

/// `GET /v1/admin/appointments/today`: today's counts per hall of the staff member.
async fn today(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let (day, halls) = desk::today(&db, &act).await?;
    e::ok_json(&serde_json::json!({ "day": day, "halls": halls }), "private, no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeCheckInBody {
    hall_id: String,
    code: String,
}

/// `POST /v1/admin/appointments/check-in`: today's booking at the hall by the citizen's code.
async fn check_in_by_code(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::HallStaff)?;
    let body: CodeCheckInBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&desk::check_in_by_code(&db, &act, &body.hall_id, &body.code).await?, "private, no-store")
}

/// `from..=to`, both required, at most `MAX_STATS_DAYS` long.
fn range(q: &Query) -> ApiResult<(NaiveDate, NaiveDate)> {
    let (Some(from), Some(to)) = (q.date("from")?, q.date("to")?) else {
        return Err(ApiError::bad_field("from,to", "请提供 from 和 to 两个日期"));
    };
    let days = (to - from).num_days();
    if !(0..MAX_STATS_DAYS).contains(&days) {
        return Err(ApiError::bad_field("from,to", format!("日期范围应为1-{MAX_STATS_DAYS}天，且 from 不晚于 to")));
    }
    Ok((from, to))
}

/// Auditors read every hall; a hall's staff only their own.
async fn hall_reader(req: &Request, db: &e::D1Db, ctx: &Ctx) -> ApiResult<admin::Principal> {
    let who = e::staff(req, db, ctx).await?;
    who.require_any(&[Role::HallStaff, Role::Auditor])?;
    Ok(who)
}

async fn hall_scope(db: &e::D1Db, who: &admin::Principal, hall: &str) -> ApiResult<()> {
    if who.roles.contains(&Role::Auditor) { Ok(()) } else { admin::require_hall(db, who, hall).await }
}

async fn stats(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = hall_reader(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let hall = q.get("hall").ok_or_else(|| ApiError::bad_field("hall", "请提供大厅编号 hall"))?;
    hall_scope(&db, &who, hall).await?;
    let (from, to) = range(&q)?;
    let days = jobs::hall_stats(&e::db(env)?, hall, from, to).await?;
    e::ok_json(&serde_json::json!({ "hall_id": hall, "days": days }), "no-store")
}

async fn list_resources(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = hall_reader(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let hall = q.get("hall").ok_or_else(|| ApiError::bad_field("hall", "请提供大厅编号 hall"))?;
    hall_scope(&db, &who, hall).await?;
    let list = shared::slots::hall::hall_resources(&e::db(env)?, hall).await?;
    e::ok_json(&serde_json::json!({ "resources": list }), "no-store")
}

async fn put_resource(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    let body: ResourceBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&resources::put_resource(&e::db(env)?, &act, &path_segment(id)?, &body).await?, "no-store")
}

async fn calendar(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    e::staff(req, &e::db(env)?, ctx).await?.require_any(&[Role::CalendarAdmin, Role::HallStaff, Role::Auditor])?;
    let (from, to) = range(&Query::parse(&ctx.query)?)?;
    let list = resources::calendar_entries(&e::db(env)?, from, to).await?;
    e::ok_json(&serde_json::json!({ "days": list }), "no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DayBody {
    kind: DayKind,
    #[serde(default)]
    name: String,
}

async fn set_day(req: &mut Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_field("day", "日期格式应为 YYYY-MM-DD"))?;
    let body: Option<DayBody> =
        if ctx.method == Method::Put { Some(e::json_body(req, MAX_BODY_BYTES).await?) } else { None };
    if body.as_ref().is_some_and(|b| b.name.chars().count() > 30) {
        return Err(ApiError::bad_field("name", "名称不超过30字"));
    }
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    resources::set_day(&e::db(env)?, &act, day, body.as_ref().map(|b| (b.kind, b.name.as_str()))).await?;
    e::no_content()
}

/// The cron sweep (every 10 minutes): no-shows, parking lapses, and the
/// day-before reminders (inbox in the claiming batch, then SMS).
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let utc = EdgeClock.now();
    let now = BeijingTime::from_utc(utc);
    let run = format!("cron-{}", utc.timestamp_millis());
    let line = match sweep(&env, now, &run).await {
        Ok((no_shows, lapsed, reminded, wechat_sent, sms_failed)) => {
            serde_json::json!({ "level": "info", "event": "appointment.sweep",
            "cron": event.cron(), "no_shows": no_shows, "lapsed": lapsed, "reminded": reminded,
            "wechat_sent": wechat_sent, "sms_failed": sms_failed, "run": run })
        }
        Err(err) => serde_json::json!({ "level": "error", "event": "appointment.sweep", "cron": event.cron(),
            "code": err.code.as_str(), "detail": err.internal, "run": run }),
    };
    worker::console_log!("{line}");
}

/// What a sweep did: no-shows, lapses, reminders due, sent by 订阅消息, SMS failures.
type SweepCounts = (u64, u64, usize, usize, usize);

async fn sweep(env: &Env, now: BeijingTime, run: &str) -> ApiResult<SweepCounts> {
    let db = e::db(env)?;
    let p = policy(env);
    let (no_shows, lapsed) = jobs::mark_missed(&db, &p, now).await?;
    let due = jobs::claim_reminders(&db, &p, now, run).await?;
    let (mut failed, mut by_wechat) = (0, 0);
    if !due.is_empty() {
        let kv = e::kv(env)?;
        let wx = e::wechat(env, &kv, Purpose::BookingReminder);
        let (sms, pepper, template) =
            (e::aliyun_sms(env)?, e::pepper(env)?, e::required(env, "SMS_TEMPLATE_REMINDER")?);
        let cx = SendContext { pepper: &pepper, purpose: "appointment_reminder", request_id: run, ip_hash: None, now };
        for r in &due {
            if let Some((app, templates)) = &wx {
                // 订阅消息 first; no acceptance left, a refusal or a failure falls back to the SMS.
                match jobs::remind_by_wechat(&db, app, &OsRandom, templates, r, now).await {
                    Ok(outcome) if !outcome.needs_fallback() => {
                        by_wechat += usize::from(outcome == Outcome::Sent);
                        continue;
                    }
                    Ok(_) => {}
                    Err(err) => worker::console_log!(
                        "{}",
                        serde_json::json!({ "level": "warn", "event": "appointment.reminder_wechat",
                            "code": err.code.as_str(), "detail": err.internal, "run": run })
                    ),
                }
            }
            let Some(phone) = r.phone.as_deref().and_then(|p| MobileNumber::parse(p).ok()) else { continue };
            let msg = SmsMessage {
                phones: vec![phone],
                template_code: template.clone(),
                params: vec![("time".into(), sms_time(&r.slot_start)), ("hall".into(), r.hall.clone())],
            };
            match shared::sms::send_logged(&db, &sms, &OsRandom, &msg, &cx).await {
                Ok(shared::sms::SmsOutcome::Sent { .. }) => {}
                _ => failed += 1,
            }
        }
    }
    Ok((no_shows, lapsed, due.len(), by_wechat, failed))
}
