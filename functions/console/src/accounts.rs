//! 员工管理 (role staff_admin, 三员分立): create an account with its roles
//! and scope (and its enrolment link), change them, disable an account,
//! reset its second factor, read its login history. Every change is one
//! batch with its audit entry. The staff administrator reads no audit log
//! (that is the auditor's) and changes no grant of their own.

use crate::enrol;
use crate::login::{self, LoginRow};
use crate::staff::{Grant, State, Username, check_display_name, check_grant, is_guarded};
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::staff_session;
use shared::store::{Db, Stmt};

/// A new account, as the staff administrator fills it in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    #[serde(flatten)]
    pub grant: Grant,
}

/// An account as the staff list shows it (no secrets).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub state: State,
    pub roles: Vec<Role>,
    pub halls: Vec<String>,
    pub departments: Vec<String>,
    /// Locked now after failed sign-ins.
    pub locked: bool,
    pub created_at: String,
}

/// A created account (or a reset one) and its one-time enrolment link token.
#[derive(Debug, Serialize)]
pub struct WithLink {
    pub staff: View,
    pub enrol_token: String,
}

/// Creates an account, `enrolling` until its holder follows the link.
pub async fn create(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, n: &NewStaff) -> ApiResult<WithLink> {
    act.who.require(Role::StaffAdmin)?;
    let id = format!("stf_{}", ids.hex(8)?);
    let mut errs = check_grant(&n.grant, &act.who.token_id, &id);
    let username = Username::parse(&n.username).map_err(|e| errs.push(e)).ok();
    let name = check_display_name(&n.display_name).map_err(|e| errs.push(e)).ok();
    let (Some(username), Some(name), true) = (username, name, errs.is_empty()) else {
        return Err(ApiError::validation(errs));
    };
    let at = act.now.to_rfc3339();
    let mut stmts = vec![Stmt::new(
        "INSERT INTO staff (id, username, display_name, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'enrolling', ?4, ?4)",
        vec![id.as_str().into(), username.as_str().into(), name.as_str().into(), at.into()],
    )];
    stmts.extend(grant_stmts(&id, &n.grant));
    let link = enrol::new_link(ids, &id, act.now)?;
    stmts.extend(link.stmts);
    stmts.push(audit_stmt(
        act.who,
        "staff.create",
        &id,
        act.request_id,
        act.now,
        &serde_json::json!({
            "username": username.as_str(), "roles": &n.grant.roles,
        }),
    ));
    db.batch(&stmts).await.map_err(|e| {
        if e.code == ErrorCode::Conflict {
            ApiError::with_message(ErrorCode::Conflict, "该用户名已被使用")
        } else {
            e
        }
    })?;
    Ok(WithLink { staff: one(db, &id, act.now).await?, enrol_token: link.token })
}

/// Replaces an account's roles and scope.
pub async fn set_grant(db: &impl Db, act: &Act<'_>, id: &str, g: &Grant) -> ApiResult<View> {
    act.who.require(Role::StaffAdmin)?;
    let errs = check_grant(g, &act.who.token_id, id);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    guarded(&one(db, id, act.now).await?)?;
    let mut stmts = vec![
        Stmt::new("DELETE FROM staff_roles WHERE staff_id = ?1", vec![id.into()]),
        Stmt::new("DELETE FROM admin_token_halls WHERE token_id = ?1", vec![id.into()]),
        Stmt::new("DELETE FROM admin_token_departments WHERE token_id = ?1", vec![id.into()]),
    ];
    stmts.extend(grant_stmts(id, g));
    stmts.push(audit_stmt(act.who, "staff.grant", id, act.request_id, act.now, &serde_json::json!(g)));
    db.batch(&stmts).await?;
    one(db, id, act.now).await
}

/// Disables an account and ends its sessions at once.
pub async fn disable(db: &impl Db, act: &Act<'_>, id: &str) -> ApiResult<View> {
    act.who.require(Role::StaffAdmin)?;
    if id == act.who.token_id {
        return Err(ApiError::with_message(ErrorCode::Forbidden, "不能停用自己的账户"));
    }
    guarded(&one(db, id, act.now).await?)?;
    db.batch(&[
        Stmt::new(
            "UPDATE staff SET state = 'disabled', updated_at = ?2 WHERE id = ?1",
            vec![id.into(), act.now.to_rfc3339().into()],
        ),
        staff_session::revoke_all_stmt(id, act.now),
        Stmt::new(
            "UPDATE staff_enrolments SET used_at = ?2 WHERE staff_id = ?1 AND used_at IS NULL",
            vec![id.into(), act.now.to_rfc3339().into()],
        ),
        audit_stmt(act.who, "staff.disable", id, act.request_id, act.now, &serde_json::Value::Null),
    ])
    .await?;
    one(db, id, act.now).await
}

/// Resets an account's second factor (a lost phone): the old secret stops
/// working at once, sessions end, and a new link enrols a new one (with a
/// new password).
pub async fn reset_second_factor(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, id: &str) -> ApiResult<WithLink> {
    act.who.require(Role::StaffAdmin)?;
    let before = one(db, id, act.now).await?;
    guarded(&before)?;
    if before.state == State::Disabled {
        return Err(ApiError::with_message(ErrorCode::Conflict, "该账户已停用"));
    }
    let link = enrol::new_link(ids, id, act.now)?;
    let mut stmts = vec![
        Stmt::new(
            "UPDATE staff SET state = 'enrolling', totp_secret = NULL, totp_last_step = NULL, updated_at = ?2 WHERE id = ?1",
            vec![id.into(), act.now.to_rfc3339().into()],
        ),
        staff_session::revoke_all_stmt(id, act.now),
    ];
    stmts.extend(link.stmts);
    stmts.push(audit_stmt(act.who, "staff.reset_2fa", id, act.request_id, act.now, &serde_json::Value::Null));
    db.batch(&stmts).await?;
    Ok(WithLink { staff: one(db, id, act.now).await?, enrol_token: link.token })
}

/// 403 for an account the console may not change: a staff administrator's
/// or an auditor's (`scripts/staff` manages those).
fn guarded(v: &View) -> ApiResult<()> {
    if v.roles.iter().any(|r| is_guarded(*r)) {
        Err(ApiError::with_message(ErrorCode::Forbidden, "三员分立：系统管理员和审计员账户不能在后台修改、停用或重置"))
    } else {
        Ok(())
    }
}

/// Every account, by user name (one query).
pub async fn list(db: &impl Db, act: &Act<'_>) -> ApiResult<Vec<View>> {
    act.who.require(Role::StaffAdmin)?;
    views(db, "ORDER BY s.username LIMIT 1000", &[act.now.to_rfc3339().into()]).await
}

/// An account's login history (its latest 100 attempts). Its addresses are
/// personal data, so the read is in the access log before it is answered.
pub async fn logins(db: &impl Db, act: &Act<'_>, id: &str) -> ApiResult<Vec<LoginRow>> {
    act.who.require_any(&[Role::StaffAdmin, Role::Auditor])?;
    one(db, id, act.now).await?;
    shared::admin::log_access(db, act, "staff.logins", id).await?;
    login::history(db, id).await
}

/// One account (404 when there is none).
pub async fn one(db: &impl Db, id: &str, now: shared::types::BeijingTime) -> ApiResult<View> {
    views(db, "WHERE s.id = ?2", &[now.to_rfc3339().into(), id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该员工账户"))
}

/// Accounts with their grants; `?1` is now (for the lock), `tail` filters
/// and orders.
async fn views(db: &impl Db, tail: &str, params: &[shared::store::Value]) -> ApiResult<Vec<View>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        username: String,
        display_name: String,
        state: State,
        locked: i64,
        created_at: String,
        roles: Option<String>,
        halls: Option<String>,
        departments: Option<String>,
    }
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "SELECT s.id, s.username, s.display_name, s.state,
                        (s.locked_until IS NOT NULL AND s.locked_until > ?1) AS locked, s.created_at,
                        (SELECT group_concat(role, ',') FROM staff_roles WHERE staff_id = s.id) AS roles,
                        (SELECT group_concat(hall_id, char(31)) FROM admin_token_halls WHERE token_id = s.id) AS halls,
                        (SELECT group_concat(department, char(31)) FROM admin_token_departments WHERE token_id = s.id)
                          AS departments
                 FROM staff s {tail}"
            ),
            params,
        )
        .await?;
    let split = |s: Option<String>| -> Vec<String> {
        let mut v: Vec<String> =
            s.unwrap_or_default().split('\u{1f}').filter(|x| !x.is_empty()).map(str::to_owned).collect();
        v.sort();
        v
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut roles: Vec<Role> = r.roles.unwrap_or_default().split(',').filter_map(Role::parse).collect();
            roles.sort_by_key(|x| x.as_str());
            View {
                id: r.id,
                username: r.username,
                display_name: r.display_name,
                state: r.state,
                roles,
                halls: split(r.halls),
                departments: split(r.departments),
                locked: r.locked != 0,
                created_at: r.created_at,
            }
        })
        .collect())
}

/// The rows of a grant: roles, halls and departments under the account's id.
fn grant_stmts(id: &str, g: &Grant) -> Vec<Stmt> {
    let mut stmts: Vec<Stmt> = g
        .roles
        .iter()
        .map(|r| {
            Stmt::new(
                "INSERT OR IGNORE INTO staff_roles (staff_id, role) VALUES (?1, ?2)",
                vec![id.into(), r.as_str().into()],
            )
        })
        .collect();
    let halls: Vec<&str> = g.halls.iter().map(|h| h.trim()).collect();
    stmts.extend(shared::admin::grant_halls_stmts(id, &halls));
    stmts.extend(g.departments.iter().map(|d| {
        Stmt::new(
            "INSERT OR IGNORE INTO admin_token_departments (token_id, department) VALUES (?1, ?2)",
            vec![id.into(), d.trim().into()],
        )
    }));
    stmts
}
