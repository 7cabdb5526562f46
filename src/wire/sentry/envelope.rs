//! The one place where a Sentry event and its envelope are written
//! ([protocol §8](crate::protocol#8-sentry)).
//!
//! An envelope is three lines: its header (`event_id`, `sent_at`), the
//! item header (`{"type":"event","content_type":"application/json","length":N}`)
//! and the event, as the Python SDK's transport sends them (uncompressed:
//! the events are small).

use serde_json::{Map, Value, json};

use crate::wire::timestamp::Timestamp;

/// What an event reports: a message (a log) or an exception.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// `{"message": text}`: `capture_message`.
    Message(&'a str),
    /// `{"exception": {"values": [{"type", "value", "mechanism"}]}}`:
    /// `capture_exception`.
    Exception {
        /// The exception's type (`ActionError`, `TriggerError`, `Panic`).
        kind: &'a str,
        /// Its text.
        value: &'a str,
    },
}

/// What every event of the process carries besides its payload.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// `environment`, when the platform gives one.
    pub(crate) environment: Option<String>,
    /// `release` (`SENTRY_RELEASE`, as the Python SDK reads it).
    pub(crate) release: Option<String>,
    /// `server_name`: the host name.
    pub(crate) server_name: Option<String>,
    /// `tags`, in the order they were set.
    pub(crate) tags: Map<String, Value>,
    /// `contexts`: the configurations, redacted.
    pub(crate) contexts: Map<String, Value>,
}

/// The event, as JSON.
pub(crate) fn event(level: &str, payload: Payload<'_>, scope: &Scope, event_id: &str) -> Value {
    let mut event = Map::new();
    match payload {
        Payload::Message(text) => {
            event.insert("message".into(), text.into());
        }
        Payload::Exception { kind, value } => {
            event.insert(
                "exception".into(),
                json!({"values": [{
                    "mechanism": {"type": "generic", "handled": true},
                    "type": kind,
                    "value": value,
                }]}),
            );
        }
    }
    event.insert("level".into(), level.into());
    event.insert("event_id".into(), event_id.into());
    event.insert(
        "timestamp".into(),
        format!("{}Z", Timestamp::now().to_iso8601()).into(),
    );
    event.insert("contexts".into(), Value::Object(scope.contexts.clone()));
    event.insert("tags".into(), Value::Object(scope.tags.clone()));
    if let Some(environment) = &scope.environment {
        event.insert("environment".into(), environment.as_str().into());
    }
    if let Some(release) = &scope.release {
        event.insert("release".into(), release.as_str().into());
    }
    if let Some(server_name) = &scope.server_name {
        event.insert("server_name".into(), server_name.as_str().into());
    }
    event.insert(
        "sdk".into(),
        json!({"name": "sekoia-automation.rust", "version": env!("CARGO_PKG_VERSION")}),
    );
    event.insert("platform".into(), "native".into());
    Value::Object(event)
}

/// The envelope carrying one event: the body of `POST /api/<project>/envelope/`.
///
/// ```text
/// {"event_id":"<32 hex>","sent_at":"<ISO 8601>Z"}
/// {"type":"event","content_type":"application/json","length":<bytes of the event>}
/// <the event>
/// ```
pub(crate) fn envelope(level: &str, payload: Payload<'_>, scope: &Scope) -> Vec<u8> {
    let event_id = uuid::Uuid::new_v4().simple().to_string();
    let event = event(level, payload, scope, &event_id).to_string();
    let header = json!({
        "event_id": event_id,
        "sent_at": format!("{}Z", Timestamp::now().to_iso8601()),
    });
    let item = json!({
        "type": "event",
        "content_type": "application/json",
        "length": event.len(),
    });
    let mut body = Vec::with_capacity(event.len() + 160);
    body.extend_from_slice(header.to_string().as_bytes());
    body.push(b'\n');
    body.extend_from_slice(item.to_string().as_bytes());
    body.push(b'\n');
    body.extend_from_slice(event.as_bytes());
    body.push(b'\n');
    body
}

/// The events of an envelope body (the items of type `event`), for the
/// local platform and tests; `None` when the body is not an envelope.
pub(crate) fn events_of(body: &[u8]) -> Option<Vec<Value>> {
    let mut rest = body;
    let next_line = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        if rest.is_empty() {
            return None;
        }
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = rest[..end].to_vec();
        *rest = rest.get(end + 1..).unwrap_or_default();
        Some(line)
    };
    let header = next_line(&mut rest)?;
    serde_json::from_slice::<Value>(&header).ok()?.as_object()?;
    let mut events = Vec::new();
    while let Some(item_header) = next_line(&mut rest) {
        if item_header.is_empty() {
            continue;
        }
        let item: Value = serde_json::from_slice(&item_header).ok()?;
        let payload = match item.get("length").and_then(Value::as_u64) {
            Some(length) => {
                let length = usize::try_from(length).ok()?;
                let payload = rest.get(..length)?.to_vec();
                rest = rest.get(length..).unwrap_or_default();
                if rest.first() == Some(&b'\n') {
                    rest = &rest[1..];
                }
                payload
            }
            None => next_line(&mut rest).unwrap_or_default(),
        };
        if item.get("type").and_then(Value::as_str) == Some("event") {
            events.push(serde_json::from_slice(&payload).ok()?);
        }
    }
    Some(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_holds_its_event_with_the_length_of_its_bytes() {
        let mut scope = Scope {
            environment: Some("prod".into()),
            ..Scope::default()
        };
        scope.tags.insert("module".into(), "Mödule 𝄞".into());
        let body = envelope(
            "error",
            Payload::Exception {
                kind: "ActionError",
                value: "boom \"é\"",
            },
            &scope,
        );
        let text = String::from_utf8(body.clone()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[3], "");
        let header: Value = serde_json::from_str(lines[0]).unwrap();
        let item: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(item["type"], "event");
        assert_eq!(item["length"], lines[2].len());
        let events = events_of(&body).unwrap();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event["event_id"], header["event_id"]);
        assert_eq!(event["event_id"].as_str().unwrap().len(), 32);
        assert_eq!(event["level"], "error");
        assert_eq!(event["environment"], "prod");
        assert_eq!(event["tags"]["module"], "Mödule 𝄞");
        assert_eq!(event["exception"]["values"][0]["type"], "ActionError");
        assert_eq!(event["exception"]["values"][0]["value"], "boom \"é\"");
        assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(events_of(b"not an envelope"), None);
    }
}
