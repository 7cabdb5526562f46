//! [`Json`]: a JSON value whose numbers are kept exactly, as Python's
//! `json` module keeps them: integers of any size, floats as Python prints them.

use std::fmt;
use std::str::FromStr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A JSON value read from a vendor's answer, as Python's `json.loads`
/// reads it: integers exact at any size (a 30-digit id stays that id, where
/// [`serde_json::Value`] would round it to a float), floats parsed to the
/// nearest `f64`, keys in document order (a repeated key keeps its first
/// place and its last value). It serializes back as Python's `json.dumps`
/// writes it ([`to_python_json`](Json::to_python_json)): the vendor's
/// numbers reach the platform unchanged.
///
/// ```
/// use sekoia_automation::vendor::Json;
///
/// let answer: Json = r#"{"id": 123456789012345678901234567890, "score": 1E2, "tags": ["a"]}"#.parse().unwrap();
/// assert_eq!(answer["id"].to_string(), "123456789012345678901234567890");
/// assert_eq!(
///     answer.to_python_json(),
///     r#"{"id": 123456789012345678901234567890, "score": 100.0, "tags": ["a"]}"#
/// );
/// assert_eq!(answer["tags"][0].as_str(), Some("a"));
/// assert!(answer["missing"].is_null());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exact.
    Number(JsonNumber),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in document order.
    Object(Vec<(String, Json)>),
}

/// A JSON number as Python holds it: an integer of any size, or a float.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonNumber {
    /// Python's `str()` of the number: the digits of an integer, the
    /// `repr` of a float.
    text: String,
    integer: bool,
}

impl JsonNumber {
    /// Whether it is an integer (no fraction or exponent in the document).
    pub fn is_integer(&self) -> bool {
        self.integer
    }

    /// The value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.integer.then(|| self.text.parse().ok()).flatten()
    }

    /// The value as an `f64` (rounded for large integers).
    pub fn as_f64(&self) -> f64 {
        self.text.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for JsonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {offset}: {detail}")]
#[non_exhaustive]
pub struct JsonError {
    /// Where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub detail: &'static str,
}

static NULL: Json = Json::Null;

impl Json {
    /// Parses a JSON document (UTF-8, surrounding whitespace allowed).
    ///
    /// # Errors
    ///
    /// [`JsonError`], with the byte offset of the problem, for what is not
    /// one JSON document.
    pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
        let mut parser = Parser {
            bytes,
            at: 0,
            depth: 0,
        };
        parser.skip_whitespace();
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.at != bytes.len() {
            return Err(parser.error("trailing characters after the value"));
        }
        Ok(value)
    }

    /// The value written as Python's `json.dumps` writes it (`", "` and
    /// `": "` separators, non-ASCII escaped), numbers exact.
    ///
    /// ```
    /// use sekoia_automation::vendor::Json;
    /// let value: Json = r#"{"a":[1,2.50],"é":null}"#.parse().unwrap();
    /// assert_eq!(value.to_python_json(), r#"{"a": [1, 2.5], "\u00e9": null}"#);
    /// ```
    pub fn to_python_json(&self) -> String {
        crate::wire::python_json::to_string(self).unwrap_or_default()
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// The member `key` of an object, to change in place.
    ///
    /// ```
    /// use sekoia_automation::vendor::Json;
    /// let mut event: Json = r#"{"user": {"name": "ada"}, "id": 123456789012345678901234567890}"#.parse().unwrap();
    /// if let Some(user) = event.get_mut("user") {
    ///     user.insert("domain", "corp");
    /// }
    /// event["source"] = Json::from("vendor");
    /// event.remove("user");
    /// assert_eq!(event.to_python_json(), r#"{"id": 123456789012345678901234567890, "source": "vendor"}"#);
    /// ```
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(members) => members
                .iter_mut()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Sets the member `key` of an object to `value`, in its place if the
    /// object has it (the old value is returned), else last, as Python's
    /// `dict[key] = value`. `null` becomes an object first; any other
    /// value is left as it is and `value` is returned back as `Err`.
    ///
    /// # Errors
    ///
    /// `Err(value)` when `self` is neither an object nor `null`.
    pub fn insert(&mut self, key: &str, value: impl Into<Json>) -> Result<Option<Json>, Json> {
        let value = value.into();
        if self.is_null() {
            *self = Json::Object(Vec::new());
        }
        let Json::Object(members) = self else {
            return Err(value);
        };
        match members.iter_mut().find(|(name, _)| name == key) {
            Some((_, old)) => Ok(Some(std::mem::replace(old, value))),
            None => {
                members.push((key.to_owned(), value));
                Ok(None)
            }
        }
    }

    /// Removes the member `key` of an object (Python's `dict.pop(key, None)`).
    pub fn remove(&mut self, key: &str) -> Option<Json> {
        let Json::Object(members) = self else {
            return None;
        };
        let index = members.iter().position(|(name, _)| name == key)?;
        Some(members.remove(index).1)
    }

    /// The value at a JSON pointer, to change in place.
    pub fn pointer_mut(&mut self, pointer: &str) -> Option<&mut Json> {
        let mut current = self;
        for token in pointer_tokens(pointer)? {
            current = match current {
                Json::Object(_) => current.get_mut(&token)?,
                Json::Array(items) => items.get_mut(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The items, to change in place, if it is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, to change in place, if it is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Vec<(String, Json)>> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The value, leaving `null` in its place.
    pub fn take(&mut self) -> Json {
        std::mem::take(self)
    }

    /// The value at a JSON pointer (`/data/0/id`); `""` is the whole value.
    pub fn pointer(&self, pointer: &str) -> Option<&Json> {
        let mut current = self;
        for token in pointer_tokens(pointer)? {
            current = match current {
                Json::Object(_) => current.get(&token)?,
                Json::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// The number as an `f64` (rounded for large integers), if it is one:
    /// what Python's arithmetic on it gives (`page["total"] / 100`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(number) => Some(number.as_f64()),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(number) => number.as_i64(),
            _ => None,
        }
    }

    /// The items, if it is an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if it is an object.
    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// Whether it is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// Replaces every integer above 2^64 with its decimal string, as the
    /// library's Shodan module does before returning vendor data
    /// (`sanitize_node`: `str(node) if node > pow(2, 64)`): 2^64 itself and
    /// negative integers stay numbers.
    ///
    /// ```
    /// use sekoia_automation::vendor::Json;
    /// let mut value: Json = "[18446744073709551617, 18446744073709551616, -99999999999999999999, 7]"
    ///     .parse()
    ///     .unwrap();
    /// value.stringify_big_integers();
    /// assert_eq!(
    ///     value.to_python_json(),
    ///     r#"["18446744073709551617", 18446744073709551616, -99999999999999999999, 7]"#
    /// );
    /// ```
    pub fn stringify_big_integers(&mut self) {
        /// 2^64, the bound of `sanitize_big_int`.
        const BOUND: &str = "18446744073709551616";
        match self {
            Json::Number(number)
                if number.integer
                    && !number.text.starts_with('-')
                    && (number.text.len(), number.text.as_str()) > (BOUND.len(), BOUND) =>
            {
                *self = Json::String(number.text.clone());
            }
            Json::Array(items) => items.iter_mut().for_each(Json::stringify_big_integers),
            Json::Object(members) => members
                .iter_mut()
                .for_each(|(_, value)| value.stringify_big_integers()),
            _ => {}
        }
    }

    /// Python's `str()` of the value: strings bare, `True`/`False`/`None`,
    /// numbers as Python prints them, containers as their `repr`.
    ///
    /// ```
    /// use sekoia_automation::vendor::Json;
    /// let value: Json = r#"[1180591620717411303424, 1E2, 1e400, 0.30000000000000004, "😀"]"#.parse().unwrap();
    /// let shown: Vec<String> = value.as_array().unwrap().iter().map(Json::to_python_str).collect();
    /// assert_eq!(shown, ["1180591620717411303424", "100.0", "inf", "0.30000000000000004", "😀"]);
    /// ```
    pub fn to_python_str(&self) -> String {
        match self {
            Json::String(text) => text.clone(),
            other => other.to_python_repr(),
        }
    }

    /// Python's `repr()` of the value.
    pub fn to_python_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    fn write_repr(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("None"),
            Json::Bool(true) => out.push_str("True"),
            Json::Bool(false) => out.push_str("False"),
            // A float beyond the range of a double is infinite, as Python's
            // `float` of it: `repr` writes `inf`.
            Json::Number(number) => out.push_str(match number.text.as_str() {
                "Infinity" if !number.integer => "inf",
                "-Infinity" if !number.integer => "-inf",
                "NaN" if !number.integer => "nan",
                text => text,
            }),
            Json::String(text) => out.push_str(&crate::wire::python_json::repr(
                &serde_json::Value::String(text.clone()),
            )),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write_repr(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&crate::wire::python_json::repr(&serde_json::Value::String(
                        key.clone(),
                    )));
                    out.push_str(": ");
                    value.write_repr(out);
                }
                out.push('}');
            }
        }
    }

    /// The [`serde_json::Value`] of `From<&Json>`.
    pub(crate) fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Json::Null => Value::Null,
            Json::Bool(flag) => Value::Bool(*flag),
            Json::Number(number) => {
                if let Some(small) = number.as_i64() {
                    small.into()
                } else if let Some(big) = number
                    .integer
                    .then(|| number.text.parse::<u64>().ok())
                    .flatten()
                {
                    big.into()
                } else {
                    serde_json::Number::from_f64(number.as_f64()).map_or(Value::Null, Value::Number)
                }
            }
            Json::String(text) => Value::String(text.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_value()))
                    .collect(),
            ),
        }
    }

    /// Python's truthiness: `null`, `false`, `0`, `0.0`, `""`, `[]` and `{}` are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(flag) => *flag,
            Json::Number(number) => number.as_f64() != 0.0,
            Json::String(text) => !text.is_empty(),
            Json::Array(items) => !items.is_empty(),
            Json::Object(members) => !members.is_empty(),
        }
    }

    /// The `Json` of `From<&serde_json::Value>`.
    pub(crate) fn from_value(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(flag) => Json::Bool(*flag),
            serde_json::Value::Number(number) => Json::Number(match number.as_f64() {
                Some(float) if number.is_f64() => JsonNumber {
                    text: crate::wire::python_json::python_float(float),
                    integer: false,
                },
                _ => JsonNumber {
                    text: number.to_string(),
                    integer: true,
                },
            }),
            serde_json::Value::String(text) => Json::String(text.clone()),
            serde_json::Value::Array(items) => {
                Json::Array(items.iter().map(Json::from_value).collect())
            }
            serde_json::Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), Json::from_value(value)))
                    .collect(),
            ),
        }
    }
}

/// Converts a [`serde_json::Value`] (whose numbers are already i64, u64 or
/// f64: they are kept as they are).
///
/// ```
/// use sekoia_automation::vendor::Json;
/// let json = Json::from(&serde_json::json!({"id": 7, "tags": ["a"]}));
/// assert_eq!(json["id"].to_string(), "7");
/// ```
/// The reference tokens of a JSON pointer (RFC 6901: `~1` is `/`, `~0` is
/// `~`); none for `""`, the whole value; `None` when it does not start
/// with `/`.
fn pointer_tokens(pointer: &str) -> Option<impl Iterator<Item = String> + '_> {
    let tokens = match pointer {
        "" => None,
        _ => Some(pointer.strip_prefix('/')?.split('/')),
    };
    Some(
        tokens
            .into_iter()
            .flatten()
            .map(|token| token.replace("~1", "/").replace("~0", "~")),
    )
}

impl From<&serde_json::Value> for Json {
    fn from(value: &serde_json::Value) -> Json {
        Json::from_value(value)
    }
}

/// Converts a [`serde_json::Value`], as `From<&serde_json::Value>`.
impl From<serde_json::Value> for Json {
    fn from(value: serde_json::Value) -> Json {
        Json::from_value(&value)
    }
}

/// Converts to a [`serde_json::Value`]: integers beyond 64 bits become the
/// nearest float there (a `Value` cannot hold them), so keep the `Json`
/// for what goes on the wire.
///
/// ```
/// use sekoia_automation::vendor::Json;
/// let json = Json::parse(br#"{"big": 123456789012345678901234567890, "n": 1}"#).unwrap();
/// let value = serde_json::Value::from(&json);
/// assert_eq!(value["n"], 1);
/// assert!(value["big"].is_f64());
/// ```
impl From<&Json> for serde_json::Value {
    fn from(json: &Json) -> serde_json::Value {
        json.to_value()
    }
}

/// Converts to a [`serde_json::Value`], as `From<&Json>`.
impl From<Json> for serde_json::Value {
    fn from(json: Json) -> serde_json::Value {
        json.to_value()
    }
}

impl std::ops::Index<&str> for Json {
    type Output = Json;
    /// The member, or `null` when missing or not an object.
    fn index(&self, key: &str) -> &Json {
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::Index<usize> for Json {
    type Output = Json;
    /// The item, or `null` when missing or not an array.
    fn index(&self, index: usize) -> &Json {
        self.as_array()
            .and_then(|items| items.get(index))
            .unwrap_or(&NULL)
    }
}

impl std::ops::IndexMut<&str> for Json {
    /// The member, inserted as `null` when missing (`null` becomes an
    /// object first), as `serde_json::Value`'s.
    ///
    /// # Panics
    ///
    /// When the value is neither an object nor `null`.
    fn index_mut(&mut self, key: &str) -> &mut Json {
        if self.get(key).is_none() && self.insert(key, Json::Null).is_err() {
            panic!("cannot set the member `{key}` of a JSON value that is not an object");
        }
        self.get_mut(key).expect("inserted above")
    }
}

impl std::ops::IndexMut<usize> for Json {
    /// The item.
    ///
    /// # Panics
    ///
    /// When the value is not an array or has no item `index`.
    fn index_mut(&mut self, index: usize) -> &mut Json {
        let length = self.as_array().map(<[Json]>::len);
        match self.as_array_mut().and_then(|items| items.get_mut(index)) {
            Some(item) => item,
            None => panic!("no item {index} in a JSON value of {length:?} items"),
        }
    }
}

impl From<&str> for Json {
    fn from(text: &str) -> Json {
        Json::String(text.to_owned())
    }
}

impl From<String> for Json {
    fn from(text: String) -> Json {
        Json::String(text)
    }
}

impl From<bool> for Json {
    fn from(value: bool) -> Json {
        Json::Bool(value)
    }
}

impl From<i64> for Json {
    fn from(value: i64) -> Json {
        Json::Number(JsonNumber {
            text: value.to_string(),
            integer: true,
        })
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
}

impl FromStr for Json {
    type Err = JsonError;
    fn from_str(text: &str) -> Result<Json, JsonError> {
        Json::parse(text.as_bytes())
    }
}

impl fmt::Display for Json {
    /// Compact JSON (`,` and `:` without spaces), numbers exact.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Any JSON (the schema `true`): a `Json` as an action's results is the
/// vendor's answer as it came.
impl schemars::JsonSchema for Json {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Json".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        true.into()
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(flag) => serializer.serialize_bool(*flag),
            Json::Number(number) if number.integer => {
                if let Ok(small) = number.text.parse::<i64>() {
                    serializer.serialize_i64(small)
                } else if let Ok(small) = number.text.parse::<u64>() {
                    serializer.serialize_u64(small)
                } else if let Ok(big) = number.text.parse::<i128>() {
                    serializer.serialize_i128(big)
                } else if let Ok(big) = number.text.parse::<u128>() {
                    serializer.serialize_u128(big)
                } else {
                    // Beyond 128 bits: the digits as they are.
                    serde_json::value::RawValue::from_string(number.text.clone())
                        .map_err(serde::ser::Error::custom)?
                        .serialize(serializer)
                }
            }
            Json::Number(number) => serializer.serialize_f64(number.as_f64()),
            Json::String(text) => serializer.serialize_str(text),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, detail: &'static str) -> JsonError {
        JsonError {
            offset: self.at,
            detail,
        }
    }

    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], value: Json) -> Result<Json, JsonError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        match self.bytes.get(self.at) {
            None => Err(self.error("unexpected end of the document")),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => self.nested(|parser| parser.array()),
            Some(b'{') => self.nested(|parser| parser.object()),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn nested(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested more than 512 levels deep"));
        }
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        self.at += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        let mut index: Option<std::collections::HashMap<String, usize>> = None;
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            self.skip_whitespace();
            let value = self.value()?;
            // A repeated key keeps its first place and takes the last value
            // (a Python dict). Small objects are searched, big ones indexed.
            if members.len() >= 16 && index.is_none() {
                index = Some(
                    members
                        .iter()
                        .enumerate()
                        .map(|(at, (key, _))| (key.clone(), at))
                        .collect(),
                );
            }
            let existing = match &index {
                Some(index) => index.get(&key).copied(),
                None => members.iter().position(|(name, _)| *name == key),
            };
            match existing {
                Some(at) => members[at].1 = value,
                None => {
                    if let Some(index) = &mut index {
                        index.insert(key.clone(), members.len());
                    }
                    members.push((key, value));
                }
            }
            self.skip_whitespace();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        let digits = |parser: &mut Self| {
            let from = parser.at;
            while parser.bytes.get(parser.at).is_some_and(u8::is_ascii_digit) {
                parser.at += 1;
            }
            parser.at - from
        };
        if self.bytes[self.at] == b'-' {
            self.at += 1;
        }
        let int_start = self.at;
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err(self.error("invalid number"));
        }
        let mut integer = true;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            integer = false;
            if digits(self) == 0 {
                return Err(self.error("invalid number: no digit after `.`"));
            }
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            integer = false;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number: no digit in the exponent"));
            }
        }
        // ASCII by construction.
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("0");
        let text = if integer {
            if text == "-0" {
                "0".to_string()
            } else {
                text.to_string()
            }
        } else {
            crate::wire::python_json::python_float(text.parse::<f64>().unwrap_or(f64::NAN))
        };
        Ok(Json::Number(JsonNumber { text, integer }))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        self.at += 4;
        Ok(hex)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|&byte| byte != b'"' && byte != b'\\' && byte >= 0x20)
            {
                self.at += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.at])
                    .map_err(|_| self.error("invalid UTF-8 in a string"))?,
            );
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escape = *self
                        .bytes
                        .get(self.at)
                        .ok_or_else(|| self.error("unexpected end in a string"))?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first)
                                && self.bytes[self.at..].starts_with(b"\\u")
                            {
                                let saved = self.at;
                                self.at += 2;
                                let second = self.hex4()?;
                                if (0xDC00..0xE000).contains(&second) {
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                } else {
                                    self.at = saved;
                                    first
                                }
                            } else {
                                first
                            };
                            // A lone surrogate (Python keeps it) becomes U+FFFD.
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unexpected end in a string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_python_does() {
        // python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))'
        let cases = [
            (
                r#"{"a":-0,"b":-0.0,"d":0.30000000000000004,"e":2.5e-7,"f":123456789012345678901234567890123456789012345}"#,
                r#"{"a": 0, "b": -0.0, "d": 0.30000000000000004, "e": 2.5e-07, "f": 123456789012345678901234567890123456789012345}"#,
            ),
            (
                r#"{"k":1,"k":2,"x":"\ud83d\ude00 \u00e9 \"q\""}"#,
                r#"{"k": 2, "x": "\ud83d\ude00 \u00e9 \"q\""}"#,
            ),
            (" [ 1.0 , 1e16 , 12345678.9 ] ", "[1.0, 1e+16, 12345678.9]"),
        ];
        for (input, expected) in cases {
            let value: Json = input.parse().unwrap();
            assert_eq!(
                crate::wire::python_json::to_string(&value).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            "",
            "01",
            "[1,]",
            "{\"a\" 1}",
            "\"\u{1}\"",
            "1.",
            "-",
            "[1] x",
            "tru",
        ] {
            assert!(Json::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(600) + &"]".repeat(600);
        assert!(Json::parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn big_objects_keep_first_places() {
        let mut text = String::from("{");
        for index in 0..40 {
            text.push_str(&format!("\"k{index}\": {index},"));
        }
        text.push_str("\"k3\": \"last\"}");
        let value: Json = text.parse().unwrap();
        let members = value.as_object().unwrap();
        assert_eq!(members.len(), 40);
        assert_eq!(members[3], ("k3".to_string(), Json::String("last".into())));
    }
}
