//! Input types that validate when built ("parse, don't validate").
//!
//! Each newtype has a private field and a `parse` constructor whose error is a
//! Chinese sentence a citizen can act on. Handlers convert request DTOs into
//! these once, at the boundary.

mod codes;
mod ids;
mod money;
mod phone;
mod time;

pub use codes::{BasicCode, ItemCode};
pub use ids::{ResidentId, SocialCreditCode};
pub use money::Fen;
pub use phone::MobileNumber;
pub use time::{BeijingTime, beijing_offset};

/// The error of every `parse` constructor: a message for the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub &'static str);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
