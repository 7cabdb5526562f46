//! The event sender's own keep-alive connection for plain `http://` URLs:
//! one request written in one `write`, the answer parsed in place, the
//! connection probed only after it sat idle. `cargo bench --bench trigger`
//! measures it about three times as fast as the ureq agent per POST on
//! loopback, which is what a busy trigger's event rate rests on. It makes
//! one attempt only: the retries are [`PlatformClient::send_with`]'s, and
//! it keeps the agent's rules: no redirect followed (a 3xx answer, with its
//! `Location`, is handed to the retry loop, which fails it), one overall
//! deadline per attempt (every read
//! and write is given what is left of it, so a trickled answer ends at the
//! deadline), an answer sent while the body is still being written is read,
//! and a read interrupted by a signal is resumed.
//!
//! [`PlatformClient::send_with`]: super::http::PlatformClient::send_with

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::http::{Response, USER_AGENT};
use super::transport::stopped_reading;

/// A connection idle for longer is probed before reuse (the server may have
/// closed it).
const IDLE_PROBE: Duration = Duration::from_secs(1);
/// The largest answer head read.
const MAX_HEAD: usize = 64 * 1024;
/// The largest answer body read.
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// What is left before `deadline`, or a timeout error.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no complete answer within the request deadline",
        ))
    } else {
        Ok(left)
    }
}

/// A socket whose every read and write gets what is left of the attempt's
/// deadline; interrupted reads are resumed.
struct Timed {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for Timed {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            self.stream
                .set_read_timeout(Some(remaining(self.deadline)?))?;
            match self.stream.read(buffer) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no complete answer within the request deadline",
                    ));
                }
                other => return other,
            }
        }
    }
}

impl Write for Timed {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.stream
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        self.stream.write(buffer)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
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
    stream: BufReader<Timed>,
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
    pub(crate) fn post(&mut self, body: &[u8], deadline: Duration) -> io::Result<Response> {
        let deadline = Instant::now() + deadline;
        let mut connection = match self.connection.take() {
            Some(connection) if connection.usable() => connection,
            _ => self.connect(deadline)?,
        };
        connection.stream.get_mut().deadline = deadline;
        self.request.clear();
        self.request.extend_from_slice(&self.head);
        self.request
            .extend_from_slice(body.len().to_string().as_bytes());
        self.request.extend_from_slice(b"\r\n\r\n");
        self.request.extend_from_slice(body);
        if let Err(error) = connection.stream.get_mut().write_all(&self.request) {
            // A platform refusing a large body answers (413) and closes
            // before reading it: read what it answered, if anything.
            if !stopped_reading(&error) {
                return Err(error);
            }
            return read_answer(&mut connection.stream)
                .map(|(answer, _)| answer)
                .map_err(|_| error);
        }
        let (answer, keep) = read_answer(&mut connection.stream)?;
        if keep {
            connection.last_used = Instant::now();
            self.connection = Some(connection);
        }
        Ok(answer)
    }

    fn connect(&self, deadline: Instant) -> io::Result<Connection> {
        let mut last = None;
        for address in (self.host.as_str(), self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, remaining(deadline)?) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(Connection {
                        stream: BufReader::with_capacity(8 * 1024, Timed { stream, deadline }),
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
        let stream = &self.stream.get_ref().stream;
        if stream.set_nonblocking(true).is_err() {
            return false;
        }
        let probe = stream.peek(&mut [0u8; 1]);
        let restored = stream.set_nonblocking(false).is_ok();
        restored && matches!(probe, Err(error) if error.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Reads an answer; `keep` tells whether the connection can be reused.
fn read_answer(stream: &mut BufReader<Timed>) -> io::Result<(Response, bool)> {
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
        let mut location = None;
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
            } else if name.eq_ignore_ascii_case("location") {
                location = Some(value.to_owned());
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
        let location = location.filter(|_| (300..400).contains(&status));
        return Ok((
            Response {
                status,
                body,
                location,
                retry_after: None,
            },
            keep,
        ));
    }
}

fn read_chunked(stream: &mut BufReader<Timed>) -> io::Result<Vec<u8>> {
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
fn read_line(stream: &mut BufReader<Timed>, budget: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    loop {
        let available = match stream.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
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

    #[test]
    fn a_413_answered_while_the_body_is_written_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_nodelay(true).unwrap();
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            stream
                .write_all(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                .unwrap();
            // As an intake does: the answer and its FIN first, a bounded
            // part of the body read (a lingering close), then closed with
            // the rest unread: a reset, which the client's writes meet.
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(1);
            let (mut drained, mut scratch) = (0, [0; 8192]);
            while drained < 1 << 20 && std::time::Instant::now() < deadline {
                match stream.read(&mut scratch) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => drained += read,
                }
            }
        });
        let mut fast = KeepAlive::for_url(&url, "Bearer t").unwrap();
        let body = vec![b' '; 32 * 1024 * 1024];
        let answer = fast.post(&body, Duration::from_secs(30)).unwrap();
        assert_eq!((answer.status, &answer.body[..]), (413, &b"{}"[..]));
        server.join().unwrap();
    }

    #[test]
    fn an_answer_trickling_past_the_deadline_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/callback", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ");
            let mut sent = 0;
            while sent < 600 && stream.write_all(b"a").is_ok() {
                sent += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            sent
        });
        let mut fast = KeepAlive::for_url(&url, "Bearer t").unwrap();
        let error = fast.post(b"{}", Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        drop(fast);
        assert!(server.join().unwrap() < 600, "abandoned mid-answer");
    }
}
