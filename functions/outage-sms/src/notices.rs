//! The outages as stored and shown: the public notices (current and coming,
//! by area and utility; one by id, also when cancelled), and the versions
//! of one outage that are due or may go out again.

use crate::rules::{Effect, Utility};
use crate::states::{OutageKind, OutageStatus};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::store::{Db, Value};
use shared::types::BeijingTime;

/// An outage as stored and shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outage {
    pub id: String,
    pub utility: Utility,
    /// stop (停水/停气) or reduced_pressure (降压供水).
    pub effect: Effect,
    pub kind: OutageKind,
    pub areas: Vec<String>,
    pub start: String,
    pub end: String,
    pub reason: String,
    pub issuer: String,
    pub contact_phone: String,
    pub temporary_supply: Option<String>,
    pub message: String,
    pub chars: usize,
    pub parts: usize,
    pub send_at: String,
    pub send_reason: String,
    pub status: OutageStatus,
    pub created_at: String,
    /// The latest message version (1 the notice; corrections, cancellation, reminder after).
    pub version: i64,
    pub remind_before_hours: Option<i64>,
}

/// Versions of one outage that are due now (the caller fans them out).
pub async fn due_versions(db: &impl Db, id: &str, now: BeijingTime) -> ApiResult<Vec<i64>> {
    #[derive(Deserialize)]
    struct V {
        version: i64,
    }
    let due: Vec<V> = db
        .query_as(
            "SELECT version FROM outage_versions WHERE outage_id = ?1 AND state = 'planned' AND send_at <= ?2
              ORDER BY version",
            &[id.into(), now.to_rfc3339().into()],
        )
        .await?;
    Ok(due.into_iter().map(|v| v.version).collect())
}

/// The current version of an outage that went out, for a republish.
pub async fn republishable(db: &impl Db, id: &str) -> ApiResult<i64> {
    #[derive(Deserialize)]
    struct V {
        version: i64,
    }
    let v: Option<V> = db
        .first_as(
            "SELECT v.version FROM outage_versions v JOIN outages o ON o.id = v.outage_id
              WHERE v.outage_id = ?1 AND v.state = 'fanned_out' AND v.kind != 'reminder' AND o.status = 'published'
              ORDER BY v.version DESC LIMIT 1",
            &[id.into()],
        )
        .await?;
    v.map(|v| v.version).ok_or_else(|| {
        ApiError::with_message(ErrorCode::OutageStateInvalid, "该公告尚未到发送时间或已取消，无需重新发送")
    })
}

#[derive(Deserialize)]
struct Row {
    id: String,
    utility: Utility,
    effect: Effect,
    kind: OutageKind,
    areas: String,
    start_at: String,
    end_at: String,
    reason: String,
    issuer: String,
    contact_phone: String,
    temporary_supply: Option<String>,
    message: String,
    chars: i64,
    parts: i64,
    send_at: String,
    send_reason: String,
    status: OutageStatus,
    created_at: String,
    version: i64,
    remind_before_hours: Option<i64>,
}

pub(crate) async fn find(db: &impl Db, cond: &str, args: Vec<Value>) -> ApiResult<Vec<Outage>> {
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "SELECT id, utility, kind, areas, start_at, end_at, reason, issuer, contact_phone, temporary_supply,
                        message, chars, parts, send_at, send_reason, status, created_at, version, remind_before_hours,
                        effect
                 FROM outages WHERE {cond} ORDER BY start_at LIMIT 200"
            ),
            &args,
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Outage {
            areas: serde_json::from_str(&r.areas).unwrap_or_default(),
            id: r.id,
            utility: r.utility,
            effect: r.effect,
            kind: r.kind,
            start: r.start_at,
            end: r.end_at,
            reason: r.reason,
            issuer: r.issuer,
            contact_phone: r.contact_phone,
            temporary_supply: r.temporary_supply,
            message: r.message,
            chars: r.chars as usize,
            parts: r.parts as usize,
            send_at: r.send_at,
            send_reason: r.send_reason,
            status: r.status,
            created_at: r.created_at,
            version: r.version,
            remind_before_hours: r.remind_before_hours,
        })
        .collect())
}

/// Current and coming outages (not yet ended), optionally in one area and of one utility.
pub async fn public_list(
    db: &impl Db,
    area: Option<&str>,
    utility: Option<&str>,
    now: BeijingTime,
) -> ApiResult<Vec<Outage>> {
    let mut cond = String::from("status = 'published' AND end_at > ?1");
    let mut args: Vec<Value> = vec![now.to_rfc3339().into()];
    if let Some(a) = area {
        args.push(a.into());
        // The area itself, or any area inside one the outage names (a building in an affected community).
        let n = args.len();
        cond.push_str(&format!(
            " AND id IN (SELECT oa.outage_id FROM outage_areas oa LEFT JOIN supply_areas x ON x.code = oa.code
                  WHERE oa.area = ?{n} OR oa.code = ?{n}
                     OR EXISTS (SELECT 1 FROM supply_areas a WHERE (a.code = ?{n} OR a.full_name = ?{n})
                                   AND a.path >= x.path AND a.path < x.path || '~'))"
        ));
    }
    if let Some(u) = utility {
        args.push(u.into());
        cond.push_str(&format!(" AND utility = ?{}", args.len()));
    }
    find(db, &cond, args).await
}

/// One published outage.
pub async fn get(db: &impl Db, id: &str) -> ApiResult<Outage> {
    find(db, "id = ?1", vec![id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该停水停气公告"))
}
