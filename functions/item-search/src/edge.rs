//! Workers glue for item-search.

use crate::index::Index;
use crate::query::{self, DEFAULT_SIZE, MAX_SIZE, Params};
use shared::catalogue::{geo, hot, repo};
use shared::edge::{self as e, Ctx, D1Db};
use shared::http::Query;
use shared::{ApiError, ApiResult, ErrorCode};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use worker::{Env, Method, Request, Response};

/// How often an isolate asks D1 whether the catalogue changed: the bound on
/// how long a publish takes to reach search (002: the index follows within seconds).
const VERSION_CHECK_MS: f64 = 2_000.0;

struct Cached {
    index: Rc<Index>,
    checked_ms: f64,
}

thread_local! {
    static INDEX: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// This isolate's index, rebuilt lazily once per catalogue version: requests
/// keep using the current index while one request builds the next.
async fn index(db: &D1Db) -> ApiResult<Rc<Index>> {
    let now = js_sys::Date::now();
    let current = INDEX.with(|c| c.borrow().as_ref().map(|c| (Rc::clone(&c.index), c.checked_ms)));
    if let Some((idx, checked)) = &current
        && now - checked < VERSION_CHECK_MS
    {
        return Ok(Rc::clone(idx));
    }
    let version = repo::catalog_version(db).await?;
    if let Some((idx, _)) = current.filter(|(i, _)| i.version == version) {
        INDEX.with(|c| c.borrow_mut().replace(Cached { index: Rc::clone(&idx), checked_ms: now }));
        return Ok(idx);
    }
    let idx = Rc::new(Index::load(db).await?);
    INDEX.with(|c| c.borrow_mut().replace(Cached { index: Rc::clone(&idx), checked_ms: now }));
    Ok(idx)
}

/// Guide views per item code.
type Views = Rc<HashMap<String, i64>>;

thread_local! {
    static COUNTER: &'static hot::Counter = Box::leak(Box::new(hot::Counter::default()));
    static POPULARITY: RefCell<Option<(Views, f64)>> = const { RefCell::new(None) };
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
        (Method::Get, ["v1", "tags"]) => counts(env, |d| d.tags.clone()).await,
        (_, ["v1", "items", "search" | "suggest" | "hot"] | ["v1", "categories" | "tags"]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
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

fn params(ctx: &Ctx) -> ApiResult<Params> {
    let q = Query::parse(&ctx.query)?;
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
        online: flag(&q, "online")?,
        appointment: flag(&q, "appointment")?,
        near,
        page: q.u32_in("page", 1, 1_000)?.unwrap_or(1),
        size: q.u32_in("size", 1, MAX_SIZE)?.unwrap_or(DEFAULT_SIZE),
        popularity: None,
    })
}

/// For benchmarks only (never in production): see [`crate::like`].
async fn naive_like(env: &Env, p: &Params) -> ApiResult<Response> {
    let rows = crate::like::naive_like(&e::db(env)?, p).await?;
    e::ok_json(&serde_json::json!({ "engine": "like", "items": rows }), "no-store")
}

async fn search(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let mut p = params(ctx)?;
    let development = e::config(env, "ENVIRONMENT").as_deref() == Some("development");
    if development && Query::parse(&ctx.query)?.get("engine") == Some("like") {
        return naive_like(env, &p).await;
    }
    let db = e::db(env)?;
    let idx = index(&db).await?;
    let now_ms = js_sys::Date::now() as i64;
    // Development only: bypass the answer cache, to measure scoring itself.
    let fresh = development && Query::parse(&ctx.query)?.get("nocache").is_some();
    let key = format!(
        "{}|{:?}",
        idx.version,
        (&p.q, &p.category, &p.tag, &p.department, p.online, p.appointment, p.near, p.page, p.size)
    );
    let cached = if fresh { None } else { answers().get(&key, now_ms) };
    let r = match cached {
        Some(r) => r,
        None => {
            p.popularity = Some(popularity(&db, ctx).await?);
            let answer = query::search(&idx, &p)?;
            let body = serde_json::to_string(&answer).map_err(|e| ApiError::internal(e.to_string()))?;
            let r = Rc::new(Rendered { body, searched: answer.searched, total: answer.total });
            answers().put(&key, Rc::clone(&r), now_ms);
            r
        }
    };
    if r.total > 0 {
        let counter = COUNTER.with(|c| *c);
        counter.search(&r.searched);
        // Counting must never fail a search; a failed write keeps the counts buffered.
        let _ = counter.flush(&db, ctx.now()).await;
    }
    // Search is public; a logged-in citizen's query is also remembered. A
    // missing or stale token only means nothing is remembered.
    let mut cache = "public, max-age=30";
    if e::header(req, "authorization").is_some()
        && let Ok(who) = e::citizen(req, &db, ctx).await
    {
        crate::history::record(&db, &who.id, &r.searched, ctx.now()).await?;
        cache = "private, no-store";
    }
    let resp = e::text_response(200, r.body.clone(), "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", cache);
    Ok(resp)
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
    let idx = index(&db).await?;
    let names: HashMap<&str, &crate::index::Doc> = idx.docs.iter().map(|d| (d.code.as_str(), d)).collect();
    let views = hot::top(&db, "view", ctx.now(), 50).await?;
    let items: Vec<_> = views
        .iter()
        .filter_map(|r| names.get(r.key.as_str()).map(|d| (d, r.n)))
        .take(10)
        .map(|(d, n)| serde_json::json!({ "code": d.code, "name": d.name, "category": d.category, "views": n }))
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
    let idx = index(&e::db(env)?).await?;
    let list = query::suggest(&idx, q.get("q").unwrap_or_default())?;
    e::ok_json(&serde_json::json!({ "suggestions": list }), "public, max-age=60")
}

/// Every category in the staff's display order, with its published items.
async fn categories(env: &Env) -> ApiResult<Response> {
    let idx = index(&e::db(env)?).await?;
    let mut n: HashMap<&str, usize> = HashMap::new();
    for d in &idx.docs {
        *n.entry(d.category.as_str()).or_default() += 1;
    }
    let list: Vec<_> = idx
        .categories
        .iter()
        .map(|c| serde_json::json!({ "name": c, "count": n.get(c.as_str()).copied().unwrap_or(0) }))
        .collect();
    e::ok_json(&serde_json::json!({ "items": list, "catalog_version": idx.version }), "public, max-age=60")
}

async fn counts(env: &Env, keys: impl Fn(&crate::index::Doc) -> Vec<String>) -> ApiResult<Response> {
    let idx = index(&e::db(env)?).await?;
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for d in &idx.docs {
        for k in keys(d) {
            *map.entry(k).or_default() += 1;
        }
    }
    let list: Vec<_> =
        map.into_iter().map(|(name, count)| serde_json::json!({ "name": name, "count": count })).collect();
    e::ok_json(&serde_json::json!({ "items": list, "catalog_version": idx.version }), "public, max-age=60")
}
