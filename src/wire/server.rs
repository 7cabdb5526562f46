//! The one HTTP/1.1 server codec for incoming requests, shared by the
//! trigger's liveness and metrics endpoints and by the local platform
//! ([`crate::testing::LocalPlatform`]): the accept loop ([`AcceptLoop`]:
//! its thread, back-off on accept errors, prompt wake-up and join when
//! stopped), request head and body parsing with
//! limits (RFC 9112: request line, header fields, `Content-Length` or
//! `chunked`, `Expect: 100-continue`), keep-alive decisions, response
//! writing in one write call (a large body apart) and the lingering close after an error answer.
//!
//! Routing stays with each server, as plain functions; this file knows
//! nothing of routes, faults or records.
//!
//! Why not `tiny_http`: the local platform must drop a connection without
//! answering, hold an answer until it is dropped, record refused requests
//! (431, 413, 400) with their head, and close idle keep-alive connections
//! at once when dropped; `tiny_http` answers a dropped request with a 500 and
//! keeps its connections to itself, so it serves neither of these.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What is read and discarded from a client before closing on an error, so
/// that the error response is not destroyed by a TCP reset.
const LINGER_BYTES: usize = 1 << 20;
const LINGER_TIME: Duration = Duration::from_secs(1);
const MAX_CHUNK_LINE_BYTES: u64 = 4096;
/// A response body larger than this is written apart from its head.
const SEPARATE_BODY_BYTES: usize = 64 * 1024;

/// How long the accept loop waits after an accept error (out of file
/// descriptors and the like), so as not to spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A listener's accept loop on its own thread: each connection accepted is
/// handed to `serve` (which serves it inline or hands it to a thread of its
/// own) until `stopped` holds. Stopping is the owner's flag, then
/// [`stop`](AcceptLoop::stop), which wakes the blocking accept at once (no
/// polling interval to wait out) and joins the thread, closing the listener.
pub(crate) struct AcceptLoop {
    port: u16,
    thread: Option<JoinHandle<()>>,
}

impl AcceptLoop {
    /// Spawns the thread `name` accepting on `listener`.
    pub(crate) fn spawn(
        name: &str,
        listener: TcpListener,
        stopped: impl Fn() -> bool + Send + 'static,
        mut serve: impl FnMut(TcpStream) + Send + 'static,
    ) -> io::Result<AcceptLoop> {
        let port = listener.local_addr()?.port();
        let label = name.to_owned();
        let thread = thread::Builder::new().name(label.clone()).spawn(move || {
            for incoming in listener.incoming() {
                if stopped() {
                    return;
                }
                match incoming {
                    Ok(stream) => serve(stream),
                    Err(error) => {
                        log::warn!("{label}: accept failed: {error}");
                        thread::sleep(ACCEPT_BACKOFF);
                    }
                }
            }
        })?;
        Ok(AcceptLoop {
            port,
            thread: Some(thread),
        })
    }

    /// Wakes the loop, whose `stopped` must now hold, and joins it; when the
    /// wake-up connection fails within `wake_timeout`, the thread is left
    /// running (it ends at its next connection) and the error returned.
    pub(crate) fn stop(&mut self, wake_timeout: Duration) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let wake = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let waker = TcpStream::connect_timeout(&wake, wake_timeout)?;
        let _ = thread.join();
        drop(waker);
        Ok(())
    }
}

/// The limits of one server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest request head (request line and header fields); a larger
    /// one is refused with `431`.
    pub(crate) max_head: usize,
    /// The largest request body; a larger one is refused with `413`.
    pub(crate) max_body: usize,
    /// Read buffer capacity.
    pub(crate) read_buffer: usize,
    /// Read and write timeout on the socket (`None`: wait forever).
    pub(crate) timeout: Option<Duration>,
    /// The messages of the `431` and `413` refusals.
    pub(crate) head_too_large: &'static str,
    pub(crate) body_too_large: &'static str,
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ParseError {
    Io(io::Error),
    Malformed(&'static str),
    Unsupported(&'static str),
    HeadTooLarge,
    BodyTooLarge,
}

impl From<io::Error> for ParseError {
    fn from(error: io::Error) -> Self {
        ParseError::Io(error)
    }
}

/// A request line and its header fields.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) http10: bool,
    pub(crate) headers: Vec<(String, String)>,
}

/// How the request body is delimited.
enum Framing {
    Empty,
    Length(u64),
    Chunked,
}

/// A request that could not be read: why, and its head when it was read.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) error: ParseError,
    pub(crate) head: Option<Box<Head>>,
}

/// A response to write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Response<'a> {
    pub(crate) status: u16,
    pub(crate) content_type: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) keep_alive: bool,
    pub(crate) http10: bool,
    /// `HEAD`: the head only, as HTTP requires.
    pub(crate) head_only: bool,
    /// Further header fields, written as given (checked by whoever builds
    /// them: no CR or LF).
    pub(crate) headers: &'a [(String, String)],
}

/// One client connection: requests are read and answered in turn.
pub(crate) struct HttpConnection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    /// Reused line buffer.
    line: Vec<u8>,
    /// Reused response buffer (head and body, written at once).
    out: Vec<u8>,
}

impl HttpConnection {
    /// Takes `stream` with `limits` (no delay, timeouts set).
    pub(crate) fn new(stream: TcpStream, limits: Limits) -> io::Result<HttpConnection> {
        let peer = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(limits.timeout)?;
        stream.set_write_timeout(limits.timeout)?;
        let reader = BufReader::with_capacity(limits.read_buffer, stream.try_clone()?);
        Ok(HttpConnection {
            reader,
            writer: stream,
            peer,
            limits,
            line: Vec::with_capacity(256),
            out: Vec::with_capacity(1024),
        })
    }

    /// The client's address.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Reads the next request, head and body; `Ok(None)` when the client
    /// closed the connection between requests.
    pub(crate) fn read_request(&mut self) -> Result<Option<(Head, Vec<u8>)>, Refused> {
        let head = match self.read_head() {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(None),
            Err(error) => return Err(Refused { error, head: None }),
        };
        match head
            .framing()
            .and_then(|framing| self.read_body(&head, framing))
        {
            Ok(body) => Ok(Some((head, body))),
            Err(error) => Err(Refused {
                error,
                head: Some(Box::new(head)),
            }),
        }
    }

    /// Reads a request head; `None` when the client closed the connection
    /// between requests.
    fn read_head(&mut self) -> Result<Option<Head>, ParseError> {
        let max_head = self.limits.max_head;
        let mut total = 0;
        let mut request_line: Option<(String, String, Option<String>, bool)> = None;
        let mut headers = Vec::new();
        loop {
            self.line.clear();
            let limit = (max_head - total) as u64 + 1;
            let read = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.line)?;
            if read == 0 {
                if total == 0 {
                    return Ok(None);
                }
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            total += read;
            if total > max_head {
                return Err(ParseError::HeadTooLarge);
            }
            if self.line.last() != Some(&b'\n') {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let line = trim_line_end(&self.line);
            if request_line.is_none() {
                // Empty lines before the request line are ignored (RFC 9112 §2.2).
                if !line.is_empty() {
                    request_line = Some(parse_request_line(line)?);
                }
            } else if line.is_empty() {
                break;
            } else {
                headers.push(parse_header(line)?);
            }
        }
        let (method, path, query, http10) = request_line.expect("read before the end of the head");
        Ok(Some(Head {
            method,
            path,
            query,
            http10,
            headers,
        }))
    }

    fn read_body(&mut self, head: &Head, framing: Framing) -> Result<Vec<u8>, ParseError> {
        match framing {
            Framing::Empty => Ok(Vec::new()),
            Framing::Length(length) => {
                if length > self.limits.max_body as u64 {
                    return Err(ParseError::BodyTooLarge);
                }
                if head.expects_continue() {
                    self.writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                let mut body = vec![0; length as usize];
                self.reader.read_exact(&mut body)?;
                Ok(body)
            }
            Framing::Chunked => {
                if head.expects_continue() {
                    self.writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                self.read_chunked()
            }
        }
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, ParseError> {
        let max_body = self.limits.max_body;
        let max_head = self.limits.max_head;
        let mut body = Vec::new();
        loop {
            self.read_limited_line(MAX_CHUNK_LINE_BYTES, "chunk size line too long")?;
            let line = trim_line_end(&self.line);
            let size = line.split(|&byte| byte == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size)
                .map_err(|_| ParseError::Malformed("invalid chunk size"))?
                .trim_matches([' ', '\t']);
            if size.is_empty() || !size.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(ParseError::Malformed("invalid chunk size"));
            }
            let size = u64::from_str_radix(size, 16).map_err(|_| ParseError::BodyTooLarge)?;
            if size == 0 {
                break;
            }
            if size > (max_body - body.len()) as u64 {
                return Err(ParseError::BodyTooLarge);
            }
            let start = body.len();
            body.resize(start + size as usize, 0);
            self.reader.read_exact(&mut body[start..])?;
            self.read_limited_line(3, "chunk not followed by CRLF")?;
            if !trim_line_end(&self.line).is_empty() {
                return Err(ParseError::Malformed("chunk not followed by CRLF"));
            }
        }
        // Trailer fields, ignored, up to the empty line.
        let mut total = 0;
        loop {
            let read = self.read_limited_line((max_head - total) as u64 + 1, "trailer too long")?;
            total += read;
            if total > max_head {
                return Err(ParseError::HeadTooLarge);
            }
            if trim_line_end(&self.line).is_empty() {
                return Ok(body);
            }
        }
    }

    /// Reads one line into `self.line`, at most `limit` bytes.
    fn read_limited_line(
        &mut self,
        limit: u64,
        too_long: &'static str,
    ) -> Result<usize, ParseError> {
        self.line.clear();
        let read = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.line)?;
        if self.line.last() == Some(&b'\n') {
            Ok(read)
        } else if read as u64 == limit {
            Err(ParseError::Malformed(too_long))
        } else {
            Err(io::Error::from(io::ErrorKind::UnexpectedEof).into())
        }
    }

    /// The status and message of the answer to a refused request; the
    /// I/O error back when there is nothing to answer.
    pub(crate) fn refusal(&self, error: ParseError) -> io::Result<(u16, &'static str)> {
        Ok(match error {
            ParseError::Io(error) => return Err(error),
            ParseError::Malformed(message) => (400, message),
            ParseError::Unsupported(message) => (501, message),
            ParseError::HeadTooLarge => (431, self.limits.head_too_large),
            ParseError::BodyTooLarge => (413, self.limits.body_too_large),
        })
    }

    /// Writes `response` with one write call (two for a body over 64 KiB); without
    /// `keep_alive`, the writing side is then shut down.
    pub(crate) fn write_response(&mut self, response: &Response<'_>) -> io::Result<()> {
        let with_body = self.write_head(response, response.body.len())?;
        if with_body && response.body.len() > SEPARATE_BODY_BYTES {
            // A large body is not copied behind the head.
            self.writer.write_all(&self.out)?;
            self.writer.write_all(response.body)?;
        } else {
            if with_body {
                self.out.extend_from_slice(response.body);
            }
            self.writer.write_all(&self.out)?;
        }
        self.end_response(response.keep_alive)
    }

    /// Writes `response`'s head for a body of `length` bytes (its `body`
    /// is not used), then the body as `part` writes it, part after part,
    /// until it returns false; the parts must total `length` bytes. A large
    /// answer (the intake's ids) is thus never held whole, and the client
    /// reads its start while the rest is made.
    pub(crate) fn write_streamed(
        &mut self,
        response: &Response<'_>,
        length: usize,
        mut part: impl FnMut(&mut Vec<u8>) -> bool,
    ) -> io::Result<()> {
        let with_body = self.write_head(response, length)?;
        if with_body {
            loop {
                let more = part(&mut self.out);
                self.writer.write_all(&self.out)?;
                self.out.clear();
                if !more {
                    break;
                }
            }
        } else {
            self.writer.write_all(&self.out)?;
        }
        self.end_response(response.keep_alive)
    }

    /// Puts `response`'s head into `out`, for a body of `length` bytes;
    /// whether a body follows.
    fn write_head(&mut self, response: &Response<'_>, length: usize) -> io::Result<bool> {
        let status = response.status;
        let no_body = status == 204 || status == 304;
        self.out.clear();
        write!(self.out, "HTTP/1.1 {status} {}\r\n", reason(status))?;
        write!(self.out, "Content-Type: {}\r\n", response.content_type)?;
        if !no_body {
            write!(self.out, "Content-Length: {length}\r\n")?;
        }
        for (name, value) in response.headers {
            write!(self.out, "{name}: {value}\r\n")?;
        }
        if !response.keep_alive {
            self.out.extend_from_slice(b"Connection: close\r\n");
        } else if response.http10 {
            self.out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        self.out.extend_from_slice(b"\r\n");
        Ok(!no_body && !response.head_only)
    }

    fn end_response(&mut self, keep_alive: bool) -> io::Result<()> {
        self.writer.flush()?;
        if !keep_alive {
            let _ = self.writer.shutdown(Shutdown::Write);
        }
        Ok(())
    }

    /// Closes at once, both ways, without an answer.
    pub(crate) fn abort(&self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }

    /// Closes after an error answer: stop writing, then read (briefly, and a
    /// bounded amount) what the client still sends, so that closing with
    /// unread data does not reset the connection before the client reads the
    /// answer.
    pub(crate) fn linger_close(&mut self) {
        let _ = self.writer.shutdown(Shutdown::Write);
        let _ = self
            .writer
            .set_read_timeout(Some(Duration::from_millis(100)));
        let deadline = Instant::now() + LINGER_TIME;
        let mut drained = 0;
        let mut scratch = [0; 8192];
        while drained < LINGER_BYTES && Instant::now() < deadline {
            match self.reader.read(&mut scratch) {
                Ok(0) | Err(_) => break,
                Ok(read) => drained += read,
            }
        }
    }
}

impl Head {
    /// The value of the first field named `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The comma-separated elements of every field named `name`.
    fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|element| !element.is_empty())
    }

    /// Whether the client keeps the connection open after the answer.
    pub(crate) fn keep_alive(&self) -> bool {
        let mut close = false;
        let mut keep_alive = false;
        for option in self.list("connection") {
            close |= option.eq_ignore_ascii_case("close");
            keep_alive |= option.eq_ignore_ascii_case("keep-alive");
        }
        !close && (!self.http10 || keep_alive)
    }

    fn expects_continue(&self) -> bool {
        !self.http10
            && self
                .header("expect")
                .is_some_and(|expect| expect.trim().eq_ignore_ascii_case("100-continue"))
    }

    fn framing(&self) -> Result<Framing, ParseError> {
        if let Some(last) = self.list("transfer-encoding").last() {
            return if last.eq_ignore_ascii_case("chunked") {
                Ok(Framing::Chunked)
            } else {
                Err(ParseError::Unsupported("unsupported transfer coding"))
            };
        }
        let mut length = None;
        for value in self.list("content-length") {
            if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(ParseError::Malformed("invalid Content-Length"));
            }
            // Too many digits to fit: certainly too large.
            let value = value.parse::<u64>().map_err(|_| ParseError::BodyTooLarge)?;
            if length.is_some_and(|length| length != value) {
                return Err(ParseError::Malformed("conflicting Content-Length"));
            }
            length = Some(value);
        }
        Ok(match length {
            None | Some(0) => Framing::Empty,
            Some(length) => Framing::Length(length),
        })
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `METHOD SP request-target SP HTTP-version` → method, path, query, HTTP/1.0.
fn parse_request_line(line: &[u8]) -> Result<(String, String, Option<String>, bool), ParseError> {
    let line =
        std::str::from_utf8(line).map_err(|_| ParseError::Malformed("invalid request line"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed("invalid request line"));
    };
    if method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(ParseError::Malformed("invalid method"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ParseError::Unsupported("unsupported HTTP version")),
    };
    // Absolute form (`http://host/path`), as sent to proxies.
    let target = match target.split_once("://") {
        Some((_, rest)) if !target.starts_with('/') => match rest.find('/') {
            Some(slash) => &rest[slash..],
            None => "/",
        },
        _ => target,
    };
    if !target.starts_with('/') {
        return Err(ParseError::Malformed("invalid request target"));
    }
    let target = target.split('#').next().unwrap_or(target);
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_owned())),
        None => (target, None),
    };
    Ok((method.to_owned(), path.to_owned(), query, http10))
}

/// `name: value` → (name, value trimmed).
fn parse_header(line: &[u8]) -> Result<(String, String), ParseError> {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return Err(ParseError::Malformed("obsolete header line folding"));
    }
    let colon = line
        .iter()
        .position(|&byte| byte == b':')
        .ok_or(ParseError::Malformed("header line without a colon"))?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&byte| byte.is_ascii_graphic()) {
        return Err(ParseError::Malformed("invalid header name"));
    }
    let value = String::from_utf8_lossy(&line[colon + 1..]);
    Ok((
        String::from_utf8_lossy(name).into_owned(),
        value.trim_matches([' ', '\t']).to_owned(),
    ))
}

/// The reason phrase of `status`.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    const TEST_LIMITS: Limits = Limits {
        max_head: 256,
        max_body: 16,
        read_buffer: 64,
        timeout: Some(Duration::from_secs(10)),
        head_too_large: "head too large",
        body_too_large: "body too large",
    };

    /// An echo server on the accept loop: each request is answered with its
    /// method, path and body; refusals with their status and message.
    fn echo_server(stopped: &Arc<AtomicBool>) -> (u16, AcceptLoop) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let flag = Arc::clone(stopped);
        let accept = AcceptLoop::spawn(
            "echo",
            listener,
            move || flag.load(Ordering::SeqCst),
            |stream| {
                let mut http = HttpConnection::new(stream, TEST_LIMITS).unwrap();
                loop {
                    match http.read_request() {
                        Ok(Some((head, body))) => {
                            let mut text = format!("{} {} ", head.method, head.path).into_bytes();
                            text.extend_from_slice(&body);
                            let keep_alive = head.keep_alive();
                            http.write_response(&Response {
                                status: 200,
                                content_type: "text/plain",
                                body: &text,
                                keep_alive,
                                http10: head.http10,
                                head_only: false,
                                headers: &[],
                            })
                            .unwrap();
                            if !keep_alive {
                                return;
                            }
                        }
                        Ok(None) => return,
                        Err(refused) => {
                            let (status, message) = http.refusal(refused.error).unwrap();
                            http.write_response(&Response {
                                status,
                                content_type: "text/plain",
                                body: message.as_bytes(),
                                keep_alive: false,
                                http10: false,
                                head_only: false,
                                headers: &[],
                            })
                            .unwrap();
                            http.linger_close();
                            return;
                        }
                    }
                }
            },
        )
        .unwrap();
        (port, accept)
    }

    fn exchange(port: u16, request: &[u8]) -> String {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn keep_alive_chunked_bodies_limits_and_stop() {
        let stopped = Arc::new(AtomicBool::new(false));
        let (port, mut accept) = echo_server(&stopped);
        // Two requests on one connection, the second chunked and closing.
        let answer = exchange(
            port,
            b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
              POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              2\r\nxy\r\n1;ext\r\nz\r\n0\r\n\r\n",
        );
        assert_eq!(
            answer,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nPOST /a abc\
             HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nPOST /b xyz"
        );
        // The limits, with each server's own messages.
        let too_large = exchange(port, b"POST /c HTTP/1.1\r\nContent-Length: 17\r\n\r\n");
        assert!(
            too_large.starts_with("HTTP/1.1 413 Content Too Large\r\n")
                && too_large.ends_with("\r\n\r\nbody too large"),
            "{too_large}"
        );
        let long_head = format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(300));
        let refused = exchange(port, long_head.as_bytes());
        assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
        assert!(exchange(port, b"GET / HTTP/2.0\r\n\r\n").starts_with("HTTP/1.1 501 "));
        // Stopping wakes the accept loop, joins it and closes the listener.
        stopped.store(true, Ordering::SeqCst);
        accept.stop(Duration::from_secs(1)).unwrap();
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
    }

    #[test]
    fn request_lines() {
        let (method, path, query, http10) =
            parse_request_line(b"PATCH /api/v1/symphony/callback?a=1&b HTTP/1.1").unwrap();
        assert_eq!(method, "PATCH");
        assert_eq!(path, "/api/v1/symphony/callback");
        assert_eq!(query.as_deref(), Some("a=1&b"));
        assert!(!http10);
        let (_, path, query, http10) =
            parse_request_line(b"GET http://127.0.0.1:1/intake/batch HTTP/1.0").unwrap();
        assert_eq!(path, "/intake/batch");
        assert_eq!(query, None);
        assert!(http10);
        assert!(parse_request_line(b"GET /").is_err());
        assert!(parse_request_line(b"GET / HTTP/2.0").is_err());
        assert!(parse_request_line(b"GET nope HTTP/1.1").is_err());
    }

    /// A `Content-Length` body sent in pieces: read byte-exact; a body
    /// cut short by the client closing is refused as an I/O error.
    #[test]
    fn bodies_sent_in_pieces_are_read_whole() {
        let limits = Limits {
            max_body: 1 << 20,
            ..TEST_LIMITS
        };
        let body: Vec<u8> = (0..300_000u32).map(|index| (index % 251) as u8).collect();
        for cut in [false, true] {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let address = listener.local_addr().unwrap();
            let sent = body.clone();
            let client = thread::spawn(move || {
                let mut stream = TcpStream::connect(address).unwrap();
                let head = format!("POST /b HTTP/1.1\r\nContent-Length: {}\r\n\r\n", sent.len());
                stream.write_all(head.as_bytes()).unwrap();
                let end = if cut { sent.len() - 1 } else { sent.len() };
                for piece in sent[..end].chunks(70_000) {
                    stream.write_all(piece).unwrap();
                    thread::sleep(Duration::from_millis(5));
                }
            });
            let (stream, _) = listener.accept().unwrap();
            let mut http = HttpConnection::new(stream, limits).unwrap();
            let result = http.read_request();
            client.join().unwrap();
            if cut {
                let refused = result.unwrap_err();
                assert!(
                    matches!(&refused.error, ParseError::Io(error) if error.kind() == io::ErrorKind::UnexpectedEof),
                    "{refused:?}"
                );
                assert_eq!(refused.head.unwrap().path, "/b");
            } else {
                let (head, read) = result.unwrap().unwrap();
                assert_eq!(head.path, "/b");
                assert!(read == body, "the body read differs");
            }
        }
    }

    #[test]
    fn header_lines() {
        let (name, value) = parse_header(b"X-Thing:  a value \t").unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("X-Thing", "a value"));
        assert!(parse_header(b" folded").is_err());
        assert!(parse_header(b"No colon").is_err());
        assert!(parse_header(b"Bad Name: x").is_err());
    }
}
