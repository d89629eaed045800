//! What a submission is: 投诉, 举报, 建议 or 咨询 (`complaints.kind`,
//! CHECK-constrained), with its default handling time.

shared::text_enum! {
    /// The kind of a submission.
    pub enum Kind {
        /// 投诉.
        Complaint => "complaint",
        /// 举报 (never listed through Open311).
        Report => "report",
        /// 意见建议.
        Suggestion => "suggestion",
        /// 咨询.
        Consultation => "consultation",
    }
}

impl Kind {
    /// The name a citizen reads (in the receipt).
    pub fn name(self) -> &'static str {
        match self {
            Self::Complaint => "投诉",
            Self::Report => "举报",
            Self::Suggestion => "建议",
            Self::Consultation => "咨询",
        }
    }

    /// Whether the unit or person concerned must be named (投诉 and 举报).
    pub fn names_a_subject(self) -> bool {
        matches!(self, Self::Complaint | Self::Report)
    }

    /// The default handling time in working days.
    pub fn default_days(self) -> u32 {
        match self {
            Self::Complaint => 10,
            Self::Report | Self::Suggestion => 15,
            Self::Consultation => 5,
        }
    }

    /// Handling days from `configured(kind)` (`COMPLAINT_DAYS_<KIND>`) when
    /// it is 1-60, else the default.
    pub fn handling_days(self, configured: impl Fn(&str) -> Option<u32>) -> u32 {
        configured(self.as_str()).filter(|d| (1..=60).contains(d)).unwrap_or(self.default_days())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_text_and_serializes_as_it() {
        for &k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&format!("\"{}\"", k.as_str())).unwrap(), k);
        }
        assert_eq!(Kind::parse("rant"), None);
        assert_eq!(Kind::parse("Complaint"), None, "the stored text is exact");
        assert!(serde_json::from_str::<Kind>("\"rant\"").is_err());
    }

    #[test]
    fn configured_handling_days_count_only_between_one_and_sixty() {
        assert_eq!(Kind::Complaint.handling_days(|_| None), 10);
        assert_eq!(Kind::Consultation.handling_days(|k| (k == "consultation").then_some(2)), 2);
        assert_eq!(Kind::Report.handling_days(|_| Some(0)), 15);
        assert_eq!(Kind::Suggestion.handling_days(|_| Some(61)), 15);
    }

    #[test]
    fn only_complaints_and_reports_name_a_subject() {
        let named: Vec<Kind> = Kind::ALL.iter().copied().filter(|k| k.names_a_subject()).collect();
        assert_eq!(named, [Kind::Complaint, Kind::Report]);
    }
}
