//! `POST /v1/admin/billing/phone-keys:rekey` (billing_operator): holders'
//! phones sealed under an older key of `PHONE_KEYS` re-sealed under the
//! current one, up to `limit` rows a call (`scripts/rekey-phones` calls it
//! until none remain). Each write is guarded by the sealed value it read, so
//! a row an import changed meanwhile (already current) is left as it is.

use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::vault::PhoneVault;

/// Rows re-sealed by a call without `limit`.
pub const DEFAULT_LIMIT: u32 = 500;
/// Most rows re-sealed by one call: one D1 batch of updates, well inside a
/// Worker's CPU time (an AES-GCM open and seal each).
pub const MAX_LIMIT: u32 = 1_000;
/// Pages of `limit` rows read at most per call while passing rows no key
/// opens, so a call stays bounded even when many cannot be read.
const MAX_PAGES: usize = 20;

/// The optional request body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RekeyBody {
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The rows to re-seal this call: an empty body means the default.
pub fn parse_limit(bytes: &[u8]) -> ApiResult<u32> {
    let body: RekeyBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        RekeyBody::default()
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::with_message(
                ErrorCode::InvalidJson,
                format!("请求内容不是有效的 JSON 或字段类型不符（第 {} 行第 {} 列附近）", e.line(), e.column()),
            )
        })?
    };
    match body.limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) => u32::try_from(n).ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new("limit", format!("limit 应为 1 到 {MAX_LIMIT} 之间的整数"))])
        }),
    }
}

/// What a call did and what is left.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Rekeyed {
    /// The key new and re-sealed phones are under.
    pub current_kid: String,
    /// Rows re-sealed by this call.
    pub rekeyed: u64,
    /// Rows still under another key after this call (unreadable ones included).
    pub remaining: u64,
    /// Rows this call met that no key of `PHONE_KEYS` opens (skipped).
    pub unreadable: u64,
    /// Accounts imported before phones were sealed (no sealed phone).
    pub without_phone: u64,
}

#[derive(Deserialize)]
struct Sealed {
    account_no: String,
    holder_phone_enc: String,
}

#[derive(Deserialize)]
struct Counts {
    remaining: Option<u64>,
    without_phone: Option<u64>,
}

/// Re-seals up to `limit` rows under the vault's current key, in one batch
/// with its audit row (counts only).
pub async fn rekey(
    db: &impl Db,
    vault: &PhoneVault,
    ids: &impl IdSource,
    act: &Act<'_>,
    limit: u32,
) -> ApiResult<Rekeyed> {
    act.who.require(Role::BillingOperator)?;
    let current = vault.current_kid();
    let want = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut updates: Vec<Stmt> = Vec::new();
    let mut unreadable = 0u64;
    let mut after = String::new();
    for _ in 0..MAX_PAGES {
        let page: Vec<Sealed> = db
            .query_as(
                "SELECT account_no, holder_phone_enc FROM water_accounts
                 WHERE holder_phone_enc IS NOT NULL AND holder_phone_kid <> ?1 AND account_no > ?2
                 ORDER BY account_no LIMIT ?3",
                &[current.into(), after.as_str().into(), i64::from(limit).into()],
            )
            .await?;
        let full = page.len() >= want;
        for row in page {
            if updates.len() >= want {
                break;
            }
            match vault.reseal(ids, &row.holder_phone_enc, &row.account_no) {
                Ok(fresh) => updates.push(Stmt::new(
                    "UPDATE water_accounts SET holder_phone_enc = ?1, holder_phone_kid = ?2
                     WHERE account_no = ?3 AND holder_phone_enc = ?4",
                    vec![fresh.into(), current.into(), row.account_no.as_str().into(), row.holder_phone_enc.into()],
                )),
                Err(_) => unreadable += 1,
            }
            after = row.account_no;
        }
        if !full || updates.len() >= want {
            break;
        }
    }
    let mut rekeyed = 0u64;
    if !updates.is_empty() {
        let attempted = updates.len();
        let detail = serde_json::json!({ "attempted": attempted, "unreadable": unreadable });
        updates.push(audit_stmt(act.who, "billing.phones.rekey", "water_accounts", act.request_id, act.now, &detail));
        let changed = db.batch(&updates).await?;
        rekeyed = changed.iter().take(attempted).sum();
    }
    let counts: Option<Counts> = db
        .first_as(
            "SELECT sum(CASE WHEN holder_phone_enc IS NOT NULL AND holder_phone_kid <> ?1 THEN 1 ELSE 0 END) AS remaining,
                    sum(CASE WHEN holder_phone_enc IS NULL THEN 1 ELSE 0 END) AS without_phone
             FROM water_accounts",
            &[current.into()],
        )
        .await?;
    let (remaining, without_phone) =
        counts.map_or((0, 0), |c| (c.remaining.unwrap_or(0), c.without_phone.unwrap_or(0)));
    Ok(Rekeyed { current_kid: current.to_owned(), rekeyed, remaining, unreadable, without_phone })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_empty_body_takes_the_default_and_a_limit_outside_1_to_1000_is_refused() {
        assert_eq!(parse_limit(b"").unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(b" {} ").unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(br#"{"limit": 2}"#).unwrap(), 2);
        assert_eq!(parse_limit(br#"{"limit": 1000}"#).unwrap(), 1000);
        for bad in [r#"{"limit": 0}"#, r#"{"limit": 1001}"#, r#"{"limit": -1}"#] {
            let e = parse_limit(bad.as_bytes()).unwrap_err();
            assert_eq!(
                (e.code, e.fields.first().map(|f| f.field.as_str())),
                (ErrorCode::ValidationFailed, Some("limit"))
            );
        }
        assert_eq!(parse_limit(b"{").unwrap_err().code, ErrorCode::InvalidJson);
        assert_eq!(parse_limit(br#"{"size": 2}"#).unwrap_err().code, ErrorCode::InvalidJson);
    }
}
