//! A trigger's liveness ([protocol §4](crate::protocol#4-triggers)): the [`Health`] it keeps (last event,
//! last heartbeat, consecutive errors) and the HTTP endpoint on
//! `liveness_port` that the orchestrator probes.
//!
//! `GET /health` answers 200 when the trigger is alive, 500 when not, with
//! `{"last_events_time", "last_heartbeat", "seconds_without_events_threshold",
//! "last_heartbeat_threshold", "error_count"}`; any other path answers 404
//! `{"status_code": 404, "reason": "Endpoint doesn't exist"}`.
//!
//! The endpoint (and the metrics one) is a small server on the crate's one
//! HTTP/1.1 codec (`wire::server`, shared with the local platform): one
//! thread, one short connection at a time, closed at once when dropped.

use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::wire::bodies::HealthBody;

use crate::trigger::clock::{self, Clock};
use crate::trigger::log_shipper::LogShipper;
use crate::wire::logging::Level;
use crate::wire::server::{AcceptLoop, HttpConnection, Limits, Response};
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
    seconds_without_events: Option<Duration>,
    last_heartbeat_threshold: Option<Duration>,
}

impl Health {
    /// A trigger starting now (on `clock`), with its thresholds (`None`:
    /// never unhealthy for that reason).
    pub fn new(
        clock: Arc<dyn Clock>,
        seconds_without_events: Option<Duration>,
        last_heartbeat_threshold: Option<Duration>,
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
        if self
            .seconds_without_events
            .is_some_and(|threshold| since_event >= threshold)
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
        if self
            .last_heartbeat_threshold
            .is_some_and(|threshold| since_heartbeat >= threshold)
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
            seconds_without_events_threshold: wire_seconds(self.seconds_without_events),
            last_heartbeat_threshold: wire_seconds(self.last_heartbeat_threshold),
            error_count: self.error_count(),
        })
    }
}

/// A threshold as the Python SDK reports it: whole seconds, 0 for none (a
/// fraction of a second counts as one more).
fn wire_seconds(threshold: Option<Duration>) -> u64 {
    threshold.map_or(0, |threshold| {
        threshold.as_secs() + u64::from(threshold.subsec_nanos() > 0)
    })
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

const TEXT: &str = "text/plain; charset=utf-8";

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
            content_type: TEXT,
            body: format!("Unsupported method ('{method}')").into_bytes(),
        }
    }
}

/// The monitoring endpoints' limits on the shared codec: probes send short
/// heads and no body, and each gets a second to send it and read the answer.
const LIMITS: Limits = Limits {
    max_head: 8 * 1024,
    max_body: 8 * 1024,
    read_buffer: 1024,
    timeout: Some(Duration::from_secs(1)),
    head_too_large: "Request head larger than 8 KiB",
    body_too_large: "Request body larger than 8 KiB",
};

type Handler = Box<dyn Fn(&str, &str) -> Reply + Send>;

/// A minimal HTTP/1.1 server for probes, on the crate's one server codec
/// (`wire::server`): one thread, one connection at a time, `Connection:
/// close`. Dropping it closes the listener at once (no polling interval to
/// wait out) and joins the thread.
pub(crate) struct MonitoringServer {
    port: u16,
    stopping: Arc<AtomicBool>,
    accept: AcceptLoop,
}

impl std::fmt::Debug for MonitoringServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringServer")
            .field("port", &self.port)
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
        let port = listener.local_addr()?.port();
        let stopping = Arc::new(AtomicBool::new(false));
        let handler: Handler = Box::new(handler);
        let accept = AcceptLoop::spawn(
            name,
            listener,
            {
                let stopping = Arc::clone(&stopping);
                move || stopping.load(Ordering::SeqCst)
            },
            move |stream| {
                let _ = serve(stream, &handler);
            },
        )?;
        Ok(MonitoringServer {
            port,
            stopping,
            accept,
        })
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MonitoringServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.accept.stop(Duration::from_millis(500));
    }
}

/// Reads one request and answers it, closing the connection.
fn serve(stream: TcpStream, handler: &Handler) -> io::Result<()> {
    let mut http = HttpConnection::new(stream, LIMITS)?;
    let reply = match http.read_request() {
        Ok(Some((head, _body))) => {
            // The target as sent, the query included (as before the shared
            // codec): `/health?x` is not `/health`.
            let target = match &head.query {
                Some(query) => format!("{}?{query}", head.path),
                None => head.path.clone(),
            };
            handler(&head.method, &target)
        }
        Ok(None) => return Ok(()),
        Err(refused) => {
            let (status, message) = http.refusal(refused.error)?;
            let reply = Reply {
                status,
                content_type: TEXT,
                body: message.as_bytes().to_vec(),
            };
            write_reply(&mut http, &reply)?;
            http.linger_close();
            return Ok(());
        }
    };
    write_reply(&mut http, &reply)
}

fn write_reply(http: &mut HttpConnection, reply: &Reply) -> io::Result<()> {
    http.write_response(&Response {
        status: reply.status,
        content_type: reply.content_type,
        body: &reply.body,
        keep_alive: false,
        http10: false,
        head_only: false,
        headers: &[],
    })
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
        let health = Health::new(clock.clone(), Some(Duration::from_secs(60)), None);
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
        use std::time::Duration;

        let health = Health::new(
            Arc::new(ManualClock::new(at_micros(1_767_323_045_000_000))),
            None,
            Some(Duration::from_millis(29_001)),
        );
        assert_eq!(
            String::from_utf8(health.body()).unwrap(),
            r#"{"last_events_time": "2026-01-02T03:04:05", "last_heartbeat": "2026-01-02T03:04:05", "seconds_without_events_threshold": 0, "last_heartbeat_threshold": 30, "error_count": 0}"#
        );
    }
}
