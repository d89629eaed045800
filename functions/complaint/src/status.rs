//! Where a case stands (`complaints.status`, CHECK-constrained; also the
//! status of each timeline step in `complaint_events`).

shared::text_enum! {
    /// The status of a case.
    pub enum Status {
        /// 已受理.
        Received => "received",
        /// 已转交 a department.
        Assigned => "assigned",
        /// 已答复.
        Replied => "replied",
        /// 已转办 to another unit.
        Referred => "referred",
        /// 已办结.
        Closed => "closed",
    }
}

impl Status {
    /// The standard phrase for the status, the only note Open311 shows
    /// (a handler's own text may name people or places).
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Received => "已受理",
            Self::Assigned => "已转交承办部门",
            Self::Replied => "已答复",
            Self::Referred => "已转办",
            Self::Closed => "已办结",
        }
    }

    /// The status in at most five characters (a 订阅消息 `phrase` value).
    pub fn word(self) -> &'static str {
        match self {
            Self::Received => "已受理",
            Self::Assigned => "已转交",
            Self::Replied => "已答复",
            Self::Referred => "已转办",
            Self::Closed => "已办结",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_stored_text_and_serializes_as_it() {
        for &s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Status>(&format!("\"{}\"", s.as_str())).unwrap(), s);
        }
        assert_eq!(Status::parse("open"), None);
        assert_eq!(Status::parse(" closed"), None, "the stored text is exact");
        assert!(serde_json::from_str::<Status>("\"done\"").is_err());
    }

    #[test]
    fn every_status_has_its_own_standard_phrase() {
        let phrases: std::collections::HashSet<_> = Status::ALL.iter().map(|s| s.phrase()).collect();
        assert_eq!(phrases.len(), Status::ALL.len());
    }

    #[test]
    fn every_status_has_its_own_word_of_at_most_five_characters() {
        let words: std::collections::HashSet<_> = Status::ALL.iter().map(|s| s.word()).collect();
        assert_eq!(words.len(), Status::ALL.len());
        assert!(words.iter().all(|w| (1..=5).contains(&w.chars().count())), "{words:?}");
    }
}
