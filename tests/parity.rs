//! Parity with the Python SDK where the platform can see it: the token file
//! read as a mounted secret, the secrets GET retried, arguments that are not
//! UTF-8 refused without a panic.

mod support;

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use sekoia_automation::testing::{Fault, LocalPlatform, Sandbox};
use sekoia_automation::{
    Action, ActionContext, ActionError, Module, Outcome, Trigger, TriggerContext, TriggerError,
};
use serde_json::{Value, json};
use support::child::Bounded;

struct Done;

impl Action for Done {
    type ModuleConfiguration = ();
    type Arguments = Value;
    type Results = Value;
    const NAME: &'static str = "Done";
    const DESCRIPTION: &'static str = "Finish at once";

    fn run(&self, _: &ActionContext<'_, ()>, _: Value) -> Result<Outcome<Value>, ActionError> {
        Ok(Outcome::success(json!({"done": true})))
    }
}

fn action_sandbox() -> (LocalPlatform, Sandbox) {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox.set_json("arguments", &json!({})).unwrap();
    (platform, sandbox)
}

#[test]
fn a_token_file_ending_with_a_newline_is_used_without_it() {
    let (platform, sandbox) = action_sandbox();
    for ending in ["\n", "\r\n"] {
        platform.clear();
        sandbox
            .set("token", &format!("{}{ending}", platform.token()))
            .unwrap();
        let code = Module::<()>::with_settings(sandbox.settings())
            .register("done", Done)
            .run_command("done");
        assert_eq!(code, ExitCode::SUCCESS, "{ending:?}");
        let requests = platform.requests();
        assert_eq!(requests.len(), 2, "{ending:?}");
        for request in &requests {
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer {}", platform.token()).as_str())
            );
        }
    }
}

#[test]
fn a_token_a_header_cannot_carry_is_named_not_the_url() {
    let (platform, sandbox) = action_sandbox();
    sandbox
        .set("token", "first-line-of-token\nsecond-line-of-token")
        .unwrap();
    let output = sandbox
        .command(support::example("hostile"))
        .arg("leaky_action")
        .stdout(Stdio::null())
        .output_bounded();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`token`"), "{stderr}");
    assert!(stderr.contains("an HTTP header cannot carry"), "{stderr}");
    assert!(!stderr.contains("url_callback"), "{stderr}");
    assert!(!stderr.contains("line-of-token"), "never shown: {stderr}");
    assert!(platform.requests().is_empty());
}

#[test]
fn an_argument_that_is_not_utf8_is_refused_without_a_panic() {
    use std::os::unix::ffi::OsStrExt as _;
    let (platform, sandbox) = action_sandbox();
    let output = sandbox
        .command(support::example("hostile"))
        .arg(std::ffi::OsStr::from_bytes(b"leaky_\xffaction"))
        .stdout(Stdio::null())
        .output_bounded();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not valid UTF-8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(platform.requests().is_empty());
}

struct Once;

impl Trigger for Once {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Once";
    const DESCRIPTION: &'static str = "Send one event with a secret and stop";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        let key = ctx.module_configuration()["api_key"].clone();
        ctx.send_event("got", &json!({"has_key": key.is_string()}))?;
        ctx.stop();
        Ok(())
    }
}

#[test]
fn the_secrets_get_is_retried_like_any_request() {
    let platform = LocalPlatform::start().unwrap();
    platform.set_secrets(json!({"api_key": "retried-secret-value"}));
    let sandbox = Sandbox::new(&platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "once",
            "configuration": {"properties": {"api_key": {}}, "secrets": ["api_key"]}
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox
        .set_json("trigger_configuration", &json!({}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    platform.inject(Fault::status(503).times(2).on_path_suffix("/secrets"));
    platform.inject(Fault::drop_connection().on_path_suffix("/secrets"));
    let code = Module::<Value>::with_settings(
        sandbox
            .settings()
            .with_retry_backoff(Duration::from_millis(1)),
    )
    .register("once", Once)
    .run_command("once");
    assert_eq!(code, ExitCode::SUCCESS);
    let routes: Vec<(String, u16)> = platform
        .requests()
        .iter()
        .filter(|request| request.route() != "logs")
        .map(|request| (request.route().to_string(), request.status))
        .collect();
    assert_eq!(
        routes,
        [
            ("secrets".to_string(), 503),
            ("secrets".to_string(), 503),
            ("secrets".to_string(), 0),
            ("secrets".to_string(), 200),
            ("callback".to_string(), 200),
        ]
    );
    let event = platform
        .requests()
        .into_iter()
        .find(|request| request.route() == "callback")
        .unwrap();
    assert_eq!(event.json().unwrap()["event"], json!({"has_key": true}));
}

/// A trigger sandbox whose module declares the secret `api_key`.
fn trigger_sandbox(platform: &LocalPlatform) -> Sandbox {
    platform.set_secrets(json!({"api_key": "retried-secret-value"}));
    let sandbox = Sandbox::new(platform).unwrap();
    sandbox
        .write_manifest(&json!({
            "slug": "once",
            "configuration": {"properties": {"api_key": {}}, "secrets": ["api_key"]}
        }))
        .unwrap();
    sandbox
        .set_json("module_configuration", &json!({}))
        .unwrap();
    sandbox
        .set_json("trigger_configuration", &json!({}))
        .unwrap();
    sandbox.set("liveness_port", "0").unwrap();
    sandbox.set("metrics_port", "0").unwrap();
    sandbox
}

fn routes(platform: &LocalPlatform) -> Vec<(String, u16)> {
    platform
        .requests()
        .iter()
        .filter(|request| request.route() != "logs")
        .map(|request| (request.route().to_string(), request.status))
        .collect()
}

#[test]
fn a_404_to_the_secrets_get_is_retried_as_python_does_and_the_trigger_starts() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = trigger_sandbox(&platform);
    platform.inject(Fault::status(404).times(1).on_path_suffix("/secrets"));
    let code = Module::<Value>::with_settings(
        sandbox
            .settings()
            .with_retry_backoff(Duration::from_millis(1)),
    )
    .register("once", Once)
    .run_command("once");
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        routes(&platform),
        [
            ("secrets".to_string(), 404),
            ("secrets".to_string(), 200),
            ("callback".to_string(), 200),
        ]
    );
}

#[test]
fn a_secrets_get_that_always_fails_ends_the_trigger_after_10_attempts() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = trigger_sandbox(&platform);
    platform.inject(Fault::status(404).always().on_path_suffix("/secrets"));
    let code = Module::<Value>::with_settings(
        sandbox
            .settings()
            .with_retry_backoff(Duration::from_millis(1)),
    )
    .register("once", Once)
    .run_command("once");
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(routes(&platform), vec![("secrets".to_string(), 404); 10]);
}

/// `Once`, stopped from the test.
struct Stoppable(std::sync::Arc<sekoia_automation::trigger::StopSignal>);

impl Trigger for Stoppable {
    type ModuleConfiguration = Value;
    type Configuration = Value;
    type Event = Value;
    const NAME: &'static str = "Once";
    const DESCRIPTION: &'static str = "Send one event with a secret and stop";

    fn run(&mut self, ctx: &TriggerContext<'_, Self>) -> Result<(), TriggerError> {
        ctx.send_event("got", &json!({"started": true}))?;
        ctx.stop();
        Ok(())
    }

    fn options(&self) -> sekoia_automation::trigger::TriggerOptions {
        sekoia_automation::trigger::TriggerOptions::default()
            .with_stop_signal(std::sync::Arc::clone(&self.0))
    }
}

#[test]
fn a_stop_wakes_the_wait_between_two_secrets_gets() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = trigger_sandbox(&platform);
    platform.inject(Fault::status(404).always().on_path_suffix("/secrets"));
    let stop = std::sync::Arc::new(sekoia_automation::trigger::StopSignal::new());
    // An hour per backoff unit: only a stop ends the first wait.
    let settings = sandbox
        .settings()
        .with_retry_backoff(Duration::from_secs(3600));
    let trigger = Stoppable(std::sync::Arc::clone(&stop));
    let running = std::thread::spawn(move || {
        Module::<Value>::with_settings(settings)
            .register("once", trigger)
            .run_command("once")
    });
    assert!(platform.wait_for(Duration::from_secs(20), |requests| {
        requests.iter().any(|request| request.route() == "secrets")
    }));
    stop.stop();
    assert_eq!(running.join().unwrap(), ExitCode::SUCCESS);
    assert_eq!(routes(&platform), [("secrets".to_string(), 404)]);
}
