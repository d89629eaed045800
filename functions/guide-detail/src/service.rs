//! Guide rendering with its caches (isolate memory, then KV): plain Rust
//! over the storage traits.

use shared::catalogue::repo;
use shared::http::strong_etag;
use shared::store::{Db, HotCache, Kv};
use shared::{ApiResult, ErrorCode};
use std::rc::Rc;

/// How long a rendered guide may live in KV even if an invalidation were
/// missed (KV deletes are eventually consistent, up to about 60 s).
pub const CACHE_TTL_SECS: u64 = 24 * 3600;

/// Cache-Control of guide answers: mini-programs and CDNs may reuse a guide
/// for 5 minutes, then must revalidate (cheap, thanks to the ETag).
pub const GUIDE_CACHE_CONTROL: &str = "public, max-age=300, must-revalidate";

/// How long a rendered answer stays in an isolate's memory: the bound on how
/// late another isolate sees a catalogue change (the importing isolate drops
/// its own entries at once).
pub const HOT_TTL_MS: i64 = 30_000;

/// Rendered answers kept per isolate (about 8 KiB each).
pub const HOT_ENTRIES: usize = 500;

/// A rendered body with its strong ETag, as cached.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub etag: String,
    pub body: String,
}

impl Rendered {
    fn of(body: String) -> Self {
        Self { etag: strong_etag(body.as_bytes()), body }
    }

    /// KV form: the ETag, a newline, the body (no JSON escaping of the body).
    fn to_kv(&self) -> String {
        format!("{}\n{}", self.etag, self.body)
    }

    fn from_kv(text: &str) -> Option<Self> {
        let (etag, body) = text.split_once('\n')?;
        etag.starts_with('"').then(|| Self { etag: etag.to_owned(), body: body.to_owned() })
    }
}

/// The caches in front of the database: the isolate's memory, then KV.
pub struct Caches<'a, K: Kv> {
    pub kv: &'a K,
    pub hot: &'a HotCache<Rendered>,
    /// Milliseconds since the epoch, from the injected clock.
    pub now_ms: i64,
}

/// The rendered guide of `code`: from memory or KV when cached, else from
/// the database (and then cached). A broken cache degrades to the database,
/// never to an error.
pub async fn guide<K: Kv>(db: &impl Db, c: &Caches<'_, K>, code: &str) -> ApiResult<Rc<Rendered>> {
    let key = repo::guide_cache_key(code);
    if let Some(hit) = cached(c, &key).await {
        return Ok(hit);
    }
    let json = repo::render_guide(db, code).await?.ok_or(ErrorCode::ItemNotFound)?;
    Ok(store(c, &key, Rendered::of(json.to_string())).await)
}

/// The rendered material list of `code`, cached like the guide.
pub async fn materials<K: Kv>(db: &impl Db, c: &Caches<'_, K>, code: &str) -> ApiResult<Rc<Rendered>> {
    let key = repo::materials_cache_key(code);
    if let Some(hit) = cached(c, &key).await {
        return Ok(hit);
    }
    let list = repo::materials(db, code).await?.ok_or(ErrorCode::ItemNotFound)?;
    let body = serde_json::json!({ "item_code": code, "materials": list }).to_string();
    Ok(store(c, &key, Rendered::of(body)).await)
}

/// Drops an item's renderings from this isolate's memory (KV is handled by
/// the import itself).
pub fn forget<V>(hot: &HotCache<V>, code: &str) {
    hot.remove(&repo::guide_cache_key(code));
    hot.remove(&repo::materials_cache_key(code));
}

async fn cached<K: Kv>(c: &Caches<'_, K>, key: &str) -> Option<Rc<Rendered>> {
    if let Some(hit) = c.hot.get(key, c.now_ms) {
        return Some(hit);
    }
    let text = c.kv.get(key).await.ok().flatten()?;
    let r = Rc::new(Rendered::from_kv(&text)?);
    c.hot.put(key, Rc::clone(&r), c.now_ms);
    Some(r)
}

async fn store<K: Kv>(c: &Caches<'_, K>, key: &str, r: Rendered) -> Rc<Rendered> {
    // A failed cache write costs only speed; the answer is still right.
    let _ = c.kv.put(key, &r.to_kv(), Some(CACHE_TTL_SECS)).await;
    let r = Rc::new(r);
    c.hot.put(key, Rc::clone(&r), c.now_ms);
    r
}
