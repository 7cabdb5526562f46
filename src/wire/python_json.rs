//! JSON exactly as the Python SDK puts it on the wire.
//!
//! `requests`' `json=` and `json.dumps` write `", "` and `": "` separators and
//! escape every character outside printable ASCII (`ensure_ascii`). Bodies
//! written with [`to_vec`] are byte-identical to the Python SDK's, so the
//! platform cannot tell the two apart. [`repr`] prints a JSON value as Python's
//! `repr()` would, for the few messages that quote a value.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// Serializes `value` as Python's `json.dumps(value)` would.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer::with_formatter(&mut out, PythonFormatter))?;
    Ok(out)
}

/// Serializes `value` as Python's `json.dumps(value)` would, into a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    // The formatter only writes ASCII.
    to_vec(value).map(|bytes| String::from_utf8(bytes).expect("ensure_ascii output is ASCII"))
}

/// The `serde_json` formatter behind [`to_vec`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (index, character) in fragment.char_indices() {
            if (' '..='~').contains(&character) {
                continue;
            }
            writer.write_all(&bytes[start..index])?;
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + character.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        // Python floats are doubles: an f32 is widened, as Python would see it.
        self.write_f64(writer, f64::from(value))
    }

    /// A number carried as its text (`arbitrary_precision`): see
    /// [`python_number`].
    fn write_number_str<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        value: &str,
    ) -> io::Result<()> {
        writer.write_all(python_number(value).as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        let text: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(writer, "\\u{byte:04x}"),
        };
        writer.write_all(text)
    }
}

/// A JSON number's text as Python writes the number it parses to: an
/// integer as is (Python's ints have no limit), any other number as the
/// float it is (`1E5` → `100000.0`, `9007199254740993.0` →
/// `9007199254740992.0`).
pub fn python_number(text: &str) -> String {
    match PythonNumber::read(text) {
        PythonNumber::Float(float) if float.is_finite() => python_float(float),
        _ => text.to_string(),
    }
}

/// A JSON number's text as Python's `json.loads` reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PythonNumber<'a> {
    /// An `int`: its digits, of any size.
    Int(&'a str),
    /// A `float`: the nearest double, infinite beyond its range.
    Float(f64),
}

impl<'a> PythonNumber<'a> {
    /// Reads `text`, a JSON number: digits alone make an `int`, a fraction
    /// or an exponent a `float`.
    pub(crate) fn read(text: &'a str) -> Self {
        let integer = text
            .strip_prefix('-')
            .unwrap_or(text)
            .bytes()
            .all(|b| b.is_ascii_digit());
        match text.parse::<f64>() {
            Ok(float) if !integer => PythonNumber::Float(float),
            _ => PythonNumber::Int(text),
        }
    }
}

/// A float as Python's `repr()` (and `json.dumps`) writes it: the shortest
/// digits that read back to the same value, in fixed notation when the
/// decimal exponent is from -4 to 15, else as `1e+22` / `1e-05`.
pub fn python_float(value: f64) -> String {
    if !value.is_finite() {
        // json.dumps writes these (the platform refuses them): never sent,
        // serde_json writes `null` before this is called.
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: `2.5566666666666666e2`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exponent) {
        let text = if exponent >= 0 {
            let point = exponent as usize + 1;
            if digits.len() <= point {
                format!("{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exponent - 1) as usize))
        };
        format!("{sign}{text}")
    } else {
        let mantissa = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exponent_sign}{:02}", exponent.abs())
    }
}

/// Prints a JSON value as Python's `repr()` prints the equivalent object.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

fn write_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => out.push_str(&python_number(&number.to_string())),
        Value::String(text) => write_str_repr(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_str_repr(key, out);
                out.push_str(": ");
                write_repr(item, out);
            }
            out.push('}');
        }
    }
}

fn write_str_repr(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        // Expected strings produced by CPython 3.11 `json.dumps`.
        let cases = [
            (
                json!({"a": [1, 2.5, null], "b": {}}),
                r#"{"a": [1, 2.5, null], "b": {}}"#,
            ),
            (
                json!("tab\t\u{1} del\u{7f} / \"q\" \\"),
                r#""tab\t\u0001 del\u007f / \"q\" \\""#,
            ),
            (json!("emoji 😀 ü"), r#""emoji \ud83d\ude00 \u00fc""#),
            (json!([]), "[]"),
            (
                json!([1e16, 1.5e-5, 0.0001, 100.0, 1e22]),
                "[1e+16, 1.5e-05, 0.0001, 100.0, 1e+22]",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(to_string(&value).unwrap(), expected);
        }
    }

    #[test]
    fn floats_as_python_repr() {
        assert_eq!(python_float(100.0), "100.0");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e-5), "1.5e-05");
        assert_eq!(python_float(-0.0), "-0.0");
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(repr(&json!("a'b\"c")), r#"'a\'b"c'"#);
        assert_eq!(repr(&json!(42)), "42");
        assert_eq!(repr(&json!("line\n")), r"'line\n'");
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn numbers_as_python_writes_them() {
        use crate::wire::python_json::{python_float, python_number, to_string};
        assert_eq!(
            python_number("12345678901234567890123"),
            "12345678901234567890123"
        );
        assert_eq!(python_number("1E5"), "100000.0");
        assert_eq!(python_float(255.66666666666666), "255.66666666666666");
        assert_eq!(python_float(1e22), "1e+22");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(123456789012345.6), "123456789012345.6");
        assert_eq!(python_float(0.0001), "0.0001");
        assert_eq!(python_float(0.00001), "1e-05");
        assert_eq!(python_float(-2.5e-300), "-2.5e-300");
        assert_eq!(python_float(100.0), "100.0");
        assert_eq!(python_float(-0.0), "-0.0");
        // Expected strings produced by CPython 3.11 `json.dumps(json.loads(text))`.
        let text = r#"[255.66666666666666, 9007199254740993.0, 12345678901234567890123, -98765432109876543210987654321, 0.1, 1E5, 1e22, 1e-7, 5e-324, 1.7976931348623157e308, 18446744073709551615, -9223372036854775808, 3]"#;
        let python = r#"[255.66666666666666, 9007199254740992.0, 12345678901234567890123, -98765432109876543210987654321, 0.1, 100000.0, 1e+22, 1e-07, 5e-324, 1.7976931348623157e+308, 18446744073709551615, -9223372036854775808, 3]"#;
        // The crate's exact JSON keeps every number, whatever the features.
        let exact: crate::vendor::Json = text.parse().unwrap();
        assert_eq!(to_string(&exact).unwrap(), python);
        // A `serde_json::Value` does with `exact-numbers` (arbitrary_precision).
        #[cfg(feature = "exact-numbers")]
        {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(to_string(&value).unwrap(), python);
        }
        assert_eq!(to_string(&[1e22f64, 0.5]).unwrap(), "[1e+22, 0.5]");
    }

    #[test]
    fn repr_example() {
        use crate::wire::python_json::repr;
        use serde_json::json;
        assert_eq!(repr(&json!("abc")), "'abc'");
        assert_eq!(
            repr(&json!([1, true, null, {"k": "it's"}])),
            r#"[1, True, None, {'k': "it's"}]"#
        );
    }

    #[test]
    fn to_string_example() {
        assert_eq!(
            crate::wire::python_json::to_string(&[1, 2]).unwrap(),
            "[1, 2]"
        );
    }

    #[test]
    fn to_vec_example() {
        use serde_json::json;
        let body = crate::wire::python_json::to_vec(
            &json!({"status": "finished", "outputs": {"é": true}}),
        )
        .unwrap();
        assert_eq!(
            body,
            br#"{"status": "finished", "outputs": {"\u00e9": true}}"#
        );
    }
}
