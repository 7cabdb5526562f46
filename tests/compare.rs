//! `sekoia-automation compare` on a Python module and its Rust port: the
//! Lantern module (`tests/fixtures/lantern/main.py`, written with the
//! Python SDK 1.27) and `examples/lantern.rs`, on
//! `tests/fixtures/lantern/scenarios.json`.
//!
//! The runs need the Python SDK: set `SEKOIA_PYTHON` to a python with
//! `sekoia-automation-sdk==1.27.0` (they are skipped without it):
//!
//! ```text
//! SEKOIA_PYTHON=/tmp/sdk/bin/python cargo test --features cli --test compare
//! ```

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::child::Bounded;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lantern")
}

fn python() -> Option<String> {
    let python = std::env::var("SEKOIA_PYTHON").ok();
    if python.is_none() {
        eprintln!("skipped: set SEKOIA_PYTHON to a python with sekoia-automation-sdk==1.27.0");
    }
    python
}

fn compare(python: &str, rust: &Path, scenarios: &[&Path], variant: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sekoia-automation"));
    command
        .arg("compare")
        .arg("--python")
        .arg(python)
        .arg("--module")
        .arg(fixtures())
        .arg("--rust")
        .arg(rust)
        .args(scenarios)
        .env_remove("LANTERN_VARIANT");
    if let Some(variant) = variant {
        command.env("LANTERN_VARIANT", variant);
    }
    command.output_bounded()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_port_is_identical_to_the_python_module_on_every_scenario() {
    let Some(python) = python() else { return };
    let scenarios = fixtures().join("scenarios.json");
    let output = compare(&python, &support::example("lantern"), &[&scenarios], None);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.ends_with("7 scenarios: 7 identical, 0 different\n"),
        "{stdout}"
    );
    for name in [
        "get a lamp",
        "switch a lamp",
        "switch a lamp, the vendor busy once",
        "a lamp the vendor does not know",
        "export the lamps of a room",
        "watch the lamps until 2 events",
        "collect the lamp history until 3 events",
    ] {
        assert!(
            stdout.contains(&format!("identical: scenario `{name}`")),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn a_port_sending_another_query_is_different_and_the_request_and_field_are_named() {
    let Some(python) = python() else { return };
    let scenarios = fixtures().join("scenarios.json");
    let output = compare(
        &python,
        &support::example("lantern"),
        &[&scenarios],
        Some("query"),
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("DIFFERENT: scenario `get a lamp`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  request 2 (vendor GET /v2/lamps/porch): query parameter `limit`: python absent, rust `5`\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  request 2 (vendor GET /v2/lamps/porch): body `/limit`: python 5, rust absent\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("7 scenarios: 6 identical, 1 different\n"),
        "{stdout}"
    );
}

#[test]
fn a_port_sending_the_key_in_another_header_is_different_and_the_key_is_never_printed() {
    let Some(python) = python() else { return };
    let scenarios = fixtures().join("scenarios.json");
    let output = compare(
        &python,
        &support::example("lantern"),
        &[&scenarios],
        Some("auth"),
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    for line in [
        "  request 2 (vendor GET /v2/lamps/porch): header `authorization`: python `Bearer {secret:api_key}`, rust absent\n",
        "  request 2 (vendor GET /v2/lamps/porch): header `x-key`: python absent, rust `{secret:api_key}`\n",
        "  request 2 (vendor GET /v2/lamps/attic): header `x-key`: python absent, rust `{secret:api_key}`\n",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    for secret in ["lantern-\"quoted\"-key", "lantern-key"] {
        assert!(!stdout.contains(secret), "{secret} printed: {stdout}");
    }
    assert!(
        stdout.ends_with("7 scenarios: 5 identical, 2 different\n"),
        "{stdout}"
    );
}

#[test]
fn a_data_file_written_differently_is_named() {
    let Some(python) = python() else { return };
    // The Python module's `json_result` file holds the vendor's lamps;
    // ask the vendor for another answer on the Rust side only is not
    // possible, so compare the port against a module directory whose
    // main.py writes the file with an extra space.
    let module = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("manifest.json"),
        module.path().join("manifest.json"),
    )
    .unwrap();
    let main = std::fs::read_to_string(fixtures().join("main.py")).unwrap();
    let changed = main.replace(
        "return self.json_result(\"lamps\", response.json())",
        "return self.json_result(\"lamps\", response.json() + [\"extra\"])",
    );
    assert_ne!(main, changed);
    std::fs::write(module.path().join("main.py"), changed).unwrap();
    let scenarios = fixtures().join("scenarios.json");
    let output = Command::new(env!("CARGO_BIN_EXE_sekoia-automation"))
        .args(["compare", "--python", &python, "--module"])
        .arg(module.path())
        .arg("--rust")
        .arg(support::example("lantern"))
        .arg(&scenarios)
        .env_remove("LANTERN_VARIANT")
        .output_bounded();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "  data directory file `lamps-{uuid-1}.json`: content `/2`: python \"extra\", rust absent\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("7 scenarios: 6 identical, 1 different\n"),
        "{stdout}"
    );
}

#[test]
fn a_port_pushing_another_event_is_different_and_the_batch_and_field_are_named() {
    let Some(python) = python() else { return };
    let scenarios = fixtures().join("scenarios.json");
    let output = compare(
        &python,
        &support::example("lantern"),
        &[&scenarios],
        Some("batch"),
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("DIFFERENT: scenario `collect the lamp history until 3 events`"),
        "{stdout}"
    );
    assert!(
        stdout.contains(concat!(
            "  request 3 (platform POST /intake/batch): body `/jsons/2`: ",
            r#"python "{\"id\":\"attic\",\"on\":false,\"watts\":7.5}", "#,
            r#"rust "{\"id\":\"attic\",\"on\":true,\"watts\":7.5}""#,
            "\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("7 scenarios: 6 identical, 1 different\n"),
        "{stdout}"
    );
}

/// A scenario of `collect-lamp-events` whose 42 events (231,000 characters
/// each) make two chunks (40 events, then 2), sent at once by both sides.
fn two_chunks(directory: &Path) -> PathBuf {
    let events: Vec<String> = (0..42)
        .map(|n| {
            format!(
                r#"{{"id": "lamp-{n}", "on": {}, "trace": "{}{}"}}"#,
                n % 2 == 0,
                "𝔏".repeat(1000),
                "x".repeat(230_000)
            )
        })
        .collect();
    let scenario = format!(
        r#"{{
  "name": "two chunks",
  "command": "collect-lamp-events",
  "module_configuration": {{"base_url": "{{vendor}}/v2", "api_key": "replaced by the secret"}},
  "secrets": {{"api_key": "lantern-key"}},
  "connector_configuration": {{"intake_key": "lantern-intake"}},
  "vendor": {{"routes": [{{"method": "GET", "path": "/v2/lamps/history", "status": 200,
    "json": {{"events": [{}], "next": "cursor-42"}}}}]}},
  "stop": {{"events": 42, "seconds": 60}}
}}"#,
        events.join(", ")
    );
    let file = directory.join("two-chunks.json");
    std::fs::write(&file, scenario).unwrap();
    file
}

#[test]
fn a_connector_s_chunks_sent_at_once_are_paired_by_content() {
    let Some(python) = python() else { return };
    let directory = tempfile::tempdir().unwrap();
    let scenarios = two_chunks(directory.path());
    let output = compare(&python, &support::example("lantern"), &[&scenarios], None);
    let (stdout, stderr) = text(&output);
    let shown: String = stdout.chars().take(2000).collect();
    assert_eq!(output.status.code(), Some(0), "{shown}\n{stderr}");
    assert!(
        stdout.starts_with("identical: scenario `two chunks` ("),
        "{shown}"
    );
    assert!(
        stdout.ends_with("1 scenario: 1 identical, 0 different\n"),
        "{shown}"
    );
    // Both chunks reached the platform, on each side.
    use sekoia_automation::unversioned::compare::{Program, Scenario, run_side};
    let scenario = Scenario::read(&scenarios).unwrap().remove(0);
    let program = Program::Rust {
        binary: support::example("lantern"),
        module: fixtures(),
    };
    let run = run_side(&program, &scenario).unwrap();
    let batches = run
        .requests
        .iter()
        .filter(|exchange| exchange.request.path.ends_with("/batch"))
        .count();
    assert_eq!(batches, 2);
}

/// The Python side of `scenario`, run on the Lantern module in `module`.
fn python_run(
    python: &str,
    module: &Path,
    scenario: &sekoia_automation::unversioned::compare::Scenario,
) -> sekoia_automation::unversioned::compare::Run {
    use sekoia_automation::unversioned::compare::{Program, run_side};
    let program = Program::Python {
        interpreter: python.into(),
        module: module.to_path_buf(),
    };
    run_side(&program, scenario).unwrap()
}

fn scenario(name: &str) -> sekoia_automation::unversioned::compare::Scenario {
    use sekoia_automation::unversioned::compare::Scenario;
    Scenario::read(&fixtures().join("scenarios.json"))
        .unwrap()
        .into_iter()
        .find(|scenario| scenario.name == name)
        .expect("the scenario")
}

#[test]
fn two_runs_of_a_connector_that_logs_are_identical_and_another_message_is_not() {
    use sekoia_automation::unversioned::compare::differences;
    let Some(python) = python() else { return };
    let scenario = scenario("collect the lamp history until 3 events");
    let first = python_run(&python, &fixtures(), &scenario);
    let second = python_run(&python, &fixtures(), &scenario);
    let logs: Vec<String> = first
        .requests
        .iter()
        .filter(|exchange| exchange.request.path.ends_with("/logs"))
        .map(|exchange| String::from_utf8_lossy(&exchange.request.body).into_owned())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(logs[0].contains(r#""date": "20"#), "{logs:?}");
    assert_eq!(differences(&first, &second), []);

    // The same module logging another message.
    let module = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("manifest.json"),
        module.path().join("manifest.json"),
    )
    .unwrap();
    let main = std::fs::read_to_string(fixtures().join("main.py")).unwrap();
    let changed = main.replace("f\"pushed {len(", "f\"sent {len(");
    assert_ne!(main, changed);
    std::fs::write(module.path().join("main.py"), changed).unwrap();
    let other = python_run(&python, module.path(), &scenario);
    let found = differences(&first, &other);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        r#"request 4 (platform POST /api/v1/symphony/logs): body `/logs/0/message`: python "pushed 3 lamp events", rust "sent 3 lamp events""#
    );
}

#[test]
fn the_platform_answers_the_secrets_as_written() {
    use sekoia_automation::unversioned::compare::Scenario;
    let Some(python) = python() else { return };
    let text = r#"{
  "command": "get-lamp",
  "module_configuration": {"base_url": "{vendor}/v2/", "api_key": "replaced by the secret"},
  "secrets": {"api_key": 123456789012345678901234567890},
  "arguments": {"id": "porch"},
  "vendor": {"routes": [{"method": "GET", "path": "/v2/lamps/porch", "status": 200, "json": {}}]}
}"#;
    let scenario = Scenario::parse(text, Path::new("secrets.json"))
        .unwrap()
        .remove(0);
    let run = python_run(&python, &fixtures(), &scenario);
    let vendor = run
        .requests
        .iter()
        .find(|exchange| exchange.server == "vendor")
        .expect("the vendor request");
    let authorization = vendor
        .request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.as_str());
    // Rounded through a `serde_json::Value`, Python would read 1.2345678901234568e+29.
    assert_eq!(
        authorization,
        Some("Bearer 123456789012345678901234567890"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_scenario_error_names_the_file_and_the_key_and_exits_2() {
    let directory = tempfile::tempdir().unwrap();
    let scenarios = directory.path().join("broken.json");
    std::fs::write(
        &scenarios,
        r#"{"scenarios": [{"command": "get-lamp", "vendor": {"routes": [{"method": "GET", "path": "/v2/lamps/porch", "json": {}}]}}]}"#,
    )
    .unwrap();
    // Nothing runs before the scenarios are read: any file will do as the port.
    let rust = Path::new(env!("CARGO_BIN_EXE_sekoia-automation"));
    let output = compare("python3", rust, &[&scenarios], None);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: {}: `scenarios[0].vendor.routes[0].status`: missing: the answer's HTTP status\n",
            scenarios.display()
        )
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_module_directory_without_main_py_is_a_usage_error() {
    let directory = tempfile::tempdir().unwrap();
    let rust = Path::new(env!("CARGO_BIN_EXE_sekoia-automation"));
    let output = Command::new(rust)
        .args(["compare", "--python", "python3", "--module"])
        .arg(directory.path())
        .arg("--rust")
        .arg(rust)
        .arg(fixtures().join("scenarios.json"))
        .output_bounded();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`--module`"), "{stderr}");
    assert!(stderr.contains("no main.py there"), "{stderr}");
}

#[test]
fn the_scenario_of_the_guide_is_a_valid_scenario_file() {
    use sekoia_automation::unversioned::compare::Scenario;
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migrating.md");
    let text = std::fs::read_to_string(&guide).unwrap();
    let section = &text[text
        .find("### With `sekoia-automation compare`")
        .expect("the section of compare")..];
    let start = section.find("```json\n").expect("a JSON example") + "```json\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let scenarios = Scenario::parse(example, &guide).unwrap();
    assert_eq!(scenarios.len(), 1);
    let scenario = &scenarios[0];
    assert_eq!(scenario.command, "get-lamp");
    assert_eq!(scenario.platform_faults.len(), 1);
    assert_eq!(scenario.vendor_routes.len(), 1);
    assert_eq!(scenario.vendor_script.len(), 1);
    assert_eq!(
        (scenario.stop_events, scenario.stop_seconds),
        (Some(3), 30.0)
    );
    assert_eq!(
        scenario.vendor_routes[0]
            .reply
            .reply(&|text| text.to_string()),
        sekoia_automation::testing::Reply::json(
            200,
            r#"{"id": 18446744073709551615, "watts": 0.30000000000000004, "name": "𝔏antern"}"#
        )
    );
}
