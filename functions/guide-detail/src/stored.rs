//! The stored item in the shape editors send it (`schemas/json/item-input.json`),
//! whatever its status: what 事项管理 edits from and compares a draft with.
//! The public guide cannot serve this: it shows published items only and
//! drops withdrawn related items, so a withdrawn item could not be edited
//! back, nor a reviewer see its exact published text.

use serde::Deserialize;
use serde_json::{Value as Json, json};
use shared::store::Db;
use shared::{ApiError, ApiResult};

#[derive(Deserialize)]
struct ItemRow {
    code: String,
    basic_code: String,
    name: String,
    category: String,
    tags: String,
    department: String,
    service_object: String,
    online: i64,
    online_url: Option<String>,
    appointment: i64,
    guide: String,
}

#[derive(Deserialize)]
struct MaterialRow {
    name: String,
    form: String,
    copies: i64,
    required: i64,
    note: String,
    sample_url: Option<String>,
    blank_url: Option<String>,
}

#[derive(Deserialize)]
struct Key {
    k: String,
}

fn parse(text: &str, what: &str) -> ApiResult<Json> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored {what} is not valid JSON: {e}")))
}

async fn keys(db: &impl Db, sql: &str, code: &str) -> ApiResult<Vec<String>> {
    let rows: Vec<Key> = db.query_as(sql, &[code.into()]).await?;
    Ok(rows.into_iter().map(|r| r.k).collect())
}

/// The item `code` as last published (also when withdrawn since); `None`
/// when it was never published.
pub async fn stored_item(db: &impl Db, code: &str) -> ApiResult<Option<Json>> {
    let Some(row) = db
        .first_as::<ItemRow>(
            "SELECT code, basic_code, name, category, tags, department, service_object, online, online_url,
                    appointment, guide FROM items WHERE code = ?1",
            &[code.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let materials: Vec<MaterialRow> = db
        .query_as(
            "SELECT name, form, copies, required, note, sample_url, blank_url FROM materials
             WHERE item_code = ?1 ORDER BY position",
            &[code.into()],
        )
        .await?;
    let materials: Vec<Json> = materials
        .into_iter()
        .map(|m| {
            json!({ "name": m.name, "form": m.form, "copies": m.copies, "required": m.required != 0,
                    "note": m.note, "sample_url": m.sample_url, "blank_url": m.blank_url })
        })
        .collect();
    let halls = keys(db, "SELECT hall_id AS k FROM item_halls WHERE item_code = ?1 ORDER BY hall_id", code).await?;
    let related =
        keys(db, "SELECT related_code AS k FROM item_relations WHERE item_code = ?1 ORDER BY related_code", code)
            .await?;
    Ok(Some(json!({
        "code": row.code,
        "basic_code": row.basic_code,
        "name": row.name,
        "category": row.category,
        "tags": parse(&row.tags, "tags")?,
        "department": row.department,
        "service_object": parse(&row.service_object, "service_object")?,
        "online": { "available": row.online != 0, "url": row.online_url },
        "appointment": row.appointment != 0,
        "materials": materials,
        "halls": halls,
        "related": related,
        "guide": parse(&row.guide, "guide")?,
    })))
}
