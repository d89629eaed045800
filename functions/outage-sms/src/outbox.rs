//! The outbox of outage messages: one row per (outage, version, subscriber),
//! filled in D1 when a version falls due (so overlapping areas and a
//! republish add nothing), handed to a Cloudflare Queue as id ranges of at
//! most [`CHUNK`] rows (one provider call each), claimed and sent by the
//! consumer ([`crate::send`]), which records the result before the message
//! is acknowledged. A second delivery of the same queue message finds
//! nothing to claim. This file fills and refills the outbox: the fan-out,
//! the cron sweep and the dead-letter queue.

use crate::recipients::{AccountRange, HOLDER_SLICE, holder_stmt, slice_end_sql};
use crate::rules::MessageKind;
use crate::states::{OutboxStatus, VersionState};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiError, ApiResult};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// Numbers per provider call: Aliyun SendSms takes up to 1000 numbers with
/// the same text.
pub const CHUNK: i64 = 1000;
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
    /// The next slice of holders to write, when more accounts remain: the
    /// caller queues it ([`Job::Holders`]).
    #[serde(skip)]
    pub more: Option<Job>,
    /// The first page of the version's 订阅消息 (a fan-out's first step only).
    #[serde(skip)]
    pub wechat: Option<Job>,
}

impl FanOut {
    /// Everything to queue: the chunks to send, the next slice of holders,
    /// the 订阅消息.
    pub fn jobs(&self) -> Vec<Job> {
        self.chunks.iter().cloned().map(Job::Send).chain(self.more.clone()).chain(self.wechat.clone()).collect()
    }
}

/// One queue message: a chunk of rows to send, or the next slice of a
/// version's holders to write. (Untagged: a chunk has `lo`/`hi`, a slice
/// `holders_after`, so messages queued before slices existed still decode.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Job {
    Send(Chunk),
    Holders {
        outage_id: String,
        version: i64,
        holders_after: String,
    },
    /// A page of the version's 订阅消息 ([`crate::wechat_notices`]).
    WeChat {
        outage_id: String,
        version: i64,
        wechat_after: String,
    },
}

/// Whether a version of this kind takes over what earlier versions still
/// hold queued or deferred (a correction or cancellation does).
fn supersedes_earlier(kind: MessageKind) -> bool {
    matches!(kind, MessageKind::Correction | MessageKind::Cancellation)
}

/// Where the next slice of affected accounts after `after` ends: `(upto,
/// more)`, `more` when the slice is full (more accounts may follow).
async fn slice_end(db: &impl Db, outage_id: &str, after: &str, slice: i64) -> ApiResult<(String, bool)> {
    #[derive(Deserialize)]
    struct End {
        n: i64,
        last: Option<String>,
    }
    let end: Option<End> = db.first_as(&slice_end_sql(slice), &[outage_id.into(), after.into()]).await?;
    Ok(match end {
        Some(End { n, last: Some(last) }) => (last, n >= slice),
        _ => (after.to_owned(), false),
    })
}

/// The statement that records where the holders' slices stand.
fn progress_stmt(outage_id: &str, version: i64, next: Option<&str>, now: BeijingTime) -> Stmt {
    Stmt::new(
        "UPDATE outage_versions SET fanout_after = ?3, fanout_at = ?4 WHERE outage_id = ?1 AND version = ?2",
        vec![outage_id.into(), version.into(), next.into(), now.to_rfc3339().into()],
    )
}

/// The fan-out's writes, in batch order: superseding what earlier versions
/// still hold queued or deferred (when this kind does), the outbox rows
/// (subscribers, then the first slice of holders: [`crate::recipients`]),
/// the inbox of citizens bound to an affected account and its count, the
/// version marked fanned out with its count, and where the slices stand.
/// Returns the statements and the positions of the two outbox inserts.
fn fan_out_stmts(
    kind: MessageKind,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    range: AccountRange<'_>,
    next: Option<&str>,
) -> (Vec<Stmt>, [usize; 2]) {
    let mut stmts = Vec::new();
    if supersedes_earlier(kind) {
        stmts.push(Stmt::new(
            "UPDATE outage_outbox SET status = ?3, claim = NULL
              WHERE outage_id = ?1 AND version < ?2 AND status IN ('queued', 'deferred')",
            vec![outage_id.into(), version.into(), OutboxStatus::Superseded.as_str().into()],
        ));
    }
    let first = stmts.len();
    stmts.extend(crate::recipients::insert_stmts(kind, outage_id, version, now, batch, range));
    // changes(): the inbox messages the statement before this one added.
    stmts.push(Stmt::new(
        "UPDATE outage_versions SET inbox = inbox + changes() WHERE outage_id = ?1 AND version = ?2",
        vec![outage_id.into(), version.into()],
    ));
    stmts.push(Stmt::new(
        "UPDATE outage_versions SET state = ?3,
                recipients = (SELECT COUNT(*) FROM outage_outbox WHERE outage_id = ?1 AND version = ?2)
          WHERE outage_id = ?1 AND version = ?2 AND state != 'superseded'",
        vec![outage_id.into(), version.into(), VersionState::FannedOut.as_str().into()],
    ));
    stmts.push(progress_stmt(outage_id, version, next, now));
    (stmts, [first, first + 1])
}

/// Fills the outbox of one version (its recipients by kind, see
/// [`crate::recipients`]) and marks it fanned out: every subscriber and the
/// first [`HOLDER_SLICE`] accounts' holders now, the rest by [`fan_out_more`].
/// Rows already there are kept (a republish adds only new subscribers).
/// Flagged numbers are left out.
pub async fn fan_out(db: &impl Db, outage_id: &str, version: i64, now: BeijingTime, batch: &str) -> ApiResult<FanOut> {
    fan_out_with(db, outage_id, version, now, batch, None, HOLDER_SLICE).await
}

/// [`fan_out`] with slices of `slice` accounts (tests take small ones).
pub async fn fan_out_sliced(
    db: &impl Db,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    slice: i64,
) -> ApiResult<FanOut> {
    fan_out_with(db, outage_id, version, now, batch, None, slice).await
}

/// `POST /v1/admin/outages/{id}:republish` (outage_publisher): the version
/// again, reaching only subscribers added since, audited in the same batch.
pub async fn republish(db: &impl Db, act: &Act<'_>, outage_id: &str, version: i64, batch: &str) -> ApiResult<FanOut> {
    let detail = serde_json::json!({ "version": version });
    let audit = audit_stmt(act.who, "outage.republish", outage_id, act.request_id, act.now, &detail);
    fan_out_with(db, outage_id, version, act.now, batch, Some(audit), HOLDER_SLICE).await
}

#[derive(Deserialize)]
struct Live {
    kind: String,
    fanout_after: Option<String>,
}

async fn live_version(db: &impl Db, outage_id: &str, version: i64) -> ApiResult<Option<(MessageKind, Option<String>)>> {
    let v: Option<Live> = db
        .first_as(
            "SELECT kind, fanout_after FROM outage_versions WHERE outage_id = ?1 AND version = ?2 AND state != 'superseded'",
            &[outage_id.into(), version.into()],
        )
        .await?;
    v.map(|v| {
        MessageKind::parse(&v.kind)
            .map(|k| (k, v.fanout_after))
            .ok_or_else(|| ApiError::internal("unknown version kind"))
    })
    .transpose()
}

/// [`fan_out`], with `extra` (an audit row) first in the same batch.
async fn fan_out_with(
    db: &impl Db,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    extra: Option<Stmt>,
    slice: i64,
) -> ApiResult<FanOut> {
    let (kind, _) = live_version(db, outage_id, version)
        .await?
        .ok_or_else(|| ApiError::internal(format!("no live version {outage_id}/{version}")))?;
    // A kind without later slices reads no slice end and queues no continuation.
    let (upto, more) = if crate::recipients::sliced(kind) {
        slice_end(db, outage_id, "", slice).await?
    } else {
        (String::new(), false)
    };
    let next = more.then_some(upto.as_str());
    let range = AccountRange { after: "", upto: &upto };
    let (body, [subs, holders]) = fan_out_stmts(kind, outage_id, version, now, batch, range, next);
    let lead = usize::from(extra.is_some());
    let stmts: Vec<Stmt> = extra.into_iter().chain(body).collect();
    let changed = db.batch(&stmts).await?;
    let at = |i: usize| changed.get(i + lead).copied().unwrap_or(0) as i64;
    let added = at(subs) + at(holders);
    let mut f = finish(db, outage_id, version, batch, added, next).await?;
    f.wechat = Some(Job::WeChat { outage_id: outage_id.to_owned(), version, wechat_after: String::new() });
    Ok(f)
}

/// The counts and chunks of what a fan-out step added, and its continuation.
async fn finish(
    db: &impl Db,
    outage_id: &str,
    version: i64,
    batch: &str,
    added: i64,
    next: Option<&str>,
) -> ApiResult<FanOut> {
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
    let more =
        next.map(|after| Job::Holders { outage_id: outage_id.to_owned(), version, holders_after: after.to_owned() });
    Ok(FanOut { recipients: total.map_or(0, |t| t.n), added, chunks: chunks(db, batch).await?, more, wechat: None })
}

/// The next slice of a version's holders, after account `after` (a queue
/// message, or the cron resuming one whose message was lost). Only the slice
/// the version is waiting for is written: a message delivered twice, or one
/// for a superseded version, adds nothing; the guard on `fanout_after` in the
/// batch keeps two racing runs from both moving the cursor.
pub async fn fan_out_more(
    db: &impl Db,
    outage_id: &str,
    version: i64,
    after: &str,
    now: BeijingTime,
    batch: &str,
    slice: i64,
) -> ApiResult<FanOut> {
    let Some((kind, Some(waiting))) = live_version(db, outage_id, version).await? else {
        return Ok(FanOut { recipients: 0, added: 0, chunks: Vec::new(), more: None, wechat: None });
    };
    if waiting != after {
        return Ok(FanOut { recipients: 0, added: 0, chunks: Vec::new(), more: None, wechat: None });
    }
    let (upto, more) = slice_end(db, outage_id, after, slice).await?;
    let next = more.then_some(upto.as_str());
    let range = AccountRange { after, upto: &upto };
    let mut stmts: Vec<Stmt> = holder_stmt(kind, false, outage_id, version, now, batch, range).into_iter().collect();
    let inserted = !stmts.is_empty();
    if inserted {
        stmts.push(Stmt::new(
            "UPDATE outage_versions SET recipients = recipients + changes() WHERE outage_id = ?1 AND version = ?2",
            vec![outage_id.into(), version.into()],
        ));
    }
    stmts.push(Stmt::new(
        "UPDATE outage_versions SET fanout_after = ?4, fanout_at = ?5
          WHERE outage_id = ?1 AND version = ?2 AND fanout_after = ?3",
        vec![outage_id.into(), version.into(), after.into(), next.into(), now.to_rfc3339().into()],
    ));
    let changed = db.batch(&stmts).await?;
    let added = if inserted { changed.first().copied().unwrap_or(0) as i64 } else { 0 };
    // Another run moved the cursor first: its continuation is queued, not ours.
    let moved = changed.last().copied().unwrap_or(0) > 0;
    finish(db, outage_id, version, batch, added, next.filter(|_| moved)).await
}

/// Continuations whose queue message never came (written more than
/// [`STALE_MINUTES`] ago): the cron writes their next slice itself.
async fn stalled(db: &impl Db, now: BeijingTime) -> ApiResult<Vec<(String, i64, String)>> {
    #[derive(Deserialize)]
    struct S {
        outage_id: String,
        version: i64,
        fanout_after: String,
    }
    let stale = BeijingTime::from_utc(now.to_utc() - chrono::Duration::minutes(STALE_MINUTES)).to_rfc3339();
    let rows: Vec<S> = db
        .query_as(
            "SELECT outage_id, version, fanout_after FROM outage_versions
              WHERE fanout_after IS NOT NULL AND fanout_at < ?1 AND state != 'superseded' LIMIT 20",
            &[stale.into()],
        )
        .await?;
    Ok(rows.into_iter().map(|s| (s.outage_id, s.version, s.fanout_after)).collect())
}

/// What one cron sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sweep {
    /// Versions that fell due and were fanned out.
    pub fanned_out: Vec<String>,
    /// Rows queued again (rate-limit windows passed, stuck claims, lost messages).
    pub requeued: u64,
    /// Slices of holders written for continuations whose message was lost.
    pub resumed: u64,
    /// What to queue: chunks to send and continuations.
    pub jobs: Vec<Job>,
}

impl Sweep {
    /// The chunks to send among the jobs.
    pub fn chunks(&self) -> Vec<Chunk> {
        self.jobs
            .iter()
            .filter_map(|j| match j {
                Job::Send(c) => Some(c.clone()),
                Job::Holders { .. } | Job::WeChat { .. } => None,
            })
            .collect()
    }
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
        out.jobs.extend(f.jobs());
    }
    for (outage_id, version, after) in stalled(db, now).await? {
        let f = fan_out_more(db, &outage_id, version, &after, now, &ids.hex(8)?, HOLDER_SLICE).await?;
        out.resumed += 1;
        out.jobs.extend(f.jobs());
    }
    let batch = ids.hex(8)?;
    let stuck = BeijingTime::from_utc(now.to_utc() - chrono::Duration::minutes(STUCK_MINUTES)).to_rfc3339();
    let stale = BeijingTime::from_utc(now.to_utc() - chrono::Duration::minutes(STALE_MINUTES)).to_rfc3339();
    out.requeued = db
        .execute(
            "UPDATE outage_outbox SET status = ?5, batch = ?1, claim = NULL, next_at = ?2
              WHERE (status = 'deferred' AND next_at <= ?2)
                 OR (status = 'sending' AND claimed_at < ?3)
                 OR (status = 'queued' AND next_at < ?4)",
            &[
                batch.as_str().into(),
                now.to_rfc3339().into(),
                stuck.into(),
                stale.into(),
                OutboxStatus::Queued.as_str().into(),
            ],
        )
        .await?;
    if out.requeued > 0 {
        out.jobs.extend(chunks(db, &batch).await?.into_iter().map(Job::Send));
    }
    Ok(out)
}

/// What the dead-letter queue gets: rows of a chunk that kept failing are
/// marked failed (their last error code kept). Returns the rows marked.
pub async fn dead_letter(db: &impl Db, chunk: &Chunk) -> ApiResult<u64> {
    db.execute(
        "UPDATE outage_outbox SET status = ?5, failure_class = 'dead_letter', claim = NULL,
                error_code = COALESCE(error_code, 'dead_letter')
          WHERE outage_id = ?1 AND version = ?2 AND id BETWEEN ?3 AND ?4 AND status = 'queued'",
        &[
            chunk.outage_id.as_str().into(),
            chunk.version.into(),
            chunk.lo.into(),
            chunk.hi.into(),
            OutboxStatus::Failed.as_str().into(),
        ],
    )
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::store::Value;

    #[test]
    fn corrections_and_cancellations_supersede_earlier_versions_and_notices_do_not() {
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        let kinds = [MessageKind::Notice, MessageKind::Correction, MessageKind::Cancellation, MessageKind::Reminder];
        let range = AccountRange { after: "", upto: "9" };
        let stmts = |k: MessageKind| fan_out_stmts(k, "O", 2, now, "b", range, None);
        let counts: Vec<usize> = kinds.iter().map(|k| stmts(*k).0.len()).collect();
        assert_eq!(counts, [6, 7, 7, 6]);
        assert_eq!(stmts(MessageKind::Notice).1, [0, 1]);
        let (first, [subs, holders]) = stmts(MessageKind::Cancellation);
        assert_eq!([subs, holders], [1, 2]);
        assert!(first.first().is_some_and(|s| s.params.last() == Some(&Value::from("superseded"))));
        assert!(first.get(5).is_some_and(|s| s.params.last() == Some(&Value::from("fanned_out"))));
        assert!(first.last().is_some_and(|s| s.sql.contains("fanout_after")));
    }
}
