//! The payment providers from the worker's configuration. A provider that
//! is not configured answers 503 `payment_unavailable` (logged with the
//! missing name), never a guess. The merchant identities notifications are
//! checked against (`WECHATPAY_MCHID`, `ALIPAY_SELLER_ID`) are required
//! everywhere but a `development` runtime, so production never accepts a
//! notification with a check left out.

use crate::notify::{AlipayCheck, WechatCheck};
use crate::orders::Provider;
use crate::payment::gateway::{AlipayApi, WechatPayApi, unavailable};
use crate::payment::wechatpay::{Keyring, Merchant};
use crate::payment::{PayError, public_key, sign::private_key};
use shared::edge::{self as e, FetchHttp};
use shared::{ApiError, ApiResult};
use worker::Env;

fn need(env: &Env, name: &str) -> ApiResult<String> {
    e::config(env, name).ok_or_else(|| unavailable(format!("configuration {name} is not set")))
}

/// Whether this runtime is a developer's (`ENVIRONMENT=development`, as
/// scripts/dev and the tests set it): only there may `ALIPAY_SELLER_ID` be
/// left out (the seller is then not compared). Unset counts as production.
fn development(env: &Env) -> bool {
    e::config(env, "ENVIRONMENT").as_deref() == Some("development")
}

fn key_err(name: &str) -> impl Fn(PayError) -> ApiError + '_ {
    move |_| unavailable(format!("configuration {name} is not a readable key"))
}

fn notify_url(env: &Env, provider: Provider) -> ApiResult<String> {
    Ok(format!("{}/v1/payments/{provider}/notify", need(env, "PUBLIC_BASE_URL")?.trim_end_matches('/')))
}

/// WeChat Pay's configuration. Checking a notification needs only the
/// keyring and the APIv3 key; the merchant's private key is read only to
/// call WeChat Pay ([`Wechat::api`]), not on every notification.
pub struct Wechat {
    appid: String,
    mchid: String,
    serial: String,
    merchant_key_text: String,
    apiv3_key: Vec<u8>,
    keyring: Keyring,
    base: String,
    notify_url: String,
}

impl Wechat {
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        let apiv3 = need(env, "WECHATPAY_APIV3_KEY")?;
        if apiv3.len() != 32 {
            return Err(unavailable("WECHATPAY_APIV3_KEY must be 32 bytes".into()));
        }
        let certs = e::config(env, "WECHATPAY_PLATFORM_CERTS");
        let pubkey = e::config(env, "WECHATPAY_PUBLIC_KEY_ID").zip(e::config(env, "WECHATPAY_PUBLIC_KEY"));
        let keyring = Keyring::new(certs.as_deref(), pubkey.as_ref().map(|(i, k)| (i.as_str(), k.as_str())))
            .map_err(key_err("WECHATPAY_PLATFORM_CERTS / WECHATPAY_PUBLIC_KEY"))?;
        Ok(Self {
            appid: need(env, "WECHAT_APPID")?,
            mchid: need(env, "WECHATPAY_MCHID")?,
            serial: need(env, "WECHATPAY_MERCHANT_SERIAL")?,
            merchant_key_text: need(env, "WECHATPAY_MERCHANT_KEY")?,
            apiv3_key: apiv3.into_bytes(),
            keyring,
            base: e::config(env, "WECHATPAY_API_BASE").unwrap_or_else(|| "https://api.mch.weixin.qq.com".into()),
            notify_url: notify_url(env, Provider::Wechatpay)?,
        })
    }

    pub fn check(&self) -> WechatCheck<'_> {
        WechatCheck { appid: &self.appid, mchid: &self.mchid, keyring: &self.keyring, apiv3_key: &self.apiv3_key }
    }

    /// The API client, with the merchant's private key read.
    pub fn api(&self) -> ApiResult<WechatPayApi<'static, FetchHttp>> {
        Ok(WechatPayApi {
            http: &FetchHttp,
            base: self.base.clone(),
            merchant: Merchant {
                mchid: self.mchid.clone(),
                appid: self.appid.clone(),
                serial: self.serial.clone(),
                key: private_key(&self.merchant_key_text).map_err(key_err("WECHATPAY_MERCHANT_KEY"))?,
                apiv3_key: self.apiv3_key.clone(),
            },
            keyring: self.keyring.clone(),
            notify_url: self.notify_url.clone(),
        })
    }
}

/// Alipay's configuration, parsed.
pub struct Alipay {
    pub app_id: String,
    pub seller_id: String,
    pub alipay_key: crate::payment::rsa::RsaPublicKey,
    app_key_text: String,
    gateway: String,
    notify_url: String,
}

impl Alipay {
    /// What verifying a notification needs (no private key is read).
    pub fn from_env(env: &Env) -> ApiResult<Self> {
        Ok(Self {
            app_id: need(env, "ALIPAY_APP_ID")?,
            seller_id: if development(env) {
                e::config(env, "ALIPAY_SELLER_ID").unwrap_or_default()
            } else {
                need(env, "ALIPAY_SELLER_ID")?
            },
            alipay_key: public_key(&need(env, "ALIPAY_PUBLIC_KEY")?).map_err(key_err("ALIPAY_PUBLIC_KEY"))?,
            app_key_text: e::config(env, "ALIPAY_APP_PRIVATE_KEY").unwrap_or_default(),
            gateway: e::config(env, "ALIPAY_GATEWAY").unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
            notify_url: notify_url(env, Provider::Alipay)?,
        })
    }

    pub fn check(&self) -> AlipayCheck<'_> {
        AlipayCheck { app_id: &self.app_id, seller_id: &self.seller_id, alipay_key: &self.alipay_key }
    }

    pub fn api(&self) -> ApiResult<AlipayApi<'static, FetchHttp>> {
        Ok(AlipayApi {
            http: &FetchHttp,
            gateway: self.gateway.clone(),
            app_id: self.app_id.clone(),
            seller_id: self.seller_id.clone(),
            app_key: private_key(&self.app_key_text).map_err(key_err("ALIPAY_APP_PRIVATE_KEY"))?,
            alipay_key: self.alipay_key.clone(),
            notify_url: self.notify_url.clone(),
        })
    }
}
