//! How Gemini's function-call ids and thought signatures survive a round trip
//! through Anthropic clients.
//!
//! Gemini 3 rejects a history whose function calls lack the `thoughtSignature`
//! they came with, but an Anthropic client sends a `tool_use` back with only
//! `id`, `name` and `input`. So the signature (and Gemini's own call id, when
//! it gave one) travel inside the `tool_use` id:
//!
//! ```text
//! toolu_gm{local}                         neither
//! toolu_gm{local}_{hex(gemini id)}        Gemini's call id only
//! toolu_gm{local}_{hex(gemini id)}_{sig}  both (the hex part may be empty)
//! ```
//!
//! `local` is `[A-Za-z0-9-]` (the message id's letters and digits, `-`, a
//! counter) so the first `_` after it starts the payload, hex has no `_`, and
//! everything after the second `_` is the signature as unpadded base64url:
//! the standard base64 Gemini sends with `+`→`-`, `/`→`_` and no `=`. Every
//! character stays within `^[a-zA-Z0-9_-]+$`, as Anthropic requires.
//!
//! Thinking-block signatures are Gemini's signature behind [`THINKING_PREFIX`],
//! so a Claude signature in the same history is never sent to Gemini.

/// The prefix of every `tool_use` id this translator mints.
pub(super) const TOOL_ID_PREFIX: &str = "toolu_gm";

/// The prefix of thinking-block signatures that carry a Gemini signature.
pub(super) const THINKING_PREFIX: &str = "gemini:";

/// Gemini's documented value for a function call whose signature is unknown
/// (history from another model); it skips the validator.
pub(super) const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Mints the `tool_use` ids of one response.
#[derive(Debug)]
pub(super) struct ToolIds {
    base: String,
    next: usize,
}

impl ToolIds {
    /// `message_id` is the `msg_…` id of the response being translated.
    pub fn new(message_id: &str) -> Self {
        let id = message_id.strip_prefix("msg_").unwrap_or(message_id);
        let base = id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect();
        ToolIds { base, next: 0 }
    }

    /// The id for the next call; deterministic for a given message id.
    pub fn mint(&mut self, gemini_id: Option<&str>, signature: Option<&str>) -> String {
        let mut id = format!("{TOOL_ID_PREFIX}{}-{}", self.base, self.next);
        self.next += 1;
        let gemini_id = gemini_id.filter(|g| !g.is_empty());
        let signature = signature.and_then(to_base64url);
        if gemini_id.is_some() || signature.is_some() {
            id.push('_');
            id.push_str(&hex(gemini_id.unwrap_or_default()));
        }
        if let Some(signature) = signature {
            id.push('_');
            id.push_str(&signature);
        }
        id
    }
}

/// What a `tool_use` id carries back to Gemini.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct ToolRef {
    pub gemini_id: Option<String>,
    pub signature: Option<String>,
}

/// Reads an id minted by [`ToolIds::mint`]; any other id carries nothing.
pub(super) fn decode(tool_use_id: &str) -> ToolRef {
    let Some(rest) = tool_use_id.strip_prefix(TOOL_ID_PREFIX) else {
        return ToolRef::default();
    };
    let Some((_local, payload)) = rest.split_once('_') else {
        return ToolRef::default();
    };
    let (hex_id, signature) = match payload.split_once('_') {
        Some((hex_id, signature)) => (hex_id, Some(signature)),
        None => (payload, None),
    };
    ToolRef {
        gemini_id: unhex(hex_id).filter(|g| !g.is_empty()),
        signature: signature.and_then(from_base64url),
    }
}

/// The thinking-block signature for a Gemini signature.
pub(super) fn thinking_signature(gemini: &str) -> String {
    format!("{THINKING_PREFIX}{gemini}")
}

/// The Gemini signature inside a thinking block's signature, if it has one.
pub(super) fn gemini_signature(thinking: &str) -> Option<&str> {
    thinking
        .strip_prefix(THINKING_PREFIX)
        .filter(|s| !s.is_empty())
}

fn to_base64url(signature: &str) -> Option<String> {
    let ok = !signature.is_empty()
        && signature
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'));
    // Anything else is not base64; dropping it makes the request use the
    // documented skip value instead of a corrupt signature.
    ok.then(|| {
        signature
            .chars()
            .filter(|&c| c != '=')
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect()
    })
    .filter(|s: &String| !s.is_empty())
}

fn from_base64url(encoded: &str) -> Option<String> {
    let ok = !encoded.is_empty()
        && encoded.len() % 4 != 1
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return None;
    }
    let mut standard: String = encoded
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let padding = (4 - standard.len() % 4) % 4;
    standard.extend(std::iter::repeat_n('=', padding));
    Some(standard)
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(hex: &str) -> Option<String> {
    if hex.len() % 2 == 1 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}
