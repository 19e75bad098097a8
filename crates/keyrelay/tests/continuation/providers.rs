//! The providers that continue a prefilled turn exactly, as the table
//! drives them: how each streams a text, how many of its chunks come
//! before the first piece of text, and the real error event it sends
//! inside a stream.

use serde_json::Value;
use testkit::{fixture_bytes, Reply, SseEvent};

#[derive(Debug, Clone, Copy)]
pub struct Provider {
    pub name: &'static str,
    /// The model as a client names it.
    pub model: &'static str,
    pub keys_env: &'static str,
    pub base_url_env: &'static str,
    pub speaks: Speaks,
    /// The usage both legs report together, when the fake reports it on a
    /// leg that breaks (Ollama and the Chat fakes count only at the end).
    pub summed_input_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    Anthropic,
    OpenaiChat,
    Gemini,
    Ollama,
}

impl Provider {
    /// The stream of `text`, as this provider sends it.
    pub fn stream(&self, text: &str) -> Reply {
        match self.speaks {
            Speaks::Anthropic => Reply::anthropic_stream(text),
            Speaks::OpenaiChat => Reply::openai_chat_stream(text),
            Speaks::Gemini => Reply::gemini_stream(text),
            Speaks::Ollama => Reply::ollama_stream(text),
        }
    }

    /// Chunks of its stream before the first piece of text.
    pub fn preamble(&self) -> usize {
        match self.speaks {
            // message_start, content_block_start, ping
            Speaks::Anthropic => 3,
            // the role chunk
            Speaks::OpenaiChat => 1,
            Speaks::Gemini | Speaks::Ollama => 0,
        }
    }

    /// Its real error event inside a stream, as it sends it.
    pub fn error_event(&self) -> bytes::Bytes {
        let fixture = |name: &str| {
            let bytes = fixture_bytes(&format!("fixtures/errors/{name}.json"));
            let text = String::from_utf8(bytes.to_vec()).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            value.to_string()
        };
        match self.speaks {
            Speaks::Anthropic => {
                SseEvent::named("error", fixture("anthropic_stream_overloaded")).encode()
            }
            Speaks::OpenaiChat => SseEvent::data(fixture("openrouter_stream_error")).encode(),
            Speaks::Gemini => {
                SseEvent::data(fixture("gemini_stream_overloaded")).encode_with("\r\n")
            }
            Speaks::Ollama => bytes::Bytes::from(fixture("ollama_stream_error") + "\n"),
        }
    }
}

pub fn anthropic() -> Provider {
    Provider {
        name: "anthropic",
        model: "anthropic@claude-sonnet-4-5",
        keys_env: "ANTHROPIC_API_KEYS",
        base_url_env: "ANTHROPIC_UPSTREAM_BASE_URL",
        speaks: Speaks::Anthropic,
        summed_input_tokens: Some(2 * testkit::PROMPT_TOKENS),
    }
}

pub fn gemini() -> Provider {
    Provider {
        name: "gemini",
        model: "gemini@gemini-2.5-flash",
        keys_env: "GEMINI_API_KEYS",
        base_url_env: "GEMINI_BASE_URL",
        speaks: Speaks::Gemini,
        summed_input_tokens: Some(2 * testkit::PROMPT_TOKENS),
    }
}

pub fn openrouter() -> Provider {
    Provider {
        name: "openrouter",
        model: "openrouter@qwen/qwen3-coder",
        keys_env: "OPENROUTER_API_KEYS",
        base_url_env: "OPENROUTER_BASE_URL",
        speaks: Speaks::OpenaiChat,
        summed_input_tokens: None,
    }
}

pub fn ollama_cloud() -> Provider {
    Provider {
        name: "ollama-cloud",
        model: "ollama-cloud@gpt-oss:120b",
        keys_env: "OLLAMA_API_KEYS",
        base_url_env: "OLLAMA_CLOUD_BASE_URL",
        speaks: Speaks::Ollama,
        summed_input_tokens: None,
    }
}
