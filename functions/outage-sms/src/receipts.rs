//! Delivery receipts (Aliyun SmsReport): each settles the outbox row it
//! reports on; numbers reported blacklisted or invalid are flagged, and a
//! delivered message lifts its number's flag.

use crate::flags::{flag_stmt, lift_stmt};
use crate::retry;
use crate::states::OutboxStatus;
use serde::Deserialize;
use shared::error::ApiResult;
use shared::identity::Pepper;
use shared::store::{Db, Stmt};
use shared::types::{BeijingTime, MobileNumber, beijing_offset};

/// One delivery receipt (Aliyun SmsReport, pushed as a JSON array).
#[derive(Debug, Clone, Deserialize)]
pub struct Receipt {
    pub phone_number: String,
    pub success: bool,
    #[serde(default)]
    pub err_code: Option<String>,
    #[serde(default)]
    pub err_msg: Option<String>,
    pub biz_id: String,
    #[serde(default)]
    pub send_time: Option<String>,
    #[serde(default)]
    pub report_time: Option<String>,
    #[serde(default)]
    pub sms_size: Option<String>,
    #[serde(default)]
    pub out_id: Option<String>,
}

/// What a receipt makes of its row: delivered, or failed with the
/// receipt's code.
pub fn receipt_status(success: bool) -> OutboxStatus {
    if success { OutboxStatus::Delivered } else { OutboxStatus::Failed }
}

/// When the reported message was sent: Aliyun's `send_time`
/// (`2026-11-23 10:00:00`, Beijing), if present and well formed.
pub fn sent_at(send_time: Option<&str>) -> Option<BeijingTime> {
    let local = chrono::NaiveDateTime::parse_from_str(send_time?.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    let t = local.and_local_timezone(beijing_offset()).single()?;
    Some(BeijingTime::from_utc(t.with_timezone(&chrono::Utc)))
}

/// Applies receipts to the rows they report on (by BizId and number);
/// numbers reported blacklisted or invalid are flagged (never for a
/// temporary fault such as out of service), and a delivered message sent
/// after a flag lifts it, whichever message it was (a login code too).
/// Returns the rows updated. Receipts for unknown messages update no row.
pub async fn apply_receipts(db: &impl Db, pepper: &Pepper, receipts: &[Receipt], now: BeijingTime) -> ApiResult<u64> {
    let mut stmts = Vec::new();
    for r in receipts {
        let Ok(phone) = MobileNumber::parse(&r.phone_number) else { continue };
        let hash = pepper.phone_hash(&phone);
        let code = r.err_code.clone().unwrap_or_default();
        stmts.push(Stmt::new(
            "UPDATE outage_outbox SET status = ?3, delivered_at = ?4,
                    error_code = CASE WHEN ?3 = ?6 THEN ?5 ELSE NULL END,
                    failure_class = CASE WHEN ?3 = ?6 THEN 'receipt' ELSE NULL END
              WHERE biz_id = ?1 AND phone_hash = ?2 AND status = 'sent'",
            vec![
                r.biz_id.as_str().into(),
                hash.as_str().into(),
                receipt_status(r.success).as_str().into(),
                now.to_rfc3339().into(),
                code.as_str().into(),
                OutboxStatus::Failed.as_str().into(),
            ],
        ));
        if !r.success && retry::receipt_flags(&code) {
            stmts.push(flag_stmt(&hash, &code, now));
        }
        if r.success
            && let Some(sent) = sent_at(r.send_time.as_deref())
        {
            stmts.push(lift_stmt(&hash, sent));
        }
    }
    let mut updated = 0;
    for part in stmts.chunks(100) {
        let changed = db.batch(part).await?;
        updated += part.iter().zip(changed).filter(|(s, _)| s.sql.starts_with("UPDATE")).map(|(_, n)| n).sum::<u64>();
    }
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successful_receipt_delivers_and_any_other_fails() {
        assert_eq!(receipt_status(true), OutboxStatus::Delivered);
        assert_eq!(receipt_status(false), OutboxStatus::Failed);
    }

    #[test]
    fn the_send_time_is_read_as_beijing_time() {
        let t = sent_at(Some("2026-11-23 10:00:05")).map(BeijingTime::to_rfc3339);
        assert_eq!(t.as_deref(), Some("2026-11-23T10:00:05+08:00"));
        assert_eq!(sent_at(Some("2026-11-23T10:00:05")), None);
        assert_eq!(sent_at(None), None);
    }
}
