//! Attacks on online applications (issue 17) natively on SQLite with the
//! production migrations: each test is an attack, named after what must
//! hold, and asserts that it fails. An attack that succeeds (a hole) stays
//! here `#[ignore]`d with the reason until its fix landed; all are fixed now.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use application::decide::{Correction, Delivery, Step};
use application::handling::{self, Scope};
use application::rating::{self, Rating};
use application::record::{self, Draft};
use application::situation::{GuideMaterial, GuideOption, GuideQuestion, Tree};
use application::status::Status;
use application::{filing, receipt};
use futures_executor::block_on;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::calendar::{self, Calendar};
use shared::runtime::OsRandom;
use shared::store::{Db, MemoryKv, Row, SqliteDb, Stmt, Value};
use shared::types::BeijingTime;
use std::cell::RefCell;

const WATER: &str = "义乌市供水有限公司";
const GAS: &str = "义乌市燃气有限公司";

/// Wednesday 2026-09-30, 10:00 in Beijing: the eve of 国庆.
fn now() -> BeijingTime {
    shared::testing::at("2026-09-30T10:00:00+08:00")
}

fn db() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["alice", "bob"]);
    for d in 1..=7 {
        block_on(db.execute(
            "INSERT INTO appt_calendar (day, kind, name) VALUES (?1, 'holiday', '国庆节')",
            &[format!("2026-10-0{d}").into()],
        ))
        .unwrap();
    }
    block_on(
        db.execute("INSERT INTO appt_calendar (day, kind, name) VALUES ('2026-10-10', 'workday', '国庆节调休')", &[]),
    )
    .unwrap();
    db
}

fn cal(db: &impl Db) -> Calendar {
    block_on(calendar::load(db, now().date(), now().date() + chrono::Days::new(800))).unwrap()
}

fn mat(name: &str) -> GuideMaterial {
    GuideMaterial { name: name.into(), required: true, note: Some("说明".into()) }
}

/// 水表过户: one question, two situations.
fn transfer() -> Tree {
    let option = |label: &str, mats: &[&str]| GuideOption {
        label: label.into(),
        next: None,
        item_code: Some("ITEM3".into()),
        materials: mats.iter().map(|m| (*m).into()).collect(),
    };
    Tree {
        item_code: "ITEM3".into(),
        item_name: "水表过户".into(),
        department: WATER.into(),
        online: true,
        promised_days: 3,
        materials: vec![mat("居民身份证"), mat("不动产权证书"), mat("授权委托书")],
        questions: vec![GuideQuestion {
            id: "who".into(),
            text: "谁来办理？".into(),
            options: vec![
                option("本人", &["居民身份证", "不动产权证书"]),
                option("代办", &["居民身份证", "不动产权证书", "授权委托书"]),
            ],
        }],
    }
}

fn handler(name: &str) -> Principal {
    Principal { token_id: format!("tok-{name}"), name: name.into(), roles: vec![Role::ApplicationHandler] }
}

fn water() -> Scope {
    Scope::Departments(vec![WATER.into()])
}

fn upload(db: &SqliteDb, kv: &MemoryKv, citizen: &str) -> String {
    block_on(shared::uploads::store(
        db,
        kv,
        &OsRandom,
        citizen,
        "application/pdf",
        b"%PDF-1.4 attack",
        shared::uploads::DOCUMENTS,
        now(),
    ))
    .unwrap()
    .id
}

fn draft_of(db: &impl Db, citizen: &str, tree: &Tree, who: &str) -> shared::ApiResult<record::Application> {
    let answers = if tree.questions.is_empty() { vec![] } else { vec![who.to_owned()] };
    let form = json!({"户号": "3301001", "联系地址": "稠城街道1号"});
    block_on(record::create(
        db,
        &OsRandom,
        citizen,
        &Draft { tree, answers: &answers, form: &form, bundle: None },
        now(),
    ))
}

fn draft(db: &SqliteDb, citizen: &str) -> record::Application {
    draft_of(db, citizen, &transfer(), "本人").unwrap()
}

/// A draft with all its materials, submitted.
fn submitted(db: &SqliteDb, kv: &MemoryKv, citizen: &str, tree: &Tree) -> record::Application {
    let a = draft_of(db, citizen, tree, "本人").unwrap();
    for m in &a.materials {
        block_on(filing::attach(db, citizen, &a.number, &m.name, &upload(db, kv, citizen), now())).unwrap();
    }
    block_on(filing::submit(db, &OsRandom, citizen, &a.number, now())).unwrap()
}

fn step_in(db: &impl Db, scope: &Scope, who: &Principal, n: &str, s: &Step) -> shared::ApiResult<record::Application> {
    let act = Act { who, now: now(), request_id: "req-attack" };
    block_on(handling::act_on(db, &OsRandom, &act, scope, n, s, &cal(db)))
}

fn step(db: &impl Db, n: &str, s: &Step) -> shared::ApiResult<record::Application> {
    step_in(db, &water(), &handler("张三"), n, s)
}

/// Submitted, accepted and completed by post.
fn completed(db: &SqliteDb, kv: &MemoryKv, citizen: &str) -> record::Application {
    let a = submitted(db, kv, citizen, &transfer());
    let a = step(db, &a.number, &Step::Accept { version: a.version }).unwrap();
    let post = Delivery::Post { carrier: "中国邮政EMS".into(), tracking: "1100123456789".into() };
    step(db, &a.number, &Step::Complete { version: a.version, delivery: post }).unwrap()
}

fn count(db: &impl Db, sql: &str, params: &[Value]) -> i64 {
    block_on(db.query(&format!("SELECT ({sql}) AS n"), params)).unwrap()[0]["n"].as_i64().unwrap()
}

fn notify(version: i64, material: &str) -> Step {
    Step::Notify {
        version,
        items: vec![Correction {
            material: Some(material.into()),
            field: None,
            note: "复印件不清晰，请重新拍照".into(),
        }],
    }
}

/// What another party does between our read and our write.
enum Race {
    Attach { citizen: String, number: String, material: String, upload: String },
    Submit { citizen: String, number: String },
    Notify { number: String, version: i64, material: String },
    Rate { citizen: String, number: String, grade: i64 },
    Create { citizen: String },
}

/// A database on which `race` happens just before our first write.
struct Racing {
    inner: SqliteDb,
    race: RefCell<Option<Race>>,
}

impl Racing {
    fn new(inner: SqliteDb, race: Race) -> Self {
        Self { inner, race: RefCell::new(Some(race)) }
    }
}

impl Db for Racing {
    async fn query(&self, sql: &str, params: &[Value]) -> shared::ApiResult<Vec<Row>> {
        self.inner.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
        let race = self.race.borrow_mut().take();
        let db = &self.inner;
        match race {
            None => {}
            Some(Race::Attach { citizen, number, material, upload }) => {
                filing::attach(db, &citizen, &number, &material, &upload, now()).await.unwrap();
            }
            Some(Race::Submit { citizen, number }) => {
                filing::submit(db, &OsRandom, &citizen, &number, now()).await.unwrap();
            }
            Some(Race::Notify { number, version, material }) => {
                let (who, c) = (handler("李四"), calendar::load(db, now().date(), now().date()).await.unwrap());
                let act = Act { who: &who, now: now(), request_id: "req-race" };
                handling::act_on(db, &OsRandom, &act, &water(), &number, &notify(version, &material), &c)
                    .await
                    .unwrap();
            }
            Some(Race::Rate { citizen, number, grade }) => {
                let r = Rating { grade, reasons: "等待时间太长".into() };
                let c = calendar::load(db, now().date(), now().date()).await.unwrap();
                rating::rate(db, &OsRandom, &citizen, &number, &r, 15, &c, now()).await.unwrap();
            }
            Some(Race::Create { citizen }) => {
                let (tree, answers, form) = (transfer(), vec!["本人".to_owned()], json!({}));
                let d = Draft { tree: &tree, answers: &answers, form: &form, bundle: None };
                record::create(db, &OsRandom, &citizen, &d, now()).await.unwrap();
            }
        }
        self.inner.batch(stmts).await
    }
}

// ---- guessing numbers, other citizens' applications and files ----

#[test]
fn another_citizen_gets_404_on_every_route_of_an_application_and_learns_nothing() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice");
    let bobs_file = upload(&db, &kv, "bob");
    let errors = [
        block_on(record::mine(&db, "bob", &a.number)).unwrap_err(),
        block_on(record::update_form(&db, "bob", &a.number, &json!({"户号": "9"}), now())).unwrap_err(),
        block_on(filing::attach(&db, "bob", &a.number, "居民身份证", &bobs_file, now())).unwrap_err(),
        block_on(filing::submit(&db, &OsRandom, "bob", &a.number, now())).unwrap_err(),
        block_on(rating::rate(
            &db,
            &OsRandom,
            "bob",
            &a.number,
            &Rating { grade: 1, reasons: "x".into() },
            15,
            &cal(&db),
            now(),
        ))
        .unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
        assert!(!format!("{e:?}").contains("稠城"), "{e:?}");
    }
    // Same answer as a number that does not exist: nothing to tell them apart.
    let a2 = draft(&db, "alice");
    assert!(block_on(record::list_mine(&db, "bob")).unwrap().is_empty());
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert_eq!((after.version, after.form["户号"].as_str()), (a.version, Some("3301001")), "nothing changed");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM uploads WHERE used_by IS NOT NULL", &[]), 0);
    assert_ne!(a.number, a2.number);
}

#[test]
fn a_wrong_check_character_junk_or_a_draft_answers_404_on_the_public_progress_view() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let n = a.number.clone();
    let last = n.chars().last().unwrap();
    let forged = format!("{}{}", &n[..n.len() - 1], if last == 'A' { 'B' } else { 'A' });
    for raw in [
        forged.as_str(),
        "SB20260930",
        "SB2026093000000000000",
        "' OR 1=1 --",
        "SB20260930%00%00%00%00%00%00",
        &"9".repeat(5000),
        "",
    ] {
        let e = block_on(record::progress(&db, raw)).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound, "{raw}");
    }
    // The canonical number in lower case is the same number, nothing more.
    assert_eq!(block_on(record::progress(&db, &n.to_lowercase())).unwrap().number, n);
    let d = draft(&db, "alice");
    assert_eq!(block_on(record::progress(&db, &d.number)).unwrap_err().code, ErrorCode::NotFound, "a draft is private");
}

#[test]
fn a_file_of_someone_else_or_one_used_by_a_complaint_or_an_invoice_cannot_be_attached() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice");
    let bobs = upload(&db, &kv, "bob");
    let mut tries = vec![bobs.clone(), "up_000000000000000000000000".into(), String::new(), "' OR '1'='1".into()];
    for (id, used_by, ctype) in [
        ("up_complaint", Some("TS20260930ABCDEFGHJK1"), "image/png"),
        ("up_invoice", Some("FP20260930ABCD"), "application/pdf"),
    ] {
        block_on(db.execute(
            "INSERT INTO uploads (id, citizen_id, content_type, size, sha256, created_at, used_by)
             VALUES (?1, 'alice', ?2, 10, 'x', ?3, ?4)",
            &[id.into(), ctype.into(), now().to_rfc3339().into(), used_by.map(str::to_owned).into()],
        ))
        .unwrap();
        tries.push(id.into());
    }
    for id in &tries {
        let e = block_on(filing::attach(&db, "alice", &a.number, "居民身份证", id, now())).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{id}: {e:?}");
    }
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert!(after.materials.iter().all(|m| m.upload_id.is_none()));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM uploads WHERE id = ?1 AND used_by IS NULL", &[bobs.into()]), 1);
    // A material the situation does not need is not a slot to fill.
    let mine = upload(&db, &kv, "alice");
    let e = block_on(filing::attach(&db, "alice", &a.number, "授权委托书", &mine, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
}

#[test]
fn a_file_claimed_by_another_citizens_application_is_not_reused_even_if_its_row_names_me() {
    let (db, kv) = (db(), MemoryKv::default());
    let bobs = draft(&db, "bob");
    let id = upload(&db, &kv, "alice");
    // A row that says the file is Alice's but is used by Bob's application.
    block_on(
        db.execute("UPDATE uploads SET used_by = ?1 WHERE id = ?2", &[bobs.number.as_str().into(), id.as_str().into()]),
    )
    .unwrap();
    let a = draft(&db, "alice");
    let e = block_on(filing::attach(&db, "alice", &a.number, "居民身份证", &id, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(block_on(record::mine(&db, "alice", &a.number)).unwrap().materials[0].upload_id.is_none());
    assert!(block_on(filing::reusable(&db, "bob", "居民身份证")).unwrap().is_empty());
}

#[test]
fn reusing_a_file_keeps_it_on_the_first_application_and_offers_only_my_own() {
    let (db, kv) = (db(), MemoryKv::default());
    let first = draft(&db, "alice");
    let id = upload(&db, &kv, "alice");
    block_on(filing::attach(&db, "alice", &first.number, "居民身份证", &id, now())).unwrap();
    for _ in 0..3 {
        let next = draft(&db, "alice");
        let n = block_on(filing::attach(&db, "alice", &next.number, "居民身份证", &id, now())).unwrap();
        assert!(n.materials[0].reused);
    }
    let offered = block_on(filing::reusable(&db, "alice", "居民身份证")).unwrap();
    assert_eq!(offered.len(), 1, "a reused copy is not offered again: {offered:?}");
    assert_eq!(offered[0]["number"], first.number.as_str());
    assert!(block_on(filing::reusable(&db, "bob", "居民身份证")).unwrap().is_empty());
    assert!(block_on(filing::reusable(&db, "alice", "' OR 1=1 --")).unwrap().is_empty());
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM uploads WHERE id = ?1 AND used_by = ?2", &[id.into(), first.number.into()]),
        1
    );
}

// ---- races ----

#[test]
fn of_two_applications_claiming_one_new_file_at_once_only_one_gets_it() {
    let (db, kv) = (db(), MemoryKv::default());
    let (a, b) = (draft(&db, "alice"), draft(&db, "alice"));
    let id = upload(&db, &kv, "alice");
    let race = Race::Attach {
        citizen: "alice".into(),
        number: b.number.clone(),
        material: "居民身份证".into(),
        upload: id.clone(),
    };
    let racing = Racing::new(db, race);
    // We read the file as free; the other attach claims it first. Either we
    // lose, or we reuse it from the other application: never both claim it.
    let ours = block_on(filing::attach(&racing, "alice", &a.number, "居民身份证", &id, now()));
    let db = racing.inner;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM uploads WHERE id = ?1 AND used_by = ?2", &[id.into(), b.number.into()]),
        1
    );
    match ours {
        Err(e) => {
            assert_eq!(e.code, ErrorCode::Conflict);
            assert!(block_on(record::mine(&db, "alice", &a.number)).unwrap().materials[0].upload_id.is_none());
        }
        Ok(a) => assert!(a.materials[0].reused, "if it lands, it is a reuse"),
    }
}

#[test]
fn a_step_racing_a_notice_on_the_same_version_loses_and_the_notice_stands() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let race = Race::Notify { number: a.number.clone(), version: a.version, material: "居民身份证".into() };
    let racing = Racing::new(db, race);
    let e = step(&racing, &a.number, &Step::Accept { version: a.version }).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let db = racing.inner;
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert_eq!((after.status, after.deadline), (Status::Correction, None), "the notice stands, no deadline");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'application.step'", &[]), 1);
    // The citizen, reading the correction, may now attach only what it names.
    let e = block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &upload(&db, &kv, "alice"), now()))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
}

#[test]
fn a_correction_attach_racing_a_resubmission_is_refused_and_nothing_half_written() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let a = step(&db, &a.number, &notify(a.version, "不动产权证书")).unwrap();
    block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &upload(&db, &kv, "alice"), now())).unwrap();
    // A second tab attaches again while the first resubmits.
    let late = upload(&db, &kv, "alice");
    let racing = Racing::new(db, Race::Submit { citizen: "alice".into(), number: a.number.clone() });
    let e = block_on(filing::attach(&racing, "alice", &a.number, "不动产权证书", &late, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let db = racing.inner;
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert_eq!(after.status, Status::Submitted);
    assert_ne!(after.materials[1].upload_id.as_deref(), Some(late.as_str()), "the file the staff read is not swapped");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM uploads WHERE id = ?1 AND used_by IS NULL", &[late.into()]), 1);
}

#[test]
fn of_two_submits_at_once_one_submits_and_the_citizen_hears_once() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice");
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    let racing = Racing::new(db, Race::Submit { citizen: "alice".into(), number: a.number.clone() });
    let e = block_on(filing::submit(&racing, &OsRandom, "alice", &a.number, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let db = racing.inner;
    let n: Value = a.number.as_str().into();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_events WHERE number = ?1 AND action = 'submit'", &[n]), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE citizen_id = 'alice' AND kind = 'application'", &[]), 1);
}

#[test]
fn of_two_ratings_at_once_one_counts_and_one_rectification_opens() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = completed(&db, &kv, "alice");
    let c = cal(&db);
    let racing = Racing::new(db, Race::Rate { citizen: "alice".into(), number: a.number.clone(), grade: 1 });
    let second = Rating { grade: 5, reasons: String::new() };
    let e = block_on(rating::rate(&racing, &OsRandom, "alice", &a.number, &second, 15, &c, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let db = racing.inner;
    assert_eq!(block_on(record::mine(&db, "alice", &a.number)).unwrap().rating, Some(1), "the first grade stands");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_rectifications", &[]), 1);
    // And two low grades at once do not open two tasks (one PK, one batch).
    let b = completed(&db, &kv, "alice");
    let racing = Racing::new(db, Race::Rate { citizen: "alice".into(), number: b.number.clone(), grade: 2 });
    let low = Rating { grade: 1, reasons: "态度差".into() };
    assert!(block_on(rating::rate(&racing, &OsRandom, "alice", &b.number, &low, 15, &c, now())).is_err());
    assert_eq!(count(&racing.inner, "SELECT COUNT(*) FROM application_rectifications", &[]), 2);
    assert_eq!(
        count(&racing.inner, "SELECT COUNT(*) FROM application_events WHERE action = 'rate'", &[]),
        2,
        "one rate event per application"
    );
}

#[test]
fn rating_someone_elses_an_unfinished_or_a_bad_grade_is_refused() {
    let (db, kv) = (db(), MemoryKv::default());
    let c = cal(&db);
    let rate = |who: &str, n: &str, grade: i64, reasons: &str| {
        block_on(rating::rate(&db, &OsRandom, who, n, &Rating { grade, reasons: reasons.into() }, 15, &c, now()))
    };
    let open = submitted(&db, &kv, "alice", &transfer());
    assert_eq!(rate("alice", &open.number, 5, "").unwrap_err().code, ErrorCode::Conflict, "not 办结 yet");
    let done = completed(&db, &kv, "alice");
    assert_eq!(rate("bob", &done.number, 1, "故意差评").unwrap_err().code, ErrorCode::NotFound);
    for (g, why) in [(0, "x"), (6, "x"), (-1, "x"), (i64::MAX, "x"), (i64::MIN, "x"), (1, "   "), (2, "")] {
        assert_eq!(rate("alice", &done.number, g, why).unwrap_err().code, ErrorCode::ValidationFailed, "{g}");
    }
    assert_eq!(rate("alice", &done.number, 1, &"长".repeat(501)).unwrap_err().code, ErrorCode::ValidationFailed);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_rectifications", &[]), 0);
    assert!(block_on(record::mine(&db, "alice", &done.number)).unwrap().rating.is_none());
}

#[test]
fn a_draft_racing_the_last_free_place_is_refused() {
    let db = db();
    for _ in 0..record::MAX_DRAFTS - 1 {
        draft(&db, "alice");
    }
    let racing = Racing::new(db, Race::Create { citizen: "alice".into() });
    let e = draft_of(&racing, "alice", &transfer(), "本人").unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(
        count(&racing.inner, "SELECT COUNT(*) FROM applications WHERE status = 'draft'", &[]),
        record::MAX_DRAFTS
    );
}

#[test]
fn a_bundle_cannot_fill_past_the_draft_cap_and_writes_nothing() {
    let db = db();
    for _ in 0..record::MAX_DRAFTS - 1 {
        draft(&db, "alice");
    }
    let mut gas = transfer();
    gas.item_code = "GAS1".into();
    gas.department = GAS.into();
    gas.questions.clear();
    let water = transfer();
    let parts = vec![(&water, vec!["本人".to_owned()]), (&gas, vec![])];
    let e = block_on(record::create_bundle(&db, &OsRandom, "alice", &parts, &json!({}), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM applications", &[]), record::MAX_DRAFTS - 1, "all or nothing");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_materials", &[]), (record::MAX_DRAFTS - 1) * 2);
}

#[test]
fn a_bundle_refused_by_the_draft_cap_says_why() {
    let db = db();
    for _ in 0..record::MAX_DRAFTS - 1 {
        draft(&db, "alice");
    }
    let (water, mut gas) = (transfer(), transfer());
    gas.questions.clear();
    gas.item_code = "GAS1".into();
    let parts = vec![(&water, vec!["本人".to_owned()]), (&gas, vec![])];
    let e = block_on(record::create_bundle(&db, &OsRandom, "alice", &parts, &json!({}), now())).unwrap_err();
    assert!(e.message.as_deref().unwrap_or_default().contains("草稿"), "{e:?}");
}

// ---- huge input ----

#[test]
fn a_huge_nested_or_crowded_form_and_too_many_answers_are_refused_with_422() {
    let db = db();
    let tree = transfer();
    let many: serde_json::Map<String, serde_json::Value> = (0..41).map(|i| (format!("f{i}"), json!("x"))).collect();
    let forms = [
        json!(many),
        json!({"备注": "长".repeat(8_001)}),
        json!({"地址": {"省": "浙江"}}),
        json!({"地址": ["a"]}),
        json!([1, 2]),
        json!("text"),
        json!(null),
    ];
    for form in &forms {
        let answers = vec!["本人".to_owned()];
        let e = block_on(record::create(
            &db,
            &OsRandom,
            "alice",
            &Draft { tree: &tree, answers: &answers, form, bundle: None },
            now(),
        ))
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{form}");
    }
    let a = draft(&db, "alice");
    for form in &forms {
        let e = block_on(record::update_form(&db, "alice", &a.number, form, now())).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
    }
    let answers = vec!["本人".to_owned(); 5_000];
    let e = block_on(record::create(
        &db,
        &OsRandom,
        "alice",
        &Draft { tree: &tree, answers: &answers, form: &json!({}), bundle: None },
        now(),
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM applications", &[]), 1);
}

// ---- staff: scope, roles, versions ----

#[test]
fn a_handler_of_another_department_can_neither_act_read_a_file_nor_close_a_rectification() {
    let (db, kv) = (db(), MemoryKv::default());
    let gas = Scope::Departments(vec![GAS.into()]);
    let none = Scope::Departments(vec![]);
    let wang = handler("王五");
    let act = Act { who: &wang, now: now(), request_id: "req" };
    let a = submitted(&db, &kv, "alice", &transfer());
    for scope in [&gas, &none] {
        let e = step_in(&db, scope, &wang, &a.number, &Step::Accept { version: a.version }).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        let e = block_on(handling::open_material(&db, &act, scope, &a.number, "居民身份证")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(block_on(handling::queue(&db, &act, scope, None)).unwrap().is_empty());
    }
    let done = completed(&db, &kv, "bob");
    block_on(rating::rate(
        &db,
        &OsRandom,
        "bob",
        &done.number,
        &Rating { grade: 1, reasons: "太慢".into() },
        15,
        &cal(&db),
        now(),
    ))
    .unwrap();
    assert!(block_on(rating::list(&db, &gas)).unwrap().is_empty());
    let e = block_on(rating::close(&db, &OsRandom, &act, &gas, &done.number, "已整改")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_rectifications WHERE status = 'open'", &[]), 1);
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert_eq!((after.status, after.version), (Status::Submitted, a.version));
    // Closing a task twice, or one that never opened, changes nothing.
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    block_on(rating::close(&db, &OsRandom, &act, &water(), &done.number, "已整改")).unwrap();
    assert_eq!(
        block_on(rating::close(&db, &OsRandom, &act, &water(), &done.number, "再次")).unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(
        block_on(rating::close(&db, &OsRandom, &act, &water(), &a.number, "无")).unwrap_err().code,
        ErrorCode::Conflict
    );
}

#[test]
fn an_auditor_reads_the_city_but_cannot_take_a_step() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let auditor = Principal { token_id: "tok-aud".into(), name: "审计".into(), roles: vec![Role::Auditor] };
    assert_eq!(block_on(handling::scope_of(&db, &auditor, true)).unwrap(), Scope::City);
    assert_eq!(block_on(handling::scope_of(&db, &auditor, false)).unwrap_err().code, ErrorCode::Forbidden);
    let e = step_in(&db, &Scope::City, &auditor, &a.number, &Step::Accept { version: a.version }).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden, "even if handed the city scope");
    let hall = Principal { token_id: "tok-hall".into(), name: "大厅".into(), roles: vec![Role::HallStaff] };
    assert_eq!(block_on(handling::scope_of(&db, &hall, true)).unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(block_on(record::mine(&db, "alice", &a.number)).unwrap().status, Status::Submitted);
}

#[test]
fn a_step_with_a_stale_or_forged_version_or_out_of_order_changes_nothing() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    for v in [a.version - 1, a.version + 1, i64::MAX, i64::MIN, 0] {
        assert_eq!(step(&db, &a.number, &Step::Accept { version: v }).unwrap_err().code, ErrorCode::Conflict);
    }
    let post = Delivery::Post { carrier: "EMS".into(), tracking: "1100123456789".into() };
    assert_eq!(
        step(&db, &a.number, &Step::Complete { version: a.version, delivery: post }).unwrap_err().code,
        ErrorCode::Conflict,
        "办结 before 受理"
    );
    let bad = [
        Step::AcceptPending {
            version: a.version,
            materials: vec!["户口本".into()],
            due: now().date() + chrono::Days::new(5),
        },
        Step::AcceptPending { version: a.version, materials: vec![], due: now().date() + chrono::Days::new(5) },
        Step::Reject { version: a.version, reason: "长".repeat(501) },
        Step::Notify {
            version: a.version,
            items: (0..31)
                .map(|i| Correction { material: None, field: Some(format!("f{i}")), note: "n".into() })
                .collect(),
        },
    ];
    for s in &bad {
        assert_eq!(step(&db, &a.number, s).unwrap_err().code, ErrorCode::ValidationFailed, "{s:?}");
    }
    let after = block_on(record::mine(&db, "alice", &a.number)).unwrap();
    assert_eq!((after.status, after.version, after.timeline.len()), (Status::Submitted, a.version, a.timeline.len()));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log WHERE action = 'application.step'", &[]), 0);
}

#[test]
fn a_draft_does_not_show_in_the_queue_even_when_asked_for_by_status() {
    let db = db();
    let d = draft(&db, "alice");
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    let rows = block_on(handling::queue(&db, &act, &water(), Some(Status::Draft)));
    match rows {
        Ok(rows) => assert!(rows.iter().all(|r| r.number != d.number), "a draft number is listed to staff"),
        Err(e) => assert_eq!(e.code, ErrorCode::BadRequest),
    }
}

// ---- the one-time notice ----

#[test]
fn after_resubmission_nothing_changes_and_no_second_notice_is_possible() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let a = step(&db, &a.number, &notify(a.version, "不动产权证书")).unwrap();
    // Under the notice: no field it did not name, no material it did not name.
    let e = block_on(record::update_form(
        &db,
        "alice",
        &a.number,
        &json!({"户号": "3301001", "联系地址": "稠城街道1号", "新": "x"}),
        now(),
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed, "a new field is a change");
    let e = block_on(record::update_form(&db, "alice", &a.number, &json!({"户号": "3301001"}), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed, "dropping a field is a change");
    block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &upload(&db, &kv, "alice"), now())).unwrap();
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    assert_eq!(a.status, Status::Submitted);
    assert_eq!(
        block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap_err().code,
        ErrorCode::Conflict
    );
    let e = block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &upload(&db, &kv, "alice"), now()))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = block_on(record::update_form(&db, "alice", &a.number, &json!({"户号": "1"}), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(step(&db, &a.number, &notify(a.version, "居民身份证")).unwrap_err().code, ErrorCode::Conflict);
    // A new application is a new case, not a way around the first one's notice.
    assert_eq!(block_on(record::mine(&db, "alice", &a.number)).unwrap().status, Status::Submitted);
}

#[test]
fn re_attaching_the_file_a_notice_rejected_does_not_count_as_corrected() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let a = step(&db, &a.number, &notify(a.version, "不动产权证书")).unwrap();
    let rejected = a.materials[1].upload_id.clone().unwrap();
    let other_material = a.materials[0].upload_id.clone().unwrap();
    for same in [rejected, other_material] {
        let r = block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &same, now()));
        assert!(r.is_err(), "the rejected file (or another of this case's files) passes for a correction");
    }
    assert!(block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).is_err());
}

#[test]
fn under_pending_acceptance_only_the_named_materials_change_and_completion_waits() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let due = now().date() + chrono::Days::new(20);
    let a =
        step(&db, &a.number, &Step::AcceptPending { version: a.version, materials: vec!["不动产权证书".into()], due })
            .unwrap();
    assert_eq!(a.status, Status::AcceptedPending);
    let e =
        block_on(filing::attach(&db, "alice", &a.number, "居民身份证", &upload(&db, &kv, "alice"), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = block_on(record::update_form(&db, "alice", &a.number, &json!({"户号": "1"}), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let post = Delivery::Post { carrier: "EMS".into(), tracking: "1100123456789".into() };
    assert_eq!(
        step(&db, &a.number, &Step::Complete { version: a.version, delivery: post }).unwrap_err().code,
        ErrorCode::Conflict
    );
    assert_eq!(
        block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap_err().code,
        ErrorCode::ValidationFailed
    );
}

// ---- what leaves the system ----

#[test]
fn a_pending_acceptance_cannot_put_the_materials_off_past_the_promised_deadline() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let due = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let r =
        step(&db, &a.number, &Step::AcceptPending { version: a.version, materials: vec!["不动产权证书".into()], due });
    assert_eq!(r.map(|a| a.pending_until).unwrap_err().code, ErrorCode::ValidationFailed);
}

#[test]
fn html_in_the_item_department_and_material_names_is_escaped_in_the_receipt() {
    let (db, kv) = (db(), MemoryKv::default());
    let mut tree = transfer();
    tree.item_name = "<script>alert(1)</script>".into();
    tree.department = "\"><img src=x onerror=alert(2)>".into();
    tree.questions.clear();
    tree.materials = vec![mat("<b onmouseover=alert(3)>身份证</b>"), mat("'><svg/onload=alert(4)>")];
    let a = submitted(&db, &kv, "alice", &tree);
    let scope = Scope::Departments(vec![tree.department.clone()]);
    let zhang = handler("张三");
    let due = now().date() + chrono::Days::new(20);
    let pending = Step::AcceptPending { version: a.version, materials: vec![tree.materials[1].name.clone()], due };
    let a = step_in(&db, &scope, &zhang, &a.number, &pending).unwrap();
    let html = receipt::render(&a).unwrap();
    for bad in ["<script", "<img", "<b ", "<svg", "onerror=alert(2)>"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains("&lt;script&gt;") && html.contains("容缺"), "{html}");
    assert!(receipt::render(&draft(&db, "bob")).is_none(), "no receipt before 受理");
}

#[test]
fn a_promise_longer_than_a_year_is_counted_in_full() {
    let (db, kv) = (db(), MemoryKv::default());
    let mut tree = transfer();
    tree.promised_days = 300;
    let a = submitted(&db, &kv, "alice", &tree);
    let a = step(&db, &a.number, &Step::Accept { version: a.version }).unwrap();
    let (from, to) = (a.accepted_on.unwrap(), a.deadline.unwrap());
    let (from, to): (chrono::NaiveDate, chrono::NaiveDate) = (from.parse().unwrap(), to.parse().unwrap());
    let c = cal(&db);
    let working =
        from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| calendar::is_working_day(*d, &c)).count();
    assert_eq!(working, 300, "deadline {to}");
}

#[test]
fn a_promise_of_zero_or_less_is_due_the_day_it_is_accepted_and_never_panics() {
    let (db, kv) = (db(), MemoryKv::default());
    for days in [0, -5, i64::MIN, i64::from(u32::MAX)] {
        let mut tree = transfer();
        tree.promised_days = days;
        let a = submitted(&db, &kv, "alice", &tree);
        let a = step(&db, &a.number, &Step::Accept { version: a.version }).unwrap();
        assert!(a.deadline.is_some(), "{days}");
        if days <= 0 {
            assert_eq!(a.deadline, a.accepted_on, "{days}");
        }
        let html = receipt::render(&a).unwrap();
        assert!(html.contains(&format!("{days}个工作日")) || days < 0, "{html}");
    }
}

#[test]
fn progress_carries_no_reason_note_delivery_form_or_file() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let a = step(
        &db,
        &a.number,
        &Step::Notify {
            version: a.version,
            items: vec![Correction {
                material: None,
                field: Some("联系地址".into()),
                note: "请写明宾王路8号几幢几室".into(),
            }],
        },
    )
    .unwrap();
    block_on(record::update_form(
        &db,
        "alice",
        &a.number,
        &json!({"户号": "3301001", "联系地址": "宾王路8号3幢201室"}),
        now(),
    ))
    .unwrap();
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    step(&db, &a.number, &Step::Reject { version: a.version, reason: "申请人张小明不是产权人".into() }).unwrap();
    let p = serde_json::to_string(&block_on(record::progress(&db, &a.number)).unwrap()).unwrap();
    for secret in ["宾王路", "张小明", "产权人", "3301001", "up_", "张三", "alice", "草稿"] {
        assert!(!p.contains(secret), "{secret} in {p}");
    }
    assert!(p.contains("不予受理"), "{p}");
}

#[test]
fn progress_does_not_tell_a_stranger_that_the_citizen_rated_low() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = completed(&db, &kv, "alice");
    let before = block_on(record::progress(&db, &a.number)).unwrap();
    block_on(rating::rate(
        &db,
        &OsRandom,
        "alice",
        &a.number,
        &Rating { grade: 1, reasons: "态度差".into() },
        15,
        &cal(&db),
        now(),
    ))
    .unwrap();
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    block_on(rating::close(&db, &OsRandom, &act, &water(), &a.number, "已约谈窗口人员")).unwrap();
    let after = block_on(record::progress(&db, &a.number)).unwrap();
    assert_eq!(after.timeline.len(), before.timeline.len(), "{:?}", after.timeline);
}

#[test]
fn a_departments_rectifications_are_not_cut_off_by_other_departments() {
    let db = db();
    let at = now().to_rfc3339();
    for i in 0..501 {
        block_on(db.execute(
            "INSERT INTO application_rectifications (number, department, grade, reasons, deadline, status, created_at)
             VALUES (?1, ?2, 1, 'x', '2026-10-20', 'open', ?3)",
            &[format!("SBGAS{i:05}").into(), GAS.into(), at.as_str().into()],
        ))
        .unwrap();
    }
    block_on(db.execute(
        "INSERT INTO application_rectifications (number, department, grade, reasons, deadline, status, created_at)
         VALUES ('SBWATER', ?1, 1, 'x', '2026-11-20', 'open', ?2)",
        &[WATER.into(), at.as_str().into()],
    ))
    .unwrap();
    let mine = block_on(rating::list(&db, &water())).unwrap();
    assert_eq!(mine.len(), 1, "the water company's open task is lost");
}

#[test]
fn every_staff_read_of_a_case_or_a_file_is_logged_with_its_number() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    block_on(handling::case(&db, &act, &water(), &a.number)).unwrap();
    block_on(handling::open_material(&db, &act, &water(), &a.number, "不动产权证书")).unwrap();
    // A missing material or another department: refused, and nothing read.
    assert!(block_on(handling::open_material(&db, &act, &water(), &a.number, "授权委托书")).is_err());
    let n: Value = format!("%{}%", a.number).into();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'access.application.%' AND target LIKE ?1", &[n]),
        2
    );
}

#[test]
fn a_bundle_does_not_file_the_same_item_twice() {
    let db = db();
    let water = transfer();
    let parts = vec![(&water, vec!["本人".to_owned()]), (&water, vec!["代办".to_owned()])];
    let r = block_on(record::create_bundle(&db, &OsRandom, "alice", &parts, &json!({}), now()));
    assert_eq!(r.map(|n| n.len()).unwrap_err().code, ErrorCode::ValidationFailed);
}

#[test]
fn a_deleted_account_leaves_no_form_file_or_draft_behind() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = submitted(&db, &kv, "alice", &transfer());
    let d = draft(&db, "alice");
    block_on(shared::identity::erasure::delete(&db, &kv, "alice", now())).unwrap();
    let n: Value = a.number.as_str().into();
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM applications WHERE number = ?1 AND form = '{}'", std::slice::from_ref(&n)),
        1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM application_materials WHERE number = ?1 AND upload_id IS NOT NULL", &[n]),
        0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM applications WHERE number = ?1", &[d.number.into()]), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM uploads WHERE citizen_id = 'alice'", &[]), 0);
    // The staff see the case, but no file of it any more.
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    let id = block_on(handling::open_material(&db, &act, &water(), &a.number, "居民身份证"));
    assert_eq!(id.unwrap_err().code, ErrorCode::NotFound);
}

#[test]
fn a_deleted_account_leaves_no_rating_reasons_behind() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = completed(&db, &kv, "alice");
    let low = Rating { grade: 1, reasons: "我住宾王路8号，窗口人员态度差".into() };
    block_on(rating::rate(&db, &OsRandom, "alice", &a.number, &low, 15, &cal(&db), now())).unwrap();
    block_on(shared::identity::erasure::delete(&db, &kv, "alice", now())).unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM application_rectifications WHERE reasons LIKE '%宾王路%'", &[]), 0);
}
