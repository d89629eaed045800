//! The staff queue's filters (`GET /v1/admin/complaints?status=&overdue=&kind=&department=&q=`),
//! parsed once at the edge; `handling::list` turns them into SQL.

use crate::kind::Kind;
use crate::status::Status;
use shared::error::{ApiError, ApiResult};
use shared::http::Query;
use shared::store::Value;

/// The longest department name or search text, in characters (a
/// department is stored with at most 50, see `step.rs`).
pub const MAX_FILTER_CHARS: usize = 50;

/// What the queue is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub status: Option<Status>,
    /// Open and past the deadline only.
    pub overdue: bool,
    pub kind: Option<Kind>,
    /// The department now handling it, exactly.
    pub department: Option<String>,
    /// Found in the number, the subject or the category.
    pub text: Option<String>,
}

impl Filter {
    /// Reads the query: 400 naming the parameter for an unknown status or
    /// kind, or a text over [`MAX_FILTER_CHARS`].
    pub fn parse(q: &Query) -> ApiResult<Self> {
        let status = match q.get("status") {
            None | Some("") => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| {
                ApiError::bad_field("status", "status 应为 received、assigned、replied、referred 或 closed")
            })?),
        };
        let kind = match q.get("kind") {
            None | Some("") => None,
            Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                ApiError::bad_field("kind", "kind 应为 complaint、report、suggestion 或 consultation")
            })?),
        };
        Ok(Self {
            status,
            overdue: matches!(q.get("overdue"), Some("true" | "1")),
            kind,
            department: text(q, "department", "承办部门")?,
            text: text(q, "q", "关键词")?,
        })
    }

    /// The filter as the access log records it (`q=…;department=…`, only what was set).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.status {
            parts.push(format!("status={}", s.as_str()));
        }
        if let Some(k) = self.kind {
            parts.push(format!("kind={}", k.as_str()));
        }
        if let Some(d) = &self.department {
            parts.push(format!("department={d}"));
        }
        if let Some(t) = &self.text {
            parts.push(format!("q={t}"));
        }
        if self.overdue {
            parts.push("overdue".to_owned());
        }
        if parts.is_empty() { "all".to_owned() } else { parts.join(";") }
    }

    /// The SQL conditions after the scope's (each starting ` AND `), with
    /// their parameters appended to `args`; `?1` is today.
    pub fn sql(&self, args: &mut Vec<Value>) -> String {
        let mut sql = String::new();
        let mut push = |cond: &str, v: Value, args: &mut Vec<Value>| {
            args.push(v);
            sql.push_str(&cond.replace("?N", &format!("?{}", args.len())));
        };
        if let Some(s) = self.status {
            push(" AND status = ?N", s.as_str().into(), args);
        }
        if let Some(k) = self.kind {
            push(" AND kind = ?N", k.as_str().into(), args);
        }
        if let Some(d) = &self.department {
            push(" AND department = ?N", d.as_str().into(), args);
        }
        if let Some(t) = &self.text {
            // instr, not LIKE: no character is a wildcard (see faq.rs).
            let cond =
                " AND (instr(upper(number), upper(?N)) > 0 OR instr(subject, ?N) > 0 OR instr(category, ?N) > 0)";
            push(cond, t.as_str().into(), args);
        }
        if self.overdue {
            sql.push_str(" AND status <> 'closed' AND deadline < ?1");
        }
        sql
    }
}

/// A text parameter trimmed and stripped of control characters; None when empty.
fn text(q: &Query, key: &str, name: &str) -> ApiResult<Option<String>> {
    let t: String = q.get(key).unwrap_or_default().trim().chars().filter(|c| !c.is_control()).collect();
    if t.chars().count() > MAX_FILTER_CHARS {
        return Err(ApiError::bad_field(key, format!("{name}不超过{MAX_FILTER_CHARS}个字")));
    }
    Ok(if t.is_empty() { None } else { Some(t) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(raw: &str) -> ApiResult<Filter> {
        Filter::parse(&Query::parse(raw).unwrap())
    }

    #[test]
    fn every_filter_reads_back_and_empty_ones_are_none() {
        let f =
            parse("status=assigned&overdue=1&kind=consultation&department=%E4%BE%9B%E6%B0%B4&q=+%E6%BC%8F%E6%B0%B4+")
                .unwrap();
        assert_eq!(f.status, Some(Status::Assigned));
        assert!(f.overdue);
        assert_eq!(f.kind, Some(Kind::Consultation));
        assert_eq!(f.department.as_deref(), Some("供水"));
        assert_eq!(f.text.as_deref(), Some("漏水"));
        assert_eq!(parse("status=&kind=&department=+&q=%01").unwrap(), Filter::default());
    }

    #[test]
    fn unknown_codes_and_long_texts_name_their_parameter() {
        for (raw, field) in
            [("status=open", "status"), ("kind=rant", "kind"), ("q=", "q"), ("department=", "department")]
        {
            let raw = if raw.ends_with('=') {
                format!("{raw}{}", "水".repeat(MAX_FILTER_CHARS + 1))
            } else {
                raw.to_owned()
            };
            let err = parse(&raw).unwrap_err();
            assert_eq!((err.status(), err.fields[0].field.as_str()), (400, field), "{raw}");
        }
        assert!(parse(&format!("q={}", "水".repeat(MAX_FILTER_CHARS))).is_ok());
    }

    #[test]
    fn the_conditions_number_their_parameters_after_the_scope_s() {
        let f = Filter { kind: Some(Kind::Report), text: Some("TS".into()), overdue: true, ..Filter::default() };
        let mut args: Vec<Value> = vec!["2026-10-01".into(), "供水".into()];
        let sql = f.sql(&mut args);
        assert_eq!(args.len(), 4);
        assert!(sql.starts_with(" AND kind = ?3 AND (instr(upper(number), upper(?4)) > 0"), "{sql}");
        assert!(sql.ends_with(" AND status <> 'closed' AND deadline < ?1"), "{sql}");
        assert_eq!(Filter::default().sql(&mut args), "");
    }
}
