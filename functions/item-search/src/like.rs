//! The baseline the index is measured against (`scripts/bench`).

use crate::query::Params;
use serde::{Deserialize, Serialize};
use shared::ApiResult;
use shared::store::{Db, Value};

/// One match of the naive scan.
#[derive(Debug, Deserialize, Serialize)]
pub struct Hit {
    pub code: String,
    pub name: String,
}

/// The naive alternative to the index, for benchmarks only (never in
/// production; `engine=like` in development): a D1 `LIKE '%q%'` scan over
/// name, keywords and scope.
pub async fn naive_like(db: &impl Db, p: &Params) -> ApiResult<Vec<Hit>> {
    let pattern = format!("%{}%", p.q.trim());
    let mut sql = String::from(
        "SELECT code, name FROM items WHERE status = 'published'
           AND (name LIKE ?1 OR tags LIKE ?1 OR json_extract(guide, '$.scope') LIKE ?1)",
    );
    let mut args: Vec<Value> = vec![pattern.into()];
    if let Some(c) = &p.category {
        sql.push_str(" AND category = ?2");
        args.push(c.as_str().into());
    }
    if let Some(o) = p.online {
        sql.push_str(if o { " AND online = 1" } else { " AND online = 0" });
    }
    sql.push_str(" ORDER BY code LIMIT 10");
    db.query_as(&sql, &args).await
}
