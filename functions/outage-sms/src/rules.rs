//! Outage rules as plain functions: notice lead times (water 24 h, gas 48 h
//! for planned stops; emergencies at once), quiet hours for planned notices,
//! the message text with the time window written the Chinese way, and SMS
//! length counting.

use chrono::{Datelike, Duration};
use shared::types::BeijingTime;

shared::text_enum! {
    /// Water or gas.
    pub enum Utility {
        Water => "water",
        Gas => "gas",
    }
}

impl Utility {
    /// The minimum notice of a planned stop: 24 h for water (003), 48 h for
    /// gas (城镇燃气管理条例 art. 20).
    pub fn notice(self) -> Duration {
        match self {
            Self::Water => Duration::hours(24),
            Self::Gas => Duration::hours(48),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Water => "停水",
            Self::Gas => "停气",
        }
    }
}

shared::text_enum! {
    /// What a notice announces: the supply stops, or water comes at reduced
    /// pressure (降压供水, 003: announced like a stop).
    pub enum Effect {
        Stop => "stop",
        ReducedPressure => "reduced_pressure",
    }
}

/// What an outage is about: a utility and what happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    pub utility: Utility,
    pub effect: Effect,
}

impl From<Utility> for Service {
    fn from(utility: Utility) -> Self {
        Self { utility, effect: Effect::Stop }
    }
}

impl Service {
    /// The minimum notice of a planned stop or pressure drop: a stop as its
    /// utility says; 降压供水 24 h (003: 停水或降压供水 … 提前24小时告知).
    pub fn notice(self) -> Duration {
        match self.effect {
            Effect::Stop => self.utility.notice(),
            Effect::ReducedPressure => Duration::hours(24),
        }
    }

    /// 停水, 停气 or 降压供水.
    pub fn verb(self) -> &'static str {
        match self.effect {
            Effect::Stop => self.utility.verb(),
            Effect::ReducedPressure => "降压供水",
        }
    }
}

/// Quiet hours for planned notices (Beijing time), default 22:00-07:00.
pub use shared::types::QuietHours;
use shared::types::quiet_at as at;

/// When the first message goes out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPlan {
    pub at: BeijingTime,
    pub reason: &'static str,
}

/// Refuses a planned stop announced with less than the legal notice.
pub fn check_lead_time(u: Service, emergency: bool, start: BeijingTime, now: BeijingTime) -> Result<(), String> {
    if emergency || start.to_utc() - now.to_utc() >= u.notice() {
        return Ok(());
    }
    Err(format!("计划{}须至少提前{}小时通知用户；如属抢修，请按紧急{}发布", u.verb(), u.notice().num_hours(), u.verb()))
}

/// The first send: emergencies at once; planned notices in daytime, but
/// never so late that the legal notice would be missed (then at once, and
/// the reason says so).
pub fn plan_send(u: Service, emergency: bool, start: BeijingTime, now: BeijingTime, quiet: QuietHours) -> SendPlan {
    if emergency {
        return SendPlan { at: now, reason: "紧急停供，立即发送" };
    }
    if !quiet.contains(now.time()) {
        return SendPlan { at: now, reason: "日间，立即发送" };
    }
    let morning = quiet.next_end(now);
    if start.to_utc() - morning.to_utc() >= u.notice() {
        SendPlan { at: morning, reason: "避开夜间，次日早晨发送" }
    } else {
        SendPlan { at: now, reason: "夜间发送：推迟到早晨将不足法定提前通知时间" }
    }
}

/// A correction or cancellation: at once for emergencies and in daytime;
/// at night moved to the morning when that is still before the start.
pub fn plan_followup(emergency: bool, start: BeijingTime, now: BeijingTime, quiet: QuietHours) -> SendPlan {
    if emergency {
        return SendPlan { at: now, reason: "紧急停供，立即发送" };
    }
    if !quiet.contains(now.time()) {
        return SendPlan { at: now, reason: "日间，立即发送" };
    }
    let morning = quiet.next_end(now);
    if morning < start {
        SendPlan { at: morning, reason: "避开夜间，次日早晨发送" }
    } else {
        SendPlan { at: now, reason: "夜间发送：停供开始前已无日间时段" }
    }
}

/// The reminder `hours` before the start; one that would fall in the quiet
/// hours goes half an hour before they begin, the evening before.
pub fn reminder_at(start: BeijingTime, hours: i64, quiet: QuietHours) -> BeijingTime {
    let t = BeijingTime::from_utc(start.to_utc() - Duration::hours(hours));
    if !quiet.contains(t.time()) {
        return t;
    }
    let day = if t.time() >= quiet.start { t.date() } else { t.date().pred_opt().unwrap_or(t.date()) };
    at(day, quiet.start).map_or(t, |q| BeijingTime::from_utc(q.to_utc() - Duration::minutes(30)))
}

/// `2026年11月25日 08:00 至 18:00`, or with the end date when it differs.
pub fn window(start: BeijingTime, end: BeijingTime) -> String {
    let s = start.to_chinese();
    if start.date() == end.date() {
        format!("{s} 至 {}", end.to_rfc3339().get(11..16).unwrap_or_default())
    } else if start.date().year_ce() == end.date().year_ce() {
        let e = end.to_chinese();
        format!("{s} 至 {}", e.get(e.find('年').map_or(0, |i| i + '年'.len_utf8())..).unwrap_or(&e))
    } else {
        format!("{s} 至 {}", end.to_chinese())
    }
}

/// What a message says (000 §6: accurate, complete, polite; names the
/// issuing unit and the time of issue).
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub sign: &'a str,
    pub service: Service,
    pub emergency: bool,
    pub issuer: &'a str,
    pub area: &'a str,
    pub start: BeijingTime,
    pub end: BeijingTime,
    pub reason: &'a str,
    pub temporary_supply: Option<&'a str>,
    pub contact: &'a str,
    pub issued: BeijingTime,
}

shared::text_enum! {
    /// Which message of an outage (`outage_versions.kind`): each has its own
    /// approved template.
    pub enum MessageKind {
        Notice => "notice",
        Correction => "correction",
        Cancellation => "cancellation",
        Reminder => "reminder",
    }
}

impl MessageKind {
    /// The approved template text (the provider fills `${name}` from the
    /// parameters; the signature is added in front).
    pub fn template(self) -> &'static str {
        match self {
            Self::Notice => {
                "尊敬的用户：因${reason}，${area}将于${window}${what}，${supply}请提前做好准备，给您带来不便敬请谅解。咨询电话${contact}。${issuer}，${issued}发布"
            }
            Self::Correction => {
                "更正：${area}${what}调整为${window}，原因：${reason}。${supply}以本条为准，给您带来不便敬请谅解。咨询电话${contact}。${issuer}，${issued}发布"
            }
            Self::Cancellation => {
                "尊敬的用户：原定${window}${area}的${what}已取消，${reason}。咨询电话${contact}。${issuer}，${issued}发布"
            }
            Self::Reminder => {
                "温馨提示：${area}将于${window}${what}，${supply}请做好准备。咨询电话${contact}。${issuer}，${issued}发布"
            }
        }
    }
}

/// The approved template of a 降压供水 notice: what low pressure means for
/// the household, and to store water.
pub const PRESSURE_NOTICE: &str = "尊敬的用户：因${reason}，${area}将于${window}${what}，届时水压偏低，高楼层可能供水不足，${supply}请提前储水，给您带来不便敬请谅解。咨询电话${contact}。${issuer}，${issued}发布";

/// A message as sent: the template parameters and the full text the
/// citizen reads (signature included), which is what is counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    pub params: Vec<(String, String)>,
}

/// Fills `${name}` placeholders; an unknown name stays as written.
pub fn fill(template: &str, params: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 2..).unwrap_or_default();
        match after.find('}') {
            Some(j) => {
                let name = after.get(..j).unwrap_or_default();
                match params.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(rest.get(i..i + j + 3).unwrap_or_default()),
                }
                rest = after.get(j + 1..).unwrap_or_default();
            }
            None => {
                out.push_str(rest.get(i..).unwrap_or_default());
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The message of one kind, signature included.
pub fn render_kind(n: &Notice<'_>, kind: MessageKind) -> Rendered {
    let what = if n.emergency { format!("紧急{}", n.service.verb()) } else { n.service.verb().to_owned() };
    let supply = n.temporary_supply.map(|t| format!("临时供应点：{t}。")).unwrap_or_default();
    let params: Vec<(String, String)> = [
        ("reason", n.reason.to_owned()),
        ("area", n.area.to_owned()),
        ("window", window(n.start, n.end)),
        ("what", what),
        ("supply", supply),
        ("contact", n.contact.to_owned()),
        ("issuer", n.issuer.to_owned()),
        ("issued", n.issued.to_chinese()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let template = match (kind, n.service.effect) {
        (MessageKind::Notice, Effect::ReducedPressure) => PRESSURE_NOTICE,
        _ => kind.template(),
    };
    Rendered { text: format!("【{}】{}", n.sign, fill(template, &params)), params }
}

/// The first notice's text, signature included.
pub fn render(n: &Notice<'_>) -> String {
    render_kind(n, MessageKind::Notice).text
}

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// SMS parts: 70 characters (signature included) fit one message; longer
/// ones are split in parts of 67.
pub fn parts(text: &str) -> usize {
    let n = text.chars().count();
    if n <= 70 { 1 } else { n.div_ceil(67) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use shared::testing::at as t;

    #[test]
    fn planned_stops_need_24_hours_for_water_and_48_for_gas_and_emergencies_none() {
        let now = t("2026-11-23T10:00:00+08:00");
        let start = t("2026-11-24T10:00:00+08:00");
        assert!(check_lead_time(Utility::Water.into(), false, start, now).is_ok());
        assert!(check_lead_time(Utility::Water.into(), false, t("2026-11-24T09:59:00+08:00"), now).is_err());
        let gas = check_lead_time(Utility::Gas.into(), false, start, now).unwrap_err();
        assert!(gas.contains("48"), "{gas}");
        assert!(check_lead_time(Utility::Gas.into(), true, t("2026-11-23T10:30:00+08:00"), now).is_ok());
    }

    #[test]
    fn quiet_hours_move_planned_sends_to_the_morning_unless_that_misses_the_notice() {
        let q = QuietHours::default();
        let start = t("2026-11-26T09:00:00+08:00");
        // 23:30 Beijing is 15:30 UTC: still "tonight" in Beijing.
        let night = t("2026-11-23T15:30:00Z");
        let p = plan_send(Utility::Water.into(), false, start, night, q);
        assert_eq!((p.at.to_rfc3339().as_str(), p.reason), ("2026-11-24T07:00:00+08:00", "避开夜间，次日早晨发送"));
        // 01:00 Beijing: the same morning.
        let small_hours = t("2026-11-24T01:00:00+08:00");
        assert_eq!(
            plan_send(Utility::Water.into(), false, start, small_hours, q).at.to_rfc3339(),
            "2026-11-24T07:00:00+08:00"
        );
        // Starting 07:30 the day after tomorrow by gas: waiting for 07:00 leaves 48.5 h, fine;
        // starting 06:30 it would leave 47.5 h, so it goes now.
        let tight = plan_send(Utility::Gas.into(), false, t("2026-11-26T06:30:00+08:00"), night, q);
        assert_eq!(tight.at, night);
        assert!(tight.reason.starts_with("夜间发送"));
        assert_eq!(
            plan_send(Utility::Water.into(), false, start, t("2026-11-23T10:00:00+08:00"), q).reason,
            "日间，立即发送"
        );
        assert_eq!(plan_send(Utility::Water.into(), true, start, night, q).at, night);
    }

    #[test]
    fn the_message_names_the_unit_the_issue_time_and_a_chinese_time_window() {
        let n = Notice {
            sign: "义乌便民",
            service: Utility::Water.into(),
            emergency: false,
            issuer: "义乌市供水有限公司",
            area: "稠城街道宾王小区",
            start: t("2026-11-25T08:00:00+08:00"),
            end: t("2026-11-25T18:00:00+08:00"),
            reason: "管网改造",
            temporary_supply: Some("小区北门"),
            contact: "0579-85510011",
            issued: t("2026-11-23T10:00:00+08:00"),
        };
        let text = render(&n);
        assert!(text.starts_with("【义乌便民】"), "{text}");
        assert!(text.contains("2026年11月25日 08:00 至 18:00停水"), "{text}");
        assert!(text.contains("义乌市供水有限公司，2026年11月23日 10:00发布"), "{text}");
        assert!(text.contains("临时供应点：小区北门"));
        assert_eq!(parts(&text), text.chars().count().div_ceil(67));
        let overnight = window(t("2026-11-25T22:00:00+08:00"), t("2026-11-26T06:00:00+08:00"));
        assert_eq!(overnight, "2026年11月25日 22:00 至 11月26日 06:00");
    }

    #[test]
    fn reduced_pressure_has_its_own_notice_and_the_stops_24_hour_rule() {
        let pressure = Service { utility: Utility::Water, effect: Effect::ReducedPressure };
        let now = t("2026-11-23T10:00:00+08:00");
        assert!(check_lead_time(pressure, false, t("2026-11-24T10:00:00+08:00"), now).is_ok());
        let short = check_lead_time(pressure, false, t("2026-11-24T09:00:00+08:00"), now).unwrap_err();
        assert!(short.contains("计划降压供水须至少提前24小时"), "{short}");
        let n = Notice {
            sign: "义乌便民",
            service: pressure,
            emergency: false,
            issuer: "义乌市供水有限公司",
            area: "稠城街道宾王小区",
            start: t("2026-11-25T08:00:00+08:00"),
            end: t("2026-11-25T18:00:00+08:00"),
            reason: "管网冲洗",
            temporary_supply: None,
            contact: "0579-85510011",
            issued: now,
        };
        let notice = render_kind(&n, MessageKind::Notice).text;
        assert!(notice.contains("08:00 至 18:00降压供水，届时水压偏低，高楼层可能供水不足"), "{notice}");
        let cancel = render_kind(&n, MessageKind::Cancellation).text;
        assert!(cancel.contains("的降压供水已取消") && !cancel.contains("水压偏低"), "{cancel}");
        let stop = render_kind(&Notice { service: Utility::Water.into(), ..n }, MessageKind::Notice).text;
        assert!(stop.contains("停水") && !stop.contains("水压偏低"), "{stop}");
    }

    #[test]
    fn followups_and_reminders_respect_quiet_hours_across_midnight() {
        let q = QuietHours::default();
        let start = t("2026-11-24T09:00:00+08:00");
        // 23:30: a correction waits for 07:00 when the stop starts after it...
        let p = plan_followup(false, start, t("2026-11-23T23:30:00+08:00"), q);
        assert_eq!((p.at, p.reason), (t("2026-11-24T07:00:00+08:00"), "避开夜间，次日早晨发送"));
        // ...and goes at once when the stop starts before the morning, or in an emergency.
        let p = plan_followup(false, t("2026-11-24T06:00:00+08:00"), t("2026-11-23T23:30:00+08:00"), q);
        assert!(p.reason.starts_with("夜间发送"));
        assert_eq!(plan_followup(true, start, t("2026-11-24T02:00:00+08:00"), q).at, t("2026-11-24T02:00:00+08:00"));
        // A reminder 2 h before 09:00 is at 07:00 (daytime); 4 h before 08:00 would be 04:00, so 21:30 the evening before.
        assert_eq!(reminder_at(start, 2, q), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(reminder_at(t("2026-11-24T08:00:00+08:00"), 4, q), t("2026-11-23T21:30:00+08:00"));
        // 23:00 is quiet; the evening before midnight keeps its own date.
        assert_eq!(reminder_at(t("2026-11-25T01:00:00+08:00"), 2, q), t("2026-11-24T21:30:00+08:00"));
        assert_eq!(q.daytime(t("2026-11-24T06:59:00+08:00")), t("2026-11-24T07:00:00+08:00"));
        assert_eq!(QuietHours::parse("22:00-07:00"), Some(q));
        let late = QuietHours::parse(" 23:30 - 06:00 ").unwrap();
        assert!(
            late.contains(chrono::NaiveTime::from_hms_opt(23, 45, 0).unwrap())
                && !late.contains(chrono::NaiveTime::from_hms_opt(22, 30, 0).unwrap())
        );
        assert_eq!(QuietHours::parse("07:00-07:00"), None);
        assert_eq!(QuietHours::parse("22:00"), None);
    }

    #[test]
    fn every_kind_fills_its_template_and_unknown_placeholders_stay() {
        let n = Notice {
            sign: "义乌便民",
            service: Utility::Gas.into(),
            emergency: false,
            issuer: "义乌市天然气有限公司",
            area: "宾王小区",
            start: t("2026-11-25T08:00:00+08:00"),
            end: t("2026-11-25T12:00:00+08:00"),
            reason: "施工计划调整",
            temporary_supply: None,
            contact: "0579-85200000",
            issued: t("2026-11-23T10:00:00+08:00"),
        };
        for kind in [MessageKind::Notice, MessageKind::Correction, MessageKind::Cancellation, MessageKind::Reminder] {
            let r = render_kind(&n, kind);
            assert!(!r.text.contains("${"), "{kind:?}: {}", r.text);
            assert!(r.text.contains("义乌市天然气有限公司，2026年11月23日 10:00发布"), "{}", r.text);
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
        assert!(
            render_kind(&n, MessageKind::Cancellation)
                .text
                .contains("原定2026年11月25日 08:00 至 12:00宾王小区的停气已取消")
        );
        let p = vec![("a".to_owned(), "1".to_owned())];
        assert_eq!(fill("x${a}y${b}z${", &p), "x1y${b}z${");
    }

    #[test]
    fn utilities_and_message_kinds_serialize_as_their_stored_names() {
        for u in [Utility::Water, Utility::Gas] {
            assert_eq!(Utility::parse(u.as_str()), Some(u));
            assert_eq!(serde_json::to_value(u).unwrap(), u.as_str());
        }
        assert_eq!(Utility::parse("electricity"), None);
        for kind in [MessageKind::Notice, MessageKind::Correction, MessageKind::Cancellation, MessageKind::Reminder] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn seventy_characters_fit_one_message_and_longer_texts_split_by_67() {
        assert_eq!(parts(&"水".repeat(70)), 1);
        assert_eq!(parts(&"水".repeat(71)), 2);
        assert_eq!(parts(&"水".repeat(134)), 2);
        assert_eq!(parts(&"水".repeat(135)), 3);
    }
}
