//! AWS Signature Version 4 for S3 requests: the canonical request, the
//! string to sign, the signing key and the `Authorization` header.
//!
//! Sans-IO: [`sign`] turns the parts of a request into the header value,
//! and the [client](super::client) sends it. Hashes and MACs come from
//! `ring`, which the tree already holds through `rustls`. Checked against
//! AWS's published Signature Version 4 test suite
//! (`tests/fixtures/sigv4/aws-sig-v4-test-suite.json`).
//!
//! The path is encoded once, as S3 wants it (no second encoding, no
//! normalisation of `.` or `//`): object keys are taken as they are.

use std::fmt::Write as _;

use ring::{digest, hmac};

use crate::config::secret::Secret;

/// The hash of an empty payload, hex-encoded.
pub(crate) const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Credentials that sign requests. `Debug` never shows the secret key nor
/// the session token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    /// `aws_access_key_id`: public, part of every `Authorization` header.
    pub(crate) access_key_id: String,
    /// `aws_secret_access_key`.
    pub(crate) secret_access_key: Secret<String>,
    /// `aws_session_token`, sent as `x-amz-security-token`.
    pub(crate) session_token: Option<Secret<String>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .finish()
    }
}

/// The parts of one request that the signature covers.
#[derive(Debug, Clone)]
pub(crate) struct Signable<'a> {
    /// `GET`, `PUT`...
    pub(crate) method: &'a str,
    /// The path, not yet encoded (`/bucket/key` or `/key`).
    pub(crate) path: &'a str,
    /// Query parameters, not yet encoded, in any order.
    pub(crate) query: &'a [(&'a str, &'a str)],
    /// Headers to sign, `host` and `x-amz-date` included; names in any case.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the payload (or `UNSIGNED-PAYLOAD`).
    pub(crate) payload_sha256: &'a str,
}

/// Where and when a request is signed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// `20150830T123600Z`: the `x-amz-date` header's value.
    pub(crate) timestamp: &'a str,
    /// `us-east-1`.
    pub(crate) region: &'a str,
    /// `s3`.
    pub(crate) service: &'a str,
}

/// The `Authorization` header value of a request. A secret: it lets anyone
/// who holds it replay the request.
pub(crate) fn sign(
    credentials: &Credentials,
    scope: Scope<'_>,
    request: &Signable<'_>,
) -> Secret<String> {
    let (canonical, signed_headers) = canonical_request(request);
    let date = &scope.timestamp[..scope.timestamp.len().min(8)];
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{credential_scope}\n{}",
        scope.timestamp,
        sha256_hex(canonical.as_bytes())
    );
    let mut key = format!("AWS4{}", credentials.secret_access_key.expose()).into_bytes();
    for part in [date, scope.region, scope.service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    Secret::new(format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    ))
}

/// The canonical request and the `SignedHeaders` list.
fn canonical_request(request: &Signable<'_>) -> (String, String) {
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(name, value)| (uri_encode(name, true), uri_encode(value, true)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = Vec::with_capacity(request.headers.len());
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match headers.iter_mut().find(|(known, _)| *known == name) {
            Some((_, known)) => {
                known.push(',');
                known.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    headers.sort();
    let mut canonical_headers = String::new();
    for (name, value) in &headers {
        let _ = writeln!(canonical_headers, "{name}:{value}");
    }
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        uri_encode(request.path, false),
        request.payload_sha256
    );
    (canonical, signed_headers)
}

/// Percent-encodes everything but the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`), and `/` too when `encode_slash`, as SigV4 and
/// S3 URLs want it (upper-case hex, UTF-8 bytes).
pub(crate) fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte));
            }
            b'/' if !encode_slash => encoded.push('/'),
            _ => {
                let _ = write!(encoded, "%{byte:02X}");
            }
        }
    }
    encoded
}

/// Hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// AWS's Signature Version 4 test suite, as data (source named in the fixture).
    const SUITE: &str = include_str!("../../../tests/fixtures/sigv4/aws-sig-v4-test-suite.json");

    fn pairs(value: &Value) -> Vec<(String, String)> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn every_case_of_the_aws_test_suite_signs_as_published() {
        let suite: Value = serde_json::from_str(SUITE).unwrap();
        let credentials = Credentials {
            access_key_id: suite["credentials"]["access_key_id"]
                .as_str()
                .unwrap()
                .into(),
            secret_access_key: Secret::new(
                suite["credentials"]["secret_access_key"]
                    .as_str()
                    .unwrap()
                    .into(),
            ),
            session_token: None,
        };
        let cases = suite["cases"].as_array().unwrap();
        assert!(cases.len() >= 15, "{}", cases.len());
        for case in cases {
            let query = pairs(&case["query"]);
            let headers = pairs(&case["headers"]);
            let query: Vec<(&str, &str)> = query
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let payload = sha256_hex(case["body"].as_str().unwrap().as_bytes());
            let signed = sign(
                &credentials,
                Scope {
                    timestamp: suite["timestamp"].as_str().unwrap(),
                    region: suite["region"].as_str().unwrap(),
                    service: suite["service"].as_str().unwrap(),
                },
                &Signable {
                    method: case["method"].as_str().unwrap(),
                    path: case["path"].as_str().unwrap(),
                    query: &query,
                    headers: &headers,
                    payload_sha256: &payload,
                },
            );
            assert_eq!(
                signed.expose(),
                case["authorization"].as_str().unwrap(),
                "case {}",
                case["name"]
            );
        }
    }

    #[test]
    fn the_empty_payload_hash_is_the_sha256_of_nothing() {
        assert_eq!(sha256_hex(b""), EMPTY_PAYLOAD_SHA256);
    }

    #[test]
    fn keys_are_encoded_once_with_slashes_kept() {
        assert_eq!(
            uri_encode("/bucket/sub folder/ሴ+x.json", false),
            "/bucket/sub%20folder/%E1%88%B4%2Bx.json"
        );
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }

    #[test]
    fn debug_of_credentials_hides_the_secrets() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: Secret::new("s3cr3t-key".into()),
            session_token: Some(Secret::new("t0ken".into())),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"), "{shown}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0ken"),
            "{shown}"
        );
    }
}
