//! A finished request as OpenTelemetry spans (the GenAI semantic
//! conventions, and keyrelay's own `keyrelay.*` attributes): one span for
//! the request, a child per attempt, built from the same record the request
//! log keeps, so nothing is computed twice. Prompts, answers and keys are
//! never put in a span: keys appear by fingerprint, the answer only as its
//! model, finish reasons and token counts.

mod answer;

use std::time::{Duration, SystemTime};

use keypool::{AttemptRecord, OutcomeClass};

pub use answer::AnswerScan;

use super::requests::RequestRecord;
use crate::call::Trace;
use crate::telemetry::span::{unix_nanos, Attributes, Event, Kind, SpanData, Status, Value};
use crate::telemetry::{AttemptMark, Ended, RequestSpan};

/// How a request ended, beyond its record.
pub struct Finished<'a> {
    pub record: &'a RequestRecord,
    pub trace: Option<&'a Trace>,
    /// When the answer's first byte went out, for a stream.
    pub first_byte: Option<Duration>,
    pub answer: Option<&'a AnswerScan>,
}

/// Builds the request's spans and queues them for export (when sampled).
pub fn export(span: RequestSpan, finished: &Finished<'_>) {
    if !span.sampled() {
        return;
    }
    let ended = span.end();
    let spans = spans(&ended, finished, SystemTime::now());
    span.export(spans);
}

/// The request span, then one span per attempt.
fn spans(ended: &Ended, finished: &Finished<'_>, now: SystemTime) -> Vec<SpanData> {
    let record = finished.record;
    let operation = operation(record.front, &record.path);
    let model = record.model.as_deref();
    let name = span_name(operation, model);
    let start = unix_nanos(ended.start);
    let end = unix_nanos(now).max(start);
    let mut attributes: Attributes = Vec::with_capacity(24);
    attributes.push(("gen_ai.operation.name", operation.into()));
    if let Some(provider) = &record.provider {
        attributes.push(("gen_ai.provider.name", provider_name(provider).into()));
    }
    gen_ai(&mut attributes, model, finished);
    attributes.push(("http.request.method", record.method.as_str().into()));
    attributes.push(("url.path", record.path.as_str().into()));
    attributes.push(("http.response.status_code", u64::from(record.status).into()));
    attributes.push(("keyrelay.front", record.front.into()));
    if let Some(provider) = &record.provider {
        attributes.push(("keyrelay.provider", provider.as_str().into()));
    }
    if let Some(key) = finished.trace.and_then(|t| t.key.as_ref()) {
        attributes.push(("keyrelay.key", key.as_str().into()));
    }
    let outcome = record
        .failure
        .or_else(|| record.attempts.last().map(|a| a.class));
    if let Some(outcome) = outcome {
        attributes.push(("keyrelay.outcome", outcome.into()));
    }
    attributes.push(("keyrelay.attempts", record.attempts.len().into()));
    attributes.push(("keyrelay.fallback", record.fallback.into()));
    if let Some(name) = &record.virtual_key {
        attributes.push(("keyrelay.virtual_key", Value::from(&**name)));
    }
    attributes.push(("keyrelay.ended", record.ended.into()));
    let mut events = Vec::new();
    if let Some(first_byte) = finished.first_byte {
        events.push(Event {
            name: "keyrelay.first_byte",
            at: start.saturating_add(nanos(first_byte)),
            attributes: vec![(
                "keyrelay.first_byte_ms",
                u64::try_from(first_byte.as_millis())
                    .unwrap_or(u64::MAX)
                    .into(),
            )],
        });
    }
    let failed = record.status >= 500 || record.failure.is_some();
    let status = if failed {
        Status::Error(match record.failure {
            Some(class) => format!("the stream failed after its start: {class}"),
            None => format!("answered {}", record.status),
        })
    } else {
        Status::Unset
    };
    let attempts = finished.trace.map_or(&[][..], |t| t.attempts.as_slice());
    let mut spans = Vec::with_capacity(1 + attempts.len());
    spans.push(SpanData {
        trace_id: ended.trace_id,
        span_id: ended.span_id,
        parent: ended.parent,
        remote_parent: ended.parent.is_some(),
        trace_state: ended.trace_state.clone(),
        name,
        kind: Kind::Server,
        start,
        end,
        attributes,
        events,
        status,
    });
    let mut marks = ended.attempts.iter().peekable();
    for (n, (provider, attempt)) in attempts.iter().enumerate() {
        // Marks and records are in the same order; a record without a mark
        // (an attempt made after the head went out) gets its own id.
        let mark = marks.next_if(|m| m.key == attempt.key.as_str());
        let mut span = attempt_span(
            ended,
            Attempt {
                number: n + 1,
                provider,
                record: attempt,
                mark,
                operation,
                model,
                request_end: end,
            },
        );
        // The attempt that answered carries what the answer said, too.
        let answered = n + 1 == attempts.len() && attempt.class == OutcomeClass::Success;
        if answered {
            answer_attributes(&mut span.attributes, finished);
        }
        spans.push(span);
    }
    spans
}

/// One attempt and where it stands in the request.
struct Attempt<'a> {
    /// From 1.
    number: usize,
    provider: &'a str,
    record: &'a AttemptRecord,
    mark: Option<&'a AttemptMark>,
    operation: &'static str,
    /// The model of the target that settled the request.
    model: Option<&'a str>,
    request_end: u64,
}

fn attempt_span(ended: &Ended, attempt: Attempt<'_>) -> SpanData {
    let record = attempt.record;
    let elapsed = nanos(record.elapsed);
    let (span_id, start) = match attempt.mark {
        Some(mark) => (mark.span_id, unix_nanos(mark.start)),
        None => (
            fastrand::u64(1..).to_be_bytes(),
            attempt.request_end.saturating_sub(elapsed),
        ),
    };
    let model = attempt
        .mark
        .map_or(attempt.model, |m| m.model.as_deref().or(attempt.model));
    let mut attributes: Attributes = Vec::with_capacity(12);
    attributes.push(("gen_ai.operation.name", attempt.operation.into()));
    attributes.push((
        "gen_ai.provider.name",
        provider_name(attempt.provider).into(),
    ));
    if let Some(model) = model {
        attributes.push(("gen_ai.request.model", model.into()));
    }
    attributes.push(("keyrelay.provider", attempt.provider.into()));
    attributes.push(("keyrelay.key", record.key.as_str().into()));
    attributes.push(("keyrelay.outcome", record.class.into()));
    attributes.push(("keyrelay.attempt", attempt.number.into()));
    attributes.push((
        "keyrelay.fallback",
        attempt.mark.map_or(0, |m| m.fallback).into(),
    ));
    if let Some(status) = record.status {
        attributes.push(("http.response.status_code", u64::from(status).into()));
    }
    if let Some(retry) = record.retry_after {
        attributes.push((
            "keyrelay.retry_after_ms",
            u64::try_from(retry.as_millis()).unwrap_or(u64::MAX).into(),
        ));
    }
    let status = if record.class == OutcomeClass::Success {
        Status::Unset
    } else {
        attributes.push(("error.type", record.class.into()));
        Status::Error(match (&record.reason, record.status) {
            (Some(reason), _) => format!("{}: {reason}", record.class),
            (None, Some(status)) => format!("{}: {status}", record.class),
            (None, None) => record.class.to_string(),
        })
    };
    SpanData {
        trace_id: ended.trace_id,
        span_id,
        parent: Some(ended.span_id),
        remote_parent: false,
        trace_state: ended.trace_state.clone(),
        name: span_name(attempt.operation, model),
        kind: Kind::Client,
        start,
        end: start.saturating_add(elapsed),
        attributes,
        events: Vec::new(),
        status,
    }
}

/// The GenAI attributes of the answer: models, usage, finish reasons.
fn gen_ai(attributes: &mut Attributes, model: Option<&str>, finished: &Finished<'_>) {
    if let Some(model) = model {
        attributes.push(("gen_ai.request.model", model.into()));
    }
    answer_attributes(attributes, finished);
}

/// The answer's model, finish reasons and usage.
fn answer_attributes(attributes: &mut Attributes, finished: &Finished<'_>) {
    let record = finished.record;
    if let Some(answer) = finished.answer {
        if let Some(model) = &answer.model {
            attributes.push(("gen_ai.response.model", model.as_str().into()));
        }
        if !answer.finish_reasons.is_empty() {
            attributes.push((
                "gen_ai.response.finish_reasons",
                Value::Strs(answer.finish_reasons.clone()),
            ));
        }
    }
    if let Some(tokens) = record.input_tokens {
        attributes.push(("gen_ai.usage.input_tokens", tokens.into()));
    }
    if let Some(tokens) = record.output_tokens {
        attributes.push(("gen_ai.usage.output_tokens", tokens.into()));
    }
}

impl From<OutcomeClass> for Value {
    fn from(class: OutcomeClass) -> Value {
        Value::from(class.as_str())
    }
}

/// `gen_ai.operation.name`: what the client asked for, by its path.
fn operation(front: &'static str, path: &str) -> &'static str {
    if path.contains("embed") {
        "embeddings"
    } else if path.contains("count_tokens") || path.contains(":countTokens") {
        "count_tokens"
    } else if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
        "generate_content"
    } else if path.ends_with("/messages")
        || path.ends_with("/chat/completions")
        || path.ends_with("/responses")
        || path.ends_with("/api/chat")
    {
        "chat"
    } else {
        match front {
            "messages" | "chat" | "responses" => "chat",
            other => other,
        }
    }
}

/// `gen_ai.provider.name`: the semantic conventions' name for the built-in
/// providers that have one, else keyrelay's name of the provider.
fn provider_name(provider: &str) -> &str {
    match provider {
        "gemini" => "gcp.gemini",
        other => other,
    }
}

/// `{operation} {model}`, or the operation alone.
fn span_name(operation: &str, model: Option<&str>) -> String {
    match model {
        Some(model) => format!("{operation} {model}"),
        None => operation.to_owned(),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
