//! A trigger's start (PROTOCOL §4): the secrets GET, the configuration
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
fn missing_secrets_endpoint_fails_the_start() {
    let env = Env::new();
    env.platform
        .inject(Fault::status(404).on_path_suffix("/secrets"));
    let code = env.run(Scripted::new(|_, _| panic!("never runs")));
    assert_eq!(code, ExitCode::FAILURE);
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
