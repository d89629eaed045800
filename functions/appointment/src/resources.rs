//! Staff keep the hall's bookable resources and the holiday calendar.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt, require_hall};
use shared::calendar::DayKind;
use shared::error::{ApiError, ApiResult, FieldError};
use shared::slots::Rules;
use shared::slots::hall::{Resource, resource};
use shared::store::{Db, Stmt};

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
    // The hall it is for, and the hall it was at (a resource cannot be taken from another hall).
    require_hall(db, act.who, &body.hall_id).await?;
    if let Ok(existing) = resource(db, id).await {
        require_hall(db, act.who, &existing.hall_id).await?;
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

/// Sets a day as 法定节假日 or 调休上班 (role calendar_admin: the calendar moves
/// every hall's slots and every complaint deadline); `None` removes it.
pub async fn set_day(db: &impl Db, act: &Act<'_>, day: NaiveDate, entry: Option<(DayKind, &str)>) -> ApiResult<()> {
    act.who.require(Role::CalendarAdmin)?;
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
