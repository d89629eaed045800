//! `GET /v1/admin/outages/{id}/delivery`: counts per version and outbox
//! status, failures by reason, progress, and how many recipients are flagged.

use crate::rules::MessageKind;
use crate::states::{OutboxStatus, VersionState};
use serde::{Deserialize, Serialize};
use shared::error::ApiResult;
use shared::store::Db;
use std::collections::BTreeMap;

/// One version's delivery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionDelivery {
    pub version: i64,
    pub kind: MessageKind,
    pub state: VersionState,
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
    /// Recipients by how they were reached: `subscription` (a citizen
    /// subscribed in the mini-program) or `holder` (the holder of an affected
    /// billing account); a phone that is both counts as a subscription.
    pub reached: BTreeMap<String, i64>,
    /// Messages by channel: `sms` (every recipient above) and `inbox` (the
    /// 消息中心 of citizens bound to an affected account).
    pub channels: BTreeMap<String, i64>,
    /// Rows with a final result (sent, delivered, failed, superseded) over
    /// recipients; below 1 while the holders are still being written.
    pub progress: f64,
    /// Whether slices of billing holders are still being written (the
    /// recipients count is not final yet).
    pub fanning_out: bool,
}

/// `GET /v1/admin/outages/{id}/delivery`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivery {
    pub outage_id: String,
    pub versions: Vec<VersionDelivery>,
    /// Recipients of this outage (any version) whose number is flagged now:
    /// later messages skip them until a message to them is delivered.
    pub flagged_recipients: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct Flagged {
    n: i64,
}

/// A version as stored, before its rows are counted.
#[derive(Debug, Clone, Deserialize)]
struct Head {
    version: i64,
    kind: MessageKind,
    state: VersionState,
    send_at: String,
    send_reason: String,
    recipients: i64,
    #[serde(default)]
    inbox: i64,
    #[serde(default)]
    fanning_out: i64,
}

/// Outbox rows of one version in one status with one error code, reached one way.
#[derive(Debug, Clone, Deserialize)]
struct Count {
    version: i64,
    status: OutboxStatus,
    code: String,
    #[serde(default = "subscription")]
    source: String,
    n: i64,
}

fn subscription() -> String {
    "subscription".into()
}

/// A version's counts from the outbox counts (of any version), and its
/// progress: rows with a final result over recipients, rounded to a
/// thousandth (1 when it has no recipients).
fn tally(h: Head, counts: &[Count]) -> VersionDelivery {
    let mut v = VersionDelivery {
        version: h.version,
        kind: h.kind,
        state: h.state,
        send_at: h.send_at,
        send_reason: h.send_reason,
        recipients: h.recipients,
        queued: 0,
        sending: 0,
        deferred: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        superseded: 0,
        failed_by_reason: BTreeMap::new(),
        reached: BTreeMap::from([("subscription".into(), 0), ("holder".into(), 0)]),
        channels: BTreeMap::from([("sms".into(), h.recipients), ("inbox".into(), h.inbox)]),
        progress: 0.0,
        fanning_out: h.fanning_out != 0,
    };
    let mut done = 0;
    for c in counts.iter().filter(|c| c.version == v.version) {
        *v.reached.entry(c.source.clone()).or_default() += c.n;
        let slot = match c.status {
            OutboxStatus::Queued => &mut v.queued,
            OutboxStatus::Sending => &mut v.sending,
            OutboxStatus::Deferred => &mut v.deferred,
            OutboxStatus::Sent => &mut v.sent,
            OutboxStatus::Delivered => &mut v.delivered,
            OutboxStatus::Failed => {
                *v.failed_by_reason.entry(c.code.clone()).or_default() += c.n;
                &mut v.failed
            }
            OutboxStatus::Superseded => &mut v.superseded,
        };
        *slot += c.n;
        done += if c.status.is_final() { c.n } else { 0 };
    }
    v.progress = if v.recipients > 0 { (done as f64 / v.recipients as f64 * 1000.0).round() / 1000.0 } else { 1.0 };
    if v.fanning_out {
        v.progress = v.progress.min(0.999);
    }
    v
}

/// Counts by version and state, failures by reason, and progress: read from
/// the counts the outbox's triggers keep (`outage_version_counts`), so a
/// poll costs a few rows however large the outage; flagged recipients by
/// probing the outbox's phone index for each flagged number.
pub async fn delivery(db: &impl Db, outage_id: &str) -> ApiResult<Delivery> {
    let heads: Vec<Head> = db
        .query_as(
            "SELECT version, kind, state, send_at, send_reason, recipients, inbox, fanout_after IS NOT NULL AS fanning_out
               FROM outage_versions WHERE outage_id = ?1 ORDER BY version",
            &[outage_id.into()],
        )
        .await?;
    let counts: Vec<Count> = db
        .query_as(
            "SELECT version, status, code, source, n FROM outage_version_counts WHERE outage_id = ?1 AND n > 0",
            &[outage_id.into()],
        )
        .await?;
    let flagged: Option<Flagged> = db
        .first_as(
            "SELECT COUNT(DISTINCT f.phone_hash) AS n FROM sms_flags f
               JOIN outage_versions v ON v.outage_id = ?1
               JOIN outage_outbox b ON b.outage_id = ?1 AND b.version = v.version AND b.phone_hash = f.phone_hash",
            &[outage_id.into()],
        )
        .await?;
    let versions = heads.into_iter().map(|h| tally(h, &counts)).collect();
    Ok(Delivery { outage_id: outage_id.to_owned(), versions, flagged_recipients: flagged.map_or(0, |f| f.n) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(version: i64, recipients: i64) -> Head {
        Head {
            version,
            kind: MessageKind::Notice,
            state: VersionState::FannedOut,
            send_at: String::new(),
            send_reason: String::new(),
            recipients,
            inbox: 0,
            fanning_out: 0,
        }
    }

    fn count(version: i64, status: OutboxStatus, code: &str, n: i64) -> Count {
        Count { version, status, code: code.into(), source: subscription(), n }
    }

    #[test]
    fn progress_counts_final_rows_over_recipients_and_failures_by_reason() {
        let counts = [
            count(1, OutboxStatus::Sent, "", 2),
            count(1, OutboxStatus::Failed, "MOBILE_IN_BLACK", 1),
            count(1, OutboxStatus::Failed, "dead_letter", 1),
            count(1, OutboxStatus::Queued, "", 2),
            count(2, OutboxStatus::Delivered, "", 5),
        ];
        let v = tally(head(1, 6), &counts);
        assert_eq!((v.sent, v.failed, v.queued, v.delivered), (2, 2, 2, 0));
        assert_eq!(v.failed_by_reason.get("MOBILE_IN_BLACK"), Some(&1));
        assert_eq!(v.progress, 0.667);
    }

    #[test]
    fn a_version_without_recipients_is_complete() {
        assert_eq!(tally(head(3, 0), &[]).progress, 1.0);
    }
}
