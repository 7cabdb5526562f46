//! The differences between two runs of one scenario, request by request:
//! which server, method, path, query (parameter by parameter), compared
//! header fields, body (bytes, and values parsed exactly: integers of any
//! size, floats as written), the server's answer, the order of requests,
//! the exit code and the files left in the data directory.

use crate::vendor::Json;

use super::intended::{self, Seen};
use super::side::Run;

/// The most body values listed for one request: the first ones name what
/// to fix.
const MAX_BODY_DIFFERENCES: usize = 10;

/// The most characters of a value shown.
const MAX_SHOWN: usize = 160;

/// One difference: what it is about and how the sides differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs: `request 2 (vendor GET /v2/lamps/7)`, `exit code`,
    /// `data directory file results.json`.
    pub subject: String,
    /// How: `query parameter limit: python absent, rust 5`.
    pub detail: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.subject, self.detail)
    }
}

/// The differences between the Python run and the Rust run, in the order
/// of the runs; empty when they behave the same.
pub fn differences(python: &Run, rust: &Run) -> Vec<Difference> {
    let (python_requests, python_files) = intended::seen(python);
    let (mut rust_requests, rust_files) = intended::seen(rust);
    intended::pair_batches(&python_requests, &mut rust_requests);
    let mut found = Vec::new();
    if python.exit_code != rust.exit_code {
        found.push(Difference {
            subject: "exit code".into(),
            detail: format!(
                "python {}, rust {}",
                code(python.exit_code),
                code(rust.exit_code)
            ),
        });
    }
    found.extend(requests(&python_requests, &rust_requests));
    found.extend(files(&python_files, &rust_files));
    found
}

fn code(code: Option<i32>) -> String {
    code.map_or_else(
        || "none (ended by a signal)".into(),
        |code| code.to_string(),
    )
}

fn describe(index: usize, request: &Seen) -> String {
    format!(
        "request {} ({} {} {})",
        index + 1,
        request.server,
        request.method,
        request.path
    )
}

/// The most requests aligned by their longest common sequence (a table of
/// `python × rust` cells); longer runs are paired by position.
const MAX_ALIGNED: usize = 4_000_000;

/// The requests paired: the longest common sequence of (server, method,
/// path), so that one request more or less on a side is named as such and
/// the others are still compared with their counterparts.
fn align(python: &[Seen], rust: &[Seen]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (python.len(), rust.len());
    if n.saturating_mul(m) > MAX_ALIGNED {
        return (0..n.max(m))
            .map(|index| ((index < n).then_some(index), (index < m).then_some(index)))
            .collect();
    }
    let same = |i: usize, j: usize| {
        let (p, r) = (&python[i], &rust[j]);
        p.server == r.server && p.method == r.method && p.path == r.path
    };
    // lengths[i][j]: the longest common sequence of python[i..] and rust[j..].
    let mut lengths = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if same(i, j) {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::new();
    while i < n || j < m {
        if i < n && j < m && same(i, j) {
            pairs.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if j == m || (i < n && lengths[i + 1][j] >= lengths[i][j + 1]) {
            pairs.push((Some(i), None));
            i += 1;
        } else {
            pairs.push((None, Some(j)));
            j += 1;
        }
    }
    pairs
}

/// The requests compared with their counterparts; a request one side
/// sent in another place is named with both places.
pub fn requests(python: &[Seen], rust: &[Seen]) -> Vec<Difference> {
    let pairs = align(python, rust);
    let python_only: Vec<usize> = pairs
        .iter()
        .filter_map(|pair| match pair {
            (Some(i), None) => Some(*i),
            _ => None,
        })
        .collect();
    let rust_only: Vec<usize> = pairs
        .iter()
        .filter_map(|pair| match pair {
            (None, Some(j)) => Some(*j),
            _ => None,
        })
        .collect();
    // The same request, sent at another place.
    let mut moved: Vec<(usize, usize)> = Vec::new();
    for &i in &python_only {
        if let Some(&j) = rust_only
            .iter()
            .find(|&&j| python[i] == rust[j] && !moved.iter().any(|(_, taken)| *taken == j))
        {
            moved.push((i, j));
        }
    }
    let mut found = Vec::new();
    for pair in pairs {
        match pair {
            (Some(i), Some(j)) => found.extend(request(i, j, &python[i], &rust[j])),
            (Some(i), None) => {
                if let Some((_, j)) = moved.iter().find(|(p, _)| *p == i) {
                    found.push(Difference {
                        subject: describe(i, &python[i]),
                        detail: format!(
                            "order: python sent it as request {}, rust as request {}",
                            i + 1,
                            j + 1
                        ),
                    });
                } else {
                    found.push(Difference {
                        subject: describe(i, &python[i]),
                        detail: "sent by python only".into(),
                    });
                }
            }
            (None, Some(j)) => {
                if !moved.iter().any(|(_, r)| *r == j) {
                    found.push(Difference {
                        subject: describe(j, &rust[j]),
                        detail: "sent by rust only".into(),
                    });
                }
            }
            (None, None) => {}
        }
    }
    found
}

fn request(index: usize, other: usize, python: &Seen, rust: &Seen) -> Vec<Difference> {
    let mut subject = describe(index, python);
    if other != index {
        subject.push_str(&format!(" (rust's request {})", other + 1));
    }
    let mut found = Vec::new();
    let mut push = |detail: String| {
        found.push(Difference {
            subject: subject.clone(),
            detail,
        });
    };
    if python.server != rust.server || python.method != rust.method || python.path != rust.path {
        push(format!(
            "python sent {} {} {}, rust {} {} {}",
            python.server, python.method, python.path, rust.server, rust.method, rust.path
        ));
        return found;
    }
    for detail in query(python.query.as_deref(), rust.query.as_deref()) {
        push(detail);
    }
    for detail in headers(&python.headers, &rust.headers) {
        push(detail);
    }
    for detail in body(&python.body, &rust.body) {
        push(format!("body {detail}"));
    }
    if python.status != rust.status {
        push(format!(
            "the {} answered python {} and rust {}",
            python.server, python.status, rust.status
        ));
    }
    found
}

/// The query compared parameter by parameter (as sent, percent-encoded).
fn query(python: Option<&str>, rust: Option<&str>) -> Vec<String> {
    if python == rust {
        return Vec::new();
    }
    let pairs = |query: Option<&str>| -> Vec<(String, String)> {
        query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => (name.to_string(), value.to_string()),
                None => (pair.to_string(), String::new()),
            })
            .collect()
    };
    let (p, r) = (pairs(python), pairs(rust));
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in p.iter().chain(&r) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let values = |pairs: &[(String, String)], name: &str| -> Option<String> {
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
            .collect();
        (!values.is_empty()).then(|| format!("`{}`", values.join("`, `")))
    };
    let mut found = Vec::new();
    for name in names {
        let (pv, rv) = (values(&p, name), values(&r, name));
        if pv != rv {
            found.push(format!(
                "query parameter `{name}`: python {}, rust {}",
                pv.unwrap_or_else(|| "absent".into()),
                rv.unwrap_or_else(|| "absent".into())
            ));
        }
    }
    if found.is_empty() {
        found.push(format!(
            "query: python `{}`, rust `{}` (same parameters, another order or encoding)",
            python.unwrap_or_default(),
            rust.unwrap_or_default()
        ));
    }
    found
}

fn headers(python: &[(String, String)], rust: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in python.iter().chain(rust) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let value = |headers: &[(String, String)], name: &str| -> Option<String> {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    names
        .into_iter()
        .filter_map(|name| {
            let (p, r) = (value(python, name), value(rust, name));
            (p != r).then(|| {
                let show = |value: Option<String>| {
                    value.map_or_else(|| "absent".into(), |value| format!("`{}`", shorten(&value)))
                };
                format!("header `{name}`: python {}, rust {}", show(p), show(r))
            })
        })
        .collect()
}

/// The differences between two bodies: the values (parsed exactly) that
/// differ, else where the bytes first differ.
pub fn body(python: &[u8], rust: &[u8]) -> Vec<String> {
    if python == rust {
        return Vec::new();
    }
    let mut found = Vec::new();
    if let (Ok(p), Ok(r)) = (Json::parse(python), Json::parse(rust)) {
        values("", &p, &r, &mut found);
        if found.len() > MAX_BODY_DIFFERENCES {
            let more = found.len() - MAX_BODY_DIFFERENCES;
            found.truncate(MAX_BODY_DIFFERENCES);
            found.push(format!("… and {more} more values"));
        }
    }
    if found.is_empty() {
        let offset = python
            .iter()
            .zip(rust)
            .position(|(p, r)| p != r)
            .unwrap_or_else(|| python.len().min(rust.len()));
        let around = |bytes: &[u8]| {
            let start = offset.saturating_sub(20);
            let end = (offset + 40).min(bytes.len());
            format!("`{}`", String::from_utf8_lossy(&bytes[start.min(end)..end]))
        };
        found.push(format!(
            "bytes differ from byte {offset} ({} bytes for python, {} for rust): python {}, rust {}",
            python.len(),
            rust.len(),
            around(python),
            around(rust)
        ));
    }
    found
}

/// The values of two parsed bodies that differ, by JSON pointer.
fn values(pointer: &str, python: &Json, rust: &Json, found: &mut Vec<String>) {
    let at = |pointer: &str| {
        if pointer.is_empty() {
            "(the whole body)".to_string()
        } else {
            format!("`{pointer}`")
        }
    };
    match (python, rust) {
        (Json::Object(p), Json::Object(r)) => {
            for (key, value) in p {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match r.iter().find(|(k, _)| k == key) {
                    Some((_, other)) => values(&child, value, other, found),
                    None => found.push(format!(
                        "{}: python {}, rust absent",
                        at(&child),
                        show(value)
                    )),
                }
            }
            for (key, value) in r {
                if !p.iter().any(|(k, _)| k == key) {
                    let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    found.push(format!(
                        "{}: python absent, rust {}",
                        at(&child),
                        show(value)
                    ));
                }
            }
            let order = |members: &[(String, Json)]| -> Vec<String> {
                members.iter().map(|(key, _)| key.clone()).collect()
            };
            let (po, ro) = (order(p), order(r));
            if po.len() == ro.len() && po != ro && po.iter().all(|key| ro.contains(key)) {
                found.push(format!(
                    "{}: key order python {:?}, rust {:?}",
                    at(pointer),
                    po,
                    ro
                ));
            }
        }
        (Json::Array(p), Json::Array(r)) => {
            for index in 0..p.len().max(r.len()) {
                let child = format!("{pointer}/{index}");
                match (p.get(index), r.get(index)) {
                    (Some(pv), Some(rv)) => values(&child, pv, rv, found),
                    (Some(pv), None) => {
                        found.push(format!("{}: python {}, rust absent", at(&child), show(pv)))
                    }
                    (None, Some(rv)) => {
                        found.push(format!("{}: python absent, rust {}", at(&child), show(rv)))
                    }
                    (None, None) => {}
                }
            }
        }
        (p, r) if p != r => found.push(format!(
            "{}: python {}, rust {}",
            at(pointer),
            show(p),
            show(r)
        )),
        _ => {}
    }
}

fn show(value: &Json) -> String {
    shorten(&value.to_python_json())
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN {
        return text.to_string();
    }
    let kept: String = text.chars().take(MAX_SHOWN).collect();
    format!("{kept}…")
}

/// The files left in the data directory, by name and content.
fn files(python: &[(String, Vec<u8>)], rust: &[(String, Vec<u8>)]) -> Vec<Difference> {
    let mut found = Vec::new();
    for (name, content) in python {
        let subject = format!("data directory file `{name}`");
        match rust.iter().find(|(other, _)| other == name) {
            None => found.push(Difference {
                subject,
                detail: "left by python only".into(),
            }),
            Some((_, other)) => {
                for detail in body(content, other) {
                    found.push(Difference {
                        subject: subject.clone(),
                        detail: format!("content {detail}"),
                    });
                }
            }
        }
    }
    for (name, _) in rust {
        if !python.iter().any(|(other, _)| other == name) {
            found.push(Difference {
                subject: format!("data directory file `{name}`"),
                detail: "left by rust only".into(),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(server: &'static str, query: Option<&str>, body: &str) -> Seen {
        Seen {
            server,
            method: "POST".into(),
            path: "/v2/lamps".into(),
            query: query.map(str::to_string),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            status: 200,
        }
    }

    #[test]
    fn integers_beyond_64_bits_differing_in_the_last_digit_are_a_difference() {
        let python = br#"{"id": 123456789012345678901234567890}"#;
        let rust = br#"{"id": 123456789012345678901234567891}"#;
        assert_eq!(
            body(python, rust),
            ["`/id`: python 123456789012345678901234567890, rust 123456789012345678901234567891"]
        );
        // As f64 both are the same number: a naive comparison sees nothing.
        assert_eq!(
            "123456789012345678901234567890".parse::<f64>().unwrap(),
            "123456789012345678901234567891".parse::<f64>().unwrap()
        );
    }

    #[test]
    fn floats_are_compared_exactly_and_integers_are_not_floats() {
        let found = body(
            br#"{"a": 0.30000000000000004, "b": 1, "c": [1.5]}"#,
            br#"{"a": 0.3, "b": 1.0, "c": [1.5, 2]}"#,
        );
        assert_eq!(
            found,
            [
                "`/a`: python 0.30000000000000004, rust 0.3",
                "`/b`: python 1, rust 1.0",
                "`/c/1`: python absent, rust 2",
            ]
        );
    }

    #[test]
    fn astral_characters_are_compared_as_characters_and_as_bytes() {
        // The same value, escaped by Python (`ensure_ascii`) and not by a naive port.
        let python = br#"{"name": "\ud835\udd0f \"x\""}"#;
        let rust = "{\"name\": \"𝔏 \\\"x\\\"\"}".as_bytes();
        let found = body(python, rust);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("bytes differ from byte 10"),
            "{found:?}"
        );
        // Two astral characters differing in their low surrogate only.
        let found = body(
            br#"{"name": "\ud835\udd0f"}"#,
            br#"{"name": "\ud835\udd10"}"#,
        );
        assert_eq!(
            found,
            [r#"`/name`: python "\ud835\udd0f", rust "\ud835\udd10""#]
        );
        assert!(body("𝔏".as_bytes(), "𝔏".as_bytes()).is_empty());
    }

    #[test]
    fn key_order_and_extra_keys_are_named() {
        let found = body(br#"{"a": 1, "b": 2}"#, br#"{"b": 2, "a": 1}"#);
        assert_eq!(
            found,
            [r#"(the whole body): key order python ["a", "b"], rust ["b", "a"]"#]
        );
        let found = body(br#"{"a/b": {"c~": 1}}"#, br#"{"a/b": {}}"#);
        assert_eq!(found, ["`/a~1b/c~0`: python 1, rust absent"]);
    }

    #[test]
    fn requests_are_compared_field_by_field_and_order_is_named() {
        let p = [
            seen("vendor", Some("verbose=true&limit=5"), "{}"),
            seen("platform", None, "{}"),
        ];
        let r = [
            seen("vendor", Some("verbose=true"), r#"{"limit": 5}"#),
            seen("platform", None, "{}"),
        ];
        let found: Vec<String> = requests(&p, &r).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "request 1 (vendor POST /v2/lamps): query parameter `limit`: python `5`, rust absent",
                "request 1 (vendor POST /v2/lamps): body `/limit`: python absent, rust 5",
            ]
        );
        let a = seen("vendor", Some("a=1"), "{}");
        let b = seen("platform", None, "{}");
        let found = requests(&[a.clone(), b.clone()], &[b.clone(), a.clone()]);
        assert_eq!(
            found.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "request 1 (vendor POST /v2/lamps): order: python sent it as request 1, rust as request 2"
            ]
        );
        // A request more on one side: the others are still compared with their counterparts.
        let mut changed = b.clone();
        changed.body = br#"{"x": 1}"#.to_vec();
        let found = requests(&[a.clone(), b.clone()], &[changed]);
        assert_eq!(
            found.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "request 1 (vendor POST /v2/lamps): sent by python only",
                "request 2 (platform POST /v2/lamps) (rust's request 1): body `/x`: python absent, rust 1",
            ]
        );
        assert!(requests(&p, &p).is_empty());
        let found = requests(&p, &p[..1]);
        assert_eq!(
            found[0].to_string(),
            "request 2 (platform POST /v2/lamps): sent by python only"
        );
    }

    #[test]
    fn headers_are_compared_by_name() {
        let mut p = seen("vendor", None, "");
        let mut r = p.clone();
        p.headers
            .push(("authorization".into(), "Bearer {token}".into()));
        r.headers.push(("accept".into(), "application/json".into()));
        let found: Vec<String> = request(0, 0, &p, &r)
            .iter()
            .map(|d| d.detail.clone())
            .collect();
        assert_eq!(
            found,
            [
                "header `authorization`: python `Bearer {token}`, rust absent",
                "header `accept`: python absent, rust `application/json`",
            ]
        );
    }
}
