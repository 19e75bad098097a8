//! Secrets stay secret under faults: a key a Gemini client puts in the URL
//! is never logged, and an upstream's echo of any key of the pool reaches
//! neither the client nor the log.

use std::io::Write;
use std::sync::{Arc, Mutex};

use testkit::Reply;

use super::*;

/// Log output, captured.
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

impl Captured {
    /// Everything logged at any level on this thread until the guard drops.
    /// The tests run on a current-thread runtime, so the gateway's tasks log
    /// here too.
    fn on_this_thread(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every run of 8 characters of `secret`: nothing of it may show.
fn fragments(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars.windows(8).map(|w| w.iter().collect()).collect()
}

fn assert_nothing_of(secret: &str, what: &str, text: &str) {
    for fragment in fragments(secret) {
        assert!(
            !text.contains(&fragment),
            "{what} shows `{fragment}`:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_key_in_the_query_string_is_never_logged() {
    const CLIENT_KEY: &str = "FAKEKEYfromTheClientQuery0123";
    let captured = Captured::default();
    let _logging = captured.on_this_thread();
    let rig = Rig::start("[pool]\nsame_key_retries = 0\n").await;
    rig.upstream.on_key(
        GEMINI,
        [
            Reply::gemini_generate("fine"),
            Reply::fixture(400, "fixtures/errors/gemini_invalid_key.json"),
        ],
    );
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let mut statuses = Vec::new();
    for path in [
        "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        "/p/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "/p/nosuch/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/gemini-2.5-flash:generateContent",
    ] {
        let url = rig.url(&format!("{path}?alt=sse&key={CLIENT_KEY}"));
        let response = client().post(url).json(&body).send().await.unwrap();
        statuses.push(response.status().as_u16());
        let text = response.text().await.unwrap();
        assert_nothing_of(CLIENT_KEY, "an answer", &text);
    }
    // Served, failed upstream (the key is then disabled), unknown provider,
    // and Gemini's own route with every key disabled.
    assert_eq!(statuses, [200, 400, 404, 503]);
    for sent in rig.upstream.requests_with_key(GEMINI) {
        assert_eq!(
            sent.query.as_deref(),
            Some("alt=sse"),
            "the client's key= stays behind"
        );
    }
    let logs = captured.text();
    assert!(
        logs.contains("key attempt failed") && logs.len() > 2_000,
        "the requests were logged at every level:\n{logs}"
    );
    assert!(
        logs.contains("keyrelay::access") && logs.contains("generateContent"),
        "the access log names each request's path:\n{logs}"
    );
    assert_nothing_of(CLIENT_KEY, "the log", &logs);
}

#[tokio::test]
async fn an_echo_of_any_key_of_the_pool_reaches_neither_the_client_nor_the_log() {
    // Keys of one pool need not share their first characters.
    const ALPHA: &str = "test-alpha-key-ABCDEFGH0A01";
    const BRAVO: &str = "test-bravo-key-ABCDEFGH0B02";
    // Each key's rejection echoes the other one: whole, OpenAI-masked, truncated.
    let rejection = |echoes: &str, masked: &str, truncated: &str| {
        Reply::json(
            401,
            json!({"error": {
                "message": format!("Incorrect API key provided: {echoes}. Also {masked}, and {truncated}"),
                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        )
    };
    let keys = format!("{ALPHA},{BRAVO}");
    let captured = Captured::default();
    let _logging = captured.on_this_thread();
    let mut seen = String::new();
    for path in ["/p/openai/chat/completions", "/v1/messages"] {
        let rig = Rig::start_with("", &[("OPENAI_API_KEYS", keys.as_str())]).await;
        rig.upstream.on_key(
            ALPHA,
            [rejection(
                BRAVO,
                "test-br*****************0B02",
                "test-bravo-key-ABCD…",
            )],
        );
        rig.upstream.on_key(
            BRAVO,
            [rejection(
                ALPHA,
                "test-al*****************0A01",
                "test-alpha-key-ABCD…",
            )],
        );
        let request = if path == "/v1/messages" {
            message_request("openai@gpt-4.1", false)
        } else {
            chat_request(false)
        };
        let response = rig.alongside(rig.post(path, &request)).await;
        assert_eq!(response.status(), 401, "{path}");
        seen.push_str(&format!("{:?}", response.headers()));
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Incorrect API key provided: [redacted]"),
            "{body}"
        );
        seen.push_str(&body);
        assert_eq!(rig.upstream.hits(ALPHA) + rig.upstream.hits(BRAVO), 2);
    }
    let logs = captured.text();
    for key in [ALPHA, BRAVO] {
        let secret = &key["test-".len()..];
        assert_nothing_of(secret, "what the client saw", &seen);
        assert_nothing_of(secret, "the log", &logs);
    }
    assert!(!seen.contains("***"), "{seen}");
}
