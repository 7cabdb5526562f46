//! The Sentry sender: a bounded queue of envelopes and the one thread that
//! posts them ([protocol §8](crate::protocol#8-sentry)).
//!
//! - [`Sender::send`] never blocks: when [`MAX_QUEUED`] envelopes already
//!   wait (Sentry is slow or unreachable), the new one is dropped and
//!   counted.
//! - Each envelope is posted once (as the Python SDK's transport does), with
//!   an overall deadline of [`SEND_DEADLINE`]; a failure drops it, counted.
//! - [`Sender::close_by`] stops taking envelopes, waits for the queue to
//!   empty until a deadline (never later), then drops what is left and says
//!   how many were dropped in a debug log. The thread ends after its
//!   current request; the process does not wait for it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::wire::sentry::dsn::Dsn;

/// Envelopes waiting to be sent, at most (the Python SDK's queue size).
pub(crate) const MAX_QUEUED: usize = 100;
/// The deadline of one post.
pub(crate) const SEND_DEADLINE: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
struct Queue {
    envelopes: VecDeque<Vec<u8>>,
    /// An envelope is being posted.
    busy: bool,
    closed: bool,
    /// Envelopes dropped: queue full, post failed, closed before sent.
    dropped: u64,
    /// Envelopes Sentry accepted.
    sent: u64,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
    url: String,
    auth: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Posts envelopes to one DSN's endpoint from a background thread.
#[derive(Debug)]
pub(crate) struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    /// Starts the sender thread for `dsn`.
    pub(crate) fn start(dsn: &Dsn) -> std::io::Result<Sender> {
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            changed: Condvar::new(),
            url: dsn.envelope_url(),
            auth: dsn.auth_header(),
        });
        std::thread::Builder::new()
            .name("sekoia-sentry".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&shared)
            })?;
        Ok(Sender { shared })
    }

    /// Queues an envelope; drops it (counted) when the queue is full or the
    /// sender is closed. Never blocks on the network.
    pub(crate) fn send(&self, envelope: Vec<u8>) {
        let mut queue = self.shared.lock();
        if queue.closed || queue.envelopes.len() >= MAX_QUEUED {
            queue.dropped += 1;
            return;
        }
        queue.envelopes.push_back(envelope);
        self.shared.changed.notify_all();
    }

    /// Waits until every queued envelope was posted, or `deadline`.
    pub(crate) fn flush_by(&self, deadline: Instant) {
        let mut queue = self.shared.lock();
        while !queue.envelopes.is_empty() || queue.busy {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return;
            }
            queue = self
                .shared
                .changed
                .wait_timeout(queue, remaining)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops taking envelopes, sends what is queued until `deadline`, drops
    /// the rest; logs (debug) how many envelopes were dropped in all.
    pub(crate) fn close_by(&self, deadline: Instant) {
        self.flush_by(deadline);
        let mut queue = self.shared.lock();
        queue.closed = true;
        let left = queue.envelopes.len() as u64 + u64::from(queue.busy);
        queue.dropped += queue.envelopes.len() as u64;
        queue.envelopes.clear();
        self.shared.changed.notify_all();
        if queue.dropped > 0 || left > 0 {
            log::debug!(
                "sentry: {} event(s) sent, {} dropped (queue full, Sentry unreachable or slow, or the process ending){}",
                queue.sent,
                queue.dropped,
                if queue.busy {
                    "; one still being sent is abandoned"
                } else {
                    ""
                }
            );
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut queue = self.shared.lock();
        queue.closed = true;
        self.shared.changed.notify_all();
    }
}

fn run(shared: &Shared) {
    loop {
        let envelope = {
            let mut queue = shared.lock();
            loop {
                if let Some(envelope) = queue.envelopes.pop_front() {
                    queue.busy = true;
                    break envelope;
                }
                if queue.closed {
                    return;
                }
                queue = shared
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let accepted = post(shared, &envelope);
        let mut queue = shared.lock();
        queue.busy = false;
        if accepted {
            queue.sent += 1;
        } else {
            queue.dropped += 1;
        }
        shared.changed.notify_all();
    }
}

/// Posts one envelope: whether Sentry accepted it.
fn post(shared: &Shared, envelope: &[u8]) -> bool {
    let sent = crate::wire::transport::agent(SEND_DEADLINE)
        .post(&shared.url)
        .header("Content-Type", "application/x-sentry-envelope")
        .header("X-Sentry-Auth", &shared.auth)
        .send(envelope);
    match sent {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            log::debug!(
                "sentry: {} answered HTTP {}: the event is dropped",
                shared.url,
                response.status().as_u16()
            );
            false
        }
        Err(error) => {
            log::debug!(
                "sentry: cannot post to {}: {error}; the event is dropped",
                shared.url
            );
            false
        }
    }
}
