//! Gemini's own API (`POST /{v1beta|v1}/models/{model}:generateContent`,
//! `:streamGenerateContent`, `:countTokens`, `:embedContent`,
//! `:batchEmbedContents`), served natively by Gemini
//! providers. The model is in the path, not the body; a stream is SSE with
//! `alt=sse`, else one JSON array.

use serde_json::Value;

use super::{
    bounded_model, parse, AnswerMeta, ClientApi, ClientError, ClientRequest, Head, Hub, Operation,
    Render, UsageFields,
};
use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::embed::EmbedRequest;
use crate::gemini::inbound::{
    generate_content_response, CountTokensRequest, GeminiChunks, GeminiFraming, GeminiMeta,
    GenerateContentRequest,
};
use crate::{Dialect, StreamEncode};

/// Gemini's `generateContent` API.
pub struct Gemini;

pub static GEMINI: Gemini = Gemini;

impl ClientApi for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
    }

    fn error_shape(&self) -> Dialect {
        Dialect::Gemini
    }

    fn native_for(&self, dialect: Dialect, _: bool) -> bool {
        dialect == Dialect::Gemini
    }

    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError> {
        let target = ModelPath::parse(request.path)
            .filter(|t| t.method.is_some())
            .ok_or_else(|| {
                ClientError::NoRoute(format!(
                    "keyrelay has no route POST {}; Gemini clients use /v1beta/models/MODEL:generateContent, :streamGenerateContent, :countTokens, :embedContent or :batchEmbedContents",
                    request.path
                ))
            })?;
        let method = target.method.as_deref().unwrap_or_default();
        let model = bounded_model(target.model.clone())?;
        Ok(Head {
            operation: match method {
                "countTokens" => Operation::CountTokens,
                "embedContent" | "batchEmbedContents" => Operation::Embed,
                _ => Operation::Generate,
            },
            stream: target.streams(),
            model,
            session: None,
        })
    }

    fn native_path(&self, request: &ClientRequest<'_>, _: &Head, model: &str) -> String {
        let target = ModelPath::parse(request.path);
        let version = target.as_ref().map_or("v1beta", |t| t.version);
        let method = target
            .as_ref()
            .and_then(|t| t.method.as_deref())
            .unwrap_or("generateContent");
        format!("/{version}/models/{model}:{method}")
    }

    fn model_in_body(&self) -> bool {
        false
    }

    fn continues_natively(&self) -> bool {
        true
    }

    /// A last `model` turn: its last text part is extended, else one is added.
    fn native_prefill(
        &self,
        body: &[u8],
        text: &str,
        _: crate::Prefill,
    ) -> Result<Vec<u8>, ClientError> {
        super::prefilled_body(body, "contents", |contents| {
            if text.is_empty() {
                return;
            }
            let last_parts = contents
                .last_mut()
                .filter(|c| c.get("role").and_then(Value::as_str) == Some("model"))
                .and_then(|c| c.get_mut("parts"))
                .and_then(Value::as_array_mut);
            if let Some(parts) = last_parts {
                if let Some(Value::String(own)) = parts.last_mut().and_then(|p| p.get_mut("text")) {
                    own.push_str(text);
                } else {
                    parts.push(serde_json::json!({ "text": text }));
                }
                return;
            }
            contents.push(serde_json::json!({"role": "model", "parts": [{ "text": text }]}));
        })
    }

    fn to_hub(&self, request: &ClientRequest<'_>, head: &Head) -> Result<Hub, ClientError> {
        let method = ModelPath::parse(request.path)
            .and_then(|t| t.method)
            .unwrap_or_default();
        if !matches!(method.as_str(), "generateContent" | "streamGenerateContent") {
            return Err(ClientError::Invalid(format!(
                "{method}: keyrelay translates generateContent, streamGenerateContent and countTokens for providers other than Gemini"
            )));
        }
        let gemini: GenerateContentRequest = parse(request.body, "Gemini")?;
        let include_thoughts = gemini
            .generation_config
            .as_ref()
            .and_then(|c| c.thinking_config.as_ref())
            .and_then(|t| t.include_thoughts)
            .unwrap_or(false);
        let framing = if wants_sse(request.query) {
            GeminiFraming::Sse
        } else {
            GeminiFraming::JsonArray
        };
        Ok(Hub {
            request: gemini.to_messages(&head.model, head.stream)?.into(),
            render: Box::new(GeminiRender {
                framing,
                include_thoughts,
            }),
            dropped: Vec::new(),
        })
    }

    fn count_to_hub(
        &self,
        request: &ClientRequest<'_>,
        head: &Head,
    ) -> Result<MessagesRequest, ClientError> {
        let counted: CountTokensRequest = parse(request.body, "Gemini")?;
        Ok(counted.to_messages(&head.model)?)
    }

    fn count_body(&self, tokens: u64) -> Value {
        serde_json::json!({ "totalTokens": tokens })
    }

    fn embed_request(&self, request: &ClientRequest<'_>) -> Result<EmbedRequest, ClientError> {
        let method = ModelPath::parse(request.path).and_then(|t| t.method);
        let batch = method.as_deref() == Some("batchEmbedContents");
        Ok(crate::embed::gemini::parse_request(request.body, batch)?)
    }

    fn usage(&self) -> UsageFields {
        UsageFields {
            object: "usageMetadata",
            input: "promptTokenCount",
            output: "candidatesTokenCount",
            cache_read: Some("cachedContentTokenCount"),
            cache_write: None,
        }
    }
}

struct GeminiRender {
    framing: GeminiFraming,
    /// `thinkingConfig.includeThoughts`: thought parts go to the client.
    include_thoughts: bool,
}

impl GeminiRender {
    /// A Gemini answer's model (the client's) and response id (the message id's tail).
    fn meta(&self, meta: &AnswerMeta<'_>) -> GeminiMeta {
        GeminiMeta {
            model: meta.model.to_owned(),
            response_id: meta.id_tail().to_owned(),
            include_thoughts: self.include_thoughts,
        }
    }
}

impl Render for GeminiRender {
    fn whole(&self, message: &MessagesResponse, meta: &AnswerMeta<'_>) -> Vec<u8> {
        generate_content_response(message, &self.meta(meta))
            .to_string()
            .into_bytes()
    }

    fn stream(&self, meta: &AnswerMeta<'_>) -> Box<dyn StreamEncode> {
        Box::new(GeminiChunks::new(self.meta(meta), self.framing))
    }

    fn stream_content_type(&self) -> &'static str {
        match self.framing {
            GeminiFraming::JsonArray => "application/json; charset=utf-8",
            GeminiFraming::Sse => "text/event-stream; charset=utf-8",
        }
    }
}

/// A path below `/{version}/models/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPath {
    /// `v1beta` or `v1`, as the client called it.
    pub version: &'static str,
    /// The model as the client named it, percent-decoded (`openai@gpt-4.1`).
    pub model: String,
    /// `generateContent`, `streamGenerateContent`, `countTokens`…; `None`
    /// for the model itself (`GET /v1beta/models/{model}`).
    pub method: Option<String>,
}

/// Whether a path is one of Gemini's (keyrelay's own `/v1/models` list excepted).
pub fn is_gemini(path: &str) -> bool {
    path.starts_with("/v1beta/") || path.starts_with("/v1/models/")
}

impl ModelPath {
    /// `None` when the path is not `/{v1beta|v1}/models/{model}[:{method}]`
    /// or its model is empty or not valid percent-encoded UTF-8.
    pub fn parse(path: &str) -> Option<ModelPath> {
        let (version, tail) = ["v1beta", "v1"].into_iter().find_map(|version| {
            let tail = path
                .strip_prefix('/')?
                .strip_prefix(version)?
                .strip_prefix("/models/")?;
            Some((version, tail))
        })?;
        // A model name may hold `:` (`ollama@llama3:8b`); the method never does.
        let (model, method) = match tail.rsplit_once(':') {
            Some((model, method)) if is_method(method) => (model, Some(method.to_owned())),
            _ => (tail, None),
        };
        let model = percent_decode(model)?;
        let model = model.strip_prefix("models/").unwrap_or(&model).to_owned();
        (!model.trim().is_empty()).then_some(ModelPath {
            version,
            model,
            method,
        })
    }

    /// Whether the method streams (`streamGenerateContent`).
    pub fn streams(&self) -> bool {
        self.method.as_deref() == Some("streamGenerateContent")
    }
}

/// A method name: letters only (`generateContent`, `batchEmbedContents`).
fn is_method(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The `key` query parameter (how Gemini clients may send their key),
/// percent-decoded.
pub fn key_param(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .and_then(percent_decode)
        .filter(|key| !key.is_empty())
}

/// Whether the query asks for server-sent events (`alt=sse`).
pub fn wants_sse(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.eq_ignore_ascii_case("alt=sse"))
    })
}

/// `text` with its `%XX` escapes decoded; `None` when an escape is broken
/// or the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
