//! Coding agents' big requests: forwarded as the client's own bytes (only
//! a model name routing changed is spliced in), read without a document
//! being built; translated off the async workers, with the same result as
//! any other translation.

use dialects::anthropic::MessagesRequest;
use dialects::Dialect;
use testkit::{FakeUpstream, Reply};

use super::*;

/// A Messages request of about `kib` KiB as a client might write it: odd
/// whitespace, escapes, non-ASCII text, and `model` after the history, in
/// `model_json` (a JSON string as written).
fn agent_turn(model_json: &str, kib: usize) -> Vec<u8> {
    let mut messages = Vec::new();
    let mut turn = 0;
    while messages.iter().map(String::len).sum::<usize>() < kib * 1024 {
        messages.push(format!(
            "{{ \"role\" :\"user\",\"content\":[ {{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_{turn}\",\r\n\t\"content\":\"    let x = \\\"caf\\u00e9\\\";\\n\\tfn \u{65e5}\u{672c}() {{ /* \\\\ {turn} */ }}\\n{}\"}}]}}",
            "fn main() { println!(\\\"données\\\"); }\\n".repeat(20)
        ));
        messages.push(format!(
            "{{\"role\":\"assistant\",   \"content\":[{{\"type\":\"tool_use\",\"id\":\"toolu_{}\",\"name\":\"Read\",\"input\":{{\"path\":\"src/\u{00e9}{turn}.rs\",\"limit\":1.5e3}}}}]}}",
            turn + 1
        ));
        turn += 1;
    }
    messages.push("{\"role\":\"user\",\"content\":\"go on \u{1F980}\"}".to_owned());
    format!(
        "{{\n  \"max_tokens\" : 64,\n  \"system\":\"You are a coding agent.\\u2028\",\n  \"messages\" : [\n{}\n  ],\n  \"model\" :  {model_json} ,\n  \"stream\":false,\"metadata\":{{\"user_id\":\"user_a_account_b_session_7\"}}\n}}\n",
        messages.join(" ,\n")
    )
    .into_bytes()
}

async fn post_raw(gateway: &RunningGateway, body: Vec<u8>) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forwarded_big_body_is_the_clients_bytes_with_only_a_routed_model_spliced() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    // Routing keeps the name: every byte as sent.
    let same = agent_turn("\"claude-sonnet-4-5\"", 300);
    assert!(serde_json::from_slice::<Value>(&same).is_ok());
    let response = post_raw(&gateway, same.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.requests().pop().unwrap().body, same);
    // Routing changes it (written with an escape): only its value differs.
    for (asked, routed) in [
        ("\"anthropic@claude-x\"", "\"claude-x\""),
        ("\"anthropic\\u0040claude-x\"", "\"claude-x\""),
    ] {
        let body = agent_turn(asked, 300);
        let response = post_raw(&gateway, body).await;
        assert_eq!(response.status(), 200, "{asked}");
        assert_eq!(
            upstream.requests().pop().unwrap().body,
            agent_turn(routed, 300),
            "{asked}"
        );
    }
}

#[tokio::test]
async fn a_big_request_translated_off_the_workers_is_the_same_translation() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::openai_chat("read it")]);
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let body = agent_turn("\"openai@gpt-4.1\"", 400);
    let response = post_raw(&gateway, body.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["type"], "message");
    assert_eq!(answer["model"], "openai@gpt-4.1");
    assert_eq!(answer["content"][0]["text"], "read it");
    // What the gateway sent is what the translator makes of the request.
    let hub: MessagesRequest = serde_json::from_slice(&body).unwrap();
    let expected = Dialect::OpenaiChat
        .hub_translator()
        .request(&hub, "gpt-4.1")
        .unwrap();
    let sent = upstream.requests().pop().unwrap();
    assert_eq!(sent.path, "/chat/completions");
    // A tool call's arguments are the client's input JSON as written: the
    // same JSON, compared as such.
    assert_eq!(
        arguments_read(sent.json().unwrap()),
        arguments_read(expected.body)
    );
}

/// `body` with each tool call's `arguments` string read as JSON.
fn arguments_read(mut body: Value) -> Value {
    for message in body["messages"].as_array_mut().into_iter().flatten() {
        for call in message["tool_calls"].as_array_mut().into_iter().flatten() {
            let arguments = &mut call["function"]["arguments"];
            if let Some(text) = arguments.as_str() {
                *arguments = serde_json::from_str(text).unwrap();
            }
        }
    }
    body
}

#[tokio::test]
async fn a_big_malformed_or_invalid_request_is_a_400_in_the_clients_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    for model in ["\"openai@gpt-4.1\"", "\"claude-sonnet-4-5\""] {
        let mut cut = agent_turn(model, 200);
        cut.truncate(cut.len() - 10);
        let response = post_raw(&gateway, cut).await;
        assert_eq!(response.status(), 400, "{model}");
        let (kind, message) = anthropic_error(response).await;
        assert_eq!(kind, "invalid_request_error");
        assert!(message.contains("not a valid JSON object"), "{message}");
    }
    // Well-formed JSON, but not a Messages request: the translation's error.
    let body = agent_turn("\"openai@gpt-4.1\"", 200);
    let text = String::from_utf8(body).unwrap();
    let wrong = text.replacen("\"messages\" : [", "\"messages\" : [7,", 1);
    let response = post_raw(&gateway, wrong.into_bytes()).await;
    assert_eq!(response.status(), 400);
    assert_eq!(anthropic_error(response).await.0, "invalid_request_error");
    assert_eq!(upstream.total_hits(), 0);
}
