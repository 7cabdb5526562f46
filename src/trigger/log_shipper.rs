//! [`LogShipper`]: a trigger's logs on their way to `url_logs` ([protocol §4](crate::protocol#4-triggers)).
//!
//! - Records are queued and sent by a background flusher thread, in
//!   batches of at most [`MAX_BATCH`]: at once when the batch is full or the
//!   record is an `error` or `critical`, and at least every
//!   [`FLUSH_INTERVAL`] otherwise. The trigger never waits for the platform,
//!   and its logs leave on time even while it is blocked in its own I/O.
//! - The same (level, message) is not queued again within [`RATE_LIMIT`]
//!   (`critical` is never limited).
//! - Only one `critical` is ever queued; later ones become `error`.
//! - A failed send puts the batch back at the head of the queue; the queue
//!   holds at most [`MAX_QUEUED`] records (the oldest non-critical ones are
//!   dropped, and counted, beyond).
//! - [`shutdown`](LogShipper::shutdown) (or dropping) sends what is queued
//!   before returning, retrying for at most [`SHUTDOWN_GRACE`];
//!   [`shutdown_by`](LogShipper::shutdown_by) returns by a deadline whatever
//!   the platform does (a stalled endpoint, thousands of queued records),
//!   writing the records it could not send to stderr: never into silence.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::trigger::clock::{self, Clock};
use crate::trigger::stop_signal::StopSignal;
use crate::wire::http::{Method, PlatformClient, Request};
use crate::wire::logging::Level;
use crate::wire::redact;
use crate::wire::timestamp::Timestamp;

/// Records per request, at most; a full batch is sent at once.
pub const MAX_BATCH: usize = 50;
/// Queued records are sent at least this often.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// The same (level, message) is not queued again within this time.
pub const RATE_LIMIT: Duration = Duration::from_secs(60);
/// Records remembered for the rate limit, as the Python SDK's cache.
pub const RATE_LIMIT_ENTRIES: usize = 4096;
/// Records the queue holds while the platform cannot take them.
pub const MAX_QUEUED: usize = 10_000;
/// How long the final flush keeps retrying before the process exits.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

// One queued record.
use crate::wire::bodies::LogEntry as Entry;

#[derive(Debug)]
struct State {
    queue: VecDeque<Entry>,
    /// `"<level>:<message>"` → when it may be queued again.
    recent: HashMap<String, Timestamp>,
    critical_sent: bool,
    /// Send without waiting for the interval.
    urgent: bool,
    /// When the last pass of the flusher ended (clock time).
    last_flush: Timestamp,
    /// Passes of the flusher completed.
    passes: u64,
    /// Records taken from the queue and not yet sent or put back.
    in_flight: Vec<Entry>,
    /// The flusher thread ended (its final flush done).
    finished: bool,
    /// When the final flush must give up.
    final_deadline: Option<Instant>,
    /// The records left were written to stderr: nothing more is sent.
    abandoned: bool,
    closing: bool,
}

/// Counters of a [`LogShipper`], for the metrics.
#[derive(Debug, Default)]
pub struct LogCounters {
    sent: AtomicU64,
    rate_limited: AtomicU64,
    overflowed: AtomicU64,
    failed_requests: AtomicU64,
}

impl LogCounters {
    /// Records the platform accepted.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Records not queued: the same (level, message) was queued less than
    /// [`RATE_LIMIT`] ago.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Records dropped because the queue was full.
    pub fn overflowed(&self) -> u64 {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Log requests that failed (after the client's retries).
    pub fn failed_requests(&self) -> u64 {
        self.failed_requests.load(Ordering::Relaxed)
    }
}

struct Inner {
    state: Mutex<State>,
    /// Wakes the flusher; also signals the end of a pass to `flush` callers.
    changed: Condvar,
    clock: Arc<dyn Clock>,
    client: PlatformClient,
    url: String,
    counters: LogCounters,
    /// Raised by `shutdown`: cuts the client's backoff waits short.
    closing: Arc<StopSignal>,
}

/// Queues a trigger's logs and ships them from a background thread.
pub struct LogShipper {
    inner: Arc<Inner>,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for LogShipper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogShipper")
            .field("url", &self.inner.url)
            .finish_non_exhaustive()
    }
}

impl LogShipper {
    /// Starts the flusher thread, posting to `url` with `client` (its
    /// retries apply to each batch; its backoff waits are cut short by
    /// [`shutdown`](Self::shutdown)).
    pub fn start(
        client: PlatformClient,
        url: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> io::Result<LogShipper> {
        let closing = Arc::new(StopSignal::new());
        let client = client.with_sleeper({
            let closing = Arc::clone(&closing);
            move |wait| closing.sleep(wait)
        });
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                recent: HashMap::new(),
                critical_sent: false,
                urgent: false,
                last_flush: clock.now(),
                passes: 0,
                in_flight: Vec::new(),
                finished: false,
                final_deadline: None,
                abandoned: false,
                closing: false,
            }),
            changed: Condvar::new(),
            clock,
            client,
            url: url.into(),
            counters: LogCounters::default(),
            closing,
        });
        let flusher = std::thread::Builder::new()
            .name("sekoia-log-flusher".into())
            .spawn({
                let inner = Arc::clone(&inner);
                move || inner.run_flusher()
            })?;
        Ok(LogShipper {
            inner,
            flusher: Mutex::new(Some(flusher)),
        })
    }

    /// Queues a record ([protocol §4](crate::protocol#4-triggers) rules: downgrade of a second
    /// `critical`, rate limit, immediate send of `error` and `critical`).
    /// Secret values are scrubbed from the message. Never blocks on the
    /// network.
    pub fn log(&self, level: Level, message: &str) {
        self.queue(level, message);
    }

    /// Queues a record as [`log`](Self::log) does and, when the rate limit
    /// admitted it, reports it to Sentry at the level it was queued with
    /// (`warning` and above: [protocol §8](crate::protocol#8-sentry)).
    pub(crate) fn log_reported(&self, level: Level, message: &str) {
        if let Some(level) = self.queue(level, message) {
            crate::runtime::sentry::capture_log(level, message);
        }
    }

    /// Queues a record; the level it was queued with, `None` when the rate
    /// limit left it out.
    pub(crate) fn queue(&self, level: Level, message: &str) -> Option<Level> {
        let message = redact::scrub(message);
        let inner = &*self.inner;
        let now = inner.clock.now();
        let mut state = inner.lock();
        let level = if level == Level::Critical && state.critical_sent {
            Level::Error
        } else {
            level
        };
        if level != Level::Critical && !state.admit(level, &message, now) {
            inner.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if state.queue.len() >= MAX_QUEUED {
            let oldest = state
                .queue
                .iter()
                .position(|entry| entry.level != Level::Critical)
                .unwrap_or(0);
            state.queue.remove(oldest);
            inner.counters.overflowed.fetch_add(1, Ordering::Relaxed);
        }
        let was_empty = state.queue.is_empty();
        state.queue.push_back(Entry {
            date: now.to_iso8601(),
            level,
            message: message.into_owned(),
        });
        if level == Level::Critical {
            state.critical_sent = true;
        }
        let urgent =
            matches!(level, Level::Error | Level::Critical) || state.queue.len() >= MAX_BATCH;
        if urgent {
            state.urgent = true;
        }
        if urgent || was_empty {
            inner.changed.notify_all();
        }
        Some(level)
    }

    /// Whether a `critical` record was ever queued (later ones are
    /// downgraded to `error`).
    pub fn critical_sent(&self) -> bool {
        self.inner.lock().critical_sent
    }

    /// Records waiting to be sent.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        let state = self.inner.lock();
        state.queue.len() + state.in_flight.len()
    }

    /// The counters, for the metrics.
    pub fn counters(&self) -> &LogCounters {
        &self.inner.counters
    }

    /// Asks the flusher to send what is queued now, and waits until it did
    /// (or failed to: the records are then back in the queue), at most a
    /// minute.
    #[cfg(test)]
    pub fn flush(&self) {
        let inner = &*self.inner;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut state = inner.lock();
        let start = state.passes;
        state.urgent = true;
        inner.changed.notify_all();
        // A pass that had already started may miss the latest records: wait
        // for the queue to empty or for a pass that started after this call.
        while !(state.queue.is_empty() && state.in_flight.is_empty())
            && state.passes < start + 2
            && !state.closing
        {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return;
            }
            state = inner
                .changed
                .wait_timeout(state, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sends what is queued (retrying for at most [`SHUTDOWN_GRACE`]) and
    /// stops the flusher. Records logged afterwards are dropped.
    pub fn shutdown(&self) {
        self.shutdown_by(Instant::now() + SHUTDOWN_GRACE);
    }

    /// Sends what is queued and stops the flusher, returning by `deadline`
    /// whatever the platform does: the records not sent by then (a stalled
    /// or slow logs endpoint) are written to stderr, and the flusher is left
    /// to end on its own. Records logged afterwards are dropped.
    pub fn shutdown_by(&self, deadline: Instant) {
        {
            let mut state = self.inner.lock();
            state.closing = true;
            if state.final_deadline.is_none() {
                state.final_deadline = Some(deadline);
            }
            self.inner.changed.notify_all();
        }
        self.inner.closing.stop();
        let mut state = self.inner.lock();
        while !state.finished && !state.abandoned {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break;
            }
            state = self
                .inner
                .changed
                .wait_timeout(state, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if state.finished {
            drop(state);
            let flusher = self
                .flusher
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(flusher) = flusher {
                let _ = flusher.join();
            }
        } else {
            drop(state);
        }
        // What the platform did not take (a failed final flush, or one still
        // running at the deadline) goes to stderr, not into silence.
        self.abandon_to_stderr();
    }

    /// Takes every record not sent yet (queued or in a request still
    /// running) and writes them to stderr; nothing more is sent. Used when
    /// the process exits before the platform took them.
    pub(crate) fn abandon_to_stderr(&self) {
        let left: Vec<Entry> = {
            let mut state = self.inner.lock();
            if state.abandoned {
                return;
            }
            state.abandoned = true;
            state.closing = true;
            let mut left = std::mem::take(&mut state.in_flight);
            left.extend(state.queue.drain(..));
            self.inner.changed.notify_all();
            left
        };
        if left.is_empty() {
            return;
        }
        use std::fmt::Write as _;
        let mut text = format!(
            "{} log record(s) could not be sent to the platform before exit:\n",
            left.len()
        );
        for entry in &left {
            let _ = writeln!(text, "{}Z {}: {}", entry.date, entry.level, entry.message);
        }
        if cfg!(debug_assertions) {
            // Debug builds (tests, `cargo run`) write through `eprint!`, as
            // the log bridge does: captured by the test harness, so a green
            // run stays quiet.
            eprint!("{text}");
        } else {
            // Release builds write straight to stderr: `eprint!` would panic
            // on a broken stderr.
            use std::io::Write as _;
            let mut stderr = io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let _ = stderr.flush();
        }
    }
}

impl Drop for LogShipper {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl State {
    /// The rate limit: whether `(level, message)` may be queued now; if so
    /// it is remembered until `now + RATE_LIMIT`.
    fn admit(&mut self, level: Level, message: &str, now: Timestamp) -> bool {
        let key = format!("{level}:{message}");
        if let Some(until) = self.recent.get(&key)
            && *until > now
        {
            return false;
        }
        if self.recent.len() >= RATE_LIMIT_ENTRIES && !self.recent.contains_key(&key) {
            self.recent.retain(|_, until| *until > now);
            if self.recent.len() >= RATE_LIMIT_ENTRIES
                && let Some(soonest) = self
                    .recent
                    .iter()
                    .min_by_key(|(_, until)| **until)
                    .map(|(key, _)| key.clone())
            {
                self.recent.remove(&soonest);
            }
        }
        self.recent.insert(key, clock::add(now, RATE_LIMIT));
        true
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run_flusher(&self) {
        let mut state = self.lock();
        while !state.closing {
            let now = self.clock.now();
            let next = clock::add(state.last_flush, FLUSH_INTERVAL);
            let due = !state.queue.is_empty() && (state.urgent || now >= next);
            if due {
                // A pass sends what is queued now; records logged meanwhile
                // wait for the next one (at once if they are urgent).
                state.urgent = false;
                state.last_flush = now;
                let snapshot = state.queue.len();
                drop(state);
                self.send_queued(&self.client, snapshot);
                state = self.lock();
                state.passes += 1;
                self.changed.notify_all();
                continue;
            }
            let wait = if state.queue.is_empty() {
                // Nothing to send: sleep until a record arrives.
                Duration::from_secs(3600)
            } else {
                self.clock.recheck_after(clock::elapsed(now, next))
            };
            state = self
                .changed
                .wait_timeout(state, wait.max(Duration::from_micros(100)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let deadline = state
            .final_deadline
            .unwrap_or_else(|| Instant::now() + SHUTDOWN_GRACE);
        drop(state);
        // The final flush: a fresh deadline-bound client, since `closing`
        // now cuts every wait of the usual one.
        let client = self.client.clone().with_sleeper(move |wait| {
            let now = Instant::now();
            if now + wait > deadline {
                return false;
            }
            std::thread::sleep(wait);
            true
        });
        self.send_queued(&client, usize::MAX);
        let mut state = self.lock();
        state.passes += 1;
        state.finished = true;
        self.changed.notify_all();
    }

    /// Sends up to `limit` queued records in batches: `true` once they are
    /// sent (or the queue is empty), `false` when a send failed (the batch
    /// put back at the head).
    fn send_queued(&self, client: &PlatformClient, limit: usize) -> bool {
        let mut remaining = limit;
        loop {
            let batch: Vec<Entry> = {
                let mut state = self.lock();
                let count = state.queue.len().min(MAX_BATCH).min(remaining);
                if count == 0 || state.abandoned {
                    return true;
                }
                let batch: Vec<Entry> = state.queue.drain(..count).collect();
                state.in_flight = batch.clone();
                batch
            };
            let body = crate::wire::bodies::logs_body(&batch.iter().collect::<Vec<_>>());
            let result = match body {
                Ok(body) => client
                    .send(&Request::new(Method::Post, &self.url).body(&body))
                    .map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            };
            let mut state = self.lock();
            if state.abandoned {
                // Written to stderr meanwhile: the process is exiting.
                return true;
            }
            state.in_flight.clear();
            match result {
                Ok(_) => {
                    remaining -= batch.len();
                    self.counters
                        .sent
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Err(error) => {
                    self.counters
                        .failed_requests
                        .fetch_add(1, Ordering::Relaxed);
                    crate::wire::logging::echo_to_stderr(
                        Level::Warning,
                        &format!(
                            "cannot send {} log(s) to the platform: {error}",
                            batch.len()
                        ),
                    );
                    for entry in batch.into_iter().rev() {
                        state.queue.push_front(entry);
                    }
                    while state.queue.len() > MAX_QUEUED {
                        state.queue.pop_back();
                        self.counters.overflowed.fetch_add(1, Ordering::Relaxed);
                    }
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn shutdown_by_returns_by_the_deadline() -> Result<(), std::io::Error> {
        use crate::config::secret::Secret;
        use crate::trigger::clock::SystemClock;
        use crate::trigger::log_shipper::LogShipper;
        use crate::wire::http::PlatformClient;
        use crate::wire::logging::Level;
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        // Nothing listens there: the record cannot be sent.
        let client = PlatformClient::new(Secret::new("t".to_string()));
        let shipper = LogShipper::start(client, "http://127.0.0.1:9/logs", Arc::new(SystemClock))?;
        shipper.log(Level::Info, "written to stderr at the deadline");
        let started = Instant::now();
        shipper.shutdown_by(started + Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(shipper.pending(), 0, "written to stderr, not kept");
        Ok(())
    }

    #[test]
    fn log_shipper_example() -> Result<(), std::io::Error> {
        use crate::testing::LocalPlatform;
        use crate::trigger::clock::SystemClock;
        use crate::trigger::log_shipper::LogShipper;
        use crate::{Level, Secret, wire::http::PlatformClient};
        use std::sync::Arc;

        let platform = LocalPlatform::start()?;
        let client = PlatformClient::new(Secret::new(platform.token().to_string()));
        let shipper = LogShipper::start(client, platform.logs_url(), Arc::new(SystemClock))?;
        shipper.log(Level::Info, "started");
        shipper.log(Level::Info, "started"); // rate-limited
        shipper.log(Level::Error, "lost the feed"); // sent at once, with the info
        shipper.flush();
        let body = platform.requests()[0].json().unwrap();
        assert_eq!(body["logs"].as_array().unwrap().len(), 2);
        assert_eq!(body["logs"][1]["level"], "error");
        shipper.shutdown();
        Ok(())
    }
}
