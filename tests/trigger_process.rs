//! The trigger example as a real process: SIGTERM and SIGINT stop it cleanly
//! (logs flushed, exit code 0, within the documented stop grace), and its demo
//! runs end to end.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::trigger::TriggerOptions;
use serde_json::{Value, json};
use support::child::Bounded;

const WAIT: Duration = Duration::from_secs(30);

fn setup() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "process-secret-key"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "alert-feed",
            "configuration": {
                "properties": {"base_url": {}, "api_key": {}},
                "required": ["base_url", "api_key"],
                "secrets": ["api_key"]
            }
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({"base_url": "https://feed"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    (platform, sandbox)
}

fn logs(platform: &LocalPlatform) -> Vec<Value> {
    platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .filter_map(RecordedRequest::json)
        .flat_map(|body| body["logs"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Starts the example trigger, sleeping between polls; returns once it sent
/// its first event and queued its first logs.
fn start_sleeping_trigger(platform: &LocalPlatform, sandbox: &Sandbox) -> Child {
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_ms": 3_600_000, "batch_size": 1}),
        )
        .unwrap();
    let child = sandbox
        .command(support::example("trigger"))
        .arg("poll_alerts")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(platform.wait_for(WAIT, |requests| {
        requests.iter().any(|request| request.route() == "callback")
    }));
    // Let it reach its sleep.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        logs(platform).is_empty(),
        "info logs wait for the 5 s interval"
    );
    child
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

fn stops_cleanly_on(signal_number: i32) {
    let (platform, sandbox) = setup();
    let child = start_sleeping_trigger(&platform, &sandbox);
    let sent = Instant::now();
    signal(&child, signal_number);
    let status =
        support::child::finish(child, "the trigger example", support::child::DEADLINE).status;
    let elapsed = sent.elapsed();
    assert_eq!(status.code(), Some(0), "{status}");
    // The documented bound (the default stop grace, 2 s): the watchdog ends
    // the process then at the latest. A tighter figure flakes under load.
    let grace = TriggerOptions::default().stop_grace();
    assert!(
        elapsed < grace,
        "exited {elapsed:?} after the signal, beyond the stop grace"
    );
    let logs = logs(&platform);
    let messages: Vec<&str> = logs
        .iter()
        .map(|log| log["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "polling https://feed with key [REDACTED]",
            "sent alerts 1 to 1"
        ],
        "queued logs are flushed before exit"
    );
    let cursor = std::fs::read_to_string(sandbox.data_directory().join("cursor.json")).unwrap();
    assert_eq!(cursor, r#"{"last_id":1}"#);
}

#[test]
fn sigterm_stops_a_sleeping_trigger_with_its_logs_flushed() {
    stops_cleanly_on(libc::SIGTERM);
}

#[test]
fn sigint_stops_a_sleeping_trigger_with_its_logs_flushed() {
    stops_cleanly_on(libc::SIGINT);
}

#[test]
fn a_restarted_trigger_goes_on_from_its_cursor() {
    let (platform, sandbox) = setup();
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_ms": 1, "batch_size": 3, "max_events": 5, "attach_every": 2}),
        )
        .unwrap();
    for _ in 0..2 {
        let output = sandbox
            .command(support::example("trigger"))
            .arg("poll_alerts")
            .output_bounded();
        support::assert_success(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("process-secret-key"), "{stderr}");
    }
    let events: Vec<Value> = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "callback")
        .filter_map(RecordedRequest::json)
        .collect();
    let ids: Vec<u64> = events
        .iter()
        .map(|body| body["event"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    for body in &events {
        let id = body["event"]["id"].as_u64().unwrap();
        assert_eq!(body.get("directory").is_some(), id % 2 == 0, "{body}");
    }
    // Attached directories were removed once sent; only the cursor is left.
    let left: Vec<String> = std::fs::read_dir(sandbox.data_directory())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["cursor.json"]);
}

#[test]
fn the_demo_runs_end_to_end() {
    let output = Command::new(support::example("trigger")).output_bounded();
    let stdout = String::from_utf8_lossy(&output.stdout);
    support::assert_success(&output);
    assert!(
        stdout.contains("GET /api/v1/symphony/secrets -> 200"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .matches("POST /api/v1/symphony/callback -> 200")
            .count(),
        8
    );
    assert!(stdout.contains(r#""directory":"#), "{stdout}");
    assert!(
        stdout.contains(r#"cursor.json holds: {"last_id":8}"#),
        "{stdout}"
    );
    assert!(!stdout.contains("4f1c-very-secret"), "{stdout}");
}
