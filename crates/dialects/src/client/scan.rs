//! One pass over a JSON body that checks all of it — UTF-8, syntax (as
//! strict as serde_json), nesting within [`MAX_DEPTH`] — and notes where a
//! few top-level fields' values lie, without building anything. A client's
//! request (often hundreds of kilobytes of history and tools) is read this
//! way for its model, stream flag and session hints; a forwarded request is
//! never parsed beyond it.
//!
//! Strings, which hold nearly all of a request's bytes, are skipped eight
//! bytes at a time: only a quote, a backslash, a control character or a
//! non-ASCII byte stops the skip.

use std::ops::Range;

/// serde_json's own nesting limit (128) less one: a document nested deeper
/// cannot be translated.
pub const MAX_DEPTH: usize = 127;

/// Why a body is not a JSON document keyrelay takes, in the order a
/// client is told: not UTF-8, then nested too deep, then malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// The first byte that is not UTF-8 is at this offset.
    NotUtf8 { at: usize },
    /// Arrays and objects nest more than [`MAX_DEPTH`] deep.
    TooDeep,
    /// Not an object at the top level.
    NotObject,
    /// Malformed JSON: what was wrong, at which byte.
    Syntax { what: &'static str, at: usize },
    /// A field asked for appears twice at the top level (its index among
    /// the names asked for).
    Duplicate(usize),
}

/// Checks `body` whole and returns the byte ranges of the values of the
/// top-level fields `names` (`None` for a field not there).
pub fn object_fields<const N: usize>(
    body: &[u8],
    names: [&str; N],
) -> Result<[Option<Range<usize>>; N], ScanError> {
    let mut found: [Option<Range<usize>>; N] = std::array::from_fn(|_| None);
    let mut scanner = Scanner {
        body,
        at: 0,
        depth: 0,
    };
    let scanned = scanner.top_object(|key, value| {
        if let Some(i) = names.iter().position(|name| key_is(body, &key, name)) {
            if found[i].is_some() {
                return Err(ScanError::Duplicate(i));
            }
            found[i] = Some(value);
        }
        Ok(false)
    });
    match scanned {
        Ok(()) => Ok(found),
        // The order a client is told (see `ScanError`), whatever the scan
        // met first.
        Err(error) => Err(ordered(body, error)),
    }
}

/// The byte range of the value of the first top-level field `name` of the
/// object `body`, scanning no further than that value; `None` when `body`
/// is not an object or has no such field before anything malformed.
pub fn top_level_value(body: &[u8], name: &str) -> Option<Range<usize>> {
    let mut scanner = Scanner {
        body,
        at: 0,
        depth: 0,
    };
    let mut found = None;
    let _ = scanner.top_object(|key, value| {
        if key_is(body, &key, name) {
            found = Some(value);
            return Ok(true);
        }
        Ok(false)
    });
    found
}

/// Whether the key in `body[key]` (a JSON string, quotes included) is `name`.
fn key_is(body: &[u8], key: &Range<usize>, name: &str) -> bool {
    let raw = &body[key.start + 1..key.end - 1];
    if !raw.contains(&b'\\') {
        return raw == name.as_bytes();
    }
    // An escaped key means what it decodes to, as serde reads it.
    serde_json::from_slice::<String>(&body[key.clone()]).is_ok_and(|key| key == name)
}

fn ordered(body: &[u8], error: ScanError) -> ScanError {
    if let Err(bad) = std::str::from_utf8(body) {
        return ScanError::NotUtf8 {
            at: bad.valid_up_to(),
        };
    }
    if nests_deeper_than(body, MAX_DEPTH) {
        return ScanError::TooDeep;
    }
    error
}

struct Scanner<'a> {
    body: &'a [u8],
    at: usize,
    depth: usize,
}

type Scanned = Result<(), ScanError>;

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.body.get(self.at).copied()
    }

    fn error(&self, what: &'static str) -> ScanError {
        ScanError::Syntax { what, at: self.at }
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// The top-level object, each member's key and value ranges given to
    /// `member`, which may stop the scan (`Ok(true)`); then nothing but
    /// whitespace.
    fn top_object(
        &mut self,
        mut member: impl FnMut(Range<usize>, Range<usize>) -> Result<bool, ScanError>,
    ) -> Scanned {
        self.space();
        if self.peek() != Some(b'{') {
            return Err(ScanError::NotObject);
        }
        self.depth = 1;
        self.at += 1;
        let stopped = self.items(b'}', "expected `,` or `}` after a field", |scanner| {
            let (key, value) = scanner.member()?;
            member(key, value)
        })?;
        if stopped {
            return Ok(());
        }
        self.space();
        if self.at != self.body.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(())
    }

    /// `"key": value`, from the key's quote.
    fn member(&mut self) -> Result<(Range<usize>, Range<usize>), ScanError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a field name"));
        }
        let key_start = self.at;
        self.string()?;
        let key = key_start..self.at;
        self.space();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.at += 1;
        self.space();
        let start = self.at;
        self.value()?;
        Ok((key, start..self.at))
    }

    fn value(&mut self) -> Scanned {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("the body ends where a value should be")),
        }
    }

    /// The items of an object or array, from after its opening bracket to
    /// past `close`: `item` reads one and may stop the scan (`Ok(true)`).
    fn items(
        &mut self,
        close: u8,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<bool, ScanError>,
    ) -> Result<bool, ScanError> {
        self.space();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(false);
        }
        loop {
            if item(self)? {
                return Ok(true);
            }
            self.space();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.space();
                }
                Some(c) if c == close => {
                    self.at += 1;
                    return Ok(false);
                }
                _ => return Err(self.error(what)),
            }
        }
    }

    /// A nested object or array, from its opening bracket.
    fn nested(
        &mut self,
        close: u8,
        what: &'static str,
        item: impl FnMut(&mut Self) -> Result<bool, ScanError>,
    ) -> Scanned {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScanError::TooDeep);
        }
        self.at += 1;
        self.items(close, what, item)?;
        self.depth -= 1;
        Ok(())
    }

    fn object(&mut self) -> Scanned {
        self.nested(b'}', "expected `,` or `}` in an object", |scanner| {
            scanner.member().map(|_| false)
        })
    }

    fn array(&mut self) -> Scanned {
        self.nested(b']', "expected `,` or `]` in an array", |scanner| {
            scanner.value().map(|()| false)
        })
    }

    fn literal(&mut self, word: &[u8]) -> Scanned {
        if self.body.get(self.at..self.at + word.len()) != Some(word) {
            return Err(self.error("expected `true`, `false` or `null`"));
        }
        self.at += word.len();
        Ok(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Scanned {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    return Err(self.error("a number with a leading zero"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Scanned {
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(self.error("expected a digit"));
        }
        self.digits();
        Ok(())
    }

    /// A string, from its opening quote to just past its closing one.
    fn string(&mut self) -> Scanned {
        let body = self.body;
        let mut at = self.at + 1;
        loop {
            at = next_special(body, at);
            match body.get(at) {
                Some(b'"') => {
                    self.at = at + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    at = match body.get(at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at + 2,
                        Some(b'u')
                            if body
                                .get(at + 2..at + 6)
                                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) =>
                        {
                            at + 6
                        }
                        _ => {
                            self.at = at;
                            return Err(self.error("an invalid escape in a string"));
                        }
                    }
                }
                Some(&byte) if byte >= 0x80 => match utf8_len(&body[at..]) {
                    Some(len) => at += len,
                    None => return Err(ScanError::NotUtf8 { at }),
                },
                Some(_) => {
                    self.at = at;
                    return Err(self.error("a control character in a string"));
                }
                None => {
                    self.at = at;
                    return Err(self.error("the body ends inside a string"));
                }
            }
        }
    }
}

/// The first index from `at` holding a quote, a backslash, a control
/// character or a non-ASCII byte; the length of `body` if none does.
fn next_special(body: &[u8], at: usize) -> usize {
    let Some(rest) = body.get(at..) else {
        return body.len();
    };
    // Sixteen bytes a round (two words), the common case being none special.
    let mut pairs = rest.chunks_exact(16);
    let mut done = 0;
    for pair in pairs.by_ref() {
        let (low, high) = pair.split_at(8);
        let low = special_bytes(low);
        let high = special_bytes(high);
        if low | high != 0 {
            let (word, hits) = if low != 0 { (0, low) } else { (8, high) };
            return at + done + word + (hits.trailing_zeros() / 8) as usize;
        }
        done += 16;
    }
    let tail = pairs.remainder();
    tail.iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || !(0x20..0x80).contains(&byte))
        .map_or(body.len(), |i| at + done + i)
}

/// The high bit of each byte of `word` (eight bytes) that is a quote, a
/// backslash, a control character or non-ASCII. Each term's lowest set
/// high bit marks its first such byte exactly (a borrow only spills into
/// higher bytes), so the lowest of them all is the first special byte.
fn special_bytes(word: &[u8]) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(word);
    let word = u64::from_le_bytes(bytes);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v;
    (zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\')))
        | word.wrapping_sub(ONES * 0x20) & !word
        | word)
        & HIGH
}

/// The length of the one UTF-8 encoded character `bytes` starts with
/// (its first byte non-ASCII), if it is well formed.
fn utf8_len(bytes: &[u8]) -> Option<usize> {
    let continuation = |i: usize| bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    let second =
        |range: std::ops::RangeInclusive<u8>| bytes.get(1).is_some_and(|b| range.contains(b));
    let len = match *bytes.first()? {
        0xC2..=0xDF => 2,
        0xE0 if second(0xA0..=0xBF) => 3,
        0xE1..=0xEC | 0xEE..=0xEF => 3,
        0xED if second(0x80..=0x9F) => 3,
        0xF0 if second(0x90..=0xBF) => 4,
        0xF1..=0xF3 => 4,
        0xF4 if second(0x80..=0x8F) => 4,
        _ => return None,
    };
    (1..len).all(continuation).then_some(len)
}

/// Whether `json` nests arrays and objects more than `max` deep, strings
/// skipped; malformed JSON is not judged (the lenient check for bodies
/// keyrelay forwards without reading, and for the order of errors).
pub fn nests_deeper_than(json: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = json.get(at) {
        at = match byte {
            b'"' => lenient_string_end(json, at + 1),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
                at + 1
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            _ => at + 1,
        };
    }
    false
}

/// Just past the string whose content starts at `at`, or the end.
fn lenient_string_end(json: &[u8], mut at: usize) -> usize {
    loop {
        at = next_special(json, at);
        match json.get(at) {
            Some(b'"') => return at + 1,
            Some(b'\\') => at += 2,
            Some(_) => at += 1,
            None => return json.len(),
        }
    }
}

#[cfg(test)]
mod tests;
