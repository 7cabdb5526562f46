//! [`VendorClient`]: the HTTP client a module uses to call its vendor's API.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::{Auth, AuthKind, OAuth2State};
use super::error::{TransportError, VendorError};
use super::json::Json;
use super::rate_limit::{RateLimit, RateLimiter};
use super::retry::RetryPolicy;
use super::url::{self, Origin};
use crate::trigger::stop_signal::StopSignal;
use crate::wire::redact;
use crate::wire::retry_after::parse_retry_after;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
}

impl Method {
    /// The method's name, upper-case.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }

    /// Parses a method name, in any case (`"get"`, `"POST"`).
    ///
    /// ```
    /// use sekoia_automation::vendor::Method;
    /// assert_eq!(Method::parse("delete"), Some(Method::Delete));
    /// assert_eq!(Method::parse("BREW"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Method> {
        [
            Method::Get,
            Method::Head,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
            Method::Options,
        ]
        .into_iter()
        .find(|method| method.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether sending it twice has the effect of sending it once
    /// (urllib3's default `allowed_methods`: all but `POST` and `PATCH`).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }

    fn to_http(self) -> ureq::http::Method {
        match self {
            Method::Get => ureq::http::Method::GET,
            Method::Head => ureq::http::Method::HEAD,
            Method::Post => ureq::http::Method::POST,
            Method::Put => ureq::http::Method::PUT,
            Method::Patch => ureq::http::Method::PATCH,
            Method::Delete => ureq::http::Method::DELETE,
            Method::Options => ureq::http::Method::OPTIONS,
        }
    }
}

/// Parses a method name in any case, as [`Method::parse`].
///
/// ```
/// use sekoia_automation::vendor::Method;
/// let method: Method = "patch".parse()?;
/// assert_eq!(method, Method::Patch);
/// assert!("BREW".parse::<Method>().is_err());
/// # Ok::<(), sekoia_automation::vendor::UnknownMethod>(())
/// ```
impl std::str::FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(name: &str) -> Result<Method, UnknownMethod> {
        Method::parse(name).ok_or_else(|| UnknownMethod {
            name: name.chars().take(40).collect(),
        })
    }
}

/// A name that is not one of the [`Method`]s the client sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` is not an HTTP method the client sends: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"
)]
pub struct UnknownMethod {
    name: String,
}

impl UnknownMethod {
    /// The name given (its first 40 characters).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default timeout of each phase of an attempt (connect, send, wait
/// for the answer, read it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default overall deadline of a request, retries and waits included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
/// The default largest answer read.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// The default most redirects followed by one attempt (`requests`' limit).
pub const DEFAULT_MAX_REDIRECTS: u32 = 30;

/// A client for a vendor's API: per-host rate limits, urllib3-style retries
/// honouring `Retry-After`, authentication from [`Secret`](crate::Secret)
/// values, an overall deadline per request, waits woken by the module's
/// [`StopSignal`], errors that say what failed with secrets scrubbed.
///
/// Cheap to clone (the clones share connections, rate windows and tokens)
/// and usable from several threads.
///
/// ```no_run
/// use sekoia_automation::Secret;
/// use sekoia_automation::vendor::{Auth, RateLimit, VendorClient};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Alert { id: String }
///
/// let client = VendorClient::builder()
///     .base_url("https://api.example.com/v2")
///     .user_agent("sekoiaio-connector/example-1.0.0")
///     .auth(Auth::bearer(Secret::new("api-key".to_string())))
///     .rate_limit(RateLimit::per_second(10))
///     .rate_limit(RateLimit::per_hour(5000))
///     .build()?;
/// let alerts: Vec<Alert> = client.get("alerts").query("status", "open").send_json()?;
/// # Ok::<(), sekoia_automation::vendor::VendorError>(())
/// ```
#[derive(Clone)]
pub struct VendorClient {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    base_url: Option<String>,
    user_agent: String,
    auth: Option<Auth>,
    headers: Vec<(String, String)>,
    limiter: RateLimiter,
    retry: RetryPolicy,
    timeout: Duration,
    deadline: Duration,
    stop: Option<Arc<StopSignal>>,
    max_response_bytes: u64,
    max_redirects: u32,
    /// Where the client's credentials go when a base URL is set.
    base_origin: Option<Origin>,
}

impl fmt::Debug for VendorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorClient")
            .field(
                "base_url",
                &self.inner.base_url.as_deref().map(|url| self.scrub(url)),
            )
            .field("user_agent", &self.inner.user_agent)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("deadline", &self.inner.deadline)
            .finish_non_exhaustive()
    }
}

/// Builds a [`VendorClient`]; see [`VendorClient::builder`].
///
/// ```no_run
/// use sekoia_automation::Secret;
/// use sekoia_automation::vendor::{Auth, RateLimit, RetryPolicy, VendorClient};
/// use std::time::Duration;
///
/// let client = VendorClient::builder()
///     .base_url("https://api.example.com/v2")
///     .auth(Auth::bearer(Secret::new("token".to_string())))
///     .header("X-Tenant", "acme")
///     .rate_limit(RateLimit::per_second(10))
///     .retry(RetryPolicy::default())
///     .deadline(Duration::from_secs(120))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), sekoia_automation::vendor::VendorError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VendorClientBuilder {
    base_url: Option<String>,
    user_agent: String,
    auth: Option<Auth>,
    headers: Vec<(String, String)>,
    limits: Vec<RateLimit>,
    retry: RetryPolicy,
    timeout: Duration,
    deadline: Duration,
    stop: Option<Arc<StopSignal>>,
    max_response_bytes: u64,
    max_redirects: u32,
    /// PEM certificate authorities trusted instead of the built-in roots.
    root_certificates: Option<Vec<u8>>,
    accept_invalid_certificates: bool,
}

impl Default for VendorClientBuilder {
    fn default() -> Self {
        VendorClientBuilder {
            base_url: None,
            user_agent: concat!("sekoia-automation-rust/", env!("CARGO_PKG_VERSION")).into(),
            auth: None,
            headers: Vec::new(),
            limits: Vec::new(),
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            stop: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            root_certificates: None,
            accept_invalid_certificates: false,
        }
    }
}

/// The Python SDK's `http_default_headers` `User-Agent` for a module
/// manifest: `sekoiaio-connector/<slug>-<version>` (`None` for a missing
/// field, as Python prints it).
///
/// ```
/// use sekoia_automation::vendor::connector_user_agent;
/// let manifest = serde_json::json!({"slug": "acme", "version": "1.4.0"});
/// assert_eq!(connector_user_agent(&manifest), "sekoiaio-connector/acme-1.4.0");
/// assert_eq!(connector_user_agent(&serde_json::json!({})), "sekoiaio-connector/None-None");
/// ```
pub fn connector_user_agent(manifest: &serde_json::Value) -> String {
    let shown = |key: &str| match manifest.get(key) {
        None | Some(serde_json::Value::Null) => "None".to_string(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => Json::from_value(other).to_python_str(),
    };
    format!("sekoiaio-connector/{}-{}", shown("slug"), shown("version"))
}

impl VendorClientBuilder {
    /// The URL that relative request paths are joined to (as `posixpath.join`:
    /// `base/path`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The `User-Agent` header (default `sekoia-automation-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// `User-Agent: sekoiaio-connector/<slug>-<version>` from the module's
    /// manifest at `path`, as the Python SDK's `http_default_headers` (a
    /// missing or unreadable manifest gives `None-None`, as Python would).
    ///
    /// ```no_run
    /// use sekoia_automation::config::Settings;
    /// use sekoia_automation::vendor::VendorClient;
    /// let client = VendorClient::builder()
    ///     .user_agent_from_manifest(Settings::from_env().manifest_path())
    ///     .build()?;
    /// # Ok::<(), sekoia_automation::vendor::VendorError>(())
    /// ```
    pub fn user_agent_from_manifest(self, path: impl AsRef<std::path::Path>) -> Self {
        let manifest = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(serde_json::Value::Null);
        let user_agent = connector_user_agent(&manifest);
        self.user_agent(user_agent)
    }

    /// How requests authenticate.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// A header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a per-host rate limit; several combine (10/s and 5000/h).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.limits.push(limit);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The timeout of each phase of an attempt (default 30 s, as `requests`' `timeout=30`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The overall deadline of a request, its retries and waits included
    /// (default 10 min).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The module's stop signal: raising it wakes every wait (retry
    /// backoff, `Retry-After`, rate limit) and ends the request with
    /// [`VendorError::Interrupted`].
    pub fn stop_signal(mut self, stop: Arc<StopSignal>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The largest answer body read (default 256 MiB).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The most redirects (301, 302, 303, 307, 308) one attempt follows
    /// (default 30, as `requests`); more fail with
    /// [`VendorError::Redirect`]. With 0 a redirect is handed back as the
    /// answer.
    ///
    /// The client's credentials go only to its origin (scheme, host, port of
    /// the base URL, or of the request's URL without one), and a request's
    /// own `Authorization`, `Proxy-Authorization` and `Cookie` headers only
    /// to the request URL's origin: a redirect or a next page elsewhere is
    /// sent without them (and without the API-key query parameter).
    /// `302` and `303` become a `GET` (and a `301` of a `POST`), without
    /// the body, as `requests` and browsers do.
    ///
    /// ```
    /// use sekoia_automation::vendor::VendorClient;
    /// let client = VendorClient::builder().max_redirects(0).build()?;
    /// # Ok::<(), sekoia_automation::vendor::VendorError>(())
    /// ```
    pub fn max_redirects(mut self, max: u32) -> Self {
        self.max_redirects = max;
        self
    }

    /// Trusts the certificate authorities of `pem` (one or more PEM
    /// certificates: an on-premise appliance's own CA) instead of the
    /// built-in web roots, as `requests`' `verify="/path/to/ca.pem"` does.
    /// [`build`](Self::build) fails when `pem` holds no certificate.
    ///
    /// ```
    /// use sekoia_automation::vendor::{VendorClient, VendorError};
    ///
    /// let refused = VendorClient::builder().root_certificates_pem("not a certificate").build();
    /// assert!(matches!(refused, Err(VendorError::InvalidCertificates { .. })));
    /// ```
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(pem.into());
        self
    }

    /// Does not verify the vendor's TLS certificate at all, as Python
    /// modules' `verify=False` for appliances with a self-signed
    /// certificate: anyone on the network path can then read and change
    /// the traffic, credentials included. An explicit opt-in, that
    /// [`build`](Self::build) logs as a warning naming the base URL;
    /// prefer [`root_certificates_pem`](Self::root_certificates_pem) with
    /// the appliance's certificate.
    pub fn danger_accept_invalid_certificates(mut self) -> Self {
        self.accept_invalid_certificates = true;
        self
    }

    /// The TLS settings asked for, if any.
    fn tls_config(&self) -> Result<Option<ureq::tls::TlsConfig>, VendorError> {
        use ureq::tls::{PemItem, RootCerts, TlsConfig};
        if self.root_certificates.is_none() && !self.accept_invalid_certificates {
            return Ok(None);
        }
        let mut tls = TlsConfig::builder();
        if let Some(pem) = &self.root_certificates {
            let certificates: Vec<_> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(certificate)) => Some(Ok(certificate)),
                    Ok(_) => None,
                    Err(error) => Some(Err(error)),
                })
                .collect::<Result<_, _>>()
                .map_err(|error| VendorError::InvalidCertificates {
                    detail: error.to_string(),
                })?;
            if certificates.is_empty() {
                return Err(VendorError::InvalidCertificates {
                    detail: "no PEM certificate in it".into(),
                });
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certificates));
        }
        if self.accept_invalid_certificates {
            log::warn!(
                "the vendor client of {} does not verify TLS certificates \
                 (`danger_accept_invalid_certificates`): the traffic and its credentials \
                 can be read and changed on the way; trust the vendor's CA with \
                 `root_certificates_pem` instead",
                self.base_url
                    .as_deref()
                    .map_or_else(|| "any URL".into(), redact::scrub)
            );
            tls = tls.disable_verification(true);
        }
        Ok(Some(tls.build()))
    }

    /// Builds the client. Fails when the base URL is not an http(s) URL, a
    /// header cannot be sent or the certificate authorities given cannot be
    /// used.
    ///
    /// # Errors
    ///
    /// [`VendorError::InvalidUrl`] for a base URL that is not http(s),
    /// [`VendorError::InvalidHeader`] for a header that cannot be sent,
    /// [`VendorError::InvalidCertificates`] for certificate authorities
    /// that cannot be used.
    pub fn build(self) -> Result<VendorClient, VendorError> {
        let base_origin = match &self.base_url {
            Some(base) => {
                let prepared =
                    url::prepare(base, None).map_err(|detail| VendorError::InvalidUrl {
                        url: redact::scrub(base).into_owned(),
                        detail,
                    })?;
                Origin::of(&prepared)
            }
            None => None,
        };
        for (name, value) in self.headers.iter().chain(std::iter::once(&(
            "User-Agent".to_string(),
            self.user_agent.clone(),
        ))) {
            check_header(name, value)?;
        }
        match self.auth.as_ref().map(|auth| &auth.0) {
            Some(AuthKind::Bearer(value) | AuthKind::Basic { header: value, .. }) => {
                check_header("Authorization", value.expose())?
            }
            Some(AuthKind::Header(name, key)) => check_header(name, key.expose())?,
            _ => {}
        }
        let tls = self.tls_config()?;
        let mut agent = ureq::Agent::config_builder()
            .timeout_connect(Some(self.timeout))
            .timeout_send_request(Some(self.timeout))
            .timeout_send_body(Some(self.timeout))
            .timeout_recv_response(Some(self.timeout))
            .timeout_recv_body(Some(self.timeout))
            .http_status_as_error(false)
            // Redirects are followed by the client's loop, which decides
            // where credentials go.
            .max_redirects(0)
            .max_idle_connections_per_host(8);
        if let Some(tls) = tls {
            agent = agent.tls_config(tls);
        }
        let agent = agent.build().into();
        Ok(VendorClient {
            inner: Arc::new(Inner {
                agent,
                base_url: self.base_url,
                user_agent: self.user_agent,
                auth: self.auth,
                headers: self.headers,
                limiter: RateLimiter::new(self.limits),
                retry: self.retry,
                timeout: self.timeout,
                deadline: self.deadline,
                stop: self.stop,
                max_response_bytes: self.max_response_bytes,
                max_redirects: self.max_redirects,
                base_origin,
            }),
        })
    }
}

fn check_header(name: &str, value: &str) -> Result<(), VendorError> {
    ureq::http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        VendorError::InvalidHeader {
            name: name.to_string(),
            detail: "not a valid header name".into(),
        }
    })?;
    // ureq sends visible ASCII only (as RFC 9110 recommends).
    if !value
        .bytes()
        .all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte))
    {
        return Err(VendorError::InvalidHeader {
            name: name.to_string(),
            detail: "the value holds a control or non-ASCII character: encode it as the vendor documents (percent-encoding, base64...)".into(),
        });
    }
    Ok(())
}

/// One request being built; send it with [`send`](VendorRequest::send),
/// [`send_json`](VendorRequest::send_json) or
/// [`send_exact_json`](VendorRequest::send_exact_json).
///
/// Its `Debug` shows no credential: the URL is scrubbed, credential headers
/// and query parameters show `[REDACTED]`, the body only its length.
///
/// ```no_run
/// use sekoia_automation::vendor::VendorClient;
///
/// let client = VendorClient::builder().base_url("https://api.example.com/v2").build()?;
/// let created: serde_json::Value = client
///     .post("alerts")
///     .query("notify", "false")
///     .header("X-Request-Id", "42")
///     .json(&serde_json::json!({"title": "Suspicious login"}))
///     .send_json()?;
/// # let _ = created;
/// # Ok::<(), sekoia_automation::vendor::VendorError>(())
/// ```
#[derive(Clone)]
#[must_use = "a request does nothing until it is sent"]
pub struct VendorRequest {
    client: VendorClient,
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    /// Headers of this request that are credentials (beyond
    /// `Authorization`, `Proxy-Authorization` and `Cookie`).
    credential_headers: Vec<String>,
    /// Query parameters of this request that are credentials (decoded names).
    credential_query: Vec<String>,
    /// The first page's URL, whose origin the credentials stay with (set
    /// when pagination moves the request to a next link).
    origin_url: Option<String>,
    body: Option<Vec<u8>>,
    /// The body holds credentials (an OAuth2 token request's client
    /// secret): never sent to another origin.
    credential_body: bool,
    body_error: Option<String>,
    error_for_status: bool,
    authenticate: bool,
    retry: Option<RetryPolicy>,
}

impl fmt::Debug for VendorRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client = &self.client;
        let query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(name, value)| {
                let value = if self.is_credential_query(name) {
                    redact::MARKER.to_string()
                } else {
                    client.scrub(value)
                };
                (client.scrub(name), value)
            })
            .collect();
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let value = if self.is_credential_header(name) {
                    redact::MARKER.to_string()
                } else {
                    client.scrub(value)
                };
                (name.as_str(), value)
            })
            .collect();
        f.debug_struct("VendorRequest")
            .field("method", &self.method)
            .field("url", &client.scrub(&self.url))
            .field("query", &query)
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("authenticate", &self.authenticate)
            .field("client", client)
            .finish_non_exhaustive()
    }
}

/// An answer of the vendor (the last one, after redirects).
///
/// Its `Debug` shows the URL and headers with the client's secrets
/// scrubbed and the body's length only (an answer may echo a credential).
///
/// ```no_run
/// use sekoia_automation::vendor::VendorClient;
///
/// let client = VendorClient::builder().base_url("https://api.example.com/v2").build()?;
/// let answer = client.get("alerts/7").allow_error_status().send()?;
/// if answer.status() == 404 {
///     println!("no alert 7");
/// } else {
///     let remaining = answer.header("x-ratelimit-remaining");
///     let alert = answer.exact_json()?; // integers of any size exact
///     println!("{} ({remaining:?} requests left)", alert["title"]);
/// }
/// # Ok::<(), sekoia_automation::vendor::VendorError>(())
/// ```
#[derive(Clone)]
pub struct VendorResponse {
    client: VendorClient,
    method: Method,
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    attempts: u32,
}

impl PartialEq for VendorResponse {
    fn eq(&self, other: &Self) -> bool {
        (
            self.method,
            &self.url,
            self.status,
            &self.headers,
            &self.body,
            self.attempts,
        ) == (
            other.method,
            &other.url,
            other.status,
            &other.headers,
            &other.body,
            other.attempts,
        )
    }
}

impl Eq for VendorResponse {}

impl fmt::Debug for VendorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client = &self.client;
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), client.scrub(value)))
            .collect();
        f.debug_struct("VendorResponse")
            .field("method", &self.method)
            .field("url", &client.scrub(&self.url))
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl VendorClient {
    /// A builder with the defaults: no base URL, no authentication, no rate
    /// limit, [`RetryPolicy::default`], 30 s per phase, a 10 min deadline.
    pub fn builder() -> VendorClientBuilder {
        VendorClientBuilder::default()
    }

    /// A request; `url` is absolute (`https://…`) or a path joined to the base URL.
    pub fn request(&self, method: Method, url: impl Into<String>) -> VendorRequest {
        VendorRequest {
            client: self.clone(),
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            credential_headers: Vec::new(),
            credential_query: Vec::new(),
            origin_url: None,
            body: None,
            credential_body: false,
            body_error: None,
            error_for_status: true,
            authenticate: true,
            retry: None,
        }
    }

    /// `GET url`.
    pub fn get(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Post, url)
    }

    /// `PUT url`.
    pub fn put(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Put, url)
    }

    /// `PATCH url`.
    pub fn patch(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Patch, url)
    }

    /// `DELETE url`.
    pub fn delete(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Delete, url)
    }

    /// `HEAD url`.
    pub fn head(&self, url: impl Into<String>) -> VendorRequest {
        self.request(Method::Head, url)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// `text` with the client's own secrets and every registered secret
    /// replaced, in every form they take in text (as is, JSON- and
    /// Debug-escaped, percent-encoded).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        if let Some(auth) = &self.inner.auth {
            let mut forms: Vec<String> = auth
                .secret_values()
                .iter()
                .filter(|secret| secret.len() >= redact::MIN_LEN)
                .flat_map(|secret| redact::escaped_forms(secret))
                .filter(|form| form.len() >= redact::MIN_LEN)
                .collect();
            // Longest first, so a secret that contains another is scrubbed whole.
            forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
            for form in forms {
                if text.contains(&form) {
                    text = text.replace(&form, redact::MARKER);
                }
            }
        }
        redact::scrub(&text).into_owned()
    }

    /// Whether a header is a credential: `Authorization`,
    /// `Proxy-Authorization`, `Cookie`, or the client's API-key header.
    fn is_credential_header(&self, name: &str) -> bool {
        ["Authorization", "Proxy-Authorization", "Cookie"]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(name))
            || matches!(&self.inner.auth, Some(Auth(AuthKind::Header(key, _))) if key.eq_ignore_ascii_case(name))
    }

    fn sleep(&self, duration: Duration) -> bool {
        match &self.inner.stop {
            Some(stop) => stop.sleep(duration),
            None => {
                std::thread::sleep(duration);
                true
            }
        }
    }

    fn is_stopped(&self) -> bool {
        self.inner
            .stop
            .as_ref()
            .is_some_and(|stop| stop.is_stopped())
    }
}

/// What one attempt gave.
enum Attempt {
    Answer(VendorResponse),
    Failed(TransportError),
}

/// An attempt's outcome, and the `Authorization` its last hop carried.
struct Sent {
    outcome: Attempt,
    authorization: Option<String>,
}

/// The statuses whose `Location` is followed, as `requests` does.
const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// One request of an attempt: the first, or one following a redirect.
struct Hop {
    method: Method,
    url: String,
    /// The body (and its headers) is sent: not after a 301, 302 or 303.
    with_body: bool,
    /// The hop goes to the origin of the client's credentials.
    to_auth_origin: bool,
    /// The hop goes to the origin of the request's own credentials.
    to_request_origin: bool,
}

/// Where credentials may go for one request.
struct Origins {
    /// The client's (its `Auth`, and its credential headers): the base
    /// URL's origin, or the request's without a base URL.
    auth: Option<Origin>,
    /// The request's own credential headers and query parameters: its
    /// (first page's) URL's origin.
    request: Option<Origin>,
}

impl VendorRequest {
    /// Adds a query parameter, encoded as `requests` encodes `params`
    /// (`+` for spaces, UTF-8 percent-encoding).
    pub fn query(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.query.push((
            url::quote_plus(name.as_ref()),
            url::quote_plus(value.as_ref()),
        ));
        self
    }

    /// Adds a query parameter already encoded (name and value).
    pub(crate) fn encoded_query(mut self, name: String, value: String) -> Self {
        self.query.push((name, value));
        self
    }

    /// Adds a header to this request. An `Authorization`,
    /// `Proxy-Authorization` or `Cookie` header is a credential: it goes
    /// only to this request URL's origin, never to a redirect or a next page
    /// elsewhere.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header that is a credential (an API key under a name of the
    /// vendor's choice): sent only to this request URL's origin, and
    /// redacted in the request's `Debug`.
    pub(crate) fn credential_header(mut self, name: String, value: String) -> Self {
        self.credential_headers.push(name.clone());
        self.headers.push((name, value));
        self
    }

    /// Adds a query parameter already encoded that is a credential: removed
    /// from a redirect's URL to another origin, redacted in `Debug`.
    pub(crate) fn credential_query(mut self, name: String, value: String) -> Self {
        self.credential_query.push(url::unquote_plus(&name));
        self.query.push((name, value));
        self
    }

    /// Whether a header of this request (or of its client) is a credential.
    fn is_credential_header(&self, name: &str) -> bool {
        self.client.is_credential_header(name)
            || self
                .credential_headers
                .iter()
                .any(|known| known.eq_ignore_ascii_case(name))
    }

    /// Whether an encoded query parameter of this request is a credential.
    fn is_credential_query(&self, encoded_name: &str) -> bool {
        let name = url::unquote_plus(encoded_name);
        self.credential_query.contains(&name)
            || matches!(&self.client.inner.auth, Some(Auth(AuthKind::Query(key, _))) if *key == name)
    }

    /// A JSON body, written as Python's `json.dumps` (and `requests`'
    /// `json=`) writes it, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match crate::wire::python_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some(bytes);
                self.headers
                    .push(("Content-Type".into(), "application/json".into()));
            }
            Err(error) => self.body_error = Some(error.to_string()),
        }
        self
    }

    /// A form body (`application/x-www-form-urlencoded`, `+` for spaces).
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded = fields
            .iter()
            .map(|(name, value)| format!("{}={}", url::quote_plus(name), url::quote_plus(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.body = Some(encoded.into_bytes());
        self.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        self
    }

    /// A raw body with its content type.
    pub fn body(mut self, body: impl Into<Vec<u8>>, content_type: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self
    }

    /// Hands error statuses (4xx, and 5xx once retries are exhausted) back
    /// as a [`VendorResponse`] instead of a [`VendorError::Status`].
    pub fn allow_error_status(mut self) -> Self {
        self.error_for_status = false;
        self
    }

    /// Sends without the client's authentication.
    pub fn without_auth(mut self) -> Self {
        self.authenticate = false;
        self
    }

    /// Retries this request as `policy` says rather than as the client's
    /// policy does: [`RetryPolicy::never`] for one attempt, as a plain
    /// `requests.get` of a Python module.
    ///
    /// ```no_run
    /// use sekoia_automation::vendor::{RetryPolicy, VendorClient};
    /// let client = VendorClient::builder().base_url("https://api.example.com").build()?;
    /// let answer = client.get("account").retry(RetryPolicy::never()).send()?;
    /// # Ok::<(), sekoia_automation::vendor::VendorError>(())
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sends the request, retrying as the client's policy says.
    ///
    /// Blocks until the answer, the retries (their backoff and `Retry-After`
    /// waits) and the rate limits' waits included; a stop signal given to
    /// the client ends the waits at once.
    ///
    /// # Errors
    ///
    /// [`VendorError::Status`] for an error status (after the retries the
    /// policy allows), [`VendorError::Transport`] when no answer came,
    /// [`VendorError::DeadlineExceeded`] past the client's deadline,
    /// [`VendorError::Interrupted`] when the stop signal ended a wait,
    /// [`VendorError::Redirect`] for a redirect not followed,
    /// [`VendorError::Token`] when an OAuth2 token could not be had,
    /// [`VendorError::Body`] for a body that cannot be serialized,
    /// [`VendorError::InvalidUrl`] for a URL that cannot be sent.
    pub fn send(self) -> Result<VendorResponse, VendorError> {
        self.client.clone().execute(&self)
    }

    /// Sends the request and parses the answer as `T` (an empty body as `null`).
    ///
    /// Blocks as [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// Those of [`send`](Self::send), and [`VendorError::InvalidJson`] for
    /// an answer that is not a `T`.
    pub fn send_json<T: DeserializeOwned>(self) -> Result<T, VendorError> {
        self.send()?.json()
    }

    /// Sends the request and parses the answer as [`Json`], numbers exact.
    ///
    /// Blocks as [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// Those of [`send`](Self::send), and [`VendorError::InvalidJson`] for
    /// an answer that is not JSON.
    pub fn send_exact_json(self) -> Result<Json, VendorError> {
        self.send()?.exact_json()
    }

    /// The URL sent: base joined, query appended (the API-key parameter
    /// first, when it goes to the client's origin), normalized.
    pub(crate) fn full_url(&self) -> Result<String, VendorError> {
        let client = &self.client.inner;
        let joined = match (&client.base_url, url::has_scheme(&self.url)) {
            (Some(base), false) => url::join(base, self.url.trim_start_matches('/')),
            _ => self.url.clone(),
        };
        let invalid = |detail| VendorError::InvalidUrl {
            url: self.client.scrub(&joined),
            detail,
        };
        let mut query: Vec<String> = Vec::new();
        let mut foreign_key = None;
        if let Some(Auth(AuthKind::Query(name, key))) = &client.auth {
            let bare = url::prepare(&joined, None).map_err(invalid)?;
            if Origin::of(&bare).is_some() && Origin::of(&bare) == self.origins(&bare).auth {
                if self.authenticate {
                    query.push(format!(
                        "{}={}",
                        url::quote_plus(name),
                        url::quote_plus(key.expose())
                    ));
                }
            } else {
                // A next link to another origin that carries the key.
                foreign_key = Some((name, key.expose()));
            }
        }
        query.extend(
            self.query
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
        let query = query.join("&");
        let prepared = url::prepare(&joined, Some(&query)).map_err(invalid)?;
        Ok(match foreign_key {
            Some((name, key)) => url::without_query_value(&prepared, name, key),
            None => prepared,
        })
    }

    /// Where credentials may go for this request sent to `url`.
    fn origins(&self, url: &str) -> Origins {
        let request = Origin::of(self.origin_url.as_deref().unwrap_or(url));
        let auth = match &self.client.inner.base_origin {
            Some(base) => Some(base.clone()),
            None => request.clone(),
        };
        Origins { auth, request }
    }

    pub(crate) fn set_query(&mut self, name: &str, value: &str) {
        let name = url::quote_plus(name);
        self.query.retain(|(existing, _)| *existing != name);
        self.query.push((name, url::quote_plus(value)));
    }

    /// Moves the request to a next page's URL; its credentials stay with
    /// the first page's origin.
    pub(crate) fn set_url(&mut self, url: String) {
        if self.origin_url.is_none() {
            self.origin_url = self.full_url().ok();
        }
        self.url = url;
        self.query.clear();
    }

    pub(crate) fn client(&self) -> &VendorClient {
        &self.client
    }
}

impl VendorClient {
    fn execute(&self, request: &VendorRequest) -> Result<VendorResponse, VendorError> {
        let started = Instant::now();
        let deadline = self.inner.deadline;
        let deadline_at = started + deadline;
        let method = request.method;
        let url = request.full_url()?;
        // Scrubbed only when shown (errors, logs): not on the fast path.
        let shown_url = || self.scrub(&url);
        if let Some(detail) = &request.body_error {
            return Err(VendorError::Body {
                url: shown_url(),
                cause: serde::ser::Error::custom(detail),
            });
        }
        for (name, value) in &request.headers {
            check_header(name, value)?;
        }
        let origins = request.origins(&url);
        let policy = request.retry.as_ref().unwrap_or(&self.inner.retry);
        let mut attempts = 0u32;
        let mut fresh_token_tried = false;
        let mut last_failure: Option<String> = None;
        let deadline_error = |attempts: u32, last: Option<String>| VendorError::DeadlineExceeded {
            method,
            url: shown_url(),
            attempts,
            deadline,
            last,
        };
        loop {
            attempts += 1;
            // One attempt: the request and the redirects it is answered.
            let Sent {
                outcome,
                authorization,
            } = self.follow(
                request,
                &url,
                &origins,
                deadline_at,
                attempts,
                &last_failure,
            )?;
            let wait = match outcome {
                Attempt::Answer(response) => {
                    let status = response.status;
                    if status == 429 {
                        self.inner
                            .limiter
                            .fill(host_key(&response.url), Instant::now());
                    }
                    if status == 401
                        && !fresh_token_tried
                        && let (Some(Auth(AuthKind::OAuth2(state))), Some(header)) =
                            (&self.inner.auth, &authorization)
                    {
                        state.invalidate(header);
                        fresh_token_tried = true;
                        attempts -= 1;
                        continue;
                    }
                    if status < 400 {
                        return Ok(response);
                    }
                    let retry_after = response.header("Retry-After");
                    if attempts > policy.max_retries()
                        || !policy.retries_status(method, status, retry_after.is_some())
                    {
                        return if request.error_for_status {
                            Err(self.status_error(response))
                        } else {
                            Ok(response)
                        };
                    }
                    last_failure = Some(format!("HTTP {status}"));
                    let asked = retry_after
                        .filter(|_| policy.honours_retry_after())
                        .filter(|_| super::retry::RETRY_AFTER_STATUSES.contains(&status))
                        .and_then(|value| parse_retry_after(value, SystemTime::now()));
                    policy.wait(attempts, asked)
                }
                Attempt::Failed(error) => {
                    if attempts > policy.max_retries()
                        || !policy.retries_transport(method, error.kind())
                    {
                        return Err(VendorError::Transport {
                            method,
                            url: shown_url(),
                            attempts,
                            cause: error,
                        });
                    }
                    last_failure = Some(error.to_string());
                    policy.wait(attempts, None)
                }
            };
            if Instant::now() + wait > deadline_at {
                return Err(deadline_error(attempts, last_failure));
            }
            if policy.logs_retries() {
                log::warn!(
                    "{method} {}: attempt {attempts} failed ({}); retrying in {:.3} s",
                    shown_url(),
                    last_failure.as_deref().unwrap_or(""),
                    wait.as_secs_f64()
                );
            }
            if !self.sleep(wait) {
                return Err(VendorError::Interrupted {
                    method,
                    url: shown_url(),
                    attempts,
                });
            }
        }
    }

    /// Attempt number `attempts`: sends the request to `start_url`, then to
    /// each redirect's `Location` (at most `max_redirects`), each hop after
    /// its host's rate limit. The client's credentials go only to
    /// `origins.auth`, the request's own only to `origins.request`.
    fn follow(
        &self,
        request: &VendorRequest,
        start_url: &str,
        origins: &Origins,
        deadline_at: Instant,
        attempts: u32,
        last_failure: &Option<String>,
    ) -> Result<Sent, VendorError> {
        let mut hop = Hop {
            method: request.method,
            url: start_url.to_string(),
            with_body: true,
            to_auth_origin: false,
            to_request_origin: false,
        };
        let mut redirects = 0u32;
        loop {
            // Before the first hop, this attempt was not made yet.
            let made = if redirects == 0 {
                attempts - 1
            } else {
                attempts
            };
            let interrupted = || VendorError::Interrupted {
                method: request.method,
                url: self.scrub(start_url),
                attempts: made,
            };
            let deadline_error = || VendorError::DeadlineExceeded {
                method: request.method,
                url: self.scrub(start_url),
                attempts: made,
                deadline: self.inner.deadline,
                last: last_failure.clone(),
            };
            let host = host_key(&hop.url);
            loop {
                let wait = self.inner.limiter.try_acquire(host, Instant::now());
                if wait.is_zero() {
                    break;
                }
                if Instant::now() + wait > deadline_at {
                    return Err(deadline_error());
                }
                log::debug!(
                    "{} {}: rate limit reached, waiting {wait:?}",
                    hop.method,
                    self.scrub(&hop.url)
                );
                if !self.sleep(wait) {
                    return Err(interrupted());
                }
            }
            if self.is_stopped() {
                return Err(interrupted());
            }
            let remaining = deadline_at.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(deadline_error());
            }
            let origin = Origin::of(&hop.url);
            hop.to_auth_origin = origin.is_some() && origin == origins.auth;
            hop.to_request_origin = origin.is_some() && origin == origins.request;
            let authorization = if request.authenticate && hop.to_auth_origin {
                self.authorization(deadline_at)?
            } else {
                None
            };
            let outcome =
                self.attempt(request, &hop, authorization.as_deref(), remaining, attempts);
            let location = match &outcome {
                Attempt::Answer(response)
                    if REDIRECT_STATUSES.contains(&response.status)
                        && self.inner.max_redirects > 0 =>
                {
                    response.header("Location").map(str::to_string)
                }
                _ => None,
            };
            let (Some(location), Attempt::Answer(response)) = (location, &outcome) else {
                return Ok(Sent {
                    outcome,
                    authorization,
                });
            };
            let status = response.status;
            let not_followed = |detail: String| VendorError::Redirect {
                method: hop.method,
                url: self.scrub(&hop.url),
                status,
                location: self.scrub(&location),
                detail,
            };
            if redirects >= self.inner.max_redirects {
                return Err(not_followed(format!(
                    "more than {} redirects; check the URL, or raise the client's `max_redirects`",
                    self.inner.max_redirects
                )));
            }
            let mut next = url::prepare(&url::urljoin(&hop.url, location.trim()), None)
                .map_err(|detail| not_followed(format!("{detail}; check the vendor's URL")))?;
            let next_origin = Origin::of(&next);
            // The client's API key goes back in the query of its origin
            // only; the request's own credentials in the query go nowhere
            // else (the `Location` is used as is there, as `requests` does).
            if let Some(Auth(AuthKind::Query(name, key))) = &self.inner.auth {
                next = if next_origin.is_some() && next_origin == origins.auth {
                    if request.authenticate {
                        url::with_query_param(&next, name, &url::quote_plus(key.expose()))
                    } else {
                        next
                    }
                } else {
                    url::without_query_value(&next, name, key.expose())
                };
            }
            if next_origin.is_none() || next_origin != origins.request {
                for name in &request.credential_query {
                    next = url::without_query_param(&next, name);
                }
            }
            // `requests`' `rebuild_method`: what browsers do.
            let method = match (status, hop.method) {
                (302 | 303, method) if method != Method::Head => Method::Get,
                (301, Method::Post) => Method::Get,
                (_, method) => method,
            };
            log::debug!(
                "{} {}: HTTP {status}, following to {method} {}",
                hop.method,
                self.scrub(&hop.url),
                self.scrub(&next)
            );
            hop.with_body &= matches!(status, 307 | 308);
            if hop.with_body
                && request.credential_body
                && (next_origin.is_none() || next_origin != origins.request)
            {
                return Err(not_followed(
                    "the request's body holds credentials, which are not sent to another origin; give the URL the vendor redirects to".into(),
                ));
            }
            hop.method = method;
            hop.url = next;
            redirects += 1;
        }
    }

    fn status_error(&self, response: VendorResponse) -> VendorError {
        VendorError::Status {
            method: response.method,
            url: self.scrub(&response.url),
            status: response.status,
            attempts: response.attempts,
            excerpt: crate::wire::http::excerpt(&response.body).map(|text| self.scrub(&text)),
            body: super::error::AnswerBody(response.body),
        }
    }

    /// The `Authorization` (or API-key) header value for the next attempt,
    /// fetching an OAuth2 token when needed.
    fn authorization(&self, deadline_at: Instant) -> Result<Option<String>, VendorError> {
        match self.inner.auth.as_ref().map(|auth| &auth.0) {
            Some(AuthKind::Bearer(value) | AuthKind::Basic { header: value, .. }) => {
                Ok(Some(value.expose().clone()))
            }
            Some(AuthKind::Header(_, key)) => Ok(Some(key.expose().clone())),
            Some(AuthKind::OAuth2(state)) => match state.fresh(Instant::now()) {
                Some(header) => Ok(Some(header)),
                None => self.fetch_token(state, deadline_at).map(Some),
            },
            Some(AuthKind::Query(..)) | None => Ok(None),
        }
    }

    fn fetch_token(
        &self,
        state: &OAuth2State,
        deadline_at: Instant,
    ) -> Result<String, VendorError> {
        let config = &state.config;
        let mut request = self
            .post(config.token_url.clone())
            .without_auth()
            .body(config.form(), "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        if config.credentials_in_body {
            request.credential_body = true;
        } else {
            request = request.header(
                "Authorization",
                super::auth::basic_header(&config.client_id, config.client_secret.expose()),
            );
        }
        let fetched_at = Instant::now();
        let token_error = |detail: String| VendorError::Token {
            token_url: self.scrub(&config.token_url),
            detail: self.scrub(&detail),
        };
        if fetched_at >= deadline_at {
            return Err(token_error("the request's deadline passed".into()));
        }
        let answer = self
            .execute(&request)
            .and_then(|response| response.exact_json())
            .map_err(|error| token_error(error.to_string()))?;
        let Some(token) = answer["access_token"].as_str() else {
            return Err(token_error(
                "the answer has no `access_token` string".into(),
            ));
        };
        let expires_in = match &answer["expires_in"] {
            Json::Number(number) => Some(number.as_f64()),
            Json::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(|seconds| Duration::from_secs_f64(seconds.min(1e9)));
        Ok(state.store(token, expires_in, fetched_at))
    }

    /// One hop of an attempt: its headers (credentials only to their
    /// origin, the body's headers only with the body), then the answer.
    fn attempt(
        &self,
        request: &VendorRequest,
        hop: &Hop,
        authorization: Option<&str>,
        remaining: Duration,
        attempts: u32,
    ) -> Attempt {
        let inner = &self.inner;
        let mut builder = ureq::http::Request::builder()
            .method(hop.method.to_http())
            .uri(hop.url.as_str())
            .header("User-Agent", &inner.user_agent);
        for (name, value) in &inner.headers {
            if hop.to_auth_origin || !self.is_credential_header(name) {
                builder = builder.header(name, value);
            }
        }
        for (name, value) in &request.headers {
            let body_header = ["Content-Type", "Content-Length", "Transfer-Encoding"]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(name));
            if (hop.with_body || !body_header)
                && (hop.to_request_origin || !request.is_credential_header(name))
            {
                builder = builder.header(name, value);
            }
        }
        if let Some(value) = authorization {
            let name = match inner.auth.as_ref().map(|auth| &auth.0) {
                Some(AuthKind::Header(name, _)) => name.as_str(),
                _ => "Authorization",
            };
            builder = builder.header(name, value);
        }
        let body = request.body.as_ref().filter(|_| hop.with_body);
        let result = match body {
            Some(body) => builder
                .body(body.as_slice())
                .map_err(ureq::Error::from)
                .and_then(|http| self.run(http, remaining)),
            None => builder
                .body(())
                .map_err(ureq::Error::from)
                .and_then(|http| self.run(http, remaining)),
        };
        let mut response = match result {
            Ok(response) => response,
            Err(error) => {
                return Attempt::Failed(TransportError::new(error, |text| self.scrub(text)));
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = if hop.method == Method::Head {
            Vec::new()
        } else {
            match response
                .body_mut()
                .with_config()
                .limit(inner.max_response_bytes)
                .read_to_vec()
            {
                Ok(body) => body,
                Err(error) => {
                    return Attempt::Failed(TransportError::new(error, |text| self.scrub(text)));
                }
            }
        };
        Attempt::Answer(VendorResponse {
            client: self.clone(),
            method: hop.method,
            url: hop.url.clone(),
            status,
            headers,
            body,
            attempts,
        })
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: ureq::http::Request<S>,
        remaining: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let inner = &self.inner;
        // Five phases of at most `timeout` each: only a deadline closer than
        // that needs per-request timeouts (which cost a resolver thread).
        if remaining >= inner.timeout.saturating_mul(5) {
            return inner.agent.run(request);
        }
        let phase = Some(inner.timeout.min(remaining));
        let request = inner
            .agent
            .configure_request(request)
            .timeout_global(Some(remaining))
            .timeout_connect(phase)
            .timeout_send_request(phase)
            .timeout_send_body(phase)
            .timeout_recv_response(phase)
            .timeout_recv_body(phase)
            .build();
        inner.agent.run(request)
    }
}

/// `host[:port]` of a prepared URL, the rate limiter's key.
fn host_key(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

impl VendorResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The status's reason phrase, as `requests`' `response.reason` gives
    /// it in Python modules' messages (`"Not Found"` for a 404): the
    /// standard phrase of the status (the HTTP library does not keep the
    /// one the vendor wrote, which is the same for nearly every server);
    /// empty for a status without one.
    ///
    /// ```
    /// use sekoia_automation::testing::{FakeVendor, Reply};
    /// use sekoia_automation::vendor::VendorClient;
    ///
    /// let vendor = FakeVendor::start()?;
    /// vendor.route("GET", "/missing", Reply::json(404, "{}"));
    /// let client = VendorClient::builder().base_url(vendor.url()).build()?;
    /// let response = client.get("missing").allow_error_status().send()?;
    /// assert_eq!(format!("{} {}", response.status(), response.reason()), "404 Not Found");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reason(&self) -> &'static str {
        ureq::http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("")
    }

    /// The URL answered (secrets included: do not log it as is).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The attempts it took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header, names lower-case, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as `T`; an empty body parses as `null` (so as `()` or `Option`).
    ///
    /// # Errors
    ///
    /// [`VendorError::InvalidJson`] (with the start of the body) when the
    /// body is not a `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, VendorError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|error| self.json_error(error.to_string()))
    }

    /// The body parsed as [`Json`], integers of any size exact.
    ///
    /// # Errors
    ///
    /// [`VendorError::InvalidJson`] (with the start of the body) when the
    /// body is not JSON.
    pub fn exact_json(&self) -> Result<Json, VendorError> {
        Json::parse(&self.body).map_err(|error| self.json_error(error.to_string()))
    }

    fn json_error(&self, detail: String) -> VendorError {
        VendorError::InvalidJson {
            method: self.method,
            url: self.client.scrub(&self.url),
            detail,
            excerpt: crate::wire::http::excerpt(&self.body).map(|text| self.client.scrub(&text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keys() {
        assert_eq!(host_key("http://127.0.0.1:8080/a?b"), "127.0.0.1:8080");
        assert_eq!(host_key("https://u:p@api.example.com?x"), "api.example.com");
    }
}
