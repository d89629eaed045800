//! The form filled in ahead (003 §5.1 网上申请: 自动填充 from what the
//! service already knows): the citizen's profile, the water accounts they
//! bound, and their latest filed application of the same item (else of any
//! item). Each field says where it came from, so the mini-program can show
//! it; the citizen changes what is wrong before submitting.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use shared::error::ApiResult;
use shared::store::Db;

/// A bound water account, as the form offers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub account_no: String,
    pub address: String,
}

/// The prefilled form and where each field came from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Prefill {
    pub form: Map<String, Json>,
    /// field → 个人资料 / 已绑定户号 / 上次申请
    pub sources: Map<String, Json>,
    pub water_accounts: Vec<Account>,
}

#[derive(Deserialize)]
struct ProfileRow {
    email: Option<String>,
    mailing_address: Option<String>,
}

#[derive(Deserialize)]
struct FormRow {
    form: String,
}

/// What is known, merged (pure): the last application's fields first, then
/// the bound account (when there is exactly one), then the profile, each
/// later source winning for the fields it knows (the freshest data).
pub fn merge(
    last: Option<&Map<String, Json>>,
    accounts: &[Account],
    email: Option<&str>,
    address: Option<&str>,
) -> Prefill {
    let mut form = Map::new();
    let mut sources = Map::new();
    let mut set = |k: &str, v: &str, from: &str| {
        if !v.trim().is_empty() {
            form.insert(k.to_owned(), Json::String(v.to_owned()));
            sources.insert(k.to_owned(), Json::String(from.to_owned()));
        }
    };
    for (k, v) in last.into_iter().flatten() {
        if let Some(text) = v.as_str() {
            set(k, text, "上次申请");
        }
    }
    if let [only] = accounts {
        set("户号", &only.account_no, "已绑定户号");
        set("用水地址", &only.address, "已绑定户号");
    }
    set("联系地址", address.unwrap_or_default(), "个人资料");
    set("电子邮箱", email.unwrap_or_default(), "个人资料");
    Prefill { form, sources, water_accounts: accounts.to_vec() }
}

/// Reads what is known of `citizen` for applying for `item_code`.
pub async fn load(db: &impl Db, citizen: &str, item_code: &str) -> ApiResult<Prefill> {
    let profile: Option<ProfileRow> =
        db.first_as("SELECT email, mailing_address FROM citizens WHERE id = ?1", &[citizen.into()]).await?;
    let accounts: Vec<Account> = db
        .query_as(
            "SELECT w.account_no AS account_no, w.address AS address FROM citizen_water_accounts c
             JOIN water_accounts w ON w.account_no = c.account_no WHERE c.citizen_id = ?1 ORDER BY c.bound_at LIMIT 20",
            &[citizen.into()],
        )
        .await?;
    let last: Option<FormRow> = db
        .first_as(
            "SELECT form FROM applications WHERE citizen_id = ?1 AND status <> 'draft'
             ORDER BY item_code = ?2 DESC, updated_at DESC LIMIT 1",
            &[citizen.into(), item_code.into()],
        )
        .await?;
    let last: Option<Map<String, Json>> = last.and_then(|r| serde_json::from_str(&r.form).ok());
    let p = profile.unwrap_or(ProfileRow { email: None, mailing_address: None });
    Ok(merge(last.as_ref(), &accounts, p.email.as_deref(), p.mailing_address.as_deref()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_freshest_source_wins_and_each_field_says_where_it_came_from() {
        let last = json!({"联系地址": "旧地址", "用水人数": "3", "户号": "111"});
        let one = [Account { account_no: "20261001".into(), address: "稠城街道1号".into() }];
        let p = merge(last.as_object(), &one, None, Some("新地址"));
        assert_eq!(p.form["联系地址"], "新地址");
        assert_eq!(p.sources["联系地址"], "个人资料");
        assert_eq!((p.form["户号"].as_str(), p.sources["户号"].as_str()), (Some("20261001"), Some("已绑定户号")));
        assert_eq!(p.sources["用水人数"], "上次申请");
        assert!(!p.form.contains_key("电子邮箱"), "nothing invented");
        let two = [one[0].clone(), Account { account_no: "20261002".into(), address: "x".into() }];
        let p = merge(None, &two, None, None);
        assert!(!p.form.contains_key("户号"), "two accounts: the citizen chooses");
        assert_eq!(p.water_accounts.len(), 2);
    }
}
