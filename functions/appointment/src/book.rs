//! Booking over the [`Db`] trait (D1 at the edge, SQLite in native tests):
//! holds, bookings, reschedules, cancellations, check-in. Capacity is
//! enforced inside the inserting statement (D1 runs one write at a time, so
//! the count it reads cannot go stale); the per-person rules by checks for a
//! clear answer, preconditions in the same batch, and a unique index.

use crate::code_tries;
use crate::jobs::confirmation_stmt;
use crate::policy::Policy;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt, require_hall};
use shared::calendar::{self, Calendar, working_days_before};
use shared::crypto::constant_time_eq;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::slots::hall::{OCCUPYING, Resource, resource};
use shared::slots::{Slot, slots_on};
use shared::store::{Db, Stmt, Value};
use shared::types::{BeijingTime, PlateNumber};

/// Most plates a citizen may bind.
pub const MAX_PLATES: usize = 5;

/// A booking (or hold) request from a citizen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    pub resource: String,
    #[serde(default)]
    pub item: Option<String>,
    pub start: BeijingTime,
    /// Parking only: one of the citizen's bound plates.
    #[serde(default)]
    pub plate: Option<PlateNumber>,
    /// Turns this citizen's unexpired hold into the booking.
    #[serde(default)]
    pub hold: Option<String>,
}

/// A booking as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Appointment {
    pub id: String,
    pub resource_id: String,
    pub hall_id: String,
    pub kind: String,
    pub item_code: String,
    pub plate: Option<String>,
    pub day: String,
    pub slot_start: String,
    pub slot_end: String,
    pub status: String,
    pub hold_expires_at: Option<String>,
    pub checkin_code: String,
    pub created_at: String,
}

const COLUMNS: &str = "id, resource_id, hall_id, kind, item_code, plate, day, slot_start, slot_end, status,
    hold_expires_at, checkin_code, created_at";

async fn one(db: &impl Db, cond: &str, params: &[Value]) -> ApiResult<Option<Appointment>> {
    db.first_as(&format!("SELECT {COLUMNS} FROM appointments WHERE {cond}"), params).await
}

/// One booking, only for its owner (anyone else gets the same 404).
pub async fn get(db: &impl Db, citizen: &str, id: &str) -> ApiResult<Appointment> {
    one(db, "id = ?1 AND citizen_id = ?2", &[id.into(), citizen.into()])
        .await?
        .ok_or_else(|| ErrorCode::AppointmentNotFound.into())
}

/// The citizen's bookings, latest slot first (holds that expired are left out).
pub async fn mine(db: &impl Db, citizen: &str, now: BeijingTime) -> ApiResult<Vec<Appointment>> {
    db.query_as(
        &format!(
            "SELECT {COLUMNS} FROM appointments WHERE citizen_id = ?1
               AND NOT (status = 'held' AND hold_expires_at <= ?2) ORDER BY slot_start DESC LIMIT 100"
        ),
        &[citizen.into(), now.to_rfc3339().into()],
    )
    .await
}

/// 403 `booking_banned` while the citizen has too many recent no-shows; the
/// message says until when (the oldest counted no-show leaves the window).
pub async fn check_ban(db: &impl Db, citizen: &str, p: &Policy, now: BeijingTime) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Row {
        day: String,
    }
    let since = (now.date() - Duration::days(p.ban_window_days)).to_string();
    let rows: Vec<Row> = db
        .query_as(
            "SELECT day FROM appointments WHERE citizen_id = ?1 AND status = 'no_show' AND day > ?2 ORDER BY day DESC",
            &[citizen.into(), since.into()],
        )
        .await?;
    if (rows.len() as i64) < p.ban_no_shows {
        return Ok(());
    }
    let oldest_counted = rows.get(p.ban_no_shows as usize - 1).map(|r| r.day.as_str()).unwrap_or_default();
    let until = NaiveDate::parse_from_str(oldest_counted, "%Y-%m-%d")
        .map(|d| d + Duration::days(p.ban_window_days))
        .unwrap_or_else(|_| now.date() + Duration::days(p.ban_window_days));
    Err(ApiError::with_message(
        ErrorCode::BookingBanned,
        format!(
            "您近{}天内有{}次预约未到，{}前暂不能网上预约",
            p.ban_window_days,
            rows.len(),
            until.format("%Y年%m月%d日")
        ),
    ))
}

fn find_slot(r: &Resource, cal: &Calendar, start: BeijingTime, now: BeijingTime) -> ApiResult<Slot> {
    let slots = slots_on(&r.rules, cal, start.date(), now)
        .map_err(|c| ApiError::with_message(ErrorCode::SlotUnavailable, c.message()))?;
    slots.into_iter().find(|s| s.start == start).ok_or_else(|| ErrorCode::SlotUnavailable.into())
}

/// What a request books: the checked resource, slot and per-person key.
struct Target {
    r: Resource,
    slot: Slot,
    /// The item, or `parking:<resource>`: one active booking per key and day.
    key: String,
    plate: Option<String>,
}

async fn target(db: &impl Db, citizen: &str, req: &BookRequest, now: BeijingTime) -> ApiResult<Target> {
    let r = resource(db, &req.resource).await?;
    let (key, plate) = if r.kind == "parking" {
        let plate = req.plate.as_ref().ok_or_else(|| ApiError::bad_field("plate", "预约车位须选择车牌"))?;
        if !plates(db, citizen).await?.iter().any(|p| p == plate.as_str()) {
            return Err(ApiError::bad_field("plate", "请先在“我的车辆”中绑定该车牌"));
        }
        (format!("parking:{}", r.id), Some(plate.as_str().to_owned()))
    } else {
        let item = req.item.clone().unwrap_or_default();
        if !r.items.contains(&item) {
            return Err(ApiError::bad_field("item", "该窗口不办理这个事项，请选择其他大厅或窗口"));
        }
        (item, None)
    };
    let date = req.start.date();
    let slot = find_slot(&r, &calendar::load(db, date, date).await?, req.start, now)?;
    Ok(Target { r, slot, key, plate })
}

/// The per-person rules, checked first for a clear answer (`except` is a
/// booking being replaced, which does not count).
async fn check_person(db: &impl Db, citizen: &str, t: &Target, p: &Policy, except: &str) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Row {
        same: i64,
        total: i64,
    }
    let row: Option<Row> = db
        .first_as(
            "SELECT coalesce(sum(item_code = ?2 AND day = ?3), 0) AS same, count(*) AS total FROM appointments
             WHERE citizen_id = ?1 AND status = 'booked' AND id <> ?4",
            &[citizen.into(), t.key.as_str().into(), t.slot.start.date().to_string().into(), except.into()],
        )
        .await?;
    let (same, total) = row.map_or((0, 0), |r| (r.same, r.total));
    if same > 0 {
        return Err(ApiError::with_message(ErrorCode::BookingLimit, "您当天已预约过该事项，不能重复预约"));
    }
    if total >= p.max_active {
        return Err(ApiError::with_message(
            ErrorCode::BookingLimit,
            format!("您已有 {} 个未完成的预约，请办理或取消后再预约", p.max_active),
        ));
    }
    Ok(())
}

/// The insert that takes a place only while the slot has room.
/// `(id, code)`: the new booking number and check-in code.
fn insert_stmt(
    (id, code): (&str, &str),
    citizen: &str,
    t: &Target,
    status: &str,
    idem: Option<&str>,
    now: BeijingTime,
    hold_until: Option<BeijingTime>,
) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO appointments (id, citizen_id, resource_id, hall_id, kind, item_code, plate, day, slot_start,
               slot_end, status, hold_expires_at, checkin_code, idem_key, created_at, updated_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15
             WHERE (SELECT count(*) FROM appointments WHERE resource_id = ?3 AND slot_start = ?9 AND {}) < ?16",
            OCCUPYING.replace("?now", "?15")
        ),
        vec![
            id.into(),
            citizen.into(),
            t.r.id.as_str().into(),
            t.r.hall_id.as_str().into(),
            t.r.kind.as_str().into(),
            t.key.as_str().into(),
            t.plate.clone().into(),
            t.slot.start.date().to_string().into(),
            t.slot.start.to_rfc3339().into(),
            t.slot.end.to_rfc3339().into(),
            status.into(),
            hold_until.map(BeijingTime::to_rfc3339).into(),
            code.into(),
            idem.map(str::to_owned).into(),
            now.to_rfc3339().into(),
            i64::from(t.r.rules.capacity).into(),
        ],
    )
}

fn new_ids(ids: &impl IdSource, date: NaiveDate) -> ApiResult<(String, String)> {
    let id = format!("YY{}{}", date.format("%Y%m%d"), ids.hex(4)?.to_uppercase());
    let code = format!("{:06}", u32::from_str_radix(&ids.hex(3)?, 16).unwrap_or(0) % 1_000_000);
    Ok((id, code))
}

/// A lost race with another request of the same citizen (precondition or
/// unique index): answer with the per-person rule.
fn person_conflict(e: ApiError) -> ApiError {
    if e.code == ErrorCode::Conflict {
        ApiError::with_message(ErrorCode::BookingLimit, "您的预约数已达上限或当天已预约过该事项")
    } else {
        e
    }
}

fn active_guard(citizen: &str, p: &Policy) -> Stmt {
    Stmt::precondition(
        "(SELECT count(*) FROM appointments WHERE citizen_id = ?1 AND status = 'booked') < ?2",
        vec![citizen.into(), p.max_active.into()],
    )
}

async fn reread(db: &impl Db, id: &str) -> ApiResult<Appointment> {
    one(db, "id = ?1", &[id.into()]).await?.ok_or_else(|| ApiError::internal("booking vanished after its write"))
}

/// Books a slot, or turns the citizen's hold into the booking. With an
/// `Idempotency-Key`, a retry returns the first answer (`true` second).
pub async fn book(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    req: &BookRequest,
    idem_key: Option<&str>,
    p: &Policy,
    now: BeijingTime,
) -> ApiResult<(Appointment, bool)> {
    if let Some(k) = idem_key
        && let Some(first) = one(db, "citizen_id = ?1 AND idem_key = ?2", &[citizen.into(), k.into()]).await?
    {
        return Ok((first, true));
    }
    check_ban(db, citizen, p, now).await?;
    if let Some(hold) = &req.hold {
        return confirm_hold(db, citizen, hold, p, now).await.map(|a| (a, false));
    }
    let t = target(db, citizen, req, now).await?;
    check_person(db, citizen, &t, p, "").await?;
    let (id, code) = new_ids(ids, t.slot.start.date())?;
    let insert = insert_stmt((&id, &code), citizen, &t, "booked", idem_key, now, None);
    let notice = confirmation_stmt(&id, now);
    let changed = db.batch(&[active_guard(citizen, p), insert, notice]).await.map_err(person_conflict)?;
    if changed.get(1).copied().unwrap_or(0) == 0 {
        return Err(ErrorCode::SlotFull.into());
    }
    Ok((reread(db, &id).await?, false))
}

/// Holds a place for `Policy::hold_minutes` while the citizen fills the form;
/// the hold counts against capacity until it expires. A new hold releases
/// the citizen's earlier ones.
pub async fn hold(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    req: &BookRequest,
    p: &Policy,
    now: BeijingTime,
) -> ApiResult<Appointment> {
    check_ban(db, citizen, p, now).await?;
    let t = target(db, citizen, req, now).await?;
    check_person(db, citizen, &t, p, "").await?;
    let (id, code) = new_ids(ids, t.slot.start.date())?;
    let until = BeijingTime::from_utc(now.to_utc() + Duration::minutes(p.hold_minutes));
    let release = Stmt::new(
        "UPDATE appointments SET status = 'cancelled', updated_at = ?2 WHERE citizen_id = ?1 AND status = 'held'",
        vec![citizen.into(), now.to_rfc3339().into()],
    );
    let changed = db.batch(&[release, insert_stmt((&id, &code), citizen, &t, "held", None, now, Some(until))]).await?;
    if changed.get(1).copied().unwrap_or(0) == 0 {
        return Err(ErrorCode::SlotFull.into());
    }
    reread(db, &id).await
}

async fn confirm_hold(db: &impl Db, citizen: &str, hold: &str, p: &Policy, now: BeijingTime) -> ApiResult<Appointment> {
    let h = get(db, citizen, hold).await?;
    let expired = h.hold_expires_at.as_deref().is_none_or(|e| e <= now.to_rfc3339().as_str());
    if h.status != "held" || expired {
        return Err(ErrorCode::HoldExpired.into());
    }
    let changed = db
        .batch(&[
            active_guard(citizen, p),
            Stmt::new(
                "UPDATE appointments SET status = 'booked', hold_expires_at = NULL, updated_at = ?3
                 WHERE id = ?1 AND citizen_id = ?2 AND status = 'held' AND hold_expires_at > ?3",
                vec![hold.into(), citizen.into(), now.to_rfc3339().into()],
            ),
            confirmation_stmt(hold, now),
        ])
        .await
        .map_err(person_conflict)?;
    if changed.get(1).copied().unwrap_or(0) == 0 {
        return Err(ErrorCode::HoldExpired.into());
    }
    reread(db, hold).await
}

/// A changeable booking of the citizen: booked, and before the cut-off
/// (until the end of the configured working day before the appointment).
async fn changeable(db: &impl Db, citizen: &str, id: &str, p: &Policy, now: BeijingTime) -> ApiResult<Appointment> {
    let a = get(db, citizen, id).await?;
    if a.status != "booked" {
        return Err(ApiError::with_message(ErrorCode::Conflict, "该预约已取消、已改约或已办理"));
    }
    let day = NaiveDate::parse_from_str(&a.day, "%Y-%m-%d").map_err(|_| ApiError::internal("bad day"))?;
    let cal = calendar::load(db, day - Duration::days(60), day).await?;
    let last = if p.cancel_working_days == 0 { day } else { working_days_before(day, p.cancel_working_days, &cal) };
    if now.date() > last {
        return Err(ApiError::with_message(
            ErrorCode::CancelTooLate,
            format!("已超过可取消或改约的时间：须在 {} 24:00 前办理", last.format("%m月%d日")),
        ));
    }
    Ok(a)
}

/// Cancels a booking before the cut-off; the place is free at once.
pub async fn cancel(db: &impl Db, citizen: &str, id: &str, p: &Policy, now: BeijingTime) -> ApiResult<Appointment> {
    changeable(db, citizen, id, p, now).await?;
    db.batch(&[
        Stmt::precondition("EXISTS (SELECT 1 FROM appointments WHERE id = ?1 AND status = 'booked')", vec![id.into()]),
        Stmt::new(
            "UPDATE appointments SET status = 'cancelled', updated_at = ?2 WHERE id = ?1",
            vec![id.into(), now.to_rfc3339().into()],
        ),
    ])
    .await?;
    get(db, citizen, id).await
}

/// The body of a reschedule: the new slot (and resource, if it changes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    #[serde(default)]
    pub resource: Option<String>,
    pub start: BeijingTime,
}

/// Moves a booking atomically: in one batch the old booking steps aside,
/// the new one is inserted only if the slot has room, and the old one is
/// restored when it was not. A full slot leaves the old booking as it was.
pub async fn reschedule(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    id: &str,
    body: &RescheduleRequest,
    p: &Policy,
    now: BeijingTime,
) -> ApiResult<Appointment> {
    let old = changeable(db, citizen, id, p, now).await?;
    let item = (old.kind == "window").then(|| old.item_code.clone());
    let plate =
        old.plate.as_deref().map(PlateNumber::parse).transpose().map_err(|e| ApiError::bad_field("plate", e.0))?;
    let req = BookRequest {
        resource: body.resource.clone().unwrap_or_else(|| old.resource_id.clone()),
        item,
        start: body.start,
        plate,
        hold: None,
    };
    let t = target(db, citizen, &req, now).await?;
    check_person(db, citizen, &t, p, id).await?;
    let (new_id, code) = new_ids(ids, t.slot.start.date())?;
    let at = now.to_rfc3339();
    let changed = db
        .batch(&[
            Stmt::precondition(
                "EXISTS (SELECT 1 FROM appointments WHERE id = ?1 AND citizen_id = ?2 AND status = 'booked')",
                vec![id.into(), citizen.into()],
            ),
            Stmt::new(
                "UPDATE appointments SET status = 'rescheduled', updated_at = ?2 WHERE id = ?1",
                vec![id.into(), at.as_str().into()],
            ),
            insert_stmt((&new_id, &code), citizen, &t, "booked", None, now, None),
            Stmt::new(
                "UPDATE appointments SET status = 'booked', updated_at = ?2
                 WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = ?3)",
                vec![id.into(), at.as_str().into(), new_id.as_str().into()],
            ),
            confirmation_stmt(&new_id, now),
        ])
        .await
        .map_err(person_conflict)?;
    if changed.get(2).copied().unwrap_or(0) == 0 {
        return Err(ApiError::with_message(ErrorCode::SlotFull, "新时段已约满，原预约保持不变"));
    }
    reread(db, &new_id).await
}

/// Staff check-in by booking number and the citizen's code, on the day of
/// the booking (the staff of the booking's hall only; each try counted, see
/// [`code_tries`](crate::code_tries)).
pub async fn check_in(db: &impl Db, act: &Act<'_>, id: &str, code: &str) -> ApiResult<Appointment> {
    let a = one(db, "id = ?1", &[id.into()]).await?.ok_or(ErrorCode::AppointmentNotFound)?;
    // Only the staff of the booking's hall check it in (nothing about the code is told otherwise).
    require_hall(db, act.who, &a.hall_id).await?;
    code_tries::take(db, act, &a.hall_id).await?;
    if !constant_time_eq(&a.checkin_code, code.trim()) {
        code_tries::missed(db, act, &a.hall_id, id).await?;
        return Err(ApiError::bad_field("code", "签到码不正确"));
    }
    check_in_shown(db, act, id).await
}

/// Checks in booking `id`, whose code the citizen has just shown and for
/// which a try was taken: the try is given back whatever the answer.
pub(crate) async fn check_in_shown(db: &impl Db, act: &Act<'_>, id: &str) -> ApiResult<Appointment> {
    let now = act.now;
    let a = one(db, "id = ?1", &[id.into()]).await?.ok_or(ErrorCode::AppointmentNotFound)?;
    let give_back = code_tries::give_back(act, &a.hall_id);
    let refusal = match a.status.as_str() {
        "booked" if a.day == now.date().to_string() => None,
        "booked" => Some(format!("只能在预约当天（{}）签到", a.day)),
        "checked_in" => Some("该预约已签到".to_owned()),
        _ => Some("该预约已取消、已失效或已过期".to_owned()),
    };
    if let Some(why) = refusal {
        db.batch(&[give_back]).await?;
        return Err(ApiError::with_message(ErrorCode::Conflict, why));
    }
    let detail = serde_json::json!({ "hall_id": a.hall_id });
    db.batch(&[
        Stmt::precondition("EXISTS (SELECT 1 FROM appointments WHERE id = ?1 AND status = 'booked')", vec![id.into()]),
        Stmt::new(
            "UPDATE appointments SET status = 'checked_in', checked_in_at = ?2, updated_at = ?2 WHERE id = ?1",
            vec![id.into(), now.to_rfc3339().into()],
        ),
        audit_stmt(act.who, "appointment.check_in", id, act.request_id, now, &detail),
        give_back,
    ])
    .await?;
    reread(db, id).await
}

/// The citizen's bound plates.
pub async fn plates(db: &impl Db, citizen: &str) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        plate: String,
    }
    let rows: Vec<Row> = db
        .query_as("SELECT plate FROM citizen_plates WHERE citizen_id = ?1 ORDER BY created_at", &[citizen.into()])
        .await?;
    Ok(rows.into_iter().map(|r| r.plate).collect())
}

/// Binds a plate (at most [`MAX_PLATES`]); binding one already bound is a no-op.
pub async fn add_plate(db: &impl Db, citizen: &str, plate: &PlateNumber, now: BeijingTime) -> ApiResult<Vec<String>> {
    let have = plates(db, citizen).await?;
    if !have.iter().any(|p| p == plate.as_str()) && have.len() >= MAX_PLATES {
        return Err(ApiError::bad_field("plate", format!("最多绑定 {MAX_PLATES} 个车牌")));
    }
    db.execute(
        "INSERT OR IGNORE INTO citizen_plates (citizen_id, plate, created_at) VALUES (?1, ?2, ?3)",
        &[citizen.into(), plate.as_str().into(), now.to_rfc3339().into()],
    )
    .await?;
    plates(db, citizen).await
}

/// Unbinds a plate (404 when it is not bound).
pub async fn remove_plate(db: &impl Db, citizen: &str, plate: &PlateNumber) -> ApiResult<()> {
    let n = db
        .execute(
            "DELETE FROM citizen_plates WHERE citizen_id = ?1 AND plate = ?2",
            &[citizen.into(), plate.as_str().into()],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::with_message(ErrorCode::NotFound, "未绑定该车牌"));
    }
    Ok(())
}
