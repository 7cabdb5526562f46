//! [`IntakeEvent`]: what [`push_events`](crate::ConnectorContext::push_events)
//! accepts, and the string each event becomes in the batch's `jsons` list
//! (PROTOCOL-connectors §2.1).
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
/// use sekoia_automation::{IntakeEvent, JsonEvent};
/// use serde_json::json;
///
/// let mut out = String::new();
/// json!({"a": "é\"x", "b": 1, "f": 1e16}).write_event(&mut out).unwrap();
/// assert_eq!(out, r#"{"a":"é\"x","b":1,"f":1e+16}"#);
/// out.clear();
/// "raw line é".write_event(&mut out).unwrap();
/// assert_eq!(out, "raw line é");
/// out.clear();
/// #[derive(serde::Serialize)]
/// struct Login { user: &'static str, ok: bool }
/// JsonEvent(Login { user: "ada", ok: true }).write_event(&mut out).unwrap();
/// assert_eq!(out, r#"{"user":"ada","ok":true}"#);
/// ```
pub trait IntakeEvent {
    /// Appends the string sent for this event to `out`.
    ///
    /// # Errors
    ///
    /// The value cannot be serialized (a map with non-string keys, a
    /// failing `Serialize` implementation): that event is not sent and is
    /// reported as unserializable, the others go on.
    fn write_event(&self, out: &mut String) -> Result<(), EventError>;
}

/// Why an event could not be written for the intake; its message becomes
/// the event's [`Refusal::Unserializable`](crate::Refusal::Unserializable).
///
/// An [`IntakeEvent`] written by hand refuses an event with
/// [`EventError::new`]:
///
/// ```
/// use sekoia_automation::{EventError, IntakeEvent};
///
/// /// A syslog line; an empty one is refused.
/// struct Line(String);
///
/// impl IntakeEvent for Line {
///     fn write_event(&self, out: &mut String) -> Result<(), EventError> {
///         if self.0.is_empty() {
///             return Err(EventError::new("an empty syslog line"));
///         }
///         out.push_str(&self.0);
///         Ok(())
///     }
/// }
///
/// let mut out = String::new();
/// let error = Line(String::new()).write_event(&mut out).unwrap_err();
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
/// use sekoia_automation::{IntakeEvent, JsonEvent};
/// let mut out = String::new();
/// JsonEvent(vec![1.5e-7, f64::NAN]).write_event(&mut out).unwrap();
/// assert_eq!(out, "[1.5e-7,null]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct JsonEvent<T>(pub T);

impl IntakeEvent for str {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for String {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Box<str> {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Cow<'_, str> {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        out.push_str(self);
        Ok(())
    }
}

impl IntakeEvent for Value {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        match self {
            Value::String(text) => {
                out.push_str(text);
                Ok(())
            }
            other => write_compact(other, out).map_err(EventError::new),
        }
    }
}

impl<T: Serialize> IntakeEvent for JsonEvent<T> {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        write_compact(&self.0, out).map_err(EventError::new)
    }
}

impl<T: IntakeEvent + ?Sized> IntakeEvent for &T {
    fn write_event(&self, out: &mut String) -> Result<(), EventError> {
        (**self).write_event(out)
    }
}

/// Appends `value` as `orjson.dumps(value)` writes it.
pub(crate) fn write_compact<T: Serialize + ?Sized>(
    value: &T,
    out: &mut String,
) -> Result<(), serde_json::Error> {
    // serde_json writes valid UTF-8 only; the buffer is the string's bytes.
    let mut bytes = std::mem::take(out).into_bytes();
    let start = bytes.len();
    let result = value.serialize(&mut Serializer::with_formatter(&mut bytes, OrjsonFormatter));
    if result.is_err() {
        bytes.truncate(start);
    }
    *out = String::from_utf8(bytes).unwrap_or_else(|error| {
        // Unreachable: serde_json only writes UTF-8; keep what was valid.
        let valid = error.utf8_error().valid_up_to();
        let mut bytes = error.into_bytes();
        bytes.truncate(valid);
        String::from_utf8(bytes).unwrap_or_default()
    });
    result
}

/// serde_json's compact output (whose escapes and shortest float digits are
/// orjson's) with orjson's explicit `+` in positive exponents.
#[derive(Debug, Clone, Copy, Default)]
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
        let mut out = String::new();
        value.write_event(&mut out).unwrap();
        out
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
            "[1E5, 1.50, 1e400, -1e400, -0, -0.0, 123456789.123456789, 1e16, 1e-7, 0.30000000000000004, 18446744073709551615, -9223372036854775808, 7]",
        )
        .unwrap();
        assert_eq!(
            compact(&parsed),
            "[100000.0,1.5,null,null,0,-0.0,123456789.12345679,1e+16,1e-7,0.30000000000000004,18446744073709551615,-9223372036854775808,7]"
        );
        // Beyond 64 bits orjson raises; ours keeps the digits.
        let big: Value =
            serde_json::from_str("[18446744073709551616, -9223372036854775809]").unwrap();
        assert_eq!(compact(&big), "[18446744073709551616,-9223372036854775809]");
    }

    #[test]
    fn nested_values_are_compact() {
        let mut out = String::new();
        write_compact(&json!({"n": null, "x": [2.5e-5, 1e22]}), &mut out).unwrap();
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
        let mut out = String::from("kept");
        let mut map = std::collections::BTreeMap::new();
        map.insert(vec![1u8], 1);
        assert!(JsonEvent(map).write_event(&mut out).is_err());
        assert_eq!(out, "kept");
    }
}
