//! Real SQLite for native tests and tools, running the very migration files
//! that `wrangler d1 migrations apply` runs.

use super::db::{Db, Row, Stmt, Value, is_precondition_failure, migration_files};
use crate::error::{ApiError, ApiResult, ErrorCode};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use serde_json::Value as Json;
use std::cell::{Cell, RefCell};

/// A SQLite database that can be told to fail, like azul's `StorageMode::Break`.
pub struct SqliteDb {
    conn: RefCell<Connection>,
    broken: Cell<bool>,
}

impl SqliteDb {
    /// An in-memory database with every migration applied.
    pub fn migrated() -> ApiResult<Self> {
        let conn = Connection::open_in_memory().map_err(sql_err)?;
        // D1 enforces foreign keys; match it.
        conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(sql_err)?;
        let files = migration_files().map_err(|e| ApiError::internal(e.to_string()))?;
        for (name, sql) in files {
            conn.execute_batch(&sql).map_err(|e| ApiError::internal(format!("{name}: {e}")))?;
        }
        Ok(Self { conn: RefCell::new(conn), broken: Cell::new(false) })
    }

    /// A database file written by [`SqliteDb::save_to`] (for probes that
    /// measure a fresh process).
    pub fn open(path: &std::path::Path) -> ApiResult<Self> {
        let conn = Connection::open(path).map_err(sql_err)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(sql_err)?;
        Ok(Self { conn: RefCell::new(conn), broken: Cell::new(false) })
    }

    /// Writes the whole database to a new file.
    pub fn save_to(&self, path: &std::path::Path) -> ApiResult<()> {
        let path = path.to_str().ok_or_else(|| ApiError::internal("database path is not UTF-8"))?;
        self.conn.borrow().execute("VACUUM INTO ?1", [path]).map_err(sql_err)?;
        Ok(())
    }

    /// From now on every call fails as an unreachable database would.
    pub fn break_storage(&self, broken: bool) {
        self.broken.set(broken);
    }

    fn check(&self) -> ApiResult<()> {
        if self.broken.get() {
            Err(ApiError { internal: Some("storage broken on purpose".into()), ..ErrorCode::StorageUnavailable.into() })
        } else {
            Ok(())
        }
    }
}

fn sql_err(e: rusqlite::Error) -> ApiError {
    let text = e.to_string();
    if is_precondition_failure(&text) {
        return ApiError { internal: Some(format!("sqlite: {text}")), ..ErrorCode::Conflict.into() };
    }
    ApiError::internal(format!("sqlite: {text}"))
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn to_json(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => Json::from(i),
        ValueRef::Real(f) => Json::from(f),
        ValueRef::Text(t) => Json::from(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Json::from(b.to_vec()),
    }
}

impl Db for SqliteDb {
    async fn query(&self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>> {
        self.check()?;
        let conn = self.conn.borrow();
        let mut stmt = conn.prepare_cached(sql).map_err(sql_err)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(sql_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err)? {
            let mut map = Row::new();
            for (i, name) in names.iter().enumerate() {
                map.insert(name.clone(), to_json(row.get_ref(i).map_err(sql_err)?));
            }
            out.push(map);
        }
        Ok(out)
    }

    async fn batch(&self, stmts: &[Stmt]) -> ApiResult<Vec<u64>> {
        self.check()?;
        let mut conn = self.conn.borrow_mut();
        let tx = conn.transaction().map_err(sql_err)?;
        let mut changed = Vec::with_capacity(stmts.len());
        for s in stmts {
            let n = tx.execute(&s.sql, rusqlite::params_from_iter(&s.params)).map_err(sql_err)?;
            changed.push(n as u64);
        }
        tx.commit().map_err(sql_err)?;
        Ok(changed)
    }
}
