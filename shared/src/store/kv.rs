//! Key-value cache: Workers KV at the edge, a map in tests.

use crate::error::{ApiError, ApiResult, ErrorCode};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// A string key-value store with optional expiry.
#[allow(async_fn_in_trait)]
pub trait Kv {
    /// The value under `key`, if present.
    async fn get(&self, key: &str) -> ApiResult<Option<String>>;
    /// Stores `value`; `ttl_secs` of `None` keeps it until deleted.
    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> ApiResult<()>;
    /// Removes `key` (absent keys are fine).
    async fn delete(&self, key: &str) -> ApiResult<()>;
}

/// An in-memory [`Kv`] that can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: RefCell<HashMap<String, String>>,
    broken: Cell<bool>,
}

impl MemoryKv {
    /// From now on every call fails.
    pub fn break_storage(&self, broken: bool) {
        self.broken.set(broken);
    }

    /// Number of keys stored (for tests).
    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check(&self) -> ApiResult<()> {
        if self.broken.get() {
            Err(ApiError { internal: Some("kv broken on purpose".into()), ..ErrorCode::StorageUnavailable.into() })
        } else {
            Ok(())
        }
    }
}

impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> ApiResult<Option<String>> {
        self.check()?;
        Ok(self.map.borrow().get(key).cloned())
    }

    async fn put(&self, key: &str, value: &str, _ttl_secs: Option<u64>) -> ApiResult<()> {
        self.check()?;
        self.map.borrow_mut().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn delete(&self, key: &str) -> ApiResult<()> {
        self.check()?;
        self.map.borrow_mut().remove(key);
        Ok(())
    }
}
