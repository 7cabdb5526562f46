//! [`FakeVendor`]: a vendor's API on 127.0.0.1, for the tests of a module
//! that calls one: routes with canned answers, scripted answers and faults
//! (error statuses, `Retry-After`, slow answers, dropped connections), every
//! request recorded as received. It serves on the crate's one HTTP/1.1
//! server codec, as [`LocalPlatform`](super::LocalPlatform) does.

use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::recorded::RecordedRequest;
use crate::wire::server::{AcceptLoop, HttpConnection, Limits, Response};

/// How the [`FakeVendor`] answers one request: a status, headers and a
/// body, maybe late, or no answer at all (the connection dropped).
///
/// ```
/// use std::time::Duration;
/// use sekoia_automation::testing::Reply;
///
/// let busy = Reply::json(429, r#"{"message": "slow down"}"#).header("Retry-After", "1");
/// let late = Reply::json(200, "[]").after(Duration::from_millis(50));
/// let gone = Reply::drop_connection();
/// # let _ = (busy, late, gone);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    content_type: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Duration,
    drop_connection: bool,
}

impl Reply {
    /// `status` with a JSON body (`Content-Type: application/json`).
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "application/json".into(),
            headers: Vec::new(),
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
            drop_connection: false,
        }
    }

    /// `status` with a text body (`Content-Type: text/plain; charset=utf-8`).
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            content_type: "text/plain; charset=utf-8".into(),
            ..Reply::json(status, body)
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply::text(status, "")
    }

    /// No answer: the connection is closed once the request is read (what
    /// a client sees as a connection reset or an empty answer).
    pub fn drop_connection() -> Reply {
        Reply {
            drop_connection: true,
            ..Reply::status(0)
        }
    }

    /// Adds a header field (`Content-Type` replaces the body's type).
    ///
    /// # Panics
    ///
    /// When the name or the value holds a CR or LF: it would end the head.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        let (name, value) = (name.into(), value.into());
        assert!(
            !format!("{name}{value}").contains(['\r', '\n']),
            "the header {name:?} of a fake vendor's reply holds a CR or LF: remove it"
        );
        if name.eq_ignore_ascii_case("content-type") {
            self.content_type = value;
        } else {
            self.headers.push((name, value));
        }
        self
    }

    /// The same answer, sent `delay` after the request was read (a slow
    /// vendor; a client timeout shorter than `delay` fails).
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

struct Route {
    method: String,
    path: String,
    handler: Arc<Handler>,
}

struct Shared {
    stopped: AtomicBool,
    recording: AtomicBool,
    routes: Mutex<Vec<Route>>,
    /// Answers what no route matches (else a `404`).
    otherwise: Mutex<Option<Arc<Handler>>>,
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The open connections, shut down when the vendor is dropped.
    connections: Mutex<Vec<TcpStream>>,
    /// Wakes the slow answers when the vendor is dropped.
    wake: Condvar,
    asleep: Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// The scripted reply, else the route's, else a `404` that says so.
    fn reply(&self, request: &RecordedRequest) -> Reply {
        if let Some(reply) = lock(&self.script).pop_front() {
            return reply;
        }
        let handler = lock(&self.routes)
            .iter()
            .rev()
            .find(|route| {
                route.method.eq_ignore_ascii_case(&request.method) && route.path == request.path
            })
            .map(|route| Arc::clone(&route.handler))
            .or_else(|| lock(&self.otherwise).clone());
        match handler {
            Some(handler) => handler(request),
            None => Reply::json(
                404,
                format!(
                    r#"{{"message": "the fake vendor has no route for {} {}: add one with FakeVendor::route"}}"#,
                    request.method, request.path
                ),
            ),
        }
    }

    /// Waits `delay`; true when the vendor was dropped meanwhile.
    fn sleep(&self, delay: Duration) -> bool {
        let guard = lock(&self.asleep);
        let (_guard, _) = self
            .wake
            .wait_timeout_while(guard, delay, |_| !self.stopped.load(Ordering::SeqCst))
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.stopped.load(Ordering::SeqCst)
    }
}

/// A vendor's API on 127.0.0.1 for a module's tests: no hand-written
/// `TcpListener`. Routes answer by method and path (the query ignored);
/// [`script`](Self::script)ed replies come first, whatever the route
/// (a 503 then a 429 before the route's answer); an unrouted request gets
/// a `404` naming it. Every request is [recorded](Self::requests) as
/// received, with the status answered (`0` for a dropped connection).
/// Stops when dropped.
///
/// ```
/// use sekoia_automation::testing::{FakeVendor, Reply};
/// use sekoia_automation::vendor::VendorClient;
///
/// let vendor = FakeVendor::start()?;
/// vendor.route("GET", "/v1/alerts", Reply::json(200, r#"[{"id": 1}]"#));
/// vendor.script([Reply::json(503, "{}")]);
///
/// let client = VendorClient::builder()
///     .base_url(format!("{}/v1", vendor.url()))
///     .retry(sekoia_automation::vendor::RetryPolicy::default().backoff_factor(std::time::Duration::ZERO))
///     .build()?;
/// let alerts: serde_json::Value = client.get("alerts").query("status", "open").send_json()?;
/// assert_eq!(alerts[0]["id"], 1);
///
/// let requests = vendor.requests();
/// assert_eq!(requests.len(), 2, "the 503 was retried");
/// assert_eq!((requests[0].status, requests[1].status), (503, 200));
/// assert_eq!(requests[1].query.as_deref(), Some("status=open"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FakeVendor {
    port: u16,
    shared: Arc<Shared>,
    accept: AcceptLoop,
}

impl std::fmt::Debug for FakeVendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeVendor")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

/// No timeouts (a test holds a connection as long as it likes; dropping
/// the vendor closes them all), the platform's size limits.
const LIMITS: Limits = Limits {
    max_head: super::MAX_HEAD_BYTES,
    max_body: super::MAX_BODY_BYTES,
    read_buffer: 64 * 1024,
    timeout: None,
    head_too_large: "request head larger than 64 KiB",
    body_too_large: "request body larger than 64 MiB",
};

impl FakeVendor {
    /// Starts it on a free port of 127.0.0.1, with no route.
    ///
    /// # Errors
    ///
    /// When no port of 127.0.0.1 can be bound or no thread started.
    pub fn start() -> io::Result<FakeVendor> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            stopped: AtomicBool::new(false),
            recording: AtomicBool::new(true),
            routes: Mutex::new(Vec::new()),
            otherwise: Mutex::new(None),
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            connections: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            asleep: Mutex::new(()),
        });
        let stopped = Arc::clone(&shared);
        let serving = Arc::clone(&shared);
        let accept = AcceptLoop::spawn(
            "fake vendor",
            listener,
            move || stopped.stopped.load(Ordering::SeqCst),
            move |stream| {
                if let Ok(clone) = stream.try_clone() {
                    lock(&serving.connections).push(clone);
                }
                let shared = Arc::clone(&serving);
                let spawned = std::thread::Builder::new()
                    .name("fake vendor connection".into())
                    .spawn(move || serve(&shared, stream));
                if let Err(error) = spawned {
                    log::warn!("fake vendor: cannot start a connection thread: {error}");
                }
            },
        )?;
        Ok(FakeVendor {
            port,
            shared,
            accept,
        })
    }

    /// `http://127.0.0.1:<port>`, to give the module as its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers `method path` (the path without the query) with `reply`,
    /// every time. A later route for the same method and path replaces it.
    pub fn route(&self, method: &str, path: &str, reply: Reply) -> &Self {
        self.route_with(method, path, move |_| reply.clone())
    }

    /// Answers `method path` with what `handler` makes of the request
    /// (its query, headers or body).
    pub fn route_with(
        &self,
        method: &str,
        path: &str,
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        lock(&self.shared.routes).push(Route {
            method: method.to_string(),
            path: path.to_string(),
            handler: Arc::new(handler),
        });
        self
    }

    /// Answers every request no route matches with what `handler` makes
    /// of it (instead of a `404`): a vendor played by one function.
    pub fn otherwise(
        &self,
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        *lock(&self.shared.otherwise) = Some(Arc::new(handler));
        self
    }

    /// Stops recording requests (a load test sending thousands, whose
    /// record would only grow); [`requests`](Self::requests) keeps those
    /// recorded before.
    pub fn stop_recording(&self) {
        self.shared.recording.store(false, Ordering::SeqCst);
    }

    /// The next replies, in order, whatever the request: faults before
    /// the routes' answers.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        lock(&self.shared.script).extend(replies);
        self
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for FakeVendor {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        {
            let _guard = lock(&self.shared.asleep);
            self.shared.wake.notify_all();
        }
        for connection in lock(&self.shared.connections).drain(..) {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
        if let Err(error) = self.accept.stop(Duration::from_secs(1)) {
            log::debug!("fake vendor: accept loop not woken: {error}");
        }
    }
}

/// Reads and answers the requests of one connection in turn.
fn serve(shared: &Shared, stream: TcpStream) {
    let Ok(mut http) = HttpConnection::new(stream, LIMITS) else {
        return;
    };
    loop {
        let (head, body) = match http.read_request() {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(refused) => {
                if let Ok((status, message)) = http.refusal(refused.error) {
                    let body = serde_json::json!({ "message": message }).to_string();
                    let _ = http.write_response(&Response {
                        status,
                        content_type: "application/json",
                        body: body.as_bytes(),
                        keep_alive: false,
                        http10: false,
                        head_only: false,
                        headers: &[],
                    });
                    http.linger_close();
                }
                return;
            }
        };
        let keep_alive = head.keep_alive();
        let (http10, head_only) = (head.http10, head.method == "HEAD");
        let mut request = RecordedRequest {
            method: head.method,
            path: head.path,
            query: head.query,
            headers: head.headers,
            body,
            status: 0,
            peer: http.peer(),
            received_at: Instant::now(),
        };
        let reply = shared.reply(&request);
        request.status = reply.status;
        if shared.recording.load(Ordering::SeqCst) {
            lock(&shared.requests).push(request);
        }
        if !reply.delay.is_zero() && shared.sleep(reply.delay) {
            http.abort();
            return;
        }
        if reply.drop_connection {
            http.abort();
            return;
        }
        let written = http.write_response(&Response {
            status: reply.status,
            content_type: &reply.content_type,
            body: &reply.body,
            keep_alive,
            http10,
            head_only,
            headers: &reply.headers,
        });
        if written.is_err() || !keep_alive || shared.stopped.load(Ordering::SeqCst) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn exchange(vendor: &FakeVendor, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", vendor.port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    #[test]
    fn routes_scripts_and_unrouted_requests() {
        let vendor = FakeVendor::start().unwrap();
        vendor.route("GET", "/a", Reply::json(200, "[1]").header("X-Page", "2"));
        vendor.route_with("POST", "/echo", |request| {
            Reply::text(201, request.body_text())
        });
        vendor.script([Reply::status(503).header("Retry-After", "7")]);
        let close = "Connection: close\r\n";
        let first = exchange(
            &vendor,
            &format!("GET /a?x=1 HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(first.starts_with("HTTP/1.1 503 "), "{first}");
        assert!(first.contains("Retry-After: 7\r\n"), "{first}");
        let second = exchange(
            &vendor,
            &format!("GET /a?x=1 HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(second.starts_with("HTTP/1.1 200 "), "{second}");
        assert!(second.contains("X-Page: 2\r\n") && second.ends_with("\r\n\r\n[1]"));
        let echo = exchange(
            &vendor,
            &format!("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n{close}\r\nhé"),
        );
        assert!(
            echo.starts_with("HTTP/1.1 201 ") && echo.ends_with("h\u{e9}"),
            "{echo}"
        );
        let missing = exchange(
            &vendor,
            &format!("DELETE /b HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        assert!(missing.contains("no route for DELETE /b"), "{missing}");

        let requests = vendor.requests();
        let seen: Vec<(&str, &str, Option<&str>, u16)> = requests
            .iter()
            .map(|r| {
                (
                    r.method.as_str(),
                    r.path.as_str(),
                    r.query.as_deref(),
                    r.status,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("GET", "/a", Some("x=1"), 503),
                ("GET", "/a", Some("x=1"), 200),
                ("POST", "/echo", None, 201),
                ("DELETE", "/b", None, 404),
            ]
        );
        assert_eq!(requests[2].body_text(), "hé");
    }

    #[test]
    fn a_dropped_connection_answers_nothing_and_a_drop_wakes_a_slow_answer() {
        let vendor = FakeVendor::start().unwrap();
        vendor.script([Reply::drop_connection()]);
        let dropped = exchange(&vendor, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(dropped, "");
        assert_eq!(vendor.requests()[0].status, 0);

        vendor.route(
            "GET",
            "/slow",
            Reply::json(200, "{}").after(Duration::from_secs(3600)),
        );
        let mut stream = TcpStream::connect(("127.0.0.1", vendor.port)).unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap();
        // Bounded: the request is recorded before its answer is held.
        let mut recorded = false;
        for _ in 0..500 {
            if vendor.requests().len() == 2 {
                recorded = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(recorded);
        drop(vendor);
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert_eq!(answer, "", "dropped, not answered an hour later");
    }

    #[test]
    fn a_handler_answers_what_no_route_does_and_recording_stops() {
        let vendor = FakeVendor::start().unwrap();
        vendor.route("GET", "/routed", Reply::json(200, "{}"));
        vendor.otherwise(|request| Reply::text(202, request.path.clone()));
        let close = "Connection: close\r\n";
        let routed = exchange(
            &vendor,
            &format!("GET /routed HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(routed.starts_with("HTTP/1.1 200 "), "{routed}");
        let other = exchange(
            &vendor,
            &format!("GET /else HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(
            other.starts_with("HTTP/1.1 202 ") && other.ends_with("/else"),
            "{other}"
        );
        vendor.stop_recording();
        let unrecorded = exchange(
            &vendor,
            &format!("GET /x HTTP/1.1\r\nHost: h\r\n{close}\r\n"),
        );
        assert!(unrecorded.starts_with("HTTP/1.1 202 "), "still answered");
        assert_eq!(vendor.requests().len(), 2);
    }

    #[test]
    #[should_panic(expected = "holds a CR or LF")]
    fn a_header_cannot_end_the_head() {
        let _ = Reply::json(200, "{}").header("X-Evil", "a\r\nSet-Cookie: b");
    }
}
