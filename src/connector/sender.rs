//! One chunk to the intake: `POST <intake>/batch` and its retry loop
//! (PROTOCOL-connectors §2.3, §2.5, with the flaws F2 and F10 fixed).
//!
//! - Headers: `User-Agent: sekoiaio-connector-<intake_key>`,
//!   `Content-Type: application/json`; no `Authorization` (the intake key in
//!   the body authenticates). Through the process's one HTTP agent
//!   (`wire::transport::agent`): 30 s per attempt,
//!   connections reused.
//! - Retried: network errors, 408, 429 and 5xx; a 429 or 503 waits what
//!   its `Retry-After` asks, in seconds or as an HTTP date (the one reader,
//!   `wire::retry_after`), others 1, 2, 4, 8, then 10 s (times the module's
//!   backoff unit), until an attempt fails an hour (the deadline) after
//!   the first one started; no wait passes the deadline, and every wait
//!   ends at once when the connector stops.
//! - Any other 4xx (400, 401, 403, 404, 413...) fails the chunk at once:
//!   sending the same bytes again cannot succeed.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::connector::acknowledgement::{ChunkIds, ChunkStatus, IntakeId};
use crate::trigger::stop_signal::StopSignal;
use crate::wire::retry_after::parse_retry_after;

/// The Python SDK's retry deadline.
pub const RETRY_DEADLINE: Duration = Duration::from_secs(3600);
/// The largest intake answer read.
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// Waits after the `attempt`-th failure, in backoff units: 1, 2, 4, 8, 10...
pub(crate) fn backoff_units(attempt: u32) -> u32 {
    1u32.checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .clamp(1, 10)
}

/// Whether a status is retried.
pub(crate) fn is_retried(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// The intake's endpoint for one connector.
#[derive(Debug)]
pub(crate) struct IntakeClient {
    pub(crate) url: String,
    user_agent: String,
    agent: ureq::Agent,
    pub(crate) backoff_unit: Duration,
    pub(crate) deadline: Duration,
    pub(crate) stop: Arc<StopSignal>,
}

/// What one chunk's sending came to.
#[derive(Debug)]
pub(crate) struct Sent {
    pub(crate) status: ChunkStatus,
    pub(crate) ids: ChunkIds,
}

#[derive(Deserialize)]
struct BatchAnswer<'a> {
    #[serde(default, borrow)]
    event_ids: Vec<std::borrow::Cow<'a, str>>,
}

enum Attempt {
    Done(u16, Vec<u8>),
    Retry {
        failure: String,
        after: Option<Duration>,
    },
}

impl IntakeClient {
    pub(crate) fn new(
        url: String,
        intake_key: &str,
        backoff_unit: Duration,
        deadline: Duration,
        stop: Arc<StopSignal>,
    ) -> Self {
        IntakeClient {
            url,
            user_agent: format!("sekoiaio-connector-{intake_key}"),
            agent: crate::wire::transport::agent(crate::wire::http::DEFAULT_DEADLINE),
            backoff_unit,
            deadline,
            stop,
        }
    }

    /// Sends one chunk with its retries; `events` is its event count,
    /// `keep_ids` whether to keep the ids answered.
    pub(crate) fn send(&self, body: &[u8], events: u32, keep_ids: bool) -> Sent {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            if self.stop.is_stopped() {
                return stopped();
            }
            attempt += 1;
            let (failure, after) = match self.attempt(body, keep_ids) {
                Attempt::Done(status, answer) if (200..300).contains(&status) => {
                    return Sent {
                        status: ChunkStatus::Acknowledged,
                        ids: if keep_ids {
                            ChunkIds::answered(&answer, events)
                        } else {
                            ChunkIds::default()
                        },
                    };
                }
                Attempt::Done(status, answer) => {
                    return Sent {
                        status: ChunkStatus::Refused {
                            status,
                            message: crate::wire::http::excerpt(&answer),
                        },
                        ids: ChunkIds::default(),
                    };
                }
                Attempt::Retry { failure, after } => (failure, after),
            };
            if started.elapsed() >= self.deadline {
                // The Python SDK's message 2 (PROTOCOL-connectors §1.9), with why.
                log::error!(
                    "Failed to forward {events} events: POST {} failed for {:?} ({attempt} attempts), the last with {failure}",
                    self.url,
                    started.elapsed()
                );
                return Sent {
                    status: ChunkStatus::GaveUp {
                        attempts: attempt,
                        last: failure,
                    },
                    ids: ChunkIds::default(),
                };
            }
            let wait = after.unwrap_or_else(|| self.backoff_unit * backoff_units(attempt));
            let wait = wait.min(
                self.deadline
                    .saturating_sub(started.elapsed())
                    .max(self.backoff_unit),
            );
            log::debug!("POST {}: {failure}; retrying in {wait:?}", self.url);
            if !self.stop.sleep(wait) {
                return stopped();
            }
        }
    }

    /// One POST; the answer of a 2xx is read whole only when its ids are
    /// kept (else drained: a 100,000-id answer is 4 MB).
    fn attempt(&self, body: &[u8], keep_answer: bool) -> Attempt {
        let sent = self
            .agent
            .post(&self.url)
            .header("User-Agent", &self.user_agent)
            .header("Content-Type", "application/json")
            .send(body);
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                return Attempt::Retry {
                    failure: error.to_string(),
                    after: None,
                };
            }
        };
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let answer = if (200..300).contains(&status) && !keep_answer {
            let mut reader = response
                .body_mut()
                .with_config()
                .limit(MAX_ANSWER_BYTES)
                .reader();
            std::io::copy(&mut reader, &mut std::io::sink())
                .map(|_| Vec::new())
                .map_err(ureq::Error::from)
        } else {
            // Sized from `Content-Length`: a 100,000-id answer is 4 MB, read
            // without regrowing.
            let length = response
                .headers()
                .get("content-length")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .unwrap_or(0)
                .min(MAX_ANSWER_BYTES);
            let mut answer = Vec::with_capacity(length as usize);
            let mut reader = response
                .body_mut()
                .with_config()
                .limit(MAX_ANSWER_BYTES)
                .reader();
            std::io::Read::read_to_end(&mut reader, &mut answer)
                .map(|_| answer)
                .map_err(ureq::Error::from)
        };
        match answer {
            Ok(answer) if is_retried(status) => Attempt::Retry {
                failure: format!(
                    "HTTP {status}{}",
                    crate::wire::http::excerpt(&answer)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
                after: if status == 429 || status == 503 {
                    after
                } else {
                    None
                },
            },
            Ok(answer) => Attempt::Done(status, answer),
            // A 2xx whose body was cut: the intake has the events (PROTOCOL
            // §2.6 keeps them too), their ids are lost.
            Err(_) if (200..300).contains(&status) => Attempt::Done(status, Vec::new()),
            Err(error) => Attempt::Retry {
                failure: format!("HTTP {status}, answer unreadable: {error}"),
                after: None,
            },
        }
    }
}

fn stopped() -> Sent {
    Sent {
        status: ChunkStatus::Stopped,
        ids: ChunkIds::default(),
    }
}

/// The answer's `event_ids`, kept only when there is one per event.
pub(crate) fn ids(answer: &[u8], events: u32) -> Vec<IntakeId> {
    if let Some(ids) = canonical_ids(answer, events) {
        return ids;
    }
    match serde_json::from_slice::<BatchAnswer>(answer) {
        Ok(answer) if answer.event_ids.len() == events as usize => answer
            .event_ids
            .iter()
            .map(|id| IntakeId::new(id))
            .collect(),
        Ok(answer) => {
            log::warn!(
                "the intake answered {} ids for {events} events: their ids are not kept",
                answer.event_ids.len()
            );
            Vec::new()
        }
        Err(_) => Vec::new(),
    }
}

/// The fast path of [`ids`]: `{"event_ids":["<uuid>",...]}` exactly, each
/// a lower-case hyphenated UUID (what the intake answers), read without
/// allocating per id; `None` for anything else (the general parse).
fn canonical_ids(answer: &[u8], events: u32) -> Option<Vec<IntakeId>> {
    let rest = answer
        .trim_ascii()
        .strip_prefix(br#"{"event_ids":["#)?
        .strip_suffix(b"]}")?;
    let mut ids = Vec::with_capacity(events as usize);
    for item in rest.split(|&byte| byte == b',') {
        if ids.len() == events as usize {
            return None;
        }
        let text = item.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        ids.push(IntakeId::canonical(std::str::from_utf8(text).ok()?)?);
    }
    (ids.len() == events as usize).then_some(ids)
}

/// The batch URL: the base joined with `batch` as a POSIX path join (a `/`
/// inserted unless the base ends with one), PROTOCOL-connectors §1.3.
pub(crate) fn batch_url(base: &str) -> String {
    if base.ends_with('/') {
        format!("{base}batch")
    } else {
        format!("{base}/batch")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_1_2_4_8_then_10_units() {
        let waits: Vec<u32> = (1..=7).map(backoff_units).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10, 10]);
    }

    #[test]
    fn the_batch_url_is_a_posix_join() {
        assert_eq!(
            batch_url("https://intake.sekoia.io"),
            "https://intake.sekoia.io/batch"
        );
        assert_eq!(
            batch_url("https://intake.sekoia.io/"),
            "https://intake.sekoia.io/batch"
        );
        assert_eq!(
            batch_url("https://intake.fra2.sekoia.io/api/v1/intake-http"),
            "https://intake.fra2.sekoia.io/api/v1/intake-http/batch"
        );
    }

    #[test]
    fn only_408_429_and_5xx_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retried(status));
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(!is_retried(status));
        }
    }
}
