//! 订阅消息 of a case's progress (purpose `complaint_progress`): each
//! handling step (转交、答复、转办、延期、办结) is written with its inbox
//! message, then offered to the complainant by one 订阅消息 if they accepted
//! the template. The inbox message is the record and, when the outcome
//! [needs a fallback](Outcome::needs_fallback), the only channel: no SMS
//! goes for a step.
//!
//! - 受理 is not offered: the 受理编号 and the receipt are on the citizen's
//!   screen as they submit, and a one-time acceptance is kept for news they
//!   are not looking at.
//! - A case filed without an account of the citizen's own (by phone and SMS
//!   code, or through Open311) belongs to an account with no WeChat openid:
//!   nothing is claimed or sent. Anonymity towards the unit concerned
//!   (`anonymous`) does not stop it: the message goes only to the
//!   complainant and names no one.
//! - The message carries the case number, the status and a fixed step text
//!   ([`Step::summary`](crate::step::Step::summary)), never the handler's
//!   words, the department or the content.

use crate::status::Status;
use serde::Deserialize;
use shared::error::ApiResult;
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::store::{Db, Kv};
use shared::types::BeijingTime;
use shared::wechat_notify::{self, Notice, Outcome, Purpose, Templates, WeChatApp};

/// The mini-program page of a case (`?no=<受理编号>`).
pub const DETAIL_PAGE: &str = "pages/complaint/detail";

/// A step just written, as its 订阅消息 tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The 受理编号.
    pub number: String,
    /// The complainant.
    pub citizen_id: String,
    /// The status the step left the case in.
    pub status: Status,
    /// The step in a few words naming no one.
    pub summary: &'static str,
    /// When it was taken: the time of its timeline entry.
    pub at: BeijingTime,
    /// Its timeline note: with the time and the status, how its entry is
    /// found (never sent).
    pub note: String,
}

impl Progress {
    /// The template's keywords and values.
    pub fn data(&self) -> [(&'static str, String); 4] {
        [
            ("character_string1", self.number.clone()),
            ("phrase2", self.status.word().to_owned()),
            ("thing3", wechat_notify::thing(self.summary)),
            ("time4", self.at.format("%Y-%m-%d %H:%M")),
        ]
    }

    /// The page the message opens.
    pub fn page(&self) -> String {
        format!("{DETAIL_PAGE}?no={}", self.number)
    }
}

/// The step's place in its case's timeline (受理 is 1), or `None` if its
/// entry is not there. Stable: entries are only ever added.
async fn seq(db: &impl Db, p: &Progress) -> ApiResult<Option<i64>> {
    #[derive(Deserialize)]
    struct Seq {
        seq: i64,
    }
    let found: Option<Seq> = db
        .first_as(
            "SELECT count(*) AS seq FROM complaint_events WHERE number = ?1 AND id <= (
               SELECT max(id) FROM complaint_events WHERE number = ?1 AND at = ?2 AND status = ?3 AND note = ?4)",
            &[p.number.as_str().into(), p.at.to_rfc3339().into(), p.status.as_str().into(), p.note.as_str().into()],
        )
        .await?;
    Ok(found.map(|s| s.seq).filter(|n| *n > 0))
}

/// Offers a written step to its complainant by 订阅消息, once: the
/// reference is `<受理编号>:<step's place in the timeline>`, so a second run
/// for the same step is [`Outcome::AlreadyClaimed`] and sends nothing. The
/// template's keywords: `character_string1` 受理编号, `phrase2` 办理状态
/// ([`Status::word`], at most 5 characters), `thing3` 办理进度 (the step's
/// summary), `time4` 更新时间 (`YYYY-MM-DD HH:MM`); the page is
/// [`DETAIL_PAGE`]`?no=<受理编号>`. A step whose entry is not found is not
/// tried ([`Outcome::NoAcceptance`]).
pub async fn offer<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    p: &Progress,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let Some(seq) = seq(db, p).await? else { return Ok(Outcome::NoAcceptance) };
    let reference = format!("{}:{seq}", p.number);
    let (data, page) = (p.data(), p.page());
    let notice = Notice {
        citizen_id: &p.citizen_id,
        purpose: Purpose::ComplaintProgress,
        reference: &reference,
        data: &data,
        page: &page,
    };
    wechat_notify::notify(db, app, ids, templates, &notice, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_carries_the_number_the_status_word_the_summary_and_the_time_only() {
        let p = Progress {
            number: "TS20260925ABCDEFGHJK5".into(),
            citizen_id: "a".into(),
            status: Status::Replied,
            summary: "已答复，请在小程序查看答复",
            at: shared::testing::at("2026-09-25T10:00:00+08:00"),
            note: "答复：张三已整改，电话139****5678".into(),
        };
        let data = p.data();
        let values: Vec<&str> = data.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["TS20260925ABCDEFGHJK5", "已答复", "已答复，请在小程序查看答复", "2026-09-25 10:00"]);
        assert_eq!(p.page(), "pages/complaint/detail?no=TS20260925ABCDEFGHJK5");
    }
}
