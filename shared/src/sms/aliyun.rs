//! Aliyun SMS (dysmsapi 2017-05-25): `SendSms` (one text, up to 1000 numbers) with the
//! RPC signature version 1.0 (HMAC-SHA1 over the sorted, percent-encoded
//! parameters), sent as a form POST to a configurable endpoint
//! (`https://dysmsapi.aliyuncs.com` in production, the local fake in tests).

use super::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
use crate::crypto::hmac_sha1_base64;
use crate::outbound::{Http, HttpRequest, percent_encode};
use crate::types::BeijingTime;
use serde::Deserialize;
use serde_json::{Map, Value};

/// API version of dysmsapi.
pub const API_VERSION: &str = "2017-05-25";

/// An Aliyun SMS account.
pub struct AliyunSms<'a, H: Http> {
    pub http: &'a H,
    /// Base URL without trailing slash.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// The approved signature (签名), e.g. 义乌便民.
    pub sign_name: String,
    pub region: String,
}

/// `method&%2F&percent(canonicalized query)`: the string Aliyun signs.
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    format!("{method}&%2F&{}", percent_encode(&canonical_query(params)))
}

/// Parameters sorted by name, each `percent(k)=percent(v)`, joined by `&`.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// The `Signature` parameter: base64 HMAC-SHA1 keyed by `secret + "&"`.
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    hmac_sha1_base64(format!("{secret}&").as_bytes(), string_to_sign(method, params).as_bytes())
}

/// How Aliyun's error codes should be handled.
pub fn classify(code: &str) -> FailureClass {
    match code {
        "isv.BUSINESS_LIMIT_CONTROL"
        | "isv.DAY_LIMIT_CONTROL"
        | "isv.MINUTE_LIMIT_CONTROL"
        | "isv.HOUR_LIMIT_CONTROL"
        | "Throttling"
        | "Throttling.User"
        | "Throttling.Api" => FailureClass::RateLimited,
        "isp.SYSTEM_ERROR"
        | "isp.GATEWAY_ERROR"
        | "isp.OUT_OF_SERVICE_TEMPORARY"
        | "ServiceUnavailable"
        | "InternalError"
        | "transport"
        | "http_5xx"
        | "bad_response" => FailureClass::Retryable,
        _ => FailureClass::Permanent,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    message: Option<String>,
    biz_id: Option<String>,
}

impl<H: Http> AliyunSms<'_, H> {
    /// The full, signed parameter list of a send (public for tests and the fake).
    pub fn params(&self, msg: &SmsMessage, now: BeijingTime, nonce: &str) -> Vec<(String, String)> {
        let template: Map<String, Value> =
            msg.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let template = Value::Object(template).to_string();
        let phones: Vec<&str> = msg.phones.iter().map(|p| p.expose()).collect();
        let mut p: Vec<(String, String)> = vec![
            ("AccessKeyId".into(), self.access_key_id.clone()),
            ("Format".into(), "JSON".into()),
            ("RegionId".into(), self.region.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureNonce".into(), nonce.into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("Timestamp".into(), now.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("Version".into(), API_VERSION.into()),
            ("TemplateCode".into(), msg.template_code.clone()),
        ];
        // One text to many numbers: SendSms takes up to 1000, comma-separated
        // (SendBatchSms, 100 numbers, is for a different signature or
        // parameters per number, which no sender here needs).
        p.push(("Action".into(), "SendSms".into()));
        p.push(("PhoneNumbers".into(), phones.join(",")));
        p.push(("SignName".into(), self.sign_name.clone()));
        p.push(("TemplateParam".into(), template));
        let sig = signature("POST", &p, &self.access_key_secret);
        p.push(("Signature".into(), sig));
        p
    }
}

fn failed(code: &str, message: &str) -> SmsOutcome {
    SmsOutcome::Failed { code: code.to_owned(), message: message.to_owned(), class: classify(code) }
}

impl<H: Http> SmsProvider for AliyunSms<'_, H> {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    async fn send(&self, msg: &SmsMessage, now: BeijingTime, nonce: &str) -> SmsOutcome {
        let params = self.params(msg, now, nonce);
        let body =
            params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>();
        let req = HttpRequest {
            method: "POST",
            url: format!("{}/", self.endpoint.trim_end_matches('/')),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: Some(body.join("&")),
        };
        let resp = match self.http.send(req).await {
            Ok(r) => r,
            Err(_) => return failed("transport", "短信服务连接失败"),
        };
        let answer: Option<Answer> = serde_json::from_str(&resp.body).ok();
        match answer {
            Some(Answer { code: Some(code), biz_id, .. }) if code == "OK" => {
                SmsOutcome::Sent { biz_id: biz_id.unwrap_or_default() }
            }
            Some(Answer { code: Some(code), message, .. }) => failed(&code, &message.unwrap_or_default()),
            _ if resp.status >= 500 => failed("http_5xx", &format!("HTTP {}", resp.status)),
            _ => failed("bad_response", &format!("HTTP {}", resp.status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::ScriptedHttp;
    use crate::types::MobileNumber;
    use futures_executor::block_on;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The worked example of Aliyun's RPC signature documentation (ECS
    /// DescribeRegions, secret `testsecret`).
    #[test]
    fn signature_matches_the_documented_ecs_example() {
        let p = pairs(&[
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ]);
        assert_eq!(signature("GET", &p, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    /// The SendSms example of the SMS API documentation (secret `testSecret`),
    /// with a Chinese SignName and a JSON TemplateParam.
    #[test]
    fn signature_matches_the_documented_sendsms_example() {
        let p = pairs(&[
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]);
        assert_eq!(signature("GET", &p, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert!(string_to_sign("GET", &p).starts_with("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms"));
    }

    #[test]
    fn error_codes_are_classified() {
        assert_eq!(classify("isv.BUSINESS_LIMIT_CONTROL"), FailureClass::RateLimited);
        assert_eq!(classify("isp.SYSTEM_ERROR"), FailureClass::Retryable);
        assert_eq!(classify("transport"), FailureClass::Retryable);
        for permanent in
            ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.AMOUNT_NOT_ENOUGH", "SignatureDoesNotMatch"]
        {
            assert_eq!(classify(permanent), FailureClass::Permanent, "{permanent}");
        }
    }

    fn client(http: &ScriptedHttp) -> AliyunSms<'_, ScriptedHttp> {
        AliyunSms {
            http,
            endpoint: "http://sms.test".into(),
            access_key_id: "id".into(),
            access_key_secret: "secret".into(),
            sign_name: "义乌便民".into(),
            region: "cn-hangzhou".into(),
        }
    }

    fn msg(phones: &[&str]) -> SmsMessage {
        SmsMessage {
            phones: phones.iter().map(|p| MobileNumber::parse(p).unwrap()).collect(),
            template_code: "SMS_100001".into(),
            params: vec![("code".into(), "123456".into())],
        }
    }

    #[test]
    fn a_send_is_a_signed_form_post_and_ok_yields_the_biz_id() {
        let http = ScriptedHttp::default();
        http.answer(200, r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"R1"}"#);
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        let out = block_on(client(&http).send(&msg(&["13812345678"]), now, "nonce-1"));
        assert_eq!(out, SmsOutcome::Sent { biz_id: "900619746936498440^0".into() });
        let sent = http.sent.borrow();
        let body = sent[0].body.as_deref().unwrap();
        assert!(body.contains("Action=SendSms") && body.contains("PhoneNumbers=13812345678"));
        assert!(body.contains("Timestamp=2026-11-23T02%3A00%3A00Z"));
        assert!(body.contains("TemplateParam=%7B%22code%22%3A%22123456%22%7D"));
        // The signature in the body verifies over the other parameters.
        let params: Vec<(String, String)> = client(&http).params(&msg(&["13812345678"]), now, "nonce-1");
        let (sig, rest): (Vec<_>, Vec<_>) = params.into_iter().partition(|(k, _)| k == "Signature");
        assert_eq!(sig[0].1, signature("POST", &rest, "secret"));
        assert!(body.contains(&format!("Signature={}", percent_encode(&sig[0].1))));
    }

    #[test]
    fn several_numbers_go_in_one_send_sms_and_failures_are_classified() {
        let http = ScriptedHttp::default();
        http.answer(200, r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}"#)
            .answer(502, "bad gateway")
            .fail();
        let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
        let c = client(&http);
        let out = block_on(c.send(&msg(&["13812345678", "13912345678"]), now, "n"));
        assert!(matches!(out, SmsOutcome::Failed { class: FailureClass::RateLimited, .. }));
        let body = http.sent.borrow()[0].body.clone().unwrap();
        assert!(body.contains("Action=SendSms") && body.contains("PhoneNumbers=13812345678%2C13912345678"));
        let out = block_on(c.send(&msg(&["13812345678"]), now, "n2"));
        assert!(matches!(out, SmsOutcome::Failed { class: FailureClass::Retryable, .. }));
        let out = block_on(c.send(&msg(&["13812345678"]), now, "n3"));
        assert!(
            matches!(out, SmsOutcome::Failed { ref code, class: FailureClass::Retryable, .. } if code == "transport")
        );
    }
}
