//! The in-memory search index: built from D1 once per isolate per catalogue
//! version (a few milliseconds per thousand items), then every query is
//! answered from memory. Character unigrams and bigrams handle the one- and
//! two-character queries that SQLite's trigram tokenizer cannot.

use crate::text::{normalize, pinyin_forms, syllables, terms};
use serde::Deserialize;
use shared::ApiResult;
use shared::catalogue::repo;
use shared::store::Db;
use std::collections::HashMap;

/// Field weights: a match in the name counts most, then keywords (tags),
/// then the category and department, then the guide's scope text.
pub const W_NAME: u32 = 10;
pub const W_TAG: u32 = 6;
pub const W_META: u32 = 3;
pub const W_TEXT: u32 = 1;

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
}

/// A hall, for the nearest-hall answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
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
    /// colloquial -> official (政务主题词库), longest first.
    pub thesaurus: Vec<(String, String)>,
    pub stop_words: Vec<String>,
    pub banned: Vec<String>,
    /// 错别字表: misspelling -> intended word, longest first.
    pub corrections: Vec<(String, String)>,
    /// Category names in display order (事项分类, maintained by staff).
    pub categories: Vec<String>,
    /// The distinct categories of the indexed items, sorted (ids of `Doc::cat`).
    pub cats: Vec<String>,
}

#[derive(Deserialize)]
struct ItemRow {
    code: String,
    name: String,
    category: String,
    department: String,
    tags: String,
    online: i64,
    appointment: i64,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: Option<String>,
}

impl Index {
    /// Loads the published catalogue and the word lists and builds the index.
    pub async fn load(db: &impl Db) -> ApiResult<Self> {
        let version = repo::catalog_version(db).await?;
        let rows: Vec<ItemRow> = db
            .query_as(
                "SELECT code, name, category, department, tags, online, appointment,
                        json_extract(guide, '$.scope') AS scope
                 FROM items WHERE status = 'published' ORDER BY code",
                &[],
            )
            .await?;
        let halls: Vec<Hall> = db.query_as("SELECT id, name, lat, lng FROM halls ORDER BY id", &[]).await?;
        let links: Vec<Pair> = db.query_as("SELECT item_code AS a, hall_id AS b FROM item_halls", &[]).await?;
        let words = |sql: &'static str| async move { db.query_as::<Pair>(sql, &[]).await };
        let thesaurus = words("SELECT term AS a, official AS b FROM search_thesaurus").await?;
        let stop = words("SELECT word AS a, NULL AS b FROM search_stop_words").await?;
        let banned = words("SELECT word AS a, NULL AS b FROM search_banned_words").await?;
        let corrections = words("SELECT wrong AS a, right AS b FROM search_corrections").await?;
        let categories = words("SELECT name AS a, NULL AS b FROM categories ORDER BY position, name").await?;
        let mut index = Index { version, halls, ..Default::default() };
        let hall_pos: HashMap<&str, usize> = index.halls.iter().enumerate().map(|(i, h)| (h.id.as_str(), i)).collect();
        let mut item_halls: HashMap<String, Vec<usize>> = HashMap::new();
        for l in &links {
            if let Some(pos) = l.b.as_deref().and_then(|b| hall_pos.get(b)) {
                item_halls.entry(l.a.clone()).or_default().push(*pos);
            }
        }
        let mut cats: Vec<String> = rows.iter().map(|r| r.category.clone()).collect();
        cats.sort();
        cats.dedup();
        index.cats = cats;
        for row in rows {
            let halls = item_halls.remove(&row.code).unwrap_or_default();
            index.add(row, halls);
        }
        index.thesaurus = pairs_longest_first(thesaurus);
        index.corrections = pairs_longest_first(corrections);
        index.categories = categories.into_iter().map(|p| p.a).collect();
        index.stop_words = sorted_longest_first(stop.into_iter().map(|p| normalize(&p.a)).collect());
        index.banned = banned.into_iter().map(|p| normalize(&p.a)).filter(|w| !w.is_empty()).collect();
        Ok(index)
    }

    fn add(&mut self, row: ItemRow, halls: Vec<usize>) {
        let id = self.docs.len() as u32;
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
        add(row.scope.as_deref().unwrap_or(""), W_TEXT);
        for (term, w) in weights {
            self.postings.entry(term).or_default().push((id, w));
        }
        let (name_pinyin, name_initials) = pinyin_forms(&name_norm);
        let tags_norm: Vec<String> = tags.iter().map(|t| normalize(t)).collect();
        let tag_pinyin = tags_norm.iter().map(|t| pinyin_forms(t).0).collect();
        let tag_syllables = tags_norm.iter().map(|t| syllables(t)).collect();
        let name_compact = name_norm.chars().filter(|c| !c.is_whitespace()).collect();
        let name_syllables = syllables(&name_norm);
        self.add_pinyin_keys(id, &name_syllables);
        let cat = self.category_id(&row.category).unwrap_or(u16::MAX);
        self.docs.push(Doc {
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
        });
    }

    fn add_pinyin_keys(&mut self, id: u32, syl: &[String]) {
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
        for k in keys {
            self.pinyin_keys.entry(k).or_default().push(id);
        }
    }

    /// The id of a category among the indexed items' categories.
    pub fn category_id(&self, name: &str) -> Option<u16> {
        self.cats.binary_search_by(|c| c.as_str().cmp(name)).ok().and_then(|i| u16::try_from(i).ok())
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
