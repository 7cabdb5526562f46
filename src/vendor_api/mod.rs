//! A client for vendors' APIs: what the library's Python modules mount on
//! a `requests` session (`requests_ratelimiter.LimiterAdapter` and urllib3
//! `Retry(total=5, backoff_factor=1)`), in one builder.
//!
//! - [`VendorClient`] / [`VendorClientBuilder`]: base URL, `User-Agent`
//!   (`sekoiaio-connector/<slug>-<version>` from the manifest with
//!   [`user_agent_from_manifest`](VendorClientBuilder::user_agent_from_manifest)), headers,
//!   a timeout per phase and an overall deadline per request, JSON bodies
//!   written as Python writes them, answers read as typed values or as
//!   exact [`Json`];
//! - [`RateLimit`]: per-host sliding windows (per second, minute, hour),
//!   blocking until allowed; a `429` fills the window;
//! - [`RetryPolicy`]: connection failures retried for every method,
//!   statuses and dropped connections for idempotent ones, waits 0, 2, 4,
//!   8, 16 s, `Retry-After` ([`parse_retry_after`]) honoured on 413/429/503,
//!   capped and never shorter than the backoff; every wait is woken by the module's
//!   [`StopSignal`](crate::trigger::StopSignal);
//! - [`Auth`]: bearer, basic, API key in a header or the query, OAuth2
//!   client credentials ([`OAuth2ClientCredentials`]) refreshed *before*
//!   expiry; credentials sent only to their origin (scheme, host, port),
//!   never to a redirect or a next page elsewhere;
//! - redirects followed by the client itself, at most
//!   [`max_redirects`](VendorClientBuilder::max_redirects) per attempt;
//! - [`VendorError`]: the status, method, URL and a body excerpt, secrets
//!   scrubbed;
//! - [`Pages`]: next-link and cursor pagination;
//! - [`Api`]: the Python SDK's `GenericAPIAction` (a declarative HTTP
//!   action, one value per action) on this client, with the reference's
//!   vendor traffic.

mod api_action;
mod auth;
mod client;
mod error;
mod json;
mod pagination;
mod rate_limit;
mod retry;
mod url;

pub use crate::wire::retry_after::parse_retry_after;
pub use api_action::{Api, ApiAuthentication, ApiFailure, ApiRequest};
pub use auth::{Auth, OAuth2ClientCredentials};
pub use client::{
    DEFAULT_DEADLINE, DEFAULT_MAX_REDIRECTS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Method,
    UnknownMethod, VendorClient, VendorClientBuilder, VendorRequest, VendorResponse,
    connector_user_agent,
};
pub use error::{AnswerBody, TransportError, TransportKind, VendorError};
pub use json::{Json, JsonError, JsonNumber};
pub use pagination::{Pages, Pagination};
pub use rate_limit::RateLimit;
pub use retry::{RETRY_AFTER_STATUSES, RetryPolicy};
pub use url::urljoin;
