//! Asking again for the rest of an answer whose stream broke: what the
//! stream loop needs from the front that built the request, which alone
//! knows the client's API and the request's fallback chain.

use std::sync::Arc;

use dialects::{StreamEncode, Translator};

use super::Target;

/// A client request that can be sent again, with the answer so far as the
/// assistant's prefill, to any target of its chain. Built by the front.
pub trait Resume: Send + Sync {
    /// How many targets the request's chain has (0: the route itself).
    fn targets(&self) -> usize;

    /// Whether a stream from target `n` can be followed as it goes (a
    /// forwarded stream is read by its dialect's translator as well).
    fn trackable(&self, n: usize) -> bool;

    /// Whether target `n` continues a prefilled turn exactly.
    fn continues(&self, n: usize) -> bool;

    /// Target `n`, asked for the rest of an answer whose client has
    /// `prefill` already (without trailing whitespace); an error saying why
    /// it cannot be asked exactly.
    fn target(&self, n: usize, prefill: &str) -> Result<Resumed, String>;

    /// The client's stream writer, for events keyrelay writes itself after
    /// a forwarded stream (a held tool call, a continuation).
    fn encoder(&self) -> Result<Box<dyn StreamEncode>, String>;

    /// Whether some target from `n` on continues a prefilled turn, and
    /// target `n`'s stream can be followed.
    fn continues_from(&self, n: usize) -> bool {
        self.trackable(n) && (n..self.targets()).any(|m| self.continues(m))
    }
}

/// A target asked for the rest of an answer.
pub struct Resumed {
    pub target: Target,
    /// Reads its stream into hub events.
    pub translator: &'static dyn Translator,
}

/// A stream that may be continued: the request to ask again, and where in
/// its chain the stream came from.
#[derive(Clone)]
pub struct Continuation {
    pub resume: Arc<dyn Resume>,
    /// The chain index of the target serving the stream.
    pub at: usize,
}
