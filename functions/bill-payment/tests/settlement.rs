//! Payment orders, the exactly-once ledger, reconciliation and the provider
//! API clients, natively on SQLite with the production migrations and
//! scripted provider answers signed with test keys.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::bill_import as import;
use bill_payment::checkout::{self, Payer};
use bill_payment::orders::{self, Provider};
use bill_payment::payment::gateway::{AlipayApi, PrepayOrder, WechatPayApi};
use bill_payment::payment::{self, wechatpay};
use bill_payment::reconcile;
use bill_payment::settlement::{self, Channel, Outcome, Raw, Report, ReviewReason};
use bill_payment::states::OrderStatus;
use futures_executor::block_on;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::outbound::ScriptedHttp;
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::testing::now;

/// An import with a test phone vault.
fn import_with_vault(db: &SqliteDb, act: &Act<'_>, b: &import::ImportBody) -> shared::ApiResult<import::Outcome> {
    use base64::Engine;
    let vault = shared::vault::PhoneVault::parse(&format!(
        "t1:{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    ))
    .map_err(shared::ApiError::internal)?;
    let pepper = Pepper::new("p");
    let phones = import::Phones { pepper: &pepper, vault: &vault, ids: &shared::runtime::OsRandom };
    block_on(import::apply(db, &phones, act, b))
}

fn seeded() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a", "b"]);
    let who = Principal { token_id: "op".into(), name: "收费员".into(), roles: vec![Role::BillingOperator] };
    let act = Act { who: &who, now: now(), request_id: "r" };
    let body: import::ImportBody = serde_json::from_value(json!({
        "accounts": [{"account_no": "10012345", "holder_name": "张三丰", "holder_phone": "13800001111", "address": "义乌市稠城街道", "category": "居民"}],
        "bills": [
            {"account_no": "10012345", "period": "2026-09", "usage_m3": 12, "amount_fen": 3840, "due_date": "2026-10-20"},
            {"account_no": "10012345", "period": "2026-10", "usage_m3": 10, "amount_fen": 3200, "due_date": "2026-11-30"},
        ]
    }))
    .unwrap();
    import_with_vault(&db, &act, &body).unwrap();
    block_on(db.execute(
        "INSERT INTO citizen_water_accounts (citizen_id, account_no, bound_at) VALUES ('a', '10012345', 'x')",
        &[],
    ))
    .unwrap();
    db
}

const SEP: &str = "B10012345202609";
const OCT: &str = "B10012345202610";

fn open(db: &SqliteDb, provider: Provider, bills: &[&str]) -> orders::Order {
    let ids: Vec<String> = bills.iter().map(|b| (*b).to_owned()).collect();
    block_on(orders::open(db, &OsRandom, "a", provider, &ids, now())).unwrap().0
}

fn paid(o: &orders::Order, trade: &str, amount: i64) -> Report {
    Report {
        provider: Provider::parse(&o.provider).unwrap(),
        channel: Channel::Notify,
        out_trade_no: o.out_trade_no.clone(),
        provider_trade_no: trade.into(),
        state: "SUCCESS".into(),
        paid: true,
        closed: false,
        amount_fen: Some(amount),
        merchant_ok: true,
        paid_at: Some("2026-11-23T10:01:00+08:00".into()),
    }
}

const RAW: Raw<'static> = Raw { body: "{}", headers: None, request_id: "req" };

fn apply(db: &SqliteDb, r: &Report) -> Outcome {
    block_on(settlement::apply(db, &OsRandom, r, RAW, now())).unwrap()
}

fn n(db: &SqliteDb, sql: &str) -> i64 {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    block_on(db.first_as::<N>(sql, &[])).unwrap().unwrap().n
}

#[test]
fn an_order_covers_visible_unpaid_bills_with_their_exact_sum_and_a_repeat_reuses_it() {
    let db = seeded();
    let o = open(&db, Provider::Wechatpay, &[SEP, OCT]);
    assert_eq!((o.amount_fen, o.amount.as_str(), o.status.as_str()), (7040, "70.40", "pending"));
    assert!(o.out_trade_no.starts_with("W20261123100000") && o.out_trade_no.len() <= 32);
    assert_eq!(o.expires_at, "2026-11-23T10:30:00+08:00");
    assert_eq!(open(&db, Provider::Wechatpay, &[OCT, SEP]).out_trade_no, o.out_trade_no, "same bills, any order");
    assert_ne!(
        open(&db, Provider::Alipay, &[SEP, OCT]).out_trade_no,
        o.out_trade_no,
        "another provider, another order"
    );
    let other = block_on(orders::open(&db, &OsRandom, "b", Provider::Alipay, &[SEP.to_owned()], now())).unwrap_err();
    assert_eq!(other.code, ErrorCode::NotFound, "bob has not bound the account");
    let many: Vec<String> = (0..25).map(|i| format!("B{i}")).collect();
    assert_eq!(
        block_on(orders::open(&db, &OsRandom, "a", Provider::Alipay, &many, now())).unwrap_err().code,
        ErrorCode::BadRequest
    );
    assert_eq!(block_on(orders::get(&db, "b", &o.out_trade_no)).unwrap_err().code, ErrorCode::PaymentNotFound);
    assert_eq!(block_on(orders::get(&db, "a", &o.out_trade_no)).unwrap().bills, [SEP, OCT]);
}

#[test]
fn a_payment_applies_once_and_repeats_are_duplicates() {
    let db = seeded();
    let o = open(&db, Provider::Wechatpay, &[SEP, OCT]);
    assert_eq!(apply(&db, &paid(&o, "4200001", 7040)), Outcome::Applied);
    assert_eq!(apply(&db, &paid(&o, "4200001", 7040)), Outcome::Duplicate);
    let mut finished = paid(&o, "4200001", 7040);
    finished.state = "TRADE_FINISHED".into();
    assert_eq!(apply(&db, &finished), Outcome::Duplicate);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payments"), 1);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM bills WHERE status = 'paid'"), 2);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM messages WHERE citizen_id = 'a' AND kind = 'bill'"), 1);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_events"), 3);
    let err = block_on(orders::open(&db, &OsRandom, "a", Provider::Alipay, &[SEP.to_owned()], now())).unwrap_err();
    assert_eq!(err.code, ErrorCode::BillAlreadyPaid);
    let edit = block_on(db.execute("UPDATE payment_events SET outcome = 'x'", &[]));
    assert!(edit.is_err(), "the event log is append-only");
}

#[test]
fn wrong_amount_wrong_merchant_unknown_order_and_a_second_payment_go_to_review() {
    let db = seeded();
    let o = open(&db, Provider::Wechatpay, &[SEP]);
    assert_eq!(apply(&db, &paid(&o, "t1", 1)), Outcome::Review(ReviewReason::AmountMismatch));
    let mut other = paid(&o, "t2", 3840);
    other.merchant_ok = false;
    assert_eq!(apply(&db, &other), Outcome::Review(ReviewReason::MerchantMismatch));
    assert!(!Outcome::Review(ReviewReason::MerchantMismatch).acknowledge(), "not ours: the provider keeps retrying");
    let mut wrong_provider = paid(&o, "t3", 3840);
    wrong_provider.provider = Provider::Alipay;
    assert_eq!(apply(&db, &wrong_provider), Outcome::Review(ReviewReason::ProviderMismatch));
    let mut unknown = paid(&o, "t4", 3840);
    unknown.out_trade_no = "Wnosuchorder".into();
    assert_eq!(apply(&db, &unknown), Outcome::Review(ReviewReason::UnknownOrder));
    assert_eq!(apply(&db, &unknown), Outcome::Review(ReviewReason::UnknownOrder), "recorded again, reviewed once");
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_reviews"), 4);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM bills WHERE status = 'paid'"), 0);
    // The same bill paid through both providers.
    let ali = open(&db, Provider::Alipay, &[SEP]);
    assert_eq!(apply(&db, &paid(&ali, "2026a", 3840)), Outcome::Applied);
    assert_eq!(apply(&db, &paid(&o, "t5", 3840)), Outcome::Review(ReviewReason::DoublePayment));
    assert_eq!(apply(&db, &paid(&o, "t5", 3840)), Outcome::Duplicate, "the review is settled on the order");
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payments"), 1);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_reviews WHERE reason = 'double_payment'"), 1);
}

#[test]
fn a_bill_reimported_with_a_new_amount_while_its_order_is_open_is_not_marked_paid_for_the_old_sum() {
    let db = seeded();
    let o = open(&db, Provider::Wechatpay, &[SEP, OCT]);
    let who = Principal { token_id: "op".into(), name: "收费员".into(), roles: vec![Role::BillingOperator] };
    let act = Act { who: &who, now: now(), request_id: "r2" };
    let reimport: import::ImportBody = serde_json::from_value(json!({
        "bills": [{"account_no": "10012345", "period": "2026-09", "usage_m3": 30, "amount_fen": 9600, "due_date": "2026-10-20"}]
    }))
    .unwrap();
    import_with_vault(&db, &act, &reimport).unwrap();
    // The payer pays what the order was opened for: 7040 fen, no longer the bills' sum.
    assert_eq!(apply(&db, &paid(&o, "4200009", 7040)), Outcome::Review(ReviewReason::AmountMismatch));
    assert_eq!(
        n(&db, "SELECT COUNT(*) AS n FROM bills WHERE status = 'paid'"),
        0,
        "neither bill is paid for the old sum"
    );
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payments"), 0);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_reviews WHERE reason = 'amount_mismatch'"), 1);
    assert_eq!(block_on(orders::get(&db, "a", &o.out_trade_no)).unwrap().status, OrderStatus::Review);
    assert_eq!(apply(&db, &paid(&o, "4200009", 7040)), Outcome::Duplicate, "a retry changes nothing");
    // A new order for the new sum pays the bills.
    let again = open(&db, Provider::Wechatpay, &[SEP, OCT]);
    assert_eq!(again.amount_fen, 12800);
    assert_eq!(apply(&db, &paid(&again, "4200010", 12800)), Outcome::Applied);
}

#[test]
fn a_rejected_callback_keeps_its_reason_hash_length_and_first_kib_only() {
    let db = seeded();
    let body = format!("{{\"junk\":\"{}\"}}", "x".repeat(64_000));
    let headers = json!({ "Wechatpay-Signature": "A".repeat(8_000), "Wechatpay-Nonce": "n" }).to_string();
    let raw = Raw { body: &body, headers: Some(&headers), request_id: "req" };
    block_on(settlement::log_rejected(&db, Provider::Wechatpay, raw, "bad_signature", now())).unwrap();
    #[derive(serde::Deserialize)]
    struct Row {
        reason: String,
        raw_body: String,
        headers: String,
        body_sha256: String,
        body_bytes: i64,
    }
    let row: Row = block_on(db.first_as(
        "SELECT reason, raw_body, headers, body_sha256, body_bytes FROM payment_events WHERE outcome = 'rejected'",
        &[],
    ))
    .unwrap()
    .unwrap();
    assert_eq!(row.reason, "bad_signature");
    assert_eq!(row.body_bytes, body.len() as i64);
    assert_eq!(row.body_sha256, shared::crypto::sha256_hex(body.as_bytes()));
    assert!(row.raw_body.len() <= 1024 && body.starts_with(&row.raw_body));
    let kept: serde_json::Value = serde_json::from_str(&row.headers).unwrap();
    assert!(kept["Wechatpay-Signature"].as_str().unwrap().len() <= 256, "attacker-sized headers are clipped too");
    assert_eq!(kept["Wechatpay-Nonce"], "n");
}

#[test]
fn junk_callbacks_beyond_the_hourly_cap_are_answered_but_not_stored() {
    let db = seeded();
    let raw = Raw { body: "junk", headers: None, request_id: "req" };
    for _ in 0..150 {
        let _ = block_on(settlement::log_rejected(&db, Provider::Alipay, raw, "malformed", now()));
    }
    let cap = settlement::REJECTED_EVENTS_PER_HOUR;
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_events WHERE provider = 'alipay'"), cap);
    block_on(settlement::log_rejected(&db, Provider::Wechatpay, raw, "malformed", now())).unwrap();
    assert_eq!(
        n(&db, "SELECT COUNT(*) AS n FROM payment_events WHERE provider = 'wechatpay'"),
        1,
        "each provider has its own share"
    );
    let later = shared::testing::at("2026-11-23T11:01:00+08:00");
    block_on(settlement::log_rejected(&db, Provider::Alipay, raw, "malformed", later)).unwrap();
    assert_eq!(
        n(&db, "SELECT COUNT(*) AS n FROM payment_events WHERE provider = 'alipay'"),
        cap + 1,
        "a new hour, a new share"
    );
}

#[test]
fn a_closed_trade_closes_a_pending_order_and_a_late_payment_still_applies() {
    let db = seeded();
    let o = open(&db, Provider::Alipay, &[OCT]);
    let mut closed = paid(&o, "", 3200);
    (closed.paid, closed.closed, closed.state) = (false, true, "TRADE_CLOSED".into());
    assert_eq!(apply(&db, &closed), Outcome::Ignored);
    assert_eq!(
        block_on(orders::get(&db, "a", &o.out_trade_no)).unwrap().status,
        bill_payment::states::OrderStatus::Closed
    );
    assert_eq!(apply(&db, &paid(&o, "2026b", 3200)), Outcome::Applied, "money that arrived is never dropped");
    assert_eq!(apply(&db, &closed), Outcome::Ignored, "a late TRADE_CLOSED does not unpay");
    assert_eq!(
        block_on(orders::get(&db, "a", &o.out_trade_no)).unwrap().status,
        bill_payment::states::OrderStatus::Paid
    );
}

#[test]
fn reconciliation_queries_silent_orders_applies_what_it_finds_and_closes_after_the_horizon() {
    let db = seeded();
    let o = open(&db, Provider::Wechatpay, &[SEP]);
    let ali = open(&db, Provider::Alipay, &[OCT]);
    assert!(block_on(reconcile::due(&db, now())).unwrap().is_empty(), "too young to query");
    let later = now().plus_minutes(16).unwrap();
    let due = block_on(reconcile::due(&db, later)).unwrap();
    assert_eq!(due.len(), 2);
    let wx = due.iter().find(|d| d.out_trade_no == o.out_trade_no).unwrap();
    let mut found = paid(&o, "4200009", 3840);
    found.channel = Channel::Query;
    let f = block_on(reconcile::settle(&db, &OsRandom, wx, Some(&found), RAW, later)).unwrap();
    assert_eq!(f.outcome, "applied");
    let al = due.iter().find(|d| d.out_trade_no == ali.out_trade_no).unwrap();
    assert_eq!(block_on(reconcile::settle(&db, &OsRandom, al, None, RAW, later)).unwrap().outcome, "ignored");
    assert!(
        block_on(reconcile::due(&db, later.plus_minutes(10).unwrap())).unwrap().is_empty(),
        "not re-queried within 30 minutes"
    );
    let past = now().plus_minutes(30 + 25 * 60 + 1).unwrap();
    let again = block_on(reconcile::due(&db, past)).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(block_on(reconcile::settle(&db, &OsRandom, &again[0], None, RAW, past)).unwrap().outcome, "closed");
    let day = block_on(reconcile::day_report(&db, Provider::Wechatpay, now().date())).unwrap();
    assert_eq!((day.paid_count, day.paid_fen, day.found_by_query, day.orders_opened), (1, 3840, 1, 1));
    let ali_day = block_on(reconcile::day_report(&db, Provider::Alipay, now().date())).unwrap();
    assert_eq!((ali_day.paid_count, ali_day.orders_closed), (0, 1));
}

fn test_key(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/fixtures/test-keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn wechat_api(http: &ScriptedHttp) -> WechatPayApi<'_, ScriptedHttp> {
    WechatPayApi {
        http,
        base: "https://wxpay.test/".into(),
        merchant: wechatpay::Merchant {
            mchid: "1900000109".into(),
            appid: "wxbianmindev000001".into(),
            serial: "3775B6A4".into(),
            key: payment::sign::private_key(&test_key("merchant-key.pem")).unwrap(),
            apiv3_key: vec![0; 32],
        },
        keyring: wechatpay::Keyring::new(Some(&test_key("platform-cert.pem")), None).unwrap(),
        notify_url: "https://api.test/v1/payments/wechatpay/notify".into(),
    }
}

fn platform_signed(body: &str, ts: i64) -> Vec<(&'static str, String)> {
    let key = payment::sign::private_key(&test_key("platform-key.pem")).unwrap();
    let sig = payment::sign::sign_rsa_sha256(&key, wechatpay::signed_message(&ts.to_string(), "nn", body).as_bytes())
        .unwrap();
    vec![
        ("Wechatpay-Timestamp", ts.to_string()),
        ("Wechatpay-Nonce", "nn".into()),
        ("Wechatpay-Signature", sig),
        ("Wechatpay-Serial", "6A1B2C3D4E5F60718293A4B5C6D7E8F901234567".into()),
    ]
}

#[test]
fn the_wechat_pay_client_signs_its_requests_and_believes_only_signed_answers() {
    let http = ScriptedHttp::default();
    let ts = 1_763_863_200;
    let body = r#"{"prepay_id":"wx201410272009395522657a690389285100"}"#;
    let h = platform_signed(body, ts);
    let hv: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http.answer_with_headers(200, body, &hv);
    http.answer(200, body);
    http.answer(404, r#"{"code":"ORDER_NOT_EXIST","message":"订单不存在"}"#);
    let api = wechat_api(&http);
    let order = PrepayOrder {
        out_trade_no: "W2026112310000012ab34cd",
        description: "水费",
        amount_fen: 3840,
        openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        time_expire: "2026-11-23T10:30:00+08:00",
    };
    assert_eq!(block_on(api.prepay(&order, ts, "n1")).unwrap(), "wx201410272009395522657a690389285100");
    let sent = http.sent.borrow()[0].clone();
    assert_eq!(sent.url, "https://wxpay.test/v3/pay/transactions/jsapi");
    let sent_body: serde_json::Value = serde_json::from_str(sent.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent_body["amount"], json!({"total": 3840, "currency": "CNY"}));
    assert_eq!(sent_body["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    let auth = &sent.headers.iter().find(|(k, _)| k == "authorization").unwrap().1;
    let sig = auth.split("signature=\"").nth(1).unwrap().split('"').next().unwrap();
    let signed = format!("POST\n/v3/pay/transactions/jsapi\n{ts}\nn1\n{}\n", sent.body.as_deref().unwrap());
    let merchant_pub = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    assert_eq!(payment::verify_rsa_sha256(&merchant_pub, signed.as_bytes(), sig), Ok(()));
    let unsigned = block_on(api.prepay(&order, ts, "n2")).unwrap_err();
    assert_eq!(unsigned.code, ErrorCode::PaymentUnavailable, "an unsigned answer is not believed");
    assert!(block_on(api.query("Wnone", ts, "n3")).unwrap().is_none());
    assert_eq!(http.sent.borrow()[2].url, "https://wxpay.test/v3/pay/transactions/out-trade-no/Wnone?mchid=1900000109");
}

#[test]
fn the_alipay_client_signs_its_query_and_verifies_the_answer_node() {
    let http = ScriptedHttp::default();
    let alipay_key = payment::sign::private_key(&test_key("platform-key.pem")).unwrap();
    let node = r#"{"code":"10000","msg":"Success","trade_no":"2026112322001","out_trade_no":"A1","trade_status":"TRADE_SUCCESS","total_amount":"38.40"}"#;
    let sig = payment::sign::sign_rsa_sha256(&alipay_key, node.as_bytes()).unwrap();
    http.answer(200, &format!(r#"{{"alipay_trade_query_response":{node},"sign":"{sig}"}}"#));
    http.answer(200, r#"{"alipay_trade_query_response":{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"},"sign":"x"}"#);
    let cert = payment::pem_body(&test_key("platform-cert.pem"), "CERTIFICATE").unwrap();
    let spki = payment::der::certificate_spki(&cert).unwrap();
    use base64::Engine;
    let alipay_pub = payment::public_key(&base64::engine::general_purpose::STANDARD.encode(spki)).unwrap();
    let api = AlipayApi {
        http: &http,
        gateway: "https://alipay.test/gateway.do".into(),
        app_id: "2021000000000001".into(),
        seller_id: "2088000000000001".into(),
        app_key: payment::sign::private_key(&test_key("merchant-key.pem")).unwrap(),
        alipay_key: alipay_pub,
        notify_url: "https://api.test/v1/payments/alipay/notify".into(),
    };
    let (trade, raw) = block_on(api.query("A1", "2026-11-23 10:20:00")).unwrap().unwrap();
    assert_eq!(raw, node);
    let r = bill_payment::notify::alipay_query_report(&trade);
    assert_eq!((r.paid, r.amount_fen, r.channel), (true, Some(3840), Channel::Query));
    let sent = http.sent.borrow()[0].clone();
    let params = shared::http::parse_form(sent.body.as_deref().unwrap()).unwrap();
    let app_pub = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    let sign = params.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    let text = payment::alipay::string_to_sign(&params);
    assert!(text.contains("method=alipay.trade.query") && text.contains("sign_type=RSA2"));
    assert_eq!(payment::verify_rsa_sha256(&app_pub, text.as_bytes(), &sign), Ok(()));
    assert!(block_on(api.query("A2", "2026-11-23 10:20:00")).unwrap().is_none(), "ACQ.TRADE_NOT_EXIST");
    let s = api.order_string("A1", "38.40", "水费", "2026-11-23 10:30:00", "2026-11-23 10:00:00").unwrap();
    let order = shared::http::parse_form(&s).unwrap();
    let osign = order.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    assert_eq!(
        payment::verify_rsa_sha256(&app_pub, payment::alipay::string_to_sign(&order).as_bytes(), &osign),
        Ok(())
    );
}

#[test]
fn paying_with_wechat_pay_needs_an_openid_prepays_once_and_a_repeat_reuses_the_prepay_id() {
    let db = seeded();
    let http = ScriptedHttp::default();
    let api = wechat_api(&http);
    let bills = [SEP.to_owned(), OCT.to_owned()];
    let payer = Payer { citizen: "a", bills: &bills, now: now() };
    let no_openid = block_on(checkout::wechatpay(&db, &OsRandom, &api, &payer)).unwrap_err();
    assert_eq!(no_openid.code, ErrorCode::ValidationFailed);
    assert_eq!(n(&db, "SELECT COUNT(*) AS n FROM payment_orders"), 0, "no order without an openid");
    block_on(db.execute("UPDATE citizens SET openid = 'oUpF8uMuAJO' WHERE id = 'a'", &[])).unwrap();
    let ts = now().to_utc().timestamp();
    let answer = r#"{"prepay_id":"wx2026112310000001"}"#;
    let h = platform_signed(answer, ts);
    http.answer_with_headers(200, answer, &h.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
    let (order, params) = block_on(checkout::wechatpay(&db, &OsRandom, &api, &payer)).unwrap();
    assert_eq!((order.amount_fen, params.package.as_str()), (7040, "prepay_id=wx2026112310000001"));
    let sent: serde_json::Value = serde_json::from_str(http.sent.borrow()[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["description"], "水费 表卡10012345 2026-09等2期");
    assert_eq!(
        (sent["out_trade_no"].as_str(), sent["time_expire"].as_str()),
        (Some(order.out_trade_no.as_str()), Some(order.expires_at.as_str()))
    );
    assert_eq!(sent["payer"]["openid"], "oUpF8uMuAJO");
    let signed = format!("{}\n{}\n{}\n{}\n", params.app_id, params.time_stamp, params.nonce_str, params.package);
    let merchant_pub = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    assert_eq!(payment::verify_rsa_sha256(&merchant_pub, signed.as_bytes(), &params.pay_sign), Ok(()));
    let (again, params2) = block_on(checkout::wechatpay(&db, &OsRandom, &api, &payer)).unwrap();
    assert_eq!((again.out_trade_no, params2.package), (order.out_trade_no, params.package));
    assert_eq!(http.sent.borrow().len(), 1, "the saved prepay id is reused, WeChat Pay is not asked again");
}

#[test]
fn paying_with_alipay_signs_an_order_string_for_the_open_order() {
    let db = seeded();
    let http = ScriptedHttp::default();
    let api = AlipayApi {
        http: &http,
        gateway: "https://alipay.test/gateway.do".into(),
        app_id: "2021000000000001".into(),
        seller_id: "2088000000000001".into(),
        app_key: payment::sign::private_key(&test_key("merchant-key.pem")).unwrap(),
        alipay_key: payment::public_key(&test_key("merchant-pub.pem")).unwrap(),
        notify_url: "https://api.test/v1/payments/alipay/notify".into(),
    };
    let bills = [OCT.to_owned()];
    let payer = Payer { citizen: "a", bills: &bills, now: now() };
    let (order, s) = block_on(checkout::alipay(&db, &OsRandom, &api, &payer)).unwrap();
    assert!(order.out_trade_no.starts_with('A') && http.sent.borrow().is_empty(), "signed here, nothing sent");
    let params = shared::http::parse_form(&s).unwrap();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    assert_eq!(biz["out_trade_no"].as_str(), Some(order.out_trade_no.as_str()));
    assert_eq!(
        (biz["total_amount"].as_str(), biz["time_expire"].as_str()),
        (Some("32.00"), Some("2026-11-23 10:30:00"))
    );
    assert_eq!(biz["subject"], "水费 表卡10012345 2026-10");
    let app_pub = payment::public_key(&test_key("merchant-pub.pem")).unwrap();
    let text = payment::alipay::string_to_sign(&params);
    assert_eq!(payment::verify_rsa_sha256(&app_pub, text.as_bytes(), &get("sign")), Ok(()));
}

/// In-worker cost of one notification's verification and decryption, as a
/// native stand-in (workerd's clock only moves across I/O):
/// `cargo test --release -p shared --features payments --test ledger -- --ignored --nocapture verify_probe`
#[test]
#[ignore = "a measurement, run by hand or scripts/bench"]
fn verify_probe() {
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b"bianminDevAPIv3Key00000000000032";
    let tx = json!({"appid": "wxbianmindev000001", "mchid": "1900000109", "out_trade_no": "W1", "transaction_id": "42",
        "trade_state": "SUCCESS", "success_time": "2026-11-23T10:00:00+08:00", "amount": {"total": 3840, "currency": "CNY"}});
    let ct = Aes256Gcm::new_from_slice(key)
        .unwrap()
        .encrypt(Nonce::from_slice(b"0123456789ab"), Payload { msg: tx.to_string().as_bytes(), aad: b"transaction" })
        .unwrap();
    let body = json!({"id": "e1", "create_time": "2026-11-23T10:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
        "resource_type": "encrypt-resource", "summary": "支付成功", "resource": {"algorithm": "AEAD_AES_256_GCM",
        "ciphertext": b64.encode(ct), "associated_data": "transaction", "nonce": "0123456789ab", "original_type": "transaction"}})
    .to_string();
    let ts = 1_763_863_200;
    let h: std::collections::HashMap<&str, String> = platform_signed(&body, ts).into_iter().collect();
    let ring = wechatpay::Keyring::new(Some(&test_key("platform-cert.pem")), None).unwrap();
    let check = bill_payment::notify::WechatCheck {
        appid: "wxbianmindev000001",
        mchid: "1900000109",
        keyring: &ring,
        apiv3_key: key,
    };
    let mut times = Vec::new();
    for _ in 0..500 {
        let headers = wechatpay::SignatureHeaders {
            timestamp: h["Wechatpay-Timestamp"].clone(),
            nonce: h["Wechatpay-Nonce"].clone(),
            signature: h["Wechatpay-Signature"].clone(),
            serial: h["Wechatpay-Serial"].clone(),
        };
        let t = std::time::Instant::now();
        let r = bill_payment::notify::wechat(&check, Some(headers), &body, ts).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(r.paid && r.merchant_ok);
    }
    times.sort_by(f64::total_cmp);
    println!("verify+decrypt: p50 {:.3} ms, p99 {:.3} ms (native, 500 runs)", times[250], times[495]);
}
