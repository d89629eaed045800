//! The login flows, over the storage and provider traits: plain Rust.

use serde::Serialize;
use shared::crypto::Pepper;
use shared::error::FieldError;
use shared::identity::Citizen;
use shared::identity::account::{self, Profile};
use shared::identity::session::{self, NewSession, SessionEntry};
use shared::identity::{inbox, sms_code};
use shared::runtime::IdSource;
use shared::store::{Db, HotCache, Stmt};
use shared::types::{BeijingTime, MobileNumber};
use shared::{ApiError, ApiResult};

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

/// How a citizen logged in: the phone (its HMAC) for a login by SMS code.
pub enum Method {
    WeChat,
    Phone { phone_hash: String },
}

/// Issues a session for a found-or-created citizen, writing the account,
/// the welcome notice and the session in one batch.
pub async fn finish(
    db: &impl Db,
    ids: &impl IdSource,
    (citizen_id, mut stmts): (String, Vec<Stmt>),
    method: Method,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<LoginAnswer> {
    let new_account = !stmts.is_empty();
    if new_account {
        stmts.push(welcome(ids, &citizen_id, now)?);
    }
    let (NewSession { token, expires_at, .. }, stmt) = match method {
        Method::WeChat => session::issue(ids, &citizen_id, "wechat", now, ttl_secs)?,
        Method::Phone { phone_hash } => session::issue_by_phone(ids, &citizen_id, &phone_hash, now, ttl_secs)?,
    };
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
    finish(db, ids, found, Method::Phone { phone_hash: pepper.phone_hash(phone) }, now, ttl_secs).await
}

/// A code, as the citizen entered it, and what it confirms.
pub struct PhoneCodes<'a> {
    /// The code sent to the phone being bound.
    pub code: &'a str,
    /// A code sent to the phone already bound, when replacing it.
    pub old_phone_code: Option<&'a str>,
}

/// Points an error about the old phone's code at its field.
fn about_old_code(mut e: ApiError) -> ApiError {
    let message = e.message.clone().unwrap_or_else(|| e.code.message().to_owned());
    e.fields = vec![FieldError::new("old_phone_code", message)];
    e
}

/// Binds a confirmed phone to the logged-in citizen and tells them in the
/// inbox. A first phone needs only its own code. Replacing a bound phone also
/// needs proof of the old one (a code sent to it, or this session being a
/// login by it in the last [`session::PHONE_PROOF_SECS`]), so a stolen session
/// cannot turn itself into a permanent login by the thief's phone; the change
/// ends every other session of the citizen.
#[allow(clippy::too_many_arguments)]
pub async fn bind_phone(
    db: &impl Db,
    ids: &impl IdSource,
    pepper: &Pepper,
    hot: &HotCache<SessionEntry>,
    who: &Citizen,
    phone: &MobileNumber,
    codes: PhoneCodes<'_>,
    now: BeijingTime,
) -> ApiResult<Profile> {
    let new_hash = pepper.phone_hash(phone);
    let old = match account::phone_hash(db, &who.id).await? {
        Some(h) if h != new_hash => account::phone(db, &who.id).await?.map(|p| (h, p)),
        _ => None,
    };
    if let Some((old_hash, old_phone)) = &old
        && !session::proves_phone(db, who, old_hash, now).await?
    {
        let old_code = codes.old_phone_code.ok_or_else(|| {
            ApiError::bad_field(
                "old_phone_code",
                format!(
                    "更换已绑定的手机号须先验证原手机号：请向原手机号 {} 获取验证码并填写 old_phone_code，或用原手机号验证码登录后{}分钟内更换",
                    old_phone.masked(),
                    session::PHONE_PROOF_SECS / 60
                ),
            )
        })?;
        sms_code::verify(db, pepper, old_phone, old_code, now).await.map_err(about_old_code)?;
    }
    sms_code::verify(db, pepper, phone, codes.code, now).await?;
    let mut stmts =
        account::bind_phone_stmts(db, pepper, &who.id, old.as_ref().map(|(h, _)| h.as_str()), phone, now).await?;
    let (title, notice) = match &old {
        None => {
            ("手机号绑定成功", format!("您的账号已绑定手机号 {}，可用于接收办事提醒和验证码登录。", phone.masked()))
        }
        Some((_, old_phone)) => {
            stmts.push(session::revoke_others_stmt(who, now));
            (
                "手机号已更换",
                format!(
                    "您的账号绑定的手机号已由 {} 更换为 {}，其他设备上的登录已退出。如非本人操作，请立即联系客服。",
                    old_phone.masked(),
                    phone.masked()
                ),
            )
        }
    };
    stmts.push(inbox::post_stmt(ids, &who.id, "system", title, &notice, None, now)?);
    db.batch(&stmts).await?;
    if old.is_some() {
        session::forget_others(db, hot, who).await?;
    }
    account::profile(db, &who.id).await
}
