//! OpenAI's embeddings (`POST /v1/embeddings`), served natively by
//! OpenAI-Chat providers and translated for Gemini and Ollama (see
//! [`crate::embed`]).

use super::{body_head, ClientApi, ClientError, ClientRequest, Head, Hub, Operation, UsageFields};
use crate::embed::EmbedRequest;
use crate::Dialect;

/// The OpenAI embeddings API.
pub struct Embeddings;

pub static EMBEDDINGS: Embeddings = Embeddings;

impl ClientApi for Embeddings {
    fn name(&self) -> &'static str {
        "embeddings"
    }

    fn error_shape(&self) -> Dialect {
        Dialect::OpenaiChat
    }

    fn native_for(&self, dialect: Dialect, _: bool) -> bool {
        dialect == Dialect::OpenaiChat
    }

    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError> {
        let head = body_head(request.body)?;
        Ok(Head {
            model: head.model,
            operation: Operation::Embed,
            stream: false,
            session: None,
        })
    }

    fn native_path(&self, _: &ClientRequest<'_>, _: &Head, _: &str) -> String {
        String::from("/embeddings")
    }

    fn to_hub(&self, _: &ClientRequest<'_>, _: &Head) -> Result<Hub, ClientError> {
        Err(ClientError::Invalid(String::from(
            "an embeddings request has no conversation to translate",
        )))
    }

    fn embed_request(&self, request: &ClientRequest<'_>) -> Result<EmbedRequest, ClientError> {
        Ok(crate::embed::openai::parse_request(request.body)?)
    }

    fn usage(&self) -> UsageFields {
        UsageFields {
            object: "usage",
            input: "prompt_tokens",
            output: "completion_tokens",
            cache_read: None,
            cache_write: None,
        }
    }
}
