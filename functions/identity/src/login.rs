//! The login flows, over the storage and provider traits: plain Rust.

use serde::Serialize;
use shared::ApiResult;
use shared::crypto::Pepper;
use shared::identity::account::{self, Profile};
use shared::identity::session::{self, NewSession};
use shared::identity::{inbox, sms_code};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::{BeijingTime, MobileNumber};

/// What a successful login returns.
#[derive(Debug, Serialize)]
pub struct LoginAnswer {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: BeijingTime,
    pub new_account: bool,
    pub citizen: Profile,
}

/// The welcome notice every new account receives.
fn welcome(ids: &impl IdSource, citizen_id: &str, now: BeijingTime) -> ApiResult<Stmt> {
    inbox::post_stmt(
        ids,
        citizen_id,
        "system",
        "欢迎使用便民服务",
        "您可以在这里查询办事指南、预约办理、缴纳水费、订阅停水通知和提交投诉建议。",
        None,
        now,
    )
}

/// Issues a session for a found-or-created citizen, writing the account,
/// the welcome notice and the session in one batch.
pub async fn finish(
    db: &impl Db,
    ids: &impl IdSource,
    (citizen_id, mut stmts): (String, Vec<Stmt>),
    method: &str,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<LoginAnswer> {
    let new_account = !stmts.is_empty();
    if new_account {
        stmts.push(welcome(ids, &citizen_id, now)?);
    }
    let (NewSession { token, expires_at, .. }, stmt) = session::issue(ids, &citizen_id, method, now, ttl_secs)?;
    stmts.push(stmt);
    db.batch(&stmts).await?;
    let citizen = account::profile(db, &citizen_id).await?;
    Ok(LoginAnswer { token, token_type: "Bearer", expires_at, new_account, citizen })
}

/// Logs in by a confirmed phone (where WeChat login is not available).
pub async fn by_phone(
    db: &impl Db,
    ids: &impl IdSource,
    pepper: &Pepper,
    phone: &MobileNumber,
    code: &str,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<LoginAnswer> {
    sms_code::verify(db, pepper, phone, code, now).await?;
    let found = account::by_phone(db, ids, pepper, phone, now).await?;
    finish(db, ids, found, "phone", now, ttl_secs).await
}

/// Binds a confirmed phone to the logged-in citizen and tells them in the inbox.
pub async fn bind_phone(
    db: &impl Db,
    ids: &impl IdSource,
    pepper: &Pepper,
    citizen_id: &str,
    phone: &MobileNumber,
    code: &str,
    now: BeijingTime,
) -> ApiResult<Profile> {
    sms_code::verify(db, pepper, phone, code, now).await?;
    account::bind_phone(db, pepper, citizen_id, phone, now).await?;
    let notice = format!("您的账号已绑定手机号 {}，可用于接收办事提醒和验证码登录。", phone.masked());
    db.batch(&[inbox::post_stmt(ids, citizen_id, "system", "手机号绑定成功", &notice, None, now)?]).await?;
    account::profile(db, citizen_id).await
}
