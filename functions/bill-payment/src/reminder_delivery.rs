//! What a reminder sweep claimed, delivered beyond the inbox (issue 18): the
//! 出账通知 and the 已逾期 reminder by 订阅消息 to each bound citizen who
//! accepted the template, then the overdue SMS only where the 订阅消息 did
//! not go (no acceptance, a refusal or a failure: `Outcome::needs_fallback`).
//!
//! - Only the inbox rows this sweep claimed are offered, so each (bill, kind,
//!   citizen) is offered once whatever the overlap of two sweeps; the
//!   `wechat_sends` claim (purpose, reference `<bill id>:<kind>`, citizen)
//!   keeps it once besides.
//! - An overdue SMS claim whose 订阅消息 went is removed: the `wechat_sends`
//!   row is the record, and keeps any later sweep from claiming that SMS
//!   (`crate::reminders::sweep`). A crash in between leaves the claim
//!   `claimed`, which is never sent: never an SMS after the 订阅消息.
//! - The 即将到期 reminder stays in the inbox (see
//!   `NoticeKind::wechat_purpose`).
//! - A storage error while offering 订阅消息 is counted and the notice falls
//!   back to its SMS: the inbox message is already stored either way.

use crate::reminders::{self, NoticeKind, SmsDue, Swept, yuan};
use serde::Deserialize;
use shared::error::{ApiError, ApiResult};
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::sms::{SendContext, SmsProvider};
use shared::store::{Db, Kv, Stmt};
use shared::types::BeijingTime;
use shared::wechat_notify::{self, Notice, Outcome, Templates, WeChatApp};

/// The mini-program page a bill notice opens: the 水费 page, unpaid bills
/// first (no account number or bill id leaves for WeChat).
pub const BILL_PAGE: &str = "pages/bills/index";

/// A notice this sweep claimed, to offer by 订阅消息.
#[derive(Debug, Clone, PartialEq)]
pub struct WeChatDue {
    pub bill_id: String,
    pub kind: NoticeKind,
    pub citizen_id: String,
    pub account_no: String,
    pub period: String,
    pub amount_fen: i64,
    pub due_date: String,
}

impl WeChatDue {
    /// The notice's reference: `<bill id>:<kind>`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.bill_id, self.kind.as_str())
    }
}

/// The inbox rows `run_id` claimed for a kind with a 订阅消息 template, of
/// bills still unpaid, whose citizen has an openid and an acceptance of that
/// template left (the others need no try: `notify` would answer
/// `NoAcceptance`).
pub async fn wechat_dues(db: &impl Db, run_id: &str, templates: &Templates) -> ApiResult<Vec<WeChatDue>> {
    #[derive(Deserialize)]
    struct Row {
        bill_id: String,
        kind: String,
        citizen_id: String,
        account_no: String,
        period: String,
        amount_fen: i64,
        due_date: String,
    }
    let template = |kind: NoticeKind| kind.wechat_purpose().and_then(|p| templates.id_for(p)).map(str::to_owned);
    let rows: Vec<Row> = db
        .query_as(
            "SELECT n.bill_id, n.kind, n.citizen_id, b.account_no, b.period, b.amount_fen, b.due_date
             FROM bill_notices n
             JOIN bills b ON b.id = n.bill_id
             JOIN citizens c ON c.id = n.citizen_id
             JOIN wechat_acceptances a ON a.citizen_id = n.citizen_id
               AND a.template_id = CASE n.kind WHEN 'issued' THEN ?2 WHEN 'overdue' THEN ?3 END
             WHERE n.sweep = ?1 AND n.channel = 'inbox' AND b.status = 'unpaid'
               AND a.remaining > 0 AND c.openid IS NOT NULL AND c.deleted_at IS NULL
             ORDER BY b.due_date, n.bill_id, n.kind, n.citizen_id",
            &[run_id.into(), template(NoticeKind::Issued).into(), template(NoticeKind::Overdue).into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(WeChatDue {
                kind: NoticeKind::parse(&r.kind)?,
                bill_id: r.bill_id,
                citizen_id: r.citizen_id,
                account_no: r.account_no,
                period: r.period,
                amount_fen: r.amount_fen,
                due_date: r.due_date,
            })
        })
        .collect())
}

/// The account as the app shows it: `表卡尾号 2345`.
pub fn masked_account(account_no: &str) -> String {
    let tail: String = account_no.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("表卡尾号 {tail}")
}

/// The note closing a notice (`thing5`, at most 20 characters).
fn note(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Issued => "可在“水费缴纳”中查看明细并缴费",
        NoticeKind::DueSoon => "请在截止日期前缴纳，以免逾期",
        NoticeKind::Overdue => "已逾期未缴，请尽快缴纳",
    }
}

/// The keywords of a bill notice; the `bill_issued` and `bill_overdue`
/// templates both take them: `thing1` 表卡 (the account masked as the app
/// shows it, `表卡尾号 2345`), `character_string2` 账期 (`2026-10`),
/// `amount3` 金额 (`38.40元`), `date4` 缴费截止日期 (`2026-11-30`), `thing5`
/// 备注 (what to do). Nothing else about the account or its holder.
pub fn notice_data(due: &WeChatDue) -> [(&'static str, String); 5] {
    [
        ("thing1", wechat_notify::thing(&masked_account(&due.account_no))),
        ("character_string2", due.period.clone()),
        ("amount3", format!("{}元", yuan(due.amount_fen))),
        ("date4", due.due_date.clone()),
        ("thing5", wechat_notify::thing(note(due.kind))),
    ]
}

/// Offers one claimed notice by 订阅消息 (purpose `bill_issued` or
/// `bill_overdue`, reference `<bill id>:<kind>`, keywords as
/// [`notice_data`], page [`BILL_PAGE`]). A kind without a template answers
/// `NoAcceptance`. The caller sends the overdue SMS when the outcome needs a
/// fallback.
pub async fn remind_by_wechat<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    due: &WeChatDue,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let Some(purpose) = due.kind.wechat_purpose() else { return Ok(Outcome::NoAcceptance) };
    let data = notice_data(due);
    let reference = due.reference();
    let notice = Notice { citizen_id: &due.citizen_id, purpose, reference: &reference, data: &data, page: BILL_PAGE };
    wechat_notify::notify(db, app, ids, templates, &notice, now).await
}

/// The overdue SMS channel: provider, template code and log context.
pub struct SmsChannel<'a, S: SmsProvider> {
    pub provider: &'a S,
    pub template: &'a str,
    pub cx: &'a SendContext<'a>,
}

/// The channels configured besides the inbox (`None`: not configured).
pub struct Channels<'a, H: Http, K: Kv, S: SmsProvider> {
    pub wechat: Option<(&'a WeChatApp<'a, H, K>, &'a Templates)>,
    pub sms: Option<SmsChannel<'a, S>>,
}

/// What [`deliver`] did (counts only: it is logged).
#[derive(Debug, Default, PartialEq)]
pub struct Delivered {
    /// 订阅消息 WeChat took.
    pub wechat_sent: usize,
    /// 订阅消息 not offered for a storage error (they fell back).
    pub wechat_errors: usize,
    /// The last of those errors (code and internal detail, no personal data).
    pub wechat_error: Option<String>,
    /// Overdue SMS not sent because the 订阅消息 went.
    pub sms_replaced: usize,
    pub sms_sent: usize,
    pub sms_failed: usize,
}

fn describe(err: &ApiError) -> String {
    format!("{}: {}", err.code.as_str(), err.internal.as_deref().unwrap_or(""))
}

/// Delivers what sweep `run_id` claimed: 订阅消息 first (when configured),
/// then the overdue SMS it claimed, except to the citizens the 订阅消息
/// reached for that bill, whose SMS claims are removed. Storage errors of
/// the SMS part are errors (its claims stay, never sent twice).
pub async fn deliver<H: Http, K: Kv, S: SmsProvider>(
    db: &impl Db,
    ids: &impl IdSource,
    channels: &Channels<'_, H, K, S>,
    run_id: &str,
    swept: &Swept,
    now: BeijingTime,
) -> ApiResult<Delivered> {
    let mut out = Delivered::default();
    if swept.quiet {
        return Ok(out);
    }
    // (bill, citizen) whose overdue notice the 订阅消息 took care of.
    let mut reached: Vec<(String, String)> = Vec::new();
    if let Some((app, templates)) = channels.wechat.filter(|_| swept.posted > 0) {
        let dues = match wechat_dues(db, run_id, templates).await {
            Ok(dues) => dues,
            Err(err) => {
                out.wechat_errors += 1;
                out.wechat_error = Some(describe(&err));
                Vec::new()
            }
        };
        for due in &dues {
            match remind_by_wechat(db, app, ids, templates, due, now).await {
                Ok(outcome) => {
                    out.wechat_sent += usize::from(outcome == Outcome::Sent);
                    if !outcome.needs_fallback() && due.kind == NoticeKind::Overdue {
                        reached.push((due.bill_id.clone(), due.citizen_id.clone()));
                    }
                }
                Err(err) => {
                    out.wechat_errors += 1;
                    out.wechat_error = Some(describe(&err));
                }
            }
        }
    }
    let (replaced, to_send): (Vec<&SmsDue>, Vec<&SmsDue>) =
        swept.sms.iter().partition(|d| reached.iter().any(|(b, c)| *b == d.bill_id && *c == d.citizen_id));
    if !replaced.is_empty() {
        let release: Vec<Stmt> = replaced
            .iter()
            .map(|d| {
                Stmt::new(
                    "DELETE FROM bill_notices
                     WHERE bill_id = ?1 AND kind = 'overdue' AND citizen_id = ?2 AND channel = 'sms'
                       AND sweep = ?3 AND status = 'claimed'",
                    vec![d.bill_id.as_str().into(), d.citizen_id.as_str().into(), run_id.into()],
                )
            })
            .collect();
        // Failing, the claims stay `claimed`: never sent, which is right.
        if let Err(err) = db.batch(&release).await {
            out.wechat_errors += 1;
            out.wechat_error = Some(describe(&err));
        }
        out.sms_replaced = replaced.len();
    }
    if let Some(sms) = channels.sms.as_ref().filter(|_| !to_send.is_empty()) {
        let to_send: Vec<SmsDue> = to_send.into_iter().cloned().collect();
        (out.sms_sent, out.sms_failed) =
            reminders::send_sms(db, sms.provider, ids, sms.template, sms.cx, run_id, &to_send).await?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(kind: NoticeKind) -> WeChatDue {
        WeChatDue {
            bill_id: "B10012345202610".into(),
            kind,
            citizen_id: "a".into(),
            account_no: "10012345".into(),
            period: "2026-10".into(),
            amount_fen: 3840,
            due_date: "2026-11-30".into(),
        }
    }

    #[test]
    fn a_notice_shows_the_account_as_the_app_does_and_fits_wechats_limits() {
        let data = notice_data(&due(NoticeKind::Overdue));
        assert_eq!(data[0], ("thing1", "表卡尾号 2345".to_owned()));
        assert_eq!(data[1], ("character_string2", "2026-10".to_owned()));
        assert_eq!(data[2], ("amount3", "38.40元".to_owned()));
        assert_eq!(data[3], ("date4", "2026-11-30".to_owned()));
        assert!(data[4].1.contains("逾期"));
        for kind in NoticeKind::ALL {
            assert!(note(kind).chars().count() <= wechat_notify::MAX_THING_CHARS, "{kind:?}");
        }
        assert!(!data.iter().any(|(_, v)| v.contains("10012345")), "the full account never leaves");
    }

    #[test]
    fn the_reference_names_the_bill_and_the_kind() {
        assert_eq!(due(NoticeKind::Issued).reference(), "B10012345202610:issued");
        assert_eq!(due(NoticeKind::Overdue).reference(), "B10012345202610:overdue");
        assert_eq!(masked_account("12"), "表卡尾号 12");
    }
}
