//! What the trigger tests share: a scripted trigger, a sandboxed platform
//! and the waits, all bounded. Each `tests/trigger_*.rs` file includes it
//! (`#[path]`) and uses what its topic needs.

#![allow(dead_code, unused_imports)]

pub use std::collections::{HashMap, HashSet};
pub use std::io::{Read, Write};
pub use std::net::TcpStream;
pub use std::process::ExitCode;
pub use std::sync::atomic::{AtomicU32, Ordering};
pub use std::sync::mpsc::{Receiver, Sender, channel};
pub use std::sync::{Arc, Mutex};
pub use std::thread::JoinHandle;
pub use std::time::{Duration, Instant};

pub use sekoia_automation::config::Settings;
pub use sekoia_automation::connector::Timestamp;
pub use sekoia_automation::testing::ManualClock;
pub use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
pub use sekoia_automation::trigger::Clock;
pub use sekoia_automation::trigger::StopSignal;
pub use sekoia_automation::trigger::{SendEventError, TriggerOptions};
pub use sekoia_automation::{Level, Module};
pub use sekoia_automation::{Trigger, TriggerContext, TriggerError};
pub use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(20);

pub type Step =
    Box<dyn FnMut(&TriggerContext<'_, Scripted>, u32) -> Result<(), TriggerError> + Send>;

/// A trigger whose runs do what the test says; `run` number `n` (from 1)
/// calls `step(ctx, n)`.
pub struct Scripted {
    runs: u32,
    step: Step,
    options: TriggerOptions,
}

impl Scripted {
    pub fn new(
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

    pub fn with_options(mut self, options: TriggerOptions) -> Self {
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

pub struct Env {
    pub platform: LocalPlatform,
    pub sandbox: Sandbox,
}

impl Env {
    pub fn new() -> Self {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        // As the platform gives every trigger (the Python SDK reads it at start).
        sandbox.set("module_configuration", "{}").unwrap();
        sandbox
            .set_json("trigger_configuration", &json!({}))
            .unwrap();
        // Any free port: tests run in parallel.
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        Env { platform, sandbox }
    }

    pub fn settings(&self) -> Settings {
        self.sandbox.settings()
    }

    pub fn run(&self, trigger: Scripted) -> ExitCode {
        Module::<Value>::with_settings(self.settings())
            .register("scripted", trigger)
            .run_command("scripted")
    }

    /// Runs the trigger on its own thread.
    pub fn spawn(
        &self,
        trigger: impl FnOnce() -> Scripted + Send + 'static,
    ) -> JoinHandle<ExitCode> {
        let settings = self.settings();
        std::thread::spawn(move || {
            Module::<Value>::with_settings(settings)
                .register("scripted", trigger())
                .run_command("scripted")
        })
    }

    pub fn requests(&self, route: &str) -> Vec<RecordedRequest> {
        self.platform
            .requests()
            .into_iter()
            .filter(|request| request.route() == route)
            .collect()
    }

    /// Every log record the platform accepted, in order.
    pub fn logs(&self) -> Vec<Value> {
        logs_of(&self.platform.requests())
    }

    pub fn wait_for_log(&self, predicate: impl Fn(&Value) -> bool) -> bool {
        self.platform
            .wait_for(WAIT, |requests| logs_of(requests).iter().any(&predicate))
    }
}

pub fn logs_of(requests: &[RecordedRequest]) -> Vec<Value> {
    requests
        .iter()
        .filter(|request| request.route() == "logs" && request.status == 200)
        .filter_map(RecordedRequest::json)
        .flat_map(|body| body["logs"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub fn has_log(logs: &[Value], level: &str, message: &str) -> bool {
    logs.iter()
        .any(|log| log["level"] == level && log["message"] == message)
}

/// Moves the clock 120 s at a time until the trigger returns: ends the
/// waits after a critical log, however they interleave with the test.
pub fn advance_until_done(clock: &ManualClock, handle: JoinHandle<ExitCode>) -> ExitCode {
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

pub fn join(handle: JoinHandle<ExitCode>) -> ExitCode {
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
