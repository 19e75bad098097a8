//! Headers a client of a shared gateway must not choose for the pooled key:
//! the organisation, project or Google Cloud project it bills, what a proxy
//! in front of keyrelay would have said (`X-Forwarded-For`, `Forwarded`,
//! `X-Original-URL`…), headers it marks hop-by-hop with `Connection`, and
//! another API's flags (`anthropic-beta` to OpenAI or Gemini). Each request
//! goes over real HTTP; the fake upstream records what arrived.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use testkit::{Recorded, Reply};

use super::*;

/// Headers no provider gets unless its `forward_headers` names them.
const DROPPED: &[(&str, &str)] = &[
    ("OpenAI-Organization", "org-someone-else"),
    ("OpenAI-Project", "proj_someone_else"),
    ("x-goog-user-project", "someone-elses-project"),
    ("X-Forwarded-For", "203.0.113.7"),
    ("X-Forwarded-Host", "internal.example"),
    ("X-Forwarded-Proto", "https"),
    ("Forwarded", "for=203.0.113.7;host=internal.example"),
    ("X-Real-IP", "203.0.113.7"),
    ("X-Original-URL", "/admin"),
    ("X-Rewrite-URL", "/admin"),
    ("Via", "1.1 somewhere"),
];

const BETA: &str = "interleaved-thinking-2025-05-14";

/// A client's headers: the dropped ones, `x-secret-hop` marked hop-by-hop
/// by `Connection` (unless `hop` is false), and Anthropic's version and
/// beta flags.
fn hostile(hop: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut add = |name: &str, value: &str| {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    };
    for (name, value) in DROPPED {
        add(name, value);
    }
    if hop {
        add("Connection", "x-secret-hop");
    }
    add("x-secret-hop", "1");
    add("anthropic-version", "2023-06-01");
    add("anthropic-beta", BETA);
    headers
}

/// Sends `body` to `path` with `headers`; returns what reached the upstream
/// with `key` (the one request the call made).
async fn through(rig: &Rig, path: &str, body: &Value, headers: HeaderMap, key: &str) -> Recorded {
    let before = rig.upstream.hits(key);
    let response = client()
        .post(rig.url(path))
        .headers(headers)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
    let sent = rig.upstream.requests_with_key(key);
    assert_eq!(sent.len(), before + 1, "{path}: one request upstream");
    sent.into_iter().next_back().unwrap()
}

fn assert_none_dropped_reached(sent: &Recorded, what: &str) {
    for (name, _) in DROPPED {
        assert_eq!(
            sent.header(name),
            None,
            "{what}: {name} reached the upstream"
        );
    }
    assert_eq!(
        sent.header("x-secret-hop"),
        None,
        "{what}: a header the client's Connection names reached the upstream"
    );
}

fn gemini_request() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
}

/// A rig whose three providers answer every request well.
async fn scripted(toml: &str) -> Rig {
    let rig = Rig::start(toml).await;
    rig.upstream.on_key(OPENAI, [Reply::openai_chat("hi")]);
    rig.upstream.on_key(GEMINI, [Reply::gemini_generate("hi")]);
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("hi")]);
    rig
}

#[tokio::test]
async fn billing_and_proxy_headers_reach_no_provider_and_anthropic_beta_only_anthropic() {
    let rig = scripted("").await;
    let gemini_path = "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent";
    let cases: [(&str, Value, &str, bool); 7] = [
        // Forwarded natively: a Chat client to OpenAI.
        ("/v1/chat/completions", chat_request(false), OPENAI, false),
        // Translated: a Messages client to Gemini and to OpenAI.
        (
            "/v1/messages",
            message_request("gemini@gemini-2.5-flash", false),
            GEMINI,
            false,
        ),
        (
            "/v1/messages",
            message_request("openai@gpt-4.1", false),
            OPENAI,
            false,
        ),
        // Forwarded natively: a Messages client to Anthropic.
        (
            "/v1/messages",
            message_request("claude-sonnet-4-5", false),
            ANTHROPIC,
            true,
        ),
        // The passthrough: a native client of each provider.
        (
            "/p/openai/chat/completions",
            chat_request(false),
            OPENAI,
            false,
        ),
        (gemini_path, gemini_request(), GEMINI, false),
        (
            "/p/anthropic/v1/messages",
            message_request("claude-sonnet-4-5", false),
            ANTHROPIC,
            true,
        ),
    ];
    for (path, body, key, anthropic) in cases {
        let what = format!("{path} ({})", body["model"]);
        let sent = through(&rig, path, &body, hostile(true), key).await;
        assert_none_dropped_reached(&sent, &what);
        let beta = anthropic.then_some(BETA);
        assert_eq!(sent.header("anthropic-beta"), beta, "{what}");
        // Anthropic's version: the client's to Anthropic, nothing elsewhere.
        let version = anthropic.then_some("2023-06-01");
        assert_eq!(sent.header("anthropic-version"), version, "{what}");
    }
}

#[tokio::test]
async fn a_provider_gets_the_headers_its_forward_headers_names_but_never_connection_named_ones() {
    let rig = scripted(
        "[providers.openai]\nforward_headers = [\"OpenAI-Organization\", \"X-Secret-Hop\"]\n",
    )
    .await;
    for (path, body) in [
        ("/v1/chat/completions", chat_request(false)),
        ("/p/openai/chat/completions", chat_request(false)),
        ("/v1/messages", message_request("openai@gpt-4.1", false)),
    ] {
        let sent = through(&rig, path, &body, hostile(true), OPENAI).await;
        assert_eq!(
            sent.header("openai-organization"),
            Some("org-someone-else"),
            "{path}: the configured header goes"
        );
        assert_eq!(sent.header("openai-project"), None, "{path}");
        assert_eq!(
            sent.header("x-secret-hop"),
            None,
            "{path}: named in Connection, it stays behind even when configured"
        );
        assert_eq!(sent.header("anthropic-beta"), None, "{path}");
        assert_eq!(sent.header("x-forwarded-for"), None, "{path}");
    }
    // Not marked hop-by-hop, the configured header goes too.
    let sent = through(
        &rig,
        "/v1/chat/completions",
        &chat_request(false),
        hostile(false),
        OPENAI,
    )
    .await;
    assert_eq!(sent.header("x-secret-hop"), Some("1"));
    // Another provider's configuration is not Gemini's.
    let sent = through(
        &rig,
        "/v1/messages",
        &message_request("gemini@gemini-2.5-flash", false),
        hostile(true),
        GEMINI,
    )
    .await;
    assert_none_dropped_reached(&sent, "gemini");
}

#[tokio::test]
async fn forward_headers_naming_a_hop_by_hop_header_or_a_credential_stop_the_gateway_at_start() {
    for name in ["Connection", "Authorization", "x-goog-api-key"] {
        let toml = format!("[providers.gemini]\nforward_headers = [\"{name}\"]\n");
        let config = Config::from_toml(&toml).expect("the file parses");
        let settings = ServeSettings {
            config,
            ..ServeSettings::default()
        };
        let refused = RunningGateway::start(&settings, &MapEnv::default()).await;
        let message = refused.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(
            message.contains("forward_headers") && message.contains(name),
            "{name}: {message:?}"
        );
    }
}
