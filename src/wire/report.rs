//! The body of an action's finished PATCH ([protocol §3](crate::protocol#3-actions)).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::wire::logging::{LogRecord, format_action_logs};
use crate::wire::python_json;
use crate::wire::redact;

/// What an action reports when it finishes, validated and ready to send:
/// `{"status": "finished"}` plus `results`, `error`, `logs`, `outputs` and
/// `secrets`, each only when set, in the Python SDK's key order.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionReport {
    status: &'static str,
    /// The results, a JSON object or a list of objects. When they hold an
    /// integer beyond 64 bits (a float here), the body carries the exact
    /// text the action's results were written as instead.
    pub results: Option<Value>,
    /// The results as written, kept when a `Value` would round an integer.
    results_body: Option<String>,
    /// The error message, scrubbed of secrets.
    pub error: Option<String>,
    /// The logs, one line per record.
    pub logs: Option<String>,
    /// The branches set.
    pub outputs: Option<Map<String, Value>>,
    /// The module's secret values, when the action updated one.
    pub secrets: Option<Map<String, Value>>,
}

impl ActionReport {
    /// Validates the outcome's results and gathers the report.
    pub fn new(
        results: Option<serde_json::Result<Value>>,
        mut error: Option<String>,
        outputs: Vec<(String, bool)>,
        logs: &[LogRecord],
    ) -> Self {
        let results = match results {
            None | Some(Ok(Value::Null)) => None,
            Some(Ok(value)) if is_valid_results(&value) => Some(value),
            Some(Ok(value)) => {
                // Python writes `f"Results are invalid: '{results}'"`: str(),
                // so a string shows bare and anything else as its repr.
                let shown = match &value {
                    Value::String(text) => text.clone(),
                    other => python_json::repr(other),
                };
                error = Some(format!("Results are invalid: '{shown}'"));
                None
            }
            Some(Err(serialization)) => {
                error = Some(format!("Results are invalid: '{serialization}'"));
                None
            }
        };
        let outputs = (!outputs.is_empty()).then(|| {
            outputs
                .into_iter()
                .map(|(branch, active)| (branch, Value::Bool(active)))
                .collect()
        });
        ActionReport {
            status: "finished",
            results,
            results_body: None,
            error: error.map(|message| redact::scrub(&message).into_owned()),
            logs: format_action_logs(logs),
            outputs,
            secrets: None,
        }
    }

    /// Keeps the results as `text`, written as the wire carries them, when
    /// a `Value` could not hold one of their integers (see [`convert_results`]).
    pub(crate) fn with_results_text(mut self, text: Option<String>) -> Self {
        self.results_body = text.filter(|_| self.results.is_some());
        self
    }

    /// The report of an action that failed outside its own code (bad
    /// configuration, panic...): `An unexpected error occurred: <details>`.
    pub fn unexpected(details: &str, logs: &[LogRecord]) -> Self {
        ActionReport::new(
            None,
            Some(format!("An unexpected error occurred: {details}")),
            Vec::new(),
            logs,
        )
    }

    /// The same report without its results, failed with `error` (the
    /// platform refused the results' size).
    pub fn without_results(&self, error: String) -> Self {
        ActionReport {
            results: None,
            error: Some(redact::scrub(&error).into_owned()),
            ..self.clone()
        }
    }

    /// The JSON body, byte-identical to the Python SDK's.
    pub fn to_body(&self) -> serde_json::Result<Vec<u8>> {
        python_json::to_vec(self)
    }
}

/// An action's results for the report: the `Value` for the checks and, when
/// a `Value` cannot hold one of their integers (beyond 64 bits: `to_value`
/// fails on 128-bit ones and rounds larger ones to huge floats), the text
/// the wire carries, exact.
pub(crate) fn convert_results<R: Serialize>(
    results: &R,
) -> (serde_json::Result<Value>, Option<String>) {
    match serde_json::to_value(results) {
        Ok(value) if !has_huge_float(&value) => (Ok(value), None),
        _ => match python_json::to_string(results) {
            Ok(text) => {
                let value = serde_json::from_str::<Value>(&text);
                let exact = has_long_integer(&text).then_some(text);
                (value, exact)
            }
            Err(error) => (Err(error), None),
        },
    }
}

/// Whether a value holds a float beyond the 128-bit integers (where an
/// integer written as raw digits comes back from `to_value`).
fn has_huge_float(value: &Value) -> bool {
    match value {
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|float| number.is_f64() && float.abs() >= 1.7e38),
        Value::Array(items) => items.iter().any(has_huge_float),
        Value::Object(map) => map.values().any(has_huge_float),
        _ => false,
    }
}

/// Whether JSON text holds a run of 19 digits or more outside strings: an
/// integer that may not fit 64 bits (Python's float reprs have at most 17
/// significant digits, so such a run is always an integer).
fn has_long_integer(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut digits = 0;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'0'..=b'9' => {
                digits += 1;
                if digits >= 19 {
                    return true;
                }
            }
            b'"' => {
                in_string = true;
                digits = 0;
            }
            _ => digits = 0,
        }
    }
    false
}

impl Serialize for ActionReport {
    /// The Python SDK's key order; absent fields left out.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("status", self.status)?;
        match (&self.results, &self.results_body) {
            (Some(_), Some(text)) => {
                let raw = serde_json::value::RawValue::from_string(text.clone())
                    .map_err(serde::ser::Error::custom)?;
                map.serialize_entry("results", &raw)?;
            }
            (Some(results), None) => map.serialize_entry("results", results)?,
            (None, _) => {}
        }
        if let Some(error) = &self.error {
            map.serialize_entry("error", error)?;
        }
        if let Some(logs) = &self.logs {
            map.serialize_entry("logs", logs)?;
        }
        if let Some(outputs) = &self.outputs {
            map.serialize_entry("outputs", outputs)?;
        }
        if let Some(secrets) = &self.secrets {
            map.serialize_entry("secrets", secrets)?;
        }
        map.end()
    }
}

/// An object, or a list whose items are all objects.
fn is_valid_results(value: &Value) -> bool {
    match value {
        Value::Object(_) => true,
        Value::Array(items) => items.iter().all(Value::is_object),
        _ => false,
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn action_report_example() {
        use crate::Outcome;
        use serde_json::json;

        let report =
            (Outcome::success(json!({"ip": "1.2.3.4"})).activate("found")).into_report(&[]);
        assert_eq!(
            report.to_body().unwrap(),
            br#"{"status": "finished", "results": {"ip": "1.2.3.4"}, "outputs": {"found": true}}"#
        );

        // Results must be an object or a list of objects.
        let report = (Outcome::success("text")).into_report(&[]);
        assert_eq!(report.error.as_deref(), Some("Results are invalid: 'text'"));
        assert!(report.results.is_none());
    }

    #[test]
    fn untyped_results_map_is_accepted() {
        let mut map = serde_json::Map::new();
        map.insert("k".into(), serde_json::json!(1));
        let report = crate::Outcome::success(map).into_report(&[]);
        assert_eq!(report.results, Some(serde_json::json!({"k": 1})));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_reach_the_wire_exactly() {
        let json: crate::vendor::Json =
            r#"{"id": 123456789012345678901234567890, "ids": [18446744073709551616], "s": "12345678901234567890123"}"#
                .parse()
                .unwrap();
        let report = crate::Outcome::success(json).into_report(&[]);
        assert_eq!(
            String::from_utf8(report.to_body().unwrap()).unwrap(),
            r#"{"status": "finished", "results": {"id": 123456789012345678901234567890, "ids": [18446744073709551616], "s": "12345678901234567890123"}}"#
        );
        let beyond_128_bits: crate::vendor::Json =
            r#"{"n": 1234567890123456789012345678901234567890123, "f": 2.5}"#
                .parse()
                .unwrap();
        let report = crate::Outcome::success(beyond_128_bits).into_report(&[]);
        assert_eq!(
            String::from_utf8(report.to_body().unwrap()).unwrap(),
            r#"{"status": "finished", "results": {"n": 1234567890123456789012345678901234567890123, "f": 2.5}}"#
        );
        assert!(has_long_integer("[1234567890123456789]"));
        assert!(!has_long_integer(
            r#"["1234567890123456789", 0.30000000000000004]"#
        ));
        assert!(!has_long_integer(r#"["a\"1234567890123456789"]"#));
    }
}
