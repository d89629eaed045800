//! The staff's views of outages (outage_publisher, auditor): the list,
//! newest first and paged, each with a summary of its SMS delivery; one
//! outage's full record; and the supply-area hierarchy for the area picker
//! (codes and names only: no personal data).

use crate::areas::AreaLevel;
use crate::notices::{Outage, find};
use crate::rules::Utility;
use crate::states::{OutageKind, OutageStatus, OutboxStatus, VersionState};
use serde::{Deserialize, Serialize};
use shared::admin::{Principal, Role};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::http::Query;
use shared::store::{Db, Value};
use std::collections::HashMap;

/// Who may read these views.
const READERS: [Role; 2] = [Role::OutagePublisher, Role::Auditor];
/// Most outages on one page.
pub const MAX_PER_PAGE: u32 = 100;
/// Most areas the picker is given.
pub const MAX_AREAS: usize = 20_000;

/// `GET /v1/admin/outages?status=&utility=&sending=&page=&per_page=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<OutageStatus>,
    pub utility: Option<Utility>,
    /// Only outages with messages still on their way (queued, sending or deferred).
    pub sending: bool,
    pub page: u32,
    pub per_page: u32,
}

impl ListQuery {
    /// The filters and page of a query string, or a 400 naming the bad one.
    pub fn parse(q: &Query) -> ApiResult<Self> {
        let status = match q.get("status") {
            None => None,
            Some(s) => match OutageStatus::parse(s) {
                Some(st) if st != OutageStatus::Preview => Some(st),
                _ => {
                    return Err(ApiError::bad_field("status", "status 应为 published（已发布）或 cancelled（已取消）"));
                }
            },
        };
        let utility = match q.get("utility") {
            None => None,
            Some(u) => {
                Some(Utility::parse(u).ok_or_else(|| ApiError::bad_field("utility", "utility 应为 water 或 gas"))?)
            }
        };
        let sending = match q.get("sending") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::bad_field("sending", "sending 应为 true 或 false")),
        };
        let page = q.u32_in("page", 1, 10_000)?.unwrap_or(1);
        let per_page = q.u32_in("per_page", 1, MAX_PER_PAGE)?.unwrap_or(20);
        Ok(Self { status, utility, sending, page, per_page })
    }
}

/// An outage's SMS delivery over all its versions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeliverySummary {
    /// Recipients of the versions that went out.
    pub recipients: i64,
    pub queued: i64,
    pub sending: i64,
    pub deferred: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub superseded: i64,
    /// Versions still waiting for their send time.
    pub planned_versions: i64,
    /// Rows with a final result over recipients (a thousandth); none while nothing went out.
    pub progress: Option<f64>,
    /// Whether messages are still on their way (queued, sending or deferred).
    pub sending_now: bool,
}

/// One row of the list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listed {
    pub id: String,
    pub utility: Utility,
    pub effect: crate::rules::Effect,
    pub kind: OutageKind,
    pub status: OutageStatus,
    pub areas: Vec<String>,
    pub start: String,
    pub end: String,
    pub reason: String,
    pub send_at: String,
    pub created_at: String,
    pub version: i64,
    pub delivery: DeliverySummary,
}

/// `GET /v1/admin/outages`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutagePage {
    pub outages: Vec<Listed>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Outbox rows of one outage in one status (`outage_delivery_counts`).
#[derive(Debug, Clone, Deserialize)]
struct Count {
    outage_id: String,
    status: OutboxStatus,
    n: i64,
}

/// Versions of one outage: recipients of those that went out, and how many wait.
#[derive(Debug, Clone, Deserialize)]
struct Versions {
    outage_id: String,
    recipients: i64,
    planned: i64,
}

#[derive(Debug, Clone, Deserialize)]
struct Total {
    n: i64,
}

/// The summary of one outage from its version totals and outbox counts.
fn summarise(recipients: i64, planned_versions: i64, counts: &[(OutboxStatus, i64)]) -> DeliverySummary {
    let mut s = DeliverySummary {
        recipients,
        queued: 0,
        sending: 0,
        deferred: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        superseded: 0,
        planned_versions,
        progress: None,
        sending_now: false,
    };
    let mut done = 0;
    for &(status, n) in counts {
        let slot = match status {
            OutboxStatus::Queued => &mut s.queued,
            OutboxStatus::Sending => &mut s.sending,
            OutboxStatus::Deferred => &mut s.deferred,
            OutboxStatus::Sent => &mut s.sent,
            OutboxStatus::Delivered => &mut s.delivered,
            OutboxStatus::Failed => &mut s.failed,
            OutboxStatus::Superseded => &mut s.superseded,
        };
        *slot += n;
        if status.is_final() {
            done += n;
        }
    }
    s.sending_now = s.queued + s.sending + s.deferred > 0;
    if recipients > 0 {
        s.progress = Some(((done as f64 / recipients as f64).min(1.0) * 1000.0).round() / 1000.0);
    }
    s
}

fn where_clause(q: &ListQuery) -> (String, Vec<Value>) {
    let mut cond = vec!["1 = 1".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    if let Some(s) = q.status {
        args.push(s.as_str().into());
        cond.push(format!("status = ?{}", args.len()));
    }
    if let Some(u) = q.utility {
        args.push(u.as_str().into());
        cond.push(format!("utility = ?{}", args.len()));
    }
    if q.sending {
        cond.push(
            "id IN (SELECT outage_id FROM outage_delivery_counts
                     WHERE status IN ('queued', 'sending', 'deferred') AND n > 0)"
                .to_owned(),
        );
    }
    (cond.join(" AND "), args)
}

/// The outages, newest first, one page, each with its delivery summary.
pub async fn list(db: &impl Db, who: &Principal, q: &ListQuery) -> ApiResult<OutagePage> {
    who.require_any(&READERS)?;
    let (cond, args) = where_clause(q);
    let total: Option<Total> = db.first_as(&format!("SELECT COUNT(*) AS n FROM outages WHERE {cond}"), &args).await?;
    let offset = i64::from(q.page.saturating_sub(1)) * i64::from(q.per_page);
    let mut page_args = args.clone();
    page_args.push(i64::from(q.per_page).into());
    page_args.push(offset.into());
    let (l, o) = (page_args.len() - 1, page_args.len());
    let ids: Vec<IdRow> = db
        .query_as(
            &format!("SELECT id FROM outages WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT ?{l} OFFSET ?{o}"),
            &page_args,
        )
        .await?;
    let ids: Vec<String> = ids.into_iter().map(|r| r.id).collect();
    let list = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    let mut rows = find(db, "id IN (SELECT value FROM json_each(?1))", vec![list.as_str().into()]).await?;
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let versions: Vec<Versions> = db
        .query_as(
            &format!(
                "SELECT outage_id, COALESCE(SUM(CASE WHEN state = '{}' THEN recipients ELSE 0 END), 0) AS recipients,
                        COALESCE(SUM(CASE WHEN state = '{}' THEN 1 ELSE 0 END), 0) AS planned
                   FROM outage_versions WHERE outage_id IN (SELECT value FROM json_each(?1)) GROUP BY outage_id",
                VersionState::FannedOut.as_str(),
                VersionState::Planned.as_str()
            ),
            &[list.as_str().into()],
        )
        .await?;
    // Kept by the outbox's triggers (migration 0024): a few rows an outage,
    // where counting the outbox itself read every message of the page's outages.
    let counts: Vec<Count> = db
        .query_as(
            "SELECT outage_id, status, n FROM outage_delivery_counts
              WHERE outage_id IN (SELECT value FROM json_each(?1)) AND n > 0",
            &[list.into()],
        )
        .await?;
    let versions: HashMap<&str, &Versions> = versions.iter().map(|v| (v.outage_id.as_str(), v)).collect();
    let outages = rows
        .into_iter()
        .map(|o| {
            let (recipients, planned) = versions.get(o.id.as_str()).map_or((0, 0), |v| (v.recipients, v.planned));
            let mine: Vec<(OutboxStatus, i64)> =
                counts.iter().filter(|c| c.outage_id == o.id).map(|c| (c.status, c.n)).collect();
            listed(o, summarise(recipients, planned, &mine))
        })
        .collect();
    Ok(OutagePage { outages, total: total.map_or(0, |t| t.n), page: q.page, per_page: q.per_page })
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

fn listed(o: Outage, delivery: DeliverySummary) -> Listed {
    Listed {
        id: o.id,
        utility: o.utility,
        effect: o.effect,
        kind: o.kind,
        status: o.status,
        areas: o.areas,
        start: o.start,
        end: o.end,
        reason: o.reason,
        send_at: o.send_at,
        created_at: o.created_at,
        version: o.version,
        delivery,
    }
}

/// One outage's full record (for amending).
pub async fn record(db: &impl Db, who: &Principal, id: &str) -> ApiResult<Outage> {
    who.require_any(&READERS)?;
    find(db, "id = ?1", vec![id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该停水停气公告"))
}

/// One area of the hierarchy with the areas under it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaNode {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    /// The name an outage's message uses (names below the district, joined).
    pub full_name: String,
    pub children: Vec<AreaNode>,
}

/// `GET /v1/admin/supply-areas`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaTree {
    pub areas: Vec<AreaNode>,
    pub count: usize,
}

/// An area as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct AreaRow {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<String>,
    pub full_name: String,
}

/// The hierarchy from stored rows (in any order): children in the order
/// given, areas whose parent is missing at the top.
pub fn tree(rows: Vec<AreaRow>) -> Vec<AreaNode> {
    let known: std::collections::HashSet<String> = rows.iter().map(|r| r.code.clone()).collect();
    let mut by_parent: HashMap<Option<String>, Vec<AreaRow>> = HashMap::new();
    for r in rows {
        let parent = r.parent_code.clone().filter(|p| known.contains(p));
        by_parent.entry(parent).or_default().push(r);
    }
    fn build(parent: Option<String>, by_parent: &mut HashMap<Option<String>, Vec<AreaRow>>) -> Vec<AreaNode> {
        let rows = by_parent.remove(&parent).unwrap_or_default();
        rows.into_iter()
            .map(|r| AreaNode {
                children: build(Some(r.code.clone()), by_parent),
                code: r.code,
                name: r.name,
                level: r.level,
                full_name: r.full_name,
            })
            .collect()
    }
    build(None, &mut by_parent)
}

/// The supply-area hierarchy (district → street → community → building).
pub async fn area_tree(db: &impl Db, who: &Principal) -> ApiResult<AreaTree> {
    who.require_any(&READERS)?;
    let rows: Vec<AreaRow> = db
        .query_as(
            "SELECT code, name, level, parent_code, full_name FROM supply_areas ORDER BY path LIMIT ?1",
            &[(MAX_AREAS as i64).into()],
        )
        .await?;
    let count = rows.len();
    Ok(AreaTree { areas: tree(rows), count })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_summary_counts_by_state_and_progress_is_final_rows_over_recipients() {
        let s = summarise(
            4,
            0,
            &[
                (OutboxStatus::Sent, 1),
                (OutboxStatus::Delivered, 1),
                (OutboxStatus::Queued, 1),
                (OutboxStatus::Failed, 1),
            ],
        );
        assert_eq!(
            (s.sent, s.delivered, s.queued, s.failed, s.progress, s.sending_now),
            (1, 1, 1, 1, Some(0.75), true)
        );
        let done = summarise(2, 0, &[(OutboxStatus::Delivered, 2)]);
        assert_eq!((done.progress, done.sending_now), (Some(1.0), false));
        let waiting = summarise(0, 1, &[]);
        assert_eq!((waiting.progress, waiting.planned_versions, waiting.sending_now), (None, 1, false));
    }

    #[test]
    fn the_query_takes_known_filters_and_bounded_pages() {
        let q = ListQuery::parse(&Query::parse("status=cancelled&utility=gas&sending=true&page=2&per_page=5").unwrap())
            .unwrap();
        let want = ListQuery {
            status: Some(OutageStatus::Cancelled),
            utility: Some(Utility::Gas),
            sending: true,
            page: 2,
            per_page: 5,
        };
        assert_eq!(q, want);
        let d = ListQuery::parse(&Query::parse("").unwrap()).unwrap();
        assert_eq!((d.page, d.per_page, d.status, d.sending), (1, 20, None, false));
        for bad in ["status=preview", "status=x", "utility=power", "sending=yes", "page=0", "per_page=101"] {
            assert!(ListQuery::parse(&Query::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_tree_hangs_each_area_under_its_parent_and_orphans_at_the_top() {
        let row = |code: &str, level: AreaLevel, parent: Option<&str>| AreaRow {
            code: code.into(),
            name: code.to_uppercase(),
            level,
            parent_code: parent.map(Into::into),
            full_name: code.into(),
        };
        let t = tree(vec![
            row("bw-1", AreaLevel::Building, Some("bw")),
            row("yw", AreaLevel::District, None),
            row("cc", AreaLevel::Street, Some("yw")),
            row("bw", AreaLevel::Community, Some("cc")),
            row("xh", AreaLevel::Community, Some("cc")),
            row("lost", AreaLevel::Building, Some("gone")),
        ]);
        let codes: Vec<&str> = t.iter().map(|n| n.code.as_str()).collect();
        assert_eq!(codes, ["yw", "lost"]);
        let cc = t.first().unwrap().children.first().unwrap();
        let kids: Vec<&str> = cc.children.iter().map(|n| n.code.as_str()).collect();
        assert_eq!((cc.code.as_str(), kids), ("cc", vec!["bw", "xh"]));
        assert_eq!(cc.children.first().unwrap().children.first().unwrap().code, "bw-1");
    }
}
