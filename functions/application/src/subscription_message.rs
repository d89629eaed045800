//! 订阅消息 of an application's progress (purpose `application_progress`):
//! each step that posts an inbox message to the applicant is offered once
//! more by WeChat when the applicant accepted the template. The step and its
//! inbox message are the record and are written first; the 订阅消息 is an
//! extra channel, so when [`shared::wechat_notify::Outcome::needs_fallback`]
//! the inbox message already written is the notice (this worker sends no SMS).

use serde::Deserialize;
use shared::error::{ApiError, ApiResult};
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::store::{Db, Kv};
use shared::types::BeijingTime;
use shared::wechat_notify::{self, Notice, Outcome, Purpose, Templates, WeChatApp};

/// The mini-program page a notice opens (`?no=` the 办件编号).
pub const DETAIL_PAGE: &str = "pages/application/detail";

/// The actions a citizen's submission may write (`filing::submit`: first
/// submission, resubmission after a notice, 容缺 materials supplied).
pub const SUBMISSION_ACTIONS: &[&str] = &["submit", "resubmit", "supply"];
/// The action of a rating (only a low one posts a notice: `rating::opens_rectification`).
pub const RATING_ACTIONS: &[&str] = &["rate"];
/// The action of a closed rectification (`rating::close`).
pub const RECTIFIED_ACTIONS: &[&str] = &["rectified"];

/// What a 订阅消息 calls the state after a step (WeChat's `phrase`: at most
/// five Chinese characters), for the timeline actions whose step posts an
/// inbox message to the applicant; `None` for the others.
pub fn state_of(action: &str) -> Option<&'static str> {
    Some(match action {
        "submit" => "已提交",
        "resubmit" => "已补正",
        "supply" => "材料已补齐",
        "accept" => "已受理",
        "notify" => "待补正",
        "accept_pending" => "容缺受理",
        "reject" => "不予受理",
        "complete" => "已办结",
        "rate" => "转整改",
        "rectified" => "已整改",
        _ => return None,
    })
}

/// A timeline time (RFC 3339, Beijing) as WeChat's `time` (`YYYY-MM-DD HH:MM`).
pub fn wechat_time(at: &str) -> String {
    at.replace('T', " ").chars().take(16).collect()
}

#[derive(Deserialize)]
struct Told {
    citizen_id: String,
    item_name: String,
    seq: i64,
    action: String,
    at: String,
}

/// Offers the applicant of `number` its latest step among `actions` (the
/// step the caller just wrote) by 订阅消息, once: the reference is
/// `<办件编号>:<timeline seq>`, so a replay finds it claimed and sends nothing.
///
/// The `application_progress` template's keywords: `character_string1` 办件编号,
/// `thing2` 事项名称 (cut to 20 characters), `phrase3` 办理状态 ([`state_of`], at
/// most 5 characters), `time4` 更新时间 (`YYYY-MM-DD HH:MM`). No notes,
/// reasons, form fields or delivery details: only the applicant's own case
/// number, its item and status. The page is [`DETAIL_PAGE`]`?no=<办件编号>`.
pub async fn offer_step<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    number: &str,
    actions: &[&str],
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let wanted = serde_json::to_string(actions).map_err(|e| ApiError::internal(format!("actions: {e}")))?;
    let told: Told = db
        .first_as(
            "SELECT a.citizen_id AS citizen_id, a.item_name AS item_name, e.seq AS seq, e.action AS action, e.at AS at
             FROM applications a JOIN application_events e ON e.number = a.number
             WHERE a.number = ?1 AND e.action IN (SELECT value FROM json_each(?2))
             ORDER BY e.seq DESC LIMIT 1",
            &[number.into(), wanted.into()],
        )
        .await?
        .ok_or_else(|| ApiError::internal(format!("no step {actions:?} to tell")))?;
    let state =
        state_of(&told.action).ok_or_else(|| ApiError::internal(format!("step {} posts no notice", told.action)))?;
    let data = [
        ("character_string1", number.to_owned()),
        ("thing2", wechat_notify::thing(&told.item_name)),
        ("phrase3", state.to_owned()),
        ("time4", wechat_time(&told.at)),
    ];
    let reference = format!("{number}:{}", told.seq);
    let page = format!("{DETAIL_PAGE}?no={number}");
    let notice = Notice {
        citizen_id: &told.citizen_id,
        purpose: Purpose::ApplicationProgress,
        reference: &reference,
        data: &data,
        page: &page,
    };
    wechat_notify::notify(db, app, ids, templates, &notice, now).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_told_step_has_a_state_of_at_most_five_chinese_characters() {
        let told = ["submit", "resubmit", "supply", "accept", "notify", "accept_pending", "reject", "complete"];
        let mut seen = std::collections::HashSet::new();
        for action in told.iter().chain(RATING_ACTIONS).chain(RECTIFIED_ACTIONS) {
            let state = state_of(action).unwrap();
            assert!((1..=5).contains(&state.chars().count()), "{action}: {state}");
            assert!(state.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{action}: {state}");
            assert!(seen.insert(state), "{action} shares its state");
        }
        assert!(SUBMISSION_ACTIONS.iter().all(|a| state_of(a).is_some()));
        // Saving a draft or attaching a result file tells the applicant nothing.
        assert_eq!((state_of("draft"), state_of("result")), (None, None));
    }

    #[test]
    fn a_timeline_time_reads_as_wechat_time() {
        assert_eq!(wechat_time("2026-09-30T10:00:00+08:00"), "2026-09-30 10:00");
    }
}
