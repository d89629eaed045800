//! Admin authentication for every `/v1/admin/...` route, and the audit log.
//!
//! Tokens are `bma_` plus 64 hex characters, given to a person once
//! (`scripts/admin-token create`) and stored only as their SHA-256. Each token
//! carries roles; a route names the role it needs.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::store::{Db, Stmt, Value};
use crate::types::BeijingTime;
use serde::{Deserialize, Serialize};

/// Prefix of every admin token, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "bma_";

/// Staff roles. A token holds one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CatalogueEditor,
    CatalogueReviewer,
    HallStaff,
    OutagePublisher,
    /// 派单: the 12345 centre sees every complaint and hands it to a
    /// department, whose `ComplaintHandler`s act on it.
    ComplaintDispatcher,
    ComplaintHandler,
    BillingOperator,
    Auditor,
    /// 系统管理员 (三员分立): creates and disables staff, resets their
    /// second factor, assigns roles and scope; cannot read the audit log.
    StaffAdmin,
    /// 法定节假日与调休: the city calendar moves every booking window and
    /// every complaint deadline, so it is not any hall's to change.
    CalendarAdmin,
    /// 预审 and 办理 of online applications (网上申报) for the departments
    /// the token serves (`admin_token_departments`).
    ApplicationHandler,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 11] = [
        Self::CatalogueEditor,
        Self::CatalogueReviewer,
        Self::HallStaff,
        Self::OutagePublisher,
        Self::ComplaintDispatcher,
        Self::ComplaintHandler,
        Self::BillingOperator,
        Self::Auditor,
        Self::StaffAdmin,
        Self::CalendarAdmin,
        Self::ApplicationHandler,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CatalogueEditor => "catalogue_editor",
            Self::CatalogueReviewer => "catalogue_reviewer",
            Self::HallStaff => "hall_staff",
            Self::OutagePublisher => "outage_publisher",
            Self::ComplaintDispatcher => "complaint_dispatcher",
            Self::ComplaintHandler => "complaint_handler",
            Self::BillingOperator => "billing_operator",
            Self::Auditor => "auditor",
            Self::StaffAdmin => "staff_admin",
            Self::CalendarAdmin => "calendar_admin",
            Self::ApplicationHandler => "application_handler",
        }
    }

    /// Parses a stored role name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// The authenticated staff member behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Principal {
    /// 403 unless this principal holds `role`; returns the role acted under.
    pub fn require(&self, role: Role) -> ApiResult<Role> {
        if self.roles.contains(&role) {
            Ok(role)
        } else {
            Err(ApiError::with_message(ErrorCode::Forbidden, format!("此操作需要 {} 角色", role.as_str())))
        }
    }
}

/// Who acts, when, and in which request: what every audited change needs.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub who: &'a Principal,
    pub now: BeijingTime,
    pub request_id: &'a str,
}

impl Principal {
    /// 403 unless this principal holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> ApiResult<Role> {
        roles.iter().copied().find(|r| self.roles.contains(r)).ok_or_else(|| {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            ApiError::with_message(ErrorCode::Forbidden, format!("此操作需要以下角色之一：{}", names.join("、")))
        })
    }
}

/// 403 unless the token serves `hall` (`admin_token_halls`, granted by
/// `scripts/admin-token create --hall`): a hall's staff act on their own
/// hall only.
pub async fn require_hall(db: &impl Db, who: &Principal, hall: &str) -> ApiResult<()> {
    let rows = db
        .query(
            "SELECT 1 AS ok FROM admin_token_halls WHERE token_id = ?1 AND hall_id = ?2",
            &[who.token_id.as_str().into(), hall.into()],
        )
        .await?;
    if rows.is_empty() {
        // The hall is not echoed: the message is the same whatever was asked for.
        Err(ApiError::with_message(ErrorCode::Forbidden, "您不负责该大厅，不能办理该大厅的业务"))
    } else {
        Ok(())
    }
}

/// The departments a token (or staff account) serves, as `scripts/admin-token
/// create --department` or 员工管理 grants them: a complaint_handler's and an
/// application_handler's scope.
pub async fn departments(db: &impl Db, who: &Principal) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct D {
        department: String,
    }
    let rows: Vec<D> = db
        .query_as(
            "SELECT department FROM admin_token_departments WHERE token_id = ?1 ORDER BY department",
            &[who.token_id.as_str().into()],
        )
        .await?;
    Ok(rows.into_iter().map(|d| d.department).collect())
}

/// A token's halls, as `scripts/admin-token create --hall` grants them.
pub fn grant_halls_stmts(token_id: &str, halls: &[&str]) -> Vec<Stmt> {
    halls
        .iter()
        .map(|h| {
            Stmt::new(
                "INSERT OR IGNORE INTO admin_token_halls (token_id, hall_id) VALUES (?1, ?2)",
                vec![token_id.into(), (*h).into()],
            )
        })
        .collect()
}

/// SHA-256 of a token, lowercase hex: the only form stored.
pub fn hash_token(token: &str) -> String {
    crate::crypto::sha256_hex(token.as_bytes())
}

#[derive(Deserialize)]
struct TokenRow {
    id: String,
    name: String,
    roles: String,
    created_at: String,
    expires_at: Option<String>,
}

/// A staff token's life when none was chosen (`scripts/admin-token` writes it).
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// The longest a staff token lives, whatever its row says (tokens made
/// before expiry was required included).
pub const TOKEN_MAX_DAYS: i64 = 365;

/// Whether a token created at `created_at` with `expires_at` has expired at
/// `now`: at its expiry, and in any case `TOKEN_MAX_DAYS` after creation; a
/// row whose dates do not parse is expired.
pub fn token_expired(created_at: &str, expires_at: Option<&str>, now: BeijingTime) -> bool {
    let Ok(created) = BeijingTime::parse(created_at) else { return true };
    let cap = created.to_utc() + chrono::Duration::days(TOKEN_MAX_DAYS);
    let until = match expires_at.map(BeijingTime::parse) {
        None => cap,
        Some(Ok(e)) => e.to_utc().min(cap),
        Some(Err(_)) => return true,
    };
    until <= now.to_utc()
}

/// Resolves an `Authorization` header to a principal: 401 when missing,
/// malformed, unknown, expired or revoked (one answer for all, so the
/// response does not tell an attacker which).
pub async fn authenticate(db: &impl Db, authorization: Option<&str>, now: BeijingTime) -> ApiResult<Principal> {
    let unauthorized = || ApiError::with_message(ErrorCode::Unauthorized, "管理令牌缺失、无效或已失效");
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + 64)
        .ok_or_else(unauthorized)?;
    let row: TokenRow = db
        .first_as(
            "SELECT id, name, roles, created_at, expires_at FROM admin_tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
            &[hash_token(token).into()],
        )
        .await?
        .ok_or_else(unauthorized)?;
    if token_expired(&row.created_at, row.expires_at.as_deref(), now) {
        return Err(unauthorized());
    }
    let roles = row.roles.split(',').filter_map(Role::parse).collect();
    Ok(Principal { token_id: row.id, name: row.name, roles })
}

/// The SQL that records a new token (used by `scripts/admin-token` and tests).
pub fn insert_token_stmt(id: &str, name: &str, token: &str, roles: &[Role], now: BeijingTime) -> Stmt {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Stmt::new(
        "INSERT INTO admin_tokens (id, name, token_hash, roles, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        vec![id.into(), name.into(), hash_token(token).into(), roles.join(",").into(), now.to_rfc3339().into()],
    )
}

/// Records that a staff member read personal data (等保 level 3 audits
/// access, not only changes): an `access.<what>` row in the audit log, which
/// auditors page through `GET /v1/admin/audit-log`. Written before the data
/// is answered, so no read goes unlogged.
pub async fn log_access(db: &impl Db, act: &Act<'_>, what: &str, target: &str) -> ApiResult<()> {
    let action = format!("access.{what}");
    db.batch(&[audit_stmt(act.who, &action, target, act.request_id, act.now, &serde_json::Value::Null)]).await?;
    Ok(())
}

/// An audit entry, to be written in the same batch as the change it records.
pub fn audit_stmt(
    who: &Principal,
    action: &str,
    target: &str,
    request_id: &str,
    now: BeijingTime,
    detail: &serde_json::Value,
) -> Stmt {
    let role = who.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",");
    Stmt::new(
        "INSERT INTO audit_log (at, actor_id, actor_name, role, action, target, request_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        vec![
            now.to_rfc3339().into(),
            who.token_id.as_str().into(),
            who.name.as_str().into(),
            role.into(),
            action.into(),
            target.into(),
            request_id.into(),
            Value::Text(detail.to_string()),
        ],
    )
}

/// One audit entry as an auditor sees it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor_id: String,
    pub actor_name: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
}

/// A page of the audit log, newest first; `before` is the cursor (an id).
#[derive(Debug, Serialize, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

/// What an auditor narrows the log to (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// Changes only, or reads of personal data only (`access.*`).
    pub kind: Option<AuditKind>,
    /// Entries by this actor id (a token's or a staff member's).
    pub actor: Option<String>,
    /// Entries whose action starts with this (e.g. `complaint.`).
    pub action: Option<String>,
    /// Entries at or after this Beijing date.
    pub from: Option<chrono::NaiveDate>,
    /// Entries on or before this Beijing date.
    pub to: Option<chrono::NaiveDate>,
}

/// The two logs in one table: changes, and staff reads of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    Change,
    Access,
}

impl AuditFilter {
    /// The SQL conditions and their parameters, numbered from `?3`.
    fn sql(&self) -> (String, Vec<Value>) {
        let mut conds = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        let next = |v: Value, args: &mut Vec<Value>| {
            args.push(v);
            format!("?{}", args.len() + 2)
        };
        match self.kind {
            Some(AuditKind::Access) => conds.push("substr(action, 1, 7) = 'access.'".to_owned()),
            Some(AuditKind::Change) => conds.push("substr(action, 1, 7) <> 'access.'".to_owned()),
            None => {}
        }
        if let Some(a) = &self.actor {
            conds.push(format!("actor_id = {}", next(a.as_str().into(), &mut args)));
        }
        if let Some(a) = &self.action {
            let n = next(a.as_str().into(), &mut args);
            conds.push(format!("substr(action, 1, length({n})) = {n}"));
        }
        if let Some(d) = self.from {
            conds.push(format!("at >= {}", next(format!("{d}T00:00:00+08:00").into(), &mut args)));
        }
        if let Some(d) = self.to {
            conds.push(format!("at <= {}", next(format!("{d}T23:59:59+08:00").into(), &mut args)));
        }
        (conds.iter().map(|c| format!(" AND {c}")).collect(), args)
    }
}

/// Reads a page of the audit log with keyset pagination (stable while new
/// entries arrive), narrowed by `filter`.
pub async fn audit_page(
    db: &impl Db,
    before: Option<i64>,
    size: Option<u32>,
    filter: &AuditFilter,
) -> ApiResult<AuditPage> {
    let size = size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let (conds, extra) = filter.sql();
    let mut args: Vec<Value> = vec![before.unwrap_or(i64::MAX).into(), i64::from(size).into()];
    args.extend(extra);
    let entries: Vec<AuditEntry> = db
        .query_as(
            &format!(
                "SELECT id, at, actor_id, actor_name, role, action, target, request_id FROM audit_log
                 WHERE id < ?1{conds} ORDER BY id DESC LIMIT ?2"
            ),
            &args,
        )
        .await?;
    let next_before = if entries.len() == size as usize { entries.last().map(|e| e.id) } else { None };
    Ok(AuditPage { entries, next_before })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    const MADE: &str = "2026-01-01T00:00:00+08:00";

    #[test]
    fn the_audit_filter_numbers_its_parameters_after_the_cursor_and_the_size() {
        let f = AuditFilter {
            kind: Some(AuditKind::Access),
            actor: Some("stf_1".into()),
            action: Some("complaint.".into()),
            from: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            to: None,
        };
        let (sql, args) = f.sql();
        assert_eq!(
            sql,
            " AND substr(action, 1, 7) = 'access.' AND actor_id = ?3 AND substr(action, 1, length(?4)) = ?4 AND at >= ?5"
        );
        assert_eq!(args.len(), 3);
        assert_eq!(AuditFilter::default().sql().0, "");
    }

    #[test]
    fn a_token_without_an_expiry_still_dies_a_year_after_it_was_made() {
        assert!(!token_expired(MADE, None, at("2026-12-31T23:59:00+08:00")));
        assert!(token_expired(MADE, None, at("2027-01-01T00:00:00+08:00")));
    }

    #[test]
    fn an_expiry_beyond_a_year_is_cut_to_a_year_and_a_nearer_one_holds() {
        let far = Some("2030-01-01T00:00:00+08:00");
        assert!(token_expired(MADE, far, at("2027-01-02T00:00:00+08:00")));
        let near = Some("2026-04-01T00:00:00+08:00");
        assert!(!token_expired(MADE, near, at("2026-03-31T23:00:00+08:00")));
        assert!(token_expired(MADE, near, at("2026-04-01T00:00:00+08:00")));
    }

    #[test]
    fn a_row_whose_dates_do_not_parse_is_expired() {
        assert!(token_expired("yesterday", None, at("2026-01-02T00:00:00+08:00")));
        assert!(token_expired(MADE, Some("soon"), at("2026-01-02T00:00:00+08:00")));
    }
}
