//! [`IntakeEvent`]: what [`push_events`](crate::ConnectorContext::push_events)
//! accepts, and the string each event becomes in the batch's `jsons` list
//! (docs/protocol.md §5, *One batch*).
//!
//! Strings are sent as they are (raw log lines are common); JSON values and
//! [`JsonEvent`]-wrapped serializable values become compact JSON as the Python
//! SDK's `orjson` writes it: no spaces, non-ASCII raw in UTF-8, control
//! characters as `\u00XX` (`\n`, `\t`... short), `/` and U+2028 not escaped,
//! floats in shortest form with an explicit exponent sign (`1e+16`,
//! `1.5e-7`), NaN and infinities as `null`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter, Serializer};

use crate::connector::chunk::{Lengths, lengths};
use crate::wire::python_json::PythonNumber;

/// An event for the intake: a string sent as it is, or a value sent as
/// compact JSON.
///
/// Implemented for `str`, `String`, `Cow<str>`, `Box<str>` (sent as they
/// are), [`serde_json::Value`] (a JSON string as it is, anything else as
/// compact JSON, as the Python SDK treats `str` and `dict`), [`JsonEvent`] (any
/// `Serialize` value as compact JSON) and references to them.
///
/// ```
/// use sekoia_automation::JsonEvent;
/// use sekoia_automation::connector::IntakeEvent;
/// use serde_json::json;
///
/// let event = json!({"a": "é\"x", "b": 1, "f": 1e16});
/// assert_eq!(event.to_event_string().unwrap(), r#"{"a":"é\"x","b":1,"f":1e+16}"#);
/// assert_eq!("raw line é".to_event_string().unwrap(), "raw line é");
/// #[derive(serde::Serialize)]
/// struct Login { user: &'static str, ok: bool }
/// let login = JsonEvent(Login { user: "ada", ok: true });
/// assert_eq!(login.to_event_string().unwrap(), r#"{"user":"ada","ok":true}"#);
/// ```
pub trait IntakeEvent {
    /// Writes the string sent for this event to `out`: text with
    /// [`EventWriter::push_str`] (or `write!`), a value as compact JSON with
    /// [`EventWriter::push_json`].
    ///
    /// # Errors
    ///
    /// The value cannot be serialized (a map with non-string keys, a
    /// failing `Serialize` implementation): that event is not sent and is
    /// reported as unserializable, the others go on.
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError>;

    /// The string sent for this event (what [`write_event`](Self::write_event)
    /// writes), for tests and logs: a push writes events straight into its
    /// requests, never through this.
    ///
    /// # Errors
    ///
    /// As [`write_event`](Self::write_event).
    fn to_event_string(&self) -> Result<String, EventError> {
        let mut bytes = Vec::new();
        self.write_event(&mut EventWriter::new(&mut bytes))?;
        // An event writer appends `str`s and serde_json's output only.
        String::from_utf8(bytes).map_err(EventError::new)
    }
}

/// Where an event's string is written: the request of the chunk being
/// filled, directly (a push copies no event and allocates nothing per
/// event).
///
/// A [`JsonEvent`] calls [`push_json`](Self::push_json), a string
/// [`push_str`](Self::push_str); an event written by hand may do both, or
/// use `write!`:
///
/// ```
/// use std::fmt::Write;
/// use sekoia_automation::connector::{EventError, EventWriter, IntakeEvent};
///
/// /// A syslog line with its priority.
/// struct Line { priority: u8, text: String }
///
/// impl IntakeEvent for Line {
///     fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
///         write!(out, "<{}>", self.priority).map_err(EventError::new)?;
///         out.push_str(&self.text);
///         Ok(())
///     }
/// }
///
/// let line = Line { priority: 13, text: "sshd: accepted".into() };
/// assert_eq!(line.to_event_string().unwrap(), "<13>sshd: accepted");
/// ```
pub struct EventWriter<'a> {
    /// The chunk's bytes: only `str`s and serde_json's output are
    /// appended, so what this writer added is UTF-8.
    out: &'a mut Vec<u8>,
    /// The lengths of what this writer appended.
    written: Lengths,
}

impl<'a> EventWriter<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        EventWriter {
            out,
            written: Lengths::EMPTY,
        }
    }

    /// Appends `text`.
    pub fn push_str(&mut self, text: &str) {
        self.written = self.written.then(lengths(text.as_bytes()));
        self.out.extend_from_slice(text.as_bytes());
    }

    /// Appends `value` as compact JSON, as the Python SDK's `orjson.dumps`
    /// writes it.
    ///
    /// # Errors
    ///
    /// The value cannot be serialized (a map with non-string keys, a
    /// failing `Serialize` implementation); nothing is appended then.
    pub fn push_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EventError> {
        let start = self.out.len();
        let result = value.serialize(&mut Serializer::with_formatter(
            &mut *self.out,
            OrjsonFormatter,
        ));
        if let Err(error) = result {
            self.out.truncate(start);
            return Err(EventError::new(error));
        }
        let json = lengths(&self.out[start..]);
        self.written = self.written.then(json);
        Ok(())
    }

    /// The lengths of what was written.
    pub(crate) fn lengths(&self) -> Lengths {
        self.written
    }
}

/// Shows the lengths of what was written, never the chunk's bytes (up to
/// 10 MiB of other events).
impl std::fmt::Debug for EventWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventWriter")
            .field("bytes", &self.written.bytes)
            .field("chars", &self.written.chars)
            .field("encoded", &self.written.encoded)
            .finish()
    }
}

impl std::fmt::Write for EventWriter<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

/// Why an event could not be written for the intake; its message becomes
/// the event's [`Refusal::Unserializable`](crate::connector::Refusal::Unserializable).
///
/// An [`IntakeEvent`] written by hand refuses an event with
/// [`EventError::new`]:
///
/// ```
/// use sekoia_automation::connector::{EventError, EventWriter, IntakeEvent};
///
/// /// A syslog line; an empty one is refused.
/// struct Line(String);
///
/// impl IntakeEvent for Line {
///     fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
///         if self.0.is_empty() {
///             return Err(EventError::new("an empty syslog line"));
///         }
///         out.push_str(&self.0);
///         Ok(())
///     }
/// }
///
/// let error = Line(String::new()).to_event_string().unwrap_err();
/// assert_eq!(error.to_string(), "the event cannot be written for the intake: an empty syslog line");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event cannot be written for the intake: {message}")]
pub struct EventError {
    message: String,
}

impl EventError {
    /// An error saying why the event cannot be written.
    pub fn new(message: impl std::fmt::Display) -> Self {
        EventError {
            message: message.to_string(),
        }
    }

    /// Why the event cannot be written.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A serializable value sent as compact JSON.
///
/// ```
/// use sekoia_automation::JsonEvent;
/// use sekoia_automation::connector::IntakeEvent;
/// let event = JsonEvent(vec![1.5e-7, f64::NAN]);
/// assert_eq!(event.to_event_string().unwrap(), "[1.5e-7,null]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct JsonEvent<T>(pub T);

impl IntakeEvent for str {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for String {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Box<str> {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Cow<'_, str> {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Value {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        match self {
            Value::String(text) => {
                out.push_str(text);
                Ok(())
            }
            other => out.push_json(other),
        }
    }
}

/// A vendor's JSON forwarded as it came: a string as it is, any other
/// value as compact JSON with its numbers exact (an integer beyond 64 bits
/// keeps its digits, without the `exact-numbers` feature).
///
/// ```
/// use sekoia_automation::connector::IntakeEvent;
/// use sekoia_automation::vendor::Json;
/// let event: Json = r#"{"id": 123456789012345678901234567890, "x": 1E5}"#.parse().unwrap();
/// assert_eq!(
///     event.to_event_string().unwrap(),
///     r#"{"id":123456789012345678901234567890,"x":100000.0}"#
/// );
/// let line: Json = r#""raw line""#.parse().unwrap();
/// assert_eq!(line.to_event_string().unwrap(), "raw line");
/// ```
impl IntakeEvent for crate::vendor::Json {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        match self {
            crate::vendor::Json::String(text) => {
                out.push_str(text);
                Ok(())
            }
            other => out.push_json(other),
        }
    }
}

impl<T: Serialize> IntakeEvent for JsonEvent<T> {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        out.push_json(&self.0)
    }
}

impl<T: IntakeEvent + ?Sized> IntakeEvent for &T {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        (**self).write_event(out)
    }
}

/// `value` as `orjson.dumps(value)` writes it.
pub(crate) fn compact_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut bytes = Vec::new();
    value.serialize(&mut Serializer::with_formatter(&mut bytes, OrjsonFormatter))?;
    // serde_json writes UTF-8 only.
    String::from_utf8(bytes).map_err(serde::ser::Error::custom)
}

/// serde_json's compact output (whose escapes and shortest float digits are
/// orjson's) with orjson's explicit `+` in positive exponents.
struct OrjsonFormatter;

impl Formatter for OrjsonFormatter {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut digits = Vec::with_capacity(24);
        CompactFormatter.write_f64(&mut digits, value)?;
        write_with_exponent_sign(writer, &digits)
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        // orjson widens float32 values (numpy aside) to Python floats.
        self.write_f64(writer, f64::from(value))
    }

    /// A number kept as its text (a [`Value`] parsed from JSON keeps its
    /// numbers exactly): written as Python's `json.loads` then `orjson`
    /// would write it. An integer is a Python `int`, its digits kept (`-0`
    /// is `0`; beyond 64 bits orjson raises, ours sends the digits); any
    /// other number is a Python `float`: the nearest double in shortest
    /// form (`1E5` → `100000.0`, `1.50` → `1.5`), `null` when out of range.
    fn write_number_str<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &str,
    ) -> io::Result<()> {
        match PythonNumber::read(value) {
            PythonNumber::Int("-0") => writer.write_all(b"0"),
            PythonNumber::Int(digits) => writer.write_all(digits.as_bytes()),
            PythonNumber::Float(float) if float.is_finite() => self.write_f64(writer, float),
            PythonNumber::Float(_) => writer.write_all(b"null"),
        }
    }
}

fn write_with_exponent_sign<W: ?Sized + Write>(writer: &mut W, digits: &[u8]) -> io::Result<()> {
    match digits.iter().position(|&b| b == b'e') {
        Some(at) if digits.get(at + 1).is_some_and(u8::is_ascii_digit) => {
            writer.write_all(&digits[..=at])?;
            writer.write_all(b"+")?;
            writer.write_all(&digits[at + 1..])
        }
        _ => writer.write_all(digits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compact(value: &Value) -> String {
        value.to_event_string().unwrap()
    }

    #[test]
    fn floats_are_written_as_orjson_3_13_writes_them() {
        // Expected bytes from orjson 3.13.0 (`orjson.dumps(v)`).
        let cases = [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-7, "1.5e-7"),
            (1e-5, "0.00001"),
            (0.0001, "0.0001"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.2345678901234568e16, "1.2345678901234568e+16"),
            (2.5e-5, "0.000025"),
            (1e-7, "1e-7"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(compact(&json!(value)), expected, "{value:e}");
        }
    }

    #[test]
    fn numbers_parsed_from_text_are_written_as_python_reads_and_orjson_writes_them() {
        // json.loads then orjson.dumps, Python 3 / orjson 3.13.0.
        let parsed: Value = serde_json::from_str(
            "[1E5, 1.50, -0.0, 123456789.123456789, 1e16, 1e-7, 0.30000000000000004, 18446744073709551615, -9223372036854775808, 7]",
        )
        .unwrap();
        assert_eq!(
            compact(&parsed),
            "[100000.0,1.5,-0.0,123456789.12345679,1e+16,1e-7,0.30000000000000004,18446744073709551615,-9223372036854775808,7]"
        );
    }

    /// The numbers a `Value` holds as their text only with `exact-numbers`
    /// (serde_json's `arbitrary_precision`): without it, serde_json refuses
    /// `1e400`, reads `-0` as `-0.0` and integers beyond 64 bits as floats.
    #[cfg(feature = "exact-numbers")]
    #[test]
    fn numbers_kept_as_text_are_written_as_python_reads_and_orjson_writes_them() {
        let parsed: Value = serde_json::from_str("[1e400, -1e400, -0, 7]").unwrap();
        assert_eq!(compact(&parsed), "[null,null,0,7]");
        // Beyond 64 bits orjson raises; ours keeps the digits.
        let big: Value =
            serde_json::from_str("[18446744073709551616, -9223372036854775809]").unwrap();
        assert_eq!(compact(&big), "[18446744073709551616,-9223372036854775809]");
    }

    #[test]
    fn nested_values_are_compact() {
        let out = compact_json(&json!({"n": null, "x": [2.5e-5, 1e22]})).unwrap();
        assert_eq!(out, r#"{"n":null,"x":[0.000025,1e+22]}"#);
    }

    #[test]
    fn strings_are_escaped_as_orjson_escapes_them() {
        // orjson 3.13: b'{"a":"\\u0001\\n\xe2\x80\xa8/\xc3\xa9\xf0\x9f\x98\x80\x7f"}'
        assert_eq!(
            compact(&json!({"a": "\u{1}\n\u{2028}/é😀\u{7f}"})),
            "{\"a\":\"\\u0001\\n\u{2028}/é😀\u{7f}\"}"
        );
    }

    #[test]
    fn a_json_string_is_sent_as_it_is_and_an_unserializable_value_writes_nothing() {
        assert_eq!(compact(&json!("not json {")), "not json {");
        let mut out = b"kept".to_vec();
        let mut map = std::collections::BTreeMap::new();
        map.insert(vec![1u8], 1);
        let mut writer = EventWriter::new(&mut out);
        assert!(JsonEvent(map).write_event(&mut writer).is_err());
        assert_eq!(
            writer.lengths(),
            Lengths {
                bytes: 0,
                chars: 0,
                encoded: 2
            }
        );
        assert_eq!(out, b"kept");
    }

    /// The lengths an event writer adds up over its writes are those of
    /// all the bytes written: every escape, quote, control, DEL and
    /// non-ASCII piece in values and keys, raw JSON fragments, and mixed
    /// writes.
    #[test]
    fn the_lengths_added_up_over_writes_are_those_of_the_bytes_written() {
        let pieces = [
            "a", "\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", "é", "€", "😀", "\u{2028}", "/", "",
        ];
        let raw = serde_json::value::RawValue::from_string(
            "{\"k\": [1, \"q\\\"\\u00e9\"],\n\t\"é\": null}".to_string(),
        )
        .unwrap();
        let check = |write: &dyn Fn(&mut EventWriter<'_>)| {
            let mut out = b"before".to_vec();
            let mut writer = EventWriter::new(&mut out);
            write(&mut writer);
            let counted = writer.lengths();
            let written = &out[6..];
            assert_eq!(
                counted,
                lengths(written),
                "{:?}",
                String::from_utf8_lossy(written)
            );
        };
        for first in pieces {
            for second in pieces {
                let text = format!("{first}x{second}");
                let value = json!({ &text: [&text, 1.5, -2, null, true], "n": {"m": &text} });
                check(&|writer| writer.push_json(&value).unwrap());
                check(&|writer| writer.push_str(&text));
                check(&|writer| {
                    use std::fmt::Write;
                    writer.push_str(&text);
                    writer.push_json(&value).unwrap();
                    write!(writer, "{text}{}", 7).unwrap();
                });
            }
        }
        check(&|writer| writer.push_json(&raw).unwrap());
        check(&|writer| {
            writer
                .push_json(&json!({"raw": &*raw, "big": 1e300, "nan": f64::NAN}))
                .unwrap()
        });
        let mut keyed = std::collections::BTreeMap::new();
        keyed.insert(7_i64, "é");
        check(&|writer| writer.push_json(&keyed).unwrap());
        check(&|writer| writer.push_json(&'"').unwrap());
    }

    #[test]
    fn a_writer_shows_its_lengths_not_the_chunk() {
        let mut out = b"other events".to_vec();
        let mut writer = EventWriter::new(&mut out);
        writer.push_str("é");
        assert_eq!(
            format!("{writer:?}"),
            "EventWriter { bytes: 2, chars: 1, encoded: 8 }"
        );
    }
}
