//! The S3 file backend's TLS material against a real TLS server: a
//! TLS-terminating proxy on 127.0.0.1 (rustls, the certificates of
//! `tests/fixtures/tls`) in front of moto's S3 server, asking for a client
//! certificate. `CA_CERT` makes the proxy trusted, `CLIENT_CERT` +
//! `CLIENT_KEY` let the client in; without them the handshake fails, and
//! no error quotes the client key.
//!
//! Skipped, with one line on stderr saying how to run them, when no Python
//! with `moto[server]` is installed; `.ci/run` installs one.

#[path = "support/s3_server.rs"]
mod s3_server;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use sekoia_automation::unversioned::s3::{Condition, FileBackend, S3Client, S3Error};

const CA: &str = include_str!("fixtures/tls/ca.pem");
const SERVER_CERTIFICATE: &str = include_str!("fixtures/tls/server.pem");
const SERVER_KEY: &str = include_str!("fixtures/tls/server.key");
const CLIENT_CA: &str = include_str!("fixtures/tls/client-ca.pem");
const CLIENT_CERTIFICATE: &str = include_str!("fixtures/tls/client.pem");
const CLIENT_KEY: &str = include_str!("fixtures/tls/client.key");

fn certificates(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    ureq::tls::parse_pem(pem.as_bytes())
        .filter_map(|item| match item.unwrap() {
            ureq::tls::PemItem::Certificate(certificate) => Some(
                rustls::pki_types::CertificateDer::from(certificate.der().to_vec()),
            ),
            _ => None,
        })
        .collect()
}

/// `https://127.0.0.1:<port>`: TLS with a client certificate signed by
/// `client-ca.pem` required, the bytes inside passed to and from
/// `upstream` (`http://127.0.0.1:<port>`) as they are.
fn tls_proxy(upstream: &str) -> String {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(CLIENT_CA) {
        roots.add(certificate).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let key = ureq::tls::PrivateKey::from_pem(SERVER_KEY.as_bytes()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.der().to_vec()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certificates(SERVER_CERTIFICATE), key)
            .unwrap(),
    );
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            let upstream = upstream.clone();
            std::thread::spawn(move || pump(stream, &upstream, config));
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// Passes bytes both ways until either side closes or fails (a refused
/// handshake, an idle minute).
fn pump(stream: TcpStream, upstream: &str, config: Arc<rustls::ServerConfig>) {
    let poll = Some(Duration::from_millis(5));
    let mut server = TcpStream::connect(upstream).unwrap();
    let _ = stream.set_read_timeout(poll);
    let _ = server.set_read_timeout(poll);
    let connection = rustls::ServerConnection::new(config).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut buffer = vec![0u8; 64 * 1024];
    let idle = |error: &std::io::Error| {
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    };
    // 12,000 polls of 5 ms: a minute without traffic ends it.
    let mut quiet = 0;
    while quiet < 12_000 {
        quiet += 1;
        match tls.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => {
                quiet = 0;
                if server.write_all(&buffer[..read]).is_err() {
                    return;
                }
            }
            Err(error) if idle(&error) => {}
            Err(_) => return,
        }
        match server.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => {
                quiet = 0;
                if tls
                    .write_all(&buffer[..read])
                    .and_then(|()| tls.flush())
                    .is_err()
                {
                    return;
                }
            }
            Err(error) if idle(&error) => {}
            Err(_) => return,
        }
    }
}

/// The client the configuration root's files make: `file_backend`, the
/// bucket's keys, and `extra` (`ca_cert`, `client_cert`, `client_key`).
fn configured(
    server: &s3_server::S3Server,
    endpoint: &str,
    bucket: &str,
    extra: &[(&str, &str)],
) -> Result<S3Client, S3Error> {
    let root = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("file_backend", "s3"),
        ("aws_bucket_name", bucket),
        ("aws_access_key_id", server.access_key_id.as_str()),
        ("aws_secret_access_key", server.secret_access_key.as_str()),
        ("aws_default_region", "us-east-1"),
        ("aws_s3_endpoint_url", endpoint),
    ]
    .iter()
    .chain(extra)
    {
        std::fs::write(root.path().join(key), value).unwrap();
    }
    let FileBackend::S3(config) = FileBackend::from_configuration_root(root.path()).unwrap() else {
        panic!("file_backend is s3");
    };
    Ok(S3Client::new(*config)?.with_retry(Duration::ZERO, 2))
}

#[test]
fn the_ca_and_the_client_certificate_reach_the_store_through_tls() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, _) = server.bucket("tls");
    let endpoint = tls_proxy(&server.endpoint);
    let client = configured(
        server,
        &endpoint,
        &bucket,
        &[
            ("ca_cert", CA),
            ("client_cert", CLIENT_CERTIFICATE),
            ("client_key", CLIENT_KEY),
        ],
    )
    .unwrap();
    client.check_bucket().unwrap();
    let body = "état 😀 \"quoted\"".as_bytes();
    client.put("state.json", body, &Condition::None).unwrap();
    assert_eq!(client.get("state.json").unwrap().unwrap().body, body);
}

#[test]
fn without_the_ca_or_the_client_certificate_the_handshake_fails() {
    let Some(server) = s3_server::server() else {
        return;
    };
    let (bucket, _) = server.bucket("tls-refused");
    let endpoint = tls_proxy(&server.endpoint);
    let key_body = CLIENT_KEY
        .lines()
        .find(|line| !line.starts_with("-----"))
        .unwrap();
    for (what, extra) in [
        (
            "no CA: the proxy's certificate is not trusted",
            vec![
                ("client_cert", CLIENT_CERTIFICATE),
                ("client_key", CLIENT_KEY),
            ],
        ),
        ("no client certificate", vec![("ca_cert", CA)]),
        (
            "a client certificate without its key is not used",
            vec![("ca_cert", CA), ("client_cert", CLIENT_CERTIFICATE)],
        ),
    ] {
        let client = configured(server, &endpoint, &bucket, &extra).unwrap();
        let error = client.check_bucket().unwrap_err();
        assert_eq!(error.status(), None, "{what}: no HTTP answer: {error}");
        let text = format!("{error} {error:?}");
        assert!(!text.contains(key_body), "{what}: {text}");
    }
    // A key that is not PEM is named, its content never shown.
    let error = configured(
        server,
        &endpoint,
        &bucket,
        &[
            ("ca_cert", CA),
            ("client_cert", CLIENT_CERTIFICATE),
            ("client_key", "not-a-\"key'-value"),
        ],
    )
    .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(text.contains("client_key"), "{text}");
    assert!(!text.contains("not-a-"), "{text}");
}
