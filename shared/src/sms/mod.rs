//! Sending SMS through a provider behind [`SmsProvider`] (Aliyun today;
//! Tencent Cloud SMS can be added as a second implementation), with every
//! attempt recorded in `sms_log` and provider errors classified so callers
//! know whether to retry, back off, or give up.

pub mod aliyun;

use crate::crypto::Pepper;
use crate::error::ApiResult;
use crate::runtime::IdSource;
use crate::store::{Db, Stmt};
use crate::types::{BeijingTime, MobileNumber};

/// One templated message to one or more numbers (TemplateParam values are
/// strings, as Aliyun requires).
#[derive(Debug, Clone, PartialEq)]
pub struct SmsMessage {
    pub phones: Vec<MobileNumber>,
    pub template_code: String,
    pub params: Vec<(String, String)>,
}

/// How a failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// A passing fault: try again later (with backoff).
    Retryable,
    /// The provider's frequency control: wait before sending to this number again.
    RateLimited,
    /// Retrying will not help (bad number, template, signature, credentials, balance).
    Permanent,
}

impl FailureClass {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retryable => "retryable",
            Self::RateLimited => "rate_limited",
            Self::Permanent => "permanent",
        }
    }
}

/// What a send did.
#[derive(Debug, Clone, PartialEq)]
pub enum SmsOutcome {
    /// Accepted; `biz_id` is the provider's receipt id for delivery reports.
    Sent { biz_id: String },
    /// Refused or failed, with the provider's code.
    Failed { code: String, message: String, class: FailureClass },
}

/// An SMS provider.
#[allow(async_fn_in_trait)]
pub trait SmsProvider {
    /// The provider's name in the SMS log.
    fn name(&self) -> &'static str;
    /// Sends one message (to one or several numbers, same parameters).
    async fn send(&self, msg: &SmsMessage, now: BeijingTime, nonce: &str) -> SmsOutcome;
}

/// Who asked for a send, for the log: the request and the client's IP hash.
pub struct SendContext<'a> {
    pub pepper: &'a Pepper,
    pub purpose: &'a str,
    pub request_id: &'a str,
    pub ip_hash: Option<String>,
    pub now: BeijingTime,
}

/// The `sms_log` rows of one attempt: each number masked and keyed by its
/// HMAC, never in clear.
pub fn log_stmts(provider: &str, msg: &SmsMessage, outcome: &SmsOutcome, cx: &SendContext<'_>) -> Vec<Stmt> {
    let (status, biz, code, class) = match outcome {
        SmsOutcome::Sent { biz_id } => ("sent", Some(biz_id.clone()), None, None),
        SmsOutcome::Failed { code, class, .. } => ("failed", None, Some(code.clone()), Some(class.as_str())),
    };
    msg.phones
        .iter()
        .map(|p| {
            Stmt::new(
                "INSERT INTO sms_log (at, provider, phone_hash, phone_masked, template_code, purpose, status, biz_id,
                   error_code, failure_class, request_id, client_ip_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                vec![
                    cx.now.to_rfc3339().into(),
                    provider.into(),
                    cx.pepper.phone_hash(p).into(),
                    p.masked().into(),
                    msg.template_code.as_str().into(),
                    cx.purpose.into(),
                    status.into(),
                    biz.clone().into(),
                    code.clone().into(),
                    class.into(),
                    cx.request_id.into(),
                    cx.ip_hash.clone().into(),
                ],
            )
        })
        .collect()
}

/// Sends a notice (not a login code) and records the attempt in `sms_log`.
/// A failed send is an outcome, not an error: the caller's change stands and
/// the log says what happened; only a failed log write is an error.
pub async fn send_logged(
    db: &impl Db,
    sms: &impl SmsProvider,
    ids: &impl IdSource,
    msg: &SmsMessage,
    cx: &SendContext<'_>,
) -> ApiResult<SmsOutcome> {
    let outcome = sms.send(msg, cx.now, &ids.hex(16)?).await;
    db.batch(&log_stmts(sms.name(), msg, &outcome, cx)).await?;
    Ok(outcome)
}
