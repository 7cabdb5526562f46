//! A polling trigger, run end to end against the embedded local platform.
//!
//! `cargo run --example trigger` starts a local Sekoia.io on 127.0.0.1, lays
//! out a configuration root and data directory, runs this same binary as the
//! module (`trigger poll_alerts`, as the platform would run the container)
//! twice, and prints what the platform received: the secrets GET, the
//! events (one with a directory attached) and the logs. The second run goes
//! on from the cursor the first one left in `cursor.json`.
//!
//! The trigger: a typed module configuration with a secret, a typed trigger
//! configuration, typed events, a cursor kept in a `PersistentJson` across
//! restarts, a file written with `ctx.write` and attached to an event, and
//! heartbeats. It stops itself after `max_events` events, or runs until
//! SIGTERM.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use sekoia_automation::testing::{LocalPlatform, Sandbox};
use sekoia_automation::trigger::AttachedDirectory;
use sekoia_automation::{Level, Module, Secret, Trigger, TriggerContext, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The module configuration: what an account holds.
#[derive(Deserialize, JsonSchema)]
struct Config {
    /// Base URL of the alert feed.
    base_url: String,
    /// Its API key; the platform stores it as a secret.
    api_key: Secret<String>,
}

/// The trigger configuration.
#[derive(Deserialize, JsonSchema)]
struct PollConfiguration {
    /// Milliseconds between two polls.
    #[serde(default = "default_interval")]
    interval_ms: u64,
    /// Alerts fetched per poll (0: the feed is quiet).
    #[serde(default = "default_batch")]
    batch_size: u64,
    /// Stop after sending this many events; none: run until stopped.
    #[serde(default)]
    max_events: Option<u64>,
    /// Attach the raw alert as a file to every n-th event; 0: never.
    #[serde(default)]
    attach_every: u64,
}

fn default_interval() -> u64 {
    1000
}

fn default_batch() -> u64 {
    10
}

/// An event: one alert of the feed.
#[derive(Serialize, JsonSchema)]
struct AlertEvent {
    /// The alert's sequence number in the feed.
    id: u64,
    /// Its severity, 0 to 100.
    severity: u64,
    /// Where it came from.
    source: String,
}

/// Where the feed was read up to; survives restarts.
#[derive(Default, Serialize, Deserialize)]
struct Cursor {
    last_id: u64,
}

/// Polls the alert feed and sends one event per new alert.
struct PollAlerts {
    sent: u64,
}

impl Trigger for PollAlerts {
    type ModuleConfiguration = Config;
    type Configuration = PollConfiguration;
    type Event = AlertEvent;
    const NAME: &'static str = "Poll alerts";
    const DESCRIPTION: &'static str = "Send an event for every new alert of the feed";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let configuration = ctx.configuration();
        let module = ctx.module_configuration();
        // `Secret` prints as [REDACTED]: logging it by mistake leaks nothing.
        log::info!("polling {} with key {}", module.base_url, module.api_key);
        let mut cursor = ctx.persistent_json::<Cursor>("cursor.json")?;
        while ctx.running() {
            let first = cursor.last_id + 1;
            let mut batch = configuration.batch_size;
            if let Some(max) = configuration.max_events {
                batch = batch.min(max.saturating_sub(self.sent));
            }
            for id in first..first + batch {
                let event = AlertEvent {
                    id,
                    severity: id * 37 % 101,
                    source: module.base_url.clone(),
                };
                if configuration.attach_every > 0 && id % configuration.attach_every == 0 {
                    let file = ctx.write("alert.json", serde_json::to_vec(&event)?)?;
                    let directory = file.parent().unwrap_or(&file);
                    ctx.send_event_with_directory(
                        "alert",
                        &event,
                        directory,
                        AttachedDirectory::Remove,
                    )?;
                } else {
                    ctx.send_event("alert", &event)?;
                }
                // The cursor moves only past what was sent.
                cursor.last_id = id;
                self.sent += 1;
            }
            cursor.save()?;
            ctx.heartbeat();
            if batch > 0 {
                ctx.log(
                    Level::Info,
                    format!("sent alerts {first} to {}", cursor.last_id),
                );
            }
            if configuration.max_events.is_some_and(|max| self.sent >= max) {
                ctx.log(Level::Info, format!("done: {} events sent", self.sent));
                ctx.stop();
                break;
            }
            ctx.sleep(Duration::from_millis(configuration.interval_ms));
        }
        Ok(())
    }
}

fn module() -> Module<Config, sekoia_automation::typestate::Registered> {
    Module::<Config>::new().register("poll_alerts", PollAlerts { sent: 0 })
}

fn main() -> ExitCode {
    if std::env::args().nth(1).is_some() {
        // Run as the platform runs the container: `trigger <command>`.
        return module().run();
    }
    match demo() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("trigger demo failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Plays the platform's side: a local Sekoia.io, a sandbox, two runs.
fn demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let platform = LocalPlatform::start()?;
    platform.set_secrets(json!({"api_key": "4f1c-very-secret"}));
    let sandbox = Sandbox::new(&platform)?;
    sandbox.write_manifest(&json!({
        "name": "Alert feed", "slug": "alert-feed", "version": "0.1.0",
        "uuid": "1d0b7c9e-8f3a-4c2b-9e61-5a7d3c2b1f00",
        "configuration": {
            "type": "object",
            "properties": {"base_url": {"type": "string"}, "api_key": {"type": "string"}},
            "required": ["base_url", "api_key"],
            "secrets": ["api_key"]
        }
    }))?;
    sandbox.set_json(
        "module_configuration",
        &json!({"base_url": "https://feed.example"}),
    )?;
    sandbox.set_json(
        "trigger_configuration",
        &json!({"interval_ms": 50, "batch_size": 2, "max_events": 4, "attach_every": 3}),
    )?;
    // Any free port: the demo must not collide with a service on 8000/8020.
    sandbox.set("liveness_port", "0")?;
    sandbox.set("metrics_port", "0")?;

    let mut all_ok = true;
    for run in 1..=2 {
        let mut child = sandbox
            .command(std::env::current_exe()?)
            .arg("poll_alerts")
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                child.kill()?;
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        all_ok &= status.success();
        println!("run {run}: module `trigger poll_alerts` exited with {status}\n");
    }
    for request in platform.requests() {
        println!("{} {} -> {}", request.method, request.path, request.status);
        if let Some(body) = request.json() {
            println!("{}\n", serde_json::to_string(&body)?);
        }
    }
    let cursor = std::fs::read_to_string(sandbox.data_directory().join("cursor.json"))?;
    println!("cursor.json holds: {cursor}");
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
