//! The quickstart module as a real process: `argv[1]` dispatch, the
//! environment fallback of docs/protocol.md §1, exit codes, and the demo end to end.

mod support;

use base64::Engine as _;
use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};

const MANIFEST: &str = r#"{"slug": "quickstart", "configuration": {"properties": {"base_url": {}, "api_key": {}}, "required": ["base_url", "api_key"], "secrets": ["api_key"]}}"#;

fn setup() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "secret-key-1"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&serde_json::from_str(MANIFEST).unwrap())
        .unwrap();
    (platform, sandbox)
}

fn finished(platform: &LocalPlatform) -> Value {
    platform
        .requests()
        .iter()
        .filter_map(RecordedRequest::json)
        .rfind(|body| body["status"] == "finished")
        .expect("a finished PATCH")
}

const ALERTS: &str = r#"[{"id": "a", "score": 10}, {"id": "b", "score": 95}]"#;

#[test]
fn values_come_from_files_under_the_root() {
    let (platform, sandbox) = setup();
    sandbox
        .set("module_configuration", r#"{"base_url": "https://intel"}"#)
        .unwrap();
    sandbox
        .set(
            "arguments",
            &format!(r#"{{"alerts": {ALERTS}, "threshold": 50}}"#),
        )
        .unwrap();
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triage")
        .output()
        .unwrap();
    support::assert_success(&output);
    let body = finished(&platform);
    assert_eq!(body["results"]["alerts"], 2);
    assert_eq!(
        body["results"]["escalated"],
        json!([{"id": "b", "score": 95}]),
        "inline in, inline out"
    );
    assert_eq!(body["outputs"], json!({"escalate": true, "quiet": false}));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("secret-key-1"), "{stderr}");
    assert!(!stderr.contains(platform.token()), "{stderr}");
}

#[test]
fn values_fall_back_to_environment_variables_plain_or_base64() {
    let (platform, sandbox) = setup();
    for name in ["token", "url_callback"] {
        sandbox.remove(name).unwrap();
    }
    let arguments = format!(r#"{{"alerts": {ALERTS}, "threshold": 99}}"#);
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triage")
        .env("TOKEN", platform.token())
        .env("URL_CALLBACK", platform.callback_url())
        .env("MODULE_CONFIGURATION", r#"{"base_url": "https://intel"}"#)
        .env(
            "ARGUMENTS",
            base64::engine::general_purpose::STANDARD.encode(arguments),
        )
        .output()
        .unwrap();
    support::assert_success(&output);
    let body = finished(&platform);
    assert_eq!(body["results"]["alerts"], 2);
    assert_eq!(body["outputs"], json!({"quiet": true, "escalate": false}));
    assert!(platform.requests().iter().all(
        |r| r.header("authorization") == Some(format!("Bearer {}", platform.token()).as_str())
    ));
}

#[test]
fn a_file_wins_over_the_variable() {
    let (platform, sandbox) = setup();
    sandbox
        .set("module_configuration", r#"{"base_url": "from-file"}"#)
        .unwrap();
    sandbox
        .set("arguments", &format!(r#"{{"alerts": {ALERTS}}}"#))
        .unwrap();
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triage")
        .env("ARGUMENTS", r#"{"alerts": []}"#)
        .output()
        .unwrap();
    support::assert_success(&output);
    assert_eq!(finished(&platform)["results"]["alerts"], 2);
}

#[test]
fn invalid_json_in_a_variable_is_a_clear_error_without_the_value() {
    let (platform, sandbox) = setup();
    sandbox
        .set("module_configuration", r#"{"base_url": "x"}"#)
        .unwrap();
    sandbox.remove("arguments").ok();
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triage")
        .env("ARGUMENTS", "{not json, not base64: hunter2")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the error is reported to the platform"
    );
    let error = finished(&platform)["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("`ARGUMENTS`") && error.contains("base64"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn without_a_token_the_process_fails_naming_the_file_and_the_variable() {
    let (platform, sandbox) = setup();
    sandbox.remove("token").unwrap();
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triage")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = sandbox.configuration_root().join("token");
    assert!(
        stderr.contains(&file.display().to_string()) && stderr.contains("`TOKEN`"),
        "{stderr}"
    );
    assert!(platform.requests().is_empty());
}

#[test]
fn an_unknown_command_exits_1_listing_the_known_ones() {
    let (platform, sandbox) = setup();
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("triag")
        .output()
        .unwrap();
    // As the Python SDK's uncaught `CommandNotFoundError`.
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown command `triag`") && stderr.contains("`triage`"),
        "{stderr}"
    );
    assert!(platform.requests().is_empty());
}

#[test]
fn help_lists_the_items_and_the_tooling() {
    let (platform, sandbox) = setup();
    for flag in ["--help", "-h", "help-module"] {
        let output = sandbox
            .command(support::example("quickstart"))
            .arg(flag)
            .output()
            .unwrap();
        support::assert_success(&output);
        let stdout = String::from_utf8_lossy(&output.stdout);
        for needle in [
            "usage: quickstart COMMAND",
            "triage",
            "action",
            "generate-files [DIR]",
            "check-module [DIR]",
            "run-local COMMAND [OPTIONS]",
            "generate-documentation [DIR]",
        ] {
            assert!(
                stdout.contains(needle),
                "{flag}: {needle:?} not in\n{stdout}"
            );
        }
    }
    assert!(platform.requests().is_empty());
}

#[test]
fn no_command_prints_the_help_on_stderr_and_exits_2() {
    let (platform, sandbox) = setup();
    // The quickstart runs its demo without arguments; an empty argv[1] is
    // what `Module::run` sees when a module is called bare.
    let output = sandbox
        .command(support::example("quickstart"))
        .arg("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("triage") && stderr.contains("run-local COMMAND"),
        "{stderr}"
    );
    assert!(stderr.contains("error: no command given"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(platform.requests().is_empty());
}

#[test]
fn the_quickstart_demo_runs_end_to_end() {
    let output = std::process::Command::new(support::example("quickstart"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    support::assert_success(&output);
    assert!(stdout.contains("\"need_secrets\": true"), "{stdout}");
    assert!(
        stdout.contains("\"escalated_path\": \"escalated-"),
        "{stdout}"
    );
    assert!(stdout.contains("with key [REDACTED]"), "{stdout}");
    assert!(!stdout.contains("4f1c-very-secret"), "{stdout}");
    assert!(
        stdout.contains(r#"holds: [{"id":"a2","score":91},{"id":"a3","score":75}]"#),
        "{stdout}"
    );
}
