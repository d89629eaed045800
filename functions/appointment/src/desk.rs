//! The hall desk (预约日视图): a hall's bookings of one day by slot, with only
//! what the desk needs of the citizen (the masked phone); check-in by the
//! code the citizen's app shows, scoped to the desk's hall and today; and
//! today's counts per hall of the staff member (the 工作台 card).

use crate::{book, code_tries};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, log_access, require_hall};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::pii::mask_phone;
use shared::store::Db;

/// Most bookings one day view lists (a hall's day is a few hundred at most).
pub const MAX_DAY_ROWS: i64 = 2_000;

/// One booking as the desk sees it. No citizen id, no check-in code: the
/// citizen shows the code, the desk types it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeskRow {
    pub id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub kind: String,
    pub item_code: String,
    pub item_name: Option<String>,
    /// Parking only, masked (`浙G***45`).
    pub plate: Option<String>,
    /// The citizen's confirmed phone, masked (`138****5678`); `None` when none is bound.
    pub phone: Option<String>,
    pub slot_start: String,
    pub slot_end: String,
    /// booked, checked_in, cancelled, rescheduled, no_show or lapsed (holds are left out).
    pub status: String,
    pub checked_in_at: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    resource_id: String,
    resource_name: Option<String>,
    kind: String,
    item_code: String,
    item_name: Option<String>,
    plate: Option<String>,
    phone: Option<String>,
    slot_start: String,
    slot_end: String,
    status: String,
    checked_in_at: Option<String>,
}

/// `浙G12345` -> `浙G***45`: enough for the desk to match a car it sees.
pub fn mask_plate(plate: &str) -> String {
    let chars: Vec<char> = plate.chars().collect();
    if chars.len() < 5 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars.iter().take(2).collect();
    let tail: String = chars.iter().skip(chars.len() - 2).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

impl From<Row> for DeskRow {
    fn from(r: Row) -> Self {
        DeskRow {
            resource_name: r.resource_name.unwrap_or_else(|| r.resource_id.clone()),
            id: r.id,
            resource_id: r.resource_id,
            kind: r.kind,
            item_code: r.item_code,
            item_name: r.item_name,
            plate: r.plate.as_deref().map(mask_plate),
            phone: r.phone.as_deref().filter(|p| !p.is_empty()).map(mask_phone),
            slot_start: r.slot_start,
            slot_end: r.slot_end,
            status: r.status,
            checked_in_at: r.checked_in_at,
        }
    }
}

const DESK_SELECT: &str =
    "SELECT a.id, a.resource_id, r.name AS resource_name, a.kind, a.item_code, i.name AS item_name,
      a.plate, c.phone, a.slot_start, a.slot_end, a.status, a.checked_in_at
    FROM appointments a
    LEFT JOIN appt_resources r ON r.id = a.resource_id
    LEFT JOIN items i ON i.code = a.item_code
    LEFT JOIN citizens c ON c.id = a.citizen_id";

/// A day's counts by status (holds left out).
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct DayCounts {
    /// Every booking of the day that is not a hold or a rescheduled-away one.
    pub total: i64,
    pub booked: i64,
    pub checked_in: i64,
    pub no_show: i64,
    pub cancelled: i64,
}

impl DayCounts {
    fn add(&mut self, status: &str, n: i64) {
        match status {
            "booked" => self.booked += n,
            "checked_in" => self.checked_in += n,
            "no_show" | "lapsed" => self.no_show += n,
            "cancelled" => self.cancelled += n,
            _ => return,
        }
        if status != "cancelled" {
            self.total += n;
        }
    }
}

/// The day view of one hall.
#[derive(Debug, Serialize, PartialEq)]
pub struct DayView {
    pub hall_id: String,
    pub hall_name: String,
    pub day: String,
    pub counts: DayCounts,
    /// By slot start, then resource, then booking number.
    pub rows: Vec<DeskRow>,
}

async fn hall_name(db: &impl Db, hall: &str) -> ApiResult<String> {
    #[derive(Deserialize)]
    struct H {
        name: String,
    }
    let h: Option<H> = db.first_as("SELECT name FROM halls WHERE id = ?1", &[hall.into()]).await?;
    h.map(|h| h.name).ok_or_else(|| ErrorCode::HallNotFound.into())
}

/// A hall's bookings of `day` (role hall_staff, the token's halls only; 403
/// otherwise, as every hall-scoped route answers). The read is access-logged
/// (`access.appointment.day`, target `hall/day`) before anything is answered.
pub async fn day_view(db: &impl Db, act: &Act<'_>, hall: &str, day: NaiveDate) -> ApiResult<DayView> {
    act.who.require(Role::HallStaff)?;
    require_hall(db, act.who, hall).await?;
    let hall_name = hall_name(db, hall).await?;
    let d = day.to_string();
    log_access(db, act, "appointment.day", &format!("{hall}/{d}")).await?;
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "{DESK_SELECT} WHERE a.hall_id = ?1 AND a.day = ?2 AND a.status NOT IN ('held', 'rescheduled')
                 ORDER BY a.slot_start, a.resource_id, a.id LIMIT ?3"
            ),
            &[hall.into(), d.as_str().into(), MAX_DAY_ROWS.into()],
        )
        .await?;
    let mut counts = DayCounts::default();
    for r in &rows {
        counts.add(&r.status, 1);
    }
    Ok(DayView {
        hall_id: hall.to_owned(),
        hall_name,
        day: d,
        counts,
        rows: rows.into_iter().map(DeskRow::from).collect(),
    })
}

/// A six-digit check-in code, as booking makes them.
pub fn parse_code(raw: &str) -> ApiResult<String> {
    let code = raw.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(ApiError::bad_field("code", "签到码应为6位数字"))
    }
}

/// Checks in today's booking at `hall` whose code the citizen shows (role
/// hall_staff, the token's halls only). Only that hall's bookings of today
/// are looked at, so a code, right or guessed, never reaches a booking of
/// another hall or day. Two bookings with the same code (rare: codes are
/// six random digits) are refused: the desk then asks for the booking number.
pub async fn check_in_by_code(db: &impl Db, act: &Act<'_>, hall: &str, raw_code: &str) -> ApiResult<DeskRow> {
    act.who.require(Role::HallStaff)?;
    require_hall(db, act.who, hall).await?;
    let code = parse_code(raw_code)?;
    code_tries::take(db, act, hall).await?;
    let today = act.now.date().to_string();
    #[derive(Deserialize)]
    struct Hit {
        id: String,
        status: String,
    }
    let hits: Vec<Hit> = db
        .query_as(
            "SELECT id, status FROM appointments WHERE hall_id = ?1 AND day = ?2 AND checkin_code = ?3
               AND status NOT IN ('held', 'rescheduled') ORDER BY id LIMIT 10",
            &[hall.into(), today.as_str().into(), code.as_str().into()],
        )
        .await?;
    let booked: Vec<&Hit> = hits.iter().filter(|h| h.status == "booked").collect();
    let id = match (booked.as_slice(), hits.first()) {
        ([one], _) => one.id.clone(),
        ([], None) => {
            code_tries::missed(db, act, hall, hall).await?;
            return Err(ApiError::with_message(ErrorCode::AppointmentNotFound, "本大厅今天没有使用该签到码的预约"));
        }
        // Already checked in, cancelled or missed: the booking's own check-in says which.
        ([], Some(first)) => first.id.clone(),
        _ => {
            db.batch(&[code_tries::give_back(act, hall)]).await?;
            return Err(ApiError::with_message(ErrorCode::Conflict, "有多个预约使用该签到码，请核对预约号后办理"));
        }
    };
    book::check_in_shown(db, act, &id).await?;
    row(db, &id).await
}

/// One booking as the desk sees it (masked).
pub async fn row(db: &impl Db, id: &str) -> ApiResult<DeskRow> {
    let row: Option<Row> = db.first_as(&format!("{DESK_SELECT} WHERE a.id = ?1"), &[id.into()]).await?;
    row.map(DeskRow::from).ok_or_else(|| ApiError::internal("booking vanished after check-in"))
}

/// Today's counts of one hall.
#[derive(Debug, Serialize, PartialEq)]
pub struct HallToday {
    pub hall_id: String,
    pub hall_name: String,
    #[serde(flatten)]
    pub counts: DayCounts,
}

/// Today's bookings per hall the staff member serves (role hall_staff), for
/// 工作台 and the day view's hall list. Counts only, no personal data.
pub async fn today(db: &impl Db, act: &Act<'_>) -> ApiResult<(String, Vec<HallToday>)> {
    act.who.require(Role::HallStaff)?;
    let today = act.now.date().to_string();
    #[derive(Deserialize)]
    struct R {
        hall_id: String,
        hall_name: String,
        status: Option<String>,
        n: i64,
    }
    let rows: Vec<R> = db
        .query_as(
            "SELECT h.id AS hall_id, h.name AS hall_name, a.status, count(a.id) AS n
             FROM admin_token_halls g JOIN halls h ON h.id = g.hall_id
             LEFT JOIN appointments a ON a.hall_id = h.id AND a.day = ?2
             WHERE g.token_id = ?1 GROUP BY h.id, h.name, a.status ORDER BY h.id",
            &[act.who.token_id.as_str().into(), today.as_str().into()],
        )
        .await?;
    let mut out: Vec<HallToday> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|h| h.hall_id != r.hall_id) {
            out.push(HallToday {
                hall_id: r.hall_id.clone(),
                hall_name: r.hall_name.clone(),
                counts: DayCounts::default(),
            });
        }
        if let (Some(h), Some(s)) = (out.last_mut(), r.status.as_deref()) {
            h.counts.add(s, r.n);
        }
    }
    Ok((today, out))
}

#[cfg(test)]
mod tests {
    use super::{DayCounts, mask_plate, parse_code};

    #[test]
    fn plates_keep_the_province_letter_and_last_two() {
        assert_eq!(mask_plate("浙G12345"), "浙G***45");
        assert_eq!(mask_plate("浙GD12345"), "浙G****45");
        assert_eq!(mask_plate("浙G1"), "****");
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(parse_code(" 012345 ").unwrap(), "012345");
        assert!(parse_code("12345").is_err());
        assert!(parse_code("12345a").is_err());
        assert!(parse_code("１２３４５６").is_err());
    }

    #[test]
    fn counts_leave_cancelled_out_of_the_total() {
        let mut c = DayCounts::default();
        for s in ["booked", "checked_in", "no_show", "lapsed", "cancelled", "held"] {
            c.add(s, 2);
        }
        assert_eq!(c, DayCounts { total: 8, booked: 2, checked_in: 2, no_show: 4, cancelled: 2 });
    }
}
