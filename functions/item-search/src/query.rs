//! Answering a search from the index: banned words, thesaurus, stop words,
//! character n-grams, pinyin (full, initials, mixed), homophone correction,
//! filters, facets, ranking, highlights, paging, nearest hall.

use crate::index::{Brief, Briefs, DocView, Index, NameMatch, SearchIndex};
use crate::region::{RegionFilter, RegionView};
use crate::text::{cjk_runs, is_cjk, normalize, pinyin_forms, query_terms, syllables};
use serde::Serialize;
use shared::catalogue::geo::distance_m;
use shared::{ApiError, ApiResult, ErrorCode};
use std::cmp::Ordering;
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
    /// The same counts resolved to this index's document ids once (see
    /// [`IdViews::resolve`]); when set, `popularity` is not read.
    pub views_by_id: Option<Rc<IdViews>>,
    /// 行政区划: only items a citizen of this region is served by.
    pub region: Option<shared::types::Region>,
}

impl Params {
    /// The answer cache's key: the catalogue version and every parameter that
    /// changes an answer. Texts are length-prefixed, so no two parameter sets
    /// (whatever characters a query holds) share a key.
    pub fn cache_key(&self, version: i64) -> String {
        use std::fmt::Write;
        let mut key = String::with_capacity(64 + self.q.len());
        let _ = write!(key, "{version}|{}:{}", self.q.len(), self.q);
        for text in [&self.category, &self.tag, &self.department] {
            match text {
                Some(t) => {
                    let _ = write!(key, "|{}:{t}", t.len());
                }
                None => key.push_str("|-"),
            }
        }
        let flag = |f: Option<bool>| match f {
            None => '-',
            Some(true) => '1',
            Some(false) => '0',
        };
        key.extend(['|', flag(self.online), flag(self.appointment), '|']);
        if let Some((lat, lng)) = self.near {
            let _ = write!(key, "{lat},{lng}");
        }
        let _ = write!(key, "|{}|{}|{}", self.page, self.size, self.region.as_ref().map_or("-", |r| r.as_str()));
        key
    }
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
    /// The item's region (`None`: its code carries none).
    pub region: Option<RegionView>,
    /// Full text (issue 19): where the hit matched when not in its name
    /// (filled by [`crate::enrich`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<crate::fulltext::Matched>,
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
    /// Full text (issue 19): FAQ entries and guides' Q&A matching the
    /// query, on the first page only (filled by [`crate::enrich`]).
    pub questions: Vec<crate::questions::Question>,
    /// The text searched in the end (after corrections): what full text locates.
    #[serde(skip)]
    pub effective: String,
}

/// Runs a search over the in-memory index.
pub fn search(index: &Index, p: &Params) -> ApiResult<Answer> {
    search_in(index, p)
}

/// Runs a search over any index.
pub fn search_in<I: SearchIndex>(index: &I, p: &Params) -> ApiResult<Answer> {
    let norm = normalize(&p.q);
    if norm.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("搜索内容不超过{MAX_QUERY_CHARS}个字")));
    }
    if index.banned().iter().any(|w| norm.contains(w.as_str())) {
        return Err(ErrorCode::QueryBanned.into());
    }
    known_region(index, p.region.as_ref())?;
    let (fixed_text, fixed_by_table) = apply_corrections(index, &norm);
    let (searched, expanded) = rewrite(index, &fixed_text);
    let mut scores = score(index, &searched);
    let mut corrected = None;
    if !scores.complete(index)
        && let Some(fixed) = correct(index, &searched)
    {
        let fixed_scores = score(index, &fixed);
        if fixed_scores.complete(index) {
            scores = fixed_scores;
            corrected = Some(fixed);
        }
    }
    let table_fix = fixed_by_table.then(|| searched.clone());
    let shown = corrected.clone().or(table_fix).or(expanded.filter(|e| *e != norm));
    let notice = shown.as_ref().map(|s| format!("已为您显示“{s}”的结果"));
    let effective = corrected.clone().unwrap_or_else(|| searched.clone());
    let cands = match scores {
        _ if effective.trim().is_empty() => Cands::Browse,
        Scored::Term(t) => Cands::Term(t),
        Scored::List(v) => Cands::List(v),
    };
    Ok(assemble(
        index,
        p,
        &effective,
        cands,
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
            catalog_version: index.version(),
            questions: vec![],
            effective: effective.clone(),
        },
    ))
}

/// The maintained misspelling table (错别字表): replaces every listed
/// misspelling; says whether any was found.
fn apply_corrections(index: &impl SearchIndex, norm: &str) -> (String, bool) {
    let mut text = norm.to_owned();
    let mut changed = false;
    for (wrong, right) in index.corrections() {
        if text.contains(wrong.as_str()) {
            text = text.replace(wrong.as_str(), right);
            changed = true;
        }
    }
    (text, changed)
}

/// Applies the thesaurus (colloquial -> official) and drops stop words.
/// Returns the text to search and, if the thesaurus changed it, the official form.
fn rewrite(index: &impl SearchIndex, norm: &str) -> (String, Option<String>) {
    let mut text = norm.to_owned();
    let mut expanded = None;
    for (term, official) in index.thesaurus() {
        if text.contains(term.as_str()) {
            text = text.replace(term.as_str(), &format!(" {official} "));
            expanded = Some(official.clone());
            break;
        }
    }
    for w in index.stop_words() {
        if text.contains(w.as_str()) {
            text = text.replace(w.as_str(), " ");
        }
    }
    (text.split_whitespace().collect::<Vec<_>>().join(" "), expanded)
}

#[derive(Debug, Default, Clone, Copy)]
struct Score {
    raw: f64,
    coverage: f64,
}

/// The matching documents of a query: one term's postings (read as they
/// are ranked, never copied), or the scored list of a longer query.
enum Scored {
    Term(String),
    List(Vec<(u32, Score)>),
}

impl Scored {
    /// Whether some document matches all of the query.
    fn complete(&self, index: &impl SearchIndex) -> bool {
        match self {
            // One term: every posting is one document matching all of the query.
            Scored::Term(t) => index.postings(t).next().is_some(),
            Scored::List(v) => v.iter().any(|(_, s)| s.coverage >= 1.0),
        }
    }
}

/// Scores every matching document: n-gram postings for Chinese, pinyin
/// forms for letters (and for mixed input, after converting the Chinese part).
fn score(index: &impl SearchIndex, text: &str) -> Scored {
    let terms = query_terms(text);
    if let ([term], false) = (terms.as_slice(), text.chars().any(|c| c.is_ascii_alphabetic())) {
        return Scored::Term(term.clone());
    }
    let strict = score_with(index, text, 2);
    // Long sentences carry words the catalogue never uses ("这个月"): when
    // nothing covers half the query, rank what covers any of it.
    Scored::List(if strict.is_empty() { score_with(index, text, usize::MAX) } else { strict })
}

/// Per-document sums while scoring: weights and pinyin points are whole
/// numbers, so integer sums give the same totals as adding floats.
#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    raw: u32,
    matched: u32,
    pinyin: bool,
}

/// `min_share`: a document must match at least 1/`min_share` of the query's
/// terms (2: half; `usize::MAX`: any).
fn score_with(index: &impl SearchIndex, text: &str, min_share: usize) -> Vec<(u32, Score)> {
    let terms = query_terms(text);
    let n = terms.len().max(1);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let letters = compact.chars().any(|c| c.is_ascii_alphabetic());
    // (One term without letters never comes here: see [`score`].)
    // Dense per-document accumulators: cheaper than a map when a broad
    // query touches most of the catalogue; kept zeroed between queries.
    let (mut acc, mut seen) = ACC.with(|a| std::mem::take(&mut *a.borrow_mut()));
    acc.truncate(index.doc_count());
    acc.resize(index.doc_count(), Acc::default());
    // Docs touched, in a buffer as long as the docs (each enters once).
    seen.resize(index.doc_count(), 0);
    let mut n_seen = 0usize;
    for t in &terms {
        index.term_chunks(t, &mut |chunk| {
            for &(doc, w, _) in chunk {
                if let Some(s) = acc.get_mut(doc as usize) {
                    if let Some(slot) = seen.get_mut(n_seen) {
                        *slot = doc;
                    }
                    n_seen += usize::from(s.matched == 0);
                    s.raw += w;
                    // Full text (issue 19): a term found only in a guide's prose
                    // covers half as much of the query as one in its name.
                    s.matched += if w > crate::index::W_TEXT { 2 } else { 1 };
                }
            }
        });
    }
    let mut touched: Vec<u32> = seen.get(..n_seen).unwrap_or_default().to_vec();
    // `Acc::matched` counts halves of terms.
    let n32 = u32::try_from(n.saturating_mul(2)).unwrap_or(u32::MAX);
    if letters {
        let (full, _) = pinyin_forms(&compact);
        let mut credit = |i: u32, pts: u32| {
            if let Some(s) = acc.get_mut(i as usize) {
                if s.matched == 0 && s.raw == 0 {
                    touched.push(i);
                }
                s.raw += pts;
                s.pinyin = true;
                s.matched = s.matched.max(n32);
            }
        };
        let points = |i: u32| index.doc(i).and_then(|d| pinyin_score(&d, &full));
        match index.pinyin_candidates(&full) {
            Some(c) => {
                for &i in c.iter() {
                    if let Some(pts) = index.pinyin_key_points(i, &full).or_else(|| points(i)) {
                        credit(i, pts);
                    }
                }
            }
            None => match index.pinyin_scan(&full) {
                Some(c) => c.into_iter().for_each(|i| points(i).into_iter().for_each(|pts| credit(i, pts))),
                None => {
                    (0..index.doc_count() as u32).for_each(|i| points(i).into_iter().for_each(|pts| credit(i, pts)))
                }
            },
        }
    }
    let out = touched
        .iter()
        .filter_map(|&id| {
            let s = acc.get_mut(id as usize).map(std::mem::take)?;
            let matched = s.matched as usize;
            if matched.saturating_mul(min_share) < n.saturating_mul(2) {
                return None;
            }
            let coverage = if s.pinyin { 1.0 } else { (matched as f64 / (2 * n) as f64).min(1.0) };
            // The name bonus is added later, only for documents that pass the filters.
            Some((id, Score { raw: f64::from(s.raw) * coverage * coverage, coverage }))
        })
        .collect();
    ACC.with(|a| *a.borrow_mut() = (acc, seen));
    out
}

thread_local! {
    /// The scoring accumulators (every entry zero between queries) and a
    /// buffer for the docs they touch, reused query to query.
    static ACC: std::cell::RefCell<(Vec<Acc>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Pinyin matches: full spelling (prefix or inside), initials (prefix or
/// inside), keywords' spelling.
fn pinyin_score(d: &impl DocView, q: &str) -> Option<u32> {
    if q.len() < 2 {
        return None;
    }
    let (full, initials) = (d.name_pinyin(), d.name_initials());
    if full.starts_with(q) {
        Some(60)
    } else if q.len() >= 4 && full.contains(q) {
        Some(40)
    } else if initials.starts_with(q) {
        Some(45)
    } else if initials.contains(q) {
        Some(30)
    } else if q.len() >= 4 && d.tag_pinyin().any(|t| t.starts_with(q)) {
        Some(20)
    } else {
        None
    }
}

/// Exact and prefix matches of the name first; shorter names break ties.
fn name_bonus(d: &impl DocView, compact: &str, runs: &[String]) -> f64 {
    let name = d.name_compact();
    let chars = name.chars().count();
    if compact.is_empty() {
        return -(chars as f64) * 0.05;
    }
    let rel = if name == compact {
        Rel::Equal
    } else if name.starts_with(compact) {
        Rel::Prefix
    } else if name.contains(compact) {
        Rel::Inside
    } else {
        Rel::None
    };
    let mut b = base_bonus(chars, rel);
    for run in runs {
        b = run_bonus(b, run.chars().count() >= 2 && name.contains(run.as_str()), d.tags_norm().any(|t| t == run));
    }
    b
}

/// Where the query stands in a name (ordered by the bonus it earns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rel {
    None,
    Inside,
    Prefix,
    Equal,
}

/// The name bonus before the runs: shorter names first, then the query's
/// place in the name. Never decreases as `rel` rises or `chars` falls.
#[inline(always)]
fn base_bonus(chars: usize, rel: Rel) -> f64 {
    let mut b = -(chars as f64) * 0.05;
    match rel {
        Rel::Equal => b += 100.0,
        Rel::Prefix => b += 40.0,
        Rel::Inside => b += 30.0,
        Rel::None => {}
    }
    b
}

/// One run's part of the name bonus (in the name; a keyword equal to it).
#[inline(always)]
fn run_bonus(mut b: f64, in_name: bool, tag: bool) -> f64 {
    if in_name {
        b += 10.0;
    }
    if tag {
        b += 15.0;
    }
    b
}

/// The name bonus of a one-term query from what the postings say of it.
/// The same sums as [`base_bonus`] and [`run_bonus`] without branches
/// (adding 0.0 changes no sum but the sign of a zero, and a score adds the
/// bonus to a positive weight).
#[inline(always)]
fn matched_bonus(chars: usize, long: bool, m: NameMatch) -> f64 {
    // By (contains, prefix, equal): equal, then prefix, then inside.
    const REL: [f64; 8] = [0.0, 30.0, 40.0, 40.0, 100.0, 100.0, 100.0, 100.0];
    let k = usize::from(m.contains) | usize::from(m.prefix) << 1 | usize::from(m.equal) << 2;
    let mut b = -(chars as f64) * 0.05;
    b += REL.get(k).copied().unwrap_or(0.0);
    b += if long && m.contains { 10.0 } else { 0.0 };
    b += if m.tag { 15.0 } else { 0.0 };
    b
}

/// 错别字/同音字: finds a run of characters in an item name or keyword whose
/// pinyin equals the query's (公基金 -> 公积金, 身份正 -> 身份证).
fn correct(index: &impl SearchIndex, text: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut changed = false;
    for run in text.split_whitespace() {
        if !run.chars().all(is_cjk) || run.chars().count() < 2 {
            out.push(run.to_owned());
            continue;
        }
        let want = syllables(run);
        let found = index.homophone(&want);
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

/// The filters resolved once per query: category by its id in the index.
struct Filters<'a> {
    /// `Some(None)`: a category no item has (nothing matches it).
    category: Option<Option<u16>>,
    /// The online and appointment filters as bits of a brief's word.
    mask: u32,
    want: u32,
    region: Option<RegionFilter>,
    p: &'a Params,
}

impl<'a> Filters<'a> {
    fn new(index: &impl SearchIndex, p: &'a Params) -> Self {
        let category = p.category.as_ref().map(|c| index.category_id(c));
        let (mut mask, mut want) = (0, 0);
        for (filter, bit) in [(p.online, Brief::ONLINE), (p.appointment, Brief::APPOINTMENT)] {
            if let Some(on) = filter {
                mask |= bit;
                want |= if on { bit } else { 0 };
            }
        }
        let region = p.region.as_ref().map(|r| RegionFilter::new(index.regions(), r));
        Self { category, mask, want, region, p }
    }

    /// The online and appointment filters (from the brief).
    #[inline(always)]
    fn flags(&self, b: &Brief) -> bool {
        b.word() & self.mask == self.want
    }

    /// The filters but department and keyword as masks of a brief's word:
    /// `(flags mask, flags wanted, category mask, category wanted)`, or
    /// `None` when no document can pass (a category no item has).
    fn brief_mask(&self) -> Option<(u32, u32, u32, u32)> {
        match self.category {
            None => Some((self.mask, self.want, 0, 0)),
            Some(Some(c)) => Some((self.mask, self.want, 0xffff, u32::from(c))),
            Some(None) => None,
        }
    }

    /// Whether the department or keyword filter needs the document.
    fn needs_doc(&self) -> bool {
        self.p.department.is_some() || self.p.tag.is_some()
    }

    /// The department and keyword filters.
    fn others(&self, d: &impl DocView) -> bool {
        let p = self.p;
        p.department.as_ref().is_none_or(|x| d.department() == x)
            && p.tag.as_ref().is_none_or(|t| d.tags().any(|x| x == t))
    }

    /// The region filter (a column read when there is one).
    #[inline(always)]
    fn region(&self, index: &impl SearchIndex, id: u32) -> bool {
        self.region.as_ref().is_none_or(|f| f.passes(index.region_id(id)))
    }

    #[inline(always)]
    fn category(&self, cat: u16) -> bool {
        self.category.is_none_or(|c| c == Some(cat))
    }
}

/// Guide views per document id: one read of the counts resolved against
/// one index. An isolate resolves them when it reads the counts (or loads
/// an index), not on every search: a broad query would otherwise look up
/// every counted code in the index before ranking.
#[derive(Debug, Default)]
pub struct IdViews {
    /// One bit per document: whether it has views (most have none).
    has: Vec<u64>,
    counts: HashMap<u32, i64>,
}

impl IdViews {
    /// The counts of the codes `index` holds (others are left out).
    pub fn resolve(index: &impl SearchIndex, by_code: &HashMap<String, i64>) -> Self {
        let mut v = IdViews { has: vec![0; index.doc_count().div_ceil(64)], counts: HashMap::new() };
        for (code, n) in by_code {
            if let (Some(id), true) = (index.doc_id(code), *n != 0) {
                if let Some(w) = v.has.get_mut(id as usize / 64) {
                    *w |= 1 << (id % 64);
                }
                v.counts.insert(id, *n);
            }
        }
        v
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Whether these ids are those of an index of `docs` documents.
    pub fn fits(&self, docs: usize) -> bool {
        self.has.len() == docs.div_ceil(64)
    }

    /// The views of a document (0 when it has none).
    #[inline(always)]
    pub fn get(&self, id: u32) -> i64 {
        match self.has.get(id as usize / 64) {
            Some(w) if w & (1 << (id % 64)) != 0 => by_id(&self.counts, id),
            _ => 0,
        }
    }
}

/// Guide views per document: resolved once per isolate, looked up by code
/// for a few candidates, or resolved to document ids when the candidates
/// outnumber the counts.
enum Views<'a> {
    None,
    /// The counts and the largest (a bound for documents not yet read).
    ByCode(&'a HashMap<String, i64>, i64),
    ById(IdViews),
    Resolved(&'a IdViews),
}

impl<'a> Views<'a> {
    fn new(index: &impl SearchIndex, p: &'a Params, candidates: usize) -> Self {
        if let Some(ids) = p.views_by_id.as_deref().filter(|v| v.fits(index.doc_count())) {
            return if ids.is_empty() { Views::None } else { Views::Resolved(ids) };
        }
        match p.popularity.as_deref() {
            None => Views::None,
            Some(m) if m.is_empty() => Views::None,
            Some(m) if candidates > 4 * m.len() => Views::ById(IdViews::resolve(index, m)),
            Some(m) => Views::ByCode(m, m.values().copied().max().unwrap_or(0).max(0)),
        }
    }

    /// The views of a document when known without reading it.
    #[inline(always)]
    fn cheap(&self, id: u32) -> Option<i64> {
        match self {
            Views::None => Some(0),
            Views::ByCode(..) => None,
            Views::ById(m) => Some(m.get(id)),
            Views::Resolved(m) => Some(m.get(id)),
        }
    }

    /// At least the views of a document.
    fn bound(&self, id: u32) -> i64 {
        match self {
            Views::ByCode(_, max) => *max,
            _ => self.cheap(id).unwrap_or(0),
        }
    }

    fn of<I: SearchIndex>(&self, index: &I, id: u32, d: Option<&I::Doc<'_>>) -> i64 {
        match self {
            Views::ByCode(m, _) => {
                let code = match d {
                    Some(d) => m.get(d.code().as_ref()).copied(),
                    None => index.doc(id).and_then(|d| m.get(d.code().as_ref()).copied()),
                };
                code.unwrap_or(0)
            }
            _ => self.cheap(id).unwrap_or(0),
        }
    }
}

/// Out of the candidates' loop (a hash lookup is large inline).
#[inline(never)]
fn by_id(m: &HashMap<u32, i64>, id: u32) -> i64 {
    m.get(&id).copied().unwrap_or(0)
}

/// The nearest hall of a candidate: its position and rounded distance.
type Near = Option<(usize, u64)>;

/// Popular items rise gently: log-scaled so a flood of views cannot
/// outrank a better textual match (no views: nothing, as the log gives).
#[inline(always)]
fn view_points(views: i64) -> f64 {
    if views == 0 { 0.0 } else { 2.0 * (1.0 + views as f64).ln() }
}

#[inline(always)]
fn near_boost(near: Near) -> f64 {
    near.map_or(0.0, |(_, m)| {
        if m < 2_000 {
            20.0
        } else if m < 5_000 {
            10.0
        } else {
            0.0
        }
    })
}

/// What the ranking is given: every document (an empty query), one term's
/// postings, or a scored list.
enum Cands {
    Browse,
    Term(String),
    List(Vec<(u32, Score)>),
}

/// A ranked candidate: its exact score, or (until read) an upper bound.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u32,
    score: f64,
    raw: f64,
    m: Option<NameMatch>,
    exact: bool,
    near: Near,
}

/// Candidates up to which each is read and scored exactly at once.
const EAGER_CANDIDATES: usize = 256;

/// An integer ordered as [`f64::total_cmp`] orders floats.
#[inline(always)]
fn total_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// Best first; docs are in code order, so the id breaks ties as the code would.
#[inline(always)]
fn order(x: &Entry, y: &Entry) -> Ordering {
    y.score.total_cmp(&x.score).then_with(|| x.id.cmp(&y.id))
}

/// How candidates are scored: the query's compact text and runs, and
/// whatever bounds a document's score without reading it.
struct Ranking<'a, I> {
    index: &'a I,
    p: &'a Params,
    browse: bool,
    compact: String,
    compact_chars: usize,
    runs: Vec<String>,
    /// Per run: its characters and whether a keyword may equal it.
    /// (Found on the first bound: a keyword lookup per run.)
    run_facts: std::cell::OnceCell<Vec<(usize, bool)>>,
    /// The postings' name matches hold (the query is their term alone).
    matches_hold: bool,
    /// The query has ASCII letters.
    letters: bool,
    /// A one-term query ranked from the postings' matches alone.
    term_quick: bool,
    /// Score every candidate exactly at once (documents are cheap to
    /// read, or too few to be worth bounding).
    eager: bool,
    views: Views<'a>,
}

impl<I: SearchIndex> Ranking<'_, I> {
    /// An entry for a candidate: exact when the brief and the postings
    /// suffice, otherwise an upper bound to be read later if it may rank.
    /// The exact score when the brief and the postings suffice.
    #[inline(always)]
    fn quick(&self, id: u32, raw: f64, m: Option<NameMatch>, b: &Brief) -> Option<f64> {
        if self.term_quick
            && let (Some(m), Some(c)) = (m, b.name_chars())
        {
            let views = self.views.cheap(id)?;
            return Some(raw + matched_bonus(c, self.compact_chars >= 2, m) + view_points(views) + near_boost(None));
        }
        let m = m.filter(|_| self.matches_hold);
        if self.p.near.is_some() || !(self.browse || (m.is_some() && b.name_chars().is_some())) {
            return None;
        }
        let views = self.views.cheap(id)?;
        Some(self.score(raw, m, b.name_chars(), None, views) + near_boost(None))
    }

    /// An entry for a candidate [`Self::quick`] cannot score: exact when
    /// documents are cheap to read, otherwise an upper bound to be read
    /// later if it may rank.
    fn entry(&self, id: u32, raw: f64, m: Option<NameMatch>, b: &Brief) -> Entry {
        let m = m.filter(|_| self.matches_hold);
        let mut e = Entry { id, score: 0.0, raw, m, exact: false, near: None };
        if self.eager {
            e.exact = true;
            e.score = if self.resolve(&mut e) { e.score } else { f64::NEG_INFINITY };
            return e;
        }
        e.score = self.bound(raw, m, b, self.views.bound(id));
        e
    }

    /// The score of a document whose name bonus is known or computed.
    #[inline(always)]
    fn score(&self, raw: f64, m: Option<NameMatch>, chars: Option<usize>, d: Option<&I::Doc<'_>>, views: i64) -> f64 {
        if self.browse {
            return views as f64;
        }
        let bonus = match (m, chars, d) {
            (Some(m), Some(c), _) => matched_bonus(c, self.compact_chars >= 2, m),
            (_, _, Some(d)) => name_bonus(d, &self.compact, &self.runs),
            _ => f64::NEG_INFINITY,
        };
        raw + bonus + view_points(views)
    }

    /// At least the score, from the brief alone: the bonus with every part
    /// the name's length allows (the same sums, each part at its largest).
    fn bound(&self, raw: f64, m: Option<NameMatch>, b: &Brief, views: i64) -> f64 {
        let boost = if self.p.near.is_some() { 20.0 } else { 0.0 };
        if self.browse {
            return views as f64 + boost;
        }
        let bonus = match (m, b.name_chars()) {
            (Some(m), Some(c)) => matched_bonus(c, self.compact_chars >= 2, m),
            // A name holds the query only if it is at least as long (and
            // has letters, if the query has).
            (_, Some(c)) => {
                let rel = match c.cmp(&self.compact_chars) {
                    _ if self.letters && !b.letters() => Rel::None,
                    Ordering::Less => Rel::None,
                    Ordering::Equal => Rel::Equal,
                    Ordering::Greater => Rel::Prefix,
                };
                let runs = self.run_facts().iter();
                runs.fold(base_bonus(c, rel), |acc, (n, tag)| run_bonus(acc, *n >= 2 && c >= *n, *tag))
            }
            (_, None) => {
                let runs = self.run_facts().iter();
                runs.fold(base_bonus(0, Rel::Equal), |acc, (n, tag)| run_bonus(acc, *n >= 2, *tag))
            }
        };
        raw + bonus + view_points(views) + boost
    }

    fn run_facts(&self) -> &[(usize, bool)] {
        self.run_facts
            .get_or_init(|| self.runs.iter().map(|r| (r.chars().count(), self.index.tag_may_equal(r))).collect())
    }

    /// Reads the document and sets the exact score (and nearest hall);
    /// `false` when the document cannot be read.
    fn resolve(&self, e: &mut Entry) -> bool {
        let Some(d) = self.index.doc(e.id) else { return false };
        let chars = e.m.and_then(|_| self.index.brief(e.id)).and_then(Brief::name_chars);
        let views = self.views.of(self.index, e.id, Some(&d));
        let near = self.p.near.and_then(|(lat, lng)| nearest(self.index, &d, lat, lng));
        e.score = self.score(e.raw, e.m, chars, Some(&d), views) + near_boost(near);
        e.near = near;
        e.exact = true;
        true
    }
}

/// An entry ordered best first (the greatest is the worst), for a heap of
/// the best so far.
struct Ranked(Entry);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        order(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        order(&self.0, &other.0)
    }
}

/// Keeps the best `keep` candidates while they stream in: once `keep` exact
/// scores are known, a candidate whose bound ranks below the worst of them
/// is dropped unread.
struct Ranker {
    keep: usize,
    cap: usize,
    buf: Vec<Entry>,
    threshold: Option<Entry>,
}

impl Ranker {
    fn new(keep: usize) -> Self {
        Ranker { keep, cap: keep.saturating_mul(2).max(256), buf: Vec::new(), threshold: None }
    }

    /// Whether a candidate of this score (exact or bound) ranks below
    /// what is already kept.
    #[inline(always)]
    fn beaten(&self, score: f64, id: u32) -> bool {
        if self.keep == 0 {
            return true;
        }
        match &self.threshold {
            None => false,
            // As `total_cmp` orders, without a branch per outcome (scores
            // tie often and unpredictably).
            Some(t) => {
                let (s, k) = (total_key(score), total_key(t.score));
                (s < k) | ((s == k) & (id > t.id))
            }
        }
    }

    fn push(&mut self, e: Entry, resolve: impl Fn(&mut Entry) -> bool) {
        if self.beaten(e.score, e.id) {
            return;
        }
        self.buf.push(e);
        if self.buf.len() >= self.cap {
            self.reduce(&resolve);
            self.cap = self.cap.max(self.buf.len().saturating_mul(2));
        }
    }

    /// Leaves the best `keep`, exact and in order: reads the bounded
    /// entries best bound first, until the worst of the best `keep` known
    /// ranks above the next bound.
    fn reduce(&mut self, resolve: &impl Fn(&mut Entry) -> bool) {
        if self.buf.iter().all(|e| e.exact) {
            // Nothing to read: the best `keep` in order, as a plain sort finds them.
            if self.keep > 0 && self.buf.len() > self.keep {
                self.buf.select_nth_unstable_by(self.keep - 1, order);
                self.buf.truncate(self.keep);
            }
            self.buf.sort_by(order);
            if self.buf.len() >= self.keep {
                self.threshold = self.buf.last().copied();
            }
            return;
        }
        let (exact, mut pending): (Vec<Entry>, Vec<Entry>) = self.buf.drain(..).partition(|e| e.exact);
        let mut best: std::collections::BinaryHeap<Ranked> = std::collections::BinaryHeap::with_capacity(self.keep + 1);
        let add = |best: &mut std::collections::BinaryHeap<Ranked>, e: Entry| {
            if best.len() < self.keep {
                best.push(Ranked(e));
            } else if best.peek().is_some_and(|w| order(&e, &w.0) == Ordering::Less) {
                best.pop();
                best.push(Ranked(e));
            }
        };
        exact.into_iter().for_each(|e| add(&mut best, e));
        pending.sort_unstable_by(order);
        for mut e in pending {
            if best.len() >= self.keep && best.peek().is_some_and(|w| order(&e, &w.0) == Ordering::Greater) {
                break;
            }
            if resolve(&mut e) {
                add(&mut best, e);
            }
        }
        self.buf = best.into_sorted_vec().into_iter().map(|r| r.0).collect();
        if self.buf.len() >= self.keep {
            self.threshold = self.buf.last().copied();
        }
    }

    /// The best `keep`, exact and in order.
    fn finish(mut self, resolve: impl Fn(&mut Entry) -> bool) -> Vec<Entry> {
        if self.keep > 0 {
            self.reduce(&resolve);
        }
        self.buf
    }
}

/// One pass over the candidates: filters, facets, the total and the ranking.
struct Visit<'a, I> {
    index: &'a I,
    /// One-term bonuses by match (4 bits) and name length (NaN: not yet).
    bonuses: Vec<f64>,
    briefs: Option<Briefs<'a>>,
    needs_doc: bool,
    filters: &'a Filters<'a>,
    rank: &'a Ranking<'a, I>,
    ranker: Ranker,
    facets: Vec<usize>,
    total: usize,
}

impl<I: SearchIndex> Visit<'_, I> {
    #[inline(always)]
    fn visit(&mut self, id: u32, raw: f64, m: Option<NameMatch>) {
        let b = match &self.briefs {
            Some(col) => col.get(id),
            None => self.index.brief(id),
        };
        let Some(b) = b else { return };
        // Counted without a branch on the flags (they vary doc to doc).
        let pass =
            self.filters.flags(&b) && self.filters.region(self.index, id) && (!self.needs_doc || self.doc_passes(id));
        if let Some(n) = self.facets.get_mut(b.cat() as usize) {
            *n += usize::from(pass);
        }
        if pass & self.filters.category(b.cat()) {
            self.ranked(id, raw, m, b);
        }
    }

    /// A candidate that passed every filter: counted and ranked.
    #[inline(always)]
    fn ranked(&mut self, id: u32, raw: f64, m: Option<NameMatch>, b: Brief) {
        {
            self.total += 1;
            if let (true, Some(m), Some(c), Some(views)) =
                (self.rank.term_quick, m, b.name_chars(), self.rank.views.cheap(id))
            {
                // A one-term query: the bonus is one of few, by match and length.
                let k = usize::from(m.contains)
                    | usize::from(m.prefix) << 1
                    | usize::from(m.equal) << 2
                    | usize::from(m.tag) << 3
                    | c << 4;
                let bonus = match self.bonuses.get(k) {
                    Some(b) if !b.is_nan() => *b,
                    _ => self.bonus(k, c, m),
                };
                // Adding 0.0 (no views, no hall) changes no positive sum.
                let mut score = raw + bonus;
                if views != 0 {
                    score += view_points(views);
                }
                if !self.ranker.beaten(score, id) {
                    self.keep(Entry { id, score, raw, m: Some(m), exact: true, near: None });
                }
                return;
            }
            match self.rank.quick(id, raw, m, &b) {
                // Known without the document: most are dropped right here.
                Some(score) => {
                    if !self.ranker.beaten(score, id) {
                        self.keep(Entry { id, score, raw, m, exact: true, near: None });
                    }
                }
                None => self.bounded(id, raw, m, b),
            }
        }
    }

    #[inline(never)]
    fn bonus(&mut self, k: usize, chars: usize, m: NameMatch) -> f64 {
        let b = matched_bonus(chars, self.rank.compact_chars >= 2, m);
        if let Some(slot) = self.bonuses.get_mut(k) {
            *slot = b;
        }
        b
    }

    /// The rarer paths, out of the candidates' loop.
    #[inline(never)]
    fn doc_passes(&self, id: u32) -> bool {
        self.index.doc(id).is_some_and(|d| self.filters.others(&d))
    }

    #[inline(never)]
    fn keep(&mut self, e: Entry) {
        let rank = self.rank;
        self.ranker.push(e, |e| rank.resolve(e));
    }

    #[inline(never)]
    fn bounded(&mut self, id: u32, raw: f64, m: Option<NameMatch>, b: Brief) {
        let rank = self.rank;
        self.ranker.push(rank.entry(id, raw, m, &b), |e| rank.resolve(e));
    }
}

fn assemble<I: SearchIndex>(index: &I, p: &Params, effective: &str, cands: Cands, mut a: Answer) -> Answer {
    let browse = matches!(cands, Cands::Browse);
    let compact: String = effective.chars().filter(|c| !c.is_whitespace()).collect();
    let runs: Vec<String> = cjk_runs(effective).into_iter().map(|r| r.into_iter().collect()).collect();
    let filters = Filters::new(index, p);
    let hint = match &cands {
        Cands::Browse => index.doc_count(),
        Cands::Term(t) => index.posting_count(t).unwrap_or(0),
        Cands::List(v) => v.len(),
    };
    let rank = Ranking {
        index,
        p,
        browse,
        compact_chars: compact.chars().count(),
        run_facts: std::cell::OnceCell::new(),
        eager: index.docs_are_cheap() || hint <= EAGER_CANDIDATES,
        matches_hold: matches!(&cands, Cands::Term(t) if t == effective),
        letters: effective.chars().any(|c| c.is_ascii_alphabetic()),
        term_quick: !browse && p.near.is_none() && matches!(&cands, Cands::Term(t) if t == effective),
        compact,
        runs,
        views: Views::new(index, p, hint),
    };
    // Only the requested page needs ordering (all of it when the page is 0).
    let end = (p.page as usize).saturating_mul(p.size as usize);
    let keep = if end == 0 { p.size as usize } else { end };
    let mut v = Visit {
        index,
        // Worth filling only for many postings (none: computed each time).
        bonuses: if rank.term_quick && hint >= 4 * 16 * 256 { vec![f64::NAN; 16 * 256] } else { vec![] },
        briefs: index.briefs(),
        needs_doc: filters.needs_doc(),
        filters: &filters,
        rank: &rank,
        ranker: Ranker::new(keep),
        facets: vec![0usize; index.cats().len()],
        total: 0,
    };
    match &cands {
        Cands::Browse => (0..index.doc_count() as u32).for_each(|i| v.visit(i, 0.0, None)),
        Cands::Term(t) => match (v.briefs, filters.brief_mask(), v.needs_doc || filters.region.is_some()) {
            // The common case in one tight loop: each filter but the
            // document's department and keywords is a mask of its brief.
            (Some(col), Some((fmask, fwant, cmask, cwant)), false) => {
                // Flags and category in one comparison (their bits do not
                // overlap): a branch that rarely goes the other way.
                let (mask, want) = (fmask | cmask, fwant | cwant);
                index.term_chunks(t, &mut |chunk| {
                    for &(d, w, m) in chunk {
                        let Some(b) = col.get(d) else { continue };
                        let word = b.word();
                        if let Some(n) = v.facets.get_mut((word & 0xffff) as usize) {
                            *n += usize::from(word & fmask == fwant);
                        }
                        if word & mask == want {
                            v.ranked(d, f64::from(w), m, b);
                        }
                    }
                })
            }
            _ => index.term_chunks(t, &mut |chunk| {
                for &(d, w, m) in chunk {
                    v.visit(d, f64::from(w), m);
                }
            }),
        },
        Cands::List(list) => list.iter().for_each(|(d, s)| v.visit(*d, s.raw, None)),
    }
    let Visit { ranker, facets, total, .. } = v;
    let resolve = |e: &mut Entry| rank.resolve(e);
    a.total = total;
    let hits = ranker.finish(resolve);
    a.facets = facets
        .into_iter()
        .zip(index.cats())
        .filter(|(n, _)| *n > 0)
        .map(|(n, c)| Facet { category: c.clone(), count: n })
        .collect();
    a.facets.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.category.cmp(&y.category)));
    let start = (p.page.saturating_sub(1) as usize).saturating_mul(p.size as usize);
    // The query's n-grams as characters, once for the page's highlights.
    let marks = crate::fulltext::term_chars(&query_terms(effective));
    a.items = hits
        .into_iter()
        .skip(start)
        .take(p.size as usize)
        .filter_map(|e| {
            let near = e.near.and_then(|(h, m)| {
                index.hall(h).map(|h| NearHall { id: h.id.clone(), name: h.name.clone(), distance_m: m })
            });
            let region = index.region_id(e.id).and_then(|r| index.regions().view(r));
            index.doc(e.id).map(|d| Hit { region, ..hit(&d, e.score, near, &marks) })
        })
        .collect();
    a
}

fn nearest(index: &impl SearchIndex, d: &impl DocView, lat: f64, lng: f64) -> Near {
    d.halls()
        .filter_map(|i| index.hall(i).map(|h| (i, h)))
        .map(|(i, h)| (i, distance_m(lat, lng, h.lat, h.lng)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, m)| (i, m.round() as u64))
}

/// `marks`: the query's n-grams as characters (what the name highlights).
fn hit(d: &impl DocView, score: f64, near: Option<NearHall>, marks: &[Vec<char>]) -> Hit {
    let name = d.name();
    Hit {
        code: d.code().into_owned(),
        highlights: crate::fulltext::highlight_ranges(&name, marks),
        name: name.into_owned(),
        category: d.category().to_owned(),
        department: d.department().to_owned(),
        tags: d.tags().map(str::to_owned).collect(),
        online: d.online(),
        appointment: d.appointment(),
        score: (score * 100.0).round() / 100.0,
        nearest_hall: near,
        region: None,
        matched: None,
    }
}

/// Docs that can complete `compact`: for Chinese, those holding its rarest
/// n-gram (every completion contains all of them); for letters, the pinyin
/// keys; otherwise (partial syllables) every doc.
fn suggest_candidates(index: &impl SearchIndex, compact: &str, py: &str) -> Vec<u32> {
    let terms = query_terms(compact);
    if !terms.is_empty() && !compact.chars().any(|c| c.is_ascii_alphabetic()) {
        let mut rarest: Option<(&String, usize)> = None;
        for t in &terms {
            if let Some(n) = index.posting_count(t)
                && rarest.is_none_or(|(_, m)| n < m)
            {
                rarest = Some((t, n));
            }
        }
        return rarest.map(|(t, _)| index.postings(t).map(|(d, _)| d).collect()).unwrap_or_default();
    }
    match index.pinyin_candidates(py) {
        Some(c) => c.into_owned(),
        None => (0..index.doc_count() as u32).collect(),
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

/// Completions over item names, keywords and pinyin prefixes (in-memory index).
pub fn suggest(index: &Index, q: &str) -> ApiResult<Vec<Suggestion>> {
    suggest_in(index, q)
}

/// Completions over item names, keywords and pinyin prefixes, from any index.
pub fn suggest_in<I: SearchIndex>(index: &I, q: &str) -> ApiResult<Vec<Suggestion>> {
    suggest_in_region(index, q, None)
}

/// Completions among the items a citizen of `region` is served by.
pub fn suggest_in_region<I: SearchIndex>(
    index: &I,
    q: &str,
    region: Option<&shared::types::Region>,
) -> ApiResult<Vec<Suggestion>> {
    known_region(index, region)?;
    let seen = region.map(|r| RegionFilter::new(index.regions(), r));
    let norm = normalize(q);
    if norm.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_field("q", format!("输入内容不超过{MAX_QUERY_CHARS}个字")));
    }
    let compact: String = norm.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() || index.banned().iter().any(|w| compact.contains(w.as_str())) {
        return Ok(vec![]);
    }
    let (py, _) = pinyin_forms(&compact);
    let mut ranked: Vec<(u8, usize, u32)> = suggest_candidates(index, &compact, &py)
        .into_iter()
        .filter(|i| seen.as_ref().is_none_or(|f| f.passes(index.region_id(*i))))
        .filter_map(|i| {
            let d = index.doc(i)?;
            let name_norm = d.name_norm();
            let (full, initials) = (d.name_pinyin(), d.name_initials());
            let rank = if name_norm.starts_with(&compact) {
                0
            } else if name_norm.contains(&compact) {
                1
            } else if py.len() >= 2 && full.starts_with(&py) {
                2
            } else if py.len() >= 2 && initials.starts_with(&py) {
                3
            } else if py.len() >= 3 && (initials.contains(&py) || (py.len() >= 4 && full.contains(&py))) {
                4
            } else if d.tags_norm().any(|t| t.starts_with(&compact)) {
                5
            } else {
                return None;
            };
            Some((rank, d.name_chars(), i))
        })
        .collect();
    // Docs are in code order: the id breaks ties as the code would.
    ranked.sort_unstable();
    let mut out: Vec<Suggestion> = Vec::new();
    for (_, _, i) in ranked {
        if out.len() == MAX_SUGGESTIONS {
            break;
        }
        let Some(d) = index.doc(i) else { continue };
        let name = d.name();
        if !out.iter().any(|s| s.text == name) {
            out.push(Suggestion { text: name.into_owned(), code: Some(d.code().into_owned()) });
        }
    }
    Ok(out)
}

/// A region filter must name a region the index knows (in the `regions`
/// table, or carried by some item).
fn known_region(index: &impl SearchIndex, region: Option<&shared::types::Region>) -> ApiResult<()> {
    match region {
        Some(r) if index.regions().id(r).is_none() => {
            Err(ApiError::bad_field("region", format!("未知的行政区划代码 {r}：没有该地区的事项")))
        }
        _ => Ok(()),
    }
}
