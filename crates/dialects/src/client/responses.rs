//! The OpenAI Responses API (`POST /v1/responses`), served natively by
//! providers that have a Responses API of their own (`responses = true`).

use std::sync::Arc;

use super::{
    body_head, parse, usable_session, AnswerMeta, ClientApi, ClientError, ClientRequest, Head, Hub,
    Operation, Render, UsageFields,
};
use crate::anthropic::MessagesResponse;
use crate::openai::responses_in::{
    response_object, RequestEcho, ResponsesEvents, ResponsesMeta, ResponsesRequest,
};
use crate::{Dialect, StreamEncode};

/// The OpenAI Responses API.
pub struct Responses;

pub static RESPONSES: Responses = Responses;

impl ClientApi for Responses {
    fn name(&self) -> &'static str {
        "responses"
    }

    fn error_shape(&self) -> Dialect {
        Dialect::OpenaiChat
    }

    fn native_for(&self, _: Dialect, serves_responses: bool) -> bool {
        serves_responses
    }

    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError> {
        let head = body_head(request.body)?;
        // Codex names its session in a header; the SDKs may in `prompt_cache_key`.
        let session = head
            .prompt_cache_key
            .as_deref()
            .map(str::trim)
            .filter(|key| usable_session(key))
            .map(str::to_owned);
        Ok(Head {
            model: head.model,
            operation: Operation::Generate,
            stream: head.stream,
            session,
        })
    }

    fn native_path(&self, _: &ClientRequest<'_>, _: &Head, _: &str) -> String {
        String::from("/responses")
    }

    fn to_hub(&self, request: &ClientRequest<'_>, _: &Head) -> Result<Hub, ClientError> {
        let responses: ResponsesRequest = parse(request.body, "Responses")?;
        let translated = responses.to_messages()?;
        Ok(Hub {
            request: translated.request.into(),
            render: Box::new(ResponsesRender {
                echo: Arc::new(translated.echo),
            }),
            dropped: translated.dropped,
        })
    }

    fn usage(&self) -> UsageFields {
        UsageFields {
            object: "usage",
            input: "input_tokens",
            output: "output_tokens",
            cache_read: Some("input_tokens_details.cached_tokens"),
            cache_write: None,
        }
    }
}

struct ResponsesRender {
    /// The request's fields its answer repeats.
    echo: Arc<RequestEcho>,
}

impl ResponsesRender {
    /// A Responses answer's id (`resp_` and the message id's tail), model,
    /// time and echo.
    fn meta(&self, meta: &AnswerMeta<'_>) -> ResponsesMeta {
        ResponsesMeta {
            id: format!("resp_{}", meta.id_tail()),
            model: meta.model.to_owned(),
            created_at: meta.created,
            echo: self.echo.clone(),
        }
    }
}

impl Render for ResponsesRender {
    fn whole(&self, message: &MessagesResponse, meta: &AnswerMeta<'_>) -> Vec<u8> {
        response_object(message, &self.meta(meta))
            .to_string()
            .into_bytes()
    }

    fn stream(&self, meta: &AnswerMeta<'_>) -> Box<dyn StreamEncode> {
        Box::new(ResponsesEvents::new(self.meta(meta)))
    }
}
