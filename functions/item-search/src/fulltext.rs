//! Full text of a guide (issue 19): 申请材料, 申请条件, 办理流程 and the
//! guide's 常见问题, searched with a weight below names and keywords.
//!
//! The index holds only their n-gram postings (no text: at 100,000 items
//! the text would outweigh the index). Where a hit matched is found at
//! answer time by [`locate`], a pure function over the text of the page's
//! hits, which the answer reads from D1 in one query (see [`crate::enrich`]).

use crate::text::{cjk_runs, fold_char, normalize};
use crate::weights::{W_MATERIAL, W_TEXT};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Longest snippet of a located match, in characters.
pub const SNIPPET_CHARS: usize = 60;
/// Characters kept before the first highlighted one in a snippet.
const LEAD_CHARS: usize = 12;

/// A searched part of a guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Materials,
    Conditions,
    Process,
    Faq,
    Scope,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Materials => "materials",
            Field::Conditions => "conditions",
            Field::Process => "process",
            Field::Faq => "faq",
            Field::Scope => "scope",
        }
    }

    /// The guide's own heading of the field, as a citizen reads it.
    pub fn label(self) -> &'static str {
        match self {
            Field::Materials => "申请材料",
            Field::Conditions => "申请条件",
            Field::Process => "办理流程",
            Field::Faq => "常见问题",
            Field::Scope => "适用范围",
        }
    }

    /// The field's weight in the index (names 10 and keywords 6 rank above).
    pub fn weight(self) -> u32 {
        match self {
            Field::Materials => W_MATERIAL,
            _ => W_TEXT,
        }
    }
}

/// One 办理流程 step.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Step {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// One question and answer of a guide.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Qa {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub a: String,
}

/// The columns of an `items` row that hold its guide's searched text (the
/// scope, then the JSON arrays [`GuideText::from_json`] reads): the index's
/// build and the answer's read select the same.
pub const TEXT_COLUMNS: &str = "json_extract(guide, '$.scope') AS scope,
    (SELECT json_group_array(m.name) FROM materials m WHERE m.item_code = items.code) AS materials,
    json_extract(guide, '$.conditions') AS conditions,
    json_extract(guide, '$.process') AS process,
    json_extract(guide, '$.faq') AS faq";

/// What [`TEXT_COLUMNS`] selects, as a row reads it.
#[derive(Debug, Deserialize)]
pub struct TextColumns {
    pub scope: Option<String>,
    materials: Option<String>,
    conditions: Option<String>,
    process: Option<String>,
    faq: Option<String>,
}

impl TextColumns {
    /// The guide's text (a missing or malformed array is empty).
    pub fn text(&self) -> GuideText {
        GuideText {
            scope: self.scope.clone().unwrap_or_default(),
            ..GuideText::from_json(
                self.materials.as_deref(),
                self.conditions.as_deref(),
                self.process.as_deref(),
                self.faq.as_deref(),
            )
        }
    }
}

/// The searched text of one guide beside its name and keywords.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuideText {
    pub materials: Vec<String>,
    pub conditions: Vec<String>,
    pub process: Vec<Step>,
    pub faq: Vec<Qa>,
    pub scope: String,
}

fn list<T: serde::de::DeserializeOwned>(json: Option<&str>) -> Vec<T> {
    json.and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

impl GuideText {
    /// From the JSON arrays D1 returns (a missing or malformed one is empty).
    pub fn from_json(
        materials: Option<&str>,
        conditions: Option<&str>,
        process: Option<&str>,
        faq: Option<&str>,
    ) -> Self {
        GuideText {
            materials: list(materials),
            conditions: list(conditions),
            process: list(process),
            faq: list(faq),
            scope: String::new(),
        }
    }

    /// Every indexed passage (the scope aside: the index reads it itself),
    /// materials first.
    pub fn passages(&self) -> impl Iterator<Item = (Field, &str)> {
        let m = self.materials.iter().map(|t| (Field::Materials, t.as_str()));
        let c = self.conditions.iter().map(|t| (Field::Conditions, t.as_str()));
        let p =
            self.process.iter().flat_map(|s| [s.name.as_str(), s.description.as_str()]).map(|t| (Field::Process, t));
        let f = self.faq.iter().flat_map(|x| [x.q.as_str(), x.a.as_str()]).map(|t| (Field::Faq, t));
        m.chain(c).chain(p).chain(f)
    }

    /// The passages shown when a hit is located: a step as "name：description",
    /// a Q&A as "question answer", then the scope.
    fn shown(&self) -> Vec<(Field, String)> {
        let mut out: Vec<(Field, String)> = Vec::new();
        out.extend(self.materials.iter().map(|t| (Field::Materials, t.clone())));
        out.extend(self.conditions.iter().map(|t| (Field::Conditions, t.clone())));
        out.extend(self.process.iter().map(|s| (Field::Process, step_text(s))));
        out.extend(self.faq.iter().map(|x| (Field::Faq, format!("{} {}", x.q, x.a))));
        if !self.scope.is_empty() {
            out.push((Field::Scope, self.scope.clone()));
        }
        out
    }
}

fn step_text(s: &Step) -> String {
    match (s.name.is_empty(), s.description.is_empty()) {
        (false, false) => format!("{}：{}", s.name, s.description),
        (true, _) => s.description.clone(),
        (false, true) => s.name.clone(),
    }
}

/// Bigrams of normalised text (a full-text passage adds no unigrams: one
/// character in a guide's prose tells nothing, and they would double its
/// postings).
pub fn bigrams(norm: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in cjk_runs(norm) {
        out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
    }
    out
}

/// Guides (at least) whose prose (conditions, steps, Q&A) may share a
/// bigram before it counts as boilerplate ("窗口", "受理"), of 1/20 of the
/// guides: such a bigram would tell no item apart, and its postings cost
/// most (about half a byte per guide).
const PROSE_MIN_DOCS: usize = 1_000;
const PROSE_SHARE: usize = 20;

/// The prose bigrams held by more guides than [`PROSE_MIN_DOCS`] or
/// 1/[`PROSE_SHARE`] of them (materials are never left out: what to bring
/// is asked of every item).
pub fn common_prose(texts: &[GuideText]) -> HashSet<String> {
    let mut c = ProseCounter::default();
    texts.iter().for_each(|t| c.add(t));
    c.common()
}

/// [`common_prose`] a guide at a time (the cron reads guides page by page).
#[derive(Debug, Default)]
pub struct ProseCounter {
    guides: usize,
    df: HashMap<String, usize>,
}

impl ProseCounter {
    pub fn add(&mut self, t: &GuideText) {
        let mut seen: HashSet<String> = HashSet::new();
        for (field, passage) in t.passages() {
            if field != Field::Materials {
                seen.extend(bigrams(&normalize(passage)));
            }
        }
        for b in seen {
            *self.df.entry(b).or_insert(0) += 1;
        }
        self.guides += 1;
    }

    pub fn common(self) -> HashSet<String> {
        let max = PROSE_MIN_DOCS.max(self.guides / PROSE_SHARE);
        self.df.into_iter().filter(|(_, n)| *n > max).map(|(b, _)| b).collect()
    }
}

/// The terms a guide's text adds to the index, each with its field (a
/// prose bigram in `common` left out).
pub fn indexed_terms<'a>(
    text: &'a GuideText,
    common: &'a HashSet<String>,
) -> impl Iterator<Item = (Field, String)> + 'a {
    text.passages().flat_map(move |(field, passage)| {
        bigrams(&normalize(passage))
            .into_iter()
            .filter(move |b| field == Field::Materials || !common.contains(b))
            .map(move |b| (field, b))
    })
}

/// Where a hit matched outside its name: `申请材料：居民户口簿`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Matched {
    pub field: &'static str,
    pub label: &'static str,
    /// A snippet of at most [`SNIPPET_CHARS`] characters around the match.
    pub text: String,
    /// Character ranges `[start, end)` of `text` that matched.
    pub highlights: Vec<[usize; 2]>,
}

/// Characters of `text`, each normalised alone (so positions stay those of
/// the original text).
fn folded(text: &str) -> Vec<char> {
    text.chars().map(fold_char).collect()
}

/// Marks every occurrence of each term in `chars`; returns the marks and
/// how many distinct terms occur.
fn mark(chars: &[char], terms: &[Vec<char>]) -> (Vec<bool>, usize) {
    let mut marked = vec![false; chars.len()];
    let mut found = 0;
    for t in terms.iter().filter(|t| !t.is_empty()) {
        let mut any = false;
        for (i, w) in chars.windows(t.len()).enumerate() {
            if w == t.as_slice() {
                marked.iter_mut().skip(i).take(t.len()).for_each(|m| *m = true);
                any = true;
            }
        }
        found += usize::from(any);
    }
    (marked, found)
}

/// Runs of marked positions as `[start, end)` ranges.
fn ranges(marked: &[bool]) -> Vec<[usize; 2]> {
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

/// Character ranges `[start, end)` of `text` covered by any of `terms`.
pub fn highlight_ranges(text: &str, terms: &[Vec<char>]) -> Vec<[usize; 2]> {
    ranges(&mark(&folded(text), terms).0)
}

/// A highlighted snippet of `text`: at most `max` characters, starting a
/// little before the first match (the whole text when it is short enough).
pub fn snippet(text: &str, terms: &[Vec<char>], max: usize) -> (String, Vec<[usize; 2]>, usize) {
    snippet_of(text, &folded(text), terms, max)
}

/// [`snippet`] of a text already [`folded`].
fn snippet_of(text: &str, folded: &[char], terms: &[Vec<char>], max: usize) -> (String, Vec<[usize; 2]>, usize) {
    let chars: Vec<char> = text.chars().collect();
    let (marked, found) = mark(folded, terms);
    let first = marked.iter().position(|m| *m).unwrap_or(0);
    let start = if chars.len() <= max { 0 } else { first.saturating_sub(LEAD_CHARS).min(chars.len() - max) };
    let end = chars.len().min(start + max);
    let shown: String = chars.get(start..end).unwrap_or_default().iter().collect();
    let hl = ranges(marked.get(start..end).unwrap_or_default());
    (shown, hl, found)
}

/// How many distinct terms occur in `text`.
pub fn covered(text: &str, terms: &[Vec<char>]) -> usize {
    mark(&folded(text), terms).1
}

/// Query terms as character vectors (bigrams, and one-character runs).
pub fn term_chars(terms: &[String]) -> Vec<Vec<char>> {
    terms.iter().map(|t| t.chars().collect()).collect()
}

/// Where `rest` (the query terms the name lacks) match in a guide's text:
/// the passage covering the most of them, then the most of `all` (the
/// query's terms), materials first among equals; `None` when no passage
/// holds any of `rest`. The snippet highlights every term of `all`.
pub fn locate(text: &GuideText, rest: &[String], all: &[String]) -> Option<Matched> {
    let want = term_chars(rest);
    let every = term_chars(all);
    let mut best: Option<((usize, usize), Matched)> = None;
    for (field, passage) in text.shown() {
        let f = folded(&passage);
        let found = (mark(&f, &want).1, mark(&f, &every).1);
        if found.0 > 0 && best.as_ref().is_none_or(|(n, _)| found > *n) {
            let (shown, highlights, _) = snippet_of(&passage, &f, &every, SNIPPET_CHARS);
            best = Some((found, Matched { field: field.as_str(), label: field.label(), text: shown, highlights }));
        }
    }
    best.map(|(_, m)| m)
}

/// The query terms a name does not hold (what the rest of the guide must
/// have matched), or all of them when the name holds none.
pub fn terms_beyond_name(name: &str, terms: &[String]) -> Vec<String> {
    let name: String = folded(name).into_iter().collect();
    let rest: Vec<String> = terms.iter().filter(|t| !name.contains(t.as_str())).cloned().collect();
    rest
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn guide() -> GuideText {
        GuideText {
            materials: vec!["居民身份证".into(), "居民户口簿（原件）".into()],
            conditions: vec!["本市户籍居民".into()],
            process: vec![Step { name: "受理".into(), description: "窗口核验不动产权证书原件".into() }],
            faq: vec![Qa { q: "可以代办吗？".into(), a: "可以，代办人需携带委托书。".into() }],
            scope: "办理营业执照的法人。".into(),
        }
    }

    fn terms(q: &str) -> Vec<String> {
        crate::text::query_terms(&normalize(q))
    }

    #[test]
    fn a_material_match_names_the_field_and_highlights_the_words() {
        let m = locate(&guide(), &terms("户口簿"), &terms("户口簿")).unwrap();
        assert_eq!((m.field, m.label, m.text.as_str()), ("materials", "申请材料", "居民户口簿（原件）"));
        assert_eq!(m.highlights, vec![[2, 5]]);
    }

    #[test]
    fn steps_answers_and_the_scope_are_located_too() {
        let m = locate(&guide(), &terms("不动产权证书"), &terms("不动产权证书")).unwrap();
        assert_eq!((m.field, m.text.as_str()), ("process", "受理：窗口核验不动产权证书原件"));
        assert_eq!(m.highlights, vec![[7, 13]]);
        assert_eq!(locate(&guide(), &terms("委托书"), &terms("委托书")).unwrap().field, "faq");
        assert_eq!(locate(&guide(), &terms("营业执照"), &terms("营业执照")).unwrap().label, "适用范围");
        assert_eq!(locate(&guide(), &terms("户籍"), &terms("户籍")).unwrap().label, "申请条件");
        assert!(locate(&guide(), &terms("公积金"), &terms("公积金")).is_none());
    }

    #[test]
    fn the_passage_covering_most_terms_wins_and_materials_win_ties() {
        let mut g = guide();
        g.conditions.push("持有居民户口簿和身份证".into());
        assert_eq!(locate(&g, &terms("户口簿 身份证"), &terms("户口簿 身份证")).unwrap().field, "conditions");
        assert_eq!(locate(&g, &terms("户口簿"), &terms("户口簿")).unwrap().field, "materials");
    }

    #[test]
    fn a_long_passage_is_cut_to_a_snippet_around_the_first_match() {
        let long = format!("{}户口簿{}", "甲".repeat(80), "乙".repeat(80));
        let (s, hl, found) = snippet(&long, &term_chars(&terms("户口簿")), SNIPPET_CHARS);
        assert_eq!((s.chars().count(), found), (SNIPPET_CHARS, 2));
        assert_eq!(hl, vec![[LEAD_CHARS, LEAD_CHARS + 3]]);
        let chars: Vec<char> = s.chars().collect();
        assert_eq!(chars[LEAD_CHARS..LEAD_CHARS + 3].iter().collect::<String>(), "户口簿");
        // Near the end: the window stops at the end of the text.
        let tail = format!("{}户口簿", "甲".repeat(100));
        let (s, hl, _) = snippet(&tail, &term_chars(&terms("户口簿")), SNIPPET_CHARS);
        assert!(s.ends_with("户口簿"));
        assert_eq!(hl, vec![[57, 60]]);
    }

    #[test]
    fn traditional_and_full_width_text_highlights_at_the_original_positions() {
        let g = GuideText { materials: vec!["（戶口簿）".into()], ..Default::default() };
        let m = locate(&g, &terms("户口簿"), &terms("户口簿")).unwrap();
        assert_eq!((m.text.as_str(), m.highlights.clone()), ("（戶口簿）", vec![[1, 4]]));
    }

    #[test]
    fn malformed_json_reads_as_empty_and_passages_come_materials_first() {
        let g =
            GuideText::from_json(Some("[\"户口簿\"]"), Some("not json"), None, Some("[{\"q\":\"问\",\"a\":\"答\"}]"));
        assert_eq!(g.conditions, Vec::<String>::new());
        let p: Vec<(Field, &str)> = g.passages().collect();
        assert_eq!(p, vec![(Field::Materials, "户口簿"), (Field::Faq, "问"), (Field::Faq, "答")]);
        assert_eq!(Field::Materials.weight(), 2);
        assert_eq!(Field::Faq.weight(), 1);
    }

    #[test]
    fn the_passage_is_chosen_by_the_terms_the_name_lacks_and_highlights_all() {
        let g = GuideText {
            materials: vec!["居民户口簿".into(), "户口迁移申请表".into()], ..Default::default()
        };
        let all = terms("户口簿");
        let rest = terms_beyond_name("户口迁移", &all);
        let m = locate(&g, &rest, &all).unwrap();
        assert_eq!((m.text.as_str(), m.highlights.clone()), ("居民户口簿", vec![[2, 5]]));
    }

    #[test]
    fn full_text_adds_bigrams_and_leaves_out_boilerplate_prose() {
        assert_eq!(bigrams("户口簿 证"), vec!["户口".to_string(), "口簿".to_string()]);
        let many: Vec<GuideText> = (0..PROSE_MIN_DOCS + 1)
            .map(|_| GuideText {
                materials: vec!["窗口".into()],
                conditions: vec!["窗口受理".into()],
                ..Default::default()
            })
            .collect();
        let common = common_prose(&many);
        assert!(common.contains("窗口") && common.contains("受理"));
        let terms: Vec<(Field, String)> = indexed_terms(&many[0], &common).collect();
        // The material keeps its bigram; the conditions' common ones are left out.
        assert_eq!(terms, vec![(Field::Materials, "窗口".to_string())]);
        assert!(common_prose(&many[..10]).is_empty());
    }

    #[test]
    fn terms_the_name_holds_are_left_to_the_name() {
        let t = terms("营业执照 户口簿");
        let rest = terms_beyond_name("营业执照变更", &t);
        assert!(rest.iter().all(|x| !"营业执照".contains(x.as_str())));
        assert!(rest.contains(&"户口".to_string()));
    }
}
