//! Every bound on input, each a named constant with the reason for its value.

/// Largest JSON body a citizen route accepts. The biggest citizen form (a
/// complaint with its text) is well under 16 KiB; anything larger is abuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest admin import body. 2,000 complete guides measure about 6 MiB of
/// JSON; D1 caps one statement batch and a Worker has 128 MiB of memory.
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// Items in one import: one D1 batch must stay well inside its limits.
pub const MAX_IMPORT_ITEMS: usize = 2_000;

/// Halls in one import.
pub const MAX_IMPORT_HALLS: usize = 500;

/// Longest query string accepted by any route.
pub const MAX_QUERY_BYTES: usize = 2 * 1024;

/// Default and largest page size of paged lists.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page size: a mini-program list never shows more than 100 rows.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Nearby-hall search returns at most this many halls.
pub const MAX_NEARBY: u32 = 50;

/// Longest text field in the catalogue (a guide's prose field).
pub const MAX_TEXT_CHARS: u64 = 20_000;
/// Longest name (item, hall, material).
pub const MAX_NAME_CHARS: u64 = 200;
