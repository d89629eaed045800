//! Sessions: opaque bearer tokens (`bms_` + 64 hex), stored only as their
//! SHA-256, with an expiry and revocation. Checking one costs a hash and, at
//! most every [`SESSION_CACHE_MS`], one D1 read: the isolate keeps recent
//! checks in memory.

use super::Citizen;
use crate::crypto::sha256_hex;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::runtime::IdSource;
use crate::store::{Db, HotCache, Stmt};
use crate::types::BeijingTime;
use chrono::Duration;
use serde::Deserialize;
use std::rc::Rc;

/// Prefix of citizen session tokens.
pub const TOKEN_PREFIX: &str = "bms_";

/// Default session lifetime (7 days; `SESSION_TTL_SECS` overrides).
pub const DEFAULT_TTL_SECS: i64 = 7 * 24 * 3600;

/// How long an isolate trusts a session check: the bound on how late another
/// isolate notices a logout (the isolate that handles the logout forgets at once).
pub const SESSION_CACHE_MS: i64 = 10_000;

/// Sessions remembered per isolate.
pub const SESSION_CACHE_ENTRIES: usize = 10_000;

/// A freshly issued session: the token is shown to the client once.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub token: String,
    pub session_id: String,
    pub expires_at: BeijingTime,
}

/// What an isolate remembers about a token.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    citizen_id: String,
    session_id: String,
    expires_at: BeijingTime,
    revoked: bool,
}

/// Issues a session for `citizen_id`; the statement must be written for it to count.
pub fn issue(
    ids: &impl IdSource,
    citizen_id: &str,
    method: &str,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<(NewSession, Stmt)> {
    insert(ids, citizen_id, method, None, now, ttl_secs)
}

/// Issues a session for a login by SMS code to the phone behind `phone_hash`,
/// remembering that phone: for [`PHONE_PROOF_SECS`] the session proves it.
pub fn issue_by_phone(
    ids: &impl IdSource,
    citizen_id: &str,
    phone_hash: &str,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<(NewSession, Stmt)> {
    insert(ids, citizen_id, "phone", Some(phone_hash), now, ttl_secs)
}

fn insert(
    ids: &impl IdSource,
    citizen_id: &str,
    method: &str,
    phone_hash: Option<&str>,
    now: BeijingTime,
    ttl_secs: i64,
) -> ApiResult<(NewSession, Stmt)> {
    let token = format!("{TOKEN_PREFIX}{}", ids.hex(32)?);
    let session_id = format!("ses_{}", ids.hex(8)?);
    let expires_at = BeijingTime::from_utc(now.to_utc() + Duration::seconds(ttl_secs));
    let stmt = Stmt::new(
        "INSERT INTO sessions (id, citizen_id, token_hash, method, created_at, expires_at, phone_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        vec![
            session_id.as_str().into(),
            citizen_id.into(),
            sha256_hex(token.as_bytes()).into(),
            method.into(),
            now.to_rfc3339().into(),
            expires_at.to_rfc3339().into(),
            phone_hash.into(),
        ],
    );
    Ok((NewSession { token, session_id, expires_at }, stmt))
}

/// How recent a login by SMS code to the bound phone must be to prove that
/// phone when the citizen replaces it (a login is a fresh code to it).
pub const PHONE_PROOF_SECS: i64 = 600;

/// Whether `who`'s session is a login by the phone behind `phone_hash` made
/// in the last [`PHONE_PROOF_SECS`].
pub async fn proves_phone(db: &impl Db, who: &Citizen, phone_hash: &str, now: BeijingTime) -> ApiResult<bool> {
    let since = BeijingTime::from_utc(now.to_utc() - Duration::seconds(PHONE_PROOF_SECS));
    let found = db
        .query(
            "SELECT 1 AS n FROM sessions WHERE id = ?1 AND citizen_id = ?2 AND method = 'phone' AND phone_hash = ?3
               AND created_at > ?4 AND revoked_at IS NULL",
            &[who.session_id.as_str().into(), who.id.as_str().into(), phone_hash.into(), since.to_rfc3339().into()],
        )
        .await?;
    Ok(!found.is_empty())
}

/// Revokes every session of `who`'s citizen but the one making the request.
pub fn revoke_others_stmt(who: &Citizen, now: BeijingTime) -> Stmt {
    Stmt::new(
        "UPDATE sessions SET revoked_at = ?1 WHERE citizen_id = ?2 AND id != ?3 AND revoked_at IS NULL",
        vec![now.to_rfc3339().into(), who.id.as_str().into(), who.session_id.as_str().into()],
    )
}

/// Forgets, in this isolate, every session of `who`'s citizen but the current
/// one (after [`revoke_others_stmt`]; other isolates notice within
/// [`SESSION_CACHE_MS`]).
pub async fn forget_others(db: &impl Db, hot: &HotCache<SessionEntry>, who: &Citizen) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Hash {
        token_hash: String,
    }
    let hashes: Vec<Hash> = db
        .query_as(
            "SELECT token_hash FROM sessions WHERE citizen_id = ?1 AND id != ?2",
            &[who.id.as_str().into(), who.session_id.as_str().into()],
        )
        .await?;
    for h in hashes {
        hot.remove(&h.token_hash);
    }
    Ok(())
}

/// The token in an `Authorization: Bearer` header, if well formed.
fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.len() == TOKEN_PREFIX.len() + 64 && t.starts_with(TOKEN_PREFIX))
}

#[derive(Deserialize)]
struct Row {
    id: String,
    citizen_id: String,
    expires_at: String,
    revoked_at: Option<String>,
}

/// Resolves the request's token to a citizen: `login_required` when missing
/// or unknown, `session_expired`, `session_revoked`.
pub async fn authenticate(
    db: &impl Db,
    hot: &HotCache<SessionEntry>,
    header: Option<&str>,
    now: BeijingTime,
) -> ApiResult<Citizen> {
    let token = bearer(header).ok_or(ErrorCode::LoginRequired)?;
    let key = sha256_hex(token.as_bytes());
    let now_ms = now.to_utc().timestamp_millis();
    let entry = match hot.get(&key, now_ms) {
        Some(e) => e,
        None => {
            let row: Row = db
                .first_as(
                    "SELECT id, citizen_id, expires_at, revoked_at FROM sessions WHERE token_hash = ?1",
                    &[key.as_str().into()],
                )
                .await?
                .ok_or(ErrorCode::LoginRequired)?;
            let expires_at =
                BeijingTime::parse(&row.expires_at).map_err(|_| ApiError::internal("bad session expiry"))?;
            let e = Rc::new(SessionEntry {
                citizen_id: row.citizen_id,
                session_id: row.id,
                expires_at,
                revoked: row.revoked_at.is_some(),
            });
            hot.put(&key, Rc::clone(&e), now_ms);
            e
        }
    };
    if entry.revoked {
        return Err(ErrorCode::SessionRevoked.into());
    }
    if entry.expires_at <= now {
        return Err(ErrorCode::SessionExpired.into());
    }
    Ok(Citizen { id: entry.citizen_id.clone(), session_id: entry.session_id.clone() })
}

/// Revokes the session behind `header` (logout) and forgets it in this isolate.
pub async fn revoke(
    db: &impl Db,
    hot: &HotCache<SessionEntry>,
    header: Option<&str>,
    who: &Citizen,
    now: BeijingTime,
) -> ApiResult<()> {
    db.execute(
        "UPDATE sessions SET revoked_at = ?1 WHERE id = ?2 AND citizen_id = ?3 AND revoked_at IS NULL",
        &[now.to_rfc3339().into(), who.session_id.as_str().into(), who.id.as_str().into()],
    )
    .await?;
    if let Some(token) = bearer(header) {
        hot.remove(&sha256_hex(token.as_bytes()));
    }
    Ok(())
}
