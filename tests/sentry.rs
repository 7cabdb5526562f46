//! Errors reported to the platform's Sentry (docs/protocol.md §8), as real
//! processes (`examples/sentry_probe.rs`) against the local platform, whose
//! `/api/<project>/envelope/` route records what a Sentry server would
//! store: the events of an action's failure and panic and of a trigger's
//! error log and failure, with their level, tags, environment and contexts,
//! the secrets redacted; nothing (no request, no thread) without a DSN; a
//! slow or unreachable Sentry never holds a trigger past its stop grace.

mod support;

use std::io::Read;
use std::process::{Child, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sekoia_automation::testing::{Fault, LocalPlatform, Sandbox};
use sekoia_automation::trigger::TriggerOptions;
use sekoia_automation::{Action, ActionContext, ActionError, Module, Outcome};
use serde_json::{Value, json};
use support::child::Bounded;

const WAIT: Duration = Duration::from_secs(60);
/// Process scheduling on a busy machine, on top of the grace.
const SLACK: Duration = Duration::from_millis(1500);

const API_KEY: &str = "probe-key-\"é𝄞\\-4f1c";
const PASSWORD: &str = "trigger-pass-9b2e";
const BASE_URL: &str = "https://vendor.example/api";

fn setup() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": API_KEY}));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "name": "Probe module",
            "slug": "probe",
            "configuration": {
                "properties": {"api_key": {}, "base_url": {}},
                "secrets": ["api_key"]
            }
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({"base_url": BASE_URL}))
        .unwrap();
    sandbox.set_json("arguments", &json!({})).unwrap();
    sandbox
        .set_json(
            "trigger_configuration",
            &json!({"password": PASSWORD, "interval": 5}),
        )
        .unwrap();
    sandbox.set("sentry_dsn", &platform.sentry_dsn()).unwrap();
    sandbox.set("environment", "prod").unwrap();
    sandbox.set("community_uuid", "community-1").unwrap();
    sandbox.set("playbook_uuid", "playbook-1").unwrap();
    sandbox.set("playbook_run_uuid", "playbook-run-1").unwrap();
    sandbox.set("node_run_uuid", "node-run-1").unwrap();
    sandbox
        .set("trigger_configuration_uuid", "trigger-configuration-1")
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    (platform, sandbox)
}

/// A running example, its stderr read as it comes.
struct Running {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

fn spawn(sandbox: &Sandbox, command: &str) -> Running {
    let mut child = sandbox
        .command(support::example("sentry_probe"))
        .arg(command)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Running { child, stderr }
}

/// Waits for the child (at most `WAIT`, then kills it): its status, stderr
/// and how long it took.
fn finish(running: Running) -> (ExitStatus, String, Duration) {
    let Running { mut child, stderr } = running;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WAIT {
            let _ = child.kill();
            panic!("the process did not end within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, stderr.join().unwrap(), started.elapsed())
}

fn run(sandbox: &Sandbox, command: &str) -> String {
    let (_, stderr, _) = finish(spawn(sandbox, command));
    stderr
}

fn tags(item: &str, item_type: &str) -> Value {
    json!({
        "module": "Probe module",
        "community": "community-1",
        "playbook_uuid": "playbook-1",
        "playbook_run_uuid": "playbook-run-1",
        "node_run_uuid": "node-run-1",
        "trigger_configuration_uuid": "trigger-configuration-1",
        "name": item,
        "item_type": item_type,
    })
}

/// No secret value in any recorded envelope, in any form.
fn assert_no_secret(platform: &LocalPlatform) {
    for request in platform.requests() {
        if request.route() != "envelope" {
            continue;
        }
        let body = request.body_text();
        for secret in [
            API_KEY,
            PASSWORD,
            &serde_json::to_string(API_KEY).unwrap()[1..API_KEY.len()],
            "probe-key",
        ] {
            assert!(!body.contains(secret), "{secret:?} in {body}");
        }
        assert_eq!(
            request.header("content-type"),
            Some("application/x-sentry-envelope")
        );
        let auth = request.header("x-sentry-auth").unwrap();
        assert!(
            auth.starts_with("Sentry sentry_key=sekoia-local, sentry_version=7, sentry_client=sekoia-automation.rust/"),
            "{auth}"
        );
        assert_eq!(request.path, "/api/1/envelope/");
        assert_eq!(request.status, 200);
    }
}

fn exception(event: &Value) -> (&str, &str) {
    let exception = &event["exception"]["values"][0];
    (
        exception["type"].as_str().unwrap_or_default(),
        exception["value"].as_str().unwrap_or_default(),
    )
}

#[test]
fn an_explicit_failure_is_not_reported_as_python_self_error_is_not() {
    let (platform, sandbox) = setup();
    let stderr = run(&sandbox, "refuse");
    let finished = platform
        .requests()
        .into_iter()
        .filter(|request| request.method == "PATCH")
        .filter_map(|request| request.json())
        .any(|body| body["error"] == "the IP is not routable");
    assert!(finished, "the failure reached the platform\n{stderr}");
    assert_eq!(platform.sentry_events(), Vec::<Value>::new(), "{stderr}");
}

#[test]
fn an_action_failure_and_its_warning_are_reported_with_tags_and_redacted_contexts() {
    let (platform, sandbox) = setup();
    let stderr = run(&sandbox, "fail");
    let events = platform.sentry_events();
    assert_eq!(events.len(), 2, "{events:#?}\n{stderr}");
    let module_configuration = json!({"base_url": BASE_URL, "api_key": "[REDACTED]"});
    let warning = &events[0];
    assert_eq!(warning["level"], "warning");
    assert_eq!(warning["message"], "careful: the vendor is slow");
    let failure = &events[1];
    assert_eq!(failure["level"], "error");
    assert_eq!(
        exception(failure),
        ("ActionError", "boom: the vendor refused the key [REDACTED]")
    );
    for event in &events {
        assert_eq!(event["tags"], tags("fail", "action"), "{event:#}");
        assert_eq!(event["environment"], "prod");
        assert_eq!(event["platform"], "native");
        assert_eq!(
            event["contexts"],
            json!({"module_configuration": module_configuration})
        );
    }
    assert_no_secret(&platform);
}

#[test]
fn a_panic_in_an_action_is_reported_before_the_process_ends() {
    let (platform, sandbox) = setup();
    let stderr = run(&sandbox, "panic");
    let events = platform.sentry_events();
    assert_eq!(events.len(), 1, "{events:#?}\n{stderr}");
    let (kind, value) = exception(&events[0]);
    assert_eq!(kind, "Panic");
    assert!(
        value.starts_with("the item panicked at examples/sentry_probe.rs:"),
        "{value}"
    );
    assert!(
        value.ends_with(&format!(": cannot parse the answer of {BASE_URL}")),
        "{value}"
    );
    assert_eq!(events[0]["level"], "error");
    assert_eq!(events[0]["tags"], tags("panic", "action"));
    assert_no_secret(&platform);
}

#[test]
fn a_panic_in_a_thread_of_the_item_is_reported_by_the_hook() {
    let (platform, sandbox) = setup();
    let stderr = run(&sandbox, "thread_panic");
    let events = platform.sentry_events();
    assert_eq!(events.len(), 1, "{events:#?}\n{stderr}");
    let (kind, value) = exception(&events[0]);
    assert_eq!(kind, "Panic");
    assert!(
        value.starts_with("the item panicked at examples/sentry_probe.rs:"),
        "{value}"
    );
    assert!(
        value.ends_with("(thread 'worker'): the worker lost the key [REDACTED]"),
        "{value}"
    );
    assert_eq!(events[0]["tags"], tags("thread_panic", "action"));
    assert_no_secret(&platform);
}

#[test]
fn a_trigger_error_log_and_failure_are_reported_once_within_the_rate_limit() {
    let (platform, sandbox) = setup();
    let (status, stderr, _) = finish(spawn(&sandbox, "flaky"));
    assert_eq!(status.code(), Some(0), "{stderr}");
    // Two runs logged the same error and failed with the same error: the
    // platform's logs and Sentry each got them once (the log rate limit).
    let events = platform.sentry_events();
    assert_eq!(events.len(), 2, "{events:#?}\n{stderr}");
    assert_eq!(events[0]["level"], "error");
    assert_eq!(events[0]["message"], "went wrong");
    assert_eq!(events[1]["level"], "error");
    assert_eq!(
        exception(&events[1]),
        (
            "TriggerError",
            &*format!("kaput: {BASE_URL} refused [REDACTED]")
        )
    );
    for event in &events {
        assert_eq!(event["tags"], tags("flaky", "trigger"), "{event:#}");
        assert_eq!(event["environment"], "prod");
        assert_eq!(
            event["contexts"],
            json!({
                "module_configuration": {"base_url": BASE_URL, "api_key": "[REDACTED]"},
                "trigger_configuration": {"password": "[REDACTED]", "interval": 5},
            })
        );
    }
    assert_no_secret(&platform);
}

#[test]
fn an_unknown_command_is_reported() {
    let (platform, sandbox) = setup();
    let (status, stderr, _) = finish(spawn(&sandbox, "nope"));
    assert_ne!(status.code(), Some(0), "{stderr}");
    let events = platform.sentry_events();
    assert_eq!(events.len(), 2, "{events:#?}\n{stderr}");
    let error = "Could not find any Action or Trigger matching command 'nope'";
    assert_eq!(events[0]["message"], error);
    assert_eq!(
        exception(&events[1]),
        (
            "CommandNotFoundError",
            &*format!("CommandNotFoundError: {error}")
        )
    );
    let mut expected = tags("", "");
    let map = expected.as_object_mut().unwrap();
    map.remove("name");
    map.remove("item_type");
    for event in &events {
        assert_eq!(event["level"], "error");
        assert_eq!(event["tags"], expected);
        assert_eq!(event["environment"], "prod");
    }
}

#[test]
fn without_a_dsn_nothing_is_sent() {
    let (platform, sandbox) = setup();
    sandbox.remove("sentry_dsn").unwrap();
    let stderr = run(&sandbox, "fail");
    let routes: Vec<String> = platform
        .requests()
        .iter()
        .map(|request| request.route().to_string())
        .collect();
    assert_eq!(routes, ["callback", "callback"], "{stderr}");
}

/// Lists the names of this process's threads.
struct Threads;

impl Action for Threads {
    type ModuleConfiguration = Value;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Threads";
    const DESCRIPTION: &'static str = "List the process's threads";

    fn run(&self, _: &ActionContext<'_, Value>, _: Value) -> Result<Outcome<Value>, ActionError> {
        // A new thread takes its name once it runs: look a few times.
        let mut names = Vec::new();
        for _ in 0..50 {
            names.clear();
            for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
                let comm = task.path().join("comm");
                if let Ok(name) = std::fs::read_to_string(comm) {
                    names.push(name.trim().to_string());
                }
            }
            if names.iter().any(|name| name == "sekoia-sentry") {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Outcome::success(json!({"threads": names})))
    }
}

#[test]
fn the_sender_thread_runs_only_with_a_dsn() {
    let (platform, sandbox) = setup();
    let threads = |platform: &LocalPlatform| -> Vec<String> {
        platform.clear();
        let code = Module::<Value>::with_settings(sandbox.settings())
            .register("threads", Threads)
            .run_command("threads");
        assert_eq!(code, ExitCode::SUCCESS);
        let finished = platform
            .requests()
            .iter()
            .filter_map(|request| request.json())
            .find(|body| body["status"] == "finished")
            .unwrap();
        serde_json::from_value(finished["results"]["threads"].clone()).unwrap()
    };
    // Without first: no earlier run in this process started a sender.
    let dsn = platform.sentry_dsn();
    sandbox.remove("sentry_dsn").unwrap();
    let without = threads(&platform);
    assert!(
        !without.iter().any(|name| name == "sekoia-sentry"),
        "{without:?}"
    );
    assert!(platform.sentry_events().is_empty());
    sandbox.set("sentry_dsn", &dsn).unwrap();
    let with = threads(&platform);
    assert!(with.iter().any(|name| name == "sekoia-sentry"), "{with:?}");
}

#[test]
fn a_slow_or_unreachable_sentry_does_not_hold_the_stop() {
    // Slow: every envelope waits a minute for its answer. Unreachable: a
    // listener that never accepts (the connection hangs).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for case in ["slow", "unreachable"] {
        let (platform, sandbox) = setup();
        if case == "slow" {
            platform.inject(
                Fault::delay(Duration::from_secs(60))
                    .always()
                    .on_path_suffix("/envelope/"),
            );
        } else {
            sandbox
                .set(
                    "sentry_dsn",
                    &format!("http://sekoia-local@{}/1", silent.local_addr().unwrap()),
                )
                .unwrap();
        }
        let running = spawn(&sandbox, "noisy");
        assert!(
            platform.wait_for(WAIT, |requests| requests
                .iter()
                .any(|request| request.route() == "callback"
                    && request.json().is_some_and(|body| body["name"] == "started"))),
            "{case}: the trigger did not start"
        );
        // Its errors are queued (and dropped) while it runs.
        std::thread::sleep(Duration::from_millis(300));
        let pid = i32::try_from(running.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let (status, stderr, elapsed) = finish(running);
        assert_eq!(status.code(), Some(0), "{case}: {stderr}");
        assert!(
            !stderr.contains("did not end within the stop grace"),
            "{case}: {stderr}"
        );
        assert!(
            elapsed <= TriggerOptions::default().stop_grace() + SLACK,
            "{case}: exited {elapsed:?} after SIGTERM\n{stderr}"
        );
        // The platform's logs still got the trigger's errors.
        assert!(
            platform
                .requests()
                .iter()
                .any(|request| request.route() == "logs"),
            "{case}"
        );
    }
}

#[test]
fn run_local_shows_what_would_be_reported() {
    let directory = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(support::example("sentry_probe"))
        .args(["run-local", "fail", "-c"])
        .arg(json!({"api_key": API_KEY, "base_url": BASE_URL}).to_string())
        .current_dir(directory.path())
        .env_remove("SEKOIA_AUTOMATION_MANIFEST")
        .env_remove("SEKOIA_AUTOMATION_ROOT")
        .env_remove("SEKOIA_AUTOMATION_DATA")
        .output_bounded();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("sentry warning: careful: the vendor is slow\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sentry error: ActionError: boom: the vendor refused the key [REDACTED]\n"),
        "{stdout}"
    );
    assert!(!stdout.contains(API_KEY), "{stdout}");

    // As JSON: the document's `sentry` list.
    let output = std::process::Command::new(support::example("sentry_probe"))
        .args(["run-local", "fail", "--json", "-c"])
        .arg(json!({"api_key": API_KEY, "base_url": BASE_URL}).to_string())
        .current_dir(directory.path())
        .env_remove("SEKOIA_AUTOMATION_MANIFEST")
        .env_remove("SEKOIA_AUTOMATION_ROOT")
        .env_remove("SEKOIA_AUTOMATION_DATA")
        .output_bounded();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let reported = document["sentry"].as_array().unwrap();
    assert_eq!(reported.len(), 2, "{document}");
    assert_eq!(reported[0]["message"], "careful: the vendor is slow");
    assert_eq!(
        exception(&reported[1]),
        ("ActionError", "boom: the vendor refused the key [REDACTED]")
    );
}

#[test]
fn a_connector_failure_is_reported_with_its_configuration_redacted() {
    let (platform, sandbox) = setup();
    sandbox.remove("trigger_configuration_uuid").unwrap();
    sandbox
        .set("connector_configuration_uuid", "connector-configuration-1")
        .unwrap();
    sandbox.set("intake_url", &platform.intake_url()).unwrap();
    sandbox
        .set_json("module_configuration", &json!({"base_url": BASE_URL}))
        .unwrap();
    sandbox
        .set_json(
            "connector_configuration",
            &json!({"intake_key": "intake-key-5d0a", "total": 3, "page_size": "many"}),
        )
        .unwrap();
    let mut child = sandbox
        .command(support::example("connector"))
        .arg("collect_feed")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A configuration error: reported, then the trigger waits for its stop.
    let reported = platform.wait_for(WAIT, |requests| {
        requests
            .iter()
            .filter(|request| request.route() == "envelope")
            .count()
            >= 2
    });
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let events = platform.sentry_events();
    assert!(reported, "{events:#?}");
    assert_eq!(events.len(), 2, "{events:#?}");
    let (kind, value) = exception(&events[0]);
    assert_eq!(kind, "TriggerError");
    assert!(value.contains("connector_configuration"), "{value}");
    assert_eq!(events[1]["level"], "critical");
    assert_eq!(events[1]["message"], "Configuration error");
    let mut expected = tags("collect_feed", "trigger");
    let map = expected.as_object_mut().unwrap();
    map.remove("trigger_configuration_uuid");
    map.insert(
        "connector_configuration_uuid".into(),
        "connector-configuration-1".into(),
    );
    for event in &events {
        assert_eq!(event["tags"], expected, "{event:#}");
        assert_eq!(
            event["contexts"]["connector_configuration"],
            json!({"intake_key": "[REDACTED]", "total": 3, "page_size": "many"})
        );
    }
    for request in platform.requests() {
        if request.route() == "envelope" {
            assert!(!request.body_text().contains("intake-key-5d0a"));
        }
    }
}
