//! A small HTTP proxy on 127.0.0.1: `CONNECT host:port` tunnels (HTTPS,
//! and what ureq sends for any URL) and absolute-form requests
//! (`GET http://host:port/path`, what `requests` sends for `http://` URLs)
//! forwarded to their target, each request line recorded.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The running proxy.
pub struct TunnelProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

#[allow(dead_code)]
impl TunnelProxy {
    /// Starts the proxy; it serves for as long as the test runs.
    pub fn start() -> TunnelProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let recorded = Arc::clone(&recorded);
                std::thread::spawn(move || serve(client, &recorded));
            }
        });
        TunnelProxy { url, seen }
    }

    /// The request lines received so far (`CONNECT 127.0.0.1:1234 HTTP/1.1`,
    /// `POST http://127.0.0.1:1234/batch HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let line = line.trim_end().to_owned();
    seen.lock().unwrap().push(line.clone());
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let mut head = Vec::new();
    // Bounded by the request head.
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if !header.to_ascii_lowercase().starts_with("proxy-") {
            head.push(header);
        }
    }
    let (authority, first) = if method == "CONNECT" {
        (target.to_owned(), None)
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        (
            authority.to_owned(),
            Some(format!("{method} {path} {version}\r\n")),
        )
    };
    let Ok(mut upstream) = TcpStream::connect(&authority) else {
        let _ = (&client).write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    match first {
        None => {
            let _ = (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        }
        Some(first) => {
            let _ = upstream.write_all(first.as_bytes());
            for header in &head {
                let _ = upstream.write_all(header.as_bytes());
            }
            let _ = upstream.write_all(b"\r\n");
        }
    }
    // What the client already sent past the head, then both directions.
    let buffered = reader.buffer().to_vec();
    let _ = upstream.write_all(&buffered);
    let mut from_upstream = upstream.try_clone().unwrap();
    let mut to_client = client.try_clone().unwrap();
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_upstream, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut rest = reader.into_inner();
    let _ = std::io::copy(&mut rest, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = back.join();
    let _ = rest.read(&mut [0u8; 1]);
}
