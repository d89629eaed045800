//! Sign-in (等保 level 3): user name, password and a TOTP code, every
//! attempt in the login history; five failures lock the account for 15
//! minutes. The try is counted before the password is checked, in the
//! statement that refuses a locked account, so parallel guesses cannot
//! outrun the lock; a code is used once.

use crate::staff::{State, Username};
use crate::{password, totp};
use serde::{Deserialize, Serialize};
use shared::admin::Principal;
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::runtime::IdSource;
use shared::staff_session::{self, Opened};
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// Failures in a row that lock an account.
pub const LOCK_AFTER: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// A password older than this is to be changed (the sign-in says so).
pub const PASSWORD_REMIND_DAYS: i64 = 90;

shared::text_enum! {
    /// How an attempt ended, as the login history records it.
    pub enum Outcome {
        Ok => "ok",
        BadCredentials => "bad_credentials",
        Locked => "locked",
        Disabled => "disabled",
        NotEnrolled => "not_enrolled",
        UnknownUser => "unknown_user",
    }
}

/// One attempt, as the sign-in form sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    pub username: String,
    pub password: String,
    /// The authenticator app's six digits.
    pub code: String,
}

/// A successful sign-in: the session to set as a cookie, who signed in and
/// whether the password is due for a change.
#[derive(Debug)]
pub struct SignedIn {
    pub session: Opened,
    pub who: Principal,
    pub password_change_due: bool,
}

#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    state: State,
    password_hash: Option<String>,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    password_changed_at: Option<String>,
}

/// Signs a staff member in, or says why not in one of two answers:
/// `login_failed` (whatever was wrong, so nothing tells an attacker which)
/// or `account_locked` (after five failures in 15 minutes, for a user name
/// that exists or not, so the lock does not tell which names exist). Every
/// refusal costs one password check, real or dummy, so its time tells
/// nothing either.
pub async fn login(db: &impl Db, ids: &impl IdSource, a: &Attempt, ip: &str, now: BeijingTime) -> ApiResult<SignedIn> {
    let failed = || ApiError::from(ErrorCode::LoginFailed);
    // Only a well-formed user name is recorded: people type passwords there.
    let Ok(username) = Username::parse(&a.username) else {
        return refuse(db, None, "", ip, Outcome::UnknownUser, &a.password, now).await;
    };
    let typed = username.as_str();
    let account: Option<Account> = db
        .first_as(
            "SELECT id, state, password_hash, totp_secret, totp_last_step, password_changed_at FROM staff WHERE username = ?1",
            &[typed.into()],
        )
        .await?;
    let Some(acc) = account else {
        return refuse(db, None, typed, ip, Outcome::UnknownUser, &a.password, now).await;
    };
    let refused = match acc.state {
        State::Active => None,
        State::Disabled => Some(Outcome::Disabled),
        State::Enrolling => Some(Outcome::NotEnrolled),
    };
    if let Some(outcome) = refused {
        return refuse(db, Some(&acc.id), typed, ip, outcome, &a.password, now).await;
    }
    let Some(tries) = take_a_try(db, &acc.id, now).await? else {
        password::verify(&a.password, password::DUMMY_PHC);
        record(db, Some(&acc.id), typed, ip, Outcome::Locked, now).await?;
        return Err(ErrorCode::AccountLocked.into());
    };
    let step = check(&acc, a, now);
    let Some(step) = step else {
        record(db, Some(&acc.id), typed, ip, Outcome::BadCredentials, now).await?;
        return Err(if tries >= LOCK_AFTER { ErrorCode::AccountLocked.into() } else { failed() });
    };
    let session = staff_session::open(ids, &acc.id, now)?;
    let mut stmts = vec![
        // A code is used once, even by two sign-ins racing with it.
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM staff WHERE id = ?1 AND state = 'active'
                     AND (totp_last_step IS NULL OR totp_last_step < ?2))",
            vec![acc.id.as_str().into(), step.into()],
        ),
        Stmt::new(
            "UPDATE staff SET failed_logins = 0, locked_until = NULL, totp_last_step = ?2 WHERE id = ?1",
            vec![acc.id.as_str().into(), step.into()],
        ),
    ];
    stmts.push(session.stmt.clone());
    stmts.push(history_stmt(Some(&acc.id), typed, ip, Outcome::Ok, now));
    match db.batch(&stmts).await {
        Ok(_) => {}
        Err(e) if e.code == ErrorCode::Conflict => {
            record(db, Some(&acc.id), typed, ip, Outcome::BadCredentials, now).await?;
            return Err(failed());
        }
        Err(e) => return Err(e),
    }
    let who = staff_session::principal(db, &acc.id).await?.ok_or_else(failed)?;
    Ok(SignedIn { session, who, password_change_due: change_due(acc.password_changed_at.as_deref(), now) })
}

/// A refusal before any real check (no such account, or one that cannot
/// sign in): a dummy password check, the history row, and the answer a
/// real account would give after as many failures under that name in the
/// last 15 minutes.
async fn refuse<T>(
    db: &impl Db,
    staff: Option<&str>,
    typed: &str,
    ip: &str,
    outcome: Outcome,
    password: &str,
    now: BeijingTime,
) -> ApiResult<T> {
    password::verify(password, password::DUMMY_PHC);
    record(db, staff, typed, ip, outcome, now).await?;
    let since = now.plus_minutes(-LOCK_MINUTES).ok_or_else(|| ApiError::internal("time out of range"))?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let recent: Option<N> = db
        .first_as(
            "SELECT count(*) AS n FROM staff_logins WHERE username = ?1 AND username <> '' AND at > ?2 AND outcome <> 'ok'",
            &[typed.into(), since.to_rfc3339().into()],
        )
        .await?;
    Err(if recent.is_some_and(|r| r.n >= LOCK_AFTER) { ErrorCode::AccountLocked } else { ErrorCode::LoginFailed }
        .into())
}

/// Counts one try and returns the failures so far including it; `None`
/// when the account is locked. One statement: it reads, decides and writes,
/// so no two attempts see the same count. A lock that has run out starts
/// the count again.
pub(crate) async fn take_a_try(db: &impl Db, id: &str, now: BeijingTime) -> ApiResult<Option<i64>> {
    let until = now.plus_minutes(LOCK_MINUTES).ok_or_else(|| ApiError::internal("lock time out of range"))?;
    #[derive(Deserialize)]
    struct Tries {
        failed_logins: i64,
    }
    let t: Option<Tries> = db
        .first_as(
            "UPDATE staff SET
                failed_logins = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END,
                locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END) >= ?3
                                    THEN ?4 ELSE NULL END
             WHERE id = ?1 AND (locked_until IS NULL OR locked_until <= ?2)
             RETURNING failed_logins",
            &[id.into(), now.to_rfc3339().into(), LOCK_AFTER.into(), until.to_rfc3339().into()],
        )
        .await?;
    Ok(t.map(|t| t.failed_logins))
}

/// The TOTP step the attempt's code matched, if its password is right too.
fn check(acc: &Account, a: &Attempt, now: BeijingTime) -> Option<i64> {
    let hash = acc.password_hash.as_deref()?;
    let secret = totp::Secret::from_base32(acc.totp_secret.as_deref()?)?;
    // Both are checked whatever the first says: the time taken tells nothing.
    let password_ok = password::verify(&a.password, hash);
    let last = acc.totp_last_step.and_then(|s| u64::try_from(s).ok());
    let step = totp::verify(&secret, &a.code, unix(now), last);
    if password_ok { step.and_then(|s| i64::try_from(s).ok()) } else { None }
}

/// The address sign-ins are counted under: an IPv6 client holds a whole
/// /64, so all of it counts as one; an IPv4 address as itself.
pub fn rate_key(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.trim().chars().take(64).collect(),
    }
}

/// Seconds since the Unix epoch.
pub fn unix(now: BeijingTime) -> u64 {
    u64::try_from(now.to_utc().timestamp()).unwrap_or(0)
}

/// Whether a password set at `changed_at` is due for a change at `now`.
pub fn change_due(changed_at: Option<&str>, now: BeijingTime) -> bool {
    changed_at
        .and_then(|c| BeijingTime::parse(c).ok())
        .is_none_or(|c| (now.to_utc() - c.to_utc()).num_days() >= PASSWORD_REMIND_DAYS)
}

pub(crate) async fn record(
    db: &impl Db,
    staff: Option<&str>,
    username: &str,
    ip: &str,
    outcome: Outcome,
    now: BeijingTime,
) -> ApiResult<()> {
    db.batch(&[history_stmt(staff, username, ip, outcome, now)]).await?;
    Ok(())
}

fn history_stmt(staff: Option<&str>, username: &str, ip: &str, outcome: Outcome, now: BeijingTime) -> Stmt {
    Stmt::new(
        "INSERT INTO staff_logins (at, staff_id, username, ip, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
        vec![now.to_rfc3339().into(), staff.into(), username.into(), ip.into(), outcome.as_str().into()],
    )
}

/// One row of an account's login history.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct LoginRow {
    pub at: String,
    pub ip: String,
    pub outcome: Outcome,
}

/// The latest 100 attempts on an account.
pub async fn history(db: &impl Db, staff_id: &str) -> ApiResult<Vec<LoginRow>> {
    db.query_as(
        "SELECT at, ip, outcome FROM staff_logins WHERE staff_id = ?1 ORDER BY id DESC LIMIT 100",
        &[staff_id.into()],
    )
    .await
}

/// Changes one's own password: the current one proves it is the holder; the
/// new one meets the policy; every other session of the account ends.
pub async fn change_password(
    db: &impl Db,
    ids: &impl IdSource,
    who: &Principal,
    current_session: &str,
    old: &str,
    new: &str,
    now: BeijingTime,
) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Row {
        username: String,
        password_hash: Option<String>,
    }
    let row: Row = db
        .first_as(
            "SELECT username, password_hash FROM staff WHERE id = ?1 AND state = 'active'",
            &[who.token_id.as_str().into()],
        )
        .await?
        .ok_or(ErrorCode::Forbidden)?;
    // A wrong current password counts against the sign-in lock and is in
    // the history: a stolen session cannot guess the password freely.
    let Some(tries) = take_a_try(db, &who.token_id, now).await? else {
        return Err(ErrorCode::AccountLocked.into());
    };
    if !row.password_hash.as_deref().is_some_and(|h| password::verify(old, h)) {
        record(db, Some(&who.token_id), &row.username, "session", Outcome::BadCredentials, now).await?;
        if tries >= LOCK_AFTER {
            return Err(ErrorCode::AccountLocked.into());
        }
        return Err(ApiError::validation(vec![FieldError::new("old_password", "当前密码不正确")]));
    }
    db.batch(&[Stmt::new(
        "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = ?1",
        vec![who.token_id.as_str().into()],
    )])
    .await?;
    password::check_policy(new, &row.username).map_err(ApiError::validation)?;
    if old == new {
        return Err(ApiError::validation(vec![FieldError::new("new_password", "新密码不能与当前密码相同")]));
    }
    let hash = password::hash(new, ids)?;
    db.batch(&[
        Stmt::new(
            "UPDATE staff SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3, failed_logins = 0,
                    locked_until = NULL WHERE id = ?1",
            vec![who.token_id.as_str().into(), hash.into(), now.to_rfc3339().into()],
        ),
        Stmt::new(
            "UPDATE staff_sessions SET revoked_at = ?3 WHERE staff_id = ?1 AND token_hash <> ?2 AND revoked_at IS NULL",
            vec![
                who.token_id.as_str().into(),
                shared::admin::hash_token(current_session).into(),
                now.to_rfc3339().into(),
            ],
        ),
    ])
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_64_however_it_writes_the_address() {
        assert_eq!(rate_key("2001:db8::1"), rate_key("2001:0db8:0:0:ffff::2"));
        assert_eq!(rate_key("2001:db8::1"), "2001:db8:0:0::/64");
        assert_ne!(rate_key("2001:db8:0:1::1"), rate_key("2001:db8::1"));
        assert_eq!(rate_key("203.0.113.7"), "203.0.113.7");
        assert_ne!(rate_key("203.0.113.7"), rate_key("203.0.113.8"));
    }
}
