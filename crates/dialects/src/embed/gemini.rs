//! Gemini's embeddings: `models/{m}:embedContent` (one `content`, answer
//! `embedding.values`) and `models/{m}:batchEmbedContents` (`requests[]`,
//! each naming `models/{m}`; answer `embeddings[].values`), each request
//! with `taskType` and `outputDimensionality`. Gemini reports no token
//! usage for embeddings (`usageMetadata` is read when present).

use serde_json::{json, Value};

use super::{AnswerShape, EmbedRequest, Embeddings, Inputs};
use crate::{ProviderRequest, TranslateError};

/// A `:embedContent` (`batch` false) or `:batchEmbedContents` body.
pub fn parse_request(body: &[u8], batch: bool) -> Result<EmbedRequest, TranslateError> {
    let document: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError(format!(
            "request body is not a valid Gemini embeddings request: {e}"
        ))
    })?;
    let one = |request: &Value, at: &str| -> Result<(String, Settings), TranslateError> {
        let content = field(request, "content")
            .ok_or_else(|| TranslateError(format!("{at}content: field required")))?;
        Ok((text_of(content, at)?, Settings::of(request, at)?))
    };
    let (texts, settings, answer) = if batch {
        let requests = match field(&document, "requests") {
            Some(Value::Array(requests)) if !requests.is_empty() => requests,
            Some(Value::Array(_)) => {
                return Err(TranslateError("requests: must not be an empty list".into()))
            }
            Some(_) => return Err(TranslateError("requests: must be a list".into())),
            None => return Err(TranslateError("requests: field required".into())),
        };
        let mut texts = Vec::with_capacity(requests.len());
        let mut first: Option<Settings> = None;
        for (n, request) in requests.iter().enumerate() {
            let (text, settings) = one(request, &format!("requests[{n}]."))?;
            match &first {
                None => first = Some(settings),
                Some(first) if *first != settings => {
                    return Err(TranslateError(format!(
                        "requests[{n}]: keyrelay takes one taskType and outputDimensionality for the whole batch"
                    )))
                }
                Some(_) => {}
            }
            texts.push(text);
        }
        (texts, first.unwrap_or_default(), AnswerShape::GeminiBatch)
    } else {
        let (text, settings) = one(&document, "")?;
        (vec![text], settings, AnswerShape::GeminiOne)
    };
    Ok(EmbedRequest {
        inputs: Inputs::Texts(texts),
        dimensions: settings.dimensions,
        task_type: settings.task_type,
        answer,
    })
}

/// What each request of a batch sets.
#[derive(Debug, Default, PartialEq, Eq)]
struct Settings {
    dimensions: Option<u32>,
    task_type: Option<String>,
}

impl Settings {
    fn of(request: &Value, at: &str) -> Result<Settings, TranslateError> {
        let dimensions = match field(request, "outputDimensionality") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .filter(|d| (1..=u64::from(u32::MAX)).contains(d))
                    .map(|d| d as u32)
                    .ok_or_else(|| {
                        TranslateError(format!(
                            "{at}outputDimensionality: must be a positive integer"
                        ))
                    })?,
            ),
        };
        let task_type = match field(request, "taskType") {
            None | Some(Value::Null) => None,
            Some(Value::String(task)) => Some(task.clone()),
            Some(_) => return Err(TranslateError(format!("{at}taskType: must be a string"))),
        };
        Ok(Settings {
            dimensions,
            task_type,
        })
    }
}

/// A field by its JSON name or its proto name (`taskType`, `task_type`):
/// Google's APIs take both.
fn field<'v>(object: &'v Value, camel: &str) -> Option<&'v Value> {
    object.get(camel).or_else(|| {
        let snake: String = camel
            .chars()
            .flat_map(|c| match c.is_ascii_uppercase() {
                true => vec!['_', c.to_ascii_lowercase()],
                false => vec![c],
            })
            .collect();
        object.get(snake.as_str())
    })
}

/// A content's text: its text parts, joined by newlines.
fn text_of(content: &Value, at: &str) -> Result<String, TranslateError> {
    let parts = match content.get("parts") {
        Some(Value::Array(parts)) if !parts.is_empty() => parts,
        _ => {
            return Err(TranslateError(format!(
                "{at}content.parts: must be a non-empty list"
            )))
        }
    };
    let texts = parts
        .iter()
        .map(|part| part.get("text").and_then(Value::as_str))
        .collect::<Option<Vec<&str>>>()
        .ok_or_else(|| {
            TranslateError(format!(
                "{at}content.parts: keyrelay embeds text parts only"
            ))
        })?;
    let text = texts.join("\n");
    if text.is_empty() {
        return Err(TranslateError(format!("{at}content: has no text to embed")));
    }
    Ok(text)
}

/// `request` as Gemini's `batchEmbedContents` for `model`.
pub fn request(request: &EmbedRequest, model: &str) -> Result<ProviderRequest, TranslateError> {
    let texts = request.inputs.texts("Gemini")?;
    let requests: Vec<Value> = texts
        .iter()
        .map(|text| {
            let mut one = json!({
                "model": format!("models/{model}"),
                "content": { "parts": [{ "text": text }] },
            });
            if let Some(dimensions) = request.dimensions {
                one["outputDimensionality"] = json!(dimensions);
            }
            if let Some(task) = &request.task_type {
                one["taskType"] = json!(task);
            }
            one
        })
        .collect();
    Ok(ProviderRequest {
        path: format!("/v1beta/models/{model}:batchEmbedContents"),
        query: None,
        body: json!({ "requests": requests }),
    })
}

/// A client's own `batchEmbedContents` body with each request naming the
/// routed `model` (Gemini refuses a batch whose requests name another
/// model than its path).
pub fn routed_batch(body: &[u8], model: &str) -> Result<Vec<u8>, TranslateError> {
    let mut document: Value = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("request body is not valid JSON: {e}")))?;
    if let Some(requests) = document.get_mut("requests").and_then(Value::as_array_mut) {
        for request in requests.iter_mut().filter_map(Value::as_object_mut) {
            request.insert("model".into(), json!(format!("models/{model}")));
        }
    }
    serde_json::to_vec(&document).map_err(|e| TranslateError(e.to_string()))
}

/// A Gemini `embedContent` or `batchEmbedContents` answer.
pub fn read_answer(body: &[u8]) -> Result<Embeddings, TranslateError> {
    #[derive(serde::Deserialize)]
    struct Values {
        values: Vec<f32>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Usage {
        prompt_token_count: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        embedding: Option<Values>,
        embeddings: Option<Vec<Values>>,
        usage_metadata: Option<Usage>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("not a Gemini embeddings answer: {e}")))?;
    let vectors = match (answer.embeddings, answer.embedding) {
        (Some(many), _) => many.into_iter().map(|v| v.values).collect(),
        (None, Some(one)) => vec![one.values],
        (None, None) => {
            return Err(TranslateError(
                "a Gemini embeddings answer without embeddings".into(),
            ))
        }
    };
    Ok(Embeddings {
        vectors,
        input_tokens: answer.usage_metadata.and_then(|u| u.prompt_token_count),
    })
}

#[derive(serde::Serialize)]
struct Values<'a> {
    values: &'a [f32],
}

/// `embeddings` (one vector) as `embedContent`'s answer.
pub fn one_answer(embeddings: &Embeddings) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct One<'a> {
        embedding: Values<'a>,
    }
    let values = embeddings.vectors.first().map_or(&[][..], Vec::as_slice);
    serde_json::to_vec(&One {
        embedding: Values { values },
    })
    .unwrap_or_default()
}

/// `embeddings` as `batchEmbedContents`'s answer.
pub fn batch_answer(embeddings: &Embeddings) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Batch<'a> {
        embeddings: Vec<Values<'a>>,
    }
    let embeddings = embeddings
        .vectors
        .iter()
        .map(|values| Values { values })
        .collect();
    serde_json::to_vec(&Batch { embeddings }).unwrap_or_default()
}
