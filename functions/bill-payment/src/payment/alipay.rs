//! Alipay asynchronous notifications (异步通知): RSA2 (SHA256withRSA) over
//! the sorted `key=value` pairs without `sign` and `sign_type` and without
//! empty values, values raw (not URL-encoded).

use super::keys::{PayError, verify_rsa_sha256};
use rsa::RsaPublicKey;

/// The exact string Alipay signs for a notification's parameters.
pub fn string_to_verify(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> =
        params.iter().filter(|(k, v)| k != "sign" && k != "sign_type" && !v.is_empty()).collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Verifies a notification's `sign` (RSA2 only: `sign_type` RSA is refused).
pub fn verify(key: &RsaPublicKey, params: &[(String, String)]) -> Result<(), PayError> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sign = get("sign").filter(|s| !s.is_empty()).ok_or(PayError::Malformed("缺少 sign"))?;
    if get("sign_type").is_some_and(|t| t != "RSA2") {
        return Err(PayError::Malformed("只接受 RSA2 签名"));
    }
    verify_rsa_sha256(key, string_to_verify(params).as_bytes(), sign)
}

/// The string a merchant signs for a request: every parameter but `sign`
/// (here `sign_type` IS included), no empty values, sorted, raw values.
pub fn string_to_sign(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = params.iter().filter(|(k, v)| k != "sign" && !v.is_empty()).collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The parameters with their RSA2 `sign` appended.
pub fn signed(key: &rsa::RsaPrivateKey, mut params: Vec<(String, String)>) -> Result<Vec<(String, String)>, PayError> {
    let sign = super::sign::sign_rsa_sha256(key, string_to_sign(&params).as_bytes())?;
    params.push(("sign".into(), sign));
    Ok(params)
}

/// Form/URL encoding of signed parameters (the app-pay order string, or a gateway request body).
pub fn encode(params: &[(String, String)]) -> String {
    let enc = shared::outbound::percent_encode;
    params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The raw JSON text of `node` in a gateway answer
/// (`{"alipay_trade_query_response":{...},"sign":"..."}`): Alipay signs
/// exactly these bytes, so they are cut out, not re-serialised.
pub fn response_node<'a>(body: &'a str, node: &str) -> Option<&'a str> {
    let key = format!("\"{node}\"");
    let after = body.get(body.find(&key)? + key.len()..)?;
    let start = after.find('{')?;
    if !after.get(..start)?.trim().trim_start_matches(':').trim().is_empty() {
        return None;
    }
    let obj = after.get(start..)?;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in obj.char_indices() {
        match (in_str, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_str = false,
            (true, false, _) => {}
            (false, _, '"') => in_str = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return obj.get(..=i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Verifies a gateway answer's `sign` over its response node and returns the node.
pub fn verify_response<'a>(key: &RsaPublicKey, body: &'a str, node: &str) -> Result<&'a str, PayError> {
    #[derive(serde::Deserialize)]
    struct Signed {
        sign: Option<String>,
    }
    let text = response_node(body, node).ok_or(PayError::Malformed("应答缺少业务节点"))?;
    let sign =
        serde_json::from_str::<Signed>(body).ok().and_then(|s| s.sign).ok_or(PayError::Malformed("应答缺少 sign"))?;
    verify_rsa_sha256(key, text.as_bytes(), &sign)?;
    Ok(text)
}
