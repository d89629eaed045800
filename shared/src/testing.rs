//! Test support for this crate and the workers (feature `testing`): the
//! fixed clock every domain test runs at, a migrated SQLite database with
//! citizens, and sample catalogue rows (each a complete, valid import row).
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use crate::types::BeijingTime;

use serde_json::{Value, json};

/// A Beijing time from RFC 3339 text (a test's fixed instant).
pub fn at(rfc3339: &str) -> BeijingTime {
    BeijingTime::parse(rfc3339).expect("a valid RFC 3339 time")
}

/// Monday 2026-11-23 10:00 in Beijing: "now" for the domain tests.
pub fn now() -> BeijingTime {
    at("2026-11-23T10:00:00+08:00")
}

/// A fresh SQLite database with every production migration and a citizen
/// row for each id.
#[cfg(not(target_arch = "wasm32"))]
pub fn db_with_citizens(ids: &[&str]) -> crate::store::SqliteDb {
    use crate::store::Db;
    let db = crate::store::SqliteDb::migrated().expect("migrations apply");
    for id in ids {
        futures_executor::block_on(
            db.execute("INSERT INTO citizens (id, created_at, updated_at) VALUES (?1, 'x', 'x')", &[(*id).into()]),
        )
        .expect("citizen inserted");
    }
    db
}

/// A valid hall import row.
pub fn hall(id: &str, lat: f64, lng: f64) -> Value {
    json!({"id": id, "name": format!("{id}营业厅"), "district": "稠城街道", "address": "宾王路1号",
           "hours": "周一至周五 08:30-17:00", "phone": "0579-85510011", "lat": lat, "lng": lng})
}

/// A valid item import row for `code` (a 31-character implementation code),
/// handled at `halls` and related to `related`.
pub fn item(code: &str, name: &str, halls: &[&str], related: &[&str]) -> Value {
    json!({
        "code": code, "basic_code": &code[19..], "name": name, "category": "供水服务",
        "tags": ["供水"], "department": "义乌市供水有限公司", "service_object": ["自然人"],
        "online": {"available": true, "url": "https://water.example.cn/a"}, "appointment": true,
        "materials": [
            {"name": "居民身份证", "form": "original", "copies": 1, "required": true},
            {"name": "申请表", "form": "original", "copies": 1, "required": true, "sample_url": "https://x.cn/s.pdf"},
        ],
        "halls": halls, "related": related,
        "guide": {
            "scope": "个人客户新装水表", "legal_basis": ["《城市供水条例》"],
            "accepting_department": "供水公司", "deciding_department": "供水公司",
            "handling_unit": "供水公司", "business_office": "营业部",
            "conditions": ["在管网覆盖范围内"], "prohibitions": ["不得要求额外材料"],
            "process": [{"name": "申请", "description": "提交申请"}],
            "time_limit": {"legal_days": 15, "promised_days": 7},
            "fees": {"free": true},
            "delivery": ["窗口领取"], "pickup_methods": ["窗口领取"],
            "appointment_methods": ["网上预约"],
            "supervision": {"phone": "12345", "channels": ["12345热线"]},
            "common_errors": ["户号填错"], "faq": [{"q": "多久办好？", "a": "7个工作日"}],
            "situations": [{"id": "q1", "text": "是否本人？", "options": [
                {"label": "是", "item_code": code, "materials": ["居民身份证"]},
                {"label": "否", "item_code": code, "materials": ["居民身份证", "申请表"]}]}]
        }
    })
}

/// A database on which another writer runs `sql` once, just before our
/// first batch: the race a precondition in that batch must lose to.
#[cfg(not(target_arch = "wasm32"))]
pub struct Interleaved {
    pub inner: crate::store::SqliteDb,
    sql: String,
    params: Vec<crate::store::Value>,
    fired: std::cell::Cell<bool>,
}

#[cfg(not(target_arch = "wasm32"))]
impl Interleaved {
    /// `inner`, with `sql` (and its `params`) run before the first batch.
    pub fn new(inner: crate::store::SqliteDb, sql: &str, params: Vec<crate::store::Value>) -> Self {
        Self { inner, sql: sql.to_owned(), params, fired: std::cell::Cell::new(false) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl crate::store::Db for Interleaved {
    async fn query(&self, sql: &str, params: &[crate::store::Value]) -> crate::ApiResult<Vec<crate::store::Row>> {
        self.inner.query(sql, params).await
    }
    async fn batch(&self, stmts: &[crate::store::Stmt]) -> crate::ApiResult<Vec<u64>> {
        if !self.fired.replace(true) {
            self.inner.execute(&self.sql, &self.params).await?;
        }
        self.inner.batch(stmts).await
    }
}

/// The demo catalogue's import body (`scripts/catalog/demo.mjs`, run with
/// the machine's node): halls and items, as the relevance suite loads it.
pub fn demo_catalogue() -> Result<Value, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/catalog/demo.mjs");
    let out = std::process::Command::new("node").arg(script).output().map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(format!("demo.mjs: {}", String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}
