//! Full text at answer time (issue 19): reads the guides of a page's hits
//! (one query, at most a page of rows) and says where each hit matched
//! outside its name; on the first page, adds the FAQ entries and guides'
//! Q&A that match (a second query over the public `faq` table).

use crate::fulltext::{GuideText, Qa, locate, terms_beyond_name};
use crate::query::Answer;
use crate::questions::{Candidate, Source, questions};
use crate::text::query_terms;
use serde::Deserialize;
use shared::ApiResult;
use shared::store::Db;
use std::collections::HashMap;

/// Most query terms the FAQ lookup filters on (a long sentence has many;
/// the first few find the entries, the ranking reads all).
const FAQ_FILTER_TERMS: usize = 8;
/// Most FAQ rows read to rank (the newest among those that hold a term).
const FAQ_ROWS: u32 = 200;

#[derive(Deserialize)]
struct TextRow {
    code: String,
    name: String,
    scope: Option<String>,
    materials: Option<String>,
    conditions: Option<String>,
    process: Option<String>,
    faq: Option<String>,
}

#[derive(Deserialize)]
struct FaqRow {
    id: String,
    question: String,
    answer: String,
}

/// The searched text of the published items with these codes, by code,
/// with their names.
pub async fn guide_texts(db: &impl Db, codes: &[&str]) -> ApiResult<HashMap<String, (String, GuideText)>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let list = serde_json::to_string(codes).unwrap_or_else(|_| "[]".into());
    let rows: Vec<TextRow> = db
        .query_as(
            "SELECT code, name, json_extract(guide, '$.scope') AS scope,
                    (SELECT json_group_array(m.name) FROM materials m WHERE m.item_code = items.code) AS materials,
                    json_extract(guide, '$.conditions') AS conditions,
                    json_extract(guide, '$.process') AS process,
                    json_extract(guide, '$.faq') AS faq
             FROM items WHERE status = 'published' AND code IN (SELECT value FROM json_each(?1))",
            &[list.into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut t = GuideText::from_json(
                r.materials.as_deref(),
                r.conditions.as_deref(),
                r.process.as_deref(),
                r.faq.as_deref(),
            );
            t.scope = r.scope.unwrap_or_default();
            (r.code, (r.name, t))
        })
        .collect())
}

/// Public FAQ entries holding any of the first terms, newest first.
async fn faq_rows(db: &impl Db, terms: &[String]) -> ApiResult<Vec<FaqRow>> {
    let used: Vec<&String> = terms.iter().take(FAQ_FILTER_TERMS).collect();
    if used.is_empty() {
        return Ok(vec![]);
    }
    let cond: Vec<String> =
        (1..=used.len()).map(|k| format!("instr(question, ?{k}) > 0 OR instr(answer, ?{k}) > 0")).collect();
    let sql = format!(
        "SELECT id, question, answer FROM faq WHERE {} ORDER BY created_at DESC LIMIT {FAQ_ROWS}",
        cond.join(" OR ")
    );
    let args: Vec<_> = used.iter().map(|t| t.as_str().into()).collect();
    db.query_as(&sql, &args).await
}

/// Fills `matched` of the hits that matched outside their name and, on the
/// first page, `questions`. Pinyin-only queries have no text to locate.
pub async fn enrich(db: &impl Db, a: &mut Answer) -> ApiResult<()> {
    let terms = query_terms(&a.effective);
    if terms.is_empty() || a.items.is_empty() && a.page != 1 {
        return Ok(());
    }
    let first = a.page == 1;
    let beyond: Vec<Vec<String>> = a.items.iter().map(|h| terms_beyond_name(&h.name, &terms)).collect();
    let codes: Vec<&str> = a
        .items
        .iter()
        .zip(&beyond)
        .filter(|(_, rest)| first || !rest.is_empty())
        .map(|(h, _)| h.code.as_str())
        .collect();
    let texts = guide_texts(db, &codes).await?;
    for (h, rest) in a.items.iter_mut().zip(&beyond) {
        if let (false, Some((_, t))) = (rest.is_empty(), texts.get(&h.code)) {
            h.matched = locate(t, rest, &terms);
        }
    }
    if first {
        let mut cands: Vec<Candidate> = Vec::new();
        for h in &a.items {
            if let Some((name, t)) = texts.get(&h.code) {
                cands.extend(t.faq.iter().map(|Qa { q, a }| Candidate {
                    question: q.clone(),
                    answer: a.clone(),
                    source: Source::Guide { code: h.code.clone(), name: name.clone() },
                }));
            }
        }
        cands.extend(faq_rows(db, &terms).await?.into_iter().map(|r| Candidate {
            question: r.question,
            answer: r.answer,
            source: Source::Faq { id: r.id },
        }));
        a.questions = questions(cands, &terms);
    }
    Ok(())
}
