//! The client fronts: an OpenAI Chat, OpenAI Responses or Gemini client's
//! request through the hub into each provider API it is translated for, and
//! each provider's answer, whole and streamed, back into the client's API —
//! the calls the gateway makes (the descriptions in `dialects::client`,
//! keyrelay's `front/translated.rs` and `call/stream.rs`), reported per
//! input byte.
//!
//! Request benches start from the parsed client request, as the baseline
//! (`request/openai`) starts from a parsed Anthropic one; `{client}_parse`
//! is the parse on its own, which the gateway does once per request.

use std::hint::black_box;
use std::sync::Arc;

use bytes::BytesMut;
use criterion::{Criterion, Throughput};
use dialects::anthropic::{AnthropicUpstream, MessagesRequest, MessagesResponse};
use dialects::gemini::inbound::{
    generate_content_response, GeminiChunks, GeminiFraming, GeminiMeta, GenerateContentRequest,
};
use dialects::openai::inbound::{completion, ChatChunks, ChatMeta, ChatRequest};
use dialects::openai::responses_in::{
    response_object, RequestEcho, ResponsesEvents, ResponsesMeta, ResponsesRequest,
};
use dialects::{StreamEncode, Translator};
use serde_json::Value;

use super::{clients, fixture};

/// A client API keyrelay serves through the hub.
#[derive(Debug, Clone, Copy)]
enum Client {
    Chat,
    Responses,
    Gemini,
}

const CLIENTS: [Client; 3] = [Client::Chat, Client::Responses, Client::Gemini];

/// A client's request, parsed as its front parses it.
enum Parsed {
    Chat(ChatRequest),
    Responses(ResponsesRequest),
    Gemini(GenerateContentRequest),
}

/// What the answer takes from the request, as the gateway keeps it.
enum Answer {
    Chat { include_usage: bool },
    Responses(Arc<RequestEcho>),
    Gemini { include_thoughts: bool },
}

/// A provider API the hub request goes out to, with the recorded answers
/// it is benched on.
struct Upstream {
    name: &'static str,
    translator: &'static dyn Translator,
    whole: &'static str,
    stream: &'static str,
    model: &'static str,
}

const UPSTREAMS: [Upstream; 4] = [
    Upstream {
        name: "anthropic",
        translator: &AnthropicUpstream,
        whole: "anthropic_response_thinking_tool_use.json",
        stream: "anthropic_tool_use.sse",
        model: "claude-sonnet-4-5",
    },
    Upstream {
        name: "openai",
        translator: &dialects::openai::OpenAiChat,
        whole: "openai_deepseek_tool_call.json",
        stream: "openai_parallel_tool_calls.sse",
        model: "gpt-4.1",
    },
    Upstream {
        name: "gemini",
        translator: &dialects::gemini::Gemini,
        whole: "gemini_response_tool_call.json",
        stream: "gemini_parallel_calls.sse",
        model: "gemini-2.5-flash",
    },
    Upstream {
        name: "ollama",
        translator: &dialects::ollama::Ollama,
        whole: "ollama_whole_tool_call.json",
        stream: "ollama_thinking.ndjson",
        model: "gpt-oss:120b",
    },
];

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Chat => "chat",
            Client::Responses => "responses",
            Client::Gemini => "gemini",
        }
    }

    fn request(self) -> Vec<u8> {
        match self {
            Client::Chat => clients::chat_request_with_tools_and_images(),
            Client::Responses => clients::codex_responses_request(),
            Client::Gemini => clients::gemini_cli_request(),
        }
    }

    /// Whether the gateway translates for `upstream` (a provider of the
    /// client's own API gets the client's bytes instead).
    fn translates_for(self, upstream: &Upstream) -> bool {
        match self {
            Client::Chat => upstream.name != "openai",
            Client::Responses => true,
            Client::Gemini => upstream.name != "gemini",
        }
    }

    fn parse(self, body: &[u8]) -> Parsed {
        match self {
            Client::Chat => Parsed::Chat(serde_json::from_slice(body).expect("chat request")),
            Client::Responses => {
                Parsed::Responses(serde_json::from_slice(body).expect("responses request"))
            }
            Client::Gemini => Parsed::Gemini(serde_json::from_slice(body).expect("gemini request")),
        }
    }
}

impl Parsed {
    /// The hub request, as each front builds it (Gemini CLI streams with `alt=sse`).
    fn to_hub(&self) -> (MessagesRequest, Answer) {
        match self {
            Parsed::Chat(request) => {
                let hub = request.to_messages().expect("chat to hub");
                let include_usage = request.include_usage();
                (hub, Answer::Chat { include_usage })
            }
            Parsed::Responses(request) => {
                let translated = request.to_messages().expect("responses to hub");
                let echo = Arc::new(translated.echo);
                (translated.request, Answer::Responses(echo))
            }
            Parsed::Gemini(request) => {
                let include_thoughts = request
                    .generation_config
                    .as_ref()
                    .and_then(|c| c.thinking_config.as_ref())
                    .and_then(|t| t.include_thoughts)
                    .unwrap_or(false);
                let hub = request
                    .to_messages("gemini-2.5-pro", true)
                    .expect("gemini to hub");
                (hub, Answer::Gemini { include_thoughts })
            }
        }
    }
}

impl Answer {
    /// A whole answer in the client's API.
    fn whole(&self, message: &MessagesResponse) -> Value {
        match self {
            Answer::Chat { .. } => completion(message, &chat_meta(&message.model)),
            Answer::Responses(echo) => {
                response_object(message, &responses_meta(&message.model, echo))
            }
            Answer::Gemini { include_thoughts } => {
                generate_content_response(message, &gemini_meta(&message.model, *include_thoughts))
            }
        }
    }

    /// The stream encoder for the client's API.
    fn encoder(&self, model: &str) -> Box<dyn StreamEncode> {
        match self {
            Answer::Chat { include_usage } => {
                Box::new(ChatChunks::new(chat_meta(model), *include_usage))
            }
            Answer::Responses(echo) => Box::new(ResponsesEvents::new(responses_meta(model, echo))),
            Answer::Gemini { include_thoughts } => Box::new(GeminiChunks::new(
                gemini_meta(model, *include_thoughts),
                GeminiFraming::Sse,
            )),
        }
    }
}

const MESSAGE_ID: &str = "msg_01BENCH";
const CREATED: u64 = 1_780_000_000;

fn chat_meta(model: &str) -> ChatMeta {
    ChatMeta {
        id: String::from("chatcmpl-01BENCH"),
        model: model.to_owned(),
        created: CREATED,
    }
}

fn responses_meta(model: &str, echo: &Arc<RequestEcho>) -> ResponsesMeta {
    ResponsesMeta {
        id: String::from("resp_01BENCH"),
        model: model.to_owned(),
        created_at: CREATED,
        echo: echo.clone(),
    }
}

fn gemini_meta(model: &str, include_thoughts: bool) -> GeminiMeta {
    GeminiMeta {
        model: model.to_owned(),
        response_id: String::from("01BENCH"),
        include_thoughts,
    }
}

/// Client bytes → parsed request, and parsed request → hub → provider JSON.
pub fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_request");
    for client in CLIENTS {
        let bytes = client.request();
        let parsed = client.parse(&bytes);
        eprintln!("{} request: {} bytes", client.name(), bytes.len());
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{}_parse", client.name()), |b| {
            b.iter(|| black_box(client.parse(&bytes)))
        });
        for upstream in UPSTREAMS.iter().filter(|u| client.translates_for(u)) {
            let name = format!("{}_to_{}", client.name(), upstream.name);
            group.bench_function(name, |b| {
                b.iter(|| {
                    let (hub, _) = parsed.to_hub();
                    let out = upstream
                        .translator
                        .request_wire(&hub, upstream.model)
                        .expect("translates");
                    black_box(out.body.len())
                })
            });
        }
    }
    group.finish();
}

/// Each client with its hub request and what its answer needs.
fn answers() -> Vec<(Client, MessagesRequest, Answer)> {
    CLIENTS
        .iter()
        .map(|&client| {
            let (hub, answer) = client.parse(&client.request()).to_hub();
            (client, hub, answer)
        })
        .collect()
}

/// A whole provider response → hub message → the client's JSON.
pub fn responses(c: &mut Criterion) {
    let answers = answers();
    let mut group = c.benchmark_group("client_response");
    for upstream in &UPSTREAMS {
        let body = fixture(upstream.whole);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (client, hub, answer) in answers.iter().filter(|(c, ..)| c.translates_for(upstream)) {
            let name = format!("{}_to_{}", upstream.name, client.name());
            group.bench_function(name, |b| {
                b.iter(|| {
                    let message = upstream
                        .translator
                        .response(&body, &hub.model, MESSAGE_ID)
                        .expect("translates");
                    black_box(serde_json::to_vec(&answer.whole(&message)).map(|v| v.len()))
                })
            });
        }
    }
    group.finish();
}

/// A provider stream (in 256-byte chunks) → hub events → the client's stream.
pub fn streams(c: &mut Criterion) {
    let answers = answers();
    let mut group = c.benchmark_group("client_stream");
    for upstream in &UPSTREAMS {
        let bytes = fixture(upstream.stream);
        let chunks: Vec<&[u8]> = bytes.chunks(256).collect();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        for (client, hub, answer) in answers.iter().filter(|(c, ..)| c.translates_for(upstream)) {
            let name = format!("{}_to_{}", upstream.name, client.name());
            let wire = translate_stream(upstream, &hub.model, answer, &chunks);
            eprintln!("{name}: {} bytes in, {wire} bytes out", bytes.len());
            group.bench_function(name, |b| {
                b.iter(|| black_box(translate_stream(upstream, &hub.model, answer, &chunks)))
            });
        }
    }
    group.finish();
}

/// `chunks` through the provider's stream translator and the client's
/// encoder, as the gateway's stream loop drives them: the bytes written.
fn translate_stream(upstream: &Upstream, model: &str, answer: &Answer, chunks: &[&[u8]]) -> usize {
    let mut events = upstream.translator.stream(model, MESSAGE_ID);
    let mut encoder = answer.encoder(model);
    let mut scratch = Vec::new();
    let mut wire = 0;
    for chunk in chunks {
        scratch.clear();
        events.push(chunk, &mut scratch);
        wire += encode(encoder.as_mut(), &scratch);
    }
    scratch.clear();
    events.finish(None, &mut scratch);
    wire + encode(encoder.as_mut(), &scratch)
}

/// One chunk's events in the client's API, in a buffer of their own (as
/// the gateway's stream loop writes each chunk).
fn encode(encoder: &mut dyn StreamEncode, events: &[dialects::anthropic::StreamEvent]) -> usize {
    let mut out = BytesMut::new();
    encoder.encode(events, &mut out);
    out.freeze().len()
}
