//! What Python modules reach for on a connector (issue 20.3): the item
//! configuration uuids, the size limits, stderr-only logs and
//! `forward_events`/`send_records`. Real loopback HTTP: the local platform.

mod support;
#[path = "support/trigger.rs"]
mod trigger_support;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::{Connector, ConnectorContext, Module, TriggerError};
use serde_json::{Value, json};
use support::child::Bounded;

/// Runs `check` in a connector's run, and hands back what it returned.
struct Checking {
    check: Option<Check>,
    out: Arc<Mutex<Option<Value>>>,
}

type Check = Box<dyn FnOnce(&ConnectorContext<'_, Checking>) -> Value + Send>;

impl Connector for Checking {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Checking";
    const DESCRIPTION: &'static str = "Check the context";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        if let Some(check) = self.check.take() {
            *self.out.lock().unwrap() = Some(check(ctx));
        }
        ctx.stop();
        Ok(())
    }
}

fn connector_sandbox(platform: &LocalPlatform) -> Sandbox {
    let sandbox = Sandbox::new(platform).unwrap();
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "KEY123"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    sandbox
}

/// Runs a [`Checking`] connector in `sandbox` and returns what `check` saw.
fn check_in(
    sandbox: &Sandbox,
    check: impl FnOnce(&ConnectorContext<'_, Checking>) -> Value + Send + 'static,
) -> Value {
    let out = Arc::new(Mutex::new(None));
    let connector = Checking {
        check: Some(Box::new(check)),
        out: Arc::clone(&out),
    };
    let code = Module::<Value>::with_settings(sandbox.settings())
        .register("checking", connector)
        .run_command("checking");
    assert_eq!(code, ExitCode::SUCCESS);
    out.lock().unwrap().take().expect("the check ran")
}

fn uuids(ctx: &ConnectorContext<'_, Checking>) -> Value {
    json!({
        "connector": ctx.connector_configuration_uuid(),
        "trigger": ctx.trigger_configuration_uuid(),
    })
}

/// The uuids the platform gives in the configuration files reach the
/// connector as given; absent, they are `None` (Python's `None`).
#[test]
fn a_connector_reads_the_configuration_uuids_the_platform_gave() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    sandbox
        .set(
            "connector_configuration_uuid",
            "5e2a4c1d-0b7f-4d2e-9a63-1f0c8e7b6a55",
        )
        .unwrap();
    sandbox
        .set(
            "trigger_configuration_uuid",
            "c0ffee00-1234-4abc-8def-00000000abcd",
        )
        .unwrap();
    assert_eq!(
        check_in(&sandbox, uuids),
        json!({
            "connector": "5e2a4c1d-0b7f-4d2e-9a63-1f0c8e7b6a55",
            "trigger": "c0ffee00-1234-4abc-8def-00000000abcd",
        })
    );

    let bare = connector_sandbox(&platform);
    assert_eq!(
        check_in(&bare, uuids),
        json!({"connector": null, "trigger": null})
    );
}

/// A trigger reads its configuration uuid as the platform gave it.
#[test]
fn a_trigger_reads_its_configuration_uuid() {
    let env = trigger_support::Env::new();
    env.sandbox
        .set(
            "trigger_configuration_uuid",
            "0d6c7f3e-8a1b-4c2d-9e0f-123456789abc",
        )
        .unwrap();
    let seen = Arc::new(Mutex::new(Value::Null));
    let code = env.run(trigger_support::Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            *seen.lock().unwrap() = json!({
                "trigger": ctx.trigger_configuration_uuid(),
                "connector": ctx.connector_configuration_uuid(),
            });
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        *seen.lock().unwrap(),
        json!({"trigger": "0d6c7f3e-8a1b-4c2d-9e0f-123456789abc", "connector": null})
    );
}

/// The size limits named after the Python SDK's constants have their
/// values, read from the SDK 1.27 itself.
/// `SEKOIA_PYTHON=/tmp/sdk/bin/python cargo test --test connector_extras -- --ignored`
#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn the_size_limits_are_the_python_sdks_constants() {
    use sekoia_automation::connector::{MAX_BODY_BYTES, MAX_CHUNK_CHARS, MAX_EVENT_CHARS};
    let python = std::env::var("SEKOIA_PYTHON")
        .expect("SEKOIA_PYTHON: a python with sekoia-automation-sdk==1.27.0");
    let output = std::process::Command::new(python)
        .args([
            "-c",
            "import json; from sekoia_automation import constants as c; \
             print(json.dumps([c.EVENT_BYTES_MAX_SIZE, c.CHUNK_BYTES_MAX_SIZE, \
             c.INTAKE_PAYLOAD_BYTES_MAX_SIZE]))",
        ])
        .output_bounded();
    assert!(output.status.success(), "{output:?}");
    let python: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        python,
        json!([MAX_EVENT_CHARS, MAX_CHUNK_CHARS, MAX_BODY_BYTES])
    );
}

/// A secret as a configuration holds it: quotes, a backslash, an astral
/// character.
const API_KEY: &str = "k3y-\"quoted\\back\"-'𝄞'";

/// Set in the child process run by
/// [`stderr_only_logs_are_scrubbed_and_never_reach_the_platform`].
const CHILD: &str = "CONNECTOR_EXTRAS_STDERR_CHILD";

/// Logs once to the platform, then twice to stderr only (the context's
/// `log_stderr`, the `log` target `"stderr"`), each with its secret.
struct Talker;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct TalkerConfiguration {
    api_key: sekoia_automation::Secret<String>,
}

impl Connector for Talker {
    type ModuleConfiguration = Value;
    type Configuration = TalkerConfiguration;
    type Event = Value;
    const NAME: &'static str = "Talker";
    const DESCRIPTION: &'static str = "Log to stderr only";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let key = ctx.configuration().api_key.expose();
        ctx.log(sekoia_automation::Level::Info, "to the platform");
        ctx.log_stderr(
            sekoia_automation::Level::Warning,
            format!("context line, key={key}"),
        );
        log::info!(target: "stderr", "target line, key={key}");
        ctx.stop();
        Ok(())
    }
}

/// The child's side: runs [`Talker`] in the sandbox the parent made.
#[test]
#[ignore = "run as a child process by stderr_only_logs_are_scrubbed_and_never_reach_the_platform"]
fn stderr_only_child() {
    if std::env::var_os(CHILD).is_none() {
        // `--ignored` runs without the parent: nothing to check here, the
        // parent checks what this child writes.
        return;
    }
    let code = Module::<Value>::new()
        .register("talker", Talker)
        .run_command("talker");
    assert_eq!(code, ExitCode::SUCCESS);
}

/// Lines logged to stderr only reach the process's stderr with the
/// registered secret scrubbed, and never the platform's `/logs` (where the
/// line logged with `ctx.log` arrives).
#[test]
fn stderr_only_logs_are_scrubbed_and_never_reach_the_platform() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    sandbox
        .set_json(
            "connector_configuration",
            &json!({"intake_key": "KEY123", "api_key": API_KEY}),
        )
        .unwrap();
    let output = sandbox
        .command(std::env::current_exe().unwrap())
        .args(["--exact", "stderr_only_child", "--ignored", "--nocapture"])
        .env(CHILD, "1")
        .env("RUST_LOG", "info")
        .output_bounded();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let marker = "[REDACTED]";
    for line in ["context line", "target line"] {
        let scrubbed = format!("{line}, key={marker}");
        assert!(stderr.contains(&scrubbed), "{scrubbed} in {stderr}");
    }
    assert!(!stderr.contains("k3y-"), "the secret on stderr: {stderr}");

    let shipped: Vec<String> = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .map(|request| request.body_text())
        .collect();
    assert!(
        shipped.iter().any(|body| body.contains("to the platform")),
        "the platform's /logs: {shipped:?}"
    );
    for body in &shipped {
        assert!(
            !body.contains(" line, key="),
            "stderr only, on /logs: {body}"
        );
    }
}

/// `event.json` as the Python SDK 1.27 writes it for the records of
/// [`forwarded_events`] (`orjson.dumps(records)`, checked with its orjson).
const EVENT_JSON: &str =
    r#"["line \"one\" é\t","{\"k\":\"\\u0001𝄞\",\"n\":18446744073709551615}"]"#;

/// Two events that fit and one over the Python SDK's 250000 characters.
fn forwarded_events() -> Vec<Value> {
    vec![
        json!("line \"one\" é\t"),
        json!({"k": "\u{1}𝄞", "n": 18446744073709551615u64}),
        json!("x".repeat(sekoia_automation::connector::MAX_EVENT_CHARS + 1)),
    ]
}

/// The files left in `<item>_events/` of the data directory: (relative
/// path, content).
fn records_files(data: &std::path::Path, item: &str) -> Vec<(String, String)> {
    let root = data.join(format!("{item}_events"));
    let mut files = Vec::new();
    for directory in std::fs::read_dir(&root).into_iter().flatten() {
        let directory = directory.unwrap().path();
        for file in std::fs::read_dir(&directory).unwrap() {
            let path = file.unwrap().path();
            let relative = path.strip_prefix(data).unwrap().display().to_string();
            files.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files
}

/// `forward_events` writes the chunk's records to
/// `<item>_events/<uuid4>/event.json` with the bytes orjson writes and
/// sends `{"records_path": "event.json"}` with that directory attached,
/// under the Python SDK's event name; a failed send keeps the directory, a
/// sent one removes it; the too long event is discarded and logged.
/// `send_records` without a file sends the records in the event.
#[test]
fn forward_events_and_send_records_speak_the_python_sdks_wire() {
    use sekoia_automation::connector::{RecordsError, RecordsOptions};
    use sekoia_automation::testing::Fault;
    let item = "aws_s3_logs_trigger";
    let platform = LocalPlatform::start().unwrap();
    let sandbox = connector_sandbox(&platform);
    let data = sandbox.data_directory();
    platform.inject(Fault::status(400).times(1).on_path_suffix("callback"));
    let seen = check_in(&sandbox, move |ctx| {
        let options = RecordsOptions::new(item);
        let refused = match ctx.forward_events(forwarded_events(), &options) {
            Err(RecordsError::Send(error)) => error.to_string(),
            other => panic!("the first send is refused: {other:?}"),
        };
        let kept = records_files(ctx.settings().data_directory(), item);
        ctx.forward_events(forwarded_events(), &options).unwrap();
        let inline = options
            .clone()
            .with_to_file(false)
            .with_records_var_name("events");
        ctx.send_records(&["a", "é"], "inline", &inline).unwrap();
        json!({"refused": refused, "kept": kept})
    });
    assert!(seen["refused"].as_str().unwrap().contains("400"), "{seen}");
    // The refused send's directory is kept, with the file's exact bytes.
    let kept = seen["kept"].as_array().unwrap();
    assert_eq!(kept.len(), 1, "{seen}");
    let kept_path = kept[0][0].as_str().unwrap();
    assert_eq!(kept[0][1], EVENT_JSON);
    let kept_directory = kept_path.strip_suffix("/event.json").unwrap();
    let uuid = kept_directory
        .strip_prefix(&format!("{item}_events/"))
        .unwrap();
    assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);
    // Only that one is left: the sent one was removed.
    assert_eq!(
        records_files(&data, item),
        [(kept_path.to_string(), EVENT_JSON.to_string())]
    );

    let events: Vec<Value> = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "callback" && request.method == "POST")
        .map(|request| request.json().unwrap())
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    for (event, status) in events[..2].iter().zip(["refused", "sent"]) {
        assert_eq!(event["name"], "aws_s3_logs_trigger_00:00:00", "{status}");
        assert_eq!(event["event"], json!({"records_path": "event.json"}));
        let directory = event["directory"].as_str().unwrap();
        assert!(
            directory.starts_with(&format!("{item}_events/")),
            "{directory}"
        );
    }
    assert_eq!(events[0]["directory"], kept_directory);
    assert_ne!(events[1]["directory"], kept_directory);
    assert_eq!(events[2]["name"], "inline");
    assert_eq!(events[2]["event"], json!({"events": ["a", "é"]}));
    assert_eq!(events[2].get("directory"), None);

    let logs: String = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .map(|request| request.body_text())
        .collect();
    assert!(logs.contains("Forwarding 2 records"), "{logs}");
    assert_eq!(
        logs.matches("1 too long events were discarded (length > 250kb)")
            .count(),
        1,
        "only the completed forwarding logs it: {logs}"
    );
}

/// What the Python SDK 1.27's `_chunk_events` and `send_records` make of
/// [`forwarded_events`]: the `event.json` texts, the discarded count and
/// the event name `forward_events` gives.
const PYTHON_FORWARD: &str = r#"
import json
from datetime import time

import orjson
from sekoia_automation.connector import Connector


class Stub:
    class configuration:
        intake_key = "KEY123"

    discarded = 0

    def put_discarded_events(self, intake_key, count):
        self.discarded = count

    def log(self, message, **kwargs):
        pass


stub = Stub()
events = ['line "one" é\t', {"k": "\x01𝄞", "n": 18446744073709551615}, "x" * 250001]
files = [orjson.dumps(records).decode() for records in Connector._chunk_events(stub, events)]
name = "aws_s3_logs_trigger"
print(json.dumps({
    "files": files,
    "discarded": stub.discarded,
    "event_name": f"{name.lower().replace(' ', '-')}_{time()!s}",
}))
"#;

/// The bytes and the name the wire test expects are the Python SDK's own.
/// `SEKOIA_PYTHON=/tmp/sdk/bin/python cargo test --test connector_extras -- --ignored`
#[test]
#[ignore = "needs the Python SDK: SEKOIA_PYTHON=/path/to/python"]
fn forwarded_records_are_the_python_sdks() {
    let python = std::env::var("SEKOIA_PYTHON")
        .expect("SEKOIA_PYTHON: a python with sekoia-automation-sdk==1.27.0");
    let output = std::process::Command::new(python)
        .args(["-c", PYTHON_FORWARD])
        .output_bounded();
    assert!(output.status.success(), "{output:?}");
    let python: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        python,
        json!({
            "files": [EVENT_JSON],
            "discarded": 1,
            "event_name": "aws_s3_logs_trigger_00:00:00",
        })
    );
}
