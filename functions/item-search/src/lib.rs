//! # item-search: 事项查询 (issue 4, in progress)
//!
//! Routes:
//! - `GET /v1/items/search?q=&category=&tag=&department=&online=&appointment=&region=&lat=&lng=&page=&size=`
//!   Chinese n-grams, pinyin (full, initials, mixed), homophone correction,
//!   thesaurus, stop and banned words, filters, facets, highlights, nearest hall;
//!   `region` (行政区划代码): the region's items, its city's and province's, and
//!   those of the regions inside it, never a sibling county's
//! - `GET /v1/items/suggest?q=&region=`  联想, at most 10
//! - `GET /v1/categories`, `GET /v1/tags`  with item counts
//! - `GET /v1/me/search-history`, `DELETE /v1/me/search-history`  (logged in;
//!   searches of a logged-in citizen are remembered, the last 20)
//! - `GET /v1/items/hot`  热门排行 (guide views) and 热门搜索 (queries) over 7 days;
//!   an empty search query returns items in this order too
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: bad_request, query_banned, login_required, session_expired,
//! session_revoked, not_found,
//! method_not_allowed, storage_unavailable, internal_error.

pub mod analytics;
pub mod enrich;
pub mod fulltext;
pub mod history;
pub mod index;
pub mod like;
pub mod packed;
pub mod packed_store;
pub mod paged;
pub mod query;
pub mod questions;
pub mod region;
pub mod text;
pub mod weights;

#[cfg(target_arch = "wasm32")]
mod edge;
