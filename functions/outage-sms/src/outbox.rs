//! The outbox of outage messages: one row per (outage, version, subscriber),
//! filled in D1 when a version falls due (so overlapping areas and a
//! republish add nothing), handed to a Cloudflare Queue as id ranges of at
//! most [`CHUNK`] rows (one provider call each), claimed and sent by the
//! consumer ([`crate::send`]), which records the result before the message
//! is acknowledged. A second delivery of the same queue message finds
//! nothing to claim. This file fills and refills the outbox: the fan-out,
//! the cron sweep and the dead-letter queue.

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
}

/// Whether a version of this kind takes over what earlier versions still
/// hold queued or deferred (a correction or cancellation does).
fn supersedes_earlier(kind: MessageKind) -> bool {
    matches!(kind, MessageKind::Correction | MessageKind::Cancellation)
}

/// The fan-out's writes, in batch order: superseding what earlier versions
/// still hold (when this kind does), the outbox rows (subscribers, then
/// holders: [`crate::recipients`]), the inbox of citizens bound to an
/// affected account and its count, and the version marked fanned out with
/// its count. The two outbox inserts are the 5th- and 4th-last statements.
fn fan_out_stmts(kind: MessageKind, outage_id: &str, version: i64, now: BeijingTime, batch: &str) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    if supersedes_earlier(kind) {
        stmts.push(Stmt::new(
            "UPDATE outage_outbox SET status = ?3, claim = NULL
              WHERE outage_id = ?1 AND version < ?2 AND status IN ('queued', 'deferred')",
            vec![outage_id.into(), version.into(), OutboxStatus::Superseded.as_str().into()],
        ));
    }
    stmts.extend(crate::recipients::insert_stmts(kind, outage_id, version, now, batch));
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
    stmts
}

/// Fills the outbox of one version (its recipients by kind, see
/// [`recipients_sql`]) and marks it fanned out. Rows already there are kept
/// (a republish adds only new subscribers). Flagged numbers are left out.
pub async fn fan_out(db: &impl Db, outage_id: &str, version: i64, now: BeijingTime, batch: &str) -> ApiResult<FanOut> {
    fan_out_with(db, outage_id, version, now, batch, None).await
}

/// `POST /v1/admin/outages/{id}:republish` (outage_publisher): the version
/// again, reaching only subscribers added since, audited in the same batch.
pub async fn republish(db: &impl Db, act: &Act<'_>, outage_id: &str, version: i64, batch: &str) -> ApiResult<FanOut> {
    let detail = serde_json::json!({ "version": version });
    let audit = audit_stmt(act.who, "outage.republish", outage_id, act.request_id, act.now, &detail);
    fan_out_with(db, outage_id, version, act.now, batch, Some(audit)).await
}

/// [`fan_out`], with `extra` (an audit row) first in the same batch.
async fn fan_out_with(
    db: &impl Db,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    extra: Option<Stmt>,
) -> ApiResult<FanOut> {
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
    // The count of added rows is read from the end, so a leading extra row
    // does not move it.
    let stmts: Vec<Stmt> = extra.into_iter().chain(fan_out_stmts(kind, outage_id, version, now, batch)).collect();
    let changed = db.batch(&stmts).await?;
    let at = |back: usize| changed.get(stmts.len().saturating_sub(back)).copied().unwrap_or(0) as i64;
    let added = at(5) + at(4);
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
        out.chunks.extend(chunks(db, &batch).await?);
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
        let counts: Vec<usize> = kinds.iter().map(|k| fan_out_stmts(*k, "O", 2, now, "b").len()).collect();
        assert_eq!(counts, [5, 6, 6, 5]);
        let first = fan_out_stmts(MessageKind::Cancellation, "O", 2, now, "b");
        assert!(first.first().is_some_and(|s| s.params.last() == Some(&Value::from("superseded"))));
        assert!(first.last().is_some_and(|s| s.params.last() == Some(&Value::from("fanned_out"))));
    }
}
