//! `fetch` as an [`Http`].

use crate::error::{ApiError, ApiResult};
use crate::outbound::{Http, HttpRequest, HttpResponse};
use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Outbound HTTP through the Workers `fetch`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FetchHttp;

impl Http for FetchHttp {
    async fn send(&self, req: HttpRequest) -> ApiResult<HttpResponse> {
        let fail =
            |e: worker::Error| ApiError::internal(format!("fetch {}: {e}", req.url.split('?').next().unwrap_or("")));
        let headers = Headers::new();
        for (k, v) in &req.headers {
            headers.set(k, v).map_err(fail)?;
        }
        let mut init = RequestInit::new();
        init.with_method(if req.method == "POST" { Method::Post } else { Method::Get }).with_headers(headers);
        if let Some(body) = &req.body {
            init.with_body(Some(JsValue::from_str(body)));
        }
        let request = Request::new_with_init(&req.url, &init).map_err(fail)?;
        let mut resp = Fetch::Request(request).send().await.map_err(fail)?;
        let body = resp.text().await.map_err(fail)?;
        Ok(HttpResponse { status: resp.status_code(), body })
    }
}
