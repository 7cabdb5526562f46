//! The wire (PROTOCOL §2–4): the one HTTP client and its retry loop
//! ([`http`]), bodies byte-identical to the Python SDK's ([`python_json`],
//! [`report`], [`logging`]), timestamps in the platform's format
//! ([`timestamp`]) and secrets kept out of every body ([`redact`]).

pub(crate) mod bodies;
pub(crate) mod http;
pub(crate) mod keep_alive;
pub(crate) mod logging;
pub(crate) mod python_json;
pub(crate) mod redact;
pub(crate) mod report;
pub(crate) mod timestamp;
pub(crate) mod transport;
