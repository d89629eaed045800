//! Categories, tags and the search word lists (004 事项分类/标签; 002 §6 主题词库,
//! 停用词, 违禁词, 错别字): maintained by catalogue reviewers, effective at once
//! (each change bumps the catalogue version, so search follows in seconds),
//! each audited in the batch that makes it.

use super::import::bump_version_stmt;
use super::repo;
use crate::admin::{Act, Role, audit_stmt};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::store::{Db, Kv, Stmt, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Most word-list entries in one request.
pub const MAX_WORD_ENTRIES: usize = 500;
/// Longest word or term, in characters (a query is at most 50).
pub const MAX_WORD_CHARS: usize = 20;
/// Longest category or tag name, in characters.
pub const MAX_LABEL_CHARS: usize = 20;

fn label(field: &str, raw: &str) -> ApiResult<String> {
    let s = raw.trim();
    let n = s.chars().count();
    if n == 0 || n > MAX_LABEL_CHARS || s.chars().any(char::is_control) {
        return Err(ApiError::bad_field(field, format!("{field} 应为1-{MAX_LABEL_CHARS}个字")));
    }
    Ok(s.to_owned())
}

// ---------------------------------------------------------------- categories

/// A category with how many items use it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Category {
    pub name: String,
    pub position: i64,
    pub description: String,
    /// Published items in it.
    pub items: i64,
    /// Items and drafts of any status that name it (what blocks deletion).
    pub refs: i64,
}

/// Every category in display order.
pub async fn categories(db: &impl Db) -> ApiResult<Vec<Category>> {
    db.query_as(
        "SELECT c.name, c.position, c.description,
                (SELECT count(*) FROM items i WHERE i.category = c.name AND i.status = 'published') AS items,
                (SELECT count(*) FROM items i WHERE i.category = c.name)
                  + (SELECT count(*) FROM item_drafts d WHERE json_extract(d.body, '$.category') = c.name)
                  AS refs
         FROM categories c ORDER BY c.position, c.name",
        &[],
    )
    .await
}

/// The body of `PUT /v1/admin/categories/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryBody {
    pub position: i64,
    #[serde(default)]
    pub description: String,
}

/// Creates or updates a category (role catalogue_reviewer).
pub async fn put_category(db: &impl Db, act: &Act<'_>, raw_name: &str, body: &CategoryBody) -> ApiResult<Category> {
    act.who.require(Role::CatalogueReviewer)?;
    let name = label("name", raw_name)?;
    let mut errs = Vec::new();
    if !(1..=1_000).contains(&body.position) {
        errs.push(FieldError::new("position", "排序号应在 1 到 1000 之间"));
    }
    if body.description.chars().count() > 500 {
        errs.push(FieldError::new("description", "分类说明不超过500字"));
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let detail = json!({ "position": body.position });
    db.batch(&[
        bump_version_stmt(act.now),
        Stmt::new(
            "INSERT INTO categories (name, position, description, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, description = excluded.description,
               updated_at = excluded.updated_at",
            vec![
                name.as_str().into(),
                body.position.into(),
                body.description.trim().into(),
                act.now.to_rfc3339().into(),
            ],
        ),
        audit_stmt(act.who, "category.put", &name, act.request_id, act.now, &detail),
    ])
    .await?;
    categories(db)
        .await?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ApiError::internal("category vanished after its write"))
}

/// Deletes an unused category (role catalogue_reviewer): 409 while any item
/// or draft names it, so no item is ever left in a category that is gone.
pub async fn delete_category(db: &impl Db, act: &Act<'_>, raw_name: &str) -> ApiResult<()> {
    act.who.require(Role::CatalogueReviewer)?;
    let name = label("name", raw_name)?;
    let found = categories(db).await?.into_iter().find(|c| c.name == name);
    match found {
        None => return Err(ApiError::with_message(ErrorCode::NotFound, "该分类不存在")),
        Some(c) if c.refs > 0 => {
            return Err(ApiError::with_message(
                ErrorCode::CategoryInUse,
                format!("该分类下仍有 {} 个事项或草稿，请先调整它们的分类", c.refs),
            ));
        }
        Some(_) => {}
    }
    db.batch(&[
        Stmt::precondition(
            "NOT EXISTS (SELECT 1 FROM items WHERE category = ?1)
             AND NOT EXISTS (SELECT 1 FROM item_drafts WHERE json_extract(body, '$.category') = ?1)",
            vec![name.as_str().into()],
        ),
        bump_version_stmt(act.now),
        Stmt::new("DELETE FROM categories WHERE name = ?1", vec![name.as_str().into()]),
        audit_stmt(act.who, "category.delete", &name, act.request_id, act.now, &serde_json::Value::Null),
    ])
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------- tags

/// What a tag change did.
#[derive(Debug, Serialize, PartialEq)]
pub struct TagOutcome {
    pub items_changed: usize,
    pub catalog_version: i64,
    #[serde(skip)]
    pub stale: Vec<String>,
}

/// The body of `POST /v1/admin/tags:rename` (renaming onto an existing tag merges the two).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    pub from: String,
    pub to: String,
}

const TAGGED: &str = "SELECT code AS k FROM items WHERE EXISTS (SELECT 1 FROM json_each(items.tags) WHERE value = ?1)";

/// Renames (or merges) a tag on every item (role catalogue_reviewer).
pub async fn rename_tag(db: &impl Db, kv: &impl Kv, act: &Act<'_>, body: &RenameBody) -> ApiResult<TagOutcome> {
    act.who.require(Role::CatalogueReviewer)?;
    let (from, to) = (label("from", &body.from)?, label("to", &body.to)?);
    if from == to {
        return Err(ApiError::bad_field("to", "新标签与原标签相同"));
    }
    let set = "(SELECT json_group_array(v) FROM (SELECT DISTINCT CASE WHEN value = ?1 THEN ?2 ELSE value END AS v
                FROM json_each(items.tags)))";
    retag(db, kv, act, &from, set, vec![from.as_str().into(), to.as_str().into()], "tag.rename", json!({"to": to}))
        .await
}

/// Removes a tag from every item (role catalogue_reviewer).
pub async fn delete_tag(db: &impl Db, kv: &impl Kv, act: &Act<'_>, raw: &str) -> ApiResult<TagOutcome> {
    act.who.require(Role::CatalogueReviewer)?;
    let tag = label("tag", raw)?;
    let set = "(SELECT json_group_array(value) FROM json_each(items.tags) WHERE value <> ?1)";
    retag(db, kv, act, &tag, set, vec![tag.as_str().into()], "tag.delete", serde_json::Value::Null).await
}

#[allow(clippy::too_many_arguments)]
async fn retag(
    db: &impl Db,
    kv: &impl Kv,
    act: &Act<'_>,
    tag: &str,
    new_tags: &str,
    mut args: Vec<Value>,
    action: &str,
    detail: serde_json::Value,
) -> ApiResult<TagOutcome> {
    let mut codes: Vec<String> = repo::keys(db, TAGGED, &[tag.into()]).await?.into_iter().collect();
    codes.sort();
    if codes.is_empty() {
        return Err(ApiError::with_message(ErrorCode::NotFound, "没有事项使用该标签"));
    }
    let n = args.len();
    args.push(act.now.to_rfc3339().into());
    db.batch(&[
        bump_version_stmt(act.now),
        Stmt::new(
            format!(
                "UPDATE items SET tags = {new_tags}, updated_at = ?{},
                   version = (SELECT version FROM catalog_meta WHERE id = 1)
                 WHERE EXISTS (SELECT 1 FROM json_each(items.tags) WHERE value = ?1)",
                n + 1
            ),
            args,
        ),
        audit_stmt(act.who, action, tag, act.request_id, act.now, &detail),
    ])
    .await?;
    for c in &codes {
        repo::invalidate_guide(kv, c).await?;
    }
    Ok(TagOutcome { items_changed: codes.len(), catalog_version: repo::catalog_version(db).await?, stale: codes })
}

// -------------------------------------------------------------- search words

/// The word lists search reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordKind {
    /// 政务主题词库: colloquial term -> official term.
    Thesaurus,
    /// 停用词: dropped from queries.
    Stop,
    /// 违禁词: queries holding one are refused.
    Banned,
    /// 错别字: a common misspelling -> the intended word.
    Corrections,
}

impl WordKind {
    /// Parses the path segment.
    pub fn parse(s: &str) -> ApiResult<Self> {
        match s {
            "thesaurus" => Ok(Self::Thesaurus),
            "stop" => Ok(Self::Stop),
            "banned" => Ok(Self::Banned),
            "corrections" => Ok(Self::Corrections),
            _ => Err(ApiError::with_message(ErrorCode::NotFound, "词表应为 thesaurus、stop、banned 或 corrections")),
        }
    }

    /// (table, term column, target column).
    fn columns(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Self::Thesaurus => ("search_thesaurus", "term", Some("official")),
            Self::Stop => ("search_stop_words", "word", None),
            Self::Banned => ("search_banned_words", "word", None),
            Self::Corrections => ("search_corrections", "wrong", Some("right")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Thesaurus => "thesaurus",
            Self::Stop => "stop",
            Self::Banned => "banned",
            Self::Corrections => "corrections",
        }
    }
}

/// One entry: `target` is the official or intended term (thesaurus and
/// corrections only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WordEntry {
    pub term: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The body of `PUT /v1/admin/search-words/{kind}`: entries to add or replace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordsBody {
    pub entries: Vec<WordEntry>,
}

/// Every entry of a list, sorted.
pub async fn words(db: &impl Db, kind: WordKind) -> ApiResult<Vec<WordEntry>> {
    let (table, term, target) = kind.columns();
    let target = target.unwrap_or("NULL");
    db.query_as(&format!("SELECT {term} AS term, {target} AS target FROM {table} ORDER BY {term}"), &[]).await
}

fn check_words(kind: WordKind, entries: &[WordEntry]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if entries.is_empty() || entries.len() > MAX_WORD_ENTRIES {
        errs.push(FieldError::new("entries", format!("每次提交1-{MAX_WORD_ENTRIES}个词条")));
    }
    let paired = kind.columns().2.is_some();
    let ok = |s: &str| (1..=MAX_WORD_CHARS).contains(&s.trim().chars().count());
    for (i, e) in entries.iter().enumerate() {
        if !ok(&e.term) {
            errs.push(FieldError::new(format!("entries[{i}].term"), format!("词条应为1-{MAX_WORD_CHARS}个字")));
        }
        match (&e.target, paired) {
            (Some(t), true) if ok(t) && t.trim() != e.term.trim() => {}
            (_, true) => errs.push(FieldError::new(
                format!("entries[{i}].target"),
                format!("请填写与词条不同的对应词（1-{MAX_WORD_CHARS}个字）"),
            )),
            (Some(_), false) => errs.push(FieldError::new(format!("entries[{i}].target"), "该词表的词条没有对应词")),
            (None, false) => {}
        }
    }
    errs
}

/// Adds or replaces entries (role catalogue_reviewer); returns the list size.
pub async fn put_words(db: &impl Db, act: &Act<'_>, kind: WordKind, body: &WordsBody) -> ApiResult<usize> {
    act.who.require(Role::CatalogueReviewer)?;
    let errs = check_words(kind, &body.entries);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let (table, term, target) = kind.columns();
    let mut stmts = vec![bump_version_stmt(act.now)];
    for e in &body.entries {
        stmts.push(match target {
            Some(t) => Stmt::new(
                format!("INSERT INTO {table} ({term}, {t}) VALUES (?1, ?2) ON CONFLICT ({term}) DO UPDATE SET {t} = excluded.{t}"),
                vec![e.term.trim().into(), e.target.as_deref().unwrap_or_default().trim().into()],
            ),
            None => Stmt::new(format!("INSERT OR IGNORE INTO {table} ({term}) VALUES (?1)"), vec![e.term.trim().into()]),
        });
    }
    // Banned words are not copied into the audit log, only counted.
    let detail = json!({ "entries": body.entries.len() });
    stmts.push(audit_stmt(act.who, "search_words.put", kind.name(), act.request_id, act.now, &detail));
    db.batch(&stmts).await?;
    Ok(words(db, kind).await?.len())
}

/// Removes one entry (role catalogue_reviewer); 404 when it is not there.
pub async fn delete_word(db: &impl Db, act: &Act<'_>, kind: WordKind, raw: &str) -> ApiResult<()> {
    act.who.require(Role::CatalogueReviewer)?;
    let (table, term, _) = kind.columns();
    let word = raw.trim();
    let exists = format!("EXISTS (SELECT 1 FROM {table} WHERE {term} = ?1)");
    if db.query(&format!("SELECT 1 WHERE {exists}"), &[word.into()]).await?.is_empty() {
        return Err(ApiError::with_message(ErrorCode::NotFound, "词表中没有该词条"));
    }
    db.batch(&[
        Stmt::precondition(&exists, vec![word.into()]),
        bump_version_stmt(act.now),
        Stmt::new(format!("DELETE FROM {table} WHERE {term} = ?1"), vec![word.into()]),
        audit_stmt(act.who, "search_words.delete", kind.name(), act.request_id, act.now, &serde_json::Value::Null),
    ])
    .await?;
    Ok(())
}
