//! 我的办件 natively on SQLite: 200 matters across the five kinds in one
//! query, grouped, newest first, none of another citizen's.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use identity::cases::{self, Group};
use shared::store::{Db, SqliteDb};

const NOW: &str = "2026-12-02T10:00:00+08:00";

fn at(i: usize) -> String {
    format!("2026-11-{:02}T{:02}:{:02}:00+08:00", 1 + i % 28, i % 24, i % 60)
}

/// 40 of each kind for `who`, statuses cycling through each kind's states.
fn seed(db: &SqliteDb, who: &str) {
    block_on(db.execute(
        "INSERT OR IGNORE INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
         VALUES ('H001', '营业厅', '稠城', '宾王路1号', '8:30-17:00', '0579-85510011', 29.3, 120.07, 1, 'x')",
        &[],
    ))
    .unwrap();
    block_on(db.execute(
        "INSERT OR IGNORE INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at)
         VALUES ('R1', 'H001', 'window', '综合窗口', '[]', '{}', 'x')",
        &[],
    ))
    .unwrap();
    for i in 0..40 {
        let t = at(i);
        let n = format!("{who}{i:03}");
        let app = ["draft", "submitted", "correction", "accepted", "completed"][i % 5];
        block_on(db.execute(
            "INSERT INTO applications (number, citizen_id, item_code, item_name, department, status, promised_days, created_at, updated_at)
             VALUES (?1, ?2, 'X', '水表过户', '供水', ?3, 3, ?4, ?4)",
            &[format!("SB{n}").into(), who.into(), app.into(), t.as_str().into()],
        ))
        .unwrap();
        let appt = ["booked", "checked_in", "cancelled", "no_show"][i % 4];
        block_on(db.execute(
            "INSERT INTO appointments (id, citizen_id, resource_id, hall_id, item_code, day, slot_start, slot_end, status, checkin_code, created_at, updated_at)
             VALUES (?1, ?2, 'R1', 'H001', ?6, ?5, ?5 || 'T09:00:00+08:00', ?5 || 'T09:30:00+08:00', ?3, '123456', ?4, ?4)",
            &[format!("YY{n}").into(), who.into(), appt.into(), t.as_str().into(), format!("2026-10-{:02}", 1 + i % 30).into(), format!("I{}", i / 30).into()],
        ))
        .unwrap();
        let complaint = ["received", "assigned", "replied", "closed"][i % 4];
        block_on(db.execute(
            "INSERT INTO complaints (number, citizen_id, kind, category, content, anonymous, status, deadline, created_at, updated_at)
             VALUES (?1, ?2, 'complaint', '供水', '内容', 0, ?3, '2026-12-10', ?4, ?4)",
            &[format!("TS{n}").into(), who.into(), complaint.into(), t.as_str().into()],
        ))
        .unwrap();
        block_on(db.execute(
            "INSERT INTO uploads (id, citizen_id, content_type, size, sha256, created_at) VALUES (?1, ?2, 'application/pdf', 1, 'h', 'x')",
            &[format!("up{n}").into(), who.into()],
        ))
        .unwrap();
        let invoice = ["accepted", "issued", "mailed", "rejected"][i % 4];
        block_on(db.execute(
            "INSERT INTO invoice_requests (id, citizen_id, account_no, company_name, company_address, contact_phone, tax_id, bank_name,
                bank_account, applicant, license_upload, tax_notice_upload, status, created_at, updated_at)
             VALUES (?1, ?2, '20261001', '公司', '地址', '13900000000', '91330782MA2D4W8J3L', '银行', '1', '张三', ?3, ?3, ?4, ?5, ?5)",
            &[format!("FP{n}").into(), who.into(), format!("up{n}").into(), invoice.into(), t.as_str().into()],
        ))
        .unwrap();
        let pay = ["pending", "paid", "closed", "review"][i % 4];
        block_on(db.execute(
            "INSERT INTO payment_orders (out_trade_no, citizen_id, provider, amount_fen, bill_key, status, created_at, expires_at)
             VALUES (?1, ?2, 'wechatpay', 3840, 'b', ?3, ?4, '2026-12-02T10:15:00+08:00')",
            &[format!("PO{n}").into(), who.into(), pay.into(), t.as_str().into()],
        ))
        .unwrap();
    }
}

#[test]
fn two_hundred_matters_of_five_kinds_come_grouped_and_newest_first_in_one_query() {
    let db = shared::testing::db_with_citizens(&["a", "b"]);
    seed(&db, "a");
    seed(&db, "b");
    let c = block_on(cases::list(&db, "a", NOW)).unwrap();
    let all: Vec<_> = c.todo.iter().chain(&c.in_progress).chain(&c.done).collect();
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|m| m.id.contains('a') && !m.id.contains('b')), "only a's own");
    for kind in ["application", "appointment", "complaint", "invoice", "payment"] {
        assert_eq!(all.iter().filter(|m| m.kind == kind).count(), 40, "{kind}");
    }
    for group in [&c.todo, &c.in_progress, &c.done] {
        assert!(group.windows(2).all(|w| w[0].updated_at >= w[1].updated_at), "newest first");
    }
    assert!(c.todo.iter().all(|m| m.group == Group::Todo));
    assert!(c.todo.iter().any(|m| m.kind == "payment" && m.next_step == "完成支付"));
    assert!(c.in_progress.iter().any(|m| m.kind == "application" && m.status == "accepted"));
    assert!(c.done.iter().any(|m| m.kind == "complaint" && m.next_step == "查看办理结果并评价"));
    assert_eq!(c.todo.iter().find(|m| m.kind == "application").unwrap().link.split('/').nth(1), Some("applications"));
}

#[test]
fn each_part_of_the_query_reads_its_citizen_index() {
    let db = shared::testing::db_with_citizens(&["a"]);
    let sql = format!("EXPLAIN QUERY PLAN {}", cases_sql());
    let plan = block_on(db.query(&sql, &["a".into(), 500i64.into()])).unwrap();
    let details: Vec<String> = plan.iter().map(|r| r["detail"].as_str().unwrap_or("").to_owned()).collect();
    let scans: Vec<&String> = details
        .iter()
        .filter(|d| d.starts_with("SCAN") && !d.contains("INDEX") && !d.to_lowercase().contains("subquery"))
        .collect();
    assert!(scans.is_empty(), "full scans: {scans:?}\n{details:#?}");
}

fn cases_sql() -> &'static str {
    cases::SQL
}
