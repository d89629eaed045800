//! Storage behind small traits: [`Db`] (D1 on Workers, real SQLite natively)
//! and [`Kv`] (Workers KV, or an in-memory map). Repository SQL is written once
//! against [`Db`] and tested natively against SQLite with the same migrations.

mod db;
mod isolate_cache;
mod kv;
#[cfg(not(target_arch = "wasm32"))]
mod sqlite;

#[cfg(not(target_arch = "wasm32"))]
pub use db::migration_files;
pub use db::{Db, Row, Stmt, Value, decode_row, is_precondition_failure};
pub use isolate_cache::HotCache;
pub use kv::{Kv, MemoryKv};
#[cfg(not(target_arch = "wasm32"))]
pub use sqlite::SqliteDb;
