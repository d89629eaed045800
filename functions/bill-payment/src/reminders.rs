//! Bill reminders (issue 18): a 出账通知 to every citizen bound to an account
//! once its bill is imported, a reminder 3 days before the due date and one
//! the day after it passed unpaid (that one also by SMS to citizens with a
//! phone). The cron sweeps them: each (bill, kind, citizen, channel) is
//! claimed in `bill_notices` (INSERT OR IGNORE) and its inbox message posted
//! from the claims of this sweep only, in one batch, so two sweeps at once
//! never notice twice. An SMS is claimed before it is sent: a crash after the
//! claim loses it, never sends it twice. Nothing goes out in the quiet hours
//! (`BILL_QUIET_HOURS`); what was due waits for the first sweep after, which
//! sees a bill paid meanwhile as paid.
//!
//! The 出账通知 and the 已逾期 reminder also go by 订阅消息 to citizens who
//! accepted the template (`crate::reminder_delivery`, after this sweep's
//! batch); the overdue SMS is then sent only where the 订阅消息 did not go.
//! An overdue SMS is not claimed for a citizen whose 订阅消息 for that bill
//! went or is going (`wechat_sends` `sent` or `claimed`, reference
//! `<bill id>:overdue`).

use chrono::Duration;
use serde::Deserialize;
use shared::error::ApiResult;
use shared::runtime::IdSource;
use shared::sms::{SendContext, SmsMessage, SmsOutcome, SmsProvider, log_stmts};
use shared::store::{Db, Stmt};
use shared::types::{BeijingTime, MobileNumber, QuietHours};
use shared::wechat_notify::Purpose;

/// Most notices (inbox and SMS rows) one sweep claims: one D1 batch of two
/// statements whatever the count, and at most this many SMS and 订阅消息
/// sends together (one subrequest each, a 订阅消息 only for an inbox row,
/// plus the access token) inside a cron run; the rest waits 10 minutes.
pub const MAX_NOTICES_PER_SWEEP: i64 = 500;

/// Days before the due date the "即将到期" reminder is due.
pub const DUE_SOON_DAYS: i64 = 3;

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// 出账通知: the bill was imported.
    Issued,
    /// [`DUE_SOON_DAYS`] days before the due date, unpaid.
    DueSoon,
    /// The day after the due date, still unpaid.
    Overdue,
}

impl NoticeKind {
    pub const ALL: [Self; 3] = [Self::Issued, Self::DueSoon, Self::Overdue];

    /// The stored name (`bill_notices.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The 订阅消息 template it also goes by, if any. The 即将到期 reminder
    /// has none: the `bill_overdue` template is titled as arrears in WeChat,
    /// and each message spends one of the citizen's one-time acceptances, so
    /// sending it 3 days early would leave none for the overdue notice, which
    /// would then go by SMS as well.
    pub fn wechat_purpose(self) -> Option<Purpose> {
        match self {
            Self::Issued => Some(Purpose::BillIssued),
            Self::DueSoon => None,
            Self::Overdue => Some(Purpose::BillOverdue),
        }
    }

    /// The inbox title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Issued => "水费账单已出账",
            Self::DueSoon => "水费即将到期",
            Self::Overdue => "水费已逾期",
        }
    }

    /// The opening of the inbox text.
    fn lead(self) -> &'static str {
        match self {
            Self::Issued => "您的水费账单已出账：",
            Self::DueSoon => "您的水费账单即将到期：",
            Self::Overdue => "您的水费账单已逾期未缴：",
        }
    }

    /// The close of the inbox text.
    fn advice(self) -> &'static str {
        match self {
            Self::Issued => "可在“水费缴纳”中查看明细并缴费。",
            Self::DueSoon => "请在截止日期前缴纳，以免逾期。",
            Self::Overdue => "请尽快缴纳；如已缴纳，请忽略本提醒。",
        }
    }
}

/// An amount in fen as 元 with two decimals (3840 -> "38.40").
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

/// What one sweep did.
#[derive(Debug, Default, PartialEq)]
pub struct Swept {
    /// In the quiet hours: nothing claimed.
    pub quiet: bool,
    /// Rows claimed (inbox and SMS).
    pub claimed: u64,
    /// Inbox messages posted.
    pub posted: u64,
    /// Overdue SMS claimed by this sweep, to send now.
    pub sms: Vec<SmsDue>,
}

/// An overdue SMS claimed by a sweep.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SmsDue {
    pub bill_id: String,
    pub citizen_id: String,
    pub phone: Option<String>,
    pub period: String,
    pub amount_fen: i64,
    pub due_date: String,
}

/// How a sweep runs: its id (unique per run), the quiet hours, and whether
/// overdue SMS can be sent (without the SMS configuration none is claimed,
/// so they go out once it is set).
pub struct SweepRun<'a> {
    pub id: &'a str,
    pub quiet: QuietHours,
    pub with_sms: bool,
}

/// Claims the notices due at `now` (at most [`MAX_NOTICES_PER_SWEEP`], the
/// oldest due dates first) and posts their inbox messages, in one batch.
/// Returns the SMS this sweep claimed for bills still unpaid, for
/// `crate::reminder_delivery::deliver` (订阅消息 first) or [`send_sms`].
pub async fn sweep(db: &impl Db, ids: &impl IdSource, run: &SweepRun<'_>, now: BeijingTime) -> ApiResult<Swept> {
    if run.quiet.covers(now) {
        return Ok(Swept { quiet: true, ..Swept::default() });
    }
    let today = now.date();
    let soon = today + Duration::days(DUE_SOON_DAYS);
    let at = now.to_rfc3339();
    let claim = Stmt::new(
        "INSERT OR IGNORE INTO bill_notices (bill_id, kind, citizen_id, channel, status, at, sweep)
         SELECT b.id, k.kind, w.citizen_id, ch.channel,
                CASE ch.channel WHEN 'sms' THEN 'claimed' ELSE 'posted' END, ?2, ?1
         FROM bills b
         JOIN citizen_water_accounts w ON w.account_no = b.account_no
         JOIN citizens c ON c.id = w.citizen_id
         JOIN (SELECT 'issued' AS kind, 1 AS ord UNION ALL SELECT 'due_soon', 2 UNION ALL SELECT 'overdue', 3) k
           ON (k.kind = 'issued' AND b.due_date >= ?3)
           OR (k.kind = 'due_soon' AND b.due_date BETWEEN ?3 AND ?4)
           OR (k.kind = 'overdue' AND b.due_date < ?3)
         JOIN (SELECT 'inbox' AS channel UNION ALL SELECT 'sms') ch
           ON ch.channel = 'inbox'
           OR (?5 = 1 AND k.kind = 'overdue' AND c.phone IS NOT NULL AND c.phone <> ''
               AND NOT EXISTS (SELECT 1 FROM wechat_sends s WHERE s.purpose = 'bill_overdue'
                               AND s.ref = b.id || ':overdue' AND s.citizen_id = w.citizen_id
                               AND s.status IN ('sent', 'claimed')))
         WHERE b.status = 'unpaid'
           AND NOT EXISTS (SELECT 1 FROM bill_notices n WHERE n.bill_id = b.id AND n.kind = k.kind
                           AND n.citizen_id = w.citizen_id AND n.channel = ch.channel)
         ORDER BY b.due_date, b.id, k.ord, w.citizen_id, ch.channel
         LIMIT ?6",
        vec![
            run.id.into(),
            at.as_str().into(),
            today.to_string().into(),
            soon.to_string().into(),
            i64::from(run.with_sms).into(),
            MAX_NOTICES_PER_SWEEP.into(),
        ],
    );
    let texts = |f: fn(NoticeKind) -> &'static str| NoticeKind::ALL.map(|k| f(k).into());
    let mut params = vec![run.id.into(), at.as_str().into(), ids.hex(6)?.into()];
    params.extend(texts(NoticeKind::title));
    params.extend(texts(NoticeKind::lead));
    params.extend(texts(NoticeKind::advice));
    // The message ids: "msg_" + 12 random hex of this sweep + 4 hex of the row.
    let post = Stmt::new(
        "INSERT INTO messages (id, citizen_id, seq, kind, title, body, link, created_at)
         SELECT 'msg_' || ?3 || printf('%04x', row_number() OVER (ORDER BY b.due_date, n.bill_id, n.kind, n.citizen_id)),
                n.citizen_id,
                (SELECT COALESCE(MAX(seq), 0) FROM messages)
                  + row_number() OVER (ORDER BY b.due_date, n.bill_id, n.kind, n.citizen_id),
                'bill',
                CASE n.kind WHEN 'issued' THEN ?4 WHEN 'due_soon' THEN ?5 ELSE ?6 END,
                CASE n.kind WHEN 'issued' THEN ?7 WHEN 'due_soon' THEN ?8 ELSE ?9 END
                  || '表卡尾号 ' || substr(b.account_no, -4) || '，账期 ' || b.period
                  || '，金额 ' || (b.amount_fen / 100) || '.' || substr('0' || (b.amount_fen % 100), -2)
                  || ' 元，缴费截止日期 ' || b.due_date || '。'
                  || CASE n.kind WHEN 'issued' THEN ?10 WHEN 'due_soon' THEN ?11 ELSE ?12 END,
                '/v1/bills?account=' || b.account_no,
                ?2
         FROM bill_notices n JOIN bills b ON b.id = n.bill_id
         WHERE n.sweep = ?1 AND n.at = ?2 AND n.channel = 'inbox'",
        params,
    );
    let changed = db.batch(&[claim, post]).await?;
    let (claimed, posted) = (changed.first().copied().unwrap_or(0), changed.get(1).copied().unwrap_or(0));
    let sms = if run.with_sms && claimed > posted {
        db.query_as(
            "SELECT n.bill_id, n.citizen_id, c.phone, b.period, b.amount_fen, b.due_date
             FROM bill_notices n JOIN bills b ON b.id = n.bill_id JOIN citizens c ON c.id = n.citizen_id
             WHERE n.sweep = ?1 AND n.channel = 'sms' AND n.status = 'claimed' AND b.status = 'unpaid'
             ORDER BY b.due_date, n.bill_id, n.citizen_id",
            &[run.id.into()],
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(Swept { quiet: false, claimed, posted, sms })
}

/// The overdue SMS (template `SMS_TEMPLATE_BILL_OVERDUE`: `${period}`,
/// `${amount}` in 元, `${due}`).
pub fn overdue_sms(phone: MobileNumber, template: &str, due: &SmsDue) -> SmsMessage {
    SmsMessage {
        phones: vec![phone],
        template_code: template.to_owned(),
        params: vec![
            ("period".into(), due.period.clone()),
            ("amount".into(), yuan(due.amount_fen)),
            ("due".into(), due.due_date.clone()),
        ],
    }
}

/// Sends the SMS a sweep claimed, one by one; each attempt's `sms_log` rows
/// and its claim's status (`sent` or `failed`) are written in one batch.
/// A number that does not parse is marked failed without a send. Returns
/// (sent, failed).
pub async fn send_sms(
    db: &impl Db,
    sms: &impl SmsProvider,
    ids: &impl IdSource,
    template: &str,
    cx: &SendContext<'_>,
    run_id: &str,
    claimed: &[SmsDue],
) -> ApiResult<(usize, usize)> {
    let (mut sent, mut failed) = (0, 0);
    for due in claimed {
        let phone = due.phone.as_deref().and_then(|p| MobileNumber::parse(p).ok());
        let mut stmts = Vec::new();
        let ok = match phone {
            Some(phone) => {
                let msg = overdue_sms(phone, template, due);
                let outcome = sms.send(&msg, cx.now, &ids.hex(16)?).await;
                stmts = log_stmts(sms.name(), &msg, &outcome, cx);
                matches!(outcome, SmsOutcome::Sent { .. })
            }
            None => false,
        };
        if ok {
            sent += 1;
        } else {
            failed += 1;
        }
        stmts.push(Stmt::new(
            "UPDATE bill_notices SET status = ?1, at = ?2
             WHERE bill_id = ?3 AND kind = 'overdue' AND citizen_id = ?4 AND channel = 'sms' AND sweep = ?5",
            vec![
                if ok { "sent" } else { "failed" }.into(),
                cx.now.to_rfc3339().into(),
                due.bill_id.as_str().into(),
                due.citizen_id.as_str().into(),
                run_id.into(),
            ],
        ));
        db.batch(&stmts).await?;
    }
    Ok((sent, failed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn amounts_show_in_yuan_with_two_decimals() {
        assert_eq!(yuan(3840), "38.40");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(10_000_000_000), "100000000.00");
    }
}
