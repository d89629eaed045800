//! 投诉/意见建议/咨询/举报 (issue 8, first slice): submission with a 受理编号
//! that cannot be guessed, a handling deadline in working days over the
//! city calendar, a receipt in the inbox, and the two views of a record:
//! public (status, deadline, timeline; no personal data, no content) and
//! the complainant's own.

use crate::number;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use shared::calendar::{self, working_days_after};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// The kinds of submission and their default handling time in working days
/// (configurable per kind with `COMPLAINT_DAYS_<KIND>`).
pub const KINDS: [(&str, u32); 4] = [("complaint", 10), ("report", 15), ("suggestion", 15), ("consultation", 5)];

/// Content limits, in characters.
pub const MAX_CONTENT_CHARS: usize = 2_000;
pub const MIN_CONTENT_CHARS: usize = 5;

/// Where it happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A submission from a logged-in citizen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub kind: String,
    pub category: String,
    /// The unit or person concerned (被投诉单位或个人); required for complaints and reports.
    #[serde(default)]
    pub subject: String,
    pub content: String,
    #[serde(default)]
    pub location: Option<Location>,
    /// Stay anonymous towards the unit concerned.
    #[serde(default)]
    pub anonymous: bool,
    /// Without a login: the phone, confirmed by the code sent through
    /// `POST /v1/auth/sms-code` (the record is then that phone's).
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub sms_code: Option<String>,
    /// Up to [`MAX_PHOTOS`] images uploaded first (`POST /v1/complaints/uploads`).
    #[serde(default)]
    pub photos: Vec<String>,
}

/// The photos of a submission (upload ids), for handlers.
pub async fn photos(db: &impl Db, number: &str) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct P {
        upload_id: String,
    }
    let rows: Vec<P> = db
        .query_as("SELECT upload_id FROM complaint_photos WHERE number = ?1 ORDER BY upload_id", &[number.into()])
        .await?;
    Ok(rows.into_iter().map(|p| p.upload_id).collect())
}

/// Photos one submission may carry.
pub const MAX_PHOTOS: usize = 4;

/// Plain text only: control characters other than newlines are dropped
/// (the text is never rendered as HTML, and is returned as JSON strings).
fn plain(s: &str) -> String {
    s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect()
}

fn check(s: &Submission) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !KINDS.iter().any(|(k, _)| *k == s.kind) {
        errs.push(FieldError::new(
            "kind",
            "类型应为 complaint（投诉）、report（举报）、suggestion（建议）或 consultation（咨询）",
        ));
    }
    if !(1..=20).contains(&s.category.trim().chars().count()) {
        errs.push(FieldError::new("category", "请选择分类（1-20个字）"));
    }
    let subject = s.subject.trim().chars().count();
    if matches!(s.kind.as_str(), "complaint" | "report") && subject == 0 {
        errs.push(FieldError::new("subject", "请填写被投诉（举报）的单位或个人"));
    }
    if subject > 100 {
        errs.push(FieldError::new("subject", "单位或个人名称不超过100字"));
    }
    let n = plain(&s.content).chars().count();
    if !(MIN_CONTENT_CHARS..=MAX_CONTENT_CHARS).contains(&n) {
        errs.push(FieldError::new("content", format!("内容应为{MIN_CONTENT_CHARS}-{MAX_CONTENT_CHARS}个字")));
    }
    if let Some(l) = &s.location {
        let bad_point = match (l.lat, l.lng) {
            (Some(lat), Some(lng)) => !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng),
            (None, None) => false,
            _ => true,
        };
        if bad_point {
            errs.push(FieldError::new("location", "经纬度应同时提供且在有效范围内"));
        }
        if l.address.as_deref().is_some_and(|a| a.chars().count() > 200) {
            errs.push(FieldError::new("location.address", "地址不超过200字"));
        }
    }
    if s.photos.len() > MAX_PHOTOS {
        errs.push(FieldError::new("photos", format!("最多{MAX_PHOTOS}张照片")));
    }
    errs
}

/// The complainant's own view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub number: String,
    pub kind: String,
    pub category: String,
    pub subject: String,
    pub content: String,
    pub location: Option<serde_json::Value>,
    pub anonymous: bool,
    pub status: String,
    pub deadline: String,
    pub created_at: String,
}

#[derive(Deserialize)]
struct Row {
    number: String,
    kind: String,
    category: String,
    subject: String,
    content: String,
    location: Option<String>,
    anonymous: i64,
    status: String,
    deadline: String,
    created_at: String,
}

impl From<Row> for Record {
    fn from(r: Row) -> Self {
        Self {
            location: r.location.and_then(|l| serde_json::from_str(&l).ok()),
            anonymous: r.anonymous != 0,
            number: r.number,
            kind: r.kind,
            category: r.category,
            subject: r.subject,
            content: r.content,
            status: r.status,
            deadline: r.deadline,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str = "number, kind, category, subject, content, location, anonymous, status, deadline, created_at";

/// Handling days per kind, from `days(kind)` (configuration) or the default.
pub fn deadline_days(kind: &str, days: impl Fn(&str) -> Option<u32>) -> u32 {
    let default = KINDS.iter().find(|(k, _)| *k == kind).map_or(15, |(_, d)| *d);
    days(kind).filter(|d| (1..=60).contains(d)).unwrap_or(default)
}

/// Records a submission (idempotent per citizen and `Idempotency-Key`).
pub async fn submit(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    s: &Submission,
    idem_key: Option<&str>,
    days: impl Fn(&str) -> Option<u32>,
    now: BeijingTime,
) -> ApiResult<(Record, bool)> {
    if let Some(first) = replay(db, citizen, idem_key).await? {
        return Ok((first, true));
    }
    let mut errs = check(s);
    if !s.photos.is_empty() && !shared::uploads::all_free(db, citizen, &s.photos, shared::uploads::IMAGES).await? {
        errs.push(FieldError::new("photos", "照片须是您刚上传且未使用过的 JPG 或 PNG 图片，请重新上传"));
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let today = now.date();
    let cal = calendar::load(db, today, today + Duration::days(120)).await?;
    let deadline = working_days_after(today, deadline_days(&s.kind, days), &cal).to_string();
    let number = number::generate(ids, today)?;
    let at = now.to_rfc3339();
    let receipt = format!("您的{}已受理，受理编号 {number}，将于 {deadline} 前答复。", kind_name(&s.kind));
    let mut stmts = vec![
        Stmt::new(
            "INSERT INTO complaints (number, citizen_id, kind, category, subject, content, location, anonymous,
               status, deadline, idem_key, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9, ?10, ?11, ?11)",
            vec![
                number.as_str().into(),
                citizen.into(),
                s.kind.as_str().into(),
                plain(&s.category).into(),
                plain(&s.subject).into(),
                plain(&s.content).into(),
                s.location.as_ref().and_then(|l| serde_json::to_string(l).ok()).into(),
                s.anonymous.into(),
                deadline.as_str().into(),
                idem_key.map(str::to_owned).into(),
                at.as_str().into(),
            ],
        ),
        Stmt::new(
            "INSERT INTO complaint_events (number, at, status, note) VALUES (?1, ?2, 'received', ?3)",
            vec![number.as_str().into(), at.as_str().into(), format!("已受理，答复期限 {deadline}").into()],
        ),
        inbox::post_stmt(ids, citizen, "complaint", "已受理", &receipt, Some(&format!("/complaints/{number}")), now)?,
    ];
    if !s.photos.is_empty() {
        stmts.extend(shared::uploads::claim_stmts(&number, &s.photos));
        stmts.push(Stmt::new(
            "INSERT INTO complaint_photos (number, upload_id) SELECT ?1, value FROM json_each(?2)",
            vec![number.as_str().into(), serde_json::to_string(&s.photos).unwrap_or_else(|_| "[]".into()).into()],
        ));
    }
    db.batch(&stmts).await?;
    Ok((mine(db, citizen, &number).await?, false))
}

/// The citizen's first record under this `Idempotency-Key`, if any.
async fn replay(db: &impl Db, citizen: &str, idem_key: Option<&str>) -> ApiResult<Option<Record>> {
    let Some(k) = idem_key else { return Ok(None) };
    let first: Option<Row> = db
        .first_as(
            &format!("SELECT {COLUMNS} FROM complaints WHERE citizen_id = ?1 AND idem_key = ?2"),
            &[citizen.into(), k.into()],
        )
        .await?;
    Ok(first.map(Record::from))
}

/// A submission without a login: the phone is confirmed by its SMS code and
/// the record belongs to that phone's account (created if new, as a login by
/// phone would), so a later login by phone shows it. A retry with the same
/// `Idempotency-Key` returns the first record without spending a new code.
#[allow(clippy::too_many_arguments)]
pub async fn submit_by_phone(
    db: &impl Db,
    ids: &impl IdSource,
    pepper: &shared::identity::Pepper,
    s: &Submission,
    idem_key: Option<&str>,
    days: impl Fn(&str) -> Option<u32>,
    now: BeijingTime,
) -> ApiResult<(Record, bool)> {
    let (Some(raw), Some(code)) = (s.phone.as_deref(), s.sms_code.as_deref()) else {
        return Err(ApiError::with_message(
            ErrorCode::LoginRequired,
            "请登录后提交，或填写手机号（phone）与短信验证码（sms_code）匿名提交",
        ));
    };
    let phone =
        shared::types::MobileNumber::parse(raw).map_err(|_| ApiError::bad_field("phone", "手机号格式不正确"))?;
    if idem_key.is_some()
        && let Some(known) = shared::identity::account::find_by_phone(db, pepper, &phone).await?
        && let Some(first) = replay(db, &known, idem_key).await?
    {
        return Ok((first, true));
    }
    let errs = check(s);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    shared::identity::sms_code::verify(db, pepper, &phone, code, now).await?;
    let (citizen, create) = shared::identity::account::by_phone(db, ids, pepper, &phone, now).await?;
    if !create.is_empty() {
        db.batch(&create).await?;
    }
    submit(db, ids, &citizen, s, idem_key, days, now).await
}

/// The full record for a lookup by number and the last four digits of the
/// phone it was submitted with; a wrong number or wrong digits look the same.
pub async fn by_last4(db: &impl Db, raw: &str, last4: &str) -> ApiResult<Record> {
    let none = || ApiError::with_message(ErrorCode::NotFound, "受理编号或手机号后四位不正确");
    let number = number::parse(raw).ok_or_else(none)?;
    if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_field("phone_last4", "请填写手机号后四位数字"));
    }
    #[derive(Deserialize)]
    struct Owner {
        citizen_id: String,
        phone: Option<String>,
    }
    let owner: Option<Owner> = db
        .first_as(
            "SELECT c.id AS citizen_id, c.phone FROM complaints k JOIN citizens c ON c.id = k.citizen_id WHERE k.number = ?1",
            &[number.as_str().into()],
        )
        .await?;
    match owner {
        Some(o)
            if o.phone.as_deref().is_some_and(|p| {
                shared::crypto::constant_time_eq(p.get(p.len().saturating_sub(4)..).unwrap_or(""), last4)
            }) =>
        {
            mine(db, &o.citizen_id, &number).await
        }
        _ => Err(none()),
    }
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "complaint" => "投诉",
        "report" => "举报",
        "suggestion" => "建议",
        _ => "咨询",
    }
}

/// The complainant's own record (404 for anyone else).
pub async fn mine(db: &impl Db, citizen: &str, raw: &str) -> ApiResult<Record> {
    let number = number::parse(raw).ok_or(ErrorCode::NotFound)?;
    let row: Option<Row> = db
        .first_as(
            &format!("SELECT {COLUMNS} FROM complaints WHERE number = ?1 AND citizen_id = ?2"),
            &[number.into(), citizen.into()],
        )
        .await?;
    row.map(Record::from).ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))
}

/// One step of the public timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub at: String,
    pub status: String,
    pub note: String,
}

/// What anyone with the number sees: no content, no identity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublicView {
    pub number: String,
    pub kind: String,
    pub category: String,
    pub status: String,
    pub deadline: String,
    pub created_at: String,
    pub timeline: Vec<Step>,
}

/// The public view of a number; a malformed number (bad check character)
/// is refused before the database is asked.
pub async fn public_view(db: &impl Db, raw: &str) -> ApiResult<PublicView> {
    let number = number::parse(raw).ok_or_else(|| ApiError::bad_field("number", "受理编号格式不正确，请核对"))?;
    #[derive(Deserialize)]
    struct P {
        number: String,
        kind: String,
        category: String,
        status: String,
        deadline: String,
        created_at: String,
        timeline: String,
    }
    // One query: the record and its timeline (a JSON array built by SQLite).
    let p: P = db
        .first_as(
            "SELECT number, kind, category, status, deadline, created_at,
                    (SELECT json_group_array(json_object('at', at, 'status', status, 'note', note))
                       FROM (SELECT at, status, note FROM complaint_events WHERE number = ?1 ORDER BY id)) AS timeline
               FROM complaints WHERE number = ?1",
            &[number.as_str().into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    let timeline: Vec<Step> =
        serde_json::from_str(&p.timeline).map_err(|e| ApiError::internal(format!("complaint timeline: {e}")))?;
    Ok(PublicView {
        number: p.number,
        kind: p.kind,
        category: p.category,
        status: p.status,
        deadline: p.deadline,
        created_at: p.created_at,
        timeline,
    })
}
