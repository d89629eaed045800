//! 停水停气提醒 (issue 7, first slice): the notice rules (`rules`) and
//! publishing with the public notice (`publish`). Subscriptions and the
//! queue fan-out come later.

pub mod publish;
pub mod rules;
