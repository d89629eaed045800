//! Workers glue of the bill reminders, run by the cron: reads the
//! configuration, sweeps (`crate::reminders`), delivers what it claimed
//! (`crate::reminder_delivery`: 订阅消息 first, then the overdue SMS), and
//! answers the log line.

use crate::reminder_delivery::{self, Channels, SmsChannel};
use crate::reminders::{self, SweepRun};
use shared::ApiResult;
use shared::edge as e;
use shared::runtime::{IdSource, OsRandom};
use shared::sms::SendContext;
use shared::types::BeijingTime;
use shared::types::QuietHours;
use shared::wechat_notify::Purpose;
use worker::Env;

/// One sweep; the JSON line to log (counts only, no personal data).
pub async fn run(env: &Env, now: BeijingTime, run_id: &str) -> serde_json::Value {
    match sweep(env, now, run_id).await {
        Ok(line) => line,
        Err(err) => serde_json::json!({ "level": "error", "event": "bill.reminders", "code": err.code.as_str(),
            "detail": err.internal, "run": run_id }),
    }
}

async fn sweep(env: &Env, now: BeijingTime, run_id: &str) -> ApiResult<serde_json::Value> {
    let mut warnings = Vec::new();
    let quiet = match e::config(env, "BILL_QUIET_HOURS") {
        None => QuietHours::default(),
        Some(v) => QuietHours::parse(&v).unwrap_or_else(|| {
            warnings.push("BILL_QUIET_HOURS should be HH:MM-HH:MM; 22:00-07:00 used");
            QuietHours::default()
        }),
    };
    // Without the SMS configuration no SMS is claimed: they go out once it is set.
    let sms = match (e::aliyun_sms(env), e::pepper(env), e::required(env, "SMS_TEMPLATE_BILL_OVERDUE")) {
        (Ok(sms), Ok(pepper), Ok(template)) => Some((sms, pepper, template)),
        _ => {
            warnings
                .push("SMS not configured (SMS_TEMPLATE_BILL_OVERDUE, Aliyun SMS, IDENTITY_PEPPER): overdue SMS wait");
            None
        }
    };
    let db = e::db(env)?;
    // Unique per sweep: a sweep posts only the claims under its own id.
    let sweep_id = format!("{run_id}-{}", OsRandom.hex(8)?);
    let run = SweepRun { id: &sweep_id, quiet, with_sms: sms.is_some() };
    let swept = reminders::sweep(&db, &OsRandom, &run, now).await?;
    // 订阅消息 when the mini-program and either bill template are configured
    // (a purpose without its template falls back as if not accepted).
    let kv = e::kv(env).ok();
    let wx = kv
        .as_ref()
        .and_then(|kv| e::wechat(env, kv, Purpose::BillIssued).or_else(|| e::wechat(env, kv, Purpose::BillOverdue)));
    let cx = sms.as_ref().map(|(_, pepper, _)| SendContext {
        pepper,
        purpose: "bill_overdue",
        request_id: run_id,
        ip_hash: None,
        now,
    });
    let channels = Channels {
        wechat: wx.as_ref().map(|(app, templates)| (app, templates)),
        sms: sms.as_ref().zip(cx.as_ref()).map(|((provider, _, template), cx)| SmsChannel { provider, template, cx }),
    };
    let done = reminder_delivery::deliver(&db, &OsRandom, &channels, &sweep_id, &swept, now).await?;
    let level = if done.wechat_errors > 0 || !warnings.is_empty() { "warn" } else { "info" };
    Ok(serde_json::json!({ "level": level, "event": "bill.reminders",
        "quiet": swept.quiet, "claimed": swept.claimed, "posted": swept.posted, "wechat": wx.is_some(),
        "wechat_sent": done.wechat_sent, "wechat_errors": done.wechat_errors, "wechat_error": done.wechat_error,
        "sms_replaced": done.sms_replaced, "sms_sent": done.sms_sent, "sms_failed": done.sms_failed,
        "warnings": warnings, "run": sweep_id }))
}
