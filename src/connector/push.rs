//! `push_events`: events from an iterator, chunked as they come, up to
//! [`MAX_IN_FLIGHT`] chunks sent in parallel by the connector's sender
//! threads, every outcome recorded (docs/protocol.md §5, *Retries*:
//! no batch lost without being reported).
//!
//! Memory: at most the chunks in flight plus the one being filled (each at
//! most 10 MiB), whatever the number of events; the caller blocks while
//! [`MAX_IN_FLIGHT`] chunks are out.
//!
//! Stop: once the connector stops, no new event is taken, waits between
//! attempts end at once, and chunks whose request is under way get
//! `grace` to be answered; what is not acknowledged then is reported as
//! stopped (never as delivered).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::connector::acknowledgement::{
    Acknowledgement, ChunkIds, ChunkRecord, ChunkStatus, PushError, PushReport, Refusal,
};
use crate::connector::chunk::{Body, Chunk, ChunkBuilder, Oversize, check_limits};
use crate::connector::event::{EventWriter, IntakeEvent};
use crate::connector::sender::{IntakeClient, Sent};

/// Chunks of one push sent at once, as the Python SDK's 4 sender threads.
pub const MAX_IN_FLIGHT: usize = 4;
/// How often a blocked caller looks at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Called with the number of events of each acknowledged chunk (liveness,
/// metrics).
pub(crate) type OnAcknowledged = Arc<dyn Fn(u64) + Send + Sync>;

/// A chunk's sequence number in its push, and how its sending ended.
type Settled = (usize, Sent);

struct Job {
    sequence: usize,
    body: Body,
    events: u32,
    keep_ids: bool,
    results: Sender<Settled>,
}

/// The intake side of a connector: its client and sender threads.
pub(crate) struct Pusher {
    client: Arc<IntakeClient>,
    intake_key: String,
    grace: Duration,
    on_acknowledged: OnAcknowledged,
    pool: OnceLock<Mutex<Option<Sender<Job>>>>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("url", &self.client.url)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    pub(crate) fn new(
        client: IntakeClient,
        intake_key: &str,
        grace: Duration,
        on_acknowledged: OnAcknowledged,
    ) -> Self {
        Pusher {
            client: Arc::new(client),
            intake_key: intake_key.to_string(),
            grace,
            on_acknowledged,
            pool: OnceLock::new(),
        }
    }

    /// The sender threads, started on first need.
    fn jobs(&self) -> Option<Sender<Job>> {
        let pool = self.pool.get_or_init(|| {
            let (sender, receiver) = mpsc::channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            let mut started = 0;
            for number in 0..MAX_IN_FLIGHT {
                let receiver = Arc::clone(&receiver);
                let client = Arc::clone(&self.client);
                let spawned = std::thread::Builder::new()
                    .name(format!("sekoia-intake-{number}"))
                    .spawn(move || work(&client, &receiver));
                if spawned.is_ok() {
                    started += 1;
                }
            }
            Mutex::new((started > 0).then_some(sender))
        });
        pool.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Pushes the events; see [`ConnectorContext::push_events`](crate::ConnectorContext::push_events).
    pub(crate) fn push<I>(&self, events: I, keep_ids: bool) -> Result<Acknowledgement, PushError>
    where
        I: IntoIterator,
        I::Item: IntakeEvent,
    {
        let mut run = Run {
            pusher: self,
            report: PushReport {
                keep_ids,
                ..PushReport::default()
            },
            pending: Vec::new(),
            in_flight: 0,
            results: mpsc::channel(),
            stop_seen: None,
        };
        let mut builder = ChunkBuilder::new(&self.intake_key);
        let mut events = events.into_iter();
        loop {
            if self.client.stop.is_stopped() {
                run.report.stopped_early = true;
                break;
            }
            let Some(event) = events.next() else {
                break;
            };
            let index = run.report.taken;
            run.report.taken += 1;
            // Written straight into the chunk being filled.
            let buffer = builder.buffer();
            let start = buffer.len();
            let mut writer = EventWriter::new(buffer);
            let written = event.write_event(&mut writer);
            let lengths = writer.lengths();
            if let Err(error) = written {
                builder.discard(start);
                run.report.refused.push((
                    index,
                    Refusal::Unserializable {
                        message: error.message().to_owned(),
                    },
                ));
                continue;
            }
            if let Err(Oversize { chars, bytes }) = check_limits(lengths) {
                builder.discard(start);
                run.report
                    .refused
                    .push((index, Refusal::TooLarge { chars, bytes }));
                continue;
            }
            if let Some(closed) = builder.commit(index, start, lengths) {
                run.dispatch(closed);
            }
        }
        drop(events);
        let last = builder.close();
        if let Some(last) = last {
            if run.report.chunks.is_empty() && !self.client.stop.is_stopped() {
                // A push of one chunk is sent from the caller's thread.
                run.send_here(last);
            } else {
                run.dispatch(last);
            }
        }
        run.finish();
        let refused = run.report.refused.len();
        if refused > 0 {
            let too_large = run
                .report
                .refused
                .iter()
                .filter(|(_, refusal)| matches!(refusal, Refusal::TooLarge { .. }))
                .count();
            if too_large > 0 {
                log::info!("{too_large} too long events were discarded (length > 250kb)");
            }
        }
        let report = run.report;
        if report.all_acknowledged() {
            Ok(Acknowledgement::new(report))
        } else {
            Err(PushError::new(report))
        }
    }
}

fn work(client: &IntakeClient, jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let receiver = jobs.lock().unwrap_or_else(PoisonError::into_inner);
            receiver.recv()
        };
        let Ok(job) = job else {
            return;
        };
        // The body is freed as soon as the intake answered 2xx (before its
        // ids are read), else after the last attempt.
        let sent = client.send(job.body, job.events, job.keep_ids);
        let _ = job.results.send((job.sequence, sent));
    }
}

/// One call of `push`.
struct Run<'a> {
    pusher: &'a Pusher,
    report: PushReport,
    /// Chunks sent, their records waiting for a result (by sequence).
    pending: Vec<Option<usize>>,
    in_flight: usize,
    results: (Sender<Settled>, Receiver<Settled>),
    stop_seen: Option<Instant>,
}

impl Run<'_> {
    fn record(&mut self, chunk: &Chunk, status: ChunkStatus) -> usize {
        self.report.chunks.push(ChunkRecord {
            first: chunk.first,
            last: chunk.last,
            events: chunk.events,
            status,
            ids: ChunkIds::default(),
        });
        self.report.chunks.len() - 1
    }

    fn send_here(&mut self, chunk: Chunk) {
        let at = self.record(&chunk, ChunkStatus::Stopped);
        let sent = self
            .pusher
            .client
            .send(chunk.body, chunk.events, self.report.keep_ids);
        self.settle(at, sent);
    }

    /// Records how a chunk's sending ended, on the caller's thread (whose
    /// `log` records reach the platform): a chunk refused or given up is
    /// logged as an error, an acknowledgement whose answer did not give
    /// one id per event as a warning, whether or not the caller looks at
    /// the push's result.
    fn settle(&mut self, at: usize, sent: Sent) {
        let record = &mut self.report.chunks[at];
        let (events, url) = (record.events, &self.pusher.client.url);
        match &sent.status {
            ChunkStatus::Acknowledged => {
                (self.pusher.on_acknowledged)(u64::from(events));
                if let Some(problem) = &sent.answer_problem {
                    log::warn!(
                        "the intake acknowledged {events} events (POST {url}) with an answer {problem}: they are on the intake, their ids are not known"
                    );
                }
            }
            ChunkStatus::Refused { status, message } => log::error!(
                "Failed to forward {events} events: POST {url} answered HTTP {status}{} (not retried)",
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            // The Python SDK's final-failure message (docs/protocol.md §5, *Retries*), with why.
            ChunkStatus::GaveUp { attempts, last } => log::error!(
                "Failed to forward {events} events: POST {url} failed until the retry deadline ({attempts} attempts), the last with {last}"
            ),
            ChunkStatus::Stopped => {}
        }
        record.status = sent.status;
        record.ids = sent.ids;
    }

    fn dispatch(&mut self, chunk: Chunk) {
        while self.in_flight >= MAX_IN_FLIGHT {
            if !self.wait_one() {
                break;
            }
        }
        let jobs = if self.pusher.client.stop.is_stopped() || self.in_flight >= MAX_IN_FLIGHT {
            None
        } else {
            self.pusher.jobs()
        };
        let at = self.record(&chunk, ChunkStatus::Stopped);
        let Some(jobs) = jobs else {
            if self.pusher.client.stop.is_stopped() {
                return;
            }
            // No sender thread could start: send from here.
            let sent = self
                .pusher
                .client
                .send(chunk.body, chunk.events, self.report.keep_ids);
            self.settle(at, sent);
            return;
        };
        let sequence = self.pending.len();
        self.pending.push(Some(at));
        let job = Job {
            sequence,
            body: chunk.body,
            events: chunk.events,
            keep_ids: self.report.keep_ids,
            results: self.results.0.clone(),
        };
        if jobs.send(job).is_ok() {
            self.in_flight += 1;
        } else {
            self.pending[sequence] = None;
        }
    }

    /// Waits for one result; false when the stop grace ran out.
    fn wait_one(&mut self) -> bool {
        loop {
            if self.stop_seen.is_none() && self.pusher.client.stop.is_stopped() {
                self.stop_seen = Some(Instant::now());
            }
            let timeout = match self.stop_seen {
                Some(at) => {
                    let left = self.pusher.grace.saturating_sub(at.elapsed());
                    if left.is_zero() {
                        return false;
                    }
                    left.min(POLL)
                }
                None => POLL,
            };
            match self.results.1.recv_timeout(timeout) {
                Ok((sequence, sent)) => {
                    self.in_flight -= 1;
                    if let Some(at) = self.pending.get_mut(sequence).and_then(Option::take) {
                        self.settle(at, sent);
                    }
                    return true;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Waits for every chunk out (or the end of the stop grace); those not
    /// answered stay recorded as stopped.
    fn finish(&mut self) {
        while self.in_flight > 0 {
            if !self.wait_one() {
                break;
            }
        }
    }
}
