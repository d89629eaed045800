//! Paying bills (`POST /v1/bills/{id}/pay`): one order for the bills, opened
//! or reused ([`orders::open`]), then what the mini-program needs to pay it:
//! WeChat Pay's JSAPI parameters (prepaid once per order, the prepay id kept
//! so a repeat reuses it) or Alipay's signed order string.

use crate::orders::{self, Order, Provider};
use crate::payment::gateway::{AlipayApi, PrepayOrder, WechatPayApi};
use crate::payment::wechatpay::JsapiParams;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::outbound::Http;
use shared::runtime::IdSource;
use shared::store::Db;
use shared::types::BeijingTime;

/// Who pays which bills (the first is the one in the path), and when.
#[derive(Debug, Clone, Copy)]
pub struct Payer<'a> {
    pub citizen: &'a str,
    pub bills: &'a [String],
    pub now: BeijingTime,
}

/// The citizen's WeChat mini-program openid: WeChat Pay JSAPI charges that user.
pub async fn wechat_openid(db: &impl Db, citizen: &str) -> ApiResult<String> {
    #[derive(serde::Deserialize)]
    struct Row {
        openid: Option<String>,
    }
    let row: Option<Row> = db.first_as("SELECT openid FROM citizens WHERE id = ?1", &[citizen.into()]).await?;
    row.and_then(|r| r.openid).ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::ValidationFailed,
            "微信支付需要先在微信小程序中登录，请改用支付宝或在微信中登录",
        )
    })
}

/// WeChat Pay: the order and the parameters of `wx.requestPayment`. Without
/// an openid no order is opened; an order prepaid before is not prepaid again.
pub async fn wechatpay<H: Http>(
    db: &impl Db,
    ids: &impl IdSource,
    api: &WechatPayApi<'_, H>,
    p: &Payer<'_>,
) -> ApiResult<(Order, JsapiParams)> {
    let openid = wechat_openid(db, p.citizen).await?;
    let (order, periods) = orders::open(db, ids, p.citizen, Provider::Wechatpay, p.bills, p.now).await?;
    let (unix, nonce) = (p.now.to_utc().timestamp(), ids.hex(16)?);
    let prepay_id = match &order.prepay_id {
        Some(id) => id.clone(),
        None => {
            let prepay = PrepayOrder {
                out_trade_no: &order.out_trade_no,
                description: &orders::description(&order, &periods),
                amount_fen: order.amount_fen,
                openid: &openid,
                time_expire: &order.expires_at,
            };
            let id = api.prepay(&prepay, unix, &nonce).await?;
            orders::set_prepay(db, &order.out_trade_no, &id).await?;
            id
        }
    };
    let params = api.merchant.jsapi_params(&prepay_id, unix, &nonce).map_err(|err| err.to_api())?;
    Ok((order, params))
}

/// Alipay: the order and its signed order string (`alipay.trade.app.pay`).
pub async fn alipay<H: Http>(
    db: &impl Db,
    ids: &impl IdSource,
    api: &AlipayApi<'_, H>,
    p: &Payer<'_>,
) -> ApiResult<(Order, String)> {
    let (order, periods) = orders::open(db, ids, p.citizen, Provider::Alipay, p.bills, p.now).await?;
    let expire = BeijingTime::parse(&order.expires_at).map(|t| t.format("%Y-%m-%d %H:%M:%S")).unwrap_or_default();
    let order_string = api.order_string(
        &order.out_trade_no,
        &order.amount,
        &orders::description(&order, &periods),
        &expire,
        &p.now.format("%Y-%m-%d %H:%M:%S"),
    )?;
    Ok((order, order_string))
}
