//! What `compare` does not count as a difference, in one place: each rule
//! is documented in docs/migrating.md §10 ("What compare ignores"), and
//! nothing else is ignored.
//!
//! - values that differ between any two runs: the addresses of the local
//!   platform and of the fake vendor, the platform's token (each run has
//!   its own), replaced by `{platform}`, `{vendor}`, `{token}`; and the
//!   scenario's secrets, replaced by `{secret:NAME}` on both sides so that
//!   the report never prints them (a secret sent as is on one side and
//!   encoded on the other still differs);
//! - the time at the start of each log line an action's finished PATCH
//!   carries (`2026-11-28 07:53:24.863044: `), and the `date` of each log
//!   record a trigger or a connector POSTs to `/logs`
//!   (`"date": "2026-11-28T07:53:24.863044"`), replaced by `{date}`;
//! - the order of a trigger's or a connector's intake batches sent at once
//!   (the Python SDK sends a push's chunks on 4 threads, the crate 4 at a
//!   time): in each run of consecutive `POST …/batch`, the Rust side's
//!   batches are paired with the Python side's by content ([`pair_batches`]);
//! - the empty lock file `.context.json.lock` the crate's checkpoints keep
//!   beside `context.json` (docs/migrating.md §11, "`context.json` shared by
//!   processes");
//! - the UUIDv4s a run draws: in the name of a file the item left in the
//!   data directory (`json_result`'s `results-<uuid>.json`) and each
//!   trigger event's `request_id` (docs/protocol.md §4), replaced by
//!   `{uuid-N}` in the order the run first mentions them, wherever they
//!   appear;
//! - the header fields in [`IGNORED_HEADERS`]: transport (connection
//!   reuse, compression, length: the body is compared byte for byte), and
//!   `User-Agent` except on the intake routes whose agent the platform
//!   reads (docs/protocol.md).

use super::side::{Exchange, Run};

/// Header fields never compared, with the reason (docs/migrating.md §10).
pub const IGNORED_HEADERS: [(&str, &str); 6] = [
    ("host", "the server's address, different for each run"),
    ("connection", "connection reuse, the HTTP client's choice"),
    ("keep-alive", "connection reuse, the HTTP client's choice"),
    (
        "accept-encoding",
        "compression offered by the HTTP client (the crate's offers none)",
    ),
    (
        "content-length",
        "framing: the body itself is compared byte for byte",
    ),
    (
        "transfer-encoding",
        "framing: the body itself is compared byte for byte",
    ),
];

/// Routes whose `User-Agent` is compared: the intake reads it
/// (docs/protocol.md §6, §9). Elsewhere it names the HTTP client
/// (docs/vendor.md: the crate's own, not `python-requests/…`).
pub const USER_AGENT_ROUTES: [&str; 2] = ["batch", "asset-connector"];

/// Whether the header field `name` of `exchange` is compared.
pub fn header_compared(exchange: &Exchange, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if IGNORED_HEADERS.iter().any(|(ignored, _)| *ignored == name) {
        return false;
    }
    if name == "user-agent" {
        let path = exchange.request.path.trim_end_matches('/');
        return exchange.server == "platform"
            && USER_AGENT_ROUTES
                .iter()
                .any(|route| path.rsplit('/').any(|segment| segment == *route));
    }
    true
}

/// A request as compared: what the intended differences leave of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `platform` or `vendor`.
    pub server: &'static str,
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// The compared header fields, names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The status the server answered (`0`: no answer).
    pub status: u16,
}

/// The run's requests and files with the intended differences taken out.
pub fn seen(run: &Run) -> (Vec<Seen>, Vec<(String, Vec<u8>)>) {
    let uuids = drawn_uuids(run);
    let text = |text: &str| -> String {
        let mut text = text.to_string();
        for (value, placeholder) in &run.volatile {
            if !value.is_empty() {
                text = text.replace(value.as_str(), placeholder.as_str());
            }
        }
        for (index, uuid) in uuids.iter().enumerate() {
            text = text.replace(uuid.as_str(), &format!("{{uuid-{}}}", index + 1));
        }
        log_dates(&text)
    };
    let bytes = |body: &[u8]| -> Vec<u8> {
        match std::str::from_utf8(body) {
            Ok(body) => text(body).into_bytes(),
            Err(_) => body.to_vec(),
        }
    };
    let requests = run
        .requests
        .iter()
        .map(|exchange| {
            let request = &exchange.request;
            let logs = exchange.server == "platform"
                && request.method == "POST"
                && request.route() == "logs";
            let body = bytes(&request.body);
            let body = match String::from_utf8(body) {
                Ok(body) if logs => record_dates(&body).into_bytes(),
                Ok(body) => body.into_bytes(),
                Err(error) => error.into_bytes(),
            };
            Seen {
                server: exchange.server,
                method: request.method.clone(),
                path: text(&request.path),
                query: request.query.as_deref().map(text),
                headers: request
                    .headers
                    .iter()
                    .filter(|(name, _)| header_compared(exchange, name))
                    .map(|(name, value)| (name.to_ascii_lowercase(), text(value)))
                    .collect(),
                body,
                status: request.status,
            }
        })
        .collect();
    let mut files: Vec<(String, Vec<u8>)> = run
        .files
        .iter()
        .filter(|(name, content)| !checkpoint_lock(run, name, content))
        .map(|(name, content)| (text(name), bytes(content)))
        .collect();
    files.sort();
    (requests, files)
}

/// Whether the file `name` is the lock file the crate's checkpoints keep
/// beside `context.json` (empty, next to a `context.json` of the run).
fn checkpoint_lock(run: &Run, name: &str, content: &[u8]) -> bool {
    let (directory, file) = name.rsplit_once('/').unwrap_or(("", name));
    let beside = |other: &str| match directory {
        "" => other.to_string(),
        directory => format!("{directory}/{other}"),
    };
    file == ".context.json.lock"
        && content.is_empty()
        && run
            .files
            .iter()
            .any(|(other, _)| *other == beside("context.json"))
}

/// Whether `seen` is an intake batch (`POST …/batch` on the platform).
fn is_batch(seen: &Seen) -> bool {
    seen.server == "platform"
        && seen.method == "POST"
        && seen.path.trim_end_matches('/').rsplit('/').next() == Some("batch")
}

/// The runs of consecutive intake batches: `(start, end)` in `requests`.
fn batch_runs(requests: &[Seen]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < requests.len() {
        let length = requests[start..]
            .iter()
            .take_while(|seen| is_batch(seen))
            .count();
        if length > 0 {
            runs.push((start, start + length));
        }
        start += length.max(1);
    }
    runs
}

/// Reorders `rust`'s intake batches to pair them with `python`'s: a push's
/// chunks are sent at once and arrive in either order. In the n-th run of
/// consecutive `POST …/batch` of each side, a Rust batch identical to a
/// Python one takes its place; the others fill the places left in the
/// order they arrived, so a batch that differs is compared with the Python
/// batch nothing else matched.
pub fn pair_batches(python: &[Seen], rust: &mut [Seen]) {
    for ((p_start, p_end), (r_start, r_end)) in batch_runs(python).into_iter().zip(batch_runs(rust))
    {
        let theirs = &python[p_start..p_end];
        let mut ours: Vec<Option<Seen>> = rust[r_start..r_end].iter().cloned().map(Some).collect();
        let mut placed: Vec<Option<Seen>> = vec![None; ours.len()];
        for (place, wanted) in theirs.iter().enumerate().take(placed.len()) {
            if let Some(found) = ours.iter_mut().find(|seen| seen.as_ref() == Some(wanted)) {
                placed[place] = found.take();
            }
        }
        let mut rest = ours.into_iter().flatten();
        for (slot, place) in rust[r_start..r_end].iter_mut().zip(placed) {
            if let Some(seen) = place.or_else(|| rest.next()) {
                *slot = seen;
            }
        }
    }
}

/// The UUIDs the run drew: in the names of the files left in the data
/// directory, and the `request_id` of each trigger event; in the order the
/// run first mentions them (its requests, then the file names).
fn drawn_uuids(run: &Run) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let event_ids = run.requests.iter().filter_map(|exchange| {
        let request = &exchange.request;
        (exchange.server == "platform" && request.method == "POST" && request.route() == "callback")
            .then(|| request.json())
            .flatten()
            .and_then(|body| {
                body.get("request_id")
                    .and_then(|id| id.as_str())
                    .map(str::to_string)
            })
    });
    let file_ids = run.files.iter().flat_map(|(name, _)| uuids_in(name));
    for uuid in event_ids.chain(file_ids) {
        if !found.contains(&uuid) {
            found.push(uuid);
        }
    }
    let mut ordered: Vec<(usize, String)> = found
        .into_iter()
        .map(|uuid| {
            let first = run
                .requests
                .iter()
                .position(|exchange| {
                    String::from_utf8_lossy(&exchange.request.body).contains(&uuid)
                })
                .unwrap_or(usize::MAX);
            (first, uuid)
        })
        .collect();
    ordered.sort_by_key(|(first, _)| *first);
    ordered.into_iter().map(|(_, uuid)| uuid).collect()
}

/// The hyphenated UUIDs (8-4-4-4-12 hexadecimal digits) in `text`.
fn uuids_in(text: &str) -> Vec<String> {
    const SHAPE: &[u8] = b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut start = 0;
    while start + SHAPE.len() <= bytes.len() {
        let candidate = &bytes[start..start + SHAPE.len()];
        let matches = candidate
            .iter()
            .zip(SHAPE)
            .all(|(byte, shape)| match shape {
                b'x' => byte.is_ascii_hexdigit(),
                _ => byte == shape,
            });
        if matches {
            found.push(String::from_utf8_lossy(candidate).into_owned());
            start += SHAPE.len();
        } else {
            start += 1;
        }
    }
    found
}

/// `text` (a `/logs` body) with the value of each `"date"` member that is
/// a time as the Python SDK's `datetime.isoformat()` writes it
/// (`2026-11-28T07:53:24.863044`, or without the fraction when it is
/// zero) replaced by `{date}`.
fn record_dates(text: &str) -> String {
    const KEY: &str = "\"date\"";
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let length = |value: &str| -> Option<usize> {
        let bytes = value.as_bytes();
        let shaped = bytes.len() >= SHAPE.len()
            && bytes.iter().zip(SHAPE).all(|(byte, shape)| match shape {
                b'd' => byte.is_ascii_digit(),
                _ => byte == shape,
            });
        if !shaped {
            return None;
        }
        let after = &bytes[SHAPE.len()..];
        let fraction = after.first() == Some(&b'.')
            && after.len() > 7
            && after[1..7].iter().all(u8::is_ascii_digit);
        let length = if fraction {
            SHAPE.len() + 7
        } else {
            SHAPE.len()
        };
        (bytes.get(length) == Some(&b'"')).then_some(length)
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after_key) = rest.split_at(at + KEY.len());
        out.push_str(before);
        rest = after_key;
        let value = after_key
            .trim_start()
            .strip_prefix(':')
            .map(str::trim_start)
            .and_then(|value| value.strip_prefix('"'));
        if let Some(value) = value
            && let Some(length) = length(value)
        {
            out.push_str(&after_key[..after_key.len() - value.len()]);
            out.push_str("{date}");
            rest = &value[length..];
        }
    }
    out.push_str(rest);
    out
}

/// `text` with each log line's time (`YYYY-MM-DD HH:MM:SS.ffffff: `, as
/// Python's `str(datetime)` writes it, or without the fraction when it is
/// zero) replaced by `{date}: `.
fn log_dates(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd";
    let matches = |bytes: &[u8], shape: &[u8]| {
        bytes.len() >= shape.len()
            && bytes.iter().zip(shape).all(|(byte, shape)| match shape {
                b'd' => byte.is_ascii_digit(),
                _ => byte == shape,
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if matches(rest.as_bytes(), SHAPE) {
            let after = &rest[SHAPE.len()..];
            let fraction = after.strip_prefix('.').map_or(0, |digits| {
                let count = digits.len()
                    - digits
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .len();
                if count == 6 { 7 } else { usize::MAX }
            });
            if fraction != usize::MAX && after[fraction..].starts_with(": ") {
                out.push_str("{date}");
                rest = &after[fraction..];
                continue;
            }
        }
        let next = rest.chars().next().unwrap_or_default();
        out.push(next);
        rest = &rest[next.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::RecordedRequest;

    /// A run of one trigger sending `ids` as its events' `request_id`s and
    /// leaving `file`, against a platform at `port` with `token`.
    fn run(port: u16, token: &str, ids: &[&str], file: &str) -> Run {
        let platform = format!("http://127.0.0.1:{port}");
        let requests = ids
            .iter()
            .map(|id| Exchange {
                server: "platform",
                request: RecordedRequest {
                    method: "POST".into(),
                    path: "/api/v1/symphony/callback".into(),
                    query: None,
                    headers: vec![
                        ("Host".into(), format!("127.0.0.1:{port}")),
                        ("Authorization".into(), format!("Bearer {token}")),
                        ("User-Agent".into(), "any".into()),
                    ],
                    body: format!(
                        r#"{{"name": "e", "event": {{"n": 123456789012345678901234567890, "file": "{file}"}}, "request_id": "{id}"}}"#
                    )
                    .into_bytes(),
                    status: 200,
                    peer: "127.0.0.1:1".parse().unwrap(),
                    received_at: std::time::Instant::now(),
                },
            })
            .collect();
        Run {
            side: "python",
            exit_code: Some(0),
            stopped: true,
            requests,
            files: vec![(file.to_string(), b"{}".to_vec())],
            stderr: String::new(),
            volatile: vec![
                (platform, "{platform}".into()),
                (format!("127.0.0.1:{port}"), "{platform-address}".into()),
                (token.to_string(), "{token}".into()),
            ],
        }
    }

    const A: &str = "0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52";
    const B: &str = "c3f19a64-7d2e-4b8a-91f5-1e6a9c2d4b70";
    const C: &str = "5e2a8c1d-3f4b-4a6e-8c3e-1f9a6b24d0e7";
    const D: &str = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

    #[test]
    fn what_each_run_draws_is_not_a_difference_but_its_reuse_is() {
        let python = run(4001, "token-one", &[A, B], &format!("lamps-{C}.json"));
        let rust = run(4002, "token-two", &[D, C], &format!("lamps-{A}.json"));
        assert_eq!(super::super::differences(&python, &rust), []);
        let (seen, files) = seen(&rust);
        assert_eq!(
            seen[0].headers,
            [("authorization".to_string(), "Bearer {token}".to_string())]
        );
        assert!(
            String::from_utf8_lossy(&seen[1].body).ends_with(r#""request_id": "{uuid-3}"}"#),
            "{seen:?}"
        );
        assert_eq!(files[0].0, "lamps-{uuid-2}.json");
        // A retried event keeps its `request_id`: sending a new one is a difference.
        let retried = run(4003, "token-three", &[A, A], &format!("lamps-{C}.json"));
        let found = super::super::differences(&python, &retried);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].detail,
            r#"body `/request_id`: python "{uuid-3}", rust "{uuid-1}""#
        );
    }

    #[test]
    fn log_times_are_replaced_only_at_a_log_line_shape() {
        assert_eq!(
            log_dates(
                "2026-11-28 07:53:24.863044: info: 𝔏 at 2026-11-28 07:53:24\n2026-11-28 07:53:25: error: x"
            ),
            "{date}: info: 𝔏 at 2026-11-28 07:53:24\n{date}: error: x"
        );
        assert_eq!(
            log_dates("2026-11-28 07:53:24.86: x"),
            "2026-11-28 07:53:24.86: x"
        );
    }

    /// A platform request `POST /api/v1/<route>` with `body`.
    fn posted(route: &str, body: &str) -> Exchange {
        Exchange {
            server: "platform",
            request: RecordedRequest {
                method: "POST".into(),
                path: format!("/api/v1/{route}"),
                query: None,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
                status: 200,
                peer: "127.0.0.1:1".parse().unwrap(),
                received_at: std::time::Instant::now(),
            },
        }
    }

    fn requests(exchanges: Vec<Exchange>) -> Run {
        Run {
            requests: exchanges,
            files: Vec::new(),
            ..run(4001, "token", &[], "x")
        }
    }

    #[test]
    fn log_record_dates_are_not_a_difference_but_their_messages_are() {
        let logs = |date: &str, message: &str| {
            posted(
                "symphony/logs",
                &format!(
                    r#"{{"logs": [{{"date": "{date}", "level": "info", "message": "{message}"}}, {{"date":"2026-12-06T07:30:00", "level": "error", "message": "x"}}]}}"#
                ),
            )
        };
        let first = requests(vec![logs(
            "2026-12-06T07:30:57.123456",
            "pushing 3 lamp events",
        )]);
        let second = requests(vec![logs(
            "2026-12-06T07:31:02.000001",
            "pushing 3 lamp events",
        )]);
        assert_eq!(super::super::differences(&first, &second), []);
        let (seen, _) = seen(&second);
        assert_eq!(
            String::from_utf8_lossy(&seen[0].body),
            r#"{"logs": [{"date": "{date}", "level": "info", "message": "pushing 3 lamp events"}, {"date":"{date}", "level": "error", "message": "x"}]}"#
        );
        let other = requests(vec![logs(
            "2026-12-06T07:31:02.000001",
            "pushing 4 lamp events",
        )]);
        let found = super::super::differences(&first, &other);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].detail,
            r#"body `/logs/0/message`: python "pushing 3 lamp events", rust "pushing 4 lamp events""#
        );
        // Only a `date` member shaped as a time, and only in `/logs` bodies.
        assert_eq!(
            record_dates(r#"{"date": "2026-12-06T07:30:57.12", "dates": "2026-12-06T07:30:57"}"#),
            r#"{"date": "2026-12-06T07:30:57.12", "dates": "2026-12-06T07:30:57"}"#
        );
        let event = |date: &str| {
            requests(vec![posted(
                "symphony/callback",
                &format!(r#"{{"event": {{"date": "{date}"}}}}"#),
            )])
        };
        let found = super::super::differences(
            &event("2026-12-06T07:30:57.123456"),
            &event("2026-12-06T07:31:02.000001"),
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn batches_sent_at_once_are_paired_by_content() {
        let batch = |n: u128| {
            posted(
                "intake/batch",
                &format!(r#"{{"intake_key": "k", "jsons": ["{{\"n\":{n}}}"]}}"#),
            )
        };
        let python = requests(vec![
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(1),
            batch(2),
            batch(123456789012345678901234567890),
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(4),
            batch(5),
        ]);
        let rust = requests(vec![
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(123456789012345678901234567890),
            batch(1),
            batch(2),
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(5),
            batch(4),
        ]);
        assert_eq!(super::super::differences(&python, &rust), []);
        // A batch that differs is compared with the one nothing else matched.
        let different = requests(vec![
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(123456789012345678901234567890),
            batch(7),
            batch(2),
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(4),
            batch(5),
        ]);
        let found = super::super::differences(&python, &different);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].subject,
            "request 2 (platform POST /api/v1/intake/batch)"
        );
        assert_eq!(
            found[0].detail,
            r#"body `/jsons/0`: python "{\"n\":1}", rust "{\"n\":7}""#
        );
        // Batches are not moved across another request.
        let moved = requests(vec![
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(1),
            batch(2),
            batch(4),
            posted("symphony/logs", r#"{"logs": []}"#),
            batch(123456789012345678901234567890),
            batch(5),
        ]);
        assert!(!super::super::differences(&python, &moved).is_empty());
    }

    #[test]
    fn the_lock_file_of_the_checkpoints_is_not_a_difference() {
        let with = |files: &[(&str, &[u8])]| Run {
            files: files
                .iter()
                .map(|(name, content)| (name.to_string(), content.to_vec()))
                .collect(),
            ..requests(Vec::new())
        };
        let python = with(&[("context.json", br#"{"cursor":"c"}"#)]);
        let rust = with(&[
            ("context.json", br#"{"cursor":"c"}"#),
            (".context.json.lock", b""),
        ]);
        assert_eq!(super::super::differences(&python, &rust), []);
        // Not empty, not beside a `context.json`: a file as any other.
        let cursor: (&str, &[u8]) = ("context.json", br#"{"cursor":"c"}"#);
        for (python, rust) in [
            (
                vec![cursor],
                vec![cursor, (".context.json.lock", &b"x"[..])],
            ),
            (vec![cursor], vec![cursor, ("sub/.context.json.lock", b"")]),
            (vec![], vec![(".context.json.lock", b"")]),
        ] {
            let found = super::super::differences(&with(&python), &with(&rust));
            assert_eq!(found.len(), 1, "{rust:?}: {found:?}");
        }
    }

    #[test]
    fn uuids_are_found_in_file_names() {
        assert_eq!(
            uuids_in("results-0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52.json"),
            ["0b8e5f7a-2c4d-4e19-a6b3-9d1f0c8e7a52"]
        );
        assert!(uuids_in("results-0b8e5f7a-2c4d-4e19-a6b3.json").is_empty());
    }
}
