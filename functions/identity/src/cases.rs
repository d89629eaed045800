//! 我的办件 (002 §4.2 办件查询): a citizen's applications, appointments,
//! complaints, invoice applications and payment orders in one list, grouped
//! 待处理 / 办理中 / 已办结, newest first, each with its next step and where
//! its detail is. One D1 query (a UNION over the five tables, each read by
//! its citizen index); the grouping is a pure function of kind and status.

use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult};
use shared::store::Db;

/// Matters listed at most (the newest).
pub const MAX_CASES: i64 = 500;

/// The three groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// 待处理: the citizen has something to do.
    Todo,
    /// 办理中: someone else has.
    InProgress,
    /// 已办结.
    Done,
}

/// One matter as the list shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Case {
    pub kind: String,
    pub id: String,
    pub title: String,
    pub status: String,
    pub group: Group,
    pub next_step: &'static str,
    pub link: String,
    pub updated_at: String,
    pub deadline: Option<String>,
}

/// The list, by group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cases {
    pub todo: Vec<Case>,
    pub in_progress: Vec<Case>,
    pub done: Vec<Case>,
}

/// kind, id, title, status, updated_at, deadline, extra.
type Row = (String, String, String, String, String, Option<String>, Option<String>);

#[derive(Deserialize)]
struct Packed {
    rows: String,
}

/// The group and next step of a matter of `kind` in `status` (`extra`: a
/// complaint's or application's rating, a payment order's expiry).
pub fn classify(kind: &str, status: &str, extra: Option<&str>, now: &str) -> (Group, &'static str) {
    use Group::*;
    match (kind, status) {
        ("application", "draft") => (Todo, "补全信息和材料后提交申请"),
        ("application", "correction") => (Todo, "按一次性告知补正材料后重新提交"),
        ("application", "accepted_pending") => (Todo, "请在期限内补交容缺材料"),
        ("application", "submitted") => (InProgress, "等待部门预审"),
        ("application", "accepted") => (InProgress, "部门办理中，请留意办结通知"),
        ("application", "completed") if extra.is_none() => (Done, "查看办理结果并评价"),
        ("application", "completed") => (Done, "查看办理结果"),
        ("application", _) => (Done, "查看不予受理的理由"),
        ("appointment", "held") => (Todo, "确认预约"),
        ("appointment", "booked") => (Todo, "按预约时间到大厅，出示签到码"),
        ("appointment", _) => (Done, "查看预约记录"),
        ("complaint", "closed") if extra.is_none() => (Done, "查看办理结果并评价"),
        ("complaint", "closed") => (Done, "查看办理结果"),
        ("complaint", "replied") => (InProgress, "已答复，等待办结"),
        ("complaint", _) => (InProgress, "承办部门办理中"),
        ("invoice", "accepted") => (InProgress, "等待开具发票"),
        ("invoice", "issued") => (InProgress, "发票已开具，等待邮寄"),
        ("invoice", "mailed") => (Done, "发票已邮寄，可查看快递单号"),
        ("invoice", _) => (Done, "查看未开具的原因"),
        ("payment", "pending") if extra.is_some_and(|exp| exp > now) => (Todo, "完成支付"),
        ("payment", "pending") => (Done, "订单已过期，可重新缴费"),
        ("payment", "review") => (InProgress, "支付结果核对中"),
        ("payment", "paid") => (Done, "查看缴费记录和电子发票"),
        _ => (Done, "查看记录"),
    }
}

fn link(kind: &str, id: &str) -> String {
    let base = match kind {
        "application" => "/applications",
        "appointment" => "/appointments",
        "complaint" => "/complaints",
        "invoice" => "/invoices",
        _ => "/payments",
    };
    format!("{base}/{id}")
}

/// The one query (public for the query-plan test): the rows come back as
/// one JSON text (`[[kind, id, title, status, updated_at, deadline, extra],
/// ...]`), so D1 hands the worker one value instead of 200 row objects.
pub const SQL: &str = "
SELECT json_group_array(json_array(kind, id, title, status, updated_at, deadline, extra)) AS rows FROM (
SELECT 'application' AS kind, number AS id, item_name AS title, status, updated_at, deadline,
       CAST(rating AS TEXT) AS extra
  FROM applications WHERE citizen_id = ?1
UNION ALL
SELECT 'appointment', id, '网上预约 ' || day || ' ' || substr(slot_start, 12, 5), status, updated_at, day, NULL
  FROM appointments WHERE citizen_id = ?1 AND status <> 'rescheduled'
UNION ALL
SELECT 'complaint', number,
       CASE kind WHEN 'complaint' THEN '投诉' WHEN 'report' THEN '举报' WHEN 'suggestion' THEN '建议' ELSE '咨询' END
         || '：' || category, status, updated_at, deadline, CAST(rating AS TEXT)
  FROM complaints WHERE citizen_id = ?1
UNION ALL
SELECT 'invoice', id, '增值税专用发票申请（户号 ' || account_no || '）', status, updated_at, NULL, NULL
  FROM invoice_requests WHERE citizen_id = ?1
UNION ALL
SELECT 'payment', out_trade_no,
       '水费缴纳 ' || printf('%d.%02d', amount_fen / 100, amount_fen % 100) || ' 元', status,
       COALESCE(paid_at, created_at), NULL, expires_at
  FROM payment_orders WHERE citizen_id = ?1
ORDER BY updated_at DESC, id DESC
LIMIT ?2)";

/// The citizen's matters, grouped, newest first in each group.
pub async fn list(db: &impl Db, citizen: &str, now: &str) -> ApiResult<Cases> {
    let packed: Option<Packed> = db.first_as(SQL, &[citizen.into(), MAX_CASES.into()]).await?;
    let mut rows: Vec<Row> = match packed {
        Some(p) => serde_json::from_str(&p.rows).map_err(|e| ApiError::internal(format!("cases rows: {e}")))?,
        None => vec![],
    };
    // json_group_array keeps the subquery's order in SQLite; sorting again costs nothing and promises it.
    rows.sort_by(|a, b| (&b.4, &b.1).cmp(&(&a.4, &a.1)));
    let mut out = Cases { todo: vec![], in_progress: vec![], done: vec![] };
    for (kind, id, title, status, updated_at, deadline, extra) in rows {
        let (group, next_step) = classify(&kind, &status, extra.as_deref(), now);
        let case = Case { link: link(&kind, &id), kind, id, title, status, group, next_step, updated_at, deadline };
        match group {
            Group::Todo => out.todo.push(case),
            Group::InProgress => out.in_progress.push(case),
            Group::Done => out.done.push(case),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_lands_in_the_group_where_someone_has_to_act() {
        let now = "2026-12-02T10:00:00+08:00";
        assert_eq!(classify("application", "correction", None, now).0, Group::Todo);
        assert_eq!(classify("application", "accepted", None, now).0, Group::InProgress);
        assert_eq!(classify("application", "completed", None, now), (Group::Done, "查看办理结果并评价"));
        assert_eq!(classify("application", "completed", Some("4"), now), (Group::Done, "查看办理结果"));
        assert_eq!(classify("appointment", "booked", None, now).0, Group::Todo);
        assert_eq!(classify("appointment", "no_show", None, now).0, Group::Done);
        assert_eq!(classify("complaint", "assigned", None, now).0, Group::InProgress);
        assert_eq!(classify("invoice", "mailed", None, now).0, Group::Done);
        assert_eq!(classify("payment", "pending", Some("2026-12-02T10:15:00+08:00"), now).0, Group::Todo);
        assert_eq!(classify("payment", "pending", Some("2026-12-02T09:45:00+08:00"), now).0, Group::Done, "expired");
    }
}
