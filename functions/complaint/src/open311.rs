//! Open311 GeoReport v2 over the same complaints: the service list, request
//! creation by registered clients (`api_key`), and reads with the standard's
//! field names. Reads list only requests filed through Open311 and complaints
//! their authors made public, and carry no personal data: no description
//! (free text may name people), no address, a standard phrase per status as
//! `status_notes` (never a handler's text), the location rounded to about
//! 100 m; 举报 (whistleblowing reports) are never listed.

use crate::open311_services::{SERVICES, Service, service};
use crate::status::Status;
use crate::submission::{Location, Submission};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;

/// A registered client, from `OPEN311_API_KEYS` (`client:key,client:key`).
pub fn client(config: &str, api_key: &str) -> Option<String> {
    config.split(',').filter_map(|pair| pair.trim().split_once(':')).find_map(|(name, key)| {
        (!key.is_empty() && shared::crypto::constant_time_eq(key, api_key)).then(|| name.to_owned())
    })
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// A POST to `requests.json` (form fields) as a submission. Personal fields
/// of the standard (email, names, phone, device and account ids) are not
/// read: nothing would use them, so nothing keeps them.
pub fn submission(form: &[(String, String)]) -> Result<(&'static Service, Submission), Vec<FieldError>> {
    let mut errs = Vec::new();
    let svc = field(form, "service_code").and_then(service);
    if svc.is_none() {
        errs.push(FieldError::new("service_code", "service_code 不存在，见 services.json"));
    }
    let lat = field(form, "lat").map(str::parse::<f64>);
    let lng = field(form, "long").map(str::parse::<f64>);
    let (lat, lng) = match (lat, lng) {
        (Some(Ok(a)), Some(Ok(b))) => (Some(a), Some(b)),
        (None, None) => (None, None),
        _ => {
            errs.push(FieldError::new("lat", "lat 与 long 应同时提供且为数字"));
            (None, None)
        }
    };
    let address = field(form, "address_string").map(str::to_owned);
    if lat.is_none() && address.is_none() {
        errs.push(FieldError::new("lat", "请提供位置：lat 与 long，或 address_string"));
    }
    let description = field(form, "description").unwrap_or_default().to_owned();
    let Some(svc) = svc.filter(|_| errs.is_empty()) else { return Err(errs) };
    let s = Submission {
        kind: svc.kind.as_str().to_owned(),
        category: svc.name.to_owned(),
        subject: svc.name.to_owned(),
        content: description,
        location: Some(Location { lat, lng, address }),
        anonymous: true,
        public: true,
        phone: None,
        sms_code: None,
        photos: Vec::new(),
    };
    Ok((svc, s))
}

/// The client's account (created on first use): Open311 submissions are the
/// client's, as a citizen's are theirs.
pub fn client_citizen(client: &str, now: BeijingTime) -> (String, Stmt) {
    let safe: String = client.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    let id = format!("cit_open311_{safe}");
    let stmt = Stmt::new(
        "INSERT OR IGNORE INTO citizens (id, real_name_level, created_at, updated_at) VALUES (?1, 0, ?2, ?2)",
        vec![id.as_str().into(), now.to_rfc3339().into()],
    );
    (id, stmt)
}

shared::text_enum! {
    /// A request's status in GeoReport v2 terms: open until the case is closed.
    pub enum RequestStatus {
        Open => "open",
        Closed => "closed",
    }
}

impl RequestStatus {
    /// The request status of a case in `status`.
    pub fn of(status: Status) -> Self {
        if status == Status::Closed { Self::Closed } else { Self::Open }
    }
}

/// One request in GeoReport v2 terms.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequestJson {
    pub service_request_id: String,
    pub status: RequestStatus,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: String,
    pub updated_datetime: Option<String>,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    number: String,
    category: String,
    status: Status,
    department: Option<String>,
    location: Option<String>,
    deadline: String,
    created_at: String,
    updated_at: String,
}

fn round(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 1000.0)
}

impl From<Row> for RequestJson {
    fn from(r: Row) -> Self {
        let loc: Option<Location> = r.location.and_then(|l| serde_json::from_str(&l).ok());
        let code = SERVICES.iter().find(|s| s.name == r.category).map_or("other", |s| s.code);
        Self {
            service_request_id: r.number,
            status: RequestStatus::of(r.status),
            status_notes: Some(r.status.phrase().to_owned()),
            service_code: code.to_owned(),
            service_name: Some(r.category),
            description: None,
            agency_responsible: r.department,
            service_notice: None,
            requested_datetime: r.created_at,
            updated_datetime: Some(r.updated_at),
            expected_datetime: Some(format!("{}T23:59:59+08:00", r.deadline)),
            address: None,
            address_id: None,
            zipcode: None,
            lat: round(loc.as_ref().and_then(|l| l.lat)),
            long: round(loc.as_ref().and_then(|l| l.lng)),
            media_url: None,
        }
    }
}

/// GET `requests.json` filters.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub ids: Vec<String>,
    pub service_code: Option<String>,
    pub start: Option<BeijingTime>,
    pub end: Option<BeijingTime>,
    /// `open` or `closed` (a [`RequestStatus`]); anything else does not filter.
    pub status: Option<String>,
}

/// Most requests one GET returns (the standard suggests 1,000; 200 here).
pub const MAX_RESULTS: usize = 200;

/// Requests matching the filter, newest first: those filed through Open311
/// or made public by their authors, never a 举报. Without ids or dates: the
/// last 90 days (the standard's default).
pub async fn list(db: &impl Db, f: &Filter, now: BeijingTime) -> ApiResult<Vec<RequestJson>> {
    let mut cond = vec!["k.public = 1".to_owned(), "k.kind != 'report'".to_owned()];
    let mut args: Vec<Value> = Vec::new();
    if !f.ids.is_empty() {
        let ids: Vec<String> = f.ids.iter().filter_map(|i| crate::number::parse(i)).collect();
        args.push(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()).into());
        cond.push(format!("k.number IN (SELECT value FROM json_each(?{}))", args.len()));
    } else {
        let start = f.start.unwrap_or_else(|| BeijingTime::from_utc(now.to_utc() - chrono::Duration::days(90)));
        args.push(start.to_rfc3339().into());
        cond.push(format!("k.created_at >= ?{}", args.len()));
    }
    if let Some(end) = f.end {
        args.push(end.to_rfc3339().into());
        cond.push(format!("k.created_at <= ?{}", args.len()));
    }
    if let Some(code) = &f.service_code {
        let name = service(code).map_or("", |s| s.name);
        args.push(name.into());
        cond.push(format!("k.category = ?{}", args.len()));
    }
    match f.status.as_deref().and_then(RequestStatus::parse) {
        Some(RequestStatus::Closed) => cond.push("k.status = 'closed'".into()),
        Some(RequestStatus::Open) => cond.push("k.status != 'closed'".into()),
        None => {}
    }
    let rows: Vec<Row> = db
        .query_as(
            &format!(
                "SELECT k.number, k.category, k.status, k.department, k.location, k.deadline, k.created_at, k.updated_at
                   FROM complaints k WHERE {} ORDER BY k.created_at DESC LIMIT {MAX_RESULTS}",
                cond.join(" AND ")
            ),
            &args,
        )
        .await?;
    Ok(rows.into_iter().map(RequestJson::from).collect())
}

/// One request (404 for a 举报 or an unknown number).
pub async fn one(db: &impl Db, id: &str, now: BeijingTime) -> ApiResult<RequestJson> {
    let f = Filter { ids: vec![id.to_owned()], ..Filter::default() };
    list(db, &f, now)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "service_request_id not found"))
}

/// What a POST answers.
#[derive(Debug, Serialize)]
pub struct Created {
    pub service_request_id: String,
    pub service_notice: String,
    pub account_id: Option<String>,
}

/// Files a request from a registered client as a complaint.
pub async fn create(
    db: &impl Db,
    ids: &impl IdSource,
    client: &str,
    form: &[(String, String)],
    days: impl Fn(&str) -> Option<u32>,
    now: BeijingTime,
) -> ApiResult<Created> {
    let (_, s) = submission(form).map_err(ApiError::validation)?;
    let (citizen, stmt) = client_citizen(client, now);
    db.batch(&[stmt]).await?;
    let (r, _) = crate::record::submit(db, ids, &citizen, &s, None, days, now).await?;
    Ok(Created {
        service_notice: format!("已受理，将于 {} 前答复；凭受理编号查询进度。", r.deadline),
        service_request_id: r.number,
        account_id: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kind::Kind;

    #[test]
    fn a_request_is_open_until_its_case_is_closed() {
        for &s in Status::ALL {
            let want = if s == Status::Closed { RequestStatus::Closed } else { RequestStatus::Open };
            assert_eq!(RequestStatus::of(s), want, "{s:?}");
        }
        for r in [RequestStatus::Open, RequestStatus::Closed] {
            assert_eq!(RequestStatus::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
        assert_eq!(RequestStatus::parse("received"), None);
    }

    #[test]
    fn every_service_files_a_kind_open311_may_list() {
        assert!(SERVICES.iter().all(|s| s.kind != Kind::Report));
        let (svc, s) = submission(&[
            ("service_code".into(), "noise".into()),
            ("lat".into(), "29.3".into()),
            ("long".into(), "120.1".into()),
        ])
        .unwrap();
        assert_eq!((svc.kind, s.kind.as_str()), (Kind::Complaint, "complaint"));
    }
}
