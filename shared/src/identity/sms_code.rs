//! SMS verification codes (001: registration and login confirmed by SMS):
//! 6 digits, stored as an HMAC, valid 5 minutes, 5 tries, and sending
//! limited per number (1 a minute, 5 an hour, 10 a day: Aliyun's
//! verification-code limits) and per client IP.

use crate::crypto::Pepper;
use crate::crypto::constant_time_eq;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::runtime::IdSource;
use crate::sms::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
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

/// Takes a send from every limit at once: one statement that counts this
/// number's and this client's recent sends and writes the log row only if all
/// are under their limits, so concurrent requests (in any isolate) cannot all
/// pass a check made before any of them wrote. The row counts as sent while
/// the provider is asked; a refusal marks it failed, which frees the slot.
fn reserve_stmt(
    provider: &str,
    template_code: &str,
    phone: &MobileNumber,
    phone_hash: &str,
    ip_hash: Option<&str>,
    now: BeijingTime,
    request_id: &str,
) -> Stmt {
    let recent = |key: &str, n: usize| {
        format!("(SELECT COUNT(*) FROM sms_log WHERE {key} = ?3 AND purpose = ?6 AND status = 'sent' AND at > ?{n})")
    };
    let [(w0, m0, _), (w1, m1, _), (w2, m2, _)] = PHONE_LIMITS;
    let sql = format!(
        "INSERT INTO sms_log (at, provider, phone_hash, phone_masked, template_code, purpose, status, request_id, client_ip_hash)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, 'sent', ?7, ?8
         WHERE {} < {m0} AND {} < {m1} AND {} < {m2}
           AND (?8 IS NULL OR (SELECT COUNT(*) FROM sms_log WHERE client_ip_hash = ?8 AND purpose = ?6 AND status = 'sent' AND at > ?12) < {IP_LIMIT_PER_HOUR})
         RETURNING id",
        recent("phone_hash", 9),
        recent("phone_hash", 10),
        recent("phone_hash", 11),
    );
    Stmt::new(
        sql,
        vec![
            now.to_rfc3339().into(),
            provider.into(),
            phone_hash.into(),
            phone.masked().into(),
            template_code.into(),
            PURPOSE.into(),
            request_id.into(),
            ip_hash.into(),
            since(now, w0).into(),
            since(now, w1).into(),
            since(now, w2).into(),
            since(now, 3600).into(),
        ],
    )
}

/// Which limit refused a send, for the message (read after the refusal).
async fn refusal(db: &impl Db, phone_hash: &str, ip_hash: Option<&str>, now: BeijingTime) -> ApiResult<ApiError> {
    for (window, max, label) in PHONE_LIMITS {
        let c = count(db, "phone_hash", phone_hash, window, now).await?;
        if c.n >= max {
            return Ok(limited(&format!("该号码{label}"), c.oldest.as_deref(), window, now));
        }
    }
    if let Some(h) = ip_hash {
        let c = count(db, "client_ip_hash", h, 3600, now).await?;
        if c.n >= IP_LIMIT_PER_HOUR {
            return Ok(limited("当前网络1小时", c.oldest.as_deref(), 3600, now));
        }
    }
    // A concurrent send took the last slot and has since been refused by the provider.
    Ok(limited("该号码1分钟", None, 60, now))
}

#[derive(Deserialize)]
struct LogId {
    id: i64,
}

/// Takes a slot under every sending limit (atomically), sends a fresh code,
/// and records the outcome and the code's HMAC. Nothing is stored for the
/// code if the provider refuses, and the refused send does not count.
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
    let ip_hash = ip.map(|ip| pepper.ip_hash(ip));
    let reserve = reserve_stmt(sms.name(), template_code, phone, &phone_hash, ip_hash.as_deref(), now, request_id);
    let Some(LogId { id: log_id }) = db.first_as(&reserve.sql, &reserve.params).await? else {
        return Err(refusal(db, &phone_hash, ip_hash.as_deref(), now).await?);
    };
    let code = six_digits(ids)?;
    let msg = SmsMessage {
        phones: vec![phone.clone()],
        template_code: template_code.to_owned(),
        params: vec![("code".into(), code.clone())],
    };
    let outcome = sms.send(&msg, now, &ids.hex(16)?).await;
    let stmts = match &outcome {
        SmsOutcome::Sent { biz_id } => vec![
            Stmt::new("UPDATE sms_log SET biz_id = ?1 WHERE id = ?2", vec![biz_id.as_str().into(), log_id.into()]),
            Stmt::new(
                "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                vec![
                    format!("smc_{}", ids.hex(8)?).into(),
                    phone_hash.into(),
                    pepper.code_hash(phone, &code).into(),
                    now.to_rfc3339().into(),
                    BeijingTime::from_utc(now.to_utc() + Duration::seconds(CODE_TTL_SECS)).to_rfc3339().into(),
                ],
            ),
        ],
        SmsOutcome::Failed { code, class, .. } => vec![Stmt::new(
            "UPDATE sms_log SET status = 'failed', error_code = ?1, failure_class = ?2 WHERE id = ?3",
            vec![code.as_str().into(), class.as_str().into(), log_id.into()],
        )],
    };
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

#[derive(Deserialize)]
struct Attempts {
    attempts: i64,
}

/// Checks `code` against the latest unused code sent to `phone` and uses it
/// up. Every entry takes one of the code's [`MAX_ATTEMPTS`] tries before it
/// is compared, in one statement that counts only while tries are left, so
/// concurrent guesses (in any isolate) get at most that many comparisons.
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
    let taken: Option<Attempts> = db
        .first_as(
            "UPDATE sms_codes SET attempts = attempts + 1 WHERE id = ?1 AND consumed_at IS NULL AND attempts < ?2
             RETURNING attempts",
            &[row.id.as_str().into(), MAX_ATTEMPTS.into()],
        )
        .await?;
    let Some(Attempts { attempts }) = taken else {
        // The tries ran out, or a concurrent entry of the right code used it, since the read.
        return Err(ErrorCode::SmsCodeAttemptsExceeded.into());
    };
    if !constant_time_eq(&row.code_hash, &pepper.code_hash(phone, code)) {
        let left = MAX_ATTEMPTS - attempts;
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
