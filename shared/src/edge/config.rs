//! A worker's vars and secrets.

use crate::error::{ApiError, ApiResult};
use worker::Env;

/// A string var or secret; `None` when unset or empty.
pub fn config(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

/// A required var or secret: missing configuration is an internal error
/// (logged), never a guess.
pub fn required(env: &Env, name: &str) -> ApiResult<String> {
    config(env, name).ok_or_else(|| ApiError::internal(format!("configuration {name} is not set")))
}
