//! The states records move through, as their tables store them (each
//! column keeps its `CHECK (status IN (...))`; Rust compares these enums).

use shared::text_enum;

text_enum! {
    /// A payment order (`payment_orders.status`).
    pub enum OrderStatus {
        /// Opened, not yet paid; payable until `expires_at`.
        Pending => "pending",
        /// Paid and applied to its bills.
        Paid => "paid",
        /// The provider closed it unpaid (a late payment still applies).
        Closed => "closed",
        /// Paid, but its bills were paid by another order: a billing operator decides.
        Review => "review",
    }
}

impl OrderStatus {
    /// Whether a payment for the order has been recorded (applied or kept for review).
    pub fn settled(self) -> bool {
        matches!(self, Self::Paid | Self::Review)
    }
}

text_enum! {
    /// A water bill (`bills.status`).
    pub enum BillStatus {
        Unpaid => "unpaid",
        Paid => "paid",
    }
}

text_enum! {
    /// A VAT invoice application (`invoice_requests.status`): accepted ->
    /// issued -> mailed, or accepted -> rejected.
    pub enum InvoiceStatus {
        /// 受理
        Accepted => "accepted",
        /// 开票
        Issued => "issued",
        /// 邮寄
        Mailed => "mailed",
        /// 未通过
        Rejected => "rejected",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_text_and_serializes_as_it() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        for s in InvoiceStatus::ALL {
            assert_eq!(serde_json::from_str::<InvoiceStatus>(&format!("\"{s}\"")).unwrap(), *s);
        }
        assert_eq!(BillStatus::parse("unpaid"), Some(BillStatus::Unpaid));
        assert_eq!(BillStatus::parse("Unpaid"), None, "stored text is exact");
        assert!(serde_json::from_str::<OrderStatus>("\"refunded\"").is_err());
        assert!(OrderStatus::Review.settled() && !OrderStatus::Closed.settled());
    }
}
