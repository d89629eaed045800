//! The inbox (002 §4.5 消息提醒). Later issues write to it with
//! [`post_stmt`] inside their own batches, so a progress change and its
//! notice are stored together or not at all.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::runtime::IdSource;
use crate::store::{Db, Stmt, Value};
use crate::types::BeijingTime;
use serde::{Deserialize, Serialize};

/// What a message is about.
pub const KINDS: [&str; 6] = ["appointment", "complaint", "application", "bill", "outage", "system"];

/// The statement that puts a message in a citizen's inbox.
pub fn post_stmt(
    ids: &impl IdSource,
    citizen_id: &str,
    kind: &str,
    title: &str,
    body: &str,
    link: Option<&str>,
    now: BeijingTime,
) -> ApiResult<Stmt> {
    if !KINDS.contains(&kind) {
        return Err(ApiError::internal(format!("unknown message kind {kind}")));
    }
    Ok(Stmt::new(
        "INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
         VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages), ?3, ?4, ?5, ?6, ?7)",
        vec![
            format!("msg_{}", ids.hex(8)?).into(),
            citizen_id.into(),
            kind.into(),
            title.into(),
            body.into(),
            link.map(str::to_owned).into(),
            now.to_rfc3339().into(),
        ],
    ))
}

/// One message as the citizen sees it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Message {
    pub id: String,
    #[serde(skip_serializing)]
    pub seq: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// A page of the inbox, newest first.
#[derive(Debug, Serialize, PartialEq)]
pub struct InboxPage {
    pub messages: Vec<Message>,
    pub unread: i64,
    pub next_before: Option<i64>,
}

/// Reads the citizen's own inbox (keyset paging on `seq`).
pub async fn list(
    db: &impl Db,
    citizen_id: &str,
    unread_only: bool,
    before: Option<i64>,
    size: Option<u32>,
) -> ApiResult<InboxPage> {
    let size = size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let filter = if unread_only { "AND read_at IS NULL" } else { "" };
    let messages: Vec<Message> = db
        .query_as(
            &format!(
                "SELECT id, seq, kind, title, body, link, created_at, read_at FROM messages
                 WHERE citizen_id = ?1 AND seq < ?2 {filter} ORDER BY seq DESC LIMIT ?3"
            ),
            &[citizen_id.into(), before.unwrap_or(i64::MAX).into(), i64::from(size).into()],
        )
        .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let unread = db
        .first_as::<N>(
            "SELECT COUNT(*) AS n FROM messages WHERE citizen_id = ?1 AND read_at IS NULL",
            &[citizen_id.into()],
        )
        .await?
        .map_or(0, |r| r.n);
    let next_before = if messages.len() == size as usize { messages.last().map(|m| m.seq) } else { None };
    Ok(InboxPage { messages, unread, next_before })
}

/// Marks one of the citizen's messages read. Another citizen's message is
/// "not found", never "forbidden", so ids cannot be probed.
pub async fn mark_read(db: &impl Db, citizen_id: &str, id: &str, now: BeijingTime) -> ApiResult<()> {
    let changed = db
        .execute(
            "UPDATE messages SET read_at = COALESCE(read_at, ?1) WHERE id = ?2 AND citizen_id = ?3",
            &[Value::from(now.to_rfc3339()), id.into(), citizen_id.into()],
        )
        .await?;
    if changed == 1 { Ok(()) } else { Err(ErrorCode::MessageNotFound.into()) }
}
