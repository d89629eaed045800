use super::invalid::InvalidInput;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Serialize, Serializer};

/// UTC+08:00, China Standard Time. China has no daylight saving time.
/// Evaluated at compile time, so a wrong constant is a build error, not a panic.
const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => unreachable!(),
};

/// The Beijing offset, +08:00.
pub fn beijing_offset() -> FixedOffset {
    BEIJING
}

/// An instant shown in Beijing time and serialised with its offset
/// (`2026-11-25T08:00:00+08:00`). Input must carry an explicit offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeijingTime(DateTime<FixedOffset>);

impl BeijingTime {
    /// Converts an instant to Beijing time.
    pub fn from_utc(t: DateTime<Utc>) -> Self {
        Self(t.with_timezone(&beijing_offset()))
    }

    /// Parses RFC 3339 text with an offset; a bare local time is refused
    /// because guessing its zone is how appointments end up an hour off.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| Self(t.with_timezone(&beijing_offset())))
            .map_err(|_| InvalidInput("时间格式不正确，应为带时区的时间，如 2026-11-25T08:00:00+08:00"))
    }

    /// The instant in UTC.
    pub fn to_utc(self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// The calendar date in Beijing.
    pub fn date(self) -> NaiveDate {
        self.0.date_naive()
    }

    /// The time of day in Beijing.
    pub fn time(self) -> chrono::NaiveTime {
        self.0.time()
    }

    /// RFC 3339 with `+08:00`, to the second.
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    /// Formatted with a chrono pattern, in Beijing time (`%Y-%m-%d %H:%M:%S` for Alipay).
    pub fn format(self, pattern: &str) -> String {
        self.0.format(pattern).to_string()
    }

    /// `minutes` later (earlier when negative); `None` past chrono's range.
    pub fn plus_minutes(self, minutes: i64) -> Option<Self> {
        self.0.checked_add_signed(chrono::Duration::try_minutes(minutes)?).map(Self)
    }

    /// The Chinese way of writing it: `2026年11月25日 08:00`.
    pub fn to_chinese(self) -> String {
        self.0.format("%Y年%m月%d日 %H:%M").to_string()
    }
}

impl Serialize for BeijingTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

super::invalid::deserialize_via_parse!(BeijingTime);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_input_is_shown_in_beijing_time_with_offset() {
        let t = BeijingTime::parse("2026-11-25T00:00:00Z").map(BeijingTime::to_rfc3339);
        assert_eq!(t, Ok("2026-11-25T08:00:00+08:00".into()));
        let c = BeijingTime::parse("2026-11-25T08:00:00+08:00").map(BeijingTime::to_chinese);
        assert_eq!(c, Ok("2026年11月25日 08:00".into()));
    }

    #[test]
    fn date_is_the_beijing_calendar_day() {
        let t = BeijingTime::parse("2026-11-24T17:00:00Z").map(BeijingTime::date);
        assert_eq!(t.map(|d| d.to_string()), Ok("2026-11-25".into()));
    }

    #[test]
    fn times_without_an_offset_are_refused() {
        for raw in ["2026-11-25 08:00", "2026-11-25T08:00:00", "明天", ""] {
            assert!(BeijingTime::parse(raw).is_err(), "{raw}");
        }
    }
}
