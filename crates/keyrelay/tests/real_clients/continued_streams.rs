//! The official Anthropic, OpenAI (Chat Completions and Responses) and
//! google-genai Python SDKs read, with their own stream helpers, an answer
//! whose first key's stream broke mid-way and that keyrelay finished on the
//! next key (`[pool] continue_streams`): one answer, the whole text once,
//! no error raised.

use testkit::{rest_of, FakeUpstream, Reply, SseEvent};

use super::*;

const BREAKS: &str = "test-key-sdk-breaks-0000001";
const GOOD: &str = "test-key-sdk-good-000000002";
const FULL: &str =
    "The quick brown fox jumps over the lazy dog, and the cat watches it from the garden wall.";

/// An upstream of one API: how it streams a text, where its first piece of
/// text is, and its error event.
#[derive(Clone, Copy)]
struct Upstream {
    keys_var: &'static str,
    base_var: &'static str,
    model: &'static str,
    stream: fn(&str) -> Reply,
    preamble: usize,
}

const ANTHROPIC: Upstream = Upstream {
    keys_var: "ANTHROPIC_API_KEYS",
    base_var: "ANTHROPIC_UPSTREAM_BASE_URL",
    model: "anthropic@claude-sonnet-4-5",
    stream: Reply::anthropic_stream,
    preamble: 3,
};

const GEMINI: Upstream = Upstream {
    keys_var: "GEMINI_API_KEYS",
    base_var: "GEMINI_BASE_URL",
    model: "gemini@gemini-2.5-flash",
    stream: Reply::gemini_stream,
    preamble: 0,
};

const OPENROUTER: Upstream = Upstream {
    keys_var: "OPENROUTER_API_KEYS",
    base_var: "OPENROUTER_BASE_URL",
    model: "openrouter@qwen/qwen3-coder",
    stream: Reply::openai_chat_stream,
    preamble: 1,
};

/// The first key's stream: five pieces of text, then (`error`) Anthropic's
/// `overloaded_error` event or (else) a cut connection.
fn broken(upstream: Upstream, error: bool) -> Reply {
    let n = upstream.preamble + 5;
    let stream = (upstream.stream)(FULL);
    if error {
        let event = SseEvent::named(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        stream.error_after(n, event.encode())
    } else {
        stream.cut_after(n)
    }
}

/// Runs `sdk`'s check for `upstream`'s model through a gateway with
/// continuation on, the first key's stream broken; returns its report.
async fn read_through(sdk: &str, upstream: Upstream, error: bool) -> serde_json::Value {
    let fake = FakeUpstream::start().await;
    fake.on_key(BREAKS, [broken(upstream, error)]);
    let stream = upstream.stream;
    fake.on_key_with(GOOD, move |request| stream(rest_of(FULL, request)));
    let mut config = Config::default();
    config.pool.session_affinity = false;
    config.pool.continue_streams = true;
    let settings = ServeSettings {
        config,
        ..ServeSettings::default()
    };
    let env = MapEnv::new([
        (upstream.keys_var.to_owned(), format!("{BREAKS},{GOOD}")),
        (upstream.base_var.to_owned(), fake.base_url()),
    ]);
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();
    let report = run_sdk_check(
        "continuation_check.py",
        sdk,
        &gateway.url(),
        upstream.model,
        &[sdk],
    )
    .await;
    assert_eq!(report["text"], FULL, "{sdk}: {report}");
    assert_eq!(fake.hits(GOOD), 1, "one continuation");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anthropic_sdk_reads_a_continued_stream_forwarded_and_translated() {
    let native = read_through("anthropic", ANTHROPIC, true).await;
    assert_eq!(
        native["input_tokens"],
        2 * testkit::PROMPT_TOKENS,
        "both legs: {native}"
    );
    read_through("anthropic", GEMINI, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_reads_a_continued_chat_stream_forwarded_and_translated() {
    read_through("openai-chat", OPENROUTER, false).await;
    read_through("openai-chat", ANTHROPIC, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_reads_a_continued_responses_stream() {
    read_through("openai-responses", ANTHROPIC, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_reads_a_continued_stream_forwarded_and_translated() {
    read_through("genai", GEMINI, false).await;
    read_through("genai", ANTHROPIC, true).await;
}
