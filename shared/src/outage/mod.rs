//! 停水停气提醒 (issue 7): the notice rules (`rules`), publishing with the
//! public notice and changes (`publish`), supply areas and accounts
//! (`areas`), subscriptions (`subscriptions`), and the outbox the queue
//! fan-out works through (`outbox`, with `retry` deciding after a failure).

pub mod areas;
pub mod outbox;
pub mod publish;
pub mod retry;
pub mod rules;
pub mod subscriptions;
