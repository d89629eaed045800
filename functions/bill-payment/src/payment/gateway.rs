//! The providers' APIs we call: WeChat Pay APIv3 (JSAPI prepay, order query)
//! and the Alipay open gateway (app-pay order string, `alipay.trade.query`).
//! Requests are signed with the merchant key; answers are verified with the
//! provider's key before anything in them is believed. Base URLs are
//! configuration, so tests point them at local fakes.

use super::alipay;
use super::keys::PayError;
use super::wechatpay::{Keyring, Merchant, Transaction};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Deserialize;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::outbound::{Http, HttpRequest, HttpResponse};

/// 503 `payment_unavailable`, the detail kept for the log.
pub fn unavailable(detail: String) -> ApiError {
    ApiError { internal: Some(detail), ..ErrorCode::PaymentUnavailable.into() }
}

fn pay_err(what: &str, e: &PayError) -> ApiError {
    unavailable(format!("{what}: {e:?}"))
}

/// WeChat Pay APIv3 for one merchant.
pub struct WechatPayApi<'a, H: Http> {
    pub http: &'a H,
    /// `https://api.mch.weixin.qq.com` in production.
    pub base: String,
    pub merchant: Merchant,
    pub keyring: Keyring,
    pub notify_url: String,
}

/// What a JSAPI prepay needs.
pub struct PrepayOrder<'a> {
    pub out_trade_no: &'a str,
    pub description: &'a str,
    pub amount_fen: i64,
    pub openid: &'a str,
    /// RFC 3339 with offset.
    pub time_expire: &'a str,
}

impl<H: Http> WechatPayApi<'_, H> {
    async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<String>,
        now: i64,
        nonce: &str,
    ) -> ApiResult<HttpResponse> {
        let text = body.clone().unwrap_or_default();
        let auth = self.merchant.authorization(method, path, now, nonce, &text).map_err(|e| pay_err("sign", &e))?;
        let mut headers = vec![
            ("authorization".to_owned(), auth),
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), "bianmin/0.1".to_owned()),
        ];
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        let req = HttpRequest { method, url: format!("{}{path}", self.base.trim_end_matches('/')), headers, body };
        let resp = self.http.send(req).await.map_err(|e| unavailable(format!("wechatpay {path}: {e:?}")))?;
        if resp.status >= 500 {
            return Err(unavailable(format!("wechatpay {path}: HTTP {}", resp.status)));
        }
        Ok(resp)
    }

    /// Every 2xx answer is signed like a notification; believe none that does not verify.
    fn verify_answer(&self, resp: &HttpResponse, now: i64) -> ApiResult<()> {
        let h = |n: &str| resp.header(n).unwrap_or_default().to_owned();
        let headers = super::wechatpay::SignatureHeaders {
            timestamp: h("wechatpay-timestamp"),
            nonce: h("wechatpay-nonce"),
            signature: h("wechatpay-signature"),
            serial: h("wechatpay-serial"),
        };
        super::wechatpay::verify(&headers, &resp.body, now, |s| self.keyring.key(s))
            .map_err(|e| pay_err("wechatpay answer", &e))
    }

    /// `POST /v3/pay/transactions/jsapi`: the prepay id.
    pub async fn prepay(&self, o: &PrepayOrder<'_>, now: i64, nonce: &str) -> ApiResult<String> {
        let body = serde_json::json!({
            "appid": self.merchant.appid, "mchid": self.merchant.mchid, "description": o.description,
            "out_trade_no": o.out_trade_no, "time_expire": o.time_expire, "notify_url": self.notify_url,
            "amount": {"total": o.amount_fen, "currency": "CNY"}, "payer": {"openid": o.openid},
        })
        .to_string();
        let resp = self.call("POST", "/v3/pay/transactions/jsapi", Some(body), now, nonce).await?;
        if resp.status != 200 {
            return Err(unavailable(format!("wechatpay prepay: HTTP {} {}", resp.status, resp.body)));
        }
        self.verify_answer(&resp, now)?;
        #[derive(Deserialize)]
        struct Prepay {
            prepay_id: String,
        }
        serde_json::from_str::<Prepay>(&resp.body)
            .map(|p| p.prepay_id)
            .map_err(|e| unavailable(format!("wechatpay prepay answer: {e}")))
    }

    /// `GET /v3/pay/transactions/out-trade-no/{no}`; `None` when WeChat Pay
    /// does not know the order (`ORDER_NOT_EXIST`).
    pub async fn query(&self, out_trade_no: &str, now: i64, nonce: &str) -> ApiResult<Option<(Transaction, String)>> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            shared::outbound::percent_encode(out_trade_no),
            shared::outbound::percent_encode(&self.merchant.mchid)
        );
        let resp = self.call("GET", &path, None, now, nonce).await?;
        if resp.status == 404 {
            return Ok(None);
        }
        if resp.status != 200 {
            return Err(unavailable(format!("wechatpay query: HTTP {} {}", resp.status, resp.body)));
        }
        self.verify_answer(&resp, now)?;
        let t = serde_json::from_str::<Transaction>(&resp.body)
            .map_err(|e| unavailable(format!("wechatpay query answer: {e}")))?;
        Ok(Some((t, resp.body)))
    }
}

/// The Alipay open gateway for one app.
pub struct AlipayApi<'a, H: Http> {
    pub http: &'a H,
    /// `https://openapi.alipay.com/gateway.do` in production.
    pub gateway: String,
    pub app_id: String,
    /// The merchant's PID (`seller_id` in notifications).
    pub seller_id: String,
    pub app_key: RsaPrivateKey,
    pub alipay_key: RsaPublicKey,
    pub notify_url: String,
}

/// A trade as `alipay.trade.query` reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct AlipayTrade {
    pub code: String,
    #[serde(default)]
    pub sub_code: Option<String>,
    #[serde(default)]
    pub out_trade_no: Option<String>,
    #[serde(default)]
    pub trade_no: Option<String>,
    #[serde(default)]
    pub trade_status: Option<String>,
    #[serde(default)]
    pub total_amount: Option<String>,
}

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

impl<H: Http> AlipayApi<'_, H> {
    fn common(&self, method: &str, now: &str, biz: serde_json::Value) -> Vec<(String, String)> {
        vec![
            p("app_id", self.app_id.as_str()),
            p("method", method),
            p("format", "JSON"),
            p("charset", "utf-8"),
            p("sign_type", "RSA2"),
            p("timestamp", now),
            p("version", "1.0"),
            p("biz_content", biz.to_string()),
        ]
    }

    /// The signed order string the mini-program hands to Alipay
    /// (`alipay.trade.app.pay`); `now` is `yyyy-MM-dd HH:mm:ss` Beijing time.
    pub fn order_string(
        &self,
        out_trade_no: &str,
        amount: &str,
        subject: &str,
        time_expire: &str,
        now: &str,
    ) -> ApiResult<String> {
        let biz = serde_json::json!({
            "out_trade_no": out_trade_no, "total_amount": amount, "subject": subject,
            "product_code": "QUICK_MSECURITY_PAY", "time_expire": time_expire,
        });
        let mut params = self.common("alipay.trade.app.pay", now, biz);
        params.push(p("notify_url", self.notify_url.as_str()));
        let signed = alipay::signed(&self.app_key, params).map_err(|e| pay_err("alipay sign", &e))?;
        Ok(alipay::encode(&signed))
    }

    /// `alipay.trade.query`; `None` when Alipay does not know the trade
    /// (`ACQ.TRADE_NOT_EXIST`: the citizen never opened the payment).
    pub async fn query(&self, out_trade_no: &str, now: &str) -> ApiResult<Option<(AlipayTrade, String)>> {
        let params = self.common("alipay.trade.query", now, serde_json::json!({ "out_trade_no": out_trade_no }));
        let signed = alipay::signed(&self.app_key, params).map_err(|e| pay_err("alipay sign", &e))?;
        let req = HttpRequest {
            method: "POST",
            url: self.gateway.clone(),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded;charset=utf-8".into())],
            body: Some(alipay::encode(&signed)),
        };
        let resp = self.http.send(req).await.map_err(|e| unavailable(format!("alipay query: {e:?}")))?;
        if resp.status != 200 {
            return Err(unavailable(format!("alipay query: HTTP {}", resp.status)));
        }
        const NODE: &str = "alipay_trade_query_response";
        let node =
            alipay::response_node(&resp.body, NODE).ok_or_else(|| unavailable("alipay query: no node".into()))?;
        let trade: AlipayTrade =
            serde_json::from_str(node).map_err(|e| unavailable(format!("alipay query answer: {e}")))?;
        if trade.sub_code.as_deref() == Some("ACQ.TRADE_NOT_EXIST") {
            return Ok(None);
        }
        if trade.code != "10000" {
            return Err(unavailable(format!("alipay query: code {} {:?}", trade.code, trade.sub_code)));
        }
        alipay::verify_response(&self.alipay_key, &resp.body, NODE).map_err(|e| pay_err("alipay answer", &e))?;
        Ok(Some((trade, node.to_owned())))
    }
}
