//! [`VendorError`]: why a request to a vendor's API failed.

use std::fmt;
use std::time::Duration;

use super::client::Method;

/// Why a request to a vendor's API failed.
///
/// Every variant names the method and the URL (query values of the client's
/// own secrets, and every secret value of the module configuration,
/// replaced by `[REDACTED]`), and the number of
/// attempts made. [`status`](VendorError::status) gives the HTTP status of a
/// vendor that answered.
///
/// ```
/// use sekoia_automation::vendor::{VendorClient, VendorError};
///
/// let client = VendorClient::builder().build().unwrap();
/// match client.get("not a url").send() {
///     Err(VendorError::InvalidUrl { url, .. }) => assert_eq!(url, "not a url"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VendorError {
    /// The vendor answered an error status (4xx, or 5xx after the last attempt).
    #[error("{method} {url} answered HTTP {status} after {attempts} attempt(s){}", excerpt.as_deref().map(|text| format!(": {text}")).unwrap_or_default())]
    #[non_exhaustive]
    Status {
        /// The method.
        method: Method,
        /// The URL, secrets scrubbed.
        url: String,
        /// The status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The start of the answer's body, secrets scrubbed.
        excerpt: Option<String>,
        /// The whole answer's body, as received (it may hold secrets: its
        /// `Debug` shows only its length).
        body: AnswerBody,
    },
    /// No answer: connection refused or dropped, timeout of a phase, DNS...
    #[error(
        "{method} {url} failed after {attempts} attempt(s): {cause}. Check that the vendor's API is reachable from the module"
    )]
    #[non_exhaustive]
    Transport {
        /// The method.
        method: Method,
        /// The URL, secrets scrubbed.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error (printed in the message).
        cause: TransportError,
    },
    /// The request's overall deadline passed (waits included).
    #[error(
        "{method} {url} did not succeed within its deadline of {deadline:?} ({attempts} attempt(s)){}. Raise the client's deadline or lower its retries",
        last.as_deref().map(|last| format!("; last failure: {last}")).unwrap_or_default()
    )]
    #[non_exhaustive]
    DeadlineExceeded {
        /// The method.
        method: Method,
        /// The URL, secrets scrubbed.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The deadline.
        deadline: Duration,
        /// The last failure, if an attempt failed.
        last: Option<String>,
    },
    /// Waiting (for a retry or the rate limit) was abandoned because the module is stopping.
    #[error(
        "{method} {url} was abandoned after {attempts} attempt(s) because the module is stopping"
    )]
    #[non_exhaustive]
    Interrupted {
        /// The method.
        method: Method,
        /// The URL, secrets scrubbed.
        url: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A redirect was not followed: more hops than the client's
    /// `max_redirects`, or a `Location` that is not an http(s) URL.
    #[error(
        "{method} {url} answered HTTP {status} with `Location: {location}`, which was not followed: {detail}"
    )]
    #[non_exhaustive]
    Redirect {
        /// The method of the request redirected.
        method: Method,
        /// The URL redirected, secrets scrubbed.
        url: String,
        /// The redirect's status (301, 302, 303, 307 or 308).
        status: u16,
        /// The `Location` header, secrets scrubbed.
        location: String,
        /// What is wrong, and what to do.
        detail: String,
    },
    /// The URL cannot be used.
    #[error(
        "the URL `{url}` cannot be used: {detail}. Give an absolute http(s) URL, or a path with a base URL set on the client"
    )]
    #[non_exhaustive]
    InvalidUrl {
        /// The URL, secrets scrubbed.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The certificate authorities given to
    /// [`root_certificates_pem`](super::VendorClientBuilder::root_certificates_pem)
    /// cannot be used.
    #[error(
        "the certificate authorities given to the vendor client cannot be used: {detail}. Give one or more PEM certificates (`-----BEGIN CERTIFICATE-----`)"
    )]
    #[non_exhaustive]
    InvalidCertificates {
        /// What is wrong.
        detail: String,
    },
    /// A header name or value cannot be sent.
    #[error("the header `{name}` cannot be sent: {detail}")]
    #[non_exhaustive]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The answer is not the JSON that was expected.
    #[error("{method} {url} answered a body that is not the expected JSON: {detail}{}", excerpt.as_deref().map(|text| format!(" (body starts with: {text})")).unwrap_or_default())]
    #[non_exhaustive]
    InvalidJson {
        /// The method.
        method: Method,
        /// The URL, secrets scrubbed.
        url: String,
        /// Serde's message.
        detail: String,
        /// The start of the body, secrets scrubbed.
        excerpt: Option<String>,
    },
    /// The request body could not be serialized.
    #[error("cannot serialize the JSON body of the request to {url}: {cause}")]
    #[non_exhaustive]
    Body {
        /// The URL, secrets scrubbed.
        url: String,
        /// Serde's error (printed in the message).
        cause: serde_json::Error,
    },
    /// An OAuth2 access token could not be obtained.
    #[error(
        "cannot get an OAuth2 access token from {token_url}: {detail}. Check the client id, secret and scope"
    )]
    #[non_exhaustive]
    Token {
        /// The token endpoint.
        token_url: String,
        /// What went wrong (the token request's error, or the answer's problem).
        detail: String,
    },
    /// A pagination helper reached its page limit.
    #[error(
        "pagination of {url} stopped after {pages} pages, its limit: raise it with `max_pages` if the vendor really has more"
    )]
    #[non_exhaustive]
    TooManyPages {
        /// The first page's URL, secrets scrubbed.
        url: String,
        /// The limit reached.
        pages: usize,
    },
}

impl VendorError {
    /// The system's error behind a [transport](VendorError::Transport)
    /// failure, if it was one (see [`TransportError::io_error`]).
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            VendorError::Transport { cause, .. } => cause.io_error(),
            _ => None,
        }
    }

    /// The HTTP status the vendor answered, if it answered with an error status.
    ///
    /// ```
    /// # use sekoia_automation::vendor::VendorError;
    /// fn is_not_found(error: &VendorError) -> bool {
    ///     error.status() == Some(404)
    /// }
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            VendorError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error answer's body, as received, if the vendor answered one.
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            VendorError::Status { body, .. } => Some(&body.0),
            _ => None,
        }
    }

    /// The number of attempts made, when requests were sent.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            VendorError::Status { attempts, .. }
            | VendorError::Transport { attempts, .. }
            | VendorError::DeadlineExceeded { attempts, .. }
            | VendorError::Interrupted { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }
}

/// The body of an error answer, as received. It may echo secrets, so its
/// `Debug` shows only its length; read it with [`as_bytes`](AnswerBody::as_bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct AnswerBody(pub(crate) Vec<u8>);

impl AnswerBody {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AnswerBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnswerBody({} bytes)", self.0.len())
    }
}

/// A transport failure (no HTTP answer), kept opaque: its message (the
/// client's secrets scrubbed) and its [`kind`](TransportError::kind) say
/// what happened.
///
/// ```
/// use sekoia_automation::vendor::{TransportKind, VendorError};
///
/// fn explain(error: &VendorError) -> Option<&'static str> {
///     match error {
///         VendorError::Transport { cause, .. } if cause.kind() == TransportKind::Connect => Some("nothing was sent"),
///         VendorError::Transport { .. } => Some("the vendor may have the request"),
///         _ => None,
///     }
/// }
/// # let _ = explain;
/// ```
pub struct TransportError {
    pub(crate) inner: Box<ureq::Error>,
    pub(crate) kind: TransportKind,
    message: String,
}

/// What kind of transport failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made (refused, DNS, connect timeout):
    /// nothing was sent, so every method may be retried.
    Connect,
    /// The request may have reached the vendor (connection dropped,
    /// answer too slow): only idempotent methods are retried.
    AfterSend,
    /// A phase took longer than its timeout after the request was sent.
    Timeout,
    /// Not a network failure (bad request, TLS configuration...): never retried.
    Other,
}

impl TransportError {
    /// `inner`, its message passed through `scrub`.
    pub(crate) fn new(inner: ureq::Error, scrub: impl FnOnce(&str) -> String) -> Self {
        let kind = classify(&inner);
        let message = scrub(&inner.to_string());
        TransportError {
            inner: Box::new(inner),
            kind,
            message,
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// The system's error, when the failure was one (a refused or reset
    /// connection, a broken pipe...): its [`kind`](std::io::Error::kind)
    /// says which, without reading the message.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match &*self.inner {
            ureq::Error::Io(error) => Some(error),
            _ => None,
        }
    }

    /// The name of the equivalent `requests` exception (`ConnectionError`,
    /// `ConnectTimeout`, `ReadTimeout`...), for messages written as the
    /// Python SDK writes them.
    pub fn python_exception_name(&self) -> &'static str {
        match &*self.inner {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                "ConnectTimeout"
            }
            ureq::Error::Timeout(_) => "ReadTimeout",
            ureq::Error::TooManyRedirects => "TooManyRedirects",
            _ if self.kind == TransportKind::Other => "RequestException",
            _ => "ConnectionError",
        }
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Its message already says what its cause says: no `source`.
impl std::error::Error for TransportError {}

fn classify(error: &ureq::Error) -> TransportKind {
    use std::io::ErrorKind;
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportKind::Connect,
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            TransportKind::Connect
        }
        ureq::Error::Timeout(_) => TransportKind::Timeout,
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::NotConnected => TransportKind::Connect,
            _ => TransportKind::AfterSend,
        },
        ureq::Error::Protocol(_) | ureq::Error::BodyStalled => TransportKind::AfterSend,
        _ => TransportKind::Other,
    }
}
