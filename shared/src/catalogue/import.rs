//! Bulk catalogue import (`POST /v1/admin/items:import`): every row validated
//! first, every rejection reported, then one atomic D1 batch or nothing.

use super::model::{HallInput, ItemInput, SERVICE_OBJECTS, SituationQuestionInput};
use super::repo;
use crate::admin::{Principal, audit_stmt};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::limits::{MAX_IMPORT_HALLS, MAX_IMPORT_ITEMS};
use crate::store::{Db, Kv, Stmt, Value};
use crate::types::{BeijingTime, ItemCode};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap, HashSet};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// Most rejections listed in one answer; the count says how many there were.
const MAX_REPORTED: usize = 1_000;

/// The raw import body: rows stay JSON until each is checked on its own, so
/// one malformed row is reported instead of failing the whole parse.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    #[serde(default)]
    pub items: Vec<Json>,
    #[serde(default)]
    pub halls: Vec<Json>,
}

/// A fully checked import.
#[derive(Debug)]
pub struct ValidImport {
    pub items: Vec<ItemInput>,
    pub halls: Vec<HallInput>,
}

/// What an import did.
#[derive(Debug, Serialize, PartialEq)]
pub struct ImportOutcome {
    pub catalog_version: i64,
    pub imported_items: usize,
    pub imported_halls: usize,
    pub invalidated_guides: usize,
    /// The codes whose cached renderings were dropped (for in-memory caches).
    #[serde(skip)]
    pub stale: Vec<String>,
}

/// What already exists in the database, for reference checks.
#[derive(Debug, Default)]
pub struct Known {
    pub items: HashSet<String>,
    pub halls: HashSet<String>,
    pub categories: HashSet<String>,
}

impl Known {
    /// Reads the item codes, hall ids and categories from the database.
    pub async fn load(db: &impl Db) -> ApiResult<Self> {
        Ok(Self {
            items: repo::item_codes(db).await?,
            halls: repo::hall_ids(db).await?,
            categories: repo::category_names(db).await?,
        })
    }
}

/// Validates one item (a draft or a synced row) against what exists; its
/// own code counts as existing, so its situation tree may point at itself.
pub fn validate_item(row: Json, known: &Known) -> Result<ItemInput, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut parsed: Vec<(usize, ItemInput)> = parse_rows("item", vec![row], &mut errs);
    let Some((_, mut item)) = parsed.pop() else { return Err(errs) };
    item.code = item.code.trim().to_ascii_uppercase();
    let halls: HashSet<&str> = known.halls.iter().map(String::as_str).collect();
    let items: HashSet<&str> =
        known.items.iter().map(String::as_str).chain(std::iter::once(item.code.as_str())).collect();
    check_item("item", &item, &items, &halls, &known.categories, &mut errs);
    // parse_rows names the row `item[0]`; a single item is just `item`.
    for e in &mut errs {
        if let Some(rest) = e.field.strip_prefix("item[0]") {
            e.field = format!("item{rest}");
        }
    }
    if errs.is_empty() { Ok(item) } else { Err(errs) }
}

/// Validates every row and every reference; returns all rejections at once.
pub fn validate(body: ImportBody, known: &Known) -> Result<ValidImport, Vec<FieldError>> {
    let mut errs = Vec::new();
    if body.items.is_empty() && body.halls.is_empty() {
        errs.push(FieldError::new("items", "导入内容为空：items 和 halls 至少提供一项"));
    }
    if body.items.len() > MAX_IMPORT_ITEMS {
        errs.push(FieldError::new("items", format!("单次最多导入 {MAX_IMPORT_ITEMS} 个事项，请分批导入")));
    }
    if body.halls.len() > MAX_IMPORT_HALLS {
        errs.push(FieldError::new("halls", format!("单次最多导入 {MAX_IMPORT_HALLS} 个大厅，请分批导入")));
    }
    let halls: Vec<(usize, HallInput)> = parse_rows("halls", body.halls, &mut errs);
    let items: Vec<(usize, ItemInput)> = parse_rows("items", body.items, &mut errs);
    check_unique("halls", halls.iter().map(|(i, h)| (*i, h.id.as_str())), "id", &mut errs);
    let item_codes: Vec<(usize, String)> =
        items.iter().map(|(i, it)| (*i, it.code.trim().to_ascii_uppercase())).collect();
    check_unique("items", item_codes.iter().map(|(i, c)| (*i, c.as_str())), "code", &mut errs);

    let all_halls: HashSet<&str> =
        known.halls.iter().map(String::as_str).chain(halls.iter().map(|(_, h)| h.id.as_str())).collect();
    let all_items: HashSet<&str> =
        known.items.iter().map(String::as_str).chain(item_codes.iter().map(|(_, c)| c.as_str())).collect();
    for (i, item) in &items {
        check_item(&format!("items[{i}]"), item, &all_items, &all_halls, &known.categories, &mut errs);
    }
    if errs.is_empty() {
        let items = items.into_iter().map(|(_, mut it)| {
            it.code = it.code.trim().to_ascii_uppercase();
            it
        });
        Ok(ValidImport { items: items.collect(), halls: halls.into_iter().map(|(_, h)| h).collect() })
    } else {
        Err(errs)
    }
}

fn parse_rows<T: for<'de> Deserialize<'de> + Validate>(
    list: &str,
    rows: Vec<Json>,
    errs: &mut Vec<FieldError>,
) -> Vec<(usize, T)> {
    let mut ok = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let at = format!("{list}[{i}]");
        match serde_json::from_value::<T>(row) {
            Err(e) => errs.push(FieldError::new(&at, format!("字段缺失或类型不符：{}", describe_serde(&e)))),
            Ok(v) => {
                // Field errors are reported, and the row still goes through the
                // cross-field checks so one answer lists everything to fix.
                if let Err(ve) = v.validate() {
                    flatten(&at, &ve, errs);
                }
                ok.push((i, v));
            }
        }
    }
    ok
}

/// serde's message names the field; keep that, drop the English scaffolding.
fn describe_serde(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    msg.split(" at line ").next().unwrap_or(&msg).to_owned()
}

/// Turns validator's nested error tree into `path: message` rows.
fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    let mut fields: Vec<_> = errors.errors().iter().collect();
    fields.sort_by_key(|(k, _)| k.to_string());
    for (field, kind) in fields {
        let path = format!("{prefix}.{field}");
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let msg =
                        e.message.as_deref().map_or_else(|| format!("取值不符合要求（{}）", e.code), str::to_owned);
                    out.push(FieldError::new(&path, msg));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(map) => {
                let mut rows: Vec<_> = map.iter().collect();
                rows.sort_by_key(|(i, _)| **i);
                for (i, inner) in rows {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn check_unique<'a>(list: &str, keys: impl Iterator<Item = (usize, &'a str)>, field: &str, errs: &mut Vec<FieldError>) {
    let mut seen = HashMap::new();
    for (i, key) in keys {
        if let Some(first) = seen.insert(key.to_owned(), i) {
            errs.push(FieldError::new(format!("{list}[{i}].{field}"), format!("与 {list}[{first}] 重复：{key}")));
        }
    }
}

fn check_item(
    at: &str,
    item: &ItemInput,
    items: &HashSet<&str>,
    halls: &HashSet<&str>,
    categories: &HashSet<String>,
    errs: &mut Vec<FieldError>,
) {
    let mut err = |field: &str, msg: String| errs.push(FieldError::new(format!("{at}.{field}"), msg));
    match ItemCode::parse(&item.code) {
        Err(e) => err("code", e.0.to_owned()),
        Ok(code) if code.basic_code() != item.basic_code.trim() => {
            err("basic_code", "基本编码应与实施编码末12位一致".into());
        }
        Ok(_) => {}
    }
    if !categories.contains(&item.category) {
        err("category", format!("未知的事项分类：{}", item.category));
    }
    if let Some(bad) = item.service_object.iter().find(|o| !SERVICE_OBJECTS.contains(&o.as_str())) {
        err("service_object", format!("服务对象应为自然人、法人或其他组织，而不是：{bad}"));
    }
    if item.online.available && item.online.url.is_none() {
        err("online.url", "可网上办理的事项必须提供线上办理链接".into());
    }
    if item.appointment && item.guide.appointment_methods.is_empty() {
        err("guide.appointment_methods", "可预约的事项必须说明预约方式".into());
    }
    if item.halls.is_empty() && !item.online.available {
        err("halls", "不能网上办理的事项至少要有一个办理大厅".into());
    }
    for (i, h) in item.halls.iter().enumerate() {
        if !halls.contains(h.as_str()) {
            err(&format!("halls[{i}]"), format!("办理大厅不存在：{h}"));
        }
    }
    let own = item.code.trim().to_ascii_uppercase();
    for (i, r) in item.related.iter().enumerate() {
        let r = r.trim().to_ascii_uppercase();
        if r == own || !items.contains(r.as_str()) {
            err(&format!("related[{i}]"), format!("关联事项不存在或指向自身：{r}"));
        }
    }
    let g = &item.guide;
    if g.time_limit.promised_days > g.time_limit.legal_days {
        err("guide.time_limit.promised_days", "承诺时限不能长于法定时限".into());
    }
    if g.fees.free != g.fees.items.is_empty() {
        err("guide.fees", "免费事项不应列收费项目；收费事项必须列明收费项目、标准和依据".into());
    }
    let materials: HashSet<&str> = item.materials.iter().map(|m| m.name.as_str()).collect();
    for msg in check_situations(&g.situations, &own, items, &materials) {
        err("guide.situations", msg);
    }
}

/// The situation tree: unique ids, each option leads to exactly one known
/// place, no cycles, and materials named for this item exist on it.
fn check_situations(
    qs: &[SituationQuestionInput],
    own: &str,
    items: &HashSet<&str>,
    materials: &HashSet<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let ids: HashSet<&str> = qs.iter().map(|q| q.id.as_str()).collect();
    if ids.len() != qs.len() {
        out.push("情形引导的问题编号重复".to_owned());
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for q in qs {
        for o in &q.options {
            match (&o.next, &o.item_code) {
                (Some(n), None) if ids.contains(n.as_str()) => edges.entry(q.id.as_str()).or_default().push(n),
                (None, Some(c)) if items.contains(c.trim().to_ascii_uppercase().as_str()) => {
                    let for_self = c.trim().eq_ignore_ascii_case(own);
                    if let Some(m) = o.materials.iter().find(|m| for_self && !materials.contains(m.as_str())) {
                        out.push(format!("问题 {} 的选项「{}」引用了不存在的材料：{m}", q.id, o.label));
                    }
                }
                _ => out.push(format!("问题 {} 的选项「{}」必须且只能指向一个存在的问题或事项", q.id, o.label)),
            }
        }
    }
    if has_cycle(&edges) {
        out.push("情形引导存在循环，问题之间不能互相指回".to_owned());
    }
    out
}

fn has_cycle(edges: &HashMap<&str, Vec<&str>>) -> bool {
    fn visit<'a>(
        n: &'a str,
        e: &HashMap<&'a str, Vec<&'a str>>,
        on: &mut HashSet<&'a str>,
        done: &mut HashSet<&'a str>,
    ) -> bool {
        if done.contains(n) {
            return false;
        }
        if !on.insert(n) {
            return true;
        }
        let cyclic = e.get(n).is_some_and(|next| next.iter().any(|m| visit(m, e, on, done)));
        on.remove(n);
        done.insert(n);
        cyclic
    }
    let (mut on, mut done) = (HashSet::new(), HashSet::new());
    edges.keys().any(|n| visit(n, edges, &mut on, &mut done))
}

/// Validates and applies an import in one atomic batch, appends the audit
/// entry in the same batch, then drops the cached guides it made stale.
pub async fn apply(
    db: &impl Db,
    kv: &impl Kv,
    body: ImportBody,
    who: &Principal,
    now: BeijingTime,
    request_id: &str,
) -> ApiResult<ImportOutcome> {
    let known = Known::load(db).await?;
    let valid = validate(body, &known).map_err(|mut errs| {
        let total = errs.len();
        errs.truncate(MAX_REPORTED);
        let mut e = ApiError::validation(errs);
        e.message = Some(format!("导入未执行：共 {total} 处错误，请全部修正后重新提交"));
        e
    })?;
    let mut stmts = vec![bump_version_stmt(now)];
    for h in &valid.halls {
        stmts.push(hall_stmt(h, now));
    }
    for item in &valid.items {
        stmts.extend(item_stmts(item, now));
    }
    let target = format!("items:{} halls:{}", valid.items.len(), valid.halls.len());
    let codes: Vec<String> = valid.items.iter().map(|i| i.code.clone()).collect();
    let detail = serde_json::json!({ "items": codes, "halls": valid.halls.iter().map(|h| &h.id).collect::<Vec<_>>() });
    stmts.push(audit_stmt(who, "catalog.import", &target, request_id, now, &detail));
    db.batch(&stmts).await?;

    let hall_ids: Vec<String> = valid.halls.iter().map(|h| h.id.clone()).collect();
    let stale = repo::affected_items(db, &codes, &hall_ids).await?;
    for code in &stale {
        super::repo::invalidate_guide(kv, code).await?;
    }
    let version = repo::catalog_version(db).await?;
    Ok(ImportOutcome {
        catalog_version: version,
        imported_items: valid.items.len(),
        imported_halls: valid.halls.len(),
        invalidated_guides: stale.len(),
        stale: stale.into_iter().collect(),
    })
}

const VERSION: &str = "(SELECT version FROM catalog_meta WHERE id = 1)";

/// Bumps the catalogue version: every change runs this in its batch, first,
/// so the rows it writes carry the new version and search notices it.
pub fn bump_version_stmt(now: BeijingTime) -> Stmt {
    Stmt::new(
        "UPDATE catalog_meta SET version = version + 1, updated_at = ?1 WHERE id = 1",
        vec![now.to_rfc3339().into()],
    )
}

fn json_text<T: Serialize>(v: &T) -> Value {
    Value::Text(serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
}

fn hall_stmt(h: &HallInput, now: BeijingTime) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, extra, version, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {VERSION}, ?10)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, district = excluded.district,
               address = excluded.address, hours = excluded.hours, phone = excluded.phone,
               lat = excluded.lat, lng = excluded.lng, extra = excluded.extra,
               version = excluded.version, updated_at = excluded.updated_at"
        ),
        vec![
            h.id.as_str().into(),
            h.name.as_str().into(),
            h.district.as_str().into(),
            h.address.as_str().into(),
            h.hours.as_str().into(),
            h.phone.as_str().into(),
            h.lat.into(),
            h.lng.into(),
            json_text(&h.extra),
            now.to_rfc3339().into(),
        ],
    )
}

/// Writes one item as published, replacing its materials, halls and relations.
pub fn item_stmts(item: &ItemInput, now: BeijingTime) -> Vec<Stmt> {
    let code = item.code.as_str();
    let mut out = vec![Stmt::new(
        format!(
            "INSERT INTO items (code, basic_code, name, category, tags, department, service_object,
               online, online_url, appointment, guide, status, version, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'published', {VERSION}, ?12)
             ON CONFLICT (code) DO UPDATE SET basic_code = excluded.basic_code, name = excluded.name,
               category = excluded.category, tags = excluded.tags, department = excluded.department,
               service_object = excluded.service_object, online = excluded.online,
               online_url = excluded.online_url, appointment = excluded.appointment,
               guide = excluded.guide, status = 'published', version = excluded.version,
               updated_at = excluded.updated_at"
        ),
        vec![
            code.into(),
            item.basic_code.trim().into(),
            item.name.as_str().into(),
            item.category.as_str().into(),
            json_text(&item.tags),
            item.department.as_str().into(),
            json_text(&item.service_object),
            item.online.available.into(),
            item.online.url.clone().into(),
            item.appointment.into(),
            json_text(&item.guide),
            now.to_rfc3339().into(),
        ],
    )];
    for table in ["materials", "item_halls", "item_relations"] {
        out.push(Stmt::new(format!("DELETE FROM {table} WHERE item_code = ?1"), vec![code.into()]));
    }
    for (pos, m) in item.materials.iter().enumerate() {
        out.push(Stmt::new(
            "INSERT INTO materials (item_code, position, name, form, copies, required, note, sample_url, blank_url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            vec![
                code.into(),
                (pos as i64).into(),
                m.name.as_str().into(),
                m.form.as_str().into(),
                i64::from(m.copies).into(),
                m.required.into(),
                m.note.as_str().into(),
                m.sample_url.clone().into(),
                m.blank_url.clone().into(),
            ],
        ));
    }
    let halls: BTreeSet<&str> = item.halls.iter().map(String::as_str).collect();
    for h in halls {
        out.push(Stmt::new("INSERT INTO item_halls (item_code, hall_id) VALUES (?1, ?2)", vec![code.into(), h.into()]));
    }
    let related: BTreeSet<String> = item.related.iter().map(|r| r.trim().to_ascii_uppercase()).collect();
    for r in related {
        out.push(Stmt::new(
            "INSERT INTO item_relations (item_code, related_code) VALUES (?1, ?2)",
            vec![code.into(), r.into()],
        ));
    }
    out
}
