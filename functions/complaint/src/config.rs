//! The worker's configuration, read from its vars.

use shared::edge as e;
use worker::Env;

/// Handling days of a kind from `COMPLAINT_DAYS_<KIND>`, when configured.
pub fn handling_days(env: &Env, kind: &str) -> Option<u32> {
    e::config(env, &format!("COMPLAINT_DAYS_{}", kind.to_ascii_uppercase())).and_then(|v| v.parse().ok())
}
