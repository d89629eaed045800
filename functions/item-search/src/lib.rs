//! # item-search: 事项查询: search, suggestions, hot ranking, history
//!
//! Planned routes, each answering 501 `not_implemented` until issue 4 lands:
//! - `GET    /v1/items/search`
//! - `GET    /v1/items/suggest`
//! - `GET    /v1/items/hot`
//! - `GET    /v1/items/categories`
//! - `GET    /v1/me/search-history`
//! - `DELETE /v1/me/search-history`
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: not_implemented, not_found, method_not_allowed.

/// The routes this worker will serve (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/items/search"),
    ("GET", "/v1/items/suggest"),
    ("GET", "/v1/items/hot"),
    ("GET", "/v1/items/categories"),
    ("GET", "/v1/me/search-history"),
    ("DELETE", "/v1/me/search-history"),
];

#[cfg(target_arch = "wasm32")]
shared::planned_worker!(ROUTES);
