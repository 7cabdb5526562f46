//! What the crate trusts on the wire (issue 18, points 1, 2, 7, 8, 9),
//! against the embedded platform and small servers on 127.0.0.1:
//!
//! - a redirect (301, 302, 303, 307, 308) is never a delivery: not on the
//!   intake, not on an action's PATCH, not on a trigger's event POST, not on
//!   any request of the platform client; the target is never contacted;
//! - `Retry-After: 0` or a date in the past never shortens the intake's
//!   backoff, nor the platform client's;
//! - an unusable `intake_server` is a critical configuration error at start;
//! - a 2xx whose ids are not one string per event is logged as a warning,
//!   and a chunk refused with a 4xx is logged as an error, both to the
//!   platform, even when the module ignores the push's result;
//! - a `422 Not ready` from the intake is retried (woken by a stop).
//!
//! Every wait is bounded; no assertion is on a duration.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod support;

#[path = "support/fake_vendor.rs"]
mod fake_vendor;

use fake_vendor::{FakeVendor, Reply};
use sekoia_automation::config::Settings;
use sekoia_automation::connector::ConnectorOptions;
use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use sekoia_automation::trigger::{HttpError, StopSignal};
use sekoia_automation::unversioned::wire::{EventSender, PlatformClient};
use sekoia_automation::{
    Action, ActionContext, ActionError, Connector, ConnectorContext, Module, Outcome, Secret,
    Trigger, TriggerContext, TriggerError,
};
use serde_json::{Value, json};

const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];
const WAIT: Duration = Duration::from_secs(20);

/// A server that answers every request `200 {}`: where a followed
/// redirect would land, and count as delivered.
fn landing() -> FakeVendor {
    FakeVendor::start(|_| Reply::json(200, "{}"))
}

fn redirect(status: u16, to: &str) -> Fault {
    Fault::status(status).with_header("Location", to)
}

/// Every log record the platform accepted.
fn logs(platform: &LocalPlatform) -> Vec<Value> {
    platform
        .requests()
        .iter()
        .filter(|request| request.route() == "logs" && request.status == 200)
        .filter_map(RecordedRequest::json)
        .flat_map(|body| body["logs"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn has_log(platform: &LocalPlatform, level: &str, parts: &[&str]) -> bool {
    logs(platform).iter().any(|log| {
        log["level"] == level
            && log["message"]
                .as_str()
                .is_some_and(|message| parts.iter().all(|part| message.contains(part)))
    })
}

// ---------------------------------------------------------------------------
// Connectors.

type Step = Box<dyn FnMut(&ConnectorContext<'_, Scripted>) + Send>;

/// A connector whose one run does what the test says, then stops.
struct Scripted {
    step: Step,
    options: ConnectorOptions,
}

impl Connector for Scripted {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Scripted";
    const DESCRIPTION: &'static str = "Do what the test says";

    fn run(&mut self, ctx: &ConnectorContext<'_, Self>) -> Result<(), TriggerError> {
        (self.step)(ctx);
        ctx.stop();
        Ok(())
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
        sandbox
            .set_json("module_configuration", &json!({}))
            .unwrap();
        sandbox
            .set_json("connector_configuration", &configuration)
            .unwrap();
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        Env { platform, sandbox }
    }

    fn settings(&self) -> Settings {
        self.sandbox.settings()
    }

    fn batches(&self) -> Vec<RecordedRequest> {
        self.platform
            .requests()
            .into_iter()
            .filter(|request| request.route() == "batch")
            .collect()
    }

    /// Runs `step` once in a connector with these settings and options,
    /// and hands back what it returned.
    fn step<R: Send + 'static>(
        &self,
        settings: Settings,
        options: ConnectorOptions,
        step: impl FnOnce(&ConnectorContext<'_, Scripted>) -> R + Send + 'static,
    ) -> R {
        let slot = Arc::new(Mutex::new(None));
        let out = Arc::clone(&slot);
        let mut step = Some(step);
        let connector = Scripted {
            step: Box::new(move |ctx| {
                if let Some(step) = step.take() {
                    *out.lock().unwrap() = Some(step(ctx));
                }
            }),
            options,
        };
        let code = Module::<Value>::with_settings(settings)
            .register("scripted", connector)
            .run_command("scripted");
        assert_eq!(code, ExitCode::SUCCESS);
        let result = slot.lock().unwrap().take();
        result.expect("the connector ran its step")
    }

    fn push(&self, events: &'static [&'static str]) -> Result<u64, (String, bool)> {
        self.step(self.settings(), ConnectorOptions::default(), move |ctx| {
            ctx.push_events(events.iter().copied())
                .map(|ack| ack.covered())
                .map_err(|error| {
                    (
                        format!("{:?} / {error}", error.report().outcome(0)),
                        error.acknowledged_prefix().is_some(),
                    )
                })
        })
    }
}

#[test]
fn a_redirected_batch_is_refused_never_followed_and_logged_to_the_platform() {
    for status in REDIRECTS {
        let landing = landing();
        let target = format!("{}/elsewhere/batch", landing.url);
        let env = Env::new();
        env.platform
            .inject(redirect(status, &target).on_path_suffix("/batch"));
        let (outcome, acknowledged) = env.push(&["a", "b"]).expect_err("not delivered");
        assert!(!acknowledged, "{status}: nothing acknowledged");
        assert!(
            outcome.starts_with(&format!("Rejected {{ status: {status}, message: Some(")),
            "{status}: {outcome}"
        );
        assert!(outcome.contains(&target), "{status}: {outcome}");
        assert_eq!(env.batches().len(), 1, "{status}: not retried");
        assert!(
            landing.requests().is_empty(),
            "{status}: the redirect was followed"
        );
        assert!(
            has_log(
                &env.platform,
                "error",
                &[
                    "Failed to forward 2 events",
                    &format!("HTTP {status}"),
                    &target
                ]
            ),
            "{status}: {:?}",
            logs(&env.platform)
        );
    }
}

/// An action whose run succeeds.
struct Succeed;

impl Action for Succeed {
    type ModuleConfiguration = Value;
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Succeed";
    const DESCRIPTION: &'static str = "Succeed";

    fn run(&self, _: &ActionContext<'_, Value>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::success(json!({"done": true})))
    }
}

fn run_action(platform: &LocalPlatform) -> ExitCode {
    let sandbox = Sandbox::new(platform).unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox.set_json("arguments", &json!({})).unwrap();
    Module::<Value>::with_settings(sandbox.settings())
        .register("succeed", Succeed)
        .run_command("succeed")
}

#[test]
fn a_redirected_action_patch_is_that_requests_failure() {
    for status in REDIRECTS {
        // The running PATCH: the action does not run, and the finished
        // PATCH says why, with the status and the `Location`.
        let landing = landing();
        let target = format!("{}/api/v1/symphony/callback", landing.url);
        let platform = LocalPlatform::start().unwrap();
        platform.inject(
            redirect(status, &target)
                .on_method("PATCH")
                .when_json("status", json!("running")),
        );
        assert_eq!(run_action(&platform), ExitCode::SUCCESS);
        let requests = platform.requests();
        assert_eq!(requests.len(), 2, "{status}: not retried");
        let finished = requests[1].json().unwrap();
        assert_eq!(finished["status"], "finished", "{status}");
        assert!(finished.get("results").is_none(), "{status}: {finished}");
        let error = finished["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("answered HTTP {status}, a redirect to `{target}`")),
            "{status}: {error}"
        );
        assert!(landing.requests().is_empty(), "{status}: followed");

        // The finished PATCH: the run is not reported, the process fails.
        let platform = LocalPlatform::start().unwrap();
        platform.inject(
            redirect(status, &target)
                .on_method("PATCH")
                .when_json("status", json!("finished")),
        );
        assert_eq!(run_action(&platform), ExitCode::FAILURE, "{status}");
        assert_eq!(platform.requests().len(), 2, "{status}: not retried");
        assert!(landing.requests().is_empty(), "{status}: followed");
    }
}

/// A send's result: its status and message when it failed.
type Sent = Result<(), (Option<u16>, String)>;

/// A trigger that sends one event, hands back the send's result, and
/// stops.
struct SendOne {
    result: Arc<Mutex<Option<Sent>>>,
}

impl Trigger for SendOne {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "SendOne";
    const DESCRIPTION: &'static str = "Send one event";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let sent = ctx.send_event("alert", &json!({"n": 1}));
        *self.result.lock().unwrap() = Some(
            sent.as_ref()
                .map(drop)
                .map_err(|error| (error.status(), error.to_string())),
        );
        ctx.stop();
        sent.map_err(TriggerError::from)
    }
}

#[test]
fn a_redirected_event_post_is_not_sent_and_is_logged_to_the_platform() {
    for status in REDIRECTS {
        let landing = landing();
        let target = format!("{}/api/v1/symphony/callback", landing.url);
        let platform = LocalPlatform::start().unwrap();
        let sandbox = Sandbox::new(&platform).unwrap();
        sandbox
            .set_json("module_configuration", &json!({}))
            .unwrap();
        sandbox
            .set_json("trigger_configuration", &json!({}))
            .unwrap();
        sandbox.set("liveness_port", "0").unwrap();
        sandbox.set("metrics_port", "0").unwrap();
        platform.inject(
            redirect(status, &target)
                .on_method("POST")
                .on_path_suffix("/callback"),
        );
        let result = Arc::new(Mutex::new(None));
        let trigger = SendOne {
            result: Arc::clone(&result),
        };
        let code = Module::<Value>::with_settings(sandbox.settings())
            .register("send", trigger)
            .run_command("send");
        assert_eq!(code, ExitCode::SUCCESS);
        let (seen, message) = result
            .lock()
            .unwrap()
            .take()
            .expect("the trigger ran")
            .expect_err("a redirect is not a delivery");
        assert_eq!(seen, Some(status));
        assert!(message.contains(&target), "{status}: {message}");
        let events: Vec<RecordedRequest> = platform
            .requests()
            .into_iter()
            .filter(|request| request.route() == "callback")
            .collect();
        assert_eq!(events.len(), 1, "{status}: not retried");
        assert!(landing.requests().is_empty(), "{status}: followed");
        assert!(
            has_log(
                &platform,
                "error",
                &[&format!("answered HTTP {status}, a redirect to `{target}`")]
            ),
            "{status}: {:?}",
            logs(&platform)
        );
    }
}

#[test]
fn the_platform_client_follows_no_redirect_on_any_method() {
    for status in REDIRECTS {
        let landing = landing();
        let target = format!("{}/landed", landing.url);
        let platform = LocalPlatform::start().unwrap();
        platform.inject(redirect(status, &target).times(3));
        let client = PlatformClient::new(Secret::new(platform.token().to_string()))
            .with_backoff(Duration::from_millis(1));
        let errors = [
            client.get(&platform.secrets_url()).unwrap_err(),
            client
                .patch_json(&platform.callback_url(), &json!({"status": "running"}))
                .unwrap_err(),
            client
                .post_json(&platform.logs_url(), &json!({"logs": []}))
                .unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(&error, HttpError::Redirected { status: s, location: Some(l), .. } if *s == status && *l == target),
                "{status}: {error:?}"
            );
            assert_eq!(error.status(), Some(status));
        }
        // The events' keep-alive connection too.
        platform.inject(redirect(status, &target));
        let sender = EventSender::new(
            &platform.callback_url(),
            PlatformClient::new(Secret::new(platform.token().to_string())),
        );
        let error = sender.send(b"{}").unwrap_err();
        assert!(
            matches!(&error, HttpError::Redirected { status: s, location: Some(l), .. } if *s == status && *l == target),
            "{status}: {error:?}"
        );
        assert_eq!(platform.requests().len(), 4, "{status}: none retried");
        assert!(landing.requests().is_empty(), "{status}: followed");
    }
}

// ---------------------------------------------------------------------------
// Retry-After.

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn retry_after_zero_or_past_never_shortens_the_intakes_backoff() {
    // Backoff waits of 100, 200, 400 ms, then what is left of the 1 s
    // deadline: at most 5 attempts whatever the machine's speed. Waits of
    // nothing would make hundreds.
    let past = support::http_date(now() - 3600);
    for status in [429, 503] {
        for after in ["0", past.as_str()] {
            let env = Env::new();
            env.platform.inject(
                Fault::status(status)
                    .always()
                    .on_path_suffix("/batch")
                    .with_header("Retry-After", after),
            );
            let settings = env
                .settings()
                .with_retry_backoff(Duration::from_millis(100));
            let options = ConnectorOptions::default().with_retry_deadline(Duration::from_secs(1));
            let outcome = env.step(settings, options, |ctx| {
                let error = ctx.push_events(["x"]).expect_err("given up");
                format!("{:?}", error.report().outcome(0))
            });
            assert!(outcome.starts_with("GaveUp"), "{outcome}");
            let attempts = env.batches().len();
            assert!(
                (2..=5).contains(&attempts),
                "{status} with Retry-After {after:?}: {attempts} attempts in the 1 s deadline"
            );
            assert!(
                has_log(
                    &env.platform,
                    "error",
                    &[
                        "Failed to forward 1 events",
                        &format!("({attempts} attempts), the last with HTTP {status}")
                    ]
                ),
                "{:?}",
                logs(&env.platform)
            );
        }
    }
}

#[test]
fn retry_after_zero_or_past_never_shortens_the_platform_clients_backoff() {
    let past = support::http_date(now() - 3600);
    for after in ["0", past.as_str()] {
        let platform = LocalPlatform::start().unwrap();
        platform.inject(
            Fault::status(503)
                .times(3)
                .with_header("Retry-After", after),
        );
        let waits = Arc::new(Mutex::new(Vec::new()));
        let client = PlatformClient::new(Secret::new(platform.token().to_string()))
            .with_backoff(Duration::from_millis(1))
            .with_sleeper({
                let waits = Arc::clone(&waits);
                move |wait| {
                    waits.lock().unwrap().push(wait);
                    true
                }
            });
        client
            .patch_json(&platform.callback_url(), &json!({"status": "running"}))
            .unwrap();
        assert_eq!(
            *waits.lock().unwrap(),
            [2, 4, 8].map(Duration::from_millis),
            "{after:?}: the backoff, not the header"
        );
    }
}

// ---------------------------------------------------------------------------
// An unusable intake URL.

#[test]
fn an_unusable_intake_server_is_a_critical_configuration_error_at_start() {
    for (server, detail) in [
        ("https://intake .sekoia.io", "space"),
        ("intake.sekoia.io", "no scheme"),
        ("ftp://127.0.0.1/intake", "the scheme `ftp`"),
    ] {
        let env = Env::with_configuration(json!({"intake_key": "K", "intake_server": server}));
        let stop = Arc::new(StopSignal::new());
        let pushed = Arc::new(Mutex::new(0));
        let connector = Scripted {
            step: Box::new({
                let pushed = Arc::clone(&pushed);
                move |ctx| {
                    *pushed.lock().unwrap() += 1;
                    let _ = ctx.push_events(["x"]);
                }
            }),
            options: ConnectorOptions::default().with_stop_signal(Arc::clone(&stop)),
        };
        let settings = env.settings();
        let handle = std::thread::spawn(move || {
            Module::<Value>::with_settings(settings)
                .register("scripted", connector)
                .run_command("scripted")
        });
        let named = format!("`intake_server` is `{server}`");
        let reported = env.platform.wait_for(WAIT, |requests| {
            let text: String = requests
                .iter()
                .filter(|request| request.route() == "logs")
                .map(RecordedRequest::body_text)
                .collect();
            text.contains("Configuration error") && text.contains(&named)
        });
        stop.stop();
        assert_eq!(handle.join().unwrap(), ExitCode::SUCCESS);
        assert!(reported, "{server}: {:?}", logs(&env.platform));
        assert!(
            has_log(&env.platform, "critical", &["Configuration error"]),
            "{server}: {:?}",
            logs(&env.platform)
        );
        assert!(
            has_log(&env.platform, "error", &[&named, detail]),
            "{server}: {:?}",
            logs(&env.platform)
        );
        assert_eq!(*pushed.lock().unwrap(), 0, "{server}: the connector ran");
    }
}

// ---------------------------------------------------------------------------
// What a 2xx says, and refusals the module ignores.

#[test]
fn a_2xx_whose_ids_are_not_one_string_per_event_is_acknowledged_with_a_warning() {
    let two = r#"{"event_ids":["0f6c0d3e-5b1e-4b5e-9d1a-2c3b4d5e6f70","1a2b3c4d-0000-4000-8000-00000000000b"]}"#;
    for (answer, problem) in [
        ("accepted", "that is not JSON (`accepted`)"),
        (
            r#"{"event_ids":[1,2,3]}"#,
            "whose `event_ids` is not a list of strings",
        ),
        (r#"{"event_ids":["a","b"]}"#, "of 2 ids"),
        (two, "of 2 ids"),
        (r#"{"event_ids":["a","b","c","d"]}"#, "of 4 ids"),
    ] {
        let intake = FakeVendor::start(move |_| Reply::json(200, answer));
        let env = Env::with_configuration(json!({"intake_key": "K", "intake_server": intake.url}));
        let (covered, ids) = env.step(env.settings(), ConnectorOptions::default(), |ctx| {
            let ack = ctx
                .push_events(["x", "y", "z"])
                .expect("a 2xx acknowledges the chunk");
            (ack.covered(), ack.ids().count())
        });
        assert_eq!((covered, ids), (3, 0), "{answer}");
        assert_eq!(intake.requests().len(), 1);
        assert!(
            has_log(
                &env.platform,
                "warning",
                &[
                    "acknowledged 3 events",
                    &format!("with an answer {problem}")
                ]
            ),
            "{answer}: {:?}",
            logs(&env.platform)
        );
    }
    // One id per event: no warning.
    let env = Env::new();
    let ids = env.step(env.settings(), ConnectorOptions::default(), |ctx| {
        ctx.push_events(["x", "y"]).unwrap().ids().count()
    });
    assert_eq!(ids, 2);
    assert!(
        !logs(&env.platform)
            .iter()
            .any(|log| log["level"] == "warning"),
        "{:?}",
        logs(&env.platform)
    );
}

#[test]
fn chunks_refused_on_the_sender_threads_are_each_logged_to_the_platform() {
    // 50 events of 250,000 bytes: two chunks (10 MiB at most each), sent
    // by the sender threads, both refused.
    let env = Env::new();
    env.platform
        .inject(Fault::status(403).times(2).on_path_suffix("/batch"));
    let counts = env.step(env.settings(), ConnectorOptions::default(), |ctx| {
        let event = "e".repeat(250_000);
        let error = ctx
            .push_events(std::iter::repeat_n(event, 50))
            .expect_err("refused");
        let counts = error.report().counts();
        (counts.chunks(), counts.rejected())
    });
    assert_eq!(counts, (2, 50));
    let batches = env.batches();
    assert_eq!(batches.len(), 2);
    let mut logged = 0;
    for batch in &batches {
        let events = batch.json().unwrap()["jsons"].as_array().unwrap().len();
        logged += events;
        assert!(
            has_log(
                &env.platform,
                "error",
                &[
                    &format!("Failed to forward {events} events"),
                    "answered HTTP 403"
                ]
            ),
            "{events}: {:?}",
            logs(&env.platform)
        );
    }
    assert_eq!(logged, 50);
}

#[test]
fn a_chunk_refused_with_a_4xx_is_logged_to_the_platform_even_when_the_result_is_dropped() {
    for status in [400, 403, 404, 413] {
        let env = Env::new();
        env.platform
            .inject(Fault::status(status).on_path_suffix("/batch"));
        env.step(env.settings(), ConnectorOptions::default(), |ctx| {
            // The module drops the `PushError`.
            let _ = ctx.push_events(["x", "y"]);
        });
        assert_eq!(env.batches().len(), 1, "{status}: not retried");
        assert!(
            has_log(
                &env.platform,
                "error",
                &[
                    "Failed to forward 2 events",
                    &format!("answered HTTP {status}: {{\"message\":\"injected fault\"}}")
                ]
            ),
            "{status}: {:?}",
            logs(&env.platform)
        );
    }
}

// ---------------------------------------------------------------------------
// 422 Not ready.

#[test]
fn a_422_from_the_intake_is_retried_with_the_backoff_until_acknowledged() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(422)
            .times(2)
            .on_path_suffix("/batch")
            .with_header("Retry-After", "0"),
    );
    let covered = env.push(&["x", "y"]).expect("acknowledged after the 422s");
    assert_eq!(covered, 2);
    let statuses: Vec<u16> = env.batches().iter().map(|batch| batch.status).collect();
    assert_eq!(statuses, [422, 422, 200]);
    let batches = env.batches();
    assert!(batches.windows(2).all(|pair| pair[0].body == pair[1].body));

    // Other 4xx still fail the chunk at once.
    let env = Env::new();
    env.platform
        .inject(Fault::status(404).always().on_path_suffix("/batch"));
    let (outcome, _) = env.push(&["x"]).expect_err("refused");
    assert!(outcome.starts_with("Rejected { status: 404"), "{outcome}");
    assert_eq!(env.batches().len(), 1);
}

#[test]
fn a_stop_wakes_the_wait_after_a_422() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(422).always().on_path_suffix("/batch"));
    let stop = Arc::new(StopSignal::new());
    let options = ConnectorOptions::default().with_stop_signal(Arc::clone(&stop));
    // Waits of 100 s, 200 s...: only the stop can end them.
    let settings = env.settings().with_retry_backoff(Duration::from_secs(100));
    let result = Arc::new(Mutex::new(None));
    let connector = Scripted {
        step: Box::new({
            let result = Arc::clone(&result);
            move |ctx| {
                let error = ctx.push_events(["x"]).expect_err("stopped");
                *result.lock().unwrap() = Some((
                    error.is_stopped(),
                    format!("{:?}", error.report().outcome(0)),
                ));
            }
        }),
        options,
    };
    let handle = std::thread::spawn(move || {
        Module::<Value>::with_settings(settings)
            .register("scripted", connector)
            .run_command("scripted")
    });
    assert!(env.platform.wait_for(WAIT, |requests| {
        requests.iter().any(|request| request.route() == "batch")
    }));
    stop.stop();
    assert_eq!(handle.join().unwrap(), ExitCode::SUCCESS);
    let (stopped, outcome) = result.lock().unwrap().take().expect("the step ran");
    assert!(stopped);
    assert_eq!(outcome, "Stopped");
    assert_eq!(env.batches().len(), 1, "no attempt after the stop");
}

#[test]
fn the_landing_server_answers_what_a_followed_redirect_would_get() {
    // The tests above would pass vacuously if the landing server did not
    // answer 200: check it does, through the same client without the
    // redirect.
    let landing = landing();
    let client = PlatformClient::new(Secret::new("t".to_string()));
    let answer = client.get(&format!("{}/landed", landing.url)).unwrap();
    assert_eq!((answer.status, &answer.body[..]), (200, &b"{}"[..]));
    assert_eq!(landing.requests().len(), 1);
}
