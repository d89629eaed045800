//! 订阅消息 acceptances: what the mini-program reports after
//! `wx.requestSubscribeMessage`, counted per template (one message per
//! "accept", at most [`MAX_KEPT_ACCEPTANCES`] kept, "ban" clears them).
//! Spending them is `shared::wechat_notify`'s.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use shared::error::FieldError;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;
use shared::wechat_notify::{Choice, MAX_KEPT_ACCEPTANCES, MAX_REPORTED_TEMPLATES, Purpose, Templates};
use shared::{ApiError, ApiResult};

/// The key `wx.requestSubscribeMessage` adds to its result besides the
/// templates (`"requestSubscribeMessage:ok"`): accepted and ignored, so the
/// mini-program can post the result object as it is.
const ERR_MSG_KEY: &str = "errMsg";

/// One template and the messages it still allows.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Remaining {
    pub template_id: String,
    pub purpose: Purpose,
    pub remaining: i64,
}

/// Every configured template with the citizen's count.
#[derive(Debug, Serialize, PartialEq)]
pub struct Subscriptions {
    pub subscriptions: Vec<Remaining>,
}

/// Checks a reported result object: configured template ids only, each with
/// one of WeChat's four answers, at most [`MAX_REPORTED_TEMPLATES`].
pub fn parse_report(body: &Map<String, Json>, templates: &Templates) -> ApiResult<Vec<(String, Choice)>> {
    let entries: Vec<(&String, &Json)> = body.iter().filter(|(k, _)| k.as_str() != ERR_MSG_KEY).collect();
    if entries.is_empty() {
        return Err(ApiError::bad_field(
            "body",
            "请提交 wx.requestSubscribeMessage 的结果（模板 ID 与 accept、reject、ban 或 filter）",
        ));
    }
    if entries.len() > MAX_REPORTED_TEMPLATES {
        return Err(ApiError::bad_field("body", format!("一次最多提交 {MAX_REPORTED_TEMPLATES} 个模板的结果")));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (id, value) in entries {
        let choice = value.as_str().and_then(Choice::parse);
        match (templates.purpose_of(id), choice) {
            (None, _) => errors.push(FieldError::new(id, "不是本小程序的订阅消息模板")),
            (_, None) => errors.push(FieldError::new(id, "结果应为 accept、reject、ban 或 filter")),
            (Some(_), Some(c)) => out.push((id.clone(), c)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::validation(errors)) }
}

/// Counts a checked report in one batch and answers the counts.
pub async fn record(
    db: &impl Db,
    citizen_id: &str,
    report: &[(String, Choice)],
    templates: &Templates,
    now: BeijingTime,
) -> ApiResult<Subscriptions> {
    let at = now.to_rfc3339();
    let stmts: Vec<Stmt> = report
        .iter()
        .filter_map(|(id, choice)| {
            let key = vec![citizen_id.into(), id.as_str().into(), at.as_str().into()];
            match choice {
                Choice::Accept => Some(Stmt::new(
                    "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, ?2, 1, ?3)
                     ON CONFLICT (citizen_id, template_id)
                     DO UPDATE SET remaining = min(remaining + 1, ?4), updated_at = excluded.updated_at",
                    [key, vec![MAX_KEPT_ACCEPTANCES.into()]].concat(),
                )),
                Choice::Ban => Some(Stmt::new(
                    "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, ?2, 0, ?3)
                     ON CONFLICT (citizen_id, template_id) DO UPDATE SET remaining = 0, updated_at = excluded.updated_at",
                    key,
                )),
                // A refusal this time (or WeChat's filter) leaves earlier acceptances as they are.
                Choice::Reject | Choice::Filter => None,
            }
        })
        .collect();
    if !stmts.is_empty() {
        db.batch(&stmts).await?;
    }
    list(db, citizen_id, templates).await
}

/// Every configured template with what it still allows (0 when never accepted).
pub async fn list(db: &impl Db, citizen_id: &str, templates: &Templates) -> ApiResult<Subscriptions> {
    #[derive(Deserialize)]
    struct Row {
        template_id: String,
        remaining: i64,
    }
    let rows: Vec<Row> = db
        .query_as("SELECT template_id, remaining FROM wechat_acceptances WHERE citizen_id = ?1", &[citizen_id.into()])
        .await?;
    let subscriptions = templates
        .iter()
        .map(|(purpose, id)| Remaining {
            template_id: id.to_owned(),
            purpose,
            remaining: rows.iter().find(|r| r.template_id == id).map_or(0, |r| r.remaining),
        })
        .collect();
    Ok(Subscriptions { subscriptions })
}
