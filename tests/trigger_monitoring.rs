//! A trigger's liveness (`/health`) and metrics listeners.

#[path = "support/trigger.rs"]
mod trigger_support;

use trigger_support::*;

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
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim())
        })
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
                    .with_seconds_without_events(Duration::from_secs(60))
                    .with_last_heartbeat_threshold(Duration::from_secs(30))
                    .with_clock(clock),
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
