//! One chunk to the intake: `POST <intake>/batch` and its retry loop
//! (docs/protocol.md §5, *One batch* and *Retries*).
//!
//! - Headers: `User-Agent: sekoiaio-connector-<intake_key>`,
//!   `Content-Type: application/json`; no `Authorization` (the intake key in
//!   the body authenticates). Through the process's one HTTP agent
//!   (`wire::transport::agent`): 30 s per attempt,
//!   connections reused.
//! - Retried: network errors, 408, 422 (the intake's `Not ready`, which the
//!   Python SDK retries too), 429 and 5xx, waiting 1, 2, 4, 8, then 10 s
//!   (times the module's backoff unit), until an attempt fails an hour (the
//!   deadline) after the first one started. A 429 or 503 waits what its
//!   `Retry-After` asks (in seconds or as an HTTP date: the one reader,
//!   `wire::retry_after`) when that is longer than the backoff, never less:
//!   `Retry-After: 0` or a past date does not make the retries a busy
//!   loop. No wait passes the deadline, and every wait ends at once when
//!   the connector stops.
//! - Any other 4xx (400, 401, 403, 404, 413...) fails the chunk at once:
//!   sending the same bytes again cannot succeed.
//! - A redirect (3xx) is never followed (the agent follows none) and fails
//!   the chunk at once, its `Location` in the refusal: a batch redirected
//!   and answered 200 elsewhere is not on the intake.
//! - A 2xx acknowledges the chunk, whatever its body says; an answer whose
//!   ids are not one string per event (fewer, more, not strings, not JSON)
//!   leaves the ids unknown, and says so ([`Sent::answer_problem`]), for
//!   the push to log it as a warning on the caller's thread (whose logs
//!   reach the platform).

use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::connector::acknowledgement::{ChunkIds, ChunkStatus, IntakeId};
use crate::connector::chunk::Body;
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

/// Whether a status is retried: 408, 422 (the intake is not ready for
/// the key yet), 429 and 5xx.
pub(crate) fn is_retried(status: u16) -> bool {
    matches!(status, 408 | 422 | 429) || status >= 500
}

/// `sekoiaio-connector-<intake_key>` as the Python SDK's `http.client`
/// sends it: Latin-1 bytes (`é` is one byte, 0xE9). A key with other
/// characters (which makes every Python push fail) is sent in UTF-8, and
/// control characters (which a header cannot carry) as `?`.
fn user_agent(intake_key: &str) -> Vec<u8> {
    let text = format!("sekoiaio-connector-{intake_key}");
    let mut bytes: Vec<u8> = match text.chars().map(|c| u8::try_from(c).ok()).collect() {
        Some(latin1) => latin1,
        None => text.into_bytes(),
    };
    for byte in &mut bytes {
        if (*byte < 0x20 && *byte != b'\t') || *byte == 0x7f {
            *byte = b'?';
        }
    }
    bytes
}

/// The intake's endpoint for one connector.
#[derive(Debug)]
pub(crate) struct IntakeClient {
    pub(crate) url: String,
    user_agent: Vec<u8>,
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
    /// What was wrong with a 2xx answer whose ids were read (not JSON,
    /// malformed ids, fewer or more than the events): the chunk is
    /// acknowledged all the same, its ids unknown.
    pub(crate) answer_problem: Option<String>,
}

#[derive(Deserialize)]
struct BatchAnswer<'a> {
    #[serde(default, borrow)]
    event_ids: Vec<std::borrow::Cow<'a, str>>,
}

enum Attempt {
    /// A 2xx whose ids were read (decoded as the answer was read), and
    /// what was wrong with them.
    Acknowledged(ChunkIds, Option<String>),
    /// A final answer: its status, body, and `Location` (of a 3xx).
    Done(u16, Vec<u8>, Option<String>),
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
            user_agent: user_agent(intake_key),
            agent: crate::wire::transport::agent(crate::wire::http::DEFAULT_DEADLINE),
            backoff_unit,
            deadline,
            stop,
        }
    }

    /// Sends one chunk with its retries; `events` is its event count,
    /// `keep_ids` whether to keep the ids answered. The body is freed once
    /// an attempt is answered 2xx, before the answer is read (no attempt
    /// follows); else when the sending ends.
    pub(crate) fn send(&self, body: Body, events: u32, keep_ids: bool) -> Sent {
        let mut body = Some(body);
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            if self.stop.is_stopped() {
                return stopped();
            }
            attempt += 1;
            let (failure, after) = match self.attempt(&mut body, keep_ids.then_some(events)) {
                Attempt::Acknowledged(ids, answer_problem) => {
                    return Sent {
                        status: ChunkStatus::Acknowledged,
                        ids,
                        answer_problem,
                    };
                }
                Attempt::Done(status, _, _) if (200..300).contains(&status) => {
                    return Sent {
                        status: ChunkStatus::Acknowledged,
                        ids: ChunkIds::default(),
                        answer_problem: None,
                    };
                }
                Attempt::Done(status, answer, location) => {
                    let message = if (300..400).contains(&status) {
                        Some(format!(
                            "a redirect{}, not followed: the events are not on the intake. Check `intake_server` (or `intake_url`)",
                            location
                                .as_deref()
                                .and_then(|l| crate::wire::http::excerpt(l.as_bytes()))
                                .map(|l| format!(" to `{l}`"))
                                .unwrap_or_else(|| " without a `Location`".to_owned())
                        ))
                    } else {
                        crate::wire::http::excerpt(&answer)
                    };
                    return Sent {
                        status: ChunkStatus::Refused { status, message },
                        ids: ChunkIds::default(),
                        answer_problem: None,
                    };
                }
                Attempt::Retry { failure, after } => (failure, after),
            };
            if started.elapsed() >= self.deadline {
                // Logged by the push, on the caller's thread.
                return Sent {
                    status: ChunkStatus::GaveUp {
                        attempts: attempt,
                        last: failure,
                    },
                    ids: ChunkIds::default(),
                    answer_problem: None,
                };
            }
            // `Retry-After` may lengthen the wait, never shorten it; what
            // is left of the deadline caps it.
            let backoff = self.backoff_unit.saturating_mul(backoff_units(attempt));
            let wait = backoff
                .max(after.unwrap_or_default())
                .min(self.deadline.saturating_sub(started.elapsed()));
            log::debug!("POST {}: {failure}; retrying in {wait:?}", self.url);
            if !self.stop.sleep(wait) {
                return stopped();
            }
        }
    }

    /// One POST; the ids of a 2xx answer are decoded as it is read when
    /// `ids_of` (the chunk's event count) is given, else the answer is
    /// drained: a 100,000-id answer is 4 MB, never held whole. The body is
    /// freed (set to `None`) when the answer is 2xx: no attempt follows.
    fn attempt(&self, body: &mut Option<Body>, ids_of: Option<u32>) -> Attempt {
        let Some(sending) = body.as_ref() else {
            return Attempt::Retry {
                failure: "the chunk's body was already freed".to_owned(),
                after: None,
            };
        };
        let sent = self
            .agent
            .post(&self.url)
            .header("User-Agent", &self.user_agent[..])
            .header("Content-Type", "application/json")
            .header("Content-Length", sending.len().to_string())
            .send(ureq::SendBody::from_reader(&mut sending.reader()));
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
        let acknowledged = (200..300).contains(&status);
        if acknowledged {
            *body = None;
        }
        let location = response
            .headers()
            .get("location")
            .filter(|_| (300..400).contains(&status))
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        // An error's answer, sized from `Content-Length`.
        let length = response
            .headers()
            .get("content-length")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .filter(|_| !acknowledged)
            .unwrap_or(0)
            .min(MAX_ANSWER_BYTES);
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .reader();
        if let (true, Some(events)) = (acknowledged, ids_of) {
            let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
            return match read_ids(&mut reader, events) {
                Ok(ReadIds { ids, problem }) => Attempt::Acknowledged(ids, problem),
                // A 2xx whose body was cut: the intake has the events
                // (docs/protocol.md §5, *The answer*), their ids are lost.
                Err(error) => Attempt::Acknowledged(
                    ChunkIds::None,
                    Some(format!("that could not be read whole ({error})")),
                ),
            };
        }
        let answer = if acknowledged {
            std::io::copy(&mut reader, &mut std::io::sink()).map(|_| Vec::new())
        } else {
            let mut answer = Vec::with_capacity(length as usize);
            std::io::Read::read_to_end(&mut reader, &mut answer).map(|_| answer)
        }
        .map_err(ureq::Error::from);
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
            Ok(answer) => Attempt::Done(status, answer, location),
            // A 2xx whose body was cut: the intake has the events (docs/protocol.md
            // §5, *The answer*), their ids are lost.
            Err(_) if acknowledged => Attempt::Done(status, Vec::new(), None),
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
        answer_problem: None,
    }
}

/// The ids of a 2xx answer as read, and what was wrong with them (the
/// ids are then not kept).
#[derive(Debug)]
pub(crate) struct ReadIds {
    pub(crate) ids: ChunkIds,
    pub(crate) problem: Option<String>,
}

/// The answer's `event_ids`, kept only when there is one string per
/// event; else what is wrong with the answer (worded to follow "an answer
/// ...").
pub(crate) fn ids(answer: &[u8], events: u32) -> Result<Vec<IntakeId>, String> {
    match serde_json::from_slice::<BatchAnswer>(answer) {
        Ok(answer) if answer.event_ids.len() == events as usize => Ok(answer
            .event_ids
            .iter()
            .map(|id| IntakeId::new(id))
            .collect()),
        Ok(answer) => Err(format!("of {} ids", answer.event_ids.len())),
        Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(answer).is_ok() => {
            Err("whose `event_ids` is not a list of strings".to_owned())
        }
        Err(_) => Err(format!(
            "that is not JSON{}",
            crate::wire::http::excerpt(answer)
                .map(|text| format!(" (`{text}`)"))
                .unwrap_or_else(|| " (empty)".to_owned())
        )),
    }
}

/// The ids of a 2xx answer of `events` events, decoded as they are read:
/// the intake's `{"event_ids":["<uuid>",...]}` exactly, each a lower-case
/// hyphenated UUID, is read in records of 39 bytes (an id, its closing
/// quote and what follows) straight from the read buffer, so the answer is
/// never held whole, and each id is kept as its 16 bytes; anything else is
/// read to its end and parsed by [`ids`].
pub(crate) fn read_ids(reader: &mut impl BufRead, events: u32) -> io::Result<ReadIds> {
    const PREFIX: &[u8] = br#"{"event_ids":[""#;
    const RECORD: usize = 39;
    let wanted = events as usize;
    let mut head = [0u8; PREFIX.len()];
    let read = fill(reader, &mut head)?;
    if read < PREFIX.len() || head != PREFIX || events == 0 {
        return general(reader, &head[..read], &[], events);
    }
    let mut records = Vec::with_capacity(wanted * 16);
    let decode = |record: &[u8], index: usize| {
        let end: &[u8] = if index + 1 == wanted {
            b"\"]}"
        } else {
            b"\",\""
        };
        if &record[36..] == end {
            IntakeId::uuid_bytes(&record[..36])
        } else {
            None
        }
    };
    // The bytes read so far, rebuilt (the ids read are canonical) when the
    // answer turns out not to have the fast shape; the records are freed
    // before the rest is read.
    let fall_back = |reader: &mut _, records: Vec<u8>, last: &[u8], more: &[u8]| {
        let mut consumed = PREFIX.to_vec();
        for (index, record) in records.chunks_exact(16).enumerate() {
            let id = record
                .try_into()
                .ok()
                .and_then(IntakeId::from_uuid_bytes)
                .map(|id| id.to_string())
                .unwrap_or_default();
            consumed.extend_from_slice(id.as_bytes());
            consumed.extend_from_slice(if index + 1 == wanted {
                b"\"]}"
            } else {
                b"\",\""
            });
        }
        drop(records);
        consumed.extend_from_slice(last);
        general(reader, &consumed, more, events)
    };
    let mut count = 0;
    let mut record = [0u8; RECORD];
    while count < wanted {
        let buffer = reader.fill_buf()?;
        let whole = (buffer.len() / RECORD).min(wanted - count);
        if whole == 0 {
            // A record split across reads: gathered in `record`.
            let read = fill(reader, &mut record)?;
            match (read == RECORD).then(|| decode(&record, count)).flatten() {
                Some(id) => {
                    records.extend_from_slice(&id);
                    count += 1;
                }
                None => return fall_back(reader, records, &record[..read], &[]),
            }
            continue;
        }
        let mut taken = 0;
        let mut failed = false;
        for chunk in buffer[..whole * RECORD].chunks_exact(RECORD) {
            match decode(chunk, count) {
                Some(id) => {
                    records.extend_from_slice(&id);
                    count += 1;
                }
                None => {
                    failed = true;
                    break;
                }
            }
            taken += RECORD;
        }
        if failed {
            let last = buffer[taken..taken + RECORD].to_vec();
            reader.consume(taken + RECORD);
            return fall_back(reader, records, &last, &[]);
        }
        reader.consume(taken);
    }
    // Only white space may follow.
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest)?;
    if rest.iter().all(u8::is_ascii_whitespace) {
        Ok(ReadIds {
            ids: ChunkIds::from_uuid_records(records),
            problem: None,
        })
    } else {
        fall_back(reader, records, &[], &rest)
    }
}

/// Reads until `buffer` is full or the answer ends; the bytes read.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The general parse of an answer whose start (`consumed`, then `more`) was
/// already read.
fn general(
    reader: &mut impl Read,
    consumed: &[u8],
    more: &[u8],
    events: u32,
) -> io::Result<ReadIds> {
    let mut answer = [consumed, more].concat();
    reader.read_to_end(&mut answer)?;
    Ok(match ids(&answer, events) {
        Ok(ids) => ReadIds {
            ids: ChunkIds::from_ids(ids),
            problem: None,
        },
        Err(problem) => ReadIds {
            ids: ChunkIds::None,
            problem: Some(problem),
        },
    })
}

/// The batch URL: the base joined with `batch` as a POSIX path join (a `/`
/// inserted unless the base ends with one), docs/protocol.md §5, *The intake URL*.
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
    fn the_user_agent_is_latin_1_as_pythons_http_client_sends_it() {
        assert_eq!(user_agent("KEY123"), b"sekoiaio-connector-KEY123");
        assert_eq!(user_agent("é\"\\"), b"sekoiaio-connector-\xe9\"\\");
        assert_eq!(user_agent("😀"), "sekoiaio-connector-😀".as_bytes());
        assert_eq!(user_agent("a\nb\tc"), b"sekoiaio-connector-a?b\tc");
    }

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

    /// Hands out its bytes `step` at a time, as a network answer may come.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// The ids read from `answer`, each read size giving the same.
    fn read_kept(answer: &str, events: u32) -> (Vec<String>, ChunkIds) {
        let mut ids = Vec::new();
        let mut kept = ChunkIds::None;
        for step in [1, 7, 39, 1 << 20] {
            let mut reader = io::BufReader::with_capacity(
                step.max(16),
                Trickle {
                    bytes: answer.as_bytes(),
                    step,
                },
            );
            kept = read_ids(&mut reader, events).unwrap().ids;
            let read: Vec<String> = kept.iter().map(|id| id.to_string()).collect();
            assert_eq!(read.len(), kept.len());
            if step > 1 {
                assert_eq!(read, ids, "the same ids whatever the read sizes");
            }
            ids = read;
        }
        (ids, kept)
    }

    fn read(answer: &str, events: u32) -> Vec<String> {
        read_kept(answer, events).0
    }

    const A: &str = "0f6c0d3e-5b1e-4b5e-9d1a-2c3b4d5e6f70";
    const B: &str = "1a2b3c4d-0000-4000-8000-00000000000b";

    #[test]
    fn ids_are_read_as_they_come_in_the_intakes_shape_and_any_other() {
        // The intake's shape: decoded record by record.
        let fast = format!(r#"{{"event_ids":["{A}","{B}"]}}"#);
        assert_eq!(read(&fast, 2), [A, B]);
        assert_eq!(read(&format!("{fast}\r\n"), 2), [A, B]);
        // Other shapes, and ids that are not lower-case UUIDs, are parsed
        // whole, and give the same ids as they were written.
        let spaced = format!(r#"{{"received": true, "event_ids": ["{A}", "{B}"]}}"#);
        assert_eq!(read(&spaced, 2), [A, B]);
        let upper = A.to_uppercase();
        let mixed = format!(r#"{{"event_ids":["{A}","{upper}","x\u00e9"]}}"#);
        assert_eq!(read(&mixed, 3), [A, upper.as_str(), "xé"]);
        // The intake's shape with one id that is not a lower-case UUID:
        // every id kept, as written.
        let one_upper = format!(r#"{{"event_ids":["{A}","{upper}","{B}"]}}"#);
        let (ids, kept) = read_kept(&one_upper, 3);
        assert_eq!(ids, [A, upper.as_str(), B]);
        assert!(matches!(kept, ChunkIds::Any(_)));
        let zero_low = "1a2b3c4d-0000-4000-0000-000000000000";
        let with_zero = format!(r#"{{"event_ids":["{A}","{zero_low}"]}}"#);
        assert_eq!(read(&with_zero, 2), [A, zero_low]);
        let trailing = format!(r#"{{"event_ids":["{A}","{B}"]}},"#);
        assert!(read(&trailing, 2).is_empty(), "not JSON: no ids");
        // One id per event, or none kept.
        assert!(read(&fast, 3).is_empty());
        assert!(read(&fast, 1).is_empty());
        assert!(matches!(read_kept(&fast, 3).1, ChunkIds::None));
        let (_, kept) = read_kept(&mixed, 4);
        assert!(matches!(kept, ChunkIds::None));
        let cut = &fast[..fast.len() - 10];
        assert!(read(cut, 2).is_empty());
        assert!(read("", 2).is_empty());
        assert!(read(r#"{"event_ids":[]}"#, 0).is_empty());
    }

    #[test]
    fn what_is_wrong_with_a_2xx_answer_is_said() {
        let problem = |answer: &str, events| {
            let mut reader = io::BufReader::with_capacity(
                16,
                Trickle {
                    bytes: answer.as_bytes(),
                    step: 7,
                },
            );
            read_ids(&mut reader, events).unwrap().problem
        };
        let fast = format!(r#"{{"event_ids":["{A}","{B}"]}}"#);
        assert_eq!(problem(&fast, 2), None);
        assert_eq!(problem(r#"{"event_ids":["x"]}"#, 1), None);
        assert_eq!(problem(&fast, 3).as_deref(), Some("of 2 ids"));
        assert_eq!(problem(&fast, 1).as_deref(), Some("of 2 ids"));
        assert_eq!(problem("{}", 4).as_deref(), Some("of 0 ids"));
        for malformed in [
            r#"{"event_ids":[1,2]}"#,
            r#"{"event_ids":"ab"}"#,
            r#"{"event_ids":null}"#,
            r#"{"event_ids":["a",{"id":"b"}]}"#,
        ] {
            assert_eq!(
                problem(malformed, 2).as_deref(),
                Some("whose `event_ids` is not a list of strings"),
                "{malformed}"
            );
        }
        assert_eq!(
            problem("<html>ok</html>", 1).as_deref(),
            Some("that is not JSON (`<html>ok</html>`)")
        );
        assert_eq!(
            problem(&format!("{fast},"), 2).as_deref(),
            Some(format!("that is not JSON (`{fast},`)").as_str())
        );
        assert_eq!(problem("", 1).as_deref(), Some("that is not JSON (empty)"));
    }

    /// The intake's answer of `count` ids, and the ids.
    pub(super) fn answer_of(count: u64) -> (String, Vec<String>) {
        let ids: Vec<String> = (0..count)
            .map(|i| {
                uuid::Uuid::from_u64_pair(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i | 1 << 63)
                    .hyphenated()
                    .to_string()
            })
            .collect();
        (
            format!(r#"{{"event_ids":["{}"]}}"#, ids.join(r#"",""#)),
            ids,
        )
    }

    #[test]
    fn uuids_are_kept_as_16_byte_records() {
        for count in [1, 2, 3, 255, 256, 4096, 65_537, 100_000] {
            let (answer, expected) = answer_of(count);
            let mut reader = io::BufReader::with_capacity(64 * 1024, answer.as_bytes());
            let kept = read_ids(&mut reader, count as u32).unwrap().ids;
            let ChunkIds::Uuids(records) = &kept else {
                panic!("{count} UUIDs kept as 16-byte records: {kept:?}");
            };
            assert_eq!(records.len(), count as usize * 16, "16 bytes an id");
            let ids: Vec<String> = kept.iter().map(|id| id.to_string()).collect();
            assert_eq!(ids, expected, "{count}");
            for index in [0, count as usize / 2, count as usize - 1] {
                assert_eq!(
                    kept.get(index).map(|id| id.to_string()).as_ref(),
                    Some(&expected[index])
                );
            }
            assert!(kept.get(count as usize).is_none());
        }
    }

    #[test]
    fn only_408_422_429_and_5xx_are_retried() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(is_retried(status));
        }
        for status in [300, 301, 302, 303, 307, 308, 400, 401, 403, 404, 413] {
            assert!(!is_retried(status));
        }
        assert!(is_retried(422), "the intake's `Not ready`");
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --release --lib reading_100_000_ids -- --ignored --nocapture`:
    /// the best of 50 reads of an answer of 100,000 ids from memory, into
    /// 1.6 MB of 16-byte records (the read, the copies through the read
    /// buffer, the decoding).
    #[test]
    #[ignore = "a timing, not a check: run by hand"]
    fn reading_100_000_ids() {
        let (answer, _) = super::tests::answer_of(100_000);
        let mut best = f64::MAX;
        for _ in 0..50 {
            let started = std::time::Instant::now();
            let mut reader = io::BufReader::with_capacity(64 * 1024, answer.as_bytes());
            let kept = read_ids(&mut reader, 100_000).unwrap().ids;
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(kept.len(), 100_000);
        }
        println!("100,000 ids read in {:.3} ms (best of 50)", best * 1e3);
    }
}
