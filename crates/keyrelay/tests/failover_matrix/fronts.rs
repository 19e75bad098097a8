//! The front half of the table: each client API keyrelay serves, how its
//! client asks (whole or streamed), how it reads an answer's text, and the
//! error shape it expects.

use std::fmt;

use keyrelay::server::RunningGateway;
use serde_json::{json, Value};
use testkit::Reply;

use crate::support::{client, header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// Anthropic Messages, `POST /v1/messages`.
    Messages,
    /// OpenAI Chat Completions, `POST /v1/chat/completions`.
    Chat,
    /// OpenAI Responses, `POST /v1/responses`.
    Responses,
    /// Gemini's `POST /v1beta/models/{model}:generateContent`, and
    /// `:streamGenerateContent?alt=sse`.
    Gemini,
}

/// An error body in a front's own shape, taken apart.
#[derive(Debug)]
pub struct FrontError {
    /// Anthropic's and OpenAI's `error.type`; Google's `error.status`.
    pub kind: String,
    pub message: String,
    /// keyrelay's list of attempts, when it wrote the error.
    pub attempts: Option<Value>,
}

impl Front {
    /// Sends the client's "Say hello" for `model`.
    pub async fn ask(
        self,
        gateway: &RunningGateway,
        model: &str,
        streamed: bool,
    ) -> reqwest::Response {
        let messages = json!([{"role": "user", "content": "Say hello"}]);
        let (path, body) = match self {
            Front::Messages => (
                "/v1/messages".to_owned(),
                json!({"model": model, "max_tokens": 64, "stream": streamed, "messages": messages}),
            ),
            Front::Chat => (
                "/v1/chat/completions".to_owned(),
                json!({"model": model, "stream": streamed, "messages": messages}),
            ),
            Front::Responses => (
                "/v1/responses".to_owned(),
                json!({"model": model, "stream": streamed, "input": [
                    {"role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}]}),
            ),
            Front::Gemini => {
                let method = if streamed {
                    "streamGenerateContent?alt=sse"
                } else {
                    "generateContent"
                };
                (
                    format!("/v1beta/models/{model}:{method}"),
                    json!({"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}),
                )
            }
        };
        client()
            .post(format!("{}{path}", gateway.url()))
            .header("authorization", "Bearer client-own-credential")
            .json(&body)
            .send()
            .await
            .expect("gateway answers")
    }

    /// The answer's text, as this front's client reads it; panics on an
    /// answer out of shape.
    pub async fn text(self, response: reqwest::Response, streamed: bool) -> String {
        let content_type = header(&response, "content-type").to_owned();
        let body = response.text().await.expect("the answer ends cleanly");
        if !streamed {
            let answer: Value = serde_json::from_str(&body).expect("a JSON answer");
            return self.whole_text(&answer);
        }
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}: {body}"
        );
        self.streamed_text(&body)
    }

    fn whole_text(self, answer: &Value) -> String {
        let texts: Vec<&Value> = match self {
            Front::Messages => {
                assert_eq!(answer["type"], "message", "{answer}");
                answer["content"].as_array().unwrap().iter().collect()
            }
            Front::Chat => {
                assert_eq!(answer["object"], "chat.completion", "{answer}");
                vec![&answer["choices"][0]["message"]["content"]]
            }
            Front::Responses => {
                assert_eq!(answer["object"], "response", "{answer}");
                answer["output"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|item| item["type"] == "message")
                    .flat_map(|item| item["content"].as_array().unwrap())
                    .collect()
            }
            Front::Gemini => answer["candidates"][0]["content"]["parts"]
                .as_array()
                .unwrap()
                .iter()
                .collect(),
        };
        texts
            .into_iter()
            .filter_map(|t| t.as_str().or_else(|| t["text"].as_str()))
            .collect()
    }

    pub fn streamed_text(self, body: &str) -> String {
        // Gemini ends its lines in CRLF.
        let body = &body.replace("\r\n", "\n");
        let mut text = String::new();
        let mut last = None;
        for event in body.split("\n\n").filter(|e| !e.trim().is_empty()) {
            let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if data == "[DONE]" {
                last = Some("[DONE]".to_owned());
                continue;
            }
            let data: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {body}"));
            assert!(data.get("error").is_none(), "an error event: {body}");
            text += match self {
                Front::Messages if data["type"] == "content_block_delta" => {
                    data["delta"]["text"].as_str().unwrap_or("")
                }
                Front::Chat => data["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap_or(""),
                Front::Responses if data["type"] == "response.output_text.delta" => {
                    data["delta"].as_str().unwrap()
                }
                Front::Gemini => data["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or(""),
                _ => "",
            };
            last = data["type"].as_str().map(str::to_owned);
        }
        // Each stream ends the way its clients wait for.
        let end = match self {
            Front::Messages => Some("message_stop"),
            Front::Chat => Some("[DONE]"),
            Front::Responses => Some("response.completed"),
            Front::Gemini => None,
        };
        if let Some(end) = end {
            assert_eq!(last.as_deref(), Some(end), "{body}");
        }
        text
    }

    /// An error body in this front's shape, nothing else at its top level
    /// (keyrelay writes these); panics otherwise.
    pub async fn error(self, response: reqwest::Response) -> FrontError {
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON error");
        let top: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let error = &body["error"];
        let kind = match self {
            Front::Messages => {
                assert_eq!(top, ["error", "type"], "{body}");
                assert_eq!(body["type"], "error", "{body}");
                &error["type"]
            }
            Front::Chat | Front::Responses => {
                assert_eq!(top, ["error"], "{body}");
                assert!(
                    error.get("param").is_some() && error.get("code").is_some(),
                    "{body}"
                );
                &error["type"]
            }
            Front::Gemini => {
                assert_eq!(top, ["error"], "{body}");
                assert_eq!(error["code"], status, "{body}");
                &error["status"]
            }
        };
        FrontError {
            kind: kind.as_str().unwrap_or_else(|| panic!("{body}")).to_owned(),
            message: error["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
            attempts: error.get("attempts").cloned(),
        }
    }

    /// The error kind this front names an HTTP status by.
    pub fn kind_of(self, status: u16) -> &'static str {
        self.kind(match status {
            401 => "authentication_error",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        })
    }

    /// An Anthropic/OpenAI error type as this front names it (Google's
    /// `status` for a Gemini client).
    pub fn kind(self, named: &'static str) -> &'static str {
        if self != Front::Gemini {
            return named;
        }
        match named {
            "invalid_request_error" => "INVALID_ARGUMENT",
            "authentication_error" => "UNAUTHENTICATED",
            "rate_limit_error" => "RESOURCE_EXHAUSTED",
            "overloaded_error" => "UNAVAILABLE",
            "api_error" => "INTERNAL",
            other => panic!("no Google status listed for {other}"),
        }
    }
}

/// A Responses answer as OpenAI sends it, and its text: a recorded stream,
/// or a whole `response` object.
pub fn native_responses_answer(streamed: bool) -> (Reply, String) {
    if streamed {
        let path = format!(
            "{}/../dialects/tests/fixtures/openai_responses_text.sse",
            env!("CARGO_MANIFEST_DIR")
        );
        let recorded = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let text = Front::Responses.streamed_text(&recorded);
        return (Reply::raw(200, "text/event-stream", recorded), text);
    }
    let text = "served by the second key";
    let answer = json!({
        "id": "resp_up", "object": "response", "created_at": 1, "status": "completed",
        "model": "gpt-4.1-2025-04-14",
        "output": [{"id": "msg_up", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "text": text}]}],
        "usage": {"input_tokens": 9, "output_tokens": 5, "total_tokens": 14},
    });
    (Reply::json(200, answer), text.to_owned())
}

impl fmt::Display for Front {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Front::Messages => "messages",
            Front::Chat => "chat",
            Front::Responses => "responses",
            Front::Gemini => "gemini",
        })
    }
}
