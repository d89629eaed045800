//! D1 and Workers KV behind the [`crate::store`] traits.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::{Db, Kv, Row, Stmt, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, kv::KvStore};

/// D1 as a [`Db`].
pub struct D1Db(D1Database);

impl D1Db {
    /// Wraps a D1 binding.
    pub fn new(db: D1Database) -> Self {
        Self(db)
    }

    fn prepare(&self, sql: &str, params: &[Value]) -> ApiResult<D1PreparedStatement> {
        let args: Vec<JsValue> = params.iter().map(js_value).collect();
        self.0.prepare(sql).bind(&args).map_err(d1_err)
    }
}

fn js_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        // D1 numbers are JS doubles: integers beyond 2^53 do not occur in our schema.
        Value::Int(i) => JsValue::from_f64(*i as f64),
        Value::Real(f) => JsValue::from_f64(*f),
        Value::Text(s) => JsValue::from_str(s),
    }
}

fn d1_err(e: worker::Error) -> ApiError {
    let text = e.to_string();
    // D1 reports an overloaded or unreachable database this way; the client may retry.
    let code = if crate::store::is_precondition_failure(&text) {
        ErrorCode::Conflict
    } else if text.contains("D1_ERROR") && text.contains("overloaded") {
        ErrorCode::StorageUnavailable
    } else {
        ErrorCode::Internal
    };
    ApiError { internal: Some(format!("d1: {text}")), ..code.into() }
}

impl Db for D1Db {
    async fn query(&self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>> {
        let result = self.prepare(sql, params)?.all().await.map_err(d1_err)?;
        result.results::<Row>().map_err(d1_err)
    }

    async fn batch(&self, stmts: &[Stmt]) -> ApiResult<Vec<u64>> {
        let prepared = stmts.iter().map(|s| self.prepare(&s.sql, &s.params)).collect::<ApiResult<Vec<_>>>()?;
        let results = self.0.batch(prepared).await.map_err(d1_err)?;
        Ok(results.iter().map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) as u64).collect())
    }
}

/// Workers KV as a [`Kv`].
pub struct WorkersKv(KvStore);

impl WorkersKv {
    /// Wraps a KV binding.
    pub fn new(kv: KvStore) -> Self {
        Self(kv)
    }
}

fn kv_err(e: impl std::fmt::Display) -> ApiError {
    ApiError { internal: Some(format!("kv: {e}")), ..ErrorCode::StorageUnavailable.into() }
}

/// KV refuses TTLs under 60 seconds.
const MIN_KV_TTL: u64 = 60;

impl Kv for WorkersKv {
    async fn get(&self, key: &str) -> ApiResult<Option<String>> {
        self.0.get(key).text().await.map_err(kv_err)
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> ApiResult<()> {
        let mut put = self.0.put(key, value).map_err(kv_err)?;
        if let Some(ttl) = ttl_secs {
            put = put.expiration_ttl(ttl.max(MIN_KV_TTL));
        }
        put.execute().await.map_err(kv_err)
    }

    async fn delete(&self, key: &str) -> ApiResult<()> {
        self.0.delete(key).await.map_err(kv_err)
    }
}
