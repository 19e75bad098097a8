//! Reports: `/admin/spend` by every dimension as JSON and CSV, refused
//! parameters named, `/metrics` counters by virtual key and model, and a
//! key's recent requests.

use reqwest::Method;
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

use super::*;

fn rows_by(report: &Value, field: &str) -> Vec<(String, f64, u64)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[field].as_str().unwrap().to_owned(),
                r["usd"].as_f64().unwrap_or(f64::NAN),
                r["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn spend_is_reported_by_key_team_model_provider_and_provider_key() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            chat_completion(openai_usage(1000, 250, 0)),
        )],
    );
    let gateway = gateway(&upstream, "").await;
    let (alice, a) = make_key(&gateway, json!({"name": "alice", "team": "research"})).await;
    let (_, b) = make_key(&gateway, json!({"name": "bob", "team": "research"})).await;
    let (_, c) = make_key(&gateway, json!({"name": "carol", "team": "ops"})).await;
    for secret in [&a, &a, &b, &c] {
        let answer = chat(&gateway, secret, chat_body("openai@gpt-4.1", false)).await;
        assert_eq!(answer.status(), 200);
    }
    // A static token's spend counts by model and provider, not by key or team.
    assert_eq!(
        chat(&gateway, ACCESS, chat_body("openai@gpt-4.1", false))
            .await
            .status(),
        200
    );

    let get = |query: &'static str| {
        let gateway = &gateway;
        async move { admin(gateway, Method::GET, &format!("/spend?{query}"), None).await }
    };
    let (_, teams) = get("by=team").await;
    assert_eq!(
        rows_by(&teams, "team"),
        [
            ("research".to_owned(), 0.012, 3),
            ("ops".to_owned(), 0.004, 1)
        ]
    );
    let (_, keys) = get("by=key").await;
    assert_eq!(keys["rows"][0]["key"], alice.as_str());
    assert_eq!(keys["rows"][0]["name"], "alice");
    assert_eq!(keys["rows"].as_array().unwrap().len(), 3);
    let (_, models) = get("by=model").await;
    assert_eq!(
        rows_by(&models, "model"),
        [("openai@gpt-4.1".to_owned(), 0.02, 5)]
    );
    let (_, providers) = get("by=provider").await;
    assert_eq!(rows_by(&providers, "provider")[0].2, 5);
    let (_, provider_keys) = get("by=provider_key").await;
    let key_id = keypool::ApiKey::new(KEY, None)
        .fingerprint()
        .id()
        .to_owned();
    assert_eq!(
        rows_by(&provider_keys, "provider_key")[0].0,
        format!("openai/{key_id}")
    );
    assert!((models["total"]["usd"].as_f64().unwrap() - 0.02).abs() < 1e-9);

    let csv = client()
        .get(format!("{}/admin/spend?by=team&format=csv", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "team,usd,requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,tokens,unpriced_requests,estimated_requests");
    assert_eq!(lines[1], "research,0.012000000,3,3000,750,0,0,3750,0,0");

    // A key's own recent requests.
    let (_, log) = admin(
        &gateway,
        Method::GET,
        &format!("/requests?virtual_key={alice}"),
        None,
    )
    .await;
    assert_eq!(log["requests"].as_array().unwrap().len(), 2);

    let metrics = metrics(&gateway).await;
    for line in [
        "keyrelay_spend_usd_total{virtual_key=\"alice\",team=\"research\",model=\"openai@gpt-4.1\"} 0.008",
        "keyrelay_spend_tokens_total{virtual_key=\"alice\",team=\"research\",model=\"openai@gpt-4.1\",kind=\"output\"} 500",
        "keyrelay_spend_requests_total{virtual_key=\"-\",team=\"-\",model=\"openai@gpt-4.1\",priced=\"true\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_report_refuses_parameters_it_does_not_take_by_name() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, "").await;
    for (query, field) in [
        ("by=colour", "by:"),
        ("from=yesterday", "from:"),
        ("from=2025-06-05&to=2025-06-01", "from:"),
        ("from=2020-01-01&to=2025-01-01", "to:"),
        ("format=xml", "format:"),
        ("byy=key", "byy:"),
    ] {
        let (status, answer) = admin(&gateway, Method::GET, &format!("/spend?{query}"), None).await;
        assert_eq!(status, 400, "{query}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{query}: {message}");
    }
    let (status, empty) = admin(
        &gateway,
        Method::GET,
        "/spend?by=team&from=2025-01-01&to=2025-01-31",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(empty["rows"], json!([]));
}
