//! The local platform's body framing: lengths, chunks, limits.

#[path = "support/local_platform.rs"]
mod local_platform_support;

use local_platform_support::*;

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
