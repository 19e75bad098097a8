use bytes::Bytes;
use http::HeaderMap;
use serde_json::json;

use super::Ledger;
use crate::recorded::Recorded;
use crate::reply::Reply;

fn request(key: Option<&str>) -> Recorded {
    Recorded {
        method: "POST".into(),
        path: "/v1/messages".into(),
        query: None,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        key: key.map(str::to_owned),
    }
}

fn statuses(ledger: &mut Ledger, key: Option<&str>, n: usize) -> Vec<u16> {
    (0..n)
        .map(|_| ledger.admit(request(key)).status.as_u16())
        .collect()
}

#[test]
fn replies_are_used_in_order_and_the_last_repeats() {
    let mut ledger = Ledger::new();
    ledger.set_script(
        "a",
        [
            Reply::json(429, json!({})),
            Reply::raw(500, "text/plain", "x"),
        ],
    );
    assert_eq!(statuses(&mut ledger, Some("a"), 4), [429, 500, 500, 500]);
    assert_eq!(ledger.hits("a"), 4);
}

#[test]
fn unknown_and_missing_keys_get_the_default_fallback() {
    let mut ledger = Ledger::new();
    assert_eq!(statuses(&mut ledger, Some("nobody"), 1), [200]);
    assert_eq!(statuses(&mut ledger, None, 1), [200]);
    assert_eq!(ledger.hits("nobody"), 1);
    assert_eq!(ledger.requests().len(), 2);
}

#[test]
fn an_empty_script_removes_the_key_script() {
    let mut ledger = Ledger::new();
    ledger.set_fallback([Reply::json(401, json!({}))]);
    ledger.set_script("a", [Reply::json(200, json!({}))]);
    ledger.set_script("a", []);
    assert_eq!(statuses(&mut ledger, Some("a"), 1), [401]);
}

#[test]
fn replacing_a_script_starts_it_again() {
    let mut ledger = Ledger::new();
    ledger.set_script(
        "a",
        [Reply::json(500, json!({})), Reply::json(200, json!({}))],
    );
    assert_eq!(statuses(&mut ledger, Some("a"), 2), [500, 200]);
    ledger.set_script(
        "a",
        [Reply::json(503, json!({})), Reply::json(200, json!({}))],
    );
    assert_eq!(statuses(&mut ledger, Some("a"), 2), [503, 200]);
}
