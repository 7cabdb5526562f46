//! The runtime against a module that misbehaves (`examples/hostile.rs`), as
//! real processes against the embedded platform: a stop ends a trigger
//! within the stop grace whatever its code and the platform do, and secrets
//! never leave the process, in any form, on stderr or in any request.

mod support;

use std::io::Read;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::trigger::TriggerOptions;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
/// Process scheduling on a busy machine, on top of the grace.
const SLACK: Duration = Duration::from_millis(1500);

const API_KEY: &str = "plain-key-4f1c9a";
const PASSWORD: &str = r#"pa"ss\word-7e2"#;
const PASSPHRASE: &str = "sécrèt phrâse ✓ 𝄞";

fn setup() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({
        "api_key": API_KEY, "password": PASSWORD, "passphrase": PASSPHRASE, "pin": "abc"
    }));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "hostile",
            "configuration": {
                "properties": {"api_key": {}, "password": {}, "passphrase": {}, "pin": {}},
                "secrets": ["api_key", "password", "passphrase", "pin"]
            }
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    (platform, sandbox)
}

/// A running example, its stderr read as it comes (a full pipe would block it).
struct Running {
    child: Child,
    stderr: std::thread::JoinHandle<String>,
}

fn spawn(sandbox: &Sandbox, command: &str) -> Running {
    let mut child = sandbox
        .command(support::example("hostile"))
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

fn terminate(running: &Running) {
    let pid = i32::try_from(running.child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
}

/// Waits for the child (at most `WAIT`, then kills it): its status, stderr,
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
    let elapsed = started.elapsed();
    (status, stderr.join().unwrap(), elapsed)
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

fn events(platform: &LocalPlatform) -> usize {
    platform
        .requests()
        .iter()
        .filter(|request| request.route() == "callback")
        .count()
}

fn set_mode(sandbox: &Sandbox, configuration: Value) {
    sandbox
        .set_json("trigger_configuration", &configuration)
        .unwrap();
}

/// The stop ended the process within the grace, as a clean stop (or, for
/// a SIGTERM that came before the runtime listened for it, by the signal's
/// default action).
fn assert_stopped_in_time(status: ExitStatus, stderr: &str, elapsed: Duration, when: &str) {
    use std::os::unix::process::ExitStatusExt as _;
    assert!(
        status.code() == Some(0) || (stderr.is_empty() && status.signal() == Some(libc::SIGTERM)),
        "{when}: {status}\n{stderr}"
    );
    assert!(
        elapsed <= TriggerOptions::default().stop_grace() + SLACK,
        "{when}: exited {elapsed:?} after SIGTERM\n{stderr}"
    );
    // A figure, shown with `--nocapture`.
    eprintln!("{when}: exited {elapsed:?} after SIGTERM");
}

/// Nothing of our own stop reads as a platform failure.
fn assert_no_failure_reported(platform: &LocalPlatform, stderr: &str, when: &str) {
    for log in logs(platform) {
        let message = log["message"].as_str().unwrap_or("");
        if message.starts_with("the secret `pin` is shorter") {
            continue;
        }
        assert!(
            log["level"] == "info" || log["level"] == "debug",
            "{when}: {log}"
        );
        assert!(!message.contains("Interrupted"), "{when}: {log}");
    }
    assert!(
        !stderr.contains("An exception occurred"),
        "{when}: {stderr}"
    );
    assert!(!stderr.contains("os error 4"), "{when}: {stderr}");
}

#[test]
fn sigterm_at_any_moment_ends_a_tight_sending_loop_within_the_grace() {
    // After start (before or while the secrets are fetched), during the
    // first events, in steady sending.
    for delay_ms in [0, 5, 30, 100, 300, 800] {
        let (platform, sandbox) = setup();
        set_mode(&sandbox, json!({"mode": "tight_loop"}));
        let child = spawn(&sandbox, "misbehave");
        std::thread::sleep(Duration::from_millis(delay_ms));
        terminate(&child);
        let (status, stderr, elapsed) = finish(child);
        let when = format!("SIGTERM {delay_ms} ms after start");
        assert_stopped_in_time(status, &stderr, elapsed, &when);
        assert_no_failure_reported(&platform, &stderr, &when);
    }
}

#[test]
fn sigterm_in_steady_sending_ends_the_loop_with_a_stopped_send() {
    let (platform, sandbox) = setup();
    set_mode(&sandbox, json!({"mode": "tight_loop"}));
    let child = spawn(&sandbox, "misbehave");
    assert!(platform.wait_for(WAIT, |requests| {
        requests
            .iter()
            .filter(|request| request.route() == "callback")
            .count()
            >= 200
    }));
    terminate(&child);
    let (status, stderr, elapsed) = finish(child);
    assert_stopped_in_time(status, &stderr, elapsed, "steady sending");
    assert_no_failure_reported(&platform, &stderr, "steady sending");
    let sent = events(&platform);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(events(&platform), sent, "nothing is sent after the exit");
}

#[test]
fn sigterm_before_the_secrets_answer_ends_the_start_within_the_grace() {
    let (platform, sandbox) = setup();
    platform.inject(Fault::delay(Duration::from_secs(20)).on_path_suffix("/secrets"));
    set_mode(&sandbox, json!({"mode": "tight_loop"}));
    let child = spawn(&sandbox, "misbehave");
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    let (status, stderr, elapsed) = finish(child);
    assert_stopped_in_time(status, &stderr, elapsed, "before the secrets answer");
    assert_eq!(events(&platform), 0);
}

#[test]
fn a_trigger_that_ignores_the_stop_is_ended_at_the_grace() {
    let (platform, sandbox) = setup();
    set_mode(&sandbox, json!({"mode": "deaf"}));
    let child = spawn(&sandbox, "misbehave");
    assert!(platform.wait_for(WAIT, |requests| {
        requests.iter().any(|request| request.route() == "callback")
    }));
    terminate(&child);
    let (status, stderr, elapsed) = finish(child);
    assert_stopped_in_time(status, &stderr, elapsed, "a deaf trigger");
    assert!(
        stderr.contains("did not end within the stop grace"),
        "{stderr}"
    );
}

/// Queues `records` logs, then stops with the logs endpoint slowed by
/// `delay` per request: the exit comes within the grace, and what was not
/// sent is on stderr.
fn logs_left_on_stop(records: u64, delay: Duration) -> (LocalPlatform, String) {
    let (platform, sandbox) = setup();
    set_mode(&sandbox, json!({"mode": "log_flood", "records": records}));
    platform.inject(Fault::delay(delay).always().on_path_suffix("/logs"));
    let child = spawn(&sandbox, "misbehave");
    assert!(platform.wait_for(WAIT, |requests| {
        requests.iter().any(|request| request.route() == "callback")
    }));
    terminate(&child);
    let (status, stderr, elapsed) = finish(child);
    assert_stopped_in_time(status, &stderr, elapsed, "queued logs");
    (platform, stderr)
}

#[test]
fn a_stalled_logs_endpoint_does_not_hold_the_exit_and_the_logs_go_to_stderr() {
    let (_platform, stderr) = logs_left_on_stop(3, Duration::from_secs(60));
    assert!(
        stderr.contains("log record(s) could not be sent to the platform before exit"),
        "{stderr}"
    );
    assert!(stderr.contains(": record 2\n"), "{stderr}");
}

#[test]
fn ten_thousand_queued_logs_on_a_slow_endpoint_do_not_hold_the_exit() {
    let (platform, stderr) = logs_left_on_stop(10_000, Duration::from_millis(200));
    let shipped = logs(&platform).len();
    assert!(shipped < 10_000, "{shipped}");
    let left = format!(
        "{} log record(s) could not be sent to the platform before exit",
        10_000 - shipped
    );
    // Records in a request cut short may be on both sides.
    assert!(
        stderr.contains(&left) || stderr.contains("log record(s) could not be sent"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.contains(": record 9999\n"),
        "the last record is kept"
    );
}

/// `secret` inside a JSON string as the Python SDK writes it
/// (`ensure_ascii`: `\u00e9`, surrogate pairs beyond the BMP).
fn python_escaped(secret: &str) -> String {
    let mut escaped = String::new();
    for character in secret.chars() {
        match character {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            ' '..='~' => escaped.push(character),
            _ => {
                let mut units = [0u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    escaped.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    escaped
}

/// Every form a secret takes in text.
fn forms(secret: &str) -> Vec<String> {
    let unquote = |text: String| text[1..text.len() - 1].to_string();
    let percent: String = secret
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    vec![
        secret.to_string(),
        unquote(serde_json::to_string(secret).unwrap()),
        python_escaped(secret),
        unquote(format!("{secret:?}")),
        percent.replace("%20", "+"),
        percent,
    ]
}

fn assert_no_secret(text: &str, where_: &str) {
    for secret in [API_KEY, PASSWORD, PASSPHRASE] {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{where_} holds the secret form `{form}`:\n{text}"
            );
        }
    }
}

#[test]
fn secrets_never_reach_stderr_or_a_request_in_any_form() {
    let (platform, sandbox) = setup();
    set_mode(&sandbox, json!({"mode": "leaky"}));
    // The trigger logs, fails, panics, then stops itself.
    let (status, trigger_stderr, _) = finish(spawn(&sandbox, "misbehave"));
    assert_eq!(status.code(), Some(0), "{trigger_stderr}");
    sandbox.set_json("arguments", &json!({})).unwrap();
    let (_, action_stderr, _) = finish(spawn(&sandbox, "leaky_action"));
    assert_no_secret(&trigger_stderr, "the trigger's stderr");
    assert_no_secret(&action_stderr, "the action's stderr");
    let requests = platform.requests();
    for request in &requests {
        assert_no_secret(
            &request.body_text(),
            &format!("{} {}", request.method, request.path),
        );
    }
    // Not vacuous: the leaks were there, scrubbed.
    let bodies: String = requests.iter().map(RecordedRequest::body_text).collect();
    for text in [&trigger_stderr, &action_stderr, &bodies] {
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    assert!(trigger_stderr.contains("panicked at"), "{trigger_stderr}");
    assert!(action_stderr.contains("panicked at"), "{action_stderr}");
    assert!(bodies.contains("An unexpected error occurred"), "{bodies}");
    // The short secret is named, once per process, never shown.
    for stderr in [&trigger_stderr, &action_stderr] {
        assert_eq!(
            stderr
                .matches("the secret `pin` is shorter than 4 bytes")
                .count(),
            1,
            "{stderr}"
        );
    }
}

#[test]
fn a_failing_trigger_is_restarted_after_a_growing_backoff_not_at_once() {
    let (platform, sandbox) = setup();
    set_mode(&sandbox, json!({"mode": "failing"}));
    let running = spawn(&sandbox, "misbehave");
    let failed = |run: u32| {
        let suffix = format!("(run {run})");
        move |requests: &[RecordedRequest]| {
            requests
                .iter()
                .filter(|request| request.route() == "logs")
                .filter_map(RecordedRequest::json)
                .any(|body| body.to_string().contains(&suffix))
        }
    };
    // Runs 1 and 2 at once, run 3 a second later: wait for it.
    assert!(platform.wait_for(WAIT, failed(3)));
    // Run 4 comes 2 s after run 3: stop before.
    terminate(&running);
    let (status, stderr, _) = finish(running);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let runs = logs(&platform)
        .iter()
        .filter(|log| {
            log["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("An exception occurred"))
        })
        .count();
    assert!((3..=4).contains(&runs), "{runs} runs");
    // The panics are on stderr, scrubbed and bounded.
    assert!(stderr.contains("panicked at"), "{stderr}");
    assert!(stderr.matches("panicked at").count() <= 2, "{stderr}");
}

#[test]
fn the_token_is_never_printed_when_the_end_of_the_run_cannot_be_reported() {
    let (platform, sandbox) = setup();
    // A URL that carries the token (some proxies want it so), and a
    // platform that refuses the finished PATCH.
    sandbox
        .set(
            "url_callback",
            &format!("{}?token={}", platform.callback_url(), platform.token()),
        )
        .unwrap();
    sandbox.set_json("arguments", &json!({})).unwrap();
    platform.inject(
        Fault::status(400)
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    let (status, stderr, _) = finish(spawn(&sandbox, "leaky_action"));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot report the end of the run"),
        "{stderr}"
    );
    assert!(!stderr.contains(platform.token()), "{stderr}");
    assert_no_secret(&stderr, "stderr");
}
