//! Input types that validate when built ("parse, don't validate").
//!
//! Each newtype has a private field and a `parse` constructor whose error is a
//! Chinese sentence a citizen can act on. Handlers convert request DTOs into
//! these once, at the boundary.

mod codes;
mod ids;
mod invalid;
mod money;
mod phone;
mod plate;
mod quiet_hours;
mod region;
mod time;

pub use codes::{BasicCode, ItemCode};
pub use ids::{ResidentId, SocialCreditCode};
pub use invalid::InvalidInput;
pub use money::Fen;
pub use phone::MobileNumber;
pub use plate::PlateNumber;
pub use quiet_hours::{QuietHours, at as quiet_at};
pub use region::{Region, RegionLevel};
pub use time::{BeijingTime, beijing_offset};
