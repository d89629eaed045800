//! The queue consumer's work on one chunk: claim its queued rows, send them
//! in one provider call (split in halves when the provider refuses the batch
//! for a bad number), decide each row's result, and record every result in
//! one batch before telling the queue what to do with the message.

use crate::flags::flag_stmt;
use crate::outbox::Chunk;
use crate::retry::{self, RetryPolicy};
use crate::rules::{Effect, MessageKind, QuietHours};
use crate::states::{OutageKind, OutboxStatus, VersionState};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult};
use shared::runtime::IdSource;
use shared::sms::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
use shared::store::{Db, Stmt, Value};
use shared::types::{BeijingTime, MobileNumber};
use shared::vault::PhoneVault;
use std::collections::{BTreeMap, BTreeSet};

/// Provider calls one chunk may make while splitting out bad numbers.
pub const MAX_CALLS_PER_CHUNK: usize = 24;
/// The longest redelivery delay a queue message may ask for (12 h, the
/// Queues limit), seconds.
const MAX_RETRY_DELAY_SECS: u32 = 43_200;
/// The error code of a malformed number (also Aliyun's for it).
const ILLEGAL_NUMBER: &str = "isv.MOBILE_NUMBER_ILLEGAL";

/// The approved template codes, by message kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    pub notice: String,
    pub correction: String,
    pub cancellation: String,
    pub reminder: String,
    /// The notice of a 降压供水 (its own approved text: `rules::PRESSURE_NOTICE`).
    pub pressure_notice: String,
}

impl Templates {
    fn code(&self, kind: MessageKind, effect: Effect) -> &str {
        match kind {
            MessageKind::Notice if effect == Effect::ReducedPressure => &self.pressure_notice,
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
    /// Opens billing holders' phones (`PHONE_KEYS`); without it their rows fail.
    pub vault: Option<&'a PhoneVault>,
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

/// A claimed row with what sending it needs: a subscriber's phone, or a
/// holder's sealed phone and the account it is sealed for (opened only here,
/// inside the send: [`open_sealed`]).
#[derive(Debug, Clone, Deserialize)]
struct Claimed {
    id: i64,
    phone_hash: String,
    attempts: i64,
    phone: Option<String>,
    flagged: i64,
    #[serde(default)]
    sealed: Option<String>,
    #[serde(default)]
    account_no: Option<String>,
}

/// Opens the holders' sealed phones of `rows` in place. A value no key
/// opens (the key was dropped before a rekey finished) leaves the row
/// without a phone: it fails as `sealed_unreadable`, not as a deleted account.
fn open_sealed(rows: &mut [Claimed], vault: Option<&PhoneVault>) -> BTreeSet<i64> {
    let mut unreadable = BTreeSet::new();
    for r in rows.iter_mut().filter(|r| r.phone.is_none()) {
        let (Some(sealed), Some(account)) = (r.sealed.as_deref(), r.account_no.as_deref()) else { continue };
        match vault.map(|v| v.open(sealed, account)) {
            Some(Ok(p)) => r.phone = Some(p.expose().to_owned()),
            _ => {
                unreadable.insert(r.id);
            }
        }
    }
    unreadable
}

#[derive(Deserialize)]
struct VersionRow {
    kind: MessageKind,
    params: String,
    state: VersionState,
    outage_kind: OutageKind,
    effect: Effect,
}

/// What becomes of some claimed rows.
#[derive(Debug, Clone, PartialEq)]
enum RowResult {
    /// Their version was superseded before they went out.
    Superseded,
    /// Accepted by the provider.
    Sent { biz_id: String },
    /// Refused for good, or never sendable: `code` says why.
    Failed { code: String },
    /// The call budget ran out while splitting: the sweep sends them.
    OutOfCalls,
    /// A passing fault: queued again; the queue redelivers after the backoff.
    Retry { next_at: BeijingTime, code: String },
    /// The provider's frequency control: deferred past its window.
    RateLimited { next_at: BeijingTime, code: String },
}

impl RowResult {
    fn status(&self) -> OutboxStatus {
        match self {
            Self::Superseded => OutboxStatus::Superseded,
            Self::Sent { .. } => OutboxStatus::Sent,
            Self::Failed { .. } => OutboxStatus::Failed,
            Self::OutOfCalls | Self::RateLimited { .. } => OutboxStatus::Deferred,
            Self::Retry { .. } => OutboxStatus::Queued,
        }
    }
}

/// One write of a chunk's record, in batch order.
#[derive(Debug, Clone, PartialEq)]
enum Write {
    /// No later notice goes to this number.
    Flag { phone_hash: String, code: String },
    /// These rows' result; their claim is released.
    Set { ids: Vec<i64>, result: RowResult },
}

/// The rows of a chunk split by whether they can be sent: the numbers to
/// send to, and the writes failing the rest.
#[derive(Debug)]
struct Triage {
    ready: Vec<(i64, MobileNumber)>,
    writes: Vec<Write>,
    failed: usize,
}

/// Rows without a phone (account deleted), with a flagged number, or with a
/// malformed one (which is flagged) fail at once; the others are ready.
fn triage(rows: &[Claimed], unreadable: &BTreeSet<i64>) -> Triage {
    let mut ready = Vec::new();
    let mut writes = Vec::new();
    let mut skip: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in rows {
        match r.phone.as_deref().map(MobileNumber::parse) {
            None if unreadable.contains(&r.id) => skip.entry("sealed_unreadable").or_default().push(r.id),
            None => skip.entry("no_phone").or_default().push(r.id),
            Some(_) if r.flagged != 0 => skip.entry("flagged").or_default().push(r.id),
            Some(Err(_)) => {
                skip.entry(ILLEGAL_NUMBER).or_default().push(r.id);
                writes.push(Write::Flag { phone_hash: r.phone_hash.clone(), code: ILLEGAL_NUMBER.to_owned() });
            }
            Some(Ok(p)) => ready.push((r.id, p)),
        }
    }
    let failed = skip.values().map(Vec::len).sum();
    writes.extend(
        skip.into_iter().map(|(code, ids)| Write::Set { ids, result: RowResult::Failed { code: code.to_owned() } }),
    );
    Triage { ready, writes, failed }
}

/// How send results are judged.
struct Judge {
    policy: RetryPolicy,
    quiet: QuietHours,
    emergency: bool,
    now: BeijingTime,
}

/// Each group's result from its provider outcome (none: the call budget
/// ran out), counted into `d`, and what to tell the queue: a transient
/// failure asks for redelivery after the longest backoff of its rows.
fn settle(
    results: &[(Vec<i64>, Option<SmsOutcome>)],
    rows: &[Claimed],
    j: &Judge,
    d: &mut Delivered,
) -> (Vec<Write>, Disposition) {
    let attempts: BTreeMap<i64, i64> = rows.iter().map(|r| (r.id, r.attempts)).collect();
    let hashes: BTreeMap<i64, &str> = rows.iter().map(|r| (r.id, r.phone_hash.as_str())).collect();
    let mut writes = Vec::new();
    let mut retry_after: Option<i64> = None;
    for (group, outcome) in results {
        d.calls += usize::from(outcome.is_some());
        let result = match outcome {
            Some(SmsOutcome::Sent { biz_id }) => RowResult::Sent { biz_id: biz_id.clone() },
            None => RowResult::OutOfCalls,
            Some(SmsOutcome::Failed { code, message, class }) => match class {
                FailureClass::Retryable => {
                    let most = group.iter().filter_map(|i| attempts.get(i)).copied().max().unwrap_or(1);
                    let wait = j.policy.backoff(most);
                    retry_after = Some(retry_after.map_or(wait, |w| w.max(wait)));
                    let next_at = BeijingTime::from_utc(j.now.to_utc() + chrono::Duration::seconds(wait));
                    RowResult::Retry { next_at, code: code.clone() }
                }
                FailureClass::RateLimited => {
                    let next_at = retry::reschedule(code, message, j.now, j.emergency, j.quiet);
                    RowResult::RateLimited { next_at, code: code.clone() }
                }
                FailureClass::Permanent => {
                    if let [one] = group.as_slice()
                        && retry::about_the_number(code)
                        && let Some(h) = hashes.get(one)
                    {
                        writes.push(Write::Flag { phone_hash: (*h).to_owned(), code: code.clone() });
                    }
                    RowResult::Failed { code: code.clone() }
                }
            },
        };
        *match &result {
            RowResult::Sent { .. } => &mut d.sent,
            RowResult::Failed { .. } => &mut d.failed,
            RowResult::Retry { .. } => &mut d.retrying,
            RowResult::OutOfCalls | RowResult::RateLimited { .. } => &mut d.deferred,
            RowResult::Superseded => &mut d.superseded,
        } += group.len();
        writes.push(Write::Set { ids: group.clone(), result });
    }
    let disposition = match retry_after {
        Some(secs) => Disposition::Retry(u32::try_from(secs).unwrap_or(u32::MAX).min(MAX_RETRY_DELAY_SECS)),
        None => Disposition::Ack,
    };
    (writes, disposition)
}

/// The update recording `result` on the rows `ids` still held by `claim`.
fn set_stmt(result: &RowResult, claim: &str, ids: &[i64], now: BeijingTime) -> Stmt {
    let (columns, mut args): (&str, Vec<Value>) = match result {
        RowResult::Superseded => ("", vec![]),
        RowResult::Sent { biz_id } => (
            ", biz_id = ?2, sent_at = ?3, error_code = NULL, failure_class = NULL",
            vec![biz_id.as_str().into(), now.to_rfc3339().into()],
        ),
        RowResult::Failed { code } => (
            ", error_code = ?2, failure_class = ?3",
            vec![code.as_str().into(), FailureClass::Permanent.as_str().into()],
        ),
        RowResult::OutOfCalls => (", next_at = ?2", vec![now.to_rfc3339().into()]),
        RowResult::Retry { next_at, code } => (
            ", next_at = ?2, error_code = ?3, failure_class = ?4",
            vec![next_at.to_rfc3339().into(), code.as_str().into(), FailureClass::Retryable.as_str().into()],
        ),
        RowResult::RateLimited { next_at, code } => (
            ", next_at = ?2, error_code = ?3, failure_class = ?4",
            vec![next_at.to_rfc3339().into(), code.as_str().into(), FailureClass::RateLimited.as_str().into()],
        ),
    };
    args.insert(0, result.status().as_str().into());
    let n = args.len();
    args.push(claim.into());
    args.push(serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()).into());
    Stmt::new(
        format!(
            "UPDATE outage_outbox SET status = ?1{columns}, claim = NULL
              WHERE claim = ?{} AND id IN (SELECT value FROM json_each(?{}))",
            n + 1,
            n + 2
        ),
        args,
    )
}

/// Records the writes of one chunk in one batch.
async fn record(db: &impl Db, claim: &str, now: BeijingTime, writes: &[Write]) -> ApiResult<()> {
    let stmts: Vec<Stmt> = writes
        .iter()
        .map(|w| match w {
            Write::Flag { phone_hash, code } => flag_stmt(phone_hash, code, now),
            Write::Set { ids, result } => set_stmt(result, claim, ids, now),
        })
        .collect();
    db.batch(&stmts).await?;
    Ok(())
}

/// Claims the queued rows of a chunk; returns how many.
async fn claim_chunk(db: &impl Db, chunk: &Chunk, claim: &str, now: BeijingTime) -> ApiResult<u64> {
    db.execute(
        "UPDATE outage_outbox SET status = ?7, claim = ?1, claimed_at = ?2, attempts = attempts + 1
          WHERE outage_id = ?3 AND version = ?4 AND id BETWEEN ?5 AND ?6 AND status = 'queued'",
        &[
            claim.into(),
            now.to_rfc3339().into(),
            chunk.outage_id.as_str().into(),
            chunk.version.into(),
            chunk.lo.into(),
            chunk.hi.into(),
            OutboxStatus::Sending.as_str().into(),
        ],
    )
    .await
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
    if claim_chunk(db, chunk, &claim, now).await? == 0 {
        return Ok((Disposition::Ack, Delivered::default()));
    }
    let v: VersionRow = db
        .first_as(
            "SELECT v.kind, v.params, v.state, o.kind AS outage_kind, o.effect FROM outage_versions v
               JOIN outages o ON o.id = v.outage_id WHERE v.outage_id = ?1 AND v.version = ?2",
            &[chunk.outage_id.as_str().into(), chunk.version.into()],
        )
        .await?
        .ok_or_else(|| ApiError::internal("outbox row without its version"))?;
    let mut rows: Vec<Claimed> = db
        .query_as(
            "SELECT b.id, b.phone_hash, b.attempts, c.phone, (f.phone_hash IS NOT NULL) AS flagged,
                    w.holder_phone_enc AS sealed, b.account_no
               FROM outage_outbox b
               LEFT JOIN citizens c ON b.source = 'subscription' AND c.id = b.citizen_id AND c.deleted_at IS NULL
               LEFT JOIN water_accounts w ON b.source = 'holder' AND w.account_no = b.account_no
               LEFT JOIN sms_flags f ON f.phone_hash = b.phone_hash
              WHERE b.claim = ?1 ORDER BY b.id",
            &[claim.as_str().into()],
        )
        .await?;
    let unreadable = open_sealed(&mut rows, tx.vault);
    let mut d = Delivered { claimed: rows.len(), ..Delivered::default() };
    if v.state == VersionState::Superseded {
        d.superseded = rows.len();
        let all = rows.iter().map(|r| r.id).collect();
        record(db, &claim, now, &[Write::Set { ids: all, result: RowResult::Superseded }]).await?;
        return Ok((Disposition::Ack, d));
    }
    let Triage { ready, mut writes, failed } = triage(&rows, &unreadable);
    d.failed = failed;
    let params: BTreeMap<String, String> = serde_json::from_str(&v.params).unwrap_or_default();
    let template = SmsMessage {
        phones: Vec::new(),
        template_code: tx.templates.code(v.kind, v.effect).to_owned(),
        params: params.into_iter().collect(),
    };
    let results = send_split(tx.sms, ids, &template, ready, now).await?;
    let judge = Judge { policy: tx.policy, quiet: tx.quiet, emergency: v.outage_kind == OutageKind::Emergency, now };
    let (settled, disposition) = settle(&results, &rows, &judge, &mut d);
    writes.extend(settled);
    record(db, &claim, now, &writes).await?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use shared::testing::at as t;

    fn row(id: i64, phone: Option<&str>, attempts: i64, flagged: bool) -> Claimed {
        Claimed {
            id,
            phone_hash: format!("h{id}"),
            attempts,
            phone: phone.map(str::to_owned),
            flagged: i64::from(flagged),
            sealed: None,
            account_no: None,
        }
    }

    fn failed(code: &str, class: FailureClass) -> Option<SmsOutcome> {
        Some(SmsOutcome::Failed { code: code.into(), message: String::new(), class })
    }

    fn judge(emergency: bool, now: &str) -> Judge {
        Judge { policy: RetryPolicy::default(), quiet: QuietHours::default(), emergency, now: t(now) }
    }

    #[test]
    fn rows_without_a_phone_or_with_a_flagged_or_malformed_number_fail_and_only_the_malformed_is_flagged() {
        let rows = [
            row(1, Some("13800000001"), 1, false),
            row(2, None, 1, false),
            row(3, Some("13800000003"), 1, true),
            row(4, Some("12345"), 1, false),
        ];
        let t = triage(&rows, &BTreeSet::new());
        assert_eq!(t.ready.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1]);
        assert_eq!(t.failed, 3);
        let failed = |ids: Vec<i64>, code: &str| Write::Set { ids, result: RowResult::Failed { code: code.into() } };
        assert_eq!(
            t.writes,
            [
                Write::Flag { phone_hash: "h4".into(), code: ILLEGAL_NUMBER.into() },
                failed(vec![3], "flagged"),
                failed(vec![4], ILLEGAL_NUMBER),
                failed(vec![2], "no_phone"),
            ]
        );
    }

    #[test]
    fn results_are_recorded_by_failure_class_and_transient_ones_ask_for_the_longest_backoff() {
        let rows = [row(1, None, 1, false), row(2, None, 3, false), row(3, None, 1, false), row(4, None, 1, false)];
        let results = vec![
            (vec![1], Some(SmsOutcome::Sent { biz_id: "B1".into() })),
            (vec![2, 3], failed("isp.SYSTEM_ERROR", FailureClass::Retryable)),
            (vec![4], failed(ILLEGAL_NUMBER, FailureClass::Permanent)),
            (vec![5, 6], None),
        ];
        let mut d = Delivered::default();
        let (writes, disposition) = settle(&results, &rows, &judge(false, "2026-11-23T10:00:00+08:00"), &mut d);
        // Row 2 is on its third attempt: 30 s doubled twice.
        assert_eq!(disposition, Disposition::Retry(120));
        assert_eq!((d.sent, d.retrying, d.failed, d.deferred, d.calls), (1, 2, 1, 2, 3));
        let statuses: Vec<&str> = writes
            .iter()
            .map(|w| match w {
                Write::Set { result, .. } => result.status().as_str(),
                Write::Flag { .. } => "flag",
            })
            .collect();
        assert_eq!(statuses, ["sent", "queued", "flag", "failed", "deferred"]);
        assert!(writes.contains(&Write::Flag { phone_hash: "h4".into(), code: ILLEGAL_NUMBER.into() }));
        assert!(writes.contains(&Write::Set {
            ids: vec![2, 3],
            result: RowResult::Retry { next_at: t("2026-11-23T10:02:00+08:00"), code: "isp.SYSTEM_ERROR".into() }
        }));
    }

    #[test]
    fn a_number_error_on_a_whole_batch_flags_nobody() {
        let rows = [row(1, None, 1, false), row(2, None, 1, false)];
        let results = vec![(vec![1, 2], failed(ILLEGAL_NUMBER, FailureClass::Permanent))];
        let (writes, disposition) =
            settle(&results, &rows, &judge(false, "2026-11-23T10:00:00+08:00"), &mut Delivered::default());
        assert_eq!(disposition, Disposition::Ack);
        assert_eq!(writes, [Write::Set { ids: vec![1, 2], result: RowResult::Failed { code: ILLEGAL_NUMBER.into() } }]);
    }

    #[test]
    fn a_rate_limited_planned_notice_waits_for_the_morning_and_an_emergency_does_not() {
        let rows = [row(1, None, 1, false)];
        let results = vec![(vec![1], failed("isv.MINUTE_LIMIT_CONTROL", FailureClass::RateLimited))];
        let next = |emergency| {
            let (writes, disposition) =
                settle(&results, &rows, &judge(emergency, "2026-11-23T21:59:30+08:00"), &mut Delivered::default());
            assert_eq!(disposition, Disposition::Ack);
            match writes.first() {
                Some(Write::Set { result: RowResult::RateLimited { next_at, .. }, .. }) => *next_at,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(next(false), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(next(true), t("2026-11-23T22:00:30+08:00"));
    }

    #[test]
    fn a_redelivery_never_asks_for_more_than_twelve_hours() {
        let rows = [row(1, None, 20, false)];
        let results = vec![(vec![1], failed("isp.SYSTEM_ERROR", FailureClass::Retryable))];
        let j = Judge {
            policy: RetryPolicy { base_secs: 3600, max_secs: 86_400 },
            ..judge(false, "2026-11-23T10:00:00+08:00")
        };
        assert_eq!(settle(&results, &rows, &j, &mut Delivered::default()).1, Disposition::Retry(MAX_RETRY_DELAY_SECS));
    }

    #[test]
    fn each_result_writes_its_status_and_releases_the_claim() {
        let now = t("2026-11-23T10:00:00+08:00");
        let s = set_stmt(&RowResult::Superseded, "C", &[1, 2], now);
        assert_eq!(s.params, [Value::from("superseded"), Value::from("C"), Value::from("[1,2]")]);
        assert!(s.sql.contains("SET status = ?1, claim = NULL") && s.sql.contains("WHERE claim = ?2"), "{}", s.sql);
        let s = set_stmt(&RowResult::Failed { code: "X".into() }, "C", &[3], now);
        assert_eq!(s.params.first(), Some(&Value::from("failed")));
        assert!(s.params.contains(&Value::from("permanent")) && s.sql.contains("json_each(?5)"), "{}", s.sql);
        let s = set_stmt(&RowResult::OutOfCalls, "C", &[3], now);
        assert_eq!(s.params, [Value::from("deferred"), Value::from(now.to_rfc3339()), "C".into(), "[3]".into()]);
    }

    #[test]
    fn a_holders_sealed_phone_opens_inside_the_send_and_one_no_key_opens_fails_as_unreadable() {
        let vault = PhoneVault::parse("k1:BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=").unwrap();
        let phone = MobileNumber::parse("13700137000").unwrap();
        let mut held = row(1, None, 0, false);
        held.sealed = Some(vault.seal(&shared::runtime::OsRandom, &phone, "88000001").unwrap());
        held.account_no = Some("88000001".into());
        let mut moved = held.clone();
        moved.id = 2;
        moved.account_no = Some("88000002".into());
        let mut rows = vec![held, moved, row(3, Some("13900139000"), 0, false)];
        let unreadable = open_sealed(&mut rows, Some(&vault));
        assert_eq!(rows[0].phone.as_deref(), Some("13700137000"));
        assert_eq!(unreadable.into_iter().collect::<Vec<_>>(), [2], "sealed for another account");
        let t = triage(&rows, &BTreeSet::from([2]));
        assert_eq!(t.ready.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 3]);
        assert!(
            t.writes
                .contains(&Write::Set { ids: vec![2], result: RowResult::Failed { code: "sealed_unreadable".into() } })
        );
        let mut none = vec![row(4, None, 0, false)];
        none[0].sealed = rows[0].sealed.clone();
        none[0].account_no = Some("88000001".into());
        assert_eq!(open_sealed(&mut none, None).len(), 1, "no vault configured: unreadable, never sent in the clear");
    }
}
