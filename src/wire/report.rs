//! The body of an action's finished PATCH (PROTOCOL §3).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::wire::logging::{LogRecord, format_action_logs};
use crate::wire::python_json;
use crate::wire::redact;

/// What an action reports when it finishes, validated and ready to send:
/// `{"status": "finished"}` plus `results`, `error`, `logs`, `outputs` and
/// `secrets`, each only when set, in the Python SDK's key order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionReport {
    status: &'static str,
    /// The results, a JSON object or a list of objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Value>,
    /// The error message, scrubbed of secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The logs, one line per record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
    /// The branches set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Map<String, Value>>,
    /// The module's secret values, when the action updated one.
    #[serde(skip_serializing_if = "Option::is_none")]
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
            error: error.map(|message| redact::scrub(&message).into_owned()),
            logs: format_action_logs(logs),
            outputs,
            secrets: None,
        }
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
