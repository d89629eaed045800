//! 订阅消息 acceptances natively: a reported result is checked against the
//! configured templates, each "accept" counts one (at most ten kept), "ban"
//! clears, and the list shows every template.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use identity::wechat_subscriptions::{list, parse_report, record};
use serde_json::{Map, Value, json};
use shared::ErrorCode;
use shared::testing::{db_with_citizens, now};
use shared::wechat_notify::{Choice, Purpose, Templates};

fn templates() -> Templates {
    Templates::parse("booking_confirmed:T-confirm,booking_reminder:T-remind").unwrap()
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn a_report_names_configured_templates_with_one_of_wechats_four_answers() {
    let t = templates();
    let ok = parse_report(
        &body(json!({"errMsg": "requestSubscribeMessage:ok", "T-remind": "accept", "T-confirm": "ban"})),
        &t,
    );
    let mut ok = ok.unwrap();
    ok.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ok, [("T-confirm".to_owned(), Choice::Ban), ("T-remind".to_owned(), Choice::Accept)]);
    let bad = parse_report(&body(json!({"T-other": "accept", "T-remind": "yes"})), &t).unwrap_err();
    assert_eq!(bad.code, ErrorCode::ValidationFailed);
    assert_eq!(bad.fields.len(), 2);
    assert_eq!(parse_report(&body(json!({"errMsg": "x"})), &t).unwrap_err().code, ErrorCode::BadRequest);
    let many: Map<String, Value> = (0..21).map(|i| (format!("T{i}"), json!("accept"))).collect();
    assert_eq!(parse_report(&many, &t).unwrap_err().code, ErrorCode::BadRequest);
}

#[test]
fn each_accept_counts_one_up_to_ten_and_a_ban_clears_them() {
    let db = db_with_citizens(&["cit_a", "cit_b"]);
    let t = templates();
    let accept = [("T-remind".to_owned(), Choice::Accept)];
    for _ in 0..12 {
        block_on(record(&db, "cit_a", &accept, &t, now())).unwrap();
    }
    let seen = block_on(list(&db, "cit_a", &t)).unwrap().subscriptions;
    assert_eq!(seen.len(), 2, "every configured template is listed");
    assert_eq!(seen[0].purpose, Purpose::BookingConfirmed);
    assert_eq!(seen[0].remaining, 0);
    assert_eq!(seen[1].remaining, 10, "at most ten kept");
    let rejected = block_on(record(&db, "cit_a", &[("T-remind".to_owned(), Choice::Reject)], &t, now())).unwrap();
    assert_eq!(rejected.subscriptions[1].remaining, 10, "a refusal this time keeps earlier acceptances");
    let banned = block_on(record(&db, "cit_a", &[("T-remind".to_owned(), Choice::Ban)], &t, now())).unwrap();
    assert_eq!(banned.subscriptions[1].remaining, 0);
    assert_eq!(block_on(list(&db, "cit_b", &t)).unwrap().subscriptions[1].remaining, 0, "only a's");
}
