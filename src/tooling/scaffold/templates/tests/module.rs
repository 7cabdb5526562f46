//! The module's items against the embedded Sekoia.io platform: the binary
//! runs as the platform runs the container, in a sandbox wired to a local
//! platform on 127.0.0.1, and, for `lookup`, to a fake of the service's API
//! (`FakeVendor`, on 127.0.0.1 too).

use std::path::Path;
use std::process::Command;

use sekoia_automation::testing::{FakeVendor, LocalPlatform, RecordedRequest, Reply, Sandbox};
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
fn lookup_asks_the_service_and_reports_its_answer() {
    let (platform, sandbox) = setup();
    let vendor = FakeVendor::start().unwrap();
    vendor.route("GET", "/v1/lookup", Reply::json(200, r#"{"found": 1}"#));
    // The service fails once first: the action retries.
    vendor.script([Reply::json(503, r#"{"message": "busy"}"#)]);
    sandbox
        .set_json("module_configuration", &json!({"base_url": vendor.url()}))
        .unwrap();
    sandbox
        .set_json("arguments", &json!({"query": "a b"}))
        .unwrap();
    let output = sandbox.command(BINARY).arg("lookup").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let requests = vendor.requests();
    assert_eq!(requests.len(), 2, "the 503 retried");
    let request = &requests[1];
    assert_eq!(request.path, "/v1/lookup");
    assert_eq!(request.query.as_deref(), Some("q=a+b"));
    assert_eq!(request.header("authorization"), Some("Bearer the-key"));
    let finished = bodies(&platform).pop().unwrap();
    assert_eq!(finished["results"], json!({"found": 1}));
}

#[test]
fn lookup_reports_what_the_service_refused() {
    let (platform, sandbox) = setup();
    let vendor = FakeVendor::start().unwrap();
    vendor.route("GET", "/v1/lookup", Reply::json(403, r#"{"message": "bad key"}"#));
    sandbox
        .set_json("module_configuration", &json!({"base_url": vendor.url()}))
        .unwrap();
    sandbox.set_json("arguments", &json!({"query": "x"})).unwrap();
    let output = sandbox.command(BINARY).arg("lookup").output().unwrap();
    assert!(output.status.success(), "the run reported its error");
    assert_eq!(vendor.requests().len(), 1, "a 403 is not retried");
    let finished = bodies(&platform).pop().unwrap();
    let error = finished["error"].as_str().unwrap();
    assert!(error.contains("403"), "{error}");
    assert!(!error.contains("the-key"), "{error}");
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
