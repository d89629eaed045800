//! 网上预约: slot generation from booking rules and the holiday calendar
//! (`slots`, pure), resources and slot listing (`resources`), booking and
//! its rules (`book`), configurable limits (`policy`).

pub mod book;
pub mod jobs;
pub mod policy;
pub mod resources;
pub mod slots;
