//! A trigger's logs reaching the platform while it runs and at exit.

#[path = "support/trigger.rs"]
mod trigger_support;

use trigger_support::*;

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
            .with_options(TriggerOptions::default().with_clock(clock))
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
