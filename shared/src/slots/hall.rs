//! Bookable resources (service windows, parking lots) as stored, and slot
//! listing with remaining capacity.

use super::{Rules, Slot, slots_on};
use crate::calendar;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::Db;
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
    let cal = calendar::load(db, date, date).await?;
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
    let cal = calendar::load(db, date, date).await?;
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
