//! Where a case stands (`complaints.status`, CHECK-constrained; also the
//! status of each timeline step in `complaint_events`).

use serde::Serialize;

/// The status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 已受理.
    Received,
    /// 已转交 a department.
    Assigned,
    /// 已答复.
    Replied,
    /// 已转办 to another unit.
    Referred,
    /// 已办结.
    Closed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [Self::Received, Self::Assigned, Self::Replied, Self::Referred, Self::Closed];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Assigned => "assigned",
            Self::Replied => "replied",
            Self::Referred => "referred",
            Self::Closed => "closed",
        }
    }

    /// Parses the stored (or queried) text, exactly.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

crate::deserialize_via_parse!(Status, "complaint status");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_stored_text_and_serializes_as_it() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Status>(&format!("\"{}\"", s.as_str())).unwrap(), s);
        }
        assert_eq!(Status::parse("open"), None);
        assert_eq!(Status::parse(" closed"), None, "the stored text is exact");
        assert!(serde_json::from_str::<Status>("\"done\"").is_err());
    }
}
