//! The local platform's connections: keep-alive, pipelining, closing.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

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
