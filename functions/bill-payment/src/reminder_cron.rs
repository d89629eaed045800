//! Workers glue of the bill reminders, run by the cron: reads the
//! configuration, sweeps (`crate::reminders`), sends the overdue SMS it
//! claimed, and answers the log line.

use crate::reminders::{self, QuietWindow, SweepRun};
use shared::ApiResult;
use shared::edge as e;
use shared::runtime::{IdSource, OsRandom};
use shared::sms::SendContext;
use shared::types::BeijingTime;
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
        None => QuietWindow::default(),
        Some(v) => QuietWindow::parse(&v).unwrap_or_else(|| {
            warnings.push("BILL_QUIET_HOURS should be HH:MM-HH:MM; 22:00-07:00 used");
            QuietWindow::default()
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
    let (mut sent, mut failed) = (0, 0);
    if let Some((provider, pepper, template)) = sms.as_ref().filter(|_| !swept.sms.is_empty()) {
        let cx = SendContext { pepper, purpose: "bill_overdue", request_id: run_id, ip_hash: None, now };
        (sent, failed) = reminders::send_sms(&db, provider, &OsRandom, template, &cx, &sweep_id, &swept.sms).await?;
    }
    Ok(serde_json::json!({ "level": if warnings.is_empty() { "info" } else { "warn" }, "event": "bill.reminders",
        "quiet": swept.quiet, "claimed": swept.claimed, "posted": swept.posted, "sms_sent": sent,
        "sms_failed": failed, "warnings": warnings, "run": sweep_id }))
}
