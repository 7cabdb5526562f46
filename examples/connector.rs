//! A polling connector, run end to end against the embedded local platform.
//!
//! `cargo run --example connector` starts a local Sekoia.io (and its intake)
//! on 127.0.0.1, lays out a configuration root and data directory, and runs
//! this same binary as the module (`connector collect_feed`, as the
//! platform runs the container) twice: the first run stops half-way, the
//! second goes on from the checkpoints the first left in `context.json`.
//! The intake answers one batch 503 and drops one connection, to show the
//! retries. It prints every batch the intake received and the checkpoint.
//!
//! The connector: a fake paged feed of `total` events, fetched `page_size`
//! at a time by the default polling loop (`next_page`), pushed to the intake,
//! and two checkpoints in one shared `context.json` (a cursor under the
//! subkey `feed` and the date of the most recent event), each advanced only
//! with the intake's acknowledgement (`delivered`).
//!
//! The same binary serves the crash test of `tests/connector_process.rs`
//! (`kill -9` at random moments, then a restart).

use std::process::ExitCode;
use std::time::{Duration, Instant, UNIX_EPOCH};

use schemars::JsonSchema;
use sekoia_automation::connector::Backlog;
use sekoia_automation::connector::Timestamp;
use sekoia_automation::testing::{Fault, LocalPlatform, Sandbox};
use sekoia_automation::{Acknowledgement, Connector, ConnectorContext, JsonEvent, Page};
use sekoia_automation::{Level, Module, PollingConnector, TriggerError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The connector's own configuration (`intake_key` and `intake_server` sit
/// beside these fields).
#[derive(Deserialize, JsonSchema)]
struct FeedConfiguration {
    /// Events in the fake feed.
    total: u64,
    /// Events fetched per page.
    #[serde(default = "default_page_size")]
    page_size: u64,
    /// Stop after this many events in this run (none: run to the end).
    #[serde(default)]
    stop_after: Option<u64>,
    /// Seconds between polls once the feed is exhausted.
    #[serde(default)]
    frequency: Option<f64>,
}

fn default_page_size() -> u64 {
    100
}

/// An event of the feed.
#[derive(Serialize)]
struct FeedEvent {
    id: u64,
    date: String,
    message: String,
}

/// The feed: event `n` happened at 2026-11-28T00:00:00Z + n seconds.
fn feed_date(n: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(1_795_824_000 + n))
}

fn feed_page(from: u64, to: u64) -> Vec<JsonEvent<FeedEvent>> {
    (from..to)
        .map(|id| {
            JsonEvent(FeedEvent {
                id,
                date: format!("{}Z", feed_date(id).to_iso8601()),
                message: format!(
                    "user{} logged in from 10.0.{}.{} — ok ✓",
                    id % 7,
                    id / 256 % 256,
                    id % 256
                ),
            })
        })
        .collect()
}

#[derive(Default)]
struct CollectFeed {
    /// The position after the page being pushed.
    pending: Option<(u64, Timestamp)>,
    /// Events pushed by this run.
    pushed: u64,
}

impl Connector for CollectFeed {
    type ModuleConfiguration = serde_json::Value;
    type Configuration = FeedConfiguration;
    type Event = JsonEvent<FeedEvent>;
    const NAME: &'static str = "Collect feed";
    const DESCRIPTION: &'static str = "Collect the events of the fake feed";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        self.poll(ctx)
    }
}

impl PollingConnector for CollectFeed {
    fn next_page(
        &mut self,
        ctx: &ConnectorContext<'_, Self>,
    ) -> Result<Page<Self::Event>, TriggerError> {
        let configuration = ctx.configuration();
        if configuration
            .stop_after
            .is_some_and(|stop_after| self.pushed >= stop_after)
        {
            ctx.log(
                Level::Info,
                format!("stopping after {} events", self.pushed),
            );
            ctx.stop();
            return Ok(Page::empty());
        }
        let from = ctx
            .checkpoint_cursor::<u64>()
            .subkey("feed")
            .offset()?
            .unwrap_or(0);
        if from >= configuration.total {
            if configuration.frequency.is_none() {
                ctx.log(Level::Info, "the feed is exhausted: stopping");
                ctx.stop();
            }
            return Ok(Page::empty());
        }
        let to = (from + configuration.page_size).min(configuration.total);
        self.pending = Some((to, feed_date(to - 1)));
        Ok(Page::new(feed_page(from, to))
            .with_most_recent(feed_date(to - 1))
            .with_backlog(if to < configuration.total {
                Backlog::Waiting
            } else {
                Backlog::CaughtUp
            }))
    }

    fn delivered(
        &mut self,
        ctx: &ConnectorContext<'_, Self>,
        acknowledged: Acknowledgement,
    ) -> Result<(), TriggerError> {
        if let Some((next, latest)) = self.pending.take() {
            self.pushed += acknowledged.covered();
            ctx.checkpoint_cursor::<u64>()
                .subkey("feed")
                .advance(next, &acknowledged)?;
            // Positions before `now − start_at` are not kept (the Python
            // SDK's rule): start from 10 years ago.
            ctx.checkpoint_datetime()
                .start_at(Duration::from_secs(10 * 365 * 24 * 3600))
                .ignore_older_than(None)
                .advance(latest, &acknowledged)?;
            let configuration = ctx.configuration();
            if next >= configuration.total && configuration.frequency.is_none() {
                ctx.log(Level::Info, "the feed is exhausted: stopping");
                ctx.stop();
            }
        }
        Ok(())
    }
}

fn module() -> Module<serde_json::Value, sekoia_automation::typestate::Registered> {
    Module::<serde_json::Value>::new().register("collect_feed", CollectFeed::default())
}

fn main() -> ExitCode {
    if std::env::args().nth(1).is_some() {
        // Run as the platform runs the container: `connector <command>`.
        return module().run();
    }
    match demo() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("connector demo failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Plays the platform's side: a local Sekoia.io and intake, a sandbox, two
/// runs.
fn demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let platform = LocalPlatform::start()?;
    let sandbox = Sandbox::new(&platform)?;
    // The platform gives every connector its module configuration.
    sandbox.set("module_configuration", "{}")?;
    sandbox.set("liveness_port", "0")?;
    sandbox.set("metrics_port", "0")?;
    // The intake misbehaves twice: the SDK retries.
    platform.inject(Fault::status(503).on_path_suffix("/batch"));
    platform.inject(Fault::drop_connection().on_path_suffix("/batch"));

    let mut all_ok = true;
    for (run, stop_after) in [(1, Some(250)), (2, None)] {
        sandbox.set_json(
            "connector_configuration",
            &json!({
                "intake_key": "DEMO-INTAKE-KEY",
                "intake_server": platform.intake_url(),
                "total": 500,
                "page_size": 125,
                "stop_after": stop_after,
            }),
        )?;
        let mut child = sandbox
            .command(std::env::current_exe()?)
            .arg("collect_feed")
            .env("SEKOIA_AUTOMATION_BACKOFF_MS", "50")
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
        println!("run {run}: module `connector collect_feed` exited with {status}");
        let context = std::fs::read_to_string(sandbox.data_directory().join("context.json"))?;
        println!("  context.json after run {run}: {context}\n");
    }
    let mut acknowledged = 0;
    for request in platform.requests() {
        if request.route() != "batch" {
            continue;
        }
        let body = request.json().unwrap_or_default();
        let events = body["jsons"].as_array().cloned().unwrap_or_default();
        let outcome = match request.status {
            0 => "connection dropped (retried)".to_string(),
            200 => {
                acknowledged += events.len();
                "200, acknowledged".to_string()
            }
            status => format!("{status} (retried)"),
        };
        let first = events.first().and_then(|e| e.as_str()).unwrap_or_default();
        let last = events.last().and_then(|e| e.as_str()).unwrap_or_default();
        println!(
            "POST {} ({}) intake_key={} {} events -> {outcome}\n  first: {first}\n  last:  {last}",
            request.path,
            request.header("user-agent").unwrap_or_default(),
            body["intake_key"],
            events.len(),
        );
    }
    println!("\nevents acknowledged by the intake: {acknowledged} of 500");
    let context = std::fs::read_to_string(sandbox.data_directory().join("context.json"))?;
    println!("checkpoint (context.json): {context}");
    Ok(if all_ok && acknowledged == 500 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
