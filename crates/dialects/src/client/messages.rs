//! Anthropic Messages (`POST /v1/messages`, `/v1/messages/count_tokens`):
//! the hub's own API, served natively by Anthropic-dialect providers.

use bytes::Bytes;

use super::{
    body_head, parse, usable_session, AnswerMeta, ClientApi, ClientError, ClientRequest, Head, Hub,
    HubRequest, MessagesEvents, Operation, Render, UsageFields,
};
use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::{Dialect, StreamEncode};

/// The Anthropic Messages API.
pub struct Messages;

pub static MESSAGES: Messages = Messages;

impl ClientApi for Messages {
    fn name(&self) -> &'static str {
        "messages"
    }

    fn error_shape(&self) -> Dialect {
        Dialect::Anthropic
    }

    fn native_for(&self, dialect: Dialect, _: bool) -> bool {
        dialect == Dialect::Anthropic
    }

    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError> {
        let head = body_head(request.body)?;
        let operation = if request.path.ends_with("/count_tokens") {
            Operation::CountTokens
        } else {
            Operation::Generate
        };
        Ok(Head {
            model: head.model,
            operation,
            stream: head.stream,
            session: head.user_id.as_deref().and_then(session_in_user_id),
        })
    }

    fn native_path(&self, request: &ClientRequest<'_>, _: &Head, _: &str) -> String {
        request.path.to_owned()
    }

    /// The client's bytes are the hub request: they are read where they
    /// are translated, so a malformed body is refused there.
    fn to_hub(&self, request: &ClientRequest<'_>, head: &Head) -> Result<Hub, ClientError> {
        self.to_hub_shared(request, &Bytes::copy_from_slice(request.body), head)
    }

    fn to_hub_shared(
        &self,
        _: &ClientRequest<'_>,
        body: &Bytes,
        head: &Head,
    ) -> Result<Hub, ClientError> {
        Ok(Hub {
            request: HubRequest::messages_json(body.clone(), head),
            render: Box::new(MessagesRender),
            dropped: Vec::new(),
        })
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

    fn count_to_hub(
        &self,
        request: &ClientRequest<'_>,
        _: &Head,
    ) -> Result<MessagesRequest, ClientError> {
        parse(request.body, "Messages")
    }

    fn usage(&self) -> UsageFields {
        UsageFields {
            object: "usage",
            input: "input_tokens",
            output: "output_tokens",
            cache_read: Some("cache_read_input_tokens"),
            cache_write: Some("cache_creation_input_tokens"),
        }
    }
}

/// The hub's answer is a Messages answer already.
struct MessagesRender;

impl Render for MessagesRender {
    fn whole(&self, message: &MessagesResponse, _: &AnswerMeta<'_>) -> Vec<u8> {
        serde_json::to_vec(message).unwrap_or_default()
    }

    fn stream(&self, _: &AnswerMeta<'_>) -> Box<dyn StreamEncode> {
        Box::new(MessagesEvents)
    }
}

/// The session in `metadata.user_id`, where older Claude Code versions put
/// it: `user_…_account_…_session_UUID`, or a JSON object with `session_id`.
fn session_in_user_id(user_id: &str) -> Option<String> {
    let user_id = user_id.trim();
    if user_id.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Ids {
            session_id: Option<String>,
        }
        let ids: Ids = serde_json::from_str(user_id).ok()?;
        return ids.session_id.filter(|s| usable_session(s));
    }
    let (_, session) = user_id.rsplit_once("_session_")?;
    usable_session(session).then(|| session.to_owned())
}
