//! WeChat subscription messages (订阅消息): a notice to a citizen who
//! accepted the template in the mini-program (`wx.requestSubscribeMessage`),
//! with SMS or the inbox as the fallback the caller chooses.
//!
//! - The access token comes from the stable-token API (`POST
//!   {base}/cgi-bin/stable_token`), is kept in KV under [`TOKEN_KEY`] with its
//!   expiry and shared by every worker, and is fetched again only when less
//!   than [`REFRESH_MARGIN_SECS`] remain, never per message. A send answered
//!   40001/42001 (token invalid or expired) forces one refresh and one retry.
//! - Each "accept" of a one-time template allows one message. [`notify`]
//!   takes one acceptance in the statement that decrements it
//!   (`remaining > 0` inside the write) together with the claim of the
//!   (purpose, ref, citizen) row, then sends, then records the answer: a
//!   notice is never sent twice, and a refused one (43101) is the caller's to
//!   send by SMS.

use crate::error::ApiResult;
use crate::outbound::{Http, HttpRequest};
use crate::runtime::IdSource;
use crate::store::{Db, Kv, Stmt};
use crate::types::BeijingTime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::cell::RefCell;

/// The KV key of the shared access token.
pub const TOKEN_KEY: &str = "wechat:access_token";
/// A token with less left than this is fetched again: WeChat keeps the old
/// one valid for a few minutes after a new one is issued, and a send started
/// with it must not fail in flight.
pub const REFRESH_MARGIN_SECS: i64 = 300;
/// Acceptances kept per citizen and template: enough for the notices of one
/// errand (a booking's confirmation and reminder, a case's steps); more would
/// let one burst of taps stand for months of messages the citizen forgot.
pub const MAX_KEPT_ACCEPTANCES: i64 = 10;
/// Templates one report may carry: `wx.requestSubscribeMessage` takes at most
/// 3 per call; 20 leaves room for a page that reports several calls at once.
pub const MAX_REPORTED_TEMPLATES: usize = 20;
/// WeChat's limit on a `thing` value (characters).
pub const MAX_THING_CHARS: usize = 20;

crate::text_enum! {
    /// What a subscription message is about: one template each.
    pub enum Purpose {
        BookingConfirmed => "booking_confirmed",
        BookingReminder => "booking_reminder",
        ComplaintProgress => "complaint_progress",
        ApplicationProgress => "application_progress",
        BillIssued => "bill_issued",
        BillOverdue => "bill_overdue",
        OutageNotice => "outage_notice",
    }
}

crate::text_enum! {
    /// What the citizen answered for one template in `wx.requestSubscribeMessage`.
    pub enum Choice {
        Accept => "accept",
        Reject => "reject",
        Ban => "ban",
        Filter => "filter",
    }
}

/// The configured templates (var `WECHAT_TEMPLATES`): purpose to template id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Templates(Vec<(Purpose, String)>);

/// Whether a text looks like a WeChat template id (letters, digits, `-`, `_`).
fn valid_template_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Templates {
    /// Parses `{"booking_reminder": "id", ...}` or `booking_reminder:id,...`;
    /// an empty value configures none (订阅消息 off).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let pairs: Vec<(String, String)> = if raw.starts_with('{') {
            let map: Map<String, Json> =
                serde_json::from_str(raw).map_err(|e| format!("WECHAT_TEMPLATES 不是有效的 JSON：{e}"))?;
            map.into_iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_owned()))
                        .ok_or(format!("WECHAT_TEMPLATES 中 {k} 的模板 ID 应为文本"))
                })
                .collect::<Result<_, _>>()?
        } else {
            raw.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.split_once(':')
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                        .ok_or(format!("WECHAT_TEMPLATES 的 {p} 应写成 用途:模板ID"))
                })
                .collect::<Result<_, _>>()?
        };
        let mut out: Vec<(Purpose, String)> = Vec::new();
        for (k, v) in pairs {
            let purpose = Purpose::parse(&k).ok_or(format!("WECHAT_TEMPLATES 中的用途 {k} 未知"))?;
            if !valid_template_id(&v) {
                return Err(format!("WECHAT_TEMPLATES 中 {k} 的模板 ID 格式不正确"));
            }
            if out.iter().any(|(p, id)| *p == purpose || *id == v) {
                return Err(format!("WECHAT_TEMPLATES 中 {k} 或其模板 ID 重复"));
            }
            out.push((purpose, v));
        }
        // In the purposes' order, however they were written.
        out.sort_by_key(|(p, _)| Purpose::ALL.iter().position(|q| q == p));
        Ok(Self(out))
    }

    /// The template id of a purpose, if configured.
    pub fn id_for(&self, purpose: Purpose) -> Option<&str> {
        self.0.iter().find(|(p, _)| *p == purpose).map(|(_, id)| id.as_str())
    }

    /// The purpose of a configured template id.
    pub fn purpose_of(&self, template_id: &str) -> Option<Purpose> {
        self.0.iter().find(|(_, id)| id == template_id).map(|(p, _)| *p)
    }

    /// Every configured (purpose, template id), in [`Purpose`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Purpose, &str)> {
        self.0.iter().map(|(p, id)| (*p, id.as_str()))
    }
}

/// A `thing` value cut to WeChat's 20 characters (longer ones are refused, 47003).
pub fn thing(text: &str) -> String {
    if text.chars().count() <= MAX_THING_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX_THING_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// The token as kept in KV.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct CachedToken {
    access_token: String,
    /// Unix seconds.
    expires_at: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<i64>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

#[derive(Deserialize)]
struct SendReply {
    errcode: Option<i64>,
    errmsg: Option<String>,
    msgid: Option<Json>,
}

/// What WeChat answered a send.
#[derive(Debug, Clone, PartialEq)]
pub enum SendAnswer {
    /// Delivered to WeChat (`msgid`).
    Sent { msgid: String },
    /// 43101: the citizen withdrew, or no acceptance is left on WeChat's side.
    Refused,
    /// Not sent. `errcode` is WeChat's when it answered one (the acceptance
    /// was then not used); `None` when the answer was lost (it may have been).
    Failed { errcode: Option<i64>, detail: String },
}

/// The mini-program's credentials, WeChat's address and the shared token.
pub struct WeChatApp<'a, H: Http, K: Kv> {
    http: &'a H,
    kv: &'a K,
    base_url: String,
    appid: String,
    secret: String,
    /// The token this run already holds (one KV read per run).
    held: RefCell<Option<CachedToken>>,
}

impl<'a, H: Http, K: Kv> WeChatApp<'a, H, K> {
    /// A client of `base_url` (`WECHAT_API_BASE`) for the mini-program `appid`.
    pub fn new(http: &'a H, kv: &'a K, base_url: &str, appid: &str, secret: &str) -> Self {
        Self {
            http,
            kv,
            base_url: base_url.trim_end_matches('/').to_owned(),
            appid: appid.to_owned(),
            secret: secret.to_owned(),
            held: RefCell::new(None),
        }
    }

    fn fresh(token: &CachedToken, now: i64) -> bool {
        token.expires_at - now > REFRESH_MARGIN_SECS
    }

    /// A valid access token: the one held, else KV's, else a new one from
    /// the stable-token API (`force` asks WeChat for a new one even if the
    /// current one has time left, after a send said it is invalid).
    pub async fn access_token(&self, now: BeijingTime, force: bool) -> Result<String, String> {
        let now = now.to_utc().timestamp();
        if !force {
            if let Some(t) = self.held.borrow().as_ref().filter(|t| Self::fresh(t, now)) {
                return Ok(t.access_token.clone());
            }
            // A KV failure is a miss: the token is fetched and used for this run.
            let stored = self.kv.get(TOKEN_KEY).await.ok().flatten();
            if let Some(t) =
                stored.and_then(|s| serde_json::from_str::<CachedToken>(&s).ok()).filter(|t| Self::fresh(t, now))
            {
                *self.held.borrow_mut() = Some(t.clone());
                return Ok(t.access_token);
            }
        }
        let body = json!({ "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force });
        let req = HttpRequest {
            method: "POST",
            url: format!("{}/cgi-bin/stable_token", self.base_url),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string()),
        };
        let resp = self.http.send(req).await.map_err(|e| format!("stable_token transport: {e}"))?;
        let answer: TokenAnswer =
            serde_json::from_str(&resp.body).map_err(|_| format!("stable_token HTTP {} not JSON", resp.status))?;
        let (Some(access_token), Some(expires_in)) = (answer.access_token, answer.expires_in) else {
            return Err(format!(
                "stable_token errcode {}: {}",
                answer.errcode.unwrap_or(-1),
                answer.errmsg.unwrap_or_default()
            ));
        };
        let token = CachedToken { access_token, expires_at: now + expires_in };
        if let Ok(text) = serde_json::to_string(&token) {
            // Workers KV keeps a value at least 60 s; a failed put only costs the next run a fetch.
            let _ = self.kv.put(TOKEN_KEY, &text, Some(u64::try_from(expires_in.max(60)).unwrap_or(60))).await;
        }
        *self.held.borrow_mut() = Some(token.clone());
        Ok(token.access_token)
    }

    async fn send_once(&self, token: &str, body: &str) -> Result<SendReply, String> {
        let req = HttpRequest {
            method: "POST",
            url: format!(
                "{}/cgi-bin/message/subscribe/send?access_token={}",
                self.base_url,
                crate::outbound::percent_encode(token)
            ),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_owned()),
        };
        let resp = self.http.send(req).await.map_err(|e| format!("subscribe/send transport: {e}"))?;
        serde_json::from_str(&resp.body).map_err(|_| format!("subscribe/send HTTP {} not JSON", resp.status))
    }

    /// Sends one subscription message (`body` is the JSON WeChat takes);
    /// a token WeChat calls invalid or expired is refreshed once and the send retried once.
    pub async fn send(&self, body: &Json, now: BeijingTime) -> SendAnswer {
        let body = body.to_string();
        let mut force = false;
        loop {
            let token = match self.access_token(now, force).await {
                Ok(t) => t,
                // Without a token nothing went out: the acceptance is unused.
                Err(detail) => return SendAnswer::Failed { errcode: Some(-1), detail },
            };
            let reply = match self.send_once(&token, &body).await {
                Ok(r) => r,
                Err(detail) => return SendAnswer::Failed { errcode: None, detail },
            };
            match reply.errcode.unwrap_or(0) {
                0 => {
                    let msgid = match reply.msgid {
                        Some(Json::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => String::new(),
                    };
                    return SendAnswer::Sent { msgid };
                }
                43101 => return SendAnswer::Refused,
                40001 | 42001 if !force => {
                    *self.held.borrow_mut() = None;
                    force = true;
                }
                code => {
                    return SendAnswer::Failed {
                        errcode: Some(code),
                        detail: format!("subscribe/send errcode {code}: {}", reply.errmsg.unwrap_or_default()),
                    };
                }
            }
        }
    }
}

/// One notice to offer by 订阅消息.
pub struct Notice<'a> {
    pub citizen_id: &'a str,
    pub purpose: Purpose,
    /// What it is about (a booking id, a case number): with the purpose and
    /// the citizen, the notice's identity.
    pub reference: &'a str,
    /// The template's keywords and values (`thing1`, `time2`, ...).
    pub data: &'a [(&'a str, String)],
    /// The mini-program page it opens.
    pub page: &'a str,
}

crate::text_enum! {
    /// What [`notify`] did.
    pub enum Outcome {
        /// WeChat took the message.
        Sent => "sent",
        /// No template configured, no openid or no acceptance left: not tried.
        NoAcceptance => "no_acceptance",
        /// WeChat refused (43101): the citizen's acceptances are set to 0.
        Refused => "refused",
        /// WeChat failed or could not be reached.
        Failed => "failed",
        /// This notice was claimed before (another run sent it or fell back).
        AlreadyClaimed => "already_claimed",
    }
}

impl Outcome {
    /// Whether the caller should reach the citizen another way (SMS when the
    /// notice needs it, else the inbox only).
    pub fn needs_fallback(self) -> bool {
        matches!(self, Self::NoAcceptance | Self::Refused | Self::Failed)
    }
}

/// Whether `citizen` holds an acceptance of `purpose`'s template now: one
/// indexed read a caller makes before assembling a notice most citizens
/// cannot take (no acceptance is the common case). Advisory only: the
/// claim in [`notify`] is what counts under concurrency.
pub async fn may_notify(db: &impl Db, templates: &Templates, citizen: &str, purpose: Purpose) -> ApiResult<bool> {
    let Some(template_id) = templates.id_for(purpose) else { return Ok(false) };
    let rows: Vec<crate::store::Row> = db
        .query(
            "SELECT 1 AS x FROM wechat_acceptances WHERE citizen_id = ?1 AND template_id = ?2 AND remaining > 0",
            &[citizen.into(), template_id.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Offers `notice` by 订阅消息: claims it with one acceptance in one batch
/// (the decrement checks `remaining > 0` inside the write), sends, and
/// records the answer. Storage errors are errors; WeChat's are outcomes.
pub async fn notify<H: Http, K: Kv>(
    db: &impl Db,
    app: &WeChatApp<'_, H, K>,
    ids: &impl IdSource,
    templates: &Templates,
    notice: &Notice<'_>,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let Some(template_id) = templates.id_for(notice.purpose) else { return Ok(Outcome::NoAcceptance) };
    let claim = ids.hex(8)?;
    let at = now.to_rfc3339();
    let key = || -> Vec<crate::store::Value> {
        vec![notice.citizen_id.into(), template_id.into(), notice.purpose.as_str().into(), notice.reference.into()]
    };
    let mut claim_params = key();
    claim_params.extend([claim.as_str().into(), at.as_str().into()]);
    let changed = db
        .batch(&[
            Stmt::new(
                "INSERT INTO wechat_sends (citizen_id, template_id, purpose, ref, claim, status, at)
                 SELECT ?1, ?2, ?3, ?4, ?5, 'claimed', ?6 FROM wechat_acceptances w JOIN citizens c ON c.id = w.citizen_id
                 WHERE w.citizen_id = ?1 AND w.template_id = ?2 AND w.remaining > 0
                   AND c.openid IS NOT NULL AND c.deleted_at IS NULL
                 ON CONFLICT (purpose, ref, citizen_id) DO NOTHING",
                claim_params.clone(),
            ),
            Stmt::new(
                "UPDATE wechat_acceptances SET remaining = remaining - 1, updated_at = ?6
                 WHERE citizen_id = ?1 AND template_id = ?2 AND remaining > 0
                   AND EXISTS (SELECT 1 FROM wechat_sends s
                               WHERE s.purpose = ?3 AND s.ref = ?4 AND s.citizen_id = ?1 AND s.claim = ?5
                                 AND s.status = 'claimed')",
                claim_params,
            ),
        ])
        .await?;
    if changed.get(1).copied().unwrap_or(0) != 1 {
        let before: Vec<crate::store::Row> = db
            .query(
                "SELECT 1 AS x FROM wechat_sends WHERE purpose = ?1 AND ref = ?2 AND citizen_id = ?3",
                &[notice.purpose.as_str().into(), notice.reference.into(), notice.citizen_id.into()],
            )
            .await?;
        return Ok(if before.is_empty() { Outcome::NoAcceptance } else { Outcome::AlreadyClaimed });
    }
    #[derive(Deserialize)]
    struct Who {
        openid: Option<String>,
    }
    let openid = db
        .first_as::<Who>("SELECT openid FROM citizens WHERE id = ?1", &[notice.citizen_id.into()])
        .await?
        .and_then(|w| w.openid)
        .unwrap_or_default();
    let data: Map<String, Json> = notice.data.iter().map(|(k, v)| ((*k).to_owned(), json!({ "value": v }))).collect();
    let body = json!({
        "touser": openid,
        "template_id": template_id,
        "page": notice.page,
        "data": data,
        "miniprogram_state": "formal",
        "lang": "zh_CN",
    });
    let answer = app.send(&body, now).await;
    let row = |status: &str, errcode: Option<i64>, msgid: Option<String>| {
        Stmt::new(
            "UPDATE wechat_sends SET status = ?5, errcode = ?6, msgid = ?7, at = ?8
             WHERE purpose = ?3 AND ref = ?4 AND citizen_id = ?1 AND template_id = ?2",
            {
                let mut p = key();
                p.extend([status.into(), errcode.into(), msgid.into(), at.as_str().into()]);
                p
            },
        )
    };
    let (stmts, outcome) = match answer {
        SendAnswer::Sent { msgid } => (vec![row("sent", None, Some(msgid))], Outcome::Sent),
        SendAnswer::Refused => (
            vec![
                row("refused", Some(43101), None),
                Stmt::new(
                    "UPDATE wechat_acceptances SET remaining = 0, updated_at = ?3 WHERE citizen_id = ?1 AND template_id = ?2",
                    vec![notice.citizen_id.into(), template_id.into(), at.as_str().into()],
                ),
            ],
            Outcome::Refused,
        ),
        SendAnswer::Failed { errcode: Some(code), .. } => (
            // WeChat answered: the acceptance was not used, so it is given back.
            vec![
                row("failed", Some(code), None),
                Stmt::new(
                    "UPDATE wechat_acceptances SET remaining = min(remaining + 1, ?4), updated_at = ?3
                     WHERE citizen_id = ?1 AND template_id = ?2",
                    vec![notice.citizen_id.into(), template_id.into(), at.as_str().into(), MAX_KEPT_ACCEPTANCES.into()],
                ),
            ],
            Outcome::Failed,
        ),
        // The answer was lost: the message may have gone out, so the acceptance stays spent.
        SendAnswer::Failed { errcode: None, .. } => (vec![row("failed", None, None)], Outcome::Failed),
    };
    db.batch(&stmts).await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_from_json_or_pairs_and_refuse_unknown_purposes() {
        let a = Templates::parse(r#"{"booking_reminder":"AbC-1_x","bill_issued":"T2"}"#).unwrap();
        let b = Templates::parse("booking_reminder:AbC-1_x, bill_issued:T2").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id_for(Purpose::BookingReminder), Some("AbC-1_x"));
        assert_eq!(a.purpose_of("T2"), Some(Purpose::BillIssued));
        assert_eq!(a.id_for(Purpose::OutageNotice), None);
        assert_eq!(Templates::parse("").unwrap(), Templates::default());
        assert!(Templates::parse("parking:T1").unwrap_err().contains("parking"));
        assert!(Templates::parse("booking_reminder").is_err());
        assert!(Templates::parse("booking_reminder:a b").is_err());
        assert!(Templates::parse("booking_reminder:T1,bill_issued:T1").is_err());
        assert!(Templates::parse(r#"{"booking_reminder":1}"#).is_err());
    }

    #[test]
    fn a_thing_is_cut_to_twenty_characters() {
        assert_eq!(thing("义乌市行政服务中心"), "义乌市行政服务中心");
        let long = thing(&"办".repeat(30));
        assert_eq!(long.chars().count(), 20);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn only_refusals_and_misses_need_a_fallback() {
        assert!(!Outcome::Sent.needs_fallback());
        assert!(!Outcome::AlreadyClaimed.needs_fallback());
        assert!(Outcome::Refused.needs_fallback());
        assert!(Outcome::NoAcceptance.needs_fallback());
        assert!(Outcome::Failed.needs_fallback());
    }
}
