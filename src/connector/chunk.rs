//! Chunking events into `/batch` bodies (PROTOCOL-connectors §2.2–2.3).
//!
//! The body is `{"intake_key": "<key>", "jsons": ["<event>", ...]}` in
//! Python's `json.dumps` format (`", "` and `": "` separators, non-ASCII as
//! `\uXXXX`), built as events arrive, so a chunk exists only as its bytes.
//!
//! Limits, checked in this order for each event:
//! - an event over [`MAX_EVENT_CHARS`] characters (the Python SDK's rule) or
//!   over [`MAX_EVENT_BYTES`] UTF-8 bytes (the intake's, **ours**) is refused;
//! - the chunk is closed before its character total would pass
//!   [`MAX_CHUNK_CHARS`] (the Python SDK's rule), and before its encoded
//!   body would pass [`MAX_BODY_BYTES`] (**ours**: measured on the bytes
//!   sent, so a chunk of accented or CJK text is not a 50 MB request).

/// An event longer than this many characters (Unicode code points) is
/// refused, as the Python SDK refuses it.
pub const MAX_EVENT_CHARS: usize = 250_000;
/// An event longer than this many UTF-8 bytes is refused (the intake drops
/// events over 250 KiB).
pub const MAX_EVENT_BYTES: usize = 256_000;
/// A chunk's events total at most this many characters (the Python SDK's
/// `int(0.9 × 10 MiB)`).
pub const MAX_CHUNK_CHARS: usize = 9_437_184;
/// A chunk's request body is at most this many bytes.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The length of `text` in Python `str` elements (code points).
pub(crate) fn char_count(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    text.bytes().filter(|&b| (b as i8) >= -0x40).count()
}

/// An event over a limit: its lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Oversize {
    pub(crate) chars: usize,
    pub(crate) bytes: usize,
}

/// Checks the per-event limits; returns the character count when it fits.
pub(crate) fn check_event(text: &str) -> Result<usize, Oversize> {
    let bytes = text.len();
    let chars = char_count(text);
    if chars > MAX_EVENT_CHARS || bytes > MAX_EVENT_BYTES {
        return Err(Oversize { chars, bytes });
    }
    Ok(chars)
}

/// Appends `text` as a Python JSON string literal (`ensure_ascii`).
pub(crate) fn encode_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, character) in text.char_indices() {
        let escape: &[u8] = match character {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            ' '..='~' => continue,
            _ => b"",
        };
        out.extend_from_slice(&bytes[start..index]);
        if escape.is_empty() {
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                out.extend_from_slice(b"\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(b"0123456789abcdef"[usize::from((*unit >> shift) & 0xf)]);
                }
            }
        } else {
            out.extend_from_slice(escape);
        }
        start = index + character.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// One chunk being filled: its body so far and which events it holds.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) body: Vec<u8>,
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
    prefix: Vec<u8>,
    current: Option<Chunk>,
    encoded: Vec<u8>,
}

const SUFFIX: &[u8] = b"]}";

impl ChunkBuilder {
    pub(crate) fn new(intake_key: &str) -> Self {
        let mut prefix = b"{\"intake_key\": ".to_vec();
        encode_string(intake_key, &mut prefix);
        prefix.extend_from_slice(b", \"jsons\": [");
        ChunkBuilder {
            prefix,
            current: None,
            encoded: Vec::with_capacity(1024),
        }
    }

    /// Adds an event that passed [`check_event`]; returns the chunk that had
    /// to be closed to make room, if any.
    pub(crate) fn push(&mut self, index: u64, text: &str, chars: usize) -> Option<Chunk> {
        self.encoded.clear();
        encode_string(text, &mut self.encoded);
        let closed = match &self.current {
            Some(chunk)
                if chunk.chars + chars > MAX_CHUNK_CHARS
                    || chunk.body.len() + 2 + self.encoded.len() + SUFFIX.len()
                        > MAX_BODY_BYTES =>
            {
                self.close()
            }
            _ => None,
        };
        let chunk = self.current.get_or_insert_with(|| {
            // Reserved, not touched: only written pages count in memory.
            let mut body = Vec::with_capacity(MAX_BODY_BYTES);
            body.extend_from_slice(&self.prefix);
            Chunk {
                body,
                chars: 0,
                first: index,
                last: index,
                events: 0,
            }
        });
        if chunk.events > 0 {
            chunk.body.extend_from_slice(b", ");
        }
        chunk.body.extend_from_slice(&self.encoded);
        chunk.chars += chars;
        chunk.last = index;
        chunk.events += 1;
        closed
    }

    /// Closes the chunk being filled, if it holds events.
    pub(crate) fn close(&mut self) -> Option<Chunk> {
        let mut chunk = self.current.take()?;
        chunk.body.extend_from_slice(SUFFIX);
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
            let chars = check_event(event).unwrap();
            chunks.extend(builder.push(index as u64, event, chars));
        }
        chunks.extend(builder.close());
        chunks
    }

    #[test]
    fn the_body_is_byte_identical_to_the_python_sdks() {
        // PROTOCOL-connectors §2.3, captured from the Python SDK 1.27.0.
        let chunks = body_of(&[r#"{"a":"é\"x","b":1}"#, "raw line é", r#"{"n":null}"#]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            String::from_utf8(chunks[0].body.clone()).unwrap(),
            r#"{"intake_key": "KEY123", "jsons": ["{\"a\":\"\u00e9\\\"x\",\"b\":1}", "raw line \u00e9", "{\"n\":null}"]}"#
        );
        let chunks = body_of(&["😀\u{1}\u{7f}\u{2028}/"]);
        assert_eq!(
            String::from_utf8(chunks[0].body.clone()).unwrap(),
            r#"{"intake_key": "KEY123", "jsons": ["\ud83d\ude00\u0001\u007f\u2028/"]}"#
        );
    }

    #[test]
    fn events_over_the_character_or_byte_limit_are_refused() {
        let at_limit = "a".repeat(MAX_EVENT_CHARS);
        assert_eq!(check_event(&at_limit), Ok(MAX_EVENT_CHARS));
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
        assert_eq!(check_event(&astral), Ok(64_000));
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
            let parsed: serde_json::Value = serde_json::from_slice(&chunk.body).unwrap();
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
