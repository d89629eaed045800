//! Enrolment by a one-time link: the holder of a new account (or of one whose
//! second factor was reset) sees the QR code of a TOTP secret, adds it to an
//! authenticator app (腾讯身份验证器, Google Authenticator...), and
//! confirms with a code from it and a password of their own. Only the
//! link's SHA-256 is stored; it serves once, for `ENROL_HOURS`.

use crate::{password, totp};
use serde::{Deserialize, Serialize};
use shared::admin::hash_token;
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::runtime::IdSource;
use shared::staff_session;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// How long an enrolment link serves.
pub const ENROL_HOURS: i64 = 72;
/// The issuer an authenticator app shows beside the code.
pub const ISSUER: &str = "义乌便民后台";
const PREFIX: &str = "bme_";

/// A new link: the token for the URL, and the statements that store it
/// (after ending any earlier link of the account).
#[derive(Debug)]
pub struct Link {
    pub token: String,
    pub stmts: Vec<Stmt>,
}

/// A one-time link with a fresh TOTP secret for `staff_id`.
pub fn new_link(ids: &impl IdSource, staff_id: &str, now: BeijingTime) -> ApiResult<Link> {
    let token = format!("{PREFIX}{}", ids.hex(32)?);
    let secret = totp::Secret::generate(ids)?;
    let at = now.to_rfc3339();
    let until =
        now.plus_minutes(ENROL_HOURS * 60).ok_or_else(|| ApiError::internal("enrolment expiry out of range"))?;
    let stmts = vec![
        Stmt::new(
            "UPDATE staff_enrolments SET used_at = ?2 WHERE staff_id = ?1 AND used_at IS NULL",
            vec![staff_id.into(), at.as_str().into()],
        ),
        Stmt::new(
            "INSERT INTO staff_enrolments (token_hash, staff_id, totp_secret, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                hash_token(&token).into(),
                staff_id.into(),
                secret.to_base32().into(),
                at.as_str().into(),
                until.to_rfc3339().into(),
            ],
        ),
    ];
    Ok(Link { token, stmts })
}

/// What the enrolment page shows.
#[derive(Debug, Serialize, PartialEq)]
pub struct Enrolment {
    pub username: String,
    pub display_name: String,
    /// The secret, for typing in when the camera cannot read the code.
    pub secret: String,
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as SVG.
    pub qr_svg: String,
    /// A second-factor reset: the holder confirms with the password they
    /// have (a link cannot set a new one, so whoever sent it cannot take the
    /// account over); a new account chooses one.
    pub keeps_password: bool,
}

#[derive(Debug, Deserialize)]
struct Pending {
    staff_id: String,
    totp_secret: String,
    username: String,
    display_name: String,
    password_hash: Option<String>,
}

async fn pending(db: &impl Db, token: &str, now: BeijingTime) -> ApiResult<Pending> {
    if !token.starts_with(PREFIX) || token.len() != PREFIX.len() + 64 {
        return Err(ErrorCode::EnrolmentInvalid.into());
    }
    db.first_as(
        "SELECT e.staff_id, e.totp_secret, s.username, s.display_name, s.password_hash FROM staff_enrolments e
         JOIN staff s ON s.id = e.staff_id
         WHERE e.token_hash = ?1 AND e.used_at IS NULL AND e.expires_at > ?2 AND s.state <> 'disabled'",
        &[hash_token(token).into(), now.to_rfc3339().into()],
    )
    .await?
    .ok_or_else(|| ErrorCode::EnrolmentInvalid.into())
}

/// The page behind a link (it does not use the link up).
pub async fn show(db: &impl Db, token: &str, now: BeijingTime) -> ApiResult<Enrolment> {
    let p = pending(db, token, now).await?;
    let secret =
        totp::Secret::from_base32(&p.totp_secret).ok_or_else(|| ApiError::internal("stored secret unreadable"))?;
    let uri = totp::otpauth_uri(&secret, ISSUER, &p.username);
    Ok(Enrolment {
        keeps_password: p.password_hash.is_some(),
        qr_svg: totp::qr_svg(&uri),
        otpauth_uri: uri,
        secret: p.totp_secret,
        username: p.username,
        display_name: p.display_name,
    })
}

/// The enrolment form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub password: String,
    /// Six digits from the authenticator app, proving it holds the secret.
    pub code: String,
}

/// Completes an enrolment: a new account's password meets the policy (a
/// reset's is the one the account has, and a wrong one counts against the
/// sign-in lock), and the code comes from the secret shown; the account
/// becomes active, the link is used up, and any session the account had
/// ends.
pub async fn complete(
    db: &impl Db,
    ids: &impl IdSource,
    token: &str,
    c: &Completion,
    now: BeijingTime,
) -> ApiResult<()> {
    let p = pending(db, token, now).await?;
    let mut errs = Vec::new();
    match p.password_hash.as_deref() {
        Some(h) => {
            let Some(tries) = crate::login::take_a_try(db, &p.staff_id, now).await? else {
                return Err(ErrorCode::AccountLocked.into());
            };
            if !password::verify(&c.password, h) {
                let outcome = crate::login::Outcome::BadCredentials;
                crate::login::record(db, Some(&p.staff_id), &p.username, "enrolment", outcome, now).await?;
                if tries >= crate::login::LOCK_AFTER {
                    return Err(ErrorCode::AccountLocked.into());
                }
                errs.push(FieldError::new("password", "当前密码不正确：重置动态口令时请输入您现在的密码"));
            }
        }
        None => errs.extend(password::check_policy(&c.password, &p.username).err().unwrap_or_default()),
    }
    let secret =
        totp::Secret::from_base32(&p.totp_secret).ok_or_else(|| ApiError::internal("stored secret unreadable"))?;
    let step = totp::verify(&secret, &c.code, crate::login::unix(now), None);
    if step.is_none() {
        errs.push(FieldError::new("code", "动态口令不正确：请输入验证器中当前显示的6位数字"));
    }
    let (Some(step), true) = (step.and_then(|s| i64::try_from(s).ok()), errs.is_empty()) else {
        return Err(ApiError::validation(errs));
    };
    let hash = match p.password_hash {
        Some(kept) => kept,
        None => password::hash(&c.password, ids)?,
    };
    let at = now.to_rfc3339();
    let stmts = [
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM staff_enrolments WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2)",
            vec![hash_token(token).into(), at.as_str().into()],
        ),
        Stmt::new(
            "UPDATE staff_enrolments SET used_at = ?2 WHERE token_hash = ?1",
            vec![hash_token(token).into(), at.as_str().into()],
        ),
        Stmt::new(
            "UPDATE staff SET state = 'active', password_hash = ?2,
                    password_changed_at = CASE WHEN password_hash IS ?2 THEN password_changed_at ELSE ?3 END, totp_secret = ?4,
                    totp_last_step = ?5, failed_logins = 0, locked_until = NULL, updated_at = ?3
             WHERE id = ?1 AND state <> 'disabled'",
            vec![
                p.staff_id.as_str().into(),
                hash.into(),
                at.as_str().into(),
                p.totp_secret.as_str().into(),
                step.into(),
            ],
        ),
        staff_session::revoke_all_stmt(&p.staff_id, now),
    ];
    match db.batch(&stmts).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::Conflict => Err(ErrorCode::EnrolmentInvalid.into()),
        Err(e) => Err(e),
    }
}
