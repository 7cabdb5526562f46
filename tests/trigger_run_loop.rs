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
            .with_options(TriggerOptions::default().with_clock(clock))
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
                    TriggerOptions::default().with_stop_signal(Arc::clone(&self.1))
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
            let options =
                TriggerOptions::default().with_clock(Arc::clone(&clock) as Arc<dyn Clock>);
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
            .with_options(TriggerOptions::default().with_stop_signal(stop))
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

/// Waits (bounded) until run `run` has failed (its error logged), then a
/// little more to see whether another run starts: the runs started.
fn runs_after_failure(env: &Env, runs: &AtomicU32, run: u32) -> u32 {
    let suffix = format!("(run {run})");
    assert!(env.wait_for_log(|log| {
        log["level"] == "error"
            && log["message"]
                .as_str()
                .is_some_and(|m| m.ends_with(&suffix))
    }));
    std::thread::sleep(Duration::from_millis(150));
    runs.load(Ordering::SeqCst)
}

#[test]
fn a_failing_run_is_restarted_after_a_growing_backoff_woken_by_a_stop() {
    let env = Env::new();
    let clock = Arc::new(ManualClock::starting_now());
    let stop = Arc::new(StopSignal::new());
    let runs = Arc::new(AtomicU32::new(0));
    let handle = env.spawn({
        let (clock, stop, runs) = (Arc::clone(&clock), Arc::clone(&stop), Arc::clone(&runs));
        move || {
            Scripted::new(move |_, run| {
                runs.store(run, Ordering::SeqCst);
                if run == 3 {
                    panic!("the vendor's answer cannot be parsed (run {run})");
                }
                Err(TriggerError::msg(format!(
                    "the vendor answered 401 (run {run})"
                )))
            })
            .with_options(
                TriggerOptions::default()
                    .with_clock(clock)
                    .with_stop_signal(stop),
            )
        }
    });
    // The first failure restarts at once, the second after 1 s (on the
    // trigger's clock), the third (a panic) after 2 s, then 4 s.
    assert!(runs_after_failure(&env, &runs, 1) >= 2);
    assert_eq!(runs_after_failure(&env, &runs, 2), 2);
    clock.advance(Duration::from_millis(999));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    clock.advance(Duration::from_millis(1));
    assert_eq!(runs_after_failure(&env, &runs, 3), 3);
    clock.advance(Duration::from_millis(1999));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    clock.advance(Duration::from_millis(1));
    assert_eq!(runs_after_failure(&env, &runs, 4), 4);
    clock.advance(Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    // A stop ends the wait at once.
    stop.stop();
    assert_eq!(join(handle), ExitCode::SUCCESS);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[test]
fn a_run_that_sent_an_event_resets_the_backoff() {
    let env = Env::new();
    let clock = Arc::new(ManualClock::starting_now());
    let runs = Arc::new(AtomicU32::new(0));
    let handle = env.spawn({
        let (clock, runs) = (Arc::clone(&clock), Arc::clone(&runs));
        move || {
            Scripted::new(move |ctx, run| {
                runs.store(run, Ordering::SeqCst);
                match run {
                    // Two failures: the next one would wait 1 s...
                    1 | 2 => Err(TriggerError::msg(format!(
                        "the vendor answered 401 (run {run})"
                    ))),
                    // ...but this run sent an event: it restarts at once.
                    3 => {
                        ctx.send_event("alert", &json!({"run": run}))?;
                        Err(TriggerError::msg("the vendor answered 401"))
                    }
                    _ => {
                        ctx.stop();
                        Ok(())
                    }
                }
            })
            .with_options(TriggerOptions::default().with_clock(clock))
        }
    });
    assert!(env.wait_for_log(|log| {
        log["level"] == "error"
            && log["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("(run 2)"))
    }));
    // The log can arrive before the runner starts its 1 s wait: advance
    // the clock until run 3 has begun (bounded), then no more, so run 4
    // can only come from the reset.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while runs.load(Ordering::SeqCst) < 3 {
        assert!(std::time::Instant::now() < deadline, "run 3 never started");
        clock.advance(Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(join(handle), ExitCode::SUCCESS);
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[test]
fn send_event_after_a_stop_refuses_at_once_and_is_not_a_failure() {
    let env = Env::new();
    let refused = Arc::new(Mutex::new(None));
    let code = env.run(Scripted::new({
        let refused = Arc::clone(&refused);
        move |ctx, _| {
            ctx.stop();
            let error = ctx.send_event("alert", &json!({})).unwrap_err();
            *refused.lock().unwrap() = Some(error.to_string());
            assert!(matches!(error, SendEventError::Stopped { .. }));
            assert_eq!(error.status(), None);
            Err(error.into())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let refused = refused.lock().unwrap().clone().unwrap();
    assert!(refused.contains("the trigger is stopping"), "{refused}");
    assert!(env.requests("callback").is_empty(), "nothing was sent");
    let logs = env.logs();
    assert!(
        logs.iter()
            .all(|log| log["level"] != "error" && log["level"] != "warning"),
        "a stop is not reported as a failure: {logs:?}"
    );
}
