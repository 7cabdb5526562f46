//! A small HTTP proxy on 127.0.0.1 in front of the S3 server that answers
//! the first requests with faults (503 `SlowDown`, a dropped connection, a
//! 403) and forwards the rest, counting every request.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Fault {
    /// `503 SlowDown`, as S3 answers when throttling.
    SlowDown,
    /// Reads the request, closes the connection without an answer.
    Drop,
    /// `403 AccessDenied`.
    Forbidden,
}

#[derive(Default)]
struct State {
    faults: VecDeque<Fault>,
    always: Option<Fault>,
    requests: usize,
}

/// The running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

#[allow(dead_code)]
impl FaultProxy {
    /// A proxy to `upstream` (`http://127.0.0.1:<port>`) that answers the
    /// next requests with `faults`, in order, then forwards.
    pub fn start(upstream: &str, faults: &[Fault]) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new((
            Mutex::new(State {
                faults: faults.iter().copied().collect(),
                ..State::default()
            }),
            Condvar::new(),
        ));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let upstream = upstream.clone();
                std::thread::spawn(move || serve(client, &upstream, &state));
            }
        });
        FaultProxy { endpoint, state }
    }

    /// Every request from now on is answered with `fault`.
    pub fn always(&self, fault: Fault) {
        self.state.0.lock().unwrap().always = Some(fault);
    }

    /// Requests received so far (faulted or forwarded).
    pub fn requests(&self) -> usize {
        self.state.0.lock().unwrap().requests
    }

    /// Waits (at most 30 s) until `count` requests were received.
    pub fn wait_for_requests(&self, count: usize) -> bool {
        let (lock, condvar) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, _) = condvar
            .wait_timeout_while(guard, Duration::from_secs(30), |state| {
                state.requests < count
            })
            .unwrap();
        guard.requests >= count
    }
}

/// One HTTP message: its head and body, and whether it is a HEAD request.
/// A request's `Expect: 100-continue` is answered here (to `client`) and
/// not forwarded.
fn read_message(
    reader: &mut BufReader<TcpStream>,
    no_body: bool,
    client: Option<&mut TcpStream>,
) -> Option<(Vec<u8>, bool)> {
    let mut head = Vec::new();
    let mut length: Option<usize> = None;
    let mut expect_continue = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("expect:") && lower.contains("100-continue") {
            expect_continue = true;
            continue;
        }
        head.extend_from_slice(line.as_bytes());
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok();
        }
        if line == "\r\n" {
            break;
        }
    }
    if expect_continue && let Some(client) = client {
        client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let is_head = head.starts_with(b"HEAD ");
    let chunked = String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if chunked && !no_body {
        // Chunks as they are, up to the last (empty) one and its blank line.
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            head.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            head.extend_from_slice(&chunk);
            if size == 0 {
                return Some((head, is_head));
            }
        }
    }
    let mut body = vec![0; if no_body { 0 } else { length.unwrap_or(0) }];
    reader.read_exact(&mut body).ok()?;
    head.extend_from_slice(&body);
    Some((head, is_head))
}

fn serve(client: TcpStream, upstream: &str, state: &(Mutex<State>, Condvar)) {
    // No test waits on a silent peer for ever.
    let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
    let mut writer = client.try_clone().unwrap();
    let mut reader = BufReader::new(client);
    let mut server: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while let Some((request, is_head)) = read_message(&mut reader, false, Some(&mut writer)) {
        let fault = {
            let (lock, condvar) = state;
            let mut state = lock.lock().unwrap();
            state.requests += 1;
            condvar.notify_all();
            state.faults.pop_front().or(state.always)
        };
        match fault {
            Some(Fault::Drop) => return,
            Some(Fault::SlowDown) => {
                let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                let _ = write!(
                    writer,
                    "HTTP/1.1 503 Slow Down\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                return;
            }
            Some(Fault::Forbidden) => {
                let body =
                    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
                let _ = write!(
                    writer,
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
            None => {
                let (upstream_writer, upstream_reader) = server.get_or_insert_with(|| {
                    let stream = TcpStream::connect(upstream).unwrap();
                    (stream.try_clone().unwrap(), BufReader::new(stream))
                });
                if upstream_writer.write_all(&request).is_err() {
                    return;
                }
                let Some((answer, _)) = read_message(upstream_reader, is_head, None) else {
                    return;
                };
                if writer.write_all(&answer).is_err() {
                    return;
                }
            }
        }
    }
}
