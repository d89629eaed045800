//! The fan-out on Workers: due versions are written to the outbox and their
//! chunks sent to the `OUTAGE_QUEUE` queue; the consumer sends each chunk
//! through Aliyun SMS and records the results before acknowledging, and
//! writes each further slice of a large version's holders (queueing its
//! chunks and the slice after it); the dead-letter queue marks what kept
//! failing; the cron sweep (every minute) fans out what fell due, resumes a
//! slice whose message was lost and queues again what waited.

use crate::notices;
use crate::outbox::{self, FanOut, Job};
use crate::recipients::HOLDER_SLICE;
use crate::retry::RetryPolicy;
use crate::rules::QuietHours;
use crate::send::{self, Disposition, Sender, Templates};
use crate::wechat_notices;
use shared::admin::Act;
use shared::edge::{self as e, D1Db};
use shared::runtime::{Clock, IdSource, OsRandom};
use shared::types::BeijingTime;
use shared::wechat_notify::Purpose;
use shared::{ApiError, ApiResult};
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

/// The producer binding.
pub const QUEUE: &str = "OUTAGE_QUEUE";
/// Queue messages per `sendBatch` call (the Queues limit).
const SEND_BATCH: usize = 100;

/// Quiet hours from `OUTAGE_QUIET_HOURS` (`HH:MM-HH:MM`, Beijing), default
/// 22:00-07:00; a malformed value falls back to the default (and is logged).
pub fn quiet(env: &Env) -> QuietHours {
    match e::config(env, "OUTAGE_QUIET_HOURS") {
        None => QuietHours::default(),
        Some(v) => QuietHours::parse(&v).unwrap_or_else(|| {
            log(serde_json::json!({ "level": "error", "event": "outage.config", "detail": "OUTAGE_QUIET_HOURS should be HH:MM-HH:MM" }));
            QuietHours::default()
        }),
    }
}

fn log(line: serde_json::Value) {
    worker::console_log!("{line}");
}

/// Sends jobs to the queue, 100 messages per call.
pub async fn enqueue(env: &Env, jobs: &[Job]) -> ApiResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let queue = env.queue(QUEUE).map_err(e::runtime_err)?;
    for part in jobs.chunks(SEND_BATCH) {
        queue.send_batch(part.to_vec()).await.map_err(e::runtime_err)?;
    }
    Ok(())
}

/// Fans out and enqueues the versions of one outage that are due now (an
/// emergency at once, a daytime notice, a correction or cancellation). A
/// failed enqueue is logged, not answered: the rows stay queued and the
/// sweep sends them again.
pub async fn due_now(env: &Env, db: &D1Db, id: &str, now: BeijingTime) -> ApiResult<()> {
    for version in notices::due_versions(db, id, now).await? {
        let f = outbox::fan_out(db, id, version, now, &OsRandom.hex(8)?).await?;
        send_logged(env, id, version, &f).await;
    }
    Ok(())
}

async fn send_logged(env: &Env, id: &str, version: i64, f: &FanOut) {
    let queued = enqueue(env, &f.jobs()).await;
    log(serde_json::json!({ "level": if queued.is_ok() { "info" } else { "error" }, "event": "outage.fan_out",
        "outage": id, "version": version, "recipients": f.recipients, "added": f.added, "chunks": f.chunks.len(),
        "more": f.more.is_some(), "detail": queued.err().and_then(|e| e.internal) }));
}

/// A republish: the version again, reaching only subscribers added since
/// (audited in the batch that fills the outbox).
pub async fn republish(env: &Env, db: &D1Db, act: &Act<'_>, id: &str, version: i64) -> ApiResult<FanOut> {
    let f = outbox::republish(db, act, id, version, &OsRandom.hex(8)?).await?;
    enqueue(env, &f.jobs()).await?;
    Ok(f)
}

fn secs(env: &Env, name: &str, default: i64) -> i64 {
    e::config(env, name).and_then(|v| v.parse().ok()).filter(|v: &i64| *v >= 0).unwrap_or(default)
}

fn templates(env: &Env) -> ApiResult<Templates> {
    Ok(Templates {
        notice: e::required(env, "SMS_TEMPLATE_OUTAGE_NOTICE")?,
        correction: e::required(env, "SMS_TEMPLATE_OUTAGE_CORRECTION")?,
        cancellation: e::required(env, "SMS_TEMPLATE_OUTAGE_CANCELLATION")?,
        reminder: e::required(env, "SMS_TEMPLATE_OUTAGE_REMINDER")?,
        pressure_notice: e::required(env, "SMS_TEMPLATE_OUTAGE_PRESSURE")?,
    })
}

fn now() -> BeijingTime {
    BeijingTime::from_utc(e::EdgeClock.now())
}

/// The queue consumer (both queues). Each message is acknowledged only after
/// its results are recorded; a storage failure leaves it to be redelivered.
#[worker::event(queue)]
async fn queue(batch: MessageBatch<Job>, env: Env, _ctx: worker::Context) -> worker::Result<()> {
    let dead = batch.queue().ends_with("-dlq");
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(err) => {
            log(serde_json::json!({ "level": "error", "event": "outage.queue", "detail": err.to_string() }));
            batch.ack_all(); // undecodable bodies would only come back undecodable
            return Ok(());
        }
    };
    let setup = (|| -> ApiResult<_> { Ok((e::db(&env)?, e::aliyun_sms(&env)?, templates(&env)?)) })();
    let (db, sms, templates) = match setup {
        Ok(s) => s,
        Err(err) => {
            log(serde_json::json!({ "level": "error", "event": "outage.queue", "detail": err.internal }));
            batch.retry_all();
            return Ok(());
        }
    };
    let policy = RetryPolicy {
        base_secs: secs(&env, "SMS_RETRY_BASE_SECONDS", RetryPolicy::default().base_secs),
        max_secs: secs(&env, "SMS_RETRY_MAX_SECONDS", RetryPolicy::default().max_secs),
    };
    // Without PHONE_KEYS the subscribers are still reached; holders' rows fail (logged).
    let vault = e::phone_vault(&env)
        .map_err(|err| log(serde_json::json!({ "level": "error", "event": "outage.config", "detail": err.internal })))
        .ok();
    let tx = Sender { sms: &sms, templates: &templates, policy, quiet: quiet(&env), vault: vault.as_ref() };
    for msg in messages {
        let result = match msg.body() {
            Job::Send(chunk) => send_chunk(&db, &tx, chunk, dead).await,
            Job::Holders { outage_id, version, holders_after } => {
                more_holders(&env, &db, outage_id, *version, holders_after).await.map(|()| Disposition::Ack)
            }
            Job::WeChat { outage_id, version, wechat_after } => {
                wechat_page(&env, &db, outage_id, *version, wechat_after).await.map(|()| Disposition::Ack)
            }
        };
        match result {
            Ok(Disposition::Ack) => msg.ack(),
            Ok(Disposition::Retry(delay)) => {
                msg.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build());
            }
            Err(err) => {
                log(serde_json::json!({ "level": "error", "event": "outage.queue",
                    "code": err.code.as_str(), "detail": err.internal }));
                msg.retry();
            }
        }
    }
    Ok(())
}

/// One chunk: sent (or, from the dead-letter queue, marked failed).
async fn send_chunk(
    db: &D1Db,
    tx: &Sender<'_, shared::sms::aliyun::AliyunSms<'static, e::FetchHttp>>,
    chunk: &outbox::Chunk,
    dead: bool,
) -> ApiResult<Disposition> {
    if dead {
        return outbox::dead_letter(db, chunk).await.map(|n| {
            log(serde_json::json!({ "level": "warn", "event": "outage.dead_letter", "outage": chunk.outage_id,
                "version": chunk.version, "failed": n }));
            Disposition::Ack
        });
    }
    send::deliver(db, &OsRandom, tx, chunk, now()).await.map(|(d, counts)| {
        log(serde_json::json!({ "level": "info", "event": "outage.send", "outage": chunk.outage_id,
            "version": chunk.version, "lo": chunk.lo, "hi": chunk.hi, "counts": counts }));
        d
    })
}

/// The next slice of a version's holders: written, its chunks and the slice
/// after it queued. (From the dead-letter queue too: the slice is still owed;
/// the cron resumes it if this fails.)
async fn more_holders(env: &Env, db: &D1Db, outage_id: &str, version: i64, after: &str) -> ApiResult<()> {
    let f = outbox::fan_out_more(db, outage_id, version, after, now(), &OsRandom.hex(8)?, HOLDER_SLICE).await?;
    send_logged(env, outage_id, version, &f).await;
    Ok(())
}

/// One page of a version's 订阅消息, and the next page queued; nothing when
/// the mini-program or the template is not configured.
async fn wechat_page(env: &Env, db: &D1Db, outage_id: &str, version: i64, after: &str) -> ApiResult<()> {
    let kv = e::kv(env)?;
    let Some((app, templates)) = e::wechat(env, &kv, Purpose::OutageNotice) else { return Ok(()) };
    let page = wechat_notices::offer_page(db, &app, &OsRandom, &templates, (outage_id, version), after, now()).await?;
    log(serde_json::json!({ "level": "info", "event": "outage.wechat", "outage": outage_id, "version": version,
        "offered": page.offered, "sent": page.sent, "more": page.next.is_some() }));
    if let Some(next) = page.next {
        let job = Job::WeChat { outage_id: outage_id.to_owned(), version, wechat_after: next };
        enqueue(env, &[job]).await?;
    }
    Ok(())
}

/// Cron `* * * * *`: the sweep.
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let run = async {
        let db = e::db(&env)?;
        let s = outbox::sweep(&db, &OsRandom, now()).await?;
        enqueue(&env, &s.jobs).await?;
        Ok::<_, ApiError>(s)
    };
    let line = match run.await {
        Ok(s) => serde_json::json!({ "level": "info", "event": "outage.sweep", "cron": event.cron(),
            "fanned_out": s.fanned_out, "requeued": s.requeued, "resumed": s.resumed, "jobs": s.jobs.len() }),
        Err(err) => serde_json::json!({ "level": "error", "event": "outage.sweep", "code": err.code.as_str(),
            "detail": err.internal }),
    };
    log(line);
}
