//! `sms_flags`: numbers no notice goes to, flagged by a permanent provider
//! error about the number or a receipt saying it is blacklisted or out of
//! service.

use shared::store::Stmt;
use shared::types::BeijingTime;

/// Flags a number (by its hash) with the code that condemned it; a number
/// already flagged keeps its first code.
pub fn flag_stmt(phone_hash: &str, code: &str, now: BeijingTime) -> Stmt {
    Stmt::new(
        "INSERT OR IGNORE INTO sms_flags (phone_hash, code, at) VALUES (?1, ?2, ?3)",
        vec![phone_hash.into(), code.into(), now.to_rfc3339().into()],
    )
}
