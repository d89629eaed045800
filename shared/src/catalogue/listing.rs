//! The staff list of the catalogue (事项管理): published, withdrawn and
//! not-yet-published items with their review state, filtered, sorted, paged.

use super::review::{self, Draft};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::Query;
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::store::{Db, Value};
use serde::{Deserialize, Serialize};

/// Longest name filter, in characters: `%` + 16 CJK characters + `%` stays
/// within D1's 50-byte LIKE pattern limit.
pub const MAX_NAME_FILTER_CHARS: usize = 16;

/// What the list is asked for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Filter {
    /// published, withdrawn or unpublished (a new item's draft only).
    pub status: Option<String>,
    /// draft, submitted, rejected, or none (no pending draft).
    pub review: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// Part of the name.
    pub name: Option<String>,
    /// code, name or updated_at.
    pub sort: &'static str,
    pub descending: bool,
    pub page: u32,
    pub size: u32,
}

fn one_of(q: &Query, key: &str, allowed: &[&'static str]) -> ApiResult<Option<&'static str>> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => allowed
            .iter()
            .copied()
            .find(|a| *a == v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_field(key, format!("{key} 应为以下之一：{}", allowed.join("、")))),
    }
}

impl Filter {
    /// Reads and checks the query string.
    pub fn parse(q: &Query) -> ApiResult<Self> {
        let name = q.get("q").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_FILTER_CHARS) {
            return Err(ApiError::bad_field("q", format!("名称筛选不超过{MAX_NAME_FILTER_CHARS}个字")));
        }
        Ok(Self {
            status: one_of(q, "status", &["published", "withdrawn", "unpublished"])?.map(str::to_owned),
            review: one_of(q, "review", &["draft", "submitted", "rejected", "none"])?.map(str::to_owned),
            category: q.get("category").map(str::to_owned),
            department: q.get("department").map(str::to_owned),
            name,
            sort: one_of(q, "sort", &["code", "name", "updated_at"])?.unwrap_or("code"),
            descending: one_of(q, "order", &["asc", "desc"])? == Some("desc"),
            page: q.u32_in("page", 1, 10_000)?.unwrap_or(1),
            size: q.u32_in("size", 1, MAX_PAGE_SIZE)?.unwrap_or(DEFAULT_PAGE_SIZE),
        })
    }
}

/// One row of the list.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub code: String,
    pub name: String,
    pub category: String,
    pub department: String,
    /// published, withdrawn or unpublished.
    pub status: String,
    /// The pending draft's state, if any.
    pub review: Option<String>,
    pub updated_at: String,
}

/// A page of the list.
#[derive(Debug, Serialize, PartialEq)]
pub struct Page {
    pub total: i64,
    pub page: u32,
    pub size: u32,
    pub items: Vec<Row>,
}

/// Published and withdrawn items with their pending draft, then drafts of
/// items not yet published.
const ALL_ROWS: &str = "
    SELECT i.code, i.name, i.category, i.department, i.status, d.state AS review,
           max(i.updated_at, coalesce(d.updated_at, '')) AS updated_at
    FROM items i LEFT JOIN item_drafts d ON d.code = i.code
    UNION ALL
    SELECT d.code, json_extract(d.body, '$.name'), json_extract(d.body, '$.category'),
           json_extract(d.body, '$.department'), 'unpublished', d.state, d.updated_at
    FROM item_drafts d WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.code = d.code)";

/// Runs the list.
pub async fn list(db: &impl Db, f: &Filter) -> ApiResult<Page> {
    let mut cond = vec!["1 = 1".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    let mut bind = |sql: &str, v: Value, cond: &mut Vec<String>| {
        args.push(v);
        cond.push(sql.replace('?', &format!("?{}", args.len())));
    };
    if let Some(s) = &f.status {
        bind("status = ?", s.as_str().into(), &mut cond);
    }
    match f.review.as_deref() {
        Some("none") => cond.push("review IS NULL".into()),
        Some(r) => bind("review = ?", r.into(), &mut cond),
        None => {}
    }
    if let Some(c) = &f.category {
        bind("category = ?", c.as_str().into(), &mut cond);
    }
    if let Some(d) = &f.department {
        bind("department = ?", d.as_str().into(), &mut cond);
    }
    if let Some(n) = &f.name {
        let escaped = n.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        bind("name LIKE ? ESCAPE '\\'", format!("%{escaped}%").into(), &mut cond);
    }
    let filter = cond.join(" AND ");
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let total = db
        .first_as::<Count>(&format!("SELECT count(*) AS n FROM ({ALL_ROWS}) WHERE {filter}"), &args)
        .await?
        .map_or(0, |c| c.n);
    let dir = if f.descending { "DESC" } else { "ASC" };
    // The code breaks ties, so paging is stable under any sort.
    let order = if f.sort == "code" { format!("code {dir}") } else { format!("{} {dir}, code ASC", f.sort) };
    let offset = i64::from(f.page.saturating_sub(1)) * i64::from(f.size);
    let (lim, off) = (args.len() + 1, args.len() + 2);
    args.push(i64::from(f.size).into());
    args.push(offset.into());
    let items = db
        .query_as(
            &format!("SELECT * FROM ({ALL_ROWS}) WHERE {filter} ORDER BY {order} LIMIT ?{lim} OFFSET ?{off}"),
            &args,
        )
        .await?;
    Ok(Page { total, page: f.page, size: f.size, items })
}

/// One item as staff see it: the published row and the pending draft.
#[derive(Debug, Serialize)]
pub struct Detail {
    pub code: String,
    pub published: Option<Row>,
    pub draft: Option<Draft>,
}

/// The staff view of `code`: 404 when it is neither an item nor a draft.
pub async fn detail(db: &impl Db, code: &str) -> ApiResult<Detail> {
    let published: Option<Row> = db
        .first_as(
            "SELECT code, name, category, department, status, NULL AS review, updated_at FROM items WHERE code = ?1",
            &[code.into()],
        )
        .await?;
    let draft = review::draft(db, code).await?;
    if published.is_none() && draft.is_none() {
        return Err(ErrorCode::ItemNotFound.into());
    }
    Ok(Detail { code: code.to_owned(), published, draft })
}
