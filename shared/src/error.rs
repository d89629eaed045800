//! The one error vocabulary of every bianmin function.
//!
//! Each [`ErrorCode`] has a stable snake_case machine code, an HTTP status and a
//! Chinese message written for the citizen. [`ApiError::envelope`] is the only
//! place an error becomes a response body; the edge layer only copies the status.
//! The table in `schemas/error-codes.json` is checked against [`ErrorCode::ALL`]
//! by a test, so the README, the OpenAPI document and the code cannot drift.

use serde::Serialize;
use serde_json::{Value, json};

/// A stable machine code with its HTTP status and default Chinese message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    ValidationFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unauthorized,
    Forbidden,
    NotFound,
    ItemNotFound,
    HallNotFound,
    MethodNotAllowed,
    Conflict,
    RateLimited,
    Internal,
    NotImplemented,
    StorageUnavailable,
    LoginRequired,
    SessionExpired,
    SessionRevoked,
    WechatCodeInvalid,
    WechatCodeUsed,
    WechatRateLimited,
    WechatUnavailable,
    SmsCodeInvalid,
    SmsCodeExpired,
    SmsCodeAttemptsExceeded,
    SmsSendLimited,
    SmsUnavailable,
    PhoneAlreadyBound,
    MessageNotFound,
    QueryBanned,
    ItemExists,
    ReviewStateInvalid,
    SelfReviewForbidden,
    CategoryInUse,
    FeedUnavailable,
    SlotFull,
    SlotUnavailable,
    BookingLimit,
    CancelTooLate,
    AppointmentNotFound,
    BookingBanned,
    HoldExpired,
    BillAlreadyPaid,
    PaymentUnavailable,
    PaymentNotFound,
    InvoiceStateInvalid,
    UploadInvalid,
    PhoneRequired,
    OutageStateInvalid,
    CallbackTokenInvalid,
    LoginFailed,
    AccountLocked,
    CsrfInvalid,
    EnrolmentInvalid,
}

impl ErrorCode {
    /// Every code, in table order.
    pub const ALL: [ErrorCode; 55] = [
        Self::BadRequest,
        Self::InvalidJson,
        Self::ValidationFailed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::ItemNotFound,
        Self::HallNotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::RateLimited,
        Self::Internal,
        Self::NotImplemented,
        Self::StorageUnavailable,
        Self::LoginRequired,
        Self::SessionExpired,
        Self::SessionRevoked,
        Self::WechatCodeInvalid,
        Self::WechatCodeUsed,
        Self::WechatRateLimited,
        Self::WechatUnavailable,
        Self::SmsCodeInvalid,
        Self::SmsCodeExpired,
        Self::SmsCodeAttemptsExceeded,
        Self::SmsSendLimited,
        Self::SmsUnavailable,
        Self::PhoneAlreadyBound,
        Self::MessageNotFound,
        Self::QueryBanned,
        Self::ItemExists,
        Self::ReviewStateInvalid,
        Self::SelfReviewForbidden,
        Self::CategoryInUse,
        Self::FeedUnavailable,
        Self::SlotFull,
        Self::SlotUnavailable,
        Self::BookingLimit,
        Self::CancelTooLate,
        Self::AppointmentNotFound,
        Self::BookingBanned,
        Self::HoldExpired,
        Self::BillAlreadyPaid,
        Self::PaymentUnavailable,
        Self::PaymentNotFound,
        Self::InvoiceStateInvalid,
        Self::UploadInvalid,
        Self::PhoneRequired,
        Self::OutageStateInvalid,
        Self::CallbackTokenInvalid,
        Self::LoginFailed,
        Self::AccountLocked,
        Self::CsrfInvalid,
        Self::EnrolmentInvalid,
    ];

    /// The machine code clients switch on. Never change one once published.
    pub fn as_str(self) -> &'static str {
        self.row().0
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        self.row().1
    }

    /// The default message shown to the citizen.
    pub fn message(self) -> &'static str {
        self.row().2
    }

    fn row(self) -> (&'static str, u16, &'static str) {
        match self {
            Self::BadRequest => ("bad_request", 400, "请求参数有误，请检查后重试"),
            Self::InvalidJson => ("invalid_json", 400, "请求内容不是有效的 JSON 格式"),
            Self::ValidationFailed => ("validation_failed", 422, "提交的信息未通过校验，请按提示修改"),
            Self::PayloadTooLarge => ("payload_too_large", 413, "提交的内容过大，请精简后重试"),
            Self::UnsupportedMediaType => ("unsupported_media_type", 415, "请以 application/json 格式提交"),
            Self::Unauthorized => ("unauthorized", 401, "身份凭证缺失或已失效，请重新登录"),
            Self::Forbidden => ("forbidden", 403, "您没有执行此操作的权限"),
            Self::NotFound => ("not_found", 404, "您访问的地址不存在"),
            Self::ItemNotFound => ("item_not_found", 404, "未找到该事项，请核对事项编码"),
            Self::HallNotFound => ("hall_not_found", 404, "未找到该办事大厅"),
            Self::MethodNotAllowed => ("method_not_allowed", 405, "该地址不支持此请求方式"),
            Self::Conflict => ("conflict", 409, "数据已被修改，请刷新后重试"),
            Self::RateLimited => ("rate_limited", 429, "操作过于频繁，请稍后再试"),
            Self::Internal => ("internal_error", 500, "系统繁忙，请稍后再试"),
            Self::NotImplemented => ("not_implemented", 501, "该功能正在建设中，暂未开放"),
            Self::StorageUnavailable => ("storage_unavailable", 503, "服务暂时不可用，请稍后再试"),
            Self::LoginRequired => ("login_required", 401, "请先登录"),
            Self::SessionExpired => ("session_expired", 401, "登录已过期，请重新登录"),
            Self::SessionRevoked => ("session_revoked", 401, "您已退出登录，请重新登录"),
            Self::WechatCodeInvalid => ("wechat_code_invalid", 400, "微信登录凭证无效，请重新打开小程序后再试"),
            Self::WechatCodeUsed => ("wechat_code_used", 400, "微信登录凭证已使用过，请重新登录"),
            Self::WechatRateLimited => ("wechat_rate_limited", 429, "微信登录请求过于频繁，请稍后再试"),
            Self::WechatUnavailable => ("wechat_unavailable", 503, "微信服务繁忙，请稍后再试"),
            Self::SmsCodeInvalid => ("sms_code_invalid", 400, "验证码不正确"),
            Self::SmsCodeExpired => ("sms_code_expired", 400, "验证码已过期，请重新获取"),
            Self::SmsCodeAttemptsExceeded => ("sms_code_attempts_exceeded", 429, "验证码错误次数过多，请重新获取"),
            Self::SmsSendLimited => ("sms_send_limited", 429, "验证码发送过于频繁，请稍后再试"),
            Self::SmsUnavailable => ("sms_unavailable", 503, "短信服务暂时不可用，请稍后再试"),
            Self::PhoneAlreadyBound => ("phone_already_bound", 409, "该手机号已绑定其他账号"),
            Self::MessageNotFound => ("message_not_found", 404, "未找到该消息"),
            Self::QueryBanned => ("query_banned", 400, "搜索内容包含不当词语，请修改后重试"),
            Self::ItemExists => ("item_exists", 409, "该事项编码已存在，请改为修改该事项"),
            Self::ReviewStateInvalid => ("review_state_invalid", 409, "事项当前的审核状态不允许此操作"),
            Self::SelfReviewForbidden => ("self_review_forbidden", 403, "不能审核自己提交的事项，请由其他审核人员处理"),
            Self::CategoryInUse => ("category_in_use", 409, "该分类下仍有事项，不能删除"),
            Self::FeedUnavailable => ("feed_unavailable", 502, "事项库同步源暂时无法访问，请稍后再试"),
            Self::SlotFull => ("slot_full", 409, "该时段已约满，请选择其他时段"),
            Self::SlotUnavailable => ("slot_unavailable", 400, "该时段不可预约，请重新选择"),
            Self::BookingLimit => ("booking_limit", 409, "您的预约已达上限，请办理或取消已有预约后再试"),
            Self::CancelTooLate => ("cancel_too_late", 409, "已超过可取消时间"),
            Self::AppointmentNotFound => ("appointment_not_found", 404, "未找到该预约"),
            Self::BookingBanned => ("booking_banned", 403, "因多次预约未到，暂不能网上预约"),
            Self::HoldExpired => ("hold_expired", 409, "预约保留已过期，请重新选择时段"),
            Self::BillAlreadyPaid => ("bill_already_paid", 409, "该账单已缴清，无需重复缴费"),
            Self::PaymentUnavailable => ("payment_unavailable", 503, "支付服务暂时不可用，请稍后再试"),
            Self::PaymentNotFound => ("payment_not_found", 404, "未找到该支付订单"),
            Self::InvoiceStateInvalid => ("invoice_state_invalid", 409, "发票申请当前状态不允许此操作"),
            Self::UploadInvalid => ("upload_invalid", 422, "上传的文件类型或大小不符合要求"),
            Self::PhoneRequired => ("phone_required", 422, "请先绑定手机号：停水停气提醒通过短信发送"),
            Self::OutageStateInvalid => ("outage_state_invalid", 409, "该停水停气公告当前状态不允许此操作"),
            Self::CallbackTokenInvalid => ("callback_token_invalid", 401, "回调令牌无效"),
            Self::LoginFailed => ("login_failed", 401, "用户名、密码或动态口令不正确"),
            Self::AccountLocked => ("account_locked", 429, "连续登录失败次数过多，账户已锁定15分钟，请稍后再试"),
            Self::CsrfInvalid => ("csrf_invalid", 403, "页面已过期或请求来源不可信，请刷新页面后重试"),
            Self::EnrolmentInvalid => {
                ("enrolment_invalid", 404, "开通链接无效、已使用或已过期，请联系系统管理员重新发送")
            }
        }
    }
}

/// One rejected input field: where it is and what the citizen should fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path or query parameter name, e.g. `items[3].name` or `lat`.
    pub field: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl FieldError {
    /// A field error at `field` with a Chinese `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// An error on its way to the client, or (for `Internal`) to the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Overrides the code's default message when more precise wording helps.
    pub message: Option<String>,
    pub fields: Vec<FieldError>,
    /// Never sent to the client: logged with the request id.
    pub internal: Option<String>,
}

impl ApiError {
    /// An error with the code's default message.
    pub fn new(code: ErrorCode) -> Self {
        Self { code, message: None, fields: Vec::new(), internal: None }
    }

    /// An error with a more precise Chinese message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { message: Some(message.into()), ..Self::new(code) }
    }

    /// A validation error listing every rejected field.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        Self { fields, ..Self::new(ErrorCode::ValidationFailed) }
    }

    /// A single bad query or body field, answered as `bad_request`.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self { fields: vec![FieldError::new(field, message)], ..Self::new(ErrorCode::BadRequest) }
    }

    /// An internal failure: the detail goes to the log, the client sees a bare 500.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self { internal: Some(detail.into()), ..Self::new(ErrorCode::Internal) }
    }

    /// HTTP status of this error.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The JSON envelope `{"error":{"code","message","fields"?},"request_id"}`.
    /// Internal details never appear here.
    pub fn envelope(&self, request_id: &str) -> Value {
        let message = match (self.code, &self.message) {
            (ErrorCode::Internal, _) | (_, None) => self.code.message().to_owned(),
            (_, Some(m)) => m.clone(),
        };
        let mut error = serde_json::Map::new();
        error.insert("code".into(), json!(self.code.as_str()));
        error.insert("message".into(), json!(message));
        if !self.fields.is_empty() {
            error.insert("fields".into(), json!(self.fields));
        }
        json!({ "error": error, "request_id": request_id })
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(detail) = &self.internal {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// Result type of every domain function.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_4xx_or_5xx() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!((400..600).contains(&code.status()), "{s}");
            assert!(!code.message().is_ascii(), "{s} needs a Chinese message");
        }
    }

    #[test]
    fn internal_errors_never_leak_their_detail() {
        let err = ApiError::internal("D1_ERROR: no such table items");
        let body = err.envelope("req-1").to_string();
        assert!(!body.contains("D1_ERROR"));
        assert!(body.contains("internal_error"));
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn envelope_lists_fields_only_when_present() {
        let plain = ApiError::new(ErrorCode::NotFound).envelope("r");
        assert!(plain["error"].get("fields").is_none());
        assert_eq!(plain["request_id"], "r");
        let with = ApiError::validation(vec![FieldError::new("name", "不能为空")]).envelope("r");
        assert_eq!(with["error"]["fields"][0]["field"], "name");
        assert_eq!(with["error"]["code"], "validation_failed");
    }

    #[test]
    fn precise_message_overrides_default_except_for_internal() {
        let e = ApiError::with_message(ErrorCode::NotFound, "未找到编号为 X 的大厅");
        assert_eq!(e.envelope("r")["error"]["message"], "未找到编号为 X 的大厅");
        let mut i = ApiError::internal("x");
        i.message = Some("secret".into());
        assert_eq!(i.envelope("r")["error"]["message"], ErrorCode::Internal.message());
    }
}

#[cfg(test)]
mod table_tests {
    use super::ErrorCode;

    /// `schemas/error-codes.json` and the README table are the published
    /// contract; they must say exactly what the code does.
    #[test]
    fn published_tables_match_the_code() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let json = std::fs::read_to_string(format!("{root}/schemas/error-codes.json")).unwrap();
        let table: serde_json::Value = serde_json::from_str(&json).unwrap();
        let rows = table["codes"].as_array().unwrap();
        assert_eq!(rows.len(), ErrorCode::ALL.len());
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        for (row, code) in rows.iter().zip(ErrorCode::ALL) {
            assert_eq!(row["code"], code.as_str());
            assert_eq!(row["status"], code.status());
            assert_eq!(row["message"], code.message());
            let line = format!("| {} | {} | {} |", code.as_str(), code.status(), code.message());
            assert!(readme.contains(&line), "README lacks: {line}");
        }
    }
}
