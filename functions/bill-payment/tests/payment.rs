//! Payment notification verification against the providers' published test
//! vectors (`tests/fixtures/providers`, copied from the product owner's
//! fixtures with their provenance).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::payment::{self, PayError, alipay, wechatpay};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../tests/fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap().to_owned()
}

fn wechat_headers(f: &Value) -> wechatpay::SignatureHeaders {
    let h = &f["request"]["headers"];
    wechatpay::SignatureHeaders {
        timestamp: s(&h["Wechatpay-Timestamp"]),
        nonce: s(&h["Wechatpay-Nonce"]),
        signature: s(&h["Wechatpay-Signature"]),
        serial: s(&h["Wechatpay-Serial"]),
    }
}

#[test]
fn the_copies_match_the_product_owners_fixtures_when_present() {
    let theirs = format!("{}/../../../shared/fixtures", env!("CARGO_MANIFEST_DIR"));
    for (dir, name) in [
        ("wechatpay", "notify-signature-go.json"),
        ("wechatpay", "aead-aes256gcm-java.json"),
        ("alipay", "notify-trade-success.json"),
    ] {
        if let Ok(original) = std::fs::read(format!("{theirs}/{dir}/{name}")) {
            let ours = std::fs::read(format!("{}/../../tests/fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR")));
            assert_eq!(ours.unwrap(), original, "{name}");
        }
    }
}

#[test]
fn a_wechat_pay_notification_verifies_with_the_certificate_or_the_public_key() {
    let f = fixture("notify-signature-go.json");
    let body = s(&f["request"]["body"]);
    let now = f["frozen_now_unix"].as_i64().unwrap();
    let serial = s(&f["wechatpay_platform_certificate_serial_hex"]);
    for key_text in [s(&f["wechatpay_platform_certificate_pem"]), s(&f["wechatpay_platform_public_key_pem"])] {
        let key = payment::public_key(&key_text).unwrap();
        let key_for = |sn: &str| (sn == serial).then(|| key.clone());
        assert_eq!(wechatpay::verify(&wechat_headers(&f), &body, now, key_for), Ok(()));
    }
}

#[test]
fn a_changed_byte_a_stale_clock_or_an_unknown_serial_is_refused() {
    let f = fixture("notify-signature-go.json");
    let body = s(&f["request"]["body"]);
    let now = f["frozen_now_unix"].as_i64().unwrap();
    let key = payment::public_key(&s(&f["wechatpay_platform_public_key_pem"])).unwrap();
    let any = |_: &str| Some(key.clone());
    let tampered = body.replacen("签约成功", "签约失败", 1);
    assert_eq!(wechatpay::verify(&wechat_headers(&f), &tampered, now, any), Err(PayError::BadSignature));
    assert_eq!(wechatpay::verify(&wechat_headers(&f), &body, now + 300, any), Err(PayError::Stale));
    assert_eq!(wechatpay::verify(&wechat_headers(&f), &body, now - 299, any), Ok(()));
    assert_eq!(wechatpay::verify(&wechat_headers(&f), &body, now, |_| None), Err(PayError::BadSignature));
    let mut h = wechat_headers(&f);
    h.signature = format!("WECHATPAY/SIGNTEST/{}", h.signature);
    assert_eq!(wechatpay::verify(&h, &body, now, any), Err(PayError::BadSignature), "a probe never verifies");
    h.signature = "not base64!".into();
    assert!(matches!(wechatpay::verify(&h, &body, now, any), Err(PayError::Malformed(_))));
}

#[test]
fn the_wechat_pay_resource_decrypts_to_the_expected_plaintext() {
    let f = fixture("notify-signature-go.json");
    let n: wechatpay::Notification = serde_json::from_str(&s(&f["request"]["body"])).unwrap();
    assert_eq!(n.event_type, "PAYSCORE.USER_OPEN_SERVICE");
    let plain = wechatpay::decrypt(s(&f["apiv3_key"]).as_bytes(), &n.resource).unwrap();
    let expected = &f["expected"]["resource_plaintext"];
    let expected = expected.as_str().map(str::to_owned).unwrap_or_else(|| expected.to_string());
    assert_eq!(serde_json::from_str::<Value>(&plain).unwrap(), serde_json::from_str::<Value>(&expected).unwrap());
    assert_eq!(wechatpay::decrypt(b"wrongMchAPIv3Key", &n.resource), Err(PayError::Undecryptable));
}

#[test]
fn the_aead_vector_decrypts_and_its_negative_cases_fail() {
    let f = fixture("aead-aes256gcm-java.json");
    let resource = |nonce: String, aad: String, ct: String| wechatpay::Resource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: ct,
        associated_data: aad,
        nonce,
        original_type: String::new(),
    };
    let key = s(&f["key"]);
    let good = resource(s(&f["nonce"]), s(&f["associated_data"]), s(&f["ciphertext_base64"]));
    assert_eq!(wechatpay::decrypt(key.as_bytes(), &good).unwrap(), s(&f["plaintext"]));
    let bad_aad = resource(s(&f["nonce"]), "bad-associatedData".into(), s(&f["ciphertext_base64"]));
    let bad_nonce = resource("bad-4a9R25RW".into(), s(&f["associated_data"]), s(&f["ciphertext_base64"]));
    use base64::Engine;
    let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 128]);
    let bad_ct = resource(s(&f["nonce"]), s(&f["associated_data"]), zeros);
    for bad in [bad_aad, bad_nonce, bad_ct] {
        assert_eq!(wechatpay::decrypt(key.as_bytes(), &bad), Err(PayError::Undecryptable));
    }
}

fn alipay_params(f: &Value) -> Vec<(String, String)> {
    f["params"].as_array().unwrap().iter().map(|p| (s(&p[0]), s(&p[1]))).collect()
}

#[test]
fn an_alipay_notification_verifies_and_tampering_fails() {
    let f = fixture("notify-trade-success.json");
    let params = alipay_params(&f);
    assert_eq!(alipay::string_to_verify(&params), s(&f["expected_string_to_verify"]));
    for key_text in [s(&f["alipay_public_key_pem"]), s(&f["alipay_public_key_base64"])] {
        let key = payment::public_key(&key_text).unwrap();
        assert_eq!(alipay::verify(&key, &params), Ok(()));
    }
    let key = payment::public_key(&s(&f["alipay_public_key_pem"])).unwrap();
    let tampered: Vec<(String, String)> =
        params.iter().map(|(k, v)| (k.clone(), if k == "total_amount" { "0.11".into() } else { v.clone() })).collect();
    assert_eq!(alipay::verify(&key, &tampered), Err(PayError::BadSignature));
    let unsigned: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "sign").cloned().collect();
    assert!(matches!(alipay::verify(&key, &unsigned), Err(PayError::Malformed(_))));
}

#[test]
fn unreadable_keys_are_refused_not_panics() {
    for bad in ["", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "not a key"] {
        assert_eq!(payment::public_key(bad).err(), Some(PayError::BadKey));
    }
}

fn test_key(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/fixtures/test-keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn the_certificate_serial_is_the_one_wechat_pay_names_and_the_keyring_holds_both_kinds_of_key() {
    let f = fixture("notify-signature-go.json");
    let der = payment::pem_body(&s(&f["wechatpay_platform_certificate_pem"]), "CERTIFICATE").unwrap();
    assert_eq!(payment::der::certificate_serial(&der).unwrap(), s(&f["wechatpay_platform_certificate_serial_hex"]));
    // Two certificates and a public key at once, as during WeChat Pay's key migration.
    let certs = format!("{}\n{}", s(&f["wechatpay_platform_certificate_pem"]), test_key("platform-cert.pem"));
    let ring = wechatpay::Keyring::new(
        Some(&certs),
        Some(("PUB_KEY_ID_0112233445566", &s(&f["wechatpay_platform_public_key_pem"]))),
    )
    .unwrap();
    assert_eq!(
        ring.serials(),
        ["D7CE59D1F522D701", "6A1B2C3D4E5F60718293A4B5C6D7E8F901234567", "PUB_KEY_ID_0112233445566"]
    );
    let body = s(&f["request"]["body"]);
    let now = f["frozen_now_unix"].as_i64().unwrap();
    assert_eq!(wechatpay::verify(&wechat_headers(&f), &body, now, |sn| ring.key(sn)), Ok(()));
    let mut by_id = wechat_headers(&f);
    by_id.serial = "PUB_KEY_ID_0112233445566".into();
    assert_eq!(wechatpay::verify(&by_id, &body, now, |sn| ring.key(sn)), Ok(()), "same key, named by its id");
    assert!(wechatpay::Keyring::new(None, None).is_err(), "no key at all is a configuration error");
}

fn merchant() -> wechatpay::Merchant {
    wechatpay::Merchant {
        mchid: "1900000109".into(),
        appid: "wxbianmindev000001".into(),
        serial: "3775B6A45ACD588826D15E583A95F5DD2C4C4AF0".into(),
        key: payment::sign::private_key(&test_key("merchant-key.pem")).unwrap(),
        apiv3_key: b"bianminDevAPIv3Key00000000000032".to_vec(),
    }
}

#[test]
fn our_request_signature_and_pay_sign_verify_with_the_merchant_public_key() {
    let m = merchant();
    let public = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    let auth = m.authorization("POST", "/v3/pay/transactions/jsapi", 1_763_870_400, "n0nce", "{\"a\":1}").unwrap();
    assert!(auth.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\",nonce_str=\"n0nce\",signature=\""));
    let sig = auth.split("signature=\"").nth(1).unwrap().split('"').next().unwrap();
    let message = "POST\n/v3/pay/transactions/jsapi\n1763870400\nn0nce\n{\"a\":1}\n";
    assert_eq!(payment::verify_rsa_sha256(&public, message.as_bytes(), sig), Ok(()));
    assert_eq!(payment::verify_rsa_sha256(&public, b"other", sig), Err(PayError::BadSignature));
    let p = m.jsapi_params("wx2026112310000001", 1_763_870_400, "abc").unwrap();
    assert_eq!(p.package, "prepay_id=wx2026112310000001");
    let signed = "wxbianmindev000001\n1763870400\nabc\nprepay_id=wx2026112310000001\n";
    assert_eq!(payment::verify_rsa_sha256(&public, signed.as_bytes(), &p.pay_sign), Ok(()));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["appId"], "wxbianmindev000001", "wx.requestPayment's own field names");
    assert_eq!(json["signType"], "RSA");
    assert!(payment::sign::private_key("not a key").is_err());
}

#[test]
fn alipay_requests_sign_every_parameter_but_sign_and_answers_are_cut_out_verbatim() {
    let params = vec![("b".to_owned(), "2".to_owned()), ("sign_type".into(), "RSA2".into()), ("a".into(), "".into())];
    assert_eq!(
        alipay::string_to_sign(&params),
        "b=2&sign_type=RSA2",
        "sign_type is signed in requests, empty values are not"
    );
    let body = r#"{"alipay_trade_query_response" : {"code":"10000","msg":"Success","subject":"水费 {\"x\"} }","n":{"k":1}},"sign":"S"}"#;
    assert_eq!(
        alipay::response_node(body, "alipay_trade_query_response"),
        Some(r#"{"code":"10000","msg":"Success","subject":"水费 {\"x\"} }","n":{"k":1}}"#)
    );
    assert_eq!(
        alipay::response_node(r#"{"alipay_trade_query_response":{"code":"1""#, "alipay_trade_query_response"),
        None
    );
    assert_eq!(alipay::response_node("{}", "alipay_trade_query_response"), None);
    // Round trip with the test keys: what we sign verifies, a changed byte does not.
    let key = payment::sign::private_key(&test_key("merchant-key.pem")).unwrap();
    let public = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    let node = r#"{"code":"10000","trade_status":"TRADE_SUCCESS","total_amount":"48.00"}"#;
    let sig = payment::sign::sign_rsa_sha256(&key, node.as_bytes()).unwrap();
    let answer = format!(r#"{{"alipay_trade_query_response":{node},"sign":"{sig}"}}"#);
    assert_eq!(alipay::verify_response(&public, &answer, "alipay_trade_query_response"), Ok(node));
    let forged = answer.replace("48.00", "0.01");
    assert_eq!(alipay::verify_response(&public, &forged, "alipay_trade_query_response"), Err(PayError::BadSignature));
    let signed =
        alipay::signed(&key, vec![("app_id".into(), "2021".into()), ("biz_content".into(), "{\"a\":\"b c\"}".into())])
            .unwrap();
    let encoded = alipay::encode(&signed);
    assert!(encoded.starts_with("app_id=2021&biz_content=%7B%22a%22%3A%22b%20c%22%7D&sign="));
}
