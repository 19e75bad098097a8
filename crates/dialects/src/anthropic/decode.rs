//! An Anthropic Messages stream, read back into [`StreamEvent`]s: what an
//! Anthropic-dialect provider sends when the client speaks another API.
//!
//! - Each SSE event's data is one event; the `event:` name is not needed
//!   (Anthropic repeats it as `type`).
//! - An event this version cannot read (a new event type, a `citations_delta`…)
//!   is skipped, so a new upstream feature never breaks the stream.
//! - The events are passed on as they are, with `message_start` given the id
//!   and model the client sees. `message_stop` or `error` ends the message;
//!   a body that ends before either ends with an `error` event.

use super::types::StreamEvent;
use crate::sse::SseDecoder;
use crate::translate::StreamTranslate;

/// The state of one Anthropic stream.
#[derive(Debug)]
pub struct AnthropicEvents {
    decoder: SseDecoder,
    id: String,
    model: String,
    started: bool,
    ended: bool,
}

impl AnthropicEvents {
    /// `id` and `model` replace the upstream's in `message_start`.
    pub fn new(model: &str, id: &str) -> Self {
        AnthropicEvents {
            decoder: SseDecoder::default(),
            id: id.to_owned(),
            model: model.to_owned(),
            started: false,
            ended: false,
        }
    }

    fn on_data(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        let Ok(mut event) = serde_json::from_str::<StreamEvent>(data) else {
            return;
        };
        match &mut event {
            StreamEvent::MessageStart { message } => {
                self.started = true;
                message.id.clone_from(&self.id);
                message.model.clone_from(&self.model);
            }
            StreamEvent::MessageStop | StreamEvent::Error { .. } => self.ended = true,
            _ => {}
        }
        out.push(event);
    }

    fn fail(&mut self, message: &str, out: &mut Vec<StreamEvent>) {
        self.ended = true;
        out.push(StreamEvent::Error {
            error: super::types::ErrorBody {
                kind: String::from("api_error"),
                message: message.to_owned(),
            },
        });
    }
}

impl StreamTranslate for AnthropicEvents {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let mut events = Vec::new();
        let decoded = self.decoder.push_into(chunk, &mut events);
        for event in &events {
            if self.ended {
                return;
            }
            self.on_data(&event.data, out);
        }
        if let Err(error) = decoded {
            self.fail(&error.to_string(), out);
        }
    }

    fn finish(&mut self, error: Option<&str>, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.decoder.finish();
        let message = error.unwrap_or("the upstream stream ended before the response was complete");
        self.fail(message, out);
    }

    fn started(&self) -> bool {
        self.started
    }
}
