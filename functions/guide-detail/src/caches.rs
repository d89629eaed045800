//! The isolate caches both the public routes (edge) and the staff routes
//! (manage) use: a staff change drops the guides it makes stale.

use crate::service::{HOT_ENTRIES, HOT_TTL_MS, Rendered};

shared::isolate_cache! {
    /// Rendered guides kept in this isolate's memory (see `service::HOT_TTL_MS`).
    pub(crate) fn hot() -> Rendered = (HOT_ENTRIES, HOT_TTL_MS);
}
