//! Attacks on complaint records (issue 15, items 1, 2 and 10), natively on
//! SQLite with the production migrations: each test is the attack, named
//! after it, and asserts the attack fails.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use complaint::faq;
use complaint::open311::{self, Filter};
use complaint::record;
use complaint::step::Step;
use complaint::submission::Submission;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::runtime::OsRandom;
use shared::store::{Db, Row, SqliteDb, Stmt, Value};
use shared::types::{BeijingTime, MobileNumber};

fn now() -> BeijingTime {
    shared::testing::at("2026-09-25T10:00:00+08:00")
}

fn sub(kind: &str) -> Submission {
    serde_json::from_value(serde_json::json!({
        "kind": kind, "category": "供水", "subject": "某营业厅", "content": "窗口人员态度差，办理水表过户时多次让我补材料。",
    }))
    .unwrap()
}

fn handler() -> Principal {
    Principal { token_id: "h".into(), name: "热线".into(), roles: vec![Role::ComplaintDispatcher] }
}

// ---- item 2: an Idempotency-Key must not replay a record without the code ----

const PHONE: &str = "13600001234";

fn pepper() -> Pepper {
    Pepper::new("attack-test-pepper")
}

/// A code sent to `PHONE` (as `POST /v1/auth/sms-code` would store it).
fn send_code(db: &SqliteDb, id: &str, code: &str) {
    let phone = MobileNumber::parse(PHONE).unwrap();
    let p = pepper();
    block_on(db.execute(
        "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            id.into(),
            p.phone_hash(&phone).into(),
            p.code_hash(&phone, code).into(),
            now().to_rfc3339().into(),
            "2026-09-25T10:05:00+08:00".into(),
        ],
    ))
    .unwrap();
}

fn by_phone(db: &SqliteDb, code: &str, key: &str) -> shared::ApiResult<(record::Record, bool)> {
    let s = Submission { phone: Some(PHONE.into()), sms_code: Some(code.into()), ..sub("complaint") };
    block_on(record::submit_by_phone(db, &OsRandom, &pepper(), &s, Some(key), |_| None, now()))
}

#[test]
fn a_known_idempotency_key_with_a_wrong_sms_code_does_not_replay_the_record() {
    let db = shared::testing::db_with_citizens(&[]);
    send_code(&db, "c1", "123456");
    let (first, replayed) = by_phone(&db, "123456", "anon-1").unwrap();
    assert!(!replayed);
    // The attacker knows the phone and the key, not the code.
    for guess in ["000000", "654321", "123457"] {
        let err = by_phone(&db, guess, "anon-1").unwrap_err();
        assert_eq!(err.code, ErrorCode::SmsCodeInvalid, "{guess}: {err:?}");
    }
    // The author's retry with the code that created it (already spent) still replays.
    let (again, replayed) = by_phone(&db, "123456", "anon-1").unwrap();
    assert!(replayed);
    assert_eq!(again.number, first.number);
}

#[test]
fn guessing_the_code_of_an_idempotent_record_gets_a_few_tries_ever() {
    let db = shared::testing::db_with_citizens(&[]);
    send_code(&db, "c1", "123456");
    let (first, _) = by_phone(&db, "123456", "anon-2").unwrap();
    let mut replayed = 0;
    for guess in 0..1_000 {
        if by_phone(&db, &format!("{guess:06}"), "anon-2").is_ok() {
            replayed += 1;
        }
    }
    assert_eq!(replayed, 0, "no guess among 000000-000999 replays the record");
    // Even the right (spent) code no longer replays once the tries are used:
    // the author asks for a fresh code, which proves the phone again.
    assert_eq!(by_phone(&db, "123456", "anon-2").unwrap_err().code, ErrorCode::SmsCodeInvalid);
    send_code(&db, "c2", "222222");
    let (again, replayed) = by_phone(&db, "222222", "anon-2").unwrap();
    assert!(replayed);
    assert_eq!(again.number, first.number);
}

// ---- item 1: complaint records readable by anyone ----

#[test]
fn open311_does_not_list_a_mini_program_complaint_or_a_handler_s_note() {
    let db = shared::testing::db_with_citizens(&["a"]);
    let (mine, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let all = block_on(open311::list(&db, &Filter::default(), now())).unwrap();
    assert!(all.iter().all(|r| r.service_request_id != mine.number), "listed: {all:?}");
    assert_eq!(block_on(open311::one(&db, &mine.number, now())).unwrap_err().code, ErrorCode::NotFound);
    let asked = Filter { ids: vec![mine.number.clone()], ..Filter::default() };
    assert!(block_on(open311::list(&db, &asked, now())).unwrap().is_empty(), "not even by its number");
    // Its author may choose to make it public.
    let shown = Submission { public: true, ..sub("suggestion") };
    let (open, _) = block_on(record::submit(&db, &OsRandom, "a", &shown, None, |_| None, now())).unwrap();
    let all = block_on(open311::list(&db, &Filter::default(), now())).unwrap();
    assert_eq!(all.iter().map(|r| r.service_request_id.as_str()).collect::<Vec<_>>(), [open.number.as_str()]);
    assert_eq!(all[0].status_notes.as_deref(), Some("已受理"));
}

#[test]
fn open311_status_notes_are_a_standard_phrase_never_the_handler_s_text() {
    let db = shared::testing::db_with_citizens(&[]);
    let form: Vec<(String, String)> =
        [("service_code", "road"), ("lat", "29.3"), ("long", "120.1"), ("description", "宾王路路灯不亮")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    let made = block_on(open311::create(&db, &OsRandom, "app1", &form, |_| None, now())).unwrap();
    let n = made.service_request_id;
    let who = handler();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let steps = [
        (Step::Assign { department: "市政园林局王五科长".into() }, "已转交承办部门"),
        (Step::Refer { unit: "路灯所".into(), reason: "王五说这归路灯所管".into() }, "已转办"),
        (Step::Reply { text: "已联系王五，他住宾王路8号".into() }, "已答复"),
        (Step::Close { result: "王五已修好".into() }, "已办结"),
    ];
    assert_eq!(block_on(open311::one(&db, &n, now())).unwrap().status_notes.as_deref(), Some("已受理"));
    for (step, phrase) in &steps {
        block_on(complaint::handling::act_on(&db, &OsRandom, &act, &n, step)).unwrap();
        let read = block_on(open311::one(&db, &n, now())).unwrap();
        assert_eq!(read.status_notes.as_deref(), Some(*phrase));
    }
}

#[test]
fn walking_the_last_four_digits_of_a_number_from_any_number_of_addresses_is_refused_after_five_wrong_tries() {
    let db = shared::testing::db_with_citizens(&["a"]);
    block_on(db.execute("UPDATE citizens SET phone = '13600009999' WHERE id = 'a'", &[])).unwrap();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    // Each guess may come from a new address: nothing here knows the address.
    let (mut found, mut not_found, mut limited) = (0, 0, 0);
    for guess in 0..10_000 {
        match block_on(record::by_last4(&db, &r.number, &format!("{guess:04}"), now())) {
            Ok(_) => found += 1,
            Err(e) if e.code == ErrorCode::NotFound => not_found += 1,
            Err(e) if e.code == ErrorCode::RateLimited => limited += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((found, not_found, limited), (0, 5, 9_995), "9999 is the last guess, long after the lock");
}

// ---- item 10: text parameters never make the database refuse ----

/// SQLite with D1's limits: D1 refuses a LIKE or GLOB pattern over 50
/// bytes ("LIKE or GLOB pattern too complex") and more than 100 bound
/// parameters; native SQLite allows 50,000 bytes.
struct D1Limits(SqliteDb);

fn d1_check(sql: &str, params: &[Value]) -> shared::ApiResult<()> {
    let upper = sql.to_ascii_uppercase();
    let like = upper.contains(" LIKE ") || upper.contains(" GLOB ");
    let long = params.iter().any(|p| matches!(p, Value::Text(t) if t.len() > 50));
    if (like && long) || params.len() > 100 {
        return Err(shared::ApiError::internal("D1_ERROR: LIKE or GLOB pattern too complex: SQLITE_ERROR"));
    }
    Ok(())
}

impl Db for D1Limits {
    async fn query(&self, sql: &str, params: &[Value]) -> shared::ApiResult<Vec<Row>> {
        d1_check(sql, params)?;
        self.0.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
        for s in stmts {
            d1_check(&s.sql, &s.params)?;
        }
        self.0.batch(stmts).await
    }
}

/// Texts of 1-2,000 characters: Chinese, emoji, control characters, SQL
/// and LIKE metacharacters.
fn hostile_texts() -> Vec<String> {
    let pieces =
        ["水表过户需要哪些材料", "😀🚰💧", "\u{0}\u{1}\u{7}\u{1b}\t\r\n", "%_\\'\";--/*", "' OR 1=1 --", "[a-z]*?"];
    let mut out = Vec::new();
    for p in pieces {
        for n in [1, 2, 17, 30, 31, 100, 2_000] {
            let s: String = p.chars().cycle().take(n).collect();
            out.push(s.clone());
            // And as many words.
            out.push(
                s.chars()
                    .collect::<Vec<_>>()
                    .chunks(3)
                    .map(|c| c.iter().collect::<String>())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    out.push("水表过户需要哪些材料我家住在宾王路想问一下要带身份证还是户口本谢谢".into());
    out
}

#[test]
fn a_long_chinese_sentence_or_any_hostile_text_never_breaks_the_faq_search() {
    let db = D1Limits(shared::testing::db_with_citizens(&["a"]));
    let (c, _) = block_on(record::submit(&db.0, &OsRandom, "a", &sub("consultation"), None, |_| None, now())).unwrap();
    block_on(db.0.execute("UPDATE complaints SET status = 'replied' WHERE number = ?1", &[c.number.as_str().into()]))
        .unwrap();
    let who = handler();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let input = faq::FaqInput {
        question: "水表过户需要哪些材料？".into(),
        answer: "带身份证和房产证到营业厅办理。".into(),
    };
    block_on(faq::publish(&db.0, &OsRandom, &act, &c.number, &input)).unwrap();
    for text in hostile_texts() {
        for (q, category) in
            [(Some(text.as_str()), None), (None, Some(text.as_str())), (Some(text.as_str()), Some("供水"))]
        {
            match block_on(faq::search(&db, q, category)) {
                Ok(_) => {}
                Err(e) => assert!(e.status() < 500, "{q:?} {category:?}: {e:?}"),
            }
        }
    }
    // A whole question still finds its entry; metacharacters are literal.
    assert_eq!(block_on(faq::search(&db, Some("水表过户需要哪些材料"), None)).unwrap().len(), 1);
    assert_eq!(block_on(faq::search(&db, Some("过户 材料"), None)).unwrap().len(), 1);
    assert!(block_on(faq::search(&db, Some("%"), None)).unwrap().is_empty());
    assert!(block_on(faq::search(&db, Some("_"), None)).unwrap().is_empty());
}

#[test]
fn the_right_digits_cost_no_try_but_a_locked_number_refuses_them_until_the_next_day() {
    let db = shared::testing::db_with_citizens(&["a"]);
    block_on(db.execute("UPDATE citizens SET phone = '13600001234' WHERE id = 'a'", &[])).unwrap();
    let (r, _) = block_on(record::submit(&db, &OsRandom, "a", &sub("complaint"), None, |_| None, now())).unwrap();
    let look = |digits: &str, at: BeijingTime| block_on(record::by_last4(&db, &r.number, digits, at)).map(|_| ());
    for _ in 0..20 {
        look("1234", now()).unwrap();
    }
    for _ in 0..4 {
        assert_eq!(look("0000", now()).unwrap_err().code, ErrorCode::NotFound);
    }
    look("1234", now()).unwrap();
    assert_eq!(look("0000", now()).unwrap_err().code, ErrorCode::NotFound, "the fifth wrong try");
    let locked = look("1234", now()).unwrap_err();
    assert_eq!((locked.status(), locked.code), (429, ErrorCode::RateLimited));
    assert!(locked.message.as_deref().unwrap().contains("明天"), "{locked:?}");
    // An unknown number (valid check character) answers the same way.
    let other = complaint::number::generate(&OsRandom, now().date()).unwrap();
    let unknown: Vec<u16> =
        (0..7).map(|_| block_on(record::by_last4(&db, &other, "1234", now())).unwrap_err().status()).collect();
    assert_eq!(unknown, [404, 404, 404, 404, 404, 429, 429]);
    // The next Beijing day the author gets in again; the sweep forgets old counts.
    let tomorrow = shared::testing::at("2026-09-26T00:00:01+08:00");
    look("1234", tomorrow).unwrap();
    block_on(complaint::handling::sweep(&db, tomorrow)).unwrap();
    let left = block_on(db.query("SELECT day FROM complaint_lookup_misses", &[])).unwrap();
    assert!(left.iter().all(|row| row["day"] == "2026-09-26"), "{left:?}");
}
