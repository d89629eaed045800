//! The states an outage, its versions and its outbox rows pass through, as
//! stored in the text columns of `outages`, `outage_versions` and
//! `outage_outbox` (whose CHECK lists name the same values). Each enum has
//! its stored text written once (`shared::text_enum!`): `as_str`, `parse`
//! and serde all use it.

use shared::text_enum;

text_enum! {
    /// `outages.status`; `preview` is only ever shown, never stored.
    pub enum OutageStatus {
        Preview => "preview",
        Published => "published",
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// `outages.kind`: a planned stop or an emergency.
    pub enum OutageKind {
        Planned => "planned",
        Emergency => "emergency",
    }
}

text_enum! {
    /// `outage_versions.state`: `planned` until its send time, then
    /// `fanned_out`; an amendment or cancellation supersedes what is still planned.
    pub enum VersionState {
        Planned => "planned",
        FannedOut => "fanned_out",
        Superseded => "superseded",
    }
}

text_enum! {
    /// `outage_outbox.status`: one row per (outage, version, subscriber).
    pub enum OutboxStatus {
        /// A queue message is on its way.
        Queued => "queued",
        /// Claimed by a consumer.
        Sending => "sending",
        /// Waiting for `next_at` until the cron sweep queues it again.
        Deferred => "deferred",
        Sent => "sent",
        Delivered => "delivered",
        Failed => "failed",
        Superseded => "superseded",
    }
}

impl OutboxStatus {
    /// Whether the row has its final result (what progress counts).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Delivered | Self::Failed | Self::Superseded)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn serde_name<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn every_state_parses_from_its_stored_text_and_serde_uses_the_same_name() {
        for &s in OutageStatus::ALL {
            assert_eq!((OutageStatus::parse(s.as_str()), serde_name(s)), (Some(s), s.as_str().to_owned()));
        }
        for &k in OutageKind::ALL {
            assert_eq!((OutageKind::parse(k.as_str()), serde_name(k)), (Some(k), k.as_str().to_owned()));
        }
        for &s in VersionState::ALL {
            assert_eq!((VersionState::parse(s.as_str()), serde_name(s)), (Some(s), s.as_str().to_owned()));
        }
        for &s in OutboxStatus::ALL {
            assert_eq!((OutboxStatus::parse(s.as_str()), serde_name(s)), (Some(s), s.as_str().to_owned()));
        }
        assert_eq!(VersionState::FannedOut.as_str(), "fanned_out");
        assert_eq!(OutboxStatus::parse("lost"), None);
    }

    #[test]
    fn the_outbox_statuses_match_the_check_list_of_the_migration() {
        let sql = include_str!("../../../schemas/migrations/0014_outage_fanout.sql");
        let names: Vec<String> = OutboxStatus::ALL.iter().map(|s| format!("'{}'", s.as_str())).collect();
        assert!(sql.contains(&names.join(", ")), "{names:?}");
        let states: Vec<String> = VersionState::ALL.iter().map(|s| format!("'{}'", s.as_str())).collect();
        assert!(sql.contains(&format!("state IN ({})", states.join(", "))), "{states:?}");
    }

    #[test]
    fn only_sent_delivered_failed_and_superseded_rows_are_final() {
        let finals: Vec<OutboxStatus> = OutboxStatus::ALL.iter().copied().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [OutboxStatus::Sent, OutboxStatus::Delivered, OutboxStatus::Failed, OutboxStatus::Superseded]
        );
    }
}
