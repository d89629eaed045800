//! Outbound HTTP behind a trait, so provider clients (WeChat, Aliyun SMS)
//! are plain Rust tested natively against scripted answers, and use
//! `fetch` only at the edge.

use crate::error::ApiResult;
use std::cell::RefCell;
use std::collections::VecDeque;

/// An outbound request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    /// Response headers, names lower-case.
    pub headers: Vec<(String, String)>,
}

impl HttpResponse {
    /// A response header by its (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends HTTP requests. A transport failure (DNS, TLS, timeout) is an `Err`;
/// any HTTP status is an `Ok`.
#[allow(async_fn_in_trait)]
pub trait Http {
    /// Sends one request.
    async fn send(&self, req: HttpRequest) -> ApiResult<HttpResponse>;
}

/// A scripted [`Http`] for tests: answers in order and records every request.
#[derive(Debug, Default)]
pub struct ScriptedHttp {
    answers: RefCell<VecDeque<ApiResult<HttpResponse>>>,
    pub sent: RefCell<Vec<HttpRequest>>,
}

impl ScriptedHttp {
    /// Queues an answer with `status` and `body`.
    pub fn answer(&self, status: u16, body: &str) -> &Self {
        self.answer_with_headers(status, body, &[])
    }

    /// Queues an answer with headers.
    pub fn answer_with_headers(&self, status: u16, body: &str, headers: &[(&str, &str)]) -> &Self {
        let headers = headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())).collect();
        self.answers.borrow_mut().push_back(Ok(HttpResponse { status, body: body.to_owned(), headers }));
        self
    }

    /// Queues a transport failure.
    pub fn fail(&self) -> &Self {
        self.answers.borrow_mut().push_back(Err(crate::error::ApiError::internal("connection refused")));
        self
    }
}

impl Http for ScriptedHttp {
    async fn send(&self, req: HttpRequest) -> ApiResult<HttpResponse> {
        self.sent.borrow_mut().push(req);
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Err(crate::error::ApiError::internal("no scripted answer")))
    }
}

/// Percent-encoding of RFC 3986 unreserved-only, as Aliyun and most signed
/// APIs require (space is `%20`, `*` is `%2A`, `~` stays).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn percent_encoding_follows_rfc3986_unreserved() {
        assert_eq!(percent_encode("a b*c~d/e+f"), "a%20b%2Ac~d%2Fe%2Bf");
        assert_eq!(percent_encode("阿"), "%E9%98%BF");
    }
}
