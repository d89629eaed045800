//! 情形引导 as an answer (issue 17): the answers so far over an item's
//! published tree give the next question, or the resolved item with exactly
//! the materials that situation needs and why. Pure: the guide comes from
//! the cache the guide worker keeps (`guide.rs`).

use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult};

/// Most answers a walk takes (the import refuses cycles; this bounds a lie).
pub const MAX_ANSWERS: usize = 20;

/// A material as the rendered guide lists it (the fields used here).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct GuideMaterial {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// One option of a question.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct GuideOption {
    pub label: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub item_code: Option<String>,
    #[serde(default)]
    pub materials: Vec<String>,
}

/// One question.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct GuideQuestion {
    pub id: String,
    pub text: String,
    pub options: Vec<GuideOption>,
}

/// What the resolver reads of a published guide.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub online: bool,
    pub promised_days: i64,
    pub materials: Vec<GuideMaterial>,
    pub questions: Vec<GuideQuestion>,
}

/// A material the resolved situation needs, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Needed {
    pub name: String,
    pub required: bool,
    pub why: String,
}

/// The next question, with the answers so far.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub options: Vec<String>,
}

/// Where the answers lead.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// Another question to answer.
    Question { question: Question, answered: Vec<String> },
    /// This item, with exactly these materials.
    Resolved {
        item_code: String,
        item_name: String,
        online: bool,
        situation: String,
        materials: Vec<Needed>,
        answered: Vec<String>,
    },
    /// The situation is another item's: resolve that one next.
    Elsewhere { item_code: String, answered: Vec<String> },
}

fn why(m: &GuideMaterial, path: &str) -> String {
    let base =
        if path.is_empty() { "本事项要求提交".to_owned() } else { format!("您的情形（{path}）需要") };
    match m.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("{base}；{note}"),
        None => base,
    }
}

fn resolved(t: &Tree, names: &[String], answered: Vec<String>) -> Resolution {
    let path = answered.join("，");
    let chosen: Vec<&GuideMaterial> = if names.is_empty() {
        t.materials.iter().filter(|m| m.required).collect()
    } else {
        t.materials.iter().filter(|m| names.contains(&m.name)).collect()
    };
    Resolution::Resolved {
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        online: t.online,
        situation: if path.is_empty() { t.item_name.clone() } else { path.clone() },
        materials: chosen
            .into_iter()
            .map(|m| Needed { name: m.name.clone(), required: true, why: why(m, &path) })
            .collect(),
        answered,
    }
}

/// Walks `answers` (option labels, in order) from the tree's first question.
pub fn resolve(t: &Tree, answers: &[String]) -> ApiResult<Resolution> {
    if answers.len() > MAX_ANSWERS {
        return Err(crate::decide::bad("answers", format!("回答不能超过{MAX_ANSWERS}个")));
    }
    let Some(mut q) = t.questions.first() else {
        if !answers.is_empty() {
            return Err(crate::decide::bad("answers", "该事项没有情形引导，不需要回答问题"));
        }
        return Ok(resolved(t, &[], vec![]));
    };
    let mut answered = Vec::new();
    let mut rest = answers.iter();
    loop {
        let Some(a) = rest.next() else {
            let question = Question {
                id: q.id.clone(),
                text: q.text.clone(),
                options: q.options.iter().map(|o| o.label.clone()).collect(),
            };
            return Ok(Resolution::Question { question, answered });
        };
        let Some(o) = q.options.iter().find(|o| o.label == *a) else {
            return Err(crate::decide::bad(
                &format!("answers[{}]", answered.len()),
                format!("「{}」没有这个选项，请重新选择", q.text),
            ));
        };
        answered.push(o.label.clone());
        match (&o.next, &o.item_code) {
            (Some(n), _) => match t.questions.iter().find(|x| x.id == *n) {
                Some(next) => q = next,
                None => {
                    return Err(ApiError::internal(format!("situation tree of {} names no question {n}", t.item_code)));
                }
            },
            (None, Some(code)) => {
                if rest.next().is_some() {
                    return Err(crate::decide::bad("answers", "回答多于问题：该情形已经确定"));
                }
                if code.trim().eq_ignore_ascii_case(&t.item_code) {
                    return Ok(resolved(t, &o.materials, answered));
                }
                return Ok(Resolution::Elsewhere { item_code: code.trim().to_ascii_uppercase(), answered });
            }
            (None, None) => {
                return Err(ApiError::internal(format!("situation option of {} leads nowhere", t.item_code)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn opt(label: &str, next: Option<&str>, item: Option<&str>, mats: &[&str]) -> GuideOption {
        GuideOption {
            label: label.into(),
            next: next.map(Into::into),
            item_code: item.map(Into::into),
            materials: mats.iter().map(|m| (*m).into()).collect(),
        }
    }

    fn transfer() -> Tree {
        let m = |name: &str, required: bool, note: Option<&str>| GuideMaterial {
            name: name.into(),
            required,
            note: note.map(Into::into),
        };
        Tree {
            item_code: "OWN".into(),
            item_name: "水表过户".into(),
            department: "供水公司".into(),
            online: true,
            promised_days: 3,
            materials: vec![
                m("居民身份证", true, Some("新户主本人身份证原件")),
                m("不动产权证书", true, None),
                m("继承公证书", false, Some("证明继承关系")),
                m("授权委托书", false, None),
            ],
            questions: vec![
                GuideQuestion {
                    id: "why".into(),
                    text: "因何过户？".into(),
                    options: vec![
                        opt("买卖", Some("who"), None, &[]),
                        opt("继承", None, Some("OWN"), &["居民身份证", "不动产权证书", "继承公证书"]),
                        opt("销户", None, Some("OTHER"), &[]),
                    ],
                },
                GuideQuestion {
                    id: "who".into(),
                    text: "谁来办？".into(),
                    options: vec![
                        opt("本人", None, Some("OWN"), &["居民身份证", "不动产权证书"]),
                        opt("代办", None, Some("own"), &["居民身份证", "不动产权证书", "授权委托书"]),
                    ],
                },
            ],
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).into()).collect()
    }

    #[test]
    fn no_answers_give_the_first_question_and_each_answer_the_next() {
        let Resolution::Question { question, answered } = resolve(&transfer(), &[]).unwrap() else { panic!() };
        assert_eq!((question.id.as_str(), question.options.len(), answered.len()), ("why", 3, 0));
        let Resolution::Question { question, .. } = resolve(&transfer(), &s(&["买卖"])).unwrap() else { panic!() };
        assert_eq!(question.text, "谁来办？");
    }

    #[test]
    fn a_situation_resolves_to_exactly_its_materials_each_with_why() {
        let Resolution::Resolved { materials, situation, .. } = resolve(&transfer(), &s(&["买卖", "代办"])).unwrap()
        else {
            panic!()
        };
        let names: Vec<&str> = materials.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["居民身份证", "不动产权证书", "授权委托书"]);
        assert_eq!(situation, "买卖，代办");
        assert_eq!(materials[0].why, "您的情形（买卖，代办）需要；新户主本人身份证原件");
        let Resolution::Resolved { materials, .. } = resolve(&transfer(), &s(&["继承"])).unwrap() else { panic!() };
        assert!(materials.iter().any(|m| m.name == "继承公证书" && m.why.ends_with("证明继承关系")));
        assert!(!materials.iter().any(|m| m.name == "授权委托书"));
    }

    #[test]
    fn another_items_situation_points_there_and_wrong_or_extra_answers_are_refused() {
        assert_eq!(
            resolve(&transfer(), &s(&["销户"])).unwrap(),
            Resolution::Elsewhere { item_code: "OTHER".into(), answered: s(&["销户"]) }
        );
        assert!(resolve(&transfer(), &s(&["赠与"])).is_err());
        assert!(resolve(&transfer(), &s(&["继承", "本人"])).is_err());
        assert!(resolve(&transfer(), &vec!["买卖".to_owned(); 30]).is_err());
    }

    #[test]
    fn an_item_without_situations_needs_its_required_materials() {
        let mut t = transfer();
        t.questions.clear();
        let Resolution::Resolved { materials, .. } = resolve(&t, &[]).unwrap() else { panic!() };
        assert_eq!(materials.len(), 2);
        assert!(resolve(&t, &s(&["买卖"])).is_err());
    }
}
