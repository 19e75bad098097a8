//! Gemini clients on a Gemini provider: the client's bytes go up (only the
//! path's model changed by routing, the query less `key`) and the answer
//! comes back as is.

use std::io::Write;
use std::sync::{Arc, Mutex};

use testkit::{FakeUpstream, Reply};

use super::*;

/// A request as a client may write it: odd spacing, snake_case fields,
/// fields keyrelay never reads.
const RAW: &str = "{ \"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Say \\\"model\\\" twice\"}]}],\n  \"generation_config\" : {\"temperature\":0.70, \"seed\": 7},\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_NONE\"}] }";

async fn gemini_gateway(upstream: &FakeUpstream, config: &str) -> RunningGateway {
    start(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        config,
    )
    .await
}

#[tokio::test]
async fn a_gemini_provider_gets_the_clients_bytes_with_only_the_path_model_changed() {
    let upstream = FakeUpstream::start().await;
    let answer = r#"{"candidates": [{"content": {"parts": [{"text": "model model"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 2,"totalTokenCount": 11},"modelVersion": "gemini-2.5-flash","responseId": "up1"}"#;
    upstream.on_key(GOOD, [Reply::raw(200, "application/json", answer)]);
    let gateway = gemini_gateway(&upstream, "").await;
    // `g/gemini-2.5-flash`, percent-encoded as a client writes a slash in a path segment.
    let response = post_gemini(
        &gateway,
        "g%2Fgemini-2.5-flash",
        "generateContent",
        "",
        RAW.into(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    assert_eq!(header(&response, "x-keyrelay-model"), "gemini-2.5-flash");
    assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
    assert_eq!(response.text().await.unwrap(), answer, "the answer as sent");

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.query, None);
    assert_eq!(sent.body, RAW.as_bytes(), "byte for byte");
    assert_eq!(
        sent.header("x-goog-api-key"),
        Some(GOOD),
        "the pooled key, not the client's"
    );
    assert_eq!(
        sent.header("x-goog-api-client"),
        Some("google-genai-sdk/1.30.0 gl-node/v22.0.0")
    );
}

#[tokio::test]
async fn a_native_stream_comes_back_byte_for_byte() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_stream("Hello brave new world")]);
    let gateway = gemini_gateway(&upstream, "").await;
    let response = stream(&gateway, "gemini-2.5-flash", &gemini_request()).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    let body = response.text().await.unwrap();
    assert!(
        body.contains("\r\n\r\n"),
        "Google's CRLF framing kept: {body:?}"
    );
    let text: String = body
        .split("\r\n\r\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["candidates"][0]["content"]["parts"][0]
                ["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "Hello brave new world");
    let sent = &upstream.requests()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn the_v1_prefix_reaches_v1() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_generate("hi")]);
    let gateway = gemini_gateway(&upstream, "").await;
    let response = client()
        .post(format!(
            "{}/v1/models/gemini-2.5-flash:generateContent",
            gateway.url()
        ))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    answer(response).await;
    assert_eq!(
        upstream.requests()[0].path,
        "/v1/models/gemini-2.5-flash:generateContent"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_query_parameter_is_the_access_token_and_goes_no_further() {
    const TOKEN: &str = "team-token-in-the-query-7f3a";
    let captured = Captured::default();
    let writer = captured.clone();
    let _ = tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::gemini_stream("ok")]);
    let gateway = gemini_gateway(
        &upstream,
        &format!("[server]\naccess_tokens = [\"{TOKEN}\"]\n"),
    )
    .await;
    let url = |query: &str| {
        format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?{query}",
            gateway.url()
        )
    };
    let response = client()
        .post(url(&format!("alt=sse&key={TOKEN}")))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(streamed(response).await.text, "ok");
    let sent = &upstream.requests()[0];
    assert_eq!(sent.query.as_deref(), Some("alt=sse"), "the key stays here");
    assert_eq!(sent.key.as_deref(), Some(GOOD));

    let wrong = client()
        .post(url("alt=sse&key=not-the-token"))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let error = gemini_error(wrong).await;
    assert_eq!(error["status"], "UNAUTHENTICATED");
    assert_eq!(upstream.total_hits(), 1);

    // Gemini CLI sends the token in x-goog-api-key.
    let response = post_gemini(
        &gateway,
        "gemini-2.5-flash",
        "generateContent",
        "",
        gemini_request().to_string(),
    )
    .await;
    assert_eq!(
        response.status(),
        401,
        "client-own-credential is not the token"
    );

    drop(gateway);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("streamGenerateContent"),
        "the request was logged: {logs}"
    );
    assert!(!logs.contains(TOKEN), "the token never reaches the logs");
}
