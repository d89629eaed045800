//! Handling: the staff list with deadlines; the 12345 centre's dispatchers
//! assign a case to a department, whose handlers (and the dispatchers)
//! reply, refer to another unit, extend the deadline once and close
//! ([`crate::scope`]); the citizen's rating once closed. Every step is one batch: the
//! change guarded by the current status, its public timeline note, the
//! citizen's inbox message and the audit entry; the edge then offers the
//! step by 订阅消息 ([`crate::wechat_progress`]). Staff never see who
//! complained when anonymity was asked; a citizen's contact is shown masked.

use crate::kind::Kind;
use crate::number;
use crate::scope::{self, Need, Scope};
use crate::status::Status;
use crate::step::{self, Change, Checked, Current, Step};
use crate::wechat_progress::Progress;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt, log_access};
use shared::calendar;
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::identity::inbox;
use shared::pii::{mask_phone, redact_text};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;

/// One row of the staff list.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub number: String,
    pub kind: Kind,
    pub category: String,
    pub subject: String,
    pub status: Status,
    pub department: Option<String>,
    pub deadline: String,
    pub overdue: bool,
    pub created_at: String,
}

/// The staff list of the cases in `scope`: open cases first by deadline,
/// narrowed by `filter`.
pub async fn list(db: &impl Db, act: &Act<'_>, scope: &Scope, filter: &crate::queue::Filter) -> ApiResult<Vec<Row>> {
    // Subjects name the people and units complained about, and a keyword finds them by name:
    // the read is in the access log, with the filter, before it is answered.
    log_access(db, act, "complaint.list", &filter.describe()).await?;
    let today = act.now.date().to_string();
    let (within, scoped) = scope.filter(2);
    let mut sql = format!(
        "SELECT number, kind, category, subject, status, department, deadline,
                (status <> 'closed' AND deadline < ?1) AS overdue, created_at
         FROM complaints WHERE {within}"
    );
    let mut args: Vec<Value> = vec![today.into()];
    args.extend(scoped);
    sql.push_str(&filter.sql(&mut args));
    sql.push_str(" ORDER BY status = 'closed', deadline, number LIMIT 200");
    #[derive(Deserialize)]
    struct Raw {
        number: String,
        kind: Kind,
        category: String,
        subject: String,
        status: Status,
        department: Option<String>,
        deadline: String,
        overdue: i64,
        created_at: String,
    }
    let rows: Vec<Raw> = db.query_as(&sql, &args).await?;
    Ok(rows
        .into_iter()
        .map(|r| Row {
            number: r.number,
            kind: r.kind,
            category: r.category,
            subject: r.subject,
            status: r.status,
            department: r.department,
            deadline: r.deadline,
            overdue: r.overdue != 0,
            created_at: r.created_at,
        })
        .collect())
}

/// A case as staff see it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Case {
    pub record: crate::record::Record,
    pub department: Option<String>,
    pub extended: bool,
    /// The complainant's phone, masked; `匿名` when anonymity was asked.
    pub contact: String,
    pub rating: Option<i64>,
    pub timeline: Vec<crate::record::Step>,
    /// Photo upload ids (`GET /v1/admin/complaints/{number}/photos/{id}`).
    pub photos: Vec<String>,
}

/// One case for staff: a dispatcher, or a handler of its department.
pub async fn case(db: &impl Db, act: &Act<'_>, raw: &str) -> ApiResult<Case> {
    let scope = scope::of(db, act.who, Need::Work).await?;
    let num = number::parse(raw).ok_or_else(|| ApiError::bad_field("number", "受理编号格式不正确"))?;
    load(db, act, &num, &scope).await
}

/// The case `num` if in `scope`, its reading logged.
async fn load(db: &impl Db, act: &Act<'_>, num: &str, scope: &Scope) -> ApiResult<Case> {
    #[derive(Deserialize)]
    struct Extra {
        citizen_id: String,
        department: Option<String>,
        extended: i64,
        rating: Option<i64>,
        phone: Option<String>,
    }
    let extra: Extra = db
        .first_as(
            "SELECT c.citizen_id, c.department, c.extended, c.rating, z.phone FROM complaints c
             LEFT JOIN citizens z ON z.id = c.citizen_id WHERE c.number = ?1",
            &[num.into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    scope.check(extra.department.as_deref())?;
    let record = crate::record::mine(db, &extra.citizen_id, num).await?;
    log_access(db, act, "complaint.case", num).await?;
    let contact = if record.anonymous {
        "匿名".to_owned()
    } else {
        extra.phone.as_deref().map_or_else(|| "未绑定手机".to_owned(), mask_phone)
    };
    let timeline = crate::record::public_view(db, num).await?.timeline;
    let photos = crate::record::photos(db, num).await?;
    Ok(Case {
        photos,
        record,
        department: extra.department,
        extended: extra.extended != 0,
        contact,
        rating: extra.rating,
        timeline,
    })
}

/// Lets a staff member read one photo of a case (a dispatcher, or a handler
/// of its department), logged for auditors first.
pub async fn open_photo(db: &impl Db, act: &Act<'_>, raw: &str, id: &str) -> ApiResult<()> {
    let scope = scope::of(db, act.who, Need::Work).await?;
    let num = number::parse(raw).ok_or(ErrorCode::NotFound)?;
    #[derive(Deserialize)]
    struct D {
        department: Option<String>,
    }
    let d: D = db
        .first_as("SELECT department FROM complaints WHERE number = ?1", &[num.as_str().into()])
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    scope.check(d.department.as_deref())?;
    if !crate::record::photos(db, &num).await?.iter().any(|p| p == id) {
        return Err(ApiError::with_message(ErrorCode::NotFound, "该件没有这张照片"));
    }
    log_access(db, act, "complaint.photo", &format!("{num}/{id}")).await
}

/// Applies one step ([`take_step`]) and answers the case as it left it.
pub async fn act_on(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, raw: &str, step: &Step) -> ApiResult<Case> {
    take_step(db, ids, act, raw, step).await.map(|t| t.case)
}

/// A step taken: the case as it left it, and the step as the
/// complainant's 订阅消息 tells it ([`crate::wechat_progress::offer`]).
#[derive(Debug)]
pub struct Taken {
    pub case: Case,
    pub progress: Progress,
}

/// Applies one step: reads the case, lets [`step::check`] decide (with the
/// calendar for an extension), then writes the change in one batch, guarded
/// by the status and the department it was decided on. Assigning is the
/// dispatchers'; the other steps a dispatcher's or a handler's of the case's
/// department.
pub async fn take_step(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, raw: &str, step: &Step) -> ApiResult<Taken> {
    if matches!(step, Step::Assign { .. }) {
        act.who.require(Role::ComplaintDispatcher)?;
    }
    let scope = scope::of(db, act.who, Need::Work).await?;
    let num = number::parse(raw).ok_or_else(|| ApiError::bad_field("number", "受理编号格式不正确"))?;
    let (citizen, department, cur) = current(db, &num, act.now).await?;
    scope.check(department.as_deref())?;
    let change = match step::check(step, &cur)? {
        Checked::Change(change) => change,
        Checked::Extension(e) => {
            let cal = calendar::load(db, e.from(), e.from() + Duration::days(60)).await?;
            e.over(&cal)
        }
    };
    let was = Was { status: cur.status, department: department.as_deref() };
    db.batch(&step_stmts(ids, act, &num, &citizen, was, &change)?).await?;
    // The case as the step left it, even when a referral just took it out of
    // the handler's departments: they held it when they took the step.
    let case = load(db, act, &num, &Scope::City).await?;
    let progress = Progress {
        number: num,
        citizen_id: citizen,
        status: change.status,
        summary: step.summary(),
        at: act.now,
        note: change.note,
    };
    Ok(Taken { case, progress })
}

/// The complainant, the department and the case as a step finds it (an
/// unreadable deadline counts as today).
async fn current(db: &impl Db, num: &str, now: BeijingTime) -> ApiResult<(String, Option<String>, Current)> {
    #[derive(Deserialize)]
    struct Cur {
        citizen_id: String,
        department: Option<String>,
        status: Status,
        deadline: String,
        extended: i64,
    }
    let cur: Cur = db
        .first_as(
            "SELECT citizen_id, department, status, deadline, extended FROM complaints WHERE number = ?1",
            &[num.into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该受理编号"))?;
    let deadline = NaiveDate::parse_from_str(&cur.deadline, "%Y-%m-%d").unwrap_or(now.date());
    Ok((cur.citizen_id, cur.department, Current { status: cur.status, deadline, extended: cur.extended != 0 }))
}

/// The case as the step was decided on: the batch writes only if it is
/// still so (a dispatcher may hand it elsewhere meanwhile).
#[derive(Debug, Clone, Copy)]
struct Was<'a> {
    status: Status,
    department: Option<&'a str>,
}

/// One step's batch: the change guarded by the status and department it was
/// decided on, its timeline note, the citizen's notice and the audit entry.
fn step_stmts(
    ids: &impl IdSource,
    act: &Act<'_>,
    num: &str,
    citizen: &str,
    was: Was<'_>,
    change: &Change,
) -> ApiResult<Vec<Stmt>> {
    let at = act.now.to_rfc3339();
    let status = change.status.as_str();
    let (set, args) = change.set.sql();
    let mut params: Vec<Value> = vec![num.into(), status.into(), at.as_str().into()];
    params.extend(args);
    Ok(vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM complaints WHERE number = ?1 AND status = ?2 AND department IS ?3)",
            vec![num.into(), was.status.as_str().into(), was.department.into()],
        ),
        Stmt::new(format!("UPDATE complaints SET status = ?2, updated_at = ?3, {set} WHERE number = ?1"), params),
        Stmt::new(
            "INSERT INTO complaint_events (number, at, status, note) VALUES (?1, ?2, ?3, ?4)",
            vec![num.into(), at.as_str().into(), status.into(), change.note.as_str().into()],
        ),
        inbox::post_stmt(
            ids,
            citizen,
            "complaint",
            change.title(),
            &format!("受理编号 {num}：{}", change.note),
            Some(&format!("/complaints/{num}")),
            act.now,
        )?,
        audit_stmt(act.who, "complaint.step", num, act.request_id, act.now, &serde_json::json!({ "status": status })),
    ])
}

/// The citizen's rating (满意度评价, 1-5) of a closed case, once.
pub async fn rate(
    db: &impl Db,
    citizen: &str,
    raw: &str,
    score: i64,
    comment: &str,
    now: BeijingTime,
) -> ApiResult<()> {
    let num = number::parse(raw).ok_or_else(|| ApiError::bad_field("number", "受理编号格式不正确"))?;
    let r = crate::record::mine(db, citizen, &num).await?;
    if r.status != Status::Closed {
        return Err(ApiError::with_message(ErrorCode::Conflict, "办结后才能评价"));
    }
    if !(1..=5).contains(&score) || comment.chars().count() > 500 {
        return Err(ApiError::validation(vec![FieldError::new("score", "评分为1-5分，评语不超过500字")]));
    }
    let n = db
        .execute(
            "UPDATE complaints SET rating = ?3, rating_comment = ?4, rated_at = ?5
             WHERE number = ?1 AND citizen_id = ?2 AND rating IS NULL",
            &[num.into(), citizen.into(), score.into(), redact_text(comment.trim()).into(), now.to_rfc3339().into()],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::with_message(ErrorCode::Conflict, "已经评价过了"));
    }
    Ok(())
}

/// What the hourly deadline sweep did.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Sweep {
    /// Cases newly marked overdue (deadline passed, not closed).
    pub overdue: u64,
    /// Cases newly warned (due within two days, not closed).
    pub warned: u64,
}

/// Marks overdue cases and warns of those falling due, each once (the
/// marks show in the staff list and in the statistics), and forgets the
/// wrong-digit lookup counts of past days.
pub async fn sweep(db: &impl Db, now: BeijingTime) -> ApiResult<Sweep> {
    let today = now.date();
    let soon = today.checked_add_signed(Duration::days(2)).unwrap_or(today).to_string();
    let at = now.to_rfc3339();
    let changed = db
        .batch(&[
            Stmt::new(
                "UPDATE complaints SET overdue_at = ?2 WHERE status <> 'closed' AND deadline < ?1 AND overdue_at IS NULL",
                vec![today.to_string().into(), at.as_str().into()],
            ),
            Stmt::new(
                "UPDATE complaints SET warned_at = ?2 WHERE status <> 'closed' AND deadline <= ?1 AND warned_at IS NULL",
                vec![soon.into(), at.as_str().into()],
            ),
            // Wrong-digit counts of past days (see `record::by_last4`).
            Stmt::new("DELETE FROM complaint_lookup_misses WHERE day < ?1", vec![today.to_string().into()]),
        ])
        .await?;
    Ok(Sweep { overdue: changed.first().copied().unwrap_or(0), warned: changed.get(1).copied().unwrap_or(0) })
}

/// 003's target: at least 97 % handled on time.
pub const ON_TIME_TARGET: f64 = 0.97;

/// Statistics over the cases received in a date range.
#[derive(Debug, Serialize, PartialEq)]
pub struct Stats {
    pub from: String,
    pub to: String,
    pub received: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    /// Closed on time over closed (1.0 when nothing is closed yet).
    pub on_time_rate: f64,
    pub on_time_target: f64,
    pub open_overdue: i64,
    /// Mean days from receipt to closing.
    pub average_handling_days: Option<f64>,
    pub rated: i64,
    pub average_rating: Option<f64>,
    pub by_kind: Vec<Count>,
    pub by_category: Vec<Count>,
    pub by_department: Vec<Count>,
}

/// One group and its size.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Count {
    pub name: String,
    pub n: i64,
}

/// The statistics of cases received between `from` and `to` (inclusive).
pub async fn stats(db: &impl Db, from: NaiveDate, to: NaiveDate, now: BeijingTime) -> ApiResult<Stats> {
    let (f, t) = (from.to_string(), format!("{to}T99"));
    let args = || -> Vec<Value> { vec![f.as_str().into(), t.as_str().into()] };
    #[derive(Deserialize)]
    struct Totals {
        received: i64,
        closed: i64,
        on_time: i64,
        overdue: i64,
        days: Option<f64>,
        rated: i64,
        rating: Option<f64>,
    }
    let totals: Totals = db
        .first_as(
            "SELECT count(*) AS received,
                    coalesce(sum(status = 'closed'), 0) AS closed,
                    coalesce(sum(status = 'closed' AND substr(closed_at, 1, 10) <= deadline), 0) AS on_time,
                    coalesce(sum(status <> 'closed' AND deadline < ?3), 0) AS overdue,
                    avg(CASE WHEN status = 'closed' THEN julianday(closed_at) - julianday(created_at) END) AS days,
                    count(rating) AS rated, avg(rating) AS rating
             FROM complaints WHERE created_at >= ?1 AND created_at <= ?2",
            &[f.as_str().into(), t.as_str().into(), now.date().to_string().into()],
        )
        .await?
        .ok_or_else(|| ApiError::internal("no totals row"))?;
    let group = |col: &str| {
        format!(
            "SELECT coalesce({col}, '未分派') AS name, count(*) AS n FROM complaints
             WHERE created_at >= ?1 AND created_at <= ?2 GROUP BY 1 ORDER BY n DESC, name"
        )
    };
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok(Stats {
        from: from.to_string(),
        to: to.to_string(),
        received: totals.received,
        closed: totals.closed,
        closed_on_time: totals.on_time,
        on_time_rate: if totals.closed > 0 { round(totals.on_time as f64 / totals.closed as f64) } else { 1.0 },
        on_time_target: ON_TIME_TARGET,
        open_overdue: totals.overdue,
        average_handling_days: totals.days.map(|d| (d * 10.0).round() / 10.0),
        rated: totals.rated,
        average_rating: totals.rating.map(round),
        by_kind: db.query_as(&group("kind"), &args()).await?,
        by_category: db.query_as(&group("category"), &args()).await?,
        by_department: db.query_as(&group("department"), &args()).await?,
    })
}
