//! The crate's own tests' view of [`sekoia_automation::testing::FakeVendor`]
//! (a vendor API on 127.0.0.1, on the crate's server codec): a vendor played
//! by one handler, the requests as `Recorded` (path and query as sent),
//! scripted replies first; plus a raw TCP listener that drops connections
//! and a port where nothing listens. Shared by the vendor tests, the
//! `vendor_api` example and the vendor bench (`#[path]` module).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sekoia_automation::testing::{self, RecordedRequest};

/// A request as the fake vendor received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`...
    pub method: String,
    /// The request target: path and query.
    pub url: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
    /// The client's address (a new port is a new connection).
    pub peer: Option<std::net::SocketAddr>,
}

impl Recorded {
    fn of(request: &RecordedRequest) -> Recorded {
        Recorded {
            method: request.method.clone(),
            url: match &request.query {
                Some(query) => format!("{}?{query}", request.path),
                None => request.path.clone(),
            },
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                .collect(),
            body: request.body.clone(),
            at: request.received_at,
            peer: Some(request.peer),
        }
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the fake vendor answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status, headers and a body.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Waits, then answers.
    Slow(Duration, Box<Reply>),
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// An answer with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply::Answer {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Answer {
                    status,
                    headers,
                    body,
                }
            }
            Reply::Slow(wait, inner) => Reply::Slow(wait, Box::new(inner.header(name, value))),
        }
    }

    /// The same answer after `wait`.
    pub fn after(self, wait: Duration) -> Reply {
        Reply::Slow(wait, Box::new(self))
    }

    /// The crate's reply.
    fn into_testing(self) -> testing::Reply {
        match self {
            Reply::Answer {
                status,
                headers,
                body,
            } => headers.into_iter().fold(
                testing::Reply::text(status, body),
                |reply, (name, value)| reply.header(name, value),
            ),
            Reply::Slow(wait, inner) => inner.into_testing().after(wait),
        }
    }
}

/// The fake vendor; stops when dropped.
pub struct FakeVendor {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    inner: testing::FakeVendor,
}

impl FakeVendor {
    /// A vendor answering every request with `handler`, unless a scripted
    /// reply is waiting.
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> FakeVendor {
        let inner = testing::FakeVendor::start().expect("a fake vendor on 127.0.0.1");
        let handler = Arc::new(handler);
        inner.otherwise(move |request| handler(&Recorded::of(request)).into_testing());
        FakeVendor {
            url: inner.url(),
            inner,
        }
    }

    /// The next answers, in order, before the handler's.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner
            .script(replies.into_iter().map(Reply::into_testing));
    }

    /// Stops recording requests (a bench sending thousands).
    pub fn stop_recording(&self) {
        self.inner.stop_recording();
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests().iter().map(Recorded::of).collect()
    }
}

/// A listener that reads each request's head and closes the connection
/// without a word for its first `drops` connections, then answers `200`
/// with `body` (and `Connection: close`).
pub struct DroppingVendor {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    connections: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DroppingVendor {
    /// Starts it.
    pub fn start(drops: usize, body: &'static str) -> DroppingVendor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("an address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let connections = Arc::clone(&connections);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(mut stream) = stream else { continue };
                    let seen = connections.fetch_add(1, Ordering::SeqCst);
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => break,
                        }
                    }
                    if seen >= drops {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    // Dropped: the connection closes.
                }
            })
        };
        DroppingVendor {
            url: format!("http://127.0.0.1:{port}"),
            connections,
            done,
            thread: Some(thread),
        }
    }

    /// The connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for DroppingVendor {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (connections are refused).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
