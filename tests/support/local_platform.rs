//! What the local platform tests share: a client agent, raw connections
//! and their answers. Each `tests/local_platform_*.rs` file includes it
//! (`#[path]`).

#![allow(dead_code, unused_imports)]

pub use std::collections::HashSet;
pub use std::io::{BufRead, BufReader, Read, Write};
pub use std::net::TcpStream;
pub use std::time::{Duration, Instant};

pub use sekoia_automation::testing::{Fault, LocalPlatform, RecordedRequest, Sandbox};
pub use serde_json::{Value, json};

pub const TIMEOUT: Duration = Duration::from_secs(10);

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// A status and a parsed body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

pub fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = result.expect("a response");
    let text = response.body_mut().read_to_string().expect("a body");
    Answer {
        status: response.status().as_u16(),
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub fn bearer(platform: &LocalPlatform) -> String {
    format!("Bearer {}", platform.token())
}

pub fn patch(agent: &ureq::Agent, platform: &LocalPlatform, body: &Value) -> Answer {
    answer(
        agent
            .patch(platform.callback_url())
            .header("Authorization", bearer(platform))
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

pub fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &str) -> Answer {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    answer(request.send(body))
}

pub fn get_secrets(agent: &ureq::Agent, platform: &LocalPlatform) -> Answer {
    answer(
        agent
            .get(platform.secrets_url())
            .header("Authorization", bearer(platform))
            .call(),
    )
}

pub fn batch_url(platform: &LocalPlatform) -> String {
    format!("{}/batch", platform.intake_url())
}

pub fn statuses(requests: &[RecordedRequest]) -> Vec<u16> {
    requests.iter().map(|request| request.status).collect()
}

/// A raw connection, for what an HTTP client library does not let us send.
pub fn raw(platform: &LocalPlatform) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(platform.address()).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    BufReader::new(stream)
}

pub fn send_raw(connection: &mut BufReader<TcpStream>, bytes: &[u8]) {
    connection.get_mut().write_all(bytes).unwrap();
}

/// Reads one response: status, header fields (names lower-cased), body.
pub fn read_response(
    connection: &mut BufReader<TcpStream>,
) -> (u16, Vec<(String, String)>, String) {
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

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(header, _)| header == name)
        .map(|(_, value)| value.as_str())
}

/// True when the server closed the connection (EOF or reset).
pub fn closed(connection: &mut BufReader<TcpStream>) -> bool {
    let mut byte = [0; 1];
    matches!(connection.read(&mut byte), Ok(0) | Err(_))
}
