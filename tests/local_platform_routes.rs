//! The local platform's routes over real loopback HTTP: answers, authentication, recorded requests.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

#[test]
fn urls_and_token() {
    let platform = LocalPlatform::start().unwrap();
    let base = platform.base_url();
    assert_eq!(
        base,
        format!("http://127.0.0.1:{}", platform.address().port())
    );
    assert_eq!(
        platform.callback_url(),
        format!("{base}/api/v1/symphony/callback")
    );
    assert_eq!(platform.logs_url(), format!("{base}/api/v1/symphony/logs"));
    assert_eq!(
        platform.secrets_url(),
        format!("{base}/api/v1/symphony/secrets")
    );
    assert_eq!(platform.intake_url(), format!("{base}/intake"));
    assert_eq!(
        platform.callback_url().replace("/callback", "/logs"),
        platform.logs_url()
    );
    let token = uuid::Uuid::parse_str(platform.token()).unwrap();
    assert_eq!(token.get_version_num(), 4);
    assert_ne!(LocalPlatform::start().unwrap().token(), platform.token());
}

#[test]
fn routes_answer_as_the_platform_does() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let token = platform.token().to_owned();

    let running = patch(&agent, &platform, &json!({"status": "running"}));
    assert_eq!(
        (running.status, running.body),
        (200, json!({"module_configuration": {"value": {}}}))
    );

    let secrets = patch(
        &agent,
        &platform,
        &json!({"status": "running", "need_secrets": true}),
    );
    assert_eq!(secrets.status, 200);
    assert_eq!(secrets.body, json!({"module_configuration": {"value": {}}}));

    platform.set_secrets(json!({"api_key": "k", "nested": {"a": [1, 2]}}));
    let secrets = patch(
        &agent,
        &platform,
        &json!({"status": "running", "need_secrets": true}),
    );
    assert_eq!(
        secrets.body,
        json!({"module_configuration": {"value": {"api_key": "k", "nested": {"a": [1, 2]}}}})
    );
    // Any other PATCH answers `{}`.
    let not_asked = patch(&agent, &platform, &json!({"status": "other"}));
    assert_eq!(not_asked.body, json!({}));

    let finished = patch(
        &agent,
        &platform,
        &json!({"status": "finished", "results": {"x": 1}}),
    );
    assert_eq!((finished.status, finished.body), (200, json!({})));

    let event = json!({"name": "alert", "event": {"id": 1}, "request_id": "r"}).to_string();
    let sent = post(&agent, &platform.callback_url(), Some(&token), &event);
    assert_eq!((sent.status, sent.body), (200, json!({})));

    let logs =
        json!({"logs": [{"date": "2026-01-02T03:04:05.123456", "level": "info", "message": "hi"}]});
    let logged = post(
        &agent,
        &platform.logs_url(),
        Some(&token),
        &logs.to_string(),
    );
    assert_eq!((logged.status, logged.body), (200, json!({})));

    let requests = platform.requests();
    assert_eq!(requests.len(), 7);
    assert!(requests.iter().all(|request| request.status == 200));
    assert_eq!(requests[0].method, "PATCH");
    assert_eq!(requests[0].path, "/api/v1/symphony/callback");
    assert_eq!(requests[0].query, None);
    assert_eq!(requests[0].json(), Some(json!({"status": "running"})));
    assert_eq!(requests[0].body_text(), r#"{"status":"running"}"#);
    assert_eq!(
        requests[0].header("AUTHORIZATION"),
        Some(bearer(&platform).as_str())
    );
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].route(), "callback");
    assert_eq!(requests[5].method, "POST");
    assert_eq!(requests[5].json().unwrap()["event"], json!({"id": 1}));
    assert_eq!(requests[6].path, "/api/v1/symphony/logs");
    assert_eq!(requests[6].json(), Some(logs));
    assert!(
        requests
            .windows(2)
            .all(|pair| pair[0].received_at <= pair[1].received_at)
    );
}

#[test]
fn secrets_with_and_without_node_value() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();

    let empty = get_secrets(&agent, &platform);
    assert_eq!((empty.status, empty.body), (200, json!({"value": {}})));

    platform.set_secrets(json!({"password": "p"}));
    platform.set_node_secrets(Some(json!({"api_key": "node", "other": null})));
    let both = get_secrets(&agent, &platform);
    assert_eq!(
        both.body,
        json!({"value": {"password": "p"}, "node_value": {"api_key": "node", "other": null}})
    );

    platform.set_node_secrets(None);
    let module_only = get_secrets(&agent, &platform);
    assert_eq!(module_only.body, json!({"value": {"password": "p"}}));

    let requests = platform.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/api/v1/symphony/secrets");
    assert!(requests[0].body.is_empty());
    assert_eq!(requests[0].json(), None);
}

#[test]
fn any_prefix_and_query_string() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let url = format!("{}/somewhere/else/callback?run=1&x", platform.base_url());
    let answer = answer(
        agent
            .patch(&url)
            .header("Authorization", bearer(&platform))
            .send(r#"{"status": "running", "need_secrets": true}"#),
    );
    assert_eq!(answer.body, json!({"module_configuration": {"value": {}}}));
    let trailing = post(
        &agent,
        &format!("{}/logs/", platform.base_url()),
        Some(platform.token()),
        "{}",
    );
    assert_eq!(trailing.status, 200);
    let requests = platform.requests();
    assert_eq!(requests[0].path, "/somewhere/else/callback");
    assert_eq!(requests[0].query.as_deref(), Some("run=1&x"));
    assert_eq!(requests[1].path, "/logs/");
}

#[test]
fn requests_without_the_token_are_refused() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let unauthenticated = [
        answer(agent.patch(platform.callback_url()).send("{}")),
        answer(agent.post(platform.callback_url()).send("{}")),
        answer(agent.post(platform.logs_url()).send("{}")),
        answer(agent.get(platform.secrets_url()).call()),
        answer(
            agent
                .patch(platform.callback_url())
                .header("Authorization", "Bearer not-the-token")
                .send("{}"),
        ),
        answer(
            agent
                .patch(platform.callback_url())
                .header("Authorization", platform.token())
                .send("{}"),
        ),
        answer(
            agent
                .get(platform.secrets_url())
                .header("Authorization", format!("Basic {}", platform.token()))
                .call(),
        ),
    ];
    for answer in &unauthenticated {
        assert_eq!(answer.status, 401, "{answer:?}");
        assert!(answer.body["message"].is_string(), "{answer:?}");
    }
    // The scheme is case-insensitive.
    let lower = answer(
        agent
            .get(platform.secrets_url())
            .header("authorization", format!("bearer {}", platform.token()))
            .call(),
    );
    assert_eq!(lower.status, 200);
    // The intake needs no token.
    let batch = post(
        &agent,
        &batch_url(&platform),
        None,
        r#"{"intake_key": "k", "jsons": []}"#,
    );
    assert_eq!(batch.status, 200);
    assert_eq!(
        statuses(&platform.requests()),
        [401, 401, 401, 401, 401, 401, 401, 200, 200]
    );
}

#[test]
fn intake_batches_get_one_id_per_event() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let events: Vec<String> = (0..3).map(|i| json!({"n": i}).to_string()).collect();
    let body = json!({"intake_key": "key", "jsons": events}).to_string();
    let answer = post(&agent, &batch_url(&platform), None, &body);
    assert_eq!(answer.status, 200);
    let ids = answer.body["event_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    let unique: HashSet<&str> = ids.iter().map(|id| id.as_str().unwrap()).collect();
    assert_eq!(unique.len(), 3);
    for id in unique {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    }

    let empty = post(
        &agent,
        &batch_url(&platform),
        None,
        r#"{"intake_key": "k", "jsons": []}"#,
    );
    assert_eq!(empty.body, json!({"event_ids": []}));

    let large: Vec<String> = (0..5_000).map(|i| format!("{{\"n\": {i}}}")).collect();
    let large = post(
        &agent,
        &batch_url(&platform),
        None,
        &json!({"intake_key": "k", "jsons": large}).to_string(),
    );
    assert_eq!(large.body["event_ids"].as_array().unwrap().len(), 5_000);

    for refused in [
        r#"{"intake_key": "k"}"#,
        r#"{"jsons": "nope"}"#,
        "[]",
        "not json",
        "",
    ] {
        let answer = post(&agent, &batch_url(&platform), None, refused);
        assert_eq!(answer.status, 400, "{refused}");
        assert!(answer.body["message"].is_string());
    }

    let requests = platform.requests();
    assert_eq!(requests[0].path, "/intake/batch");
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[0].json().unwrap()["intake_key"], "key");
}

#[test]
fn unknown_routes_and_invalid_bodies() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let token = platform.token().to_owned();
    let not_found = [
        answer(
            agent
                .get(format!("{}/api/v1/symphony/nothing", platform.base_url()))
                .call(),
        ),
        answer(
            agent
                .get(platform.callback_url())
                .header("Authorization", bearer(&platform))
                .call(),
        ),
        answer(agent.delete(platform.logs_url()).call()),
        answer(agent.get(batch_url(&platform)).call()),
        answer(agent.get(platform.base_url()).call()),
    ];
    for answer in &not_found {
        assert_eq!(answer.status, 404, "{answer:?}");
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap()
                .starts_with("no route")
        );
    }
    for body in ["", "not json", "[1, 2]", "\"running\""] {
        let answer = post(&agent, &platform.logs_url(), Some(&token), body);
        assert_eq!(answer.status, 400, "{body:?}");
        let answer = answer_patch_raw_body(&agent, &platform, body);
        assert_eq!(answer.status, 400, "{body:?}");
    }
}

fn answer_patch_raw_body(agent: &ureq::Agent, platform: &LocalPlatform, body: &str) -> Answer {
    answer(
        agent
            .patch(platform.callback_url())
            .header("Authorization", bearer(platform))
            .send(body),
    )
}

#[test]
fn every_response_is_json_with_a_length() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    let requests = [
        format!(
            "PATCH /api/v1/symphony/callback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 2\r\n\r\n{{}}",
            platform.token()
        ),
        "GET /api/v1/symphony/secrets HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
    ];
    for (request, expected) in requests.iter().zip([200, 401, 404]) {
        send_raw(&mut connection, request.as_bytes());
        let (status, headers, body) = read_response(&mut connection);
        assert_eq!(status, expected);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(
            header(&headers, "content-length"),
            Some(body.len().to_string().as_str())
        );
        assert!(serde_json::from_str::<Value>(&body).is_ok());
    }
}

#[test]
fn head_requests_get_no_body() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        b"HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let mut line = String::new();
    let mut length = 0;
    loop {
        line.clear();
        connection.read_line(&mut line).unwrap();
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
        if line == "\r\n" {
            break;
        }
    }
    assert!(length > 0);
    // The next bytes are the second response, not a body.
    let (status, _, body) = read_response(&mut connection);
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"message":"no route for GET /nowhere"}"#);
    // "HEAD" is one letter longer than "GET".
    assert_eq!(length, body.len() + 1);
}

#[test]
fn platform_and_sandbox_are_shareable() {
    fn shareable<T: Send + Sync>() {}
    shareable::<LocalPlatform>();
    shareable::<Sandbox>();
    shareable::<Fault>();
    shareable::<RecordedRequest>();
}
