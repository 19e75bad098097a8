//! OpenAI Chat Completions (`POST /v1/chat/completions`), served natively
//! by OpenAI-Chat and OpenRouter providers.

use super::{
    body_head, parse, AnswerMeta, ClientApi, ClientError, ClientRequest, Head, Hub, Operation,
    Render, UsageFields,
};
use crate::anthropic::MessagesResponse;
use crate::openai::inbound::{completion, ChatChunks, ChatMeta, ChatRequest};
use crate::{Dialect, StreamEncode};

/// The OpenAI Chat Completions API.
pub struct Chat;

pub static CHAT: Chat = Chat;

impl ClientApi for Chat {
    fn name(&self) -> &'static str {
        "chat"
    }

    fn error_shape(&self) -> Dialect {
        Dialect::OpenaiChat
    }

    fn native_for(&self, dialect: Dialect, _: bool) -> bool {
        matches!(dialect, Dialect::OpenaiChat | Dialect::Openrouter)
    }

    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError> {
        let head = body_head(request.body)?;
        Ok(Head {
            model: head.model,
            operation: Operation::Generate,
            stream: head.stream,
            session: None,
        })
    }

    fn native_path(&self, _: &ClientRequest<'_>, _: &Head, _: &str) -> String {
        String::from("/chat/completions")
    }

    fn continues_natively(&self) -> bool {
        true
    }

    fn native_prefill(
        &self,
        body: &[u8],
        text: &str,
        prefill: crate::Prefill,
    ) -> Result<Vec<u8>, ClientError> {
        super::prefilled_body(body, "messages", |messages| {
            crate::prefill::push_assistant_text(messages, text, prefill)
        })
    }

    fn to_hub(&self, request: &ClientRequest<'_>, _: &Head) -> Result<Hub, ClientError> {
        let chat: ChatRequest = parse(request.body, "Chat Completions")?;
        Ok(Hub {
            request: chat.to_messages()?.into(),
            render: Box::new(ChatRender {
                include_usage: chat.include_usage(),
            }),
            dropped: Vec::new(),
        })
    }

    fn usage(&self) -> UsageFields {
        UsageFields {
            object: "usage",
            input: "prompt_tokens",
            output: "completion_tokens",
            cache_read: Some("prompt_tokens_details.cached_tokens"),
            cache_write: None,
        }
    }
}

struct ChatRender {
    /// `stream_options.include_usage`: a stream ends with a usage chunk.
    include_usage: bool,
}

impl ChatRender {
    /// A Chat answer's id (`chatcmpl-` and the message id's tail), model and time.
    fn meta(meta: &AnswerMeta<'_>) -> ChatMeta {
        ChatMeta {
            id: format!("chatcmpl-{}", meta.id_tail()),
            model: meta.model.to_owned(),
            created: meta.created,
        }
    }
}

impl Render for ChatRender {
    fn whole(&self, message: &MessagesResponse, meta: &AnswerMeta<'_>) -> Vec<u8> {
        completion(message, &Self::meta(meta))
            .to_string()
            .into_bytes()
    }

    fn stream(&self, meta: &AnswerMeta<'_>) -> Box<dyn StreamEncode> {
        Box::new(ChatChunks::new(Self::meta(meta), self.include_usage))
    }
}
