//! Full text at answer time (issue 19): reads the guides of a page's hits
//! (one query, at most a page of rows) and says where each hit matched
//! outside its name; on the first page, adds the FAQ entries and guides'
//! Q&A that match (a second query over the public `faq` table).

use crate::fulltext::{GuideText, Qa, TEXT_COLUMNS, TextColumns, locate, terms_beyond_name};
use crate::query::Answer;
use crate::questions::{Candidate, Source, questions};
use crate::text::query_terms;
use serde::Deserialize;
use shared::ApiResult;
use shared::store::{Db, HotCache};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Most public FAQ entries an isolate keeps to rank (the newest): the
/// 常见问题 handlers write are a few hundred in a year.
const FAQ_ROWS: u32 = 2_000;
/// How long an isolate reuses the FAQ entries it read: a new entry shows
/// in search within this time.
pub const FAQ_TTL_MS: i64 = 60_000;
/// Shortest query (characters searched) whose page's guides are read for
/// their Q&A even when every hit matched in its name: shorter ones look up
/// an item ("社保", "证"), longer ones may ask something a guide answers.
pub const QUESTION_CHARS: usize = 4;

#[derive(Deserialize)]
struct TextRow {
    code: String,
    name: String,
    #[serde(flatten)]
    text: TextColumns,
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
            &format!(
                "SELECT code, name, {TEXT_COLUMNS}
                 FROM items WHERE status = 'published' AND code IN (SELECT value FROM json_each(?1))"
            ),
            &[list.into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let t = r.text.text();
            (r.code, (r.name, t))
        })
        .collect())
}

/// Guides' texts an isolate keeps (name and text, a few KiB each), by
/// catalogue version and code: a page of popular items is read once.
pub const TEXT_ENTRIES: usize = 1_000;
/// How long a kept text is used (a new catalogue version is a new key).
pub const TEXT_TTL_MS: i64 = 300_000;

/// What an isolate keeps between searches: the FAQ entries and the page
/// guides' texts.
pub struct Caches {
    pub faqs: Faqs,
    texts: HotCache<(String, GuideText)>,
}

impl Default for Caches {
    fn default() -> Self {
        Self { faqs: Faqs::default(), texts: HotCache::new(TEXT_ENTRIES, TEXT_TTL_MS) }
    }
}

impl Caches {
    /// The texts of these items at `version`: kept ones, and one read for the rest.
    async fn texts(
        &self,
        db: &impl Db,
        version: i64,
        codes: &[&str],
        now_ms: i64,
    ) -> ApiResult<HashMap<String, Rc<(String, GuideText)>>> {
        let key = |code: &str| format!("{version}|{code}");
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        for code in codes {
            match self.texts.get(&key(code), now_ms) {
                Some(t) => {
                    out.insert((*code).to_owned(), t);
                }
                None => missing.push(*code),
            }
        }
        for (code, t) in guide_texts(db, &missing).await? {
            let t = Rc::new(t);
            self.texts.put(&key(&code), Rc::clone(&t), now_ms);
            out.insert(code, t);
        }
        Ok(out)
    }
}

/// An isolate's copy of the public FAQ entries (at most [`FAQ_ROWS`], the
/// newest), read again after [`FAQ_TTL_MS`]: a search asks no D1 read for them.
#[derive(Default)]
pub struct Faqs {
    rows: RefCell<Option<(Rc<Vec<FaqRow>>, i64)>>,
}

impl Faqs {
    async fn rows(&self, db: &impl Db, now_ms: i64) -> ApiResult<Rc<Vec<FaqRow>>> {
        if let Some((rows, at)) = self.rows.borrow().as_ref()
            && now_ms - at < FAQ_TTL_MS
        {
            return Ok(Rc::clone(rows));
        }
        let rows: Vec<FaqRow> = db
            .query_as(&format!("SELECT id, question, answer FROM faq ORDER BY created_at DESC LIMIT {FAQ_ROWS}"), &[])
            .await?;
        let rows = Rc::new(rows);
        *self.rows.borrow_mut() = Some((Rc::clone(&rows), now_ms));
        Ok(rows)
    }
}

/// Fills `matched` of the hits that matched outside their name and, on the
/// first page, `questions`. Pinyin-only queries have no text to locate.
pub async fn enrich(db: &impl Db, caches: &Caches, now_ms: i64, a: &mut Answer) -> ApiResult<()> {
    let terms = query_terms(&a.effective);
    if terms.is_empty() || a.items.is_empty() && a.page != 1 {
        return Ok(());
    }
    let first = a.page == 1;
    let beyond: Vec<Vec<String>> = a.items.iter().map(|h| terms_beyond_name(&h.name, &terms)).collect();
    // The page's guides are read when a hit matched outside its name, or
    // on the first page of a query long enough to be a question.
    let asks = first && a.effective.chars().filter(|c| !c.is_whitespace()).count() >= QUESTION_CHARS;
    let codes: Vec<&str> = a
        .items
        .iter()
        .zip(&beyond)
        .filter(|(_, rest)| asks || !rest.is_empty())
        .map(|(h, _)| h.code.as_str())
        .collect();
    let texts = caches.texts(db, a.catalog_version, &codes, now_ms).await?;
    for (h, rest) in a.items.iter_mut().zip(&beyond) {
        if let (false, Some(t)) = (rest.is_empty(), texts.get(&h.code)) {
            let (_, t) = t.as_ref();
            h.matched = locate(t, rest, &terms);
        }
    }
    if first {
        let mut cands: Vec<Candidate<'_>> = Vec::new();
        for h in &a.items {
            if let Some(t) = texts.get(&h.code) {
                let (name, t) = t.as_ref();
                cands.extend(t.faq.iter().map(|Qa { q, a }| Candidate {
                    question: q,
                    answer: a,
                    source: Source::Guide { code: &h.code, name },
                }));
            }
        }
        let faqs = caches.faqs.rows(db, now_ms).await?;
        let holds = |r: &FaqRow| terms.iter().any(|t| r.question.contains(t.as_str()) || r.answer.contains(t.as_str()));
        cands.extend(faqs.iter().filter(|r| holds(r)).map(|r| Candidate {
            question: &r.question,
            answer: &r.answer,
            source: Source::Faq { id: &r.id },
        }));
        let found = questions(&cands, &terms);
        a.questions = found;
    }
    Ok(())
}
