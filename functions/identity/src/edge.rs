//! Workers glue for identity.

use crate::{login, wechat_subscriptions};
use serde::Deserialize;
use shared::crypto::Pepper;
use shared::edge::{self as e, Ctx, FetchHttp};
use shared::http::Query;
use shared::identity::account::{PROFILE_CACHE_MS, Profile};
use shared::identity::{account, inbox, session, sms_code, wechat::WeChat};
use shared::limits::{MAX_BODY_BYTES, MAX_PAGE_SIZE};
use shared::runtime::OsRandom;
use shared::store::HotCache;
use shared::types::MobileNumber;
use shared::wechat_notify::Templates;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Context, Env, Method, Request, Response, event};

thread_local! {
    /// Profiles read by this isolate (see `account::PROFILE_CACHE_MS`).
    static PROFILES: &'static HotCache<Profile> = Box::leak(Box::new(HotCache::new(10_000, PROFILE_CACHE_MS)));
}

fn profiles() -> &'static HotCache<Profile> {
    PROFILES.with(|p| *p)
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let ctx = Ctx::new(&req);
    let result = dispatch(&mut req, &env, &ctx).await;
    ctx.finish(result)
}

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "auth", "wechat"]) => wechat_login(req, env, ctx).await,
        (Method::Post, ["v1", "auth", "sms-code"]) => send_code(req, env, ctx).await,
        (Method::Post, ["v1", "auth", "phone"]) => phone(req, env, ctx).await,
        (Method::Post, ["v1", "auth", "logout"]) => logout(req, env, ctx).await,
        (Method::Get, ["v1", "me"]) => me(req, env, ctx).await,
        (Method::Patch, ["v1", "me"]) => patch_me(req, env, ctx).await,
        (Method::Delete, ["v1", "me"]) => delete_me(req, env, ctx).await,
        (Method::Get, ["v1", "me", "messages"]) => messages(req, env, ctx).await,
        (Method::Get, ["v1", "me", "cases"]) => cases(req, env, ctx).await,
        (Method::Post, ["v1", "me", "messages", id, "read"]) => read(req, env, ctx, id).await,
        (Method::Get | Method::Post, ["v1", "me", "wechat-subscriptions"]) => wechat_subscriptions(req, env, ctx).await,
        (
            _,
            ["v1", "auth", "wechat" | "sms-code" | "phone" | "logout"]
            | ["v1", "me"]
            | ["v1", "me", "messages", ..]
            | ["v1", "me", "cases" | "wechat-subscriptions"],
        ) => Err(ErrorCode::MethodNotAllowed.into()),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

fn pepper(env: &Env) -> ApiResult<Pepper> {
    e::pepper(env)
}

fn ttl(env: &Env) -> i64 {
    e::config(env, "SESSION_TTL_SECS")
        .and_then(|v| v.parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(session::DEFAULT_TTL_SECS)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WechatBody {
    code: String,
}

async fn wechat_login(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let body: WechatBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let wx = WeChat {
        http: &FetchHttp,
        base_url: e::required(env, "WECHAT_API_BASE")?,
        appid: e::required(env, "WECHAT_APPID")?,
        secret: e::required(env, "WECHAT_SECRET")?,
    };
    let openid = wx.openid(&body.code).await?;
    let db = e::db(env)?;
    let found = account::by_openid(&db, &OsRandom, &openid, ctx.now()).await?;
    e::ok_json(&login::finish(&db, &OsRandom, found, login::Method::WeChat, ctx.now(), ttl(env)).await?, "no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: MobileNumber,
    #[serde(default)]
    code: Option<String>,
    /// A code sent to the phone already bound, when a session replaces it.
    #[serde(default)]
    old_phone_code: Option<String>,
}

async fn send_code(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let body: PhoneBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let sms = e::aliyun_sms(env)?;
    let template = e::required(env, "SMS_TEMPLATE_LOGIN")?;
    let ip = e::header(req, "cf-connecting-ip");
    let db = e::db(env)?;
    let sent = sms_code::send(
        &db,
        &sms,
        &OsRandom,
        &pepper(env)?,
        &template,
        &body.phone,
        ip.as_deref(),
        ctx.now(),
        &ctx.request_id,
    )
    .await?;
    e::ok_json(&sent, "no-store")
}

async fn phone(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let body: PhoneBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let code = body.code.ok_or_else(|| ApiError::bad_field("code", "请输入短信验证码"))?;
    let (db, pepper) = (e::db(env)?, pepper(env)?);
    if e::header(req, "authorization").is_some() {
        let who = e::citizen(req, &db, ctx).await?;
        let codes = login::PhoneCodes { code: &code, old_phone_code: body.old_phone_code.as_deref() };
        let profile =
            login::bind_phone(&db, &OsRandom, &pepper, e::sessions(), &who, &body.phone, codes, ctx.now()).await?;
        profiles().remove(&who.id);
        return e::ok_json(&profile, "no-store");
    }
    e::ok_json(&login::by_phone(&db, &OsRandom, &pepper, &body.phone, &code, ctx.now(), ttl(env)).await?, "no-store")
}

async fn logout(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    session::revoke(&db, e::sessions(), e::header(req, "authorization").as_deref(), &who, ctx.now()).await?;
    e::no_content()
}

async fn me(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let now_ms = ctx.now().to_utc().timestamp_millis();
    e::ok_json(&*account::cached_profile(&db, profiles(), &who.id, now_ms).await?, "private, no-store")
}

async fn patch_me(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let patch: account::ProfilePatch = e::json_body(req, MAX_BODY_BYTES).await?;
    profiles().remove(&who.id);
    e::ok_json(&account::update(&db, &who.id, patch, ctx.now()).await?, "private, no-store")
}

async fn delete_me(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    shared::identity::erasure::delete(&db, &e::kv(env)?, &who.id, ctx.now()).await?;
    profiles().remove(&who.id);
    if let Some(h) = e::header(req, "authorization") {
        // Forget this isolate's memory of the token now that its session row is gone.
        let _ = session::revoke(&db, e::sessions(), Some(&h), &who, ctx.now()).await;
    }
    e::no_content()
}

async fn messages(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let unread = match q.get("unread") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(ApiError::bad_field("unread", "unread 应为 true 或 false")),
    };
    let before = q
        .get("before")
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| ApiError::bad_field("before", "before 应为整数"))?;
    let page = inbox::list(&db, &who.id, unread, before, q.u32_in("size", 1, MAX_PAGE_SIZE)?).await?;
    e::ok_json(&page, "private, no-store")
}

async fn read(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    inbox::mark_read(&db, &who.id, id, ctx.now()).await?;
    e::no_content()
}

/// `GET /v1/me/cases`: 我的办件, one query over the five kinds.
async fn cases(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let list = crate::cases::list(&db, &who.id, &ctx.now().to_rfc3339()).await?;
    e::ok_json(&list, "private, no-store")
}

/// `GET|POST /v1/me/wechat-subscriptions`: 订阅消息 acceptances (a POST body
/// is the `wx.requestSubscribeMessage` result object).
async fn wechat_subscriptions(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let templates = Templates::parse(&e::config(env, "WECHAT_TEMPLATES").unwrap_or_default())
        .map_err(|m| ApiError::internal(format!("WECHAT_TEMPLATES: {m}")))?;
    if ctx.method == Method::Get {
        return e::ok_json(&wechat_subscriptions::list(&db, &who.id, &templates).await?, "private, no-store");
    }
    let body: serde_json::Map<String, serde_json::Value> = e::json_body(req, MAX_BODY_BYTES).await?;
    let report = wechat_subscriptions::parse_report(&body, &templates)?;
    e::ok_json(&wechat_subscriptions::record(&db, &who.id, &report, &templates, ctx.now()).await?, "no-store")
}
