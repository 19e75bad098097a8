//! Scripts, key matching, recording and fixtures, through a real HTTP client.

mod support;

use serde_json::{json, Value};
use support::{client, post, request, status_and_body};
use testkit::{FakeUpstream, Reply};

#[tokio::test]
async fn key_script_replies_in_order_and_repeats_the_last() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        "sk-a",
        [
            Reply::json(429, json!({"error": "rate"})),
            Reply::json(500, json!({"error": "oops"})),
            Reply::json(200, json!({"n": 3})),
        ],
    );
    let client = client();
    let url = upstream.url("/v1/chat/completions");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = post(&client, &url, &[("authorization", "Bearer sk-a")])
            .await
            .expect("response");
        statuses.push(status_and_body(response).await.0);
    }
    assert_eq!(statuses, [429, 500, 200, 200, 200]);
    assert_eq!(upstream.hits("sk-a"), 5);
    assert_eq!(upstream.hits("sk-b"), 0);
    assert_eq!(upstream.total_hits(), 5);
}

#[tokio::test]
async fn keys_are_found_in_every_supported_place() {
    let upstream = FakeUpstream::start().await;
    // (key, status its script answers, path, headers carrying it)
    let ant = ("ant", 201, "/v1/messages", [("x-api-key", "ant")]);
    let goog = (
        "goog",
        202,
        "/v1beta/models/m",
        [("x-goog-api-key", "goog")],
    );
    let oai = ("oai", 203, "/v1/chat", [("authorization", "Bearer oai")]);
    let query = (
        "qry",
        204,
        "/v1beta/models/m?alt=sse&key=qry",
        [("accept", "*/*")],
    );
    let client = client();
    for (key, status, path, headers) in [ant, goog, oai, query] {
        upstream.on_key(key, [Reply::json(status, json!({}))]);
        let response = post(&client, &upstream.url(path), &headers)
            .await
            .expect("response");
        assert_eq!(status_and_body(response).await.0, status, "key {key}");
        assert_eq!(upstream.hits(key), 1, "key {key}");
    }
    let keys: Vec<_> = upstream.requests().into_iter().map(|r| r.key).collect();
    let expected = ["ant", "goog", "oai", "qry"].map(|k| Some(k.to_owned()));
    assert_eq!(keys, expected);
}

#[tokio::test]
async fn every_header_path_query_and_body_is_recorded() {
    let upstream = FakeUpstream::start().await;
    let client = client();
    let headers = [
        ("x-goog-api-key", "goog-1"),
        ("content-type", "application/json"),
        ("x-trace", "one"),
        ("x-trace", "two"),
    ];
    let url = upstream.url("/v1beta/models/gemini:generateContent?alt=sse");
    let body = r#"{"contents":[]}"#;
    let response = client
        .request(request("POST", &url, &headers, body))
        .await
        .expect("response");
    status_and_body(response).await;

    let recorded = upstream.requests();
    let [only] = recorded.as_slice() else {
        panic!("expected one request, got {recorded:?}");
    };
    assert_eq!(only.method, "POST");
    assert_eq!(only.path, "/v1beta/models/gemini:generateContent");
    assert_eq!(only.query.as_deref(), Some("alt=sse"));
    assert_eq!(only.header("x-goog-api-key"), Some("goog-1"));
    assert_eq!(only.header("authorization"), None);
    let traces: Vec<_> = only.headers.get_all("x-trace").iter().collect();
    assert_eq!(traces, ["one", "two"]);
    assert_eq!(only.json().expect("json body"), json!({"contents": []}));
    assert_eq!(only.key.as_deref(), Some("goog-1"));
}

#[tokio::test]
async fn fallback_answers_unknown_and_missing_keys() {
    let upstream = FakeUpstream::start().await;
    let client = client();
    let url = upstream.url("/v1/messages");

    let response = post(&client, &url, &[]).await.expect("response");
    let (status, body) = status_and_body(response).await;
    assert_eq!((status, body.as_ref()), (200, br#"{"ok":true}"#.as_slice()));

    upstream.fallback([Reply::json(401, json!({"error": "who?"}))]);
    upstream.on_key("known", [Reply::json(200, json!({}))]);
    let unknown = post(&client, &url, &[("x-api-key", "stranger")])
        .await
        .expect("response");
    assert_eq!(status_and_body(unknown).await.0, 401);
    let anonymous = post(&client, &url, &[]).await.expect("response");
    assert_eq!(status_and_body(anonymous).await.0, 401);
    let known = post(&client, &url, &[("x-api-key", "known")])
        .await
        .expect("response");
    assert_eq!(status_and_body(known).await.0, 200);
    assert_eq!(upstream.hits("stranger"), 1);
    assert_eq!(upstream.total_hits(), 4);
}

#[tokio::test]
async fn fixture_body_comes_with_its_sibling_headers() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        "sk-a",
        [Reply::fixture(
            429,
            "fixtures/test/openai_rate_limited.json",
        )],
    );
    let client = client();
    let response = post(
        &client,
        &upstream.url("/v1/chat/completions"),
        &[("authorization", "Bearer sk-a")],
    )
    .await
    .expect("response");
    let headers = response.headers().clone();
    let (status, body) = status_and_body(response).await;
    assert_eq!(status, 429);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["retry-after"], "20");
    assert_eq!(headers["x-ratelimit-reset-requests"], "20s");
    let body: Value = serde_json::from_slice(&body).expect("json fixture");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn reply_headers_are_sent() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::raw(503, "text/plain", "busy")
        .header("retry-after-ms", "1500")
        .header("content-type", "text/html")]);
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("response");
    assert_eq!(response.headers()["retry-after-ms"], "1500");
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(status_and_body(response).await, (503, "busy".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_requests_are_all_answered_and_counted() {
    let upstream = FakeUpstream::start().await;
    let keys = ["k0", "k1", "k2", "k3"];
    for key in keys {
        upstream.on_key(key, [Reply::json(200, json!({"key": key}))]);
    }
    let client = client();
    let requests = (0..400).map(|i| {
        let client = client.clone();
        let url = upstream.url("/v1/messages");
        let key = keys[i % keys.len()];
        tokio::spawn(async move {
            let response = post(&client, &url, &[("x-api-key", key)])
                .await
                .expect("response");
            let (status, body) = status_and_body(response).await;
            let body: Value = serde_json::from_slice(&body).expect("json");
            (status, body["key"] == key)
        })
    });
    for handle in requests.collect::<Vec<_>>() {
        assert_eq!(handle.await.expect("task"), (200, true));
    }
    assert_eq!(upstream.total_hits(), 400);
    for key in keys {
        assert_eq!(upstream.hits(key), 100);
    }
}

#[tokio::test]
async fn a_dropped_upstream_refuses_new_connections() {
    let upstream = FakeUpstream::start().await;
    let url = upstream.url("/");
    drop(upstream);
    tokio::task::yield_now().await;
    let error = post(&client(), &url, &[])
        .await
        .expect_err("server is gone");
    assert!(error.is_connect(), "{error:?}");
}
