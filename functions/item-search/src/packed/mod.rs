//! The prebuilt compact search index (issue 19): built once per catalogue
//! version off the request path, stored in chunks, loaded without a rebuild.
//!
//! One blob: a 40-byte header (magic, format, catalogue version, part
//! lengths, checksum), then a binary part (sorted term dictionaries with
//! delta+varint postings, a per-document record table, code and string
//! tables) and a text part (every string, UTF-8, checked once at load).
//! A query decodes only the postings and records it reads; answers come from
//! the same code as the in-memory [`crate::index::Index`] through
//! [`crate::index::SearchIndex`], so both rank alike.

mod blob;
mod builder;
mod chunk;
mod codec;
mod columns;
mod dict;
mod docs;
mod error;
mod patch;
mod postings;
mod records;
mod regions;
mod search;

pub use blob::{FORMAT, Packed, reseal};
pub(crate) use builder::posting_kind;
pub use builder::{Builder, Layout, Tables, build, build_with_layout};
pub use chunk::{CHUNK_BYTES, CHUNK_HEADER, KV_VALUE_LIMIT, chunk, chunk_count, chunks, join};
pub use docs::PackedDoc;
pub use error::PackError;
