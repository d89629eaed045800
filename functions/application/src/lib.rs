//! # application: 网上申报 and 我的办件 (issue 17)
//!
//! Citizens resolve their situation over an item's 情形引导 tree, apply with
//! exactly the materials it needs (new uploads or ones from their earlier
//! applications), correct what a one-time notice lists, follow progress and
//! rate the result (好差评); a low grade opens a 整改 task for the department.
//! Departments pre-review (受理, 一次性告知, 容缺受理, 不予受理) and handle to 办结
//! within the item's promised working days over the city calendar.
//!
//! Each step the applicant is told of in the inbox is also offered by
//! 订阅消息 (template `application_progress` of `WECHAT_TEMPLATES`, see
//! [`subscription_message`]) when the applicant accepted it; otherwise the
//! inbox message is the notice.
//!
//! Bindings: D1 `DB`, KV `CACHE` (also the shared WeChat access token), rate
//! limiter `LOOKUP_LIMITER`; vars `RECTIFY_DAYS`, `WECHAT_API_BASE`,
//! `WECHAT_TEMPLATES`; secrets `WECHAT_APPID`, `WECHAT_SECRET`.

pub mod decide;
pub mod filing;
pub mod guide;
pub mod handling;
pub mod life_events;
pub mod prefill;
pub mod rating;
pub mod receipt;
pub mod record;
pub mod result;
pub mod situation;
pub mod stats;
pub mod status;
pub mod subscription_message;

#[cfg(target_arch = "wasm32")]
mod edge;
