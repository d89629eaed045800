//! The [`Db`] trait, its statements and values, and the migrations it runs.

use crate::error::{ApiError, ApiResult};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

/// A bound SQL parameter. D1 and SQLite share these four storage classes
/// (blobs are not used: binary data lives in R2 or KV).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Real(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// One row, column name to JSON value (what D1 returns natively).
pub type Row = Map<String, Json>;

/// A statement with its parameters, for [`Db::batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Stmt {
    /// A statement with parameters bound in order to `?1`, `?2`, ...
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Self { sql: sql.into(), params }
    }

    /// A statement that aborts its whole batch, answered 409 `conflict`,
    /// unless `condition` (an SQL boolean over `params`) holds when it runs:
    /// optimistic concurrency for read-check-write changes.
    pub fn precondition(condition: &str, params: Vec<Value>) -> Self {
        Self::new(format!("INSERT INTO batch_guard (ok) SELECT 0 WHERE NOT ({condition})"), params)
    }
}

/// Whether a database error is a lost race: a failed [`Stmt::precondition`]
/// or a unique index refusing a second row (answered 409 `conflict`).
pub fn is_precondition_failure(message: &str) -> bool {
    message.contains("batch_guard_precondition") || message.contains("UNIQUE constraint failed")
}

/// A SQL database: D1 on Workers, SQLite natively.
#[allow(async_fn_in_trait)]
pub trait Db {
    /// Runs a query and returns every row.
    async fn query(&self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>>;

    /// Runs statements atomically: all apply or none (D1 `batch` is one
    /// transaction). Returns the rows changed by each.
    async fn batch(&self, stmts: &[Stmt]) -> ApiResult<Vec<u64>>;

    /// Runs one write and returns the rows it changed.
    async fn execute(&self, sql: &str, params: &[Value]) -> ApiResult<u64> {
        let changed = self.batch(&[Stmt::new(sql, params.to_vec())]).await?;
        Ok(changed.first().copied().unwrap_or(0))
    }

    /// Runs a query and decodes each row into `T`.
    async fn query_as<T: DeserializeOwned>(&self, sql: &str, params: &[Value]) -> ApiResult<Vec<T>> {
        self.query(sql, params).await?.into_iter().map(decode_row).collect()
    }

    /// Runs a query and decodes its first row, if any.
    async fn first_as<T: DeserializeOwned>(&self, sql: &str, params: &[Value]) -> ApiResult<Option<T>> {
        let rows = self.query(sql, params).await?;
        rows.into_iter().next().map(decode_row).transpose()
    }
}

/// Decodes a row into a typed record; a mismatch is a bug in our SQL, so it
/// is an internal error.
pub fn decode_row<T: DeserializeOwned>(row: Row) -> ApiResult<T> {
    serde_json::from_value(Json::Object(row)).map_err(|e| ApiError::internal(format!("row decode: {e}")))
}

/// The migration files in `schemas/migrations`, in the order D1 applies them.
#[cfg(not(target_arch = "wasm32"))]
pub fn migration_files() -> std::io::Result<Vec<(String, String)>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/migrations");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path)?));
        }
    }
    files.sort();
    Ok(files)
}
