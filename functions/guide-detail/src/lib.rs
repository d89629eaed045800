//! # guide-detail: 办事指南, service halls, and catalogue administration
//!
//! Routes:
//! - `GET  /v1/health`                         static baseline (benchmarks, probes)
//! - `GET  /v1/guides/{item_code}`             the full guide (ETag, 304, KV cache)
//! - `GET  /v1/guides/{item_code}/materials`   申请材料目录 (ETag, 304, KV cache)
//! - `GET  /v1/halls`                          every hall
//! - `GET  /v1/halls/nearby?lat=&lng=[&item=][&limit=]` halls by distance
//! - `GET  /v1/halls/{id}`                     大厅详情 with the items handled there
//! - `GET  /v1/halls/{id}/slots`               501 until the appointment issue lands
//! - `POST /v1/admin/items:import`             bulk import (role catalogue_editor)
//! - `GET  /v1/admin/audit-log?before=&size=`  audit log (role auditor)
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, not_found, item_not_found,
//! hall_not_found, method_not_allowed, not_implemented, storage_unavailable,
//! internal_error.

pub mod service;

#[cfg(target_arch = "wasm32")]
mod edge;
