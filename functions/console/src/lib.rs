//! # console: staff accounts and the staff console (后台管理系统)
//!
//! Staff sign in with a user name, a password and a TOTP second factor
//! (等保 level 3); their session is a cookie with a CSRF token on every
//! write. This crate holds the accounts' rules, natively tested:
//! - `password`: the password policy and its slow, salted hash;
//! - `totp`: RFC 6238 codes (30 s, 6 digits) and the enrolment URI;
//! - `accounts`: creating staff, enrolment, login with lockout and history;
//! - `sessions`: staff sessions (idle 30 minutes, absolute 12 hours) and CSRF.

pub mod accounts;
pub mod enrol;
pub mod login;
pub mod password;
pub mod staff;
pub mod totp;

#[cfg(target_arch = "wasm32")]
mod edge;
