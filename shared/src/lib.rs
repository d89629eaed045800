#![recursion_limit = "256"]
//! bianmin's common crate: the one error vocabulary, input types that validate
//! when built, storage traits with D1/KV and SQLite/in-memory implementations,
//! the clock and ID source, PII masking, admin authentication and audit, and
//! the catalogue domain.
//!
//! Everything outside [`edge`] is plain Rust that runs under `cargo test`;
//! [`edge`] (wasm32 only) is the thin glue to the Workers runtime.

pub mod admin;
pub mod bindings;
pub mod calendar;
pub mod case_number;
pub mod catalogue;
pub mod crypto;
#[cfg(target_arch = "wasm32")]
pub mod edge;
pub mod error;
pub mod http;
pub mod identity;
pub mod limits;
pub mod outbound;
pub mod pii;
pub mod runtime;
pub mod slots;
pub mod sms;
pub mod staff_session;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text_enum;
pub mod types;
pub mod uploads;
pub mod vault;
pub mod wechat_notify;

pub use error::{ApiError, ApiResult, ErrorCode, FieldError};

/// serde, as [`text_enum!`] expands to it in the calling crate.
#[doc(hidden)]
pub use serde as text_enum_serde;
