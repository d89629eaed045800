//! From a provider's bytes to a verified [`Report`]: WeChat Pay's JSON
//! notification (verified on the raw body before anything is parsed, then
//! decrypted) and Alipay's form notification, plus the same reports from the
//! order-query answers. A refusal carries a short reason for the event log.

use crate::orders::Provider;
use crate::payment::gateway::AlipayTrade;
use crate::payment::wechatpay::{self, Keyring, SignatureHeaders, Transaction};
use crate::payment::{PayError, alipay};
use crate::settlement::{Channel, Report};
use rsa::RsaPublicKey;
use shared::types::Fen;

/// Why a notification was refused (the event log's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

impl Refusal {
    fn from_pay(e: &PayError) -> Self {
        Self(match e {
            PayError::Malformed(_) => "malformed",
            PayError::Stale => "stale",
            PayError::BadSignature => "bad_signature",
            PayError::Undecryptable => "undecryptable",
            PayError::BadKey => "bad_key",
        })
    }

    /// The message answered to the provider.
    pub fn message(self) -> &'static str {
        match self.0 {
            "missing_headers" => "缺少微信支付签名头",
            "probe" | "bad_signature" => "签名验证失败",
            "stale" => "通知时间戳超出5分钟有效期",
            "undecryptable" => "通知内容解密失败",
            "bad_key" => "商户配置错误",
            "duplicate_key" => "通知参数重复",
            _ => "通知格式不正确",
        }
    }
}

/// Our WeChat Pay identity, for checking a notification.
pub struct WechatCheck<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub keyring: &'a Keyring,
    pub apiv3_key: &'a [u8],
}

/// Verifies (probe, replay window, signature on the raw body), then parses
/// and decrypts a WeChat Pay notification.
pub fn wechat(c: &WechatCheck<'_>, h: Option<SignatureHeaders>, body: &str, now_unix: i64) -> Result<Report, Refusal> {
    let h = h.ok_or(Refusal("missing_headers"))?;
    if h.signature.trim_start().starts_with(wechatpay::PROBE_PREFIX) {
        return Err(Refusal("probe"));
    }
    wechatpay::verify(&h, body, now_unix, |s| c.keyring.key(s)).map_err(|e| Refusal::from_pay(&e))?;
    let n: wechatpay::Notification = serde_json::from_str(body).map_err(|_| Refusal("malformed"))?;
    let plain = wechatpay::decrypt(c.apiv3_key, &n.resource).map_err(|e| Refusal::from_pay(&e))?;
    let t: Transaction = serde_json::from_str(&plain).map_err(|_| Refusal("malformed"))?;
    Ok(wechat_report(c, &t, Channel::Notify))
}

/// A report from a WeChat Pay transaction (notification or order query).
pub fn wechat_report(c: &WechatCheck<'_>, t: &Transaction, channel: Channel) -> Report {
    Report {
        provider: Provider::Wechatpay,
        channel,
        out_trade_no: t.out_trade_no.clone(),
        provider_trade_no: t.transaction_id.clone().unwrap_or_default(),
        state: t.trade_state.clone(),
        paid: t.trade_state == "SUCCESS",
        closed: t.trade_state == "CLOSED" || t.trade_state == "REVOKED",
        amount_fen: t.amount.as_ref().map(|a| a.total),
        merchant_ok: t.appid == c.appid && t.mchid == c.mchid,
        paid_at: t.success_time.clone(),
    }
}

/// Our Alipay identity, for checking a notification.
pub struct AlipayCheck<'a> {
    pub app_id: &'a str,
    pub seller_id: &'a str,
    pub alipay_key: &'a RsaPublicKey,
}

/// Whether a form names some key twice (`a=&a=1`): such a notification is
/// refused, never read "first wins" (Alipay signs no empty value, so an
/// empty duplicate leaves the signature valid while changing what is read).
pub fn has_duplicate_key(params: &[(String, String)]) -> bool {
    let mut seen = std::collections::HashSet::new();
    params.iter().any(|(k, _)| !seen.insert(k.as_str()))
}

/// Verifies an Alipay notification (RSA2 over the sorted parameters) and reads it.
pub fn alipay(c: &AlipayCheck<'_>, params: &[(String, String)]) -> Result<Report, Refusal> {
    if has_duplicate_key(params) {
        return Err(Refusal("duplicate_key"));
    }
    alipay::verify(c.alipay_key, params).map_err(|e| Refusal::from_pay(&e))?;
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let otn = get("out_trade_no");
    if otn.is_empty() {
        return Err(Refusal("malformed"));
    }
    let seller_ok = c.seller_id.is_empty() || get("seller_id") == c.seller_id;
    Ok(alipay_report(
        Provider::Alipay,
        otn,
        get("trade_no"),
        get("trade_status"),
        get("total_amount"),
        get("app_id") == c.app_id && seller_ok,
        Some(get("gmt_payment")).filter(|s| !s.is_empty()).map(alipay_time),
    ))
}

/// A report from an `alipay.trade.query` answer (already verified).
pub fn alipay_query_report(t: &AlipayTrade) -> Report {
    let mut r = alipay_report(
        Provider::Alipay,
        t.out_trade_no.as_deref().unwrap_or_default(),
        t.trade_no.as_deref().unwrap_or_default(),
        t.trade_status.as_deref().unwrap_or_default(),
        t.total_amount.as_deref().unwrap_or_default(),
        true,
        None,
    );
    r.channel = Channel::Query;
    r
}

fn alipay_report(
    provider: Provider,
    otn: &str,
    trade_no: &str,
    status: &str,
    amount: &str,
    merchant_ok: bool,
    paid_at: Option<String>,
) -> Report {
    Report {
        provider,
        channel: Channel::Notify,
        out_trade_no: otn.to_owned(),
        provider_trade_no: trade_no.to_owned(),
        state: status.to_owned(),
        paid: status == "TRADE_SUCCESS" || status == "TRADE_FINISHED",
        closed: status == "TRADE_CLOSED",
        amount_fen: Fen::parse_yuan(amount).ok().map(Fen::get),
        merchant_ok,
        paid_at,
    }
}

/// Alipay writes `2026-11-23 10:00:00` in Beijing time; stored with its offset.
fn alipay_time(raw: &str) -> String {
    let t = raw.trim().replacen(' ', "T", 1);
    if t.len() == 19 { format!("{t}+08:00") } else { raw.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_form_naming_a_key_twice_is_caught_even_with_an_empty_value() {
        assert!(has_duplicate_key(&form(&[
            ("trade_status", ""),
            ("out_trade_no", "A1"),
            ("trade_status", "TRADE_SUCCESS")
        ])));
        assert!(!has_duplicate_key(&form(&[("trade_status", "TRADE_SUCCESS"), ("out_trade_no", "A1")])));
    }
}
