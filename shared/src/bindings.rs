//! Binding names shared by every worker. A test checks them against each
//! `wrangler.toml`, so a renamed binding fails CI rather than production.

/// The D1 database (catalogue, tokens, audit, and later bookings, bills...).
pub const DB: &str = "DB";
/// The KV namespace for rendered guides and other caches.
pub const CACHE: &str = "CACHE";
/// The D1 database name in every wrangler file.
pub const DB_NAME: &str = "bianmin";
