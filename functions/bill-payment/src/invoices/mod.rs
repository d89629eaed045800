//! 增值税发票办理 (000 §7.3): a company citizen applies with the fields 000
//! lists and two documents (营业执照, 税务事项通知书); a billing operator
//! issues (开票) and mails (邮寄) it, or refuses it with a reason; every
//! step is told in the inbox and audited. 票据管理 (§7.3.3) records each
//! invoice or payment receipt handed out and each one voided.

mod application;
mod ledger;
mod steps;

pub use application::{Application, Invoice, apply, document, get, mine, queue};
pub use ledger::{LedgerEntry, LedgerInput, LedgerKind, ledger, record, void};
pub use steps::{Change, Step, decide, step};
