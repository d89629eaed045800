//! The hall desk natively on SQLite: the day view, check-in by code, today's counts.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use appointment::book::{self, BookRequest};
use appointment::desk;
use appointment::policy::Policy;
use chrono::NaiveDate;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role, grant_halls_stmts};
use shared::runtime::SeqIds;
use shared::store::{Db, SqliteDb};
use shared::testing::{at as t, now};

const ITEM: &str = "91330782MA2D4W8J3L4000172009001";
const DAY: &str = "2026-11-24";

fn staff(token: &str, roles: Vec<Role>) -> Principal {
    Principal { token_id: token.into(), name: "窗口人员".into(), roles }
}

/// Two halls with a window each; `h1` serves H1, `h2` serves H2, `both` both.
fn db() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    for (hall, name, window) in [("H1", "北苑大厅", "W1"), ("H2", "稠城大厅", "W2")] {
        block_on(db.execute(
            "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
             VALUES (?1, ?2, '稠城', '路1号', '08:30-17:00', '0579-1', 29.3, 120.1, 1, 'x')",
            &[hall.into(), name.into()],
        ))
        .unwrap();
        let period = serde_json::json!([{"start": "08:30:00", "end": "12:00:00"}]);
        let rules = serde_json::json!({"weekly": [period, period, period, period, period, [], []], "slot_minutes": 30,
            "capacity": 5, "first_day": 1, "last_day": 14, "min_notice_minutes": 0});
        block_on(db.execute(
            "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at)
             VALUES (?1, ?2, 'window', '综合窗口', ?3, ?4, 'x')",
            &[window.into(), hall.into(), serde_json::json!([ITEM]).to_string().into(), rules.to_string().into()],
        ))
        .unwrap();
    }
    block_on(db.batch(&grant_halls_stmts("h1", &["H1"]))).unwrap();
    block_on(db.batch(&grant_halls_stmts("h2", &["H2"]))).unwrap();
    block_on(db.batch(&grant_halls_stmts("both", &["H1", "H2"]))).unwrap();
    for (who, phone) in [("a", Some("13812345678")), ("b", None), ("c", Some("13900001111"))] {
        block_on(db.execute(
            "INSERT INTO citizens (id, phone, created_at, updated_at) VALUES (?1, ?2, 'x', 'x')",
            &[who.into(), phone.map(str::to_owned).into()],
        ))
        .unwrap();
    }
    db
}

fn book_at(db: &SqliteDb, ids: &SeqIds, citizen: &str, window: &str, time: &str) -> book::Appointment {
    let req = BookRequest {
        resource: window.into(),
        item: Some(ITEM.into()),
        start: t(&format!("{DAY}T{time}:00+08:00")),
        plate: None,
        hold: None,
    };
    block_on(book::book(db, ids, citizen, &req, None, &Policy::default(), now())).unwrap().0
}

fn on_the_day() -> shared::types::BeijingTime {
    t(&format!("{DAY}T08:20:00+08:00"))
}

fn access_rows(db: &SqliteDb) -> Vec<String> {
    let rows =
        block_on(db.query("SELECT target FROM audit_log WHERE action = 'access.appointment.day' ORDER BY id", &[]))
            .unwrap();
    rows.iter().map(|r| r["target"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_day_view_lists_the_hall_s_bookings_by_slot_with_masked_phones_and_is_access_logged() {
    let db = db();
    let ids = SeqIds::default();
    let late = book_at(&db, &ids, "a", "W1", "10:00");
    let early = book_at(&db, &ids, "b", "W1", "08:30");
    let cancelled = book_at(&db, &ids, "c", "W1", "09:00");
    block_on(book::cancel(&db, "c", &cancelled.id, &Policy::default(), now())).unwrap();
    book_at(&db, &ids, "c", "W2", "08:30"); // another hall (c cancelled here, so may book there)
    let who = staff("h1", vec![Role::HallStaff]);
    let act = Act { who: &who, now: now(), request_id: "r1" };
    let view = block_on(desk::day_view(&db, &act, "H1", NaiveDate::from_ymd_opt(2026, 11, 24).unwrap())).unwrap();
    assert_eq!(view.hall_name, "北苑大厅");
    let ids: Vec<&str> = view.rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [early.id.as_str(), cancelled.id.as_str(), late.id.as_str()], "by slot, this hall only");
    assert_eq!(view.rows[2].phone.as_deref(), Some("138****5678"));
    assert_eq!(view.rows[0].phone, None, "no phone bound");
    assert_eq!(view.rows[1].status, "cancelled");
    assert_eq!(view.rows[0].resource_name, "综合窗口");
    assert_eq!((view.counts.total, view.counts.booked, view.counts.cancelled), (2, 2, 1));
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains(&late.checkin_code) && !json.contains("13812345678"), "no code, no full phone");
    assert_eq!(access_rows(&db), ["H1/2026-11-24"]);
}

#[test]
fn another_hall_s_staff_and_other_roles_cannot_read_the_day_view() {
    let db = db();
    book_at(&db, &SeqIds::default(), "a", "W1", "10:00");
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let other = staff("h2", vec![Role::HallStaff]);
    let err = block_on(desk::day_view(&db, &Act { who: &other, now: now(), request_id: "r" }, "H1", day)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let auditor = staff("h1", vec![Role::Auditor, Role::CalendarAdmin]);
    let err =
        block_on(desk::day_view(&db, &Act { who: &auditor, now: now(), request_id: "r" }, "H1", day)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert!(access_rows(&db).is_empty(), "a refused read leaves no access row");
}

#[test]
fn check_in_by_code_finds_only_today_s_booking_at_the_desk_s_hall() {
    let db = db();
    let ids = SeqIds::default();
    let here = book_at(&db, &ids, "a", "W1", "08:30");
    let there = book_at(&db, &ids, "c", "W2", "08:30");
    let h1 = staff("h1", vec![Role::HallStaff]);
    let act = Act { who: &h1, now: on_the_day(), request_id: "r" };
    // A code of another hall's booking finds nothing here.
    if there.checkin_code != here.checkin_code {
        let err = block_on(desk::check_in_by_code(&db, &act, "H1", &there.checkin_code)).unwrap_err();
        assert_eq!(err.code, ErrorCode::AppointmentNotFound);
    }
    // Nor may this desk ask at the other hall.
    let err = block_on(desk::check_in_by_code(&db, &act, "H2", &there.checkin_code)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert_eq!(block_on(desk::check_in_by_code(&db, &act, "H1", "12ab56")).unwrap_err().code, ErrorCode::BadRequest);
    // The day before, the right code finds nothing (today only).
    let early = Act { who: &h1, now: now(), request_id: "r" };
    let err = block_on(desk::check_in_by_code(&db, &early, "H1", &here.checkin_code)).unwrap_err();
    assert_eq!(err.code, ErrorCode::AppointmentNotFound);
    let row = block_on(desk::check_in_by_code(&db, &act, "H1", &here.checkin_code)).unwrap();
    assert_eq!((row.id.as_str(), row.status.as_str()), (here.id.as_str(), "checked_in"));
    assert_eq!(row.phone.as_deref(), Some("138****5678"));
    let again = block_on(desk::check_in_by_code(&db, &act, "H1", &here.checkin_code)).unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    assert_eq!(again.message.as_deref(), Some("该预约已签到"));
    let audited = block_on(db.query(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'appointment.check_in' AND target = ?1",
        &[here.id.as_str().into()],
    ))
    .unwrap();
    assert_eq!(audited[0]["n"], 1);
    let status =
        block_on(db.query("SELECT status FROM appointments WHERE id = ?1", &[there.id.as_str().into()])).unwrap();
    assert_eq!(status[0]["status"], "booked", "the other hall's booking is untouched");
}

#[test]
fn two_bookings_with_one_code_are_not_guessed_between() {
    let db = db();
    let ids = SeqIds::default();
    let a = book_at(&db, &ids, "a", "W1", "08:30");
    let c = book_at(&db, &ids, "c", "W1", "09:00");
    block_on(db.execute(
        "UPDATE appointments SET checkin_code = ?1 WHERE id = ?2",
        &[a.checkin_code.as_str().into(), c.id.as_str().into()],
    ))
    .unwrap();
    let h1 = staff("h1", vec![Role::HallStaff]);
    let err = block_on(desk::check_in_by_code(
        &db,
        &Act { who: &h1, now: on_the_day(), request_id: "r" },
        "H1",
        &a.checkin_code,
    ))
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
}

#[test]
fn today_counts_each_hall_the_staff_member_serves() {
    let db = db();
    let ids = SeqIds::default();
    let a = book_at(&db, &ids, "a", "W1", "08:30");
    book_at(&db, &ids, "b", "W1", "09:00");
    book_at(&db, &ids, "c", "W2", "09:00");
    let both = staff("both", vec![Role::HallStaff]);
    let act = Act { who: &both, now: on_the_day(), request_id: "r" };
    block_on(book::check_in(&db, &act, &a.id, &a.checkin_code)).unwrap();
    let (day, halls) = block_on(desk::today(&db, &act)).unwrap();
    assert_eq!(day, DAY);
    let got: Vec<(&str, i64, i64, i64)> =
        halls.iter().map(|h| (h.hall_id.as_str(), h.counts.total, h.counts.booked, h.counts.checked_in)).collect();
    assert_eq!(got, [("H1", 2, 1, 1), ("H2", 1, 1, 0)]);
    let h2 = staff("h2", vec![Role::HallStaff]);
    let (_, only) = block_on(desk::today(&db, &Act { who: &h2, now: now(), request_id: "r" })).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!((only[0].hall_id.as_str(), only[0].hall_name.as_str(), only[0].counts.total), ("H2", "稠城大厅", 0));
    let calendar = staff("x", vec![Role::CalendarAdmin]);
    let err = block_on(desk::today(&db, &Act { who: &calendar, now: now(), request_id: "r" })).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
}
