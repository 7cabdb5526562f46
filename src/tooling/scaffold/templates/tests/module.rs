//! The module's items against the embedded Sekoia.io platform: the binary
//! runs as the platform runs the container, in a sandbox wired to a local
//! platform on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_{{crate_name}}");

fn module_directory() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A platform holding the module's secret, and a sandbox with the module's
/// manifest and configuration.
fn setup() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "the-key"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    let manifest = std::fs::read_to_string(module_directory().join("manifest.json")).unwrap();
    sandbox
        .write_manifest(&serde_json::from_str(&manifest).unwrap())
        .unwrap();
    sandbox
        .set_json(
            "module_configuration",
            &json!({"base_url": "https://service"}),
        )
        .unwrap();
    (platform, sandbox)
}

fn bodies(platform: &LocalPlatform) -> Vec<Value> {
    platform
        .requests()
        .iter()
        .filter_map(RecordedRequest::json)
        .collect()
}

#[test]
fn greet_reports_its_greeting_and_branch() {
    let (platform, sandbox) = setup();
    sandbox
        .set_json("arguments", &json!({"name": "world", "excitement": 2}))
        .unwrap();
    let output = sandbox.command(BINARY).arg("greet").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bodies = bodies(&platform);
    assert_eq!(
        bodies[0],
        json!({"status": "running", "need_secrets": true})
    );
    let finished = bodies.last().unwrap();
    assert_eq!(finished["results"], json!({"message": "Hello world!!"}));
    assert_eq!(finished["outputs"], json!({"excited": true}));
    let logs = finished["logs"].as_str().unwrap();
    assert!(
        logs.contains("greeting world for https://service ([REDACTED])"),
        "{logs}"
    );
    assert!(!logs.contains("the-key"), "{logs}");
}

#[test]
fn ticker_sends_its_ticks() {
    let (platform, sandbox) = setup();
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_seconds": 0.01, "max_ticks": 3}),
        )
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let output = sandbox.command(BINARY).arg("ticker").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Value> = bodies(&platform)
        .into_iter()
        .filter(|body| body.get("event").is_some())
        .map(|body| body["event"].clone())
        .collect();
    assert_eq!(
        events,
        [
            json!({"number": 1}),
            json!({"number": 2}),
            json!({"number": 3})
        ]
    );
}

#[test]
fn the_manifests_are_up_to_date_with_the_code() {
    let output = Command::new(BINARY)
        .arg("check-module")
        .arg(module_directory())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}run `cargo run -- generate-files` and commit the manifests",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
