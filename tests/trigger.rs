//! Triggers in-process against the embedded platform (PROTOCOL §4): real
//! loopback HTTP, real files in a sandbox, a manual clock where time rules
//! are checked. Every wait is bounded.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sekoia_automation::StopSignal;
use sekoia_automation::testing::{Clock, ManualClock};
use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::{Level, Module, Settings, Timestamp};
use sekoia_automation::{SendEventError, TriggerOptions};
use sekoia_automation::{Trigger, TriggerContext, TriggerError};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

type Step = Box<dyn FnMut(&TriggerContext<'_, Scripted>, u32) -> Result<(), TriggerError> + Send>;

/// A trigger whose runs do what the test says; `run` number `n` (from 1)
/// calls `step(ctx, n)`.
struct Scripted {
    runs: u32,
    step: Step,
    options: TriggerOptions,
}

impl Scripted {
    fn new(
        step: impl FnMut(&TriggerContext<'_, Scripted>, u32) -> Result<(), TriggerError>
        + Send
        + 'static,
    ) -> Self {
        Scripted {
            runs: 0,
            step: Box::new(step),
            options: TriggerOptions::default(),
        }
    }

    fn with_options(mut self, options: TriggerOptions) -> Self {
        self.options = options;
        self
    }
}

impl Trigger for Scripted {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Scripted";
    const DESCRIPTION: &'static str = "Do what the test says";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        self.runs += 1;
        (self.step)(ctx, self.runs)
    }

    fn options(&self) -> TriggerOptions {
        self.options.clone()
    }
}

struct Env {
    platform: LocalPlatform,
    sandbox: Sandbox,
}

impl Env {
    fn new() -> Self {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        sandbox
            .set_json("trigger_configuration", &json!({}))
            .unwrap();
        // Any free port: tests run in parallel.
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        Env { platform, sandbox }
    }

    fn settings(&self) -> Settings {
        self.sandbox.settings()
    }

    fn run(&self, trigger: Scripted) -> ExitCode {
        Module::<Value>::with_settings(self.settings())
            .register("scripted", trigger)
            .run_command("scripted")
    }

    /// Runs the trigger on its own thread.
    fn spawn(&self, trigger: impl FnOnce() -> Scripted + Send + 'static) -> JoinHandle<ExitCode> {
        let settings = self.settings();
        std::thread::spawn(move || {
            Module::<Value>::with_settings(settings)
                .register("scripted", trigger())
                .run_command("scripted")
        })
    }

    fn requests(&self, route: &str) -> Vec<RecordedRequest> {
        self.platform
            .requests()
            .into_iter()
            .filter(|request| request.route() == route)
            .collect()
    }

    /// Every log record the platform accepted, in order.
    fn logs(&self) -> Vec<Value> {
        logs_of(&self.platform.requests())
    }

    fn wait_for_log(&self, predicate: impl Fn(&Value) -> bool) -> bool {
        self.platform
            .wait_for(WAIT, |requests| logs_of(requests).iter().any(&predicate))
    }
}

fn logs_of(requests: &[RecordedRequest]) -> Vec<Value> {
    requests
        .iter()
        .filter(|request| request.route() == "logs" && request.status == 200)
        .filter_map(RecordedRequest::json)
        .flat_map(|body| body["logs"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn has_log(logs: &[Value], level: &str, message: &str) -> bool {
    logs.iter()
        .any(|log| log["level"] == level && log["message"] == message)
}

/// Moves the clock 120 s at a time until the trigger returns: ends the
/// waits after a critical log, however they interleave with the test.
fn advance_until_done(clock: &ManualClock, handle: JoinHandle<ExitCode>) -> ExitCode {
    let deadline = Instant::now() + WAIT;
    while !handle.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the trigger did not stop in time"
        );
        clock.advance(Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join().unwrap()
}

fn join(handle: JoinHandle<ExitCode>) -> ExitCode {
    let deadline = Instant::now() + WAIT;
    while !handle.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the trigger did not stop in time"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.join().unwrap()
}

#[test]
fn an_event_is_a_python_body_posted_after_the_secrets_get() {
    let env = Env::new();
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.send_event(
            "alert",
            &json!({"ip": "1.2.3.4", "n": 1, "é": [true, null]}),
        )?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let requests = env.platform.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].route(), "secrets");
    assert!(requests[0].body.is_empty());
    let events = env.requests("callback");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.method, "POST");
    assert_eq!(
        event.header("authorization"),
        Some(format!("Bearer {}", env.platform.token()).as_str())
    );
    assert_eq!(event.header("content-type"), Some("application/json"));
    let text = event.body_text();
    let prefix = r#"{"name": "alert", "event": {"ip": "1.2.3.4", "n": 1, "\u00e9": [true, null]}, "request_id": ""#;
    assert!(text.starts_with(prefix), "{text}");
    let request_id = &text[prefix.len()..text.len() - 2];
    assert_eq!(&text[text.len() - 2..], "\"}");
    let uuid = uuid::Uuid::parse_str(request_id).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
}

#[test]
fn module_secrets_are_merged_and_node_secrets_overlaid_without_nulls() {
    let env = Env::new();
    env.platform
        .set_secrets(json!({"api_key": "module-secret-value-1", "region": "eu"}));
    env.platform.set_node_secrets(Some(
        json!({"password": "node-secret-value-2", "token": null}),
    ));
    env.sandbox
        .set_json("module_configuration", &json!({"url": "https://feed"}))
        .unwrap();
    env.sandbox
        .set_json(
            "trigger_configuration",
            &json!({"password": "placeholder", "token": "kept", "frequency": 5}),
        )
        .unwrap();
    let seen = Arc::new(Mutex::new(None));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            *seen.lock().unwrap() = Some((
                ctx.module_configuration().clone(),
                ctx.configuration().clone(),
            ));
            ctx.log(
                Level::Warning,
                "key module-secret-value-1, password node-secret-value-2",
            );
            log::warn!("from the log crate: node-secret-value-2");
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let (module, trigger) = seen.lock().unwrap().take().unwrap();
    assert_eq!(
        module,
        json!({"url": "https://feed", "api_key": "module-secret-value-1", "region": "eu"})
    );
    assert_eq!(
        trigger,
        json!({"password": "node-secret-value-2", "token": "kept", "frequency": 5})
    );
    let logs = env.logs();
    assert!(
        has_log(&logs, "warning", "key [REDACTED], password [REDACTED]"),
        "{logs:?}"
    );
    assert!(has_log(&logs, "warning", "from the log crate: [REDACTED]"));
    for request in env.requests("logs") {
        let text = request.body_text();
        assert!(!text.contains("secret-value"), "{text}");
    }
}

#[test]
fn without_node_value_the_configuration_is_kept() {
    let env = Env::new();
    env.sandbox
        .set_json("trigger_configuration", &json!({"password": "as-written"}))
        .unwrap();
    let seen = Arc::new(Mutex::new(Value::Null));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            *seen.lock().unwrap() = ctx.configuration().clone();
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*seen.lock().unwrap(), json!({"password": "as-written"}));
}

#[test]
fn two_thousand_events_through_a_flaky_platform_all_arrive_once() {
    let env = Env::new();
    env.platform.seed(20_260_102);
    env.platform.inject(
        Fault::status(503)
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.3),
    );
    env.platform.inject(
        Fault::drop_connection()
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.05),
    );
    const EVENTS: u64 = 2000;
    let next = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let code = env.run(Scripted::new({
        let next = Arc::clone(&next);
        move |ctx, _| {
            let mut next = next.lock().unwrap();
            while *next < EVENTS {
                ctx.send_event("sequence", &json!({"i": *next}))?;
                *next += 1;
            }
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*next.lock().unwrap(), EVENTS, "the trigger kept running");
    assert!(started.elapsed() < Duration::from_secs(120));

    let mut request_ids: HashMap<u64, HashSet<String>> = HashMap::new();
    let mut accepted: HashMap<u64, usize> = HashMap::new();
    let (mut failed, mut dropped) = (0, 0);
    for request in env.requests("callback") {
        let body = request.json().unwrap();
        let i = body["event"]["i"].as_u64().unwrap();
        request_ids
            .entry(i)
            .or_default()
            .insert(body["request_id"].as_str().unwrap().to_string());
        match request.status {
            200 => *accepted.entry(i).or_default() += 1,
            503 => failed += 1,
            0 => dropped += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        failed > 400 && dropped > 30,
        "{failed} 503s, {dropped} drops"
    );
    assert_eq!(accepted.len(), EVENTS as usize, "every event arrived");
    assert!(accepted.values().all(|&count| count == 1), "exactly once");
    assert!(
        request_ids.values().all(|ids| ids.len() == 1),
        "every retry of an event carries its request_id"
    );
    let distinct: HashSet<&String> = request_ids.values().flatten().collect();
    assert_eq!(distinct.len(), EVENTS as usize, "a request_id per event");
}

#[test]
fn a_4xx_fails_at_once_and_counts() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(400)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, run| match run {
            1 => {
                let error = ctx.send_event("alert", &json!({"n": 1})).unwrap_err();
                seen.lock().unwrap().push(error.status());
                Err(error.into())
            }
            _ => {
                seen.lock().unwrap().push(Some(ctx.error_count() as u16));
                ctx.stop();
                Ok(())
            }
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(400), Some(1)],
        "status, then the count"
    );
    let sends = env.requests("callback");
    assert_eq!(sends.len(), 1, "not retried");
    assert_eq!(sends[0].status, 400);
    let logs = env.logs();
    assert!(
        logs.iter().any(|log| log["level"] == "error"
            && log["message"]
                .as_str()
                .unwrap()
                .starts_with("An exception occurred\nthe event `alert` was not sent: POST ")),
        "{logs:?}"
    );
}

#[test]
fn a_5xx_is_retried_with_the_same_request_id_and_not_counted() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(503)
            .times(10)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, run| match run {
            1 => {
                let error = ctx.send_event("alert", &json!({"n": 1})).unwrap_err();
                seen.lock().unwrap().push(error.status());
                Err(error.into())
            }
            _ => {
                seen.lock().unwrap().push(Some(ctx.error_count() as u16));
                ctx.send_event("alert", &json!({"n": 2}))?;
                ctx.stop();
                Ok(())
            }
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*seen.lock().unwrap(), [Some(503), Some(0)], "not counted");
    let sends = env.requests("callback");
    assert_eq!(sends.len(), 11, "10 attempts, then the second event");
    let ids: HashSet<String> = sends[..10]
        .iter()
        .map(|request| request.json().unwrap()["request_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(sends[10].status, 200);
}

#[test]
fn a_dropped_connection_is_retried() {
    let env = Env::new();
    env.platform.inject(
        Fault::drop_connection()
            .times(2)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.send_event("alert", &json!({}))?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let statuses: Vec<u16> = env
        .requests("callback")
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [0, 0, 200]);
}

#[test]
fn directories_are_attached_relative_removed_on_request_and_escapes_refused() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(400)
            .on_path_suffix("/callback")
            .when_json("name", json!("failing")),
    );
    let outside = tempfile::tempdir().unwrap();
    let outside_path = outside.path().to_owned();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            let mut seen = seen.lock().unwrap();
            let root = ctx.data_directory().root().to_owned();
            // Removed once sent.
            let file = ctx.write("a.txt", "first")?;
            let removed = file.parent().unwrap().to_owned();
            ctx.send_event_with_directory("removed", &json!({}), &removed, true)?;
            seen.push(format!("removed exists: {}", root.join(&removed).exists()));
            // Kept.
            let file = ctx.write("b.txt", "second")?;
            let kept = file.parent().unwrap().to_owned();
            ctx.send_event_with_directory("kept", &json!({}), &kept, false)?;
            seen.push(format!("kept exists: {}", root.join(&kept).exists()));
            // Absolute inside the data directory: sent relative.
            std::fs::create_dir_all(root.join("nested/dir")).unwrap();
            ctx.send_event_with_directory(
                "absolute",
                &json!({}),
                root.join("nested/./dir"),
                false,
            )?;
            // Refused or invalid: nothing sent.
            for (label, path) in [
                ("missing", root.join("missing")),
                ("missing", "not-there".into()),
                ("parent", "../outside".into()),
                ("parent", "nested/../../x".into()),
                ("absolute-outside", outside_path.clone()),
                ("root", ".".into()),
                ("root", root.clone()),
            ] {
                let error = ctx
                    .send_event_with_directory("refused", &json!({}), &path, true)
                    .unwrap_err();
                let kind = match error {
                    SendEventError::InvalidDirectory { .. } => "invalid",
                    SendEventError::Refused { .. } => "refused",
                    SendEventError::RemoveDataDirectory { .. } => "whole data directory",
                    _ => "other",
                };
                seen.push(format!("{label}: {kind}"));
            }
            #[cfg(unix)]
            {
                std::os::unix::fs::symlink(&outside_path, root.join("link")).unwrap();
                let error = ctx
                    .send_event_with_directory("refused", &json!({}), "link", true)
                    .unwrap_err();
                seen.push(format!(
                    "symlink refused: {}",
                    matches!(error, SendEventError::Refused { .. })
                ));
                assert!(outside_path.exists());
            }
            // A failed send keeps the directory for the next attempt.
            let file = ctx.write("c.txt", "third")?;
            let failing = file.parent().unwrap().to_owned();
            let error = ctx
                .send_event_with_directory("failing", &json!({}), &failing, true)
                .unwrap_err();
            seen.push(format!(
                "failing: {:?}, exists: {}",
                error.status(),
                root.join(&failing).exists()
            ));
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "removed exists: false",
            "kept exists: true",
            "missing: invalid",
            "missing: invalid",
            "parent: refused",
            "parent: refused",
            "absolute-outside: refused",
            "root: whole data directory",
            "root: whole data directory",
            "symlink refused: true",
            "failing: Some(400), exists: true",
        ]
    );
    let sent: Vec<(String, Value)> = env
        .requests("callback")
        .iter()
        .filter_map(RecordedRequest::json)
        .map(|body| {
            (
                body["name"].as_str().unwrap().to_string(),
                body["directory"].clone(),
            )
        })
        .collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[2], ("absolute".to_string(), json!("nested/dir")));
    for (name, directory) in &sent {
        if name != "absolute" {
            let directory = directory.as_str().unwrap();
            assert!(
                uuid::Uuid::parse_str(directory).is_ok(),
                "{name}: {directory}"
            );
        }
    }
}

#[test]
fn a_configuration_error_is_critical_once_and_the_loop_waits_for_a_stop() {
    let env = Env::new();
    let clock = Arc::new(ManualClock::starting_now());
    let runs = Arc::new(AtomicU32::new(0));
    let handle = env.spawn({
        let (clock, runs) = (Arc::clone(&clock), Arc::clone(&runs));
        move || {
            Scripted::new(move |ctx, run| {
                runs.store(run, Ordering::SeqCst);
                if run == 3 {
                    ctx.stop();
                    return Ok(());
                }
                Err(TriggerError::configuration(
                    "`frequency` must be positive: fix the trigger configuration",
                ))
            })
            .with_options(TriggerOptions::default().clock(clock))
        }
    });
    assert!(env.wait_for_log(|log| log["level"] == "critical"));
    // The loop waits 120 s (on the clock) before the next run.
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(119));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    assert!(
        env.wait_for_log(|log| log["level"] == "error" && log["message"] == "Configuration error")
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // After a critical, every run is followed by the wait.
    assert_eq!(advance_until_done(&clock, handle), ExitCode::SUCCESS);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let logs = env.logs();
    let criticals: Vec<&Value> = logs
        .iter()
        .filter(|log| log["level"] == "critical")
        .collect();
    assert_eq!(criticals.len(), 1, "{logs:?}");
    assert_eq!(criticals[0]["message"], "Configuration error");
    assert!(has_log(
        &logs,
        "error",
        "An exception occurred\n`frequency` must be positive: fix the trigger configuration"
    ));
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Typed {
    #[allow(dead_code)]
    frequency: u64,
}

/// A trigger with a typed configuration that never gets to run.
struct TypedTrigger;

impl Trigger for TypedTrigger {
    type ModuleConfiguration = ();
    type Configuration = Typed;
    type Event = Value;
    const NAME: &'static str = "Typed";
    const DESCRIPTION: &'static str = "Typed configuration";

    fn run(&mut self, _: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        panic!("the configuration is invalid: run is never called")
    }
}

#[test]
fn an_invalid_trigger_configuration_is_critical_and_names_the_value() {
    let env = Env::new();
    env.sandbox
        .set_json("trigger_configuration", &json!({"frequency": "often"}))
        .unwrap();
    let stop = Arc::new(StopSignal::new());
    let settings = env.settings();
    let handle = std::thread::spawn({
        let stop = Arc::clone(&stop);
        move || {
            struct Stoppable(TypedTrigger, Arc<StopSignal>);
            impl Trigger for Stoppable {
                type ModuleConfiguration = ();
                type Configuration = Typed;
                type Event = Value;
                const NAME: &'static str = "Typed";
                const DESCRIPTION: &'static str = "Typed configuration";
                fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
                    let _ = (&self.0, ctx);
                    panic!("the configuration is invalid: run is never called")
                }
                fn options(&self) -> TriggerOptions {
                    TriggerOptions::default().stop_signal(Arc::clone(&self.1))
                }
            }
            Module::<()>::with_settings(settings)
                .register("typed", Stoppable(TypedTrigger, stop))
                .run_command("typed")
        }
    });
    assert!(
        env.wait_for_log(
            |log| log["level"] == "critical" && log["message"] == "Configuration error"
        )
    );
    stop.stop();
    assert_eq!(
        join(handle),
        ExitCode::SUCCESS,
        "a stop ends the 120 s wait"
    );
    let logs = env.logs();
    let error = logs
        .iter()
        .find(|log| log["level"] == "error")
        .expect("the exception is logged");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "An exception occurred\nthe configuration value `trigger_configuration` does not match"
        ),
        "{message}"
    );
    assert!(message.contains("TRIGGER_CONFIGURATION"), "{message}");
}

/// Runs the critical-rule scenario: each run advances the clock by `step`
/// and fails, until `failures` runs; the next run stops.
fn critical_scenario(
    step: Duration,
    failures: u32,
) -> (Env, Arc<ManualClock>, JoinHandle<ExitCode>) {
    let env = Env::new();
    let clock = Arc::new(ManualClock::starting_now());
    let handle = env.spawn({
        let clock = Arc::clone(&clock);
        move || {
            let options = TriggerOptions::default().clock(Arc::clone(&clock) as Arc<dyn Clock>);
            Scripted::new(move |ctx, run| {
                if run > failures {
                    ctx.stop();
                    return Ok(());
                }
                clock.advance(step);
                Err(TriggerError::msg(format!(
                    "the feed answered garbage ({run})"
                )))
            })
            .with_options(options)
        }
    });
    (env, clock, handle)
}

#[test]
fn five_consecutive_errors_after_thirty_minutes_without_events_are_critical() {
    let (env, clock, handle) = critical_scenario(Duration::from_secs(7 * 60), 6);
    assert!(env.wait_for_log(|log| log["level"] == "critical"));
    // The sixth failure comes after the wait; no second critical.
    assert_eq!(advance_until_done(&clock, handle), ExitCode::SUCCESS);
    let logs = env.logs();
    let criticals: Vec<&Value> = logs
        .iter()
        .filter(|log| log["level"] == "critical")
        .collect();
    assert_eq!(criticals.len(), 1, "{logs:?}");
    assert_eq!(criticals[0]["message"], "5 successive uncatched errors");
    for run in 1..=6 {
        assert!(has_log(
            &logs,
            "error",
            &format!("An exception occurred\nthe feed answered garbage ({run})")
        ));
    }
}

#[test]
fn errors_in_the_first_thirty_minutes_are_never_critical() {
    let (env, _clock, handle) = critical_scenario(Duration::from_secs(60), 8);
    assert_eq!(
        join(handle),
        ExitCode::SUCCESS,
        "no critical: no 120 s wait"
    );
    let logs = env.logs();
    assert!(
        logs.iter().all(|log| log["level"] != "critical"),
        "{logs:?}"
    );
    assert_eq!(logs.iter().filter(|log| log["level"] == "error").count(), 8);
}

#[test]
fn a_panicking_run_is_a_counted_failure_and_runs_again() {
    let env = Env::new();
    let counts = Arc::new(Mutex::new(Vec::new()));
    let code = env.run(Scripted::new({
        let counts = Arc::clone(&counts);
        move |ctx, run| {
            counts.lock().unwrap().push(ctx.error_count());
            if run < 3 {
                panic!("bad data {run}");
            }
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*counts.lock().unwrap(), [0, 1, 2]);
    let logs = env.logs();
    assert!(logs.iter().any(|log| log["level"] == "error"
        && log["message"].as_str().unwrap().contains("panicked")
        && log["message"].as_str().unwrap().contains("bad data 1")));
}

#[test]
fn a_stop_wakes_a_sleeping_trigger_at_once() {
    let env = Env::new();
    let stop = Arc::new(StopSignal::new());
    let slept = Arc::new(Mutex::new(None));
    let handle = env.spawn({
        let (stop, slept) = (Arc::clone(&stop), Arc::clone(&slept));
        move || {
            Scripted::new(move |ctx, _| {
                let started = Instant::now();
                let full = ctx.sleep(Duration::from_secs(3600));
                *slept.lock().unwrap() = Some((full, started.elapsed(), ctx.running()));
                Ok(())
            })
            .with_options(TriggerOptions::default().stop_signal(stop))
        }
    });
    assert!(env.platform.wait_for(WAIT, |requests| !requests.is_empty()));
    std::thread::sleep(Duration::from_millis(50));
    let stopped_at = Instant::now();
    stop.stop();
    assert_eq!(join(handle), ExitCode::SUCCESS);
    assert!(stopped_at.elapsed() < Duration::from_secs(2));
    let (full, elapsed, running) = slept.lock().unwrap().take().unwrap();
    assert!(!full && !running);
    assert!(elapsed < Duration::from_secs(10));
}

#[test]
fn logs_leave_while_the_trigger_is_blocked_in_its_own_io() {
    let env = Env::new();
    let clock = Arc::new(ManualClock::starting_now());
    let (go, wait) = channel::<()>();
    let handle = env.spawn({
        let clock = Arc::clone(&clock);
        move || {
            let wait = Mutex::new(wait);
            Scripted::new(move |ctx, _| {
                ctx.log(Level::Info, "polling");
                log::info!("from the log crate");
                // Blocked in "slow I/O" until the test says so.
                let _ = wait.lock().unwrap().recv_timeout(WAIT);
                log::error!("the feed is down");
                let _ = wait.lock().unwrap().recv_timeout(WAIT);
                ctx.stop();
                Ok(())
            })
            .with_options(TriggerOptions::default().clock(clock))
        }
    });
    // Info records wait for the 5 s interval (on the clock)...
    assert!(env.platform.wait_for(WAIT, |requests| !requests.is_empty()));
    std::thread::sleep(Duration::from_millis(100));
    assert!(env.logs().is_empty());
    clock.advance(Duration::from_secs(5));
    // ...and leave while the trigger is still blocked.
    assert!(env.wait_for_log(|log| log["message"] == "from the log crate"));
    let logs = env.logs();
    assert_eq!(logs[0]["message"], "polling");
    assert_eq!(logs[0]["level"], "info");
    assert_eq!(logs[0]["date"], clock_date(&logs[0]));
    // An error leaves at once.
    go.send(()).unwrap();
    assert!(
        env.wait_for_log(|log| log["level"] == "error" && log["message"] == "the feed is down")
    );
    go.send(()).unwrap();
    assert_eq!(join(handle), ExitCode::SUCCESS);
}

/// The date field parses as the clock's naive ISO 8601 (returns it as is).
fn clock_date(log: &Value) -> Value {
    let date = log["date"].as_str().unwrap();
    assert_eq!(date.len(), "2026-01-02T03:04:05.123456".len(), "{date}");
    assert_eq!(&date[10..11], "T");
    log["date"].clone()
}

#[test]
fn queued_logs_are_flushed_before_exit() {
    let env = Env::new();
    let code = env.run(Scripted::new(|ctx, _| {
        for n in 0..7 {
            ctx.log(Level::Info, format!("record {n}"));
        }
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let messages: Vec<Value> = env
        .logs()
        .iter()
        .map(|log| log["message"].clone())
        .collect();
    let expected: Vec<Value> = (0..7).map(|n| json!(format!("record {n}"))).collect();
    assert_eq!(messages, expected);
}

// ---- Liveness and metrics ----

enum Command {
    Event,
    Heartbeat,
    Stop,
}

/// A trigger driven by the test through a channel.
fn driven(
    commands: Receiver<Command>,
    done: Sender<()>,
) -> impl FnMut(&TriggerContext<'_, Scripted>, u32) -> Result<(), TriggerError> + Send {
    let commands = Mutex::new(commands);
    move |ctx, _| {
        while ctx.running() {
            let command = commands.lock().unwrap().recv_timeout(WAIT);
            match command {
                Ok(Command::Event) => ctx.send_event("alert", &json!({}))?,
                Ok(Command::Heartbeat) => ctx.heartbeat(),
                Ok(Command::Stop) | Err(_) => ctx.stop(),
            }
            let _ = done.send(());
        }
        Ok(())
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:port: (status, content type, body).
fn get(port: u16, path: &str) -> (u16, String, String) {
    let deadline = Instant::now() + WAIT;
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "cannot connect to {port}: {error}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_string();
    (status, content_type, body.to_string())
}

#[test]
fn health_turns_500_when_a_threshold_passes_and_other_paths_are_404() {
    let env = Env::new();
    let (liveness, metrics) = (free_port(), free_port());
    env.sandbox
        .set("liveness_port", &liveness.to_string())
        .unwrap();
    env.sandbox
        .set("metrics_port", &metrics.to_string())
        .unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from(
        std::time::UNIX_EPOCH + Duration::from_micros(1_767_323_045_000_000),
    )));
    let (commands, receiver) = channel();
    let (done, finished) = channel();
    let handle = env.spawn({
        let clock = Arc::clone(&clock);
        move || {
            Scripted::new(driven(receiver, done)).with_options(
                TriggerOptions::default()
                    .seconds_without_events(60)
                    .last_heartbeat_threshold(30)
                    .clock(clock),
            )
        }
    });
    let health = |expected: u16| {
        let (status, content_type, body) = get(liveness, "/health");
        assert_eq!(status, expected, "{body}");
        assert_eq!(content_type, "application/json");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let body = health(200);
    assert_eq!(
        get(liveness, "/health").2,
        r#"{"last_events_time": "2026-01-02T03:04:05", "last_heartbeat": "2026-01-02T03:04:05", "seconds_without_events_threshold": 60, "last_heartbeat_threshold": 30, "error_count": 0}"#
    );
    assert_eq!(body["error_count"], 0);

    clock.advance(Duration::from_secs(30));
    health(500);
    assert!(env.wait_for_log(|log| log["level"] == "error"
        && log["message"]
            == "The trigger didn't produce heartbeat for 30.0 seconds, it will be restarted."));
    commands.send(Command::Heartbeat).unwrap();
    finished.recv_timeout(WAIT).unwrap();
    let body = health(200);
    assert_eq!(body["last_heartbeat"], "2026-01-02T03:04:35");

    clock.advance(Duration::from_millis(30_500));
    commands.send(Command::Heartbeat).unwrap();
    finished.recv_timeout(WAIT).unwrap();
    health(500);
    assert!(env.wait_for_log(|log| log["level"] == "info"
        && log["message"]
            == "The trigger didn't send events for 60.5 seconds, it will be restarted."));
    commands.send(Command::Event).unwrap();
    finished.recv_timeout(WAIT).unwrap();
    let body = health(200);
    assert_eq!(body["last_events_time"], "2026-01-02T03:05:05.500000");

    let (status, content_type, body) = get(liveness, "/other");
    assert_eq!((status, content_type.as_str()), (404, "application/json"));
    assert_eq!(
        body,
        r#"{"status_code": 404, "reason": "Endpoint doesn't exist"}"#
    );
    assert_eq!(get(liveness, "/health?x=1").0, 404, "the exact path only");

    let (status, content_type, text) = get(metrics, "/metrics");
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    for line in [
        "symphony_module_trigger_events_sent_total 1",
        "symphony_module_trigger_event_send_failures_total 0",
        "symphony_module_trigger_consecutive_errors 0",
        "# TYPE symphony_module_trigger_logs_sent_total counter",
        "symphony_module_trigger_logs_dropped_total{reason=\"rate_limited\"} 0",
        "symphony_module_trigger_logs_dropped_total{reason=\"overflow\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }

    commands.send(Command::Stop).unwrap();
    assert_eq!(join(handle), ExitCode::SUCCESS);
    // Both listeners are closed when the trigger returns.
    assert!(TcpStream::connect(("127.0.0.1", liveness)).is_err());
    assert!(TcpStream::connect(("127.0.0.1", metrics)).is_err());
}

#[test]
fn the_error_count_is_reported_by_health_and_metrics() {
    let env = Env::new();
    let (liveness, metrics) = (free_port(), free_port());
    env.sandbox
        .set("liveness_port", &liveness.to_string())
        .unwrap();
    env.sandbox
        .set("metrics_port", &metrics.to_string())
        .unwrap();
    let (release, wait) = channel::<()>();
    let handle = env.spawn(move || {
        let wait = Mutex::new(wait);
        Scripted::new(move |ctx, run| {
            if run <= 2 {
                return Err(TriggerError::msg(format!("failure {run}")));
            }
            let _ = wait.lock().unwrap().recv_timeout(WAIT);
            ctx.stop();
            Ok(())
        })
    });
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, _, body) = get(liveness, "/health");
        assert_eq!(status, 200, "no threshold: always alive");
        if serde_json::from_str::<Value>(&body).unwrap()["error_count"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = get(metrics, "/").2;
    assert!(
        text.contains("\nsymphony_module_trigger_consecutive_errors 2\n"),
        "{text}"
    );
    assert!(
        text.contains("\nsymphony_module_trigger_run_failures_total 2\n"),
        "{text}"
    );
    release.send(()).unwrap();
    assert_eq!(join(handle), ExitCode::SUCCESS);
}

#[test]
fn missing_secrets_endpoint_fails_the_start() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(404).on_path_suffix("/secrets"));
    let code = env.run(Scripted::new(|_, _| panic!("never runs")));
    assert_eq!(code, ExitCode::FAILURE);
    assert!(env.logs().iter().any(|log| {
        log["level"] == "error"
            && log["message"]
                .as_str()
                .unwrap()
                .starts_with("cannot fetch the trigger's secrets: GET ")
    }));
}

#[test]
fn url_logs_and_url_secrets_may_be_given() {
    let env = Env::new();
    let base = env.platform.base_url();
    env.sandbox
        .set("url_logs", &format!("{base}/elsewhere/logs"))
        .unwrap();
    env.sandbox
        .set("url_secrets", &format!("{base}/elsewhere/secrets"))
        .unwrap();
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.log(Level::Info, "hello");
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let paths: Vec<String> = env
        .platform
        .requests()
        .iter()
        .map(|request| request.path.clone())
        .collect();
    assert_eq!(paths, ["/elsewhere/secrets", "/elsewhere/logs"]);
}

#[test]
fn a_busy_monitoring_port_is_logged_and_the_trigger_runs_on() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    env.sandbox.set("liveness_port", &port.to_string()).unwrap();
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.send_event("alert", &json!({}))?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let logs = env.logs();
    let expected = format!("cannot serve the liveness on port {port}: ");
    assert!(
        logs.iter().any(|log| log["level"] == "error"
            && log["message"].as_str().unwrap().starts_with(&expected)
            && log["message"]
                .as_str()
                .unwrap()
                .ends_with("Set `liveness_port` to a free port")),
        "{logs:?}"
    );
    assert_eq!(env.requests("callback").len(), 1);
}
