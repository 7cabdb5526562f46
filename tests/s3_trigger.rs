//! A trigger on the S3 file backend (moto's server, see
//! `tests/support/s3_server.rs`, behind a fault proxy): which S3 failures
//! count as the trigger's errors (as the Python SDK's
//! `_handle_s3_exception`), and a stop during the startup bucket check's
//! waits.
//!
//! Skipped, with one line on stderr saying how to run them, when no Python
//! with `moto[server]` is installed; `.ci/run` installs one.

#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/s3_server.rs"]
mod s3_server;
mod support;
#[path = "support/trigger.rs"]
mod trigger_support;

use std::process::Stdio;

use fault_proxy::{Fault, FaultProxy};
use sekoia_automation::CheckpointCursor;
use sekoia_automation::testing::Sandbox;
use trigger_support::{
    Arc, Duration, Env, ExitCode, Instant, Mutex, Scripted, Value, has_log, json,
};

/// Points the sandbox's configuration at `bucket` behind `endpoint`.
fn configure_s3(sandbox: &Sandbox, server: &s3_server::S3Server, endpoint: &str, bucket: &str) {
    for (key, value) in [
        ("file_backend", "S3"),
        ("aws_bucket_name", bucket),
        ("aws_access_key_id", &server.access_key_id),
        ("aws_secret_access_key", &server.secret_access_key),
        ("aws_default_region", "us-east-1"),
        ("aws_s3_endpoint_url", endpoint),
    ] {
        sandbox.set(key, value).unwrap();
    }
}

/// What the trigger's first run does in the bucket.
#[derive(Clone, Copy)]
enum Use {
    /// Loads and saves a `PersistentJson`.
    PersistentJson,
    /// Saves a connector's checkpoint (`context.json`).
    Checkpoint,
}

/// Runs a trigger whose first run uses the bucket while the proxy answers
/// every request with `fault`, and returns its error and the trigger's
/// error count seen by the second run.
fn error_count_after(fault: Fault, using: Use) -> Option<(String, u64)> {
    let server = s3_server::server()?;
    let (bucket, _) = server.bucket("counted");
    let proxy = Arc::new(FaultProxy::start(&server.endpoint, &[]));
    let env = Env::new();
    configure_s3(&env.sandbox, server, &proxy.endpoint, &bucket);
    let seen = Arc::new(Mutex::new((String::new(), u64::MAX)));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        let proxy = Arc::clone(&proxy);
        move |ctx, run| {
            if run == 1 {
                // The bucket check passed; from now on the store fails.
                proxy.always(fault);
                let error = match using {
                    Use::PersistentJson => ctx
                        .persistent_json::<Value>("state.json")
                        .and_then(|mut state| {
                            *state = json!({"cursor": 1});
                            state.save()
                        })
                        .unwrap_err()
                        .into(),
                    Use::Checkpoint => CheckpointCursor::<String>::new(ctx.data_directory().root())
                        .advance_unacknowledged("cursor-1".into())
                        .unwrap_err()
                        .into(),
                };
                seen.lock().unwrap().0 = format!("{error}");
                return Err(error);
            }
            seen.lock().unwrap().1 = ctx.error_count();
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let logs = env.logs();
    assert!(
        logs.iter().any(|log| log["level"] == "error"
            && log["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("An exception occurred\n"))),
        "every failure is logged: {logs:?}"
    );
    let seen = seen.lock().unwrap();
    Some((seen.0.clone(), seen.1))
}

#[test]
fn slow_down_and_lost_connections_are_not_the_triggers_errors() {
    let Some((error, count)) = error_count_after(Fault::SlowDown, Use::PersistentJson) else {
        return;
    };
    assert!(error.contains("SlowDown"), "{error}");
    assert_eq!(count, 0, "a 503 SlowDown is the store's trouble: {error}");
    let (error, count) = error_count_after(Fault::Drop, Use::PersistentJson).unwrap();
    assert_eq!(count, 0, "a lost connection is not counted: {error}");
    let (error, count) = error_count_after(Fault::SlowDown, Use::Checkpoint).unwrap();
    assert!(error.contains("SlowDown"), "{error}");
    assert_eq!(count, 0, "nor in a checkpoint's save: {error}");
}

#[test]
fn a_4xx_of_the_store_is_the_triggers_error() {
    let Some((error, count)) = error_count_after(Fault::Forbidden, Use::PersistentJson) else {
        return;
    };
    assert!(error.contains("AccessDenied"), "{error}");
    assert_eq!(count, 1, "a 403 is counted: {error}");
    let (error, count) = error_count_after(Fault::Forbidden, Use::Checkpoint).unwrap();
    assert_eq!(count, 1, "in a checkpoint's save too: {error}");
}

/// The trigger example as a process whose bucket check meets 503 SlowDown
/// with waits of seconds (a 1 s backoff unit): SIGTERM during those waits
/// ends it at once, cleanly, well within the 2 s stop grace (else its
/// watchdog says so on stderr and exits).
#[test]
fn a_stop_during_the_bucket_checks_waits_ends_the_process_within_the_stop_grace() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, _) = server.bucket("startup");
    let proxy = FaultProxy::start(&server.endpoint, &[]);
    proxy.always(Fault::SlowDown);
    let env = Env::new();
    env.sandbox
        .write_manifest(&json!({
            "slug": "alert-feed",
            "configuration": {
                "properties": {"base_url": {}, "api_key": {}},
                "required": ["base_url", "api_key"],
                "secrets": ["api_key"]
            }
        }))
        .unwrap();
    env.platform.set_secrets(json!({"api_key": "k"}));
    env.sandbox
        .set_json("module_configuration", &json!({"base_url": "https://feed"}))
        .unwrap();
    env.sandbox
        .set_json(
            "trigger_configuration",
            &json!({"interval_ms": 3_600_000, "batch_size": 1}),
        )
        .unwrap();
    configure_s3(&env.sandbox, server, &proxy.endpoint, &bucket);
    let mut child = env
        .sandbox
        .command(support::example("trigger"))
        .arg("poll_alerts")
        // Waits of 2 s, 4 s, then 6 s between the check's attempts.
        .env("SEKOIA_AUTOMATION_BACKOFF_MS", "1000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(proxy.wait_for_requests(1), "the bucket check started");
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the trigger did not end after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        !stderr.contains("stop grace"),
        "the stop ended the check's wait, not the watchdog: {stderr}"
    );
    assert!(
        proxy.requests() < 10,
        "the check gave up at the stop: {}",
        proxy.requests()
    );
    assert!(
        !has_log(
            &env.logs(),
            "critical",
            "Impossible access the object storage"
        ),
        "a stop is not a storage failure"
    );
}
