//! A non-streamed answer is whole before the client sees it, whatever its
//! framing: a chunked 200 that breaks off mid-body, or one that carries an
//! error object after keep-alive whitespace, fails over like the matching
//! status would, on `/v1/messages` (native and translated) and on
//! `/p/{provider}/…`, for every dialect that answers whole JSON.

use serde_json::{json, Value};
use testkit::{fixture_bytes, FakeUpstream, Reply};

use super::*;

/// One provider: how to reach it and what its answers look like.
struct Provider {
    name: &'static str,
    keys_var: &'static str,
    base_var: &'static str,
    /// The model on `/v1/messages`.
    model: &'static str,
    /// A native path under `/p/{name}/`.
    native_path: &'static str,
    /// Its rate-limit error body, as the provider sends it.
    rate_limit: &'static str,
    /// A whole answer saying `text`.
    answer: fn(&str) -> Reply,
}

const PROVIDERS: [Provider; 5] = [
    Provider {
        name: "anthropic",
        keys_var: "ANTHROPIC_API_KEYS",
        base_var: "ANTHROPIC_UPSTREAM_BASE_URL",
        model: "anthropic@claude-sonnet-4-5",
        native_path: "v1/messages",
        rate_limit: "fixtures/errors/anthropic_rate_limit.json",
        answer: Reply::anthropic_message,
    },
    Provider {
        name: "openai",
        keys_var: "OPENAI_API_KEYS",
        base_var: "OPENAI_BASE_URL",
        model: "openai@gpt-4.1",
        native_path: "chat/completions",
        rate_limit: "fixtures/errors/openai_rate_limit.json",
        answer: Reply::openai_chat,
    },
    Provider {
        name: "openrouter",
        keys_var: "OPENROUTER_API_KEYS",
        base_var: "OPENROUTER_BASE_URL",
        model: "openrouter@vendor/model",
        native_path: "chat/completions",
        rate_limit: "fixtures/errors/openrouter_rate_limit.json",
        answer: Reply::openai_chat,
    },
    Provider {
        name: "gemini",
        keys_var: "GEMINI_API_KEYS",
        base_var: "GEMINI_BASE_URL",
        model: "gemini@gemini-2.5-flash",
        native_path: "v1beta/models/gemini-2.5-flash:generateContent",
        rate_limit: "fixtures/errors/gemini_rate_limit.json",
        answer: Reply::gemini_generate,
    },
    Provider {
        name: "ollama-cloud",
        keys_var: "OLLAMA_API_KEYS",
        base_var: "OLLAMA_CLOUD_BASE_URL",
        model: "ollama-cloud@gpt-oss:120b",
        native_path: "api/chat",
        rate_limit: "fixtures/errors/ollama_rate_limit.json",
        answer: Reply::ollama_chat,
    },
];

async fn gateway_for(provider: &Provider, upstream: &FakeUpstream) -> RunningGateway {
    let keys = format!("{LIMITED},{GOOD}");
    let base = upstream.base_url();
    start(
        &[
            (provider.keys_var, keys.as_str()),
            (provider.base_var, &base),
        ],
        "",
    )
    .await
}

/// A chunked 200 whose body stops half way: the connection is cut.
fn cut_mid_body(provider: &Provider) -> Reply {
    (provider.answer)("never seen").in_chunks(2).cut_after(1)
}

/// A chunked 200 that keeps the connection alive with whitespace, then
/// sends the provider's rate-limit error instead of an answer.
fn error_after_whitespace(provider: &Provider) -> Reply {
    let error = fixture_bytes(provider.rate_limit);
    Reply::chunks(200, "application/json", [" \n".into(), " \n".into(), error])
}

/// The first key's broken answer makes the request move to the second key,
/// whose answer reaches the client on `/v1/messages` and on `/p/…`.
async fn fails_over_from(broken: fn(&Provider) -> Reply, what: &str) {
    for provider in &PROVIDERS {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(LIMITED, [broken(provider)]);
        upstream.on_key(GOOD, [(provider.answer)("fine").in_chunks(3)]);
        let gateway = gateway_for(provider, &upstream).await;
        let context = format!("{what} from {} on /v1/messages", provider.name);

        let response = post_messages(&gateway, &message_request(provider.model, false)).await;
        assert_eq!(
            (response.status().as_u16(), attempts(&response)),
            (200, 2),
            "{context}"
        );
        assert_eq!(header(&response, "x-keyrelay-provider"), provider.name);
        let body: Value = response.json().await.expect("a JSON answer");
        let text = body["content"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(text, "fine", "{context}: {body}");

        // On the native path the same broken answer on the first key must
        // not reach the client either.
        upstream.on_key(LIMITED, [broken(provider)]);
        upstream.on_key(GOOD, [(provider.answer)("native").in_chunks(3)]);
        let gateway = gateway_for(provider, &upstream).await;
        let url = format!(
            "{}/p/{}/{}",
            gateway.url(),
            provider.name,
            provider.native_path
        );
        let response = client()
            .post(&url)
            .json(&json!({"model": "m", "messages": []}))
            .send()
            .await
            .expect("gateway answers");
        let context = format!("{what} from {} on /p/", provider.name);
        assert_eq!(
            (response.status().as_u16(), attempts(&response)),
            (200, 2),
            "{context}"
        );
        let body = response.text().await.expect("a body");
        assert!(body.contains("native"), "{context}: {body}");
        assert!(!body.contains("never seen"), "{context}: {body}");
    }
}

#[tokio::test]
async fn a_chunked_answer_cut_mid_body_fails_over_on_every_dialect() {
    fails_over_from(cut_mid_body, "a chunked 200 cut mid-body").await;
}

#[tokio::test]
async fn a_chunked_200_carrying_an_error_object_fails_over_on_every_dialect() {
    fails_over_from(
        error_after_whitespace,
        "an error object inside a chunked 200",
    )
    .await;
}

#[tokio::test]
async fn the_key_that_sent_an_error_inside_a_200_cools_like_a_429() {
    let provider = &PROVIDERS[2];
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [error_after_whitespace(provider)]);
    upstream.on_key(GOOD, [(provider.answer)("fine")]);
    let gateway = gateway_for(provider, &upstream).await;
    let first = post_messages(&gateway, &message_request(provider.model, false)).await;
    assert_eq!(attempts(&first), 2);
    let second = post_messages(&gateway, &message_request(provider.model, false)).await;
    assert_eq!(
        (second.status().as_u16(), attempts(&second)),
        (200, 1),
        "the limited key is cooling"
    );
    assert_eq!(upstream.hits(LIMITED), 1);
}

#[tokio::test]
async fn when_every_key_sends_an_error_inside_a_200_the_client_gets_that_error() {
    let provider = &PROVIDERS[2];
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [error_after_whitespace(provider)]);
    let gateway = start(
        &[
            (provider.keys_var, LIMITED),
            (provider.base_var, &upstream.base_url()),
        ],
        "",
    )
    .await;
    let response = post_messages(&gateway, &message_request(provider.model, false)).await;
    assert_eq!(response.status(), 429, "the status the error stands for");
    let (kind, message) = anthropic_error(response).await;
    assert_eq!(kind, "rate_limit_error");
    assert!(message.contains("Rate limit exceeded"), "{message}");
}

#[tokio::test]
async fn an_answer_beyond_max_response_bytes_streams_through_intact() {
    let upstream = FakeUpstream::start().await;
    let big = "x".repeat(10_000);
    upstream.on_key(GOOD, [Reply::anthropic_message(&big).in_chunks(8)]);
    let gateway = with_a_4_kib_limit(&upstream).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("the whole answer");
    assert_eq!(body["content"][0]["text"], big.as_str());
}

#[tokio::test]
async fn an_answer_beyond_max_response_bytes_that_breaks_off_is_cut_for_the_client() {
    let upstream = FakeUpstream::start().await;
    let big = "x".repeat(10_000);
    let broken = Reply::anthropic_message(&big).in_chunks(8).cut_after(4);
    upstream.on_key(GOOD, [broken]);
    let gateway = with_a_4_kib_limit(&upstream).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(response.status(), 200, "the answer had started");
    assert!(
        response.bytes().await.is_err(),
        "the client sees a cut, not a complete body"
    );
}

/// An Anthropic gateway that reads whole answers up to 4 KiB only.
async fn with_a_4_kib_limit(upstream: &FakeUpstream) -> RunningGateway {
    start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &upstream.base_url()),
        ],
        "[limits]\nmax_response_bytes = 4096\n",
    )
    .await
}
