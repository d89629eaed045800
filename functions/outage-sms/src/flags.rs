//! `sms_flags`: numbers no notice goes to, flagged by a permanent provider
//! error about the number (malformed) or a receipt saying it is blacklisted
//! or not a valid number. A flag lifts when a message sent to the number
//! after it was set is delivered (any message: a login code, a reminder).

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

/// Lifts a number's flag: a message sent to it at `sent_at`, after the flag
/// was set (to the second), was delivered; an older success says nothing new.
pub fn lift_stmt(phone_hash: &str, sent_at: BeijingTime) -> Stmt {
    Stmt::new(
        "DELETE FROM sms_flags WHERE phone_hash = ?1 AND at < ?2",
        vec![phone_hash.into(), sent_at.to_rfc3339().into()],
    )
}
