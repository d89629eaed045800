//! Scheduled work (cron, every 10 minutes) and notices: no-shows, parking
//! lapses, day-before reminders exactly once, and hall statistics.

use crate::policy::Policy;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use shared::calendar;
use shared::error::ApiResult;
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::slots::hall::hall_resources;
use shared::slots::slots_on;
use shared::store::{Db, Kv, Stmt};
use shared::types::BeijingTime;
use shared::wechat_notify::{self, Notice, Outcome, Purpose, Templates, WeChatApp};
use std::collections::BTreeMap;

/// The body of a notice, in SQL over `a` (appointment) and `h` (hall).
pub const NOTICE_BODY: &str = "'您已预约' || h.name || ' ' || substr(a.slot_start, 1, 10) || ' ' || substr(a.slot_start, 12, 5)
    || '-' || substr(a.slot_end, 12, 5) || '，预约号 ' || a.id || '，签到码 ' || a.checkin_code || '。请携带材料准时到达。'";

/// The inbox confirmation of booking `id`, for the booking's own batch:
/// written only if the booking was (so both are stored or neither).
pub fn confirmation_stmt(id: &str, now: BeijingTime) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
             SELECT 'msg_' || lower(hex(randomblob(8))), a.citizen_id,
                    (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages), 'appointment', '预约成功', {NOTICE_BODY},
                    '/appointments/' || a.id, ?2
             FROM appointments a JOIN halls h ON h.id = a.hall_id WHERE a.id = ?1 AND a.status = 'booked'"
        ),
        vec![id.into(), now.to_rfc3339().into()],
    )
}

/// What a sweep changed.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Sweep {
    pub no_shows: u64,
    pub lapsed: u64,
    pub reminded: Vec<Reminder>,
}

/// A reminder to send by 订阅消息 or SMS (the inbox copy is already stored).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Reminder {
    pub id: String,
    pub citizen_id: String,
    pub phone: Option<String>,
    pub hall: String,
    pub slot_start: String,
}

/// No-shows (a window booking not checked in by its end plus the grace) and
/// lapses (a parking reservation whose car has not arrived by its start plus
/// the grace: the space is freed).
pub async fn mark_missed(db: &impl Db, p: &Policy, now: BeijingTime) -> ApiResult<(u64, u64)> {
    let at = |mins: i64| BeijingTime::from_utc(now.to_utc() - Duration::minutes(mins)).to_rfc3339();
    let changed = db
        .batch(&[
            Stmt::new(
                "UPDATE appointments SET status = 'no_show', updated_at = ?2
                 WHERE status = 'booked' AND kind = 'window' AND slot_end < ?1",
                vec![at(p.no_show_grace_minutes).into(), now.to_rfc3339().into()],
            ),
            Stmt::new(
                "UPDATE appointments SET status = 'lapsed', updated_at = ?2
                 WHERE status = 'booked' AND kind = 'parking' AND slot_start < ?1",
                vec![at(p.parking_grace_minutes).into(), now.to_rfc3339().into()],
            ),
        ])
        .await?;
    Ok((changed.first().copied().unwrap_or(0), changed.get(1).copied().unwrap_or(0)))
}

/// From the reminder time (Beijing) on, claims tomorrow's bookings not yet
/// reminded under `run` and stores their inbox notices in the same batch, so
/// each booking is reminded exactly once whatever the cron overlap; returns
/// them for the SMS. Cancelled bookings are never claimed.
pub async fn claim_reminders(db: &impl Db, p: &Policy, now: BeijingTime, run: &str) -> ApiResult<Vec<Reminder>> {
    let local = now.to_rfc3339();
    let time_now = local.get(11..16).unwrap_or("00:00");
    if time_now < p.reminder_time.format("%H:%M").to_string().as_str() {
        return Ok(vec![]);
    }
    let tomorrow = (now.date() + Duration::days(1)).to_string();
    db.batch(&[
        Stmt::new(
            "UPDATE appointments SET reminder_run = ?2 WHERE day = ?1 AND status = 'booked' AND reminder_run IS NULL",
            vec![tomorrow.into(), run.into()],
        ),
        Stmt::new(
            format!(
                "INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
                 SELECT 'msg_' || lower(hex(randomblob(8))), a.citizen_id,
                        (SELECT COALESCE(MAX(seq), 0) FROM messages) + row_number() OVER (ORDER BY a.id),
                        'appointment', '明天有预约', {NOTICE_BODY}, '/appointments/' || a.id, ?2
                 FROM appointments a JOIN halls h ON h.id = a.hall_id WHERE a.reminder_run = ?1"
            ),
            vec![run.into(), local.as_str().into()],
        ),
    ])
    .await?;
    db.query_as(
        "SELECT a.id, a.citizen_id, c.phone, h.name AS hall, a.slot_start FROM appointments a
         JOIN halls h ON h.id = a.hall_id LEFT JOIN citizens c ON c.id = a.citizen_id
         WHERE a.reminder_run = ?1 ORDER BY a.id",
        &[run.into()],
    )
    .await
}

/// The mini-program page a reminder opens.
pub const REMINDER_PAGE: &str = "pages/appointment/detail";

/// Offers a claimed reminder by 订阅消息 (purpose `booking_reminder`, keyed by
/// the booking). The caller sends the SMS when the outcome needs a fallback.
pub async fn remind_by_wechat<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    r: &Reminder,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    booking_by_wechat(db, app, ids, templates, Purpose::BookingReminder, r, now).await
}

/// Offers the confirmation of a new booking by 订阅消息 (purpose
/// `booking_confirmed`, keyed by the booking), after the booking and its
/// inbox copy are stored. The caller sends the SMS when the outcome needs a
/// fallback.
pub async fn confirm_by_wechat<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    citizen: &str,
    booking: &str,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    if !wechat_notify::may_notify(db, templates, citizen, Purpose::BookingConfirmed).await? {
        return Ok(Outcome::NoAcceptance);
    }
    let r: Option<Reminder> = db
        .first_as(
            "SELECT a.id, a.citizen_id, NULL AS phone, h.name AS hall, a.slot_start FROM appointments a
             JOIN halls h ON h.id = a.hall_id WHERE a.id = ?1 AND a.status = 'booked'",
            &[booking.into()],
        )
        .await?;
    match r {
        Some(r) => booking_by_wechat(db, app, ids, templates, Purpose::BookingConfirmed, &r, now).await,
        None => Ok(Outcome::NoAcceptance),
    }
}

/// One booking notice by 订阅消息. Both templates take the same keywords:
/// `thing1` the hall, `time2` the slot (`YYYY-MM-DD HH:MM`),
/// `character_string3` the booking number, `thing4` a note; the page is the
/// booking's.
async fn booking_by_wechat<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    purpose: Purpose,
    r: &Reminder,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let note = match purpose {
        Purpose::BookingConfirmed => "预约成功，请按时到达并凭签到码签到",
        _ => "请携带材料准时到达，凭签到码签到",
    };
    let data = [
        ("thing1", wechat_notify::thing(&r.hall)),
        ("time2", r.slot_start.replace('T', " ").chars().take(16).collect()),
        ("character_string3", r.id.clone()),
        ("thing4", wechat_notify::thing(note)),
    ];
    let page = format!("{REMINDER_PAGE}?id={}", r.id);
    let notice = Notice { citizen_id: &r.citizen_id, purpose, reference: &r.id, data: &data, page: &page };
    wechat_notify::notify(db, app, ids, templates, &notice, now).await
}

/// One day of a hall's statistics (004 统计分析).
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct DayStats {
    pub day: String,
    pub bookings: i64,
    pub check_ins: i64,
    pub no_shows: i64,
    pub cancelled: i64,
    pub capacity: i64,
    /// Places taken (booked, checked in or no-show) over places offered.
    pub utilisation: f64,
}

/// Most days one statistics request covers.
pub const MAX_STATS_DAYS: i64 = 92;

/// Per-day statistics of a hall between two dates (the edge checks the
/// range: `from <= to`, at most [`MAX_STATS_DAYS`]).
pub async fn hall_stats(db: &impl Db, hall: &str, from: NaiveDate, to: NaiveDate) -> ApiResult<Vec<DayStats>> {
    #[derive(Deserialize)]
    struct Row {
        day: String,
        status: String,
        n: i64,
    }
    let rows: Vec<Row> = db
        .query_as(
            "SELECT day, status, count(*) AS n FROM appointments
             WHERE hall_id = ?1 AND day BETWEEN ?2 AND ?3 GROUP BY day, status",
            &[hall.into(), from.to_string().into(), to.to_string().into()],
        )
        .await?;
    let resources = hall_resources(db, hall).await?;
    let cal = calendar::load(db, from, to).await?;
    let mut out: BTreeMap<String, DayStats> = BTreeMap::new();
    let mut d = from;
    while d <= to {
        // Capacity as offered that day, whatever the booking window now is.
        let cap: i64 = resources
            .iter()
            .map(|r| {
                let mut rules = r.rules.clone();
                (rules.first_day, rules.last_day, rules.min_notice_minutes) = (0, 1, 0);
                // Seen from the minute before the day starts, every slot of it is offered.
                let eve = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - Duration::hours(8) - Duration::minutes(1));
                let n = eve.map_or(0, |e| slots_on(&rules, &cal, d, BeijingTime::from_utc(e)).map_or(0, |s| s.len()));
                n as i64 * i64::from(r.rules.capacity)
            })
            .sum();
        out.insert(d.to_string(), DayStats { day: d.to_string(), capacity: cap, ..Default::default() });
        let Some(next) = d.succ_opt() else { break };
        d = next;
    }
    for r in rows {
        if let Some(s) = out.get_mut(&r.day) {
            match r.status.as_str() {
                "booked" => s.bookings += r.n,
                "checked_in" => {
                    s.bookings += r.n;
                    s.check_ins += r.n;
                }
                "no_show" | "lapsed" => {
                    s.bookings += r.n;
                    s.no_shows += r.n;
                }
                "cancelled" => s.cancelled += r.n,
                _ => {}
            }
        }
    }
    Ok(out
        .into_values()
        .map(|mut s| {
            s.utilisation =
                if s.capacity > 0 { (s.bookings as f64 / s.capacity as f64 * 1000.0).round() / 1000.0 } else { 0.0 };
            s
        })
        .collect())
}
