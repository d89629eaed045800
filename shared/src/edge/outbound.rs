//! `fetch` as an [`Http`].

use crate::error::{ApiError, ApiResult};
use crate::outbound::{Http, HttpRequest, HttpResponse};
use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Outbound HTTP through the Workers `fetch`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FetchHttp;

impl Http for FetchHttp {
    async fn send(&self, req: HttpRequest) -> ApiResult<HttpResponse> {
        let fail =
            |e: worker::Error| ApiError::internal(format!("fetch {}: {e}", req.url.split('?').next().unwrap_or("")));
        let headers = Headers::new();
        for (k, v) in &req.headers {
            headers.set(k, v).map_err(fail)?;
        }
        let mut init = RequestInit::new();
        init.with_method(if req.method == "POST" { Method::Post } else { Method::Get }).with_headers(headers);
        if let Some(body) = &req.body {
            init.with_body(Some(JsValue::from_str(body)));
        }
        let request = Request::new_with_init(&req.url, &init).map_err(fail)?;
        let mut resp = Fetch::Request(request).send().await.map_err(fail)?;
        let headers = resp.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        let body = resp.text().await.map_err(fail)?;
        Ok(HttpResponse { status: resp.status_code(), body, headers })
    }
}

/// The Aliyun SMS client from the worker's configuration (`SMS_API_BASE`,
/// `ALIYUN_ACCESS_KEY_ID`, `ALIYUN_ACCESS_KEY_SECRET`, `SMS_SIGN_NAME`, `SMS_REGION`).
pub fn aliyun_sms(env: &worker::Env) -> ApiResult<crate::sms::aliyun::AliyunSms<'static, FetchHttp>> {
    Ok(crate::sms::aliyun::AliyunSms {
        http: &FetchHttp,
        endpoint: super::config::required(env, "SMS_API_BASE")?,
        access_key_id: super::config::required(env, "ALIYUN_ACCESS_KEY_ID")?,
        access_key_secret: super::config::required(env, "ALIYUN_ACCESS_KEY_SECRET")?,
        sign_name: super::config::required(env, "SMS_SIGN_NAME")?,
        region: super::config::config(env, "SMS_REGION").unwrap_or_else(|| "cn-hangzhou".into()),
    })
}

/// The HMAC key of phones and codes (`IDENTITY_PEPPER`).
pub fn pepper(env: &worker::Env) -> ApiResult<crate::crypto::Pepper> {
    super::config::required(env, "IDENTITY_PEPPER").map(crate::crypto::Pepper::new)
}

/// The phone vault of billing holders' phones (`PHONE_KEYS`, see [`crate::vault`]).
pub fn phone_vault(env: &worker::Env) -> ApiResult<crate::vault::PhoneVault> {
    let keys = super::config::required(env, "PHONE_KEYS")?;
    crate::vault::PhoneVault::parse(&keys).map_err(|e| ApiError::internal(format!("configuration: {e}")))
}

/// The 订阅消息 client and templates when the mini-program is configured
/// (`WECHAT_TEMPLATES` with a template for `purpose`, `WECHAT_API_BASE`,
/// `WECHAT_APPID`, `WECHAT_SECRET`); `None` means the notice goes by its
/// other channels only.
pub fn wechat<'a>(
    env: &worker::Env,
    kv: &'a super::storage::WorkersKv,
    purpose: crate::wechat_notify::Purpose,
) -> Option<(crate::wechat_notify::WeChatApp<'a, FetchHttp, super::storage::WorkersKv>, crate::wechat_notify::Templates)>
{
    let cfg = |name| super::config::config(env, name);
    let templates = crate::wechat_notify::Templates::parse(&cfg("WECHAT_TEMPLATES")?).ok()?;
    templates.id_for(purpose)?;
    let app = crate::wechat_notify::WeChatApp::new(
        &FetchHttp,
        kv,
        &cfg("WECHAT_API_BASE")?,
        &cfg("WECHAT_APPID")?,
        &cfg("WECHAT_SECRET")?,
    );
    Some((app, templates))
}
