//! The situation tree of a published item, read from the rendered guide the
//! guide worker caches in KV (`guide:v1:{code}`, "etag\nbody"), so resolving
//! costs no D1 read when the guide has been read before; else rendered from
//! D1 (not written back: the guide worker owns that cache).

use crate::situation::{GuideMaterial, GuideQuestion, Tree};
use serde::Deserialize;
use shared::catalogue::repo;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::store::{Db, HotCache, Kv};
use std::rc::Rc;

#[derive(Deserialize)]
struct Rendered {
    item: ItemPart,
    guide: GuidePart,
}

#[derive(Deserialize)]
struct ItemPart {
    code: String,
    name: String,
    department: String,
    online: Online,
}

#[derive(Deserialize)]
struct Online {
    available: bool,
}

#[derive(Deserialize)]
struct GuidePart {
    materials: Vec<GuideMaterial>,
    time_limit: TimeLimit,
    #[serde(default)]
    situations: Vec<GuideQuestion>,
}

#[derive(Deserialize)]
struct TimeLimit {
    promised_days: i64,
}

/// The tree from a rendered guide's JSON text.
pub fn from_json(body: &str) -> ApiResult<Tree> {
    let r: Rendered = serde_json::from_str(body).map_err(|e| ApiError::internal(format!("rendered guide: {e}")))?;
    Ok(Tree {
        item_code: r.item.code,
        item_name: r.item.name,
        department: r.item.department,
        online: r.item.online.available,
        promised_days: r.guide.time_limit.promised_days,
        materials: r.guide.materials,
        questions: r.guide.situations,
    })
}

/// How long an isolate keeps a parsed tree: the same bound on staleness as
/// the guide worker's own isolate cache (a publish shows within 30 s).
pub const TREE_CACHE_MS: i64 = 30_000;
/// Trees kept per isolate.
pub const TREE_CACHE_ENTRIES: usize = 500;

/// The tree of `code`, from this isolate's memory when it parsed it in the
/// last [`TREE_CACHE_MS`], else as [`tree`] reads it: resolving a situation
/// then costs no storage read at all.
pub async fn tree_cached(
    db: &impl Db,
    kv: &impl Kv,
    hot: &HotCache<Tree>,
    now_ms: i64,
    code: &str,
) -> ApiResult<Rc<Tree>> {
    if let Some(t) = hot_tree(hot, now_ms, code) {
        return Ok(t);
    }
    let key = code.trim().to_ascii_uppercase();
    let t = Rc::new(tree(db, kv, &key).await?);
    hot.put(&key, Rc::clone(&t), now_ms);
    Ok(t)
}

/// The tree of `code` if this isolate parsed it in the last
/// [`TREE_CACHE_MS`] (no storage touched: the resolver's hot path).
pub fn hot_tree(hot: &HotCache<Tree>, now_ms: i64, code: &str) -> Option<Rc<Tree>> {
    hot.get(&code.trim().to_ascii_uppercase(), now_ms)
}

/// The tree of `code` (a published item), from KV when cached.
pub async fn tree(db: &impl Db, kv: &impl Kv, code: &str) -> ApiResult<Tree> {
    let code = shared::types::ItemCode::parse(code)
        .map_err(|_| ApiError::with_message(ErrorCode::ItemNotFound, "没有找到该事项"))?;
    let key = repo::guide_cache_key(code.as_str());
    if let Some(text) = kv.get(&key).await.ok().flatten()
        && let Some((_, body)) = text.split_once('\n')
    {
        return from_json(body);
    }
    let json = repo::render_guide(db, code.as_str()).await?.ok_or(ErrorCode::ItemNotFound)?;
    from_json(&json.to_string())
}

/// A published item found by its 基本编码.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct ItemRef {
    pub code: String,
    pub name: String,
    pub basic_code: String,
    pub online: bool,
}

/// The published items with these 基本编码, in the order given (one query).
pub async fn by_basic_codes(db: &impl Db, basic: &[String]) -> ApiResult<Vec<ItemRef>> {
    #[derive(Deserialize)]
    struct R {
        code: String,
        name: String,
        basic_code: String,
        online: i64,
    }
    let list = serde_json::to_string(basic).unwrap_or_else(|_| "[]".into());
    let rows: Vec<R> = db
        .query_as(
            "SELECT code, name, basic_code, online FROM items
             WHERE status = 'published' AND basic_code IN (SELECT value FROM json_each(?1)) ORDER BY code",
            &[list.into()],
        )
        .await?;
    let mut out = Vec::new();
    for b in basic {
        let r = rows.iter().find(|r| r.basic_code == *b).ok_or_else(|| {
            ApiError::with_message(ErrorCode::NotFound, "该场景涉及的事项暂未在本地发布，请到大厅咨询")
        })?;
        out.push(ItemRef {
            code: r.code.clone(),
            name: r.name.clone(),
            basic_code: r.basic_code.clone(),
            online: r.online != 0,
        });
    }
    Ok(out)
}
