//! Complaints natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use shared::ErrorCode;
use shared::complaint::{self, Submission};
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::types::BeijingTime;

/// Friday 2026-09-25, 10:00 in Beijing.
fn now() -> BeijingTime {
    BeijingTime::parse("2026-09-25T10:00:00+08:00").unwrap()
}

fn db() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    for c in ["a", "b"] {
        block_on(db.execute("INSERT INTO citizens (id, created_at, updated_at) VALUES (?1, 'x', 'x')", &[c.into()]))
            .unwrap();
    }
    // 国庆 2026: 1-7 October off; Sunday 27 September and Saturday 10 October worked.
    for d in 1..=7 {
        block_on(db.execute(
            "INSERT INTO appt_calendar (day, kind, name) VALUES (?1, 'holiday', '国庆节')",
            &[format!("2026-10-0{d}").into()],
        ))
        .unwrap();
    }
    for d in ["2026-09-27", "2026-10-10"] {
        block_on(db.execute("INSERT INTO appt_calendar (day, kind, name) VALUES (?1, 'workday', '调休')", &[d.into()]))
            .unwrap();
    }
    db
}

fn sub(kind: &str) -> Submission {
    Submission {
        kind: kind.into(),
        category: "供水".into(),
        subject: "某营业厅".into(),
        content: "窗口人员态度差，办理水表过户时多次让我补材料。\u{0007}".into(),
        location: None,
        anonymous: true,
    }
}

#[test]
fn a_complaint_gets_a_number_a_deadline_over_the_holidays_and_a_receipt() {
    let db = db();
    let (r, replay) =
        block_on(complaint::submit(&db, &OsRandom, "a", &sub("complaint"), Some("k1"), |_| None, now())).unwrap();
    assert!(!replay);
    assert!(complaint::number::parse(&r.number).is_some());
    // 10 working days from Friday 25 September: 27, 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14 Oct.
    assert_eq!(r.deadline, "2026-10-14");
    assert!(!r.content.contains('\u{0007}'), "control characters are dropped");
    let (again, replay) =
        block_on(complaint::submit(&db, &OsRandom, "a", &sub("complaint"), Some("k1"), |_| None, now())).unwrap();
    assert!(replay);
    assert_eq!(again.number, r.number);
    let inbox = block_on(db.query("SELECT body FROM messages WHERE citizen_id = 'a'", &[])).unwrap();
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0]["body"].as_str().unwrap().contains(&r.number));
    let consult = block_on(complaint::submit(
        &db,
        &OsRandom,
        "a",
        &sub("consultation"),
        None,
        |k| (k == "consultation").then_some(2),
        now(),
    ))
    .unwrap()
    .0;
    assert_eq!(consult.deadline, "2026-09-28", "2 working days: the make-up Sunday counts");
}

#[test]
fn bad_submissions_list_every_problem() {
    let db = db();
    let bad = Submission {
        kind: "rant".into(),
        category: String::new(),
        subject: String::new(),
        content: "短".into(),
        location: None,
        anonymous: false,
    };
    let err = block_on(complaint::submit(&db, &OsRandom, "a", &bad, None, |_| None, now())).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["kind", "category", "content"]);
    let mut no_subject = sub("report");
    no_subject.subject = String::new();
    let err = block_on(complaint::submit(&db, &OsRandom, "a", &no_subject, None, |_| None, now())).unwrap_err();
    assert_eq!(err.fields[0].field, "subject");
}

#[test]
fn the_public_view_has_no_content_or_identity_and_only_the_author_sees_the_record() {
    let db = db();
    let (r, _) = block_on(complaint::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let public = block_on(complaint::public_view(&db, &r.number.to_ascii_lowercase())).unwrap();
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains("态度差") && !text.contains("某营业厅") && !text.contains("\"a\""), "{text}");
    assert_eq!(public.timeline.len(), 1);
    assert_eq!(block_on(complaint::mine(&db, "b", &r.number)).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(block_on(complaint::mine(&db, "a", &r.number)).unwrap().subject, "某营业厅");
    let mut typo = r.number.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'0' { b'1' } else { b'0' };
    let err = block_on(complaint::public_view(&db, std::str::from_utf8(&typo).unwrap())).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest, "a mistyped number is caught by its check character");
}

fn handler() -> shared::admin::Principal {
    shared::admin::Principal {
        token_id: "h".into(),
        name: "热线".into(),
        roles: vec![shared::admin::Role::ComplaintHandler],
    }
}

#[test]
fn a_case_is_assigned_replied_extended_once_and_closed_with_a_notice_at_each_step() {
    use shared::complaint::handling::{self, Step};
    let db = db();
    block_on(db.execute("UPDATE citizens SET phone = '13912345678' WHERE id = 'a'", &[])).unwrap();
    let mut named = sub("complaint");
    named.anonymous = false;
    let (r, _) = block_on(complaint::submit(&db, &OsRandom, "a", &named, None, |_| None, now())).unwrap();
    let who = handler();
    let act = shared::admin::Act { who: &who, now: now(), request_id: "r" };
    let c = block_on(handling::case(&db, &act, &r.number)).unwrap();
    assert_eq!(c.contact, "139****5678", "a named complainant's phone is shown masked");
    let steps = [
        Step::Assign { department: "供水公司客服部".into() },
        Step::Extend { days: 5, reason: "需现场核实".into() },
        Step::Reply { text: "经核实已整改，如有疑问请致电13800001111。".into() },
        Step::Close { result: "已整改".into() },
    ];
    for s in &steps {
        block_on(handling::act_on(&db, &OsRandom, &act, &r.number, s)).unwrap();
    }
    let c = block_on(handling::case(&db, &act, &r.number)).unwrap();
    assert_eq!(c.record.status, "closed");
    assert_eq!(c.record.deadline, "2026-10-21", "14 October + 5 working days");
    let again =
        block_on(handling::act_on(&db, &OsRandom, &act, &r.number, &Step::Extend { days: 1, reason: "再延".into() }));
    assert_eq!(again.unwrap_err().code, ErrorCode::Conflict);
    let public = block_on(complaint::public_view(&db, &r.number)).unwrap();
    let notes: Vec<&str> = public.timeline.iter().map(|s| s.note.as_str()).collect();
    assert_eq!(notes.len(), 5);
    assert!(!notes.iter().any(|n| n.contains("13800001111")), "phone numbers in a reply are masked: {notes:?}");
    let inbox = block_on(db.query("SELECT count(*) AS n FROM messages WHERE citizen_id = 'a'", &[])).unwrap();
    assert_eq!(inbox[0]["n"], 5, "receipt plus one notice per step");
    assert_eq!(block_on(handling::rate(&db, "b", &r.number, 5, "", now())).unwrap_err().code, ErrorCode::NotFound);
    block_on(handling::rate(&db, "a", &r.number, 4, "满意", now())).unwrap();
    assert_eq!(block_on(handling::rate(&db, "a", &r.number, 5, "", now())).unwrap_err().code, ErrorCode::Conflict);
}

#[test]
fn anonymous_complainants_stay_anonymous_to_staff_and_only_handlers_act() {
    use shared::complaint::handling::{self, Step};
    let db = db();
    let (r, _) = block_on(complaint::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let who = handler();
    let act = shared::admin::Act { who: &who, now: now(), request_id: "r" };
    assert_eq!(block_on(handling::case(&db, &act, &r.number)).unwrap().contact, "匿名");
    let clerk = shared::admin::Principal {
        token_id: "c".into(),
        name: "c".into(),
        roles: vec![shared::admin::Role::HallStaff],
    };
    let act = shared::admin::Act { who: &clerk, now: now(), request_id: "r" };
    let denied = block_on(handling::act_on(&db, &OsRandom, &act, &r.number, &Step::Close { result: "x".into() }));
    assert_eq!(denied.unwrap_err().code, ErrorCode::Forbidden);
    let rows = block_on(handling::list(&db, None, false, now())).unwrap();
    assert_eq!(rows.len(), 1);
    let late =
        block_on(handling::list(&db, None, true, BeijingTime::parse("2026-11-01T10:00:00+08:00").unwrap())).unwrap();
    assert!(late[0].overdue);
}

#[test]
fn lookups_are_limited_per_client_and_minute() {
    let db = db();
    for _ in 0..complaint::MAX_LOOKUPS_PER_MINUTE {
        block_on(complaint::count_lookup(&db, "ip1", now())).unwrap();
    }
    assert_eq!(block_on(complaint::count_lookup(&db, "ip1", now())).unwrap_err().code, ErrorCode::RateLimited);
    block_on(complaint::count_lookup(&db, "ip2", now())).unwrap();
    let next_minute = BeijingTime::parse("2026-09-25T10:01:00+08:00").unwrap();
    block_on(complaint::count_lookup(&db, "ip1", next_minute)).unwrap();
}

#[test]
fn the_sweep_marks_overdue_once_and_statistics_report_the_on_time_rate() {
    use shared::complaint::handling::{self, Step};
    let db = db();
    let who = handler();
    let act = shared::admin::Act { who: &who, now: now(), request_id: "r" };
    let (a, _) = block_on(complaint::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let (b, _) = block_on(complaint::submit(&db, &OsRandom, "a", &sub("consultation"), None, |_| None, now())).unwrap();
    block_on(handling::act_on(&db, &OsRandom, &act, &a.number, &Step::Assign { department: "客服部".into() })).unwrap();
    block_on(handling::act_on(&db, &OsRandom, &act, &a.number, &Step::Close { result: "已处理".into() })).unwrap();
    // The consultation (due 2 October... 5 working days) is still open on 20 October.
    let later = BeijingTime::parse("2026-10-20T09:00:00+08:00").unwrap();
    let first = block_on(handling::sweep(&db, later)).unwrap();
    assert_eq!((first.overdue, first.warned), (1, 1));
    assert_eq!(block_on(handling::sweep(&db, later)).unwrap(), handling::Sweep::default(), "each mark once");
    block_on(complaint::handling::rate(&db, "a", &a.number, 4, "", now())).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let s = block_on(handling::stats(&db, d("2026-09-01"), d("2026-09-30"), later)).unwrap();
    assert_eq!((s.received, s.closed, s.closed_on_time, s.open_overdue, s.rated), (2, 1, 1, 1, 1));
    assert_eq!(s.on_time_rate, 1.0);
    assert_eq!(s.average_rating, Some(4.0));
    assert_eq!(s.by_kind.len(), 2);
    assert!(s.by_department.iter().any(|c| c.name == "客服部" && c.n == 1));
    assert!(s.by_department.iter().any(|c| c.name == "未分派" && c.n == 1));
    let empty = block_on(handling::stats(&db, d("2025-01-01"), d("2025-01-31"), later)).unwrap();
    assert_eq!((empty.received, empty.on_time_rate), (0, 1.0));
    let _ = b;
}
