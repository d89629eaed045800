//! 常见问题: a handler turns an answered consultation into a public FAQ
//! entry, writing the question and answer anew for the public (the asker's
//! text may carry personal data, so it is never copied); anyone searches them.

use crate::kind::Kind;
use crate::status::Status;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::pii::redact_text;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};

/// `POST /v1/admin/complaints/{number}/faq`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    pub question: String,
    pub answer: String,
}

/// A public entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Faq {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub category: String,
    pub created_at: String,
}

/// The problems with a new entry's texts.
fn check(b: &FaqInput) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !(5..=100).contains(&b.question.trim().chars().count()) {
        errs.push(FieldError::new("question", "问题应为5-100个字"));
    }
    if !(5..=2000).contains(&b.answer.trim().chars().count()) {
        errs.push(FieldError::new("answer", "答案应为5-2000个字"));
    }
    errs
}

/// Whether a case may become an entry: a consultation that was answered
/// (replied or closed).
pub fn answered_consultation(kind: Kind, status: Status) -> bool {
    kind == Kind::Consultation && matches!(status, Status::Replied | Status::Closed)
}

/// Publishes an answered consultation (replied or closed) as an FAQ entry, once.
pub async fn publish(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, number: &str, b: &FaqInput) -> ApiResult<Faq> {
    let scope = crate::scope::of(db, act.who, crate::scope::Need::Work).await?;
    let number = crate::number::parse(number).ok_or(ErrorCode::NotFound)?;
    let errs = check(b);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    #[derive(Deserialize)]
    struct C {
        kind: Kind,
        status: Status,
        category: String,
        department: Option<String>,
    }
    let c: C = db
        .first_as(
            "SELECT kind, status, category, department FROM complaints WHERE number = ?1",
            &[number.as_str().into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    scope.check(c.department.as_deref())?;
    if !answered_consultation(c.kind, c.status) {
        return Err(ApiError::with_message(ErrorCode::Conflict, "只有已答复的咨询可以转为常见问题"));
    }
    let f = Faq {
        id: format!("FAQ{}", ids.hex(6)?.to_uppercase()),
        question: redact_text(b.question.trim()),
        answer: redact_text(b.answer.trim()),
        category: c.category,
        created_at: act.now.to_rfc3339(),
    };
    db.batch(&[
        Stmt::new(
            "INSERT INTO faq (id, question, answer, category, source_number, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                f.id.as_str().into(),
                f.question.as_str().into(),
                f.answer.as_str().into(),
                f.category.as_str().into(),
                number.as_str().into(),
                act.who.token_id.as_str().into(),
                f.created_at.as_str().into(),
            ],
        ),
        audit_stmt(act.who, "complaint.faq", &number, act.request_id, act.now, &serde_json::json!({ "faq": f.id })),
    ])
    .await
    .map_err(|e| {
        if e.code == ErrorCode::Conflict {
            ApiError::with_message(ErrorCode::Conflict, "该咨询已转为常见问题")
        } else {
            e
        }
    })?;
    Ok(f)
}

/// The longest search text, in characters: a whole question typed or
/// pasted in (the longest entry question is 100 characters).
pub const MAX_QUERY_CHARS: usize = 100;

/// Words of a search that count (more narrow nothing useful).
pub const MAX_QUERY_WORDS: usize = 5;

/// The words of a search text: split on spaces, control characters
/// dropped, ASCII lowercased, at most [`MAX_QUERY_WORDS`]; 400 beyond
/// [`MAX_QUERY_CHARS`].
pub fn words(q: &str) -> ApiResult<Vec<String>> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("搜索词不超过{MAX_QUERY_CHARS}个字")));
    }
    Ok(q.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect())
}

/// Entries whose question or answer holds every word of `q` (split on
/// spaces), optionally in one category; newest first, at most 50. Words
/// are found with `instr()`, not `LIKE`: D1 refuses LIKE patterns over 50
/// bytes (17 Chinese characters), and no character is a wildcard.
pub async fn search(db: &impl Db, q: Option<&str>, category: Option<&str>) -> ApiResult<Vec<Faq>> {
    let mut cond = vec!["1 = 1".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    for word in words(q.unwrap_or_default())? {
        args.push(word.into());
        let n = args.len();
        cond.push(format!("(instr(lower(question), ?{n}) > 0 OR instr(lower(answer), ?{n}) > 0)"));
    }
    if let Some(c) = category {
        args.push(c.into());
        cond.push(format!("category = ?{}", args.len()));
    }
    db.query_as(
        &format!(
            "SELECT id, question, answer, category, created_at FROM faq WHERE {} ORDER BY created_at DESC LIMIT 50",
            cond.join(" AND ")
        ),
        &args,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_replied_or_closed_consultations_may_become_entries() {
        for &status in Status::ALL {
            let answered = matches!(status, Status::Replied | Status::Closed);
            assert_eq!(answered_consultation(Kind::Consultation, status), answered, "{status:?}");
            for kind in [Kind::Complaint, Kind::Report, Kind::Suggestion] {
                assert!(!answered_consultation(kind, status), "{kind:?} {status:?}");
            }
        }
    }

    #[test]
    fn questions_and_answers_need_at_least_five_characters() {
        let input = |q: &str, a: &str| FaqInput { question: q.into(), answer: a.into() };
        assert!(check(&input("水表过户要什么？", "身份证和房产证。")).is_empty());
        let fields: Vec<String> = check(&input(" 过户 ", &"答".repeat(2001))).into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["question", "answer"]);
    }

    #[test]
    fn search_words_drop_control_characters_and_stop_at_five() {
        assert_eq!(words(" 过户\u{0}  材料\tABC ").unwrap(), ["过户", "材料", "abc"]);
        assert_eq!(words("一 二 三 四 五 六 七").unwrap().len(), MAX_QUERY_WORDS);
        assert!(words("\u{1}\u{7}").unwrap().is_empty());
        assert_eq!(words(&"水".repeat(MAX_QUERY_CHARS)).unwrap().len(), 1);
        assert_eq!(words(&"水".repeat(MAX_QUERY_CHARS + 1)).unwrap_err().status(), 400);
    }
}
