//! OTLP/HTTP's protobuf body for traces (`ExportTraceServiceRequest`,
//! opentelemetry-proto's `collector/trace/v1`), written by hand: the dozen
//! messages keyrelay fills are a few lines each, and the binary carries no
//! protobuf library. Field numbers are the `.proto` files'.

use super::span::{Attributes, Event, SpanData, Status, Value};

/// The export request: one resource (the gateway) with one scope holding `spans`.
pub fn encode(resource: &Attributes, scope: (&str, &str), spans: &[SpanData]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + spans.len() * 512);
    // ExportTraceServiceRequest.resource_spans = 1
    message(&mut out, 1, |rs| {
        // ResourceSpans.resource = 1: Resource.attributes = 1
        message(rs, 1, |r| attributes(r, 1, resource));
        // ResourceSpans.scope_spans = 2
        message(rs, 2, |ss| {
            // ScopeSpans.scope = 1: InstrumentationScope name = 1, version = 2
            message(ss, 1, |s| {
                string(s, 1, scope.0);
                string(s, 2, scope.1);
            });
            for span in spans {
                // ScopeSpans.spans = 2
                message(ss, 2, |s| encode_span(s, span));
            }
        });
    });
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
        message(out, 11, |e| encode_event(e, event));
    }
    if let Status::Error(message_text) = &span.status {
        // Status.message = 2, code = 3 (ERROR = 2)
        message(out, 15, |s| {
            string(s, 2, message_text);
            varint_field(s, 3, 2);
        });
    }
    // Span.flags = 16 (fixed32): bit 8 says whether the parent is remote is
    // known, bit 9 that it is; the low byte is the trace flags (sampled).
    let remote = if span.remote_parent { 0x300 } else { 0x100 };
    tag(out, 16, 5);
    out.extend_from_slice(&(0x01u32 | remote).to_le_bytes());
}

fn encode_event(out: &mut Vec<u8>, event: &Event) {
    fixed64(out, 1, event.at);
    string(out, 2, event.name);
    attributes(out, 3, &event.attributes);
}

/// Each attribute as a `KeyValue` (key = 1, value = 2) in field `field`.
fn attributes(out: &mut Vec<u8>, field: u32, attributes: &Attributes) {
    for (key, value) in attributes {
        message(out, field, |kv| {
            string(kv, 1, key);
            message(kv, 2, |v| any_value(v, value));
        });
    }
}

/// `AnyValue`: string = 1, bool = 2, int = 3, array = 5 (`ArrayValue.values` = 1).
fn any_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(text) => {
            tag(out, 1, 2);
            varint(out, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Bool(b) => varint_field(out, 2, u64::from(*b)),
        // int64 is written as its two's complement varint.
        Value::Int(n) => varint_field(out, 3, *n as u64),
        Value::Strs(items) => message(out, 5, |array| {
            for item in items {
                message(array, 1, |v| string_always(v, 1, item));
            }
        }),
    }
}

/// A nested message in field `field`: written, then prefixed with its length.
fn message(out: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    write(&mut inner);
    tag(out, field, 2);
    varint(out, inner.len() as u64);
    out.extend_from_slice(&inner);
}

/// A string field; an empty one is the default and not written.
fn string(out: &mut Vec<u8>, field: u32, text: &str) {
    if !text.is_empty() {
        string_always(out, field, text);
    }
}

/// A string field written even when empty (a oneof member).
fn string_always(out: &mut Vec<u8>, field: u32, text: &str) {
    bytes(out, field, text.as_bytes());
}

fn bytes(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    tag(out, field, 2);
    varint(out, data.len() as u64);
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
