//! An application as its citizen files it: a draft from the resolved
//! situation, materials attached (new uploads or reused ones), submission,
//! correction after a one-time notice, and the citizen's views.

use crate::situation::{Needed, Resolution, Tree};
use crate::status::{Group, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// The prefix of a 办件编号 (申报).
pub const PREFIX: &str = "SB";
/// Drafts a citizen may keep at once (counted in the statement that adds one).
pub const MAX_DRAFTS: i64 = 20;
/// Largest form a citizen fills in, as JSON text.
pub const MAX_FORM_CHARS: usize = 8_000;
/// Most fields in a form.
pub const MAX_FORM_FIELDS: usize = 40;

/// A material of an application, as its citizen and its handlers see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Material {
    pub name: String,
    pub why: String,
    pub required: bool,
    pub upload_id: Option<String>,
    pub reused: bool,
    /// What the one-time notice (or 容缺受理) asks of this material.
    pub correction: Option<String>,
    pub replaced: bool,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub action: String,
    pub status: Status,
    pub note: String,
    pub at: String,
}

/// The whole application, for its citizen (and, masked of nothing personal
/// beyond the form, its department's handlers).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Application {
    pub number: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub bundle: Option<String>,
    pub status: Status,
    pub phrase: &'static str,
    pub next_step: &'static str,
    pub version: i64,
    pub answers: Vec<String>,
    pub situation: String,
    pub form: Json,
    pub field_fixes: Json,
    pub materials: Vec<Material>,
    pub promised_days: i64,
    pub accepted_on: Option<String>,
    pub deadline: Option<String>,
    pub pending_until: Option<String>,
    pub delivery: Option<Json>,
    pub rating: Option<i64>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub updated_at: String,
    /// Whether the handler attached the 电子 result file.
    pub result_file: bool,
    /// Where the applicant downloads it, once 办结.
    pub result_download: Option<String>,
    pub timeline: Vec<Event>,
}

#[derive(Deserialize)]
pub(crate) struct Row {
    pub number: String,
    pub citizen_id: String,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub bundle: Option<String>,
    pub status: String,
    pub version: i64,
    pub notices: i64,
    pub answers: String,
    pub situation: String,
    pub form: String,
    pub field_fixes: String,
    pub promised_days: i64,
    pub accepted_on: Option<String>,
    pub deadline: Option<String>,
    pub pending_until: Option<String>,
    pub delivery: Option<String>,
    pub rating: Option<i64>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub result_upload: Option<String>,
}

impl Row {
    pub(crate) fn status(&self) -> ApiResult<Status> {
        Status::parse(&self.status).ok_or_else(|| ApiError::internal(format!("application status {}", self.status)))
    }
}

#[derive(Deserialize)]
struct MaterialRow {
    name: String,
    why: String,
    required: i64,
    upload_id: Option<String>,
    reused: i64,
    correction: Option<String>,
    replaced: i64,
}

pub(crate) const COLUMNS: &str =
    "number, citizen_id, item_code, item_name, department, bundle, status, version, notices,
    answers, situation, form, field_fixes, promised_days, accepted_on, deadline, pending_until, delivery, rating,
    created_at, submitted_at, updated_at, result_upload";

fn not_found() -> ApiError {
    ApiError::with_message(ErrorCode::NotFound, "没有找到该办件，请核对办件编号")
}

/// A well-formed 办件编号 in canonical form, or 404 (never a database read).
pub fn parse_number(raw: &str) -> ApiResult<String> {
    shared::case_number::parse(raw, PREFIX).ok_or_else(not_found)
}

pub(crate) async fn row(db: &impl Db, number: &str) -> ApiResult<Row> {
    db.first_as(&format!("SELECT {COLUMNS} FROM applications WHERE number = ?1"), &[number.into()])
        .await?
        .ok_or_else(not_found)
}

/// The citizen's own application (another citizen's answers 404, as if none).
pub(crate) async fn own_row(db: &impl Db, citizen: &str, raw: &str) -> ApiResult<Row> {
    let number = parse_number(raw)?;
    let r = row(db, &number).await?;
    if r.citizen_id == citizen { Ok(r) } else { Err(not_found()) }
}

pub(crate) async fn materials(db: &impl Db, number: &str) -> ApiResult<Vec<Material>> {
    let rows: Vec<MaterialRow> = db
        .query_as(
            "SELECT name, why, required, upload_id, reused, correction, replaced FROM application_materials
             WHERE number = ?1 ORDER BY rowid",
            &[number.into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| Material {
            name: m.name,
            why: m.why,
            required: m.required != 0,
            upload_id: m.upload_id,
            reused: m.reused != 0,
            correction: m.correction,
            replaced: m.replaced != 0,
        })
        .collect())
}

pub(crate) async fn timeline(db: &impl Db, number: &str) -> ApiResult<Vec<Event>> {
    db.query_as(
        "SELECT action, status, note, at FROM application_events WHERE number = ?1 ORDER BY seq",
        &[number.into()],
    )
    .await
}

fn parse_json(raw: &str) -> Json {
    serde_json::from_str(raw).unwrap_or(Json::Null)
}

pub(crate) async fn assemble(db: &impl Db, r: Row) -> ApiResult<Application> {
    let status = r.status()?;
    let (materials, timeline) = (materials(db, &r.number).await?, timeline(db, &r.number).await?);
    Ok(Application {
        status,
        phrase: status.phrase(),
        next_step: status.next_step(),
        version: r.version,
        answers: serde_json::from_str(&r.answers).unwrap_or_default(),
        situation: r.situation,
        form: parse_json(&r.form),
        field_fixes: parse_json(&r.field_fixes),
        materials,
        promised_days: r.promised_days,
        accepted_on: r.accepted_on,
        deadline: r.deadline,
        pending_until: r.pending_until,
        delivery: r.delivery.as_deref().map(parse_json),
        rating: r.rating,
        created_at: r.created_at,
        submitted_at: r.submitted_at,
        updated_at: r.updated_at,
        result_file: r.result_upload.is_some(),
        result_download: (r.result_upload.is_some() && status == Status::Completed)
            .then(|| format!("/v1/applications/{}/result", r.number)),
        timeline,
        number: r.number,
        item_code: r.item_code,
        item_name: r.item_name,
        department: r.department,
        bundle: r.bundle,
    })
}

/// The citizen's application by number.
pub async fn mine(db: &impl Db, citizen: &str, raw: &str) -> ApiResult<Application> {
    assemble(db, own_row(db, citizen, raw).await?).await
}

/// A form: a JSON object of at most [`MAX_FORM_FIELDS`] short fields.
pub fn check_form(form: &Json) -> ApiResult<String> {
    let Json::Object(map) = form else {
        return Err(crate::decide::bad("form", "填报信息应为对象（字段名: 内容）"));
    };
    let text = form.to_string();
    if map.len() > MAX_FORM_FIELDS || text.chars().count() > MAX_FORM_CHARS {
        return Err(crate::decide::bad("form", format!("填报信息过多：至多{MAX_FORM_FIELDS}项、{MAX_FORM_CHARS}字")));
    }
    if map.values().any(|v| !(v.is_string() || v.is_number() || v.is_boolean() || v.is_null())) {
        return Err(crate::decide::bad("form", "每个填报项应为文字、数字或是否"));
    }
    Ok(text)
}

/// What a new application starts from.
pub struct Draft<'a> {
    pub tree: &'a Tree,
    pub answers: &'a [String],
    pub form: &'a Json,
    pub bundle: Option<&'a str>,
}

/// The statements that add one draft (part of the caller's batch): the
/// application, its materials and its first timeline entry. The draft
/// limit is counted in the insert itself.
pub fn draft_stmts(
    number: &str,
    citizen: &str,
    d: &Draft<'_>,
    situation: &str,
    needed: &[Needed],
    now: BeijingTime,
) -> ApiResult<Vec<Stmt>> {
    let form = check_form(d.form)?;
    let at = now.to_rfc3339();
    let answers = serde_json::to_string(d.answers).unwrap_or_else(|_| "[]".into());
    let t = d.tree;
    let mut out = vec![
        Stmt::precondition(
            "(SELECT COUNT(*) FROM applications WHERE citizen_id = ?1 AND status = 'draft') < ?2",
            vec![citizen.into(), MAX_DRAFTS.into()],
        ),
        Stmt::new(
            "INSERT INTO applications (number, citizen_id, item_code, item_name, department, bundle, answers, situation,
                form, status, promised_days, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'draft', ?10, ?11, ?11)",
            vec![
                number.into(),
                citizen.into(),
                t.item_code.as_str().into(),
                t.item_name.as_str().into(),
                t.department.as_str().into(),
                d.bundle.map(str::to_owned).into(),
                answers.into(),
                situation.into(),
                form.into(),
                t.promised_days.into(),
                at.as_str().into(),
            ],
        ),
        event_stmt(number, "draft", Status::Draft, "citizen", "保存草稿", &at),
    ];
    for m in needed {
        out.push(Stmt::new(
            "INSERT INTO application_materials (number, name, why, required) VALUES (?1, ?2, ?3, ?4)",
            vec![number.into(), m.name.as_str().into(), m.why.as_str().into(), i64::from(m.required).into()],
        ));
    }
    Ok(out)
}

/// A timeline entry, numbered after the last.
pub fn event_stmt(number: &str, action: &str, status: Status, actor: &str, note: &str, at: &str) -> Stmt {
    Stmt::new(
        "INSERT INTO application_events (number, seq, action, status, actor, note, at)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM application_events WHERE number = ?1), ?2, ?3, ?4, ?5, ?6)",
        vec![number.into(), action.into(), status.as_str().into(), actor.into(), note.into(), at.into()],
    )
}

fn online_resolution(tree: &Tree, answers: &[String]) -> ApiResult<(String, Vec<Needed>)> {
    if !tree.online {
        return Err(ApiError::with_message(ErrorCode::Conflict, "该事项暂不支持网上申报，请预约到大厅办理"));
    }
    match crate::situation::resolve(tree, answers)? {
        Resolution::Resolved { situation, materials, .. } => Ok((situation, materials)),
        Resolution::Question { question, .. } => {
            Err(crate::decide::bad("answers", format!("请先回答情形引导的问题：{}", question.text)))
        }
        Resolution::Elsewhere { item_code, .. } => {
            Err(crate::decide::bad("answers", format!("您的情形应申请另一事项（{item_code}），请改选该事项")))
        }
    }
}

/// The draft limit's refusal, said as such.
fn draft_cap(e: ApiError) -> ApiError {
    if e.code == ErrorCode::Conflict {
        ApiError::with_message(ErrorCode::Conflict, format!("草稿已达{MAX_DRAFTS}件，请先提交或删除部分草稿"))
    } else {
        e
    }
}

/// Saves a new draft for `citizen` from the answers over `tree`.
pub async fn create(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    d: &Draft<'_>,
    now: BeijingTime,
) -> ApiResult<Application> {
    let (situation, needed) = online_resolution(d.tree, d.answers)?;
    let number = shared::case_number::generate(ids, PREFIX, now.date())?;
    db.batch(&draft_stmts(&number, citizen, d, &situation, &needed, now)?).await.map_err(draft_cap)?;
    mine(db, citizen, &number).await
}

/// 一件事一次办: one draft per tree, all sharing the first one's number as
/// their bundle, written in one batch (all or none).
pub async fn create_bundle(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    parts: &[(&Tree, Vec<String>)],
    form: &Json,
    now: BeijingTime,
) -> ApiResult<Vec<String>> {
    let mut stmts = Vec::new();
    let mut numbers: Vec<String> = Vec::new();
    for (i, (tree, _)) in parts.iter().enumerate() {
        if parts.iter().take(i).any(|(t, _)| t.item_code == tree.item_code) {
            return Err(crate::decide::bad(&format!("parts[{i}]"), "同一事项在一件事中只需申请一次"));
        }
    }
    for (tree, answers) in parts {
        let (situation, needed) = online_resolution(tree, answers)?;
        let number = shared::case_number::generate(ids, PREFIX, now.date())?;
        let bundle = numbers.first().cloned().unwrap_or_else(|| number.clone());
        let d = Draft { tree, answers, form, bundle: Some(&bundle) };
        stmts.extend(draft_stmts(&number, citizen, &d, &situation, &needed, now)?);
        numbers.push(number);
    }
    db.batch(&stmts).await.map_err(draft_cap)?;
    Ok(numbers)
}

/// Changes the form of a draft; during a correction, only the fields the
/// notice named.
pub async fn update_form(
    db: &impl Db,
    citizen: &str,
    raw: &str,
    form: &Json,
    now: BeijingTime,
) -> ApiResult<Application> {
    let r = own_row(db, citizen, raw).await?;
    let status = r.status()?;
    let text = check_form(form)?;
    match status {
        Status::Draft => {}
        Status::Correction => {
            let fixes: Vec<crate::decide::Correction> = serde_json::from_str(&r.field_fixes).unwrap_or_default();
            let allowed: Vec<&str> = fixes.iter().filter_map(|c| c.field.as_deref()).collect();
            let old = parse_json(&r.form);
            let changed = changed_fields(&old, form);
            if let Some(f) = changed.iter().find(|f| !allowed.contains(&f.as_str())) {
                return Err(crate::decide::bad("form", format!("补正时只能修改告知中列出的填报项，「{f}」不在其中")));
            }
        }
        _ => return Err(ApiError::with_message(ErrorCode::Conflict, "申请已提交，不能再修改")),
    }
    db.batch(&[
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND version = ?2)",
            vec![r.number.as_str().into(), r.version.into()],
        ),
        Stmt::new(
            "UPDATE applications SET form = ?2, version = version + 1, updated_at = ?3 WHERE number = ?1",
            vec![r.number.as_str().into(), text.into(), now.to_rfc3339().into()],
        ),
    ])
    .await?;
    mine(db, citizen, &r.number).await
}

fn changed_fields(old: &Json, new: &Json) -> Vec<String> {
    let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else { return vec![] };
    let mut keys: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| a.get(k) != b.get(k)).collect()
}

/// Groups and next steps of 我的办件 for applications.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub number: String,
    pub item_name: String,
    pub status: Status,
    pub updated_at: String,
    pub deadline: Option<String>,
}

impl Summary {
    /// The group it belongs to.
    pub fn group(&self) -> Group {
        self.status.group()
    }
}

/// The citizen's applications, newest first.
pub async fn list_mine(db: &impl Db, citizen: &str) -> ApiResult<Vec<Summary>> {
    db.query_as(
        "SELECT number, item_name, status, updated_at, deadline FROM applications
         WHERE citizen_id = ?1 ORDER BY updated_at DESC, number DESC LIMIT 200",
        &[citizen.into()],
    )
    .await
}

/// A timeline entry for whoever holds the number: no notes, no content.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublicEvent {
    pub status: Status,
    pub phrase: &'static str,
    pub at: String,
}

/// Progress by number: the status and the timeline only.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Progress {
    pub number: String,
    pub status: Status,
    pub phrase: &'static str,
    pub deadline: Option<String>,
    pub timeline: Vec<PublicEvent>,
}

/// `GET /v1/applications/{number}/progress`: for anyone holding the number.
pub async fn progress(db: &impl Db, raw: &str) -> ApiResult<Progress> {
    let number = parse_number(raw)?;
    let r = row(db, &number).await?;
    let status = r.status()?;
    if status == Status::Draft {
        return Err(not_found());
    }
    let timeline = timeline(db, &number)
        .await?
        .into_iter()
        // Whether and how the citizen rated (a 整改 follows only a low grade) is theirs alone.
        .filter(|e| e.status != Status::Draft && !matches!(e.action.as_str(), "rate" | "rectified"))
        .map(|e| PublicEvent { status: e.status, phrase: e.status.phrase(), at: e.at })
        .collect();
    Ok(Progress { number, status, phrase: status.phrase(), deadline: r.deadline, timeline })
}

/// The inbox notice of a step, in the citizen's own batch.
pub fn notice_stmt(
    ids: &impl IdSource,
    citizen: &str,
    number: &str,
    title: &str,
    body: &str,
    now: BeijingTime,
) -> ApiResult<Stmt> {
    inbox::post_stmt(
        ids,
        citizen,
        "application",
        title,
        &format!("办件编号 {number}：{body}"),
        Some(&format!("/applications/{number}")),
        now,
    )
}
