//! A connector polling a source by date range with [`TimeStepper`], in
//! process against the embedded platform, on a manual clock that a ticker
//! thread moves on (1 s of clock per 5 real milliseconds, bounded): windows
//! follow each other without gap or overlap, every event of the source up
//! to the last window reaches the intake once, the checkpoint ends at the
//! last window's end, the stepper waits for windows in the future (and
//! says so), and the lag is logged and set on the `events_lags` gauge.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use sekoia_automation::connector::Timestamp;
use sekoia_automation::connector::{ConnectorOptions, TimeStepper, TimeWindow};
use sekoia_automation::testing::{LocalPlatform, ManualClock, Sandbox};
use sekoia_automation::{Connector, ConnectorContext, JsonEvent, Module, TriggerError};
use serde_json::{Value, json};

/// 2026-11-28T10:00:00Z, when the connector starts.
const NOW: u64 = 1_795_860_000;
/// The source has an event every 10 s; event `k` is at `FIRST + 10 k`.
const FIRST: u64 = NOW - 300;
/// The connector stops once a window ends this late (clock time).
const UNTIL: u64 = NOW + 300;

fn at(seconds: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// The source's events dated in `[start, end)`.
fn fetch(window: TimeWindow) -> Vec<JsonEvent<Value>> {
    let seconds = |t: Timestamp| t.micros_since_epoch().div_euclid(1_000_000) as u64;
    let first = seconds(window.start).saturating_sub(FIRST).div_ceil(10);
    let mut events = Vec::new();
    let mut k = first;
    while at(FIRST + 10 * k) < window.end {
        events.push(JsonEvent(
            json!({"id": k, "date": at(FIRST + 10 * k).to_iso8601()}),
        ));
        k += 1;
    }
    events
}

struct Poller {
    windows: Arc<Mutex<Vec<TimeWindow>>>,
    clock: Arc<ManualClock>,
    /// Set once the first window is placed: the ticker starts then.
    started: Arc<AtomicBool>,
}

impl Connector for Poller {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = JsonEvent<Value>;
    const NAME: &'static str = "Poller";
    const DESCRIPTION: &'static str = "Poll the source minute by minute";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        // No checkpoint yet: the first window starts 5 minutes back.
        let mut checkpoint = ctx.checkpoint_datetime();
        let lags = ctx
            .metrics()
            .gauge(
                "symphony_module_common_events_lags",
                "The delay (seconds) from the date of the last event",
                &["intake_key"],
            )
            .expect("the connector's own gauge");
        let mut stepper = TimeStepper::create_from_time(
            checkpoint.offset()?,
            Duration::from_secs(60),
            Duration::from_secs(60),
        )
        .lag_gauge(lags);
        for window in stepper.windows(ctx) {
            self.started.store(true, Ordering::Relaxed);
            self.windows.lock().unwrap().push(window);
            let acknowledged = ctx.push_events(fetch(window))?;
            checkpoint.advance(window.end, &acknowledged)?;
            if window.end >= at(UNTIL) {
                ctx.stop();
            }
        }
        Ok(())
    }

    fn options(&self) -> ConnectorOptions {
        ConnectorOptions::default().with_clock(self.clock.clone())
    }
}

#[test]
fn a_connector_polls_window_by_window_and_waits_for_the_future_ones() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    // As the platform gives every trigger (the Python SDK reads it at start).
    sandbox.set("module_configuration", "{}").unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "STEP"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let done = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let ticker = std::thread::spawn({
        let (clock, done, started) = (Arc::clone(&clock), Arc::clone(&done), Arc::clone(&started));
        move || {
            // Bounded: a minute of real time to start, 20 minutes of clock
            // (the run needs about 6). A window of clock lasts 300 ms: time
            // enough for the connector to catch up and wait.
            for _ in 0..60_000 {
                if started.load(Ordering::Relaxed) || done.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            for _ in 0..1200 {
                if done.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
                clock.advance(Duration::from_secs(1));
            }
        }
    });
    let windows = Arc::new(Mutex::new(Vec::new()));
    let poller = Poller {
        windows: Arc::clone(&windows),
        clock: Arc::clone(&clock),
        started,
    };
    let code = Module::<Value>::with_settings(sandbox.settings())
        .register("poller", poller)
        .run_command("poller");
    done.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    assert_eq!(code, ExitCode::SUCCESS);

    let windows = windows.lock().unwrap().clone();
    assert_eq!(windows[0].start, at(NOW - 300), "5 minutes back");
    assert_eq!(windows[0].end, at(NOW - 240));
    for pair in windows.windows(2) {
        assert_eq!(pair[1].start, pair[0].end, "no gap, no overlap");
        let length = pair[1].end.micros_since_epoch() - pair[1].start.micros_since_epoch();
        assert!(length > 0 && length <= 60_000_000, "{:?}", pair[1]);
    }
    let last = *windows.last().unwrap();
    assert!(last.end >= at(UNTIL));

    // Every event before the last window's end, once, in order.
    let mut ids = Vec::new();
    for request in platform.requests() {
        if request.route() != "batch" {
            continue;
        }
        assert_eq!(request.status, 200);
        for event in request.json().unwrap()["jsons"].as_array().unwrap() {
            let event: Value = serde_json::from_str(event.as_str().unwrap()).unwrap();
            ids.push(event["id"].as_u64().unwrap());
        }
    }
    let expected: Vec<u64> = (0..)
        .take_while(|k| at(FIRST + 10 * k) < last.end)
        .collect();
    assert_eq!(ids, expected);

    // The checkpoint is at the last window's end.
    let context: Value = serde_json::from_slice(
        &std::fs::read(sandbox.data_directory().join("context.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        Timestamp::parse_iso8601(context["most_recent_date_seen"].as_str().unwrap()),
        Some(last.end)
    );

    // The lag and the waits, logged to the platform.
    let messages: Vec<String> = platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs")
        .flat_map(|request| {
            request.json().unwrap()["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|log| log["message"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("Current lag ") && message.ends_with(" seconds.")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(
            |message| message.starts_with("Time range in the future. Waiting ")
                && message.ends_with(" seconds for next batch.")
        ),
        "{messages:?}"
    );
    let exposition = sekoia_automation::metrics::MetricsRegistry::global().render();
    assert!(
        exposition.contains("symphony_module_common_events_lags{intake_key=\"STEP\"} "),
        "{exposition}"
    );
}

/// Keeps its stepper between runs and fails its first run in the middle of
/// its second window, before pushing it.
struct Retrier {
    stepper: TimeStepper,
    runs: u32,
    /// `(run, window)` for every window handed out.
    windows: Arc<Mutex<Vec<(u32, TimeWindow)>>>,
}

impl Connector for Retrier {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = JsonEvent<Value>;
    const NAME: &'static str = "Retrier";
    const DESCRIPTION: &'static str = "Fail once in the middle of a window";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        self.runs += 1;
        let run = self.runs;
        let mut in_this_run = 0;
        for window in self.stepper.windows(ctx) {
            in_this_run += 1;
            self.windows.lock().unwrap().push((run, window));
            if run == 1 && in_this_run == 2 {
                return Err(TriggerError::msg("the source answered 502"));
            }
            let _acknowledged = ctx.push_events(fetch(window))?;
            if in_this_run == 3 || run > 5 {
                ctx.stop();
            }
        }
        Ok(())
    }
}

#[test]
fn a_window_left_unfinished_by_a_failed_run_is_fetched_again_by_the_next_run() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox
        .set_json("connector_configuration", &json!({"intake_key": "AGAIN"}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    let windows = Arc::new(Mutex::new(Vec::new()));
    // Windows long past on the system clock: none is waited for, and the
    // pause after the failed run is one backoff unit (1 ms).
    let retrier = Retrier {
        stepper: TimeStepper::create_from_time(
            at(FIRST),
            Duration::from_secs(60),
            Duration::from_secs(60),
        ),
        runs: 0,
        windows: Arc::clone(&windows),
    };
    let code = Module::<Value>::with_settings(
        sandbox
            .settings()
            .with_retry_backoff(Duration::from_millis(1)),
    )
    .register("retrier", retrier)
    .run_command("retrier");
    assert_eq!(code, ExitCode::SUCCESS);

    let windows = windows.lock().unwrap().clone();
    let first_run: Vec<TimeWindow> = windows
        .iter()
        .filter(|(run, _)| *run == 1)
        .map(|(_, w)| *w)
        .collect();
    let second_run: Vec<TimeWindow> = windows
        .iter()
        .filter(|(run, _)| *run == 2)
        .map(|(_, w)| *w)
        .collect();
    assert_eq!(first_run.len(), 2, "{windows:?}");
    assert_eq!(
        second_run.first(),
        Some(&first_run[1]),
        "the window the first run failed in was not handed out again: {windows:?}"
    );
    assert_eq!(second_run[1].start, first_run[1].end, "{windows:?}");

    // No event of the source lost, none sent twice, up to the last window.
    let mut ids = Vec::new();
    for request in platform.requests() {
        if request.route() != "batch" {
            continue;
        }
        for event in request.json().unwrap()["jsons"].as_array().unwrap() {
            let event: Value = serde_json::from_str(event.as_str().unwrap()).unwrap();
            ids.push(event["id"].as_u64().unwrap());
        }
    }
    let last = second_run.last().unwrap();
    let expected: Vec<u64> = (0..)
        .take_while(|k| at(FIRST + 10 * k) < last.end)
        .collect();
    assert_eq!(ids, expected);
}
