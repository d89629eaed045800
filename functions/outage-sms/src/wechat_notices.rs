//! 订阅消息 of an outage (purpose `outage_notice`): every version that posts
//! the inbox notice to the citizens bound to an affected account is also
//! offered by WeChat to those of them who accepted the template, a page of
//! [`WECHAT_PAGE`] citizens per queue message (by citizen id, so no isolate
//! holds the list). Each notice is keyed `<outage>:<version>`: a page run
//! twice sends nothing twice. The SMS and the inbox go out regardless; a
//! refusal or a missing acceptance needs no fallback.
//!
//! Template keywords: `thing1` the areas (as published, cut to 20
//! characters), `time2` the start and `time3` the end (`YYYY-MM-DD HH:MM`),
//! `thing4` what this message says (the reason, or that it was corrected,
//! cancelled or is about to start), `thing5` the issuer (发布单位). The page
//! is the public notice.

use crate::rules::MessageKind;
use serde::Deserialize;
use shared::error::{ApiError, ApiResult};
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::store::{Db, Kv};
use shared::types::BeijingTime;
use shared::wechat_notify::{self, Notice, Outcome, Purpose, Templates, WeChatApp};

/// Citizens one queue message offers: each is one WeChat call, and a
/// consumer's run stays well inside its time.
pub const WECHAT_PAGE: i64 = 50;

/// The mini-program page of a public notice.
pub const NOTICE_PAGE: &str = "pages/outage/detail";

/// The version's notice as a 订阅消息 shows it.
#[derive(Debug, Clone, Deserialize)]
struct Shown {
    kind: String,
    areas: String,
    start_at: String,
    end_at: String,
    reason: String,
    issuer: String,
}

/// `YYYY-MM-DD HH:MM` of an RFC 3339 time.
fn minute(t: &str) -> String {
    t.replace('T', " ").chars().take(16).collect()
}

/// The template's values for one version.
fn data(s: &Shown, kind: MessageKind) -> Vec<(&'static str, String)> {
    let areas: Vec<String> = serde_json::from_str(&s.areas).unwrap_or_else(|_| vec![s.areas.clone()]);
    let what = match kind {
        MessageKind::Notice => s.reason.clone(),
        MessageKind::Correction => format!("通知有更正：{}", s.reason),
        MessageKind::Cancellation => "原定停水停气已取消".to_owned(),
        MessageKind::Reminder => format!("即将开始：{}", s.reason),
    };
    vec![
        ("thing1", wechat_notify::thing(&areas.join("、"))),
        ("time2", minute(&s.start_at)),
        ("time3", minute(&s.end_at)),
        ("thing4", wechat_notify::thing(&what)),
        ("thing5", wechat_notify::thing(&s.issuer)),
    ]
}

/// The bound citizens of the affected areas after `after` (by id) who have
/// an acceptance of `template_id` left, at most `limit`.
async fn next_citizens(
    db: &impl Db,
    outage_id: &str,
    template_id: &str,
    after: &str,
    limit: i64,
) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct C {
        citizen_id: String,
    }
    let rows: Vec<C> = db
        .query_as(
            &format!(
                "WITH hit AS (
                   SELECT a.code FROM outage_areas oa
                     JOIN supply_areas x ON x.code = oa.code
                     JOIN supply_areas a ON a.path >= x.path AND a.path < x.path || '~'
                    WHERE oa.outage_id = ?1)
                 SELECT DISTINCT held.citizen_id FROM supply_accounts acc
                   JOIN citizen_water_accounts held ON held.account_no = acc.account_no
                   JOIN citizens c ON c.id = held.citizen_id AND c.deleted_at IS NULL AND c.openid IS NOT NULL
                   JOIN wechat_acceptances w ON w.citizen_id = held.citizen_id AND w.template_id = ?2 AND w.remaining > 0
                  WHERE acc.utility = 'water' AND (SELECT utility FROM outages WHERE id = ?1) = 'water'
                    AND acc.area_code IN (SELECT code FROM hit) AND held.citizen_id > ?3
                  ORDER BY held.citizen_id LIMIT {limit}"
            ),
            &[outage_id.into(), template_id.into(), after.into()],
        )
        .await?;
    Ok(rows.into_iter().map(|c| c.citizen_id).collect())
}

/// What one page did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Page {
    pub offered: usize,
    pub sent: usize,
    /// The last citizen of a full page: the next page starts after it.
    pub next: Option<String>,
}

/// Offers one page of a version's 订阅消息 (citizens after `after`). A
/// superseded version offers nothing.
pub async fn offer_page<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    (outage_id, version): (&str, i64),
    after: &str,
    now: BeijingTime,
) -> ApiResult<Page> {
    let Some(template_id) = templates.id_for(Purpose::OutageNotice) else { return Ok(Page::default()) };
    let shown: Option<Shown> = db
        .first_as(
            "SELECT v.kind, o.areas, o.start_at, o.end_at, o.reason, o.issuer FROM outage_versions v
               JOIN outages o ON o.id = v.outage_id
              WHERE v.outage_id = ?1 AND v.version = ?2 AND v.state = 'fanned_out'",
            &[outage_id.into(), version.into()],
        )
        .await?;
    let Some(shown) = shown else { return Ok(Page::default()) };
    let kind = MessageKind::parse(&shown.kind).ok_or_else(|| ApiError::internal("unknown version kind"))?;
    let values = data(&shown, kind);
    let page = format!("{NOTICE_PAGE}?id={outage_id}");
    let reference = format!("{outage_id}:{version}");
    let citizens = next_citizens(db, outage_id, template_id, after, WECHAT_PAGE).await?;
    let mut out = Page { offered: citizens.len(), ..Page::default() };
    for citizen in &citizens {
        let notice = Notice {
            citizen_id: citizen,
            purpose: Purpose::OutageNotice,
            reference: &reference,
            data: &values,
            page: &page,
        };
        if wechat_notify::notify(db, app, ids, templates, &notice, now).await? == Outcome::Sent {
            out.sent += 1;
        }
    }
    out.next = (citizens.len() as i64 >= WECHAT_PAGE).then(|| citizens.last().cloned()).flatten();
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_kind_says_what_it_is_within_twenty_characters() {
        let s = Shown {
            kind: "notice".into(),
            areas: r#"["宾王小区","稠州北路沿线","江东街道全部区域以及周边"]"#.into(),
            start_at: "2026-11-23T11:00:00+08:00".into(),
            end_at: "2026-11-23T18:00:00+08:00".into(),
            reason: "主管爆裂抢修".into(),
            issuer: "义乌市供水有限公司".into(),
        };
        let d = data(&s, MessageKind::Cancellation);
        assert_eq!(d[1], ("time2", "2026-11-23 11:00".to_owned()));
        assert_eq!(d[3].1, "原定停水停气已取消");
        assert!(d.iter().all(|(_, v)| v.chars().count() <= 20), "{d:?}");
        assert!(d[0].1.ends_with('…'));
        assert_eq!(data(&s, MessageKind::Correction)[3].1, "通知有更正：主管爆裂抢修");
    }
}
