//! Embeddings: OpenAI's `POST /embeddings`, Gemini's `:embedContent` and
//! `:batchEmbedContents`, Ollama's `POST /api/embed`. A client's request is
//! read into an [`EmbedRequest`] (the texts, the dimensions, how the client
//! reads its answer); a provider of another API gets it in its own shape
//! ([`provider_request`]), and its answer is read back as [`Embeddings`]
//! ([`provider_answer`]) and written in the client's shape
//! ([`EmbedRequest::render`]). Answers are whole documents, never streams.

pub mod gemini;
pub mod ollama;
pub mod openai;
#[cfg(test)]
mod tests;

use crate::{Dialect, ProviderRequest, TranslateError};

/// What a client asks to embed.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRequest {
    pub inputs: Inputs,
    /// The length of each vector, when the client chose one.
    pub dimensions: Option<u32>,
    /// Gemini's `taskType` (`RETRIEVAL_QUERY`…), for a Gemini provider.
    pub task_type: Option<String>,
    /// How the client reads the answer.
    pub answer: AnswerShape,
}

/// The inputs, one vector each.
#[derive(Debug, Clone, PartialEq)]
pub enum Inputs {
    Texts(Vec<String>),
    /// OpenAI's pre-tokenised inputs: only an OpenAI-compatible provider
    /// reads them.
    Tokens(Vec<Vec<u64>>),
}

impl Inputs {
    pub fn len(&self) -> usize {
        match self {
            Inputs::Texts(texts) => texts.len(),
            Inputs::Tokens(tokens) => tokens.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The texts, for a provider that takes only text.
    fn texts(&self, provider: &str) -> Result<&[String], TranslateError> {
        match self {
            Inputs::Texts(texts) => Ok(texts),
            Inputs::Tokens(_) => Err(TranslateError(format!(
                "input: token arrays can be embedded only by an OpenAI-compatible provider; {provider} takes text"
            ))),
        }
    }

    /// About four characters a token (a pre-tokenised input counts its
    /// tokens): for a provider that reports no usage.
    pub fn estimated_tokens(&self) -> u64 {
        match self {
            Inputs::Texts(texts) => texts
                .iter()
                .map(|t| (t.len() as u64).div_ceil(4).max(1))
                .sum(),
            Inputs::Tokens(tokens) => tokens.iter().map(|t| t.len() as u64).sum(),
        }
    }
}

/// The answer's shape in the client's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerShape {
    /// OpenAI's list; `base64`: each vector as little-endian `f32` bytes
    /// in base64 (`encoding_format: "base64"`).
    Openai { base64: bool },
    /// Gemini's `embedContent`: one `embedding`.
    GeminiOne,
    /// Gemini's `batchEmbedContents`: `embeddings`, one per request.
    GeminiBatch,
}

/// The vectors a provider answered, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    /// The input tokens the provider reports; `None` when it reports none
    /// (Gemini).
    pub input_tokens: Option<u64>,
}

impl EmbedRequest {
    /// `embeddings` in the client's shape, as the JSON document the client
    /// reads; `model` is the model as the client named it.
    pub fn render(&self, embeddings: &Embeddings, model: &str) -> Vec<u8> {
        match self.answer {
            AnswerShape::Openai { base64 } => openai::answer(embeddings, model, base64, self),
            AnswerShape::GeminiOne => gemini::one_answer(embeddings),
            AnswerShape::GeminiBatch => gemini::batch_answer(embeddings),
        }
    }

    /// The input tokens to charge: the provider's count, else an estimate
    /// (and whether it is one).
    pub fn input_tokens(&self, embeddings: &Embeddings) -> (u64, bool) {
        match embeddings.input_tokens {
            Some(tokens) => (tokens, false),
            None => (self.inputs.estimated_tokens(), true),
        }
    }
}

/// Whether a provider of `dialect` has an embeddings endpoint keyrelay
/// speaks.
pub fn embeds(dialect: Dialect) -> bool {
    !matches!(dialect, Dialect::Anthropic)
}

/// `request` as a provider of `dialect` takes it, for its `model`.
pub fn provider_request(
    dialect: Dialect,
    request: &EmbedRequest,
    model: &str,
) -> Result<ProviderRequest, TranslateError> {
    match dialect {
        Dialect::OpenaiChat | Dialect::Openrouter => Ok(openai::request(request, model)),
        Dialect::Gemini => gemini::request(request, model),
        Dialect::Ollama => ollama::request(request, model),
        Dialect::Anthropic => Err(TranslateError(String::from(
            "the Anthropic API has no embeddings endpoint; route embeddings to an OpenAI, Gemini or Ollama provider",
        ))),
    }
}

/// A provider's whole answer of `dialect`, holding one vector for each of
/// `inputs` inputs.
pub fn provider_answer(
    dialect: Dialect,
    body: &[u8],
    inputs: usize,
) -> Result<Embeddings, TranslateError> {
    let embeddings = match dialect {
        Dialect::OpenaiChat | Dialect::Openrouter => openai::read_answer(body)?,
        Dialect::Gemini => gemini::read_answer(body)?,
        Dialect::Ollama => ollama::read_answer(body)?,
        Dialect::Anthropic => return Err(TranslateError("no embeddings from Anthropic".into())),
    };
    if embeddings.vectors.len() != inputs {
        return Err(TranslateError(format!(
            "the provider answered {} vectors for {inputs} inputs",
            embeddings.vectors.len()
        )));
    }
    Ok(embeddings)
}

/// The input tokens a native answer of `dialect` reports, read without
/// its vectors.
pub fn reported_tokens(dialect: Dialect, body: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Usage {
        prompt_tokens: Option<u64>,
        #[serde(rename = "promptTokenCount")]
        prompt_token_count: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        usage: Option<Usage>,
        #[serde(rename = "usageMetadata")]
        usage_metadata: Option<Usage>,
        prompt_eval_count: Option<u64>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    match dialect {
        Dialect::Gemini => answer.usage_metadata?.prompt_token_count,
        Dialect::Ollama => answer.prompt_eval_count,
        _ => answer.usage?.prompt_tokens,
    }
}
