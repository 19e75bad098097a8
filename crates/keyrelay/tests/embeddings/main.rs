//! Embeddings over real HTTP on 127.0.0.1: OpenAI's `/v1/embeddings` and
//! Gemini's `:embedContent` / `:batchEmbedContents` in front of keyrelay,
//! testkit fakes of OpenAI, Gemini and Ollama behind it (native and
//! translated, the first key rate-limited with the provider's real 429),
//! virtual keys' spend and budgets, and the real openai and google-genai
//! Python SDKs.

#![allow(clippy::unwrap_used)]

mod failover;
mod gemini_front;
mod models;
mod openai_front;
mod sdks;

mod team;

#[path = "../support/fronts.rs"]
mod fronts;

pub use fronts::*;
use keyrelay::server::RunningGateway;
use serde_json::{json, Value};
use testkit::{FakeUpstream, Recorded, Reply};

/// The providers' real rate-limit answers.
pub fn openai_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/openai_rate_limit.json")
}

pub fn ollama_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/ollama_rate_limit.json")
}

/// The vector a fake gives its `n`th input of `text`: `dimensions` values
/// that tell inputs apart.
pub fn vector(n: usize, text: &str, dimensions: usize) -> Vec<f32> {
    (0..dimensions)
        .map(|d| (n as f32 + 1.0) * 0.25 + d as f32 * 0.125 + text.len() as f32 * 0.5)
        .collect()
}

fn dimensions(value: &Value, default: usize) -> usize {
    value.as_u64().map_or(default, |d| d as usize)
}

/// A fake OpenAI `/embeddings`: a vector per input (`dimensions` long,
/// else 8), floats or base64 as asked, `usage.prompt_tokens` 3 per input.
pub fn openai_embeddings(request: &Recorded) -> Reply {
    let body = request.json().unwrap();
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        // Strings, or token lists (named by their JSON).
        Value::Array(list) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect(),
        other => panic!("input: {other}"),
    };
    let base64 = body["encoding_format"] == "base64";
    let size = dimensions(&body["dimensions"], 8);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(n, text)| {
            let vector = vector(n, text, size);
            let embedding = if base64 {
                json!(dialects::embed::openai::encode(&vector))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": n, "embedding": embedding})
        })
        .collect();
    let tokens = 3 * inputs.len();
    Reply::json(
        200,
        json!({
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }),
    )
}

/// A fake Gemini `:embedContent` or `:batchEmbedContents` (no usage, as
/// Gemini answers).
pub fn gemini_embeddings(request: &Recorded) -> Reply {
    let body = request.json().unwrap();
    let one = |n: usize, request: &Value| {
        let text: String = request["content"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap())
            .collect();
        json!({"values": vector(n, &text, dimensions(&request["outputDimensionality"], 8))})
    };
    if request.path.ends_with(":batchEmbedContents") {
        let embeddings: Vec<Value> = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(n, r)| one(n, r))
            .collect();
        Reply::json(200, json!({"embeddings": embeddings}))
    } else {
        Reply::json(200, json!({"embedding": one(0, &body)}))
    }
}

/// A fake Ollama `/api/embed`.
pub fn ollama_embeddings(request: &Recorded) -> Reply {
    let body = request.json().unwrap();
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(list) => list
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("input: {other}"),
    };
    let size = dimensions(&body["dimensions"], 8);
    let embeddings: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(n, text)| vector(n, text, size))
        .collect();
    Reply::json(
        200,
        json!({
            "model": body["model"],
            "embeddings": embeddings,
            "total_duration": 14_143_917,
            "load_duration": 1_019_500,
            "prompt_eval_count": 4 * inputs.len(),
        }),
    )
}

/// A provider behind keyrelay: its keys' and base URL's variables.
#[derive(Clone, Copy)]
pub struct Provider {
    pub keys: &'static str,
    pub base: &'static str,
    /// Appended to the fake's base URL (OpenAI's base URL ends in `/v1`).
    pub suffix: &'static str,
    pub rate_limit: fn() -> Reply,
    pub answer: fn(&Recorded) -> Reply,
}

pub const OPENAI: Provider = Provider {
    keys: "OPENAI_API_KEYS",
    base: "OPENAI_BASE_URL",
    suffix: "/v1",
    rate_limit: openai_429,
    answer: openai_embeddings,
};

pub const GEMINI: Provider = Provider {
    keys: "GEMINI_API_KEYS",
    base: "GEMINI_BASE_URL",
    suffix: "",
    rate_limit: gemini_429,
    answer: gemini_embeddings,
};

pub const OLLAMA: Provider = Provider {
    keys: "OLLAMA_API_KEYS",
    base: "OLLAMA_CLOUD_BASE_URL",
    suffix: "",
    rate_limit: ollama_429,
    answer: ollama_embeddings,
};

/// A gateway whose `provider` is `upstream` with two keys, the first
/// rate-limited with the provider's real 429.
pub async fn limited_first(
    upstream: &FakeUpstream,
    provider: Provider,
    config: &str,
) -> RunningGateway {
    upstream.on_key(LIMITED, [(provider.rate_limit)()]);
    upstream.on_key_with(GOOD, provider.answer);
    let keys = format!("{LIMITED},{GOOD}");
    let base = format!("{}{}", upstream.base_url(), provider.suffix);
    start(
        &[
            (provider.keys, keys.as_str()),
            (provider.base, base.as_str()),
        ],
        &format!("[pool]\nsession_affinity = false\n{config}"),
    )
    .await
}

/// Posts an OpenAI embeddings request.
pub async fn embeddings(gateway: &RunningGateway, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/embeddings", gateway.url()))
        .bearer_auth("client-own-credential")
        .json(body)
        .send()
        .await
        .expect("gateway answers")
}

/// Posts to Gemini's `/v1beta/models/{model}:{method}`.
pub async fn gemini_embed(
    gateway: &RunningGateway,
    model: &str,
    method: &str,
    body: &Value,
) -> reqwest::Response {
    client()
        .post(format!("{}/v1beta/models/{model}:{method}", gateway.url()))
        .header("x-goog-api-key", "client-own-credential")
        .json(body)
        .send()
        .await
        .expect("gateway answers")
}

/// Asserts Google's error shape and returns the error object.
pub async fn gemini_error(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error body is JSON");
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["error"], "{body}");
    assert_eq!(body["error"]["code"], status, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["status"].is_string(), "{body}");
    body["error"].clone()
}

/// Asserts the first key was tried once, rate-limited, and the second
/// served: the headers say so.
pub fn served_by_the_second_key(response: &reqwest::Response, provider: &str, model: &str) {
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    assert_eq!(header(response, "x-keyrelay-key"), key_header(GOOD));
    assert_eq!(attempts(response), 2);
    assert_eq!(header(response, "x-keyrelay-provider"), provider);
    assert_eq!(header(response, "x-keyrelay-model"), model);
}

/// The vectors of an OpenAI embeddings answer (base64 decoded), checked for
/// its shape.
pub fn openai_vectors(body: &Value) -> Vec<Vec<f32>> {
    assert_eq!(body["object"], "list", "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(n, item)| {
            assert_eq!(item["object"], "embedding", "{body}");
            assert_eq!(item["index"], n, "{body}");
            match &item["embedding"] {
                Value::String(text) => dialects::embed::openai::decode(text).unwrap(),
                Value::Array(values) => values.iter().map(|v| v.as_f64().unwrap() as f32).collect(),
                other => panic!("embedding: {other}"),
            }
        })
        .collect()
}
