//! Reads an untagged enum holding an `f64` and a struct with a flattened
//! member, through `serde_json::from_str` and through a vendor answer
//! (`VendorResponse::json`) from a one-answer server on 127.0.0.1. Both
//! fail ("data did not match any variant", "invalid type: map, expected
//! f64") when serde_json's `arbitrary_precision` is on in the build.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use sekoia_automation::vendor::VendorClient;
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Score {
    Number(f64),
    Text(String),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Position {
    latitude: f64,
    longitude: f64,
}

/// A flattened member alone, no untagged enum.
#[derive(Debug, PartialEq, Deserialize)]
struct Located {
    name: String,
    #[serde(flatten)]
    position: Position,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Alert {
    name: String,
    score: Score,
    #[serde(flatten)]
    position: Position,
}

const BODY: &str = r#"{"name": "probe", "score": 7.5, "latitude": 48.85, "longitude": 2.35}"#;

fn expected() -> Alert {
    Alert {
        name: "probe".into(),
        score: Score::Number(7.5),
        position: Position {
            latitude: 48.85,
            longitude: 2.35,
        },
    }
}

fn main() {
    let mut failures = Vec::new();

    match serde_json::from_str::<Alert>(BODY) {
        Ok(alert) if alert == expected() => {}
        other => failures.push(format!("serde_json::from_str: {other:?}")),
    }
    match serde_json::from_str::<Vec<Score>>(r#"[1.25, "high"]"#) {
        Ok(scores) if scores == [Score::Number(1.25), Score::Text("high".into())] => {}
        other => failures.push(format!("serde_json::from_str (untagged): {other:?}")),
    }

    match serde_json::from_str::<Located>(BODY) {
        Ok(located) if located.position == expected().position => {}
        other => failures.push(format!("serde_json::from_str (flatten): {other:?}")),
    }

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("local address");
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        // The request head, up to its blank line (a GET has no body).
        while reader.read_line(&mut line).expect("read") > 2 {
            line.clear();
        }
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
            BODY.len()
        )
        .expect("answer");
    });
    let client = VendorClient::builder()
        .base_url(format!("http://{address}"))
        .build()
        .expect("client");
    let response = client.get("/alert").send().expect("vendor answer");
    match response.json::<Alert>() {
        Ok(alert) if alert == expected() => {}
        other => failures.push(format!("VendorResponse::json: {other:?}")),
    }
    server.join().expect("server thread");

    if failures.is_empty() {
        println!("author types read");
    } else {
        eprintln!("{}", failures.join("\n"));
        std::process::exit(1);
    }
}
