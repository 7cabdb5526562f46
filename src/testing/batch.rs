//! The local intake's reading of a `/batch` body: a JSON object whose
//! `jsons` member is a list, of which only the length is needed.
//!
//! One pass over the bytes that validates the whole document as the
//! platform's previous reading did (`serde_json` into a struct with a
//! `jsons: Vec<IgnoredAny>` field): strict JSON grammar, whitespace around,
//! other members of any kind ignored, a duplicate `jsons` refused, elements
//! of any kind counted, strings not checked for UTF-8 (a value that is only
//! skipped never was), member names decoded by `serde_json` itself. It
//! builds nothing and copies nothing, and skips string contents 64 bytes
//! at a time ([`Block`]: bit masks of quotes, backslashes and control bytes
//! built sixteen bytes at a time with SSE2 on x86_64, eight bytes at a time
//! in `u64` words elsewhere ([`Masks`]), simdjson's escape scanner on
//! them), byte by byte only where an escape other than `\"` or `\\` or a
//! control byte comes before a string's end. `Progress` reads a body while
//! it arrives, so that a 10 MiB batch is mostly read by the time its last
//! byte is received. The `tests` module checks that the readings agree with the
//! previous one on a corpus of well-formed and broken bodies, whole and cut
//! anywhere, and that the block masks are those of a serial reading.

use crate::wire::block_masks::{HIGH, LOW, other_bytes, text_bytes, transpose};

/// Byte classes inside a string: 0 plain, 1 the closing quote, 2 a
/// backslash, 3 a control character (refused).
const IN_STRING: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = 3;
        byte += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 2;
    table
};

/// The odd bits of a block mask (its bytes at odd offsets).
const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;

/// The bytes read at once by [`Block`].
const BLOCK: usize = 64;

/// 64 bytes of a string and what follows it, read at once as bit masks (bit
/// `i` for the byte at `base + i`), simdjson-style: the escaped bytes from
/// the runs of backslashes, the quotes not escaped (a string's end), and the
/// bytes the block path leaves to the byte path (control characters and
/// escapes other than `\"` and `\\`). The masks hold for any string
/// that starts in the block once they hold at `base`: outside strings JSON
/// has no backslash.
#[derive(Clone, Copy)]
struct Block {
    base: usize,
    /// The quotes not escaped.
    ends: u64,
    /// The bytes a backslash escapes.
    escaped: u64,
    /// Control characters, and escaped bytes other than `"` and `\`.
    rare: u64,
    /// 1 when the byte after the block is escaped.
    carry: u64,
}

impl Block {
    /// No block: `base` is past any body.
    const NONE: Block = Block {
        base: usize::MAX - BLOCK,
        ends: 0,
        escaped: 0,
        rare: 0,
        carry: 0,
    };

    /// The block of the 64 bytes from `base`, whose first byte is escaped
    /// when `carry` is 1; `None` when fewer remain.
    #[inline(always)]
    fn read(bytes: &[u8], base: usize, carry: u64) -> Option<Block> {
        let block: &[u8; BLOCK] = bytes.get(base..base + BLOCK)?.try_into().ok()?;
        let Masks {
            quote,
            backslash,
            control,
        } = Masks::of(block);
        // simdjson's escape scanner: a backslash that is not escaped
        // escapes the next byte; in a run of them, those at an even
        // distance from its start do.
        let potential = backslash & !carry;
        let codes = (((potential << 1) | ODD).wrapping_sub(potential)) ^ ODD;
        let escaped = codes ^ (backslash | carry);
        Some(Block {
            base,
            ends: quote & !escaped,
            escaped,
            rare: control | (escaped & !(quote | backslash)),
            carry: (codes & backslash) >> 63,
        })
    }
}

/// The bytes of a block that are quotes, backslashes and control
/// characters, as bit masks (bit `i` for byte `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    control: u64,
}

impl Masks {
    /// With SSE2 (x86_64's baseline) 16 bytes at a time, about twice as
    /// fast as [`portable`](Self::portable) (`scan_timing`), else that.
    #[inline(always)]
    fn of(block: &[u8; BLOCK]) -> Masks {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        {
            // SAFETY: `sse2` requires only that the CPU has SSE2, which the
            // build configuration guarantees (the `cfg` above: SSE2 is
            // part of x86_64 itself); the function is otherwise safe code.
            #[allow(unsafe_code)]
            let masks = unsafe { Masks::sse2(block) };
            masks
        }
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        Masks::portable(block)
    }

    /// Eight bytes at a time in `u64` words (SWAR).
    #[cfg_attr(
        all(target_arch = "x86_64", target_feature = "sse2"),
        allow(dead_code, reason = "tested against the SSE2 masks")
    )]
    #[inline(always)]
    fn portable(block: &[u8; BLOCK]) -> Masks {
        let (words, _) = block.as_chunks::<8>();
        // The high bits of word `k`, shifted right by `7 - k` (one bit more
        // for each word after it): bit `8 * byte + k` is the byte
        // `8 * k + byte`, a transpose of the mask.
        let mut other = 0;
        let mut plain = 0;
        let mut text = HIGH;
        for word in words {
            let word = u64::from_le_bytes(*word);
            let low = word & LOW;
            other = (other >> 1) | (other_bytes(word, low, b'"') & HIGH);
            plain = (plain >> 1) | (other_bytes(word, low, b'\\') & HIGH);
            text &= text_bytes(word, low);
        }
        Masks {
            quote: !transpose(other),
            backslash: !transpose(plain),
            control: if text & HIGH == HIGH {
                0
            } else {
                control(words)
            },
        }
    }

    /// Sixteen bytes at a time in SSE2 registers: a comparison each, and
    /// their bytes' high bits gathered.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[target_feature(enable = "sse2")]
    fn sse2(block: &[u8; BLOCK]) -> Masks {
        use crate::wire::block_masks::{sse2_bits, sse2_lane};
        use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_min_epu8, _mm_set1_epi8};
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let last_control = _mm_set1_epi8(0x1f);
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            control: 0,
        };
        let (lanes, _) = block.as_chunks::<16>();
        for (index, lane) in lanes.iter().enumerate() {
            let bytes = sse2_lane(lane);
            masks.quote |= sse2_bits(_mm_cmpeq_epi8(bytes, quote), index);
            masks.backslash |= sse2_bits(_mm_cmpeq_epi8(bytes, backslash), index);
            // Below 0x20: unchanged by the minimum with 0x1f.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, last_control), bytes);
            masks.control |= sse2_bits(control, index);
        }
        masks
    }
}

/// The control characters of a block's words, as a mask.
#[cold]
fn control(words: &[[u8; 8]]) -> u64 {
    let text = words.iter().fold(0, |text, word| {
        let word = u64::from_le_bytes(*word);
        (text >> 1) | (text_bytes(word, word & LOW) & HIGH)
    });
    !transpose(text)
}

/// The number of elements of the `jsons` list of an intake batch body;
/// `None` when the body is not a JSON object with exactly one `jsons`
/// member holding a list.
pub(crate) fn jsons_len(bytes: &[u8]) -> Option<usize> {
    let mut reader = Reader::new(bytes, 0);
    reader.whitespace();
    reader.expect(b'{')?;
    reader.members(None, true)
}

/// A batch body read as it arrives: the elements of its `jsons` list read
/// then are not read again once it is complete ([`finish`](Self::finish)),
/// so that most of the reading happens while the client is still sending.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Where the reading can resume: just after a comma of the `jsons`
    /// list, with the number of elements before it.
    resume: Option<(usize, usize)>,
    /// The length received when the body was last read.
    tried: usize,
}

impl Progress {
    /// Reads what can be read of `received`, the body's first bytes.
    ///
    /// What was read in vain the last time (the members before the list,
    /// or an element cut at the end of what had arrived) is read again only
    /// once twice as much has arrived after where the reading resumes: the
    /// members before the list are a few bytes, as the SDKs send them, and
    /// a large element arriving in many small parts is read about twice in
    /// all, not once per part.
    pub(crate) fn advance(&mut self, received: &[u8]) {
        let from = self.resume.map_or(0, |(at, _)| at);
        let least = if self.resume.is_some() { 0 } else { 512 };
        let pending = self.tried.saturating_sub(from).max(least);
        if received.len().saturating_sub(from) < 2 * pending {
            return;
        }
        self.tried = received.len();
        let (at, mut count) = match self.resume {
            Some(resume) => resume,
            None => match list_start(received) {
                Some(at) => (at, 0),
                None => return,
            },
        };
        let mut reader = Reader::new(received, at);
        // Whole elements each followed by a comma; what is cut or invalid
        // is left to `finish`.
        loop {
            reader.whitespace();
            if reader.element().is_none() {
                return;
            }
            reader.whitespace();
            if reader.next() != Some(b',') {
                return;
            }
            count += 1;
            self.resume = Some((reader.at, count));
        }
    }

    /// [`jsons_len`] of the whole body, of which [`advance`](Self::advance)
    /// was given first bytes.
    pub(crate) fn finish(&self, body: &[u8]) -> Option<usize> {
        let Some((at, count)) = self.resume else {
            return jsons_len(body);
        };
        let mut reader = Reader::new(body, at);
        let count = reader.list_rest(count)?;
        reader.members(Some(count), false)
    }
}

/// The index just after the `[` of the `jsons` list, once the members
/// before it are read; `None` when they are cut or invalid.
fn list_start(bytes: &[u8]) -> Option<usize> {
    let mut reader = Reader::new(bytes, 0);
    reader.whitespace();
    reader.expect(b'{')?;
    reader.whitespace();
    loop {
        if reader.member_name_decoded()? == "jsons" {
            reader.expect(b'[')?;
            return Some(reader.at);
        }
        reader.value()?;
        reader.whitespace();
        reader.expect(b',')?;
        reader.whitespace();
    }
}

/// The index after the escape whose backslash is before `at`.
#[inline]
fn escape_end(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 1),
        b'u' => bytes
            .get(at + 1..at + 5)?
            .iter()
            .all(u8::is_ascii_hexdigit)
            .then_some(at + 5),
        _ => None,
    }
}

/// Reads a string's bytes one by one from `at` up to `end`:
/// `Ok(after its closing quote)`, `Err(end)` when `end` comes first, `None`
/// for a byte a string cannot hold or a body cut within the string.
fn string_bytes(bytes: &[u8], mut at: usize, end: usize) -> Option<Result<usize, usize>> {
    while at < end {
        match IN_STRING[usize::from(*bytes.get(at)?)] {
            0 => at += 1,
            1 => return Some(Ok(at + 1)),
            2 => at = escape_end(bytes, at + 1)?,
            _ => return None,
        }
    }
    Some(Err(at))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The last block of string bytes read.
    block: Block,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], at: usize) -> Self {
        Reader {
            bytes,
            at,
            block: Block::NONE,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// Skips JSON white space (space, tab, line feed, carriage return).
    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips the rest of a string whose opening quote was read.
    ///
    /// By blocks of 64 bytes ([`Block`]): the string ends at the first
    /// quote not escaped; a block with a control character or an escape
    /// other than `\"` and `\\` before that end is read byte by byte, and
    /// so are the last 63 bytes of the body. The block is kept: the next
    /// strings of a list mostly start in it.
    fn string(&mut self) -> Option<()> {
        let bytes = self.bytes;
        let mut at = self.at;
        loop {
            let mut block = self.block;
            let offset = at.wrapping_sub(block.base);
            if offset >= BLOCK {
                // The next block, or a new one from `at` (not escaped: just
                // after a quote or a whole escape); the rest byte by byte
                // when the body ends before.
                let carry = if offset == BLOCK { block.carry } else { 0 };
                let Some(next) = Block::read(bytes, at, carry) else {
                    if carry != 0 {
                        at = escape_end(bytes, at)?;
                    }
                    self.block = Block::NONE;
                    self.at = string_bytes(bytes, at, usize::MAX)?.ok()?;
                    return Some(());
                };
                block = next;
                self.block = next;
            }
            let offset = at - block.base;
            let ends = block.ends >> offset;
            // The bytes before the string's end, if it is in the block.
            let before = (ends & ends.wrapping_neg()).wrapping_sub(1);
            if (block.rare >> offset) & before == 0 {
                if ends != 0 {
                    self.at = at + ends.trailing_zeros() as usize + 1;
                    return Some(());
                }
                at = block.base + BLOCK;
                continue;
            }
            // Byte by byte to the block's end (or past it, an escape
            // across it), then a new block.
            if (block.escaped >> offset) & 1 != 0 {
                at = escape_end(bytes, at)?;
            }
            match string_bytes(bytes, at, block.base + BLOCK)? {
                Ok(after) => {
                    self.at = after;
                    return Some(());
                }
                Err(next) => {
                    at = next;
                    self.block = Block::NONE;
                }
            }
        }
    }

    /// Skips a number whose first byte (`-` or a digit) is next.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            b'0' => {
                if self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Skips one value (after white space), nested ones included, without
    /// recursion: `open` holds the containers entered (`[` or `{`).
    fn value(&mut self) -> Option<()> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value.
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => self.number()?,
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                container @ (b'[' | b'{') => {
                    self.at += 1;
                    self.whitespace();
                    let close = if container == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                    } else {
                        open.push(container);
                        if container == b'{' {
                            self.member_name()?;
                        }
                        continue;
                    }
                }
                _ => return None,
            }
            // What follows it: a comma and the next value, or closings.
            loop {
                let Some(&container) = open.last() else {
                    return Some(());
                };
                self.whitespace();
                match (self.next()?, container) {
                    (b',', b'[') => {
                        self.whitespace();
                        break;
                    }
                    (b',', _) => {
                        self.whitespace();
                        self.member_name()?;
                        break;
                    }
                    (b']', b'[') | (b'}', b'{') => {
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Skips `"name":` and the white space after it.
    fn member_name(&mut self) -> Option<()> {
        self.expect(b'"')?;
        self.string()?;
        self.whitespace();
        self.expect(b':')?;
        self.whitespace();
        Some(())
    }

    /// Skips a list, `[` next; its number of elements.
    fn list_len(&mut self) -> Option<usize> {
        self.expect(b'[')?;
        self.whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(0);
        }
        self.list_rest(0)
    }

    /// Skips the rest of a list whose `[` or last comma was read, `count`
    /// elements before; its number of elements.
    fn list_rest(&mut self, mut count: usize) -> Option<usize> {
        loop {
            self.whitespace();
            self.element()?;
            count += 1;
            self.whitespace();
            match self.next()? {
                b',' => {}
                b']' => return Some(count),
                _ => return None,
            }
        }
    }

    /// Skips a list element: strings, the intake's elements, without the
    /// general path.
    fn element(&mut self) -> Option<()> {
        if self.peek()? == b'"' {
            self.at += 1;
            self.string()
        } else {
            self.value()
        }
    }

    /// Reads an object's members to its end and the body's: after its `{`
    /// (`first`) or after a member's value; `count` is the length of the
    /// `jsons` list when it was read. The count of the one `jsons` list.
    fn members(&mut self, mut count: Option<usize>, mut first: bool) -> Option<usize> {
        loop {
            self.whitespace();
            if first {
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    break;
                }
                first = false;
            } else {
                match self.next()? {
                    b',' => self.whitespace(),
                    b'}' => break,
                    _ => return None,
                }
            }
            if self.member_name_decoded()? == "jsons" {
                if count.is_some() {
                    return None;
                }
                count = Some(self.list_len()?);
            } else {
                self.value()?;
            }
        }
        self.whitespace();
        (self.at == self.bytes.len()).then_some(count).flatten()
    }

    /// Reads `"name":` and the white space after it; the name as serde_json
    /// decodes it (escapes, UTF-8).
    fn member_name_decoded(&mut self) -> Option<std::borrow::Cow<'_, str>> {
        let start = self.at;
        self.expect(b'"')?;
        self.string()?;
        let end = self.at;
        self.whitespace();
        self.expect(b':')?;
        self.whitespace();
        serde_json::from_slice(&self.bytes[start..end]).ok()
    }
}

/// The body of the connector figures' push (`events` small events, as
/// the SDK sends them), for the timings of the local intake.
#[cfg(test)]
pub(crate) fn figures_body(events: u64) -> Vec<u8> {
    let mut body = br#"{"intake_key": "KEY123", "jsons": ["#.to_vec();
    for id in 0..events {
        if id > 0 {
            body.extend_from_slice(b", ");
        }
        let event = serde_json::json!({
            "id": id,
            "severity": id * 37 % 101,
            "source": "https://feed",
            "message": "user logged in",
        })
        .to_string();
        body.extend_from_slice(serde_json::to_string(&event).unwrap().as_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde::de::IgnoredAny;

    /// The previous reading, kept as the reference.
    fn reference(bytes: &[u8]) -> Option<usize> {
        #[derive(Deserialize)]
        struct Batch {
            jsons: Vec<IgnoredAny>,
        }
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return None;
        }
        serde_json::from_slice::<Batch>(bytes)
            .ok()
            .map(|batch| batch.jsons.len())
    }

    fn agree(body: &[u8]) -> Option<usize> {
        let ours = jsons_len(body);
        assert_eq!(ours, reference(body), "{:?}", String::from_utf8_lossy(body));
        ours
    }

    #[test]
    fn intake_bodies_are_counted() {
        // As the SDKs send them: escapes, astral characters, key first.
        assert_eq!(
            agree(
                br#"{"intake_key": "K", "jsons": ["{\"a\":\"\u00e9\\\"x\"}", "raw \ud83d\ude00 line", "\"", "\\", ""]}"#
            ),
            Some(5)
        );
        assert_eq!(agree(" {\"jsons\":[]}\r\n".as_bytes()), Some(0));
        // Raw UTF-8, astral included, and a lone surrogate escape in a value.
        assert_eq!(
            agree("{\"jsons\": [\"é😀\", \"\\ud800\", \"\\uDC00x\"], \"k\": 1}".as_bytes()),
            Some(3)
        );
        // Elements of any kind are counted, as before.
        assert_eq!(
            agree(br#"{"jsons": [1, -0.5e+3, null, true, false, {"a": [1, {}]}, [], [[]], "s"]}"#),
            Some(9)
        );
        // Other members of any kind, before and after; a member name with
        // escapes is decoded.
        assert_eq!(
            agree(br#"{"x": {"jsons": 1}, "json\u0073": ["a"], "y": [1E5, "\/"]}"#),
            Some(1)
        );
        // Invalid UTF-8 in a value is not looked at (it never was).
        assert_eq!(agree(b"{\"jsons\": [\"\xff\xfe\"]}"), Some(1));
        // A long plain run, read by words.
        let long = format!(
            r#"{{"jsons": ["{}", "{}x"]}}"#,
            "a".repeat(1000),
            "b".repeat(7)
        );
        assert_eq!(agree(long.as_bytes()), Some(2));
    }

    #[test]
    fn bodies_that_are_not_a_batch_are_refused() {
        for body in [
            &b""[..],
            b"nope",
            br#"[["a"]]"#,
            br#"{"intake_key": "k"}"#,
            br#"{"jsons": "a"}"#,
            br#"{"jsons": {"a": 1}}"#,
            br#"{"jsons": null}"#,
            br#"{"jsons": [1], "jsons": [2]}"#,
            br#"{"jsons": ["a",]}"#,
            br#"{"jsons": ["a"],}"#,
            br#"{"jsons": ["a" "b"]}"#,
            br#"{"jsons": ["a"]} x"#,
            br#"{"jsons": ["a"]"#,
            br#"{"jsons": ["a]}"#,
            br#"{"jsons": ["\x"]}"#,
            br#"{"jsons": ["\u12G4"]}"#,
            br#"{"jsons": ["\u12"]}"#,
            b"{\"jsons\": [\"a\nb\"]}",
            b"{\"jsons\": [\"\x1f\"]}",
            br#"{"jsons": [01]}"#,
            br#"{"jsons": [1.]}"#,
            br#"{"jsons": [.5]}"#,
            br#"{"jsons": [1e]}"#,
            br#"{"jsons": [-]}"#,
            br#"{"jsons": [+1]}"#,
            br#"{"jsons": [nul]}"#,
            br#"{"jsons": [truex]}"#,
            br#"{"jsons": [{"a" 1}]}"#,
            br#"{"jsons": [{1: 1}]}"#,
            br#"{"jsons": [{"a": 1,}]}"#,
            br#"{"jsons": [[1}]}"#,
            br#"{"x": [1, 2, {"y": }], "jsons": []}"#,
            br#"{"jsons" ["a"]}"#,
            br#"{jsons: ["a"]}"#,
            br#"{"\ud800": 1, "jsons": []}"#,
            b"\x0c{\"jsons\": []}",
            b"{\"\xff\": 1, \"jsons\": []}",
        ] {
            assert_eq!(agree(body), None);
        }
    }

    /// Every string of up to 5 bytes of escapes' parts (backslashes,
    /// quotes, letters, hex digits, a control byte, a UTF-8 lead byte) at
    /// every offset modulo 8, then long runs of `\"` and backslashes across
    /// words: both readings agree on each.
    #[test]
    fn both_readings_agree_on_strings_of_escapes_at_every_offset() {
        let alphabet = b"\\\"nua\x01\xc3";
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last = strings.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|string| {
                    alphabet.iter().map(move |&byte| {
                        let mut longer = string.clone();
                        longer.push(byte);
                        longer
                    })
                })
                .collect();
            strings.extend(last.iter().cloned());
        }
        for lead in 0..8 {
            for string in &strings {
                let mut body = b"{\"jsons\": [\"".to_vec();
                body.extend(std::iter::repeat_n(b'x', lead));
                body.extend_from_slice(string);
                body.extend_from_slice(b"\", \"\\u00e9\\\"\"]}");
                agree(&body);
            }
        }
        for lead in 0..8 {
            for count in 0..20 {
                for unit in [
                    &br#"\""#[..],
                    br#"\\"#,
                    br#"\\\""#,
                    br#"a\"b"#,
                    br#"\n"#,
                    br#"\u00e9"#,
                ] {
                    let mut body = b"{\"jsons\": [\"".to_vec();
                    body.extend(std::iter::repeat_n(b'x', lead));
                    for _ in 0..count {
                        body.extend_from_slice(unit);
                    }
                    body.extend_from_slice(b"\", \"y\"]}");
                    assert_eq!(agree(&body), Some(2));
                    for end in 0..body.len() {
                        agree(&body[..end]);
                    }
                    // Cut in the list, as `Progress` reads it while it arrives.
                    let mut progress = Progress::default();
                    for end in (0..=body.len()).step_by(3) {
                        progress.advance(&body[..end]);
                    }
                    assert_eq!(progress.finish(&body), Some(2));
                }
            }
        }
    }

    /// The masks of a block as a serial reading finds them: escaped bytes,
    /// quotes not escaped, control characters, escape letters other than
    /// `"` and `\`, and whether the byte after the block is escaped.
    fn serial_block(block: &[u8], mut escaping: bool) -> (u64, u64, u64, u64) {
        let (mut ends, mut escaped, mut rare) = (0, 0, 0);
        for (index, &byte) in block.iter().enumerate() {
            let bit = 1 << index;
            if byte < 0x20 {
                rare |= bit;
            }
            if escaping {
                escaped |= bit;
                if byte != b'"' && byte != b'\\' {
                    rare |= bit;
                }
                escaping = false;
            } else if byte == b'\\' {
                escaping = true;
            } else if byte == b'"' {
                ends |= bit;
            }
        }
        (ends, escaped, rare, u64::from(escaping))
    }

    /// Pseudo-random blocks of escapes' parts, and blocks with one run of
    /// backslashes of every length at every offset, each with and without
    /// an escape carried in: the masks are those of a serial reading.
    #[test]
    fn block_masks_are_those_of_a_serial_reading() {
        let alphabet = b"\\\\\\\"\"xu/n\x01\x1f \x7f\x80\xa2\xdc\xff";
        let mut state = 7;
        let mut blocks: Vec<Vec<u8>> = (0..20_000)
            .map(|_| {
                let bits = crate::testing::splitmix64(&mut state);
                let dense = bits % 4;
                (0..BLOCK)
                    .map(|index| {
                        let pick = crate::testing::splitmix64(&mut state);
                        if pick % 4 < dense || index % 13 == 0 {
                            alphabet[(pick >> 8) as usize % alphabet.len()]
                        } else {
                            b'a'
                        }
                    })
                    .collect()
            })
            .collect();
        for start in 0..BLOCK {
            for length in 1..=10 {
                for after in [b'"', b'n', b'x'] {
                    let mut block = vec![b'a'; BLOCK];
                    block[start..(start + length).min(BLOCK)].fill(b'\\');
                    if start + length < BLOCK {
                        block[start + length] = after;
                    }
                    blocks.push(block);
                }
            }
        }
        for block in &blocks {
            for carry in [0, 1] {
                let read = Block::read(block, 0, carry).expect("64 bytes");
                let (ends, escaped, rare, carried) = serial_block(block, carry == 1);
                assert_eq!(
                    (read.ends, read.escaped, read.rare, read.carry),
                    (ends, escaped, rare, carried),
                    "{:?} carry {carry}",
                    String::from_utf8_lossy(block)
                );
            }
        }
        assert!(Block::read(&[b'a'; BLOCK - 1], 0, 0).is_none());
    }

    /// A large element arriving in small parts among small ones: read
    /// again only as what arrived after it doubles, then the reading goes
    /// on past it while the body arrives, and the count is right.
    #[test]
    fn large_elements_arriving_in_small_parts() {
        let mut body = br#"{"intake_key": "k", "jsons": ["a", ""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', 1 << 20));
        body.extend_from_slice(br#"""#);
        for _ in 0..100_000 {
            body.extend_from_slice(br#", "small \" one""#);
        }
        body.extend_from_slice(b"]}");
        let mut progress = Progress::default();
        let (mut end, mut parts, mut reads, mut stuck) = (0, 0, 0, 0);
        while end < body.len() {
            end = (end + 1000).min(body.len());
            parts += 1;
            let before = progress.tried;
            progress.advance(&body[..end]);
            if progress.tried != before {
                reads += 1;
                // Reads that end in the large element.
                stuck += usize::from(progress.resume.is_some_and(|(_, count)| count == 1));
            }
        }
        let (_, count) = progress.resume.unwrap();
        assert!(count > 99_000, "{count}");
        assert!(stuck < 15, "{stuck}");
        assert!(reads < parts / 2, "{reads} of {parts}");
        assert_eq!(progress.finish(&body), Some(100_002));
        assert_eq!(reference(&body), Some(100_002));
    }

    /// The block masks of the build (SSE2 on x86_64) and the portable
    /// ones agree with a byte-by-byte reading, on every byte value at every
    /// offset and on pseudo-random blocks.
    #[test]
    fn byte_masks_of_every_byte_at_every_offset() {
        let serial = |block: &[u8; BLOCK]| {
            let mut masks = Masks {
                quote: 0,
                backslash: 0,
                control: 0,
            };
            for (index, &byte) in block.iter().enumerate() {
                masks.quote |= u64::from(byte == b'"') << index;
                masks.backslash |= u64::from(byte == b'\\') << index;
                masks.control |= u64::from(byte < 0x20) << index;
            }
            masks
        };
        let mut blocks = Vec::new();
        for byte in 0..=255u8 {
            for at in 0..BLOCK {
                for fill in [b'a', 0x80, 0x1f] {
                    let mut block = [fill; BLOCK];
                    block[at] = byte;
                    blocks.push(block);
                }
            }
        }
        let mut state = 11;
        for _ in 0..20_000 {
            let mut block = [0; BLOCK];
            for chunk in block.chunks_mut(8) {
                chunk.copy_from_slice(&crate::testing::splitmix64(&mut state).to_le_bytes());
            }
            blocks.push(block);
        }
        for block in &blocks {
            let expected = serial(block);
            assert_eq!(Masks::portable(block), expected, "{block:?}");
            assert_eq!(Masks::of(block), expected, "{block:?}");
        }
    }

    /// Escapes and backslash runs at every offset modulo 64 from a
    /// string's start (and so across block ends), in strings long enough
    /// to be read by blocks, next to a string starting in the same block:
    /// both readings agree, on the whole body, cut at every byte, altered
    /// at every byte of the escape, and read while it arrives.
    #[test]
    fn both_readings_agree_on_escapes_at_every_block_offset() {
        let units: [&[u8]; 16] = [
            br#"\""#,
            br#"\\"#,
            br#"\\\""#,
            br#"\\\\\""#,
            br#"\\\\\\"#,
            br#"\\\\\\\""#,
            br#"\n"#,
            br#"\/\b\f\r\t"#,
            br#"\u00e9"#,
            br#"\uD83D\uDE00"#,
            br#"\u12G4"#,
            br#"\x"#,
            b"\x01",
            b"\n",
            "é😀".as_bytes(),
            b"\xff\xfe",
        ];
        let mut valid = 0;
        for lead in 0..BLOCK + 8 {
            for unit in units {
                let mut body = b"{\"intake_key\": \"K\", \"jsons\": [\"".to_vec();
                let start = body.len();
                body.extend(std::iter::repeat_n(b'x', lead));
                body.extend_from_slice(unit);
                body.extend_from_slice(br#"y\"z", "second \"", ""#);
                body.extend(std::iter::repeat_n(b'w', 70));
                body.extend_from_slice(b"\"]}");
                let expected = reference(&body);
                assert_eq!(agree(&body), expected);
                valid += usize::from(expected.is_some());
                // Cut anywhere from the string on.
                for end in start..body.len() {
                    agree(&body[..end]);
                }
                // Each byte of the escape and its neighbours changed.
                for at in start + lead.saturating_sub(1)..start + lead + unit.len() + 2 {
                    for byte in [b'"', b'\\', b'u', b'x', 0x01] {
                        let mut altered = body.clone();
                        altered[at] = byte;
                        agree(&altered);
                    }
                }
                // Read while it arrives, in parts of several sizes.
                for step in [1, 7, 64, 100] {
                    let mut progress = Progress::default();
                    let mut end = 0;
                    while end < body.len() {
                        end = (end + step).min(body.len());
                        progress.advance(&body[..end]);
                    }
                    assert_eq!(progress.finish(&body), expected);
                }
            }
        }
        // The valid units (all but `\u12G4`, `\x` and the control bytes).
        assert_eq!(valid, (BLOCK + 8) * 12);
    }

    /// Pseudo-random lists of long strings of escapes' parts: both
    /// readings agree on each, whole and cut.
    #[test]
    fn both_readings_agree_on_random_long_strings() {
        let alphabet: &[&[u8]] = &[
            b"\\\"",
            b"\\\\",
            b"\\",
            b"\"",
            b"a",
            b"bcdefgh",
            b"\\u00e9",
            b"\\u0",
            b"\\n",
            b"\x01",
            b"\xc3\xa9",
            b" ",
        ];
        let mut state = 11;
        for _ in 0..3000 {
            let mut body = b"{\"jsons\": [\"".to_vec();
            let parts = 20 + crate::testing::splitmix64(&mut state) % 200;
            for _ in 0..parts {
                let pick = crate::testing::splitmix64(&mut state);
                // Mostly plain text and `\"`, as events are.
                let part = match pick % 64 {
                    0..=23 => alphabet[5],
                    24..=41 => alphabet[0],
                    42..=50 => alphabet[1],
                    51..=55 => alphabet[6],
                    56..=58 => alphabet[10],
                    _ => alphabet[(pick >> 8) as usize % alphabet.len()],
                };
                body.extend_from_slice(part);
            }
            body.extend_from_slice(b"\"]}");
            agree(&body);
            let step = 1 + crate::testing::splitmix64(&mut state) as usize % 300;
            for end in (0..body.len()).step_by(step) {
                agree(&body[..end]);
            }
        }
    }

    /// Timing of the whole reading of the figures' body, as `Progress`
    /// reads it while it arrives (256 KiB parts), best and median of 31:
    /// `cargo test --release --lib batch::tests::scan_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "a timing, run by hand in release"]
    fn scan_timing() {
        let body = figures_body(100_000);
        let mut times = Vec::new();
        for _ in 0..31 {
            let started = std::time::Instant::now();
            let mut progress = Progress::default();
            let mut end = 0;
            while end < body.len() {
                end = (end + 256 * 1024).min(body.len());
                progress.advance(&body[..end]);
            }
            assert_eq!(progress.finish(&body), Some(100_000));
            times.push(started.elapsed());
        }
        let whole: Vec<_> = (0..31)
            .map(|_| {
                let started = std::time::Instant::now();
                assert_eq!(jsons_len(std::hint::black_box(&body)), Some(100_000));
                started.elapsed()
            })
            .collect();
        for (name, mut times) in [("progress", times), ("whole", whole)] {
            times.sort();
            let mb = body.len() as f64 / 1e6;
            println!(
                "{name}: {mb:.1} MB, best {:?} ({:.2} GB/s), median {:?} ({:.2} GB/s)",
                times[0],
                mb / 1e3 / times[0].as_secs_f64(),
                times[15],
                mb / 1e3 / times[15].as_secs_f64()
            );
        }
    }

    /// Every prefix of well-formed bodies, and every body with one byte
    /// changed: both readings agree on each.
    #[test]
    fn both_readings_agree_on_cut_and_altered_bodies() {
        let bodies: [&[u8]; 3] = [
            br#"{"intake_key": "K\u00e9", "jsons": ["{\"a\":1,\"b\":[true,null]}", "x\\y", -1.5e-3, {"k": [[], {}]}]}"#,
            "{\"jsons\":[\"é😀\\ud83d\\ude00\"],\"z\":false}".as_bytes(),
            b" { \"a\" : [ 1 , 2 ] , \"jsons\" : [ \"\\/\" , 0 ] } ",
        ];
        let replacements = b"\"\\{}[],:0-+.eE aunl\x01\xff";
        for body in bodies {
            for end in 0..=body.len() {
                agree(&body[..end]);
            }
            for at in 0..body.len() {
                for &byte in replacements {
                    let mut altered = body.to_vec();
                    altered[at] = byte;
                    agree(&altered);
                }
            }
        }
    }
}
