//! The local platform over real loopback HTTP: routes, authentication,
//! keep-alive, body framing, faults, waiting, sandbox, shutdown.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- helpers

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// A status and a parsed body (`Null` when the body is not JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = result.expect("a response");
    let text = response.body_mut().read_to_string().expect("a body");
    Answer {
        status: response.status().as_u16(),
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

fn bearer(platform: &LocalPlatform) -> String {
    format!("Bearer {}", platform.token())
}

fn patch(agent: &ureq::Agent, platform: &LocalPlatform, body: &Value) -> Answer {
    answer(
        agent
            .patch(platform.callback_url())
            .header("Authorization", bearer(platform))
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &str) -> Answer {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    answer(request.send(body))
}

fn get_secrets(agent: &ureq::Agent, platform: &LocalPlatform) -> Answer {
    answer(
        agent
            .get(platform.secrets_url())
            .header("Authorization", bearer(platform))
            .call(),
    )
}

fn batch_url(platform: &LocalPlatform) -> String {
    format!("{}/batch", platform.intake_url())
}

fn statuses(requests: &[RecordedRequest]) -> Vec<u16> {
    requests.iter().map(|request| request.status).collect()
}

/// A raw connection, for what an HTTP client library does not let us send.
fn raw(platform: &LocalPlatform) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(platform.address()).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    BufReader::new(stream)
}

fn send_raw(connection: &mut BufReader<TcpStream>, bytes: &[u8]) {
    connection.get_mut().write_all(bytes).unwrap();
}

/// Reads one response: status, header fields (names lower-cased), body.
fn read_response(connection: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
    let mut line = String::new();
    connection.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        connection.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut body = vec![0; length];
    connection.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(header, _)| header == name)
        .map(|(_, value)| value.as_str())
}

/// True when the server closed the connection (EOF or reset).
fn closed(connection: &mut BufReader<TcpStream>) -> bool {
    let mut byte = [0; 1];
    matches!(connection.read(&mut byte), Ok(0) | Err(_))
}

// ---------------------------------------------------------------- routes

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

// ---------------------------------------------------------------- connections

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    for i in 0..50 {
        let answer = patch(&agent, &platform, &json!({"status": "running", "i": i}));
        assert_eq!(answer.status, 200);
    }
    let requests = platform.requests();
    assert_eq!(requests.len(), 50);
    let peers: HashSet<_> = requests.iter().map(|request| request.peer).collect();
    assert_eq!(peers.len(), 1, "one connection: {peers:?}");
    let order: Vec<i64> = requests
        .iter()
        .map(|request| request.json().unwrap()["i"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..50).collect::<Vec<_>>());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    let one = "POST /intake/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"jsons\":[1]}";
    let two =
        "POST /intake/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n{\"jsons\":[1,2]}";
    send_raw(&mut connection, format!("{one}{two}").as_bytes());
    let (status, headers, body) = read_response(&mut connection);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "connection"), None);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["event_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, _, body) = read_response(&mut connection);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["event_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let peers: HashSet<_> = platform
        .requests()
        .iter()
        .map(|request| request.peer)
        .collect();
    assert_eq!(peers.len(), 1);
}

#[test]
fn connection_close_is_honoured() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 12\r\n\r\n{\"jsons\":[]}",
    );
    let (status, headers, body) = read_response(&mut connection);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert_eq!(body, r#"{"event_ids":[]}"#);
    assert!(closed(&mut connection));

    // HTTP/1.0 closes by default, stays open when asked.
    let mut connection = raw(&platform);
    send_raw(&mut connection, b"GET /nowhere HTTP/1.0\r\n\r\n");
    let (status, headers, _) = read_response(&mut connection);
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "connection"), Some("close"));
    assert!(closed(&mut connection));
    let mut connection = raw(&platform);
    for _ in 0..2 {
        send_raw(
            &mut connection,
            b"GET /nowhere HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        );
        let (status, headers, _) = read_response(&mut connection);
        assert_eq!(status, 404);
        assert_eq!(header(&headers, "connection"), Some("keep-alive"));
    }
}

#[test]
fn concurrent_clients() {
    let platform = LocalPlatform::start().unwrap();
    std::thread::scope(|scope| {
        for client in 0..4 {
            let platform = &platform;
            scope.spawn(move || {
                let agent = agent();
                for i in 0..25 {
                    let body = json!({"intake_key": format!("{client}"), "jsons": [i.to_string()]});
                    let answer = post(&agent, &batch_url(platform), None, &body.to_string());
                    assert_eq!(answer.status, 200);
                }
            });
        }
    });
    let requests = platform.requests();
    assert_eq!(requests.len(), 100);
    let peers: HashSet<_> = requests.iter().map(|request| request.peer).collect();
    assert_eq!(peers.len(), 4);
}

// ---------------------------------------------------------------- bodies

#[test]
fn chunked_bodies_are_decoded() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let body = json!({"status": "finished", "logs": "x".repeat(100_000)}).to_string();
    let reader = std::io::Cursor::new(body.clone().into_bytes());
    let answer = answer(
        agent
            .patch(platform.callback_url())
            .header("Authorization", bearer(&platform))
            .send(ureq::SendBody::from_owned_reader(reader)),
    );
    assert_eq!(answer.status, 200);
    let recorded = &platform.requests()[0];
    assert_eq!(recorded.header("transfer-encoding"), Some("chunked"));
    assert_eq!(recorded.body, body.as_bytes());

    // By hand: chunk extensions, upper-case hex, trailer fields, then a second
    // request on the same connection.
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nHost: x\r\ntransfer-ENCODING: chunked\r\n\r\n\
          A;ext=1\r\n{\"jsons\": \r\n\
          0B\r\n[\"a\", \"b\"]}\r\n\
          0\r\nX-Trailer: t\r\n\r\n\
          GET /api/v1/symphony/secrets HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let (status, _, body) = read_response(&mut connection);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["event_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, _, _) = read_response(&mut connection);
    assert_eq!(status, 401);
    assert_eq!(platform.requests()[1].body, br#"{"jsons": ["a", "b"]}"#);

    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    let (status, _, _) = read_response(&mut connection);
    assert_eq!(status, 400);
    assert!(closed(&mut connection));
}

#[test]
fn expect_100_continue_is_answered() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    let body = r#"{"jsons": ["e"]}"#;
    send_raw(
        &mut connection,
        format!(
            "POST /intake/batch HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let (status, _, interim) = read_response(&mut connection);
    assert_eq!((status, interim.as_str()), (100, ""));
    send_raw(&mut connection, body.as_bytes());
    let (status, _, answer) = read_response(&mut connection);
    assert_eq!(status, 200);
    assert!(answer.contains("event_ids"));
}

#[test]
fn oversize_heads_and_bodies_are_refused() {
    let platform = LocalPlatform::start().unwrap();
    let mut connection = raw(&platform);
    let huge = format!(
        "GET /api/v1/symphony/secrets HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    send_raw(&mut connection, huge.as_bytes());
    let (status, _, body) = read_response(&mut connection);
    assert_eq!(status, 431);
    assert!(body.contains("message"));
    assert!(closed(&mut connection));

    // Many small header lines count too.
    let mut connection = raw(&platform);
    let mut many = String::from("GET / HTTP/1.1\r\n");
    for i in 0..3_000 {
        many.push_str(&format!("X-Header-{i}: some value\r\n"));
    }
    many.push_str("\r\n");
    send_raw(&mut connection, many.as_bytes());
    assert_eq!(read_response(&mut connection).0, 431);

    // The body is refused before it is sent: no 100 Continue.
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        format!(
            "POST /intake/batch HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            64 * 1024 * 1024 + 1
        )
        .as_bytes(),
    );
    let (status, headers, _) = read_response(&mut connection);
    assert_eq!(status, 413);
    assert_eq!(header(&headers, "connection"), Some("close"));
    // Exactly the limit is accepted (the body is not sent: just the 100).
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        format!(
            "POST /intake/batch HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            64 * 1024 * 1024
        )
        .as_bytes(),
    );
    assert_eq!(read_response(&mut connection).0, 100);
    drop(connection);

    // Chunked bodies are counted as they arrive.
    let mut connection = raw(&platform);
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4000001\r\n",
    );
    assert_eq!(read_response(&mut connection).0, 413);

    let recorded = platform.requests();
    assert_eq!(statuses(&recorded), [413, 413]);
    assert!(recorded[0].body.is_empty());
    assert_eq!(recorded[0].path, "/intake/batch");
}

// ---------------------------------------------------------------- faults

#[test]
fn status_fault_applies_n_times_then_normal() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::status(503).times(2));
    let answers: Vec<Answer> = (0..3)
        .map(|_| patch(&agent, &platform, &json!({"status": "finished"})))
        .collect();
    assert_eq!(answers[0].status, 503);
    assert_eq!(answers[0].body, json!({"message": "injected fault"}));
    assert_eq!(answers[1].status, 503);
    assert_eq!((answers[2].status, &answers[2].body), (200, &json!({})));
    assert_eq!(statuses(&platform.requests()), [503, 503, 200]);

    // Default budget: one request. Faults apply before authentication.
    platform.clear();
    platform.inject(Fault::status(500));
    assert_eq!(answer(agent.get(platform.secrets_url()).call()).status, 500);
    assert_eq!(answer(agent.get(platform.secrets_url()).call()).status, 401);
    // `times(0)` never applies; `always` until cleared.
    platform.inject(Fault::status(500).times(0));
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    platform.inject(Fault::status(502).always());
    for _ in 0..5 {
        assert_eq!(get_secrets(&agent, &platform).status, 502);
    }
    platform.clear_faults();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
}

#[test]
fn drop_connection_fault_closes_without_answer() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::drop_connection().on_path_suffix("/batch"));
    let body = r#"{"intake_key": "k", "jsons": ["{}"]}"#;
    let dropped = agent.post(batch_url(&platform)).send(body);
    assert!(dropped.is_err(), "{dropped:?}");
    assert!(!matches!(dropped, Err(ureq::Error::StatusCode(_))));
    let retried = post(&agent, &batch_url(&platform), None, body);
    assert_eq!(retried.status, 200);
    let requests = platform.requests();
    assert_eq!(statuses(&requests), [0, 200]);
    assert_eq!(requests[0].body, body.as_bytes());
    assert_ne!(requests[0].peer, requests[1].peer);

    // The whole request is read first (here: a chunked one).
    let mut connection = raw(&platform);
    platform.inject(Fault::drop_connection());
    send_raw(
        &mut connection,
        b"POST /intake/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    );
    assert!(closed(&mut connection));
    assert_eq!(platform.requests()[2].body, b"{}");
}

#[test]
fn delay_fault_answers_late() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let delay = Duration::from_millis(300);
    platform.inject(Fault::delay(delay).on_method("GET"));
    let started = Instant::now();
    let slow = get_secrets(&agent, &platform);
    let elapsed = started.elapsed();
    assert_eq!((slow.status, slow.body), (200, json!({"value": {}})));
    assert!(elapsed >= delay, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let started = Instant::now();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    assert!(started.elapsed() < delay);
    // Delayed intake answers still carry their ids.
    platform.inject(Fault::delay(Duration::from_millis(10)));
    let ids = post(
        &agent,
        &batch_url(&platform),
        None,
        r#"{"jsons": ["a", "b"]}"#,
    );
    assert_eq!(ids.body["event_ids"].as_array().unwrap().len(), 2);
}

#[test]
fn faults_match_method_path_and_body() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    let token = platform.token().to_owned();
    platform.inject(
        Fault::status(409)
            .on_method("PATCH")
            .when_json("status", json!("finished")),
    );
    platform.inject(Fault::status(500).always().on_path_suffix("/logs"));

    assert_eq!(
        patch(&agent, &platform, &json!({"status": "running"})).status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &platform.logs_url(),
            Some(&token),
            r#"{"logs": []}"#
        )
        .status,
        500
    );
    // A POST with the same body is not a PATCH.
    let event = r#"{"status": "finished", "name": "event"}"#;
    assert_eq!(
        post(&agent, &platform.callback_url(), Some(&token), event).status,
        200
    );
    let finished = patch(
        &agent,
        &platform,
        &json!({"status": "finished", "results": {}}),
    );
    assert_eq!(
        (finished.status, finished.body),
        (409, json!({"message": "injected fault"}))
    );
    // Spent.
    assert_eq!(
        patch(&agent, &platform, &json!({"status": "finished"})).status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &platform.logs_url(),
            Some(&token),
            r#"{"logs": []}"#
        )
        .status,
        500
    );
    assert_eq!(
        statuses(&platform.requests()),
        [200, 500, 200, 409, 200, 500]
    );

    // Several body conditions must all hold; a body that is not JSON never matches.
    platform.clear_faults();
    platform.inject(
        Fault::status(418)
            .always()
            .when_json("intake_key", json!("k"))
            .when_json("n", json!(1)),
    );
    let url = batch_url(&platform);
    assert_eq!(
        post(
            &agent,
            &url,
            None,
            r#"{"intake_key": "k", "n": 2, "jsons": []}"#
        )
        .status,
        200
    );
    assert_eq!(
        post(
            &agent,
            &url,
            None,
            r#"{"intake_key": "k", "n": 1, "jsons": []}"#
        )
        .status,
        418
    );
    assert_eq!(post(&agent, &url, None, "garbage").status, 400);
}

#[test]
fn rules_apply_in_injection_order() {
    let platform = LocalPlatform::start().unwrap();
    let agent = agent();
    platform.inject(Fault::status(500).on_method("GET"));
    platform.inject(Fault::status(502).times(2));
    let url = platform.secrets_url();
    let codes: Vec<u16> = (0..4)
        .map(|_| {
            answer(
                agent
                    .get(&url)
                    .header("Authorization", bearer(&platform))
                    .call(),
            )
            .status
        })
        .collect();
    assert_eq!(codes, [500, 502, 502, 200]);
}

fn probabilistic_statuses(seed: u64, count: usize) -> Vec<u16> {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(seed);
    platform.inject(Fault::status(503).always().with_probability(0.3));
    let agent = agent();
    let url = batch_url(&platform);
    let seen: Vec<u16> = (0..count)
        .map(|_| post(&agent, &url, None, r#"{"jsons": []}"#).status)
        .collect();
    assert_eq!(statuses(&platform.requests()), seen);
    seen
}

#[test]
fn probability_is_roughly_right_and_deterministic() {
    let first = probabilistic_statuses(42, 1_000);
    let faulted = first.iter().filter(|&&status| status == 503).count();
    assert!((240..=360).contains(&faulted), "{faulted} of 1000 at 30%");
    assert!(first.iter().all(|&status| status == 503 || status == 200));
    assert_eq!(probabilistic_statuses(42, 1_000), first);
    assert_ne!(probabilistic_statuses(43, 1_000), first);
}

#[test]
fn probabilistic_rules_with_a_budget_only_consume_applied_rolls() {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(7);
    platform.inject(Fault::status(500).times(3).with_probability(0.5));
    let agent = agent();
    let seen: Vec<u16> = (0..100)
        .map(|_| get_secrets(&agent, &platform).status)
        .collect();
    assert_eq!(seen.iter().filter(|&&status| status == 500).count(), 3);
    // Never and always.
    platform.inject(Fault::status(500).always().with_probability(0.0));
    assert!((0..20).all(|_| get_secrets(&agent, &platform).status == 200));
    platform.inject(Fault::status(501).always().with_probability(1.0));
    assert!((0..20).all(|_| get_secrets(&agent, &platform).status == 501));
}

#[test]
fn flaky_platform_errors_and_drops() {
    let platform = LocalPlatform::start().unwrap();
    platform.seed(2024);
    platform.inject(Fault::status(503).always().with_probability(0.3));
    platform.inject(Fault::drop_connection().always().with_probability(0.05));
    let agent = agent();
    let url = batch_url(&platform);
    let mut answered_503 = 0;
    let mut answered_200 = 0;
    let mut errors = 0;
    for i in 0..1_000 {
        let body = json!({"intake_key": "k", "jsons": [i.to_string(), "x"]}).to_string();
        match agent.post(&url).send(body) {
            Ok(mut response) => {
                let text = response.body_mut().read_to_string().unwrap();
                match response.status().as_u16() {
                    503 => answered_503 += 1,
                    200 => {
                        let ids: Value = serde_json::from_str(&text).unwrap();
                        assert_eq!(ids["event_ids"].as_array().unwrap().len(), 2);
                        answered_200 += 1;
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            Err(_) => errors += 1,
        }
    }
    let recorded = statuses(&platform.requests());
    assert_eq!(recorded.len(), 1_000);
    assert_eq!(
        recorded.iter().filter(|&&status| status == 0).count(),
        errors
    );
    assert_eq!(
        recorded.iter().filter(|&&status| status == 503).count(),
        answered_503
    );
    assert_eq!(
        recorded.iter().filter(|&&status| status == 200).count(),
        answered_200
    );
    assert!((240..=360).contains(&answered_503), "{answered_503}");
    // 5% of the 70% left by the first rule.
    assert!((15..=60).contains(&errors), "{errors}");
}

// ---------------------------------------------------------------- waiting

#[test]
fn wait_for_wakes_when_a_request_arrives() {
    let platform = LocalPlatform::start().unwrap();
    let started = Instant::now();
    assert!(!platform.wait_for(Duration::from_millis(100), |requests| !requests.is_empty()));
    assert!(started.elapsed() >= Duration::from_millis(100));

    let url = platform.logs_url();
    let token = platform.token().to_owned();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let agent = agent();
        for _ in 0..3 {
            post(&agent, &url, Some(&token), r#"{"logs": []}"#);
        }
    });
    let started = Instant::now();
    let seen = platform.wait_for(TIMEOUT, |requests| requests.len() >= 3);
    let elapsed = started.elapsed();
    assert!(seen);
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    sender.join().unwrap();
    // Already true: at once.
    assert!(platform.wait_for(Duration::ZERO, |requests| requests.len() == 3));

    platform.clear();
    assert!(platform.requests().is_empty());
    assert!(!platform.wait_for(Duration::from_millis(10), |requests| !requests.is_empty()));
}

// ---------------------------------------------------------------- shutdown

#[test]
fn drop_does_not_hang_on_idle_connections() {
    let platform = LocalPlatform::start().unwrap();
    let address = platform.address();
    // An agent keeps its connection alive in its pool.
    let agent = agent();
    assert_eq!(get_secrets(&agent, &platform).status, 200);
    // A raw connection that never sends anything, one that sent half a head.
    let mut idle = raw(&platform);
    let mut partial = raw(&platform);
    send_raw(
        &mut partial,
        b"GET /api/v1/symphony/secrets HTTP/1.1\r\nHost:",
    );
    assert!(platform.wait_for(TIMEOUT, |requests| requests.len() == 1));

    let started = Instant::now();
    drop(platform);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert!(closed(&mut idle));
    assert!(closed(&mut partial));
    // The listener is gone.
    assert!(TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err());
    // The agent's pooled connection is dead: its next request fails.
    assert!(agent.get(format!("http://{address}/")).call().is_err());
}

#[test]
fn drop_interrupts_a_delay() {
    let platform = LocalPlatform::start().unwrap();
    platform.inject(Fault::delay(Duration::from_secs(60)));
    let url = platform.secrets_url();
    let token = platform.token().to_owned();
    let client = std::thread::spawn(move || {
        agent()
            .get(url)
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .map(|response| response.status().as_u16())
    });
    assert!(platform.wait_for(TIMEOUT, |requests| requests.len() == 1));
    let started = Instant::now();
    drop(platform);
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(client.join().unwrap().is_err());
}

// ---------------------------------------------------------------- sandbox

#[test]
fn sandbox_lays_out_a_module_environment() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let root = sandbox.path().to_owned();
    assert!(root.starts_with(std::env::temp_dir()));
    assert!(
        root.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("sekoia-sandbox-")
    );
    assert_eq!(sandbox.configuration_root(), root.join("symphony"));
    assert_eq!(sandbox.data_directory(), root.join("data"));
    assert_eq!(sandbox.module_directory(), root.join("module"));
    assert_eq!(
        sandbox.manifest_path(),
        root.join("module").join("manifest.json")
    );
    assert!(sandbox.data_directory().is_dir());

    let read = |name: &str| std::fs::read_to_string(sandbox.configuration_root().join(name));
    assert_eq!(read("token").unwrap(), platform.token());
    assert_eq!(read("url_callback").unwrap(), platform.callback_url());

    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.manifest_path()).unwrap()).unwrap();
    assert_eq!(manifest["slug"], "sandbox");
    assert_eq!(manifest["name"], "sandbox");
    assert_eq!(manifest["version"], "0.1.0");
    assert!(uuid::Uuid::parse_str(manifest["uuid"].as_str().unwrap()).is_ok());
    assert_eq!(
        manifest["configuration"],
        json!({"type": "object", "properties": {}, "required": [], "secrets": []})
    );

    sandbox.set("playbook_uuid", " as-is\n").unwrap();
    assert_eq!(read("playbook_uuid").unwrap(), " as-is\n");
    sandbox
        .set_json("arguments", &json!({"b": 1, "a": [true]}))
        .unwrap();
    assert_eq!(read("arguments").unwrap(), r#"{"b":1,"a":[true]}"#);
    sandbox.remove("arguments").unwrap();
    assert!(read("arguments").is_err());
    sandbox.remove("arguments").unwrap();
    for bad in ["", ".", "..", "../escape", "a/b"] {
        let error = sandbox.set(bad, "x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }

    let custom = json!({"slug": "custom", "configuration": {"secrets": ["api_key"]}});
    sandbox.write_manifest(&custom).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.manifest_path()).unwrap()).unwrap();
    assert_eq!(written, custom);

    let settings = sandbox.settings();
    assert_eq!(settings.configuration_root, sandbox.configuration_root());
    assert_eq!(settings.data_directory, sandbox.data_directory());
    assert_eq!(settings.manifest_path, sandbox.manifest_path());
    assert_eq!(settings.retry_backoff, Duration::from_millis(1));

    drop(sandbox);
    assert!(!root.exists());
}

#[test]
fn sandboxes_are_distinct_and_can_be_kept() {
    let platform = LocalPlatform::start().unwrap();
    let one = Sandbox::new(&platform).unwrap();
    let two = Sandbox::new(&platform).unwrap();
    assert_ne!(one.path(), two.path());
    let kept = two.keep();
    assert!(kept.join("symphony").join("token").is_file());
    std::fs::remove_dir_all(&kept).unwrap();
    // The sandbox outlives nothing: it holds no reference to the platform.
    drop(platform);
    assert!(one.path().is_dir());
}

#[cfg(unix)]
#[test]
fn sandbox_commands_run_in_the_module_directory() {
    let platform = LocalPlatform::start().unwrap();
    let sandbox = Sandbox::new(&platform).unwrap();
    let output = sandbox
        .command("sh")
        .arg("-c")
        .arg(
            "pwd; echo \"$SEKOIA_AUTOMATION_ROOT\"; echo \"$SEKOIA_AUTOMATION_DATA\"; \
             echo \"$SEKOIA_AUTOMATION_MANIFEST\"; echo \"$SEKOIA_AUTOMATION_BACKOFF_MS\"",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let canonical = |path: std::path::PathBuf| path.canonicalize().unwrap();
    assert_eq!(
        canonical(lines[0].into()),
        canonical(sandbox.module_directory())
    );
    assert_eq!(lines[1], sandbox.configuration_root().to_str().unwrap());
    assert_eq!(lines[2], sandbox.data_directory().to_str().unwrap());
    assert_eq!(lines[3], sandbox.manifest_path().to_str().unwrap());
    assert_eq!(lines[4], "1");
}
