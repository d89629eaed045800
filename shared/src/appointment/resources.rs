//! Bookable resources (service windows, parking lots), the holiday
//! calendar, and slot listing with remaining capacity.

use super::slots::{Calendar, DayKind, Rules, Slot, slots_on};
use crate::admin::{Act, Role, audit_stmt};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::store::{Db, Stmt};
use crate::types::BeijingTime;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The SQL condition of a place that counts against capacity at `?now`:
/// booked or checked in, or held and not yet expired.
pub const OCCUPYING: &str = "(status IN ('booked', 'checked_in') OR (status = 'held' AND hold_expires_at > ?now))";

/// A bookable resource as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub hall_id: String,
    pub kind: String,
    pub name: String,
    pub items: Vec<String>,
    pub rules: Rules,
}

#[derive(Deserialize)]
struct ResourceRow {
    id: String,
    hall_id: String,
    kind: String,
    name: String,
    items: String,
    rules: String,
}

const RESOURCE_COLUMNS: &str = "id, hall_id, kind, name, items, rules";

impl TryFrom<ResourceRow> for Resource {
    type Error = ApiError;

    fn try_from(row: ResourceRow) -> ApiResult<Self> {
        let bad = |_| ApiError::internal(format!("resource {} has malformed JSON", row.id));
        Ok(Resource {
            items: serde_json::from_str(&row.items).map_err(bad)?,
            rules: serde_json::from_str(&row.rules).map_err(bad)?,
            id: row.id,
            hall_id: row.hall_id,
            kind: row.kind,
            name: row.name,
        })
    }
}

/// The resource `id`, or 404.
pub async fn resource(db: &impl Db, id: &str) -> ApiResult<Resource> {
    let row: ResourceRow = db
        .first_as(&format!("SELECT {RESOURCE_COLUMNS} FROM appt_resources WHERE id = ?1"), &[id.into()])
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "预约资源不存在"))?;
    row.try_into()
}

/// Every resource of a hall, in one query.
pub async fn hall_resources(db: &impl Db, hall: &str) -> ApiResult<Vec<Resource>> {
    let rows: Vec<ResourceRow> = db
        .query_as(
            &format!("SELECT {RESOURCE_COLUMNS} FROM appt_resources WHERE hall_id = ?1 ORDER BY id"),
            &[hall.into()],
        )
        .await?;
    rows.into_iter().map(Resource::try_from).collect()
}

/// The calendar entries between two dates.
pub async fn calendar(db: &impl Db, from: NaiveDate, to: NaiveDate) -> ApiResult<Calendar> {
    #[derive(Deserialize)]
    struct Row {
        day: String,
        kind: DayKind,
    }
    let rows: Vec<Row> = db
        .query_as(
            "SELECT day, kind FROM appt_calendar WHERE day BETWEEN ?1 AND ?2",
            &[from.to_string().into(), to.to_string().into()],
        )
        .await?;
    Ok(rows.into_iter().filter_map(|r| Some((NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?, r.kind))).collect())
}

/// One slot with what is left of it.
#[derive(Debug, Serialize, PartialEq)]
pub struct SlotView {
    pub start: BeijingTime,
    pub end: BeijingTime,
    pub capacity: u32,
    pub remaining: u32,
}

/// The slots of a resource on a date with their remaining capacity.
pub async fn list_slots(db: &impl Db, r: &Resource, date: NaiveDate, now: BeijingTime) -> ApiResult<Vec<SlotView>> {
    let cal = calendar(db, date, date).await?;
    let slots = slots_on(&r.rules, &cal, date, now).map_err(|c| ApiError::bad_field("date", c.message()))?;
    with_remaining(db, r, slots, date, now).await
}

/// `slots` with what the bookings of `date` leave of each.
async fn with_remaining(
    db: &impl Db,
    r: &Resource,
    slots: Vec<Slot>,
    date: NaiveDate,
    now: BeijingTime,
) -> ApiResult<Vec<SlotView>> {
    #[derive(Deserialize)]
    struct Count {
        slot_start: String,
        n: i64,
    }
    let counts: Vec<Count> = db
        .query_as(
            &format!(
                "SELECT slot_start, count(*) AS n FROM appointments
                 WHERE resource_id = ?1 AND day = ?2 AND {} GROUP BY slot_start",
                OCCUPYING.replace("?now", "?3")
            ),
            &[r.id.as_str().into(), date.to_string().into(), now.to_rfc3339().into()],
        )
        .await?;
    let taken: HashMap<String, i64> = counts.into_iter().map(|c| (c.slot_start, c.n)).collect();
    Ok(slots
        .into_iter()
        .map(|s| {
            let used = taken.get(&s.start.to_rfc3339()).copied().unwrap_or(0);
            let cap = r.rules.capacity;
            SlotView { start: s.start, end: s.end, capacity: cap, remaining: cap.saturating_sub(used as u32) }
        })
        .collect())
}

/// The slots of one resource of a hall, or why it has none that day.
#[derive(Debug, Serialize)]
pub struct ResourceSlots {
    pub resource_id: String,
    pub name: String,
    pub kind: String,
    pub closed: Option<&'static str>,
    pub slots: Vec<SlotView>,
}

/// `GET /v1/halls/{id}/slots?item=&date=`: every resource of the hall (only
/// windows handling `item`, when given) with its slots on `date`.
pub async fn hall_slots(
    db: &impl Db,
    hall: &str,
    item: Option<&str>,
    date: NaiveDate,
    now: BeijingTime,
) -> ApiResult<Vec<ResourceSlots>> {
    let cal = calendar(db, date, date).await?;
    let mut out = Vec::new();
    for r in hall_resources(db, hall).await? {
        if item.is_some_and(|i| r.kind == "window" && !r.items.iter().any(|x| x == i)) {
            continue;
        }
        let (closed, slots) = match slots_on(&r.rules, &cal, date, now) {
            Err(c) => (Some(c.message()), vec![]),
            Ok(slots) => (None, with_remaining(db, &r, slots, date, now).await?),
        };
        out.push(ResourceSlots { resource_id: r.id, name: r.name, kind: r.kind, closed, slots });
    }
    Ok(out)
}

/// The body of `PUT /v1/admin/appointments/resources/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceBody {
    pub hall_id: String,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub items: Vec<String>,
    pub rules: Rules,
}

fn check_rules(r: &Rules, errs: &mut Vec<FieldError>) {
    let mut err = |f: &str, m: &str| errs.push(FieldError::new(format!("rules.{f}"), m));
    if r.weekly.len() != 7 {
        err("weekly", "应列出周一到周日7天的办公时段（不办公的日子为空数组）");
    }
    for (i, day) in r.weekly.iter().enumerate() {
        let mut sorted = day.clone();
        sorted.sort_by_key(|p| p.start);
        if sorted.iter().any(|p| p.start >= p.end)
            || sorted.windows(2).any(|w| w.first().map(|a| a.end) > w.get(1).map(|b| b.start))
        {
            err(&format!("weekly[{i}]"), "时段须开始早于结束，且互不重叠");
        }
    }
    if !(5..=240).contains(&r.slot_minutes) {
        err("slot_minutes", "每个时段应为5-240分钟");
    }
    if !(1..=1_000).contains(&r.capacity) {
        err("capacity", "每个时段可约人数应为1-1000");
    }
    if r.first_day > r.last_day || r.last_day > 60 {
        err("last_day", "可预约范围应在60天以内，且开始不晚于结束");
    }
    if r.min_notice_minutes > 7 * 24 * 60 {
        err("min_notice_minutes", "提前预约时间不超过7天");
    }
}

/// Creates or changes a resource (role hall_staff). Changing the capacity or
/// the hours never cancels a booking already made: bookings are rows of
/// their own, and a slot that now has fewer places simply shows none left.
pub async fn put_resource(db: &impl Db, act: &Act<'_>, id: &str, body: &ResourceBody) -> ApiResult<Resource> {
    act.who.require(Role::HallStaff)?;
    let mut errs = Vec::new();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        errs.push(FieldError::new("id", "资源编号应为1-32位字母、数字、- 或 _"));
    }
    if !matches!(body.kind.as_str(), "window" | "parking") {
        errs.push(FieldError::new("kind", "类型应为 window（窗口）或 parking（停车场）"));
    }
    if body.name.trim().is_empty() || body.name.chars().count() > 50 {
        errs.push(FieldError::new("name", "名称应为1-50个字"));
    }
    if body.kind == "window" && body.items.is_empty() {
        errs.push(FieldError::new("items", "窗口至少办理一个事项"));
    }
    check_rules(&body.rules, &mut errs);
    if db.query("SELECT 1 FROM halls WHERE id = ?1", &[body.hall_id.as_str().into()]).await?.is_empty() {
        errs.push(FieldError::new("hall_id", "大厅不存在"));
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let detail = serde_json::json!({ "hall_id": body.hall_id, "capacity": body.rules.capacity });
    db.batch(&[
        Stmt::new(
            "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET hall_id = excluded.hall_id, kind = excluded.kind, name = excluded.name,
               items = excluded.items, rules = excluded.rules, updated_at = excluded.updated_at",
            vec![
                id.into(),
                body.hall_id.as_str().into(),
                body.kind.as_str().into(),
                body.name.trim().into(),
                serde_json::to_string(&body.items).unwrap_or_else(|_| "[]".into()).into(),
                serde_json::to_string(&body.rules).unwrap_or_default().into(),
                act.now.to_rfc3339().into(),
            ],
        ),
        audit_stmt(act.who, "appointment.resource.put", id, act.request_id, act.now, &detail),
    ])
    .await?;
    resource(db, id).await
}

/// One calendar entry.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct CalendarEntry {
    pub day: String,
    pub kind: DayKind,
    #[serde(default)]
    pub name: String,
}

/// Calendar entries between two dates.
pub async fn calendar_entries(db: &impl Db, from: NaiveDate, to: NaiveDate) -> ApiResult<Vec<CalendarEntry>> {
    db.query_as(
        "SELECT day, kind, name FROM appt_calendar WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
        &[from.to_string().into(), to.to_string().into()],
    )
    .await
}

/// Sets a day as 法定节假日 or 调休上班 (role hall_staff); `None` removes it.
pub async fn set_day(db: &impl Db, act: &Act<'_>, day: NaiveDate, entry: Option<(DayKind, &str)>) -> ApiResult<()> {
    act.who.require(Role::HallStaff)?;
    let d = day.to_string();
    let stmt = match entry {
        Some((kind, name)) => {
            let kind = match kind {
                DayKind::Holiday => "holiday",
                DayKind::Workday => "workday",
            };
            Stmt::new(
                "INSERT INTO appt_calendar (day, kind, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
                vec![d.as_str().into(), kind.into(), name.trim().into()],
            )
        }
        None => Stmt::new("DELETE FROM appt_calendar WHERE day = ?1", vec![d.as_str().into()]),
    };
    db.batch(&[
        stmt,
        audit_stmt(act.who, "appointment.calendar", &d, act.request_id, act.now, &serde_json::Value::Null),
    ])
    .await?;
    Ok(())
}
