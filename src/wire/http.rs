//! The HTTP client that talks to the platform ([protocol §2](crate::protocol#2-requests-to-the-platform)).
//!
//! One keep-alive agent per process (see [`transport`](super::transport)),
//! so connections are reused; a bearer token on every request to the
//! platform; one overall deadline per attempt (30 s by default, as the Python
//! SDK's `timeout=30`, but holding even when an answer trickles in); network
//! errors and 5xx retried up to 10 attempts, waiting `unit × 2^attempt`
//! between them (the Python SDK's `2^attempt` seconds with the default 1 s
//! unit; a `Retry-After` header is not read, as the Python SDK does not:
//! no answer shortens a wait); 4xx failing at once with its status kept in
//! the error; a redirect (3xx) never followed and failing at once
//! ([`HttpError::Redirected`], with its `Location`): a request redirected
//! is not a request delivered. This is the
//! crate's one retry loop: platform requests, event POSTs and log POSTs all
//! go through [`PlatformClient::send`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::secret::Secret;

/// Attempts per request, as in the Python SDK.
pub const MAX_ATTEMPTS: u32 = 10;
/// Default overall deadline of one attempt, as the Python SDK's timeout.
pub use crate::config::settings::DEFAULT_DEADLINE;
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("sekoia-automation-rust/", env!("CARGO_PKG_VERSION"));
/// Largest response body read (the platform's answers are small).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The crate's one HTTP method type: the vendor client's (the platform
/// uses `GET`, `POST` and `PATCH` of it, the S3 file backend `PUT`, `HEAD`
/// and `DELETE` too).
pub use crate::vendor::Method;

/// Why a request to the platform failed. Never contains the token.
///
/// ```
/// use sekoia_automation::trigger::HttpError;
///
/// fn retry_later(error: &HttpError) -> bool {
///     match error {
///         HttpError::Status { status, .. } => *status >= 500,
///         // The cause, a `HttpTransportError`, says which system error it was.
///         HttpError::Transport { cause, .. } => cause.io_error().is_some(),
///         _ => false,
///     }
/// }
/// # let _ = retry_later;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The platform answered an error status (4xx at once, 5xx after the last attempt).
    #[error("{method} {url} answered HTTP {status} after {attempts} attempt(s){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    #[non_exhaustive]
    Status {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The last status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The start of the answer's body, if any.
        message: Option<String>,
    },
    /// The platform answered a redirect (3xx). Redirects are never followed
    /// (a POST redirected and answered 200 elsewhere did not reach the
    /// platform), so the request was not delivered; not retried.
    #[error("{method} {url} answered HTTP {status}, a redirect{}: redirects are not followed, so the request was not delivered. Check the configured URL: it must name the endpoint itself (for the platform: `url_callback`, `url_logs`, `url_secrets`; for S3: `aws_s3_endpoint_url` and `aws_default_region`)", location.as_deref().map(|l| format!(" to `{l}`")).unwrap_or_else(|| " without a `Location`".to_owned()))]
    #[non_exhaustive]
    Redirected {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The status (300 to 399).
        status: u16,
        /// The start of the answer's `Location` header, if it had one.
        location: Option<String>,
    },
    /// No answer: connection refused or dropped, timeout, DNS...
    #[error(
        "{method} {url} failed after {attempts} attempt(s): {cause}. Check that the platform is reachable"
    )]
    #[non_exhaustive]
    Transport {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        cause: TransportError,
    },
    /// Retrying was abandoned because the item is stopping.
    #[error(
        "{method} {url} was abandoned after {attempts} attempt(s) because the module is stopping"
    )]
    #[non_exhaustive]
    Interrupted {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The URL cannot be used.
    #[error(
        "the URL `{url}` cannot be used: {detail}. Check `url_callback` (and `url_logs`, `url_secrets`, `intake_url`)"
    )]
    #[non_exhaustive]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The answer is not the JSON that was expected.
    #[error("{method} {url} answered a body that is not the expected JSON: {cause}")]
    #[non_exhaustive]
    InvalidResponse {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The parser's error.
        cause: serde_json::Error,
    },
    /// The request body could not be serialized.
    #[error("cannot serialize the request body for {url}: {cause}")]
    #[non_exhaustive]
    Body {
        /// The URL.
        url: String,
        /// Serde's error.
        cause: serde_json::Error,
    },
}

impl HttpError {
    /// The system's error behind a [transport](HttpError::Transport)
    /// failure, if it was one (a refused or reset connection...): its
    /// [`kind`](std::io::Error::kind) says which.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            HttpError::Transport { cause, .. } => cause.io_error(),
            _ => None,
        }
    }

    /// The HTTP status the platform answered, if it answered (a 3xx for a
    /// [redirect](HttpError::Redirected)).
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } | HttpError::Redirected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// An answer from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (2xx from [`PlatformClient`]: 3xx, 4xx and 5xx are
    /// [`HttpError`]s).
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `Location` header of a redirect (3xx) answer; `None` otherwise.
    pub location: Option<String>,
    /// The `Retry-After` header, when the answer has one (read by the
    /// asset connector's push on a 429).
    pub retry_after: Option<String>,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method.
    pub method: Method,
    /// The URL.
    pub url: &'a str,
    /// A JSON body, already serialized.
    pub body: Option<&'a [u8]>,
    /// Whether to send `Authorization: Bearer <token>` (the intake does not want it).
    pub authenticated: bool,
    /// Extra headers.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// An authenticated request without body or extra headers.
    pub fn new(method: Method, url: &'a str) -> Self {
        Request {
            method,
            url,
            body: None,
            authenticated: true,
            headers: &[],
        }
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }
}

type Sleeper = Arc<dyn Fn(Duration) -> bool + Send + Sync>;

/// The module's client for the platform.
#[derive(Clone)]
pub struct PlatformClient {
    agent: ureq::Agent,
    deadline: Duration,
    authorization: Secret<String>,
    backoff_unit: Duration,
    max_attempts: u32,
    sleeper: Sleeper,
}

impl fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformClient")
            .field("authorization", &self.authorization)
            .field("backoff_unit", &self.backoff_unit)
            .field("max_attempts", &self.max_attempts)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl PlatformClient {
    /// A client authenticating with `token`, on the process's shared agent.
    pub fn new(token: Secret<String>) -> Self {
        PlatformClient {
            agent: super::transport::agent(DEFAULT_DEADLINE),
            deadline: DEFAULT_DEADLINE,
            authorization: Secret::new(format!("Bearer {}", token.expose())),
            backoff_unit: Duration::from_secs(1),
            max_attempts: MAX_ATTEMPTS,
            sleeper: Arc::new(|duration| {
                std::thread::sleep(duration);
                true
            }),
        }
    }

    /// Sets the backoff unit: attempt `n` failing waits `unit × 2^n`.
    pub fn with_backoff(mut self, unit: Duration) -> Self {
        self.backoff_unit = unit;
        self
    }

    /// Sets the overall deadline of one attempt (connection, request and
    /// answer): an attempt still unanswered then fails as a network error,
    /// and is retried.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self.agent = super::transport::agent(deadline);
        self
    }

    /// Sets the number of attempts (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Replaces how the client waits between attempts: the function sleeps for
    /// the duration and returns `false` to abandon the request (a stopping
    /// trigger).
    pub fn with_sleeper(
        mut self,
        sleeper: impl Fn(Duration) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// The backoff unit.
    pub fn backoff_unit(&self) -> Duration {
        self.backoff_unit
    }

    /// `PATCH url` with a JSON body written as the Python SDK writes it.
    pub fn patch_json<T: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<Response, HttpError> {
        self.send_json(Method::Patch, url, body)
    }

    /// `POST url` with a JSON body written as the Python SDK writes it.
    pub fn post_json<T: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<Response, HttpError> {
        self.send_json(Method::Post, url, body)
    }

    /// `GET url`.
    pub fn get(&self, url: &str) -> Result<Response, HttpError> {
        self.send(&Request::new(Method::Get, url))
    }

    fn send_json<T: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: &T,
    ) -> Result<Response, HttpError> {
        let bytes = crate::wire::python_json::to_vec(body).map_err(|source| HttpError::Body {
            url: url.to_string(),
            cause: source,
        })?;
        self.send(&Request::new(method, url).body(&bytes))
    }

    /// Sends a request, retrying network errors and 5xx answers with the same body.
    pub fn send(&self, request: &Request<'_>) -> Result<Response, HttpError> {
        self.send_with(request, |request| self.attempt(request))
    }

    /// The `Authorization` header value.
    pub(crate) fn authorization(&self) -> &str {
        self.authorization.expose()
    }

    /// The overall deadline of one attempt.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The crate's one retry loop: `attempt` makes one try (the agent, or
    /// the event sender's keep-alive connection), this decides what is
    /// retried, how long to wait, and when to give up.
    pub(crate) fn send_with(
        &self,
        request: &Request<'_>,
        mut attempt_once: impl FnMut(&Request<'_>) -> Result<Response, ureq::Error>,
    ) -> Result<Response, HttpError> {
        let mut attempt = 1;
        loop {
            let failure = match attempt_once(request) {
                Ok(response) if response.status < 300 => return Ok(response),
                Ok(response) if response.status < 400 => {
                    return Err(HttpError::Redirected {
                        method: request.method,
                        url: request.url.to_string(),
                        status: response.status,
                        location: response
                            .location
                            .as_deref()
                            .and_then(|l| excerpt(l.as_bytes())),
                    });
                }
                Ok(response) => {
                    let error = HttpError::Status {
                        method: request.method,
                        url: request.url.to_string(),
                        status: response.status,
                        attempts: attempt,
                        message: excerpt(&response.body),
                    };
                    if response.status < 500 {
                        return Err(error);
                    }
                    error
                }
                // A refused certificate, an unusable bundle: said at once.
                Err(source) if super::environment::is_final(&source) => {
                    return Err(HttpError::Transport {
                        method: request.method,
                        url: request.url.to_string(),
                        attempts: attempt,
                        cause: TransportError(source),
                    });
                }
                Err(source) if is_retryable(&source) => HttpError::Transport {
                    method: request.method,
                    url: request.url.to_string(),
                    attempts: attempt,
                    cause: TransportError(source),
                },
                Err(source) => {
                    return Err(HttpError::InvalidUrl {
                        url: request.url.to_string(),
                        detail: source.to_string(),
                    });
                }
            };
            if attempt >= self.max_attempts {
                return Err(failure);
            }
            let wait = self.backoff_unit.saturating_mul(1u32 << attempt.min(20));
            log::warn!("{failure}; retrying in {wait:?}");
            if !(self.sleeper)(wait) {
                return Err(HttpError::Interrupted {
                    method: request.method,
                    url: request.url.to_string(),
                    attempts: attempt,
                });
            }
            attempt += 1;
        }
    }

    /// One try of `request` on the agent (no retry).
    pub(crate) fn attempt(&self, request: &Request<'_>) -> Result<Response, ureq::Error> {
        let url = request.url;
        let proxy = super::environment::Environment::process().route(url)?;
        let mut response = match request.method {
            Method::Get | Method::Head | Method::Delete => {
                let mut builder = match request.method {
                    Method::Head => self.agent.head(url),
                    Method::Delete => self.agent.delete(url),
                    _ => self.agent.get(url),
                }
                .config()
                .proxy(proxy)
                .build();
                if request.authenticated {
                    builder = builder.header("Authorization", self.authorization.expose());
                }
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                builder.call()?
            }
            Method::Post | Method::Patch | Method::Put => {
                let mut builder = match request.method {
                    Method::Post => self.agent.post(url),
                    Method::Put => self.agent.put(url),
                    _ => self.agent.patch(url),
                }
                .config()
                .proxy(proxy)
                .build();
                if request.authenticated {
                    builder = builder.header("Authorization", self.authorization.expose());
                }
                for (name, value) in request.headers {
                    builder = builder.header(*name, *value);
                }
                match request.body {
                    Some(body) => builder
                        .header("Content-Type", "application/json")
                        .send(body)?,
                    None => builder.send_empty()?,
                }
            }
            other => {
                return Err(ureq::Error::BadUri(format!(
                    "the platform client does not send {other} requests"
                )));
            }
        };
        let status = response.status().as_u16();
        let location = (300..400)
            .contains(&status)
            .then(|| response.headers().get("location"))
            .flatten()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()?;
        Ok(Response {
            status,
            body,
            location,
            retry_after,
        })
    }
}

impl Response {
    /// The body parsed as `T`; an empty body parses as JSON `null`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_slice(b"null")
        } else {
            serde_json::from_slice(&self.body)
        }
    }
}

fn is_retryable(error: &ureq::Error) -> bool {
    !matches!(
        error,
        ureq::Error::BadUri(_)
            | ureq::Error::Http(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::RequireHttpsOnly(_)
    )
}

/// Why an attempt got no answer: connection refused or reset, the deadline
/// passed, a name that does not resolve...
///
/// Public as `sekoia_automation::trigger::HttpTransportError`, the cause of
/// [`HttpError::Transport`]:
///
/// ```
/// use sekoia_automation::trigger::{HttpError, HttpTransportError};
/// use std::io::ErrorKind;
///
/// fn refused(error: &HttpError) -> bool {
///     let cause: Option<&HttpTransportError> = match error {
///         HttpError::Transport { cause, .. } => Some(cause),
///         _ => None,
///     };
///     cause.and_then(HttpTransportError::io_error).is_some_and(|io| io.kind() == ErrorKind::ConnectionRefused)
/// }
/// # let _ = refused;
/// ```
#[derive(Debug)]
pub struct TransportError(ureq::Error);

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(refusal) = super::environment::refusal(&self.0) {
            return f.write_str(&refusal);
        }
        match &self.0 {
            ureq::Error::Timeout(_) => {
                f.write_str("no complete answer within the request deadline")
            }
            ureq::Error::Io(error) => write!(f, "{error}"),
            other => write!(f, "{other}"),
        }
    }
}

impl std::error::Error for TransportError {}

impl TransportError {
    /// The system's error, when the failure was one (a refused or reset
    /// connection...): its [`kind`](std::io::Error::kind) says which.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match &self.0 {
            ureq::Error::Io(error) => Some(error),
            _ => None,
        }
    }
}

/// The start of an answer's body, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    Some(short)
}

#[cfg(test)]
mod examples {
    // Compiled, not run (it would need a platform or a signal).
    #[allow(dead_code)]
    fn platform_client_example() -> Result<(), crate::trigger::HttpError> {
        use crate::{Secret, wire::http::PlatformClient};
        use std::time::Duration;

        let client = PlatformClient::new(Secret::new("token".to_string()))
            .with_backoff(Duration::from_millis(10));
        let answer = client.patch_json(
            "http://127.0.0.1:8080/callback",
            &serde_json::json!({"status": "running"}),
        )?;
        assert_eq!(answer.status, 200);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// Reads one request (head and `Content-Length` body) off `stream`.
    fn read_request(stream: &mut TcpStream) -> Vec<u8> {
        let mut request = Vec::new();
        let mut buffer = [0u8; 64 * 1024];
        loop {
            let read = stream.read(&mut buffer).unwrap_or(0);
            if read == 0 {
                return request;
            }
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    return request;
                }
            }
        }
    }

    fn client() -> PlatformClient {
        PlatformClient::new(Secret::new("t".to_string()))
            .with_backoff(Duration::from_millis(1))
            .with_max_attempts(3)
    }

    #[test]
    fn an_answer_trickling_past_the_deadline_is_abandoned_and_retried() {
        // One byte every 100 ms: no single read ever waits long, so only an
        // overall deadline (here 1 s; 30 s by default) ends the attempt.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let (trickled, bytes_trickled) = mpsc::channel();
        let server = thread::spawn(move || {
            let (mut first, _) = listener.accept().unwrap();
            read_request(&mut first);
            first.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").unwrap();
            let mut sent = 0;
            // 600 bytes would take a minute: the client gives up long before.
            while sent < 600 && first.write_all(b"a").is_ok() {
                sent += 1;
                thread::sleep(Duration::from_millis(100));
                // A closed connection shows on the write after the reset.
            }
            trickled.send(sent).unwrap();
            let (mut second, _) = listener.accept().unwrap();
            read_request(&mut second);
            second
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
        });
        let response = client()
            .with_deadline(Duration::from_secs(1))
            .post_json(&url, &serde_json::json!({"event": 1}))
            .unwrap();
        assert_eq!((response.status, &response.body[..]), (200, &b"{}"[..]));
        let sent = bytes_trickled.recv().unwrap();
        assert!(sent < 600, "the first attempt was abandoned mid-answer");
        server.join().unwrap();
    }

    /// Reads and drops up to 1 MiB of what the client still sends, for at
    /// most a second.
    fn linger(stream: &mut TcpStream) {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        let mut drained = 0;
        let mut scratch = [0; 8192];
        while drained < 1 << 20 && std::time::Instant::now() < deadline {
            match stream.read(&mut scratch) {
                Ok(0) | Err(_) => break,
                Ok(read) => drained += read,
            }
        }
    }

    #[test]
    fn a_413_answered_while_the_body_is_written_is_that_status_not_a_broken_pipe() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let server = thread::spawn(move || {
            let mut connections = 0;
            listener.set_nonblocking(false).unwrap();
            let (mut stream, _) = listener.accept().unwrap();
            connections += 1;
            // As an intake refusing a body does: read the head only, answer
            // in one segment (no Nagle delay: a segment held back is lost
            // when the connection is reset), close the writing side after
            // it, read a bounded part of the body (a lingering close, so the
            // answer and its FIN reach the client first), then close with
            // the rest of the body unread: a reset, which the client's
            // writes meet (the 32 MiB body is far from all read).
            stream.set_nodelay(true).unwrap();
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let answer = br#"{"message": "request body too large"}"#;
            let mut response = format!(
                "HTTP/1.1 413 Content Too Large\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                answer.len()
            )
            .into_bytes();
            response.extend_from_slice(answer);
            stream.write_all(&response).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            linger(&mut stream);
            drop(stream);
            // A retry would connect again: count it.
            listener.set_nonblocking(true).unwrap();
            thread::sleep(Duration::from_millis(300));
            connections + usize::from(listener.accept().is_ok())
        });
        let body = vec![b' '; 32 * 1024 * 1024];
        let error = client()
            .send(&Request::new(Method::Patch, &url).body(&body))
            .unwrap_err();
        assert_eq!(error.status(), Some(413), "{error}");
        assert!(
            matches!(error, HttpError::Status { attempts: 1, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("request body too large"),
            "{error}"
        );
        assert_eq!(server.join().unwrap(), 1, "not retried");
    }
}
