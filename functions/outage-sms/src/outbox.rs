//! The outbox of outage messages: one row per (outage, version, subscriber),
//! filled in D1 when a version falls due (so overlapping areas and a
//! republish add nothing), handed to a Cloudflare Queue as id ranges of at
//! most [`CHUNK`] rows (one provider call each), claimed and sent by the
//! consumer, which records the result before the message is acknowledged.
//! A second delivery of the same queue message finds nothing to claim.

use crate::retry::{self, RetryPolicy};
use crate::rules::{MessageKind, QuietHours};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult};
use shared::identity::Pepper;
use shared::runtime::IdSource;
use shared::sms::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
use shared::store::{Db, Stmt, Value};
use shared::types::{BeijingTime, MobileNumber};
use std::collections::BTreeMap;

/// Numbers per provider call: Aliyun SendSms takes up to 1000 numbers with
/// the same text.
pub const CHUNK: i64 = 1000;
/// Provider calls one chunk may make while splitting out bad numbers.
pub const MAX_CALLS_PER_CHUNK: usize = 24;
/// A claimed row not recorded after this long was lost with its consumer.
pub const STUCK_MINUTES: i64 = 10;
/// A queued row whose queue message has not come after this long is queued again.
pub const STALE_MINUTES: i64 = 30;

/// One queue message: rows `lo..=hi` of one outage version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub outage_id: String,
    pub version: i64,
    pub lo: i64,
    pub hi: i64,
}

/// The chunks of the rows queued by one enqueue (`batch`).
pub async fn chunks(db: &impl Db, batch: &str) -> ApiResult<Vec<Chunk>> {
    // The chunk size is written into the SQL: D1 binds numbers as doubles,
    // and a double divisor would make every row its own chunk.
    db.query_as(
        &format!(
            "SELECT outage_id, version, MIN(id) AS lo, MAX(id) AS hi FROM (
               SELECT outage_id, version, id,
                      (ROW_NUMBER() OVER (PARTITION BY outage_id, version ORDER BY id) - 1) / {CHUNK} AS n
                 FROM outage_outbox WHERE batch = ?1 AND status = 'queued')
             GROUP BY outage_id, version, n ORDER BY outage_id, version, lo"
        ),
        &[batch.into()],
    )
    .await
}

/// What a fan-out added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FanOut {
    /// Rows of the version in all (after this fan-out).
    pub recipients: i64,
    /// Rows this fan-out added.
    pub added: i64,
    pub chunks: Vec<Chunk>,
}

const AFFECTED: &str = "
  SELECT s.citizen_id FROM outage_subscriptions s
   WHERE s.utility = (SELECT utility FROM outages WHERE id = ?1) AND s.area_code IN (SELECT code FROM hit)
  UNION
  SELECT s.citizen_id FROM supply_accounts acc
    JOIN outage_subscriptions s ON s.utility = acc.utility AND s.account_no = acc.account_no
   WHERE acc.utility = (SELECT utility FROM outages WHERE id = ?1) AND acc.area_code IN (SELECT code FROM hit)";

const NOTIFIED: &str = "
  SELECT b.citizen_id FROM outage_outbox b
   WHERE b.outage_id = ?1 AND b.version < ?2 AND b.status IN ('sending', 'sent', 'delivered')
     AND b.citizen_id IN (SELECT citizen_id FROM outage_subscriptions)";

/// Fills the outbox of one version (its recipients by kind: the notice and
/// reminder go to the subscribers of the affected areas; a correction to
/// them and to everyone already notified; a cancellation only to those
/// already notified) and marks it fanned out. Rows already there are kept
/// (a republish adds only new subscribers). Flagged numbers are left out.
pub async fn fan_out(db: &impl Db, outage_id: &str, version: i64, now: BeijingTime, batch: &str) -> ApiResult<FanOut> {
    #[derive(Deserialize)]
    struct V {
        kind: String,
    }
    let v: V = db
        .first_as(
            "SELECT kind FROM outage_versions WHERE outage_id = ?1 AND version = ?2 AND state != 'superseded'",
            &[outage_id.into(), version.into()],
        )
        .await?
        .ok_or_else(|| ApiError::internal(format!("no live version {outage_id}/{version}")))?;
    let kind = MessageKind::parse(&v.kind).ok_or_else(|| ApiError::internal("unknown version kind"))?;
    let who = match kind {
        MessageKind::Notice | MessageKind::Reminder => AFFECTED.to_owned(),
        MessageKind::Correction => format!("{AFFECTED}\n  UNION{NOTIFIED}"),
        MessageKind::Cancellation => NOTIFIED.to_owned(),
    };
    let insert = format!(
        "INSERT OR IGNORE INTO outage_outbox (outage_id, version, citizen_id, phone_hash, status, batch, next_at)
         WITH hit AS (
           SELECT a.code FROM outage_areas oa
             JOIN supply_areas x ON x.code = oa.code
             JOIN supply_areas a ON a.path >= x.path AND a.path < x.path || '~'
            WHERE oa.outage_id = ?1),
         who AS ({who})
         SELECT ?1, ?2, c.id, c.phone_hash, 'queued', ?3, ?4
           FROM who JOIN citizens c ON c.id = who.citizen_id
          WHERE c.phone IS NOT NULL AND c.phone_hash IS NOT NULL AND c.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM sms_flags f WHERE f.phone_hash = c.phone_hash)
            AND EXISTS (SELECT 1 FROM outage_versions v
                         WHERE v.outage_id = ?1 AND v.version = ?2 AND v.state != 'superseded')"
    );
    let args: Vec<Value> = vec![outage_id.into(), version.into(), batch.into(), now.to_rfc3339().into()];
    let mut stmts = Vec::new();
    if matches!(kind, MessageKind::Correction | MessageKind::Cancellation) {
        stmts.push(Stmt::new(
            "UPDATE outage_outbox SET status = 'superseded', claim = NULL
              WHERE outage_id = ?1 AND version < ?2 AND status IN ('queued', 'deferred')",
            vec![outage_id.into(), version.into()],
        ));
    }
    stmts.push(Stmt::new(insert, args));
    stmts.push(Stmt::new(
        "UPDATE outage_versions SET state = 'fanned_out',
                recipients = (SELECT COUNT(*) FROM outage_outbox WHERE outage_id = ?1 AND version = ?2)
          WHERE outage_id = ?1 AND version = ?2 AND state != 'superseded'",
        vec![outage_id.into(), version.into()],
    ));
    let changed = db.batch(&stmts).await?;
    let added = changed.get(stmts.len().saturating_sub(2)).copied().unwrap_or(0) as i64;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let total: Option<N> = db
        .first_as(
            "SELECT recipients AS n FROM outage_versions WHERE outage_id = ?1 AND version = ?2",
            &[outage_id.into(), version.into()],
        )
        .await?;
    Ok(FanOut { recipients: total.map_or(0, |t| t.n), added, chunks: chunks(db, batch).await? })
}

/// What one cron sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sweep {
    /// Versions that fell due and were fanned out.
    pub fanned_out: Vec<String>,
    /// Rows queued again (rate-limit windows passed, stuck claims, lost messages).
    pub requeued: u64,
    pub chunks: Vec<Chunk>,
}

/// The cron sweep: fans out the versions that fell due (at most 20 a run),
/// then queues again the rows whose wait is over: deferred rows past their
/// window, claims lost with their consumer, and queued rows whose message
/// never came.
pub async fn sweep(db: &impl Db, ids: &impl IdSource, now: BeijingTime) -> ApiResult<Sweep> {
    #[derive(Deserialize)]
    struct Due {
        outage_id: String,
        version: i64,
    }
    let due: Vec<Due> = db
        .query_as(
            "SELECT outage_id, version FROM outage_versions WHERE state = 'planned' AND send_at <= ?1
              ORDER BY send_at LIMIT 20",
            &[now.to_rfc3339().into()],
        )
        .await?;
    let mut out = Sweep::default();
    for d in due {
        let batch = ids.hex(8)?;
        let f = fan_out(db, &d.outage_id, d.version, now, &batch).await?;
        out.fanned_out.push(format!("{}/{}", d.outage_id, d.version));
        out.chunks.extend(f.chunks);
    }
    let batch = ids.hex(8)?;
    let stuck = BeijingTime::from_utc(now.to_utc() - chrono::Duration::minutes(STUCK_MINUTES)).to_rfc3339();
    let stale = BeijingTime::from_utc(now.to_utc() - chrono::Duration::minutes(STALE_MINUTES)).to_rfc3339();
    out.requeued = db
        .execute(
            "UPDATE outage_outbox SET status = 'queued', batch = ?1, claim = NULL, next_at = ?2
              WHERE (status = 'deferred' AND next_at <= ?2)
                 OR (status = 'sending' AND claimed_at < ?3)
                 OR (status = 'queued' AND next_at < ?4)",
            &[batch.as_str().into(), now.to_rfc3339().into(), stuck.into(), stale.into()],
        )
        .await?;
    if out.requeued > 0 {
        out.chunks.extend(chunks(db, &batch).await?);
    }
    Ok(out)
}

/// The approved template codes, by message kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    pub notice: String,
    pub correction: String,
    pub cancellation: String,
    pub reminder: String,
}

impl Templates {
    fn code(&self, kind: MessageKind) -> &str {
        match kind {
            MessageKind::Notice => &self.notice,
            MessageKind::Correction => &self.correction,
            MessageKind::Cancellation => &self.cancellation,
            MessageKind::Reminder => &self.reminder,
        }
    }
}

/// How the consumer sends: the provider, templates, backoff, quiet hours.
pub struct Sender<'a, S: SmsProvider> {
    pub sms: &'a S,
    pub templates: &'a Templates,
    pub policy: RetryPolicy,
    pub quiet: QuietHours,
}

/// What to tell the queue about a message once its results are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Ack,
    /// Transient failure: redeliver after this many seconds (the queue's
    /// retry limit then sends it to the dead-letter queue).
    Retry(u32),
}

/// Counts of one chunk's outcome, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    pub deferred: usize,
    pub retrying: usize,
    pub superseded: usize,
    pub calls: usize,
}

#[derive(Deserialize)]
struct Claimed {
    id: i64,
    phone_hash: String,
    attempts: i64,
    phone: Option<String>,
    flagged: i64,
}

#[derive(Deserialize)]
struct VersionRow {
    kind: String,
    params: String,
    state: String,
    outage_kind: String,
}

fn ids_json(ids: &[i64]) -> Value {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()).into()
}

fn set(status_sql: &str, claim: &str, ids: &[i64], mut args: Vec<Value>) -> Stmt {
    let n = args.len();
    args.push(claim.into());
    args.push(ids_json(ids));
    Stmt::new(
        format!(
            "UPDATE outage_outbox SET {status_sql}, claim = NULL
              WHERE claim = ?{} AND id IN (SELECT value FROM json_each(?{}))",
            n + 1,
            n + 2
        ),
        args,
    )
}

fn flag_stmt(phone_hash: &str, code: &str, now: BeijingTime) -> Stmt {
    Stmt::new(
        "INSERT OR IGNORE INTO sms_flags (phone_hash, code, at) VALUES (?1, ?2, ?3)",
        vec![phone_hash.into(), code.into(), now.to_rfc3339().into()],
    )
}

/// Sends one chunk: claims its queued rows, sends them in one provider call
/// (split in halves when the provider refuses the batch for a bad number),
/// and records every row's result before returning what to tell the queue.
pub async fn deliver<S: SmsProvider>(
    db: &impl Db,
    ids: &impl IdSource,
    tx: &Sender<'_, S>,
    chunk: &Chunk,
    now: BeijingTime,
) -> ApiResult<(Disposition, Delivered)> {
    let claim = ids.hex(8)?;
    let mut d = Delivered::default();
    let claimed = db
        .execute(
            "UPDATE outage_outbox SET status = 'sending', claim = ?1, claimed_at = ?2, attempts = attempts + 1
              WHERE outage_id = ?3 AND version = ?4 AND id BETWEEN ?5 AND ?6 AND status = 'queued'",
            &[
                claim.as_str().into(),
                now.to_rfc3339().into(),
                chunk.outage_id.as_str().into(),
                chunk.version.into(),
                chunk.lo.into(),
                chunk.hi.into(),
            ],
        )
        .await?;
    if claimed == 0 {
        return Ok((Disposition::Ack, d));
    }
    let v: VersionRow = db
        .first_as(
            "SELECT v.kind, v.params, v.state, o.kind AS outage_kind FROM outage_versions v
               JOIN outages o ON o.id = v.outage_id WHERE v.outage_id = ?1 AND v.version = ?2",
            &[chunk.outage_id.as_str().into(), chunk.version.into()],
        )
        .await?
        .ok_or_else(|| ApiError::internal("outbox row without its version"))?;
    let rows: Vec<Claimed> = db
        .query_as(
            "SELECT b.id, b.phone_hash, b.attempts, c.phone, (f.phone_hash IS NOT NULL) AS flagged
               FROM outage_outbox b
               LEFT JOIN citizens c ON c.id = b.citizen_id AND c.deleted_at IS NULL
               LEFT JOIN sms_flags f ON f.phone_hash = b.phone_hash
              WHERE b.claim = ?1 ORDER BY b.id",
            &[claim.as_str().into()],
        )
        .await?;
    d.claimed = rows.len();
    let mut stmts = Vec::new();
    if v.state == "superseded" {
        let all: Vec<i64> = rows.iter().map(|r| r.id).collect();
        stmts.push(set("status = 'superseded'", &claim, &all, vec![]));
        d.superseded = all.len();
        db.batch(&stmts).await?;
        return Ok((Disposition::Ack, d));
    }
    let mut ready: Vec<(i64, MobileNumber)> = Vec::new();
    let mut skip: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in &rows {
        match r.phone.as_deref().map(MobileNumber::parse) {
            None => skip.entry("no_phone").or_default().push(r.id),
            Some(_) if r.flagged != 0 => skip.entry("flagged").or_default().push(r.id),
            Some(Err(_)) => {
                skip.entry("isv.MOBILE_NUMBER_ILLEGAL").or_default().push(r.id);
                stmts.push(flag_stmt(&r.phone_hash, "isv.MOBILE_NUMBER_ILLEGAL", now));
            }
            Some(Ok(p)) => ready.push((r.id, p)),
        }
    }
    for (code, list) in &skip {
        d.failed += list.len();
        stmts.push(set(
            "status = 'failed', error_code = ?1, failure_class = 'permanent'",
            &claim,
            list,
            vec![(*code).into()],
        ));
    }
    let kind = MessageKind::parse(&v.kind).ok_or_else(|| ApiError::internal("unknown version kind"))?;
    let params: BTreeMap<String, String> = serde_json::from_str(&v.params).unwrap_or_default();
    let template = SmsMessage {
        phones: Vec::new(),
        template_code: tx.templates.code(kind).to_owned(),
        params: params.into_iter().collect(),
    };
    let results = send_split(tx.sms, ids, &template, ready, now).await?;
    let attempts: BTreeMap<i64, i64> = rows.iter().map(|r| (r.id, r.attempts)).collect();
    let hashes: BTreeMap<i64, &str> = rows.iter().map(|r| (r.id, r.phone_hash.as_str())).collect();
    let mut retry_after: Option<i64> = None;
    for (group, outcome) in &results {
        d.calls += usize::from(outcome.is_some());
        match outcome {
            Some(SmsOutcome::Sent { biz_id }) => {
                d.sent += group.len();
                stmts.push(set(
                    "status = 'sent', biz_id = ?1, sent_at = ?2, error_code = NULL, failure_class = NULL",
                    &claim,
                    group,
                    vec![biz_id.as_str().into(), now.to_rfc3339().into()],
                ));
            }
            None => {
                // The call budget ran out while splitting: the sweep sends the rest.
                d.deferred += group.len();
                stmts.push(set("status = 'deferred', next_at = ?1", &claim, group, vec![now.to_rfc3339().into()]));
            }
            Some(SmsOutcome::Failed { code, message, class }) => match class {
                FailureClass::Retryable => {
                    let most = group.iter().filter_map(|i| attempts.get(i)).copied().max().unwrap_or(1);
                    let wait = tx.policy.backoff(most);
                    retry_after = Some(retry_after.map_or(wait, |w| w.max(wait)));
                    d.retrying += group.len();
                    let next = BeijingTime::from_utc(now.to_utc() + chrono::Duration::seconds(wait));
                    stmts.push(set(
                        "status = 'queued', next_at = ?1, error_code = ?2, failure_class = 'retryable'",
                        &claim,
                        group,
                        vec![next.to_rfc3339().into(), code.as_str().into()],
                    ));
                }
                FailureClass::RateLimited => {
                    let next = retry::reschedule(code, message, now, v.outage_kind == "emergency", tx.quiet);
                    d.deferred += group.len();
                    stmts.push(set(
                        "status = 'deferred', next_at = ?1, error_code = ?2, failure_class = 'rate_limited'",
                        &claim,
                        group,
                        vec![next.to_rfc3339().into(), code.as_str().into()],
                    ));
                }
                FailureClass::Permanent => {
                    d.failed += group.len();
                    if let [one] = group.as_slice()
                        && retry::about_the_number(code)
                        && let Some(h) = hashes.get(one)
                    {
                        stmts.push(flag_stmt(h, code, now));
                    }
                    stmts.push(set(
                        "status = 'failed', error_code = ?1, failure_class = 'permanent'",
                        &claim,
                        group,
                        vec![code.as_str().into()],
                    ));
                }
            },
        }
    }
    db.batch(&stmts).await?;
    let disposition = match retry_after {
        Some(secs) => Disposition::Retry(u32::try_from(secs).unwrap_or(u32::MAX).min(43_200)),
        None => Disposition::Ack,
    };
    Ok((disposition, d))
}

/// Sends to `rows` in one call; when the provider refuses the batch for
/// one of its numbers, sends each half again, up to [`MAX_CALLS_PER_CHUNK`]
/// calls (groups left over come back with no outcome).
pub async fn send_split<S: SmsProvider>(
    sms: &S,
    ids: &impl IdSource,
    template: &SmsMessage,
    rows: Vec<(i64, MobileNumber)>,
    now: BeijingTime,
) -> ApiResult<Vec<(Vec<i64>, Option<SmsOutcome>)>> {
    let mut todo = vec![rows];
    let mut out = Vec::new();
    let mut calls = 0;
    while let Some(group) = todo.pop() {
        if group.is_empty() {
            continue;
        }
        let row_ids: Vec<i64> = group.iter().map(|(i, _)| *i).collect();
        if calls >= MAX_CALLS_PER_CHUNK {
            out.push((row_ids, None));
            continue;
        }
        calls += 1;
        let msg = SmsMessage { phones: group.iter().map(|(_, p)| p.clone()).collect(), ..template.clone() };
        let outcome = sms.send(&msg, now, &ids.hex(16)?).await;
        match &outcome {
            SmsOutcome::Failed { code, .. } if group.len() > 1 && retry::split_helps(code) => {
                let mut first = group;
                let second = first.split_off(first.len() / 2);
                todo.push(second);
                todo.push(first);
            }
            _ => out.push((row_ids, Some(outcome))),
        }
    }
    Ok(out)
}

/// What the dead-letter queue gets: rows of a chunk that kept failing are
/// marked failed (their last error code kept). Returns the rows marked.
pub async fn dead_letter(db: &impl Db, chunk: &Chunk) -> ApiResult<u64> {
    db.execute(
        "UPDATE outage_outbox SET status = 'failed', failure_class = 'dead_letter', claim = NULL,
                error_code = COALESCE(error_code, 'dead_letter')
          WHERE outage_id = ?1 AND version = ?2 AND id BETWEEN ?3 AND ?4 AND status = 'queued'",
        &[chunk.outage_id.as_str().into(), chunk.version.into(), chunk.lo.into(), chunk.hi.into()],
    )
    .await
}

/// One delivery receipt (Aliyun SmsReport, pushed as a JSON array).
#[derive(Debug, Clone, Deserialize)]
pub struct Receipt {
    pub phone_number: String,
    pub success: bool,
    #[serde(default)]
    pub err_code: Option<String>,
    #[serde(default)]
    pub err_msg: Option<String>,
    pub biz_id: String,
    #[serde(default)]
    pub send_time: Option<String>,
    #[serde(default)]
    pub report_time: Option<String>,
    #[serde(default)]
    pub sms_size: Option<String>,
    #[serde(default)]
    pub out_id: Option<String>,
}

/// Applies receipts to the rows they report on (by BizId and number);
/// numbers reported blacklisted or out of service are flagged. Returns the
/// rows updated. Receipts for unknown messages are ignored (login codes,
/// other senders on the account).
pub async fn apply_receipts(db: &impl Db, pepper: &Pepper, receipts: &[Receipt], now: BeijingTime) -> ApiResult<u64> {
    let mut stmts = Vec::new();
    for r in receipts {
        let Ok(phone) = MobileNumber::parse(&r.phone_number) else { continue };
        let hash = pepper.phone_hash(&phone);
        let code = r.err_code.clone().unwrap_or_default();
        stmts.push(Stmt::new(
            "UPDATE outage_outbox SET status = ?3, delivered_at = ?4,
                    error_code = CASE WHEN ?3 = 'failed' THEN ?5 ELSE NULL END,
                    failure_class = CASE WHEN ?3 = 'failed' THEN 'receipt' ELSE NULL END
              WHERE biz_id = ?1 AND phone_hash = ?2 AND status = 'sent'",
            vec![
                r.biz_id.as_str().into(),
                hash.as_str().into(),
                (if r.success { "delivered" } else { "failed" }).into(),
                now.to_rfc3339().into(),
                code.as_str().into(),
            ],
        ));
        if !r.success && retry::receipt_flags(&code) {
            stmts.push(flag_stmt(&hash, &code, now));
        }
    }
    let mut updated = 0;
    for part in stmts.chunks(100) {
        let changed = db.batch(part).await?;
        updated += part.iter().zip(changed).filter(|(s, _)| s.sql.starts_with("UPDATE")).map(|(_, n)| n).sum::<u64>();
    }
    Ok(updated)
}

/// One version's delivery.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VersionDelivery {
    pub version: i64,
    pub kind: String,
    pub state: String,
    pub send_at: String,
    pub send_reason: String,
    pub recipients: i64,
    pub queued: i64,
    pub sending: i64,
    pub deferred: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub superseded: i64,
    pub failed_by_reason: BTreeMap<String, i64>,
    /// Rows with a final result (sent, delivered, failed, superseded) over recipients.
    pub progress: f64,
}

/// `GET /v1/admin/outages/{id}/delivery`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub outage_id: String,
    pub versions: Vec<VersionDelivery>,
}

/// Counts by version and state, failures by reason, and progress.
pub async fn delivery(db: &impl Db, outage_id: &str) -> ApiResult<Delivery> {
    #[derive(Deserialize)]
    struct Head {
        version: i64,
        kind: String,
        state: String,
        send_at: String,
        send_reason: String,
        recipients: i64,
    }
    let heads: Vec<Head> = db
        .query_as(
            "SELECT version, kind, state, send_at, send_reason, recipients
               FROM outage_versions WHERE outage_id = ?1 ORDER BY version",
            &[outage_id.into()],
        )
        .await?;
    let mut versions: Vec<VersionDelivery> = heads
        .into_iter()
        .map(|h| VersionDelivery {
            version: h.version,
            kind: h.kind,
            state: h.state,
            send_at: h.send_at,
            send_reason: h.send_reason,
            recipients: h.recipients,
            ..VersionDelivery::default()
        })
        .collect();
    #[derive(Deserialize)]
    struct Count {
        version: i64,
        status: String,
        code: String,
        n: i64,
    }
    let counts: Vec<Count> = db
        .query_as(
            "SELECT version, status, COALESCE(error_code, '') AS code, COUNT(*) AS n FROM outage_outbox
              WHERE outage_id = ?1 GROUP BY version, status, code",
            &[outage_id.into()],
        )
        .await?;
    for v in &mut versions {
        for c in counts.iter().filter(|c| c.version == v.version) {
            let slot = match c.status.as_str() {
                "queued" => &mut v.queued,
                "sending" => &mut v.sending,
                "deferred" => &mut v.deferred,
                "sent" => &mut v.sent,
                "delivered" => &mut v.delivered,
                "failed" => {
                    *v.failed_by_reason.entry(c.code.clone()).or_default() += c.n;
                    &mut v.failed
                }
                _ => &mut v.superseded,
            };
            *slot += c.n;
        }
        let done = v.sent + v.delivered + v.failed + v.superseded;
        v.progress = if v.recipients > 0 { (done as f64 / v.recipients as f64 * 1000.0).round() / 1000.0 } else { 1.0 };
    }
    Ok(Delivery { outage_id: outage_id.to_owned(), versions })
}
