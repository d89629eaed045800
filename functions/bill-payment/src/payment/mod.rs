//! Payment notifications (issue 6, first slice): verifying WeChat Pay APIv3
//! and Alipay notifications exactly as the providers sign them, and
//! decrypting WeChat Pay's resource. Plain Rust over bytes: checked natively
//! against the providers' published test vectors (`tests/fixtures/providers`).
//! Behind the `payments` feature, so only the bill-payment worker carries RSA.

pub mod alipay;
pub mod der;
pub mod gateway;
mod keys;
pub mod sign;
pub mod wechatpay;

pub use keys::{PayError, pem_body, public_key, verify_rsa_sha256};
pub use rsa;
