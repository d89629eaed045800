//! A citizen's outage subscriptions (`/v1/me/outage-subscriptions`): a water
//! account bound to the citizen (its area follows the billing data) or an
//! address (an area picked directly, water or gas; gas accounts cannot be
//! bound, so gas goes by address). Notices go by SMS, so a confirmed phone is
//! required. An account's area is shown, and its notices sent, only while the
//! citizen holds the account.
//! Replying a carrier's unsubscribe word (TD, 退订) to any notice removes them all.

use crate::areas;
use crate::rules::Utility;
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::identity::{Pepper, inbox};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::{BeijingTime, MobileNumber};

/// Most subscriptions per citizen.
pub const MAX_PER_CITIZEN: usize = 20;

/// `POST /v1/me/outage-subscriptions`: exactly one of `account_no` and `area`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    pub utility: String,
    #[serde(default)]
    pub account_no: Option<String>,
    /// An area code or name (an address subscription).
    #[serde(default)]
    pub area: Option<String>,
}

/// A subscription as the citizen sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub utility: String,
    pub account_no: Option<String>,
    pub area_code: Option<String>,
    /// The area notices are computed from (for an account, its current area).
    pub area_name: Option<String>,
    pub created_at: String,
}

/// An account's area only through the citizen's binding of it (water; gas
/// accounts cannot be bound): a subscription to an account not (or no
/// longer) held shows none.
const SELECT: &str = "SELECT s.id, s.utility, s.account_no, COALESCE(s.area_code, acc.area_code) AS area_code,
        a.full_name AS area_name, s.created_at
   FROM outage_subscriptions s
   LEFT JOIN citizen_water_accounts held ON s.account_no IS NOT NULL AND s.utility = 'water'
        AND held.citizen_id = s.citizen_id AND held.account_no = s.account_no
   LEFT JOIN supply_accounts acc ON held.account_no IS NOT NULL AND acc.utility = s.utility AND acc.account_no = s.account_no
   LEFT JOIN supply_areas a ON a.code = COALESCE(s.area_code, acc.area_code)";

/// The one refusal of an account subscription, whether the account is
/// unknown, bound to nobody, bound to someone else, or a gas account: the
/// answer says nothing about an account the citizen does not hold.
pub fn account_refused() -> ApiError {
    ApiError::with_message(
        ErrorCode::NotFound,
        "只能按已绑定到您名下的水费户号订阅，请先绑定户号，或改按地址订阅（燃气请按地址订阅）",
    )
}

/// The citizen's subscriptions, newest first.
pub async fn list(db: &impl Db, citizen_id: &str) -> ApiResult<Vec<Subscription>> {
    db.query_as(&format!("{SELECT} WHERE s.citizen_id = ?1 ORDER BY s.created_at DESC, s.id"), &[citizen_id.into()])
        .await
}

async fn one(db: &impl Db, citizen_id: &str, id: &str) -> ApiResult<Option<Subscription>> {
    db.first_as(&format!("{SELECT} WHERE s.citizen_id = ?1 AND s.id = ?2"), &[citizen_id.into(), id.into()]).await
}

/// What a subscription follows: an account (its area from the billing
/// data) or an area picked directly (a code or name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target<'a> {
    Account(&'a str),
    Area(&'a str),
}

/// A valid subscribe request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wanted<'a> {
    utility: Utility,
    target: Target<'a>,
}

/// A known utility and exactly one of an account and an area (trimmed,
/// within their lengths), or every problem.
fn check(b: &SubscribeBody) -> Result<Wanted<'_>, Vec<FieldError>> {
    let mut errs = Vec::new();
    let utility = Utility::parse(&b.utility);
    if utility.is_none() {
        errs.push(FieldError::new("utility", "utility 应为 water（供水）或 gas（燃气）"));
    }
    let account = b.account_no.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let area = b.area.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if account.is_some() == area.is_some() {
        errs.push(FieldError::new("account_no", "请填写户号（account_no）或地址区域（area）中的一项"));
    }
    if account.is_some_and(|a| a.chars().count() > 32) {
        errs.push(FieldError::new("account_no", "户号最长32位"));
    }
    if area.is_some_and(|a| a.chars().count() > 50) {
        errs.push(FieldError::new("area", "区域最长50个字"));
    }
    match (utility, account, area) {
        (Some(utility), Some(acc), None) if errs.is_empty() => Ok(Wanted { utility, target: Target::Account(acc) }),
        (Some(utility), None, Some(a)) if errs.is_empty() => Ok(Wanted { utility, target: Target::Area(a) }),
        _ => Err(errs),
    }
}

/// The citizen, as far as subscribing goes.
#[derive(Debug, Clone, Deserialize)]
struct Me {
    has_phone: i64,
    subs: i64,
}

/// Only a citizen still signed up, with a confirmed phone and fewer than
/// [`MAX_PER_CITIZEN`] subscriptions, may add one.
fn admit(me: Option<&Me>) -> ApiResult<()> {
    match me {
        None => Err(ErrorCode::SessionRevoked.into()),
        Some(m) if m.has_phone == 0 => Err(ErrorCode::PhoneRequired.into()),
        Some(m) if m.subs >= MAX_PER_CITIZEN as i64 => {
            Err(ApiError::bad_field("utility", format!("每人最多订阅{MAX_PER_CITIZEN}项")))
        }
        Some(_) => Ok(()),
    }
}

/// The area code stored with a subscription: none for an account (which
/// must be a water account bound to the citizen and in the billing data;
/// anything else gets [`account_refused`]), the resolved code for an area.
async fn area_code(db: &impl Db, citizen_id: &str, w: &Wanted<'_>) -> ApiResult<Option<String>> {
    match w.target {
        Target::Account(_) if w.utility != Utility::Water => Err(account_refused()),
        Target::Account(acc) => {
            let held: Option<serde_json::Value> = db
                .first_as(
                    "SELECT acc.area_code FROM citizen_water_accounts held
                       JOIN supply_accounts acc ON acc.utility = ?3 AND acc.account_no = held.account_no
                      WHERE held.citizen_id = ?1 AND held.account_no = ?2",
                    &[citizen_id.into(), acc.into(), Utility::Water.as_str().into()],
                )
                .await?;
            match held {
                Some(_) => Ok(None),
                None => Err(account_refused()),
            }
        }
        Target::Area(a) => match areas::resolve(db, "area", &[a.to_owned()]).await? {
            Ok(found) => Ok(found.into_iter().next().map(|r| r.code)),
            Err(errs) => Err(ApiError::validation(errs)),
        },
    }
}

/// Subscribes; the same subscription again returns the first (`false`).
pub async fn subscribe(
    db: &impl Db,
    ids: &impl IdSource,
    citizen_id: &str,
    b: &SubscribeBody,
    now: BeijingTime,
) -> ApiResult<(Subscription, bool)> {
    let w = check(b).map_err(ApiError::validation)?;
    let me: Option<Me> = db
        .first_as(
            "SELECT phone IS NOT NULL AS has_phone,
                    (SELECT COUNT(*) FROM outage_subscriptions WHERE citizen_id = ?1) AS subs
               FROM citizens WHERE id = ?1 AND deleted_at IS NULL",
            &[citizen_id.into()],
        )
        .await?;
    admit(me.as_ref())?;
    let area_code = area_code(db, citizen_id, &w).await?;
    let account = match w.target {
        Target::Account(acc) => Some(acc),
        Target::Area(_) => None,
    };
    let id = format!("SUB{}", ids.hex(8)?.to_uppercase());
    let changed = db
        .batch(&[
            Stmt::new(
                "INSERT OR IGNORE INTO outage_subscriptions (id, citizen_id, utility, account_no, area_code, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                vec![
                    id.as_str().into(),
                    citizen_id.into(),
                    w.utility.as_str().into(),
                    account.map(str::to_owned).into(),
                    area_code.clone().into(),
                    now.to_rfc3339().into(),
                ],
            ),
            // Subscribing again is asking for the notices: a TD reply of this phone no longer holds.
            Stmt::new(
                "DELETE FROM sms_optouts WHERE phone_hash = (SELECT phone_hash FROM citizens WHERE id = ?1)",
                vec![citizen_id.into()],
            ),
        ])
        .await?;
    let added = changed.first().copied().unwrap_or(0);
    let found: Option<Subscription> = db
        .first_as(
            &format!(
                "{SELECT} WHERE s.citizen_id = ?1 AND s.utility = ?2 AND COALESCE(s.account_no, '') = ?3
                   AND COALESCE(s.area_code, '') = ?4"
            ),
            &[
                citizen_id.into(),
                w.utility.as_str().into(),
                account.unwrap_or_default().into(),
                area_code.unwrap_or_default().into(),
            ],
        )
        .await?;
    let sub = found.ok_or_else(|| ApiError::internal("subscription not found after insert"))?;
    Ok((sub, added > 0))
}

/// Removes one of the citizen's subscriptions.
pub async fn delete(db: &impl Db, citizen_id: &str, id: &str) -> ApiResult<()> {
    if one(db, citizen_id, id).await?.is_none() {
        return Err(ApiError::with_message(ErrorCode::NotFound, "未找到该订阅"));
    }
    db.execute("DELETE FROM outage_subscriptions WHERE citizen_id = ?1 AND id = ?2", &[citizen_id.into(), id.into()])
        .await?;
    Ok(())
}

/// One SMS uplink (Aliyun SmsUp, pushed as a JSON array).
#[derive(Debug, Clone, Deserialize)]
pub struct Uplink {
    pub phone_number: String,
    pub content: String,
    #[serde(default)]
    pub send_time: Option<String>,
    #[serde(default)]
    pub sign_name: Option<String>,
    #[serde(default)]
    pub dest_code: Option<String>,
    #[serde(default)]
    pub sequence_id: Option<serde_json::Value>,
}

/// The carriers' unsubscribe words only: `TD` and `退订`, in any case and
/// width (ＴＤ), trimmed of spaces and punctuation around them. Other
/// replies (T, N, 取消 meant for a booking) are not.
pub fn is_unsubscribe(content: &str) -> bool {
    let narrow: String = content.chars().map(narrow_char).collect();
    let c = narrow.trim().trim_matches(|ch: char| ch.is_ascii_punctuation() || ch == '。').to_ascii_uppercase();
    matches!(c.as_str(), "TD" | "退订")
}

/// A full-width form (U+FF01-U+FF5E) as its ASCII letter, the ideographic
/// space as a space; other characters unchanged.
fn narrow_char(ch: char) -> char {
    match u32::from(ch) {
        0x3000 => ' ',
        code @ 0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(ch),
        _ => ch,
    }
}

/// Applies the unsubscribe replies: the number is opted out of outage SMS
/// (a billing holder who never used the mini-program included), the
/// sender's subscriptions are removed and the inbox says so. Other replies
/// are ignored. Returns how many numbers were opted out.
pub async fn apply_uplinks(
    db: &impl Db,
    pepper: &Pepper,
    ids: &impl IdSource,
    ups: &[Uplink],
    now: BeijingTime,
) -> ApiResult<usize> {
    let mut done = 0;
    for up in ups.iter().filter(|u| is_unsubscribe(&u.content)) {
        let Ok(phone) = MobileNumber::parse(&up.phone_number) else { continue };
        #[derive(Deserialize)]
        struct Who {
            id: String,
            subs: i64,
        }
        let hash = pepper.phone_hash(&phone);
        // Whoever replied, subscriber or billing holder: no further outage SMS.
        let opt_out = Stmt::new(
            "INSERT INTO sms_optouts (phone_hash, at) VALUES (?1, ?2) ON CONFLICT (phone_hash) DO NOTHING",
            vec![hash.as_str().into(), now.to_rfc3339().into()],
        );
        let who: Option<Who> = db
            .first_as(
                "SELECT id, (SELECT COUNT(*) FROM outage_subscriptions s WHERE s.citizen_id = c.id) AS subs
                   FROM citizens c WHERE phone_hash = ?1",
                &[hash.as_str().into()],
            )
            .await?;
        let Some(who) = who.filter(|w| w.subs > 0) else {
            db.batch(&[opt_out]).await?;
            done += 1;
            continue;
        };
        let stmts: Vec<Stmt> = vec![
            opt_out,
            Stmt::new("DELETE FROM outage_subscriptions WHERE citizen_id = ?1", vec![who.id.as_str().into()]),
            inbox::post_stmt(
                ids,
                &who.id,
                "outage",
                "已退订停水停气短信提醒",
                "您已通过短信回复退订停水停气提醒，如需继续接收，请在小程序中重新订阅。",
                Some("/v1/me/outage-subscriptions"),
                now,
            )?,
        ];
        db.batch(&stmts).await?;
        done += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn body(v: serde_json::Value) -> SubscribeBody {
        serde_json::from_value(v).unwrap()
    }

    fn fields(b: &SubscribeBody) -> Vec<String> {
        check(b).unwrap_err().into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_subscription_names_a_utility_and_exactly_one_of_an_account_and_an_area() {
        let b = body(serde_json::json!({"utility": "gas", "account_no": " G1 "}));
        assert_eq!(check(&b), Ok(Wanted { utility: Utility::Gas, target: Target::Account("G1") }));
        let b = body(serde_json::json!({"utility": "water", "area": "宾王小区", "account_no": "  "}));
        assert_eq!(check(&b), Ok(Wanted { utility: Utility::Water, target: Target::Area("宾王小区") }));
        assert_eq!(fields(&body(serde_json::json!({"utility": "water"}))), ["account_no"]);
        let both = body(serde_json::json!({"utility": "power", "account_no": "W".repeat(33), "area": "bw"}));
        assert_eq!(fields(&both), ["utility", "account_no", "account_no"]);
        assert_eq!(fields(&body(serde_json::json!({"utility": "gas", "area": "区".repeat(51)}))), ["area"]);
    }

    #[test]
    fn only_the_carriers_words_unsubscribe_in_any_case_or_width() {
        for yes in ["TD", "td", " Td ", "ＴＤ", "ｔｄ", "\u{3000}TD。", "退订", " 退订。", "TD!"] {
            assert!(is_unsubscribe(yes), "{yes:?}");
        }
        for no in ["T", "N", "n", "取消", "取消订阅", "TDX", "退订吗", "", "好的"] {
            assert!(!is_unsubscribe(no), "{no:?}");
        }
    }

    #[test]
    fn only_a_citizen_with_a_phone_and_room_for_more_may_subscribe() {
        let me = |has_phone, subs| Me { has_phone, subs };
        assert_eq!(admit(None).unwrap_err().code, ErrorCode::SessionRevoked);
        assert_eq!(admit(Some(&me(0, 0))).unwrap_err().code, ErrorCode::PhoneRequired);
        let full = admit(Some(&me(1, MAX_PER_CITIZEN as i64))).unwrap_err();
        assert_eq!(full.fields.first().map(|f| f.field.as_str()), Some("utility"));
        assert!(admit(Some(&me(1, MAX_PER_CITIZEN as i64 - 1))).is_ok());
    }
}
