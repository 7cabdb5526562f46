//! A trigger's run loop: failures counted, the critical rule on a manual
//! clock, panics, stops.

#[path = "support/trigger.rs"]
mod trigger_support;

use trigger_support::*;

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
