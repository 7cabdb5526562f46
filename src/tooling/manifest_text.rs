//! The text of a manifest file: how it is written ([`TextStyle`]) and how
//! an existing file is rewritten with only its changed top-level values
//! replaced ([`rewrite`]), so that a regenerated file's diff shows what the
//! code changed and nothing else.

use serde_json::{Map, Value};

/// How a JSON file is written: what an existing file's text shows, so that
/// a rewritten file keeps its style.
///
/// ```
/// use sekoia_automation::unversioned::generate::TextStyle;
/// use serde_json::json;
///
/// // As Python's `json.dumps(manifest, indent=4)` writes it: no final
/// // newline, non-ASCII characters escaped.
/// let style = TextStyle::of("{\n    \"name\": \"Caf\\u00e9\"\n}");
/// assert_eq!(style.render(&json!({"name": "Thé 🍵"})), "{\n    \"name\": \"Th\\u00e9 \\ud83c\\udf75\"\n}");
/// assert_eq!(TextStyle::default().render(&json!({"name": "Thé"})), "{\n  \"name\": \"Thé\"\n}\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TextStyle {
    /// One level of indentation.
    pub indent: String,
    /// Whether the text ends with a newline.
    pub final_newline: bool,
    /// Whether characters beyond ASCII are written as `\uXXXX` escapes (the
    /// default of Python's `json.dumps`).
    pub ascii_escapes: bool,
}

impl Default for TextStyle {
    /// Two spaces, a final newline, UTF-8 as it is.
    fn default() -> Self {
        TextStyle {
            indent: "  ".into(),
            final_newline: true,
            ascii_escapes: false,
        }
    }
}

impl TextStyle {
    /// The style of an existing file: the indent of its first indented
    /// line (two spaces if none), its final newline, and escapes when the
    /// text is ASCII and holds `\u` escapes.
    pub fn of(text: &str) -> Self {
        let indent = text
            .lines()
            .skip(1)
            .map(|line| &line[..line.len() - line.trim_start().len()])
            .find(|indent| !indent.is_empty())
            .unwrap_or("  ")
            .to_string();
        TextStyle {
            indent,
            final_newline: text.ends_with('\n'),
            ascii_escapes: text.is_ascii() && text.contains("\\u"),
        }
    }

    /// The text of `value` in this style.
    pub fn render(&self, value: &Value) -> String {
        use serde::Serialize;
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(self.indent.as_bytes());
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        let mut text = match value.serialize(&mut serializer) {
            Ok(()) => String::from_utf8(bytes).unwrap_or_else(|_| value.to_string()),
            Err(_) => value.to_string(),
        };
        if self.ascii_escapes && !text.is_ascii() {
            // Outside strings, JSON text is ASCII: only string contents
            // are escaped.
            let mut escaped = String::with_capacity(text.len() + 16);
            for character in text.chars() {
                if character.is_ascii() {
                    escaped.push(character);
                } else {
                    let mut units = [0u16; 2];
                    for unit in character.encode_utf16(&mut units) {
                        escaped.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
            text = escaped;
        }
        if self.final_newline {
            text.push('\n');
        }
        text
    }
}

impl TextStyle {
    /// `value` as it appears one level deep (a top-level member's value):
    /// continuation lines indented once more, no final newline.
    fn render_member(&self, value: &Value) -> String {
        let style = TextStyle {
            final_newline: false,
            ..self.clone()
        };
        style
            .render(value)
            .replace('\n', &format!("\n{}", self.indent))
    }
}

/// One top-level member of an object's text: where its value is.
struct Member {
    key: String,
    /// Where the member starts (its key's opening quote).
    start: usize,
    /// Where its value starts and ends.
    value: std::ops::Range<usize>,
}

/// `text` (whose content is `old`) with the top-level values that differ
/// in `new` replaced, the keys only in `new` added at the end and the keys
/// no longer in `new` removed; every other byte kept. `None` when the text
/// cannot be followed, or when `new` does not keep `old`'s key order.
pub(crate) fn rewrite(
    text: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Option<String> {
    let (members, closing) = top_level_members(text)?;
    let kept: Vec<&String> = old.keys().filter(|key| new.contains_key(*key)).collect();
    if !new.keys().take(kept.len()).eq(kept.iter().copied()) {
        return None;
    }
    let style = TextStyle::of(text);
    let mut result = String::with_capacity(text.len());
    let mut position = 0;
    let mut last_kept_end = None;
    for (index, member) in members.iter().enumerate() {
        match new.get(&member.key) {
            None => {
                // Removed with the separator before it (or after it, for
                // the first member).
                let from = last_kept_end.unwrap_or(member.start);
                result.push_str(&text[position..from]);
                position = match (last_kept_end, members.get(index + 1)) {
                    (None, Some(next)) => next.start,
                    _ => member.value.end,
                };
            }
            Some(value) => {
                if !old
                    .get(&member.key)
                    .is_some_and(|old| same_json(old, value))
                {
                    result.push_str(&text[position..member.value.start]);
                    result.push_str(&style.render_member(value));
                    position = member.value.end;
                }
                last_kept_end = Some(member.value.end);
            }
        }
    }
    let added: Vec<(&String, &Value)> = new
        .iter()
        .filter(|(key, _)| !old.contains_key(*key))
        .collect();
    if !added.is_empty() {
        let end = last_kept_end.unwrap_or(closing);
        result.push_str(&text[position..end]);
        for (number, (key, value)) in added.iter().enumerate() {
            if last_kept_end.is_some() || number > 0 {
                result.push(',');
            }
            result.push('\n');
            result.push_str(&style.indent);
            result.push_str(&style.render_member(&Value::String(key.to_string())));
            result.push_str(": ");
            result.push_str(&style.render_member(value));
        }
        if last_kept_end.is_none() {
            result.push('\n');
        }
        position = end;
    }
    result.push_str(&text[position..]);
    Some(result)
}

/// Whether two JSON values say the same thing. Numbers are compared by
/// value, not by their text (`exact-numbers` keeps the text: `-1.5e3`
/// and `-1500.0` are the same float), but an integer never equals a float,
/// as Python's `json.dumps` writes `1` and `1.0` differently.
fn same_json(a: &Value, b: &Value) -> bool {
    fn is_integer(text: &str) -> bool {
        !text.contains(['.', 'e', 'E'])
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.to_string(), y.to_string());
            match (is_integer(&x), is_integer(&y)) {
                (true, true) => x == y,
                (false, false) => x.parse::<f64>().ok() == y.parse::<f64>().ok(),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_json(vx, vy))
        }
        _ => a == b,
    }
}

/// The top-level members of an object's text and the position of its
/// closing brace.
fn top_level_members(text: &str) -> Option<(Vec<Member>, usize)> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    let mut members = Vec::new();
    loop {
        at = skip_space(bytes, at);
        match bytes.get(at)? {
            b'}' if members.is_empty() => return Some((members, at)),
            b'"' => {}
            _ => return None,
        }
        let start = at;
        let key_end = skip_string(bytes, at)?;
        let key: String = serde_json::from_str(&text[start..key_end]).ok()?;
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value_start = skip_space(bytes, at + 1);
        let value_end = skip_value(bytes, value_start)?;
        members.push(Member {
            key,
            start,
            value: value_start..value_end,
        });
        at = skip_space(bytes, value_end);
        match bytes.get(at)? {
            b',' => at += 1,
            b'}' => return Some((members, at)),
            _ => return None,
        }
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The end of the string starting at `at` (its opening quote).
fn skip_string(bytes: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        match bytes.get(at)? {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
}

/// The end of the value starting at `at`.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut index = at;
            loop {
                match bytes.get(index)? {
                    b'"' => {
                        index = skip_string(bytes, index)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(index + 1);
                        }
                    }
                    _ => {}
                }
                index += 1;
            }
        }
        _ => {
            let mut index = at;
            while bytes.get(index).is_some_and(|byte| {
                !matches!(byte, b',' | b'}' | b']') && !byte.is_ascii_whitespace()
            }) {
                index += 1;
            }
            (index > at).then_some(index)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;
    use serde_json::{Value, json};

    fn run(text: &str, new: Value) -> Option<String> {
        let old: Value = serde_json::from_str(text).unwrap();
        rewrite(text, old.as_object().unwrap(), new.as_object().unwrap())
    }

    #[test]
    fn only_the_changed_values_are_rewritten() {
        let text = "{\n    \"b\": [\"x\", \"y\"],\n    \"a\": 1\n}";
        assert_eq!(
            run(text, json!({"b": ["x", "y"], "a": {"k": 2}, "c": true})).unwrap(),
            "{\n    \"b\": [\"x\", \"y\"],\n    \"a\": {\n        \"k\": 2\n    },\n    \"c\": true\n}"
        );
    }

    #[test]
    fn a_removed_member_takes_its_separator() {
        let text = "{\n  \"a\": 1,\n  \"b\": [1, 2],\n  \"c\": true\n}\n";
        assert_eq!(
            run(text, json!({"a": 1, "b": [1, 2]})).unwrap(),
            "{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n"
        );
        assert_eq!(
            run(text, json!({"b": [1, 2], "c": true})).unwrap(),
            "{\n  \"b\": [1, 2],\n  \"c\": true\n}\n"
        );
    }

    #[test]
    fn members_are_added_to_an_empty_object() {
        assert_eq!(
            run("{}", json!({"a": "x"})).unwrap(),
            "{\n  \"a\": \"x\"\n}"
        );
    }

    #[test]
    fn escapes_and_strings_with_brackets_are_followed() {
        let text = "{\"t\": \"a \\\" } ] \\u00e9\", \"n\": -1.5e3, \"o\": {\"k\": \"}\"}}";
        assert_eq!(
            run(
                text,
                json!({"t": "a \" } ] \u{e9}", "n": -1.5e3, "o": {"k": 1}})
            )
            .unwrap(),
            "{\"t\": \"a \\\" } ] \\u00e9\", \"n\": -1.5e3, \"o\": {\n    \"k\": 1\n  }}"
        );
    }

    #[test]
    fn a_new_key_order_or_unreadable_text_gives_up() {
        assert_eq!(run("{\"a\": 1, \"b\": 2}", json!({"b": 2, "a": 1})), None);
        let old = json!({"a": 1});
        assert_eq!(
            rewrite("[1]", old.as_object().unwrap(), old.as_object().unwrap()),
            None
        );
    }
}
