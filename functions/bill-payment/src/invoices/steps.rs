//! Handling an application (billing_operator): 开票 (issue, recorded in
//! 票据管理), 邮寄 (mail), or refusal (reject). What a step writes is decided
//! first ([`decide`]); the writes, the inbox notice and the audit entry are
//! then one batch guarded by the state the step starts from.

use super::application::{Invoice, get};
use super::ledger::{LedgerKind, short};
use crate::states::InvoiceStatus;
use serde::Deserialize;
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiResult, ErrorCode};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};

/// A handling step.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// 开票: the invoice number, recorded in 票据管理.
    Issue { invoice_no: String },
    /// 邮寄: carrier and tracking number.
    Mail { carrier: String, tracking_no: String },
    /// Refused, with the reason the citizen reads.
    Reject { reason: String },
}

impl Step {
    /// The state the step starts from.
    pub fn from(&self) -> InvoiceStatus {
        match self {
            Self::Issue { .. } | Self::Reject { .. } => InvoiceStatus::Accepted,
            Self::Mail { .. } => InvoiceStatus::Issued,
        }
    }

    /// The state the step leaves the application in.
    pub fn to(&self) -> InvoiceStatus {
        match self {
            Self::Issue { .. } => InvoiceStatus::Issued,
            Self::Mail { .. } => InvoiceStatus::Mailed,
            Self::Reject { .. } => InvoiceStatus::Rejected,
        }
    }

    /// The audit log's action.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Issue { .. } => "invoice.issue",
            Self::Mail { .. } => "invoice.mail",
            Self::Reject { .. } => "invoice.reject",
        }
    }
}

/// What a step writes, decided from the application as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: InvoiceStatus,
    /// The application's new state and the step's fields.
    pub update: Stmt,
    /// The inbox notice.
    pub title: &'static str,
    pub body: String,
    /// 开票 records the invoice in 票据管理.
    pub ledger: Option<Stmt>,
}

/// The step's fields are checked first, then that the application is in the
/// state the step starts from (409 `invoice_state_invalid` otherwise).
pub fn decide(inv: &Invoice, s: &Step, act: &Act<'_>) -> ApiResult<Change> {
    let (id, now, to) = (inv.id.as_str(), act.now.to_rfc3339(), s.to().as_str());
    let change = match s {
        Step::Issue { invoice_no } => {
            let no = short("invoice_no", invoice_no, 20)?;
            let ledger = Stmt::new(
                "INSERT INTO invoice_ledger (kind, number, issued_on, recipient, account_no, request_id, recorded_by, recorded_at)
                 VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vec![no.as_str().into(), act.now.date().to_string().into(), inv.applicant.as_str().into(), inv.account_no.as_str().into(),
                     id.into(), act.who.name.as_str().into(), now.as_str().into(), LedgerKind::Invoice.as_str().into()],
            );
            Change {
                from: s.from(),
                update: Stmt::new(
                    "UPDATE invoice_requests SET status = ?4, invoice_no = ?2, issued_at = ?3, updated_at = ?3 WHERE id = ?1",
                    vec![id.into(), no.as_str().into(), now.as_str().into(), to.into()],
                ),
                title: "增值税发票已开具",
                body: format!("您的增值税发票（申请 {id}）已开具，发票号码 {no}，即将邮寄。"),
                ledger: Some(ledger),
            }
        }
        Step::Mail { carrier, tracking_no } => {
            let (c, t) = (short("carrier", carrier, 20)?, short("tracking_no", tracking_no, 40)?);
            Change {
                from: s.from(),
                update: Stmt::new(
                    "UPDATE invoice_requests SET status = ?5, carrier = ?2, tracking_no = ?3, mailed_at = ?4, updated_at = ?4 WHERE id = ?1",
                    vec![id.into(), c.as_str().into(), t.as_str().into(), now.as_str().into(), to.into()],
                ),
                title: "增值税发票已邮寄",
                body: format!("您的增值税发票（申请 {id}）已由{c}寄出，运单号 {t}。"),
                ledger: None,
            }
        }
        Step::Reject { reason } => {
            let r = short("reason", reason, 200)?;
            Change {
                from: s.from(),
                update: Stmt::new(
                    "UPDATE invoice_requests SET status = ?4, reject_reason = ?2, updated_at = ?3 WHERE id = ?1",
                    vec![id.into(), r.as_str().into(), now.as_str().into(), to.into()],
                ),
                title: "增值税发票申请未通过",
                body: format!("您的增值税发票申请（{id}）未通过：{r}。请修改后重新申请。"),
                ledger: None,
            }
        }
    };
    if inv.status != change.from {
        return Err(ErrorCode::InvoiceStateInvalid.into());
    }
    Ok(change)
}

/// Applies a step: accepted -> issued -> mailed, or accepted -> rejected;
/// one batch with the inbox notice and the audit entry, guarded by the state.
pub async fn step(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, id: &str, s: &Step) -> ApiResult<Invoice> {
    let inv = get(db, None, id).await?;
    let c = decide(&inv, s, act)?;
    let mut stmts = vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM invoice_requests WHERE id = ?1 AND status = ?2)",
            vec![id.into(), c.from.as_str().into()],
        ),
        c.update,
        inbox::post_stmt(ids, &inv.citizen_id, "bill", c.title, &c.body, None, act.now)?,
        audit_stmt(act.who, s.action(), id, act.request_id, act.now, &serde_json::json!({ "from": c.from })),
    ];
    stmts.extend(c.ledger);
    db.batch(&stmts)
        .await
        .map_err(|e| if e.code == ErrorCode::Conflict { ErrorCode::InvoiceStateInvalid.into() } else { e })?;
    get(db, None, id).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use shared::admin::{Principal, Role};
    use shared::types::BeijingTime;

    fn invoice(status: &str) -> Invoice {
        serde_json::from_value(serde_json::json!({
            "id": "FP20261123ABCD", "citizen_id": "a", "account_no": "40261001", "company_name": "某公司",
            "company_address": "义乌市", "contact_phone": "0579-85551234", "tax_id": "91330782MA2E5W1K38",
            "bank_name": "工行", "bank_account": "12080200", "applicant": "陈会计", "license_upload": "u1",
            "tax_notice_upload": "u2", "status": status, "reject_reason": null, "invoice_no": null, "issued_at": null,
            "carrier": null, "tracking_no": null, "mailed_at": null, "created_at": "x", "updated_at": "x"
        }))
        .unwrap()
    }

    fn decided(status: &str, s: &Step) -> ApiResult<Change> {
        let who = Principal { token_id: "op".into(), name: "开票员".into(), roles: vec![Role::BillingOperator] };
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        decide(&invoice(status), s, &Act { who: &who, now, request_id: "r" })
    }

    #[test]
    fn issuing_an_accepted_application_sets_issued_and_records_the_invoice() {
        let c = decided("accepted", &Step::Issue { invoice_no: " 33002612345678 ".into() }).unwrap();
        assert_eq!(c.from, InvoiceStatus::Accepted);
        assert!(c.update.params.contains(&"issued".into()) && c.update.params.contains(&"33002612345678".into()));
        assert_eq!(c.body, "您的增值税发票（申请 FP20261123ABCD）已开具，发票号码 33002612345678，即将邮寄。");
        let ledger = c.ledger.unwrap();
        assert!(ledger.params.contains(&"invoice".into()) && ledger.params.contains(&"2026-11-23".into()));
    }

    #[test]
    fn a_step_from_the_wrong_state_is_refused_after_its_fields_are_checked() {
        let mail = Step::Mail { carrier: "邮政EMS".into(), tracking_no: "1190000000001".into() };
        assert_eq!(decided("accepted", &mail).unwrap_err().code, ErrorCode::InvoiceStateInvalid);
        assert_eq!(decided("issued", &mail).unwrap().update.params.last(), Some(&"mailed".into()));
        let reject = Step::Reject { reason: "税号有误".into() };
        assert_eq!(decided("issued", &reject).unwrap_err().code, ErrorCode::InvoiceStateInvalid);
        assert_eq!(decided("accepted", &reject).unwrap().ledger, None);
        let blank = Step::Issue { invoice_no: " ".into() };
        assert_eq!(decided("mailed", &blank).unwrap_err().code, ErrorCode::BadRequest, "fields first");
    }
}
