//! The review workflow (004 事项审核): an editor's new item or change is a
//! draft; the editor submits it; a reviewer other than the editor and the
//! submitter publishes it or rejects it with a reason. Only publishing writes
//! to `items`, so citizens only ever see reviewed content.
//!
//! ```text
//! (none) --create/update--> draft --submit--> submitted --publish--> (published item)
//!                           ^  ^                 |
//!                           |  +---update---- rejected <--reject--+
//! ```
//!
//! Every transition is one D1 batch guarded by the draft's revision, so two
//! staff members acting at once cannot both win (the loser gets 409).

use super::import::{self, Known, bump_version_stmt, item_stmts};
use super::model::ItemInput;
use super::repo;
use crate::admin::{Act, Role, audit_stmt};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::{Db, Kv, Stmt};
use crate::types::ItemCode;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Longest rejection reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A draft as staff see it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Draft {
    pub code: String,
    /// draft, submitted or rejected.
    pub state: String,
    /// True when no published item has this code yet.
    pub is_new: bool,
    pub revision: i64,
    pub reason: Option<String>,
    pub edited_by: String,
    pub submitted_by: Option<String>,
    pub reviewed_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub item: Json,
}

#[derive(Deserialize)]
struct DraftRow {
    code: String,
    body: String,
    state: String,
    is_new: i64,
    revision: i64,
    reason: Option<String>,
    edited_by: String,
    submitted_by: Option<String>,
    reviewed_by: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<DraftRow> for Draft {
    fn from(r: DraftRow) -> Self {
        Self {
            item: serde_json::from_str(&r.body).unwrap_or(Json::Null),
            code: r.code,
            state: r.state,
            is_new: r.is_new != 0,
            revision: r.revision,
            reason: r.reason,
            edited_by: r.edited_by,
            submitted_by: r.submitted_by,
            reviewed_by: r.reviewed_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What publishing or archiving changed.
#[derive(Debug, Serialize, PartialEq)]
pub struct Outcome {
    pub code: String,
    /// published or withdrawn.
    pub status: String,
    pub catalog_version: i64,
    pub invalidated_guides: usize,
    /// Codes whose cached renderings were dropped (for in-memory caches).
    #[serde(skip)]
    pub stale: Vec<String>,
}

/// Reads the draft of `code`, if any.
pub async fn draft(db: &impl Db, code: &str) -> ApiResult<Option<Draft>> {
    let row: Option<DraftRow> = db
        .first_as(
            "SELECT code, body, state, is_new, revision, reason, edited_by, submitted_by, reviewed_by,
                    created_at, updated_at FROM item_drafts WHERE code = ?1",
            &[code.into()],
        )
        .await?;
    Ok(row.map(Draft::from))
}

/// The published row's status (`published` or `withdrawn`), if the item exists.
pub async fn item_status(db: &impl Db, code: &str) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        status: String,
    }
    let row: Option<Row> = db.first_as("SELECT status FROM items WHERE code = ?1", &[code.into()]).await?;
    Ok(row.map(|r| r.status))
}

fn code_of(raw: &str) -> ApiResult<String> {
    ItemCode::parse(raw).map(|c| c.as_str().to_owned()).map_err(|e| ApiError::bad_field("code", e.0))
}

async fn checked(db: &impl Db, body: Json) -> ApiResult<ItemInput> {
    let known = Known::load(db).await?;
    import::validate_item(body, &known).map_err(|errs| {
        let n = errs.len();
        let mut e = ApiError::validation(errs);
        e.message = Some(format!("事项未通过校验：共 {n} 处错误，请全部修正后重新提交"));
        e
    })
}

fn draft_write(code: &str, item: &ItemInput, is_new: bool, act: &Act<'_>) -> Stmt {
    Stmt::new(
        "INSERT INTO item_drafts (code, body, state, is_new, revision, edited_by, created_at, updated_at)
         VALUES (?1, ?2, 'draft', ?3, 1, ?4, ?5, ?5)
         ON CONFLICT (code) DO UPDATE SET body = excluded.body, state = 'draft', is_new = excluded.is_new,
           revision = item_drafts.revision + 1, reason = NULL, edited_by = excluded.edited_by,
           submitted_by = NULL, reviewed_by = NULL, updated_at = excluded.updated_at",
        vec![
            code.into(),
            serde_json::to_string(item).unwrap_or_default().into(),
            is_new.into(),
            act.who.token_id.as_str().into(),
            act.now.to_rfc3339().into(),
        ],
    )
}

async fn reread(db: &impl Db, code: &str) -> ApiResult<Draft> {
    draft(db, code).await?.ok_or_else(|| ApiError::internal("draft vanished after its write"))
}

/// Creates the draft of a new item (role catalogue_editor). 409 when the
/// code is already an item or a draft.
pub async fn create(db: &impl Db, act: &Act<'_>, body: Json) -> ApiResult<Draft> {
    act.who.require(Role::CatalogueEditor)?;
    let item = checked(db, body).await?;
    let code = item.code.clone();
    if item_status(db, &code).await?.is_some() || draft(db, &code).await?.is_some() {
        return Err(ErrorCode::ItemExists.into());
    }
    db.batch(&[
        Stmt::precondition(
            "NOT EXISTS (SELECT 1 FROM items WHERE code = ?1) AND NOT EXISTS (SELECT 1 FROM item_drafts WHERE code = ?1)",
            vec![code.as_str().into()],
        ),
        draft_write(&code, &item, true, act),
        audit_stmt(act.who, "item.draft.create", &code, act.request_id, act.now, &Json::Null),
    ])
    .await?;
    reread(db, &code).await
}

/// Saves a change to an existing item or draft as a draft (role
/// catalogue_editor). A draft under review cannot change until decided.
pub async fn update(db: &impl Db, act: &Act<'_>, raw_code: &str, body: Json) -> ApiResult<Draft> {
    act.who.require(Role::CatalogueEditor)?;
    let code = code_of(raw_code)?;
    let status = item_status(db, &code).await?;
    let current = draft(db, &code).await?;
    if status.is_none() && current.is_none() {
        return Err(ErrorCode::ItemNotFound.into());
    }
    if current.as_ref().is_some_and(|d| d.state == "submitted") {
        return Err(ApiError::with_message(ErrorCode::ReviewStateInvalid, "该事项正在审核中，审核结束前不能修改"));
    }
    let item = checked(db, body).await?;
    if item.code != code {
        return Err(ApiError::bad_field("code", "请求体中的事项编码与地址中的不一致"));
    }
    db.batch(&[
        Stmt::precondition(
            "NOT EXISTS (SELECT 1 FROM item_drafts WHERE code = ?1 AND state = 'submitted')",
            vec![code.as_str().into()],
        ),
        draft_write(&code, &item, status.is_none(), act),
        audit_stmt(act.who, "item.draft.update", &code, act.request_id, act.now, &Json::Null),
    ])
    .await?;
    reread(db, &code).await
}

async fn draft_in(db: &impl Db, raw_code: &str, state: &str) -> ApiResult<Draft> {
    let code = code_of(raw_code)?;
    let d = draft(db, &code)
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::ItemNotFound, "该事项没有待处理的草稿"))?;
    if d.state == state {
        return Ok(d);
    }
    let msg = match d.state.as_str() {
        "submitted" => "该事项已提交审核，请等待审核结果",
        "rejected" => "该事项已被退回，请修改后再提交",
        _ => "该事项尚未提交审核",
    };
    Err(ApiError::with_message(ErrorCode::ReviewStateInvalid, msg))
}

fn guard(d: &Draft) -> Stmt {
    Stmt::precondition(
        "EXISTS (SELECT 1 FROM item_drafts WHERE code = ?1 AND state = ?2 AND revision = ?3)",
        vec![d.code.as_str().into(), d.state.as_str().into(), d.revision.into()],
    )
}

/// Submits a draft for review (role catalogue_editor).
pub async fn submit(db: &impl Db, act: &Act<'_>, raw_code: &str) -> ApiResult<Draft> {
    act.who.require(Role::CatalogueEditor)?;
    let d = draft_in(db, raw_code, "draft").await?;
    db.batch(&[
        guard(&d),
        Stmt::new(
            "UPDATE item_drafts SET state = 'submitted', submitted_by = ?2, revision = revision + 1, updated_at = ?3
             WHERE code = ?1",
            vec![d.code.as_str().into(), act.who.token_id.as_str().into(), act.now.to_rfc3339().into()],
        ),
        audit_stmt(act.who, "item.submit", &d.code, act.request_id, act.now, &Json::Null),
    ])
    .await?;
    reread(db, &d.code).await
}

/// The four-eyes rule: nobody reviews a draft they wrote or submitted.
fn reviewable(act: &Act<'_>, d: &Draft) -> ApiResult<()> {
    act.who.require(Role::CatalogueReviewer)?;
    let me = act.who.token_id.as_str();
    if d.edited_by == me || d.submitted_by.as_deref() == Some(me) {
        return Err(ErrorCode::SelfReviewForbidden.into());
    }
    Ok(())
}

/// Rejects a submitted draft with a reason (role catalogue_reviewer).
pub async fn reject(db: &impl Db, act: &Act<'_>, raw_code: &str, reason: &str) -> ApiResult<Draft> {
    let d = draft_in(db, raw_code, "submitted").await?;
    reviewable(act, &d)?;
    let reason = reason.trim();
    let n = reason.chars().count();
    if !(2..=MAX_REASON_CHARS).contains(&n) {
        return Err(ApiError::validation(vec![crate::error::FieldError::new(
            "reason",
            format!("请填写退回原因（2-{MAX_REASON_CHARS}字）"),
        )]));
    }
    db.batch(&[
        guard(&d),
        Stmt::new(
            "UPDATE item_drafts SET state = 'rejected', reason = ?2, reviewed_by = ?3, revision = revision + 1,
               updated_at = ?4 WHERE code = ?1",
            vec![d.code.as_str().into(), reason.into(), act.who.token_id.as_str().into(), act.now.to_rfc3339().into()],
        ),
        audit_stmt(act.who, "item.reject", &d.code, act.request_id, act.now, &serde_json::json!({ "reason": reason })),
    ])
    .await?;
    reread(db, &d.code).await
}

/// Publishes a submitted draft (role catalogue_reviewer): re-validates it
/// against today's catalogue, writes the item, drops the draft, bumps the
/// version, all in one batch; then drops the cached guides it made stale.
pub async fn publish(db: &impl Db, kv: &impl Kv, act: &Act<'_>, raw_code: &str) -> ApiResult<Outcome> {
    let d = draft_in(db, raw_code, "submitted").await?;
    reviewable(act, &d)?;
    let item = checked(db, d.item.clone()).await?;
    let mut stmts = vec![guard(&d), bump_version_stmt(act.now)];
    stmts.extend(item_stmts(&item, act.now));
    stmts.push(Stmt::new("DELETE FROM item_drafts WHERE code = ?1", vec![d.code.as_str().into()]));
    let detail = serde_json::json!({ "revision": d.revision, "submitted_by": d.submitted_by });
    stmts.push(audit_stmt(act.who, "item.publish", &d.code, act.request_id, act.now, &detail));
    db.batch(&stmts).await?;
    finish(db, kv, d.code, "published").await
}

/// Withdraws a published item from citizens (下架, role catalogue_reviewer).
/// It comes back by publishing a reviewed draft of it.
pub async fn archive(db: &impl Db, kv: &impl Kv, act: &Act<'_>, raw_code: &str) -> ApiResult<Outcome> {
    act.who.require(Role::CatalogueReviewer)?;
    let code = code_of(raw_code)?;
    match item_status(db, &code).await?.as_deref() {
        None => return Err(ErrorCode::ItemNotFound.into()),
        Some("published") => {}
        Some(_) => return Err(ApiError::with_message(ErrorCode::ReviewStateInvalid, "该事项已下架")),
    }
    db.batch(&[
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM items WHERE code = ?1 AND status = 'published')",
            vec![code.as_str().into()],
        ),
        bump_version_stmt(act.now),
        Stmt::new(
            "UPDATE items SET status = 'withdrawn', updated_at = ?2,
               version = (SELECT version FROM catalog_meta WHERE id = 1) WHERE code = ?1",
            vec![code.as_str().into(), act.now.to_rfc3339().into()],
        ),
        audit_stmt(act.who, "item.archive", &code, act.request_id, act.now, &Json::Null),
    ])
    .await?;
    finish(db, kv, code, "withdrawn").await
}

async fn finish(db: &impl Db, kv: &impl Kv, code: String, status: &str) -> ApiResult<Outcome> {
    let stale = repo::affected_items(db, std::slice::from_ref(&code), &[]).await?;
    for c in &stale {
        repo::invalidate_guide(kv, c).await?;
    }
    Ok(Outcome {
        code,
        status: status.to_owned(),
        catalog_version: repo::catalog_version(db).await?,
        invalidated_guides: stale.len(),
        stale: stale.into_iter().collect(),
    })
}
