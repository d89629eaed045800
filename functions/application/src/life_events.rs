//! Life-event entry trees (`life_events.json`): 我要用水, 新房入住 … A walk
//! over the answers ends at one item (apply for it) or several (one
//! 一件事一次办 application filing each). Items are named by 基本编码, so the
//! trees hold in any city's catalogue; `items_stmt` turns them into codes.

use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode};

/// The trees, compiled in.
pub const DATA: &str = include_str!("life_events.json");

/// An option: the next question, or the items it ends at.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventOption {
    pub label: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub items: Vec<String>,
}

/// A question.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventQuestion {
    pub id: String,
    pub text: String,
    pub options: Vec<EventOption>,
}

/// A life event.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub description: String,
    pub questions: Vec<EventQuestion>,
}

#[derive(Deserialize)]
struct File {
    events: Vec<Event>,
}

/// Every event (the file is checked by the tests; a broken one is a 500).
pub fn all() -> ApiResult<Vec<Event>> {
    serde_json::from_str::<File>(DATA)
        .map(|f| f.events)
        .map_err(|e| ApiError::internal(format!("life_events.json: {e}")))
}

/// Where the answers lead.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Walk {
    Question {
        question: crate::situation::Question,
        answered: Vec<String>,
    },
    /// The 基本编码 of the items to apply for (two or more: one bundle).
    Items {
        basic_codes: Vec<String>,
        answered: Vec<String>,
    },
}

/// Walks `answers` through event `id`.
pub fn walk(id: &str, answers: &[String]) -> ApiResult<Walk> {
    let events = all()?;
    let event = events
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "没有这个办事场景"))?;
    let mut q = event.questions.first().ok_or_else(|| ApiError::internal("an event without questions"))?;
    let mut answered = Vec::new();
    let mut rest = answers.iter();
    loop {
        let Some(a) = rest.next() else {
            let question = crate::situation::Question {
                id: q.id.clone(),
                text: q.text.clone(),
                options: q.options.iter().map(|o| o.label.clone()).collect(),
            };
            return Ok(Walk::Question { question, answered });
        };
        let o = q.options.iter().find(|o| o.label == *a).ok_or_else(|| {
            crate::decide::bad(
                &format!("answers[{}]", answered.len()),
                format!("「{}」没有这个选项，请重新选择", q.text),
            )
        })?;
        answered.push(o.label.clone());
        if let Some(n) = &o.next {
            q = event.questions.iter().find(|x| x.id == *n).ok_or_else(|| ApiError::internal("dangling next"))?;
            continue;
        }
        if rest.next().is_some() {
            return Err(crate::decide::bad("answers", "回答多于问题：该情形已经确定"));
        }
        return Ok(Walk::Items { basic_codes: o.items.clone(), answered });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_tree_is_whole_each_option_leads_to_one_place_and_nothing_loops() {
        for e in all().unwrap() {
            let ids: HashSet<&str> = e.questions.iter().map(|q| q.id.as_str()).collect();
            assert_eq!(ids.len(), e.questions.len(), "{}", e.id);
            for q in &e.questions {
                assert!(q.options.len() >= 2, "{} {}", e.id, q.id);
                for o in &q.options {
                    match (&o.next, o.items.is_empty()) {
                        (Some(n), true) => assert!(ids.contains(n.as_str()) && n != &e.questions[0].id, "{}", o.label),
                        (None, false) => {
                            assert!(o.items.iter().all(|c| c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit())))
                        }
                        _ => panic!("{}: 「{}」 must lead to a question or to items", e.id, o.label),
                    }
                }
            }
        }
    }

    #[test]
    fn new_home_can_bundle_connection_transfer_and_gas() {
        let w = walk("new-home", &["已有水表要过户，另需新装一只（如车库、店面）".into()]).unwrap();
        let Walk::Items { basic_codes, .. } = w else { panic!() };
        assert_eq!(basic_codes, ["000172009002", "000172009003", "003001420000"]);
        let Walk::Question { question, .. } = walk("water", &["暂时不用水或恢复用水".into()]).unwrap() else {
            panic!()
        };
        assert_eq!(question.id, "q2");
        assert_eq!(walk("nope", &[]).unwrap_err().code, ErrorCode::NotFound);
        assert!(walk("water", &["随便".into()]).is_err());
    }
}
