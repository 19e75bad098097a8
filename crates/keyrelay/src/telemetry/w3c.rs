//! The W3C Trace Context `traceparent` header: `00-TRACEID-PARENTID-FLAGS`,
//! lower-case hex (<https://www.w3.org/TR/trace-context/>).

use http::HeaderValue;

/// A span's place in a trace, as `traceparent` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
}

impl TraceParent {
    /// Reads a `traceparent` value; `None` for anything the specification
    /// says to ignore (wrong length or version, upper-case or non-hex
    /// digits, an all-zero id, version `ff`), so the request starts a new
    /// trace.
    pub fn parse(value: &[u8]) -> Option<TraceParent> {
        let value = value.trim_ascii();
        if value.len() < 55 {
            return None;
        }
        let version = hex::<1>(&value[0..2])?[0];
        // Version 00 is exactly 55 bytes; a later version may append fields.
        let exact = value.len() == 55;
        if version == 0xff || (version == 0 && !exact) || (!exact && value[55] != b'-') {
            return None;
        }
        if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let trace_id = hex::<16>(&value[3..35])?;
        let span_id = hex::<8>(&value[36..52])?;
        let flags = hex::<1>(&value[53..55])?[0];
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The header value, version 00.
    pub fn header(&self) -> HeaderValue {
        let mut text = [0u8; 55];
        text[..3].copy_from_slice(b"00-");
        put_hex(&mut text[3..35], &self.trace_id);
        text[35] = b'-';
        put_hex(&mut text[36..52], &self.span_id);
        text[52] = b'-';
        text[53..55].copy_from_slice(if self.sampled { b"01" } else { b"00" });
        // Hex digits and dashes only.
        HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Lower-case hex of `bytes`, as ids are written in logs and exports.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    put_hex(&mut out, bytes);
    String::from_utf8(out).unwrap_or_default()
}

fn put_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
}

/// `N` bytes from `2N` lower-case hex digits.
fn hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A `tracestate` value worth passing on: printable ASCII, at most 512
/// bytes (the specification's limit), else dropped.
pub fn tracestate(value: &HeaderValue) -> Option<HeaderValue> {
    let bytes = value.as_bytes();
    let fine =
        !bytes.is_empty() && bytes.len() <= 512 && bytes.iter().all(|b| (0x20..0x7f).contains(b));
    fine.then(|| value.clone())
}
