//! 搜索历史: each logged-in citizen's last [`KEEP`] distinct queries.

use serde::{Deserialize, Serialize};
use shared::ApiResult;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// Queries kept per citizen.
pub const KEEP: i64 = 20;

/// One remembered query.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub query: String,
    pub at: String,
}

/// Remembers `query` (already normalised) and forgets all but the newest [`KEEP`].
pub async fn record(db: &impl Db, citizen_id: &str, query: &str, now: BeijingTime) -> ApiResult<()> {
    if query.trim().is_empty() {
        return Ok(());
    }
    db.batch(&[
        Stmt::new(
            "INSERT INTO search_history (citizen_id, query, at) VALUES (?1, ?2, ?3)
             ON CONFLICT (citizen_id, query) DO UPDATE SET at = excluded.at",
            vec![citizen_id.into(), query.into(), now.to_rfc3339().into()],
        ),
        Stmt::new(
            "DELETE FROM search_history WHERE citizen_id = ?1 AND query NOT IN
               (SELECT query FROM search_history WHERE citizen_id = ?1 ORDER BY at DESC, query LIMIT ?2)",
            vec![citizen_id.into(), KEEP.into()],
        ),
    ])
    .await?;
    Ok(())
}

/// The citizen's history, newest first.
pub async fn list(db: &impl Db, citizen_id: &str) -> ApiResult<Vec<Entry>> {
    db.query_as(
        "SELECT query, at FROM search_history WHERE citizen_id = ?1 ORDER BY at DESC, query LIMIT ?2",
        &[citizen_id.into(), KEEP.into()],
    )
    .await
}

/// Forgets the citizen's whole history.
pub async fn clear(db: &impl Db, citizen_id: &str) -> ApiResult<()> {
    db.execute("DELETE FROM search_history WHERE citizen_id = ?1", &[citizen_id.into()]).await?;
    Ok(())
}
