//! A trigger's start (docs/protocol.md §4): the secrets GET, the configuration
//! merged with the secrets, the endpoints.

#[path = "support/trigger.rs"]
mod trigger_support;

use trigger_support::*;

#[test]
fn module_secrets_are_merged_and_node_secrets_overlaid_without_nulls() {
    let env = Env::new();
    env.platform
        .set_secrets(json!({"api_key": "module-secret-value-1", "region": "eu"}));
    env.platform.set_node_secrets(Some(
        json!({"password": "node-secret-value-2", "token": null}),
    ));
    env.sandbox
        .set_json("module_configuration", &json!({"url": "https://feed"}))
        .unwrap();
    env.sandbox
        .set_json(
            "trigger_configuration",
            &json!({"password": "placeholder", "token": "kept", "frequency": 5}),
        )
        .unwrap();
    let seen = Arc::new(Mutex::new(None));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            *seen.lock().unwrap() = Some((
                ctx.module_configuration().clone(),
                ctx.configuration().clone(),
            ));
            ctx.log(
                Level::Warning,
                "key module-secret-value-1, password node-secret-value-2",
            );
            log::warn!("from the log crate: node-secret-value-2");
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let (module, trigger) = seen.lock().unwrap().take().unwrap();
    assert_eq!(
        module,
        json!({"url": "https://feed", "api_key": "module-secret-value-1", "region": "eu"})
    );
    assert_eq!(
        trigger,
        json!({"password": "node-secret-value-2", "token": "kept", "frequency": 5})
    );
    let logs = env.logs();
    assert!(
        has_log(&logs, "warning", "key [REDACTED], password [REDACTED]"),
        "{logs:?}"
    );
    assert!(has_log(&logs, "warning", "from the log crate: [REDACTED]"));
    for request in env.requests("logs") {
        let text = request.body_text();
        assert!(!text.contains("secret-value"), "{text}");
    }
}

#[test]
fn without_node_value_the_configuration_is_kept() {
    let env = Env::new();
    env.sandbox
        .set_json("trigger_configuration", &json!({"password": "as-written"}))
        .unwrap();
    let seen = Arc::new(Mutex::new(Value::Null));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            *seen.lock().unwrap() = ctx.configuration().clone();
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*seen.lock().unwrap(), json!({"password": "as-written"}));
}

#[test]
fn a_secrets_endpoint_missing_at_every_attempt_fails_the_start() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(404).always().on_path_suffix("/secrets"));
    let code = env.run(Scripted::new(|_, _| panic!("never runs")));
    assert_eq!(code, ExitCode::FAILURE);
    // Retried as the Python SDK does, 404 included: 10 attempts.
    assert_eq!(env.requests("secrets").len(), 10);
    assert!(env.logs().iter().any(|log| {
        log["level"] == "error"
            && log["message"]
                .as_str()
                .unwrap()
                .starts_with("cannot fetch the trigger's secrets: GET ")
    }));
}

#[test]
fn url_logs_and_url_secrets_may_be_given() {
    let env = Env::new();
    let base = env.platform.base_url();
    env.sandbox
        .set("url_logs", &format!("{base}/elsewhere/logs"))
        .unwrap();
    env.sandbox
        .set("url_secrets", &format!("{base}/elsewhere/secrets"))
        .unwrap();
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.log(Level::Info, "hello");
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let paths: Vec<String> = env
        .platform
        .requests()
        .iter()
        .map(|request| request.path.clone())
        .collect();
    assert_eq!(paths, ["/elsewhere/secrets", "/elsewhere/logs"]);
}

/// Runs `Scripted` (configuration types `Value`, which accept `{}`) until
/// its configuration error is logged, then stops it: the records and the
/// events sent.
fn start_without(missing: &str) -> (Vec<Value>, usize) {
    let env = Env::new();
    env.sandbox.remove(missing).unwrap();
    let stop = Arc::new(sekoia_automation::trigger::StopSignal::new());
    let running = env.spawn({
        let stop = Arc::clone(&stop);
        move || {
            Scripted::new(|ctx, _| {
                ctx.send_event("started", &json!({}))?;
                ctx.stop();
                Ok(())
            })
            .with_options(TriggerOptions::default().with_stop_signal(stop))
        }
    });
    let logged = env.wait_for_log(|log| log["message"] == "Configuration error");
    stop.stop();
    assert_eq!(running.join().unwrap(), ExitCode::SUCCESS);
    assert!(logged, "{missing}: {:?}", env.logs());
    (env.logs(), env.requests("callback").len())
}

#[test]
fn a_missing_module_or_trigger_configuration_is_a_configuration_error_even_for_a_type_that_accepts_an_empty_object()
 {
    for missing in ["module_configuration", "trigger_configuration"] {
        let (logs, events) = start_without(missing);
        assert_eq!(events, 0, "{missing}: the trigger ran");
        assert!(
            logs.iter()
                .any(|log| log["level"] == "error"
                    && log["message"].as_str().unwrap().contains(missing)),
            "{missing}: {logs:?}"
        );
    }
}
