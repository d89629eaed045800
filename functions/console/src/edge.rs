//! Workers glue for the console: sign-in, sessions, enrolment and 员工管理.

use crate::accounts::{self, NewStaff};
use crate::enrol::{self, Completion};
use crate::login::{self, Attempt};
use crate::staff::Grant;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Principal};
use shared::edge::{self as e, Ctx};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::staff_session::{self as session};
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "staff", "login"]) => sign_in(req, env, ctx).await,
        (Method::Post, ["v1", "staff", "logout"]) => sign_out(req, env, ctx).await,
        (Method::Get, ["v1", "staff", "me"]) => me(req, env, ctx).await,
        (Method::Post, ["v1", "staff", "password"]) => password(req, env, ctx).await,
        (Method::Post, ["v1", "staff", "enrolment"]) => enrolment(req, env, ctx).await,
        (Method::Post, ["v1", "staff", "enrolment:complete"]) => complete(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "staff"]) => list(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "staff"]) => create(req, env, ctx).await,
        (Method::Put, ["v1", "admin", "staff", id, "grant"]) => grant(req, env, ctx, id).await,
        (Method::Get, ["v1", "admin", "staff", id, "logins"]) => logins(req, env, ctx, id).await,
        (Method::Post, ["v1", "admin", "staff", action]) => match action.split_once(':') {
            Some((id, "disable")) => disable(req, env, ctx, id).await,
            Some((id, "reset-second-factor")) => reset(req, env, ctx, id).await,
            _ => Err(ErrorCode::NotFound.into()),
        },
        (Method::Get | Method::Head, ["console", ..]) => web_app(req, env).await,
        (_, ["v1", "staff", ..] | ["v1", "admin", "staff", ..]) => Err(ErrorCode::MethodNotAllowed.into()),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// The console's web app (`/console/...`) from the Workers Static Assets
/// binding (`run_worker_first`: the worker answers every path, in production
/// as locally), with the headers a staff console needs: no framing
/// (clickjacking), scripts only from itself, no referrer, no sniffing.
async fn web_app(req: &Request, env: &Env) -> ApiResult<Response> {
    let assets = env.assets("ASSETS").map_err(e::runtime_err)?;
    let forwarded = req.clone().map_err(e::runtime_err)?;
    let resp = assets.fetch_request(forwarded).await.map_err(e::runtime_err)?;
    if resp.status_code() == 404 {
        return Err(ApiError::with_message(ErrorCode::NotFound, "后台页面文件不存在"));
    }
    let mut resp = Response::from_body(resp.body().clone())
        .map_err(e::runtime_err)?
        .with_status(resp.status_code())
        .with_headers(resp.headers().clone());
    let h = resp.headers_mut();
    for (name, value) in WEB_HEADERS {
        h.set(name, value).map_err(e::runtime_err)?;
    }
    Ok(resp)
}

/// Security headers of every console page and file.
const WEB_HEADERS: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
];

/// What a sign-in (and `GET /v1/staff/me`) answers.
#[derive(Serialize)]
struct Me<'a> {
    id: &'a str,
    name: &'a str,
    roles: Vec<&'static str>,
    /// Sent back in `X-CSRF-Token` with every write.
    csrf_token: &'a str,
    /// The password is 90 days old or more: the console asks for a new one.
    password_change_due: bool,
}

fn me_json(who: &Principal, csrf: &str, due: bool) -> serde_json::Value {
    let roles = who.roles.iter().map(|r| r.as_str()).collect();
    serde_json::json!(Me { id: &who.token_id, name: &who.name, roles, csrf_token: csrf, password_change_due: due })
}

/// `POST /v1/staff/login`: 10 attempts a minute per client address, five
/// failures lock the account; the session comes back as an HttpOnly cookie.
async fn sign_in(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let ip = e::header(req, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let limiter = env.rate_limiter("LOGIN_LIMITER").map_err(e::runtime_err)?;
    let pepper = e::pepper(env)?;
    // Fails closed: a limiter that cannot answer lets no one guess.
    if !limiter.limit(pepper.ip_hash(&login::rate_key(&ip))).await.is_ok_and(|o| o.success) {
        return Err(ApiError::with_message(ErrorCode::RateLimited, "登录尝试过于频繁，请1分钟后再试"));
    }
    let body: Attempt = e::json_body(req, MAX_BODY_BYTES).await?;
    let db = e::db(env)?;
    let signed = login::login(&db, &OsRandom, &body, &ip, ctx.now()).await?;
    let mut resp = e::ok_json(&me_json(&signed.who, &signed.session.csrf, signed.password_change_due), "no-store")?;
    resp.headers_mut().set("set-cookie", &session::set_cookie(&signed.session.token)).map_err(e::runtime_err)?;
    Ok(resp)
}

/// The session cookie's token, or 401.
fn cookie(req: &Request) -> ApiResult<String> {
    let header = e::header(req, "cookie");
    session::from_cookie(header.as_deref())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::with_message(ErrorCode::Unauthorized, "请先登录后台"))
}

/// `POST /v1/staff/logout` (with the CSRF token): ends the session.
async fn sign_out(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let token = cookie(req)?;
    let db = e::db(env)?;
    e::staff(req, &db, ctx).await?;
    db_batch(&db, session::revoke_stmt(&token, ctx.now())).await?;
    let mut resp = e::no_content()?;
    resp.headers_mut().set("set-cookie", &session::clear_cookie()).map_err(e::runtime_err)?;
    Ok(resp)
}

async fn db_batch(db: &shared::edge::D1Db, stmt: shared::store::Stmt) -> ApiResult<()> {
    shared::store::Db::batch(db, &[stmt]).await.map(|_| ())
}

/// `GET /v1/staff/me`: who is signed in, their roles (the console shows
/// only their menus) and the CSRF token (after a page reload).
async fn me(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let token = cookie(req)?;
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    e::ok_json(&me_json(&who, &session::csrf_for(&token), false), "private, no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    old_password: String,
    new_password: String,
}

/// `POST /v1/staff/password`: one's own password; other sessions end.
async fn password(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let token = cookie(req)?;
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let b: PasswordChange = e::json_body(req, MAX_BODY_BYTES).await?;
    login::change_password(&db, &OsRandom, &who, &token, &b.old_password, &b.new_password, ctx.now()).await?;
    e::no_content()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolToken {
    token: String,
}

/// `POST /v1/staff/enrolment` `{token}`: the enrolment page's QR code (the
/// token travels in the body, never in a URL or a log line).
async fn enrolment(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let b: EnrolToken = e::json_body(req, MAX_BODY_BYTES).await?;
    e::ok_json(&enrol::show(&e::db(env)?, &b.token, ctx.now()).await?, "no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    token: String,
    password: String,
    code: String,
}

/// `POST /v1/staff/enrolment:complete` `{token, password, code}`.
async fn complete(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let b: CompleteBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let c = Completion { password: b.password, code: b.code };
    enrol::complete(&e::db(env)?, &OsRandom, &b.token, &c, ctx.now()).await?;
    e::no_content()
}

/// The link a new account's holder follows (`PUBLIC_BASE_URL`; the token is
/// in the fragment, which browsers never send to a server).
fn link(env: &Env, token: &str) -> String {
    let base = e::config(env, "PUBLIC_BASE_URL").unwrap_or_default();
    format!("{}/console/#/enrol/{token}", base.trim_end_matches('/'))
}

fn with_link(env: &Env, w: &accounts::WithLink) -> serde_json::Value {
    serde_json::json!({ "staff": w.staff, "enrol_url": link(env, &w.enrol_token) })
}

async fn list(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&serde_json::json!({ "staff": accounts::list(&db, &act).await? }), "private, no-store")
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let b: NewStaff = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let made = accounts::create(&db, &OsRandom, &act, &b).await?;
    Ok(e::ok_json(&with_link(env, &made), "no-store")?.with_status(201))
}

async fn grant(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let b: Grant = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&accounts::set_grant(&db, &act, id, &b).await?, "no-store")
}

async fn disable(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&accounts::disable(&db, &act, id).await?, "no-store")
}

async fn reset(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let made = accounts::reset_second_factor(&db, &OsRandom, &act, id).await?;
    e::ok_json(&with_link(env, &made), "no-store")
}

async fn logins(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&serde_json::json!({ "logins": accounts::logins(&db, &act, id).await? }), "private, no-store")
}
