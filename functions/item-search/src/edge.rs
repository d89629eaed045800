//! Workers glue for item-search.

use crate::analytics;
use crate::index::Index;
use crate::packed_store::{self as store, ChunkKv, Plan, Refreshed, Served, Stored};
use crate::query::{DEFAULT_SIZE, IdViews, MAX_SIZE, Params};
use shared::admin::Role;
use shared::catalogue::{geo, hot};
use shared::crypto::Pepper;
use shared::edge::{self as e, Ctx, D1Db, WorkersKv};
use shared::http::Query;
use shared::runtime::{Clock, OsRandom};
use shared::store::Kv;
use shared::types::{BeijingTime, Region};
use shared::{ApiError, ApiResult, ErrorCode};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use worker::kv::KvStore;
use worker::{Env, Method, Request, Response};

/// How often an isolate reads the manifest and the catalogue version: the
/// bound on how long a new packed index (or, without one, a publish) takes
/// to reach search.
const VERSION_CHECK_MS: f64 = 2_000.0;

/// How long KV's edge caches may keep a chunk: chunks are never rewritten
/// with other bytes (their names carry the blob's fingerprint).
const CHUNK_CACHE_TTL_SECS: u64 = 3_600;

/// The `CACHE` namespace, text through [`WorkersKv`] and bytes directly.
struct EdgeKv {
    text: WorkersKv,
    raw: KvStore,
}

impl EdgeKv {
    fn new(env: &Env) -> ApiResult<Self> {
        let raw = env.kv(shared::bindings::CACHE).map_err(e::runtime_err)?;
        Ok(Self { text: WorkersKv::new(raw.clone()), raw })
    }
}

fn kv_err(e: impl std::fmt::Display) -> ApiError {
    ApiError { internal: Some(format!("kv: {e}")), ..ErrorCode::StorageUnavailable.into() }
}

impl Kv for EdgeKv {
    async fn get(&self, key: &str) -> ApiResult<Option<String>> {
        self.text.get(key).await
    }
    async fn put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> ApiResult<()> {
        self.text.put(key, value, ttl_secs).await
    }
    async fn delete(&self, key: &str) -> ApiResult<()> {
        self.text.delete(key).await
    }
}

impl ChunkKv for EdgeKv {
    async fn get_bytes(&self, key: &str) -> ApiResult<Option<Vec<u8>>> {
        self.raw.get(key).cache_ttl(CHUNK_CACHE_TTL_SECS).bytes().await.map_err(kv_err)
    }
    async fn put_bytes(&self, key: &str, value: &[u8]) -> ApiResult<()> {
        self.raw.put_bytes(key, value).map_err(kv_err)?.execute().await.map_err(kv_err)
    }
}

struct Cached {
    index: Rc<Served>,
    checked_ms: f64,
}

thread_local! {
    static INDEX: RefCell<Option<Cached>> = const { RefCell::new(None) };
    /// The checksum of a manifest whose chunks were refused: not tried again.
    static REFUSED: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn log(line: serde_json::Value) {
    worker::console_log!("{line}");
}

/// This isolate's index: the packed one the cron stored in KV, or (no
/// usable manifest, or its chunks refused) one built here from D1. Checked
/// at most every 2 s; a request that finds a newer one loads it and swaps
/// the `Rc`, while requests in flight (and others arriving meanwhile) keep
/// the one they hold.
async fn index(env: &Env, db: &D1Db) -> ApiResult<Rc<Served>> {
    let now = js_sys::Date::now();
    let current = INDEX.with(|c| c.borrow().as_ref().map(|c| (Rc::clone(&c.index), c.checked_ms)));
    if let Some((idx, checked)) = &current {
        if now - checked < VERSION_CHECK_MS {
            return Ok(Rc::clone(idx));
        }
        // Others keep this one while this request checks (and maybe loads).
        INDEX.with(|c| c.borrow_mut().replace(Cached { index: Rc::clone(idx), checked_ms: now }));
    }
    let holding = current.as_ref().map(|(i, _)| i.holding());
    let kv = EdgeKv::new(env)?;
    let stored =
        store::read_manifest(&kv).await.unwrap_or_else(|err| Stored::Unreadable(err.internal.unwrap_or_default()));
    if let Stored::Unreadable(why) = &stored {
        log(serde_json::json!({ "level": "warn", "event": "search.index.manifest", "detail": why }));
    }
    let cat = store::catalogue(db).await?;
    let at = BeijingTime::from_utc(e::EdgeClock.now());
    let refused = REFUSED.with(|r| r.borrow().clone());
    let mut plan = store::plan(holding, stored.manifest(), refused.as_deref(), &cat, at);
    let mut next = None;
    if let (Plan::LoadPacked, Some(m)) = (plan, stored.manifest()) {
        let t0 = js_sys::Date::now();
        match store::load(&kv, m).await {
            Ok(p) => {
                log(serde_json::json!({ "level": "info", "event": "search.index.load", "engine": "packed",
                    "version": m.version, "docs": p.doc_count(), "bytes": m.bytes, "chunks": m.chunks,
                    "ms": js_sys::Date::now() - t0 }));
                next = Some(Served::Packed(Box::new(p)));
            }
            Err(err) => {
                log(serde_json::json!({ "level": "error", "event": "search.index.load", "engine": "packed",
                    "version": m.version, "checksum": m.checksum, "detail": err.to_string() }));
                if !err.is_transient() {
                    REFUSED.with(|r| r.borrow_mut().replace(m.checksum.clone()));
                    // The cron builds again; failing to say so only waits for the next publish.
                    if let Err(e) = store::report_refused(&kv, m, &err).await {
                        log(serde_json::json!({ "level": "warn", "event": "search.index.refusal_report",
                            "detail": e.internal }));
                    }
                }
                plan = store::plan(holding, None, None, &cat, at);
            }
        }
    }
    let next = match (next, plan) {
        (Some(p), _) => p,
        (None, Plan::Build) => {
            let t0 = js_sys::Date::now();
            store::may_build_here(store::published_items(db).await?)?;
            let built = Index::load(db).await?;
            log(serde_json::json!({ "level": "info", "event": "search.index.load", "engine": "memory",
                "version": built.version, "docs": built.docs.len(), "ms": js_sys::Date::now() - t0 }));
            Served::Built(Box::new(built))
        }
        (None, _) => match current {
            Some((idx, _)) => return Ok(idx),
            None => {
                store::may_build_here(store::published_items(db).await?)?;
                Served::Built(Box::new(Index::load(db).await?))
            }
        },
    };
    let next = Rc::new(next);
    // A request that finished first with a newer index keeps it in place.
    INDEX.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_none_or(|held| held.index.version() <= next.version()) {
            c.replace(Cached { index: Rc::clone(&next), checked_ms: now });
        }
    });
    Ok(next)
}

/// The cron (every minute): stores a packed index of the catalogue when
/// the manifest does not name its version yet, and deletes chunk sets
/// retired long enough ago. Logs a line when it did something.
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let t0 = js_sys::Date::now();
    let result = async {
        let (db, kv) = (e::db(&env)?, EdgeKv::new(&env)?);
        store::refresh(&db, &kv, BeijingTime::from_utc(e::EdgeClock.now()), js_sys::Date::now).await
    }
    .await;
    let ms = js_sys::Date::now() - t0;
    let line = match result {
        Ok(Refreshed::Current { swept: 0, .. }) => return,
        Ok(Refreshed::Current { version, swept }) => {
            serde_json::json!({ "level": "info", "event": "search.packed.sweep", "version": version, "swept": swept })
        }
        Ok(Refreshed::Built { built, swept }) => {
            let m = &built.manifest;
            serde_json::json!({ "level": "info", "event": "search.packed.build", "cron": event.cron(),
                "version": m.version, "docs": m.docs, "bytes": m.bytes, "chunks": m.chunks, "checksum": m.checksum,
                "build_ms": ms, "load_ms": built.load_ms, "pack_ms": built.pack_ms, "store_ms": built.store_ms,
                "swept": swept, "built_memory_mib": built.built_memory_mib,
                "wasm_memory_mib": store::wasm_memory_mib() })
        }
        Ok(Refreshed::Superseded { version, by }) => {
            serde_json::json!({ "level": "info", "event": "search.packed.superseded", "version": version, "by": by })
        }
        Err(err) => serde_json::json!({ "level": "error", "event": "search.packed.build", "cron": event.cron(),
            "code": err.code.as_str(), "detail": err.internal, "build_ms": ms }),
    };
    log(line);
}

/// Guide views per item code.
type Views = Rc<HashMap<String, i64>>;

thread_local! {
    static COUNTER: &'static hot::Counter = Box::leak(Box::new(hot::Counter::default()));
    static TALLY: &'static analytics::Tally = Box::leak(Box::new(analytics::Tally::default()));
    static ENRICH: &'static crate::enrich::Caches = Box::leak(Box::new(crate::enrich::Caches::default()));
    static POPULARITY: RefCell<Option<(Views, f64)>> = const { RefCell::new(None) };
    /// The last counts resolved to document ids, and the index and counts
    /// they were resolved for.
    static RESOLVED: RefCell<Option<Resolved>> = const { RefCell::new(None) };
}

/// How long an isolate reuses the view counts it read for ranking.
const POPULARITY_TTL_MS: f64 = 10_000.0;

/// Guide views per item over the hot window, re-read at most every 10 s.
async fn popularity(db: &D1Db, ctx: &Ctx) -> ApiResult<Views> {
    let now = js_sys::Date::now();
    if let Some((map, at)) = POPULARITY.with(|p| p.borrow().clone())
        && now - at < POPULARITY_TTL_MS
    {
        return Ok(map);
    }
    let top = hot::top(db, "view", ctx.now(), 1_000).await?;
    let map = Rc::new(top.into_iter().map(|r| (r.key, r.n)).collect::<HashMap<_, _>>());
    POPULARITY.with(|p| p.borrow_mut().replace((Rc::clone(&map), now)));
    Ok(map)
}

/// View counts resolved to document ids: for this index, from these counts.
type Resolved = (Weak<Served>, Views, Rc<IdViews>);

/// The view counts as document ids of `idx`: resolved once per index and
/// read of the counts, not per search.
fn views_by_id(idx: &Rc<Served>, views: &Views) -> Rc<IdViews> {
    let held = RESOLVED.with(|r| {
        r.borrow().as_ref().and_then(|(i, v, ids)| {
            (Rc::ptr_eq(v, views) && i.upgrade().is_some_and(|i| Rc::ptr_eq(&i, idx))).then(|| Rc::clone(ids))
        })
    });
    held.unwrap_or_else(|| {
        let ids = Rc::new(idx.resolve_views(views));
        RESOLVED.with(|r| r.borrow_mut().replace((Rc::downgrade(idx), Rc::clone(views), Rc::clone(&ids))));
        ids
    })
}

/// A rendered search answer, kept per isolate for `POPULARITY_TTL_MS` under
/// the catalogue version and the full parameters: the same search by many
/// citizens costs one scoring per isolate, and a publish changes the key.
struct Rendered {
    body: String,
    searched: String,
    total: usize,
}

shared::isolate_cache! {
    fn answers() -> Rendered = (ANSWER_CACHE_ENTRIES, POPULARITY_TTL_MS as i64);
}

shared::isolate_cache! {
    /// Suggestion lists by catalogue version, text and region (they change
    /// only with the catalogue).
    fn suggestions() -> String = (ANSWER_CACHE_ENTRIES, POPULARITY_TTL_MS as i64);
}

/// Answers kept per isolate (a few KiB each).
const ANSWER_CACHE_ENTRIES: usize = 500;

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Get, ["v1", "items", "search"]) => search(req, env, ctx).await,
        (Method::Get, ["v1", "me", "search-history"]) => history(req, env, ctx, false).await,
        (Method::Delete, ["v1", "me", "search-history"]) => history(req, env, ctx, true).await,
        (Method::Get, ["v1", "items", "suggest"]) => suggest(env, ctx).await,
        (Method::Get, ["v1", "items", "hot"]) => hot_list(env, ctx).await,
        (Method::Get, ["v1", "categories"]) => categories(env).await,
        (Method::Get, ["v1", "tags"]) => tags(env).await,
        (Method::Get, ["v1", "admin", "search", "analytics"]) => search_analytics(req, env, ctx).await,
        (
            _,
            ["v1", "items", "search" | "suggest" | "hot"]
            | ["v1", "categories" | "tags"]
            | ["v1", "admin", "search", "analytics"],
        ) => Err(ErrorCode::MethodNotAllowed.into()),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

fn flag(q: &Query, key: &str) -> ApiResult<Option<bool>> {
    match q.get(key) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_field(key, format!("{key} 应为 true 或 false"))),
    }
}

fn params(q: &Query) -> ApiResult<Params> {
    let near = match (q.get("lat"), q.get("lng")) {
        (Some(lat), Some(lng)) => Some(geo::parse_point(lat, lng).map_err(|m| ApiError::bad_field("lat,lng", m))?),
        (None, None) => None,
        _ => return Err(ApiError::bad_field("lat,lng", "lat 和 lng 需同时提供")),
    };
    Ok(Params {
        q: q.get("q").unwrap_or_default().to_owned(),
        category: q.get("category").map(str::to_owned),
        tag: q.get("tag").map(str::to_owned),
        department: q.get("department").map(str::to_owned),
        online: flag(q, "online")?,
        appointment: flag(q, "appointment")?,
        near,
        page: q.u32_in("page", 1, 1_000)?.unwrap_or(1),
        size: q.u32_in("size", 1, MAX_SIZE)?.unwrap_or(DEFAULT_SIZE),
        popularity: None,
        views_by_id: None,
        region: region(q)?,
    })
}

/// The `region` parameter (行政区划代码), checked.
fn region(q: &Query) -> ApiResult<Option<Region>> {
    q.get("region").map(|r| Region::parse(r).map_err(|m| ApiError::bad_field("region", m.0))).transpose()
}

/// For benchmarks only (never in production): see [`crate::like`].
async fn naive_like(env: &Env, p: &Params) -> ApiResult<Response> {
    let rows = crate::like::naive_like(&e::db(env)?, p).await?;
    e::ok_json(&serde_json::json!({ "engine": "like", "items": rows }), "no-store")
}

thread_local! {
    /// What search reads of the configuration, once per isolate (a
    /// deployment's vars and secrets do not change under a running isolate).
    static SETTINGS: std::cell::OnceCell<(bool, Option<Rc<Pepper>>)> = const { std::cell::OnceCell::new() };
}

/// Whether this is a development deployment, and the pepper search ids are
/// signed with (none: answers carry no search id).
fn settings(env: &Env) -> (bool, Option<Rc<Pepper>>) {
    SETTINGS.with(|s| {
        s.get_or_init(|| {
            let development = e::config(env, "ENVIRONMENT").as_deref() == Some("development");
            (development, e::pepper(env).ok().map(Rc::new))
        })
        .clone()
    })
}

async fn search(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let query = Query::parse(&ctx.query)?;
    let mut p = params(&query)?;
    let (development, pepper) = settings(env);
    if development && query.get("engine") == Some("like") {
        return naive_like(env, &p).await;
    }
    let db = e::db(env)?;
    let idx = index(env, &db).await?;
    let now_ms = js_sys::Date::now() as i64;
    // Development only: bypass the answer cache, to measure scoring itself.
    let fresh = development && query.get("nocache").is_some();
    let key = p.cache_key(idx.version());
    let cached = if fresh { None } else { answers().get(&key, now_ms) };
    let r = match cached {
        Some(r) => r,
        None => {
            let views = popularity(&db, ctx).await?;
            p.views_by_id = Some(views_by_id(&idx, &views));
            p.popularity = Some(views);
            let mut answer = idx.search(&p)?;
            // Full text (issue 19): where hits matched, and questions. A failed
            // read only leaves them out (and the answer uncached).
            let caches = ENRICH.with(|c| *c);
            let enriched = crate::enrich::enrich(&db, caches, now_ms, &mut answer).await;
            if let Err(err) = &enriched {
                log(serde_json::json!({ "level": "warn", "event": "search.fulltext", "detail": err.internal }));
            }
            let body = serde_json::to_string(&answer).map_err(|e| ApiError::internal(e.to_string()))?;
            let r = Rc::new(Rendered { body, searched: answer.searched, total: answer.total });
            if enriched.is_ok() {
                answers().put(&key, Rc::clone(&r), now_ms);
            }
            r
        }
    };
    if r.total > 0 {
        let counter = COUNTER.with(|c| *c);
        counter.search(&r.searched);
        // Counting must never fail a search; a failed write keeps the counts buffered.
        let _ = counter.flush(&db, ctx.now()).await;
    }
    // 搜索分析: the first page is counted under its query; one with results
    // carries a random id a guide opened from it reports back (`?sid=`).
    // Counting must never fail a search: a failed write only means no id.
    let searched = analytics::Searched { searched: &r.searched, total: r.total, page: p.page };
    let tally = TALLY.with(|t| *t);
    let search_id = tally.count(pepper.as_deref(), &OsRandom, searched, ctx.now()).ok().flatten();
    let _ = tally.flush(&db, ctx.now()).await;
    // Search is public; a logged-in citizen's query is also remembered. A
    // missing or stale token only means nothing is remembered. An answer
    // with its own search id is not for shared caches.
    let mut cache = if search_id.is_some() { "private, max-age=30" } else { "public, max-age=30" };
    if e::header(req, "authorization").is_some()
        && let Ok(who) = e::citizen(req, &db, ctx).await
    {
        crate::history::record(&db, &who.id, &r.searched, ctx.now()).await?;
        cache = "private, no-store";
    }
    let body = analytics::with_search_id(&r.body, search_id.as_deref());
    let resp = e::text_response(200, body, "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", cache);
    Ok(resp)
}

/// 搜索分析 (catalogue editors and reviewers): `from=&to=` (default the last
/// 7 days), `limit=` per list (default 20, at most 100).
async fn search_analytics(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require_any(&[Role::CatalogueEditor, Role::CatalogueReviewer])?;
    let q = Query::parse(&ctx.query)?;
    let range = analytics::range(q.get("from"), q.get("to"), ctx.now())?;
    let limit = q.u32_in("limit", 1, analytics::MAX_LIMIT)?.unwrap_or(analytics::DEFAULT_LIMIT);
    e::ok_json(&analytics::report(&db, &range, limit).await?, "private, no-store")
}

async fn history(req: &Request, env: &Env, ctx: &Ctx, clear: bool) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    if clear {
        crate::history::clear(&db, &who.id).await?;
        return e::no_content();
    }
    let list = crate::history::list(&db, &who.id).await?;
    e::ok_json(&serde_json::json!({ "queries": list }), "private, no-store")
}

async fn hot_list(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let idx = index(env, &db).await?;
    let views = hot::top(&db, "view", ctx.now(), 50).await?;
    let items: Vec<_> = views
        .iter()
        .filter_map(|r| idx.name_and_category(&r.key).map(|d| (&r.key, d, r.n)))
        .take(10)
        .map(|(code, (name, category), n)| {
            serde_json::json!({ "code": code, "name": name, "category": category, "views": n })
        })
        .collect();
    let searches: Vec<_> = hot::top(&db, "search", ctx.now(), 10)
        .await?
        .into_iter()
        .map(|r| serde_json::json!({ "query": r.key, "count": r.n }))
        .collect();
    let body = serde_json::json!({ "items": items, "searches": searches, "window_days": hot::WINDOW_DAYS });
    e::ok_json(&body, "public, max-age=60")
}

async fn suggest(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let idx = index(env, &e::db(env)?).await?;
    let (text, region) = (q.get("q").unwrap_or_default(), region(&q)?);
    let key = format!("{}|{text}|{region:?}", idx.version());
    let now_ms = js_sys::Date::now() as i64;
    let body = match suggestions().get(&key, now_ms) {
        Some(body) => body,
        None => {
            let list = idx.suggest(text, region.as_ref())?;
            let body = serde_json::to_string(&serde_json::json!({ "suggestions": list }))
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let body = Rc::new(body);
            suggestions().put(&key, Rc::clone(&body), now_ms);
            body
        }
    };
    let resp =
        e::text_response(200, body.as_str().to_owned(), "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "public, max-age=60");
    Ok(resp)
}

/// Every category in the staff's display order, with its published items.
async fn categories(env: &Env) -> ApiResult<Response> {
    let idx = index(env, &e::db(env)?).await?;
    let list: Vec<_> = idx
        .category_counts()
        .into_iter()
        .map(|(name, count)| serde_json::json!({ "name": name, "count": count }))
        .collect();
    e::ok_json(&serde_json::json!({ "items": list, "catalog_version": idx.version() }), "public, max-age=60")
}

/// Every tag, by name, with its published items.
async fn tags(env: &Env) -> ApiResult<Response> {
    let idx = index(env, &e::db(env)?).await?;
    let list: Vec<_> =
        idx.tag_counts().into_iter().map(|(name, count)| serde_json::json!({ "name": name, "count": count })).collect();
    e::ok_json(&serde_json::json!({ "items": list, "catalog_version": idx.version() }), "public, max-age=60")
}
