//! Online applications natively on SQLite with the production migrations:
//! a whole case from draft to 整改, material reuse, the one-time notice
//! rule, scope, and two staff racing on one application.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use application::decide::{Correction, Delivery, Step};
use application::filing;
use application::handling::{self, Scope};
use application::rating::{self, Rating};
use application::record::{self, Draft};
use application::situation::{GuideMaterial, GuideOption, GuideQuestion, Tree};
use application::status::Status;
use futures_executor::block_on;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::calendar::{self, Calendar};
use shared::runtime::OsRandom;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::types::BeijingTime;

/// Wednesday 2026-09-30, 10:00 in Beijing: the eve of 国庆.
fn now() -> BeijingTime {
    shared::testing::at("2026-09-30T10:00:00+08:00")
}

/// The 2026 国庆 arrangement (国务院办公厅, 2025-11-04): 1-7 October off,
/// Sunday 20 September and Saturday 10 October worked.
fn db() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["alice", "bob"]);
    for d in 1..=7 {
        block_on(db.execute(
            "INSERT INTO appt_calendar (day, kind, name) VALUES (?1, 'holiday', '国庆节')",
            &[format!("2026-10-0{d}").into()],
        ))
        .unwrap();
    }
    for d in ["2026-09-20", "2026-10-10"] {
        block_on(
            db.execute("INSERT INTO appt_calendar (day, kind, name) VALUES (?1, 'workday', '国庆节调休')", &[d.into()]),
        )
        .unwrap();
    }
    db
}

fn cal(db: &SqliteDb) -> Calendar {
    block_on(calendar::load(db, now().date(), now().date() + chrono::Days::new(60))).unwrap()
}

fn mat(name: &str, note: &str) -> GuideMaterial {
    GuideMaterial { name: name.into(), required: true, note: Some(note.into()) }
}

fn option(label: &str, mats: &[&str]) -> GuideOption {
    GuideOption {
        label: label.into(),
        next: None,
        item_code: Some("ITEM3".into()),
        materials: mats.iter().map(|m| (*m).into()).collect(),
    }
}

/// 水表过户 with its tree (two situations).
fn transfer() -> Tree {
    Tree {
        item_code: "ITEM3".into(),
        item_name: "水表过户".into(),
        department: "义乌市供水有限公司".into(),
        online: true,
        promised_days: 3,
        materials: vec![
            mat("居民身份证", "新户主身份证"),
            mat("不动产权证书", "证明房屋已归新户主"),
            mat("授权委托书", "代办时"),
        ],
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

fn scope() -> Scope {
    Scope::Departments(vec!["义乌市供水有限公司".into()])
}

fn upload(db: &SqliteDb, kv: &MemoryKv, citizen: &str) -> String {
    let pdf = b"%PDF-1.4 test document";
    block_on(shared::uploads::store(
        db,
        kv,
        &OsRandom,
        citizen,
        "application/pdf",
        pdf,
        shared::uploads::DOCUMENTS,
        now(),
    ))
    .unwrap()
    .id
}

fn draft(db: &SqliteDb, citizen: &str, who: &str) -> record::Application {
    let (tree, answers, form) =
        (transfer(), vec![who.to_owned()], json!({"户号": "3301001", "联系地址": "稠城街道1号"}));
    block_on(record::create(
        db,
        &OsRandom,
        citizen,
        &Draft { tree: &tree, answers: &answers, form: &form, bundle: None },
        now(),
    ))
    .unwrap()
}

fn step(db: &SqliteDb, who: &Principal, number: &str, s: &Step) -> shared::ApiResult<record::Application> {
    let act = Act { who, now: now(), request_id: "req" };
    block_on(handling::act_on(db, &OsRandom, &act, &scope(), number, s, &cal(db)))
}

fn inbox_titles(db: &SqliteDb, citizen: &str) -> Vec<String> {
    let rows = block_on(db.query(
        "SELECT title FROM messages WHERE citizen_id = ?1 AND kind = 'application' ORDER BY seq",
        &[citizen.into()],
    ))
    .unwrap();
    rows.into_iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_case_runs_from_draft_through_one_notice_and_acceptance_over_the_holiday_to_rectification() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice", "本人");
    assert_eq!((a.status, a.materials.len()), (Status::Draft, 2));
    assert!(a.number.starts_with("SB20260930"));
    // Submitting without the materials names what is missing.
    let e = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap_err();
    assert!(e.fields[0].message.contains("居民身份证、不动产权证书"), "{:?}", e.fields);
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    assert_eq!(a.status, Status::Submitted);

    // One notice lists everything; the citizen replaces only what it names.
    let zhang = handler("张三");
    let notice = Step::Notify {
        version: a.version,
        items: vec![
            Correction { material: Some("不动产权证书".into()), field: None, note: "复印件不清晰".into() },
            Correction { material: None, field: Some("联系地址".into()), note: "请写到门牌号".into() },
        ],
    };
    let a = step(&db, &zhang, &a.number, &notice).unwrap();
    assert_eq!(a.status, Status::Correction);
    let id_card = a.materials[0].upload_id.clone();
    let e =
        block_on(filing::attach(&db, "alice", &a.number, "居民身份证", &upload(&db, &kv, "alice"), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "a material not named stays as it is");
    let e = block_on(record::update_form(
        &db,
        "alice",
        &a.number,
        &json!({"户号": "9999", "联系地址": "稠城街道1号"}),
        now(),
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed, "a field not named stays as it is");
    assert!(
        block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).is_err(),
        "the named material is not replaced yet"
    );
    block_on(record::update_form(
        &db,
        "alice",
        &a.number,
        &json!({"户号": "3301001", "联系地址": "稠城街道1号3幢201室"}),
        now(),
    ))
    .unwrap();
    block_on(filing::attach(&db, "alice", &a.number, "不动产权证书", &upload(&db, &kv, "alice"), now())).unwrap();
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    assert_eq!((a.status, a.materials[0].upload_id.clone()), (Status::Submitted, id_card));

    // A second notice would break the rule.
    let again = Step::Notify {
        version: a.version,
        items: vec![Correction { material: Some("居民身份证".into()), field: None, note: "x".into() }],
    };
    assert_eq!(step(&db, &zhang, &a.number, &again).unwrap_err().code, ErrorCode::Conflict);

    // Accepted on 30 September: 3 working days are 8, 9 and 10 October.
    let a = step(&db, &zhang, &a.number, &Step::Accept { version: a.version }).unwrap();
    assert_eq!((a.status, a.deadline.as_deref()), (Status::Accepted, Some("2026-10-10")));
    let post = Delivery::Post { carrier: "中国邮政EMS".into(), tracking: "1100123456789".into() };
    let a = step(&db, &zhang, &a.number, &Step::Complete { version: a.version, delivery: post }).unwrap();
    assert_eq!(a.status, Status::Completed);
    assert_eq!(a.delivery.as_ref().unwrap()["tracking"], "1100123456789");

    // 不满意 needs reasons and opens a rectification for the department.
    let low = Rating { grade: 2, reasons: "补正说明不够清楚".into() };
    block_on(rating::rate(&db, &OsRandom, "alice", &a.number, &low, 15, &cal(&db), now())).unwrap();
    let e = block_on(rating::rate(&db, &OsRandom, "alice", &a.number, &low, 15, &cal(&db), now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "rated once");
    let tasks = block_on(rating::list(&db, &scope())).unwrap();
    assert_eq!((tasks.len(), tasks[0].grade, tasks[0].status.as_str()), (1, 2, "open"));
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    block_on(rating::close(&db, &OsRandom, &act, &scope(), &a.number, "已对窗口人员培训，告知书模板已修改")).unwrap();
    assert_eq!(
        inbox_titles(&db, "alice"),
        [
            "申请已提交",
            "请补正材料（一次性告知）",
            "补正材料已提交",
            "申请已受理",
            "申请已办结",
            "您的评价已转部门整改",
            "整改结果"
        ]
    );
    // Whoever holds the number sees the status and dates, never the notes.
    let p = serde_json::to_string(&block_on(record::progress(&db, &a.number)).unwrap()).unwrap();
    assert!(
        p.contains("已办结") && !p.contains("门牌号") && !p.contains("1100123456789") && !p.contains("户号"),
        "{p}"
    );
}

#[test]
fn a_file_from_an_earlier_application_is_reused_not_taken_and_others_files_are_refused() {
    let (db, kv) = (db(), MemoryKv::default());
    let first = draft(&db, "alice", "本人");
    let id = upload(&db, &kv, "alice");
    block_on(filing::attach(&db, "alice", &first.number, "居民身份证", &id, now())).unwrap();
    let second = draft(&db, "alice", "代办");
    let offered = block_on(filing::reusable(&db, "alice", "居民身份证")).unwrap();
    assert_eq!(offered.len(), 1);
    let s = block_on(filing::attach(&db, "alice", &second.number, "居民身份证", &id, now())).unwrap();
    assert!(s.materials[0].reused);
    let f = block_on(record::mine(&db, "alice", &first.number)).unwrap();
    assert_eq!(f.materials[0].upload_id.as_deref(), Some(id.as_str()), "the first keeps it");
    // Bob can neither use Alice's file nor see her application.
    let bobs = draft(&db, "bob", "本人");
    assert!(block_on(filing::attach(&db, "bob", &bobs.number, "居民身份证", &id, now())).is_err());
    assert_eq!(block_on(record::mine(&db, "bob", &first.number)).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(
        block_on(filing::attach(&db, "bob", &first.number, "居民身份证", &upload(&db, &kv, "bob"), now()))
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
}

#[test]
fn of_two_staff_acting_at_once_one_wins_and_the_other_changes_nothing() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice", "本人");
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    let c = cal(&db);
    // Another staff member acts between our read and our write.
    let racing = shared::testing::Interleaved::new(
        db,
        "UPDATE applications SET status = 'rejected', version = version + 1",
        vec![],
    );
    let li = handler("李四");
    let act = Act { who: &li, now: now(), request_id: "req" };
    let e = block_on(handling::act_on(
        &racing,
        &OsRandom,
        &act,
        &scope(),
        &a.number,
        &Step::Accept { version: a.version },
        &c,
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let after = block_on(record::mine(&racing.inner, "alice", &a.number)).unwrap();
    assert_eq!((after.status, after.deadline), (Status::Rejected, None), "the loser wrote nothing");
    // A stale version is refused before any write.
    let e = step(&racing.inner, &li, &a.number, &Step::Accept { version: a.version }).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
}

#[test]
fn another_department_neither_reads_nor_acts_and_a_draft_is_nobodys_business() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice", "本人");
    let other = Scope::Departments(vec!["义乌市燃气有限公司".into()]);
    let act = Act { who: &handler("王五"), now: now(), request_id: "req" };
    assert_eq!(
        block_on(handling::case(&db, &act, &scope(), &a.number)).unwrap_err().code,
        ErrorCode::NotFound,
        "a draft"
    );
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    assert_eq!(block_on(handling::case(&db, &act, &other, &a.number)).unwrap_err().code, ErrorCode::Forbidden);
    assert!(block_on(handling::queue(&db, &act, &other, None)).unwrap().is_empty());
    assert_eq!(block_on(handling::queue(&db, &act, &scope(), None)).unwrap().len(), 1);
    block_on(handling::open_material(&db, &act, &scope(), &a.number, "居民身份证")).unwrap();
    let logged =
        block_on(db.query("SELECT action FROM audit_log WHERE action LIKE 'access.application.%' ORDER BY rowid", &[]))
            .unwrap();
    let actions: Vec<&str> = logged.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["access.application.list", "access.application.list", "access.application.material"]);
}

#[test]
fn drafts_are_capped_in_the_statement_that_adds_one() {
    let db = db();
    for _ in 0..record::MAX_DRAFTS {
        draft(&db, "alice", "本人");
    }
    let (tree, answers, form) = (transfer(), vec!["本人".to_owned()], json!({}));
    let e = block_on(record::create(
        &db,
        &OsRandom,
        "alice",
        &Draft { tree: &tree, answers: &answers, form: &form, bundle: None },
        now(),
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.unwrap().contains("草稿已达20件"));
}

#[test]
fn a_bundle_files_one_application_per_item_in_one_batch() {
    let db = db();
    let (water, mut gas) = (transfer(), transfer());
    gas.item_code = "GAS1".into();
    gas.item_name = "燃气开户".into();
    gas.department = "义乌市燃气有限公司".into();
    gas.questions.clear();
    let parts = vec![(&water, vec!["本人".to_owned()]), (&gas, vec![])];
    let numbers = block_on(record::create_bundle(&db, &OsRandom, "alice", &parts, &json!({}), now())).unwrap();
    assert_eq!(numbers.len(), 2);
    let second = block_on(record::mine(&db, "alice", &numbers[1])).unwrap();
    assert_eq!(
        (second.bundle.as_deref(), second.department.as_str()),
        (Some(numbers[0].as_str()), "义乌市燃气有限公司")
    );
    // A part that cannot be filed online files nothing at all.
    gas.online = false;
    let parts = vec![(&water, vec!["本人".to_owned()]), (&gas, vec![])];
    assert!(block_on(record::create_bundle(&db, &OsRandom, "alice", &parts, &json!({}), now())).is_err());
    assert_eq!(block_on(record::list_mine(&db, "alice")).unwrap().len(), 2);
}

#[test]
fn the_sweep_warns_two_working_days_ahead_and_marks_overdue_once_each() {
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice", "本人");
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    let a = step(&db, &handler("张三"), &a.number, &Step::Accept { version: a.version }).unwrap();
    assert_eq!(a.deadline.as_deref(), Some("2026-10-10"));
    let c = cal(&db);
    let sweep = |t: &str| block_on(handling::sweep(&db, shared::testing::at(t), &c)).unwrap();
    // 30 September: two working days ahead is 9 October, before the deadline.
    assert_eq!((sweep("2026-09-30T11:00:00+08:00").warned, sweep("2026-09-30T11:00:00+08:00").overdue), (0, 0));
    // 8 October (the first day back): 9 and 10 October are the next two working days.
    assert_eq!(sweep("2026-10-08T11:00:00+08:00").warned, 1);
    assert_eq!(sweep("2026-10-09T11:00:00+08:00").warned, 0, "warned once");
    assert_eq!(sweep("2026-10-10T11:00:00+08:00").overdue, 0, "due today is not overdue");
    assert_eq!(sweep("2026-10-12T11:00:00+08:00").overdue, 1);
    assert_eq!(sweep("2026-10-13T11:00:00+08:00").overdue, 0, "marked once");
    let act = Act { who: &handler("张三"), now: now(), request_id: "req" };
    let q = block_on(handling::queue(&db, &act, &scope(), None)).unwrap();
    assert_eq!((q[0].overdue, q[0].warned_at.is_some()), (1, true));
}

#[test]
fn a_tree_comes_from_the_cached_guide_then_from_memory_without_any_storage_read() {
    use shared::store::{HotCache, Kv};
    let (db, kv) = (db(), MemoryKv::default());
    let code = "91330782MA2D4W8J3L4000172009003";
    let rendered = json!({
        "item": { "code": code, "name": "水表过户", "department": "义乌市供水有限公司", "online": { "available": true } },
        "guide": { "materials": [{ "name": "居民身份证", "required": true, "note": "户主本人" }],
                   "time_limit": { "promised_days": 0 }, "situations": [] }
    });
    block_on(kv.put(&shared::catalogue::repo::guide_cache_key(code), &format!("\"etag\"\n{rendered}"), None)).unwrap();
    db.break_storage(true);
    let hot = HotCache::new(10, application::guide::TREE_CACHE_MS);
    let t = block_on(application::guide::tree_cached(&db, &kv, &hot, 1_000, code)).unwrap();
    assert_eq!(
        (t.item_name.as_str(), t.materials.len(), t.online),
        ("水表过户", 1, true),
        "from KV, the database broken"
    );
    kv.break_storage(true);
    let again = block_on(application::guide::tree_cached(&db, &kv, &hot, 20_000, &code.to_ascii_lowercase())).unwrap();
    assert_eq!(again.item_code, code, "from memory, KV broken too");
    assert!(block_on(application::guide::tree_cached(&db, &kv, &hot, 40_000, code)).is_err(), "expired after 30 s");
}

#[test]
fn an_electronic_result_is_attached_while_handling_read_by_the_department_logged_and_downloaded_only_by_the_applicant()
{
    use application::result::{self, Incoming};
    let (db, kv) = (db(), MemoryKv::default());
    let a = draft(&db, "alice", "本人");
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(&db, "alice", &a.number, m, &upload(&db, &kv, "alice"), now())).unwrap();
    }
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &a.number, now())).unwrap();
    let zhang = handler("张三");
    let act = Act { who: &zhang, now: now(), request_id: "req" };
    let pdf = Incoming { declared: "application/pdf", bytes: b"%PDF-1.4 result v1" };
    let e = block_on(result::attach(&db, &kv, &OsRandom, &act, &scope(), &a.number, pdf)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "not before acceptance");
    let a = step(&db, &zhang, &a.number, &Step::Accept { version: a.version }).unwrap();
    let electronic = |version| Step::Complete {
        version,
        delivery: Delivery::Electronic { note: "请在办件详情中下载用水证明".into() },
    };
    assert_eq!(step(&db, &zhang, &a.number, &electronic(a.version)).unwrap_err().code, ErrorCode::Conflict);

    // A file that lies about its type is refused; another department cannot attach.
    let lie = Incoming { declared: "application/pdf", bytes: b"<html>not a pdf</html>" };
    let e = block_on(result::attach(&db, &kv, &OsRandom, &act, &scope(), &a.number, lie)).unwrap_err();
    assert_eq!(e.code, ErrorCode::UploadInvalid);
    let other = Scope::Departments(vec!["义乌市燃气有限公司".into()]);
    let pdf = Incoming { declared: "application/pdf", bytes: b"%PDF-1.4 result v1" };
    assert_eq!(
        block_on(result::attach(&db, &kv, &OsRandom, &act, &other, &a.number, pdf)).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let pdf = Incoming { declared: "application/pdf", bytes: b"%PDF-1.4 result v1" };
    let b = block_on(result::attach(&db, &kv, &OsRandom, &act, &scope(), &a.number, pdf)).unwrap();
    assert!(b.result_file && b.result_download.is_none(), "not downloadable before 办结");
    assert_eq!(step(&db, &zhang, &a.number, &electronic(a.version)).unwrap_err().code, ErrorCode::Conflict, "stale");
    // Replaced: the first file's row and bytes go.
    let first: String = block_on(db.first_as::<serde_json::Value>("SELECT result_upload AS id FROM applications", &[]))
        .unwrap()
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let png = Incoming { declared: "image/png", bytes: b"\x89PNG\r\n\x1a\n result v2" };
    let b = block_on(result::attach(&db, &kv, &OsRandom, &act, &scope(), &a.number, png)).unwrap();
    assert!(block_on(shared::uploads::read(&db, &kv, &first)).is_err(), "the replaced file is gone");
    assert_eq!(block_on(result::for_citizen(&db, "alice", &a.number)).unwrap_err().code, ErrorCode::NotFound);
    let done = step(&db, &zhang, &a.number, &electronic(b.version)).unwrap();
    assert_eq!(done.result_download, Some(format!("/v1/applications/{}/result", a.number)));

    let (id, _) = block_on(result::for_citizen(&db, "alice", &a.number)).unwrap();
    let (ctype, bytes) = block_on(shared::uploads::read(&db, &kv, &id)).unwrap();
    assert_eq!((ctype.as_str(), &bytes[..]), ("image/png", &b"\x89PNG\r\n\x1a\n result v2"[..]));
    assert_eq!(block_on(result::for_citizen(&db, "bob", &a.number)).unwrap_err().code, ErrorCode::NotFound);
    // The applicant cannot reuse the result as a material of a new application.
    let again = draft(&db, "alice", "本人");
    assert!(block_on(filing::attach(&db, "alice", &again.number, "居民身份证", &id, now())).is_err());
    // The department's read is logged; the timeline says so without the file.
    block_on(result::for_staff(&db, &act, &scope(), &a.number)).unwrap();
    let logged =
        block_on(db.query(
            "SELECT target FROM audit_log WHERE action = 'access.application.result' AND actor_name = '张三'",
            &[],
        ))
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert!(done.timeline.iter().any(|e| e.action == "result" && e.note == "电子结果文件已更新"));
    // An erased account takes its result file with it.
    block_on(shared::identity::erasure::delete(&db, &kv, "alice", now())).unwrap();
    assert!(block_on(shared::uploads::read(&db, &kv, &id)).is_err());
    assert_eq!(block_on(result::for_staff(&db, &act, &scope(), &a.number)).unwrap_err().code, ErrorCode::NotFound);
}
