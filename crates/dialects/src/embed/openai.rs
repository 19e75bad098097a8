//! OpenAI's `POST /embeddings`: `input` a string, a list of strings, a
//! list of token ids or a list of such lists; `dimensions`;
//! `encoding_format` `float` or `base64` (each vector's little-endian
//! `f32` bytes). The answer is a `list` of `embedding` objects with their
//! `index`, and `usage.prompt_tokens`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{AnswerShape, EmbedRequest, Embeddings, Inputs};
use crate::{ProviderRequest, TranslateError};

/// An OpenAI embeddings request body (its `model` read elsewhere).
pub fn parse_request(body: &[u8]) -> Result<EmbedRequest, TranslateError> {
    let document: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError(format!(
            "request body is not a valid embeddings request: {e}"
        ))
    })?;
    let inputs = match document.get("input") {
        None | Some(Value::Null) => {
            return Err(TranslateError(String::from("input: field required")))
        }
        Some(input) => inputs(input)?,
    };
    let dimensions = match document.get("dimensions") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .filter(|d| (1..=u64::from(u32::MAX)).contains(d))
                .map(|d| d as u32)
                .ok_or_else(|| TranslateError("dimensions: must be a positive integer".into()))?,
        ),
    };
    let base64 = match document.get("encoding_format") {
        None | Some(Value::Null) => false,
        Some(Value::String(format)) if format == "float" => false,
        Some(Value::String(format)) if format == "base64" => true,
        Some(_) => {
            return Err(TranslateError(String::from(
                "encoding_format: must be \"float\" or \"base64\"",
            )))
        }
    };
    Ok(EmbedRequest {
        inputs,
        dimensions,
        task_type: None,
        answer: AnswerShape::Openai { base64 },
    })
}

fn inputs(input: &Value) -> Result<Inputs, TranslateError> {
    const SHAPES: &str =
        "input: must be a string, a list of strings, a list of token ids or a list of token id lists";
    let text = |value: &Value, at: String| match value {
        Value::String(text) if text.is_empty() => {
            Err(TranslateError(format!("{at}: must not be empty")))
        }
        Value::String(text) => Ok(text.clone()),
        _ => Err(TranslateError(SHAPES.into())),
    };
    let tokens = |value: &Value, at: String| {
        let list = value
            .as_array()
            .ok_or_else(|| TranslateError(SHAPES.into()))?;
        if list.is_empty() {
            return Err(TranslateError(format!("{at}: must not be empty")));
        }
        list.iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| TranslateError(SHAPES.into()))
    };
    match input {
        Value::String(_) => Ok(Inputs::Texts(vec![text(input, "input".into())?])),
        Value::Array(list) if list.is_empty() => {
            Err(TranslateError("input: must not be an empty list".into()))
        }
        Value::Array(list) => match &list[0] {
            Value::String(_) => list
                .iter()
                .enumerate()
                .map(|(n, v)| text(v, format!("input[{n}]")))
                .collect::<Result<_, _>>()
                .map(Inputs::Texts),
            Value::Number(_) => Ok(Inputs::Tokens(vec![tokens(input, "input".into())?])),
            Value::Array(_) => list
                .iter()
                .enumerate()
                .map(|(n, v)| tokens(v, format!("input[{n}]")))
                .collect::<Result<_, _>>()
                .map(Inputs::Tokens),
            _ => Err(TranslateError(SHAPES.into())),
        },
        _ => Err(TranslateError(SHAPES.into())),
    }
}

/// `request` for an OpenAI-compatible provider's `/embeddings`, vectors as
/// floats.
pub fn request(request: &EmbedRequest, model: &str) -> ProviderRequest {
    let input = match &request.inputs {
        Inputs::Texts(texts) => json!(texts),
        Inputs::Tokens(tokens) => json!(tokens),
    };
    let mut body = json!({ "model": model, "input": input, "encoding_format": "float" });
    if let Some(dimensions) = request.dimensions {
        body["dimensions"] = json!(dimensions);
    }
    ProviderRequest {
        path: String::from("/embeddings"),
        query: None,
        body,
    }
}

/// An OpenAI embeddings answer, each vector as floats or base64.
pub fn read_answer(body: &[u8]) -> Result<Embeddings, TranslateError> {
    #[derive(serde::Deserialize)]
    struct Item {
        index: Option<usize>,
        embedding: Vector,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Vector {
        Floats(Vec<f32>),
        Base64(String),
    }
    #[derive(serde::Deserialize)]
    struct Usage {
        prompt_tokens: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        data: Vec<Item>,
        usage: Option<Usage>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("not an OpenAI embeddings answer: {e}")))?;
    let mut items = answer.data;
    items.sort_by_key(|item| item.index);
    let vectors = items
        .into_iter()
        .map(|item| match item.embedding {
            Vector::Floats(floats) => Ok(floats),
            Vector::Base64(text) => decode(&text),
        })
        .collect::<Result<_, _>>()?;
    Ok(Embeddings {
        vectors,
        input_tokens: answer.usage.and_then(|u| u.prompt_tokens),
    })
}

/// `embeddings` as OpenAI's answer for `model`; usage is the provider's
/// count, else `request`'s estimate. Written straight from the `f32`s, so
/// each value reads as the provider wrote it.
pub fn answer(
    embeddings: &Embeddings,
    model: &str,
    base64: bool,
    request: &EmbedRequest,
) -> Vec<u8> {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Vector<'a> {
        Floats(&'a [f32]),
        Base64(String),
    }
    #[derive(serde::Serialize)]
    struct Item<'a> {
        object: &'static str,
        index: usize,
        embedding: Vector<'a>,
    }
    #[derive(serde::Serialize)]
    struct Usage {
        prompt_tokens: u64,
        total_tokens: u64,
    }
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        object: &'static str,
        data: Vec<Item<'a>>,
        model: &'a str,
        usage: Usage,
    }
    let data = embeddings
        .vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| Item {
            object: "embedding",
            index,
            embedding: match base64 {
                true => Vector::Base64(encode(vector)),
                false => Vector::Floats(vector),
            },
        })
        .collect();
    let (tokens, _) = request.input_tokens(embeddings);
    let answer = Answer {
        object: "list",
        data,
        model,
        usage: Usage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    serde_json::to_vec(&answer).unwrap_or_default()
}

/// A vector as base64 of its little-endian `f32` bytes.
pub fn encode(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

/// The vector base64 of little-endian `f32` bytes holds.
pub fn decode(text: &str) -> Result<Vec<f32>, TranslateError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| TranslateError(format!("an embedding is not valid base64: {e}")))?;
    if bytes.len() % 4 != 0 {
        return Err(TranslateError(
            "a base64 embedding is not a whole number of 4-byte floats".into(),
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}
