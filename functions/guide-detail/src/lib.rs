//! # guide-detail: 办事指南, service halls, and catalogue administration
//!
//! Routes:
//! - `GET  /v1/health`                         static baseline (benchmarks, probes)
//! - `GET  /v1/guides/{item_code}[?sid=]`      the full guide (ETag, 304, KV cache); `sid`, the
//!   `search_id` of the search it was opened from, marks that search followed (搜索分析)
//! - `GET  /v1/guides/{item_code}/materials`   申请材料目录 (ETag, 304, KV cache)
//! - `GET  /v1/halls`                          every hall
//! - `GET  /v1/halls/nearby?lat=&lng=[&item=][&limit=]` halls by distance
//! - `GET  /v1/halls/{id}`                     大厅详情 with the items handled there
//! - `GET  /v1/halls/{id}/slots?item=&date=`  bookable slots with remaining capacity (网上预约)
//! - `POST /v1/admin/items:import`             bulk import, publishes (role catalogue_reviewer)
//! - `GET  /v1/admin/audit-log?before=&size=`  audit log (role auditor)
//!
//! Catalogue management (`manage.rs`; reads: editor, reviewer or auditor):
//! - `GET  /v1/admin/items?status=&review=&category=&department=&q=&sort=&order=&page=&size=`
//! - `POST /v1/admin/items`, `PUT /v1/admin/items/{code}`  save a draft (catalogue_editor)
//! - `GET  /v1/admin/items/{code}`             published row and pending draft
//! - `GET  /v1/admin/items/{code}/published`   the stored item as editors send it (any status)
//! - `POST /v1/admin/items/{code}:submit`      draft -> submitted (catalogue_editor)
//! - `POST /v1/admin/items/{code}:publish|:reject|:archive`  (catalogue_reviewer, four eyes)
//! - `POST /v1/admin/items:sync`, `GET /v1/admin/items:sync`  事项同步 and its runs
//! - `GET  /v1/admin/categories`, `PUT|DELETE /v1/admin/categories/{name}`
//! - `POST /v1/admin/tags:rename`, `DELETE /v1/admin/tags/{tag}`
//! - `GET|PUT /v1/admin/search-words/{kind}`, `DELETE /v1/admin/search-words/{kind}/{term}`
//!   (kind: thesaurus, stop, banned, corrections)
//!
//! Cron: `17 * * * *` runs the sync as `system:cron`.
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`; vars `ITEM_FEED_URL`,
//! secret `ITEM_FEED_TOKEN`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, not_found, item_not_found,
//! hall_not_found, method_not_allowed, conflict, not_implemented,
//! storage_unavailable, internal_error, item_exists, review_state_invalid,
//! self_review_forbidden, category_in_use, feed_unavailable.

pub mod followed;
pub mod service;
pub mod stored;

#[cfg(target_arch = "wasm32")]
mod caches;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod manage;
