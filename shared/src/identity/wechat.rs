//! WeChat mini-program login: `wx.login` code to openid through
//! `jscode2session` (GET {base}/sns/jscode2session). The base URL is
//! configuration (`WECHAT_API_BASE`: https://api.weixin.qq.com in
//! production, the local fake in tests). The session_key WeChat returns is
//! not needed by bianmin and is never stored.

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::outbound::{Http, HttpRequest, percent_encode};
use serde::Deserialize;

/// The mini-program's credentials and WeChat's address.
pub struct WeChat<'a, H: Http> {
    pub http: &'a H,
    pub base_url: String,
    pub appid: String,
    pub secret: String,
}

#[derive(Deserialize)]
struct Answer {
    openid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// Longest `wx.login` code accepted (WeChat's are 32 characters).
const MAX_CODE_LEN: usize = 128;

impl<H: Http> WeChat<'_, H> {
    /// Exchanges a login code for the user's openid.
    pub async fn openid(&self, code: &str) -> ApiResult<String> {
        let code = code.trim();
        if code.is_empty() || code.len() > MAX_CODE_LEN || !code.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::bad_field("code", "缺少有效的微信登录凭证 code"));
        }
        let url = format!(
            "{}/sns/jscode2session?appid={}&secret={}&js_code={}&grant_type=authorization_code",
            self.base_url.trim_end_matches('/'),
            percent_encode(&self.appid),
            percent_encode(&self.secret),
            percent_encode(code)
        );
        let req = HttpRequest { method: "GET", url, headers: vec![], body: None };
        let unavailable = |detail: String| ApiError { internal: Some(detail), ..ErrorCode::WechatUnavailable.into() };
        let resp = self.http.send(req).await.map_err(|e| unavailable(format!("jscode2session transport: {e}")))?;
        let answer: Answer = serde_json::from_str(&resp.body)
            .map_err(|_| unavailable(format!("jscode2session HTTP {} not JSON", resp.status)))?;
        match (answer.errcode.unwrap_or(0), answer.openid) {
            (0, Some(openid)) if !openid.is_empty() => Ok(openid),
            (40029, _) => Err(ErrorCode::WechatCodeInvalid.into()),
            (40163, _) => Err(ErrorCode::WechatCodeUsed.into()),
            (45011, _) => Err(ErrorCode::WechatRateLimited.into()),
            (40226, _) => Err(ApiError::with_message(ErrorCode::Forbidden, "微信判定该账号存在安全风险，暂无法登录")),
            (code, _) => {
                Err(unavailable(format!("jscode2session errcode {code}: {}", answer.errmsg.unwrap_or_default())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::ScriptedHttp;
    use futures_executor::block_on;

    fn client(http: &ScriptedHttp) -> WeChat<'_, ScriptedHttp> {
        WeChat { http, base_url: "http://wx.test/".into(), appid: "wx123".into(), secret: "s&c".into() }
    }

    #[test]
    fn a_good_code_yields_the_openid_and_the_request_is_well_formed() {
        let http = ScriptedHttp::default();
        http.answer(200, r#"{"openid":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}"#);
        assert_eq!(block_on(client(&http).openid("081xyz")).unwrap(), "o6_bmjrPTlm6_2sgVt7hMZOPfL2M");
        let url = http.sent.borrow()[0].url.clone();
        assert_eq!(
            url,
            "http://wx.test/sns/jscode2session?appid=wx123&secret=s%26c&js_code=081xyz&grant_type=authorization_code"
        );
    }

    #[test]
    fn wechat_error_codes_map_to_distinct_errors() {
        let cases = [
            (r#"{"errcode":40029,"errmsg":"invalid code"}"#, ErrorCode::WechatCodeInvalid),
            (r#"{"errcode":40163,"errmsg":"code been used"}"#, ErrorCode::WechatCodeUsed),
            (r#"{"errcode":45011,"errmsg":"api minute-quota reach limit"}"#, ErrorCode::WechatRateLimited),
            (r#"{"errcode":-1,"errmsg":"system error"}"#, ErrorCode::WechatUnavailable),
            (r#"{"errcode":40226,"errmsg":"high risk user"}"#, ErrorCode::Forbidden),
            ("<html>502</html>", ErrorCode::WechatUnavailable),
        ];
        for (body, expected) in cases {
            let http = ScriptedHttp::default();
            http.answer(200, body);
            assert_eq!(block_on(client(&http).openid("c")).unwrap_err().code, expected, "{body}");
        }
        let http = ScriptedHttp::default();
        http.fail();
        assert_eq!(block_on(client(&http).openid("c")).unwrap_err().code, ErrorCode::WechatUnavailable);
        assert_eq!(block_on(client(&http).openid("")).unwrap_err().code, ErrorCode::BadRequest);
    }
}
