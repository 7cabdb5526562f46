//! Chunking events into `/batch` bodies (docs/protocol.md §5, *Sizes* and *One batch*).
//!
//! The body is `{"intake_key": "<key>", "jsons": ["<event>", ...]}` in
//! Python's `json.dumps` format (`", "` and `": "` separators, non-ASCII as
//! `\uXXXX`). A chunk is kept as its events' strings as they arrive (each
//! ended by a byte that UTF-8 never uses), with the exact length of its
//! encoded body counted as they come; the body is encoded as it is sent
//! (`Body::reader`), with that length as its `Content-Length`: the bytes
//! on the wire are the same, a chunk of JSON events takes a fifth less
//! memory (every `"` of an event is `\"` in the body), and no body is
//! held whole.
//!
//! Limits, checked in this order for each event:
//! - an event over [`MAX_EVENT_CHARS`] characters (the Python SDK's rule) or
//!   over [`MAX_EVENT_BYTES`] UTF-8 bytes (the intake's, **ours**) is refused;
//! - the chunk is closed before its character total would pass
//!   [`MAX_CHUNK_CHARS`] (the Python SDK's rule), and before its encoded
//!   body would pass [`MAX_BODY_BYTES`] (**ours**: measured on the bytes
//!   sent, so a chunk of accented or CJK text is not a 50 MB request).

use std::sync::Arc;

/// `0x01` in each byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// An event longer than this many characters (Unicode code points) is
/// refused, as the Python SDK refuses it: its `EVENT_BYTES_MAX_SIZE`
/// (`sekoia_automation.constants`, 250000), which despite its name counts
/// the characters of the event's text (`len(str)`), not its bytes.
///
/// ```
/// use sekoia_automation::connector::{MAX_EVENT_BYTES, MAX_EVENT_CHARS};
/// let event = "é".repeat(200_000);
/// // Within Python's limit, over the intake's: refused by the crate.
/// assert!(event.chars().count() <= MAX_EVENT_CHARS && event.len() > MAX_EVENT_BYTES);
/// ```
pub const MAX_EVENT_CHARS: usize = 250_000;
/// An event longer than this many UTF-8 bytes is refused (the intake drops
/// events over 250 KiB). **Ours**: the Python SDK has no byte limit per
/// event (only [`MAX_EVENT_CHARS`]) and sends such an event, which the
/// intake then drops.
pub const MAX_EVENT_BYTES: usize = 256_000;
/// A chunk's events total at most this many characters: the Python SDK's
/// `CHUNK_BYTES_MAX_SIZE` (`int(0.9 × INTAKE_PAYLOAD_BYTES_MAX_SIZE)`,
/// 9437184), which also counts characters, not bytes.
pub const MAX_CHUNK_CHARS: usize = 9_437_184;
/// A chunk's request body is at most this many bytes: the Python SDK's
/// `INTAKE_PAYLOAD_BYTES_MAX_SIZE` (10485760), which the Python SDK only
/// approaches through [`MAX_CHUNK_CHARS`]; the crate also measures the
/// encoded body (escapes included) and closes a chunk before it passes
/// this (**ours**).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// An event over a limit: its lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Oversize {
    pub(crate) chars: usize,
    pub(crate) bytes: usize,
}

/// An event's lengths: in UTF-8 bytes, in Python `str` elements (code
/// points), and in bytes once encoded by [`encode_string`], quotes
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lengths {
    pub(crate) bytes: usize,
    pub(crate) chars: usize,
    pub(crate) encoded: usize,
}

impl Lengths {
    /// The lengths of an empty text.
    pub(crate) const EMPTY: Lengths = Lengths {
        bytes: 0,
        chars: 0,
        encoded: 2,
    };

    /// The lengths of this text followed by `next` (one pair of quotes).
    pub(crate) fn then(self, next: Lengths) -> Lengths {
        Lengths {
            bytes: self.bytes + next.bytes,
            chars: self.chars + next.chars,
            encoded: self.encoded + next.encoded - 2,
        }
    }
}

/// Checks the per-event limits; returns the event's lengths when it fits.
pub(crate) fn check_limits(lengths: Lengths) -> Result<Lengths, Oversize> {
    if lengths.chars > MAX_EVENT_CHARS || lengths.bytes > MAX_EVENT_BYTES {
        return Err(Oversize {
            chars: lengths.chars,
            bytes: lengths.bytes,
        });
    }
    Ok(lengths)
}

/// Checks the per-event limits; returns the event's lengths when it fits.
#[cfg(test)]
pub(crate) fn check_event(text: &str) -> Result<Lengths, Oversize> {
    check_limits(lengths(text.as_bytes()))
}

/// How many bytes more than its UTF-8 form each byte takes once encoded as
/// a Python JSON string literal (`ensure_ascii`): `"` and `\\` and the short
/// control escapes (`\n`...) 1, other controls and DEL 5 (`\u00XX`), the
/// lead byte of a non-ASCII character the rest of its `\uXXXX` escape (4
/// for 2 bytes, 3 for 3 bytes, 8 for 4 bytes: a surrogate pair),
/// continuation bytes 0. [`SEPARATOR`] is marked 255.
const EXTRA: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0x00..=0x1f | 0x7f => 5,
            0xc0..=0xdf => 4,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 8,
            SEPARATOR => 255,
            _ => 0,
        };
        byte += 1;
    }
    table
};

/// Ends each event in a chunk's stored form: a byte that never occurs in
/// UTF-8.
const SEPARATOR: u8 = 0xff;

/// The high bit of each byte of `word` that is zero (exact: no carry
/// crosses bytes).
fn zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH) + !HIGH) | word) & HIGH
}

/// The sum of the eight bytes of `counters`.
fn byte_sum(counters: u64) -> usize {
    const LANES: u64 = 0x00ff_00ff_00ff_00ff;
    let pairs = (counters & LANES) + ((counters >> 8) & LANES);
    (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
}

/// The [`EXTRA`] bytes and the UTF-8 continuation bytes of `bytes`.
fn extra_and_continuations(bytes: &[u8]) -> (usize, usize) {
    bytes.iter().fold((0, 0), |(extra, continuations), &byte| {
        (
            extra + usize::from(EXTRA[usize::from(byte)]),
            continuations + usize::from((byte as i8) < -0x40),
        )
    })
}

/// The [`Lengths`] of `bytes` (UTF-8), in one pass eight bytes at a time:
/// in a word of ASCII bytes none of which is a control or DEL (most of
/// them), its quotes and backslashes are counted in one counter per byte
/// (added up every 255 words); any other word is read byte by byte.
pub(crate) fn lengths(bytes: &[u8]) -> Lengths {
    let (mut extra, mut continuations) = (0, 0);
    let (mut counters, mut counted) = (0u64, 0u32);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let value = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // Bytes under 0x20 (ASCII ones: the high bit is checked apart).
        let control = !((value & !HIGH) + 0x6060_6060_6060_6060) & HIGH;
        let del = zero_bytes(value ^ ONES.wrapping_mul(0x7f));
        if (value & HIGH) | control | del != 0 {
            let (more, continued) = extra_and_continuations(word);
            extra += more;
            continuations += continued;
        } else {
            let quote = zero_bytes(value ^ ONES.wrapping_mul(u64::from(b'"')));
            let backslash = zero_bytes(value ^ ONES.wrapping_mul(u64::from(b'\\')));
            counters += (quote | backslash) >> 7;
            counted += 1;
            if counted == 255 {
                extra += byte_sum(counters);
                (counters, counted) = (0, 0);
            }
        }
    }
    extra += byte_sum(counters);
    let (more, continued) = extra_and_continuations(words.remainder());
    Lengths {
        bytes: bytes.len(),
        chars: bytes.len() - continuations - continued,
        encoded: bytes.len() + extra + more + 2,
    }
}

/// Appends `text` as a Python JSON string literal (`ensure_ascii`).
pub(crate) fn encode_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let start = out.len();
        out.resize(start + rest.len() * 6 + 16, 0);
        let (read, written) = encode_into(rest, &mut out[start..]);
        out.truncate(start + written);
        rest = &rest[read..];
    }
    out.push(b'"');
}

/// The high bit of each byte of `word` (little-endian) that is `"` or `\`
/// (exact): with [`other_escapes`], what [`encode_into`] does not copy as
/// it is.
fn quotes_and_backslashes(word: u64) -> u64 {
    zero_bytes(word ^ ONES.wrapping_mul(u64::from(b'"')))
        | zero_bytes(word ^ ONES.wrapping_mul(u64::from(b'\\')))
}

/// The high bit of each byte of `word` that [`encode_into`] escapes other
/// than `"` and `\`: under 0x20, DEL, and every byte of 0x80 or more
/// (exact).
fn other_escapes(word: u64) -> u64 {
    let control = !((word & !HIGH) + 0x6060_6060_6060_6060) & HIGH;
    let del = zero_bytes(word ^ ONES.wrapping_mul(0x7f));
    (word & HIGH) | control | del
}

/// The most one character (or separator) takes once escaped.
const MAX_ESCAPE: usize = 12;

/// Writes the escaped form of as much of `input` (UTF-8, with
/// [`SEPARATOR`]s) as fits in `out`, whole characters only, without
/// quotes; a separator is written as the end of one string and the start
/// of the next (`", "`). Returns the bytes read and written; it reads
/// nothing when `out` is under 16 bytes.
///
/// Eight bytes at a time ([`encode_words`]): a byte at a time took a fifth
/// more CPU time for a whole connector process pushing small JSON events.
fn encode_into(input: &[u8], out: &mut [u8]) -> (usize, usize) {
    encode_words(input, 0, out, 0, input.len())
}

/// [`encode_into`] eight bytes at a time, from `at` in `input` and
/// `written` in `out`, until `until` bytes of `input` are read (or the
/// first character that ends after) or `out` is full; the bytes read and
/// written (in all).
fn encode_words(
    input: &[u8],
    mut at: usize,
    out: &mut [u8],
    mut written: usize,
    until: usize,
) -> (usize, usize) {
    while at < until && written + 16 <= out.len() {
        if let Some(word) = input.get(at..at + 8) {
            // Eight bytes at a time: the word is copied whole, and what
            // follows its first byte to escape is written over.
            out[written..written + 8].copy_from_slice(word);
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            let quotes = quotes_and_backslashes(word);
            let others = other_escapes(word);
            if others == 0 && written + 24 <= out.len() {
                // Only `"` and `\` (or nothing) to escape: a backslash
                // before each, and the rest of the word written again after
                // it.
                let mut marks = quotes;
                let mut shift = 0;
                while marks != 0 {
                    let byte = (marks.trailing_zeros() / 8) as usize;
                    out[written + byte + shift] = b'\\';
                    shift += 1;
                    let rest = written + byte + shift;
                    out[rest..rest + 8].copy_from_slice(&(word >> (8 * byte)).to_le_bytes());
                    marks &= marks - 1;
                }
                at += 8;
                written += 8 + shift;
                continue;
            }
            let escaped = quotes | others;
            if escaped == 0 {
                at += 8;
                written += 8;
                continue;
            }
            let plain = (escaped.trailing_zeros() / 8) as usize;
            at += plain;
            written += plain;
            if written + MAX_ESCAPE > out.len() {
                // Up to 7 plain bytes leave less than an escape's room (an
                // astral character's is 12 bytes).
                break;
            }
        } else if at == input.len() {
            break;
        } else if EXTRA[usize::from(input[at])] == 0 {
            out[written] = input[at];
            at += 1;
            written += 1;
            continue;
        }
        // The escapes of JSON events, inline.
        if let byte @ (b'"' | b'\\') = input[at] {
            out[written] = b'\\';
            out[written + 1] = byte;
            at += 1;
            written += 2;
        } else {
            let (read, escape) = escape_one(input, at, &mut out[written..written + MAX_ESCAPE]);
            at += read;
            written += escape;
        }
    }
    (at, written)
}

/// Writes the escape of the character at `at` (one that [`EXTRA`] marks)
/// into `out` (at least [`MAX_ESCAPE`] bytes); the bytes read and written.
fn escape_one(bytes: &[u8], at: usize, out: &mut [u8]) -> (usize, usize) {
    let byte = bytes[at];
    let short = |out: &mut [u8], text: &[u8]| {
        out[..text.len()].copy_from_slice(text);
        (1, text.len())
    };
    match byte {
        b'"' => short(out, b"\\\""),
        b'\\' => short(out, b"\\\\"),
        b'\n' => short(out, b"\\n"),
        b'\r' => short(out, b"\\r"),
        b'\t' => short(out, b"\\t"),
        0x08 => short(out, b"\\b"),
        0x0c => short(out, b"\\f"),
        SEPARATOR => short(out, b"\", \""),
        0x00..=0x7f => {
            escape_unit(u16::from(byte), &mut out[..6]);
            (1, 6)
        }
        _ => {
            let width = match byte {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let end = (at + width).min(bytes.len());
            // Always a whole character: the bytes come from a `str`.
            let character = std::str::from_utf8(&bytes[at..end])
                .ok()
                .and_then(|text| text.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut units = [0u16; 2];
            let units = character.encode_utf16(&mut units);
            for (index, unit) in units.iter().enumerate() {
                escape_unit(*unit, &mut out[index * 6..index * 6 + 6]);
            }
            (end - at, units.len() * 6)
        }
    }
}

/// Writes `\uXXXX` (lower-case hex) into `out` (6 bytes).
fn escape_unit(unit: u16, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.copy_from_slice(&[
        b'\\',
        b'u',
        HEX[usize::from(unit >> 12)],
        HEX[usize::from((unit >> 8) & 0xf)],
        HEX[usize::from((unit >> 4) & 0xf)],
        HEX[usize::from(unit & 0xf)],
    ]);
}

/// A chunk's request body, kept as its events' strings (each followed by
/// [`SEPARATOR`]) and encoded as it is sent: the escaped body is about a
/// quarter larger than the strings for JSON events (every `"` doubled), and
/// never held whole.
#[derive(Debug)]
pub(crate) struct Body {
    prefix: Arc<[u8]>,
    raw: Vec<u8>,
    len: usize,
}

impl Body {
    /// The encoded body's length in bytes (its `Content-Length`).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The encoded body, read as it is encoded.
    pub(crate) fn reader(&self) -> BodyReader<'_> {
        BodyReader {
            body: self,
            head_at: 0,
            raw_at: 0,
            tail_at: 0,
            pending: Vec::new(),
        }
    }

    /// The whole encoded body.
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        std::io::Read::read_to_end(&mut self.reader(), &mut out).unwrap_or_default();
        out
    }
}

/// The encoded body of a [`Body`], as a reader: encoded straight into the
/// reader's buffer (a small one through `pending`).
#[derive(Debug)]
pub(crate) struct BodyReader<'a> {
    body: &'a Body,
    /// Bytes of the prefix and its opening quote written.
    head_at: usize,
    /// Bytes of the events' strings encoded.
    raw_at: usize,
    /// Bytes of the closing `"]}` written.
    tail_at: usize,
    /// Encoded bytes not yet read (reads into a small buffer).
    pending: Vec<u8>,
}

/// What closes the last string and the body.
const TAIL: &[u8] = b"\"]}";

impl BodyReader<'_> {
    /// Encodes into `out` (at least 16 bytes); 0 at the end only.
    fn fill(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        let prefix = &self.body.prefix;
        if self.head_at <= prefix.len() {
            while written < out.len() && self.head_at <= prefix.len() {
                out[written] = prefix.get(self.head_at).copied().unwrap_or(b'"');
                self.head_at += 1;
                written += 1;
            }
        }
        // The last separator closes the list instead of opening a string.
        let events = &self.body.raw[..self.body.raw.len().saturating_sub(1)];
        if self.head_at > prefix.len() && self.raw_at < events.len() {
            let (read, encoded) = encode_into(&events[self.raw_at..], &mut out[written..]);
            self.raw_at += read;
            written += encoded;
        }
        if self.raw_at == events.len() {
            while written < out.len() && self.tail_at < TAIL.len() {
                out[written] = TAIL[self.tail_at];
                self.tail_at += 1;
                written += 1;
            }
        }
        written
    }
}

impl std::io::Read for BodyReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() && out.len() >= 64 {
            return Ok(self.fill(out));
        }
        if self.pending.is_empty() {
            let mut part = [0u8; 64];
            let count = self.fill(&mut part);
            self.pending.extend(part[..count].iter().rev());
        }
        let count = out.len().min(self.pending.len());
        for byte in &mut out[..count] {
            *byte = self.pending.pop().unwrap_or_default();
        }
        Ok(count)
    }
}

/// One chunk being filled: its body so far and which events it holds.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) body: Body,
    chars: usize,
    /// Index (in the call) of the first event in the chunk.
    pub(crate) first: u64,
    /// Index of the last event in the chunk.
    pub(crate) last: u64,
    /// Number of events in the chunk.
    pub(crate) events: u32,
}

/// Builds chunks for one intake key.
#[derive(Debug)]
pub(crate) struct ChunkBuilder {
    prefix: Arc<[u8]>,
    current: Option<Chunk>,
}

const SUFFIX: &[u8] = b"]}";

impl ChunkBuilder {
    pub(crate) fn new(intake_key: &str) -> Self {
        let mut prefix = b"{\"intake_key\": ".to_vec();
        encode_string(intake_key, &mut prefix);
        prefix.extend_from_slice(b", \"jsons\": [");
        ChunkBuilder {
            prefix: prefix.into(),
            current: None,
        }
    }

    /// The buffer the next event is written into, at its end: the chunk
    /// being filled (started if there is none).
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        let prefix = &self.prefix;
        let chunk = self.current.get_or_insert_with(|| Chunk {
            body: Body {
                len: prefix.len(),
                prefix: Arc::clone(prefix),
                // Reserved, not touched: only written pages count in memory.
                raw: Vec::with_capacity(MAX_BODY_BYTES),
            },
            chars: 0,
            first: 0,
            last: 0,
            events: 0,
        });
        &mut chunk.body.raw
    }

    /// Drops what was written into [`buffer`](Self::buffer) from `start`
    /// (an event refused).
    pub(crate) fn discard(&mut self, start: usize) {
        if let Some(chunk) = &mut self.current {
            chunk.body.raw.truncate(start);
            if chunk.body.raw.capacity() > 2 * MAX_BODY_BYTES {
                // A huge event was written, then refused.
                chunk.body.raw.shrink_to(MAX_BODY_BYTES);
            }
        }
    }

    /// Adds the event written into [`buffer`](Self::buffer) from `start`,
    /// which passed [`check_limits`] (its `lengths`); returns the chunk
    /// that had to be closed to make room, if any (the event then starts
    /// the next one).
    pub(crate) fn commit(&mut self, index: u64, start: usize, lengths: Lengths) -> Option<Chunk> {
        let Lengths { chars, encoded, .. } = lengths;
        let full = self.current.as_ref().is_some_and(|chunk| {
            chunk.events > 0
                && (chunk.chars + chars > MAX_CHUNK_CHARS
                    || chunk.body.len + 2 + encoded + SUFFIX.len() > MAX_BODY_BYTES)
        });
        let closed = if full {
            // The event starts the next chunk.
            let mut closed = self.current.take()?;
            self.buffer().extend_from_slice(&closed.body.raw[start..]);
            closed.body.raw.truncate(start);
            closed.body.len += SUFFIX.len();
            Some(closed)
        } else {
            None
        };
        let chunk = self.current.as_mut()?;
        if chunk.events == 0 {
            chunk.first = index;
        } else {
            chunk.body.len += 2;
        }
        chunk.body.raw.push(SEPARATOR);
        chunk.body.len += encoded;
        chunk.chars += chars;
        chunk.last = index;
        chunk.events += 1;
        closed
    }

    /// Closes the chunk being filled, if it holds events.
    pub(crate) fn close(&mut self) -> Option<Chunk> {
        let mut chunk = self.current.take().filter(|chunk| chunk.events > 0)?;
        chunk.body.len += SUFFIX.len();
        Some(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(events: &[&str]) -> Vec<Chunk> {
        let mut builder = ChunkBuilder::new("KEY123");
        let mut chunks = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let lengths = check_event(event).unwrap();
            let buffer = builder.buffer();
            let start = buffer.len();
            buffer.extend_from_slice(event.as_bytes());
            chunks.extend(builder.commit(index as u64, start, lengths));
        }
        chunks.extend(builder.close());
        chunks
    }

    #[test]
    fn the_body_is_byte_identical_to_the_python_sdks() {
        // docs/protocol.md §5 (*One batch*), captured from the Python SDK 1.27.0.
        let chunks = body_of(&[r#"{"a":"é\"x","b":1}"#, "raw line é", r#"{"n":null}"#]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            String::from_utf8(chunks[0].body.to_vec()).unwrap(),
            r#"{"intake_key": "KEY123", "jsons": ["{\"a\":\"\u00e9\\\"x\",\"b\":1}", "raw line \u00e9", "{\"n\":null}"]}"#
        );
        let chunks = body_of(&["😀\u{1}\u{7f}\u{2028}/"]);
        assert_eq!(
            String::from_utf8(chunks[0].body.to_vec()).unwrap(),
            r#"{"intake_key": "KEY123", "jsons": ["\ud83d\ude00\u0001\u007f\u2028/"]}"#
        );
    }

    /// The previous encoder, character by character, as the reference.
    fn reference_literal(text: &str) -> String {
        let mut out = String::from("\"");
        for character in text.chars() {
            match character {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                ' '..='~' => out.push(character),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in character.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        out.push('"');
        out
    }

    /// Characters, encoded length and encoding of every pair of pieces at
    /// every offset modulo 8 and across word ends, alone and as events of a
    /// body, against the character-by-character reading.
    #[test]
    fn lengths_and_encoding_agree_with_the_character_by_character_reading() {
        let pieces = [
            "a", "\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", "é", "€", "😀", "\u{2028}", " ",
        ];
        let check = |text: &str| {
            assert_eq!(
                lengths(text.as_bytes()),
                Lengths {
                    bytes: text.len(),
                    chars: text.chars().count(),
                    encoded: reference_literal(text).len(),
                },
                "{text:?}"
            );
            let mut out = Vec::new();
            encode_string(text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), reference_literal(text));
        };
        for lead in 0..16 {
            let mut texts = Vec::new();
            for first in pieces {
                for second in pieces {
                    for tail in 0..9 {
                        let text =
                            format!("{}{first}{second}{}", "x".repeat(lead), "y".repeat(tail));
                        check(&text);
                        texts.push(text);
                    }
                }
            }
            // The same texts as events of one body: separators at every
            // offset too, next to escapes.
            let events: Vec<&str> = texts.iter().map(String::as_str).collect();
            let chunks = body_of(&events);
            let literals: Vec<String> = texts.iter().map(|text| reference_literal(text)).collect();
            let expected = format!(
                r#"{{"intake_key": "KEY123", "jsons": [{}]}}"#,
                literals.join(", ")
            );
            assert_eq!(chunks.len(), 1);
            assert_eq!(chunks[0].body.len(), expected.len());
            assert_eq!(
                String::from_utf8(chunks[0].body.to_vec()).unwrap(),
                expected
            );
        }
        // Quotes in every byte of over 255 ASCII words (the counters are
        // added up every 255 words), then other words.
        for count in [2039, 2040, 2041, 4096] {
            check(&"\"".repeat(count));
            check(&format!(
                "{}é\\{}",
                "\\\"".repeat(count),
                "ab\"".repeat(count)
            ));
        }
    }

    /// The escaped form of `input` (events' strings, each but the last
    /// ended by a separator) by the character-by-character reference.
    fn reference_encoding(input: &[u8]) -> Vec<u8> {
        let strings: Vec<String> = input
            .split(|&byte| byte == SEPARATOR)
            .map(|text| {
                let literal = reference_literal(std::str::from_utf8(text).unwrap());
                literal[1..literal.len() - 1].to_string()
            })
            .collect();
        strings.join("\", \"").into_bytes()
    }

    /// `input` encoded by [`encode_into`] into an `out` of `room` bytes
    /// again and again, each call checked against its contract and the
    /// reference: whole characters read, what it wrote their encoding.
    fn encode_in_pieces(input: &[u8], room: usize) -> Vec<u8> {
        let mut encoded = Vec::new();
        let mut out = vec![0u8; room];
        let mut at = 0;
        while at < input.len() {
            let (read, written) = encode_into(&input[at..], &mut out);
            if room < 16 {
                assert_eq!((read, written), (0, 0), "{room}");
                break;
            }
            assert!(read > 0 && at + read <= input.len() && written <= room);
            assert!(
                input
                    .get(at + read)
                    .is_none_or(|&byte| (byte as i8) >= -0x40),
                "a character cut at {} of {input:?} ({room})",
                at + read
            );
            assert_eq!(
                out[..written],
                reference_encoding(&input[at..at + read]),
                "{:?} in {room} bytes",
                &input[at..at + read]
            );
            encoded.extend_from_slice(&out[..written]);
            at += read;
        }
        encoded
    }

    /// What the encoder may meet, as bytes: one of each kind of escape,
    /// runs of them, and the separator.
    const PIECES: [&[u8]; 17] = [
        b"a",
        b"\"",
        b"\\",
        b"\n",
        b"\x01",
        b"\x1f",
        b"\x7f",
        "é".as_bytes(),
        "€".as_bytes(),
        "😀".as_bytes(),
        "\u{2028}".as_bytes(),
        b" ",
        &[SEPARATOR],
        b"\"\"",
        b"\\\\\\",
        b"\"\xff\\",
        b"~/",
    ];

    /// Numbers under `below`, the same on every run (the local platform's
    /// generator).
    fn random_inputs(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |below| (crate::testing::splitmix64(&mut seed) % below as u64) as usize
    }

    /// Every pair of pieces at every offset modulo 8 (and across word
    /// ends), with plain bytes or quotes around, against the
    /// character-by-character reading.
    #[test]
    fn every_escape_at_every_offset_encodes_as_the_reference() {
        for lead in 0..=20 {
            for first in PIECES {
                for second in PIECES {
                    for (filler, tail) in [(b'x', 0), (b'x', 90), (b'"', 90)] {
                        let mut input = vec![filler; lead];
                        input.extend_from_slice(first);
                        input.extend_from_slice(second);
                        input.extend(std::iter::repeat_n(filler, tail));
                        assert_eq!(
                            encode_in_pieces(&input, 4096),
                            reference_encoding(&input),
                            "{input:?}"
                        );
                    }
                }
            }
        }
    }

    /// Runs of quotes, backslashes and separators of every length up to
    /// 200, from several offsets; runs of quotes with one other escape at
    /// every place.
    #[test]
    fn runs_of_escapes_and_mixed_runs_encode_as_the_reference() {
        for run in [
            &b"\""[..],
            b"\\",
            b"\"\\",
            &[SEPARATOR],
            b"\"\xff",
            b"a\"",
            b"ab\\",
        ] {
            for count in 0..=200 {
                for lead in [0, 1, 7, 8, 31, 63, 64, 65] {
                    let mut input = vec![b'x'; lead];
                    for _ in 0..count {
                        input.extend_from_slice(run);
                    }
                    input.extend_from_slice(b"end");
                    assert_eq!(
                        encode_in_pieces(&input, 1024),
                        reference_encoding(&input),
                        "{input:?}"
                    );
                }
            }
        }
        for other in PIECES {
            for at in 0..=160 {
                let mut input: Vec<u8> = b"\"ab\\c\xffd".repeat(30);
                input.splice(at..at, other.iter().copied());
                assert_eq!(
                    encode_in_pieces(&input, 1024),
                    reference_encoding(&input),
                    "{input:?}"
                );
            }
        }
    }

    /// `out` of every size: nothing read under 16 bytes; from 16 bytes on,
    /// whole characters up to where it is full (the end of `out` met in
    /// the middle of a word, of an escape, of a run of separators).
    #[test]
    fn every_size_of_out_holds_whole_characters_encoded_as_the_reference() {
        let mut inputs: Vec<Vec<u8>> = vec![
            r#"{"id":12345,"severity":37,"source":"https://feed","message":"user logged in"}"#
                .as_bytes()
                .iter()
                .chain(&[SEPARATOR])
                .copied()
                .cycle()
                .take(3000)
                .collect(),
            [SEPARATOR].repeat(700),
            "😀\"é\u{1}\\".repeat(100).into_bytes(),
        ];
        let mut random = random_inputs(7);
        inputs.push(
            (0..3000)
                .flat_map(|_| PIECES[random(PIECES.len())].iter().copied())
                .collect(),
        );
        for input in &inputs {
            let expected = reference_encoding(input);
            for room in 0..=300 {
                if room < 16 {
                    assert!(encode_in_pieces(input, room).is_empty());
                    continue;
                }
                assert_eq!(encode_in_pieces(input, room), expected, "{room}");
            }
        }
    }

    /// Long random inputs, plain text with rare escapes to escapes only,
    /// encoded whole and in pieces of random sizes.
    #[test]
    fn random_long_inputs_encode_as_the_reference() {
        let mut random = random_inputs(0x005e_601a);
        for round in 0..300 {
            // One piece in `1 + density` is an escape.
            let density = [0, 1, 3, 10, 60, 500][round % 6];
            let length = random(20_000);
            let mut input = Vec::with_capacity(length + 4);
            while input.len() < length {
                if random(1 + density) == 0 {
                    input.extend_from_slice(PIECES[1 + random(PIECES.len() - 1)]);
                } else {
                    input.push(b' ' + random(95) as u8);
                }
            }
            let expected = reference_encoding(&input);
            assert_eq!(encode_in_pieces(&input, 1 << 20), expected);
            assert_eq!(encode_in_pieces(&input, 16 + random(400)), expected);
            assert_eq!(encode_in_pieces(&input, 128 * 1024), expected);
        }
    }

    #[test]
    fn bodies_are_encoded_as_they_are_read_with_their_length_known_before() {
        let long = format!("{}\"é😀\u{7f}", "plain text ".repeat(9000));
        let events: Vec<String> = [
            "",
            "a",
            "é",
            "😀",
            "\u{7f}\u{0}\u{1f} ~",
            "\"\\/\n\r\t\u{8}\u{c}",
            "0123456\"",
            "01234567\"",
            "012345678é",
            "\u{2028}\u{ffff}\u{10ffff}",
            r#"{"id":1,"severity":37,"source":"https://feed","message":"user logged in"}"#,
            &long,
        ]
        .iter()
        .map(|text| text.to_string())
        .collect();
        for text in &events {
            assert_eq!(
                lengths(text.as_bytes()).encoded,
                reference_literal(text).len(),
                "{text:?}"
            );
            let mut out = Vec::new();
            encode_string(text, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), reference_literal(text));
        }
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let chunks = body_of(&refs);
        assert_eq!(chunks.len(), 1);
        let literals: Vec<String> = events.iter().map(|text| reference_literal(text)).collect();
        let expected = format!(
            r#"{{"intake_key": "KEY123", "jsons": [{}]}}"#,
            literals.join(", ")
        );
        assert_eq!(chunks[0].body.len(), expected.len());
        // Read in pieces of any size, the same bytes.
        for step in [1, 5, 8, 4096, 1 << 20] {
            let mut reader = chunks[0].body.reader();
            let mut read = Vec::new();
            let mut piece = vec![0; step];
            loop {
                let count = std::io::Read::read(&mut reader, &mut piece).unwrap();
                if count == 0 {
                    break;
                }
                read.extend_from_slice(&piece[..count]);
            }
            assert_eq!(String::from_utf8(read).unwrap(), expected, "{step}");
        }
    }

    #[test]
    fn events_over_the_character_or_byte_limit_are_refused() {
        let at_limit = "a".repeat(MAX_EVENT_CHARS);
        assert_eq!(check_event(&at_limit).map(|l| l.chars), Ok(MAX_EVENT_CHARS));
        let over = "a".repeat(MAX_EVENT_CHARS + 1);
        assert!(check_event(&over).is_err());
        // 100,000 characters, 300,000 bytes: Python sends it, the intake drops it.
        let heavy = "€".repeat(100_000);
        assert_eq!(
            check_event(&heavy),
            Err(Oversize {
                chars: 100_000,
                bytes: 300_000
            })
        );
        let astral = "😀".repeat(64_000);
        assert_eq!(check_event(&astral).map(|l| l.chars), Ok(64_000));
    }

    #[test]
    fn a_chunk_closes_before_its_body_passes_10_mib() {
        // Accented text: 100,000 characters, 200,000 bytes, 600,000 body bytes.
        let event = "é".repeat(100_000);
        let events: Vec<&str> = std::iter::repeat_n(event.as_str(), 40).collect();
        let chunks = body_of(&events);
        assert!(chunks.len() > 1);
        let mut total = 0;
        for chunk in &chunks {
            assert!(chunk.body.len() <= MAX_BODY_BYTES, "{}", chunk.body.len());
            assert_eq!(chunk.body.to_vec().len(), chunk.body.len());
            let parsed: serde_json::Value = serde_json::from_slice(&chunk.body.to_vec()).unwrap();
            assert_eq!(
                parsed["jsons"].as_array().unwrap().len(),
                chunk.events as usize
            );
            total += chunk.events;
        }
        assert_eq!(total, 40);
        // 17 events of 600,004 body bytes fit in 10 MiB, not 18.
        assert_eq!(chunks[0].events, 17);
    }

    #[test]
    fn a_chunk_closes_at_the_python_character_total() {
        // ASCII events of 200,000 characters: 47 make 9,400,000 characters
        // (≤ 9,437,184) and a body of 9.4 MB; the 48th would pass the total.
        let event = "a".repeat(200_000);
        let events: Vec<&str> = std::iter::repeat_n(event.as_str(), 50).collect();
        let chunks = body_of(&events);
        assert_eq!(chunks[0].events, 47);
        assert_eq!((chunks[1].first, chunks[1].last), (47, 49));
    }
}
