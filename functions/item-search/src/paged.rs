//! The packed index built from D1 a page of items at a time (issue 19): what
//! the cron runs. The in-memory [`Index`](crate::index::Index) of 100,000
//! items with full text holds hundreds of MiB, past an isolate's 128 MB;
//! this build holds one page of rows, the blob's columns as they grow and
//! each term's postings as varint gaps, and writes the same bytes as
//! [`packed::build`] of the in-memory index (a test says so).
//!
//! Reads: the word lists, halls and regions; the items' distinct categories,
//! departments and regions; then the guides' text page by page twice (first
//! to count the prose bigrams too common to index, then to index them), and
//! each page's hall links. The catalogue version is read before and after:
//! a publish during the build fails it, and the next cron run builds again.

use crate::fulltext::{ProseCounter, TEXT_COLUMNS, TextColumns};
use crate::index::{Context, ItemRow, LINK_ORDER, LINKS, Lists, Made, Pair, item_columns, item_halls};
use crate::packed::{self, Builder, Layout, Tables};
use crate::region::Regions;
use serde::Deserialize;
use shared::catalogue::repo;
use shared::store::Db;
use shared::{ApiError, ApiResult};

/// Items read per query: a page's rows with their guides' text stay a few
/// MiB (D1 answers at most 50 MB), and 100,000 items take 100 reads per
/// pass and 100 of hall links: about 310 queries in all, within D1's 1,000
/// per invocation.
pub const PAGE: usize = 1_000;

/// A finished build and what it cost.
#[derive(Debug)]
pub struct Paged {
    pub blob: Vec<u8>,
    pub layout: Layout,
    pub version: i64,
    pub docs: usize,
    /// Reads of item pages (both passes).
    pub pages: usize,
    /// Milliseconds counting the prose bigrams, then reading and adding the
    /// documents, then writing the blob.
    pub count_ms: f64,
    pub add_ms: f64,
    pub pack_ms: f64,
}

#[derive(Deserialize)]
struct TextRow {
    code: String,
    #[serde(flatten)]
    text: TextColumns,
}

#[derive(Deserialize)]
struct One {
    a: String,
}

/// Builds the packed index of the published catalogue, `page` items a read.
pub async fn build(db: &impl Db, page: usize, clock: impl Fn() -> f64) -> ApiResult<Paged> {
    let page = page.max(1);
    let t0 = clock();
    let lists = Lists::load(db).await?;
    let distinct = |col: &'static str| async move {
        let sql = format!("SELECT DISTINCT {col} AS a FROM items WHERE status = 'published'");
        let mut v: Vec<String> = db.query_as::<One>(&sql, &[]).await?.into_iter().map(|r| r.a).collect();
        v.sort();
        ApiResult::Ok(v)
    };
    let cats = distinct("category").await?;
    let departments = distinct("department").await?;
    let carried = distinct("substr(code, 1, 8)").await?;
    let regions = Regions::build(&lists.region_names, carried.iter().filter_map(|c| shared::types::Region::of_code(c)));

    // Pass 1: the prose bigrams too common to tell items apart.
    let mut counter = ProseCounter::default();
    let mut pages = 0;
    let mut after = String::new();
    let text_columns = format!("code, {TEXT_COLUMNS}");
    loop {
        let rows: Vec<TextRow> = page_after(db, &text_columns, &after, page).await?;
        pages += 1;
        rows.iter().for_each(|r| counter.add(&r.text.text()));
        match rows.last() {
            Some(last) if rows.len() == page => after.clone_from(&last.code),
            _ => break,
        }
    }
    let common = counter.common();
    let t1 = clock();

    // Pass 2: the documents, their postings and keys.
    let hall_pos = lists.hall_positions();
    let cx = Context { regions: &regions, cats: &cats, common: &common };
    let tables = Tables {
        version: lists.version,
        cats: cats.clone(),
        categories: lists.categories.clone(),
        words: lists.words.clone(),
        halls: lists.halls.clone(),
        regions: regions.clone(),
        departments,
    };
    let mut b = Builder::new(tables);
    after.clear();
    let columns = item_columns();
    loop {
        let rows: Vec<ItemRow> = page_after(db, &columns, &after, page).await?;
        pages += 1;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else { break };
        let full = rows.len() == page;
        let links: Vec<Pair> = db
            .query_as(
                &format!("{LINKS} WHERE item_code >= ?1 AND item_code <= ?2 {LINK_ORDER}"),
                &[first.code.clone().into(), last.code.clone().into()],
            )
            .await?;
        let mut halls = item_halls(&links, &hall_pos);
        after.clone_from(&last.code);
        for row in rows {
            let text = row.text.text();
            let own = halls.remove(&row.code).unwrap_or_default();
            add(&mut b, Made::of(row, own, &text, &cx))?;
        }
        if !full {
            break;
        }
    }
    let t2 = clock();
    let docs = b.doc_count();
    let (blob, layout) = b.finish()?;
    if repo::catalog_version(db).await? != lists.version {
        return Err(ApiError::internal("the catalogue was published again during the index build"));
    }
    Ok(Paged {
        blob,
        layout,
        version: lists.version,
        docs,
        pages,
        count_ms: t1 - t0,
        add_ms: t2 - t1,
        pack_ms: clock() - t2,
    })
}

/// Up to `page` published items after the code `after`, in code order.
async fn page_after<T: serde::de::DeserializeOwned>(
    db: &impl Db,
    columns: &str,
    after: &str,
    page: usize,
) -> ApiResult<Vec<T>> {
    let sql = format!("SELECT {columns} FROM items WHERE status = 'published' AND code > ?1 ORDER BY code LIMIT ?2");
    db.query_as(&sql, &[after.to_owned().into(), (page as i64).into()]).await
}

fn add(b: &mut Builder, made: Made) -> Result<(), packed::PackError> {
    let id = b.add_doc(&made.doc)?;
    for (term, w) in &made.terms {
        b.add_term(term, id, *w, packed::posting_kind(&made.doc, term))?;
    }
    for key in &made.keys {
        b.add_key(key, id)?;
    }
    Ok(())
}
