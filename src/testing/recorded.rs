//! [`RecordedRequest`]: what the local platform received, and what it answered.

use std::net::SocketAddr;
use std::time::Instant;

use serde_json::Value;

/// One request received by the [`LocalPlatform`](super::LocalPlatform), as the
/// platform saw it, with the status it answered.
///
/// Requests are recorded in arrival order, faulted ones included, and listed
/// by [`LocalPlatform::requests`](super::LocalPlatform::requests).
///
/// ```
/// # use sekoia_automation::testing::LocalPlatform;
/// let platform = LocalPlatform::start()?;
/// ureq::post(format!("{}/batch", platform.intake_url()))
///     .header("Content-Type", "application/json")
///     .send(r#"{"intake_key": "k", "jsons": ["{}"]}"#)?;
/// let request = &platform.requests()[0];
/// assert_eq!(request.method, "POST");
/// assert_eq!(request.path, "/intake/batch");
/// assert_eq!(request.header("content-type"), Some("application/json"));
/// assert_eq!(request.json().unwrap()["intake_key"], "k");
/// assert_eq!(request.status, 200);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The request method, as sent (`"PATCH"`, `"POST"`, `"GET"`, ...).
    pub method: String,
    /// The request path, without the query string (`"/api/v1/symphony/callback"`).
    pub path: String,
    /// The query string, without the `?`, when the target had one.
    pub query: Option<String>,
    /// The header fields, in the order and with the name case they were sent.
    pub headers: Vec<(String, String)>,
    /// The request body, de-chunked when it was sent with
    /// `Transfer-Encoding: chunked`; empty when the body was refused (413).
    pub body: Vec<u8>,
    /// The status the platform answered; `0` when a
    /// [`Fault::drop_connection`](super::Fault::drop_connection) closed the
    /// connection without answering.
    pub status: u16,
    /// The client's address: requests sent over one connection share it.
    pub peer: SocketAddr,
    /// When the request (head and body) was fully received.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The value of the first header field named `name`, compared
    /// case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, `None` when it is not JSON (or empty).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text, invalid UTF-8 replaced by `U+FFFD`.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The path's last segment (`"callback"`, `"logs"`, `"secrets"`,
    /// `"batch"`), the part the platform routes on.
    pub fn route(&self) -> &str {
        last_segment(&self.path)
    }
}

/// The last non-empty segment of a path: `"/a/b/"` → `"b"`.
pub(crate) fn last_segment(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}
