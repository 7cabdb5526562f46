//! The quickstart module as a real process: `argv[1]` dispatch, the
//! environment fallback of docs/protocol.md §1, exit codes, and the demo end to end;
//! and the bounded wait on a child that every process test uses.

mod support;

use std::time::Duration;

use base64::Engine as _;
use sekoia_automation::testing::{LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};
use support::child::Bounded;

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
        .output_bounded();
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
        .output_bounded();
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
        .output_bounded();
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
        .output_bounded();
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
        .output_bounded();
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
        .output_bounded();
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
            .output_bounded();
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
        .output_bounded();
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
    let output = std::process::Command::new(support::example("quickstart")).output_bounded();
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

// The tests' bounded wait on a child (tests/support/child.rs).

#[test]
fn a_child_past_its_deadline_is_killed_and_the_panic_names_it() {
    let panic = std::panic::catch_unwind(|| {
        std::process::Command::new("sh")
            .args(["-c", "echo pid $$; echo stuck waiting >&2; exec sleep 1000"])
            .output_within(Duration::from_secs(2))
    })
    .expect_err("the child outlived its deadline");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(
        message.starts_with(
            "`sh -c echo pid $$; echo stuck waiting >&2; exec sleep 1000` did not exit within 2s: killed (signal: 9 (SIGKILL))"
        ),
        "{message}"
    );
    assert!(message.contains("stuck waiting"), "{message}");
    // Killed and reaped: the process is gone.
    let pid: u32 = message
        .split("\npid ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {message}"));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "{message}"
    );
}

#[test]
fn a_child_that_exits_in_time_gives_its_status_and_all_its_output() {
    // More than a pipe holds (64 KiB) on each stream: read while it runs.
    let output = std::process::Command::new("sh")
        .args([
            "-c",
            "head -c 200000 /dev/zero; head -c 100000 /dev/zero >&2; echo done >&2; exit 3",
        ])
        .output_bounded();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(output.stdout, vec![0; 200_000]);
    assert_eq!(output.stderr.len(), 100_005);
    assert!(output.stderr.ends_with(b"\0done\n"));
}

#[test]
fn a_spawned_child_is_finished_and_a_pipe_held_open_past_its_exit_is_reported() {
    let child = std::process::Command::new("sh")
        .args(["-c", "echo out; exit 4"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = support::child::finish(child, "sh", support::child::DEADLINE);
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(output.stdout, b"out\n");
    assert!(output.stderr.is_empty());

    // The shell exits at once; the `sleep` it leaves holds its stdout.
    let child = std::process::Command::new("sh")
        .args(["-c", "sleep 1000 & echo $!"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let panic = std::panic::catch_unwind(|| {
        support::child::finish(child, "sh with a sleep", Duration::from_secs(2))
    })
    .expect_err("the pipe stayed open");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    let sleep = message.lines().last().unwrap_or_default().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-9", &sleep])
        .output_bounded();
    assert!(killed.status.success(), "{message}");
    assert!(
        message.starts_with(
            "`sh with a sleep` exited (exit status: 0) but its stdout or stderr was still open 2s after it started"
        ),
        "{message}"
    );
}
