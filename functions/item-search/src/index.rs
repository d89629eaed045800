//! The in-memory search index: built from D1 once per isolate per catalogue
//! version (a few milliseconds per thousand items), then every query is
//! answered from memory. Character unigrams and bigrams handle the one- and
//! two-character queries that SQLite's trigram tokenizer cannot.
//!
//! [`SearchIndex`] and [`DocView`] are what a query reads of an index: this
//! one and the packed one ([`crate::packed::Packed`]) answer through them
//! with the same code, so both rank alike.

use crate::region::{self, NO_REGION, Regions};
use crate::text::{normalize, pinyin_forms, syllables, terms, window};
use serde::Deserialize;
use shared::ApiResult;
use shared::catalogue::repo;
use shared::store::Db;
use std::borrow::Cow;
use std::collections::HashMap;

pub use crate::weights::{W_MATERIAL, W_META, W_NAME, W_TAG, W_TEXT};

/// One searchable item.
#[derive(Debug, Clone)]
pub struct Doc {
    pub code: String,
    pub name: String,
    pub category: String,
    /// Position of `category` in [`Index::cats`] (cheap filters and facets).
    pub cat: u16,
    pub department: String,
    pub tags: Vec<String>,
    pub online: bool,
    pub appointment: bool,
    pub halls: Vec<usize>,
    pub name_norm: String,
    /// The normalised name without spaces (for exact and prefix bonuses).
    pub name_compact: String,
    pub tags_norm: Vec<String>,
    pub tag_syllables: Vec<Vec<String>>,
    pub name_pinyin: String,
    pub name_initials: String,
    pub name_syllables: Vec<String>,
    pub tag_pinyin: Vec<String>,
    /// Position of the item's region in [`Index::regions`] ([`NO_REGION`]: none).
    pub region: u16,
}

/// A hall, for the nearest-hall answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
}

/// The word lists editors maintain, as query parsing reads them.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WordLists {
    /// colloquial -> official (政务主题词库), longest first.
    pub thesaurus: Vec<(String, String)>,
    /// 错别字表: misspelling -> intended word, longest first.
    pub corrections: Vec<(String, String)>,
    /// Normalised, longest first.
    pub stop_words: Vec<String>,
    /// Normalised, none empty.
    pub banned: Vec<String>,
}

/// The index of one catalogue version.
#[derive(Debug, Default)]
pub struct Index {
    pub version: i64,
    pub docs: Vec<Doc>,
    /// term -> (doc, summed field weight)
    pub postings: HashMap<String, Vec<(u32, u32)>>,
    /// Syllable-aligned pinyin keys of names (1-3 syllables spelled out,
    /// 2-4 initials) -> docs, so letter queries look up candidates instead
    /// of scanning every name.
    pub pinyin_keys: HashMap<String, Vec<u32>>,
    pub halls: Vec<Hall>,
    pub words: WordLists,
    /// Category names in display order (事项分类, maintained by staff).
    pub categories: Vec<String>,
    /// The distinct categories of the indexed items, sorted (ids of `Doc::cat`).
    pub cats: Vec<String>,
    /// The regions named by the `regions` table or carried by an item.
    pub regions: Regions,
}

#[derive(Deserialize)]
pub(crate) struct ItemRow {
    pub(crate) code: String,
    name: String,
    category: String,
    department: String,
    tags: String,
    online: i64,
    appointment: i64,
    /// Full text (issue 19): the scope and the guide's text.
    #[serde(flatten)]
    pub(crate) text: crate::fulltext::TextColumns,
}

/// The columns [`ItemRow`] reads (full text included).
pub(crate) fn item_columns() -> String {
    format!("code, name, category, department, tags, online, appointment, {}", crate::fulltext::TEXT_COLUMNS)
}

#[derive(Deserialize)]
pub(crate) struct Pair {
    pub(crate) a: String,
    pub(crate) b: Option<String>,
}

/// What the whole catalogue shares, read from D1: everything an index holds
/// but its documents (the categories and regions of the items aside).
pub(crate) struct Lists {
    pub(crate) version: i64,
    pub(crate) halls: Vec<Hall>,
    pub(crate) words: WordLists,
    pub(crate) categories: Vec<String>,
    pub(crate) region_names: Vec<(String, String)>,
}

impl Lists {
    pub(crate) async fn load(db: &impl Db) -> ApiResult<Lists> {
        let version = repo::catalog_version(db).await?;
        let halls: Vec<Hall> = db.query_as("SELECT id, name, lat, lng FROM halls ORDER BY id", &[]).await?;
        let words = |sql: &'static str| async move { db.query_as::<Pair>(sql, &[]).await };
        let thesaurus = words("SELECT term AS a, official AS b FROM search_thesaurus").await?;
        let stop = words("SELECT word AS a, NULL AS b FROM search_stop_words").await?;
        let banned = words("SELECT word AS a, NULL AS b FROM search_banned_words").await?;
        let corrections = words("SELECT wrong AS a, right AS b FROM search_corrections").await?;
        let categories = words("SELECT name AS a, NULL AS b FROM categories ORDER BY position, name").await?;
        Ok(Lists {
            version,
            halls,
            words: WordLists {
                thesaurus: pairs_longest_first(thesaurus),
                corrections: pairs_longest_first(corrections),
                stop_words: sorted_longest_first(stop.into_iter().map(|p| normalize(&p.a)).collect()),
                banned: banned.into_iter().map(|p| normalize(&p.a)).filter(|w| !w.is_empty()).collect(),
            },
            categories: categories.into_iter().map(|p| p.a).collect(),
            region_names: region::load_names(db).await?,
        })
    }

    /// Each hall's position, by id.
    pub(crate) fn hall_positions(&self) -> HashMap<&str, usize> {
        self.halls.iter().enumerate().map(|(i, h)| (h.id.as_str(), i)).collect()
    }
}

/// The item-hall links, as [`Pair`]s (item, hall).
pub(crate) const LINKS: &str = "SELECT item_code AS a, hall_id AS b FROM item_halls";
/// The order of an item's halls (as imported), the same for every read.
pub(crate) const LINK_ORDER: &str = "ORDER BY item_code, rowid";

/// Item-hall links as each item's hall positions.
pub(crate) fn item_halls(links: &[Pair], hall_pos: &HashMap<&str, usize>) -> HashMap<String, Vec<usize>> {
    let mut out: HashMap<String, Vec<usize>> = HashMap::new();
    for l in links {
        if let Some(pos) = l.b.as_deref().and_then(|b| hall_pos.get(b)) {
            out.entry(l.a.clone()).or_default().push(*pos);
        }
    }
    out
}

/// One document made from its row, with its terms (each with its highest
/// field weight) and its names' pinyin keys.
pub(crate) struct Made {
    pub(crate) doc: Doc,
    pub(crate) terms: HashMap<String, u32>,
    pub(crate) keys: Vec<String>,
}

/// What making a document needs of the catalogue.
pub(crate) struct Context<'a> {
    pub(crate) regions: &'a Regions,
    /// The items' categories, sorted.
    pub(crate) cats: &'a [String],
    /// Prose bigrams too common to index ([`crate::fulltext::common_prose`]).
    pub(crate) common: &'a std::collections::HashSet<String>,
}

impl Made {
    pub(crate) fn of(row: ItemRow, halls: Vec<usize>, text: &crate::fulltext::GuideText, cx: &Context<'_>) -> Made {
        let tags: Vec<String> = serde_json::from_str(&row.tags).unwrap_or_default();
        let name_norm = normalize(&row.name);
        let mut weights: HashMap<String, u32> = HashMap::new();
        let mut add = |text: &str, w: u32| {
            for t in terms(&normalize(text)) {
                let e = weights.entry(t).or_insert(0);
                *e = (*e).max(w);
            }
        };
        add(&row.name, W_NAME);
        for t in &tags {
            add(t, W_TAG);
        }
        add(&row.category, W_META);
        add(&row.department, W_META);
        add(row.text.scope.as_deref().unwrap_or(""), W_TEXT);
        // Full text (issue 19): materials, conditions, process steps, Q&A.
        for (field, term) in crate::fulltext::indexed_terms(text, cx.common) {
            let e = weights.entry(term).or_insert(0);
            *e = (*e).max(field.weight());
        }
        let (name_pinyin, name_initials) = pinyin_forms(&name_norm);
        let tags_norm: Vec<String> = tags.iter().map(|t| normalize(t)).collect();
        let tag_pinyin = tags_norm.iter().map(|t| pinyin_forms(t).0).collect();
        let tag_syllables = tags_norm.iter().map(|t| syllables(t)).collect();
        let name_compact = name_norm.chars().filter(|c| !c.is_whitespace()).collect();
        let name_syllables = syllables(&name_norm);
        let keys = pinyin_keys(&name_syllables);
        let cat = cat_id(cx.cats, &row.category).unwrap_or(u16::MAX);
        let doc = Doc {
            region: cx.regions.id_of_code(&row.code),
            cat,
            code: row.code,
            name_syllables,
            name: row.name,
            category: row.category,
            department: row.department,
            tags,
            online: row.online != 0,
            appointment: row.appointment != 0,
            halls,
            name_norm,
            name_compact,
            tags_norm,
            tag_syllables,
            name_pinyin,
            name_initials,
            tag_pinyin,
        };
        Made { doc, terms: weights, keys }
    }
}

/// The position of a category among sorted categories.
fn cat_id(cats: &[String], name: &str) -> Option<u16> {
    cats.binary_search_by(|c| c.as_str().cmp(name)).ok().and_then(|i| u16::try_from(i).ok())
}

/// Syllable-aligned pinyin keys of a name: 1-3 syllables spelled out, 2-4
/// initials, from each syllable on (sorted, distinct).
fn pinyin_keys(syl: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for i in 0..syl.len() {
        let rest = syl.get(i..).unwrap_or_default();
        let mut full = String::new();
        let mut initials = String::new();
        for (k, s) in rest.iter().take(4).enumerate() {
            if !s.chars().all(|c| c.is_ascii_lowercase()) || s.len() < 2 {
                break;
            }
            full.push_str(s);
            initials.push_str(s.get(..1).unwrap_or_default());
            if k < 3 {
                keys.push(full.clone());
            }
            if k >= 1 {
                keys.push(initials.clone());
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

impl Index {
    /// Loads the published catalogue and the word lists and builds the index.
    pub async fn load(db: &impl Db) -> ApiResult<Self> {
        let lists = Lists::load(db).await?;
        let rows: Vec<ItemRow> = db
            .query_as(&format!("SELECT {} FROM items WHERE status = 'published' ORDER BY code", item_columns()), &[])
            .await?;
        let links: Vec<Pair> = db.query_as(&format!("{LINKS} {LINK_ORDER}"), &[]).await?;
        let regions =
            Regions::build(&lists.region_names, rows.iter().filter_map(|r| shared::types::Region::of_code(&r.code)));
        let mut item_halls = item_halls(&links, &lists.hall_positions());
        let mut cats: Vec<String> = rows.iter().map(|r| r.category.clone()).collect();
        cats.sort();
        cats.dedup();
        // Full text (issue 19): each guide's text, and the prose bigrams too
        // common to tell items apart (left out of the postings).
        let texts: Vec<crate::fulltext::GuideText> = rows.iter().map(|r| r.text.text()).collect();
        let common = crate::fulltext::common_prose(&texts);
        let mut index = Index {
            version: lists.version,
            halls: lists.halls,
            words: lists.words,
            categories: lists.categories,
            ..Default::default()
        };
        let cx = Context { regions: &regions, cats: &cats, common: &common };
        for (row, text) in rows.into_iter().zip(texts) {
            let halls = item_halls.remove(&row.code).unwrap_or_default();
            index.add(Made::of(row, halls, &text, &cx));
        }
        index.regions = regions;
        index.cats = cats;
        Ok(index)
    }

    fn add(&mut self, made: Made) {
        let id = self.docs.len() as u32;
        for (term, w) in made.terms {
            self.postings.entry(term).or_default().push((id, w));
        }
        for k in made.keys {
            self.pinyin_keys.entry(k).or_default().push(id);
        }
        self.docs.push(made.doc);
    }

    /// The id of a category among the indexed items' categories.
    pub fn category_id(&self, name: &str) -> Option<u16> {
        cat_id(&self.cats, name)
    }

    /// Docs whose name has `q` (letters) at a syllable boundary, or `None`
    /// when the lookup finds nothing (partial syllables, long spellings).
    pub fn pinyin_candidates(&self, q: &str) -> Option<&[u32]> {
        self.pinyin_keys.get(q).map(Vec::as_slice).filter(|v| !v.is_empty())
    }

    /// Rough memory held by the index, in bytes (strings and postings).
    pub fn approx_bytes(&self) -> usize {
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                d.code.len()
                    + d.name.len() * 2
                    + d.name_pinyin.len()
                    + d.name_initials.len()
                    + d.category.len()
                    + d.department.len()
                    + d.tags.iter().map(String::len).sum::<usize>() * 2
                    + d.name_syllables.iter().map(|s| s.len() + 24).sum::<usize>()
                    + 200
            })
            .sum();
        let postings: usize = self.postings.iter().map(|(k, v)| k.len() + 48 + v.len() * 8).sum();
        let pinyin: usize = self.pinyin_keys.iter().map(|(k, v)| k.len() + 48 + v.len() * 4).sum();
        docs + postings + pinyin
    }
}

fn pairs_longest_first(rows: Vec<Pair>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = rows
        .into_iter()
        .filter_map(|p| Some((normalize(&p.a), normalize(&p.b?))))
        .filter(|p| !p.0.is_empty())
        .collect();
    pairs.sort_by_key(|t| std::cmp::Reverse(t.0.chars().count()));
    pairs
}

fn sorted_longest_first(mut words: Vec<String>) -> Vec<String> {
    words.retain(|w| !w.is_empty());
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words
}

/// What a query reads of one document.
pub trait DocView {
    fn code(&self) -> Cow<'_, str>;
    fn name(&self) -> Cow<'_, str>;
    /// Characters of [`DocView::name`] (without making it, where it is made).
    fn name_chars(&self) -> usize {
        self.name().chars().count()
    }
    /// The normalised name (spaces where punctuation was).
    fn name_norm(&self) -> Cow<'_, str>;
    /// The normalised name without spaces.
    fn name_compact(&self) -> &str;
    fn name_pinyin(&self) -> &str;
    fn name_initials(&self) -> &str;
    fn category(&self) -> &str;
    /// Position of the category in [`SearchIndex::cats`].
    fn cat(&self) -> u16;
    fn department(&self) -> &str;
    fn online(&self) -> bool;
    fn appointment(&self) -> bool;
    fn tags(&self) -> impl Iterator<Item = &str>;
    fn tags_norm(&self) -> impl Iterator<Item = &str>;
    fn tag_pinyin(&self) -> impl Iterator<Item = &str>;
    /// Positions of the item's halls in the index's halls.
    fn halls(&self) -> impl Iterator<Item = usize>;
}

/// What filters, facets and ranking bounds read of a document without
/// decoding it (a packed index keeps these words in a column): the
/// category's position in [`SearchIndex::cats`] (bits 0-15), online,
/// appointment, letters in the compact name (bits 16-18), and the compact
/// name's characters (bits 24-31; 255: unknown, read the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brief(u32);

impl Brief {
    pub const ONLINE: u32 = 1 << 16;
    pub const APPOINTMENT: u32 = 2 << 16;
    pub const LETTERS: u32 = 4 << 16;
    const UNKNOWN_CHARS: u32 = 0xff;

    pub fn new(cat: u16, online: bool, appointment: bool, name_chars: Option<usize>, letters: bool) -> Self {
        let chars = name_chars.and_then(|c| u32::try_from(c).ok()).filter(|c| *c < Self::UNKNOWN_CHARS);
        let flag = |on: bool, f: u32| if on { f } else { 0 };
        Brief(
            u32::from(cat)
                | flag(online, Self::ONLINE)
                | flag(appointment, Self::APPOINTMENT)
                | flag(letters, Self::LETTERS)
                | chars.unwrap_or(Self::UNKNOWN_CHARS) << 24,
        )
    }

    #[inline(always)]
    pub fn from_word(w: u32) -> Self {
        Brief(w)
    }

    #[inline(always)]
    pub fn word(self) -> u32 {
        self.0
    }

    #[inline(always)]
    pub fn cat(self) -> u16 {
        self.0 as u16
    }

    pub fn online(self) -> bool {
        self.0 & Self::ONLINE != 0
    }

    pub fn appointment(self) -> bool {
        self.0 & Self::APPOINTMENT != 0
    }

    /// The compact name may hold ASCII letters.
    #[inline(always)]
    pub fn letters(self) -> bool {
        self.0 & Self::LETTERS != 0
    }

    /// Characters of the compact name, `None` when not kept.
    #[inline(always)]
    pub fn name_chars(self) -> Option<usize> {
        let c = self.0 >> 24;
        (c != Self::UNKNOWN_CHARS).then_some(c as usize)
    }
}

/// A column of [`Brief`] words (little-endian u32, one per document).
#[derive(Debug, Clone, Copy)]
pub struct Briefs<'a>(pub &'a [u8]);

impl Briefs<'_> {
    #[inline(always)]
    pub fn get(&self, id: u32) -> Option<Brief> {
        let at = (id as usize).checked_mul(4)?;
        match self.0.get(at..at.checked_add(4)?)? {
            &[a, b, c, d] => Some(Brief(u32::from_le_bytes([a, b, c, d]))),
            _ => None,
        }
    }
}

/// How a one-term query (the term alone, no spaces) reads in a document's
/// compact name and keywords: what the ranking's name bonus needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameMatch {
    pub equal: bool,
    pub prefix: bool,
    pub contains: bool,
    /// A keyword (normalised) equals the term.
    pub tag: bool,
}

impl NameMatch {
    /// How `term` reads in `name` (compact) and the normalised keywords.
    pub fn of<'a>(name: &str, tags_norm: impl IntoIterator<Item = &'a str>, term: &str) -> Self {
        let (name, want) = (name.as_bytes(), term.as_bytes());
        let prefix = name.starts_with(want);
        NameMatch {
            equal: prefix && name.len() == want.len(),
            prefix,
            // Whole UTF-8 sequences match only at character boundaries.
            contains: prefix || (!want.is_empty() && name.windows(want.len()).any(|w| w == want)),
            tag: tags_norm.into_iter().any(|t| t == term),
        }
    }
}

/// `(doc, weight, match)`: a posting as [`SearchIndex::term_matches`] gives it.
pub type TermMatch = (u32, u32, Option<NameMatch>);

/// Postings per slice of [`SearchIndex::term_chunks`].
pub const CHUNK: usize = 64;

/// What a query reads of an index. Document ids are positions in code order.
pub trait SearchIndex {
    type Doc<'a>: DocView
    where
        Self: 'a;
    fn version(&self) -> i64;
    fn doc_count(&self) -> usize;
    fn doc(&self, id: u32) -> Option<Self::Doc<'_>>;
    /// The document with this code (docs are in code order).
    fn doc_id(&self, code: &str) -> Option<u32>;
    /// `(doc, weight)` of a term, in doc order.
    fn postings(&self, term: &str) -> impl Iterator<Item = (u32, u32)>;
    /// How many docs hold the term, `None` when none does.
    fn posting_count(&self, term: &str) -> Option<usize>;
    /// Docs whose name has `q` (letters) at a syllable boundary, in doc
    /// order, or `None` when the lookup finds nothing.
    fn pinyin_candidates(&self, q: &str) -> Option<Cow<'_, [u32]>>;
    fn words(&self) -> &WordLists;
    fn banned(&self) -> &[String] {
        &self.words().banned
    }
    fn corrections(&self) -> &[(String, String)] {
        &self.words().corrections
    }
    fn thesaurus(&self) -> &[(String, String)] {
        &self.words().thesaurus
    }
    fn stop_words(&self) -> &[String] {
        &self.words().stop_words
    }
    /// The distinct categories of the indexed items, sorted.
    fn cats(&self) -> &[String];
    fn category_id(&self, name: &str) -> Option<u16>;
    fn hall(&self, i: usize) -> Option<&Hall>;
    /// 同音字: the first run of characters, in doc order (name, then tags),
    /// whose syllables are `want`.
    fn homophone(&self, want: &[String]) -> Option<String>;
    /// The regions the index knows (ids of a document's region).
    fn regions(&self) -> &Regions;
    /// The id of a document's region in [`Self::regions`], `None` when it has none.
    fn region_id(&self, id: u32) -> Option<u16>;

    /// The cheap facts of a document (filters, facets, bounds).
    fn brief(&self, id: u32) -> Option<Brief> {
        self.doc(id).map(|d| Brief::new(d.cat(), d.online(), d.appointment(), None, true))
    }

    /// The briefs as a column, when the index keeps one (read in bulk).
    fn briefs(&self) -> Option<Briefs<'_>> {
        None
    }

    /// Whether reading a document costs about as much as its brief (an
    /// in-memory index): then every candidate is scored exactly at once.
    fn docs_are_cheap(&self) -> bool {
        false
    }

    /// `(doc, weight, match)` of a term, in doc order, where `match` says
    /// how the term alone reads in the doc's name and keywords (`None`:
    /// unknown, read the document).
    fn term_matches(&self, term: &str) -> impl Iterator<Item = (u32, u32, Option<NameMatch>)> {
        self.postings(term).map(|(d, w)| (d, w, None))
    }

    /// The same as [`Self::term_matches`], handed over in slices (so the
    /// caller's loop over them runs without a call per posting).
    fn term_chunks(&self, term: &str, each: &mut dyn FnMut(&[TermMatch])) {
        // A fixed buffer: no call per posting to grow a vector.
        let mut buf = [(0u32, 0u32, None); CHUNK];
        let mut n = 0;
        for x in self.term_matches(term) {
            if let Some(slot) = buf.get_mut(n) {
                *slot = x;
                n += 1;
            }
            if n == CHUNK {
                each(&buf);
                n = 0;
            }
        }
        each(buf.get(..n).unwrap_or_default());
    }

    /// Whether some keyword, normalised, may equal `norm` (`true` when the
    /// index cannot tell cheaply).
    fn tag_may_equal(&self, _norm: &str) -> bool {
        true
    }

    /// The pinyin points (see the query's pinyin scoring) of a doc found
    /// under the pinyin key `q`, when known without reading the doc.
    fn pinyin_key_points(&self, _id: u32, _q: &str) -> Option<u32> {
        None
    }

    /// Docs that may match the letters `q` in their name's pinyin or their
    /// keywords' (a superset, in doc order), or `None`: every doc may.
    fn pinyin_scan(&self, _q: &str) -> Option<Vec<u32>> {
        None
    }
}

impl DocView for &Doc {
    fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.code)
    }
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }
    fn name_norm(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name_norm)
    }
    fn name_compact(&self) -> &str {
        &self.name_compact
    }
    fn name_pinyin(&self) -> &str {
        &self.name_pinyin
    }
    fn name_initials(&self) -> &str {
        &self.name_initials
    }
    fn category(&self) -> &str {
        &self.category
    }
    fn cat(&self) -> u16 {
        self.cat
    }
    fn department(&self) -> &str {
        &self.department
    }
    fn online(&self) -> bool {
        self.online
    }
    fn appointment(&self) -> bool {
        self.appointment
    }
    fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(String::as_str)
    }
    fn tags_norm(&self) -> impl Iterator<Item = &str> {
        self.tags_norm.iter().map(String::as_str)
    }
    fn tag_pinyin(&self) -> impl Iterator<Item = &str> {
        self.tag_pinyin.iter().map(String::as_str)
    }
    fn halls(&self) -> impl Iterator<Item = usize> {
        self.halls.iter().copied()
    }
}

impl SearchIndex for Index {
    type Doc<'a> = &'a Doc;
    fn version(&self) -> i64 {
        self.version
    }
    fn doc_count(&self) -> usize {
        self.docs.len()
    }
    fn doc(&self, id: u32) -> Option<&Doc> {
        self.docs.get(id as usize)
    }
    fn doc_id(&self, code: &str) -> Option<u32> {
        self.docs.binary_search_by(|d| d.code.as_str().cmp(code)).ok().and_then(|i| u32::try_from(i).ok())
    }
    fn postings(&self, term: &str) -> impl Iterator<Item = (u32, u32)> {
        self.postings.get(term).map(Vec::as_slice).unwrap_or_default().iter().copied()
    }
    fn posting_count(&self, term: &str) -> Option<usize> {
        self.postings.get(term).map(Vec::len)
    }
    fn pinyin_candidates(&self, q: &str) -> Option<Cow<'_, [u32]>> {
        Index::pinyin_candidates(self, q).map(Cow::Borrowed)
    }
    fn words(&self) -> &WordLists {
        &self.words
    }
    fn cats(&self) -> &[String] {
        &self.cats
    }
    fn category_id(&self, name: &str) -> Option<u16> {
        Index::category_id(self, name)
    }
    fn hall(&self, i: usize) -> Option<&Hall> {
        self.halls.get(i)
    }
    fn brief(&self, id: u32) -> Option<Brief> {
        self.docs.get(id as usize).map(|d| Brief::new(d.cat, d.online, d.appointment, None, true))
    }
    fn docs_are_cheap(&self) -> bool {
        true
    }
    fn regions(&self) -> &Regions {
        &self.regions
    }
    fn region_id(&self, id: u32) -> Option<u16> {
        self.docs.get(id as usize).map(|d| d.region).filter(|r| *r != NO_REGION)
    }
    fn homophone(&self, want: &[String]) -> Option<String> {
        self.docs.iter().find_map(|d| {
            std::iter::once((d.name_norm.as_str(), &d.name_syllables))
                .chain(d.tags_norm.iter().map(String::as_str).zip(d.tag_syllables.iter()))
                .find_map(|(text, syl)| window(text, syl, want))
        })
    }
}
