//! The S3 client: whole-object GET, PUT (conditional or not, in parts above
//! the multipart threshold), HEAD, DELETE and paginated ListObjectsV2,
//! signed with [SigV4](super::sigv4), sent on the crate's ureq agent through
//! its one retry loop ([`PlatformClient::send_with`]).
//!
//! **Addressing.** An endpoint on `amazonaws.com` with a bucket name that
//! is a DNS label (lower case, no dot) is addressed virtual-host style
//! (`https://<bucket>.s3.<region>.amazonaws.com/<key>`), as boto3 does by
//! default; any other endpoint (an S3-compatible store, an IP address,
//! `localhost`) path style (`<endpoint>/<bucket>/<key>`), which every
//! S3-compatible store serves.
//!
//! **Retries.** 5xx answers (`SlowDown`, `InternalError`...) and network
//! errors are retried, up to 10 attempts with exponential waits capped at
//! 6 s (the Python SDK's `wait_exponential(max=6)`, `stop_after_attempt(10)`),
//! each wait cut short by the item's [`StopSignal`]; 4xx answers are not.
//! Every attempt is signed again (a fresh `x-amz-date`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::secret::Secret;
use crate::trigger::stop_signal::StopSignal;
use crate::wire::http::{HttpError, Method, PlatformClient, Request, Response};
use crate::wire::timestamp::civil_from_days;

use super::config::S3Config;
use super::error::S3Error;
use super::location::S3Location;
use super::sigv4::{self, EMPTY_PAYLOAD_SHA256, Scope, Signable};
use super::xml;

/// Objects larger than this go up in parts, as the Python SDK's upload
/// chunking (`UPLOAD_CHUNK_SIZE`, 50 MiB).
pub const MULTIPART_THRESHOLD: usize = 50 * 1024 * 1024;
/// The longest wait between two attempts, as `wait_exponential(max=6)`.
pub const MAX_WAIT: Duration = Duration::from_secs(6);
/// Keys asked per ListObjectsV2 page (S3's own maximum).
const PAGE_SIZE: usize = 1000;
/// Largest object read.
const MAX_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// A precondition on a PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Write whatever is there.
    None,
    /// Write only if the object still has this ETag (`If-Match`).
    IfMatch(String),
    /// Write only if there is no object yet (`If-None-Match: *`).
    IfAbsent,
}

/// An object read whole, with the ETag a conditional write can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The bytes.
    pub body: Vec<u8>,
    /// The ETag, quotes included, as S3 sends it.
    pub etag: String,
}

/// A client for one bucket.
///
/// ```no_run
/// use sekoia_automation::Secret;
/// use sekoia_automation::unversioned::s3::{Condition, S3Client, S3Config};
///
/// let config = S3Config::new("http://127.0.0.1:9000", "us-east-1", "bucket", "AKID", Secret::new("key".into()));
/// let client = S3Client::new(config)?;
/// client.check_bucket()?;
/// let etag = client.put("state.json", b"{}", &Condition::IfAbsent)?;
/// client.put("state.json", b"{\"a\":1}", &Condition::IfMatch(etag))?;
/// assert_eq!(client.get("state.json")?.unwrap().body, b"{\"a\":1}");
/// # Ok::<(), sekoia_automation::unversioned::s3::S3Error>(())
/// ```
#[derive(Clone)]
pub struct S3Client {
    config: Arc<S3Config>,
    location: S3Location,
    endpoint: Endpoint,
    agent: ureq::Agent,
    retry: PlatformClient,
    multipart_threshold: usize,
    part_size: usize,
}

/// Two clients are equal when they reach the same data directory of the
/// same store with the same credentials.
impl PartialEq for S3Client {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.location == other.location
    }
}

impl Eq for S3Client {}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("config", &self.config)
            .field("location", &self.location)
            .field("multipart_threshold", &self.multipart_threshold)
            .finish_non_exhaustive()
    }
}

/// The endpoint's parts.
#[derive(Debug, Clone)]
struct Endpoint {
    scheme: String,
    authority: String,
    base_path: String,
    virtual_host: bool,
}

/// What one attempt answered, with the headers the client reads.
#[derive(Debug, Default)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    etag: Option<String>,
}

impl S3Client {
    /// A client for the configured bucket, on the crate's shared agent (or
    /// an agent of its own when `ca_cert` or a client certificate is set).
    pub fn new(config: S3Config) -> Result<S3Client, S3Error> {
        let deadline = crate::config::settings::DEFAULT_DEADLINE;
        let agent = match tls_config(&config)? {
            Some(tls) => crate::wire::transport::agent_with_tls(deadline, tls),
            None => crate::wire::transport::agent(deadline),
        };
        let (scheme, rest) = config
            .endpoint_url
            .split_once("://")
            .unwrap_or(("https", config.endpoint_url.as_str()));
        let (authority, base_path) = match rest.find('/') {
            Some(at) => (&rest[..at], rest[at..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host);
        let virtual_host = host.ends_with(".amazonaws.com")
            && base_path.is_empty()
            && !config.bucket.is_empty()
            && config
                .bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let endpoint = Endpoint {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            base_path: base_path.to_string(),
            virtual_host,
        };
        let location = S3Location::new(config.bucket.clone(), config.sub_folder.as_deref());
        let stop = Arc::new(StopSignal::new());
        Ok(S3Client {
            location,
            endpoint,
            agent,
            retry: retry_client(stop),
            config: Arc::new(config),
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: MULTIPART_THRESHOLD,
        })
    }

    /// Waits between attempts are cut short when `stop` is raised, and the
    /// request is then abandoned ([`S3Error::is_internal`]).
    pub fn with_stop_signal(mut self, stop: Arc<StopSignal>) -> S3Client {
        let unit = self.retry.backoff_unit();
        self.retry = retry_client(stop).with_backoff(unit);
        self
    }

    /// Sets the backoff unit (attempt `n` waits `unit × 2^n`, at most 6 s)
    /// and the number of attempts (10 by default).
    pub fn with_retry(mut self, unit: Duration, attempts: u32) -> S3Client {
        self.retry = self.retry.with_backoff(unit).with_max_attempts(attempts);
        self
    }

    /// Sets the size above which an object goes up in parts, and the size of
    /// each part (S3 wants at least 5 MiB but for the last).
    pub fn with_multipart(mut self, threshold: usize, part_size: usize) -> S3Client {
        self.multipart_threshold = threshold;
        self.part_size = part_size.max(1);
        self
    }

    /// The same client for the data directory's sub-folder `relative`.
    pub fn in_sub_folder(&self, relative: &str) -> S3Client {
        let mut client = self.clone();
        client.location = S3Location::new(
            self.location.bucket().to_string(),
            Some(&self.location.key(relative)),
        );
        client
    }

    /// The data directory in the bucket (`sub_folder` applied).
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// Checks that the bucket exists and the credentials are accepted
    /// (`HeadBucket`), as `get_s3_data_path` does at start.
    pub fn check_bucket(&self) -> Result<(), S3Error> {
        match self.send("HeadBucket", Method::Head, None, &[], &[], None) {
            Ok(_) => Ok(()),
            Err(error) if error.status() == Some(404) => Err(S3Error::MissingBucket {
                bucket: self.config.bucket.clone(),
                endpoint: self.config.endpoint_url.clone(),
            }),
            Err(error) => Err(error),
        }
    }

    /// Creates the bucket (a local store for `run-local` and tests; on the
    /// platform the bucket exists).
    pub fn create_bucket(&self) -> Result<(), S3Error> {
        let body = if self.config.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml::escape(&self.config.region)
            )
        };
        self.send(
            "CreateBucket",
            Method::Put,
            None,
            &[],
            &[],
            Some(body.as_bytes()),
        )
        .map(drop)
    }

    /// The object at `key`, `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Object>, S3Error> {
        match self.send("GetObject", Method::Get, Some(key), &[], &[], None) {
            Ok(answer) => Ok(Some(Object {
                body: answer.body,
                etag: answer.etag.unwrap_or_default(),
            })),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The ETag of the object at `key`, `None` when there is none.
    pub fn head(&self, key: &str) -> Result<Option<String>, S3Error> {
        match self.send("HeadObject", Method::Head, Some(key), &[], &[], None) {
            Ok(answer) => Ok(Some(answer.etag.unwrap_or_default())),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Writes the whole object (S3 never shows a half-written one) and
    /// returns its new ETag. Above the multipart threshold the object goes
    /// up in parts; the condition then applies to the completion.
    pub fn put(&self, key: &str, body: &[u8], condition: &Condition) -> Result<String, S3Error> {
        let condition_header;
        let headers: &[(&str, &str)] = match condition {
            Condition::None => &[],
            Condition::IfMatch(etag) => {
                condition_header = [("if-match", etag.as_str())];
                &condition_header
            }
            Condition::IfAbsent => &[("if-none-match", "*")],
        };
        let answer = if body.len() > self.multipart_threshold {
            self.put_in_parts(key, body, headers)
        } else {
            self.send(
                "PutObject",
                Method::Put,
                Some(key),
                &[],
                headers,
                Some(body),
            )
        };
        match answer {
            Ok(answer) => Ok(answer.etag.unwrap_or_default()),
            Err(error) => match (condition, error.status()) {
                (Condition::IfMatch(_) | Condition::IfAbsent, Some(status @ (409 | 412))) => {
                    Err(S3Error::PreconditionFailed {
                        operation: "PutObject",
                        target: self.target(Some(key)),
                        status,
                    })
                }
                // `If-Match` on an object that is gone.
                (Condition::IfMatch(_), Some(404)) => Err(S3Error::PreconditionFailed {
                    operation: "PutObject",
                    target: self.target(Some(key)),
                    status: 404,
                }),
                _ => Err(error),
            },
        }
    }

    /// Removes the object at `key` (nothing when there is none).
    pub fn delete(&self, key: &str) -> Result<(), S3Error> {
        self.send("DeleteObject", Method::Delete, Some(key), &[], &[], None)
            .map(drop)
    }

    /// Every key that starts with `prefix`, in S3's order, page after page.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        self.list_pages(prefix, PAGE_SIZE)
    }

    /// [`list`](Self::list) with `page_size` keys per request.
    pub fn list_pages(&self, prefix: &str, page_size: usize) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        let max_keys = page_size.clamp(1, PAGE_SIZE).to_string();
        loop {
            let mut query = vec![
                ("list-type", "2"),
                ("prefix", prefix),
                ("max-keys", max_keys.as_str()),
            ];
            if let Some(token) = &token {
                query.push(("continuation-token", token.as_str()));
            }
            let answer = self.send("ListObjectsV2", Method::Get, None, &query, &[], None)?;
            let text = String::from_utf8_lossy(&answer.body);
            keys.extend(xml::elements(&text, "Key"));
            if xml::element(&text, "IsTruncated").as_deref() != Some("true") {
                return Ok(keys);
            }
            token = Some(xml::element(&text, "NextContinuationToken").ok_or_else(|| {
                S3Error::InvalidResponse {
                    operation: "ListObjectsV2",
                    target: self.target(None),
                    detail: "a truncated page without `NextContinuationToken`".into(),
                }
            })?);
        }
    }

    fn put_in_parts(
        &self,
        key: &str,
        body: &[u8],
        condition: &[(&str, &str)],
    ) -> Result<Answer, S3Error> {
        let created = self.send(
            "CreateMultipartUpload",
            Method::Post,
            Some(key),
            &[("uploads", "")],
            &[],
            Some(b""),
        )?;
        let upload_id = xml::element(&String::from_utf8_lossy(&created.body), "UploadId")
            .ok_or_else(|| S3Error::InvalidResponse {
                operation: "CreateMultipartUpload",
                target: self.target(Some(key)),
                detail: "no `UploadId`".into(),
            })?;
        let uploaded = (|| {
            let mut completion = String::from("<CompleteMultipartUpload>");
            for (index, part) in body.chunks(self.part_size).enumerate() {
                let number = (index + 1).to_string();
                let answer = self.send(
                    "UploadPart",
                    Method::Put,
                    Some(key),
                    &[("partNumber", &number), ("uploadId", &upload_id)],
                    &[],
                    Some(part),
                )?;
                completion.push_str(&format!(
                    "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
                    xml::escape(answer.etag.as_deref().unwrap_or_default())
                ));
            }
            completion.push_str("</CompleteMultipartUpload>");
            self.send(
                "CompleteMultipartUpload",
                Method::Post,
                Some(key),
                &[("uploadId", &upload_id)],
                condition,
                Some(completion.as_bytes()),
            )
        })();
        if uploaded.is_err() {
            // Parts left behind cost storage until aborted.
            let _ = self.send(
                "AbortMultipartUpload",
                Method::Delete,
                Some(key),
                &[("uploadId", &upload_id)],
                &[],
                None,
            );
        }
        let answer = uploaded?;
        // A completion can fail after its 200 status line, in the body.
        let text = String::from_utf8_lossy(&answer.body);
        if xml::element(&text, "Code").is_some() && xml::element(&text, "ETag").is_none() {
            return Err(S3Error::InvalidResponse {
                operation: "CompleteMultipartUpload",
                target: self.target(Some(key)),
                detail: error_text(answer.status, &answer.body),
            });
        }
        let etag = answer.etag.or_else(|| xml::element(&text, "ETag"));
        Ok(Answer { etag, ..answer })
    }

    /// `bucket/key`, for messages.
    fn target(&self, key: Option<&str>) -> String {
        match key {
            Some(key) => format!("{}/{key}", self.config.bucket),
            None => self.config.bucket.clone(),
        }
    }

    /// The host and the path (not yet encoded) of a request.
    fn address(&self, key: Option<&str>) -> (String, String) {
        let endpoint = &self.endpoint;
        if endpoint.virtual_host {
            let host = format!("{}.{}", self.config.bucket, endpoint.authority);
            (host, format!("/{}", key.unwrap_or_default()))
        } else {
            let mut path = format!("{}/{}", endpoint.base_path, self.config.bucket);
            if let Some(key) = key {
                path.push('/');
                path.push_str(key);
            }
            (endpoint.authority.clone(), path)
        }
    }

    /// One request through the retry loop.
    fn send(
        &self,
        operation: &'static str,
        method: Method,
        key: Option<&str>,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Answer, S3Error> {
        let (host, path) = self.address(key);
        let mut url = format!(
            "{}://{host}{}",
            self.endpoint.scheme,
            sigv4::uri_encode(&path, false)
        );
        for (index, (name, value)) in query.iter().enumerate() {
            url.push(if index == 0 { '?' } else { '&' });
            url.push_str(&sigv4::uri_encode(name, true));
            if !value.is_empty() || *name != "uploads" {
                url.push('=');
                url.push_str(&sigv4::uri_encode(value, true));
            }
        }
        let payload_sha256 = match body {
            Some(body) if !body.is_empty() => sigv4::sha256_hex(body),
            _ => EMPTY_PAYLOAD_SHA256.to_string(),
        };
        let mut etag = None;
        let request = Request {
            method,
            url: &url,
            body,
            authenticated: false,
            headers: &[],
        };
        let sent = self.retry.send_with(&request, |_| {
            let timestamp = amz_date(SystemTime::now());
            let token = self.config.credentials.session_token.as_ref();
            let mut signed: Vec<(&str, &str)> = vec![
                ("host", host.as_str()),
                ("x-amz-content-sha256", payload_sha256.as_str()),
                ("x-amz-date", timestamp.as_str()),
            ];
            if let Some(token) = token {
                signed.push(("x-amz-security-token", token.expose().as_str()));
            }
            signed.extend_from_slice(headers);
            let authorization = sigv4::sign(
                &self.config.credentials,
                Scope {
                    timestamp: &timestamp,
                    region: &self.config.region,
                    service: "s3",
                },
                &Signable {
                    method: &method.to_string(),
                    path: &path,
                    query,
                    headers: &signed,
                    payload_sha256: &payload_sha256,
                },
            );
            let answer = self.attempt(method, &url, &signed, &authorization, body)?;
            etag = answer.etag;
            let mut body = answer.body;
            if answer.status >= 300 {
                body = error_text(answer.status, &body).into_bytes();
            }
            Ok(Response {
                status: answer.status,
                body,
                location: None,
                retry_after: None,
            })
        });
        match sent {
            Ok(response) if response.status < 300 => Ok(Answer {
                status: response.status,
                body: response.body,
                etag,
            }),
            Ok(response) => Err(S3Error::Request {
                operation,
                target: self.target(key),
                cause: Box::new(HttpError::Status {
                    method,
                    url,
                    status: response.status,
                    attempts: 1,
                    message: Some(String::from_utf8_lossy(&response.body).into_owned()),
                }),
            }),
            Err(cause) => Err(S3Error::Request {
                operation,
                target: self.target(key),
                cause: Box::new(cause),
            }),
        }
    }

    /// One attempt on the agent.
    fn attempt(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        authorization: &Secret<String>,
        body: Option<&[u8]>,
    ) -> Result<Answer, ureq::Error> {
        let mut response = match method {
            Method::Put | Method::Post => {
                let mut builder = match method {
                    Method::Post => self.agent.post(url),
                    _ => self.agent.put(url),
                };
                for (name, value) in headers {
                    builder = builder.header(*name, *value);
                }
                builder
                    .header("authorization", authorization.expose())
                    .send(body.unwrap_or_default())?
            }
            Method::Get | Method::Head | Method::Delete => {
                let mut builder = match method {
                    Method::Head => self.agent.head(url),
                    Method::Delete => self.agent.delete(url),
                    _ => self.agent.get(url),
                };
                for (name, value) in headers {
                    builder = builder.header(*name, *value);
                }
                builder
                    .header("authorization", authorization.expose())
                    .call()?
            }
            other => {
                return Err(ureq::Error::BadUri(format!(
                    "the S3 client does not send {other} requests"
                )));
            }
        };
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = if method == Method::Head {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_OBJECT_BYTES)
                .read_to_vec()?
        };
        Ok(Answer { status, body, etag })
    }
}

/// The crate's retry client, waits capped at [`MAX_WAIT`] and cut short by `stop`.
fn retry_client(stop: Arc<StopSignal>) -> PlatformClient {
    PlatformClient::new(Secret::new(String::new()))
        .with_sleeper(move |wait| stop.sleep(wait.min(MAX_WAIT)))
}

/// S3's error `Code` and `Message`, and nothing else of the body: a
/// `SignatureDoesNotMatch` answer quotes the signature and the string to
/// sign. Refused credentials also name the key to check (a `HEAD`, such
/// as the bucket check, gets no body: its 400 or 403 names all three).
fn error_text(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let code = xml::element(&text, "Code");
    let hint = match code.as_deref() {
        Some("InvalidAccessKeyId") => {
            " Check `aws_access_key_id`: the store does not know this access key."
        }
        Some("SignatureDoesNotMatch") => {
            " Check `aws_secret_access_key`: it is not the secret of `aws_access_key_id`."
        }
        Some("InvalidToken" | "ExpiredToken" | "TokenRefreshRequired") => {
            " Check `aws_session_token`: temporary credentials expire; give the module fresh ones (or none with permanent keys)."
        }
        None if status == 400 || status == 403 => {
            "the credentials or the request were refused (no detail in a HEAD answer): check `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token`"
        }
        _ => "",
    };
    match (code, xml::element(&text, "Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}{hint}"),
        (Some(code), None) => format!("{code}{hint}"),
        _ => hint.to_string(),
    }
}

/// `20150830T123600Z`.
fn amz_date(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The TLS settings `ca_cert` and `client_cert`/`client_key` ask for.
fn tls_config(config: &S3Config) -> Result<Option<ureq::tls::TlsConfig>, S3Error> {
    use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
    if config.ca_cert.is_none() && config.client_certificate.is_none() {
        return Ok(None);
    }
    let certificates =
        |key: &'static str, pem: &str| -> Result<Vec<Certificate<'static>>, S3Error> {
            let certificates: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(certificate)) => Some(Ok(certificate)),
                    Ok(_) => None,
                    Err(error) => Some(Err(error)),
                })
                .collect::<Result<_, _>>()
                .map_err(|error| S3Error::Tls {
                    key,
                    detail: error.to_string(),
                })?;
            if certificates.is_empty() {
                return Err(S3Error::Tls {
                    key,
                    detail: "no PEM certificate in it".into(),
                });
            }
            Ok(certificates)
        };
    let mut tls = TlsConfig::builder();
    if let Some(ca) = &config.ca_cert {
        tls = tls.root_certs(RootCerts::new_with_certs(&certificates("ca_cert", ca)?));
    }
    if let Some((cert, key)) = &config.client_certificate {
        let chain = certificates("client_cert", cert)?;
        let key = PrivateKey::from_pem(key.expose().as_bytes()).map_err(|_| S3Error::Tls {
            key: "client_key",
            detail: "no PEM private key in it".into(),
        })?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(Some(tls.build()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_are_utc_basic_format() {
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(time), "20150830T123600Z");
    }

    #[test]
    fn error_bodies_keep_only_the_code_and_message() {
        let body = b"<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message><SignatureProvided>abc123</SignatureProvided><StringToSign>x</StringToSign></Error>";
        assert_eq!(
            error_text(403, body),
            "SignatureDoesNotMatch: no Check `aws_secret_access_key`: it is not the secret of `aws_access_key_id`."
        );
    }

    fn client(endpoint: &str, bucket: &str) -> S3Client {
        S3Client::new(S3Config::new(
            endpoint,
            "eu-west-1",
            bucket,
            "AKID",
            Secret::new("secret".into()),
        ))
        .unwrap()
    }

    #[test]
    fn aws_endpoints_are_virtual_host_style_others_path_style() {
        let aws = client("https://s3.eu-west-1.amazonaws.com", "my-bucket");
        assert_eq!(
            aws.address(Some("a/b.json")),
            (
                "my-bucket.s3.eu-west-1.amazonaws.com".into(),
                "/a/b.json".into()
            )
        );
        let dotted = client("https://s3.eu-west-1.amazonaws.com", "my.bucket");
        assert_eq!(
            dotted.address(Some("k")),
            ("s3.eu-west-1.amazonaws.com".into(), "/my.bucket/k".into())
        );
        let local = client("http://127.0.0.1:9000/", "my-bucket");
        assert_eq!(
            local.address(Some("k")),
            ("127.0.0.1:9000".into(), "/my-bucket/k".into())
        );
        assert_eq!(
            local.address(None),
            ("127.0.0.1:9000".into(), "/my-bucket".into())
        );
    }

    #[test]
    fn a_ca_cert_that_is_not_pem_is_named() {
        let mut config = S3Config::new(
            "https://s3.example",
            "r",
            "b",
            "AKID",
            Secret::new("secret".into()),
        );
        config.ca_cert = Some("not a certificate".into());
        let error = S3Client::new(config).unwrap_err().to_string();
        assert!(error.contains("`ca_cert`"), "{error}");
    }
}
