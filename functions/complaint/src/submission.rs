//! What a citizen submits (or an Open311 client files), and whether it can
//! be accepted, decided without storage.

use crate::kind::Kind;
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, FieldError};

/// Content limits, in characters.
pub const MAX_CONTENT_CHARS: usize = 2_000;
pub const MIN_CONTENT_CHARS: usize = 5;

/// Photos one submission may carry.
pub const MAX_PHOTOS: usize = 4;

/// Where it happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
}

/// A submission from a logged-in citizen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The submitted text of a [`Kind`]; checked by [`check`].
    pub kind: String,
    pub category: String,
    /// The unit or person concerned (被投诉单位或个人); required for complaints and reports.
    #[serde(default)]
    pub subject: String,
    pub content: String,
    #[serde(default)]
    pub location: Option<Location>,
    /// Stay anonymous towards the unit concerned.
    #[serde(default)]
    pub anonymous: bool,
    /// Listed publicly through Open311 (status, category, rounded location;
    /// never the content). Off unless the author asks.
    #[serde(default)]
    pub public: bool,
    /// Without a login: the phone, confirmed by the code sent through
    /// `POST /v1/auth/sms-code` (the record is then that phone's).
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub sms_code: Option<String>,
    /// Up to [`MAX_PHOTOS`] images uploaded first (`POST /v1/complaints/uploads`).
    #[serde(default)]
    pub photos: Vec<String>,
}

/// Plain text only: control characters other than newlines are dropped
/// (the text is never rendered as HTML, and is returned as JSON strings).
pub fn plain(s: &str) -> String {
    s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect()
}

/// The submission's kind when every field is acceptable, else every problem.
pub fn check(s: &Submission) -> Result<Kind, Vec<FieldError>> {
    let mut errs = Vec::new();
    let kind = Kind::parse(&s.kind);
    if kind.is_none() {
        errs.push(FieldError::new(
            "kind",
            "类型应为 complaint（投诉）、report（举报）、suggestion（建议）或 consultation（咨询）",
        ));
    }
    if !(1..=20).contains(&s.category.trim().chars().count()) {
        errs.push(FieldError::new("category", "请选择分类（1-20个字）"));
    }
    let subject = s.subject.trim().chars().count();
    if kind.is_some_and(Kind::names_a_subject) && subject == 0 {
        errs.push(FieldError::new("subject", "请填写被投诉（举报）的单位或个人"));
    }
    if subject > 100 {
        errs.push(FieldError::new("subject", "单位或个人名称不超过100字"));
    }
    let n = plain(&s.content).chars().count();
    if !(MIN_CONTENT_CHARS..=MAX_CONTENT_CHARS).contains(&n) {
        errs.push(FieldError::new("content", format!("内容应为{MIN_CONTENT_CHARS}-{MAX_CONTENT_CHARS}个字")));
    }
    if let Some(l) = &s.location {
        errs.extend(check_location(l));
    }
    if s.photos.len() > MAX_PHOTOS {
        errs.push(FieldError::new("photos", format!("最多{MAX_PHOTOS}张照片")));
    }
    match kind {
        Some(kind) if errs.is_empty() => Ok(kind),
        _ => Err(errs),
    }
}

fn check_location(l: &Location) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let bad_point = match (l.lat, l.lng) {
        (Some(lat), Some(lng)) => !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng),
        (None, None) => false,
        _ => true,
    };
    if bad_point {
        errs.push(FieldError::new("location", "经纬度应同时提供且在有效范围内"));
    }
    if l.address.as_deref().is_some_and(|a| a.chars().count() > 200) {
        errs.push(FieldError::new("location.address", "地址不超过200字"));
    }
    errs
}

/// The verdict on a submission: its kind, or one validation error listing
/// the field problems of [`check`] and then the photos' when they are not
/// the citizen's unused images (`photos_free`).
pub fn accept(checked: Result<Kind, Vec<FieldError>>, photos_free: bool) -> Result<Kind, ApiError> {
    let mut errs = match checked {
        Ok(kind) if photos_free => return Ok(kind),
        Ok(_) => Vec::new(),
        Err(errs) => errs,
    };
    if !photos_free {
        errs.push(FieldError::new("photos", "照片须是您刚上传且未使用过的 JPG 或 PNG 图片，请重新上传"));
    }
    Err(ApiError::validation(errs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sub(kind: &str) -> Submission {
        Submission {
            kind: kind.into(),
            category: "供水".into(),
            subject: "某营业厅".into(),
            content: "窗口人员态度差。".into(),
            location: None,
            anonymous: true,
            public: false,
            phone: None,
            sms_code: None,
            photos: Vec::new(),
        }
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_good_submission_yields_its_kind() {
        assert_eq!(check(&sub("consultation")), Ok(Kind::Consultation));
    }

    #[test]
    fn complaints_and_reports_must_name_the_unit_concerned_but_suggestions_need_not() {
        for kind in ["complaint", "report"] {
            let s = Submission { subject: " ".into(), ..sub(kind) };
            assert_eq!(fields(&check(&s).unwrap_err()), ["subject"], "{kind}");
        }
        assert!(check(&Submission { subject: String::new(), ..sub("suggestion") }).is_ok());
    }

    #[test]
    fn an_unknown_kind_is_reported_with_every_other_problem() {
        let s = Submission { category: String::new(), content: "短".into(), ..sub("rant") };
        assert_eq!(fields(&check(&s).unwrap_err()), ["kind", "category", "content"]);
    }

    #[test]
    fn a_location_needs_both_coordinates_in_range_and_a_short_address() {
        let at = |lat, lng, address: &str| Location { lat, lng, address: Some(address.into()) };
        assert!(check_location(&at(Some(29.3), Some(120.1), "宾王路")).is_empty());
        assert_eq!(fields(&check_location(&at(Some(29.3), None, ""))), ["location"]);
        assert_eq!(fields(&check_location(&at(Some(91.0), Some(0.0), ""))), ["location"]);
        assert_eq!(fields(&check_location(&at(None, None, &"路".repeat(201)))), ["location.address"]);
    }

    #[test]
    fn taken_photos_are_listed_after_the_field_problems() {
        assert_eq!(accept(Ok(Kind::Report), true).unwrap(), Kind::Report);
        let alone = accept(Ok(Kind::Report), false).unwrap_err();
        assert_eq!(fields(&alone.fields), ["photos"]);
        let both = accept(Err(vec![FieldError::new("content", "x")]), false).unwrap_err();
        assert_eq!(fields(&both.fields), ["content", "photos"]);
        let fields_only = accept(Err(vec![FieldError::new("content", "x")]), true).unwrap_err();
        assert_eq!(fields(&fields_only.fields), ["content"]);
    }

    #[test]
    fn control_characters_but_newlines_are_dropped() {
        assert_eq!(plain(" 一\u{0007}行\n二行 "), "一行\n二行");
    }
}
