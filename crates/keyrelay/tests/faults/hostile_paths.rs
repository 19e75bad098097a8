//! Clients that send what keyrelay would carry further than it should: model
//! names of any length (echoed in a header, kept in the request log and the
//! logs) and paths that climb above a provider's base URL (plain, encoded,
//! in the passthrough path or in a model). Each is a 400 in the client's
//! shape, and nothing reaches the upstream.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// A model name far past the limit.
fn long_model() -> String {
    format!("anthropic@{}", "m".repeat(8 * 1024))
}

/// What the upstream saw besides the bystander's requests to `steady`.
fn reached(rig: &Rig) -> Vec<String> {
    rig.upstream
        .requests()
        .into_iter()
        .filter(|r| r.key.as_deref() != Some(STEADY))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// One raw HTTP/1.1 request, its path sent exactly as given (an HTTP
/// library would resolve dot segments first), and the whole answer.
async fn raw(rig: &Rig, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(rig.gateway.addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 20 s")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {answer}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    (status, json)
}

#[tokio::test]
async fn a_model_longer_than_256_bytes_is_refused_and_never_echoed() {
    let rig = Rig::start("").await;
    let model = long_model();
    rig.alongside(async {
        let messages = rig
            .post("/v1/messages", &message_request(&model, false))
            .await;
        assert!(messages.headers().get("x-keyrelay-model").is_none());
        let (kind, message) = anthropic_error(messages, 400).await;
        assert_eq!(kind, "invalid_request_error");
        assert!(message.contains("256"), "{message}");
        assert!(!message.contains("mmmm"), "the model is not echoed");

        let chat = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let (_, message) = openai_error(rig.post("/v1/chat/completions", &chat).await, 400).await;
        assert!(message.contains("256"), "{message}");
        let responses = json!({"model": model, "input": "hi"});
        openai_error(rig.post("/v1/responses", &responses).await, 400).await;

        let path = format!("/v1beta/models/{}:generateContent", "g".repeat(1024));
        let gemini = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
        gemini_error(rig.post(&path, &gemini).await, 400).await;

        let native = json!({"model": "m".repeat(1024), "messages": []});
        let (_, message) =
            openai_error(rig.post("/p/openai/chat/completions", &native).await, 400).await;
        assert!(message.contains("256"), "{message}");
    })
    .await;
    assert_eq!(reached(&rig), Vec::<String>::new());
}

#[tokio::test]
async fn a_model_of_256_bytes_still_routes() {
    let rig = Rig::start("").await;
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("fits")]);
    let model = format!("anthropic@{}", "m".repeat(256 - "anthropic@".len()));
    let response = rig
        .post("/v1/messages", &message_request(&model, false))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-keyrelay-model"].len(),
        256 - "anthropic@".len()
    );
}

#[tokio::test]
async fn a_passthrough_path_that_climbs_above_the_base_url_is_refused() {
    let rig = Rig::start("").await;
    for path in [
        "/p/openai/../../admin/keys",
        "/p/openai/models/../../../admin",
        "/p/openai/%2e%2e/%2E%2E/admin",
        "/p/openai/x%2F..%2F..%2Fadmin",
        "/p/openai/..%5C..%5Cadmin",
        "/p/openai/%252e%252e/admin",
        "/p/openai/./models",
    ] {
        let (status, body) = raw(&rig, "GET", path, "").await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("`..`"), "{path}: {body}");
    }
    assert_eq!(reached(&rig), Vec::<String>::new());
    rig.bystander().await;
}

#[tokio::test]
async fn a_model_that_would_climb_in_the_upstream_path_is_refused() {
    let rig = Rig::start("").await;
    // The Gemini front decodes the model in its path; Gemini's upstream
    // takes the model in its path too.
    let gemini = r#"{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}"#;
    let (status, body) = raw(
        &rig,
        "POST",
        "/v1beta/models/gemini@..%2F..%2F..%2Fadmin:generateContent",
        gemini,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["status"]),
        (400, &json!("INVALID_ARGUMENT")),
        "{body}"
    );
    // A Messages client's model goes into a Gemini provider's path when translated.
    let (status, body) = raw(
        &rig,
        "POST",
        "/v1/messages",
        &message_request("gemini@../../admin", false).to_string(),
    )
    .await;
    assert_eq!((status, &body["type"]), (400, &json!("error")), "{body}");
    assert_eq!(reached(&rig), Vec::<String>::new());
    rig.bystander().await;
}

#[tokio::test]
async fn dots_inside_names_are_not_dot_segments() {
    let rig = Rig::start("").await;
    rig.upstream
        .on_key(OPENAI, [Reply::json(200, json!({"object": "model"}))]);
    rig.upstream
        .on_key(GEMINI, [Reply::gemini_generate("fine")]);
    let (status, _) = raw(&rig, "GET", "/p/openai/models/gpt-4.1..preview", "").await;
    assert_eq!(status, 200);
    let gemini = r#"{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}"#;
    let (status, _) = raw(
        &rig,
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        gemini,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        reached(&rig),
        [
            "GET /models/gpt-4.1..preview",
            "POST /v1beta/models/gemini-2.5-flash:generateContent"
        ]
    );
}

#[tokio::test]
async fn the_request_log_keeps_a_bounded_path() {
    let rig = Rig::start("[server]\nadmin_tokens = [\"test-admin-token\"]\n").await;
    let long = format!("/v1/{}", "x".repeat(16 * 1024));
    let response = client()
        .post(rig.url(&long))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let log: Value = client()
        .get(rig.url("/admin/requests"))
        .bearer_auth("test-admin-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = log["requests"][0]["path"].as_str().unwrap_or_default();
    assert!(
        path.starts_with("/v1/xxx") && path.len() <= 512,
        "{} bytes",
        path.len()
    );
}
