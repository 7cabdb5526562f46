//! A trigger's events (docs/protocol.md §2, §4): the body, the retries, the
//! request ids, attached directories; real loopback HTTP.

#[path = "support/trigger.rs"]
mod trigger_support;

use sekoia_automation::trigger::AttachedDirectory;
use trigger_support::*;

#[test]
fn an_event_is_a_python_body_posted_after_the_secrets_get() {
    let env = Env::new();
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.send_event(
            "alert",
            &json!({"ip": "1.2.3.4", "n": 1, "é": [true, null]}),
        )?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let requests = env.platform.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].route(), "secrets");
    assert!(requests[0].body.is_empty());
    let events = env.requests("callback");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.method, "POST");
    assert_eq!(
        event.header("authorization"),
        Some(format!("Bearer {}", env.platform.token()).as_str())
    );
    assert_eq!(event.header("content-type"), Some("application/json"));
    let text = event.body_text();
    let prefix = r#"{"name": "alert", "event": {"ip": "1.2.3.4", "n": 1, "\u00e9": [true, null]}, "request_id": ""#;
    assert!(text.starts_with(prefix), "{text}");
    let request_id = &text[prefix.len()..text.len() - 2];
    assert_eq!(&text[text.len() - 2..], "\"}");
    let uuid = uuid::Uuid::parse_str(request_id).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
}

#[test]
fn two_thousand_events_through_a_flaky_platform_all_arrive_once() {
    let env = Env::new();
    env.platform.seed(20_260_102);
    env.platform.inject(
        Fault::status(503)
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.3),
    );
    env.platform.inject(
        Fault::drop_connection()
            .always()
            .on_method("POST")
            .on_path_suffix("/callback")
            .with_probability(0.05),
    );
    const EVENTS: u64 = 2000;
    let next = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let code = env.run(Scripted::new({
        let next = Arc::clone(&next);
        move |ctx, _| {
            let mut next = next.lock().unwrap();
            while *next < EVENTS {
                ctx.send_event("sequence", &json!({"i": *next}))?;
                *next += 1;
            }
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*next.lock().unwrap(), EVENTS, "the trigger kept running");
    assert!(started.elapsed() < Duration::from_secs(120));

    let mut request_ids: HashMap<u64, HashSet<String>> = HashMap::new();
    let mut accepted: HashMap<u64, usize> = HashMap::new();
    let (mut failed, mut dropped) = (0, 0);
    for request in env.requests("callback") {
        let body = request.json().unwrap();
        let i = body["event"]["i"].as_u64().unwrap();
        request_ids
            .entry(i)
            .or_default()
            .insert(body["request_id"].as_str().unwrap().to_string());
        match request.status {
            200 => *accepted.entry(i).or_default() += 1,
            503 => failed += 1,
            0 => dropped += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        failed > 400 && dropped > 30,
        "{failed} 503s, {dropped} drops"
    );
    assert_eq!(accepted.len(), EVENTS as usize, "every event arrived");
    assert!(accepted.values().all(|&count| count == 1), "exactly once");
    assert!(
        request_ids.values().all(|ids| ids.len() == 1),
        "every retry of an event carries its request_id"
    );
    let distinct: HashSet<&String> = request_ids.values().flatten().collect();
    assert_eq!(distinct.len(), EVENTS as usize, "a request_id per event");
}

#[test]
fn a_4xx_fails_at_once_and_counts() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(400)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, run| match run {
            1 => {
                let error = ctx.send_event("alert", &json!({"n": 1})).unwrap_err();
                seen.lock().unwrap().push(error.status());
                Err(error.into())
            }
            _ => {
                seen.lock().unwrap().push(Some(ctx.error_count() as u16));
                ctx.stop();
                Ok(())
            }
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(400), Some(1)],
        "status, then the count"
    );
    let sends = env.requests("callback");
    assert_eq!(sends.len(), 1, "not retried");
    assert_eq!(sends[0].status, 400);
    let logs = env.logs();
    assert!(
        logs.iter().any(|log| log["level"] == "error"
            && log["message"]
                .as_str()
                .unwrap()
                .starts_with("An exception occurred\nthe event `alert` was not sent: POST ")),
        "{logs:?}"
    );
}

#[test]
fn a_5xx_is_retried_with_the_same_request_id_and_not_counted() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(503)
            .times(10)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, run| match run {
            1 => {
                let error = ctx.send_event("alert", &json!({"n": 1})).unwrap_err();
                seen.lock().unwrap().push(error.status());
                Err(error.into())
            }
            _ => {
                seen.lock().unwrap().push(Some(ctx.error_count() as u16));
                ctx.send_event("alert", &json!({"n": 2}))?;
                ctx.stop();
                Ok(())
            }
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(*seen.lock().unwrap(), [Some(503), Some(0)], "not counted");
    let sends = env.requests("callback");
    assert_eq!(sends.len(), 11, "10 attempts, then the second event");
    let ids: HashSet<String> = sends[..10]
        .iter()
        .map(|request| request.json().unwrap()["request_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(sends[10].status, 200);
}

#[test]
fn a_dropped_connection_is_retried() {
    let env = Env::new();
    env.platform.inject(
        Fault::drop_connection()
            .times(2)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let code = env.run(Scripted::new(|ctx, _| {
        ctx.send_event("alert", &json!({}))?;
        ctx.stop();
        Ok(())
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    let statuses: Vec<u16> = env
        .requests("callback")
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [0, 0, 200]);
}

#[test]
fn directories_are_attached_relative_removed_on_request_and_escapes_refused() {
    let env = Env::new();
    env.platform.inject(
        Fault::status(400)
            .on_path_suffix("/callback")
            .when_json("name", json!("failing")),
    );
    let outside = tempfile::tempdir().unwrap();
    let outside_path = outside.path().to_owned();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let code = env.run(Scripted::new({
        let seen = Arc::clone(&seen);
        move |ctx, _| {
            let mut seen = seen.lock().unwrap();
            let root = ctx.data_directory().root().to_owned();
            // Removed once sent.
            let file = ctx.write("a.txt", "first")?;
            let removed = file.parent().unwrap().to_owned();
            ctx.send_event_with_directory(
                "removed",
                &json!({}),
                &removed,
                AttachedDirectory::Remove,
            )?;
            seen.push(format!("removed exists: {}", root.join(&removed).exists()));
            // Kept.
            let file = ctx.write("b.txt", "second")?;
            let kept = file.parent().unwrap().to_owned();
            ctx.send_event_with_directory("kept", &json!({}), &kept, AttachedDirectory::Keep)?;
            seen.push(format!("kept exists: {}", root.join(&kept).exists()));
            // Absolute inside the data directory: sent relative.
            std::fs::create_dir_all(root.join("nested/dir")).unwrap();
            ctx.send_event_with_directory(
                "absolute",
                &json!({}),
                root.join("nested/./dir"),
                AttachedDirectory::Keep,
            )?;
            // Refused or invalid: nothing sent.
            for (label, path) in [
                ("missing", root.join("missing")),
                ("missing", "not-there".into()),
                ("parent", "../outside".into()),
                ("parent", "nested/../../x".into()),
                ("absolute-outside", outside_path.clone()),
                ("root", ".".into()),
                ("root", root.clone()),
            ] {
                let error = ctx
                    .send_event_with_directory(
                        "refused",
                        &json!({}),
                        &path,
                        AttachedDirectory::Remove,
                    )
                    .unwrap_err();
                let kind = match error {
                    SendEventError::InvalidDirectory { .. } => "invalid",
                    SendEventError::Refused { .. } => "refused",
                    SendEventError::RemoveDataDirectory { .. } => "whole data directory",
                    _ => "other",
                };
                seen.push(format!("{label}: {kind}"));
            }
            #[cfg(unix)]
            {
                std::os::unix::fs::symlink(&outside_path, root.join("link")).unwrap();
                let error = ctx
                    .send_event_with_directory(
                        "refused",
                        &json!({}),
                        "link",
                        AttachedDirectory::Remove,
                    )
                    .unwrap_err();
                seen.push(format!(
                    "symlink refused: {}",
                    matches!(error, SendEventError::Refused { .. })
                ));
                assert!(outside_path.exists());
            }
            // A failed send keeps the directory for the next attempt.
            let file = ctx.write("c.txt", "third")?;
            let failing = file.parent().unwrap().to_owned();
            let error = ctx
                .send_event_with_directory(
                    "failing",
                    &json!({}),
                    &failing,
                    AttachedDirectory::Remove,
                )
                .unwrap_err();
            seen.push(format!(
                "failing: {:?}, exists: {}",
                error.status(),
                root.join(&failing).exists()
            ));
            ctx.stop();
            Ok(())
        }
    }));
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "removed exists: false",
            "kept exists: true",
            "missing: invalid",
            "missing: invalid",
            "parent: refused",
            "parent: refused",
            "absolute-outside: refused",
            "root: whole data directory",
            "root: whole data directory",
            "symlink refused: true",
            "failing: Some(400), exists: true",
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
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[2], ("absolute".to_string(), json!("nested/dir")));
    for (name, directory) in &sent {
        if name != "absolute" {
            let directory = directory.as_str().unwrap();
            assert!(
                uuid::Uuid::parse_str(directory).is_ok(),
                "{name}: {directory}"
            );
        }
    }
}

/// Reads one request (head and `Content-Length` body) off `stream`; empty
/// when the connection closes first.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = stream.read(&mut buffer).unwrap_or(0);
        if read == 0 {
            return request;
        }
        request.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                return request;
            }
        }
    }
}

fn body_of(request: &[u8]) -> Value {
    let text = String::from_utf8_lossy(request);
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap()
}

#[test]
fn an_answer_trickling_past_the_request_deadline_is_abandoned_and_the_event_retried() {
    // The platform accepts the POST and trickles its answer one byte every
    // 100 ms (every 20 s would show the same with the default 30 s
    // deadline): no single read waits long, only the overall deadline of
    // the attempt (1 s here) ends it.
    let env = Env::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    env.sandbox
        .set(
            "url_callback",
            &format!("http://{address}/api/v1/symphony/callback"),
        )
        .unwrap();
    env.sandbox
        .set("url_secrets", &env.platform.secrets_url())
        .unwrap();
    env.sandbox
        .set("url_logs", &env.platform.logs_url())
        .unwrap();
    let (trickled, bytes_trickled) = channel();
    let server = std::thread::spawn(move || {
        let (mut first, _) = listener.accept().unwrap();
        let first_request = read_request(&mut first);
        first.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").unwrap();
        let mut sent = 0;
        // 600 bytes would take a minute.
        while sent < 600 && first.write_all(b"a").is_ok() {
            sent += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        trickled.send(sent).unwrap();
        let (mut second, _) = listener.accept().unwrap();
        let second_request = read_request(&mut second);
        second
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        (first_request, second_request)
    });
    let settings = env.settings().with_request_deadline(Duration::from_secs(1));
    let code = Module::<Value>::with_settings(settings)
        .register(
            "scripted",
            Scripted::new(|ctx, _| {
                ctx.send_event("alert", &json!({"n": 1}))?;
                ctx.stop();
                Ok(())
            }),
        )
        .run_command("scripted");
    assert_eq!(code, ExitCode::SUCCESS);
    let sent = bytes_trickled.recv_timeout(WAIT).unwrap();
    assert!(sent < 600, "the first attempt was abandoned mid-answer");
    let (first, second) = server.join().unwrap();
    let (first, second) = (body_of(&first), body_of(&second));
    assert_eq!(first["event"], json!({"n": 1}));
    assert_eq!(first, second, "the same body, so the same request_id");
}

#[test]
fn a_signal_while_an_event_post_waits_is_not_a_network_error() {
    // Socket reads with a timeout return EINTR on a signal even under
    // SA_RESTART: the read is resumed, the event is not sent twice.
    let env = Env::new();
    env.platform.inject(
        Fault::delay(Duration::from_millis(800))
            .times(1)
            .on_method("POST")
            .on_path_suffix("/callback"),
    );
    let delivered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&delivered)).unwrap();
    let handle = env.spawn(|| {
        Scripted::new(|ctx, _| {
            ctx.send_event("alert", &json!({"n": 1}))?;
            ctx.stop();
            Ok(())
        })
    });
    let thread = std::os::unix::thread::JoinHandleExt::as_pthread_t(&handle);
    let started = Instant::now();
    while !handle.is_finished() && started.elapsed() < WAIT {
        // SAFETY: the thread is not joined yet, so its id is valid (a
        // finished thread answers ESRCH); SIGUSR1 has a handler.
        unsafe {
            libc::pthread_kill(thread, libc::SIGUSR1);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(join(handle), ExitCode::SUCCESS);
    assert!(
        delivered.load(Ordering::SeqCst),
        "signals reached the thread"
    );
    let events = env.requests("callback");
    assert_eq!(
        events.len(),
        1,
        "sent once: an interrupted read is not a failure"
    );
}
