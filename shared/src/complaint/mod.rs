//! 投诉/意见建议/咨询/举报 (issue 8, first slice): submission with a 受理编号
//! that cannot be guessed, a handling deadline in working days over the
//! city calendar, a receipt in the inbox, and the two views of a record:
//! public (status, deadline, timeline; no personal data, no content) and
//! the complainant's own.

pub mod handling;
pub mod number;

use crate::appointment::resources::calendar;
use crate::appointment::slots::working_days_after;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::identity::inbox;
use crate::runtime::IdSource;
use crate::store::{Db, Stmt};
use crate::types::BeijingTime;
use chrono::Duration;
use serde::{Deserialize, Serialize};

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
}

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
    if let Some(k) = idem_key {
        let first: Option<Row> = db
            .first_as(
                &format!("SELECT {COLUMNS} FROM complaints WHERE citizen_id = ?1 AND idem_key = ?2"),
                &[citizen.into(), k.into()],
            )
            .await?;
        if let Some(r) = first {
            return Ok((r.into(), true));
        }
    }
    let errs = check(s);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let today = now.date();
    let cal = calendar(db, today, today + Duration::days(120)).await?;
    let deadline = working_days_after(today, deadline_days(&s.kind, days), &cal).to_string();
    let number = number::generate(ids, today)?;
    let at = now.to_rfc3339();
    let receipt = format!("您的{}已受理，受理编号 {number}，将于 {deadline} 前答复。", kind_name(&s.kind));
    db.batch(&[
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
    ])
    .await?;
    Ok((mine(db, citizen, &number).await?, false))
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
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub at: String,
    pub status: String,
    pub note: String,
}

/// What anyone with the number sees: no content, no identity.
#[derive(Debug, Serialize, PartialEq)]
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
    }
    let p: P = db
        .first_as(
            "SELECT number, kind, category, status, deadline, created_at FROM complaints WHERE number = ?1",
            &[number.as_str().into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    let timeline: Vec<Step> = db
        .query_as("SELECT at, status, note FROM complaint_events WHERE number = ?1 ORDER BY id", &[number.into()])
        .await?;
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

/// Lookups by number one client IP may make per minute.
pub const MAX_LOOKUPS_PER_MINUTE: i64 = 30;

/// Counts a lookup from `ip_hash` (atomic upsert) and refuses more than
/// [`MAX_LOOKUPS_PER_MINUTE`] a minute with 429, so numbers cannot be probed.
pub async fn count_lookup(db: &impl Db, ip_hash: &str, now: BeijingTime) -> ApiResult<()> {
    let minute = now.to_rfc3339().get(..16).unwrap_or_default().to_owned();
    db.batch(&[
        Stmt::new(
            "INSERT INTO complaint_lookups (ip_hash, minute, n) VALUES (?1, ?2, 1)
             ON CONFLICT (ip_hash, minute) DO UPDATE SET n = n + 1",
            vec![ip_hash.into(), minute.as_str().into()],
        ),
        // Old minutes are dropped as we go; the table stays small.
        Stmt::new("DELETE FROM complaint_lookups WHERE minute < ?1", vec![minute.get(..13).unwrap_or_default().into()]),
    ])
    .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let n: Option<N> = db
        .first_as(
            "SELECT n FROM complaint_lookups WHERE ip_hash = ?1 AND minute = ?2",
            &[ip_hash.into(), minute.into()],
        )
        .await?;
    if n.is_some_and(|n| n.n > MAX_LOOKUPS_PER_MINUTE) {
        return Err(ApiError::with_message(ErrorCode::RateLimited, "查询过于频繁，请1分钟后再试"));
    }
    Ok(())
}
