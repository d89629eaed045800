//! The thin glue between the Workers runtime and the plain-Rust domain:
//! request context, JSON in and out, the error-to-response mapping, and the
//! D1/KV implementations of the storage traits. wasm32 only.

mod config;
mod outbound;
mod storage;

pub use config::{config, required};
pub use outbound::{FetchHttp, aliyun_sms, pepper, phone_vault, wechat};
pub use storage::{D1Db, WorkersKv};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::identity::Citizen;
use crate::identity::session::{self, SessionEntry};
use crate::runtime::{Clock, IdSource, OsRandom};
use crate::types::BeijingTime;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{Env, Headers, Method, Request, Response};

/// The Workers clock: `Date.now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeClock;

impl Clock for EdgeClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
}

/// Per-request context: the id that ties the response, the log line and the
/// audit entry together, and the start time for the in-worker duration.
pub struct Ctx {
    pub request_id: String,
    pub method: Method,
    pub path: String,
    pub query: String,
    started_ms: f64,
}

impl Ctx {
    /// Reads the request line; the id is Cloudflare's `cf-ray` when present.
    pub fn new(req: &Request) -> Self {
        let url = req.url().ok();
        let header = req.headers().get("cf-ray").ok().flatten().filter(|r| r.len() <= 64);
        let request_id = header.unwrap_or_else(|| OsRandom.hex(8).unwrap_or_else(|_| "0".repeat(16)));
        Self {
            request_id,
            method: req.method(),
            path: req.path(),
            query: url.and_then(|u| u.query().map(str::to_owned)).unwrap_or_default(),
            started_ms: js_sys::Date::now(),
        }
    }

    /// Now, in Beijing time.
    pub fn now(&self) -> BeijingTime {
        BeijingTime::from_utc(EdgeClock.now())
    }

    /// The path split into segments (`/v1/guides/x` -> `["v1","guides","x"]`).
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// Turns a handler's result into the response, with the request id
    /// header and one structured log line (no bodies, no query strings: they
    /// can carry personal data).
    pub fn finish(&self, result: ApiResult<Response>) -> worker::Result<Response> {
        let (mut resp, code) = match result {
            Ok(r) => (r, None),
            Err(e) => (self.error_response(&e)?, Some(e.code.as_str())),
        };
        let _ = resp.headers_mut().set("x-request-id", &self.request_id);
        let ms = js_sys::Date::now() - self.started_ms;
        let line = serde_json::json!({
            "level": if resp.status_code() >= 500 { "error" } else { "info" },
            "request_id": self.request_id, "method": self.method.to_string(),
            "path": crate::pii::redact_text(&self.path), "status": resp.status_code(),
            "code": code, "worker_ms": ms,
        });
        worker::console_log!("{line}");
        let _ = resp.headers_mut().set("server-timing", &format!("worker;dur={ms:.1}"));
        Ok(resp)
    }

    fn error_response(&self, e: &ApiError) -> worker::Result<Response> {
        if let Some(detail) = &e.internal {
            // A lost race (a failed precondition: 409) is expected, not an error.
            let line = serde_json::json!({"level": if e.status() >= 500 { "error" } else { "warn" },
                "request_id": self.request_id, "detail": crate::pii::redact_text(detail)});
            if e.status() >= 500 {
                worker::console_error!("{line}");
            } else {
                worker::console_log!("{line}");
            }
        }
        Ok(json_response(e.status(), &e.envelope(&self.request_id))?.with_headers(no_store()))
    }
}

fn no_store() -> Headers {
    let h = Headers::new();
    let _ = h.set("content-type", "application/json; charset=utf-8");
    let _ = h.set("cache-control", "no-store");
    h
}

/// A JSON response with the given status.
pub fn json_response<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    text_response(status, text, "application/json; charset=utf-8")
}

/// A text response with a content type.
pub fn text_response(status: u16, body: String, content_type: &str) -> worker::Result<Response> {
    let resp = Response::ok(body)?.with_status(status);
    let _ = resp.headers().set("content-type", content_type);
    Ok(resp)
}

/// 204 No Content.
pub fn no_content() -> ApiResult<Response> {
    Response::empty().map(|r| r.with_status(204)).map_err(runtime_err)
}

/// A private file (an upload shown to staff): its type, never cached, never sniffed.
pub fn private_file(content_type: &str, bytes: Vec<u8>) -> ApiResult<Response> {
    let resp = Response::from_bytes(bytes).map_err(runtime_err)?;
    let _ = resp.headers().set("content-type", content_type);
    let _ = resp.headers().set("cache-control", "no-store");
    let _ = resp.headers().set("x-content-type-options", "nosniff");
    Ok(resp)
}

/// JSON of a successful answer; `cache` is the Cache-Control value.
pub fn ok_json<T: Serialize>(body: &T, cache: &str) -> ApiResult<Response> {
    let resp = json_response(200, body).map_err(runtime_err)?;
    let _ = resp.headers().set("cache-control", cache);
    Ok(resp)
}

/// A runtime failure (a binding missing, a JS exception) as an internal error.
pub fn runtime_err(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("runtime: {e}"))
}

/// Reads a JSON body: 415 unless declared JSON, 413 over `cap` bytes (checked
/// on Content-Length before reading and on the bytes after), 400 if malformed.
pub async fn json_body<T: DeserializeOwned>(req: &mut Request, cap: usize) -> ApiResult<T> {
    let headers = req.headers();
    let ctype = headers.get("content-type").ok().flatten().unwrap_or_default();
    if !ctype.to_ascii_lowercase().starts_with("application/json") {
        return Err(ErrorCode::UnsupportedMediaType.into());
    }
    let bytes = capped_bytes(req, cap).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::with_message(
            ErrorCode::InvalidJson,
            format!("请求内容不是有效的 JSON 或字段类型不符（第 {} 行第 {} 列附近）", e.line(), e.column()),
        )
    })
}

/// The body's bytes: 413 over `cap`, checked on Content-Length before
/// reading and on every chunk while reading, so a chunked body without a
/// length is refused once it passes the cap and memory stays bounded
/// whatever a client sends.
pub async fn capped_bytes(req: &mut Request, cap: usize) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let declared = header(req, "content-length").and_then(|l| l.parse::<usize>().ok());
    let too_large =
        || ApiError::with_message(ErrorCode::PayloadTooLarge, format!("提交的内容超过 {} KiB 上限", cap / 1024));
    if declared.is_some_and(|l| l > cap) {
        return Err(too_large());
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    // A declared length within the cap bounds the body (HTTP framing): one
    // read of the whole buffer, cheaper than a stream of chunk promises.
    if declared.is_some() {
        let bytes = req.bytes().await.map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
        return if bytes.len() > cap { Err(too_large()) } else { Ok(bytes) };
    }
    let mut stream = req.stream().map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
        if bytes.len().saturating_add(chunk.len()) > cap {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The D1 database bound as [`crate::bindings::DB`].
pub fn db(env: &Env) -> ApiResult<D1Db> {
    env.d1(crate::bindings::DB).map(D1Db::new).map_err(runtime_err)
}

/// The KV namespace bound as [`crate::bindings::CACHE`].
pub fn kv(env: &Env) -> ApiResult<WorkersKv> {
    env.kv(crate::bindings::CACHE).map(WorkersKv::new).map_err(runtime_err)
}

/// Declares a function returning this isolate's [`HotCache`] of a type:
/// created on first use and leaked, so a plain `&'static` reference can be
/// held across awaits (Workers isolates are single-threaded).
#[macro_export]
macro_rules! isolate_cache {
    ($(#[$m:meta])* $vis:vis fn $name:ident() -> $t:ty = ($entries:expr, $ttl_ms:expr);) => {
        $(#[$m])*
        $vis fn $name() -> &'static $crate::store::HotCache<$t> {
            thread_local! {
                static CACHE: &'static $crate::store::HotCache<$t> =
                    Box::leak(Box::new($crate::store::HotCache::new($entries, $ttl_ms)));
            }
            CACHE.with(|c| *c)
        }
    };
}

isolate_cache! {
    /// Session checks remembered by this isolate (see `identity::session`).
    pub fn sessions() -> SessionEntry = (session::SESSION_CACHE_ENTRIES, session::SESSION_CACHE_MS);
}

/// Counts a lookup by number (a complaint's, an application's) against the
/// client's limit (the `LOOKUP_LIMITER` binding, 30 a minute per client IP,
/// keyed by its HMAC): 429 beyond it.
pub async fn limit_lookups(req: &Request, env: &worker::Env) -> ApiResult<()> {
    let ip = header(req, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let limiter = env.rate_limiter("LOOKUP_LIMITER").map_err(runtime_err)?;
    let outcome = limiter.limit(pepper(env)?.ip_hash(&ip)).await.map_err(runtime_err)?;
    if outcome.success {
        Ok(())
    } else {
        Err(ApiError::with_message(crate::error::ErrorCode::RateLimited, "查询过于频繁，请1分钟后再试"))
    }
}

/// The citizen behind the request's bearer token (401 otherwise).
pub async fn citizen(req: &Request, db: &D1Db, ctx: &Ctx) -> ApiResult<Citizen> {
    session::authenticate(db, sessions(), header(req, "authorization").as_deref(), ctx.now()).await
}

/// The staff member behind the request: a bearer admin token (scripts and
/// integrations) or the console's session cookie, whose writes need the
/// session's CSRF token; 401 otherwise. Roles and scope are checked the same
/// way for both.
pub async fn staff(req: &Request, db: &D1Db, ctx: &Ctx) -> ApiResult<crate::admin::Principal> {
    use crate::staff_session as session;
    let authorization = header(req, "authorization");
    if authorization.is_none() {
        let cookie = header(req, "cookie");
        if let Some(token) = session::from_cookie(cookie.as_deref()) {
            let write = !matches!(req.method(), worker::Method::Get | worker::Method::Head);
            let csrf = header(req, session::CSRF_HEADER);
            return session::authenticate(db, token, csrf.as_deref(), write, ctx.now()).await;
        }
    }
    crate::admin::authenticate(db, authorization.as_deref(), ctx.now()).await
}

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 64;

/// The request's `Idempotency-Key`, if any: 1-64 visible ASCII characters.
pub fn idempotency_key(req: &Request) -> ApiResult<Option<String>> {
    match header(req, "idempotency-key") {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k))
        }
        Some(_) => Err(ApiError::bad_field("Idempotency-Key", "Idempotency-Key 应为1-64个可见 ASCII 字符")),
    }
}

/// A request header, if present.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The `fetch` entry point of a worker: request context, `$dispatch`
/// (`async fn(&mut Request, &Env, &Ctx) -> ApiResult<Response>`), then the
/// response with its request id and log line.
#[macro_export]
macro_rules! edge_entry {
    ($dispatch:path) => {
        #[worker::event(fetch)]
        async fn fetch(
            mut req: worker::Request,
            env: worker::Env,
            _ctx: worker::Context,
        ) -> worker::Result<worker::Response> {
            let ctx = $crate::edge::Ctx::new(&req);
            let result = $dispatch(&mut req, &env, &ctx).await;
            ctx.finish(result)
        }
    };
}
