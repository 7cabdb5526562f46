//! The wire ([protocol](crate::protocol) §2–4): the one HTTP client and its retry loop
//! ([`http`]) with the container's proxies and certificate authorities
//! ([`environment`]), bodies byte-identical to the Python SDK's ([`python_json`],
//! [`report`], [`logging`]), timestamps in the platform's format
//! ([`timestamp`]), secrets kept out of every body ([`redact`]), the one `Retry-After`
//! reader of the vendor client and the connector's intake retries
//! ([`retry_after`]), and the Sentry
//! envelopes and their sender ([`sentry`]), the one
//! HTTP/1.1 server codec for incoming requests ([`server`]: the liveness and
//! metrics endpoints and the local platform).

pub(crate) mod bodies;
pub(crate) mod environment;
pub(crate) mod http;
pub(crate) mod keep_alive;
pub(crate) mod logging;
pub(crate) mod python_json;
pub(crate) mod redact;
pub(crate) mod report;
pub(crate) mod retry_after;
pub(crate) mod sentry;
pub(crate) mod server;
pub(crate) mod stderr_limit;
pub(crate) mod timestamp;
pub(crate) mod transport;
