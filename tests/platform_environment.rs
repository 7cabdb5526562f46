//! The platform client honours the container's environment as `requests`
//! does in the Python SDK: a certificate authority bundle named by
//! `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` or `SSL_CERT_FILE`, the proxies of
//! `https_proxy`/`http_proxy` (`all_proxy`) and `no_proxy`; a refused
//! certificate is said once, with why.
//!
//! The environment is read once per process, so each case runs the client
//! in a child process (this test binary, running the ignored
//! `child_request`) with its own variables; the test process's environment
//! is never changed.

#[path = "support/tunnel_proxy.rs"]
mod tunnel_proxy;

#[path = "support/child.rs"]
mod child;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use child::Bounded;
use sekoia_automation::Secret;
use sekoia_automation::unversioned::wire::PlatformClient;
use tunnel_proxy::TunnelProxy;

const SERVER_CERTIFICATE: &str = include_str!("fixtures/tls/server.pem");
const SERVER_KEY: &str = include_str!("fixtures/tls/server.key");

/// Every variable the client reads: cleared in each child, then set as the case says.
const VARIABLES: [&str; 15] = [
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "PLATFORM_URL",
    "SSL_CERT_DIR",
    "CURL_CA_PATH",
    "REQUEST_METHOD",
];

fn ca() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls/ca.pem")
        .display()
        .to_string()
}

/// Answers `{}` to every request, one per connection.
fn answer(mut stream: impl std::io::Read + std::io::Write) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Bounded by the request head (or a refused handshake).
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    let _ = stream.flush();
}

/// An HTTPS platform on 127.0.0.1 whose certificate is signed by the test CA.
fn https_platform() -> String {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let certificates: Vec<CertificateDer<'static>> =
        ureq::tls::parse_pem(SERVER_CERTIFICATE.as_bytes())
            .filter_map(|item| match item.unwrap() {
                ureq::tls::PemItem::Certificate(certificate) => {
                    Some(CertificateDer::from(certificate.der().to_vec()))
                }
                _ => None,
            })
            .collect();
    let key = ureq::tls::PrivateKey::from_pem(SERVER_KEY.as_bytes()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.der().to_vec()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let connection = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream);
            answer(&mut tls);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// A plain HTTP platform on 127.0.0.1.
fn http_platform() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// What `GET <url>/api/v1/ping` gave in a child process with `variables`:
/// `ok` or the error's message.
fn request_in_child(url: &str, variables: &[(&str, &str)]) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "child_request",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for variable in VARIABLES {
        child.env_remove(variable);
    }
    child.env("PLATFORM_URL", format!("{url}/api/v1/ping"));
    for (name, value) in variables {
        child.env(name, value);
    }
    let output = child.output_bounded();
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!(
                "the child printed no result\nstdout:\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

#[test]
#[ignore = "run by the other tests of this file in a child process, with its own environment"]
fn child_request() {
    let url = std::env::var("PLATFORM_URL").expect("PLATFORM_URL");
    let client = PlatformClient::new(Secret::new("token-1234".to_owned()))
        .with_backoff(Duration::from_millis(1))
        .with_max_attempts(3);
    match client.get(&url) {
        Ok(response) => println!("\nRESULT ok {}", response.status),
        Err(error) => println!("\nRESULT {error}"),
    }
}

#[test]
fn a_bundle_named_by_each_variable_is_trusted() {
    let url = https_platform();
    for variable in ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"] {
        assert_eq!(
            request_in_child(&url, &[(variable, &ca())]),
            "ok 200",
            "{variable}"
        );
    }
    // A directory of PEM files, as `requests` takes one.
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    assert_eq!(
        request_in_child(&url, &[("REQUESTS_CA_BUNDLE", directory.to_str().unwrap())]),
        "ok 200"
    );
}

#[test]
fn the_first_bundle_variable_set_wins_as_in_requests() {
    let url = https_platform();
    // REQUESTS_CA_BUNDLE before SSL_CERT_FILE: the missing file is not read.
    assert_eq!(
        request_in_child(
            &url,
            &[
                ("REQUESTS_CA_BUNDLE", &ca()),
                ("SSL_CERT_FILE", "/nonexistent/ca.pem")
            ]
        ),
        "ok 200"
    );
    // An empty variable counts as unset.
    assert_eq!(
        request_in_child(
            &url,
            &[("REQUESTS_CA_BUNDLE", ""), ("CURL_CA_BUNDLE", &ca())]
        ),
        "ok 200"
    );
    let missing = request_in_child(&url, &[("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")]);
    assert!(
        missing.contains("after 1 attempt(s)")
            && missing.contains("`/nonexistent/ca.pem` named by REQUESTS_CA_BUNDLE cannot be used"),
        "{missing}"
    );
}

#[test]
fn a_refused_certificate_is_said_once_with_why() {
    let url = https_platform();
    let message = request_in_child(&url, &[]);
    assert!(
        message.contains(&format!(
            "GET {url}/api/v1/ping failed after 1 attempt(s): "
        )),
        "{message}"
    );
    assert!(
        message.contains(
            "the platform's certificate was refused: it is not signed by a trusted certificate authority"
        ),
        "{message}"
    );
    assert!(message.contains("REQUESTS_CA_BUNDLE"), "{message}");
}

#[test]
fn https_requests_go_through_https_proxy_unless_no_proxy_matches() {
    let url = https_platform();
    let authority = url.trim_start_matches("https://").to_owned();
    let proxy = TunnelProxy::start();
    let ca = ca();
    assert_eq!(
        request_in_child(
            &url,
            &[("REQUESTS_CA_BUNDLE", &ca), ("HTTPS_PROXY", &proxy.url)]
        ),
        "ok 200"
    );
    assert_eq!(proxy.requests(), [format!("CONNECT {authority} HTTP/1.1")]);
    // The lower-case variable wins; a dead upper-case proxy is not used.
    assert_eq!(
        request_in_child(
            &url,
            &[
                ("REQUESTS_CA_BUNDLE", &ca),
                ("https_proxy", &proxy.url),
                ("HTTPS_PROXY", "http://127.0.0.1:9")
            ]
        ),
        "ok 200"
    );
    assert_eq!(proxy.requests().len(), 2);
    for no_proxy in ["127.0.0.1", "127.0.0.0/8", "*", &authority] {
        assert_eq!(
            request_in_child(
                &url,
                &[
                    ("REQUESTS_CA_BUNDLE", &ca),
                    ("HTTPS_PROXY", &proxy.url),
                    ("NO_PROXY", no_proxy)
                ]
            ),
            "ok 200",
            "{no_proxy}"
        );
    }
    // `HTTP_PROXY` is for http:// URLs only.
    assert_eq!(
        request_in_child(
            &url,
            &[("REQUESTS_CA_BUNDLE", &ca), ("HTTP_PROXY", &proxy.url)]
        ),
        "ok 200"
    );
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());
}

#[test]
fn http_requests_go_through_http_proxy_or_all_proxy() {
    let url = http_platform();
    let authority = url.trim_start_matches("http://").to_owned();
    let proxy = TunnelProxy::start();
    assert_eq!(
        request_in_child(&url, &[("HTTP_PROXY", &proxy.url)]),
        "ok 200"
    );
    assert_eq!(
        request_in_child(&url, &[("ALL_PROXY", &proxy.url)]),
        "ok 200"
    );
    // ureq tunnels http:// URLs too (docs/migrating.md).
    assert_eq!(
        proxy.requests(),
        [
            format!("CONNECT {authority} HTTP/1.1"),
            format!("CONNECT {authority} HTTP/1.1")
        ]
    );
    assert_eq!(
        request_in_child(
            &url,
            &[
                ("HTTP_PROXY", &proxy.url),
                ("no_proxy", "localhost,127.0.0.1")
            ]
        ),
        "ok 200"
    );
    // `HTTPS_PROXY` is for https:// URLs only.
    assert_eq!(
        request_in_child(&url, &[("HTTPS_PROXY", &proxy.url)]),
        "ok 200"
    );
    assert_eq!(proxy.requests().len(), 2, "{:?}", proxy.requests());
}
