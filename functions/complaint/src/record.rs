//! 投诉/意见建议/咨询/举报 (issue 8, first slice): submission with a 受理编号
//! that cannot be guessed, a handling deadline in working days over the
//! city calendar, a receipt in the inbox, and the two views of a record:
//! public (status, deadline, timeline; no personal data, no content) and
//! the complainant's own.

use crate::kind::Kind;
use crate::number;
use crate::status::Status;
use crate::submission::{self, Submission, plain};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use shared::calendar::{self, working_days_after};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;

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

/// The complainant's own view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub number: String,
    pub kind: Kind,
    pub category: String,
    pub subject: String,
    pub content: String,
    pub location: Option<serde_json::Value>,
    pub anonymous: bool,
    pub status: Status,
    pub deadline: String,
    pub created_at: String,
}

#[derive(Deserialize)]
struct Row {
    number: String,
    kind: Kind,
    category: String,
    subject: String,
    content: String,
    location: Option<String>,
    anonymous: i64,
    status: Status,
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
    let how = How { idem_key, code_hash: None };
    submit_as(db, ids, citizen, s, &how, days, now).await
}

/// How a submission was proved: its `Idempotency-Key` and, without a login,
/// the HMAC of the SMS code that proved the phone (kept for a retry).
struct How<'a> {
    idem_key: Option<&'a str>,
    code_hash: Option<String>,
}

async fn submit_as(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    s: &Submission,
    how: &How<'_>,
    days: impl Fn(&str) -> Option<u32>,
    now: BeijingTime,
) -> ApiResult<(Record, bool)> {
    if let Some(first) = replay(db, citizen, how.idem_key).await? {
        return Ok((first, true));
    }
    let checked = submission::check(s);
    let photos_free =
        s.photos.is_empty() || shared::uploads::all_free(db, citizen, &s.photos, shared::uploads::IMAGES).await?;
    let kind = submission::accept(checked, photos_free)?;
    let today = now.date();
    let cal = calendar::load(db, today, today + Duration::days(120)).await?;
    let filing = Filing {
        number: number::generate(ids, today)?,
        citizen,
        kind,
        deadline: working_days_after(today, kind.handling_days(days), &cal),
        how,
        now,
    };
    db.batch(&filing.stmts(ids, s)?).await?;
    Ok((mine(db, citizen, &filing.number).await?, false))
}

/// An accepted submission, ready to be written.
struct Filing<'a> {
    number: String,
    citizen: &'a str,
    kind: Kind,
    deadline: NaiveDate,
    how: &'a How<'a>,
    now: BeijingTime,
}

impl Filing<'_> {
    /// One batch: the record, its first timeline step, the receipt in the
    /// inbox, and the photos claimed for it.
    fn stmts(&self, ids: &impl IdSource, s: &Submission) -> ApiResult<Vec<Stmt>> {
        let (number, deadline, at) = (self.number.as_str(), self.deadline.to_string(), self.now.to_rfc3339());
        let received = Status::Received.as_str();
        let receipt = format!("您的{}已受理，受理编号 {number}，将于 {deadline} 前答复。", self.kind.name());
        let mut stmts = vec![
            Stmt::new(
                "INSERT INTO complaints (number, citizen_id, kind, category, subject, content, location, anonymous,
                   status, deadline, idem_key, created_at, updated_at, public, idem_code_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)",
                vec![
                    number.into(),
                    self.citizen.into(),
                    self.kind.as_str().into(),
                    plain(&s.category).into(),
                    plain(&s.subject).into(),
                    plain(&s.content).into(),
                    s.location.as_ref().and_then(|l| serde_json::to_string(l).ok()).into(),
                    s.anonymous.into(),
                    received.into(),
                    deadline.as_str().into(),
                    self.how.idem_key.map(str::to_owned).into(),
                    at.as_str().into(),
                    s.public.into(),
                    self.how.idem_key.and(self.how.code_hash.clone()).into(),
                ],
            ),
            Stmt::new(
                "INSERT INTO complaint_events (number, at, status, note) VALUES (?1, ?2, ?3, ?4)",
                vec![number.into(), at.as_str().into(), received.into(), format!("已受理，答复期限 {deadline}").into()],
            ),
            inbox::post_stmt(
                ids,
                self.citizen,
                "complaint",
                "已受理",
                &receipt,
                Some(&format!("/complaints/{number}")),
                self.now,
            )?,
        ];
        if !s.photos.is_empty() {
            stmts.extend(shared::uploads::claim_stmts(number, &s.photos));
            stmts.push(Stmt::new(
                "INSERT INTO complaint_photos (number, upload_id) SELECT ?1, value FROM json_each(?2)",
                vec![number.into(), serde_json::to_string(&s.photos).unwrap_or_else(|_| "[]".into()).into()],
            ));
        }
        Ok(stmts)
    }
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
/// `Idempotency-Key` returns the first record only to a caller who proves
/// the phone: with the code that created it (its HMAC is kept with the
/// record and compared in constant time; at most [`MAX_CODE_REPLAYS`]
/// tries, counted in the statement that reads it), or with a fresh code.
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
    let code_hash = pepper.code_hash(&phone, code);
    if let Some(k) = idem_key
        && let Some(known) = shared::identity::account::find_by_phone(db, pepper, &phone).await?
        && replay_allowed(db, &known, k, &code_hash).await?
        && let Some(first) = replay(db, &known, idem_key).await?
    {
        return Ok((first, true));
    }
    submission::check(s).map_err(ApiError::validation)?;
    shared::identity::sms_code::verify(db, pepper, &phone, code, now).await?;
    let (citizen, create) = shared::identity::account::by_phone(db, ids, pepper, &phone, now).await?;
    if !create.is_empty() {
        db.batch(&create).await?;
    }
    let how = How { idem_key, code_hash: Some(code_hash) };
    submit_as(db, ids, &citizen, s, &how, days, now).await
}

/// Replays of an idempotent record to the code that created it: enough for
/// a client's retries, too few to guess a six-digit code (5 in 1,000,000).
pub const MAX_CODE_REPLAYS: i64 = 5;

/// Whether the presented code is the one that created the citizen's record
/// under this key. Each try takes one of [`MAX_CODE_REPLAYS`] in the same
/// statement that reads the stored HMAC, so concurrent guesses cannot share
/// a try.
async fn replay_allowed(db: &impl Db, citizen: &str, key: &str, code_hash: &str) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct H {
        idem_code_hash: String,
    }
    let stored: Option<H> = db
        .first_as(
            "UPDATE complaints SET idem_replays = idem_replays + 1
              WHERE citizen_id = ?1 AND idem_key = ?2 AND idem_code_hash IS NOT NULL AND idem_replays < ?3
             RETURNING idem_code_hash",
            &[citizen.into(), key.into(), MAX_CODE_REPLAYS.into()],
        )
        .await?;
    Ok(stored.is_some_and(|h| shared::crypto::constant_time_eq(&h.idem_code_hash, code_hash)))
}

/// Wrong `phone_last4` tries per number and Beijing day, whatever the
/// client address: 5 of the 10,000 possible digits, so whoever knows a
/// number reads its record with probability at most 1 in 2,000 a day.
pub const MAX_LAST4_MISSES_PER_DAY: i64 = 5;

/// The full record for a lookup by number and the last four digits of the
/// phone it was submitted with; a wrong number or wrong digits look the same.
/// Every try takes one of the number's [`MAX_LAST4_MISSES_PER_DAY`] in the
/// statement that counts it (a right answer gives its try back), so
/// concurrent tries from many addresses cannot exceed it; beyond it the
/// number answers 429 for the rest of the day, the right digits too.
pub async fn by_last4(db: &impl Db, raw: &str, last4: &str, now: BeijingTime) -> ApiResult<Record> {
    let none = || ApiError::with_message(ErrorCode::NotFound, "受理编号或手机号后四位不正确");
    let number = number::parse(raw).ok_or_else(none)?;
    if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_field("phone_last4", "请填写手机号后四位数字"));
    }
    let day = now.date().to_string();
    let key = [Value::from(number.as_str()), day.as_str().into()];
    let took = db
        .query(
            "INSERT INTO complaint_lookup_misses (number, day, misses) VALUES (?1, ?2, 1)
             ON CONFLICT (number, day) DO UPDATE SET misses = misses + 1 WHERE misses < ?3
             RETURNING misses",
            &[key[0].clone(), key[1].clone(), MAX_LAST4_MISSES_PER_DAY.into()],
        )
        .await?;
    if took.is_empty() {
        return Err(ApiError::with_message(
            ErrorCode::RateLimited,
            "该受理编号今日核对手机号后四位的错误次数过多，请明天再试，或用提交时的手机号登录后查看",
        ));
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
            db.execute(
                "UPDATE complaint_lookup_misses SET misses = misses - 1 WHERE number = ?1 AND day = ?2 AND misses > 0",
                &key,
            )
            .await?;
            mine(db, &o.citizen_id, &number).await
        }
        _ => Err(none()),
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
    pub status: Status,
    pub note: String,
}

/// What anyone with the number sees: no content, no identity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PublicView {
    pub number: String,
    pub kind: Kind,
    pub category: String,
    pub status: Status,
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
        kind: Kind,
        category: String,
        status: Status,
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
