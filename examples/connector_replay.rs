//! A connector that forwards the events of a JSON file to the intake, once.
//!
//! The file holds a JSON array: each string in it is pushed as it is (a raw
//! log line), each other value as compact JSON, exactly as the Python SDK's
//! `push_events_to_intakes` treats the `str` and `dict` items of the list
//! `json.load` gives it. With `"as": "measures"`, every event is read into a
//! typed struct (`{"name": <string>, "value": <float>}`) and pushed as
//! [`JsonEvent`], the way a module pushes its own types.
//!
//! Run it as the platform runs the container (`connector_replay replay`,
//! configuration in `/symphony` or the environment):
//!
//! ```text
//! CONNECTOR_CONFIGURATION='{"intake_key": "KEY", "intake_server": "http://127.0.0.1:8080/intake", "events": "/tmp/events.json"}' \
//!   cargo run --example connector_replay replay
//! ```
//!
//! It prints one line to stdout: the push's counts as JSON. It serves the
//! byte-for-byte comparison with the Python SDK of `tests/connector_python.rs`.

use std::process::ExitCode;

use schemars::JsonSchema;
use sekoia_automation::vendor::Json;
use sekoia_automation::{Connector, ConnectorContext, JsonEvent, Module, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The connector's own configuration.
#[derive(Deserialize, JsonSchema)]
struct ReplayConfiguration {
    /// The JSON file of events (an array).
    events: String,
    /// `"values"` (default): strings as they are, other values as JSON;
    /// `"measures"`: every event is a `{"name", "value"}` measure.
    #[serde(default, rename = "as")]
    kind: Option<String>,
}

/// A typed event.
#[derive(Serialize, Deserialize)]
struct Measure {
    name: String,
    value: f64,
}

struct Replay;

impl Connector for Replay {
    type ModuleConfiguration = Value;
    type Configuration = ReplayConfiguration;
    type Event = Json;
    const NAME: &'static str = "Replay";
    const DESCRIPTION: &'static str = "Forward the events of a JSON file";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.configuration();
        let text = std::fs::read(&configuration.events)
            .map_err(|error| TriggerError::msg(format!("{}: {error}", configuration.events)))?;
        let result = match configuration.kind.as_deref() {
            Some("measures") => {
                let measures: Vec<Measure> = serde_json::from_slice(&text)
                    .map_err(|error| TriggerError::msg(format!("not measures: {error}")))?;
                ctx.push_events(measures.into_iter().map(JsonEvent))
            }
            // Read exactly: integers beyond 64 bits keep their digits.
            _ => match String::from_utf8_lossy(&text).parse::<Json>() {
                Ok(Json::Array(events)) => ctx.push_events(events),
                Ok(_) => return Err(TriggerError::msg("the events file holds no array")),
                Err(error) => {
                    return Err(TriggerError::msg(format!(
                        "{}: {error}",
                        configuration.events
                    )));
                }
            },
        };
        let counts = match &result {
            Ok(acknowledgement) => acknowledgement.report().counts(),
            Err(error) => error.report().counts(),
        };
        println!(
            "{}",
            serde_json::json!({
                "ok": result.is_ok(),
                "acknowledged": counts.acknowledged(),
                "chunks": counts.chunks(),
                "refused": counts.refused(),
            })
        );
        ctx.stop();
        Ok(())
    }
}

fn main() -> ExitCode {
    Module::<Value>::new().register("replay", Replay).run()
}
