//! Guide rendering with its KV cache: plain Rust over the storage traits.

use serde::{Deserialize, Serialize};
use shared::catalogue::repo;
use shared::http::strong_etag;
use shared::store::{Db, Kv};
use shared::{ApiResult, ErrorCode};

/// How long a rendered guide may live in KV even if an invalidation were
/// missed (KV deletes are eventually consistent, up to about 60 s).
pub const CACHE_TTL_SECS: u64 = 24 * 3600;

/// Cache-Control of guide answers: mini-programs and CDNs may reuse a guide
/// for 5 minutes, then must revalidate (cheap, thanks to the ETag).
pub const GUIDE_CACHE_CONTROL: &str = "public, max-age=300, must-revalidate";

/// A rendered body with its strong ETag, as cached in KV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    pub etag: String,
    pub body: String,
}

impl Rendered {
    fn of(body: String) -> Self {
        Self { etag: strong_etag(body.as_bytes()), body }
    }
}

/// The rendered guide of `code`: from KV when cached, else from the database
/// (and then cached). A broken cache degrades to the database, never to an error.
pub async fn guide(db: &impl Db, kv: &impl Kv, code: &str) -> ApiResult<Rendered> {
    let key = repo::guide_cache_key(code);
    if let Some(hit) = cached(kv, &key).await {
        return Ok(hit);
    }
    let json = repo::render_guide(db, code).await?.ok_or(ErrorCode::ItemNotFound)?;
    store(kv, &key, Rendered::of(json.to_string())).await
}

/// The rendered material list of `code`, cached like the guide.
pub async fn materials(db: &impl Db, kv: &impl Kv, code: &str) -> ApiResult<Rendered> {
    let key = repo::materials_cache_key(code);
    if let Some(hit) = cached(kv, &key).await {
        return Ok(hit);
    }
    let list = repo::materials(db, code).await?.ok_or(ErrorCode::ItemNotFound)?;
    let body = serde_json::json!({ "item_code": code, "materials": list }).to_string();
    store(kv, &key, Rendered::of(body)).await
}

async fn cached(kv: &impl Kv, key: &str) -> Option<Rendered> {
    let text = kv.get(key).await.ok().flatten()?;
    serde_json::from_str(&text).ok()
}

async fn store(kv: &impl Kv, key: &str, r: Rendered) -> ApiResult<Rendered> {
    if let Ok(text) = serde_json::to_string(&r) {
        // A failed cache write costs only speed; the answer is still right.
        let _ = kv.put(key, &text, Some(CACHE_TTL_SECS)).await;
    }
    Ok(r)
}
