//! Connectors in-process against the embedded platform
//! (docs/protocol.md §5): real loopback HTTP to `/batch`, real files in
//! a sandbox. Every wait is bounded; fault-injection runs are quiet.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod support;

use sekoia_automation::config::Settings;
use sekoia_automation::connector::Timestamp;
use sekoia_automation::connector::{
    ConnectorOptions, EventError, EventOutcome, EventWriter, IntakeEvent, Refusal,
};
use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::trigger::StopSignal;
use sekoia_automation::{Connector, ConnectorContext, JsonEvent, PollingConnector};
use sekoia_automation::{Module, TriggerError};
use serde_json::{Value, json};

type Step = Box<dyn FnMut(&ConnectorContext<'_, Scripted>) -> Result<(), TriggerError> + Send>;

/// A connector whose one run does what the test says, then stops.
struct Scripted {
    step: Step,
    options: ConnectorOptions,
}

impl Scripted {
    fn new(
        step: impl FnMut(&ConnectorContext<'_, Scripted>) -> Result<(), TriggerError> + Send + 'static,
    ) -> Self {
        Scripted {
            step: Box::new(step),
            options: ConnectorOptions::default(),
        }
    }
}

impl Connector for Scripted {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Scripted";
    const DESCRIPTION: &'static str = "Do what the test says";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        let result = (self.step)(ctx);
        ctx.stop();
        result
    }

    fn options(&self) -> ConnectorOptions {
        self.options.clone()
    }
}

struct Env {
    platform: LocalPlatform,
    sandbox: Sandbox,
}

impl Env {
    fn new() -> Self {
        Self::with_configuration(json!({"intake_key": "KEY123"}))
    }

    fn with_configuration(configuration: Value) -> Self {
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        // As the platform gives every trigger (the Python SDK reads it at start).
        sandbox.set("module_configuration", "{}").unwrap();
        sandbox
            .set_json("connector_configuration", &configuration)
            .unwrap();
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        Env { platform, sandbox }
    }

    fn settings(&self) -> Settings {
        self.sandbox
            .settings()
            .with_retry_backoff(Duration::from_millis(1))
    }

    fn run(&self, connector: Scripted) -> ExitCode {
        Module::<Value>::with_settings(self.settings())
            .register("scripted", connector)
            .run_command("scripted")
    }

    fn batches(&self) -> Vec<RecordedRequest> {
        self.platform
            .requests()
            .into_iter()
            .filter(|request| request.route() == "batch")
            .collect()
    }
}

/// Runs `step` in a connector and hands back what it returned.
fn run_step<R: Send + 'static>(
    env: &Env,
    options: ConnectorOptions,
    step: impl FnOnce(&ConnectorContext<'_, Scripted>) -> R + Send + 'static,
) -> R {
    let slot = Arc::new(Mutex::new(None));
    let mut step = Some(step);
    let out = Arc::clone(&slot);
    let mut connector = Scripted::new(move |ctx| {
        if let Some(step) = step.take() {
            *out.lock().unwrap() = Some(step(ctx));
        }
        Ok(())
    });
    connector.options = options;
    assert_eq!(env.run(connector), ExitCode::SUCCESS);
    let result = slot.lock().unwrap().take();
    result.expect("the connector ran its step")
}

#[test]
fn the_batch_body_and_headers_are_the_python_sdks() {
    let env = Env::new();
    let ids = run_step(&env, ConnectorOptions::default(), |ctx| {
        let events = vec![
            json!({"a": "é\"x", "b": 1}),
            json!("raw line é"),
            json!({"n": null}),
        ];
        let acknowledged = ctx.push_events(&events).expect("all acknowledged");
        acknowledged
            .ids()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
    });
    let batches = env.batches();
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!(batch.method, "POST");
    assert_eq!(batch.path, "/intake/batch");
    // docs/protocol.md §5 (*One batch*), captured from the Python SDK 1.27.0.
    assert_eq!(
        batch.body_text(),
        r#"{"intake_key": "KEY123", "jsons": ["{\"a\":\"\u00e9\\\"x\",\"b\":1}", "raw line \u00e9", "{\"n\":null}"]}"#
    );
    assert_eq!(
        batch.header("user-agent"),
        Some("sekoiaio-connector-KEY123")
    );
    assert_eq!(batch.header("content-type"), Some("application/json"));
    assert_eq!(batch.header("authorization"), None);
    // One id per event, in order, as the intake answered them.
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
}

#[test]
fn non_ascii_astral_and_plain_string_events_are_escaped_once_in_the_outer_body() {
    let env = Env::new();
    run_step(&env, ConnectorOptions::default(), |ctx| {
        #[derive(serde::Serialize)]
        struct Event {
            text: &'static str,
            big: f64,
            small: f64,
        }
        let _ = ctx
            .push_events([JsonEvent(Event {
                text: "😀 \u{2028}/\t\"",
                big: 1e16,
                small: 1.5e-7,
            })])
            .expect("acknowledged");
        let _ = ctx
            .push_events(["plain <150>Nov 28 host app: naïve 😀 {not json"])
            .expect("acknowledged");
    });
    let batches = env.batches();
    assert_eq!(
        batches[0].body_text(),
        r#"{"intake_key": "KEY123", "jsons": ["{\"text\":\"\ud83d\ude00 \u2028/\\t\\\"\",\"big\":1e+16,\"small\":1.5e-7}"]}"#
    );
    assert_eq!(
        batches[1].body_text(),
        r#"{"intake_key": "KEY123", "jsons": ["plain <150>Nov 28 host app: na\u00efve \ud83d\ude00 {not json"]}"#
    );
    // What the intake decodes is the event's compact JSON, byte for byte.
    let jsons = batches[0].json().unwrap()["jsons"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        jsons,
        "{\"text\":\"😀 \u{2028}/\\t\\\"\",\"big\":1e+16,\"small\":1.5e-7}"
    );
}

#[test]
fn intake_urls_are_joined_as_a_posix_path() {
    for (suffix, expected) in [
        ("/intake", "/intake/batch"),
        ("/intake/", "/intake/batch"),
        ("/api/v1/intake-http", "/api/v1/intake-http/batch"),
        ("", "/batch"),
    ] {
        let env = Env::new();
        let base = format!("{}{suffix}", env.platform.base_url());
        env.sandbox
            .set_json(
                "connector_configuration",
                &json!({"intake_key": "K", "intake_server": base}),
            )
            .unwrap();
        let url = run_step(&env, ConnectorOptions::default(), |ctx| {
            let _ = ctx.push_events(["x"]).expect("acknowledged");
            ctx.batch_url().to_string()
        });
        assert_eq!(env.batches()[0].path, expected, "{url}");
    }
    // No intake_server: the module's `intake_url`, from the sandbox.
    let env = Env::with_configuration(json!({"intake_key": "K", "intake_server": ""}));
    let url = run_step(&env, ConnectorOptions::default(), |ctx| {
        ctx.batch_url().to_string()
    });
    assert_eq!(url, format!("{}/batch", env.platform.intake_url()));
}

#[test]
fn the_connector_configuration_falls_back_to_the_trigger_configuration() {
    let env = Env::new();
    env.sandbox.remove("connector_configuration").unwrap();
    env.sandbox
        .set_json(
            "trigger_configuration",
            &json!({"intake_key": "FROM-TRIGGER", "frequency": 7}),
        )
        .unwrap();
    let (key, frequency) = run_step(&env, ConnectorOptions::default(), |ctx| {
        (ctx.intake_key().to_string(), ctx.configured_frequency())
    });
    assert_eq!(key, "FROM-TRIGGER");
    assert_eq!(frequency, Some(Duration::from_secs(7)));
}

#[test]
fn oversized_events_by_characters_or_bytes_are_refused_and_reported() {
    let env = Env::new();
    let (outcomes, error, except) = run_step(&env, ConnectorOptions::default(), |ctx| {
        let events = vec![
            "first".to_string(),
            "a".repeat(250_001),
            "€".repeat(100_000),
            "b".repeat(250_000),
            "last".to_string(),
        ];
        let error = ctx.push_events(&events).expect_err("two refused");
        let outcomes: Vec<String> = error
            .report()
            .outcomes()
            .map(|outcome| format!("{outcome:?}"))
            .collect();
        let message = error.to_string();
        let except = error
            .acknowledged_except_refused()
            .map(|ack| ack.covered())
            .ok();
        (outcomes, message, except)
    });
    assert!(
        outcomes[0].starts_with("Acknowledged(Some("),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[1],
        "Refused(TooLarge { chars: 250001, bytes: 250001 })"
    );
    assert_eq!(
        outcomes[2],
        "Refused(TooLarge { chars: 100000, bytes: 300000 })"
    );
    assert!(outcomes[3].starts_with("Acknowledged(Some("));
    assert!(outcomes[4].starts_with("Acknowledged(Some("));
    assert!(
        error.starts_with(
            "2 of 5 events were not delivered to the intake: 2 refused before sending"
        ),
        "{error}"
    );
    assert_eq!(except, Some(5));
    let batches = env.batches();
    assert_eq!(batches.len(), 1);
    let jsons = batches[0].json().unwrap()["jsons"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(jsons, 3);
}

/// A hand-written event kind: a syslog line after its priority, an empty
/// one refused once its priority is written (what was written is dropped).
struct Line(&'static str);

impl IntakeEvent for Line {
    fn write_event(&self, out: &mut EventWriter<'_>) -> Result<(), EventError> {
        use std::fmt::Write;
        write!(out, "<{}>", 13).map_err(EventError::new)?;
        if self.0.is_empty() {
            return Err(EventError::new("an empty syslog line"));
        }
        out.push_str(self.0);
        Ok(())
    }
}

#[test]
fn events_that_cannot_be_written_are_refused_with_their_reason_and_the_others_sent() {
    let env = Env::new();
    let (outcomes, error) = run_step(&env, ConnectorOptions::default(), |ctx| {
        let mut map = HashMap::new();
        map.insert(vec![1u8], "a key JSON cannot have");
        let unserializable = ctx
            .push_events([JsonEvent(map)])
            .expect_err("a map with a list as key is refused");
        let lines = ctx
            .push_events([Line("one"), Line(""), Line("three")])
            .expect_err("the empty line is refused");
        let outcomes: Vec<String> = unserializable
            .report()
            .outcomes()
            .chain(lines.report().outcomes())
            .map(|outcome| format!("{outcome:?}"))
            .collect();
        (outcomes, lines.to_string())
    });
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(
        outcomes[0],
        "Refused(Unserializable { message: \"key must be a string\" })"
    );
    assert!(
        outcomes[1].starts_with("Acknowledged(Some("),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[2],
        "Refused(Unserializable { message: \"an empty syslog line\" })"
    );
    assert!(
        outcomes[3].starts_with("Acknowledged(Some("),
        "{outcomes:?}"
    );
    assert!(
        error.starts_with(
            "1 of 3 events were not delivered to the intake: 1 refused before sending"
        ),
        "{error}"
    );
    let batches = env.batches();
    assert_eq!(batches.len(), 1, "the refused map sends nothing");
    assert_eq!(
        batches[0].json().unwrap()["jsons"],
        json!(["<13>one", "<13>three"])
    );
}

#[test]
fn a_4xx_fails_its_chunk_at_once_and_408_429_5xx_and_drops_are_retried() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(400).on_path_suffix("/batch"));
    let rejected = run_step(&env, ConnectorOptions::default(), |ctx| {
        let error = ctx.push_events(["x", "y"]).expect_err("rejected");
        let outcome = format!("{:?}", error.report().outcome(1));
        (outcome, error.acknowledged_prefix().is_none())
    });
    assert!(
        rejected.0.starts_with("Rejected { status: 400"),
        "{}",
        rejected.0
    );
    assert!(rejected.1, "nothing acknowledged: no acknowledgement");
    assert_eq!(env.batches().len(), 1, "a 400 is not retried");

    let env = Env::new();
    for status in [408, 429, 500, 503] {
        env.platform
            .inject(Fault::status(status).on_path_suffix("/batch"));
    }
    env.platform
        .inject(Fault::drop_connection().on_path_suffix("/batch"));
    let ids = run_step(&env, ConnectorOptions::default(), |ctx| {
        ctx.push_events(["x"])
            .expect("acknowledged after the retries")
            .ids()
            .count()
    });
    assert_eq!(ids, 1);
    let statuses: Vec<u16> = env.batches().iter().map(|b| b.status).collect();
    assert_eq!(statuses, [408, 429, 500, 503, 0, 200]);
    assert!(
        env.batches()
            .windows(2)
            .all(|pair| pair[0].body == pair[1].body)
    );
}

#[test]
fn a_429_retry_after_given_as_an_http_date_is_honoured_within_the_deadline() {
    assert_eq!(
        support::http_date(784_111_777),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };

    // Two seconds ahead (in whole seconds: a wait of 1 to 2 s), where the
    // backoff alone would wait 1 ms.
    let env = Env::new();
    env.platform.inject(
        Fault::status(429)
            .on_path_suffix("/batch")
            .with_header("Retry-After", &support::http_date(now() + 2)),
    );
    let acknowledged = run_step(&env, ConnectorOptions::default(), |ctx| {
        ctx.push_events(["x"]).map(|ack| ack.covered()).ok()
    });
    assert_eq!(acknowledged, Some(1));
    let batches = env.batches();
    let statuses: Vec<u16> = batches.iter().map(|b| b.status).collect();
    assert_eq!(statuses, [429, 200]);
    let waited = batches[1].received_at - batches[0].received_at;
    assert!(
        waited >= Duration::from_millis(900),
        "the retry came {waited:?} after the 429, before its Retry-After date"
    );

    // An hour ahead: the wait ends at the retry deadline, then the chunk is
    // tried again (and acknowledged), not given up unsent.
    let env = Env::new();
    env.platform.inject(
        Fault::status(429)
            .on_path_suffix("/batch")
            .with_header("Retry-After", &support::http_date(now() + 3600)),
    );
    let deadline = Duration::from_millis(300);
    let options = ConnectorOptions::default().with_retry_deadline(deadline);
    let acknowledged = run_step(&env, options, |ctx| {
        ctx.push_events(["x"]).map(|ack| ack.covered()).ok()
    });
    assert_eq!(acknowledged, Some(1));
    let batches = env.batches();
    let statuses: Vec<u16> = batches.iter().map(|b| b.status).collect();
    assert_eq!(statuses, [429, 200]);
    let waited = batches[1].received_at - batches[0].received_at;
    assert!(
        waited >= deadline / 2,
        "the retry came {waited:?} after the 429: its date was not read"
    );

    // A date in the past: no wait beyond the backoff, the header is seen.
    let env = Env::new();
    env.platform.inject(
        Fault::status(429)
            .on_path_suffix("/batch")
            .with_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    let acknowledged = run_step(&env, ConnectorOptions::default(), |ctx| {
        ctx.push_events(["x"]).map(|ack| ack.covered()).ok()
    });
    assert_eq!(acknowledged, Some(1));
    let batches = env.batches();
    assert_eq!(batches.len(), 2);
}

#[test]
fn a_chunk_failing_past_the_deadline_is_given_up_and_reported() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(502).always().on_path_suffix("/batch"));
    let options = ConnectorOptions::default().with_retry_deadline(Duration::from_millis(50));
    let outcome = run_step(&env, options, |ctx| {
        let error = ctx.push_events(["x"]).expect_err("given up");
        format!("{:?} / {error}", error.report().outcome(0))
    });
    assert!(outcome.starts_with("GaveUp { attempts: "), "{outcome}");
    assert!(
        outcome.contains("given up after the retry deadline (last failure: HTTP 502"),
        "{outcome}"
    );
    assert!(env.batches().len() >= 2);
}

#[test]
fn a_stop_wakes_the_retry_waits_and_nothing_counts_as_delivered() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(503).always().on_path_suffix("/batch"));
    let stop = Arc::new(StopSignal::new());
    let options = ConnectorOptions::default().with_stop_signal(Arc::clone(&stop));
    // Waits of 100 s, 200 s...: only the stop can end them.
    let settings = env.settings().with_retry_backoff(Duration::from_secs(100));
    let result = Arc::new(Mutex::new(None));
    let out = Arc::clone(&result);
    let mut connector = Scripted::new(move |ctx| {
        let error = ctx.push_events(["x", "y"]).expect_err("stopped");
        *out.lock().unwrap() = Some((
            error.is_stopped(),
            format!("{:?}", error.report().outcome(0)),
        ));
        Ok(())
    });
    connector.options = options;
    let handle = std::thread::spawn(move || {
        Module::<Value>::with_settings(settings)
            .register("scripted", connector)
            .run_command("scripted")
    });
    assert!(env.platform.wait_for(Duration::from_secs(20), |requests| {
        requests.iter().any(|request| request.route() == "batch")
    }));
    stop.stop();
    assert_eq!(handle.join().unwrap(), ExitCode::SUCCESS);
    let (is_stopped, outcome) = result.lock().unwrap().take().unwrap();
    assert!(is_stopped);
    assert_eq!(outcome, "Stopped");
    assert_eq!(env.batches().len(), 1, "no attempt after the stop");
}

#[test]
fn checkpoints_share_one_context_file_and_advance_with_acknowledgements() {
    let env = Env::new();
    let data = env.sandbox.data_directory();
    std::fs::write(
        data.join("context.json"),
        r#"{"tenant1":{"most_recent_date_seen":"2026-11-28T04:37:29.565514+00:00"},"own":1}"#,
    )
    .unwrap();
    run_step(&env, ConnectorOptions::default(), |ctx| {
        let mut tenant1 = ctx
            .checkpoint_datetime()
            .subkey("tenant1")
            .ignore_older_than(None);
        let mut tenant2 = ctx
            .checkpoint_datetime()
            .subkey("tenant2")
            .ignore_older_than(None);
        let mut cursor = ctx.checkpoint_cursor::<Value>().subkey("s");
        let start = tenant1.offset().unwrap();
        assert_eq!(start.to_iso8601(), "2026-11-28T04:37:29.565514");
        let acknowledged = ctx.push_events(["e1"]).unwrap();
        let later = Timestamp::from(SystemTime::from(start) + Duration::from_secs(10));
        assert!(tenant1.advance(later, &acknowledged).unwrap());
        assert!(
            !tenant1.advance(start, &acknowledged).unwrap(),
            "never backwards"
        );
        // A fresh checkpoint starts 5 minutes ago; 2030-01-01 is after that.
        tenant2.offset().unwrap();
        let future = Timestamp::from(UNIX_EPOCH + Duration::from_secs(1_893_456_000));
        assert!(tenant2.advance(future, &acknowledged).unwrap());
        cursor.advance(json!({"x": 1}), &acknowledged).unwrap();
        ctx.context_file()
            .update(|map| {
                map.insert("cursor".into(), json!("abc"));
            })
            .unwrap();
    });
    let text = std::fs::read_to_string(data.join("context.json")).unwrap();
    assert_eq!(
        text,
        r#"{"tenant1":{"most_recent_date_seen":"2026-11-28T04:37:39.565514+00:00"},"own":1,"tenant2":{"most_recent_date_seen":"2030-01-01T00:00:00+00:00"},"s":{"cursor":{"x":1}},"cursor":"abc"}"#
    );
}

#[test]
fn the_connector_metrics_and_the_modules_share_one_exposition() {
    // Its own intake key: the registry is the test process's.
    let env = Env::with_configuration(json!({"intake_key": "METRICS"}));
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    env.sandbox.set("metrics_port", &port.to_string()).unwrap();
    let text = run_step(&env, ConnectorOptions::default(), move |ctx| {
        // A module registering the SDK's own name, as 51 library modules do.
        let own = ctx
            .metrics()
            .counter(
                "symphony_module_common_forwarded_events",
                "Number of events forwarded to Sekoia.io",
                &["intake_key"],
            )
            .unwrap();
        own.inc_by(&[ctx.intake_key()], 2.0);
        let clash = ctx
            .metrics()
            .gauge("symphony_module_common_discarded_events", "x", &[]);
        assert!(clash.is_err(), "a type clash is the module's error");
        let _ = ctx.push_events(["ok".to_string(), "x".repeat(300_000)]);
        ctx.count_forwarded(2);
        let mut response = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
            .call()
            .unwrap();
        response.body_mut().read_to_string().unwrap()
    });
    for line in [
        "# TYPE symphony_module_common_forwarded_events_total counter\n",
        "symphony_module_common_forwarded_events_total{intake_key=\"METRICS\"} 4.0\n",
        "# TYPE symphony_module_common_forward_events_duration histogram\n",
        "# HELP symphony_module_common_discarded_events_total Number of events discarded from the collect\n",
        "symphony_module_common_discarded_events_total{intake_key=\"METRICS\"} 1.0\n",
        "# TYPE symphony_module_common_events_lags gauge\n",
        "# TYPE symphony_module_trigger_events_sent_total counter\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    assert_eq!(
        text.matches("# TYPE symphony_module_common_forwarded_events_total")
            .count(),
        1
    );
}

/// docs/protocol.md §5: 100,000 events through a platform answering 30% 5xx, 5%
/// dropped connections and 1% 413. Every event is acknowledged exactly once
/// by the intake or reported as not delivered; duplicates only where a
/// dropped connection made a resend unavoidable.
#[test]
fn a_hundred_thousand_events_through_a_faulty_intake_are_accounted_for_exactly() {
    let env = Env::new();
    env.platform.seed(8);
    env.platform.inject(
        Fault::status(413)
            .always()
            .on_path_suffix("/batch")
            .with_probability(0.01),
    );
    env.platform.inject(
        Fault::drop_connection()
            .always()
            .on_path_suffix("/batch")
            .with_probability(0.05),
    );
    env.platform.inject(
        Fault::status(503)
            .always()
            .on_path_suffix("/batch")
            .with_probability(0.3),
    );
    const PUSHES: u64 = 100;
    const PER_PUSH: u64 = 1_000;
    // Waits of 1, 2, 4, 8, 10 ms: a chunk is given up only after 10 s of
    // failures, which the odds make rare but the accounting allows.
    let options = ConnectorOptions::default().with_retry_deadline(Duration::from_secs(10));
    let reported = run_step(&env, options, |ctx| {
        let mut reported: Vec<(u64, String)> = Vec::new();
        for push in 0..PUSHES {
            let events = (0..PER_PUSH)
                .map(move |n| json!({"n": push * PER_PUSH + n, "pad": "x".repeat(40)}));
            let report = match ctx.push_events(events) {
                Ok(acknowledged) => acknowledged.into_report(),
                Err(error) => error.into_report(),
            };
            for (index, outcome) in report.outcomes().enumerate() {
                let label = match outcome {
                    EventOutcome::Acknowledged(Some(_)) => "acknowledged".to_string(),
                    EventOutcome::Rejected { status, .. } => format!("rejected {status}"),
                    EventOutcome::GaveUp { .. } => "gave up".to_string(),
                    other => format!("{other:?}"),
                };
                reported.push((push * PER_PUSH + index as u64, label));
            }
        }
        reported
    });
    assert_eq!(reported.len() as u64, PUSHES * PER_PUSH);
    // What the intake did, from its record.
    let mut accepted: HashMap<u64, u32> = HashMap::new();
    let mut dropped: HashMap<u64, u32> = HashMap::new();
    for batch in env.batches() {
        let body = batch.json().unwrap();
        for json in body["jsons"].as_array().unwrap() {
            let event: Value = serde_json::from_str(json.as_str().unwrap()).unwrap();
            let n = event["n"].as_u64().unwrap();
            match batch.status {
                200 => *accepted.entry(n).or_default() += 1,
                0 => *dropped.entry(n).or_default() += 1,
                _ => {}
            }
        }
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut duplicates = 0;
    for (n, label) in &reported {
        let on_intake = accepted.get(n).copied().unwrap_or(0);
        assert!(on_intake <= 1, "event {n} accepted {on_intake} times");
        if label == "acknowledged" {
            assert_eq!(on_intake, 1, "event {n} reported acknowledged");
        } else {
            assert_eq!(
                on_intake, 0,
                "event {n} reported {label} but the intake has it"
            );
        }
        if dropped.contains_key(n) && on_intake == 1 {
            // Sent on a connection that dropped, then again: the intake may
            // hold it twice (no idempotency key in /batch).
            duplicates += 1;
        }
        *counts.entry(label.clone()).or_default() += 1;
    }
    let acknowledged = counts.get("acknowledged").copied().unwrap_or(0);
    assert!(acknowledged > 0, "{counts:?}");
    assert!(
        counts
            .keys()
            .all(|label| label == "acknowledged" || label == "rejected 413" || label == "gave up"),
        "{counts:?}"
    );
    eprintln!(
        "100,000 events: {counts:?}, possible duplicates after a dropped connection: {duplicates}"
    );
}

#[test]
fn a_chunk_whose_answer_does_not_come_gets_the_in_flight_grace_then_is_reported_stopped() {
    let env = Env::new();
    // The intake holds the answer for a minute: only the grace ends the wait.
    env.platform.inject(
        Fault::delay(Duration::from_secs(60))
            .always()
            .on_path_suffix("/batch"),
    );
    let stop = Arc::new(StopSignal::new());
    let options = ConnectorOptions::default()
        .with_stop_signal(Arc::clone(&stop))
        .with_in_flight_grace(Duration::from_millis(200));
    let result = Arc::new(Mutex::new(None));
    let out = Arc::clone(&result);
    let mut connector = Scripted::new(move |ctx| {
        // 60 events of 200,000 bytes: two chunks, sent by the sender threads.
        let events: Vec<String> = (0..60)
            .map(|n| format!("{n}{}", "x".repeat(200_000)))
            .collect();
        let error = ctx.push_events(&events).expect_err("stopped");
        let counts = error.report().counts();
        *out.lock().unwrap() = Some((error.is_stopped(), counts.stopped(), counts.acknowledged()));
        Ok(())
    });
    connector.options = options;
    let settings = env.settings();
    let handle = std::thread::spawn(move || {
        Module::<Value>::with_settings(settings)
            .register("scripted", connector)
            .run_command("scripted")
    });
    assert!(env.platform.wait_for(Duration::from_secs(20), |requests| {
        requests
            .iter()
            .filter(|request| request.route() == "batch")
            .count()
            >= 2
    }));
    stop.stop();
    assert_eq!(handle.join().unwrap(), ExitCode::SUCCESS);
    let (is_stopped, stopped, acknowledged) = result.lock().unwrap().take().unwrap();
    assert!(is_stopped);
    assert_eq!(
        (stopped, acknowledged),
        (60, 0),
        "nothing counts as delivered"
    );
}

#[test]
fn liveness_counts_events_when_the_intake_acknowledged_them() {
    use sekoia_automation::testing::ManualClock;
    let env = Env::new();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    env.sandbox.set("liveness_port", &port.to_string()).unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let options = ConnectorOptions::default()
        .with_seconds_without_events(Duration::from_secs(10))
        .with_clock(clock.clone());
    let health = move || match ureq::get(&format!("http://127.0.0.1:{port}/health")).call() {
        Ok(response) => response.status().as_u16(),
        Err(ureq::Error::StatusCode(status)) => status,
        Err(error) => panic!("{error}"),
    };
    let statuses = run_step(&env, options, move |ctx| {
        clock.advance(Duration::from_secs(20));
        let before = health();
        // Handed over but refused: not an event the intake has.
        let refused = ctx.push_events(["x".repeat(300_000)]).is_err();
        let after_refused = health();
        let _ = ctx.push_events(["ok"]).expect("acknowledged");
        let after_acknowledged = health();
        (before, refused, after_refused, after_acknowledged)
    });
    assert_eq!(statuses, (500, true, 500, 200));
}

#[test]
fn two_checkpoint_objects_on_one_key_never_move_it_back() {
    let directory = tempfile::tempdir().unwrap();
    let at = |seconds: u64| Timestamp::from(UNIX_EPOCH + Duration::from_secs(seconds));
    let mut first = sekoia_automation::connector::CheckpointDatetime::new(directory.path())
        .subkey("tenant")
        .ignore_older_than(None)
        .start_at(Duration::from_secs(100 * 365 * 24 * 3600));
    let mut second = first.clone();
    first.offset().unwrap();
    second.offset().unwrap();
    assert!(second.advance_unacknowledged(at(2_000_000_000)).unwrap());
    // `first` still remembers the start: an earlier date must not win.
    assert!(!first.advance_unacknowledged(at(1_900_000_000)).unwrap());
    let text = std::fs::read_to_string(directory.path().join("context.json")).unwrap();
    assert_eq!(
        text,
        r#"{"tenant":{"most_recent_date_seen":"2033-05-18T03:33:20+00:00"}}"#
    );
    assert_eq!(
        first.offset().unwrap(),
        at(2_000_000_000),
        "it reads the file's position again"
    );
}

/// A connector written with `next_page` only, failing as the test says.
struct Failing {
    configuration_error: bool,
    calls: Arc<Mutex<u32>>,
    stop: Arc<StopSignal>,
}

impl Connector for Failing {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = String;
    const NAME: &'static str = "Failing";
    const DESCRIPTION: &'static str = "Fail to fetch";

    fn options(&self) -> ConnectorOptions {
        ConnectorOptions::default().with_stop_signal(Arc::clone(&self.stop))
    }

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        self.poll(ctx)
    }
}

impl PollingConnector for Failing {
    fn next_page(
        &mut self,
        _: &ConnectorContext<'_, Self>,
    ) -> Result<sekoia_automation::Page<String>, TriggerError> {
        *self.calls.lock().unwrap() += 1;
        if self.configuration_error {
            Err(TriggerError::configuration(
                "`api_key` is refused by the vendor: fix the configuration",
            ))
        } else {
            Err(TriggerError::msg("the vendor answered 502"))
        }
    }
}

#[test]
fn the_default_loop_reports_a_configuration_error_as_critical_and_never_spins_on_failures() {
    for configuration_error in [true, false] {
        let env = Env::new();
        let stop = Arc::new(StopSignal::new());
        let calls = Arc::new(Mutex::new(0));
        let connector = Failing {
            configuration_error,
            calls: Arc::clone(&calls),
            stop: Arc::clone(&stop),
        };
        // Pauses after a failure of 1, 2, 4... backoff units: 1 s here.
        let settings = env.settings().with_retry_backoff(Duration::from_secs(1));
        let handle = std::thread::spawn(move || {
            Module::<Value>::with_settings(settings)
                .register("failing", connector)
                .run_command("failing")
        });
        let wanted = if configuration_error {
            "Configuration error"
        } else {
            "the vendor answered 502"
        };
        assert!(env.platform.wait_for(Duration::from_secs(20), |requests| {
            requests
                .iter()
                .any(|request| request.route() == "logs" && request.body_text().contains(wanted))
        }));
        stop.stop();
        assert_eq!(handle.join().unwrap(), ExitCode::SUCCESS);
        let logs: Vec<Value> = env
            .platform
            .requests()
            .iter()
            .filter(|request| request.route() == "logs")
            .flat_map(|request| request.json().unwrap()["logs"].as_array().unwrap().clone())
            .collect();
        if configuration_error {
            assert!(
                logs.iter().any(
                    |log| log["level"] == "critical" && log["message"] == "Configuration error"
                ),
                "{logs:?}"
            );
        }
        // A failure pauses the loop before the next call: not a busy loop.
        let calls = *calls.lock().unwrap();
        assert!(calls <= 2, "next_page called {calls} times");
    }
}

#[test]
fn accented_text_is_chunked_on_its_encoded_bytes_so_the_intake_never_answers_413() {
    let env = Env::new();
    let ids = run_step(&env, ConnectorOptions::default(), |ctx| {
        // 100,000 characters, 200,000 UTF-8 bytes, 600,000 bytes once
        // escaped in the body: 40 of them make 24 MB.
        let event = "é".repeat(100_000);
        let events = std::iter::repeat_n(event.as_str(), 40);
        ctx.push_events(events)
            .expect("every chunk accepted")
            .ids()
            .count()
    });
    assert_eq!(ids, 40);
    let batches = env.batches();
    assert!(batches.len() >= 3, "{} batches", batches.len());
    for batch in &batches {
        assert_eq!(batch.status, 200);
        assert!(
            batch.body.len() <= 10 * 1024 * 1024,
            "{} bytes",
            batch.body.len()
        );
    }
}

#[test]
fn the_ids_of_several_chunks_are_each_events_in_order_around_a_refused_event() {
    let env = Env::new();
    let (ids, outcomes) = run_step(&env, ConnectorOptions::default(), |ctx| {
        // Every other event 600,000 bytes once escaped: about 17 of them a
        // chunk, so 90 events make 3 chunks or more; event 45 is refused.
        let big = "é".repeat(100_000);
        let too_large = "x".repeat(300_000);
        let events: Vec<String> = (0..90)
            .map(|i| match i {
                45 => too_large.clone(),
                i if i % 2 == 0 => big.clone(),
                i => format!("small {i}"),
            })
            .collect();
        let report = ctx
            .push_events(&events)
            .expect_err("one event refused")
            .into_report();
        let ids: Vec<String> = report.ids().map(|id| id.to_string()).collect();
        let outcomes: Vec<Option<String>> = report
            .outcomes()
            .map(|outcome| match outcome {
                EventOutcome::Acknowledged(Some(id)) => Some(id.to_string()),
                EventOutcome::Refused(Refusal::TooLarge { .. }) => None,
                other => panic!("{other:?}"),
            })
            .collect();
        (ids, outcomes)
    });
    let batches = env.batches();
    assert!(batches.len() >= 3, "{} batches", batches.len());
    assert!(batches.iter().all(|batch| batch.status == 200));
    assert_eq!(ids.len(), 89);
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 89, "one id per event");
    for id in &ids {
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(uuid.get_version_num(), 4, "{id}");
        assert_eq!(&uuid.hyphenated().to_string(), id, "printed as answered");
    }
    // The outcome of each event carries its own id: the ids in order, the
    // refused event skipped.
    assert_eq!(outcomes.len(), 90);
    assert_eq!(outcomes[45], None);
    let from_outcomes: Vec<String> = outcomes.into_iter().flatten().collect();
    assert_eq!(from_outcomes, ids);
}
