//! A trigger's liveness (PROTOCOL §4): the [`Health`] it keeps (last event,
//! last heartbeat, consecutive errors) and the HTTP endpoint on
//! `liveness_port` that the orchestrator probes.
//!
//! `GET /health` answers 200 when the trigger is alive, 500 when not, with
//! `{"last_events_time", "last_heartbeat", "seconds_without_events_threshold",
//! "last_heartbeat_threshold", "error_count"}`; any other path answers 404
//! `{"status_code": 404, "reason": "Endpoint doesn't exist"}`.
//!
//! The endpoint (and the metrics one) is a small server of its own: one thread,
//! one short connection at a time, closed at once when dropped.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::wire::bodies::HealthBody;

use crate::trigger::clock::{self, Clock};
use crate::trigger::log_shipper::LogShipper;
use crate::wire::logging::Level;
use crate::wire::timestamp::Timestamp;

/// What the liveness endpoint reports: when the trigger last sent an event
/// and produced a heartbeat, and its consecutive errors.
#[derive(Debug)]
pub struct Health {
    clock: Arc<dyn Clock>,
    startup: Timestamp,
    last_event: AtomicI64,
    last_heartbeat: AtomicI64,
    error_count: AtomicU64,
    seconds_without_events: u64,
    last_heartbeat_threshold: u64,
}

impl Health {
    /// A trigger starting now (on `clock`), with its thresholds in seconds
    /// (0: never unhealthy for that reason).
    pub fn new(
        clock: Arc<dyn Clock>,
        seconds_without_events: u64,
        last_heartbeat_threshold: u64,
    ) -> Self {
        let now = clock.now();
        Health {
            clock,
            startup: now,
            last_event: AtomicI64::new(now.micros_since_epoch()),
            last_heartbeat: AtomicI64::new(now.micros_since_epoch()),
            error_count: AtomicU64::new(0),
            seconds_without_events,
            last_heartbeat_threshold,
        }
    }

    /// When the runtime started.
    pub fn startup(&self) -> Timestamp {
        self.startup
    }

    /// When an event was last sent (the start until then).
    pub fn last_event(&self) -> Timestamp {
        clock::at_micros(self.last_event.load(Ordering::Relaxed))
    }

    /// When the trigger last called `heartbeat` (the start until then).
    pub fn last_heartbeat(&self) -> Timestamp {
        clock::at_micros(self.last_heartbeat.load(Ordering::Relaxed))
    }

    /// Consecutive counted errors since the last event.
    pub fn error_count(&self) -> u64 {
        self.error_count.load(Ordering::Relaxed)
    }

    /// An event is being sent: the error count and the last-event time reset.
    pub fn event_sent(&self) {
        self.error_count.store(0, Ordering::Relaxed);
        self.last_event
            .store(self.clock.now().micros_since_epoch(), Ordering::Relaxed);
    }

    /// The trigger is alive.
    pub fn heartbeat(&self) {
        self.last_heartbeat
            .store(self.clock.now().micros_since_epoch(), Ordering::Relaxed);
    }

    /// Counts one more consecutive error; returns the new count.
    pub fn count_error(&self) -> u64 {
        self.error_count.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether the trigger is alive: (no event threshold, or an event more
    /// recent than it) and (no heartbeat threshold, or a heartbeat more
    /// recent than it). Why not is logged to `logs` when given, as the
    /// Python SDK does: `info` for events, `error` for heartbeats.
    pub fn is_alive(&self, logs: Option<&LogShipper>) -> bool {
        let now = self.clock.now();
        let since_event = clock::elapsed(self.last_event(), now);
        if self.seconds_without_events > 0
            && since_event >= Duration::from_secs(self.seconds_without_events)
        {
            if let Some(logs) = logs {
                logs.log(
                    Level::Info,
                    &format!(
                        "The trigger didn't send events for {} seconds, it will be restarted.",
                        clock::python_seconds(since_event)
                    ),
                );
            }
            return false;
        }
        let since_heartbeat = clock::elapsed(self.last_heartbeat(), now);
        if self.last_heartbeat_threshold > 0
            && since_heartbeat >= Duration::from_secs(self.last_heartbeat_threshold)
        {
            if let Some(logs) = logs {
                logs.log(
                    Level::Error,
                    &format!(
                        "The trigger didn't produce heartbeat for {} seconds, it will be restarted.",
                        clock::python_seconds(since_heartbeat)
                    ),
                );
            }
            return false;
        }
        true
    }

    /// The body of `GET /health`, as the Python SDK writes it.
    pub fn body(&self) -> Vec<u8> {
        crate::wire::bodies::health_body(&HealthBody {
            last_events_time: self.last_event().to_iso8601(),
            last_heartbeat: self.last_heartbeat().to_iso8601(),
            seconds_without_events_threshold: self.seconds_without_events,
            last_heartbeat_threshold: self.last_heartbeat_threshold,
            error_count: self.error_count(),
        })
    }
}

/// The body of a 404 from the liveness endpoint.
pub const NOT_FOUND_BODY: &str = r#"{"status_code": 404, "reason": "Endpoint doesn't exist"}"#;

/// Starts the liveness endpoint on `port` (all interfaces; 0 picks a free
/// port).
pub(crate) fn start_liveness(
    port: u16,
    health: Arc<Health>,
    logs: Arc<LogShipper>,
) -> io::Result<MonitoringServer> {
    MonitoringServer::start("sekoia-liveness", port, move |method, target| {
        if method != "GET" {
            return Reply::unsupported(method);
        }
        if target == "/health" {
            let alive = health.is_alive(Some(&logs));
            return Reply::json(if alive { 200 } else { 500 }, health.body());
        }
        Reply::json(404, NOT_FOUND_BODY.as_bytes().to_vec())
    })
}

/// An answer of a [`MonitoringServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body,
        }
    }

    pub(crate) fn unsupported(method: &str) -> Reply {
        Reply {
            status: 501,
            content_type: "text/plain; charset=utf-8",
            body: format!("Unsupported method ('{method}')").into_bytes(),
        }
    }
}

/// Largest request head read; the rest is ignored.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request or read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(1);

type Handler = Box<dyn Fn(&str, &str) -> Reply + Send>;

/// A minimal HTTP/1.1 server for probes: one thread, one connection at a
/// time, `Connection: close`. Dropping it closes the listener at once (no
/// polling interval to wait out) and joins the thread.
pub(crate) struct MonitoringServer {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MonitoringServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl MonitoringServer {
    /// Binds `0.0.0.0:port` and serves `handler(method, target)`.
    pub(crate) fn start(
        name: &str,
        port: u16,
        handler: impl Fn(&str, &str) -> Reply + Send + 'static,
    ) -> io::Result<MonitoringServer> {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))?;
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let handler: Handler = Box::new(handler);
        let thread = std::thread::Builder::new().name(name.into()).spawn({
            let stopping = Arc::clone(&stopping);
            move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = serve(stream, &handler);
                    }
                }
            }
        })?;
        Ok(MonitoringServer {
            address,
            stopping,
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }
}

impl Drop for MonitoringServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept: it then sees the flag and returns,
        // closing the listener.
        let wake = SocketAddr::from((Ipv4Addr::LOCALHOST, self.address.port()));
        if TcpStream::connect_timeout(&wake, Duration::from_millis(500)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

/// Reads one request head and answers it.
fn serve(mut stream: TcpStream, handler: &Handler) -> io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.lines().next().unwrap_or("").split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return write_reply(
            &mut stream,
            &Reply {
                status: 400,
                content_type: "text/plain; charset=utf-8",
                body: b"Bad request".to_vec(),
            },
        );
    };
    let reply = handler(method, target);
    write_reply(&mut stream, &reply)
}

fn write_reply(stream: &mut TcpStream, reply: &Reply) -> io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "",
    };
    let mut answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&reply.body);
    stream.write_all(&answer)?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod examples {
    #[test]
    fn health_example() {
        use crate::trigger::clock::ManualClock;
        use crate::trigger::liveness::Health;
        use std::sync::Arc;
        use std::time::Duration;

        let clock = Arc::new(ManualClock::starting_now());
        let health = Health::new(clock.clone(), 60, 0);
        assert!(health.is_alive(None));
        clock.advance(Duration::from_secs(60));
        assert!(!health.is_alive(None), "no event for 60 s");
        health.event_sent();
        assert!(health.is_alive(None));
    }

    #[test]
    fn body_example() {
        use crate::trigger::clock::{ManualClock, at_micros};
        use crate::trigger::liveness::Health;
        use std::sync::Arc;

        let health = Health::new(
            Arc::new(ManualClock::new(at_micros(1_767_323_045_000_000))),
            0,
            30,
        );
        assert_eq!(
            String::from_utf8(health.body()).unwrap(),
            r#"{"last_events_time": "2026-01-02T03:04:05", "last_heartbeat": "2026-01-02T03:04:05", "seconds_without_events_threshold": 0, "last_heartbeat_threshold": 30, "error_count": 0}"#
        );
    }
}
