//! Catalogue SQL: written once against [`Db`], tested natively on SQLite.

use super::geo::distance_m;
use super::model::{GuideInput, MaterialForm};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::store::{Db, Kv, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::HashSet;

/// The current catalogue version.
pub async fn catalog_version(db: &impl Db) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct Row {
        version: i64,
    }
    let row: Option<Row> = db.first_as("SELECT version FROM catalog_meta WHERE id = 1", &[]).await?;
    row.map(|r| r.version).ok_or_else(|| ApiError::internal("catalog_meta row missing"))
}

#[derive(Deserialize)]
struct Key {
    k: String,
}

/// The `k` column of every row of `sql`.
pub async fn keys(db: &impl Db, sql: &str, params: &[Value]) -> ApiResult<HashSet<String>> {
    let rows: Vec<Key> = db.query_as(sql, params).await?;
    Ok(rows.into_iter().map(|r| r.k).collect())
}

/// Every item code in the catalogue.
pub async fn item_codes(db: &impl Db) -> ApiResult<HashSet<String>> {
    keys(db, "SELECT code AS k FROM items", &[]).await
}

/// Every hall id.
pub async fn hall_ids(db: &impl Db) -> ApiResult<HashSet<String>> {
    keys(db, "SELECT id AS k FROM halls", &[]).await
}

/// Whether hall `id` exists.
pub async fn hall_exists(db: &impl Db, id: &str) -> ApiResult<bool> {
    Ok(!db.query("SELECT 1 FROM halls WHERE id = ?1", &[id.into()]).await?.is_empty())
}

/// Every category name (事项分类).
pub async fn category_names(db: &impl Db) -> ApiResult<HashSet<String>> {
    keys(db, "SELECT name AS k FROM categories", &[]).await
}

/// Items whose rendered guide changes when `codes` or `halls` change: the
/// items themselves, items that list them as related, and items handled at
/// the halls.
pub async fn affected_items(db: &impl Db, codes: &[String], halls: &[String]) -> ApiResult<HashSet<String>> {
    let mut out: HashSet<String> = codes.iter().cloned().collect();
    for code in codes {
        out.extend(
            keys(db, "SELECT item_code AS k FROM item_relations WHERE related_code = ?1", &[code.as_str().into()])
                .await?,
        );
    }
    for hall in halls {
        out.extend(
            keys(db, "SELECT item_code AS k FROM item_halls WHERE hall_id = ?1", &[hall.as_str().into()]).await?,
        );
    }
    Ok(out)
}

/// KV key of an item's rendered guide.
pub fn guide_cache_key(code: &str) -> String {
    format!("guide:v1:{code}")
}

/// KV key of an item's rendered material list.
pub fn materials_cache_key(code: &str) -> String {
    format!("materials:v1:{code}")
}

/// Drops every cached rendering of an item.
pub async fn invalidate_guide(kv: &impl Kv, code: &str) -> ApiResult<()> {
    kv.delete(&guide_cache_key(code)).await?;
    kv.delete(&materials_cache_key(code)).await
}

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
    version: i64,
    updated_at: String,
    /// The `regions` table's name of the code's region, if any.
    region_name: Option<String>,
}

/// One material as the guide shows it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Material {
    pub name: String,
    pub form: MaterialForm,
    pub form_label: String,
    pub copies: i64,
    pub required: bool,
    pub note: String,
    pub sample_url: Option<String>,
    pub blank_url: Option<String>,
}

#[derive(Deserialize)]
struct MaterialRow {
    name: String,
    form: MaterialForm,
    copies: i64,
    required: i64,
    note: String,
    sample_url: Option<String>,
    blank_url: Option<String>,
}

/// A hall as lists and guides show it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub district: String,
    pub address: String,
    pub hours: String,
    pub phone: String,
    pub lat: f64,
    pub lng: f64,
}

const HALL_COLUMNS: &str = "h.id, h.name, h.district, h.address, h.hours, h.phone, h.lat, h.lng";

fn parse_json<T: for<'de> Deserialize<'de>>(text: &str, what: &str) -> ApiResult<T> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored {what} is not valid JSON: {e}")))
}

/// The materials of an item, in their listed order; `None` if the item does not exist.
pub async fn materials(db: &impl Db, code: &str) -> ApiResult<Option<Vec<Material>>> {
    if db.query("SELECT 1 FROM items WHERE code = ?1 AND status = 'published'", &[code.into()]).await?.is_empty() {
        return Ok(None);
    }
    let rows: Vec<MaterialRow> = db
        .query_as(
            "SELECT name, form, copies, required, note, sample_url, blank_url FROM materials
             WHERE item_code = ?1 ORDER BY position",
            &[code.into()],
        )
        .await?;
    Ok(Some(rows.into_iter().map(material).collect()))
}

fn material(r: MaterialRow) -> Material {
    Material {
        name: r.name,
        form: r.form,
        form_label: r.form.label().to_owned(),
        copies: r.copies,
        required: r.required != 0,
        note: r.note,
        sample_url: r.sample_url,
        blank_url: r.blank_url,
    }
}

/// The complete guide of a published item, rendered as the API returns it,
/// or `None` when there is no such item.
pub async fn render_guide(db: &impl Db, code: &str) -> ApiResult<Option<Json>> {
    let Some(row) = db
        .first_as::<ItemRow>(
            "SELECT code, basic_code, name, category, tags, department, service_object, online, online_url,
                appointment, guide, version, updated_at,
                (SELECT r.name FROM regions r WHERE r.code = substr(items.code, 3, 6)) AS region_name
         FROM items WHERE code = ?1 AND status = 'published'",
            &[code.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let guide: GuideInput = parse_json(&row.guide, "guide")?;
    let materials = materials(db, code).await?.unwrap_or_default();
    let halls: Vec<Hall> = db
        .query_as(
            &format!("SELECT {HALL_COLUMNS} FROM halls h JOIN item_halls ih ON ih.hall_id = h.id WHERE ih.item_code = ?1 ORDER BY h.id"),
            &[code.into()],
        )
        .await?;
    let related: Vec<Related> = db
        .query_as(
            "SELECT i.code, i.name FROM item_relations r JOIN items i ON i.code = r.related_code
             WHERE r.item_code = ?1 AND i.status = 'published' ORDER BY i.code",
            &[code.into()],
        )
        .await?;
    guide_json(row, &guide, materials, halls, related).map(Some)
}

/// A related item as the guide lists it.
#[derive(Deserialize, Serialize)]
struct Related {
    code: String,
    name: String,
}

/// The rendered guide (plain data in, the JSON `GET /v1/guides/{code}` serves out).
fn guide_json(
    row: ItemRow,
    guide: &GuideInput,
    materials: Vec<Material>,
    halls: Vec<Hall>,
    related: Vec<Related>,
) -> ApiResult<Json> {
    let samples: Vec<Json> = materials
        .iter()
        .filter_map(|m| m.sample_url.as_ref().map(|u| json!({ "material": m.name, "url": u })))
        .collect();
    let fees_text = if guide.fees.free { "不收费".to_owned() } else { "收费，标准见收费项目".to_owned() };
    let tl = &guide.time_limit;
    let region = region_json(&row.code, row.region_name.as_deref());
    Ok(json!({
        "item": {
            "code": row.code,
            "basic_code": row.basic_code,
            "name": row.name,
            "category": row.category,
            "tags": parse_json::<Json>(&row.tags, "tags")?,
            "department": row.department,
            "service_object": parse_json::<Json>(&row.service_object, "service_object")?,
            "online": { "available": row.online != 0, "url": row.online_url },
            "appointment": row.appointment != 0,
            "version": row.version,
            "updated_at": row.updated_at,
            "region": region,
        },
        "guide": {
            "name": row.name,
            "scope": guide.scope,
            "legal_basis": guide.legal_basis,
            "accepting_department": guide.accepting_department,
            "deciding_department": guide.deciding_department,
            "handling_unit": guide.handling_unit,
            "business_office": guide.business_office,
            "conditions": guide.conditions,
            "prohibitions": guide.prohibitions,
            "materials": materials,
            "process": guide.process,
            "time_limit": {
                "legal_days": tl.legal_days,
                "promised_days": tl.promised_days,
                "unit": "工作日",
                "text": time_limit_text(tl.legal_days, tl.promised_days),
                "note": tl.note,
            },
            "fees": { "free": guide.fees.free, "summary": fees_text, "items": guide.fees.items },
            "delivery": guide.delivery,
            "pickup_methods": guide.pickup_methods,
            "appointment_methods": guide.appointment_methods,
            "supervision": guide.supervision,
            "halls": halls,
            "sample_texts": samples,
            "common_errors": guide.common_errors,
            "faq": guide.faq,
            "supplementary": guide.supplementary,
            "other": guide.other,
            "situations": guide.situations,
        },
        "related": related,
    }))
}

/// An item's region (行政区划) as answers show it: code, name when the
/// `regions` table has one, level; `null` when the code carries none.
pub fn region_json(code: &str, name: Option<&str>) -> Json {
    match crate::types::Region::of_code(code) {
        None => Json::Null,
        Some(r) => match name {
            Some(n) => json!({ "code": r, "name": n, "level": r.level() }),
            None => json!({ "code": r, "level": r.level() }),
        },
    }
}

fn time_limit_text(legal: u32, promised: u32) -> String {
    let part = |d: u32| {
        if d == 0 { "即办".to_owned() } else { format!("{d}个工作日") }
    };
    format!("法定办结时限：{}；承诺办结时限：{}", part(legal), part(promised))
}

/// Every hall, ordered by id.
pub async fn list_halls(db: &impl Db) -> ApiResult<Vec<Hall>> {
    db.query_as(&format!("SELECT {HALL_COLUMNS} FROM halls h ORDER BY h.id"), &[]).await
}

/// One hall with the items it handles (大厅详情).
pub async fn hall_detail(db: &impl Db, id: &str) -> ApiResult<Json> {
    #[derive(Deserialize)]
    struct Row {
        #[serde(flatten)]
        hall: Hall,
        extra: String,
    }
    let row: Row = db
        .first_as(&format!("SELECT {HALL_COLUMNS}, h.extra FROM halls h WHERE h.id = ?1"), &[id.into()])
        .await?
        .ok_or(ErrorCode::HallNotFound)?;
    #[derive(Deserialize, Serialize)]
    struct ItemRef {
        code: String,
        name: String,
        category: String,
        appointment: i64,
    }
    let items: Vec<ItemRef> = db
        .query_as(
            "SELECT i.code, i.name, i.category, i.appointment FROM item_halls ih JOIN items i ON i.code = ih.item_code
             WHERE ih.hall_id = ?1 AND i.status = 'published' ORDER BY i.category, i.name",
            &[id.into()],
        )
        .await?;
    let items: Vec<Json> = items
        .into_iter()
        .map(|i| json!({ "code": i.code, "name": i.name, "category": i.category, "appointment": i.appointment != 0 }))
        .collect();
    Ok(json!({ "hall": row.hall, "extra": parse_json::<Json>(&row.extra, "extra")?, "items": items }))
}

/// A hall with its distance from the citizen.
#[derive(Debug, Serialize, PartialEq)]
pub struct NearbyHall {
    #[serde(flatten)]
    pub hall: Hall,
    pub distance_m: u64,
}

/// Halls sorted by distance from (`lat`, `lng`), optionally only those that
/// handle `item`. A city has at most a few hundred halls, so the distance is
/// computed here rather than approximated in SQL.
pub async fn nearby_halls(
    db: &impl Db,
    lat: f64,
    lng: f64,
    item: Option<&str>,
    limit: u32,
) -> ApiResult<Vec<NearbyHall>> {
    let halls: Vec<Hall> = match item {
        None => list_halls(db).await?,
        Some(code) => {
            db.query_as(
                &format!(
                    "SELECT {HALL_COLUMNS} FROM halls h JOIN item_halls ih ON ih.hall_id = h.id WHERE ih.item_code = ?1"
                ),
                &[code.into()],
            )
            .await?
        }
    };
    let mut out: Vec<NearbyHall> = halls
        .into_iter()
        .map(|h| NearbyHall { distance_m: distance_m(lat, lng, h.lat, h.lng).round() as u64, hall: h })
        .collect();
    out.sort_by(|a, b| a.distance_m.cmp(&b.distance_m).then_with(|| a.hall.id.cmp(&b.hall.id)));
    out.truncate(limit as usize);
    Ok(out)
}
