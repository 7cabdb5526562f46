//! Every body the module sends to the platform, and every platform answer
//! it reads, in one place (PROTOCOL §2–4). Bodies are written by
//! [`python_json`](super::python_json), so each is byte-identical to the
//! Python SDK 1.27's; the tests below pin the bytes. The action's finished
//! PATCH, the largest, has its own file ([`report`](super::report)).
//!
//! | request | body |
//! | --- | --- |
//! | action/validator `PATCH url_callback` (start) | [`running`] |
//! | its answer, with the secrets | [`secrets_of_running_answer`] |
//! | action `PATCH url_callback` (end) | [`ActionReport`](super::report::ActionReport) |
//! | validator `PATCH url_callback` (end) | [`validation_finished`] |
//! | trigger `GET url_secrets` answer | [`trigger_secrets`] |
//! | trigger `POST url_callback` (an event) | [`event_body`] |
//! | trigger `POST url_logs` | [`logs_body`] |
//! | `GET /health` answer (served) | [`health_body`] |

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::wire::logging::Level;
use crate::wire::python_json;

/// The running PATCH: `{"status": "running"}`, with `"need_secrets": true`
/// when the module declares secrets and the item wants them.
pub(crate) fn running(need_secrets: bool) -> Value {
    if need_secrets {
        json!({"status": "running", "need_secrets": true})
    } else {
        json!({"status": "running"})
    }
}

/// The secrets in the answer to the running PATCH:
/// `module_configuration.value`, when it is an object.
pub(crate) fn secrets_of_running_answer(answer: &Value) -> Option<&Map<String, Value>> {
    answer
        .pointer("/module_configuration/value")
        .and_then(Value::as_object)
}

/// The account validator's finished PATCH: `results.success`, and the
/// error when it failed.
pub(crate) fn validation_finished(error: Option<&str>) -> Value {
    match error {
        None => json!({"status": "finished", "results": {"success": true}}),
        Some(error) => {
            json!({"status": "finished", "results": {"success": false}, "error": error})
        }
    }
}

/// The answer to a trigger's `GET url_secrets`: `value` (the module's
/// secrets) and `node_value` (the trigger's), each empty when absent or not
/// an object.
pub(crate) fn trigger_secrets(answer: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let object = |key: &str| match answer.get(key) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    (object("value"), object("node_value"))
}

/// The body of an event, keys in the Python SDK's order.
#[derive(Serialize)]
struct EventBody<'a, E: ?Sized> {
    name: &'a str,
    event: &'a E,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<&'a str>,
}

/// Serializes an event request body as the Python SDK does:
/// `{"name": ..., "event": ..., "request_id": ..., "directory"?: ...}`.
pub fn event_body<E: Serialize + ?Sized>(
    name: &str,
    event: &E,
    request_id: &str,
    directory: Option<&str>,
) -> serde_json::Result<Vec<u8>> {
    python_json::to_vec(&EventBody {
        name,
        event,
        request_id,
        directory,
    })
}

/// One log record of a trigger's logs POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LogEntry {
    /// When it was logged, naive ISO 8601 UTC.
    pub(crate) date: String,
    /// Its level.
    pub(crate) level: Level,
    /// The message, secrets scrubbed.
    pub(crate) message: String,
}

#[derive(Serialize)]
struct LogsBody<'a> {
    logs: &'a [&'a LogEntry],
}

/// The body of a trigger's logs POST: `{"logs": [{"date", "level", "message"}...]}`.
pub(crate) fn logs_body(entries: &[&LogEntry]) -> serde_json::Result<Vec<u8>> {
    python_json::to_vec(&LogsBody { logs: entries })
}

/// The body of `GET /health`, keys in the Python SDK's order.
#[derive(Debug, Serialize)]
pub(crate) struct HealthBody {
    /// When the last event was sent (or the trigger started).
    pub(crate) last_events_time: String,
    /// The last heartbeat (or the start).
    pub(crate) last_heartbeat: String,
    /// `seconds_without_events` (0: off).
    pub(crate) seconds_without_events_threshold: u64,
    /// `last_heartbeat_threshold` (0: off).
    pub(crate) last_heartbeat_threshold: u64,
    /// Failed runs so far.
    pub(crate) error_count: u64,
}

/// The body of `GET /health`.
pub(crate) fn health_body(body: &HealthBody) -> Vec<u8> {
    python_json::to_vec(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_running_patch_is_the_python_bytes() {
        assert_eq!(
            text(python_json::to_vec(&running(false)).unwrap()),
            r#"{"status": "running"}"#
        );
        assert_eq!(
            text(python_json::to_vec(&running(true)).unwrap()),
            r#"{"status": "running", "need_secrets": true}"#
        );
    }

    #[test]
    fn the_validator_finished_patch_is_the_python_bytes() {
        assert_eq!(
            text(python_json::to_vec(&validation_finished(None)).unwrap()),
            r#"{"status": "finished", "results": {"success": true}}"#
        );
        assert_eq!(
            text(python_json::to_vec(&validation_finished(Some("bad \"key\" é"))).unwrap()),
            r#"{"status": "finished", "results": {"success": false}, "error": "bad \"key\" \u00e9"}"#
        );
    }

    #[test]
    fn secrets_are_read_from_the_running_answer_byte_exact() {
        let answer: Value = serde_json::from_str(
            r#"{"module_configuration": {"value": {"api_key": "k\"\\😀", "n": 12345678901234567890}}}"#,
        )
        .unwrap();
        let secrets = secrets_of_running_answer(&answer).unwrap();
        assert_eq!(secrets["api_key"], "k\"\\😀");
        assert_eq!(secrets["n"].to_string(), "12345678901234567890");
        assert!(secrets_of_running_answer(&json!({"module_configuration": {}})).is_none());
        assert!(
            secrets_of_running_answer(&json!({"module_configuration": {"value": null}})).is_none()
        );
    }

    #[test]
    fn trigger_secrets_are_value_and_node_value() {
        let answer = json!({"value": {"a": "1"}, "node_value": {"b": null}});
        let (value, node) = trigger_secrets(&answer);
        assert_eq!(Value::Object(value), json!({"a": "1"}));
        assert_eq!(Value::Object(node), json!({"b": null}));
        let (value, node) = trigger_secrets(&json!({"value": null}));
        assert!(value.is_empty() && node.is_empty());
    }

    #[test]
    fn an_event_post_is_the_python_bytes() {
        let body = event_body(
            "alert",
            &json!({"ip": "1.2.3.4", "score": 0.1, "é": [true, null]}),
            "0f6c0d3e-5b1e-4b5e-9d1a-2c3b4d5e6f70",
            None,
        )
        .unwrap();
        assert_eq!(
            text(body),
            r#"{"name": "alert", "event": {"ip": "1.2.3.4", "score": 0.1, "\u00e9": [true, null]}, "request_id": "0f6c0d3e-5b1e-4b5e-9d1a-2c3b4d5e6f70"}"#
        );
        let body = event_body("e", &json!({}), "id", Some("dir/sub")).unwrap();
        assert_eq!(
            text(body),
            r#"{"name": "e", "event": {}, "request_id": "id", "directory": "dir/sub"}"#
        );
    }

    #[test]
    fn a_logs_post_is_the_python_bytes() {
        let entries = [
            LogEntry {
                date: "2026-01-02T03:04:05.123456".into(),
                level: Level::Info,
                message: "started".into(),
            },
            LogEntry {
                date: "2026-01-02T03:04:06".into(),
                level: Level::Error,
                message: "the \"feed\" is down: ☹".into(),
            },
        ];
        let body = logs_body(&entries.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(
            text(body),
            r#"{"logs": [{"date": "2026-01-02T03:04:05.123456", "level": "info", "message": "started"}, {"date": "2026-01-02T03:04:06", "level": "error", "message": "the \"feed\" is down: \u2639"}]}"#
        );
    }

    #[test]
    fn the_health_answer_is_the_python_bytes() {
        let body = health_body(&HealthBody {
            last_events_time: "2026-01-02T03:04:05".into(),
            last_heartbeat: "2026-01-02T03:04:06.500000".into(),
            seconds_without_events_threshold: 600,
            last_heartbeat_threshold: 0,
            error_count: 2,
        });
        assert_eq!(
            text(body),
            r#"{"last_events_time": "2026-01-02T03:04:05", "last_heartbeat": "2026-01-02T03:04:06.500000", "seconds_without_events_threshold": 600, "last_heartbeat_threshold": 0, "error_count": 2}"#
        );
    }
}
