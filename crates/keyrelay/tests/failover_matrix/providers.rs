//! The provider half of the table: what the matrix knows of a provider
//! (the rows are in `table`) — how it is reached, what a good answer looks
//! like in its dialect, and how one of its keys fails in each scenario: a
//! real error with the class and reset hint keyrelay must read from it.

use std::fmt;

use testkit::Reply;

use crate::fronts::Front;
use crate::scenarios::Scenario;

/// One upstream provider as the matrix drives it.
#[derive(Debug, Clone, Copy)]
pub struct Provider {
    /// The registry's name (`x-keyrelay-provider`).
    pub name: &'static str,
    /// The model as a client names it.
    pub model: &'static str,
    pub keys_env: &'static str,
    pub base_url_env: &'static str,
    pub speaks: Speaks,
    /// Serves the Responses API itself (`responses = true`).
    pub responses: bool,
    pub rate_limited: Failure,
    /// Its 429 limits the whole account, not the key: met on a second key
    /// it reads as the provider being down (`provider_down`), which stops
    /// rotation and, by design, cools no key.
    pub account_wide_429: bool,
    pub out_of_quota: Failure,
    pub invalid_key: Failure,
    pub overloaded: Failure,
    /// An error as the first event of an HTTP 200 stream, when a real one is known.
    pub stream_error: Option<Failure>,
    /// A rate limit as the first event of an HTTP 200 stream, when a real one is known.
    pub stream_429: Option<Failure>,
    pub client_error: Failure,
}

/// The upstream API a provider answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    Anthropic,
    OpenaiChat,
    Gemini,
    Ollama,
}

/// How one key fails, and what keyrelay must make of it.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    pub sent: Sent,
    /// The outcome class the attempt log must show.
    pub class: &'static str,
    pub hint: Hint,
}

/// What the upstream sends.
#[derive(Debug, Clone, Copy)]
pub enum Sent {
    /// An error status with a fixture body (and its `.headers` sidecar),
    /// named as in testkit's `fixtures/errors/` without `.json`.
    Fixture { status: u16, name: &'static str },
    /// The connection closes without an answer.
    Reset,
    /// No answer at all: the first-byte timeout decides.
    Hang,
    /// A 200 stream (SSE, or NDJSON when `ndjson`) that sends no event.
    Silence { ndjson: bool },
    /// A 200 stream whose first event is the fixture body.
    Event {
        name: &'static str,
        framing: Framing,
    },
}

#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `event: NAME` then the data.
    SseNamed(&'static str),
    SseData,
    Ndjson,
}

/// The reset hint keyrelay must read from a failure, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    Secs(u64),
    /// Until a daily reset: some hours, depending on the time of day.
    Daily,
}

/// No answer at all, whichever the provider.
const HANG: Failure = Failure {
    sent: Sent::Hang,
    class: "transient",
    hint: Hint::None,
};

/// testkit's path of an error fixture.
pub fn fixture_file(name: &str) -> String {
    format!("fixtures/errors/{name}.json")
}

impl Sent {
    /// The HTTP status the attempt log shows (`-` when none came).
    pub fn logged_status(self) -> String {
        match self {
            Sent::Fixture { status, .. } => status.to_string(),
            Sent::Reset | Sent::Hang | Sent::Silence { .. } => "-".into(),
            Sent::Event { .. } => "200".into(),
        }
    }
}

impl Provider {
    /// How a key fails in `scenario`.
    pub fn failure(&self, scenario: Scenario) -> Failure {
        match scenario {
            Scenario::RateLimited | Scenario::Exhausted => self.rate_limited,
            Scenario::OutOfQuota => self.out_of_quota,
            Scenario::InvalidKey | Scenario::AllInvalid => self.invalid_key,
            Scenario::Overloaded | Scenario::ProviderDown => self.overloaded,
            Scenario::Silent => HANG,
            Scenario::ClientError => self.client_error,
        }
    }

    /// How a key fails in `scenario` inside an HTTP 200 stream, when it can.
    pub fn in_stream(&self, scenario: Scenario, front: Front) -> Option<Failure> {
        match scenario {
            Scenario::RateLimited | Scenario::Exhausted => self.stream_429,
            Scenario::Overloaded | Scenario::ProviderDown => self.stream_error(front),
            Scenario::Silent => Some(Failure {
                sent: Sent::Silence {
                    ndjson: self.speaks == Speaks::Ollama,
                },
                ..HANG
            }),
            _ => None,
        }
    }

    /// The in-stream error a `front` request can meet: OpenAI's is an
    /// event of its Responses API, which the other fronts do not reach.
    fn stream_error(&self, front: Front) -> Option<Failure> {
        if self.responses && front != Front::Responses {
            return None;
        }
        self.stream_error
    }

    /// Whether `front` forwards to this provider as sent (no translation).
    pub fn native_for(&self, front: Front) -> bool {
        match front {
            Front::Messages => self.speaks == Speaks::Anthropic,
            Front::Chat => self.speaks == Speaks::OpenaiChat,
            Front::Responses => self.responses,
            Front::Gemini => self.speaks == Speaks::Gemini,
        }
    }

    /// A good answer for a `front` request, and the text the client must read from it.
    pub fn good(&self, front: Front, streamed: bool) -> (Reply, String) {
        const TEXT: &str = "served by the second key";
        let reply = match (self.speaks, streamed) {
            _ if front == Front::Responses && self.responses => {
                return crate::fronts::native_responses_answer(streamed)
            }
            (Speaks::Anthropic, false) => Reply::anthropic_message(TEXT),
            (Speaks::Anthropic, true) => Reply::anthropic_stream(TEXT),
            (Speaks::OpenaiChat, false) => Reply::openai_chat(TEXT),
            (Speaks::OpenaiChat, true) => Reply::openai_chat_stream(TEXT),
            (Speaks::Gemini, false) => Reply::gemini_generate(TEXT),
            (Speaks::Gemini, true) => Reply::gemini_stream(TEXT),
            (Speaks::Ollama, false) => Reply::ollama_chat(TEXT),
            (Speaks::Ollama, true) => Reply::ollama_stream(TEXT),
        };
        (reply, TEXT.to_owned())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}
