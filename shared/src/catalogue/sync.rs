//! Sync from the external item library (004 事项同步): fetch the configured
//! JSON feed (`{"items": [...]}`, each row in the import format), validate
//! each item on its own, publish the new and changed ones in one batch and
//! report created, updated, unchanged and rejected items. The feed is the
//! province's already-reviewed library, so its items are published directly;
//! a local draft of the same item stays pending for its reviewer.
//!
//! Run by `POST /v1/admin/items:sync` and by the cron trigger; every run,
//! failed or not, leaves a row in `item_sync_runs` with its report.

use super::import::{Known, bump_version_stmt, item_stmts, validate_item};
use super::repo;
use crate::admin::{Act, Principal, Role, audit_stmt};
use crate::crypto::sha256_hex;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::limits::MAX_IMPORT_ITEMS;
use crate::outbound::{Http, HttpRequest};
use crate::store::{Db, Kv, Stmt};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// Most rejected items listed in one report (the count is always exact).
const MAX_REJECTIONS_LISTED: usize = 200;

/// The staff member the cron trigger acts as.
pub fn cron_principal() -> Principal {
    Principal { token_id: "system:cron".into(), name: "定时同步".into(), roles: vec![Role::CatalogueReviewer] }
}

/// Where the feed is and how to authenticate to it.
#[derive(Debug, Clone)]
pub struct Feed {
    pub url: String,
    pub token: Option<String>,
}

/// One rejected feed row.
#[derive(Debug, Serialize, PartialEq)]
pub struct Rejected {
    pub index: usize,
    pub code: Option<String>,
    pub errors: Vec<FieldError>,
}

/// The report of one run.
#[derive(Debug, Serialize, PartialEq)]
pub struct Report {
    pub run_id: i64,
    pub trigger: String,
    pub status: String,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub rejected_count: usize,
    pub rejected: Vec<Rejected>,
    pub catalog_version: i64,
    #[serde(skip)]
    pub stale: Vec<String>,
}

#[derive(Deserialize)]
struct FeedBody {
    items: Vec<Json>,
}

/// The feed URL as recorded: no query string (it may carry a key).
fn source_of(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

async fn fetch(http: &impl Http, feed: &Feed) -> Result<Vec<Json>, String> {
    let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
    if let Some(t) = &feed.token {
        headers.push(("authorization".to_owned(), format!("Bearer {t}")));
    }
    let req = HttpRequest { method: "GET", url: feed.url.clone(), headers, body: None };
    let resp = http.send(req).await.map_err(|_| "同步源无法连接".to_owned())?;
    if resp.status != 200 {
        return Err(format!("同步源返回 HTTP {}", resp.status));
    }
    let body: FeedBody =
        serde_json::from_str(&resp.body).map_err(|_| "同步源返回的内容不是约定的 JSON 格式".to_owned())?;
    if body.items.len() > MAX_IMPORT_ITEMS {
        return Err(format!("同步源一次提供了 {} 个事项，超过上限 {MAX_IMPORT_ITEMS}", body.items.len()));
    }
    Ok(body.items)
}

async fn hashes(db: &impl Db) -> ApiResult<HashMap<String, Option<String>>> {
    #[derive(Deserialize)]
    struct Row {
        code: String,
        source_hash: Option<String>,
    }
    let rows: Vec<Row> = db.query_as("SELECT code, source_hash FROM items", &[]).await?;
    Ok(rows.into_iter().map(|r| (r.code, r.source_hash)).collect())
}

fn run_stmt(act: &Act<'_>, trigger: &str, source: &str, status: &str, counts: [usize; 4], report: &Json) -> Stmt {
    let [c, u, n, r] = counts.map(|x| x as i64);
    Stmt::new(
        "INSERT INTO item_sync_runs (started_at, trigger, source, status, created, updated, unchanged, rejected, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        vec![
            act.now.to_rfc3339().into(),
            trigger.into(),
            source.into(),
            status.into(),
            c.into(),
            u.into(),
            n.into(),
            r.into(),
            report.to_string().into(),
        ],
    )
}

async fn last_run_id(db: &impl Db) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
    }
    let row: Option<Row> = db.first_as("SELECT max(id) AS id FROM item_sync_runs", &[]).await?;
    Ok(row.map_or(0, |r| r.id))
}

/// Runs one sync. A feed that cannot be read is recorded as a failed run and
/// answered 502 `feed_unavailable`; nothing in the catalogue changes then.
pub async fn run(
    db: &impl Db,
    kv: &impl Kv,
    http: &impl Http,
    act: &Act<'_>,
    feed: &Feed,
    trigger: &str,
) -> ApiResult<Report> {
    act.who.require(Role::CatalogueReviewer)?;
    let source = source_of(&feed.url);
    let rows = match fetch(http, feed).await {
        Ok(rows) => rows,
        Err(why) => {
            let report = json!({ "error": why });
            let audit = audit_stmt(act.who, "catalog.sync.failed", &source, act.request_id, act.now, &report);
            db.batch(&[run_stmt(act, trigger, &source, "failed", [0; 4], &report), audit]).await?;
            return Err(ApiError::with_message(ErrorCode::FeedUnavailable, format!("事项库同步失败：{why}")));
        }
    };
    let mut known = Known::load(db).await?;
    // Items may relate to others arriving in the same feed.
    known.items.extend(rows.iter().filter_map(|r| r.get("code")?.as_str()).map(|c| c.trim().to_ascii_uppercase()));
    let existing = hashes(db).await?;
    let (mut created, mut updated, mut unchanged, mut rejected) = (vec![], vec![], 0usize, vec![]);
    let mut stmts = vec![bump_version_stmt(act.now)];
    for (index, row) in rows.into_iter().enumerate() {
        let code = row.get("code").and_then(Json::as_str).map(|c| c.trim().to_ascii_uppercase());
        let item = match validate_item(row, &known) {
            Ok(item) => item,
            Err(errors) => {
                rejected.push(Rejected { index, code, errors });
                continue;
            }
        };
        let hash = sha256_hex(serde_json::to_string(&item).unwrap_or_default().as_bytes());
        match existing.get(&item.code) {
            Some(Some(h)) if *h == hash => {
                unchanged += 1;
                continue;
            }
            Some(_) => updated.push(item.code.clone()),
            None => created.push(item.code.clone()),
        }
        stmts.extend(item_stmts(&item, act.now));
        stmts.push(Stmt::new(
            "UPDATE items SET source_hash = ?2 WHERE code = ?1",
            vec![item.code.as_str().into(), hash.into()],
        ));
    }
    let counts = [created.len(), updated.len(), unchanged, rejected.len()];
    let rejected_count = rejected.len();
    rejected.truncate(MAX_REJECTIONS_LISTED);
    let report = json!({ "created": created, "updated": updated, "rejected": rejected });
    if created.is_empty() && updated.is_empty() {
        stmts.clear(); // nothing changed: the version stays
    }
    stmts.push(run_stmt(act, trigger, &source, "ok", counts, &report));
    let summary = json!({ "created": counts[0], "updated": counts[1], "unchanged": counts[2], "rejected": counts[3] });
    stmts.push(audit_stmt(act.who, "catalog.sync", &source, act.request_id, act.now, &summary));
    db.batch(&stmts).await?;
    let changed: Vec<String> = created.iter().chain(&updated).cloned().collect();
    let stale = repo::affected_items(db, &changed, &[]).await?;
    for c in &stale {
        repo::invalidate_guide(kv, c).await?;
    }
    Ok(Report {
        run_id: last_run_id(db).await?,
        trigger: trigger.to_owned(),
        status: "ok".into(),
        created,
        updated,
        unchanged,
        rejected_count,
        rejected,
        catalog_version: repo::catalog_version(db).await?,
        stale: stale.into_iter().collect(),
    })
}

/// One past run, as listed for staff.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRow {
    pub id: i64,
    pub started_at: String,
    pub trigger: String,
    pub source: String,
    pub status: String,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

/// The last 20 runs, newest first.
pub async fn recent_runs(db: &impl Db) -> ApiResult<Vec<RunRow>> {
    db.query_as(
        "SELECT id, started_at, trigger, source, status, created, updated, unchanged, rejected
         FROM item_sync_runs ORDER BY id DESC LIMIT 20",
        &[],
    )
    .await
}
