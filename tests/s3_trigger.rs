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
use sekoia_automation::Module;
use sekoia_automation::connector::CheckpointCursor;
use sekoia_automation::testing::{RecordedRequest, Sandbox};
use sekoia_automation::trigger::{AttachedDirectory, StopSignal, TriggerOptions};
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

/// `send_event_with_directory` on S3: the platform is sent the directory
/// relative to the data directory (`sub_folder` applied), the files are
/// objects of the bucket under it, and `remove_directory` deletes them once
/// the event is sent.
#[test]
fn an_attached_directory_is_sent_relative_and_its_objects_are_in_the_bucket() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, client) = server.bucket("attached");
    let env = Env::new();
    configure_s3(&env.sandbox, server, &server.endpoint, &bucket);
    env.sandbox.set("sub_folder", "tenant/module").unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        let client = client.clone();
        move |ctx, _| {
            let mut seen = seen.lock().unwrap();
            let root = ctx.data_directory().root().to_owned();
            let keys = |prefix: &str| client.list(prefix).unwrap().join(" ");
            // Kept.
            let file = ctx.write("a.json", "{\"n\":\"😀\"}")?;
            let kept = file.parent().unwrap().to_owned();
            let kept_key = format!("tenant/module/{}/", kept.display());
            seen.push(format!(
                "kept before: {}",
                keys(&kept_key) == format!("{kept_key}a.json")
            ));
            ctx.send_event_with_directory("kept", &json!({}), &kept, AttachedDirectory::Keep)?;
            seen.push(format!(
                "kept after: {}",
                keys(&kept_key) == format!("{kept_key}a.json")
            ));
            // Removed once sent, given as an absolute path of the data directory.
            let file = ctx.write("b.txt", "second")?;
            let removed = file.parent().unwrap().to_owned();
            let removed_key = format!("tenant/module/{}/", removed.display());
            ctx.data_directory()
                .write_file(removed.join("deeper/c.txt"), "third")?;
            seen.push(format!(
                "removed before: {}",
                keys(&removed_key).split(' ').count()
            ));
            ctx.send_event_with_directory(
                "removed",
                &json!({}),
                root.join(&removed),
                AttachedDirectory::Remove,
            )?;
            seen.push(format!("removed after: {:?}", keys(&removed_key)));
            // A directory with no object is not there.
            let error = ctx
                .send_event_with_directory(
                    "missing",
                    &json!({}),
                    "not-there",
                    AttachedDirectory::Remove,
                )
                .unwrap_err();
            seen.push(format!(
                "missing: {}",
                matches!(
                    error,
                    sekoia_automation::trigger::SendEventError::InvalidDirectory { .. }
                )
            ));
            seen.push(kept.display().to_string());
            seen.push(removed.display().to_string());
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[..5],
        [
            "kept before: true",
            "kept after: true",
            "removed before: 2",
            "removed after: \"\"",
            "missing: true",
        ]
    );
    let sent: Vec<(String, Value)> = env
        .requests("callback")
        .iter()
        .filter_map(RecordedRequest::json)
        .map(|body| {
            (
                body["name"].as_str().unwrap().to_string(),
                body["directory"].clone(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("kept".to_string(), json!(seen[5])),
            ("removed".to_string(), json!(seen[6])),
        ],
        "the directory relative to the data directory, a uuid4 as Python's `write`"
    );
    assert!(uuid::Uuid::parse_str(&seen[5]).is_ok(), "{}", seen[5]);
    assert_eq!(
        client.list("tenant/module/").unwrap(),
        [format!("tenant/module/{}/a.json", seen[5])],
        "only the kept directory's object is left"
    );
}

/// A stop while an S3 request of `run` waits between attempts (503
/// SlowDown, waits of seconds): the request is abandoned at once, `run`
/// returns, and the stop is not logged as a failure.
#[test]
fn a_stop_during_a_retry_wait_in_run_abandons_the_request() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, _) = server.bucket("stopped");
    let proxy = Arc::new(FaultProxy::start(&server.endpoint, &[]));
    let env = Env::new();
    configure_s3(&env.sandbox, server, &proxy.endpoint, &bucket);
    let stop = Arc::new(StopSignal::new());
    let requests_at_failure = Arc::new(Mutex::new(None));
    let stopper = std::thread::spawn({
        let proxy = Arc::clone(&proxy);
        let stop = Arc::clone(&stop);
        move || {
            // The bucket check, then the save's first attempt.
            assert!(proxy.wait_for_requests(2));
            stop.stop();
        }
    });
    let trigger = Scripted::new({
        let proxy = Arc::clone(&proxy);
        let requests_at_failure = Arc::clone(&requests_at_failure);
        move |ctx, _| {
            proxy.always(Fault::SlowDown);
            let mut state = ctx.persistent_json::<Value>("state.json");
            let error = match &mut state {
                Ok(state) => {
                    **state = json!({"cursor": 1});
                    state.save().unwrap_err()
                }
                Err(_) => state.unwrap_err(),
            };
            *requests_at_failure.lock().unwrap() = Some(proxy.requests());
            Err(error.into())
        }
    })
    .with_options(TriggerOptions::default().with_stop_signal(Arc::clone(&stop)));
    // Attempt n waits 2^n s (at most 6 s): ten attempts take most of a minute.
    let settings = env.settings().with_retry_backoff(Duration::from_secs(1));
    let code = Module::<Value>::with_settings(settings)
        .register("scripted", trigger)
        .run_command("scripted");
    stopper.join().unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let requests = requests_at_failure.lock().unwrap().unwrap();
    assert!(
        requests <= 3,
        "the request was abandoned at the stop, not after its ten attempts: {requests} requests"
    );
    let logs = env.logs();
    assert!(
        !logs
            .iter()
            .any(|log| log["level"] == "error" || log["level"] == "critical"),
        "a stop is not a failure: {logs:?}"
    );
}
