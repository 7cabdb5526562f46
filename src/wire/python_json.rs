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
        Value::Number(number) => out.push_str(&number.to_string()),
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
        ];
        for (value, expected) in cases {
            assert_eq!(to_string(&value).unwrap(), expected);
        }
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
