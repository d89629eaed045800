//! Staff console sessions (issue 16): the cookie `__Host-bm_staff` that a staff
//! member's sign-in (password and TOTP, in the console worker) opens, and
//! that every `/v1/admin/...` route accepts beside a bearer token.
//!
//! Only the token's SHA-256 is stored. A session ends 30 minutes after its
//! last use and 12 hours after it opened, whichever is first; the check and
//! the touch are one statement. Every write carries the CSRF token
//! (`X-CSRF-Token`), derived from the session token, so a page on another
//! site, which cannot read the cookie, cannot compute it (signed double
//! submit); the cookie is also `SameSite=Strict`.

use crate::admin::{Principal, Role, hash_token};
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::runtime::IdSource;
use crate::store::{Db, Stmt};
use crate::types::BeijingTime;
use serde::Deserialize;

/// The cookie's name. `__Host-`: the browser keeps it only if it is
/// `Secure`, `Path=/` and set without a `Domain` by this very host, so a
/// sibling subdomain cannot plant a session of its own in front of it.
pub const COOKIE: &str = "__Host-bm_staff";
/// The header every write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends this long after its last use (等保: 登录超时).
pub const IDLE_MINUTES: i64 = 30;
/// And this long after it opened, however busy.
pub const ABSOLUTE_HOURS: i64 = 12;
const PREFIX: &str = "bms_";

/// A session just opened: the cookie's token (given to the browser once),
/// its CSRF token, and the statement that stores it.
#[derive(Debug)]
pub struct Opened {
    pub token: String,
    pub csrf: String,
    pub stmt: Stmt,
}

/// Opens a session for `staff_id` (write `stmt` in the sign-in's batch).
pub fn open(ids: &impl IdSource, staff_id: &str, now: BeijingTime) -> ApiResult<Opened> {
    let token = format!("{PREFIX}{}", ids.hex(32)?);
    let expires =
        now.plus_minutes(ABSOLUTE_HOURS * 60).ok_or_else(|| ApiError::internal("session expiry out of range"))?;
    let at = now.to_rfc3339();
    let stmt = Stmt::new(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?3, ?4)",
        vec![hash_token(&token).into(), staff_id.into(), at.into(), expires.to_rfc3339().into()],
    );
    Ok(Opened { csrf: csrf_for(&token), token, stmt })
}

/// The CSRF token of a session: derived from its token, so nothing more is
/// stored and only who holds the cookie's value can compute it.
pub fn csrf_for(token: &str) -> String {
    sha256_hex(format!("bianmin-staff-csrf:{token}").as_bytes())
}

/// The `Set-Cookie` value that gives the browser its session.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}", ABSOLUTE_HOURS * 3600)
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
}

/// The session token in a `Cookie` header, if it has a well-formed one.
pub fn from_cookie(header: Option<&str>) -> Option<&str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| v.len() == PREFIX.len() + 64 && v.starts_with(PREFIX))
}

/// The statement that ends one session (sign-out).
pub fn revoke_stmt(token: &str, now: BeijingTime) -> Stmt {
    Stmt::new(
        "UPDATE staff_sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        vec![hash_token(token).into(), now.to_rfc3339().into()],
    )
}

/// The statement that ends every session of a staff member (disabled,
/// password changed, second factor reset).
pub fn revoke_all_stmt(staff_id: &str, now: BeijingTime) -> Stmt {
    Stmt::new(
        "UPDATE staff_sessions SET revoked_at = ?2 WHERE staff_id = ?1 AND revoked_at IS NULL",
        vec![staff_id.into(), now.to_rfc3339().into()],
    )
}

/// The staff member behind a session token: 403 `csrf_invalid` for a write
/// without the session's CSRF token; 401 when the session is unknown,
/// ended, idle too long or past its 12 hours, or its account is no longer
/// active. A live session is touched in the same statement that checks it.
pub async fn authenticate(
    db: &impl Db,
    token: &str,
    csrf: Option<&str>,
    write: bool,
    now: BeijingTime,
) -> ApiResult<Principal> {
    if write && !csrf.is_some_and(|c| constant_time_eq(c.trim(), &csrf_for(token))) {
        return Err(ErrorCode::CsrfInvalid.into());
    }
    let expired = || ApiError::with_message(ErrorCode::SessionExpired, "后台登录已超时或已退出，请重新登录");
    let idle_since = now.plus_minutes(-IDLE_MINUTES).ok_or_else(expired)?;
    #[derive(Deserialize)]
    struct Live {
        staff_id: String,
    }
    let live: Live = db
        .first_as(
            "UPDATE staff_sessions SET last_seen_at = ?2
             WHERE token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2 AND last_seen_at > ?3
             RETURNING staff_id",
            &[hash_token(token).into(), now.to_rfc3339().into(), idle_since.to_rfc3339().into()],
        )
        .await?
        .ok_or_else(expired)?;
    principal(db, &live.staff_id).await?.ok_or_else(expired)
}

/// An active staff member as a principal (their id, name and roles).
pub async fn principal(db: &impl Db, staff_id: &str) -> ApiResult<Option<Principal>> {
    #[derive(Deserialize)]
    struct Who {
        display_name: String,
        roles: Option<String>,
    }
    let who: Option<Who> = db
        .first_as(
            "SELECT s.display_name, (SELECT group_concat(role) FROM staff_roles r WHERE r.staff_id = s.id) AS roles
             FROM staff s WHERE s.id = ?1 AND s.state = 'active'",
            &[staff_id.into()],
        )
        .await?;
    Ok(who.map(|w| Principal {
        token_id: staff_id.to_owned(),
        name: w.display_name,
        roles: w.roles.unwrap_or_default().split(',').filter_map(Role::parse).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_only_when_well_formed() {
        let t = format!("bms_{}", "a".repeat(64));
        assert_eq!(from_cookie(Some(&format!("x=1; {COOKIE}={t}; y=2"))), Some(t.as_str()));
        assert_eq!(from_cookie(Some(&format!("{COOKIE}=bms_short"))), None);
        assert_eq!(from_cookie(Some("other=1")), None);
        assert_eq!(from_cookie(None), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_lives_twelve_hours() {
        let c = set_cookie("bms_x");
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn each_session_has_its_own_csrf_token() {
        assert_ne!(csrf_for("bms_a"), csrf_for("bms_b"));
        assert_eq!(csrf_for("bms_a").len(), 64);
    }
}
