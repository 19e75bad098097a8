//! OTLP/HTTP's protobuf body for traces (`ExportTraceServiceRequest`,
//! opentelemetry-proto's `collector/trace/v1`), written by hand: the dozen
//! messages keyrelay fills are a few lines each, and the binary carries no
//! protobuf library. Field numbers are the `.proto` files'.
//!
//! A nested message is preceded by its length, so each one's length is
//! computed before it is written: the body is written once, front
//! to back, into a buffer of its exact size, with no allocation per field.

use super::span::{Attributes, Event, SpanData, Status, Value};

/// The export request: one resource (the gateway) with one scope holding `spans`.
pub fn encode(resource: &Attributes, scope: (&str, &str), spans: &[SpanData]) -> Vec<u8> {
    let resource_len = attributes_len(1, resource);
    let scope_len = string_len(1, scope.0) + string_len(2, scope.1);
    let span_lens: Vec<usize> = spans.iter().map(span_len).collect();
    let scope_spans_len =
        field_len(1, scope_len) + span_lens.iter().map(|n| field_len(2, *n)).sum::<usize>();
    let resource_spans_len = field_len(1, resource_len) + field_len(2, scope_spans_len);
    let total = field_len(1, resource_spans_len);
    let mut out = Vec::with_capacity(total);
    // ExportTraceServiceRequest.resource_spans = 1
    head(&mut out, 1, resource_spans_len);
    // ResourceSpans.resource = 1 (Resource.attributes = 1)
    head(&mut out, 1, resource_len);
    attributes(&mut out, 1, resource);
    // ResourceSpans.scope_spans = 2
    head(&mut out, 2, scope_spans_len);
    // ScopeSpans.scope = 1: InstrumentationScope name = 1, version = 2
    head(&mut out, 1, scope_len);
    string(&mut out, 1, scope.0);
    string(&mut out, 2, scope.1);
    for (span, len) in spans.iter().zip(span_lens) {
        // ScopeSpans.spans = 2
        head(&mut out, 2, len);
        encode_span(&mut out, span);
    }
    debug_assert_eq!(out.len(), total, "every length was computed right");
    out
}

fn encode_span(out: &mut Vec<u8>, span: &SpanData) {
    bytes(out, 1, &span.trace_id);
    bytes(out, 2, &span.span_id);
    if let Some(state) = &span.trace_state {
        string(out, 3, state);
    }
    if let Some(parent) = &span.parent {
        bytes(out, 4, parent);
    }
    string(out, 5, &span.name);
    varint_field(out, 6, span.kind as u64);
    fixed64(out, 7, span.start);
    fixed64(out, 8, span.end);
    attributes(out, 9, &span.attributes);
    for event in &span.events {
        head(out, 11, event_len(event));
        fixed64(out, 1, event.at);
        string(out, 2, event.name);
        attributes(out, 3, &event.attributes);
    }
    if let Status::Error(message) = &span.status {
        // Status.message = 2, code = 3 (ERROR = 2)
        head(out, 15, status_len(message));
        string(out, 2, message);
        varint_field(out, 3, 2);
    }
    // Span.flags = 16 (fixed32): bit 8 says whether the parent is remote is
    // known, bit 9 that it is; the low byte is the trace flags (sampled).
    tag(out, 16, 5);
    out.extend_from_slice(&flags(span).to_le_bytes());
}

fn flags(span: &SpanData) -> u32 {
    let remote = if span.remote_parent { 0x300 } else { 0x100 };
    0x01 | remote
}

/// Each attribute as a `KeyValue` (key = 1, value = 2) in field `field`.
fn attributes(out: &mut Vec<u8>, field: u32, attributes: &Attributes) {
    for (key, value) in attributes {
        head(out, field, key_value_len(key, value));
        string_always(out, 1, key);
        head(out, 2, any_value_len(value));
        any_value(out, value);
    }
}

/// `AnyValue`: string = 1, bool = 2, int = 3, array = 5 (`ArrayValue.values` = 1).
fn any_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(text) => string_always(out, 1, text),
        Value::Bool(b) => varint_field(out, 2, u64::from(*b)),
        // int64 is written as its two's complement varint.
        Value::Int(n) => varint_field(out, 3, *n as u64),
        Value::Strs(items) => {
            head(out, 5, array_len(items));
            for item in items {
                head(out, 1, string_always_len(1, item));
                string_always(out, 1, item);
            }
        }
    }
}

// The lengths of what the functions above write.

fn span_len(span: &SpanData) -> usize {
    let mut n = bytes_len(1, span.trace_id.len()) + bytes_len(2, span.span_id.len());
    if let Some(state) = &span.trace_state {
        n += string_len(3, state);
    }
    if let Some(parent) = &span.parent {
        n += bytes_len(4, parent.len());
    }
    n += string_len(5, &span.name);
    n += varint_field_len(6, span.kind as u64);
    n += 2 * (1 + 8);
    n += attributes_len(9, &span.attributes);
    n += span
        .events
        .iter()
        .map(|e| field_len(11, event_len(e)))
        .sum::<usize>();
    if let Status::Error(message) = &span.status {
        n += field_len(15, status_len(message));
    }
    n + 2 + 4
}

fn event_len(event: &Event) -> usize {
    (1 + 8) + string_len(2, event.name) + attributes_len(3, &event.attributes)
}

fn status_len(message: &str) -> usize {
    string_len(2, message) + varint_field_len(3, 2)
}

fn attributes_len(field: u32, attributes: &Attributes) -> usize {
    attributes
        .iter()
        .map(|(key, value)| field_len(field, key_value_len(key, value)))
        .sum()
}

fn key_value_len(key: &str, value: &Value) -> usize {
    string_always_len(1, key) + field_len(2, any_value_len(value))
}

fn any_value_len(value: &Value) -> usize {
    match value {
        Value::Str(text) => string_always_len(1, text),
        Value::Bool(b) => varint_field_len(2, u64::from(*b)),
        Value::Int(n) => varint_field_len(3, *n as u64),
        Value::Strs(items) => field_len(5, array_len(items)),
    }
}

fn array_len(items: &[String]) -> usize {
    items
        .iter()
        .map(|item| field_len(1, string_always_len(1, item)))
        .sum()
}

/// A length-delimited field of `len` bytes, key and length included.
fn field_len(field: u32, len: usize) -> usize {
    varint_len(u64::from(field) << 3) + varint_len(len as u64) + len
}

fn string_len(field: u32, text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        string_always_len(field, text)
    }
}

fn string_always_len(field: u32, text: &str) -> usize {
    field_len(field, text.len())
}

fn bytes_len(field: u32, len: usize) -> usize {
    field_len(field, len)
}

fn varint_field_len(field: u32, n: u64) -> usize {
    varint_len(u64::from(field) << 3) + varint_len(n)
}

fn varint_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros() as usize).div_ceil(7)
}

/// A nested message's key and length; its fields follow.
fn head(out: &mut Vec<u8>, field: u32, len: usize) {
    tag(out, field, 2);
    varint(out, len as u64);
}

/// A string field; an empty one is the default and not written.
fn string(out: &mut Vec<u8>, field: u32, text: &str) {
    if !text.is_empty() {
        string_always(out, field, text);
    }
}

/// A string field written even when empty (a oneof member, a map key).
fn string_always(out: &mut Vec<u8>, field: u32, text: &str) {
    bytes(out, field, text.as_bytes());
}

fn bytes(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    head(out, field, data.len());
    out.extend_from_slice(data);
}

fn fixed64(out: &mut Vec<u8>, field: u32, n: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&n.to_le_bytes());
}

fn varint_field(out: &mut Vec<u8>, field: u32, n: u64) {
    tag(out, field, 0);
    varint(out, n);
}

/// A field's key: its number and wire type (0 varint, 1 fixed64, 2
/// length-delimited, 5 fixed32).
fn tag(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}
