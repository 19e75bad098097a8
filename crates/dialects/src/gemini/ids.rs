//! How Gemini's function-call ids and thought signatures survive a round trip
//! through clients that only send back what they were given.
//!
//! Gemini 3 rejects a history whose function calls lack the `thoughtSignature`
//! they came with, and a Gemini 3 signature runs to kilobytes. Tool-call ids
//! must stay short: OpenAI takes at most 40 characters, and a conversation may
//! move to another provider mid-way (fallback chains). So a minted id is short
//!
//! ```text
//! toolu_gm{local}        local = up to 16 of the message id's letters and digits, `-`, a counter
//! ```
//!
//! and the signature travels two ways at once:
//! - as the signature of a thinking block placed just before the `tool_use`
//!   ([`THINKING_PREFIX`] + Gemini's signature). Anthropic clients send their
//!   thinking blocks back, so this needs no state on keyrelay's side;
//! - in a bounded in-process memory keyed by the minted id, for clients that
//!   send back only the id (OpenAI Chat, Responses). Gemini's own call id, when
//!   it gave one, is kept there too.
//!
//! When neither reaches a later request (another replica, a restart), the
//! call goes out with Gemini's documented skip value, which its validator
//! accepts. Ids minted by earlier keyrelay versions carried both inside the
//! id (`toolu_gm{local}_{hex(gemini id)}_{base64url(signature)}`) and still
//! decode, so conversations that span an upgrade keep their signatures.
//!
//! Thinking-block signatures are Gemini's signature behind [`THINKING_PREFIX`],
//! so a Claude signature in the same history is never sent to Gemini.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex, PoisonError};

/// The prefix of every `tool_use` id this translator mints.
pub(super) const TOOL_ID_PREFIX: &str = "toolu_gm";

/// The prefix of thinking-block signatures that carry a Gemini signature.
pub(super) const THINKING_PREFIX: &str = "gemini:";

/// Gemini's documented value for a function call whose signature is unknown
/// (history from another model); it skips the validator.
pub(super) const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// How many letters and digits of the message id an id keeps: with the prefix
/// and a counter, an id stays well under OpenAI's 40 characters.
const LOCAL_LEN: usize = 16;

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
            .take(LOCAL_LEN)
            .collect();
        ToolIds { base, next: 0 }
    }

    /// The id for the next call; deterministic for a given message id. What
    /// the call carries is remembered under it.
    pub fn mint(&mut self, gemini_id: Option<&str>, signature: Option<&str>) -> String {
        let id = format!("{TOOL_ID_PREFIX}{}-{}", self.base, self.next);
        self.next += 1;
        let carried = ToolRef {
            gemini_id: gemini_id.filter(|g| !g.is_empty()).map(str::to_owned),
            signature: signature.filter(|s| is_base64(s)).map(str::to_owned),
        };
        if carried != ToolRef::default() {
            MEMORY
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remember(&id, carried);
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

/// What a minted id carries: from the memory, or from the id itself when an
/// earlier version minted it long; any other id carries nothing.
pub(super) fn decode(tool_use_id: &str) -> ToolRef {
    let Some(rest) = tool_use_id.strip_prefix(TOOL_ID_PREFIX) else {
        return ToolRef::default();
    };
    match rest.split_once('_') {
        Some((_local, payload)) => decode_long(payload),
        None => MEMORY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recall(tool_use_id),
    }
}

/// The payload of an id minted long: `{hex(gemini id)}[_{base64url(signature)}]`.
fn decode_long(payload: &str) -> ToolRef {
    let (hex_id, signature) = match payload.split_once('_') {
        Some((hex_id, signature)) => (hex_id, Some(signature)),
        None => (payload, None),
    };
    ToolRef {
        gemini_id: unhex(hex_id).filter(|g| !g.is_empty()),
        signature: signature.and_then(from_base64url),
    }
}

/// How many bytes of ids and signatures the memory holds before it forgets
/// the oldest: thousands of Gemini 3 calls.
const MEMORY_BUDGET: usize = 16 << 20;

static MEMORY: LazyLock<Mutex<Memory>> = LazyLock::new(|| Mutex::new(Memory::new(MEMORY_BUDGET)));

/// Calls minted by this process, oldest forgotten first once over budget.
#[derive(Debug)]
pub(super) struct Memory {
    by_id: HashMap<String, ToolRef>,
    order: VecDeque<String>,
    bytes: usize,
    budget: usize,
}

impl Memory {
    pub fn new(budget: usize) -> Memory {
        Memory {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    pub fn remember(&mut self, id: &str, carried: ToolRef) {
        let size = entry_size(id, &carried);
        if let Some(old) = self.by_id.insert(id.to_owned(), carried) {
            // The same id minted again (a replayed response): keep one entry.
            self.bytes -= entry_size(id, &old);
        } else {
            self.order.push_back(id.to_owned());
        }
        self.bytes += size;
        while self.bytes > self.budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.by_id.remove(&oldest) {
                self.bytes -= entry_size(&oldest, &gone);
            }
        }
    }

    pub fn recall(&self, id: &str) -> ToolRef {
        self.by_id.get(id).cloned().unwrap_or_default()
    }
}

fn entry_size(id: &str, carried: &ToolRef) -> usize {
    2 * id.len()
        + carried.gemini_id.as_ref().map_or(0, String::len)
        + carried.signature.as_ref().map_or(0, String::len)
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

/// Gemini's signatures are standard base64; anything else is dropped, so
/// the request uses the documented skip value instead of a corrupt signature.
fn is_base64(signature: &str) -> bool {
    !signature.is_empty()
        && signature
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
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
