//! The configurable rules of booking (issue 5 defaults), read from vars.

use chrono::NaiveTime;

/// Limits and timings; every field has a default and a var to change it.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `APPT_MAX_ACTIVE`: active bookings per citizen in all (3).
    pub max_active: i64,
    /// `APPT_HOLD_MINUTES`: how long a hold keeps a place (5).
    pub hold_minutes: i64,
    /// `APPT_NO_SHOW_GRACE_MINUTES`: after the slot's end, an unchecked booking is a no-show (30).
    pub no_show_grace_minutes: i64,
    /// `APPT_BAN_NO_SHOWS` in `APPT_BAN_WINDOW_DAYS`: no-shows that ban booking (3 in 30).
    pub ban_no_shows: i64,
    pub ban_window_days: i64,
    /// `PARKING_GRACE_MINUTES`: after the reserved start, a car that has not arrived lapses (30).
    pub parking_grace_minutes: i64,
    /// `APPT_REMINDER_TIME`: Beijing time of the day-before reminder (18:00).
    pub reminder_time: NaiveTime,
    /// `APPT_CANCEL_WORKING_DAYS`: cancel and reschedule allowed until this many working days before (1).
    pub cancel_working_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_active: 3,
            hold_minutes: 5,
            no_show_grace_minutes: 30,
            ban_no_shows: 3,
            ban_window_days: 30,
            parking_grace_minutes: 30,
            reminder_time: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
            cancel_working_days: 1,
        }
    }
}

impl Policy {
    /// Reads the vars through `var` (unset or malformed: the default).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let d = Self::default();
        let num = |k: &str, def: i64, lo: i64, hi: i64| {
            var(k).and_then(|v| v.trim().parse::<i64>().ok()).filter(|n| (lo..=hi).contains(n)).unwrap_or(def)
        };
        Self {
            max_active: num("APPT_MAX_ACTIVE", d.max_active, 1, 20),
            hold_minutes: num("APPT_HOLD_MINUTES", d.hold_minutes, 1, 60),
            no_show_grace_minutes: num("APPT_NO_SHOW_GRACE_MINUTES", d.no_show_grace_minutes, 0, 24 * 60),
            ban_no_shows: num("APPT_BAN_NO_SHOWS", d.ban_no_shows, 1, 100),
            ban_window_days: num("APPT_BAN_WINDOW_DAYS", d.ban_window_days, 1, 365),
            parking_grace_minutes: num("PARKING_GRACE_MINUTES", d.parking_grace_minutes, 1, 24 * 60),
            reminder_time: var("APPT_REMINDER_TIME")
                .and_then(|v| NaiveTime::parse_from_str(v.trim(), "%H:%M").ok())
                .unwrap_or(d.reminder_time),
            cancel_working_days: num("APPT_CANCEL_WORKING_DAYS", 1, 0, 10) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Policy;

    #[test]
    fn vars_override_defaults_and_bad_values_fall_back() {
        let p = Policy::from_vars(|k| match k {
            "APPT_MAX_ACTIVE" => Some("5".into()),
            "APPT_HOLD_MINUTES" => Some("0".into()),
            "APPT_REMINDER_TIME" => Some("20:30".into()),
            _ => None,
        });
        assert_eq!(p.max_active, 5);
        assert_eq!(p.hold_minutes, 5, "0 is out of range");
        assert_eq!(p.reminder_time.to_string(), "20:30:00");
    }
}
