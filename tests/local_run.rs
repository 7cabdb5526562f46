//! `run-local`: the sample module's binary runs one of its items against the
//! embedded platform and prints what the item sent.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::child::Bounded;

const CONFIGURATION: &str = r#"{"base_url": "https://intel", "api_key": "k-123"}"#;

/// The sample module's directory: its generated manifests.
fn module_directory() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sample_module");
    std::fs::copy(
        fixtures.join("manifest.json"),
        directory.path().join("manifest.json"),
    )
    .unwrap();
    directory
}

fn run_local(directory: &Path, arguments: &[&str]) -> Output {
    Command::new(support::example("sample_module"))
        .arg("run-local")
        .args(arguments)
        .current_dir(directory)
        .env_remove("SEKOIA_AUTOMATION_MANIFEST")
        .env_remove("SEKOIA_AUTOMATION_ROOT")
        .env_remove("SEKOIA_AUTOMATION_DATA")
        .output_bounded()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_action_prints_its_results_branches_and_logs() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &[
            "lookup",
            "ip=10.0.0.1",
            r#"tags=["a","b"]"#,
            "-c",
            CONFIGURATION,
        ],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains(
            "run-local: action `lookup` (Lookup IP) against the local platform at http://127.0.0.1:"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("info: looking 10.0.0.1 up at https://intel"),
        "{stdout}"
    );
    assert!(stdout.contains("\"severity\": \"high\""), "{stdout}");
    assert!(stdout.contains("branches: malicious (active)"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("success (exit code 0)"),
        "{stdout}"
    );
}

#[test]
fn an_action_as_json_with_arguments_from_a_file() {
    let directory = module_directory();
    let arguments = directory.path().join("arguments.json");
    std::fs::write(&arguments, r#"{"ip": "8.8.8.8", "threshold": "low"}"#).unwrap();
    let configuration = directory.path().join("configuration.json");
    std::fs::write(&configuration, CONFIGURATION).unwrap();
    let output = run_local(
        directory.path(),
        &[
            "lookup",
            "--arguments",
            arguments.to_str().unwrap(),
            "--module-configuration",
            configuration.to_str().unwrap(),
            "-m",
            "timeout=5",
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["command"], "lookup");
    assert_eq!(document["kind"], "action");
    assert_eq!(document["success"], true);
    assert_eq!(document["exit_code"], 0);
    assert_eq!(document["results"]["severity"], "low");
    assert_eq!(
        document["outputs"],
        json!({"malicious": true}),
        "low >= low"
    );
    assert!(
        document["logs"][0]
            .as_str()
            .unwrap()
            .contains("info: looking 8.8.8.8 up")
    );
    assert!(document["error"].is_null());
}

#[test]
fn a_failing_action_exits_non_zero_with_its_error() {
    let directory = module_directory();
    let output = run_local(directory.path(), &["lookup", "-c", CONFIGURATION, "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["success"], false);
    let error = document["error"].as_str().unwrap();
    assert!(error.contains("missing field `ip`"), "{error}");
}

#[test]
fn the_account_validator_runs_too() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &[
            "validate_module_configuration",
            "-c",
            CONFIGURATION,
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["results"], json!({"success": true}));
}

#[test]
fn a_trigger_prints_each_event_and_stops_after_n() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &[
            "watch",
            "interval_ms=0",
            "-c",
            CONFIGURATION,
            "--events",
            "3",
        ],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("run-local: trigger `watch` (Watch indicators)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"event #1 `indicator 1`: {"value":"10.0.0.1","severity":"high","locations":[{"country":"FR","city":"Paris"}]}"#),
        "{stdout}"
    );
    assert!(stdout.contains("event #3 `indicator 3`"), "{stdout}");
    // Exactly 3, even at full speed: the trigger stops itself.
    assert!(!stdout.contains("event #4"), "{stdout}");
    assert!(stdout.contains("events sent: 3\n"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("success (exit code 0)"),
        "{stdout}"
    );
}

#[test]
fn a_trigger_as_json_until_a_timeout() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &["watch", "-c", CONFIGURATION, "--timeout", "0.5", "--json"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    // JSON lines as the run goes, the summary last.
    let stdout = text(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let (document, progress) = lines.split_last().unwrap();
    assert_eq!(document["kind"], "trigger");
    let events = document["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{document}");
    assert_eq!(events[0]["name"], "indicator 1");
    assert_eq!(events[0]["event"]["value"], "10.0.0.1");
    let printed: Vec<&Value> = progress
        .iter()
        .filter_map(|line| line.get("event"))
        .collect();
    assert_eq!(printed.len(), events.len(), "{stdout}");
    assert_eq!(*printed[0], events[0]);
}

#[test]
fn a_trigger_with_a_configuration_error_fails_instead_of_hanging() {
    let directory = module_directory();
    let output = run_local(
        directory.path(),
        &[
            "watch",
            "interval_ms=\"often\"",
            "-c",
            CONFIGURATION,
            // A bound for the test only: the run ends long before.
            "--timeout",
            "60",
        ],
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("stopping (a critical log: the trigger cannot work)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(": critical: Configuration error"),
        "{stdout}"
    );
    // The module exited 0 (a trigger stops cleanly after its critical
    // log): the last line says why the run failed, not "exit code 0".
    assert!(
        stdout.trim_end().ends_with(
            "failure: the trigger logged a critical error and stopped (see its logs above)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("exit code 0"), "{stdout}");
}

#[test]
fn a_failing_action_in_text_says_why_it_failed() {
    // The action reports an error and its process exits 0, as on the
    // platform: run-local exits 1 and says the action's error is the cause.
    let directory = module_directory();
    let output = run_local(directory.path(), &["lookup", "-c", CONFIGURATION]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error: "), "{stdout}");
    assert!(stdout.contains("missing field `ip`"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("failure: the action finished with an error (see `error:` above)"),
        "{stdout}"
    );
    assert!(!stdout.contains("exit code 0"), "{stdout}");
}

#[test]
fn the_help_names_the_binary() {
    let directory = module_directory();
    let output = run_local(directory.path(), &["--help"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.starts_with("usage: sample_module run-local COMMAND [KEY=VALUE ...] [OPTIONS]\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("<module>"), "{stdout}");
    // A usage error shows the same text on stderr.
    let output = run_local(directory.path(), &["lookup", "--events"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("\n\nusage: sample_module run-local COMMAND"),
        "{stderr}"
    );
}

#[test]
fn a_trigger_without_its_module_configuration_stops_at_its_critical_log() {
    // No `-c`: the module configuration lacks its required fields. On the
    // platform the trigger would log critical and wait 120 s; locally the
    // run stops there and fails, rather than waiting for events.
    let directory = module_directory();
    let output = run_local(directory.path(), &["watch", "--events", "3", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    // A trigger's `--json` prints JSON lines as the run goes (here its two
    // logs), the summary document last.
    let stdout = text(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let (document, progress) = lines.split_last().unwrap();
    assert_eq!(progress.len(), 2, "{stdout}");
    assert!(
        progress.iter().all(|line| line.get("log").is_some()),
        "{stdout}"
    );
    assert_eq!(document["success"], false);
    assert_eq!(document["events"], json!([]));
    let logs = document["logs"].as_array().unwrap();
    let with_level = |level: &str| -> Vec<&str> {
        logs.iter()
            .filter(|log| log["level"] == level)
            .map(|log| log["message"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        with_level("critical"),
        ["Configuration error"],
        "{document}"
    );
    assert!(
        with_level("error")
            .iter()
            .any(|message| message.contains("api_key") && message.contains("module_configuration")),
        "the error names what is missing: {document}"
    );
}

#[test]
fn given_directories_are_used_and_kept() {
    let directory = module_directory();
    let root = directory.path().join("symphony");
    let data = directory.path().join("data");
    let output = run_local(
        directory.path(),
        &[
            "lookup",
            "ip=1.1.1.1",
            "-c",
            CONFIGURATION,
            "--root",
            root.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let arguments: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("arguments")).unwrap()).unwrap();
    assert_eq!(arguments, json!({"ip": "1.1.1.1"}));
    assert!(data.is_dir());
}

#[test]
fn usage_errors_exit_with_2() {
    let directory = module_directory();
    let output = run_local(directory.path(), &["nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no item is registered under `nope`: this module knows `lookup`, `watch`, `validate_module_configuration`"),
        "{}",
        text(&output.stderr)
    );
    let output = run_local(directory.path(), &["lookup", "--events"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`--events` needs a value"));
}
