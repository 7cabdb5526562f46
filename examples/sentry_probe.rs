//! The items the Sentry tests (`tests/sentry.rs`) run as real processes,
//! each the counterpart of a Python item in the parity tests: what the
//! platform's Sentry receives when an action fails or panics, and when a
//! trigger logs errors and fails.
//!
//! `cargo run --example sentry_probe -- <command>` inside a sandbox (the
//! tests lay one out, with `sentry_dsn` pointing at the local platform).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use sekoia_automation::{
    Action, ActionContext, ActionError, Level, Module, Outcome, Secret, Trigger, TriggerContext,
    TriggerError,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The module configuration: one secret, one plain value.
#[derive(Deserialize, JsonSchema)]
struct Config {
    /// A secret: redacted in Sentry's `module_configuration` context.
    api_key: Secret<String>,
    /// A plain value: shown as it is.
    base_url: String,
}

/// Logs a warning, then fails with an error of its own code: what a
/// raised exception is in Python, reported as an exception.
struct Fail;

impl Action for Fail {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Fail";
    const DESCRIPTION: &'static str = "Log a warning, then fail";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        _: Value,
    ) -> Result<Outcome<Value>, ActionError> {
        ctx.log(Level::Warning, "careful: the vendor is slow");
        let refused: Result<Value, String> = Err(format!(
            "boom: the vendor refused the key {}",
            ctx.configuration().api_key.expose()
        ));
        // `?`: the error raised, as a Python exception is.
        Ok(Outcome::success(refused?))
    }
}

/// Ends with an explicit failure: Python's `self.error(...)`, which is not
/// reported to Sentry.
struct Refuse;

impl Action for Refuse {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Refuse";
    const DESCRIPTION: &'static str = "End with an explicit failure";

    fn run(&self, _: &ActionContext<'_, Config>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::failure("the IP is not routable"))
    }
}

/// Panics.
struct Panic;

impl Action for Panic {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Panic";
    const DESCRIPTION: &'static str = "Panic";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        _: Value,
    ) -> Result<Outcome<Value>, ActionError> {
        panic!(
            "cannot parse the answer of {}",
            ctx.configuration().base_url
        )
    }
}

/// Starts a thread of its own that panics, then succeeds: the runtime
/// does not catch that panic, its hook reports it.
struct ThreadPanic;

impl Action for ThreadPanic {
    type ModuleConfiguration = Config;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Thread panic";
    const DESCRIPTION: &'static str = "Panic in a thread of its own";

    fn run(
        &self,
        ctx: &ActionContext<'_, Config>,
        _: Value,
    ) -> Result<Outcome<Value>, ActionError> {
        let key = ctx.configuration().api_key.expose().clone();
        let worker = std::thread::Builder::new()
            .name("worker".into())
            .spawn(move || panic!("the worker lost the key {key}"))
            .expect("a thread");
        Ok(Outcome::success(
            json!({"worker_panicked": worker.join().is_err()}),
        ))
    }
}

/// The trigger configuration: one secret.
#[derive(Deserialize, JsonSchema)]
struct TriggerConfig {
    /// Redacted in Sentry's `trigger_configuration` context.
    password: Secret<String>,
    /// A plain value: shown as it is in the context (never read here).
    #[allow(dead_code)]
    interval: u64,
}

/// Logs an error and fails twice (the same error: the second time is rate
/// limited), then stops.
struct Flaky;

impl Trigger for Flaky {
    type ModuleConfiguration = Config;
    type Configuration = TriggerConfig;
    type Event = Value;
    const NAME: &'static str = "Flaky";
    const DESCRIPTION: &'static str = "Log an error and fail twice, then stop";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        if RUNS.fetch_add(1, Ordering::SeqCst) < 2 {
            ctx.log(Level::Error, "went wrong");
            return Err(TriggerError::msg(format!(
                "kaput: {} refused {}",
                ctx.module_configuration().base_url,
                ctx.configuration().password.expose()
            )));
        }
        ctx.stop();
        Ok(())
    }
}

/// Logs a distinct error every few milliseconds until it is stopped: a
/// stream of events for a slow Sentry.
struct Noisy;

impl Trigger for Noisy {
    type ModuleConfiguration = Config;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Noisy";
    const DESCRIPTION: &'static str = "Log errors until stopped";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        ctx.send_event("started", &json!({}))?;
        let mut n = 0u64;
        while ctx.running() {
            n += 1;
            ctx.log(Level::Error, format!("still failing ({n})"));
            ctx.sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    Module::<Config>::new()
        .register("fail", Fail)
        .register("refuse", Refuse)
        .register("panic", Panic)
        .register("thread_panic", ThreadPanic)
        .register("flaky", Flaky)
        .register("noisy", Noisy)
        .run()
}
