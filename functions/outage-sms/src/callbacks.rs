//! The SMS provider's pushes (Aliyun HTTP batch push): delivery receipts
//! (SmsReport) and replies (SmsUp). Aliyun signs neither, so the URL set in
//! its console carries a secret `token` (`SMS_CALLBACK_TOKEN`), compared in
//! constant time. The answer is Aliyun's `{"code":0,"msg":"接收成功"}`.

use crate::receipts::{self, Receipt};
use crate::subscriptions::{self, Uplink};
use shared::crypto::constant_time_eq;
use shared::edge::{self as e, Ctx};
use shared::http::Query;
use shared::runtime::OsRandom;
use shared::{ApiResult, ErrorCode};
use worker::{Env, Request, Response};

/// A push holds at most a few hundred reports of ~250 bytes.
const PUSH_BYTES: usize = 1024 * 1024;

fn check_token(env: &Env, ctx: &Ctx) -> ApiResult<()> {
    let expected = e::required(env, "SMS_CALLBACK_TOKEN")?;
    let q = Query::parse(&ctx.query)?;
    match q.get("token") {
        Some(t) if constant_time_eq(t, &expected) => Ok(()),
        _ => Err(ErrorCode::CallbackTokenInvalid.into()),
    }
}

fn received() -> ApiResult<Response> {
    e::ok_json(&serde_json::json!({ "code": 0, "msg": "接收成功" }), "no-store")
}

pub async fn receipts(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    check_token(env, ctx)?;
    let reports: Vec<Receipt> = e::json_body(req, PUSH_BYTES).await?;
    let db = e::db(env)?;
    let updated = receipts::apply_receipts(&db, &e::pepper(env)?, &reports, ctx.now()).await?;
    worker::console_log!(
        "{}",
        serde_json::json!({ "level": "info", "event": "sms.receipts", "reports": reports.len(), "updated": updated,
            "request_id": ctx.request_id })
    );
    received()
}

pub async fn uplink(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    check_token(env, ctx)?;
    let ups: Vec<Uplink> = e::json_body(req, PUSH_BYTES).await?;
    let db = e::db(env)?;
    let done = subscriptions::apply_uplinks(&db, &e::pepper(env)?, &OsRandom, &ups, ctx.now()).await?;
    worker::console_log!(
        "{}",
        serde_json::json!({ "level": "info", "event": "sms.uplink", "replies": ups.len(), "unsubscribed": done,
            "request_id": ctx.request_id })
    );
    received()
}
