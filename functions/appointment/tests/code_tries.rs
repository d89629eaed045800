//! Guessing check-in codes at the desk, natively on SQLite: each staff member
//! has 30 wrong codes a day at a hall and a hall 100 from all its staff; the
//! statement that counts a try refuses it beyond them; a right code gives its
//! try back; every wrong code is in the audit log.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use appointment::book::{self, BookRequest};
use appointment::code_tries::{MAX_MISSES_PER_HALL, MAX_MISSES_PER_STAFF};
use appointment::desk;
use appointment::policy::Policy;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role, grant_halls_stmts};
use shared::runtime::SeqIds;
use shared::store::{Db, SqliteDb};
use shared::testing::{at as t, now};
use shared::types::BeijingTime;

const ITEM: &str = "91330782MA2D4W8J3L4000172009001";
const DAY: &str = "2026-11-24";

fn staff(token: &str) -> Principal {
    Principal { token_id: token.into(), name: "窗口人员".into(), roles: vec![Role::HallStaff] }
}

fn on_the_day() -> BeijingTime {
    t(&format!("{DAY}T08:20:00+08:00"))
}

/// Hall H1 with a window, staff `s0`..`s4` serving it, and one booking of the day.
fn setup() -> (SqliteDb, book::Appointment) {
    let db = SqliteDb::migrated().unwrap();
    block_on(db.execute(
        "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
         VALUES ('H1', '北苑大厅', '稠城', '路1号', '08:30-17:00', '0579-1', 29.3, 120.1, 1, 'x')",
        &[],
    ))
    .unwrap();
    let period = serde_json::json!([{"start": "08:30:00", "end": "12:00:00"}]);
    let rules = serde_json::json!({"weekly": [period, period, period, period, period, [], []], "slot_minutes": 30,
        "capacity": 5, "first_day": 1, "last_day": 14, "min_notice_minutes": 0});
    block_on(db.execute(
        "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at) VALUES ('W1', 'H1', 'window', '综合窗口', ?1, ?2, 'x')",
        &[serde_json::json!([ITEM]).to_string().into(), rules.to_string().into()],
    ))
    .unwrap();
    for s in ["s0", "s1", "s2", "s3", "s4"] {
        block_on(db.batch(&grant_halls_stmts(s, &["H1"]))).unwrap();
    }
    block_on(db.execute(
        "INSERT INTO citizens (id, phone, created_at, updated_at) VALUES ('a', '13812345678', 'x', 'x')",
        &[],
    ))
    .unwrap();
    let req = BookRequest {
        resource: "W1".into(),
        item: Some(ITEM.into()),
        start: t(&format!("{DAY}T09:00:00+08:00")),
        plate: None,
        hold: None,
    };
    let a = block_on(book::book(&db, &SeqIds::default(), "a", &req, None, &Policy::default(), now())).unwrap().0;
    (db, a)
}

/// A six-digit code that is not `code`.
fn wrong(code: &str, n: usize) -> String {
    let v = (code.parse::<u32>().unwrap() + 1 + n as u32) % 1_000_000;
    format!("{v:06}")
}

fn misses_audited(db: &SqliteDb) -> usize {
    block_on(db.query("SELECT id FROM audit_log WHERE action = 'appointment.check_in_miss'", &[])).unwrap().len()
}

#[test]
fn a_staff_member_s_thirty_first_wrong_code_of_the_day_is_refused_even_when_it_is_right() {
    let (db, a) = setup();
    let who = staff("s0");
    let act = Act { who: &who, now: on_the_day(), request_id: "r" };
    for n in 0..MAX_MISSES_PER_STAFF as usize {
        let e = block_on(desk::check_in_by_code(&db, &act, "H1", &wrong(&a.checkin_code, n))).unwrap_err();
        assert_eq!(e.code, ErrorCode::AppointmentNotFound, "try {n}");
    }
    let e = block_on(desk::check_in_by_code(&db, &act, "H1", &a.checkin_code)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited, "guessing stops for the day, the right code too");
    let e = block_on(book::check_in(&db, &act, &a.id, &a.checkin_code)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited, "by booking number as well");
    assert_eq!(misses_audited(&db), MAX_MISSES_PER_STAFF as usize, "every wrong code is in the audit log");
    // Another staff member of the hall still works; the next day starts afresh.
    let other = staff("s1");
    let act1 = Act { who: &other, now: on_the_day(), request_id: "r" };
    assert_eq!(block_on(desk::check_in_by_code(&db, &act1, "H1", &a.checkin_code)).unwrap().status, "checked_in");
}

#[test]
fn the_hall_takes_at_most_a_hundred_wrong_codes_a_day_from_all_its_staff_together() {
    let (db, a) = setup();
    let mut n = 0;
    for s in ["s0", "s1", "s2", "s3"] {
        let who = staff(s);
        let act = Act { who: &who, now: on_the_day(), request_id: "r" };
        for _ in 0..MAX_MISSES_PER_STAFF {
            let _ = block_on(desk::check_in_by_code(&db, &act, "H1", &wrong(&a.checkin_code, n)));
            n += 1;
        }
    }
    assert_eq!(misses_audited(&db), MAX_MISSES_PER_HALL as usize, "four accounts, not 120 tries");
    let fresh = staff("s4");
    let act = Act { who: &fresh, now: on_the_day(), request_id: "r" };
    let e = block_on(desk::check_in_by_code(&db, &act, "H1", &a.checkin_code)).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited, "a fifth account does not reopen the hall");
}

#[test]
fn right_codes_give_their_try_back_so_a_busy_desk_never_runs_out() {
    let (db, a) = setup();
    let who = staff("s0");
    let act = Act { who: &who, now: on_the_day(), request_id: "r" };
    for n in 0..(MAX_MISSES_PER_STAFF as usize - 1) {
        let _ = block_on(desk::check_in_by_code(&db, &act, "H1", &wrong(&a.checkin_code, n)));
    }
    assert_eq!(block_on(desk::check_in_by_code(&db, &act, "H1", &a.checkin_code)).unwrap().status, "checked_in");
    // The right code's try came back (29 taken), and showing it again (409, already in) gives it back too.
    for _ in 0..5 {
        let e = block_on(desk::check_in_by_code(&db, &act, "H1", &a.checkin_code)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
    }
    let e = block_on(desk::check_in_by_code(&db, &act, "H1", &wrong(&a.checkin_code, 99))).unwrap_err();
    assert_eq!(e.code, ErrorCode::AppointmentNotFound, "the thirtieth wrong code is still a plain miss");
    let e = block_on(desk::check_in_by_code(&db, &act, "H1", &wrong(&a.checkin_code, 100))).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
}

#[test]
fn a_wrong_code_by_booking_number_counts_and_the_answer_is_the_desk_s_masked_row() {
    let (db, a) = setup();
    let who = staff("s0");
    let act = Act { who: &who, now: on_the_day(), request_id: "r" };
    let e = block_on(book::check_in(&db, &act, &a.id, &wrong(&a.checkin_code, 0))).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert_eq!(misses_audited(&db), 1);
    block_on(book::check_in(&db, &act, &a.id, &a.checkin_code)).unwrap();
    let row = serde_json::to_value(block_on(desk::row(&db, &a.id)).unwrap()).unwrap();
    assert_eq!(row["phone"], "138****5678");
    assert!(row.get("checkin_code").is_none(), "{row}");
}
