//! Answering a search from the index: banned words, thesaurus, stop words,
//! character n-grams, pinyin (full, initials, mixed), homophone correction,
//! filters, facets, ranking, highlights, paging, nearest hall.

use crate::index::{Doc, Index};
use crate::text::{cjk_runs, is_cjk, normalize, pinyin_forms, query_terms, syllables};
use serde::Serialize;
use shared::catalogue::geo::distance_m;
use shared::{ApiError, ApiResult, ErrorCode};
use std::collections::HashMap;
use std::rc::Rc;

/// Longest query accepted, in characters: a long sentence, not a document.
pub const MAX_QUERY_CHARS: usize = 50;
/// Default and largest page size.
pub const DEFAULT_SIZE: u32 = 10;
pub const MAX_SIZE: u32 = 50;

/// A search request, already checked at the edge.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pub q: String,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub department: Option<String>,
    pub online: Option<bool>,
    pub appointment: Option<bool>,
    pub near: Option<(f64, f64)>,
    pub page: u32,
    pub size: u32,
    /// Guide views per item over the hot window: boosts popular items, and
    /// orders an empty query (the hot list).
    pub popularity: Option<Rc<HashMap<String, i64>>>,
}

/// The nearest hall that handles an item.
#[derive(Debug, Serialize, PartialEq)]
pub struct NearHall {
    pub id: String,
    pub name: String,
    pub distance_m: u64,
}

/// One result.
#[derive(Debug, Serialize)]
pub struct Hit {
    pub code: String,
    pub name: String,
    pub category: String,
    pub department: String,
    pub tags: Vec<String>,
    pub online: bool,
    pub appointment: bool,
    pub score: f64,
    /// Character ranges `[start, end)` of `name` that matched the query.
    pub highlights: Vec<[usize; 2]>,
    pub nearest_hall: Option<NearHall>,
}

/// Results per category (002: 搜索结果宜按分类展现).
#[derive(Debug, Serialize, PartialEq)]
pub struct Facet {
    pub category: String,
    pub count: usize,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Answer {
    pub query: String,
    /// What was searched after normalisation, thesaurus and stop words.
    pub searched: String,
    /// Set when the query was corrected (错别字/同音字): the text searched instead.
    pub corrected: Option<String>,
    pub notice: Option<String>,
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub facets: Vec<Facet>,
    pub items: Vec<Hit>,
    pub catalog_version: i64,
}

/// Runs a search.
pub fn search(index: &Index, p: &Params) -> ApiResult<Answer> {
    let norm = normalize(&p.q);
    if norm.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("搜索内容不超过{MAX_QUERY_CHARS}个字")));
    }
    if index.banned.iter().any(|w| norm.contains(w.as_str())) {
        return Err(ErrorCode::QueryBanned.into());
    }
    let (fixed_text, fixed_by_table) = apply_corrections(index, &norm);
    let (searched, expanded) = rewrite(index, &fixed_text);
    let mut scores = score(index, &searched);
    let mut corrected = None;
    if !scores.iter().any(|(_, s)| s.coverage >= 1.0)
        && let Some(fixed) = correct(index, &searched)
    {
        let fixed_scores = score(index, &fixed);
        if fixed_scores.iter().any(|(_, s)| s.coverage >= 1.0) {
            scores = fixed_scores;
            corrected = Some(fixed);
        }
    }
    let table_fix = fixed_by_table.then(|| searched.clone());
    let shown = corrected.clone().or(table_fix).or(expanded.filter(|e| *e != norm));
    let notice = shown.as_ref().map(|s| format!("已为您显示“{s}”的结果"));
    let effective = corrected.clone().unwrap_or_else(|| searched.clone());
    Ok(assemble(
        index,
        p,
        &effective,
        scores,
        Answer {
            query: p.q.clone(),
            searched,
            corrected: shown,
            notice,
            total: 0,
            page: p.page,
            size: p.size,
            facets: vec![],
            items: vec![],
            catalog_version: index.version,
        },
    ))
}

/// The maintained misspelling table (错别字表): replaces every listed
/// misspelling; says whether any was found.
fn apply_corrections(index: &Index, norm: &str) -> (String, bool) {
    let mut text = norm.to_owned();
    let mut changed = false;
    for (wrong, right) in &index.corrections {
        if text.contains(wrong.as_str()) {
            text = text.replace(wrong.as_str(), right);
            changed = true;
        }
    }
    (text, changed)
}

/// Applies the thesaurus (colloquial -> official) and drops stop words.
/// Returns the text to search and, if the thesaurus changed it, the official form.
fn rewrite(index: &Index, norm: &str) -> (String, Option<String>) {
    let mut text = norm.to_owned();
    let mut expanded = None;
    for (term, official) in &index.thesaurus {
        if text.contains(term.as_str()) {
            text = text.replace(term.as_str(), &format!(" {official} "));
            expanded = Some(official.clone());
            break;
        }
    }
    for w in &index.stop_words {
        if text.contains(w.as_str()) {
            text = text.replace(w.as_str(), " ");
        }
    }
    (text.split_whitespace().collect::<Vec<_>>().join(" "), expanded)
}

#[derive(Debug, Default, Clone, Copy)]
struct Score {
    raw: f64,
    matched: usize,
    coverage: f64,
}

/// Scores every matching document: n-gram postings for Chinese, pinyin
/// forms for letters (and for mixed input, after converting the Chinese part).
fn score(index: &Index, text: &str) -> Vec<(u32, Score)> {
    let strict = score_with(index, text, 2);
    // Long sentences carry words the catalogue never uses ("这个月"): when
    // nothing covers half the query, rank what covers any of it.
    if strict.is_empty() { score_with(index, text, usize::MAX) } else { strict }
}

/// `min_share`: a document must match at least 1/`min_share` of the query's
/// terms (2: half; `usize::MAX`: any).
fn score_with(index: &Index, text: &str, min_share: usize) -> Vec<(u32, Score)> {
    // Dense per-document accumulators: cheaper than a map when a broad
    // query touches most of the catalogue.
    let mut acc = vec![Score::default(); index.docs.len()];
    let mut touched: Vec<u32> = Vec::new();
    let terms = query_terms(text);
    for t in &terms {
        for (doc, w) in index.postings.get(t).map(Vec::as_slice).unwrap_or_default() {
            if let Some(s) = acc.get_mut(*doc as usize) {
                if s.matched == 0 {
                    touched.push(*doc);
                }
                s.raw += f64::from(*w);
                s.matched += 1;
            }
        }
    }
    let n = terms.len().max(1);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.chars().any(|c| c.is_ascii_alphabetic()) {
        let (full, _) = pinyin_forms(&compact);
        let all: Vec<u32>;
        let candidates = match index.pinyin_candidates(&full) {
            Some(c) => c,
            None => {
                all = (0..index.docs.len() as u32).collect();
                &all
            }
        };
        for &i in candidates {
            let Some(d) = index.docs.get(i as usize) else { continue };
            if let (Some(pts), Some(s)) = (pinyin_score(d, &full), acc.get_mut(i as usize)) {
                if s.matched == 0 && s.raw == 0.0 {
                    touched.push(i);
                }
                s.raw += pts;
                s.coverage = 1.0;
                s.matched = s.matched.max(n);
            }
        }
    }
    let mut out = Vec::with_capacity(touched.len());
    for id in touched {
        let Some(s) = acc.get(id as usize) else { continue };
        if s.matched.saturating_mul(min_share) < n {
            continue;
        }
        let coverage = if s.coverage >= 1.0 { 1.0 } else { (s.matched as f64 / n as f64).min(1.0) };
        // The name bonus is added later, only for documents that pass the filters.
        out.push((id, Score { raw: s.raw * coverage * coverage, matched: s.matched, coverage }));
    }
    out
}

/// Pinyin matches: full spelling (prefix or inside), initials (prefix or
/// inside), keywords' spelling.
fn pinyin_score(d: &Doc, q: &str) -> Option<f64> {
    if q.len() < 2 {
        return None;
    }
    if d.name_pinyin.starts_with(q) {
        Some(60.0)
    } else if q.len() >= 4 && d.name_pinyin.contains(q) {
        Some(40.0)
    } else if d.name_initials.starts_with(q) {
        Some(45.0)
    } else if d.name_initials.contains(q) {
        Some(30.0)
    } else if q.len() >= 4 && d.tag_pinyin.iter().any(|t| t.starts_with(q)) {
        Some(20.0)
    } else {
        None
    }
}

/// Exact and prefix matches of the name first; shorter names break ties.
fn name_bonus(d: &Doc, compact: &str, runs: &[String]) -> f64 {
    let name = d.name_compact.as_str();
    let mut b = -(name.chars().count() as f64) * 0.05;
    if compact.is_empty() {
        return b;
    }
    if name == compact {
        b += 100.0;
    } else if name.starts_with(compact) {
        b += 40.0;
    } else if name.contains(compact) {
        b += 30.0;
    }
    for run in runs {
        if run.chars().count() >= 2 && name.contains(run.as_str()) {
            b += 10.0;
        }
        if d.tags_norm.iter().any(|t| t == run) {
            b += 15.0;
        }
    }
    b
}

/// 错别字/同音字: finds a run of characters in an item name or keyword whose
/// pinyin equals the query's (公基金 -> 公积金, 身份正 -> 身份证).
fn correct(index: &Index, text: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut changed = false;
    for run in text.split_whitespace() {
        if !run.chars().all(is_cjk) || run.chars().count() < 2 {
            out.push(run.to_owned());
            continue;
        }
        let want = syllables(run);
        let found = index.docs.iter().find_map(|d| {
            std::iter::once((d.name_norm.as_str(), &d.name_syllables))
                .chain(d.tags_norm.iter().map(String::as_str).zip(d.tag_syllables.iter()))
                .find_map(|(text, syl)| window(text, syl, &want))
        });
        match found {
            Some(f) if f != run => {
                out.push(f);
                changed = true;
            }
            _ => out.push(run.to_owned()),
        }
    }
    changed.then(|| out.join(" "))
}

fn window(text: &str, syl: &[String], want: &[String]) -> Option<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if syl.len() != chars.len() {
        return None;
    }
    let at = syl.windows(want.len()).position(|w| w == want)?;
    chars.get(at..at + want.len()).map(|c| c.iter().collect())
}

/// The filters resolved once per query: category by its id in the index.
struct Filters<'a> {
    /// `Some(None)`: a category no item has (nothing matches it).
    category: Option<Option<u16>>,
    p: &'a Params,
}

impl<'a> Filters<'a> {
    fn new(index: &Index, p: &'a Params) -> Self {
        let category = p.category.as_ref().map(|c| index.category_id(c));
        Self { category, p }
    }

    /// Every filter but the category (what facets count over).
    fn others(&self, d: &Doc) -> bool {
        let p = self.p;
        p.tag.as_ref().is_none_or(|t| d.tags.iter().any(|x| x == t))
            && p.department.as_ref().is_none_or(|x| &d.department == x)
            && p.online.is_none_or(|o| d.online == o)
            && p.appointment.is_none_or(|a| d.appointment == a)
    }

    fn category(&self, d: &Doc) -> bool {
        self.category.is_none_or(|c| c == Some(d.cat))
    }
}

fn assemble(index: &Index, p: &Params, effective: &str, scores: Vec<(u32, Score)>, mut a: Answer) -> Answer {
    let browse = effective.trim().is_empty();
    let candidates: Vec<(u32, f64)> = if browse {
        (0..index.docs.len() as u32).map(|i| (i, 0.0)).collect()
    } else {
        scores.into_iter().map(|(d, s)| (d, s.raw)).collect()
    };
    let compact: String = effective.chars().filter(|c| !c.is_whitespace()).collect();
    let runs: Vec<String> = cjk_runs(effective).into_iter().map(|r| r.into_iter().collect()).collect();
    let filters = Filters::new(index, p);
    let mut facets = vec![0usize; index.cats.len()];
    let mut hits: Vec<(u32, f64, Option<NearHall>)> = Vec::new();
    for (id, raw) in candidates {
        let Some(d) = index.docs.get(id as usize) else { continue };
        if !filters.others(d) {
            continue;
        }
        if let Some(n) = facets.get_mut(d.cat as usize) {
            *n += 1;
        }
        if filters.category(d) {
            let views = p.popularity.as_ref().and_then(|m| m.get(&d.code)).copied().unwrap_or(0);
            // Popular items rise gently: log-scaled so a flood of views cannot
            // outrank a better textual match; an empty query ranks by views alone.
            let raw = if browse {
                views as f64
            } else {
                raw + name_bonus(d, &compact, &runs) + 2.0 * (1.0 + views as f64).ln()
            };
            let near = p.near.and_then(|(lat, lng)| nearest(index, d, lat, lng));
            let boost = near.as_ref().map_or(0.0, |h| {
                if h.distance_m < 2_000 {
                    20.0
                } else if h.distance_m < 5_000 {
                    10.0
                } else {
                    0.0
                }
            });
            hits.push((id, raw + boost, near));
        }
    }
    a.total = hits.len();
    // Only the requested page needs ordering: partition the best `end` first.
    let order = |x: &(u32, f64, Option<NearHall>), y: &(u32, f64, Option<NearHall>)| {
        // Docs are loaded in code order, so the id breaks ties as the code would.
        y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0))
    };
    let end = (p.page as usize).saturating_mul(p.size as usize).min(hits.len());
    if end > 0 && end < hits.len() {
        hits.select_nth_unstable_by(end - 1, order);
        hits.truncate(end);
    }
    hits.sort_by(order);
    a.facets = facets
        .into_iter()
        .zip(&index.cats)
        .filter(|(n, _)| *n > 0)
        .map(|(n, c)| Facet { category: c.clone(), count: n })
        .collect();
    a.facets.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.category.cmp(&y.category)));
    let start = (p.page.saturating_sub(1) as usize).saturating_mul(p.size as usize);
    a.items = hits
        .into_iter()
        .skip(start)
        .take(p.size as usize)
        .filter_map(|(id, score, near)| index.docs.get(id as usize).map(|d| hit(d, score, near, effective)))
        .collect();
    a
}

fn nearest(index: &Index, d: &Doc, lat: f64, lng: f64) -> Option<NearHall> {
    d.halls
        .iter()
        .filter_map(|h| index.halls.get(*h))
        .map(|h| (h, distance_m(lat, lng, h.lat, h.lng)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(h, m)| NearHall { id: h.id.clone(), name: h.name.clone(), distance_m: m.round() as u64 })
}

fn hit(d: &Doc, score: f64, near: Option<NearHall>, effective: &str) -> Hit {
    Hit {
        code: d.code.clone(),
        name: d.name.clone(),
        category: d.category.clone(),
        department: d.department.clone(),
        tags: d.tags.clone(),
        online: d.online,
        appointment: d.appointment,
        score: (score * 100.0).round() / 100.0,
        highlights: highlights(&d.name, effective),
        nearest_hall: near,
    }
}

/// Character ranges of `name` covered by any query n-gram.
fn highlights(name: &str, effective: &str) -> Vec<[usize; 2]> {
    let chars: Vec<char> = name.chars().map(|c| normalize(&c.to_string()).chars().next().unwrap_or(c)).collect();
    let mut marked = vec![false; chars.len()];
    for t in query_terms(effective) {
        let tc: Vec<char> = t.chars().collect();
        for i in 0..chars.len().saturating_sub(tc.len() - 1) {
            if chars.get(i..i + tc.len()) == Some(tc.as_slice()) {
                marked.iter_mut().skip(i).take(tc.len()).for_each(|m| *m = true);
            }
        }
    }
    let mut out = Vec::new();
    let mut start = None;
    for (i, m) in marked.iter().chain(std::iter::once(&false)).enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push([s, i]);
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Docs that can complete `compact`: for Chinese, those holding its rarest
/// n-gram (every completion contains all of them); for letters, the pinyin
/// keys; otherwise (partial syllables) every doc.
fn suggest_candidates(index: &Index, compact: &str, py: &str) -> Vec<u32> {
    let terms = query_terms(compact);
    let rarest = terms.iter().filter_map(|t| index.postings.get(t)).min_by_key(|p| p.len());
    if !terms.is_empty() && !compact.chars().any(|c| c.is_ascii_alphabetic()) {
        return rarest.map(|p| p.iter().map(|(d, _)| *d).collect()).unwrap_or_default();
    }
    match index.pinyin_candidates(py) {
        Some(c) => c.to_vec(),
        None => (0..index.docs.len() as u32).collect(),
    }
}

/// One completion (联想).
#[derive(Debug, Serialize, PartialEq)]
pub struct Suggestion {
    pub text: String,
    pub code: Option<String>,
}

/// Most completions returned.
pub const MAX_SUGGESTIONS: usize = 10;

/// Completions over item names, keywords and pinyin prefixes.
pub fn suggest(index: &Index, q: &str) -> ApiResult<Vec<Suggestion>> {
    let norm = normalize(q);
    if norm.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("输入内容不超过{MAX_QUERY_CHARS}个字")));
    }
    let compact: String = norm.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() || index.banned.iter().any(|w| compact.contains(w.as_str())) {
        return Ok(vec![]);
    }
    let (py, _) = pinyin_forms(&compact);
    let mut ranked: Vec<(u8, usize, &Doc)> = suggest_candidates(index, &compact, &py)
        .into_iter()
        .filter_map(|i| index.docs.get(i as usize))
        .filter_map(|d| {
            let rank = if d.name_norm.starts_with(&compact) {
                0
            } else if d.name_norm.contains(&compact) {
                1
            } else if py.len() >= 2 && d.name_pinyin.starts_with(&py) {
                2
            } else if py.len() >= 2 && d.name_initials.starts_with(&py) {
                3
            } else if py.len() >= 3 && (d.name_initials.contains(&py) || (py.len() >= 4 && d.name_pinyin.contains(&py)))
            {
                4
            } else if d.tags_norm.iter().any(|t| t.starts_with(&compact)) {
                5
            } else {
                return None;
            };
            Some((rank, d.name.chars().count(), d))
        })
        .collect();
    ranked.sort_by(|a, b| (a.0, a.1, &a.2.code).cmp(&(b.0, b.1, &b.2.code)));
    let mut out: Vec<Suggestion> = Vec::new();
    for (_, _, d) in ranked {
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
        if !out.iter().any(|s| s.text == d.name) {
            out.push(Suggestion { text: d.name.clone(), code: Some(d.code.clone()) });
        }
    }
    Ok(out)
}
