//! SMS verification codes (001: registration and login confirmed by SMS):
//! 6 digits, stored as an HMAC, valid 5 minutes, 5 tries, and sending
//! limited per number (1 a minute, 5 an hour, 10 a day: Aliyun's
//! verification-code limits) and per client IP.

use crate::crypto::Pepper;
use crate::crypto::constant_time_eq;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::runtime::IdSource;
use crate::sms::{FailureClass, SendContext, SmsMessage, SmsOutcome, SmsProvider, log_stmts};
use crate::store::{Db, Stmt, Value};
use crate::types::{BeijingTime, MobileNumber};
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How long a code is valid.
pub const CODE_TTL_SECS: i64 = 300;
/// Wrong entries allowed before a code is void.
pub const MAX_ATTEMPTS: i64 = 5;
/// Purpose recorded in the SMS log for login codes.
pub const PURPOSE: &str = "login_code";

/// Sending limits: (window in seconds, most sends in it, what to tell the citizen).
pub const PHONE_LIMITS: [(i64, i64, &str); 3] = [(60, 1, "1分钟"), (3600, 5, "1小时"), (86_400, 10, "24小时")];
/// Codes one client IP may request per hour (a household or office shares
/// an IP, so this is looser than the per-number limit).
pub const IP_LIMIT_PER_HOUR: i64 = 20;

/// The answer to a code request.
#[derive(Debug, Serialize, PartialEq)]
pub struct CodeSent {
    pub phone: String,
    pub expires_in: i64,
    pub resend_after: i64,
}

/// The provider's template for login codes (`${code}` parameter).
pub struct Template<'a> {
    pub code: &'a str,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
    oldest: Option<String>,
}

fn since(now: BeijingTime, secs: i64) -> String {
    BeijingTime::from_utc(now.to_utc() - Duration::seconds(secs)).to_rfc3339()
}

async fn count(db: &impl Db, column: &str, key: &str, window: i64, now: BeijingTime) -> ApiResult<Count> {
    let sql = format!(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM sms_log WHERE {column} = ?1 AND purpose = ?2 AND status = 'sent' AND at > ?3"
    );
    let row: Option<Count> = db.first_as(&sql, &[key.into(), PURPOSE.into(), since(now, window).into()]).await?;
    Ok(row.unwrap_or(Count { n: 0, oldest: None }))
}

/// 429 with the wait, in seconds, until the window frees a send.
fn limited(what: &str, oldest: Option<&str>, window: i64, now: BeijingTime) -> ApiError {
    let wait = oldest
        .and_then(|o| BeijingTime::parse(o).ok())
        .map(|o| (o.to_utc() + Duration::seconds(window) - now.to_utc()).num_seconds().max(1))
        .unwrap_or(window);
    ApiError::with_message(ErrorCode::SmsSendLimited, format!("{what}内发送次数已达上限，请{wait}秒后再试"))
}

/// Checks the limits, sends a fresh code, and records both the send and the
/// code's HMAC. Nothing is stored if the provider refuses.
#[allow(clippy::too_many_arguments)]
pub async fn send(
    db: &impl Db,
    sms: &impl SmsProvider,
    ids: &impl IdSource,
    pepper: &Pepper,
    template_code: &str,
    phone: &MobileNumber,
    ip: Option<&str>,
    now: BeijingTime,
    request_id: &str,
) -> ApiResult<CodeSent> {
    let phone_hash = pepper.phone_hash(phone);
    for (window, max, label) in PHONE_LIMITS {
        let c = count(db, "phone_hash", &phone_hash, window, now).await?;
        if c.n >= max {
            return Err(limited(&format!("该号码{label}"), c.oldest.as_deref(), window, now));
        }
    }
    let ip_hash = ip.map(|ip| pepper.ip_hash(ip));
    if let Some(h) = &ip_hash {
        let c = count(db, "client_ip_hash", h, 3600, now).await?;
        if c.n >= IP_LIMIT_PER_HOUR {
            return Err(limited("当前网络1小时", c.oldest.as_deref(), 3600, now));
        }
    }
    let code = six_digits(ids)?;
    let msg = SmsMessage {
        phones: vec![phone.clone()],
        template_code: template_code.to_owned(),
        params: vec![("code".into(), code.clone())],
    };
    let outcome = sms.send(&msg, now, &ids.hex(16)?).await;
    let cx = SendContext { pepper, purpose: PURPOSE, request_id, ip_hash, now };
    let mut stmts = log_stmts(sms.name(), &msg, &outcome, &cx);
    if let SmsOutcome::Sent { .. } = outcome {
        stmts.push(Stmt::new(
            "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                format!("smc_{}", ids.hex(8)?).into(),
                phone_hash.into(),
                pepper.code_hash(phone, &code).into(),
                now.to_rfc3339().into(),
                BeijingTime::from_utc(now.to_utc() + Duration::seconds(CODE_TTL_SECS)).to_rfc3339().into(),
            ],
        ));
    }
    db.batch(&stmts).await?;
    match outcome {
        SmsOutcome::Sent { .. } => Ok(CodeSent { phone: phone.masked(), expires_in: CODE_TTL_SECS, resend_after: 60 }),
        SmsOutcome::Failed { class: FailureClass::RateLimited, .. } => Err(ErrorCode::SmsSendLimited.into()),
        SmsOutcome::Failed { code, .. } if code == "isv.MOBILE_NUMBER_ILLEGAL" => {
            Err(ApiError::bad_field("phone", "该号码无法接收短信，请核对手机号"))
        }
        SmsOutcome::Failed { code, message, .. } => {
            Err(ApiError { internal: Some(format!("sms {code}: {message}")), ..ErrorCode::SmsUnavailable.into() })
        }
    }
}

/// A uniformly random 6-digit code (rejection sampling: no modulo bias).
fn six_digits(ids: &impl IdSource) -> ApiResult<String> {
    // 4_294_000_000 is the largest multiple of 10^6 below 2^32.
    loop {
        let mut b = [0u8; 4];
        ids.fill(&mut b)?;
        let n = u32::from_le_bytes(b);
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

#[derive(Deserialize)]
struct CodeRow {
    id: String,
    code_hash: String,
    expires_at: String,
    attempts: i64,
}

/// Checks `code` against the latest unused code sent to `phone` and uses it
/// up. Wrong entries count; the fifth voids the code.
pub async fn verify(
    db: &impl Db,
    pepper: &Pepper,
    phone: &MobileNumber,
    code: &str,
    now: BeijingTime,
) -> ApiResult<()> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_field("code", "验证码应为6位数字"));
    }
    let row: CodeRow = db
        .first_as(
            "SELECT id, code_hash, expires_at, attempts FROM sms_codes WHERE phone_hash = ?1 AND consumed_at IS NULL
             ORDER BY created_at DESC LIMIT 1",
            &[pepper.phone_hash(phone).into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::SmsCodeInvalid, "验证码不正确，请先获取验证码"))?;
    if row.attempts >= MAX_ATTEMPTS {
        return Err(ErrorCode::SmsCodeAttemptsExceeded.into());
    }
    let expired = BeijingTime::parse(&row.expires_at).map_or(true, |e| e <= now);
    if expired {
        return Err(ErrorCode::SmsCodeExpired.into());
    }
    if !constant_time_eq(&row.code_hash, &pepper.code_hash(phone, code)) {
        db.execute("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = ?1", &[row.id.as_str().into()]).await?;
        let left = MAX_ATTEMPTS - row.attempts - 1;
        return Err(if left <= 0 {
            ErrorCode::SmsCodeAttemptsExceeded.into()
        } else {
            ApiError::with_message(ErrorCode::SmsCodeInvalid, format!("验证码不正确，还可尝试{left}次"))
        });
    }
    // Used once: a concurrent second use of the same code finds nothing to update.
    let used = db
        .execute(
            "UPDATE sms_codes SET consumed_at = ?1 WHERE id = ?2 AND consumed_at IS NULL",
            &[Value::from(now.to_rfc3339()), row.id.as_str().into()],
        )
        .await?;
    if used == 1 {
        Ok(())
    } else {
        Err(ApiError::with_message(ErrorCode::SmsCodeInvalid, "验证码已使用，请重新获取"))
    }
}
