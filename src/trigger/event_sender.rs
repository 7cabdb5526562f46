//! How a trigger's events reach `url_callback`: PROTOCOL §2's retries (the
//! same body, so the same `request_id`, for network errors and 5xx; a 4xx at
//! once) over a lean HTTP/1.1 keep-alive connection.
//!
//! Events are a trigger's hot path: a busy trigger sends thousands per
//! second, one at a time (each must be acknowledged before the next). Over
//! plain `http://` (the platform's in-cluster URL, the local platform) they
//! go through a connection of their own: one request written in one `write`, the answer
//! parsed in place, the connection checked for staleness only after it sat
//! idle. That is about twice the rate of the general-purpose client, whose
//! per-request work (a liveness probe of the pooled connection, head and
//! body written apart) dominates on loopback. `https://` URLs, and URLs this
//! parser does not take, go through the shared [`PlatformClient`].

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::secret::Secret;
use crate::wire::http::{
    HttpError, MAX_ATTEMPTS, Method, PlatformClient, Request, TIMEOUT, USER_AGENT, excerpt,
};

/// A connection idle for longer is probed before reuse (the server may have
/// closed it).
const IDLE_PROBE: Duration = Duration::from_secs(1);
/// The largest answer head read.
const MAX_HEAD: usize = 64 * 1024;
/// The largest answer body read.
const MAX_BODY: u64 = 64 * 1024 * 1024;

type Sleeper = Arc<dyn Fn(Duration) -> bool + Send + Sync>;

/// Sends event bodies to `url_callback` with the §2 retries, over a
/// keep-alive connection of its own for `http://` URLs (the given client
/// otherwise). Used from one thread (it is not `Sync`).
pub struct EventSender {
    ids: RefCell<RequestIds>,
    url: String,
    fast: Option<RefCell<KeepAlive>>,
    client: PlatformClient,
    backoff_unit: Duration,
    sleeper: Sleeper,
}

impl std::fmt::Debug for EventSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSender")
            .field("url", &self.url)
            .field("keep_alive", &self.fast.is_some())
            .finish_non_exhaustive()
    }
}

impl EventSender {
    /// A sender to `url` authenticating with `token`; `client` (its backoff
    /// unit, and its transport for URLs other than `http://`) does the rest.
    /// Waits between attempts are plain sleeps until
    /// [`with_sleeper`](Self::with_sleeper).
    pub fn new(url: &str, token: &Secret<String>, client: PlatformClient) -> Self {
        let authorization = format!("Bearer {}", token.expose());
        EventSender {
            ids: RefCell::new(RequestIds::new()),
            url: url.to_string(),
            fast: KeepAlive::for_url(url, &authorization).map(RefCell::new),
            backoff_unit: client.backoff_unit(),
            client,
            sleeper: Arc::new(|wait| {
                std::thread::sleep(wait);
                true
            }),
        }
    }

    /// Replaces how the sender waits between attempts: the function sleeps
    /// for the duration and returns `false` to abandon the send (a stopping
    /// trigger).
    pub fn with_sleeper(
        mut self,
        sleeper: impl Fn(Duration) -> bool + Send + Sync + 'static,
    ) -> Self {
        let sleeper: Sleeper = Arc::new(sleeper);
        self.client = self.client.with_sleeper({
            let sleeper = Arc::clone(&sleeper);
            move |wait| sleeper(wait)
        });
        self.sleeper = sleeper;
        self
    }

    /// A fresh UUIDv4 for an event's `request_id`.
    pub fn request_id(&self) -> uuid::Uuid {
        self.ids.borrow_mut().next()
    }

    /// `POST url_callback` with `body`, retried as PROTOCOL §2 says.
    pub fn send(&self, body: &[u8]) -> Result<(), HttpError> {
        let Some(fast) = &self.fast else {
            return self
                .client
                .send(&Request::new(Method::Post, &self.url).body(body))
                .map(drop);
        };
        let mut attempt = 1;
        loop {
            let result = fast.borrow_mut().post(body);
            let failure = match result {
                Ok(answer) if answer.status < 400 => return Ok(()),
                Ok(answer) => {
                    let error = HttpError::Status {
                        method: Method::Post,
                        url: self.url.clone(),
                        status: answer.status,
                        attempts: attempt,
                        message: excerpt(&answer.body),
                    };
                    if answer.status < 500 {
                        return Err(error);
                    }
                    error
                }
                Err(source) => HttpError::Transport {
                    method: Method::Post,
                    url: self.url.clone(),
                    attempts: attempt,
                    source: ureq::Error::Io(source),
                },
            };
            if attempt >= MAX_ATTEMPTS {
                return Err(failure);
            }
            let wait = self.backoff_unit.saturating_mul(1u32 << attempt.min(20));
            log::warn!("{failure}; retrying in {wait:?}");
            if !(self.sleeper)(wait) {
                return Err(HttpError::Interrupted {
                    method: Method::Post,
                    url: self.url.clone(),
                    attempts: attempt,
                });
            }
            attempt += 1;
        }
    }
}

/// UUIDv4s from the operating system's randomness, read 4 KiB at a time
/// (one system call per 256 ids instead of one per id).
struct RequestIds {
    source: Option<std::fs::File>,
    buffer: Box<[u8; 4096]>,
    used: usize,
}

impl RequestIds {
    fn new() -> Self {
        RequestIds {
            source: std::fs::File::open("/dev/urandom").ok(),
            buffer: Box::new([0; 4096]),
            used: 4096,
        }
    }

    fn next(&mut self) -> uuid::Uuid {
        if self.used == self.buffer.len() {
            let filled = self
                .source
                .as_mut()
                .is_some_and(|source| source.read_exact(&mut self.buffer[..]).is_ok());
            if !filled {
                self.source = None;
                return uuid::Uuid::new_v4();
            }
            self.used = 0;
        }
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&self.buffer[self.used..self.used + 16]);
        self.used += 16;
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// An answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// One HTTP/1.1 connection reused for the POSTs to one `http://` URL.
pub(crate) struct KeepAlive {
    host: String,
    port: u16,
    /// The request head up to `Content-Length: `.
    head: Vec<u8>,
    request: Vec<u8>,
    connection: Option<Connection>,
}

struct Connection {
    stream: BufReader<TcpStream>,
    last_used: Instant,
}

impl KeepAlive {
    /// A connection for `url`, `None` unless it is a plain `http://` URL
    /// without user information (the fallback client handles the rest).
    pub(crate) fn for_url(url: &str, authorization: &str) -> Option<KeepAlive> {
        let rest = url
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        let target = target.split('#').next().unwrap_or("");
        let target = if target.is_empty() {
            "/".to_string()
        } else if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_string()
        };
        let printable = |text: &str| text.bytes().all(|b| b.is_ascii_graphic());
        if authority.is_empty()
            || authority.contains('@')
            || !printable(authority)
            || !printable(&target)
            || !authorization
                .bytes()
                .all(|b| b == b' ' || b.is_ascii_graphic())
        {
            return None;
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse().ok()?,
                None if after.is_empty() => 80,
                None => return None,
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), port.parse().ok()?),
                None => (authority.to_string(), 80),
            }
        };
        let head = format!(
            "POST {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: "
        )
        .into_bytes();
        Some(KeepAlive {
            host,
            port,
            head,
            request: Vec::with_capacity(4096),
            connection: None,
        })
    }

    /// One attempt: the request written, the answer read. Any error drops
    /// the connection (the next attempt opens a new one).
    pub(crate) fn post(&mut self, body: &[u8]) -> io::Result<Answer> {
        let mut connection = match self.connection.take() {
            Some(connection) if connection.usable() => connection,
            _ => self.connect()?,
        };
        self.request.clear();
        self.request.extend_from_slice(&self.head);
        self.request
            .extend_from_slice(body.len().to_string().as_bytes());
        self.request.extend_from_slice(b"\r\n\r\n");
        self.request.extend_from_slice(body);
        connection.stream.get_mut().write_all(&self.request)?;
        let (answer, keep) = read_answer(&mut connection.stream)?;
        if keep {
            connection.last_used = Instant::now();
            self.connection = Some(connection);
        }
        Ok(answer)
    }

    fn connect(&self) -> io::Result<Connection> {
        let mut last = None;
        for address in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(TIMEOUT))?;
                    stream.set_write_timeout(Some(TIMEOUT))?;
                    return Ok(Connection {
                        stream: BufReader::with_capacity(8 * 1024, stream),
                        last_used: Instant::now(),
                    });
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("`{}` resolves to no address", self.host),
            )
        }))
    }
}

impl Connection {
    /// Whether the connection can carry another request: recently used, or
    /// still open (no end of stream, no stray bytes) when probed.
    fn usable(&self) -> bool {
        if !self.stream.buffer().is_empty() {
            return false;
        }
        if self.last_used.elapsed() < IDLE_PROBE {
            return true;
        }
        let stream = self.stream.get_ref();
        if stream.set_nonblocking(true).is_err() {
            return false;
        }
        let probe = stream.peek(&mut [0u8; 1]);
        let restored = stream.set_nonblocking(false).is_ok();
        restored && matches!(probe, Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Reads an answer; `keep` tells whether the connection can be reused.
fn read_answer(stream: &mut BufReader<TcpStream>) -> io::Result<(Answer, bool)> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut budget = MAX_HEAD;
    loop {
        let line = read_line(stream, &mut budget)?;
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status: u16 = parts
            .next()
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid("the answer's status line is not HTTP"))?;
        let http11 = match version {
            "HTTP/1.1" => true,
            "HTTP/1.0" => false,
            _ => return Err(invalid("the answer is not HTTP/1.x")),
        };
        let mut length = None;
        let mut chunked = false;
        let mut keep = http11;
        loop {
            let line = read_line(stream, &mut budget)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(invalid("an answer header has no `:`"));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| invalid("invalid Content-Length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        keep = false;
                    } else if token.eq_ignore_ascii_case("keep-alive") && !http11 {
                        keep = true;
                    }
                }
            }
        }
        if (100..200).contains(&status) {
            // An interim answer (100 Continue): the final one follows.
            continue;
        }
        let body = if status == 204 || status == 304 {
            Vec::new()
        } else if chunked {
            read_chunked(stream)?
        } else if let Some(length) = length {
            if length > MAX_BODY {
                return Err(invalid("the answer's body is too large"));
            }
            let mut body = vec![0; length as usize];
            stream.read_exact(&mut body)?;
            body
        } else {
            // Delimited by the end of the connection.
            keep = false;
            let mut body = Vec::new();
            stream.take(MAX_BODY).read_to_end(&mut body)?;
            body
        };
        return Ok((Answer { status, body }, keep));
    }
}

fn read_chunked(stream: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut body = Vec::new();
    let mut budget = MAX_HEAD;
    loop {
        let line = read_line(stream, &mut budget)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| invalid("invalid chunk size in the answer"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(stream, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(invalid("the answer's body is too large"));
        }
        let start = body.len();
        body.resize(start + size as usize, 0);
        stream.read_exact(&mut body[start..])?;
        if !read_line(stream, &mut budget)?.is_empty() {
            return Err(invalid("a chunk of the answer is longer than announced"));
        }
    }
}

/// One line without its `\r\n` (or `\n`), counted against `budget`.
fn read_line(stream: &mut BufReader<TcpStream>, budget: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    loop {
        let available = stream.fill_buf()?;
        if available.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before the answer was complete",
            ));
        }
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        if taken > *budget {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the answer's head is too large",
            ));
        }
        *budget -= taken;
        line.extend_from_slice(&available[..taken]);
        stream.consume(taken);
        if done {
            break;
        }
    }
    while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the answer's head is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let mut ids = RequestIds::new();
        let all: std::collections::HashSet<uuid::Uuid> = (0..1000).map(|_| ids.next()).collect();
        assert_eq!(all.len(), 1000);
        assert!(
            all.iter()
                .all(|id| id.get_version_num() == 4 && id.get_variant() == uuid::Variant::RFC4122)
        );
    }

    #[test]
    fn only_plain_http_urls_take_the_fast_path() {
        let fast = KeepAlive::for_url("http://127.0.0.1:8080/api/v1/symphony/callback", "Bearer t")
            .unwrap();
        assert_eq!((fast.host.as_str(), fast.port), ("127.0.0.1", 8080));
        let head = String::from_utf8(fast.head).unwrap();
        assert!(
            head.starts_with("POST /api/v1/symphony/callback HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
        );
        let fast = KeepAlive::for_url("HTTP://[::1]/cb?x=1#frag", "Bearer t").unwrap();
        assert_eq!((fast.host.as_str(), fast.port), ("::1", 80));
        assert!(
            String::from_utf8(fast.head)
                .unwrap()
                .starts_with("POST /cb?x=1 HTTP/1.1\r\nHost: [::1]\r\n")
        );
        let fast = KeepAlive::for_url("http://platform?a", "Bearer t").unwrap();
        assert!(
            String::from_utf8(fast.head)
                .unwrap()
                .starts_with("POST /?a HTTP/1.1\r\nHost: platform\r\n")
        );
        for refused in [
            "https://api.sekoia.io/callback",
            "http://user:pass@host/callback",
            "http:///callback",
            "http://host:port/x",
            "http://host/a b",
            "ftp://host/x",
        ] {
            assert!(
                KeepAlive::for_url(refused, "Bearer t").is_none(),
                "{refused}"
            );
        }
        assert!(KeepAlive::for_url("http://host/x", "Bearer t\r\nX: y").is_none());
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn event_sender_example() -> Result<(), Box<dyn std::error::Error>> {
        use crate::testing::LocalPlatform;
        use crate::trigger::event_sender::EventSender;
        use crate::{Secret, wire::http::PlatformClient};

        let platform = LocalPlatform::start()?;
        let token = Secret::new(platform.token().to_string());
        let sender = EventSender::new(
            &platform.callback_url(),
            &token,
            PlatformClient::new(token.clone()),
        );
        let request_id = sender.request_id().to_string();
        let body = crate::trigger::context::event_body(
            "alert",
            &serde_json::json!({}),
            &request_id,
            None,
        )?;
        sender.send(&body)?;
        assert_eq!(
            platform.requests()[0].json().unwrap()["request_id"],
            request_id
        );
        Ok(())
    }
}
