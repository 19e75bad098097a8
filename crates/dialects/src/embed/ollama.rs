//! Ollama's `POST /api/embed`: `input` a string or a list of strings,
//! `dimensions`, `truncate`; the answer's `embeddings` (one list per
//! input) and `prompt_eval_count`.

use serde_json::json;

use super::{EmbedRequest, Embeddings};
use crate::{ProviderRequest, TranslateError};

/// `request` as Ollama's `/api/embed` for `model`.
pub fn request(request: &EmbedRequest, model: &str) -> Result<ProviderRequest, TranslateError> {
    let texts = request.inputs.texts("Ollama")?;
    let mut body = json!({ "model": model, "input": texts });
    if let Some(dimensions) = request.dimensions {
        body["dimensions"] = json!(dimensions);
    }
    Ok(ProviderRequest {
        path: String::from("/api/embed"),
        query: None,
        body,
    })
}

/// An `/api/embed` answer.
pub fn read_answer(body: &[u8]) -> Result<Embeddings, TranslateError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        embeddings: Vec<Vec<f32>>,
        prompt_eval_count: Option<u64>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("not an Ollama embeddings answer: {e}")))?;
    Ok(Embeddings {
        vectors: answer.embeddings,
        input_tokens: answer.prompt_eval_count,
    })
}
