//! Account deletion leaves nothing that identifies the person (issue 15,
//! item 4), on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use shared::identity::erasure::{self, PERSONAL_COLUMNS, TABLES, Treatment};
use shared::store::{Db, Kv, MemoryKv, SqliteDb};
use shared::testing::{db_with_citizens, now};

fn count(db: &SqliteDb, sql: &str) -> i64 {
    let rows = block_on(db.query(sql, &[])).unwrap();
    rows[0].values().next().and_then(|v| v.as_i64()).unwrap()
}

#[test]
fn every_table_with_a_personal_column_has_a_treatment_on_account_deletion() {
    let db = SqliteDb::migrated().unwrap();
    let tables = block_on(db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", &[])).unwrap();
    let mut missing = vec![];
    for t in tables {
        let name = t["name"].as_str().unwrap().to_owned();
        let cols = block_on(db.query(&format!("SELECT name FROM pragma_table_info('{name}')"), &[])).unwrap();
        let personal: Vec<String> = cols
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .filter(|c| PERSONAL_COLUMNS.contains(&c.as_str()))
            .collect();
        if !personal.is_empty() && !TABLES.iter().any(|(t, _)| *t == name) {
            missing.push(format!("{name} ({})", personal.join(", ")));
        }
    }
    assert!(missing.is_empty(), "tables holding personal data with no treatment in erasure::TABLES: {missing:?}");
    for (t, how) in TABLES {
        let n = count(&db, &format!("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '{t}'"));
        assert_eq!(n, 1, "erasure::TABLES names {t}, which the schema does not have");
        if let Treatment::Anonymised(why) | Treatment::Kept(why) = how {
            assert!(!why.is_empty(), "{t} needs its reason");
        }
    }
}

/// Citizen `a` with a row in every table deletion touches; `b` the same, to
/// show only `a`'s go.
fn seeded() -> (SqliteDb, MemoryKv) {
    let db = db_with_citizens(&["a", "b"]);
    let kv = MemoryKv::default();
    block_on(db.execute(
        "INSERT INTO supply_areas (code, name, level, parent_code, path, full_name, updated_at)
         VALUES ('A1', '北苑街道', 'district', NULL, 'A1', '北苑街道', 'x')",
        &[],
    ))
    .unwrap();
    for c in ["a", "b"] {
        for sql in [
            "UPDATE citizens SET phone = '1381234567' || (CASE ?1 WHEN 'a' THEN '1' ELSE '2' END),
               phone_hash = 'h-' || ?1, email = ?1 || '@x.cn', mailing_address = '宾王路1号', openid = 'o-' || ?1 WHERE id = ?1",
            "INSERT INTO sessions (id, citizen_id, token_hash, method, created_at, expires_at) VALUES ('s-' || ?1, ?1, 't-' || ?1, 'wechat', 'x', '2999')",
            "INSERT INTO messages (id, citizen_id, seq, kind, title, body, created_at) VALUES ('m-' || ?1, ?1, 1, 'system', 't', 'b', 'x')",
            "INSERT INTO search_history (citizen_id, query, at) VALUES (?1, '接水', 'x')",
            "INSERT INTO citizen_plates (citizen_id, plate, created_at) VALUES (?1, '浙G12345' || ?1, 'x')",
            "INSERT INTO water_accounts (account_no, holder_masked, holder_phone_hash, address, category, updated_at)
               VALUES ('1001' || (CASE ?1 WHEN 'a' THEN '01' ELSE '02' END), '张*', 'hh', '宾王路', '居民', 'x')",
            "INSERT INTO citizen_water_accounts (citizen_id, account_no, bound_at)
               VALUES (?1, '1001' || (CASE ?1 WHEN 'a' THEN '01' ELSE '02' END), 'x')",
            "INSERT INTO water_bind_failures (citizen_id, at) VALUES (?1, 'x')",
            "INSERT INTO bills (id, account_no, period, usage_m3, amount_fen, due_date, updated_at)
               VALUES ('B' || ?1, '1001' || (CASE ?1 WHEN 'a' THEN '01' ELSE '02' END), '2026-11', 10, 3000, '2026-12-20', 'x')",
            "INSERT INTO bill_notices (bill_id, kind, citizen_id, channel, status, at, sweep)
               VALUES ('B' || ?1, 'issued', ?1, 'inbox', 'posted', 'x', 's')",
            "INSERT INTO outage_subscriptions (id, citizen_id, utility, area_code, created_at) VALUES ('os-' || ?1, ?1, 'water', 'A1', 'x')",
            "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, 'tmpl', 2, 'x')",
            "INSERT INTO wechat_sends (citizen_id, template_id, purpose, ref, claim, status, at)
               VALUES (?1, 'tmpl', 'booking_reminder', 'YY1', 'c', 'sent', 'x')",
            "INSERT INTO uploads (id, citizen_id, content_type, size, sha256, created_at) VALUES ('up_' || ?1, ?1, 'image/png', 3, 'x', 'x')",
            "INSERT INTO uploads (id, citizen_id, content_type, size, sha256, created_at) VALUES ('up_doc_' || ?1, ?1, 'application/pdf', 3, 'x', 'x')",
            "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at, attempts) VALUES ('c-' || ?1, 'h-' || ?1, 'x', 'x', 'x', 0)",
            "INSERT INTO sms_log (at, provider, phone_hash, phone_masked, template_code, purpose, status, request_id)
               VALUES ('x', 'aliyun', 'h-' || ?1, '138****5678', 'T', 'login', 'sent', 'r')",
            "INSERT INTO sms_flags (phone_hash, code, at) VALUES ('h-' || ?1, 'MOBILE_IN_BLACK', 'x')",
            "INSERT INTO invoice_requests (id, citizen_id, account_no, company_name, company_address, contact_phone, tax_id,
               bank_name, bank_account, applicant, license_upload, tax_notice_upload, status, created_at, updated_at)
               VALUES ('inv-' || ?1, ?1, '100101', '某公司', '宾王路', '13812345678', '91330782MA2D4W8J3L', '农行', '6228480000', '张三',
               'up_doc_' || ?1, 'up_doc_' || ?1, 'issued', 'x', 'x')",
        ] {
            block_on(db.execute(sql, &[c.into()])).map_err(|e| format!("{sql}: {e:?}")).unwrap();
        }
        block_on(kv.put(&format!("upload:up_{c}"), "AAAA", None)).unwrap();
        block_on(kv.put(&format!("upload:up_doc_{c}"), "AAAA", None)).unwrap();
    }
    (db, kv)
}

#[test]
fn deleting_an_account_leaves_no_row_or_blob_that_identifies_the_person() {
    let (db, kv) = seeded();
    block_on(erasure::delete(&db, &kv, "a", now())).unwrap();
    for (table, how) in TABLES {
        if *how != Treatment::Deleted {
            continue;
        }
        let cols = block_on(db.query(&format!("SELECT name FROM pragma_table_info('{table}')"), &[])).unwrap();
        let key =
            if cols.iter().any(|c| c["name"] == "citizen_id") { "citizen_id = 'a'" } else { "phone_hash = 'h-a'" };
        assert_eq!(
            count(&db, &format!("SELECT count(*) AS n FROM {table} WHERE {key}")),
            0,
            "{table} still holds a's rows"
        );
        let other = if key.starts_with("citizen") { "citizen_id = 'b'" } else { "phone_hash = 'h-b'" };
        assert!(count(&db, &format!("SELECT count(*) AS n FROM {table} WHERE {other}")) > 0, "{table} lost b's rows");
    }
    let a = &block_on(db.query("SELECT * FROM citizens WHERE id = 'a'", &[])).unwrap()[0];
    for col in ["openid", "phone", "phone_hash", "email", "mailing_address"] {
        assert!(a[col].is_null(), "citizens.{col} kept");
    }
    assert!(!a["deleted_at"].is_null());
    let inv = &block_on(db.query("SELECT * FROM invoice_requests WHERE id = 'inv-a'", &[])).unwrap()[0];
    for col in ["contact_phone", "applicant", "bank_name", "bank_account"] {
        assert_eq!(inv[col], "", "invoice_requests.{col} kept");
    }
    assert_eq!(inv["tax_id"], "91330782MA2D4W8J3L", "the tax record stays");
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM sms_log WHERE phone_masked = '138****5678'"),
        1,
        "only b's send keeps its mask"
    );
    assert_eq!(block_on(kv.get("upload:up_a")).unwrap(), None, "the upload's bytes are gone");
    assert_eq!(block_on(kv.get("upload:up_doc_a")).unwrap(), None, "an invoice document's bytes are gone too");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM uploads WHERE id = 'up_a'"), 0);
    assert!(block_on(kv.get("upload:up_b")).unwrap().is_some(), "someone else's upload stays");
}

#[test]
fn deleting_an_account_cancels_its_bookings_and_frees_their_places() {
    let (db, kv) = seeded();
    for sql in [
        "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
           VALUES ('H1', '营业厅', '稠城', '宾王路', '08:30', '0579', 29.3, 120.1, 1, 'x')",
        "INSERT INTO appt_resources (id, hall_id, kind, name, items, rules, updated_at) VALUES ('W1', 'H1', 'window', '1号窗口', '[]', '{}', 'x')",
        "INSERT INTO appointments (id, citizen_id, resource_id, hall_id, kind, item_code, plate, day, slot_start, slot_end, status, checkin_code, created_at, updated_at)
           VALUES ('ap1', 'a', 'W1', 'H1', 'parking', 'I', '浙G12345', '2026-11-24', '2026-11-24T08:30:00+08:00', '2026-11-24T09:00:00+08:00', 'booked', '123456', 'x', 'x'),
                  ('ap2', 'a', 'W1', 'H1', 'window', 'I', NULL, '2026-11-20', '2026-11-20T08:30:00+08:00', '2026-11-20T09:00:00+08:00', 'checked_in', '123457', 'x', 'x'),
                  ('ap3', 'b', 'W1', 'H1', 'window', 'I', NULL, '2026-11-24', '2026-11-24T08:30:00+08:00', '2026-11-24T09:00:00+08:00', 'booked', '123458', 'x', 'x')",
    ] {
        block_on(db.execute(sql, &[])).unwrap();
    }
    block_on(erasure::delete(&db, &kv, "a", now())).unwrap();
    let status = |id: &str| {
        block_on(db.query("SELECT status, plate FROM appointments WHERE id = ?1", &[id.into()])).unwrap()[0].clone()
    };
    assert_eq!(status("ap1")["status"], "cancelled", "an active booking is cancelled, its place freed");
    assert!(status("ap1")["plate"].is_null(), "the plate is gone");
    assert_eq!(status("ap2")["status"], "checked_in", "a past visit stays for the statistics");
    assert_eq!(status("ap3")["status"], "booked", "someone else's booking is untouched");
}
