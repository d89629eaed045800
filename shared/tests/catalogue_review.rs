//! Catalogue management natively on SQLite with the production migrations:
//! the review workflow, the staff list, categories, tags, word lists, sync.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use serde_json::{Value, json};
use shared::admin::{Act, Principal, Role};
use shared::catalogue::{import, listing, repo, review, sync, taxonomy};
use shared::http::Query;
use shared::outbound::ScriptedHttp;
use shared::store::{Db, MemoryKv, SqliteDb, Stmt};
use shared::testing::now;
use shared::testing::{hall, item};
use shared::{ApiError, ErrorCode};

const A: &str = "91440300708461136T4000172009002";
const B: &str = "91440300708461136T4000172009003";
const C: &str = "91440300708461136T4000172009004";

fn staff(id: &str, roles: &[Role]) -> Principal {
    Principal { token_id: id.into(), name: format!("员工{id}"), roles: roles.to_vec() }
}

fn act(who: &Principal) -> Act<'_> {
    Act { who, now: now(), request_id: "req" }
}

fn code(r: Result<impl std::fmt::Debug, ApiError>) -> ErrorCode {
    r.unwrap_err().code
}

/// A catalogue with item A published at two halls.
fn seeded() -> (SqliteDb, MemoryKv) {
    let (db, kv) = (SqliteDb::migrated().unwrap(), MemoryKv::default());
    let body = serde_json::from_value(json!({
        "items": [item(A, "个人客户接水申请", &["H1"], &[])],
        "halls": [hall("H1", 29.31, 120.07)],
    }))
    .unwrap();
    let admin = staff("boot", &[Role::CatalogueReviewer]);
    block_on(import::apply(&db, &kv, body, &admin, now(), "r0")).unwrap();
    (db, kv)
}

fn published(db: &SqliteDb) -> Vec<String> {
    let rows = block_on(db.query("SELECT code FROM items WHERE status = 'published' ORDER BY code", &[])).unwrap();
    rows.iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

fn audit_actions(db: &SqliteDb) -> Vec<String> {
    let rows = block_on(db.query("SELECT action FROM audit_log ORDER BY id", &[])).unwrap();
    rows.iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_new_item_is_invisible_until_a_second_person_publishes_it() {
    let (db, kv) = seeded();
    let (ed, rv) = (staff("ed", &[Role::CatalogueEditor]), staff("rv", &[Role::CatalogueReviewer]));
    let d = block_on(review::create(&db, &act(&ed), item(B, "水表过户", &["H1"], &[A]))).unwrap();
    assert_eq!((d.state.as_str(), d.is_new), ("draft", true));
    assert_eq!(published(&db), vec![A], "a draft is not published");
    assert_eq!(code(block_on(review::publish(&db, &kv, &act(&rv), B))), ErrorCode::ReviewStateInvalid);
    let d = block_on(review::submit(&db, &act(&ed), B)).unwrap();
    assert_eq!((d.state.as_str(), d.submitted_by.as_deref()), ("submitted", Some("ed")));
    assert_eq!(published(&db), vec![A], "a submitted draft is not published");
    // The editor cannot publish (role), nor can a reviewer who also edited it.
    assert_eq!(code(block_on(review::publish(&db, &kv, &act(&ed), B))), ErrorCode::Forbidden);
    let both = staff("ed", &[Role::CatalogueEditor, Role::CatalogueReviewer]);
    assert_eq!(code(block_on(review::publish(&db, &kv, &act(&both), B))), ErrorCode::SelfReviewForbidden);
    let before = block_on(repo::catalog_version(&db)).unwrap();
    let out = block_on(review::publish(&db, &kv, &act(&rv), B)).unwrap();
    assert_eq!(out.catalog_version, before + 1);
    assert_eq!(published(&db), vec![A, B]);
    assert!(block_on(review::draft(&db, B)).unwrap().is_none(), "the draft is consumed");
    assert!(block_on(repo::render_guide(&db, B)).unwrap().is_some());
    assert_eq!(
        audit_actions(&db)[1..],
        ["item.draft.create", "item.submit", "item.publish"].map(String::from),
        "every transition is audited"
    );
}

#[test]
fn a_rejected_change_keeps_the_published_version_and_needs_a_reason() {
    let (db, kv) = seeded();
    let (ed, rv) = (staff("ed", &[Role::CatalogueEditor]), staff("rv", &[Role::CatalogueReviewer]));
    assert_eq!(code(block_on(review::create(&db, &act(&ed), item(A, "重复", &["H1"], &[])))), ErrorCode::ItemExists);
    block_on(review::update(&db, &act(&ed), A, item(A, "个人客户接水申请（新）", &["H1"], &[]))).unwrap();
    block_on(review::submit(&db, &act(&ed), A)).unwrap();
    // Under review, the draft cannot change.
    let edit = block_on(review::update(&db, &act(&ed), A, item(A, "再改", &["H1"], &[])));
    assert_eq!(code(edit), ErrorCode::ReviewStateInvalid);
    let short = block_on(review::reject(&db, &act(&rv), A, " "));
    assert_eq!(code(short), ErrorCode::ValidationFailed);
    let d = block_on(review::reject(&db, &act(&rv), A, "办理时限与法定时限不符")).unwrap();
    assert_eq!((d.state.as_str(), d.reason.as_deref()), ("rejected", Some("办理时限与法定时限不符")));
    let name = block_on(db.query("SELECT name FROM items WHERE code = ?1", &[A.into()])).unwrap();
    assert_eq!(name[0]["name"], "个人客户接水申请", "citizens still see the published version");
    // A rejected draft must be edited before it can go back.
    assert_eq!(code(block_on(review::submit(&db, &act(&ed), A))), ErrorCode::ReviewStateInvalid);
    let d = block_on(review::update(&db, &act(&ed), A, item(A, "个人客户接水申请（改）", &["H1"], &[]))).unwrap();
    assert_eq!((d.state.as_str(), d.reason), ("draft", None));
    block_on(review::submit(&db, &act(&ed), A)).unwrap();
    block_on(review::publish(&db, &kv, &act(&rv), A)).unwrap();
    let name = block_on(db.query("SELECT name FROM items WHERE code = ?1", &[A.into()])).unwrap();
    assert_eq!(name[0]["name"], "个人客户接水申请（改）");
}

#[test]
fn drafts_are_validated_like_imports() {
    let (db, _) = seeded();
    let ed = staff("ed", &[Role::CatalogueEditor]);
    let mut bad = item(B, "水表过户", &["H9"], &[C]);
    bad["category"] = json!("不存在的分类");
    let err = block_on(review::create(&db, &act(&ed), bad)).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"item.category"), "{fields:?}");
    assert!(fields.contains(&"item.halls[0]"), "{fields:?}");
    assert!(fields.contains(&"item.related[0]"), "{fields:?}");
    let wrong_path = block_on(review::update(&db, &act(&ed), A, item(B, "x", &["H1"], &[])));
    assert_eq!(code(wrong_path), ErrorCode::BadRequest);
    assert_eq!(code(block_on(review::update(&db, &act(&ed), C, item(C, "x", &["H1"], &[])))), ErrorCode::ItemNotFound);
}

#[test]
fn a_stale_transition_loses_with_409_and_changes_nothing() {
    let (db, kv) = seeded();
    let (ed, rv) = (staff("ed", &[Role::CatalogueEditor]), staff("rv", &[Role::CatalogueReviewer]));
    block_on(review::create(&db, &act(&ed), item(B, "水表过户", &["H1"], &[]))).unwrap();
    let d = block_on(review::submit(&db, &act(&ed), B)).unwrap();
    // Another reviewer rejects it between our read and our write: the guard
    // (state and revision) aborts the whole publish batch.
    block_on(db.execute("UPDATE item_drafts SET state = 'rejected', revision = revision + 1", &[])).unwrap();
    block_on(db.execute("UPDATE item_drafts SET state = 'submitted'", &[])).unwrap();
    let stale = Stmt::precondition(
        "EXISTS (SELECT 1 FROM item_drafts WHERE code = ?1 AND revision = ?2)",
        vec![B.into(), d.revision.into()],
    );
    let version = block_on(repo::catalog_version(&db)).unwrap();
    let err = block_on(db.batch(&[stale, import::bump_version_stmt(now())])).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(block_on(repo::catalog_version(&db)).unwrap(), version, "the batch rolled back");
    // The real publish still works from the current revision.
    block_on(review::publish(&db, &kv, &act(&rv), B)).unwrap();
}

#[test]
fn archiving_hides_an_item_and_a_reviewed_draft_restores_it() {
    let (db, kv) = seeded();
    let (ed, rv) = (staff("ed", &[Role::CatalogueEditor]), staff("rv", &[Role::CatalogueReviewer]));
    assert_eq!(code(block_on(review::archive(&db, &kv, &act(&ed), A))), ErrorCode::Forbidden);
    let out = block_on(review::archive(&db, &kv, &act(&rv), A)).unwrap();
    assert_eq!(out.status, "withdrawn");
    assert!(block_on(repo::render_guide(&db, A)).unwrap().is_none(), "a withdrawn guide is gone");
    assert_eq!(code(block_on(review::archive(&db, &kv, &act(&rv), A))), ErrorCode::ReviewStateInvalid);
    block_on(review::update(&db, &act(&ed), A, item(A, "个人客户接水申请", &["H1"], &[]))).unwrap();
    block_on(review::submit(&db, &act(&ed), A)).unwrap();
    block_on(review::publish(&db, &kv, &act(&rv), A)).unwrap();
    assert_eq!(published(&db), vec![A]);
}

fn list(db: &SqliteDb, query: &str) -> listing::Page {
    let f = listing::Filter::parse(&Query::parse(query).unwrap()).unwrap();
    block_on(listing::list(db, &f)).unwrap()
}

#[test]
fn the_staff_list_filters_sorts_and_pages_every_state() {
    let (db, kv) = seeded();
    let (ed, rv) = (staff("ed", &[Role::CatalogueEditor]), staff("rv", &[Role::CatalogueReviewer]));
    block_on(review::create(&db, &act(&ed), item(B, "水表过户", &["H1"], &[]))).unwrap();
    block_on(review::submit(&db, &act(&ed), B)).unwrap();
    block_on(review::create(&db, &act(&ed), item(C, "用水人口变更", &["H1"], &[]))).unwrap();
    block_on(review::archive(&db, &kv, &act(&rv), A)).unwrap();
    let all = list(&db, "");
    assert_eq!(all.total, 3);
    let states: Vec<(&str, Option<&str>)> =
        all.items.iter().map(|r| (r.status.as_str(), r.review.as_deref())).collect();
    assert_eq!(states, [("withdrawn", None), ("unpublished", Some("submitted")), ("unpublished", Some("draft"))]);
    assert_eq!(list(&db, "review=submitted").items[0].code, B);
    assert_eq!(list(&db, "status=withdrawn").total, 1);
    assert_eq!(list(&db, "review=none").total, 1);
    assert_eq!(list(&db, "q=%E6%B0%B4%E8%A1%A8").items[0].name, "水表过户", "name filter 水表");
    assert_eq!(list(&db, "q=%25").total, 0, "a % in the filter is literal");
    let by_name = list(&db, "sort=name&order=desc&size=1&page=2");
    assert_eq!((by_name.total, by_name.items.len()), (3, 1));
    assert!(listing::Filter::parse(&Query::parse("sort=drop").unwrap()).is_err());
    let detail = block_on(listing::detail(&db, B)).unwrap();
    assert!(detail.published.is_none() && detail.draft.is_some());
}

#[test]
fn categories_are_maintained_and_cannot_be_deleted_while_used() {
    let (db, _) = seeded();
    let rv = staff("rv", &[Role::CatalogueReviewer]);
    let cats = block_on(taxonomy::categories(&db)).unwrap();
    assert_eq!(cats.len(), 27, "the 26 themes of 002 and 供水服务");
    let water = cats.iter().find(|c| c.name == "供水服务").unwrap();
    assert_eq!((water.items, water.refs), (1, 1));
    let body = taxonomy::CategoryBody { position: 30, description: "新设".into() };
    let c = block_on(taxonomy::put_category(&db, &act(&rv), "燃气服务", &body)).unwrap();
    assert_eq!((c.position, c.items), (30, 0));
    let bad = taxonomy::CategoryBody { position: 0, description: String::new() };
    assert_eq!(code(block_on(taxonomy::put_category(&db, &act(&rv), "x", &bad))), ErrorCode::ValidationFailed);
    assert_eq!(code(block_on(taxonomy::delete_category(&db, &act(&rv), "供水服务"))), ErrorCode::CategoryInUse);
    block_on(taxonomy::delete_category(&db, &act(&rv), "燃气服务")).unwrap();
    assert_eq!(code(block_on(taxonomy::delete_category(&db, &act(&rv), "燃气服务"))), ErrorCode::NotFound);
}

fn tags(db: &SqliteDb, c: &str) -> Value {
    let rows = block_on(db.query("SELECT tags FROM items WHERE code = ?1", &[c.into()])).unwrap();
    serde_json::from_str(rows[0]["tags"].as_str().unwrap()).unwrap()
}

#[test]
fn tags_are_renamed_merged_and_deleted_across_items() {
    let (db, kv) = seeded();
    let rv = staff("rv", &[Role::CatalogueReviewer]);
    let original = tags(&db, A);
    let first = original[0].as_str().unwrap().to_owned();
    let rename = taxonomy::RenameBody { from: first.clone(), to: "用水报装".into() };
    let out = block_on(taxonomy::rename_tag(&db, &kv, &act(&rv), &rename)).unwrap();
    assert_eq!(out.items_changed, 1);
    let now_tags = tags(&db, A);
    assert!(now_tags.as_array().unwrap().contains(&json!("用水报装")));
    assert!(!now_tags.as_array().unwrap().contains(&json!(first)));
    block_on(taxonomy::delete_tag(&db, &kv, &act(&rv), "用水报装")).unwrap();
    assert!(!tags(&db, A).as_array().unwrap().contains(&json!("用水报装")));
    let gone = block_on(taxonomy::delete_tag(&db, &kv, &act(&rv), "用水报装"));
    assert_eq!(code(gone), ErrorCode::NotFound);
}

#[test]
fn word_lists_are_validated_and_each_change_bumps_the_version() {
    let (db, _) = seeded();
    let rv = staff("rv", &[Role::CatalogueReviewer]);
    let kind = taxonomy::WordKind::parse("thesaurus").unwrap();
    let v0 = block_on(repo::catalog_version(&db)).unwrap();
    let body = taxonomy::WordsBody {
        entries: vec![taxonomy::WordEntry { term: "交燃气费".into(), target: Some("燃气缴费".into()) }],
    };
    block_on(taxonomy::put_words(&db, &act(&rv), kind, &body)).unwrap();
    assert_eq!(block_on(repo::catalog_version(&db)).unwrap(), v0 + 1);
    let list = block_on(taxonomy::words(&db, kind)).unwrap();
    assert!(list.iter().any(|w| w.term == "交燃气费" && w.target.as_deref() == Some("燃气缴费")));
    let no_target = taxonomy::WordsBody { entries: vec![taxonomy::WordEntry { term: "x".into(), target: None }] };
    assert_eq!(code(block_on(taxonomy::put_words(&db, &act(&rv), kind, &no_target))), ErrorCode::ValidationFailed);
    let banned = taxonomy::WordKind::parse("banned").unwrap();
    let with_target =
        taxonomy::WordsBody { entries: vec![taxonomy::WordEntry { term: "x".into(), target: Some("y".into()) }] };
    assert_eq!(code(block_on(taxonomy::put_words(&db, &act(&rv), banned, &with_target))), ErrorCode::ValidationFailed);
    block_on(taxonomy::delete_word(&db, &act(&rv), kind, "交燃气费")).unwrap();
    assert_eq!(code(block_on(taxonomy::delete_word(&db, &act(&rv), kind, "交燃气费"))), ErrorCode::NotFound);
    assert!(taxonomy::WordKind::parse("other").is_err());
    let ed = staff("ed", &[Role::CatalogueEditor]);
    assert_eq!(code(block_on(taxonomy::put_words(&db, &act(&ed), kind, &body))), ErrorCode::Forbidden);
}

fn feed(items: Vec<Value>) -> String {
    json!({ "items": items }).to_string()
}

#[test]
fn a_sync_reports_created_updated_unchanged_and_rejected_items() {
    let (db, kv) = seeded();
    let bot = sync::cron_principal();
    let http = ScriptedHttp::default();
    let f = sync::Feed { url: "https://feed.example/items?key=secret".into(), token: Some("t0k".into()) };
    let mut bad = item(C, "坏数据", &["H1"], &[]);
    bad["category"] = json!("不存在");
    http.answer(200, &feed(vec![item(A, "个人客户接水申请", &["H1"], &[]), item(B, "水表过户", &["H1"], &[A]), bad]));
    let r = block_on(sync::run(&db, &kv, &http, &act(&bot), &f, "cron")).unwrap();
    assert_eq!(
        (r.created.clone(), r.updated.clone(), r.unchanged, r.rejected_count),
        (vec![B.into()], vec![A.into()], 0, 1)
    );
    assert_eq!(r.rejected[0].code.as_deref(), Some(C));
    assert!(r.rejected[0].errors.iter().any(|e| e.field == "item.category"));
    let sent = http.sent.borrow();
    assert!(sent[0].headers.contains(&("authorization".into(), "Bearer t0k".into())));
    drop(sent);
    assert_eq!(published(&db), vec![A, B]);
    // The same feed again changes nothing and does not bump the version.
    let v = block_on(repo::catalog_version(&db)).unwrap();
    http.answer(200, &feed(vec![item(A, "个人客户接水申请", &["H1"], &[]), item(B, "水表过户", &["H1"], &[A])]));
    let again = block_on(sync::run(&db, &kv, &http, &act(&bot), &f, "manual")).unwrap();
    assert_eq!((again.created.len(), again.updated.len(), again.unchanged), (0, 0, 2));
    assert_eq!(block_on(repo::catalog_version(&db)).unwrap(), v);
    let runs = block_on(sync::recent_runs(&db)).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].source, "https://feed.example/items", "the key in the query string is not stored");
}

#[test]
fn an_unreachable_or_malformed_feed_is_a_recorded_502_that_changes_nothing() {
    let (db, kv) = seeded();
    let bot = sync::cron_principal();
    let f = sync::Feed { url: "https://feed.example/items".into(), token: None };
    let http = ScriptedHttp::default();
    http.fail().answer(500, "oops").answer(200, "<html>");
    let v = block_on(repo::catalog_version(&db)).unwrap();
    for _ in 0..3 {
        let err = block_on(sync::run(&db, &kv, &http, &act(&bot), &f, "cron")).unwrap_err();
        assert_eq!(err.code, ErrorCode::FeedUnavailable);
    }
    assert_eq!(block_on(repo::catalog_version(&db)).unwrap(), v);
    let runs = block_on(sync::recent_runs(&db)).unwrap();
    assert!(runs.iter().all(|r| r.status == "failed") && runs.len() == 3);
}
