//! Complaints natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use complaint::record;
use complaint::submission::Submission;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::types::BeijingTime;

/// Friday 2026-09-25, 10:00 in Beijing.
fn now() -> BeijingTime {
    shared::testing::at("2026-09-25T10:00:00+08:00")
}

fn db() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a", "b"]);
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
        public: false,
        phone: None,
        sms_code: None,
        photos: Vec::new(),
    }
}

#[test]
fn a_complaint_gets_a_number_a_deadline_over_the_holidays_and_a_receipt() {
    let db = db();
    let (r, replay) =
        block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), Some("k1"), |_| None, now())).unwrap();
    assert!(!replay);
    assert!(complaint::number::parse(&r.number).is_some());
    // 10 working days from Friday 25 September: 27, 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14 Oct.
    assert_eq!(r.deadline, "2026-10-14");
    assert!(!r.content.contains('\u{0007}'), "control characters are dropped");
    let (again, replay) =
        block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), Some("k1"), |_| None, now())).unwrap();
    assert!(replay);
    assert_eq!(again.number, r.number);
    let inbox = block_on(db.query("SELECT body FROM messages WHERE citizen_id = 'a'", &[])).unwrap();
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0]["body"].as_str().unwrap().contains(&r.number));
    let consult = block_on(record::submit(
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
        public: false,
        phone: None,
        sms_code: None,
        photos: Vec::new(),
    };
    let err = block_on(record::submit(&db, &OsRandom, "a", &bad, None, |_| None, now())).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["kind", "category", "content"]);
    let mut no_subject = sub("report");
    no_subject.subject = String::new();
    let err = block_on(record::submit(&db, &OsRandom, "a", &no_subject, None, |_| None, now())).unwrap_err();
    assert_eq!(err.fields[0].field, "subject");
}

#[test]
fn the_public_view_has_no_content_or_identity_and_only_the_author_sees_the_record() {
    let db = db();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let public = block_on(record::public_view(&db, &r.number.to_ascii_lowercase())).unwrap();
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains("态度差") && !text.contains("某营业厅") && !text.contains("\"a\""), "{text}");
    assert_eq!(public.timeline.len(), 1);
    assert_eq!(block_on(record::mine(&db, "b", &r.number)).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(block_on(record::mine(&db, "a", &r.number)).unwrap().subject, "某营业厅");
    let mut typo = r.number.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'0' { b'1' } else { b'0' };
    let err = block_on(record::public_view(&db, std::str::from_utf8(&typo).unwrap())).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest, "a mistyped number is caught by its check character");
}

fn handler() -> shared::admin::Principal {
    shared::admin::Principal {
        token_id: "h".into(),
        name: "热线".into(),
        roles: vec![shared::admin::Role::ComplaintDispatcher],
    }
}

#[test]
fn a_case_is_assigned_replied_extended_once_and_closed_with_a_notice_at_each_step() {
    use complaint::{handling, step::Step};
    let db = db();
    block_on(db.execute("UPDATE citizens SET phone = '13912345678' WHERE id = 'a'", &[])).unwrap();
    let mut named = sub("complaint");
    named.anonymous = false;
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &named, None, |_| None, now())).unwrap();
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
    assert_eq!(c.record.status, complaint::status::Status::Closed);
    assert_eq!(c.record.deadline, "2026-10-21", "14 October + 5 working days");
    let again =
        block_on(handling::act_on(&db, &OsRandom, &act, &r.number, &Step::Extend { days: 1, reason: "再延".into() }));
    assert_eq!(again.unwrap_err().code, ErrorCode::Conflict);
    let public = block_on(record::public_view(&db, &r.number)).unwrap();
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
    use complaint::{handling, step::Step};
    let db = db();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
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
    let rows = block_on(handling::list(&db, &act, &complaint::scope::Scope::City, &Default::default())).unwrap();
    assert_eq!(rows.len(), 1);
    let overdue = complaint::queue::Filter { overdue: true, ..Default::default() };
    let later = shared::admin::Act { now: shared::testing::at("2026-11-01T10:00:00+08:00"), ..act };
    let late = block_on(handling::list(&db, &later, &complaint::scope::Scope::City, &overdue)).unwrap();
    assert!(late[0].overdue);
}

#[test]
fn the_queue_narrows_by_kind_department_and_words_of_the_number_subject_or_category() {
    use complaint::queue::Filter;
    use complaint::{handling, kind::Kind, scope::Scope, step::Step};
    let db = db();
    let (c, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let (q, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("consultation"), None, |_| None, now())).unwrap();
    let hotline = shared::admin::Principal {
        token_id: "d".into(),
        name: "d".into(),
        roles: vec![shared::admin::Role::ComplaintDispatcher],
    };
    let act = shared::admin::Act { who: &hotline, now: now(), request_id: "r" };
    block_on(handling::act_on(&db, &OsRandom, &act, &c.number, &Step::Assign { department: "供水公司".into() }))
        .unwrap();
    let found = |f: Filter| -> Vec<String> {
        block_on(handling::list(&db, &act, &Scope::City, &f)).unwrap().into_iter().map(|r| r.number).collect()
    };
    assert_eq!(found(Filter { kind: Some(Kind::Consultation), ..Filter::default() }), std::slice::from_ref(&q.number));
    assert_eq!(
        found(Filter { department: Some("供水公司".into()), ..Filter::default() }),
        std::slice::from_ref(&c.number)
    );
    assert!(
        found(Filter { department: Some("供水".into()), ..Filter::default() }).is_empty(),
        "departments match exactly"
    );
    let lower = c.number.to_lowercase();
    assert_eq!(found(Filter { text: Some(lower[8..].into()), ..Filter::default() }), std::slice::from_ref(&c.number));
    assert_eq!(found(Filter { text: Some("营业厅".into()), ..Filter::default() }).len(), 2);
    assert!(found(Filter { text: Some("%".into()), ..Filter::default() }).is_empty(), "no wildcard");
}

#[test]
fn the_sweep_marks_overdue_once_and_statistics_report_the_on_time_rate() {
    use complaint::{handling, step::Step};
    let db = db();
    let who = handler();
    let act = shared::admin::Act { who: &who, now: now(), request_id: "r" };
    let (a, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let (b, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("consultation"), None, |_| None, now())).unwrap();
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

// ---- lookups by the phone's last digits, Open311, the FAQ ----

use complaint::faq::{self, FaqInput};
use complaint::open311::{self, Filter};
use shared::admin::{Act, Principal, Role};

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn the_full_record_needs_the_number_and_the_phone_s_last_four_digits() {
    let db = db();
    block_on(db.execute("UPDATE citizens SET phone = '13600001234' WHERE id = 'a'", &[])).unwrap();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    assert_eq!(block_on(record::by_last4(&db, &r.number, "1234", now())).unwrap().content, r.content);
    assert_eq!(block_on(record::by_last4(&db, &r.number, "4321", now())).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(block_on(record::by_last4(&db, &r.number, "12a4", now())).unwrap_err().code, ErrorCode::BadRequest);
    // b has no phone: no digits match.
    let (rb, _) = block_on(record::submit(&db, &OsRandom, "b", &sub("complaint"), None, |_| None, now())).unwrap();
    assert_eq!(block_on(record::by_last4(&db, &rb.number, "0000", now())).unwrap_err().code, ErrorCode::NotFound);
}

#[test]
fn open311_requests_become_complaints_and_read_back_without_personal_data() {
    let db = db();
    assert_eq!(open311::client("app1:k1,app2:k2", "k2").as_deref(), Some("app2"));
    assert_eq!(open311::client("app1:k1,app2:", ""), None);
    let bad = open311::submission(&form(&[("service_code", "road"), ("description", "路灯不亮已经一周")])).unwrap_err();
    assert_eq!(bad[0].field, "lat");
    assert!(open311::submission(&form(&[("service_code", "nope"), ("lat", "1"), ("long", "2")])).is_err());
    let f = form(&[
        ("api_key", "k1"),
        ("service_code", "road"),
        ("lat", "29.306912"),
        ("long", "120.075133"),
        ("description", "宾王路路灯不亮，我是张三丰，电话13812345678"),
        ("first_name", "三丰"),
        ("phone", "13812345678"),
    ]);
    let made = block_on(open311::create(&db, &OsRandom, "app1", &f, |_| None, now())).unwrap();
    let stored = block_on(db.query("SELECT citizen_id, kind, category, content FROM complaints", &[])).unwrap();
    assert_eq!(stored[0]["citizen_id"], "cit_open311_app1");
    assert_eq!(stored[0]["category"], "道路设施");
    let read = block_on(open311::one(&db, &made.service_request_id, now())).unwrap();
    assert_eq!(
        (read.status.as_str(), read.service_code.as_str(), read.lat, read.long),
        ("open", "road", Some(29.307), Some(120.075))
    );
    let text = serde_json::to_string(&read).unwrap();
    assert!(!text.contains("13812345678") && !text.contains("张三丰") && !text.contains("三丰"), "{text}");
    assert_eq!(read.expected_datetime.as_deref(), Some(format!("{}T23:59:59+08:00", stored_deadline(&db)).as_str()));
    // 举报 never appear; the filters narrow.
    let (rep, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("report"), None, |_| None, now())).unwrap();
    assert_eq!(block_on(open311::one(&db, &rep.number, now())).unwrap_err().code, ErrorCode::NotFound);
    let all = block_on(open311::list(&db, &Filter::default(), now())).unwrap();
    assert_eq!(all.len(), 1);
    let closed = Filter { status: Some("closed".into()), ..Filter::default() };
    assert!(block_on(open311::list(&db, &closed, now())).unwrap().is_empty());
    let other = Filter { service_code: Some("noise".into()), ..Filter::default() };
    assert!(block_on(open311::list(&db, &other, now())).unwrap().is_empty());
}

fn stored_deadline(db: &SqliteDb) -> String {
    block_on(db.query("SELECT deadline FROM complaints", &[])).unwrap()[0]["deadline"].as_str().unwrap().to_owned()
}

#[test]
fn only_answered_consultations_become_faq_entries_once_and_search_finds_them() {
    let db = db();
    let who = Principal { token_id: "h".into(), name: "热线".into(), roles: vec![Role::ComplaintDispatcher] };
    let act = Act { who: &who, now: now(), request_id: "r" };
    let (c, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("consultation"), None, |_| None, now())).unwrap();
    let input = FaqInput {
        question: "水表过户需要哪些材料？".into(),
        answer: "带身份证和房产证到营业厅办理，咨询13800001111。".into(),
    };
    assert_eq!(
        block_on(faq::publish(&db, &OsRandom, &act, &c.number, &input)).unwrap_err().code,
        ErrorCode::Conflict,
        "not answered yet"
    );
    block_on(db.execute("UPDATE complaints SET status = 'replied' WHERE number = ?1", &[c.number.as_str().into()]))
        .unwrap();
    let f = block_on(faq::publish(&db, &OsRandom, &act, &c.number, &input)).unwrap();
    assert!(!f.answer.contains("13800001111"), "phone numbers are masked: {}", f.answer);
    assert_eq!(block_on(faq::publish(&db, &OsRandom, &act, &c.number, &input)).unwrap_err().code, ErrorCode::Conflict);
    let (k, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    block_on(db.execute("UPDATE complaints SET status = 'closed' WHERE number = ?1", &[k.number.as_str().into()]))
        .unwrap();
    assert_eq!(
        block_on(faq::publish(&db, &OsRandom, &act, &k.number, &input)).unwrap_err().code,
        ErrorCode::Conflict,
        "a complaint is not a consultation"
    );
    assert_eq!(block_on(faq::search(&db, Some("过户 材料"), None)).unwrap().len(), 1);
    assert!(block_on(faq::search(&db, Some("过户 发票"), None)).unwrap().is_empty());
    assert!(block_on(faq::search(&db, Some("%"), None)).unwrap().is_empty(), "LIKE wildcards are literal");
    assert_eq!(block_on(faq::search(&db, None, Some("供水"))).unwrap().len(), 1);
}

#[test]
fn photos_must_be_the_author_s_fresh_images_and_only_handlers_see_them() {
    use shared::store::MemoryKv;
    use shared::uploads;
    let (db, kv) = (db(), MemoryKv::default());
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR....";
    const PDF: &[u8] = b"%PDF-1.7\n....";
    let store = |who: &str, ctype: &str, bytes: &[u8]| {
        block_on(uploads::store(&db, &kv, &OsRandom, who, ctype, bytes, uploads::IMAGES, now()))
    };
    assert_eq!(store("a", "application/pdf", PDF).unwrap_err().code, ErrorCode::UploadInvalid, "images only");
    let mine = store("a", "image/png", PNG).unwrap();
    let theirs = store("b", "image/png", PNG).unwrap();
    let with = |photos: Vec<String>| Submission { photos, ..sub("complaint") };
    let err = block_on(record::submit(&db, &OsRandom, "a", &with(vec![theirs.id.clone()]), None, |_| None, now()))
        .unwrap_err();
    assert_eq!(err.fields[0].field, "photos");
    let too_many = with(vec![mine.id.clone(); 5]);
    assert_eq!(
        block_on(record::submit(&db, &OsRandom, "a", &too_many, None, |_| None, now())).unwrap_err().code,
        ErrorCode::ValidationFailed
    );
    let (r, _) =
        block_on(record::submit(&db, &OsRandom, "a", &with(vec![mine.id.clone()]), None, |_| None, now())).unwrap();
    assert_eq!(block_on(record::photos(&db, &r.number)).unwrap(), std::slice::from_ref(&mine.id));
    let again =
        block_on(record::submit(&db, &OsRandom, "a", &with(vec![mine.id.clone()]), None, |_| None, now())).unwrap_err();
    assert_eq!(again.fields[0].field, "photos", "a photo serves one submission");
    let (ctype, bytes) = block_on(uploads::read(&db, &kv, &mine.id)).unwrap();
    assert_eq!((ctype.as_str(), bytes.as_slice()), ("image/png", PNG));
}

#[test]
fn a_handler_reading_a_case_leaves_an_access_row_for_the_auditors() {
    use complaint::handling;
    let db = db();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let who = handler();
    let act = shared::admin::Act { who: &who, now: now(), request_id: "r-read" };
    block_on(handling::case(&db, &act, &r.number)).unwrap();
    let rows = block_on(db.query(
        "SELECT actor_id, target FROM audit_log WHERE action = 'access.complaint.case' AND request_id = 'r-read'",
        &[],
    ))
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["target"], r.number.as_str());
}
