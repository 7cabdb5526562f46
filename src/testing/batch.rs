//! The local intake's reading of a `/batch` body: a JSON object whose
//! `jsons` member is a list, of which only the length is needed.
//!
//! One pass over the bytes that validates the whole document as the
//! platform's previous reading did (`serde_json` into a struct with a
//! `jsons: Vec<IgnoredAny>` field): strict JSON grammar, whitespace around,
//! other members of any kind ignored, a duplicate `jsons` refused, elements
//! of any kind counted, strings not checked for UTF-8 (a value that is only
//! skipped never was), member names decoded by `serde_json` itself. It
//! builds nothing and copies nothing, and skips string contents eight bytes
//! at a time. `Progress` reads a body while it arrives, so that a 10 MiB
//! batch is mostly read by the time its last byte is received. The `tests`
//! module checks that the readings agree with the previous one on a corpus
//! of well-formed and broken bodies, whole and cut anywhere.

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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero (exact).
fn zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH) + !HIGH) | word) & HIGH
}

/// The number of elements of the `jsons` list of an intake batch body;
/// `None` when the body is not a JSON object with exactly one `jsons`
/// member holding a list.
pub(crate) fn jsons_len(bytes: &[u8]) -> Option<usize> {
    let mut reader = Reader { bytes, at: 0 };
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
    /// The length received when the members before the list were last read.
    tried: usize,
}

impl Progress {
    /// Reads what can be read of `received`, the body's first bytes.
    pub(crate) fn advance(&mut self, received: &[u8]) {
        let (at, mut count) = match self.resume {
            Some(resume) => resume,
            // The members before the list, read again only once twice as
            // much has arrived (they are a few bytes, as the SDKs send them).
            None if received.len() >= 2 * self.tried.max(512) => {
                self.tried = received.len();
                match list_start(received) {
                    Some(at) => (at, 0),
                    None => return,
                }
            }
            None => return,
        };
        let mut reader = Reader {
            bytes: received,
            at,
        };
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
        let mut reader = Reader { bytes: body, at };
        let count = reader.list_rest(count)?;
        reader.members(Some(count), false)
    }
}

/// The index just after the `[` of the `jsons` list, once the members
/// before it are read; `None` when they are cut or invalid.
fn list_start(bytes: &[u8]) -> Option<usize> {
    let mut reader = Reader { bytes, at: 0 };
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
}

impl Reader<'_> {
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
    fn string(&mut self) -> Option<()> {
        let bytes = self.bytes;
        let mut at = self.at;
        // The high bit of the first byte of the word when a backslash just
        // before it escapes it.
        let mut carried = 0;
        // Eight bytes at a time. A word whose escapes are all `\"` or `\\`
        // (every quote of a JSON event is `\"`) is read at once: the bytes
        // escaped are those after a backslash that is not itself escaped,
        // when no two such backslashes are next to each other; any other
        // word (other escapes, runs of backslashes, control bytes) is read
        // byte by byte.
        while let Some(word) = bytes.get(at..at + 8) {
            let base = at;
            let value = u64::from_le_bytes(word.try_into().ok()?);
            let quote = zero_bytes(value ^ ONES.wrapping_mul(u64::from(b'"')));
            let backslash = zero_bytes(value ^ ONES.wrapping_mul(u64::from(b'\\')));
            let control = !((value & !HIGH) + 0x6060_6060_6060_6060) & !value & HIGH;
            if quote | backslash | control | carried == 0 {
                at += 8;
                continue;
            }
            let starts = backslash & !carried;
            if starts & (starts << 8) == 0 {
                let escaped = (starts << 8) | carried;
                let ends = quote & !escaped;
                // The bytes before the closing quote, if there is one.
                let before = if ends == 0 {
                    u64::MAX
                } else {
                    (ends & ends.wrapping_neg()) - 1
                };
                if (control | (escaped & !(quote | backslash))) & before == 0 {
                    if ends != 0 {
                        self.at = base + (ends.trailing_zeros() / 8) as usize + 1;
                        return Some(());
                    }
                    carried = (starts >> 63) << 7;
                    at += 8;
                    continue;
                }
            }
            if carried != 0 {
                at = escape_end(bytes, at)?;
                carried = 0;
            }
            match string_bytes(bytes, at, base + 8)? {
                Ok(after) => {
                    self.at = after;
                    return Some(());
                }
                Err(next) => at = next,
            }
        }
        if carried != 0 {
            at = escape_end(bytes, at)?;
        }
        // The string ends within the body, or the body is cut.
        self.at = string_bytes(bytes, at, usize::MAX)?.ok()?;
        Some(())
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
