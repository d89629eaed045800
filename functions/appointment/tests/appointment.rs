//! Booking rules natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use appointment::book::{self, BookRequest};
use appointment::{policy::Policy, resources};
use chrono::NaiveDate;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::calendar::{Calendar, DayKind};
use shared::runtime::SeqIds;
use shared::slots::hall;
use shared::store::{Db, SqliteDb};
use shared::testing::{at as t, now};

const ITEM: &str = "91330782MA2D4W8J3L4000172009001";

fn db_with_window(capacity: u32) -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    block_on(db.execute(
        "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
         VALUES ('H1', '大厅', '稠城', '路1号', '08:30-17:00', '0579-1', 29.3, 120.1, 1, 'x')",
        &[],
    ))
    .unwrap();
    // The staff tokens of these tests serve H1 (scripts/admin-token create --hall H1).
    block_on(db.batch(&shared::admin::grant_halls_stmts("hs", &["H1"]))).unwrap();
    block_on(db.batch(&shared::admin::grant_halls_stmts("s", &["H1"]))).unwrap();
    for who in ["a", "b", "c", "d"] {
        block_on(db.execute(
            "INSERT INTO citizens (id, phone, created_at, updated_at) VALUES (?1, ?2, 'x', 'x')",
            &[who.into(), format!("1380000000{}", who.len() + who.as_bytes()[0] as usize % 10).into()],
        ))
        .unwrap();
    }
    let period = serde_json::json!([{"start": "08:30:00", "end": "12:00:00"}]);
    let rules = serde_json::json!({"weekly": [period, period, period, period, period, [], []], "slot_minutes": 30,
        "capacity": capacity, "first_day": 1, "last_day": 14, "min_notice_minutes": 0});
    block_on(db.execute(
        "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at)
         VALUES ('W1', 'H1', 'window', '综合窗口', ?1, ?2, 'x')",
        &[serde_json::json!([ITEM]).to_string().into(), rules.to_string().into()],
    ))
    .unwrap();
    db
}

fn park_db() -> SqliteDb {
    let db = db_with_window(1);
    let rules = serde_json::json!({"weekly": vec![serde_json::json!([{"start": "00:00:00", "end": "23:59:00"}]); 7],
        "slot_minutes": 60, "capacity": 1, "first_day": 0, "last_day": 7, "min_notice_minutes": 0});
    block_on(db.execute(
        "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at)
         VALUES ('P1', 'H1', 'parking', '停车场', '[]', ?1, 'x')",
        &[rules.to_string().into()],
    ))
    .unwrap();
    db
}

fn req(start: &str) -> BookRequest {
    BookRequest { resource: "W1".into(), item: Some(ITEM.into()), start: t(start), plate: None, hold: None }
}

#[test]
fn capacity_is_never_exceeded_and_the_rest_get_slot_full() {
    let db = db_with_window(2);
    let ids = SeqIds::default();
    for who in ["a", "b"] {
        block_on(book::book(&db, &ids, who, &req("2026-11-24T08:30:00+08:00"), None, &Policy::default(), now()))
            .unwrap();
    }
    let third =
        block_on(book::book(&db, &ids, "c", &req("2026-11-24T08:30:00+08:00"), None, &Policy::default(), now()));
    assert_eq!(third.unwrap_err().code, ErrorCode::SlotFull);
    let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let r = block_on(hall::resource(&db, "W1")).unwrap();
    let slots = block_on(hall::list_slots(&db, &r, date, now())).unwrap();
    assert_eq!((slots[0].remaining, slots[1].remaining), (0, 2));
}

#[test]
fn one_booking_per_person_item_and_day_and_three_in_all() {
    let db = db_with_window(10);
    let ids = SeqIds::default();
    block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &Policy::default(), now())).unwrap();
    let again =
        block_on(book::book(&db, &ids, "a", &req("2026-11-24T09:00:00+08:00"), None, &Policy::default(), now()));
    assert_eq!(again.unwrap_err().code, ErrorCode::BookingLimit);
    block_on(book::book(&db, &ids, "a", &req("2026-11-25T08:30:00+08:00"), None, &Policy::default(), now())).unwrap();
    block_on(book::book(&db, &ids, "a", &req("2026-11-26T08:30:00+08:00"), None, &Policy::default(), now())).unwrap();
    let fourth =
        block_on(book::book(&db, &ids, "a", &req("2026-11-27T08:30:00+08:00"), None, &Policy::default(), now()));
    assert_eq!(fourth.unwrap_err().code, ErrorCode::BookingLimit);
}

#[test]
fn a_retry_with_the_same_idempotency_key_returns_the_first_booking() {
    let db = db_with_window(10);
    let ids = SeqIds::default();
    let (first, replay) =
        block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), Some("k1"), &Policy::default(), now()))
            .unwrap();
    assert!(!replay);
    let (second, replay) =
        block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), Some("k1"), &Policy::default(), now()))
            .unwrap();
    assert!(replay);
    assert_eq!(first, second);
    assert_eq!(block_on(book::mine(&db, "a", now())).unwrap().len(), 1);
}

#[test]
fn slots_outside_the_rules_are_refused() {
    let db = db_with_window(10);
    let ids = SeqIds::default();
    for bad in [
        "2026-11-24T08:45:00+08:00",
        "2026-11-24T12:00:00+08:00",
        "2026-11-28T08:30:00+08:00",
        "2026-11-23T11:00:00+08:00",
    ] {
        let r = block_on(book::book(&db, &ids, "a", &req(bad), None, &Policy::default(), now()));
        assert_eq!(r.unwrap_err().code, ErrorCode::SlotUnavailable, "{bad}");
    }
    let mut other = req("2026-11-24T08:30:00+08:00");
    other.item = Some("91330782MA2D4W8J3L4000172009999".into());
    assert_eq!(
        block_on(book::book(&db, &ids, "a", &other, None, &Policy::default(), now())).unwrap_err().code,
        ErrorCode::BadRequest
    );
}

#[test]
fn only_the_owner_sees_or_cancels_and_only_until_the_working_day_before() {
    let db = db_with_window(10);
    let ids = SeqIds::default();
    // Monday 2026-11-30: the last working day before is Friday the 27th.
    let (a, _) =
        block_on(book::book(&db, &ids, "a", &req("2026-11-30T08:30:00+08:00"), None, &Policy::default(), now()))
            .unwrap();
    assert_eq!(block_on(book::get(&db, "b", &a.id)).unwrap_err().code, ErrorCode::AppointmentNotFound);
    assert_eq!(
        block_on(book::cancel(&db, "b", &a.id, &Policy::default(), now())).unwrap_err().code,
        ErrorCode::AppointmentNotFound
    );
    let late = block_on(book::cancel(&db, "a", &a.id, &Policy::default(), t("2026-11-28T09:00:00+08:00")));
    assert_eq!(late.unwrap_err().code, ErrorCode::CancelTooLate);
    let done = block_on(book::cancel(&db, "a", &a.id, &Policy::default(), t("2026-11-27T23:59:00+08:00"))).unwrap();
    assert_eq!(done.status, "cancelled");
    // The freed place can be booked again.
    block_on(book::book(&db, &ids, "a", &req("2026-11-30T08:30:00+08:00"), None, &Policy::default(), now())).unwrap();
}

#[test]
fn the_working_day_before_skips_weekends_and_holidays_and_counts_make_up_days() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut cal = Calendar::new();
    assert_eq!(shared::calendar::previous_working_day(d("2026-11-30"), &cal), d("2026-11-27"));
    cal.insert(d("2026-11-27"), DayKind::Holiday);
    assert_eq!(shared::calendar::previous_working_day(d("2026-11-30"), &cal), d("2026-11-26"));
    cal.insert(d("2026-11-29"), DayKind::Workday);
    assert_eq!(shared::calendar::previous_working_day(d("2026-11-30"), &cal), d("2026-11-29"));
}

fn status(db: &SqliteDb, id: &str) -> String {
    let rows = block_on(db.query("SELECT status FROM appointments WHERE id = ?1", &[id.into()])).unwrap();
    rows[0]["status"].as_str().unwrap().to_owned()
}

#[test]
fn a_booking_puts_its_confirmation_in_the_inbox_in_the_same_batch() {
    let db = db_with_window(1);
    let ids = SeqIds::default();
    let p = Policy::default();
    let (a, _) = block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    let full = block_on(book::book(&db, &ids, "b", &req("2026-11-24T08:30:00+08:00"), None, &p, now()));
    assert_eq!(full.unwrap_err().code, ErrorCode::SlotFull);
    let msgs = block_on(db.query("SELECT citizen_id, title, body FROM messages", &[])).unwrap();
    assert_eq!(msgs.len(), 1, "no notice for the refused booking");
    assert_eq!(msgs[0]["citizen_id"], "a");
    assert!(msgs[0]["body"].as_str().unwrap().contains(&a.checkin_code));
}

#[test]
fn a_hold_counts_against_capacity_until_it_expires_and_can_be_confirmed_in_time() {
    let db = db_with_window(1);
    let ids = SeqIds::default();
    let p = Policy::default();
    let h = block_on(book::hold(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), &p, now())).unwrap();
    assert_eq!(h.status, "held");
    let other = block_on(book::book(&db, &ids, "b", &req("2026-11-24T08:30:00+08:00"), None, &p, now()));
    assert_eq!(other.unwrap_err().code, ErrorCode::SlotFull, "the hold keeps the place");
    let later = t("2026-11-23T10:06:00+08:00");
    let mut confirm = req("2026-11-24T08:30:00+08:00");
    confirm.hold = Some(h.id.clone());
    let expired = block_on(book::book(&db, &ids, "a", &confirm, None, &p, later));
    assert_eq!(expired.unwrap_err().code, ErrorCode::HoldExpired);
    let (b, _) = block_on(book::book(&db, &ids, "b", &req("2026-11-24T08:30:00+08:00"), None, &p, later)).unwrap();
    assert_eq!(b.status, "booked", "an expired hold frees the place");
    // In time, the hold becomes the booking.
    let h2 = block_on(book::hold(&db, &ids, "c", &req("2026-11-24T09:00:00+08:00"), &p, now())).unwrap();
    confirm.hold = Some(h2.id.clone());
    let (c, _) = block_on(book::book(&db, &ids, "c", &confirm, None, &p, t("2026-11-23T10:04:00+08:00"))).unwrap();
    assert_eq!((c.id, c.status.as_str()), (h2.id, "booked"));
}

#[test]
fn a_reschedule_into_a_full_slot_keeps_the_old_booking() {
    let db = db_with_window(1);
    let ids = SeqIds::default();
    let p = Policy::default();
    let (a, _) = block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    block_on(book::book(&db, &ids, "b", &req("2026-11-24T09:00:00+08:00"), None, &p, now())).unwrap();
    let into_full = book::RescheduleRequest { resource: None, start: t("2026-11-24T09:00:00+08:00") };
    let err = block_on(book::reschedule(&db, &ids, "a", &a.id, &into_full, &p, now())).unwrap_err();
    assert_eq!(err.code, ErrorCode::SlotFull);
    assert_eq!(status(&db, &a.id), "booked");
    let free = book::RescheduleRequest { resource: None, start: t("2026-11-24T10:00:00+08:00") };
    let moved = block_on(book::reschedule(&db, &ids, "a", &a.id, &free, &p, now())).unwrap();
    assert_eq!(moved.slot_start, "2026-11-24T10:00:00+08:00");
    assert_eq!(status(&db, &a.id), "rescheduled");
    // The old place is free again.
    block_on(book::book(&db, &ids, "c", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    // After the cut-off nothing moves.
    let late = block_on(book::reschedule(&db, &ids, "a", &moved.id, &free, &p, t("2026-11-24T08:00:00+08:00")));
    assert_eq!(late.unwrap_err().code, ErrorCode::CancelTooLate);
}

fn staff_act(at: shared::types::BeijingTime) -> shared::admin::Act<'static> {
    static STAFF: std::sync::LazyLock<shared::admin::Principal> =
        std::sync::LazyLock::new(|| shared::admin::Principal {
            token_id: "hs".into(),
            name: "窗口".into(),
            roles: vec![shared::admin::Role::HallStaff],
        });
    shared::admin::Act { who: &STAFF, now: at, request_id: "r" }
}

#[test]
fn check_in_needs_the_code_on_the_day_and_no_shows_ban_with_a_date() {
    let db = db_with_window(5);
    let ids = SeqIds::default();
    let p = Policy::default();
    let (a, _) = block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    let on_day = t("2026-11-24T08:20:00+08:00");
    assert_eq!(
        block_on(book::check_in(&db, &staff_act(on_day), &a.id, "000000")).unwrap_err().code,
        ErrorCode::BadRequest
    );
    assert_eq!(
        block_on(book::check_in(&db, &staff_act(now()), &a.id, &a.checkin_code)).unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(block_on(book::check_in(&db, &staff_act(on_day), &a.id, &a.checkin_code)).unwrap().status, "checked_in");
    // Three missed bookings: each becomes a no-show after its end plus the grace.
    for (i, day) in ["2026-11-25", "2026-11-26", "2026-11-27"].iter().enumerate() {
        let (b, _) =
            block_on(book::book(&db, &ids, "b", &req(&format!("{day}T08:30:00+08:00")), None, &p, now())).unwrap();
        let after = t(&format!("{day}T09:31:00+08:00"));
        let (no_shows, _) = block_on(appointment::jobs::mark_missed(&db, &p, after)).unwrap();
        assert_eq!(no_shows, 1, "{i}");
        assert_eq!(status(&db, &b.id), "no_show");
    }
    let banned = block_on(book::book(
        &db,
        &ids,
        "b",
        &req("2026-12-01T08:30:00+08:00"),
        None,
        &p,
        t("2026-11-28T10:00:00+08:00"),
    ));
    let err = banned.unwrap_err();
    assert_eq!(err.code, ErrorCode::BookingBanned);
    assert!(err.message.unwrap().contains("2026年12月25日"), "until the oldest no-show leaves the 30 days");
}

#[test]
fn parking_needs_a_bound_plate_and_lapses_when_the_car_is_late() {
    let db = park_db();
    let ids = SeqIds::default();
    let p = Policy::default();
    let plate = shared::types::PlateNumber::parse("浙G12345").unwrap();
    let mut r = BookRequest {
        resource: "P1".into(),
        item: None,
        start: t("2026-11-23T14:00:00+08:00"),
        plate: Some(plate.clone()),
        hold: None,
    };
    assert_eq!(block_on(book::book(&db, &ids, "a", &r, None, &p, now())).unwrap_err().code, ErrorCode::BadRequest);
    block_on(book::add_plate(&db, "a", &plate, now())).unwrap();
    let (res, _) = block_on(book::book(&db, &ids, "a", &r, None, &p, now())).unwrap();
    assert_eq!((res.kind.as_str(), res.plate.as_deref()), ("parking", Some("浙G12345")));
    let (_, lapsed) = block_on(appointment::jobs::mark_missed(&db, &p, t("2026-11-23T14:31:00+08:00"))).unwrap();
    assert_eq!(lapsed, 1);
    assert_eq!(status(&db, &res.id), "lapsed");
    block_on(book::add_plate(&db, "b", &plate, now())).unwrap();
    r.start = t("2026-11-23T15:00:00+08:00");
    block_on(book::book(&db, &ids, "b", &r, None, &p, t("2026-11-23T14:31:00+08:00"))).unwrap();
}

#[test]
fn reminders_go_once_from_the_reminder_time_and_never_for_cancelled_bookings() {
    let db = db_with_window(5);
    let ids = SeqIds::default();
    let p = Policy::default();
    let (a, _) = block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    let (b, _) = block_on(book::book(&db, &ids, "b", &req("2026-11-24T09:00:00+08:00"), None, &p, now())).unwrap();
    block_on(book::cancel(&db, "b", &b.id, &p, now())).unwrap();
    let jobs = |at: &str, run: &str| block_on(appointment::jobs::claim_reminders(&db, &p, t(at), run)).unwrap();
    assert!(jobs("2026-11-23T17:59:00+08:00", "r1").is_empty(), "before 18:00 Beijing");
    // 18:00 Beijing is 10:00 UTC: the clock's zone does not matter.
    let sent = jobs("2026-11-23T10:00:00Z", "r2");
    assert_eq!(sent.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [a.id.as_str()]);
    assert!(sent[0].phone.is_some());
    assert!(jobs("2026-11-23T18:10:00+08:00", "r3").is_empty(), "exactly once");
    let inbox = block_on(db.query("SELECT title FROM messages WHERE citizen_id = 'a' ORDER BY seq", &[])).unwrap();
    let titles: Vec<&str> = inbox.iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["预约成功", "明天有预约"]);
}

#[test]
fn hall_statistics_count_bookings_check_ins_no_shows_and_utilisation() {
    let db = db_with_window(2);
    let ids = SeqIds::default();
    let p = Policy::default();
    let (a, _) = block_on(book::book(&db, &ids, "a", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    block_on(book::book(&db, &ids, "b", &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    block_on(book::check_in(&db, &staff_act(t("2026-11-24T08:31:00+08:00")), &a.id, &a.checkin_code)).unwrap();
    block_on(appointment::jobs::mark_missed(&db, &p, t("2026-11-24T09:31:00+08:00"))).unwrap();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let stats = block_on(appointment::jobs::hall_stats(&db, "H1", d("2026-11-24"), d("2026-11-25"))).unwrap();
    assert_eq!(stats.len(), 2);
    let s = &stats[0];
    assert_eq!((s.bookings, s.check_ins, s.no_shows, s.capacity), (2, 1, 1, 14));
    assert_eq!(s.utilisation, 0.143);
}

#[test]
fn lowering_the_capacity_never_cancels_a_booking() {
    let db = db_with_window(2);
    let ids = SeqIds::default();
    let p = Policy::default();
    for who in ["a", "b"] {
        block_on(book::book(&db, &ids, who, &req("2026-11-24T08:30:00+08:00"), None, &p, now())).unwrap();
    }
    let staff = shared::admin::Principal {
        token_id: "s".into(),
        name: "窗口".into(),
        roles: vec![shared::admin::Role::HallStaff],
    };
    let act = shared::admin::Act { who: &staff, now: now(), request_id: "r" };
    let mut r = block_on(hall::resource(&db, "W1")).unwrap();
    r.rules.capacity = 1;
    let body = resources::ResourceBody {
        hall_id: "H1".into(),
        kind: "window".into(),
        name: "综合窗口".into(),
        items: r.items.clone(),
        rules: r.rules.clone(),
    };
    block_on(resources::put_resource(&db, &act, "W1", &body)).unwrap();
    let booked = block_on(db.query("SELECT count(*) AS n FROM appointments WHERE status = 'booked'", &[])).unwrap();
    assert_eq!(booked[0]["n"], 2, "both bookings stand");
    let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let slots = block_on(hall::list_slots(&db, &r, date, now())).unwrap();
    assert_eq!((slots[0].capacity, slots[0].remaining), (1, 0));
    let third = block_on(book::book(&db, &ids, "c", &req("2026-11-24T08:30:00+08:00"), None, &p, now()));
    assert_eq!(third.unwrap_err().code, ErrorCode::SlotFull);
}

#[test]
fn a_check_in_and_its_audit_row_are_one_write() {
    let db = db_with_window(5);
    let (a, _) = block_on(book::book(
        &db,
        &SeqIds::default(),
        "a",
        &req("2026-11-24T08:30:00+08:00"),
        None,
        &Policy::default(),
        now(),
    ))
    .unwrap();
    let on_day = t("2026-11-24T08:20:00+08:00");
    block_on(book::check_in(&db, &staff_act(on_day), &a.id, &a.checkin_code)).unwrap();
    let rows = block_on(db.query("SELECT actor_id, target FROM audit_log WHERE action = 'appointment.check_in'", &[]))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["actor_id"].as_str(), rows[0]["target"].as_str()), (Some("hs"), Some(a.id.as_str())));
}

#[test]
fn staff_of_another_hall_cannot_check_in_or_change_this_hall_s_windows() {
    let db = db_with_window(5);
    let (a, _) = block_on(book::book(
        &db,
        &SeqIds::default(),
        "a",
        &req("2026-11-24T08:30:00+08:00"),
        None,
        &Policy::default(),
        now(),
    ))
    .unwrap();
    let elsewhere = shared::admin::Principal {
        token_id: "other".into(),
        name: "别的大厅".into(),
        roles: vec![shared::admin::Role::HallStaff],
    };
    block_on(db.batch(&shared::admin::grant_halls_stmts("other", &["H2"]))).unwrap();
    let act = shared::admin::Act { who: &elsewhere, now: t("2026-11-24T08:20:00+08:00"), request_id: "r" };
    let err = block_on(book::check_in(&db, &act, &a.id, &a.checkin_code)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "the right code does not help another hall's staff");
    let r = block_on(hall::resource(&db, "W1")).unwrap();
    let body = resources::ResourceBody {
        hall_id: "H1".into(),
        kind: "window".into(),
        name: "改名".into(),
        items: r.items.clone(),
        rules: r.rules.clone(),
    };
    let err = block_on(resources::put_resource(&db, &act, "W1", &body)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
}

#[test]
fn only_a_calendar_admin_changes_the_city_calendar() {
    let db = db_with_window(5);
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let clerk = staff_act(now());
    let err = block_on(resources::set_day(&db, &clerk, day, Some((DayKind::Holiday, "假日")))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "a hall's staff move every complaint deadline no more");
    let admin = shared::admin::Principal {
        token_id: "cal".into(),
        name: "日历".into(),
        roles: vec![shared::admin::Role::CalendarAdmin],
    };
    let act = shared::admin::Act { who: &admin, now: now(), request_id: "r" };
    block_on(resources::set_day(&db, &act, day, Some((DayKind::Holiday, "假日")))).unwrap();
}
