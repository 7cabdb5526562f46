//! The local intake's reading of a `/batch` body: a JSON object whose
//! `jsons` member is a list, of which only the length is needed.
//!
//! `serde_json` into a struct with a `jsons: Vec<IgnoredAny>` field: strict
//! JSON grammar, whitespace around, other members of any kind ignored, a
//! duplicate `jsons` refused, elements of any kind counted and built into
//! nothing, strings not checked for UTF-8 (a value that is only skipped
//! never is). It reads the figures' 9.3 MB body of 100,000 events in a few
//! milliseconds, far less than any client takes to send it.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The number of elements of the `jsons` list of an intake batch body;
/// `None` when the body is not a JSON object with exactly one `jsons`
/// member holding a list.
pub(crate) fn jsons_len(bytes: &[u8]) -> Option<usize> {
    #[derive(Deserialize)]
    struct Batch {
        jsons: Vec<IgnoredAny>,
    }
    // A struct also deserializes from a JSON list of its fields' values.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<Batch>(bytes)
        .ok()
        .map(|batch| batch.jsons.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_bodies_are_counted() {
        // As the SDKs send them: escapes, astral characters, key first.
        assert_eq!(
            jsons_len(
                br#"{"intake_key": "K", "jsons": ["{\"a\":\"\u00e9\\\"x\"}", "raw \ud83d\ude00 line", "\"", "\\", ""]}"#
            ),
            Some(5)
        );
        assert_eq!(jsons_len(" {\"jsons\":[]}\r\n".as_bytes()), Some(0));
        // Raw UTF-8, astral included, and a lone surrogate escape in a value.
        assert_eq!(
            jsons_len("{\"jsons\": [\"é😀\", \"\\ud800\", \"\\uDC00x\"], \"k\": 1}".as_bytes()),
            Some(3)
        );
        // Elements of any kind are counted, as before.
        assert_eq!(
            jsons_len(
                br#"{"jsons": [1, -0.5e+3, null, true, false, {"a": [1, {}]}, [], [[]], "s"]}"#
            ),
            Some(9)
        );
        // Other members of any kind, before and after; a member name with
        // escapes is decoded.
        assert_eq!(
            jsons_len(br#"{"x": {"jsons": 1}, "json\u0073": ["a"], "y": [1E5, "\/"]}"#),
            Some(1)
        );
        // Invalid UTF-8 in a value is not looked at (it never was).
        assert_eq!(jsons_len(b"{\"jsons\": [\"\xff\xfe\"]}"), Some(1));
        // A long plain run, read by words.
        let long = format!(
            r#"{{"jsons": ["{}", "{}x"]}}"#,
            "a".repeat(1000),
            "b".repeat(7)
        );
        assert_eq!(jsons_len(long.as_bytes()), Some(2));
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
            assert_eq!(jsons_len(body), None);
        }
    }
}
