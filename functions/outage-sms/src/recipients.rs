//! Who a version of an outage reaches (issue 18): the subscribers of the
//! affected areas (by address, or by a water account they still hold) and
//! the holders of every billing account supplied there, whether or not they
//! ever used the mini-program. One outbox row per phone per version, however
//! many accounts and subscriptions lead to it (the unique index on
//! `(outage_id, version, phone_hash)`; subscribers are written first, so a
//! phone that is both is reached as a subscriber), minus numbers flagged as
//! permanently bad and numbers that replied TD. Citizens who bound an
//! affected account also get the notice in their inbox.

use crate::rules::MessageKind;
use shared::store::{Stmt, Value};
use shared::types::BeijingTime;

/// The outage's affected areas with everything below them (CTE `hit`).
const HIT: &str = "hit AS (
           SELECT a.code FROM outage_areas oa
             JOIN supply_areas x ON x.code = oa.code
             JOIN supply_areas a ON a.path >= x.path AND a.path < x.path || '~'
            WHERE oa.outage_id = ?1)";

/// The version is still live (a correction may have superseded it meanwhile).
const LIVE: &str = "EXISTS (SELECT 1 FROM outage_versions v
                         WHERE v.outage_id = ?1 AND v.version = ?2 AND v.state != 'superseded')";

/// Subscribers of the affected areas: by address, or by a water account
/// they still hold (bound in `citizen_water_accounts`).
pub(crate) const AFFECTED: &str = "
  SELECT s.citizen_id FROM outage_subscriptions s
   WHERE s.utility = (SELECT utility FROM outages WHERE id = ?1) AND s.area_code IN (SELECT code FROM hit)
  UNION
  SELECT s.citizen_id FROM supply_accounts acc
    JOIN outage_subscriptions s ON s.utility = acc.utility AND s.account_no = acc.account_no
    JOIN citizen_water_accounts held ON held.citizen_id = s.citizen_id AND held.account_no = s.account_no
   WHERE acc.utility = 'water' AND acc.utility = (SELECT utility FROM outages WHERE id = ?1)
     AND acc.area_code IN (SELECT code FROM hit)";

/// Subscribers an earlier version reached.
pub(crate) const NOTIFIED: &str = "
  SELECT b.citizen_id FROM outage_outbox b
   WHERE b.outage_id = ?1 AND b.version < ?2 AND b.status IN ('sending', 'sent', 'delivered')
     AND b.citizen_id IN (SELECT citizen_id FROM outage_subscriptions)";

/// Holders of the water accounts supplied in the affected areas whose phone
/// the billing import sealed (gas billing data has no holders' phones yet),
/// for the accounts numbered in `(?6, ?7]` (one slice).
const AFFECTED_HOLDERS: &str = "
  SELECT w.holder_phone_hash AS phone_hash, w.account_no FROM supply_accounts acc
    JOIN water_accounts w ON w.account_no = acc.account_no
   WHERE acc.utility = 'water' AND (SELECT utility FROM outages WHERE id = ?1) = 'water'
     AND acc.area_code IN (SELECT code FROM hit) AND w.holder_phone_enc IS NOT NULL
     AND acc.account_no > ?6 AND acc.account_no <= ?7";

/// Accounts whose holders one statement writes: enough that a city-wide
/// emergency takes a few dozen slices, few enough that one slice's insert
/// stays well inside production D1's limit on a query's duration (50,000
/// accounts took about 2 s locally).
pub const HOLDER_SLICE: i64 = 50_000;

/// The end of the next slice of affected accounts after `?2`: how many
/// accounts it holds (at most `slice`) and the last account number.
pub(crate) fn slice_end_sql(slice: i64) -> String {
    format!(
        "WITH {HIT}
         SELECT COUNT(*) AS n, MAX(account_no) AS last FROM (
           SELECT acc.account_no FROM supply_accounts acc
            WHERE acc.utility = 'water' AND (SELECT utility FROM outages WHERE id = ?1) = 'water'
              AND acc.area_code IN (SELECT code FROM hit) AND acc.account_no > ?2
            ORDER BY acc.account_no LIMIT {slice})"
    )
}

/// The accounts `(after, upto]` of one slice of affected holders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRange<'a> {
    pub after: &'a str,
    pub upto: &'a str,
}

/// Holders an earlier version reached.
const NOTIFIED_HOLDERS: &str = "
  SELECT b.phone_hash, b.account_no FROM outage_outbox b
   WHERE b.outage_id = ?1 AND b.version < ?2 AND b.source = 'holder'
     AND b.status IN ('sending', 'sent', 'delivered')";

/// Who gets a version of this kind: the notice and reminder go to the
/// affected; a correction to them and to everyone already notified; a
/// cancellation only to those already notified. Subscribers in full; the
/// holders of the first slice (`first`: the notified holders too), or of a
/// later slice (only the affected: the notified were all written first);
/// `None` when this part has no holders.
pub(crate) fn recipients_sql(kind: MessageKind, first: bool) -> (String, Option<String>) {
    match kind {
        MessageKind::Notice | MessageKind::Reminder => (AFFECTED.to_owned(), Some(AFFECTED_HOLDERS.to_owned())),
        MessageKind::Correction if first => {
            (format!("{AFFECTED}\n  UNION{NOTIFIED}"), Some(format!("{AFFECTED_HOLDERS}\n  UNION{NOTIFIED_HOLDERS}")))
        }
        MessageKind::Correction => (AFFECTED.to_owned(), Some(AFFECTED_HOLDERS.to_owned())),
        MessageKind::Cancellation => (NOTIFIED.to_owned(), first.then(|| NOTIFIED_HOLDERS.to_owned())),
    }
}

/// Whether this kind's holders come in slices of accounts (a cancellation
/// reaches only the holders notified before, all in its first part).
pub(crate) fn sliced(kind: MessageKind) -> bool {
    recipients_sql(kind, false).1.is_some()
}

/// The parameters of the outbox inserts: ?1 outage, ?2 version, ?3 batch,
/// ?4 now, ?5 the queued status (and ?6, ?7 the slice for holders).
fn params(outage_id: &str, version: i64, now: BeijingTime, batch: &str) -> Vec<Value> {
    vec![
        outage_id.into(),
        version.into(),
        batch.into(),
        now.to_rfc3339().into(),
        crate::states::OutboxStatus::Queued.as_str().into(),
    ]
}

/// The holders' insert of one slice: one row per phone, the lowest account
/// number of the slice that leads to it.
pub(crate) fn holder_stmt(
    kind: MessageKind,
    first: bool,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    range: AccountRange<'_>,
) -> Option<Stmt> {
    let holders = recipients_sql(kind, first).1?;
    let mut p = params(outage_id, version, now, batch);
    if holders.contains("?6") {
        p.extend([range.after.into(), range.upto.into()]);
    }
    let sql = format!(
        "INSERT OR IGNORE INTO outage_outbox
           (outage_id, version, citizen_id, phone_hash, status, batch, next_at, source, account_no)
         WITH {HIT},
         holders AS ({holders})
         SELECT ?1, ?2, 'holder:' || h.phone_hash, h.phone_hash, ?5, ?3, ?4, 'holder', MIN(h.account_no)
           FROM holders h
          WHERE NOT EXISTS (SELECT 1 FROM sms_flags f WHERE f.phone_hash = h.phone_hash)
            AND NOT EXISTS (SELECT 1 FROM sms_optouts o WHERE o.phone_hash = h.phone_hash)
            AND {LIVE}
          GROUP BY h.phone_hash"
    );
    Some(Stmt::new(sql, p))
}

/// The first part of a fan-out, in batch order: subscribers (all of them),
/// the holders of the first slice, the inbox of the citizens bound to an
/// affected account. Subscribers go first, so a phone that is both is
/// reached as a subscriber. The outbox inserts are the first two.
pub(crate) fn insert_stmts(
    kind: MessageKind,
    outage_id: &str,
    version: i64,
    now: BeijingTime,
    batch: &str,
    range: AccountRange<'_>,
) -> Vec<Stmt> {
    let (subscribers, _) = recipients_sql(kind, true);
    let subscriber_rows = format!(
        "INSERT OR IGNORE INTO outage_outbox (outage_id, version, citizen_id, phone_hash, status, batch, next_at)
         WITH {HIT},
         who AS ({subscribers})
         SELECT ?1, ?2, c.id, c.phone_hash, ?5, ?3, ?4
           FROM who JOIN citizens c ON c.id = who.citizen_id
          WHERE c.phone IS NOT NULL AND c.phone_hash IS NOT NULL AND c.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM sms_flags f WHERE f.phone_hash = c.phone_hash)
            AND NOT EXISTS (SELECT 1 FROM sms_optouts o WHERE o.phone_hash = c.phone_hash)
            AND {LIVE}"
    );
    // A statement that inserts nothing keeps the positions the same.
    let holders = holder_stmt(kind, true, outage_id, version, now, batch, range)
        .unwrap_or_else(|| Stmt::new("UPDATE outage_versions SET recipients = recipients WHERE 0", vec![]));
    vec![
        Stmt::new(subscriber_rows, params(outage_id, version, now, batch)),
        holders,
        inbox_stmt(kind, outage_id, version, now),
    ]
}

/// The inbox of citizens bound to an account in the affected areas (a
/// cancellation: bound to one of the areas still), once per version.
fn inbox_stmt(kind: MessageKind, outage_id: &str, version: i64, now: BeijingTime) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
             WITH {HIT},
             bound AS (
               SELECT DISTINCT held.citizen_id FROM supply_accounts acc
                 JOIN citizen_water_accounts held ON held.account_no = acc.account_no
                 JOIN citizens c ON c.id = held.citizen_id AND c.deleted_at IS NULL
                WHERE acc.utility = 'water' AND (SELECT utility FROM outages WHERE id = ?1) = 'water'
                  AND acc.area_code IN (SELECT code FROM hit))
             SELECT 'msg_' || lower(hex(randomblob(8))), b.citizen_id,
                    (SELECT COALESCE(MAX(seq), 0) FROM messages) + ROW_NUMBER() OVER (ORDER BY b.citizen_id),
                    'outage', ?3, v.message, '/v1/outages/' || ?1, ?4
               FROM bound b JOIN outage_versions v ON v.outage_id = ?1 AND v.version = ?2 AND v.state != 'superseded'
              WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.citizen_id = b.citizen_id AND m.kind = 'outage'
                                  AND m.link = '/v1/outages/' || ?1 AND m.title = ?3 AND m.body = v.message)"
        ),
        vec![outage_id.into(), version.into(), inbox_title(kind).into(), now.to_rfc3339().into()],
    )
}

/// The inbox title of a version of this kind.
pub fn inbox_title(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Notice => "停水停气通知",
        MessageKind::Correction => "停水停气通知有更正",
        MessageKind::Cancellation => "停水停气通知已取消",
        MessageKind::Reminder => "停水停气即将开始",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cancellation_reaches_only_the_notified_and_a_correction_the_affected_too() {
        assert_eq!(
            recipients_sql(MessageKind::Cancellation, true),
            (NOTIFIED.to_owned(), Some(NOTIFIED_HOLDERS.to_owned()))
        );
        assert_eq!(
            recipients_sql(MessageKind::Reminder, true),
            (AFFECTED.to_owned(), Some(AFFECTED_HOLDERS.to_owned()))
        );
        let (subs, holders) = recipients_sql(MessageKind::Correction, true);
        let holders = holders.unwrap();
        assert!(subs.contains(AFFECTED) && subs.contains(NOTIFIED));
        assert!(holders.contains(AFFECTED_HOLDERS) && holders.contains(NOTIFIED_HOLDERS));
    }

    #[test]
    fn later_slices_write_only_the_affected_holders_and_a_cancellation_has_none() {
        assert_eq!(recipients_sql(MessageKind::Correction, false).1, Some(AFFECTED_HOLDERS.to_owned()));
        assert_eq!(recipients_sql(MessageKind::Cancellation, false).1, None);
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        let range = AccountRange { after: "", upto: "9" };
        let cancel = holder_stmt(MessageKind::Cancellation, true, "O", 1, now, "b", range).unwrap();
        assert_eq!(cancel.params.len(), 5, "the notified holders take no slice");
        let notice = holder_stmt(MessageKind::Notice, false, "O", 1, now, "b", range).unwrap();
        assert_eq!(notice.params.len(), 7);
    }

    #[test]
    fn subscribers_are_written_before_holders_so_a_phone_that_is_both_is_a_subscriber() {
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        let s = insert_stmts(MessageKind::Notice, "O", 1, now, "b", AccountRange { after: "", upto: "9" });
        assert_eq!(s.len(), 3);
        assert!(s.first().is_some_and(|x| x.sql.contains("FROM who JOIN citizens")));
        assert!(s.get(1).is_some_and(|x| x.sql.contains("'holder'")));
        assert!(s.get(2).is_some_and(|x| x.sql.starts_with("INSERT INTO messages")));
    }
}
